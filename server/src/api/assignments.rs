//! Accompaniment: commune officers assign cadres to households with a visit cadence.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::current::not_found;
use crate::error::{AppError, AppResult};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::store::{AssignmentFilter, Within};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use shared::assignment::{Assignment, AssignmentInput, BulkAssignment, BulkResult, EndAssignment};
use shared::permissions::{Action, Reach, area_in_tree};
use shared::user::Role;
use shared::{Text, Validate};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_assignments, create_assignment))
        .routes(routes!(end_assignment))
        .routes(routes!(assign_bulk))
}

/// The assignee must be an active cadre working in the officer's commune.
async fn check_cadre(state: &AppState, me: &CurrentUser, cadre_id: &str) -> AppResult<()> {
    let cadre = state.store.get_user(cadre_id).await.map_err(|_| {
        AppError::field(
            "cadre_id",
            "unknown_user",
            Text::new("Không có cán bộ này.", "No such cadre."),
        )
    })?;
    if cadre.role != Role::Cadre || !cadre.active {
        return Err(AppError::field(
            "cadre_id",
            "not_a_cadre",
            Text::new(
                "Người được giao phải là cán bộ kèm cặp đang hoạt động.",
                "The assignee must be an active mentoring cadre.",
            ),
        ));
    }
    let cadre_path = state.store.area_path(&cadre.area_id).await?;
    let my_path = state.store.area_path(&me.user.area_id).await?;
    // The cadre must work in the officer's commune (their area lies in it, or above a village of it).
    if !area_in_tree(&me.user.area_id, &cadre_path) && !area_in_tree(&cadre.area_id, &my_path) {
        return Err(AppError::field(
            "cadre_id",
            "out_of_scope",
            Text::new(
                "Cán bộ này không thuộc xã của bạn.",
                "This cadre does not work in your commune.",
            ),
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub household_id: Option<String>,
    pub cadre_id: Option<String>,
    /// Only assignments running today.
    #[serde(default)]
    pub active: bool,
}

#[utoipa::path(get, path = "/assignments", tag = "assignments", security(("bearer" = [])), params(ListQuery),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Vec<Assignment>), (status = 403, body = crate::error::ErrorBody)))]
async fn list_assignments(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<ListQuery>,
) -> AppResult<Json<Vec<Assignment>>> {
    let mut f = AssignmentFilter {
        household_id: q.household_id,
        cadre_id: q.cadre_id,
        active_on: q.active.then(crate::today),
        within: Within::Everywhere,
    };
    match me.reach(Action::ReadAssignments)? {
        Reach::Everywhere => {}
        Reach::AreaTree => f.within = state.store.within(&me.user.area_id).await?,
        // A cadre sees their own assignments only.
        Reach::Assigned => f.cadre_id = Some(me.user.id.clone()),
    }
    Ok(Json(state.store.list_assignments(&f).await?))
}

#[utoipa::path(post, path = "/assignments", tag = "assignments", security(("bearer" = [])), request_body = AssignmentInput,
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 201, body = Assignment), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn create_assignment(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(input): AppJson<AssignmentInput>,
) -> AppResult<(StatusCode, Json<Assignment>)> {
    me.reach(Action::ManageAssignments)?;
    input.validate()?;
    me.household(
        state.store.as_ref(),
        Action::ManageAssignments,
        &input.household_id,
    )
    .await?;
    check_cadre(&state, &me, &input.cadre_id).await?;
    let overlapping = state
        .store
        .list_assignments(&AssignmentFilter {
            household_id: Some(input.household_id.clone()),
            cadre_id: Some(input.cadre_id.clone()),
            ..Default::default()
        })
        .await?;
    if overlapping
        .iter()
        .any(|a| a.to_date.is_none_or(|t| t > input.from_date))
    {
        return Err(AppError::Conflict {
            code: "already_assigned",
            message: Text::new(
                "Cán bộ này đã được giao hộ này.",
                "This cadre is already assigned to this household.",
            ),
        });
    }
    let a = Assignment {
        id: uuid::Uuid::now_v7().to_string(),
        household_id: input.household_id,
        cadre_id: input.cadre_id,
        from_date: input.from_date,
        to_date: input.to_date,
        cadence_days: input.cadence_days,
    };
    let created = state.store.create_assignment(&me.actor(), &a).await?;
    state.scopes.changed();
    Ok((StatusCode::CREATED, Json(created)))
}

/// End an assignment on a date.
#[utoipa::path(post, path = "/assignments/{id}/end", tag = "assignments", security(("bearer" = [])), params(("id" = String, Path)), request_body = EndAssignment,
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Assignment), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn end_assignment(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
    AppJson(input): AppJson<EndAssignment>,
) -> AppResult<Json<Assignment>> {
    me.reach(Action::ManageAssignments)?;
    let a = state
        .store
        .get_assignment(&id)
        .await
        .map_err(not_found("assignment"))?;
    me.household(
        state.store.as_ref(),
        Action::ManageAssignments,
        &a.household_id,
    )
    .await?;
    let mut e = shared::ValidationErrors::default();
    e.in_calendar("to_date", input.to_date);
    e.date_order("to_date", a.from_date, Some(input.to_date));
    e.into_result()?;
    let ended = state
        .store
        .end_assignment(&me.actor(), &id, input.to_date)
        .await?;
    state.scopes.changed();
    Ok(Json(ended))
}

/// Assign one cadre to many households, or reassign them (`replace`): every household is
/// checked first, then all the changes are stored in one transaction.
#[utoipa::path(post, path = "/assignments/bulk", tag = "assignments", security(("bearer" = [])), request_body = BulkAssignment,
    responses((status = 200, body = BulkResult), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn assign_bulk(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(input): AppJson<BulkAssignment>,
) -> AppResult<Json<BulkResult>> {
    me.reach(Action::ManageAssignments)?;
    input.validate()?;
    check_cadre(&state, &me, &input.cadre_id).await?;
    let store = state.store.as_ref();
    let mut result = BulkResult {
        created: vec![],
        ended: vec![],
        unchanged: vec![],
    };
    let mut ends = Vec::new();
    for h in &input.household_ids {
        me.household(store, Action::ManageAssignments, h).await?;
        let running: Vec<Assignment> = store
            .list_assignments(&AssignmentFilter {
                household_id: Some(h.clone()),
                ..Default::default()
            })
            .await?
            .into_iter()
            .filter(|a| a.to_date.is_none_or(|t| t >= input.from_date))
            .collect();
        let same = running.iter().any(|a| a.cadre_id == input.cadre_id);
        if input.replace {
            for a in running.into_iter().filter(|a| a.cadre_id != input.cadre_id) {
                // The old cadre's last day is the day before the new one starts.
                let last = input
                    .from_date
                    .pred_opt()
                    .unwrap_or(input.from_date)
                    .max(a.from_date);
                ends.push((a.id.clone(), last));
                result.ended.push(Assignment {
                    to_date: Some(last),
                    ..a
                });
            }
        }
        if same {
            result.unchanged.push(h.clone());
            continue;
        }
        let one = input.input(h);
        result.created.push(Assignment {
            id: uuid::Uuid::now_v7().to_string(),
            household_id: one.household_id,
            cadre_id: one.cadre_id,
            from_date: one.from_date,
            to_date: one.to_date,
            cadence_days: one.cadence_days,
        });
    }
    store
        .change_assignments(&me.actor(), &ends, &result.created)
        .await?;
    state.scopes.changed();
    Ok(Json(result))
}
