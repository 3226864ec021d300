//! The commune dashboard: per village and for the commune, households, poor and near-poor
//! against the year's targets, households without a cadre and overdue visits, and the
//! cadres' workload. Each figure is counted with the same filter that lists its households
//! (`accompaniment::RowFilter`), and names the list query that opens them.

use super::accompaniment::{RowFilter, loads, rows};
use super::area_memo::movement_since;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::AppQuery;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use shared::Text;
use shared::assignment::AccompaniedRow;
use shared::dashboard::{AreaFigures, Dashboard, Figure, FigureKind};
use shared::household::HouseholdStatus;
use shared::permissions::{Action, Reach};
use shared::target::Target;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(dashboard))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// The commune (or village); the user's own area when absent.
    pub area_id: Option<String>,
    /// The target year; the latest year with a target when absent.
    pub year: Option<i32>,
}

fn filter_of(kind: FigureKind) -> RowFilter {
    let mut f = RowFilter::default();
    match kind {
        FigureKind::Households => {}
        FigureKind::Poor => f.status = Some(HouseholdStatus::Poor),
        FigureKind::NearPoor => f.status = Some(HouseholdStatus::NearPoor),
        FigureKind::WithoutCadre => {
            f.supported = true;
            f.unassigned = true;
        }
        FigureKind::Overdue => f.overdue = true,
        FigureKind::WithoutPlan => {
            f.supported = true;
            f.without_plan = true;
        }
    }
    f
}

fn figures(
    area_id: &str,
    name: String,
    rows: &[&AccompaniedRow],
    target: Option<Target>,
) -> AreaFigures {
    AreaFigures {
        area_id: area_id.to_string(),
        name,
        figures: FigureKind::ALL
            .into_iter()
            .map(|kind| {
                let f = filter_of(kind);
                let q = f.query();
                Figure {
                    kind,
                    households: rows.iter().filter(|r| f.passes(r)).count(),
                    query: if q.is_empty() {
                        format!("area_id={area_id}")
                    } else {
                        format!("area_id={area_id}&{q}")
                    },
                }
            })
            .collect(),
        target,
    }
}

#[utoipa::path(get, path = "/dashboard", tag = "stats", security(("bearer" = [])), params(DashboardQuery),
    responses((status = 200, body = Dashboard), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody, description = "No such area")))]
async fn dashboard(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<DashboardQuery>,
) -> AppResult<Json<Dashboard>> {
    let _turn = state.heavy.enter(&me)?;
    // Figures of an area: for the commune's staff and village heads, not a cadre's list.
    if me.reach(Action::ReadAssignments)? == Reach::Assigned {
        return Err(AppError::Forbidden);
    }
    let store = state.store.as_ref();
    let area_id = q.area_id.unwrap_or_else(|| me.user.area_id.clone());
    me.check_area(store, Action::ReadAssignments, &area_id)
        .await?;
    let (villages, within) =
        tokio::try_join!(store.villages_under(&area_id), store.within(&area_id))?;
    let mut ids = villages.clone();
    ids.push(area_id.clone());
    let today = crate::today();
    // The rows, the movement figures, the names and the targets read at once.
    let (all, movement, areas, targets) = tokio::try_join!(
        rows(&state, &me, Some(&area_id)),
        async { Ok(movement_since(&state, &within, Some(&villages), today).await?) },
        async { Ok(store.areas_under(&area_id).await?) },
        async { Ok(store.list_targets(&ids).await?) },
    )?;
    let names: std::collections::HashMap<&str, &str> = areas
        .iter()
        .map(|a| (a.id.as_str(), a.name.as_str()))
        .collect();
    let name = |id: &str| {
        names
            .get(id)
            .map_or_else(|| id.to_string(), |n| n.to_string())
    };
    let year = q.year.or_else(|| targets.iter().map(|t| t.year).max());
    let target_of = |id: &str| {
        targets
            .iter()
            .find(|t| t.area_id == id && Some(t.year) == year)
            .cloned()
    };
    let everyone: Vec<&AccompaniedRow> = all.iter().collect();
    let total = figures(&area_id, name(&area_id), &everyone, target_of(&area_id));
    // The rows by village once, not each village's searched among all the commune's.
    let mut by_village: std::collections::HashMap<&str, Vec<&AccompaniedRow>> =
        std::collections::HashMap::new();
    for r in &all {
        by_village.entry(r.village_id.as_str()).or_default().push(r);
    }
    let per_village: Vec<AreaFigures> = villages
        .iter()
        .map(|v| {
            let in_v = by_village.remove(v.as_str()).unwrap_or_default();
            figures(v, name(v), &in_v, target_of(v))
        })
        .collect();
    let mut target_warnings = Vec::new();
    if let Some(t) = &total.target
        && per_village.iter().all(|v| v.target.is_some())
        && total.get(FigureKind::Households) > 0
    {
        let weighted = |pick: fn(&Target) -> f64| {
            per_village
                .iter()
                .map(|v| {
                    pick(v.target.as_ref().expect("checked")) * v.get(FigureKind::Households) as f64
                })
                .sum::<f64>()
                / total.get(FigureKind::Households) as f64
        };
        for (what_vi, what_en, commune, villages) in [
            (
                "hộ nghèo",
                "poor",
                t.data.poor_rate_pct,
                weighted(|t| t.data.poor_rate_pct),
            ),
            (
                "hộ cận nghèo",
                "near-poor",
                t.data.near_poor_rate_pct,
                weighted(|t| t.data.near_poor_rate_pct),
            ),
        ] {
            if (commune - villages).abs() > 0.05 {
                target_warnings.push(Text::new(
                    format!("Chỉ tiêu tỷ lệ {what_vi} của các thôn cộng lại là {villages:.2}%, khác chỉ tiêu của xã {commune:.2}%."),
                    format!("The villages' {what_en} targets add up to {villages:.2}%, not the commune's {commune:.2}%."),
                ));
            }
        }
    }
    // The workload of the area's cadres, counted over the same rows.
    let cadres = loads(&state, &areas, &area_id, &all).await?;
    Ok(Json(Dashboard {
        year,
        total,
        villages: per_village,
        cadres,
        target_warnings,
        movement,
    }))
}
