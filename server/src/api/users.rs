//! User accounts and their devices: administrators manage them; commune officers read the
//! users of their commune to assign cadres.

use crate::AppState;
use crate::auth::current::not_found;
use crate::auth::{CurrentUser, password};
use crate::error::{AppError, AppResult};
use crate::extract::{AppJson, AppPath};
use crate::store::{LockedAccount, Session};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use shared::api::{RevokeKind, RevokeRequest};
use shared::permissions::{Action, Reach};
use shared::user::{NewUser, User, UserUpdate};
use shared::{Text, Validate};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(list_devices))
        .routes(routes!(revoke_device))
        .routes(routes!(locked_accounts))
        .routes(routes!(unlock_account))
}

async fn user_in_scope(
    state: &AppState,
    me: &CurrentUser,
    action: Action,
    id: &str,
) -> AppResult<User> {
    let user = state.store.get_user(id).await.map_err(not_found("user"))?;
    me.check_area(state.store.as_ref(), action, &user.area_id)
        .await?;
    Ok(user)
}

async fn check_area_field(state: &AppState, area_id: &str) -> AppResult<()> {
    state
        .store
        .get_area(area_id)
        .await
        .map(|_| ())
        .map_err(|_| {
            AppError::field(
                "area_id",
                "unknown_area",
                Text::new("Không có địa bàn này.", "No such area."),
            )
        })
}

#[utoipa::path(get, path = "/users", tag = "users", security(("bearer" = [])),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Vec<User>), (status = 403, body = crate::error::ErrorBody)))]
async fn list_users(State(state): State<AppState>, me: CurrentUser) -> AppResult<Json<Vec<User>>> {
    let users = match me.reach(Action::ReadUsers)? {
        Reach::Everywhere => state.store.list_users(None).await?,
        _ => {
            let all = state.store.list_areas().await?;
            let ids = super::areas::subtree(&all, &me.user.area_id);
            state.store.list_users(Some(&ids)).await?
        }
    };
    Ok(Json(users))
}

#[utoipa::path(post, path = "/users", tag = "users", security(("bearer" = [])), request_body = NewUser,
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 201, body = User), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(input): AppJson<NewUser>,
) -> AppResult<(StatusCode, Json<User>)> {
    me.reach(Action::ManageUsers)?;
    input.validate()?;
    password::check_new(
        &input.password,
        &[input.username.as_str(), input.full_name.as_str()],
    )?;
    check_area_field(&state, &input.area_id).await?;
    let hash = password::hash(input.password.clone()).await?;
    let user = User {
        id: uuid::Uuid::now_v7().to_string(),
        username: input.username.trim().to_string(),
        full_name: input.full_name.trim().to_string(),
        role: input.role,
        area_id: input.area_id,
        active: true,
    };
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_user(&me.actor(), &user, &hash).await?),
    ))
}

#[utoipa::path(get, path = "/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = User), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn get_user(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
) -> AppResult<Json<User>> {
    Ok(Json(
        user_in_scope(&state, &me, Action::ReadUsers, &id).await?,
    ))
}

#[utoipa::path(patch, path = "/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = String, Path)), request_body = UserUpdate,
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = User), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody, description = "The last active administrator cannot be disabled or given another role"), (status = 422, body = crate::error::ErrorBody)))]
async fn update_user(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
    AppJson(input): AppJson<UserUpdate>,
) -> AppResult<Json<User>> {
    let mut user = user_in_scope(&state, &me, Action::ManageUsers, &id).await?;
    let before = user.clone();
    input.validate()?;
    if let Some(area) = &input.area_id {
        check_area_field(&state, area).await?;
        user.area_id = area.clone();
    }
    if let Some(n) = input.full_name {
        user.full_name = n.trim().to_string();
    }
    if let Some(r) = input.role {
        user.role = r;
    }
    if let Some(a) = input.active {
        user.active = a;
    }
    if let Some(p) = &input.password {
        password::check_new(p, &[user.username.as_str(), user.full_name.as_str()])?;
    }
    let role_changed = input.role.is_some_and(|r| r != before.role);
    let hash = match input.password {
        Some(p) => Some(password::hash(p).await?),
        None => None,
    };
    let updated = state
        .store
        .update_user(&me.actor(), &user, hash.as_deref())
        .await?;
    // A new password or role ends the user's other sessions (a stolen phone signed in
    // with the old password, a role taken away); the administrator's own stays. A
    // disabled account's sessions are refused by every request while it is disabled.
    if hash.is_some() || role_changed {
        let keep = (me.user.id == updated.id).then_some(me.session_id.as_str());
        state
            .store
            .revoke_sessions(
                &me.actor(),
                &updated.id,
                keep,
                chrono::Utc::now().timestamp_millis(),
            )
            .await?;
    }
    if hash.is_some() {
        state.store.sign_in_cleared(&updated.username).await?;
    }
    Ok(Json(updated))
}

