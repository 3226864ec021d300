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
use shared::household::HouseholdStatus;
use shared::permissions::Action;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stats))
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

fn pct(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 10_000.0 / whole as f64).round() / 100.0
    }
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
        poor_rate_pct: pct(poor, households),
        near_poor_rate_pct: pct(near_poor, households),
        area_id,
        households,
        poor,
        near_poor,
        target,
        by_village,
    }))
}
