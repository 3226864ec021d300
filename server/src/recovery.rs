//! Getting administration back from the server's own console (`donghanh admin`), for the
//! day no administrator can sign in: whoever runs the server's binary against its database
//! already holds everything, so this door adds no power, only a way back. It creates an
//! administrator, or gives an existing user the administrator role, a new password and an
//! active account, ending that user's sessions. Audited as the system's action.

use crate::auth::password;
use crate::error::AppError;
use crate::store::{Actor, Store};
use shared::user::{Role, User};

/// What `administrator` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Recovered {
    Created,
    Reset,
}

/// Makes `username` an active administrator with `new_password` (checked like any new
/// password). A new user is placed at the top of the area tree.
pub async fn administrator(
    store: &dyn Store,
    username: &str,
    full_name: Option<&str>,
    new_password: String,
) -> Result<Recovered, AppError> {
    let username = username.trim();
    if username.is_empty() || username.chars().count() > 64 {
        return Err(AppError::field(
            "username",
            "invalid",
            shared::Text::new(
                "Tên đăng nhập phải có từ 1 đến 64 ký tự.",
                "The username must be 1 to 64 characters.",
            ),
        ));
    }
    let existing = store
        .list_users(None)
        .await?
        .into_iter()
        .find(|u| u.username == username);
    let name = full_name
        .map(str::to_string)
        .or_else(|| existing.as_ref().map(|u| u.full_name.clone()))
        .unwrap_or_else(|| "Quản trị viên".into());
    password::check_new(&new_password, &[username, name.as_str()])?;
    let hash = password::hash(new_password).await?;
    let actor = Actor::system();
    match existing {
        Some(mut user) => {
            user.role = Role::Admin;
            user.active = true;
            user.full_name = name;
            store.update_user(&actor, &user, Some(&hash)).await?;
            let now = chrono::Utc::now().timestamp_millis();
            store.revoke_sessions(&actor, &user.id, None, now).await?;
            store.sign_in_cleared(&user.username).await?;
            Ok(Recovered::Reset)
        }
        None => {
            let top = store
                .list_areas()
                .await?
                .into_iter()
                .find(|a| a.parent_id.is_none())
                .ok_or_else(|| {
                    AppError::Internal(
                        "the database has no area yet; create the demo or import a commune first"
                            .into(),
                    )
                })?;
            let user = User {
                id: uuid::Uuid::now_v7().to_string(),
                username: username.to_string(),
                full_name: name,
                role: Role::Admin,
                area_id: top.id,
                active: true,
            };
            store.create_user(&actor, &user, &hash).await?;
            Ok(Recovered::Created)
        }
    }
}
