//! Support actions change status (planned → delivered or cancelled); they are never edited
//! away, so the record of what a household received stays whole.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::current::not_found;
use crate::error::AppResult;
use crate::extract::{AppJson, AppPath};
use axum::Json;
use axum::extract::State;
use shared::Validate;
use shared::permissions::Action;
use shared::support::{SupportAction, SupportStatusChange};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(change_status))
}

#[utoipa::path(post, path = "/support/{id}/status", tag = "support", security(("bearer" = [])), params(("id" = String, Path)), request_body = SupportStatusChange,
    responses((status = 200, body = SupportAction), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
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
    Ok(Json(
        state
            .store
            .change_support_status(&me.actor(), &id, &input)
            .await?,
    ))
}
