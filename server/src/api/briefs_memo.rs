//! An area's households as the commune's screens count them (the dashboard, the
//! accompaniment list, the cadres' loads), kept between requests while none of them
//! changes. Reading and decoding a commune's 8,000 households was two thirds of a
//! dashboard's server time, though most dashboards are opened again with nothing written
//! in the commune since.
//!
//! A kept list is current by the clocks the province report trusts (`report_clock`): the
//! documents' counter and the reports' epoch. Every change of a household's row comes with
//! a write of its document (a new sequence number, found by `villages_written_since` in
//! the household's village as it now is); a household moved out of a village, a rebuilt
//! read model or an import moves the epoch. So a list is given again while the epoch
//! stands and no document of its villages was written after it was read; a write
//! elsewhere in the province leaves it kept.

use crate::AppState;
use crate::store::{HouseholdBrief, HouseholdFilter, StoreResult, Within};
use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

/// Areas whose lists are kept: about 2 MB each for a commune of 8,000 households.
const AREAS: usize = 32;

/// The longest list kept (a few communes' worth). A province's or the whole register's
/// list, which an administrator may open, is read for its request and not kept: 32 of
/// them would hold hundreds of megabytes.
const MAX_KEPT: usize = 20_000;

#[derive(Clone)]
struct Kept {
    /// The clocks when the list was last known current.
    seq: i64,
    epoch: i64,
    briefs: Arc<Vec<HouseholdBrief>>,
}

/// The kept lists, by the households' area (`Within`).
pub struct BriefsMemo(Mutex<lru::LruCache<String, Kept>>);

impl Default for BriefsMemo {
    fn default() -> Self {
        Self(Mutex::new(lru::LruCache::new(
            NonZeroUsize::new(AREAS).expect("not zero"),
        )))
    }
}

impl BriefsMemo {
    fn kept(&self) -> std::sync::MutexGuard<'_, lru::LruCache<String, Kept>> {
        // A panic while holding it leaves only whole entries behind.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The households in the register `within` an area whose villages are `villages` (every
/// village the area holds; `None`: anywhere), as `list_briefs` gives them.
pub(crate) async fn area_briefs(
    state: &AppState,
    within: &Within,
    villages: Option<&[String]>,
) -> StoreResult<Arc<Vec<HouseholdBrief>>> {
    let store = state.store.as_ref();
    let key = format!("{within:?}");
    // The clocks first: the list read after them holds at least their state, so a write
    // between the two is found by the next request's check, never missed.
    let (seq, epoch) = store.report_clock().await?;
    let kept = state.briefs.kept().get(&key).cloned();
    if let Some(k) = kept.filter(|k| k.epoch == epoch) {
        if k.seq == seq {
            return Ok(k.briefs);
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
            state.briefs.kept().put(key, Kept { seq, ..k.clone() });
            return Ok(k.briefs);
        }
    }
    let briefs = Arc::new(
        store
            .list_briefs(&HouseholdFilter {
                within: within.clone(),
                in_register_only: true,
                limit: i64::MAX / 2,
                ..Default::default()
            })
            .await?,
    );
    if briefs.len() <= MAX_KEPT {
        state.briefs.kept().put(
            key,
            Kept {
                seq,
                epoch,
                briefs: briefs.clone(),
            },
        );
    }
    Ok(briefs)
}
