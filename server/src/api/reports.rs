//! The 6-month and annual reports of a commune (rows by village) or a province (rows by
//! commune): read from the register and the decisions, built by `shared::report`, answered
//! as JSON (the console's view of it), XLSX or CSV.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::AppQuery;
use crate::store::{RegisterRead, ReportRegister};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use shared::Text;
use shared::area::AreaKind;
use shared::permissions::{Action, Reach};
use shared::report::{Facts, Period, Report};
use std::collections::{BTreeMap, HashMap};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report))
}

#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    #[default]
    Json,
    Xlsx,
    Csv,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// A commune, a village or a province; the user's own area when absent.
    pub area_id: Option<String>,
    pub year: i32,
    #[param(inline)]
    pub period: Period,
    #[serde(default)]
    #[param(inline)]
    pub format: Format,
}

/// Reads what the report of `area_id` needs: the register, the decisions, the year's
/// targets, the support delivered and the visits of the period.
pub async fn facts(
    store: &dyn crate::Store,
    area_id: &str,
    year: i32,
    period: Period,
) -> AppResult<(String, Facts)> {
    let areas = store.list_areas().await?;
    facts_in(store, &areas, area_id, year, period).await
}

/// As `facts`, with the areas read once for many areas.
async fn facts_in(
    store: &dyn crate::Store,
    areas: &[shared::area::Area],
    area_id: &str,
    year: i32,
    period: Period,
) -> AppResult<(String, Facts)> {
    let mut register = register_of(
        store,
        areas,
        area_id,
        RegisterRead::Named,
        &[(year, period)],
    )
    .await?;
    register.read_period(store, 0, year).await?;
    Ok((register.name, register.facts))
}

/// What the reports of an area read (its rows, its households' ledger, and each period's
/// support and visits, read together from one snapshot), with one period's facts filled
/// in by `read_period`: an area's reports of several periods read its households once.
struct AreaRegister {
    name: String,
    /// The rows' ids, then the area's own: whose targets the report shows.
    target_areas: Vec<String>,
    /// Each period's support and visits, in the order asked.
    periods: Vec<crate::store::PeriodRecords>,
    facts: Facts,
}

/// `read`: named for a report with household lines (which show the households' codes and
/// heads' names), or figures only; `periods`: those whose support and visits are read.
async fn register_of(
    store: &dyn crate::Store,
    areas: &[shared::area::Area],
    area_id: &str,
    read: RegisterRead,
    periods: &[(i32, Period)],
) -> AppResult<AreaRegister> {
    let area = areas
        .iter()
        .find(|a| a.id == area_id)
        .ok_or(AppError::NotFound("area"))?;
    let (villages, within) =
        tokio::try_join!(store.villages_under(area_id), store.within(area_id))?;
    let parent: BTreeMap<&str, &str> = areas
        .iter()
        .filter_map(|a| Some((a.id.as_str(), a.parent_id.as_deref()?)))
        .collect();
    // A province's rows are its communes; a commune's (or a village's) its villages.
    let row_of = |village: &str| -> String {
        if area.kind == AreaKind::Province {
            parent.get(village).copied().unwrap_or(village).to_string()
        } else {
            village.to_string()
        }
    };
    let mut row_ids: Vec<String> = villages.iter().map(|v| row_of(v)).collect();
    row_ids.sort();
    row_ids.dedup();
    let name = |id: &str| {
        areas
            .iter()
            .find(|a| a.id == id)
            .map_or_else(|| id.to_string(), |a| a.name.clone())
    };
    let mut rows: Vec<(String, String)> = row_ids.iter().map(|id| (id.clone(), name(id))).collect();
    rows.sort_by(|a, b| a.1.cmp(&b.1));
    // The ledger is what the report counts: each household's entry and its decisions.
    // Each counts in its village's row, or its commune's in a province's report.
    let spans: Vec<_> = periods.iter().map(|&(y, p)| p.span(y)).collect();
    let ReportRegister {
        mut households,
        mut unmoved,
        periods,
    } = store.report_households(&within, read, &spans).await?;
    if area.kind == AreaKind::Province {
        for h in &mut households {
            h.area_id = row_of(&h.area_id);
        }
        for g in &mut unmoved {
            g.area_id = row_of(&g.area_id);
        }
    }
    let mut target_areas = row_ids;
    target_areas.push(area_id.to_string());
    Ok(AreaRegister {
        name: area.name.clone(),
        target_areas,
        periods,
        facts: Facts {
            areas: rows,
            households,
            unmoved,
            ..Facts::default()
        },
    })
}

