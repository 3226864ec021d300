//! Keeps the provinces' report parts counted between requests. A province's report sums its
//! communes' kept parts (`api::report_parts`); a part goes stale when a household document
//! of its commune is written or the reports' epoch moves (areas, a household moved to
//! another village, an import), and counting a commune reads its 8,000 households.
//! Counted only when asked, the first province report of a period — or the first after
//! the epoch moved — waits for every commune of the province (seconds at 100 communes). So
//! `donghanh serve` runs this task: every `every`, it counts again the stale parts of the
//! periods officers ask for now (this year's two and last year's annual), one commune at a
//! time so that requests keep the other core, a commune's households read once for the
//! periods it is stale in. A province's report then finds its parts current but for the
//! communes written since the last pass, and counts those itself, as before.
//!
//! Several server processes on one database run the task, but one at a time passes: the
//! process holding the keeper's lease (migration 0022), renewed before each province and
//! longer than two ticks, so its holder keeps it from pass to pass and another process
//! takes over only once a holder has stopped. Without it each process counted the same
//! stale communes in its own pass.

use crate::api::report_parts;
use crate::error::AppResult;
use crate::store::DynStore;
use chrono::{Datelike, NaiveDate};
use shared::area::AreaKind;
use shared::report::Period;
use std::time::Duration;

/// The periods whose parts are kept on `today`: this year's half-year and annual reports
/// (asked for through the year) and last year's annual (asked for after it closes).
pub fn periods(today: NaiveDate) -> [(i32, Period); 3] {
    let year = today.year();
    [
        (year, Period::HalfYear),
        (year, Period::Annual),
        (year - 1, Period::Annual),
    ]
}

/// One pass: the stale parts of every province's communes for `periods(today)` counted and
/// kept, one commune at a time.
pub async fn pass(store: &dyn crate::Store, today: NaiveDate) -> AppResult<()> {
    pass_with(store, today, None).await.map(|_| ())
}

/// `pass`, holding the keeper's lease as `holder` for `lease` at a time: taken first and
/// renewed before each province. Whether the pass ran (not when another process holds the
/// lease; a pass that loses it stops at the next province).
pub async fn pass_holding(
    store: &dyn crate::Store,
    today: NaiveDate,
    holder: &str,
    lease: Duration,
) -> AppResult<bool> {
    pass_with(store, today, Some((holder, lease))).await
}

async fn pass_with(
    store: &dyn crate::Store,
    today: NaiveDate,
    lease: Option<(&str, Duration)>,
) -> AppResult<bool> {
    let held = || async {
        let Some((holder, lease)) = lease else {
            return AppResult::Ok(true);
        };
        let now = chrono::Utc::now().timestamp_millis();
        let until = now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        Ok(store.take_keeper_lease(holder, now, until).await?)
    };
    if !held().await? {
        return Ok(false);
    }
    let areas = store.list_areas().await?;
    for (i, province) in areas
        .iter()
        .filter(|a| a.kind == AreaKind::Province)
        .enumerate()
    {
        if i > 0 && !held().await? {
            return Ok(false);
        }
        let communes: Vec<String> = areas
            .iter()
            .filter(|a| {
                a.kind == AreaKind::Commune && a.parent_id.as_deref() == Some(province.id.as_str())
            })
            .map(|a| a.id.clone())
            .collect();
        report_parts::current(store, &areas, &communes, &periods(today), 1).await?;
    }
    Ok(true)
}

/// Runs `pass_holding` every `every` until the runtime stops, the first a few seconds
/// after the start (at a random moment, so that processes started together ask apart). A
/// failed pass is logged and the next one tries again.
pub fn spawn(store: DynStore, every: Duration) -> tokio::task::JoinHandle<()> {
    // This process's name on the lease; the lease outlives a tick, so its holder keeps it
    // from pass to pass, and lapses a minute after two ticks missed.
    let holder = format!("{:016x}", rand::random::<u64>());
    let lease = every.saturating_mul(2) + Duration::from_secs(60);
    tokio::spawn(async move {
        let first = every
            .min(Duration::from_secs(10))
            .mul_f64(rand::random::<f64>());
        tokio::time::sleep(first.max(Duration::from_secs(1))).await;
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let started = std::time::Instant::now();
            match pass_holding(store.as_ref(), crate::today(), &holder, lease).await {
                Ok(true) => tracing::debug!(took = ?started.elapsed(), "report parts kept"),
                Ok(false) => tracing::debug!("another process keeps the report parts"),
                Err(e) => tracing::warn!(error = %e, "keeping the report parts failed"),
            }
        }
    })
}
