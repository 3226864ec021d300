//! What the commune's screens count from an area's households, kept between requests
//! while none of them changes: the households themselves (the dashboard, the
//! accompaniment list, the cadres' loads, the campaign, the what-if and the trajectories
//! each read a commune's 8,000 — half a dashboard's server CPU when read each time) and
//! the dashboard's movement figures (counted from the area's whole ledger).
//!
//! A kept value is current by the clocks the province report trusts (`report_clock`):
//! the documents' counter and the reports' epoch. Every change of a household's rows and
//! movements comes with a write of its document (a new sequence number, found by
//! `villages_written_since` in the household's village as it now is); a household moved
//! out of a village, a change of areas, a rebuilt read model, an import or the ledger
//! filled at start moves the epoch (targets and users are not counted here). So a value
//! is given again while the epoch stands and no document of the area's villages was
//! written after it was read; a write elsewhere in the province leaves it kept.

use crate::AppState;
use crate::store::{HouseholdBrief, HouseholdFilter, StoreResult, Within};
use chrono::NaiveDate;
use shared::dashboard::MovementSince;
use std::collections::HashSet;
use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

/// Household lists kept: about 2 MB each for a commune of 8,000 households (estimated
/// from the briefs' fields).
pub const LISTS: usize = 32;
/// Movement figures kept (a few hundred bytes each): a province's communes and some of
/// their villages.
pub const FIGURES: usize = 512;

/// The longest household list kept (a few communes' worth). A province's or the whole
/// register's list, which an administrator may open, is read for its request and not
/// kept: 32 of them would hold hundreds of megabytes.
const MAX_KEPT: usize = 20_000;

#[derive(Clone)]
struct Kept<V> {
    /// The clocks when the value was last known current.
    seq: i64,
    epoch: i64,
    value: V,
}

/// Values kept by key (an area, and what else the value depends on).
pub struct AreaMemo<V>(Mutex<lru::LruCache<String, Kept<V>>>);

impl<V: Clone> AreaMemo<V> {
    pub fn new(entries: usize) -> Self {
        Self(Mutex::new(lru::LruCache::new(
            NonZeroUsize::new(entries.max(1)).expect("not zero"),
        )))
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, lru::LruCache<String, Kept<V>>> {
        // A panic while holding it leaves only whole entries behind.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value of `key`, counted from the households of `villages` (every village the
    /// area holds; `None`: anywhere): the kept one while it is current, otherwise
    /// `read` (and kept when `worth_keeping`).
    async fn get_or_read<Fut>(
        &self,
        state: &AppState,
        key: String,
        villages: Option<&[String]>,
        read: impl FnOnce() -> Fut,
        worth_keeping: impl FnOnce(&V) -> bool,
    ) -> StoreResult<V>
    where
        Fut: Future<Output = StoreResult<V>>,
    {
        let store = state.store.as_ref();
        // The clocks first: a value read after them holds at least their state, so a
        // write between the two is found by the next request's check, never missed.
        let (seq, epoch) = store.report_clock().await?;
        let kept = self.kept().get(&key).cloned();
        if let Some(k) = kept.filter(|k| k.epoch == epoch) {
            if k.seq == seq {
                return Ok(k.value);
            }
            let written = store.villages_written_since(k.seq).await?;
            let touched = match villages {
                None => !written.is_empty(),
                Some(vs) => {
                    let vs: HashSet<&str> = vs.iter().map(String::as_str).collect();
                    written.iter().any(|(v, _)| vs.contains(v.as_str()))
                }
            };
            if !touched {
                // Current as of `seq`: the next check starts there.
                self.kept().put(key, Kept { seq, ..k.clone() });
                return Ok(k.value);
            }
        }
        let value = read().await?;
        if worth_keeping(&value) {
            self.kept().put(
                key,
                Kept {
                    seq,
                    epoch,
                    value: value.clone(),
                },
            );
        }
        Ok(value)
    }
}

/// The households in the register `within` an area whose villages are `villages`, as
/// `list_briefs` gives them.
pub(crate) async fn area_briefs(
    state: &AppState,
    within: &Within,
    villages: Option<&[String]>,
) -> StoreResult<Arc<Vec<HouseholdBrief>>> {
    let read = || async {
        let filter = HouseholdFilter {
            within: within.clone(),
            in_register_only: true,
            limit: i64::MAX / 2,
            ..Default::default()
        };
        Ok(Arc::new(state.store.list_briefs(&filter).await?))
    };
    state
        .briefs
        .get_or_read(state, format!("{within:?}"), villages, read, |b| {
            b.len() <= MAX_KEPT
        })
        .await
}

/// The movement figures of the households `within` an area whose villages are
/// `villages`, as of `today`.
pub(crate) async fn movement_since(
    state: &AppState,
    within: &Within,
    villages: Option<&[String]>,
    today: NaiveDate,
) -> StoreResult<Option<MovementSince>> {
    let read = || async {
        let ledger = state.store.movements_in(within).await?;
        Ok(MovementSince::of(&ledger, today))
    };
    state
        .movements
        .get_or_read(state, format!("{within:?} {today}"), villages, read, |_| {
            true
        })
        .await
}
