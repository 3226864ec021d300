//! Sign-in, token refresh and sign-out.

use crate::AppState;
use crate::auth::current::{ERASE_CODE, ERASE_EN, ERASE_VI};
use crate::auth::throttle::{self, ClientAddress};
use crate::auth::{CurrentUser, password, tokens};
use crate::error::{AppError, AppResult};
use crate::extract::AppJson;
use crate::store::{Actor, RefreshRefusal, StoreError};
use axum::extract::State;
use axum::http::StatusCode;
use shared::api::{DeviceRename, ErasedRequest, LoginRequest, Me, RefreshRequest, TokenPair};
use shared::permissions::{Action, reach};
use shared::user::User;
use shared::{Text, ValidationErrors};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(erased))
        .routes(routes!(me))
        .routes(routes!(rename_device))
}

fn check_device(device_id: &str) -> Result<(), ValidationErrors> {
    let mut e = ValidationErrors::default();
    e.required_text("device_id", device_id, 100);
    e.into_result()
}

async fn issue(
    state: &AppState,
    user: User,
    session_id: &str,
    device_id: &str,
    refresh_token: String,
) -> TokenPair {
    let now = chrono::Utc::now().timestamp();
    let l = state.keys.lifetimes;
    TokenPair {
        access_token: state.keys.issue(&user.id, session_id, device_id, now),
        expires_in: l.access_secs,
        refresh_token,
        refresh_expires_in: l.refresh_secs,
        user,
    }
}

