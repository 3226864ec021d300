//! Support actions change status (planned → delivered on a date, of an amount, or
//! cancelled; back to planned to correct a mistake); they are never edited away, so the
//! record of what a household received stays whole.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::current::not_found;
use crate::error::{AppError, AppResult};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::store::HouseholdFilter;
use axum::Json;
use axum::extract::State;
use shared::Text;
use shared::Validate;
use shared::doc::Collection;
use shared::permissions::{Action, Reach};
use shared::support::{
    Beneficiary, Project, ProjectTotal, SupportAction, SupportOverview, SupportStatus,
    SupportStatusChange, lawful_change,
};
use std::collections::{BTreeMap, BTreeSet};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(change_status))
        .routes(routes!(overview))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SupportQuery {
    /// Only under this area (a commune or a village); the user's own area when absent.
    pub area_id: Option<String>,
    /// The project whose beneficiaries to list; every project's when absent.
    #[param(inline)]
    pub project: Option<Project>,
}

/// Support by programme project (2–7 and other policies): households that benefit,
/// actions planned, delivered and cancelled, money delivered; and the beneficiaries.
#[utoipa::path(get, path = "/support", tag = "support", security(("bearer" = [])), params(SupportQuery),
    responses((status = 200, body = SupportOverview), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody, description = "No such area")))]
async fn overview(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<SupportQuery>,
) -> AppResult<Json<SupportOverview>> {
    let store = state.store.as_ref();
    if me.reach(Action::ReadHouseholds)? == Reach::Assigned {
        return Err(AppError::Forbidden);
    }
    let area = q.area_id.unwrap_or_else(|| me.user.area_id.clone());
    me.check_area(store, Action::ReadHouseholds, &area).await?;
    let households = store
        .list_households(&HouseholdFilter {
            within: store.within(&area).await?,
            limit: i64::MAX / 2,
            ..Default::default()
        })
        .await?;
    let ids: Vec<String> = households.iter().map(|h| h.id.clone()).collect();
    let by_id: BTreeMap<&str, &shared::household::Household> =
        households.iter().map(|h| (h.id.as_str(), h)).collect();
    let actions = store.list_support_of(&ids).await?;
    let projects = Project::ALL
        .into_iter()
        .map(|p| {
            let of: Vec<&SupportAction> = actions.iter().filter(|a| a.data.project == p).collect();
            let count = |s: SupportStatus| of.iter().filter(|a| a.status == s).count();
            ProjectTotal {
                project: p,
                beneficiaries: of
                    .iter()
                    .filter(|a| a.status != SupportStatus::Cancelled)
                    .map(|a| a.household_id.as_str())
                    .collect::<BTreeSet<_>>()
                    .len(),
                planned: count(SupportStatus::Planned),
                delivered: count(SupportStatus::Delivered),
                cancelled: count(SupportStatus::Cancelled),
                delivered_vnd: of
                    .iter()
                    .filter(|a| a.status == SupportStatus::Delivered)
                    .filter_map(|a| a.data.amount_vnd)
                    .sum(),
            }
        })
        .collect();
    let beneficiaries = actions
        .into_iter()
        .filter(|a| q.project.is_none_or(|p| a.data.project == p))
        .filter_map(|a| {
            let h = by_id.get(a.household_id.as_str())?;
            Some(Beneficiary {
                household_id: h.id.clone(),
                code: h.code.clone(),
                head_name: h.head_name.clone(),
                village_id: h.village_id.clone(),
                support: a,
            })
        })
        .collect();
    Ok(Json(SupportOverview {
        projects,
        beneficiaries,
    }))
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
    // Planned becomes delivered or cancelled; going back to planned corrects a mistake.
    if !lawful_change(s.status, input.status) {
        let same = s.status == input.status;
        return Err(AppError::Conflict {
            code: if same {
                "duplicate"
            } else {
                "invalid_transition"
            },
            message: Text::new(
                format!(
                    "Hỗ trợ này đang ở trạng thái {}; không thể chuyển sang {}.",
                    s.status.label().vi,
                    input.status.label().vi
                ),
                format!(
                    "This support action is {}; it cannot become {}.",
                    s.status.label().en,
                    input.status.label().en
                ),
            ),
        });
    }
    let mut after = SupportAction {
        status: input.status,
        delivered_date: input.delivered_date,
        ..s.clone()
    };
    if let Some(amount) = input.amount_vnd {
        after.data.amount_vnd = Some(amount);
    }
    let record = shared::projection::support_json(&after);
    let audit = serde_json::json!({ "action": "update", "entity": "support_action", "entity_id": id, "changes": { "status": [s.status, after.status], "delivered_date": [s.delivered_date, after.delivered_date], "amount_vnd": [s.data.amount_vnd, after.data.amount_vnd] } });
    crate::write::edit_household(&state, &me, &s.household_id, audit, |doc, author| {
        doc.put_record(Collection::Support, &id, &record, author)
    })
    .await?;
    Ok(Json(after))
}
