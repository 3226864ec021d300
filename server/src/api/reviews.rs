//! The review campaign: where each household's review stands in a village and a year,
//! the steps the village and the commune record (one household or many, each a change
//! through the write core, which judges role, order and the 50% rule), the households the
//! commune watches after its decisions, and a what-if under another rule set.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::{AppJson, AppQuery};
use crate::store::{HouseholdBrief, Within};
use axum::Json;
use axum::extract::State;
use chrono::{Datelike, Duration, NaiveDate};
use serde::Deserialize;
use shared::Text;
use shared::assessment::{Assessment, ReviewKind};
use shared::campaign::{
    Campaign, CampaignRow, CampaignVillage, MAX_BULK, StepInput, StepOutcome, StepRequest,
    TrackedRow, WhatIf, WhatIfRow,
};
use shared::doc::Collection;
use shared::permissions::{Action, Reach};
use shared::review::{
    self, AD_HOC_DAYS, Flag, ListReason, Progress, ReviewStep, StatusChange, StepData, Trajectory,
};
use std::collections::BTreeMap;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(campaign))
        .routes(routes!(record_steps))
        .routes(routes!(tracking))
        .routes(routes!(what_if))
}

/// The area `area_id` (the user's own when absent) as a place to read household rows,
/// once `me` may read it: for the commune's staff, village heads and the province, not a
/// cadre's list.
pub(crate) async fn within_of(
    state: &AppState,
    me: &CurrentUser,
    area_id: Option<&str>,
) -> AppResult<(String, Within)> {
    if me.reach(Action::ReadHouseholds)? == Reach::Assigned {
        return Err(AppError::Forbidden);
    }
    let area_id = area_id.map_or_else(|| me.user.area_id.clone(), str::to_string);
    me.check_area(state.store.as_ref(), Action::ReadHouseholds, &area_id)
        .await?;
    let within = state.store.within(&area_id).await?;
    Ok((area_id, within))
}

