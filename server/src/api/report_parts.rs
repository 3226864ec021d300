//! A province's report from its communes' kept report parts: each commune's figures for a
//! period (its total row, causes, support and visits) are kept in the database with the
//! state they were counted from (migration 0013), and a province's report sums them. Only
//! the communes whose households' documents were written since their part was counted —
//! or all of them, after a change of areas — are counted again from the register. A
//! part's target is the commune's own, read again at each sum (migration 0020), and its
//! visits are kept by cadre id and named when the report is given (migration 0021): a
//! target set or a user added, removed or renamed moves no epoch. A province's report
//! then reads a hundred small parts instead of every household of the province; a
//! national roll-up is a sum of such parts.

use super::reports::commune_figures;
use crate::error::AppResult;
use crate::store::ReportPart;
use futures_util::StreamExt;
use shared::area::{Area, AreaKind};
use shared::report::{Period, Report};
use std::collections::HashMap;

/// Parts kept in one transaction.
const KEPT_AT_ONCE: usize = 24;

fn period_key(period: Period) -> &'static str {
    match period {
        Period::HalfYear => "half_year",
        Period::Annual => "annual",
    }
}

/// The reports of `communes` (in their order) without rows or household lines, for each of
/// `periods` (in their order): the kept part of each commune that is still current,
/// counted again for the others (and kept), `at_once` communes at a time. A commune stale
/// in several of the periods has its households read once for them.
pub(crate) async fn current(
    store: &dyn crate::Store,
    areas: &[Area],
    communes: &[String],
    periods: &[(i32, Period)],
    at_once: usize,
) -> AppResult<Vec<Vec<Report>>> {
    // The clock first: a part counted from the register after this reading holds at least
    // this state, so it is kept as of it (a write between the two is counted again later).
    let (seq, epoch) = store.report_clock().await?;
    let mut kept: Vec<HashMap<String, (i64, Report)>> = Vec::with_capacity(periods.len());
    for &(year, period) in periods {
        let mut of_period = HashMap::new();
        for p in store
            .report_parts(communes, year, period_key(period))
            .await?
        {
            // A part of an older epoch, or one that no longer reads, is counted again.
            if p.epoch == epoch
                && let Ok(report) = serde_json::from_str::<Report>(&p.part)
            {
                of_period.insert(p.area_id, (p.built_seq, report));
            }
        }
        kept.push(of_period);
    }
    // The communes written after the oldest kept part: each village's last write, by commune.
    let oldest = kept.iter().flat_map(|k| k.values().map(|(s, _)| *s)).min();
    if let Some(oldest) = oldest {
        let commune_of: HashMap<&str, &str> = areas
            .iter()
            .filter(|a| a.kind == AreaKind::Village)
            .filter_map(|a| Some((a.id.as_str(), a.parent_id.as_deref()?)))
            .collect();
        let mut written: HashMap<&str, i64> = HashMap::new();
        let villages = store.villages_written_since(oldest).await?;
        for (village, last) in &villages {
            if let Some(&commune) = commune_of.get(village.as_str()) {
                let e = written.entry(commune).or_default();
                *e = (*e).max(*last);
            }
        }
        for (of_period, &(year, period)) in kept.iter_mut().zip(periods) {
            of_period
                .retain(|id, (built, _)| written.get(id.as_str()).is_none_or(|last| last <= built));
            // Every write up to `seq` was committed when the clock was read and none
            // touched these communes after their stamp: they hold as of `seq`. Stamped
            // so, the next report's check starts here, not at a part counted long ago.
            let confirmed: Vec<String> = of_period
                .iter()
                .filter(|(_, (built, _))| *built < seq)
                .map(|(id, _)| id.clone())
                .collect();
            if !confirmed.is_empty() {
                store
                    .confirm_report_parts(&confirmed, year, period_key(period), epoch, seq)
                    .await?;
            }
        }
    }
    // Each commune stale in any period, with the periods it is stale in.
    let stale: Vec<(String, Vec<usize>)> = communes
        .iter()
        .map(|c| {
            let of: Vec<usize> = (0..periods.len())
                .filter(|&i| !kept[i].contains_key(c))
                .collect();
            (c.clone(), of)
        })
        .filter(|(_, of)| !of.is_empty())
        .collect();
    if !stale.is_empty() {
        let mut counted = futures_util::stream::iter(stale)
            .map(|(commune, of)| async move {
                let asked: Vec<(i32, Period)> = of.iter().map(|&i| periods[i]).collect();
                let reports = commune_figures(store, areas, &commune, &asked).await?;
                AppResult::Ok(of.into_iter().zip(reports))
            })
            .buffered(at_once.max(1));
        // Kept a batch at a time, in one transaction: a commit for each part held up the
        // counting of the next communes, and on SQLite took the write turn each time.
        let mut unkept = Vec::new();
        let mut done = false;
        while !done {
            match counted.next().await {
                Some(reports) => {
                    for (i, mut report) in reports? {
                        let (year, period) = periods[i];
                        report.rows.clear();
                        report.households.clear();
                        let part = ReportPart {
                            area_id: report.area_id.clone(),
                            built_seq: seq,
                            epoch,
                            part: serde_json::to_string(&report)
                                .map_err(|e| crate::error::AppError::Internal(e.to_string()))?,
                        };
                        unkept.push((year, period_key(period), part));
                        kept[i].insert(report.area_id.clone(), (seq, report));
                    }
                }
                None => done = true,
            }
            if unkept.len() >= KEPT_AT_ONCE || (done && !unkept.is_empty()) {
                store.put_report_parts(&unkept).await?;
                metrics::counter!(crate::metrics::REPORT_PARTS_COUNTED)
                    .increment(unkept.len() as u64);
                unkept.clear();
            }
        }
    }
    // Each commune's target of the period's year as it is now, not as it was when counted.
    let targets = store.list_targets(communes).await?;
    Ok(kept
        .into_iter()
        .zip(periods)
        .map(|(mut of_period, &(year, _))| {
            communes
                .iter()
                .filter_map(|id| of_period.remove(id).map(|(_, r)| r))
                .map(|mut r| {
                    let t = targets
                        .iter()
                        .find(|t| t.area_id == r.area_id && t.year == year);
                    r.total.target_poor_pct = t.map(|t| t.data.poor_rate_pct);
                    r.total.target_near_poor_pct = t.map(|t| t.data.near_poor_rate_pct);
                    r
                })
                .collect()
        })
        .collect())
}
