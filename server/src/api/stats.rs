//! Figures without personal data: households per status and rates against targets, per
//! village and for the whole area. What the province sees of a commune.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::extract::AppQuery;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use shared::api::Stats;
use shared::area::AreaKind;
use shared::dashboard::{CommuneFigures, rate_pct};
use shared::household::HouseholdStatus;
use shared::permissions::Action;
use std::collections::BTreeMap;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stats))
        .routes(routes!(communes))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// The area to sum up; the user's own area when absent.
    pub area_id: Option<String>,
    /// The target year to compare with; this year when absent.
    pub year: Option<i32>,
}

#[utoipa::path(get, path = "/stats", tag = "stats", security(("bearer" = [])), params(StatsQuery),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Stats), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn stats(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<StatsQuery>,
) -> AppResult<Json<Stats>> {
    let area_id = q.area_id.unwrap_or_else(|| me.user.area_id.clone());
    me.check_area(state.store.as_ref(), Action::ReadAggregates, &area_id)
        .await?;
    let villages = state.store.villages_under(&area_id).await?;
    let by_village = state.store.status_counts(&villages).await?;
    let count = |s: Option<HouseholdStatus>| {
        by_village
            .iter()
            .filter(|c| s.is_none_or(|s| c.status == s))
            .map(|c| c.households)
            .sum::<i64>()
    };
    let (households, poor, near_poor) = (
        count(None),
        count(Some(HouseholdStatus::Poor)),
        count(Some(HouseholdStatus::NearPoor)),
    );
    let year = q
        .year
        .unwrap_or_else(|| chrono::Datelike::year(&crate::today()));
    let target = state
        .store
        .list_targets(std::slice::from_ref(&area_id))
        .await?
        .into_iter()
        .find(|t| t.year == year);
    Ok(Json(Stats {
        poor_rate_pct: rate_pct(
            usize::try_from(poor).unwrap_or(0),
            usize::try_from(households).unwrap_or(0),
        ),
        near_poor_rate_pct: rate_pct(
            usize::try_from(near_poor).unwrap_or(0),
            usize::try_from(households).unwrap_or(0),
        ),
        area_id,
        households,
        poor,
        near_poor,
        target,
        by_village,
    }))
}

/// Every commune under an area (a province) with its households, poor and near-poor and
/// their rates against targets, from one count over all their villages.
#[utoipa::path(get, path = "/stats/communes", tag = "stats", security(("bearer" = [])), params(StatsQuery),
    responses((status = 200, body = Vec<CommuneFigures>), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn communes(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<StatsQuery>,
) -> AppResult<Json<Vec<CommuneFigures>>> {
    let store = state.store.as_ref();
    let area_id = q.area_id.unwrap_or_else(|| me.user.area_id.clone());
    me.check_area(store, Action::ReadAggregates, &area_id)
        .await?;
    let areas = store.list_areas().await?;
    let under = super::areas::subtree(&areas, &area_id);
    let communes: Vec<_> = areas
        .iter()
        .filter(|a| a.kind == AreaKind::Commune && under.contains(&a.id))
        .collect();
    let commune_of: BTreeMap<&str, &str> = areas
        .iter()
        .filter(|a| a.kind == AreaKind::Village)
        .filter_map(|v| Some((v.id.as_str(), v.parent_id.as_deref()?)))
        .collect();
    let villages: Vec<String> = commune_of
        .iter()
        .filter(|(_, c)| communes.iter().any(|x| x.id == **c))
        .map(|(v, _)| v.to_string())
        .collect();
    let mut counts: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for c in store.status_counts(&villages).await? {
        let Some(commune) = commune_of.get(c.village_id.as_str()) else {
            continue;
        };
        let row = counts.entry(commune).or_default();
        let n = usize::try_from(c.households).unwrap_or_default();
        row[0] += n;
        match c.status {
            HouseholdStatus::Poor => row[1] += n,
            HouseholdStatus::NearPoor => row[2] += n,
            _ => {}
        }
    }
    let ids: Vec<String> = communes.iter().map(|c| c.id.clone()).collect();
    let targets = store.list_targets(&ids).await?;
    let year = q.year.or_else(|| targets.iter().map(|t| t.year).max());
    let mut out: Vec<CommuneFigures> = communes
        .into_iter()
        .map(|c| {
            let [n, poor, near] = counts.get(c.id.as_str()).copied().unwrap_or_default();
            CommuneFigures {
                area_id: c.id.clone(),
                name: c.name.clone(),
                households: n,
                poor,
                near_poor: near,
                poor_rate_pct: rate_pct(poor, n),
                near_poor_rate_pct: rate_pct(near, n),
                target: targets
                    .iter()
                    .find(|t| t.area_id == c.id && Some(t.year) == year)
                    .cloned(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.poor_rate_pct
            .total_cmp(&a.poor_rate_pct)
            .then(a.name.cmp(&b.name))
    });
    Ok(Json(out))
}