/// The households in the register of `area_id` (`within` as `within_of` gave it), kept
/// between requests while none of them is written (`area_memo`).
async fn households_in(
    state: &AppState,
    area_id: &str,
    within: &Within,
) -> AppResult<std::sync::Arc<Vec<HouseholdBrief>>> {
    let villages = state.store.villages_under(area_id).await?;
    Ok(super::area_memo::area_briefs(state, within, Some(&villages)).await?)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CampaignQuery {
    /// A commune or village; the user's own area when absent.
    pub area_id: Option<String>,
    /// The campaign's year; this year when absent.
    pub year: Option<i32>,
}

fn check_year(year: i32) -> AppResult<()> {
    if !(2020..=2100).contains(&year) {
        return Err(AppError::field(
            "year",
            "out_of_range",
            Text::new(
                "Năm phải từ 2020 đến 2100.",
                "The year must be 2020 to 2100.",
            ),
        ));
    }
    Ok(())
}

/// Where every household listed or reviewed in a year stands: the yearly campaign and the
/// ad-hoc reviews of the year, with each village's counts.
#[utoipa::path(get, path = "/reviews/campaign", tag = "reviews", security(("bearer" = [])), params(CampaignQuery),
    responses((status = 200, body = Campaign), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn campaign(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<CampaignQuery>,
) -> AppResult<Json<Campaign>> {
    let _turn = state.heavy.enter(&me)?;
    let year = q.year.unwrap_or_else(|| crate::today().year());
    check_year(year)?;
    let (area_id, within) = within_of(&state, &me, q.area_id.as_deref()).await?;
    let villages = state.store.villages_under(&area_id).await?;
    let store = state.store.as_ref();
    let (from, to) = review::campaign_window(year);
    let (jan, dec) = (
        NaiveDate::from_ymd_opt(year, 1, 1).expect("valid"),
        NaiveDate::from_ymd_opt(year, 12, 31).expect("valid"),
    );
    let reviews = store.assessments_in(&within, jan, dec).await?;
    let mut steps: BTreeMap<String, Vec<ReviewStep>> = BTreeMap::new();
    // The year's steps only: a step is never dated before its review (the gate's
    // `ReviewStep::dates_in_order`), and a listing counts in its own year.
    for s in store.review_steps_in(&within, None, Some(jan)).await? {
        steps.entry(s.household_id.clone()).or_default().push(s);
    }
    let mut latest: BTreeMap<&str, &Assessment> = BTreeMap::new();
    for a in &reviews {
        latest.insert(a.household_id.as_str(), a);
    }
    let households = households_in(&state, &area_id, &within).await?;
    let areas = store.areas_under(&area_id).await?;
    let mut rows = Vec::new();
    for h in households.iter() {
        let own = steps.get(&h.id).map(Vec::as_slice).unwrap_or_default();
        let review = latest.get(h.id.as_str()).copied();
        // Listed this year, before or for the review.
        let listing = own
            .iter()
            .filter(|s| s.date.year() == year && review.is_none_or(|a| s.date <= a.date))
            .filter_map(|s| match s.data {
                StepData::Listed { reason } => Some((s.date, reason)),
                _ => None,
            })
            .next_back();
        if review.is_none() && listing.is_none() {
            continue;
        }
        let progress = review.map_or_else(Progress::default, |a| Progress::of(&a.id, own));
        let ad_hoc = review.is_some_and(|a| a.kind == ReviewKind::AdHoc)
            || listing.is_some_and(|(_, r)| r == ListReason::Applied);
        let deadline = listing
            .filter(|_| ad_hoc && progress.decision.is_none())
            .map(|(d, _)| d + Duration::days(AD_HOC_DAYS));
        rows.push(CampaignRow {
            household_id: h.id.clone(),
            code: h.code.clone(),
            head_name: h.head_name.clone(),
            village_id: h.village_id.clone(),
            official: h.status,
            listed: listing.map(|(_, r)| r),
            review_id: review.map(|a| a.id.clone()),
            kind: review.map(|a| a.kind),
            date: review.map(|a| a.date),
            rule_set_id: review.map(|a| a.explanation.rule_set_id.clone()),
            proposed: review.map(|a| a.classification),
            blocked: review.and_then(|_| progress.blocks_decision()),
            progress,
            deadline,
        });
    }
    rows.sort_by(|a, b| (&a.village_id, &a.code).cmp(&(&b.village_id, &b.code)));
    let name = |id: &str| {
        areas
            .iter()
            .find(|a| a.id == id)
            .map_or_else(|| id.to_string(), |a| a.name.clone())
    };
    let mut by_village: Vec<CampaignVillage> = villages
        .iter()
        .map(|v| CampaignVillage {
            village_id: v.clone(),
            name: name(v),
            ..Default::default()
        })
        .collect();
    by_village.sort_by(|a, b| a.name.cmp(&b.name));
    for r in &rows {
        let Some(v) = by_village.iter_mut().find(|v| v.village_id == r.village_id) else {
            continue;
        };
        v.listed += usize::from(r.listed.is_some());
        v.reviewed += usize::from(r.review_id.is_some());
        v.met += usize::from(r.progress.meeting.is_some());
        v.met_invalid += usize::from(r.progress.meeting.is_some_and(|m| !m.valid()));
        v.posted += usize::from(r.progress.posted_until.is_some());
        v.open_complaints += r.progress.unanswered.len();
        v.decided += usize::from(r.progress.decision.is_some());
    }
    let rs = review::rule_set_for(&state.rules, ReviewKind::Annual, from)
        .ok_or(AppError::NotFound("rule set"))?;
    Ok(Json(Campaign {
        year,
        from,
        to,
        rule_set_id: rs.id.clone(),
        rule_set_title: rs.title.clone(),
        provisional: rs.provisional.clone(),
        villages: by_village,
        rows,
    }))
}

/// Records one step for one or many households, each on its open review (the latest not
/// yet decided), each a change through the write core. Every household must be in the
/// user's area (or nothing is recorded); the answer says, per household, whether the step
/// was recorded and, when the review's rules refused it, why.
#[utoipa::path(post, path = "/reviews/steps", tag = "reviews", security(("bearer" = [])), request_body = StepRequest,
    responses((status = 200, body = Vec<StepOutcome>), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody, description = "No such household"), (status = 422, body = crate::error::ErrorBody)))]
