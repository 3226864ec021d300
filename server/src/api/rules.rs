//! The poverty rule sets and a classification preview (e.g. how the commune's households
//! would classify under the 2027–2030 standard before it takes effect).

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::{AppJson, AppPath};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use shared::Text;
use shared::rules::{Evidence, Outcome, RuleSet, classify};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rule_sets))
        .routes(routes!(get_rule_set))
        .routes(routes!(preview))
}

#[utoipa::path(get, path = "/rule-sets", tag = "rules", security(("bearer" = [])),
    responses((status = 200, body = Vec<RuleSet>), (status = 401, body = crate::error::ErrorBody)))]
async fn list_rule_sets(State(state): State<AppState>, _me: CurrentUser) -> Json<Vec<RuleSet>> {
    Json(state.rules.all().to_vec())
}

#[utoipa::path(get, path = "/rule-sets/{id}", tag = "rules", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = RuleSet), (status = 404, body = crate::error::ErrorBody)))]
async fn get_rule_set(
    State(state): State<AppState>,
    _me: CurrentUser,
    AppPath(id): AppPath<String>,
) -> AppResult<Json<RuleSet>> {
    state
        .rules
        .get(&id)
        .cloned()
        .map(Json)
        .ok_or(AppError::NotFound("rule set"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    pub evidence: Evidence,
}

/// Classify evidence under one rule set without storing anything.
#[utoipa::path(post, path = "/rule-sets/{id}/classify", tag = "rules", security(("bearer" = [])), params(("id" = String, Path)), request_body = PreviewRequest,
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Outcome), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn preview(
    State(state): State<AppState>,
    _me: CurrentUser,
    AppPath(id): AppPath<String>,
    AppJson(req): AppJson<PreviewRequest>,
) -> AppResult<Json<Outcome>> {
    let rs = state.rules.get(&id).ok_or(AppError::NotFound("rule set"))?;
    classify(rs, &req.evidence).map(Json).map_err(|e| {
        let mut nested = shared::ValidationErrors::default();
        nested.nest("evidence", e);
        if nested.is_empty() {
            AppError::BadRequest {
                code: "invalid_evidence",
                message: Text::new("Dữ liệu rà soát không hợp lệ.", "Invalid review data."),
            }
        } else {
            AppError::Validation(nested)
        }
    })
}
