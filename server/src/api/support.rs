//! Support actions change status (planned → delivered or cancelled); they are never edited
//! away, so the record of what a household received stays whole.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::current::not_found;
use crate::error::{AppError, AppResult};
use crate::extract::{AppJson, AppPath};
use axum::Json;
use axum::extract::State;
use shared::Text;
use shared::Validate;
use shared::permissions::Action;
use shared::support::{SupportAction, SupportStatus, SupportStatusChange};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(change_status))
}

#[utoipa::path(post, path = "/support/{id}/status", tag = "support", security(("bearer" = [])), params(("id" = String, Path)), request_body = SupportStatusChange,
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = SupportAction), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn change_status(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
    AppJson(input): AppJson<SupportStatusChange>,
) -> AppResult<Json<SupportAction>> {
    me.reach(Action::ManageSupport)?;
    let s = state
        .store
        .get_support(&id)
        .await
        .map_err(not_found("support action"))?;
    me.household(state.store.as_ref(), Action::ManageSupport, &s.household_id)
        .await?;
    input.validate()?;
    // Only a planned action changes; a delivered or cancelled one stays as it is.
    if s.status != SupportStatus::Planned {
        return Err(AppError::Conflict {
            code: "duplicate",
            message: Text::new(
                format!("Hỗ trợ này đã ở trạng thái {}.", s.status.as_str()),
                format!("This support action is already {}.", s.status.as_str()),
            ),
        });
    }
    let after = SupportAction {
        status: input.status,
        delivered_date: input.delivered_date,
        ..s.clone()
    };
    let record = shared::projection::support_json(&after);
    let audit = serde_json::json!({ "action": "update", "entity": "support_action", "entity_id": id, "changes": { "status": [s.status, after.status], "delivered_date": [s.delivered_date, after.delivered_date] } });
    crate::write::edit_household(&state, &me, &s.household_id, audit, |doc, author| {
        doc.put_record("support", &id, &record, author)
    })
    .await?;
    Ok(Json(after))
}