async fn record_steps(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(req): AppJson<StepRequest>,
) -> AppResult<Json<Vec<StepOutcome>>> {
    let deciding = matches!(
        req.step,
        StepInput::Decision { .. } | StepInput::Correction { .. }
    );
    let correcting = matches!(req.step, StepInput::Correction { .. });
    // A household leaving the register is the commune's to record, like a decision (the
    // write core's gate then admits the commune office and its leader only).
    let leaving = matches!(req.step, StepInput::Left { .. });
    let action = if deciding || leaving {
        Action::DecideAssessments
    } else {
        Action::RecordAssessments
    };
    me.reach(action)?;
    let mut ids = req.household_ids.clone();
    ids.sort();
    ids.dedup();
    if ids.is_empty() || ids.len() != req.household_ids.len() || ids.len() > MAX_BULK {
        return Err(AppError::field(
            "household_ids",
            "count",
            Text::new(
                format!("Chọn từ 1 đến {MAX_BULK} hộ, mỗi hộ một lần."),
                format!("Choose 1 to {MAX_BULK} households, each once."),
            ),
        ));
    }
    let mut e = shared::ValidationErrors::default();
    e.in_calendar("date", req.date);
    e.into_result()?;
    if req.date > crate::today() {
        return Err(AppError::field(
            "date",
            "future_date",
            Text::new(
                "Ngày này chưa tới; không ghi trước được.",
                "This date is in the future; it cannot be recorded ahead.",
            ),
        ));
    }
    let store = state.store.as_ref();
    // Every household must be in the user's scope, or nothing is recorded.
    for id in &ids {
        me.household(store, action, id).await?;
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in &req.household_ids {
        let mut outcome = StepOutcome {
            household_id: id.clone(),
            step_id: None,
            refused: None,
        };
        let reviews = store.list_assessments(id).await?;
        let steps = store.list_review_steps(id).await?;
        // A correction is made on the review of the household's latest decision; any other
        // step on its open review (the latest not yet decided).
        let open = if correcting {
            latest_decided(&steps).and_then(|r| reviews.iter().find(|a| a.id == r))
        } else {
            reviews
                .iter()
                .rev()
                .find(|a| Progress::of(&a.id, &steps).decision.is_none())
        };
        let needs_review = !matches!(req.step, StepInput::Listed { .. } | StepInput::Left { .. });
        if needs_review && open.is_none() {
            outcome.refused = Some(if correcting {
                Text::new(
                    "Hộ chưa có quyết định nào để sửa.",
                    "The household has no decision to correct.",
                )
            } else {
                Text::new(
                    "Hộ chưa có lần rà soát nào đang chờ (cần chấm điểm trước).",
                    "The household has no review waiting (score it first).",
                )
            });
            out.push(outcome);
            continue;
        }
        let in_force = open.and_then(|a| Progress::of(&a.id, &steps).decision);
        let step_id = uuid::Uuid::now_v7().to_string();
        let review_id = open.filter(|_| needs_review).map(|a| a.id.clone());
        let classification = open.map(|a| a.classification);
        let audit = serde_json::json!({ "action": "create", "entity": "review_step", "entity_id": step_id, "changes": { "step": req.step, "review_id": review_id, "date": req.date } });
        let written = crate::write::edit_household(&state, &me, id, audit, |doc, author| {
            // A decision's change says so, for the household's history.
            let decided;
            let author = if deciding {
                decided = shared::doc::Author {
                    door: Some(shared::doc::Door::Decision),
                    ..author.clone()
                };
                &decided
            } else {
                author
            };
            let heads = doc.heads();
            let status = doc
                .field_at(&[Collection::Profile.as_str(), "status"], &heads)
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or(shared::household::HouseholdStatus::NotPoor);
            let step = ReviewStep {
                id: step_id.clone(),
                household_id: id.clone(),
                review_id: review_id.clone(),
                date: req.date,
                by: me.user.id.clone(),
                data: req
                    .step
                    .clone()
                    .into_data(status, classification, in_force.as_ref()),
            };
            doc.put_record(
                Collection::ReviewSteps,
                &step.id,
                &shared::projection::step_json(&step),
                author,
            )?;
            if let StepData::Decision { to, .. } = step.data {
                doc.set_field(
                    &[Collection::Profile.as_str(), "status"],
                    &serde_json::json!(to),
                    author,
                )?;
            }
            Ok(())
        })
        .await;
        match written {
            Ok(()) => outcome.step_id = Some(step_id),
            Err(AppError::Validation(e)) if !e.is_empty() => {
                outcome.refused = Some(Text::new(
                    e.0.iter()
                        .map(|f| f.message.vi.clone())
                        .collect::<Vec<_>>()
                        .join(" "),
                    e.0.iter()
                        .map(|f| f.message.en.clone())
                        .collect::<Vec<_>>()
                        .join(" "),
                ))
            }
            Err(e @ (AppError::Forbidden | AppError::OutOfScope | AppError::Conflict { .. })) => {
                outcome.refused = Some(e.body().message)
            }
            Err(e) => return Err(e),
        }
        out.push(outcome);
    }
    Ok(Json(out))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrackingQuery {
    /// A commune or village; the user's own area when absent.
    pub area_id: Option<String>,
    /// `in_window`, `fell_back`, `rotating` or `left_near_poor`; all flagged households
    /// when absent.
    pub flag: Option<String>,
}

/// The review of a household's latest decision (by date, then step): the one a correcting
/// decision sets right.
fn latest_decided(steps: &[ReviewStep]) -> Option<String> {
    steps
        .iter()
        .filter(|s| matches!(s.data, StepData::Decision { .. }))
        .max_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)))
        .and_then(|s| s.review_id.clone())
}