#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Revoked {
    pub sessions_revoked: u64,
}

/// The devices a user has signed in on.
#[utoipa::path(get, path = "/users/{id}/devices", tag = "users", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Vec<Session>), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn list_devices(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
) -> AppResult<Json<Vec<Session>>> {
    user_in_scope(&state, &me, Action::RevokeDevices, &id).await?;
    Ok(Json(state.store.list_sessions(&id).await?))
}

/// Cut off a phone: its sessions and refresh tokens stop working at once. `sign_out`
/// (the default) hides the phone's data until the same person signs in again; `erase`
/// (lost or stolen) makes the phone delete everything of the person at its next contact.
#[utoipa::path(post, path = "/users/{id}/devices/{device_id}/revoke", tag = "users", security(("bearer" = [])), request_body(content = Option<RevokeRequest>),
    params(("id" = String, Path), ("device_id" = String, Path)),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Revoked), (status = 400, body = crate::error::ErrorBody, description = "Not JSON, or an unknown kind"), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn revoke_device(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath((id, device_id)): AppPath<(String, String)>,
    body: axum::body::Bytes,
) -> AppResult<Json<Revoked>> {
    user_in_scope(&state, &me, Action::RevokeDevices, &id).await?;
    // No body: sign the device out (what revoking did before there was a choice).
    let kind = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Json::<RevokeRequest>::from_bytes(&body)
            .map_err(AppError::from)?
            .0
            .kind
    }
    .unwrap_or(RevokeKind::SignOut);
    let n = state
        .store
        .revoke_device(
            &me.actor(),
            &id,
            &device_id,
            Some(kind),
            chrono::Utc::now().timestamp_millis(),
        )
        .await?;
    if n == 0 {
        return Err(AppError::NotFound("device"));
    }
    Ok(Json(Revoked {
        sessions_revoked: n,
    }))
}

/// Usernames locked by failed sign-ins (known or not), with until when.
#[utoipa::path(get, path = "/users/locked", tag = "users", security(("bearer" = [])),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Vec<LockedAccount>), (status = 403, body = crate::error::ErrorBody)))]
async fn locked_accounts(
    State(state): State<AppState>,
    me: CurrentUser,
) -> AppResult<Json<Vec<LockedAccount>>> {
    if me.reach(Action::ManageUsers)? != Reach::Everywhere {
        return Err(AppError::Forbidden);
    }
    Ok(Json(
        state
            .store
            .locked_accounts(chrono::Utc::now().timestamp_millis())
            .await?,
    ))
}

/// Lifts the lock of a username (the person was identified another way).
#[utoipa::path(post, path = "/users/locked/{username}/unlock", tag = "users", security(("bearer" = [])), params(("username" = String, Path)),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 204), (status = 403, body = crate::error::ErrorBody)))]
async fn unlock_account(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(username): AppPath<String>,
) -> AppResult<StatusCode> {
    if me.reach(Action::ManageUsers)? != Reach::Everywhere {
        return Err(AppError::Forbidden);
    }
    state.store.sign_in_cleared(&username).await?;
    state
        .store
        .record_event(
            &me.actor(),
            "unlock",
            "user",
            &username,
            serde_json::json!({}),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
