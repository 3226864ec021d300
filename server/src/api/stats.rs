//! Figures without personal data: households per status and rates against targets, per
//! village and for the whole area. What the province sees of a commune.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::AppQuery;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use shared::Text;
use shared::api::Stats;
use shared::dashboard::{CommuneFigures, CommunePage, rate_pct};
use shared::household::HouseholdStatus;
use shared::permissions::Action;
use shared::search::fold;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
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
    let _turn = state.heavy.enter(&me)?;
    let area_id = q.area_id.unwrap_or_else(|| me.user.area_id.clone());
    me.check_area(state.store.as_ref(), Action::ReadAggregates, &area_id)
        .await?;
    let within = state.store.within(&area_id).await?;
    let by_village = state.store.status_counts(&within).await?;
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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommuneSort {
    /// The highest poverty rate first: where the province looks first.
    #[default]
    PoorRate,
    /// The highest near-poverty rate first.
    NearPoorRate,
    /// The most households first.
    Households,
    /// By name, A to Z.
    Name,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommunesQuery {
    /// The area whose communes to list; the user's own area when absent.
    pub area_id: Option<String>,
    /// The target year to compare with; the latest year with a target when absent.
    pub year: Option<i32>,
    /// Part of the commune's name, accents optional.
    pub q: Option<String>,
    #[param(inline)]
    pub sort: Option<CommuneSort>,
    /// At most 500; 50 when absent.
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

const MAX_COMMUNES_PAGE: usize = 500;

/// The communes under an area (a province), filtered, sorted and paged, each with its
/// households, poor and near-poor and their rates against its target, from one count over
/// all their villages; with the whole area's figures.
#[utoipa::path(get, path = "/stats/communes", tag = "stats", security(("bearer" = [])), params(CommunesQuery),
    responses((status = 200, body = CommunePage), (status = 400, body = crate::error::ErrorBody, description = "A limit out of range"), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn communes(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<CommunesQuery>,
) -> AppResult<Json<CommunePage>> {
    let _turn = state.heavy.enter(&me)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_COMMUNES_PAGE).contains(&limit) {
        return Err(AppError::BadRequest {
            code: "invalid_query",
            message: Text::new(
                format!("limit phải từ 1 đến {MAX_COMMUNES_PAGE}."),
                format!("limit must be 1–{MAX_COMMUNES_PAGE}."),
            ),
        });
    }
    let store = state.store.as_ref();
    let area_id = q.area_id.unwrap_or_else(|| me.user.area_id.clone());
    me.check_area(store, Action::ReadAggregates, &area_id)
        .await?;
    let communes = store.communes_under(&area_id).await?;
    let ids: Vec<String> = communes.iter().map(|c| c.id.clone()).collect();
    let mut counts: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    for (commune, status, n) in store.commune_status_counts(&ids).await? {
        let row = counts.entry(commune).or_default();
        let n = usize::try_from(n).unwrap_or_default();
        row[0] += n;
        match status {
            HouseholdStatus::Poor => row[1] += n,
            HouseholdStatus::NearPoor => row[2] += n,
            _ => {}
        }
    }
    let [households, poor, near_poor] = counts
        .values()
        .fold([0; 3], |a, r| [a[0] + r[0], a[1] + r[1], a[2] + r[2]]);
    let total_communes = communes.len();
    let needle = fold(q.q.as_deref().unwrap_or_default().trim());
    let matching: Vec<_> = communes
        .into_iter()
        .filter(|c| needle.is_empty() || fold(&c.name).contains(&needle))
        .collect();
    let ids: Vec<String> = matching.iter().map(|c| c.id.clone()).collect();
    let targets = if ids.is_empty() {
        vec![]
    } else {
        store.list_targets(&ids).await?
    };
    let year = q.year.or_else(|| targets.iter().map(|t| t.year).max());
    let mut rows: Vec<CommuneFigures> = matching
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
    match q.sort.unwrap_or_default() {
        CommuneSort::PoorRate => rows.sort_by(|a, b| {
            b.poor_rate_pct
                .total_cmp(&a.poor_rate_pct)
                .then(a.name.cmp(&b.name))
        }),
        CommuneSort::NearPoorRate => rows.sort_by(|a, b| {
            b.near_poor_rate_pct
                .total_cmp(&a.near_poor_rate_pct)
                .then(a.name.cmp(&b.name))
        }),
        CommuneSort::Households => {
            rows.sort_by(|a, b| b.households.cmp(&a.households).then(a.name.cmp(&b.name)))
        }
        CommuneSort::Name => rows.sort_by_cached_key(|c| (fold(&c.name), c.name.clone())),
    }
    let matched = rows.len();
    let rows = rows
        .into_iter()
        .skip(q.offset.unwrap_or(0))
        .take(limit)
        .collect();
    Ok(Json(CommunePage {
        communes: total_communes,
        households,
        poor,
        near_poor,
        matched,
        rows,
    }))
}