/// The trajectory of every household with a decision, by household id.
pub(crate) fn trajectories(steps: &[ReviewStep]) -> BTreeMap<String, Trajectory> {
    StatusChange::by_household(steps)
        .into_iter()
        .map(|(id, changes)| (id, Trajectory::of(&changes)))
        .collect()
}

/// Households flagged after the commune's decisions: newly escaped within their 36-month
/// window (with the policies still owed), fallen back into poverty, in and out of the
/// lists repeatedly, near-poor households that left the list.
#[utoipa::path(get, path = "/reviews/tracking", tag = "reviews", security(("bearer" = [])), params(TrackingQuery),
    responses((status = 200, body = Vec<TrackedRow>), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn tracking(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<TrackingQuery>,
) -> AppResult<Json<Vec<TrackedRow>>> {
    let _turn = state.heavy.enter(&me)?;
    let flag = match q.flag.as_deref() {
        None => None,
        Some(f) => Some(Flag::parse(f).ok_or_else(|| {
            AppError::field(
                "flag",
                "unknown",
                Text::new("Không có dấu hiệu này.", "No such flag."),
            )
        })?),
    };
    let (area_id, within) = within_of(&state, &me, q.area_id.as_deref()).await?;
    let steps = state
        .store
        .review_steps_in(&within, Some("decision"), None)
        .await?;
    let paths = trajectories(&steps);
    let today = crate::today();
    let households = households_in(&state, &area_id, &within).await?;
    let mut rows = Vec::new();
    for h in households.iter() {
        let Some(t) = paths.get(&h.id) else { continue };
        let flagged = match flag {
            Some(f) => f.holds(t, today),
            None => Flag::ALL.iter().any(|f| f.holds(t, today)),
        };
        if !flagged {
            continue;
        }
        rows.push(TrackedRow {
            household_id: h.id.clone(),
            code: h.code.clone(),
            head_name: h.head_name.clone(),
            village_id: h.village_id.clone(),
            status: h.status,
            owed: if t.in_window(today) {
                review::policies_owed()
            } else {
                vec![]
            },
            trajectory: t.clone(),
        });
    }
    rows.sort_by(|a, b| (&a.village_id, &a.code).cmp(&(&b.village_id, &b.code)));
    Ok(Json(rows))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WhatIfQuery {
    /// A commune or village; the user's own area when absent.
    pub area_id: Option<String>,
    /// The rule set to classify with, e.g. `vn-2027-2030`.
    pub rule_set_id: String,
}

/// Classifies every household of an area with a review under another rule set (its
/// latest review's evidence), and lists who would change class, with the reasons.
#[utoipa::path(get, path = "/reviews/what-if", tag = "reviews", security(("bearer" = [])), params(WhatIfQuery),
    responses((status = 200, body = WhatIf), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn what_if(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<WhatIfQuery>,
) -> AppResult<Json<WhatIf>> {
    let _turn = state.heavy.enter(&me)?;
    let rs = state.rules.get(&q.rule_set_id).ok_or_else(|| {
        AppError::field(
            "rule_set_id",
            "unknown",
            Text::new("Không có bộ chuẩn này.", "No such rule set."),
        )
    })?;
    let (area_id, within) = within_of(&state, &me, q.area_id.as_deref()).await?;
    let reviews = state
        .store
        .assessments_in(
            &within,
            NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid"),
            NaiveDate::from_ymd_opt(9999, 12, 31).expect("valid"),
        )
        .await?;
    let mut latest: BTreeMap<&str, &Assessment> = BTreeMap::new();
    for a in &reviews {
        latest.insert(a.household_id.as_str(), a);
    }
    let households = households_in(&state, &area_id, &within).await?;
    let mut changed = Vec::new();
    let mut classified = 0;
    for h in households.iter() {
        let Some(a) = latest.get(h.id.as_str()) else {
            continue;
        };
        let Ok(o) = shared::rules::classify(rs, &a.evidence) else {
            continue;
        };
        classified += 1;
        if o.classification != a.classification {
            changed.push(WhatIfRow {
                household_id: h.id.clone(),
                code: h.code.clone(),
                head_name: h.head_name.clone(),
                village_id: h.village_id.clone(),
                review_date: a.date,
                now: a.classification,
                would_be: o.classification,
                reasons: o.explanation.reasons,
            });
        }
    }
    changed.sort_by(|a, b| (&a.village_id, &a.code).cmp(&(&b.village_id, &b.code)));
    Ok(Json(WhatIf {
        rule_set_id: rs.id.clone(),
        title: rs.title.clone(),
        provisional: rs.provisional.clone(),
        classified,
        changed,
    }))
}
