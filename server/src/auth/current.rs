//! The signed-in user of a request, and the checks that hand out access only after the
//! role and area scope rules from `shared::permissions` allow it.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::store::{Actor, AssignmentFilter, Store, StoreError};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use shared::Text;
use shared::household::Household;
use shared::permissions::{Action, Reach, area_in_tree, reach};
use shared::user::User;

/// A user whose access token, session and account were all checked for this request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub session_id: String,
    pub device_id: String,
    /// The session's last sighting and the unsent count its phone reported then, as read
    /// for this request (within the session cache's few seconds).
    pub last_seen_at: i64,
    pub unsent: i64,
}

/// The refusal that tells a phone reported lost to erase the person's data, at its next
/// request or token renewal.
pub const ERASE_CODE: &str = shared::api::DEVICE_ERASE_CODE;
pub const ERASE_VI: &str = "Thiết bị này đã được báo mất. Dữ liệu của bạn trên máy này được xóa.";
pub const ERASE_EN: &str =
    "This device was reported lost. Your data on this device is being erased.";

fn unauthenticated(code: &'static str, vi: &str, en: &str) -> AppError {
    AppError::Unauthenticated {
        code,
        message: Text::new(vi, en),
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .ok_or_else(|| {
                unauthenticated(
                    "not_signed_in",
                    "Bạn cần đăng nhập.",
                    "You need to sign in.",
                )
            })?;
        let token = header.strip_prefix("Bearer ").ok_or_else(|| {
            unauthenticated(
                "not_signed_in",
                "Bạn cần đăng nhập.",
                "You need to sign in.",
            )
        })?;
        let claims = state.keys.verify(token).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => unauthenticated(
                "token_expired",
                "Phiên truy cập đã hết hạn; ứng dụng sẽ tự gia hạn.",
                "The access token expired; the app renews it.",
            ),
            _ => unauthenticated(
                "invalid_token",
                "Mã đăng nhập không hợp lệ; vui lòng đăng nhập lại.",
                "The sign-in token is not valid; please sign in again.",
            ),
        })?;
        let no_session = || {
            unauthenticated(
                "invalid_token",
                "Phiên đăng nhập không tồn tại; vui lòng đăng nhập lại.",
                "No such session; please sign in again.",
            )
        };
        let (session, user) = match state.store.session_user(&claims.sid).await {
            Ok(s) => s,
            Err(StoreError::NotFound) => return Err(no_session()),
            Err(e) => return Err(e.into()),
        };
        // A token names its session and its user; both must agree.
        if user.id != claims.sub {
            return Err(no_session());
        }
        if session.state() == shared::api::DeviceState::ErasePending {
            return Err(unauthenticated(ERASE_CODE, ERASE_VI, ERASE_EN));
        }
        if session.revoked_at.is_some() {
            return Err(unauthenticated(
                "session_revoked",
                "Thiết bị này đã bị thu hồi quyền truy cập. Liên hệ quản trị viên.",
                "This device's access was revoked. Contact the administrator.",
            ));
        }
        if !user.active {
            return Err(unauthenticated(
                "account_disabled",
                "Tài khoản đã bị khóa.",
                "This account is disabled.",
            ));
        }
        Ok(CurrentUser {
            user,
            session_id: session.id,
            device_id: session.device_id,
            last_seen_at: session.last_seen_at,
            unsent: session.unsent,
        })
    }
}

impl CurrentUser {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user.id.clone()),
            device_id: Some(self.device_id.clone()),
        }
    }

    /// How far `action` reaches for this user, or `Forbidden`.
    pub fn reach(&self, action: Action) -> AppResult<Reach> {
        reach(self.user.role, action).ok_or(AppError::Forbidden)
    }

    /// Checks `action` on an area (or something in it). Unknown areas are `NotFound`.
    pub async fn check_area(
        &self,
        store: &dyn Store,
        action: Action,
        area_id: &str,
    ) -> AppResult<()> {
        match self.reach(action)? {
            Reach::Everywhere => {
                store.get_area(area_id).await.map_err(not_found("area"))?;
                Ok(())
            }
            Reach::AreaTree | Reach::Assigned => {
                let path = store.area_path(area_id).await.map_err(not_found("area"))?;
                if area_in_tree(&self.user.area_id, &path) {
                    Ok(())
                } else {
                    Err(AppError::OutOfScope)
                }
            }
        }
    }

    /// Loads a household after checking `action` on it.
    pub async fn household(
        &self,
        store: &dyn Store,
        action: Action,
        household_id: &str,
    ) -> AppResult<Household> {
        let reach = self.reach(action)?;
        let h = store
            .get_household(household_id)
            .await
            .map_err(not_found("household"))?;
        let allowed = match reach {
            Reach::Everywhere => true,
            Reach::AreaTree => {
                area_in_tree(&self.user.area_id, &store.area_path(&h.village_id).await?)
            }
            Reach::Assigned => !store
                .list_assignments(&AssignmentFilter {
                    household_id: Some(h.id.clone()),
                    cadre_id: Some(self.user.id.clone()),
                    active_on: Some(crate::today()),
                    ..Default::default()
                })
                .await?
                .is_empty(),
        };
        if allowed {
            Ok(h)
        } else {
            Err(AppError::OutOfScope)
        }
    }

    /// Which households `action` lets this user list: villages, or assigned households.
    pub async fn household_scope(
        &self,
        store: &dyn Store,
        action: Action,
    ) -> AppResult<(Option<Vec<String>>, Option<Vec<String>>)> {
        match self.reach(action)? {
            Reach::Everywhere => Ok((None, None)),
            Reach::AreaTree => Ok((Some(store.villages_under(&self.user.area_id).await?), None)),
            Reach::Assigned => {
                let ids = store
                    .list_assignments(&AssignmentFilter {
                        cadre_id: Some(self.user.id.clone()),
                        active_on: Some(crate::today()),
                        ..Default::default()
                    })
                    .await?
                    .into_iter()
                    .map(|a| a.household_id)
                    .collect();
                Ok((None, Some(ids)))
            }
        }
    }
}

/// Maps a store's "not found" to a 404 naming what was missing.
pub fn not_found(what: &'static str) -> impl Fn(StoreError) -> AppError {
    move |e| match e {
        StoreError::NotFound => AppError::NotFound(what),
        other => other.into(),
    }
}