impl AreaRegister {
    /// Fills in the year's targets, and the support delivered and the visits of the
    /// `i`th period asked (replacing another period's).
    async fn read_period(
        &mut self,
        store: &dyn crate::Store,
        i: usize,
        year: i32,
    ) -> AppResult<()> {
        self.facts.targets = store
            .list_targets(&self.target_areas)
            .await?
            .into_iter()
            .filter(|t| t.year == year)
            .map(|t| (t.area_id, t.data.poor_rate_pct, t.data.near_poor_rate_pct))
            .collect();
        let records = self
            .periods
            .get_mut(i)
            .map(std::mem::take)
            .unwrap_or_default();
        self.facts.delivered = records.delivered;
        self.facts.visits = records
            .visits
            .into_iter()
            .map(|(c, h, n)| (c, h, n.max(0) as usize))
            .collect();
        Ok(())
    }
}

/// How many communes a request counts at once.
pub(crate) const AT_ONCE: usize = 4;

/// The report of `area_id`. A province's is put together one commune at a time from each
/// commune's own report (`shared::report::Combined`), so it never holds the province's
/// households at once; the household lines are kept only when `lines`. Without them, the
/// communes' reports are the kept parts that are still current (`report_parts`), and
/// only the communes written since are counted again.
pub async fn report_of(
    store: &dyn crate::Store,
    area_id: &str,
    year: i32,
    period: Period,
    lines: bool,
) -> AppResult<shared::report::Report> {
    let areas = store.list_areas().await?;
    let area = areas
        .iter()
        .find(|a| a.id == area_id)
        .ok_or(AppError::NotFound("area"))?;
    if area.kind != AreaKind::Province {
        let (name, facts) = facts(store, area_id, year, period).await?;
        let mut r = shared::report::build((area_id, &name), year, period, &facts);
        name_cadres(store, &areas, &mut r).await?;
        return Ok(r);
    }
    let mut communes: Vec<_> = areas
        .iter()
        .filter(|a| a.kind == AreaKind::Commune && a.parent_id.as_deref() == Some(area_id))
        .collect();
    communes.sort_by(|a, b| a.name.cmp(&b.name));
    let mut whole = shared::report::Combined::new((area_id, &area.name), year, period);
    let ids: Vec<String> = communes.into_iter().map(|c| c.id.clone()).collect();
    if lines {
        let mut parts = commune_reports(store, &areas, ids, year, period, AT_ONCE);
        while let Some(part) = parts.next().await {
            whole.add(part?, true);
        }
    } else {
        let mut kept =
            super::report_parts::current(store, &areas, &ids, &[(year, period)], AT_ONCE).await?;
        for part in kept.remove(0) {
            whole.add(part, false);
        }
    }
    let target = store
        .list_targets(&[area_id.to_string()])
        .await?
        .into_iter()
        .find(|t| t.year == year)
        .map(|t| (t.data.poor_rate_pct, t.data.near_poor_rate_pct));
    let mut r = whole.finish(target);
    name_cadres(store, &areas, &mut r).await?;
    Ok(r)
}

/// The reports of `communes` with their household lines, in their order, `at_once`
/// communes at a time (the database answers one while another is counted; at most that
/// many communes' households are held at a time).
fn commune_reports<'a>(
    store: &'a dyn crate::Store,
    areas: &'a [shared::area::Area],
    communes: Vec<String>,
    year: i32,
    period: Period,
    at_once: usize,
) -> impl futures_util::Stream<Item = AppResult<Report>> + 'a {
    futures_util::stream::iter(communes)
        .map(move |id: String| async move {
            let (name, facts) = facts_in(store, areas, &id, year, period).await?;
            AppResult::Ok(shared::report::build((&id, &name), year, period, &facts))
        })
        .buffered(at_once.max(1))
}

