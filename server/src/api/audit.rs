//! The audit trail: who changed what, when, from which device. What a role reads of it
//! follows what the role may read anyway: the administrator manages people, devices and
//! areas, never households, so of every other record it sees who did what kind of action,
//! when, from which device, on which record id — never the values written.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::AppQuery;
use crate::store::AuditEvent;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use shared::Text;
use shared::permissions::{Action, Reach};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Events of one record (a household id, a user id…); required below the administrator.
    pub entity_id: Option<String>,
    /// Newest first; at most 500, 100 when absent.
    pub limit: Option<i64>,
}

/// Records the administrator manages, whose audited changes it reads in full.
const ADMINISTERED: &[&str] = &["user", "area", "session", "sessions", "device"];

/// `event` as `me` may read it: the changes' values only for a role that may read the
/// households of the area, or for the records the administrator manages.
fn as_readable(me: &CurrentUser, mut event: AuditEvent) -> AuditEvent {
    // Below the administrator the trail is read per household already in reach.
    let reads_households = me.reach(Action::ReadHouseholds).is_ok();
    if !reads_households && !ADMINISTERED.contains(&event.entity.as_str()) {
        event.changes = serde_json::Value::Null;
    }
    event
}

#[utoipa::path(get, path = "/audit", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Vec<AuditEvent>), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody, description = "No such household"), (status = 422, body = crate::error::ErrorBody, description = "A household to read the history of is required for this role")))]
async fn list_audit(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<AuditQuery>,
) -> AppResult<Json<Vec<AuditEvent>>> {
    let _turn = state.heavy.enter(&me)?;
    if me.reach(Action::ReadAudit)? != Reach::Everywhere {
        // Within an area, the trail is read per household so nothing outside it leaks.
        let Some(id) = q.entity_id.as_deref() else {
            return Err(AppError::field(
                "entity_id",
                "required",
                Text::new("Cần chọn một hộ.", "Choose a household."),
            ));
        };
        me.household(state.store.as_ref(), Action::ReadAudit, id)
            .await?;
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    Ok(Json(
        state
            .store
            .list_audit(q.entity_id.as_deref(), limit)
            .await?
            .into_iter()
            .map(|e| as_readable(&me, e))
            .collect(),
    ))
}
