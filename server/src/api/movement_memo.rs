//! The dashboard's movement figures (the households the last campaign's decisions moved),
//! kept per area between requests. They are counted from the area's whole ledger — every
//! movement of every household since it entered the register, a commune's 8,000
//! households' worth, two fifths of a dashboard's server time when counted each time —
//! and the ledger changes only with a write of household documents (the documents'
//! counter) or with what moves the reports' epoch (areas, users, an import, the ledger
//! filled at start): the two clocks of `report_clock`. A figure counted as of a clock is
//! given again while both clocks stand; any write moves one, and the next request counts
//! again.

use crate::AppState;
use crate::store::{StoreResult, Within};
use chrono::NaiveDate;
use shared::dashboard::MovementSince;
use std::num::NonZeroUsize;
use std::sync::Mutex;

/// Areas whose figures are kept (a province's communes and some of their villages).
const AREAS: usize = 512;

type Key = (String, NaiveDate);
type Kept = ((i64, i64), Option<MovementSince>);

/// The kept figures, by area and day, with the clocks they were counted at.
pub struct MovementMemo(Mutex<lru::LruCache<Key, Kept>>);

impl Default for MovementMemo {
    fn default() -> Self {
        Self(Mutex::new(lru::LruCache::new(
            NonZeroUsize::new(AREAS).expect("not zero"),
        )))
    }
}

impl MovementMemo {
    fn kept(&self) -> std::sync::MutexGuard<'_, lru::LruCache<Key, Kept>> {
        // A panic while holding it leaves only whole entries behind.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The movement figures of the households `within`, as of `today`.
pub(crate) async fn movement_since(
    state: &AppState,
    within: &Within,
    today: NaiveDate,
) -> StoreResult<Option<MovementSince>> {
    let key = (format!("{within:?}"), today);
    // The clocks first: the ledger read after them holds at least their state, so a write
    // between the two is counted again by the next request, never missed.
    let clock = state.store.report_clock().await?;
    if let Some((at, figures)) = state.movements.kept().get(&key)
        && *at == clock
    {
        return Ok(figures.clone());
    }
    let ledger = state.store.movements_in(within).await?;
    let figures = MovementSince::of(&ledger, today);
    state.movements.kept().put(key, (clock, figures.clone()));
    Ok(figures)
}
