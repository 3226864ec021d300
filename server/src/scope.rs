//! What a device may sync: the households it holds, those it may still push to, and the
//! villages where it may register households — computed from assignments and areas, and
//! kept per user for a few seconds, since a phone syncing in a burst would otherwise ask
//! the database the same question on every request. A change of assignments or
//! households made through this process is seen at once; one made through another
//! process sharing the database, after at most `FRESH`.

use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::store::{AssignmentFilter, HouseholdFilter, Store, Within};
use shared::core::Scope;
use shared::permissions::{Action, Reach};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a computed scope is used.
const FRESH: Duration = Duration::from_secs(2);
/// Days after an assignment ends during which the cadre's unsent changes are still taken in.
const GRACE_DAYS: i64 = 30;

#[derive(Default)]
struct Kept {
    generation: u64,
    by_user: HashMap<(String, String), (Instant, u64, Scope)>,
}

/// The scopes of recently syncing users.
#[derive(Default)]
pub struct Scopes {
    kept: Mutex<Kept>,
}

impl std::fmt::Debug for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scopes").finish_non_exhaustive()
    }
}

impl Scopes {
    /// Assignments or households changed: every scope is computed again.
    pub fn changed(&self) {
        let mut k = self.kept.lock().expect("not poisoned");
        k.generation += 1;
        k.by_user.clear();
    }

    /// `me`'s scope, computed at most `FRESH` ago.
    pub async fn of(&self, store: &dyn Store, me: &CurrentUser) -> AppResult<Scope> {
        // The role and area are part of the key: a user moved elsewhere is asked again.
        let key = (
            me.user.id.clone(),
            format!("{:?}/{}", me.user.role, me.user.area_id),
        );
        let generation = {
            let k = self.kept.lock().expect("not poisoned");
            if let Some((at, g, scope)) = k.by_user.get(&key)
                && *g == k.generation
                && at.elapsed() < FRESH
            {
                return Ok(scope.clone());
            }
            k.generation
        };
        let scope = compute(store, me).await?;
        let mut k = self.kept.lock().expect("not poisoned");
        // A scope computed while assignments changed is not kept.
        if k.generation == generation {
            k.by_user.retain(|_, (at, _, _)| at.elapsed() < FRESH);
            k.by_user
                .insert(key, (Instant::now(), generation, scope.clone()));
        }
        Ok(scope)
    }
}

async fn compute(store: &dyn Store, me: &CurrentUser) -> AppResult<Scope> {
    if me.reach(Action::ReadHouseholds)? == Reach::Assigned {
        // One query: the cadre's assignments, running today (read) or ended within the
        // grace days (push).
        let today = crate::today();
        let since = today - chrono::Duration::days(GRACE_DAYS);
        let mut read = BTreeSet::new();
        let mut push = BTreeSet::new();
        for a in store
            .list_assignments(&AssignmentFilter {
                cadre_id: Some(me.user.id.clone()),
                ..Default::default()
            })
            .await?
        {
            if a.active_on(today) {
                read.insert(a.household_id.clone());
                push.insert(a.household_id);
            } else if a.from_date <= today && a.to_date.is_some_and(|t| t >= since) {
                push.insert(a.household_id);
            }
        }
        return Ok(Scope {
            read,
            push,
            villages: None,
        });
    }
    let (villages, _) = me.household_scope(store, Action::ReadHouseholds).await?;
    let read: BTreeSet<String> = store
        .list_households(&HouseholdFilter {
            within: Within::villages(villages.clone()),
            limit: i64::MAX / 2,
            ..Default::default()
        })
        .await?
        .into_iter()
        .map(|h| h.id)
        .collect();
    Ok(Scope {
        push: read.clone(),
        read,
        villages: villages.map(|v| v.into_iter().collect()),
    })
}
