//! Who accompanies which household and whether visits keep to the cadence: the console's
//! assignment screen (households without a cadre, cadres with their workload) and the
//! phone's "who accompanies us / is a visit overdue", read from one query so both say the
//! same. Filtering, sorting and paging happen here, not in the browser.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::AppQuery;
use crate::store::{AssignmentFilter, HouseholdFilter, Within};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use shared::Text;
use shared::assignment::{
    AccompaniedRow, Accompaniment, AccompanimentPage, AssignedCadre, CadreLoad,
};
use shared::household::HouseholdStatus;
use shared::permissions::{Action, Reach};
use shared::report::Movement;
use shared::search::fold;
use shared::user::Role;
use std::collections::{BTreeSet, HashMap};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_accompaniment))
        .routes(routes!(cadre_loads))
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccompanimentSort {
    /// Overdue first, then the soonest due visit, then households nobody accompanies.
    #[default]
    Due,
    Code,
    Name,
    Village,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccompanimentQuery {
    /// Only households under this area (a commune or a village).
    pub area_id: Option<String>,
    pub status: Option<HouseholdStatus>,
    /// Only poor and near-poor households (those the programme accompanies).
    #[serde(default)]
    pub supported: bool,
    /// Only households nobody accompanies today.
    #[serde(default)]
    pub unassigned: bool,
    /// Only households this cadre accompanies today.
    pub cadre_id: Option<String>,
    /// Only households whose visit is overdue.
    #[serde(default)]
    pub overdue: bool,
    /// Only households with no plan.
    #[serde(default)]
    pub without_plan: bool,
    /// Part of the head's name, the code or the address, accents optional.
    pub q: Option<String>,
    /// Only households the commune's decisions moved this way since the last review
    /// (the dashboard's movement figures).
    #[param(inline)]
    pub movement: Option<Movement>,
    #[param(inline)]
    pub sort: Option<AccompanimentSort>,
    /// At most 2000; 100 when absent.
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

const MAX_LIMIT: usize = 2000;

/// Every household in the user's reach with its running assignments and visit due date.
pub(crate) async fn rows(
    state: &AppState,
    me: &CurrentUser,
    area_id: Option<&str>,
) -> AppResult<Vec<AccompaniedRow>> {
    let store = state.store.as_ref();
    let (villages, ids) = me.household_scope(store, Action::ReadAssignments).await?;
    // Where the households are, and every village that holds them (`None`: anywhere).
    let (within, in_villages) = match area_id {
        Some(area) => {
            me.check_area(store, Action::ReadAssignments, area).await?;
            let under = store.villages_under(area).await?;
            match villages {
                // The whole area in reach (the commune's staff in their commune): by its
                // commune key.
                Some(vs) if under.iter().any(|v| !vs.contains(v)) => {
                    let mine: Vec<String> = under.into_iter().filter(|v| vs.contains(v)).collect();
                    (Within::Villages(mine.clone()), Some(mine))
                }
                _ => (store.within(area).await?, Some(under)),
            }
        }
        None => (Within::villages(villages.clone()), villages),
    };
    let today = crate::today();
    // Each household's last visit and plan come with its row (kept there by every write).
    let (households, running) = match ids {
        // A cadre: their own few households, by id, and the running assignments of those
        // only (every cadre accompanying them), not the whole database's.
        Some(ids) => {
            let households = store
                .list_briefs(&HouseholdFilter {
                    within: within.clone(),
                    household_ids: Some(ids),
                    in_register_only: true,
                    limit: i64::MAX / 2,
                    ..Default::default()
                })
                .await?;
            let mut running = Vec::new();
            for h in &households {
                running.extend(
                    store
                        .list_assignments(&AssignmentFilter {
                            household_id: Some(h.id.clone()),
                            active_on: Some(today),
                            ..Default::default()
                        })
                        .await?,
                );
            }
            (households, running)
        }
        // An area's thousands of households (kept while none of them is written), and
        // their running assignments beside them on another connection.
        None => {
            let running = AssignmentFilter {
                within: within.clone(),
                active_on: Some(today),
                ..Default::default()
            };
            let (households, running) = tokio::try_join!(
                super::area_memo::area_briefs(state, &within, in_villages.as_deref()),
                store.list_assignments(&running)
            )?;
            (households.as_ref().clone(), running)
        }
    };
    let cadres: Vec<String> = running
        .iter()
        .map(|a| a.cadre_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let names = store.user_names(&cadres).await?;
    let mut by_household: HashMap<String, Vec<AssignedCadre>> = HashMap::new();
    for a in running {
        let Some(full_name) = names.get(&a.cadre_id).cloned() else {
            // An assignment names its cadre by a foreign key: a missing one is corrupt.
            return Err(crate::store::StoreError::NotFound.into());
        };
        by_household
            .entry(a.household_id.clone())
            .or_default()
            .push(AssignedCadre {
                full_name,
                assignment_id: a.id,
                cadre_id: a.cadre_id,
                from_date: a.from_date,
                cadence_days: a.cadence_days,
            });
    }
    Ok(households
        .into_iter()
        .map(|h| {
            let accompaniment = Accompaniment {
                household_id: h.id.clone(),
                cadres: by_household.remove(&h.id).unwrap_or_default(),
            };
            let last_visit = h.followed.last_visit;
            let due = accompaniment.due(last_visit, h.followed.next_visit);
            AccompaniedRow {
                overdue: due.is_some_and(|d| d < today),
                has_plan: h.followed.has_plan,
                household_id: h.id,
                code: h.code,
                head_name: h.head_name,
                village_id: h.village_id,
                status: h.status,
                accompaniment,
                last_visit,
                due,
            }
        })
        .collect())
}

/// Which households a list (or a dashboard figure) holds: the one definition both the
/// count and the list behind it use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RowFilter {
    pub status: Option<HouseholdStatus>,
    pub supported: bool,
    pub unassigned: bool,
    pub cadre_id: Option<String>,
    pub overdue: bool,
    pub without_plan: bool,
    pub q: Option<String>,
}

impl RowFilter {
    pub fn passes(&self, r: &AccompaniedRow) -> bool {
        let needle = self
            .q
            .as_deref()
            .map(|t| fold(t.trim()))
            .unwrap_or_default();
        self.status.is_none_or(|s| r.status == s)
            && (!self.supported
                || matches!(r.status, HouseholdStatus::Poor | HouseholdStatus::NearPoor))
            && (!self.unassigned || r.accompaniment.cadres.is_empty())
            && self
                .cadre_id
                .as_ref()
                .is_none_or(|c| r.accompaniment.cadres.iter().any(|a| &a.cadre_id == c))
            && (!self.overdue || r.overdue)
            && (!self.without_plan || !r.has_plan)
            && (needle.is_empty()
                || fold(&r.head_name).contains(&needle)
                || fold(&r.code).contains(&needle))
    }

    /// The same filter as `/accompaniment` query parameters.
    pub fn query(&self) -> String {
        let mut out = Vec::new();
        if let Some(s) = self.status {
            out.push(format!("status={}", s.as_str()));
        }
        for (on, key) in [
            (self.supported, "supported"),
            (self.unassigned, "unassigned"),
            (self.overdue, "overdue"),
            (self.without_plan, "without_plan"),
        ] {
            if on {
                out.push(format!("{key}=true"));
            }
        }
        if let Some(c) = &self.cadre_id {
            out.push(format!("cadre_id={c}"));
        }
        out.join("&")
    }
}

fn bad_query() -> AppError {
    AppError::BadRequest {
        code: "invalid_query",
        message: Text::new(
            format!("limit phải từ 1 đến {MAX_LIMIT}."),
            format!("limit must be 1–{MAX_LIMIT}."),
        ),
    }
}

/// Households with who accompanies them and when the next visit is due.
#[utoipa::path(get, path = "/accompaniment", tag = "assignments", security(("bearer" = [])), params(AccompanimentQuery),
    responses((status = 200, body = AccompanimentPage), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody, description = "No such area")))]