/// Sign in with username and password on one device.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 400, body = crate::error::ErrorBody, description = "Not JSON"), (status = 401, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody, description = "Too many attempts; see Retry-After")))]
async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: axum::http::HeaderMap,
    AppJson(req): AppJson<LoginRequest>,
) -> AppResult<axum::Json<TokenPair>> {
    state.sign_in.attempt(address)?;
    let mut e = ValidationErrors::default();
    e.required_text("username", &req.username, 50);
    e.required_text("password", &req.password, 200);
    if let Err(d) = check_device(&req.device_id) {
        e.0.extend(d.0);
    }
    if let Some(name) = &req.device_name {
        e.max_len("device_name", name, 4 * shared::api::DEVICE_NAME_MAX);
    }
    e.into_result()?;
    let wrong = || AppError::Unauthenticated {
        code: "invalid_credentials",
        message: Text::new(
            "Tên đăng nhập hoặc mật khẩu không đúng.",
            "Wrong username or password.",
        ),
    };
    let username = req.username.trim().to_lowercase();
    let now_ms = chrono::Utc::now().timestamp_millis();
    if let Some(until) = state.store.sign_in_lock(&username, now_ms).await? {
        return Err(throttle::too_many(
            (until - now_ms).div_euclid(1000) as u64 + 1,
        ));
    }
    // Known or not, the same work (an argon2 verification) and the same answer.
    let creds = match state.store.credentials(req.username.trim()).await {
        Ok(c) => Some(c),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let matches = password::verify(
        req.password,
        creds.as_ref().map(|c| c.password_hash.clone()),
    )
    .await?;
    let creds = match creds {
        Some(c) if matches => c,
        _ => {
            let now_ms = chrono::Utc::now().timestamp_millis();
            state
                .store
                .sign_in_failed(
                    &username,
                    &address.to_string(),
                    &state.sign_in.policy,
                    now_ms,
                )
                .await?;
            return Err(wrong());
        }
    };
    state.store.sign_in_cleared(&username).await?;
    if !creds.user.active {
        return Err(AppError::Unauthenticated {
            code: "account_disabled",
            message: Text::new("Tài khoản đã bị khóa.", "This account is disabled."),
        });
    }
    let refresh = tokens::new_refresh_token();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let expires = now_ms + state.keys.lifetimes.refresh_secs * 1000;
    let session = state
        .store
        .create_session(
            &creds.user.id,
            &req.device_id,
            &tokens::refresh_digest(&refresh),
            expires,
            now_ms,
        )
        .await?;
    // The name the device gives itself, else what its browser's header says.
    let name = req
        .device_name
        .as_deref()
        .and_then(shared::api::device_name)
        .or_else(|| {
            headers
                .get(axum::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .and_then(shared::device::name_from_user_agent)
        });
    if let Some(name) = name {
        state.store.name_device(&session.id, &name).await?;
    }
    Ok(axum::Json(
        issue(&state, creds.user, &session.id, &req.device_id, refresh).await,
    ))
}

/// Trade a refresh token for a new access token and a new refresh token.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 400, body = crate::error::ErrorBody, description = "Not JSON"), (status = 401, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody, description = "Too many attempts; see Retry-After")))]
async fn refresh(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    AppJson(req): AppJson<RefreshRequest>,
) -> AppResult<axum::Json<TokenPair>> {
    state.sign_in.attempt(address)?;
    check_device(&req.device_id)?;
    let next = tokens::new_refresh_token();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let expires = now_ms + state.keys.lifetimes.refresh_secs * 1000;
    let outcome = state
        .store
        .rotate_refresh(
            &tokens::refresh_digest(&req.refresh_token),
            &req.device_id,
            &tokens::refresh_digest(&next),
            expires,
            now_ms,
        )
        .await?;
    if let Err(r) = &outcome
        && *r != RefreshRefusal::AlreadyUsed
    {
        // A replay is audited with the session it revoked; the other refusals here.
        state
            .store
            .record_event(
                &Actor::system(),
                "refresh_refused",
                "device",
                &req.device_id,
                serde_json::json!({ "reason": format!("{r:?}"), "address": address.to_string() }),
            )
            .await?;
    }
    let session = outcome.map_err(|r| {
        let (code, vi, en) = match r {
            RefreshRefusal::Unknown | RefreshRefusal::Expired => (
                "session_expired",
                "Phiên đăng nhập đã hết hạn. Hãy đăng nhập lại; dữ liệu chưa gửi vẫn được giữ trên máy.",
                "Your session has expired. Sign in again; unsent data stays on this phone.",
            ),
            RefreshRefusal::Erase => (ERASE_CODE, ERASE_VI, ERASE_EN),
            RefreshRefusal::Revoked => (
                "session_revoked",
                "Thiết bị này đã bị thu hồi quyền truy cập. Liên hệ quản trị viên.",
                "This device's access was revoked. Contact the administrator.",
            ),
            RefreshRefusal::AlreadyUsed => (
                "refresh_reused",
                "Phiên đăng nhập đã bị dừng vì mã gia hạn bị dùng lại (có thể đã bị lộ). Hãy đăng nhập lại; dữ liệu chưa gửi vẫn được giữ trên máy.",
                "This session was ended because its refresh token was used again (it may have leaked). Sign in again; unsent data stays on this phone.",
            ),
            RefreshRefusal::OtherDevice => (
                "wrong_device",
                "Mã gia hạn thuộc về thiết bị khác.",
                "This refresh token belongs to another device.",
            ),
        };
        AppError::Unauthenticated { code, message: Text::new(vi, en) }
    })?;
    let user = state.store.get_user(&session.user_id).await?;
    if !user.active {
        return Err(AppError::Unauthenticated {
            code: "account_disabled",
            message: Text::new("Tài khoản đã bị khóa.", "This account is disabled."),
        });
    }
    Ok(axum::Json(
        issue(&state, user, &session.id, &req.device_id, next).await,
    ))
}

/// Sign out on this device: its session and refresh tokens stop working.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = crate::error::ErrorBody)))]
async fn logout(State(state): State<AppState>, me: CurrentUser) -> AppResult<StatusCode> {
    let actor: Actor = me.actor();
    state
        .store
        .revoke_device(
            &actor,
            &me.user.id,
            &me.device_id,
            None,
            chrono::Utc::now().timestamp_millis(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A phone reported lost confirms it erased everything of the person. It proves itself
/// with the refresh token of the revoked session and its device id; nothing else is
/// accepted, and a confirmation for a session not revoked for erasing is refused.
#[utoipa::path(post, path = "/auth/erased", tag = "auth", request_body = ErasedRequest,
    responses((status = 204), (status = 400, body = crate::error::ErrorBody, description = "Not JSON"), (status = 401, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody, description = "Too many attempts; see Retry-After")))]
async fn erased(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    AppJson(req): AppJson<ErasedRequest>,
) -> AppResult<StatusCode> {
    // A guessing client is throttled like sign-in attempts.
    state.sign_in.attempt(address)?;
    let mut e = ValidationErrors::default();
    e.required_text("refresh_token", &req.refresh_token, 200);
    e.required_text("device_id", &req.device_id, 100);
    e.range_i64("unsent", i64::from(req.unsent), 0, 1_000_000);
    e.into_result()?;
    let recorded = state
        .store
        .confirm_erased(
            &tokens::refresh_digest(&req.refresh_token),
            &req.device_id,
            req.unsent,
            chrono::Utc::now().timestamp_millis(),
        )
        .await?;
    if !recorded {
        return Err(AppError::Unauthenticated {
            code: "invalid_token",
            message: Text::new(
                "Không có yêu cầu xóa nào cho thiết bị này.",
                "No erase was asked of this device.",
            ),
        });
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The person renames the device they are signed in on ("Điện thoại của Pản").
#[utoipa::path(put, path = "/auth/device", tag = "auth", security(("bearer" = [])), request_body = DeviceRename,
    responses((status = 204, description = "Renamed"), (status = 400, body = crate::error::ErrorBody, description = "Not JSON"), (status = 401, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn rename_device(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(req): AppJson<DeviceRename>,
) -> AppResult<StatusCode> {
    let mut e = ValidationErrors::default();
    e.max_len("name", &req.name, 4 * shared::api::DEVICE_NAME_MAX);
    e.into_result()?;
    let Some(name) = shared::api::device_name(&req.name) else {
        return Err(AppError::field(
            "name",
            "required",
            Text::new("Hãy đặt tên cho máy.", "Give the device a name."),
        ));
    };
    state.store.name_device(&me.session_id, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user and what they may do.
#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody)))]
async fn me(me: CurrentUser) -> axum::Json<Me> {
    let permissions = Action::ALL
        .into_iter()
        .filter_map(|a| {
            reach(me.user.role, a).map(|r| {
                let name = serde_json::to_value(a)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                (name, r)
            })
        })
        .collect();
    axum::Json(Me {
        user: me.user,
        device_id: me.device_id,
        permissions,
    })
}
