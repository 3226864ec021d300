//! Yearly targets per area.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::{AppJson, AppPath};
use axum::Json;
use axum::extract::State;
use shared::permissions::{Action, Reach};
use shared::target::{Target, TargetInput};
use shared::{Text, Validate};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_targets))
        .routes(routes!(put_target))
}

/// Targets of the user's areas and of the areas above them.
#[utoipa::path(get, path = "/targets", tag = "targets", security(("bearer" = [])),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Vec<Target>), (status = 403, body = crate::error::ErrorBody)))]
async fn list_targets(
    State(state): State<AppState>,
    me: CurrentUser,
) -> AppResult<Json<Vec<Target>>> {
    let all = state.store.list_areas().await?;
    let ids: Vec<String> = match me.reach(Action::ReadTargets)? {
        Reach::Everywhere => all.iter().map(|a| a.id.clone()).collect(),
        _ => {
            let mut ids = super::areas::subtree(&all, &me.user.area_id);
            ids.extend(state.store.area_path(&me.user.area_id).await?);
            ids
        }
    };
    Ok(Json(state.store.list_targets(&ids).await?))
}

#[utoipa::path(put, path = "/targets/{area_id}/{year}", tag = "targets", security(("bearer" = [])),
    params(("area_id" = String, Path), ("year" = i32, Path)), request_body = TargetInput,
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Target), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn put_target(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath((area_id, year)): AppPath<(String, i32)>,
    AppJson(input): AppJson<TargetInput>,
) -> AppResult<Json<Target>> {
    me.check_area(state.store.as_ref(), Action::ManageTargets, &area_id)
        .await?;
    if !(2020..=2100).contains(&year) {
        return Err(AppError::field(
            "year",
            "out_of_range",
            Text::new("Năm phải từ 2020 đến 2100.", "The year must be 2020–2100."),
        ));
    }
    input.validate()?;
    let mut e = shared::ValidationErrors::default();
    for code in input.indicator_goals.keys() {
        if !state
            .rules
            .all()
            .iter()
            .any(|rs| rs.indicator(code).is_some())
        {
            e.push(
                format!("indicator_goals.{code}"),
                "unknown_indicator",
                Text::new(
                    format!("Không có chỉ số \"{code}\"."),
                    format!("No indicator \"{code}\"."),
                ),
            );
        }
    }
    e.into_result()?;
    let t = Target {
        area_id,
        year,
        data: input,
    };
    Ok(Json(state.store.put_target(&me.actor(), &t).await?))
}