async fn list_accompaniment(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<AccompanimentQuery>,
) -> AppResult<Json<AccompanimentPage>> {
    let _turn = state.heavy.enter(&me)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad_query());
    }
    let filter = RowFilter {
        status: q.status,
        supported: q.supported,
        unassigned: q.unassigned,
        cadre_id: q.cadre_id.clone(),
        overdue: q.overdue,
        without_plan: q.without_plan,
        q: q.q.clone(),
    };
    let mut all: Vec<AccompaniedRow> = rows(&state, &me, q.area_id.as_deref())
        .await?
        .into_iter()
        .filter(|r| filter.passes(r))
        .collect();
    if let Some(m) = q.movement {
        let moved = moved_households(&state, &all, m).await?;
        all.retain(|r| moved.contains(&r.household_id));
    }
    match q.sort.unwrap_or_default() {
        AccompanimentSort::Due => all.sort_by(|a, b| {
            (!a.overdue, a.due.is_none(), a.due, &a.code).cmp(&(
                !b.overdue,
                b.due.is_none(),
                b.due,
                &b.code,
            ))
        }),
        AccompanimentSort::Code => all.sort_by(|a, b| a.code.cmp(&b.code)),
        AccompanimentSort::Name => all.sort_by(|a, b| {
            (given_name(&a.head_name), &a.code).cmp(&(given_name(&b.head_name), &b.code))
        }),
        AccompanimentSort::Village => {
            all.sort_by(|a, b| (&a.village_id, &a.code).cmp(&(&b.village_id, &b.code)))
        }
    }
    let total = all.len();
    let rows = all
        .into_iter()
        .skip(q.offset.unwrap_or(0))
        .take(limit)
        .collect();
    Ok(Json(AccompanimentPage { total, rows }))
}

