//! A province's report from its communes' kept report parts: each commune's figures for a
//! period (its total row, causes, support and visits) are kept in the database with the
//! state they were counted from (migration 0013), and a province's report sums them. Only
//! the communes whose households' documents were written since their part was counted —
//! or all of them, after a change of areas, users or targets — are counted again from the
//! register. A province's report then reads a hundred small parts instead of every
//! household of the province; a national roll-up is a sum of such parts.

use super::reports::{Counting, cadre_names, commune_reports};
use crate::error::AppResult;
use crate::store::ReportPart;
use futures_util::StreamExt;
use shared::area::{Area, AreaKind};
use shared::report::{Period, Report};
use std::collections::HashMap;

fn period_key(period: Period) -> &'static str {
    match period {
        Period::HalfYear => "half_year",
        Period::Annual => "annual",
    }
}

/// The reports of `communes` (in their order) without rows or household lines: the kept
/// part of each commune that is still current, counted again for the others (and kept),
/// `at_once` communes at a time.
pub(crate) async fn current(
    store: &dyn crate::Store,
    areas: &[Area],
    communes: &[String],
    year: i32,
    period: Period,
    at_once: usize,
) -> AppResult<Vec<Report>> {
    let key = period_key(period);
    // The clock first: a part counted from the register after this reading holds at least
    // this state, so it is kept as of it (a write between the two is counted again later).
    let (seq, epoch) = store.report_clock().await?;
    let mut kept: HashMap<String, (i64, Report)> = HashMap::new();
    for p in store.report_parts(communes, year, key).await? {
        // A part of an older epoch, or one that no longer reads, is counted again.
        if p.epoch == epoch
            && let Ok(report) = serde_json::from_str::<Report>(&p.part)
        {
            kept.insert(p.area_id, (p.built_seq, report));
        }
    }
    // The communes written after the oldest kept part: each village's last write, by commune.
    if let Some(oldest) = kept.values().map(|(s, _)| *s).min() {
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
        kept.retain(|id, (built, _)| written.get(id.as_str()).is_none_or(|last| last <= built));
        // Every write up to `seq` was committed when the clock was read and none touched
        // these communes after their stamp: they hold as of `seq`. Stamped so, the next
        // report's check starts here, not at a part counted long ago.
        let confirmed: Vec<String> = kept
            .iter()
            .filter(|(_, (built, _))| *built < seq)
            .map(|(id, _)| id.clone())
            .collect();
        if !confirmed.is_empty() {
            store
                .confirm_report_parts(&confirmed, year, key, epoch, seq)
                .await?;
        }
    }
    let stale: Vec<String> = communes
        .iter()
        .filter(|c| !kept.contains_key(*c))
        .cloned()
        .collect();
    if !stale.is_empty() {
        let users = cadre_names(store).await?;
        let mut counted = commune_reports(
            store,
            areas,
            &users,
            stale,
            year,
            period,
            Counting {
                lines: false,
                at_once,
            },
        );
        while let Some(report) = counted.next().await {
            let mut report = report?;
            report.rows.clear();
            report.households.clear();
            let part = ReportPart {
                area_id: report.area_id.clone(),
                built_seq: seq,
                epoch,
                part: serde_json::to_string(&report)
                    .map_err(|e| crate::error::AppError::Internal(e.to_string()))?,
            };
            store.put_report_part(year, key, &part).await?;
            metrics::counter!(crate::metrics::REPORT_PARTS_COUNTED).increment(1);
            kept.insert(part.area_id, (seq, report));
        }
    }
    Ok(communes
        .iter()
        .filter_map(|id| kept.remove(id).map(|(_, r)| r))
        .collect())
}