/// The figures of `commune` (its report without household lines: the part a province's
/// report sums) for each of `periods`, in their order, its households read once.
pub(super) async fn commune_figures(
    store: &dyn crate::Store,
    areas: &[shared::area::Area],
    commune: &str,
    periods: &[(i32, Period)],
) -> AppResult<Vec<Report>> {
    // Counted in groups: the households unmoved since the earliest period's start.
    let Some(unmoved_since) = periods.iter().map(|&(y, p)| p.span(y).0).min() else {
        return Ok(Vec::new());
    };
    let read = RegisterRead::Figures { unmoved_since };
    let mut register = register_of(store, areas, commune, read, periods).await?;
    let mut reports = Vec::with_capacity(periods.len());
    for (i, &(year, period)) in periods.iter().enumerate() {
        register.read_period(store, i, year).await?;
        reports.push(shared::report::figures(
            (commune, &register.name),
            year,
            period,
            &register.facts,
        ));
    }
    Ok(reports)
}

/// Names the cadres of `r`'s visits as they are now (`Report::name_cadres`): kept figures
/// hold visits by cadre id, so they hold across a rename. Two cadres of the report with one
/// name are each followed by their area's name (and, when that is shared too, the start of
/// their id), so their rows can be told apart without a login printed in a report that is
/// passed around. Reads only the report's own cadres, not every user of the deployment.
async fn name_cadres(
    store: &dyn crate::Store,
    areas: &[shared::area::Area],
    r: &mut Report,
) -> AppResult<()> {
    let ids: Vec<String> = r.visits.iter().map(|v| v.cadre_id.clone()).collect();
    let labels = store.user_labels(&ids).await?;
    let area_names: HashMap<&str, &str> = areas
        .iter()
        .map(|a| (a.id.as_str(), a.name.as_str()))
        .collect();
    let mut of_name: HashMap<&str, usize> = HashMap::new();
    let mut of_name_and_area: HashMap<(&str, &str), usize> = HashMap::new();
    for (name, area) in labels.values() {
        *of_name.entry(name).or_default() += 1;
        *of_name_and_area.entry((name, area)).or_default() += 1;
    }
    let names: BTreeMap<String, String> = labels
        .iter()
        .map(|(id, (name, area))| {
            let place = area_names.get(area.as_str()).copied().unwrap_or(area);
            let label = if of_name[name.as_str()] == 1 {
                name.clone()
            } else if of_name_and_area[&(name.as_str(), area.as_str())] == 1 {
                format!("{name} ({place})")
            } else {
                let short: String = id.chars().take(8).collect();
                format!("{name} ({place}, {short})")
            };
            (id.clone(), label)
        })
        .collect();
    r.name_cadres(&names);
    Ok(())
}

/// The 6-month or annual report of an area. The commune's staff also get the households
/// behind every figure (the XLSX's last sheet); the province gets the figures only.
#[utoipa::path(get, path = "/reports", tag = "stats", security(("bearer" = [])), params(ReportQuery),
    responses((status = 200, description = "The report as JSON (`format=json`), an XLSX file or a CSV file", content((Report = "application/json"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (String = "text/csv"))), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn report(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<ReportQuery>,
) -> AppResult<Response> {
    let _turn = state.heavy.enter(&me)?;
    if !(2020..=2100).contains(&q.year) {
        return Err(AppError::field(
            "year",
            "out_of_range",
            Text::new(
                "Năm phải từ 2020 đến 2100.",
                "The year must be 2020 to 2100.",
            ),
        ));
    }
    let area_id = q.area_id.unwrap_or_else(|| me.user.area_id.clone());
    me.check_area(state.store.as_ref(), Action::ReadAggregates, &area_id)
        .await?;
    let personal = matches!(
        me.reach(Action::ReadHouseholds),
        Ok(Reach::AreaTree | Reach::Everywhere)
    );
    let mut r = report_of(state.store.as_ref(), &area_id, q.year, q.period, personal).await?;
    if !personal {
        r.households.retain(|_| false);
    }
    let file = |ext: &str| {
        format!(
            "attachment; filename=\"bao-cao-{}-{}.{ext}\"",
            match q.period {
                Period::HalfYear => "6-thang",
                Period::Annual => "nam",
            },
            q.year
        )
    };
    Ok(match q.format {
        Format::Json => axum::Json(r).into_response(),
        Format::Xlsx => {
            let bytes = tokio::task::spawn_blocking(move || crate::export::xlsx(&r))
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?
                .map_err(|e| AppError::Internal(e.to_string()))?;
            (
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            .to_string(),
                    ),
                    (header::CONTENT_DISPOSITION, file("xlsx")),
                ],
                bytes,
            )
                .into_response()
        }
        Format::Csv => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, file("csv")),
            ],
            crate::export::csv(&r),
        )
            .into_response(),
    })
}