/// The households among `rows` that the decisions since the last review moved by `m`,
/// counted as the dashboard counts them.
async fn moved_households(
    state: &AppState,
    rows: &[AccompaniedRow],
    m: Movement,
) -> AppResult<BTreeSet<String>> {
    let villages: Vec<String> = rows
        .iter()
        .map(|r| r.village_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if villages.is_empty() {
        return Ok(BTreeSet::new());
    }
    let ledger = state
        .store
        .movements_in(&Within::Villages(villages))
        .await?;
    Ok(shared::dashboard::movers(&ledger, crate::today())
        .and_then(|(_, mut by)| by.remove(&m))
        .unwrap_or_default())
}

/// Vietnamese names sort by the given name, the last word.
fn given_name(name: &str) -> String {
    fold(name.split_whitespace().last().unwrap_or_default())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CadreQuery {
    /// The commune (or village) whose cadres to list; the user's own area when absent.
    pub area_id: Option<String>,
}

/// The active cadres of an area with their workload, most overdue first.
#[utoipa::path(get, path = "/accompaniment/cadres", tag = "assignments", security(("bearer" = [])), params(CadreQuery),
    responses((status = 200, body = Vec<CadreLoad>), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody, description = "No such area")))]
async fn cadre_loads(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<CadreQuery>,
) -> AppResult<Json<Vec<CadreLoad>>> {
    let _turn = state.heavy.enter(&me)?;
    if me.reach(Action::ReadAssignments)? == Reach::Assigned {
        return Err(AppError::Forbidden);
    }
    let area = q.area_id.unwrap_or_else(|| me.user.area_id.clone());
    let (rows, areas) = tokio::try_join!(rows(&state, &me, Some(&area)), async {
        Ok(state.store.areas_under(&area).await?)
    })?;
    Ok(Json(loads(&state, &areas, &area, &rows).await?))
}

/// The active cadres working in `area` (or above it in its commune), with the households
/// of `rows` they accompany and how many of those are overdue, most overdue first.
/// `all_areas` hold `area` and every area under it, as the caller read them.
pub(crate) async fn loads(
    state: &AppState,
    all_areas: &[shared::area::Area],
    area: &str,
    rows: &[AccompaniedRow],
) -> AppResult<Vec<CadreLoad>> {
    let path = state.store.area_path(area).await?;
    let mut areas = super::areas::subtree(all_areas, area);
    areas.extend(path.into_iter().take(2));
    // Each cadre's rows gathered in one pass over the rows (a commune has a hundred
    // cadres and thousands of households), then counted with the list's own filters.
    let mut of_cadre: HashMap<&str, Vec<&AccompaniedRow>> = Default::default();
    for r in rows {
        let mut seen = BTreeSet::new();
        for c in &r.accompaniment.cadres {
            if seen.insert(c.cadre_id.as_str()) {
                of_cadre.entry(c.cadre_id.as_str()).or_default().push(r);
            }
        }
    }
    let mut loads = Vec::new();
    for u in state.store.list_users(Some(&areas)).await? {
        if u.role != Role::Cadre || !u.active {
            continue;
        }
        let mine = RowFilter {
            cadre_id: Some(u.id.clone()),
            ..Default::default()
        };
        let late = RowFilter {
            overdue: true,
            ..mine.clone()
        };
        let theirs = of_cadre
            .get(u.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        loads.push(CadreLoad {
            households: theirs.iter().filter(|r| mine.passes(r)).count(),
            overdue: theirs.iter().filter(|r| late.passes(r)).count(),
            id: u.id,
            username: u.username,
            full_name: u.full_name,
            area_id: u.area_id,
        });
    }
    loads.sort_by(|a, b| (b.overdue, &a.full_name).cmp(&(a.overdue, &b.full_name)));
    Ok(loads)
}
