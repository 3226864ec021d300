//! The household documents' persistence, one concern apart from the register: each
//! document's snapshot and change log, its sequence numbers and heads for sync, and — in
//! the same transaction as every accepted write — the read model's rows, the open
//! conflicts, the automerge actors bound to devices and the audit event. Only the write
//! core (`crate::write`, over `shared::core::hub`) commits here.
//!
//! SQLite runs on its own connections through rusqlite (`sqlite.rs`): a group commit is
//! about a dozen statements per write, and sqlx's SQLite driver hands every statement to a
//! worker thread and back, which cost more than the statements. Here a whole group runs
//! on one thread in one hop. PostgreSQL keeps sqlx (`postgres.rs`), whose statements are
//! network round trips anyway.

mod postgres;
mod sqlite;

pub use postgres::PgDocs;
pub use sqlite::SqliteDocs;

use super::{Actor, DocWrite, StoreResult, StoredDoc};
use async_trait::async_trait;

/// Documents among some ids written after a cursor, with the sequence number the
/// database had reached before they were read.
#[derive(Debug, Clone, Default)]
pub struct Changed {
    /// Every write numbered up to this one is visible in `docs`.
    pub seq: i64,
    /// (document id, its sequence number), oldest first.
    pub docs: Vec<(String, i64)>,
}

/// Told the results of a group commit the moment it is durable.
pub type Published = Box<dyn FnOnce(&[StoreResult<i64>]) + Send>;

#[async_trait]
pub trait Docs: Send + Sync + 'static {
    async fn load_doc(&self, id: &str) -> StoreResult<Option<StoredDoc>>;
    /// The stored documents among `ids` (a sync page's, so a few hundred at most), each
    /// read as `load_doc` reads one, in one statement; a missing id is left out.
    async fn load_docs(&self, ids: &[String]) -> StoreResult<Vec<(String, StoredDoc)>>;
    /// Commits one document write; `Stale` when `expected_seq` is. Returns the new
    /// sequence number.
    async fn commit_doc(&self, actor: &Actor, w: &DocWrite) -> StoreResult<i64> {
        let mut results = self.commit_docs(vec![(actor.clone(), w.clone())]).await?;
        results.pop().unwrap_or(Err(super::StoreError::NotFound))
    }
    /// Commits several document writes in one transaction (group commit): the result of
    /// each, in order; one that fails leaves the others.
    async fn commit_docs(
        &self,
        writes: Vec<(Actor, DocWrite)>,
    ) -> StoreResult<Vec<StoreResult<i64>>> {
        self.commit_docs_then(writes, Box::new(|_| {})).await
    }
    /// `commit_docs`, calling `published` with the results as soon as the transaction is
    /// committed, before anything else runs on the committing thread — so what a process
    /// keeps of the written documents is up to date before its other requests can be
    /// answered from it.
    async fn commit_docs_then(
        &self,
        writes: Vec<(Actor, DocWrite)>,
        published: Published,
    ) -> StoreResult<Vec<StoreResult<i64>>>;
    /// A document's current sequence number, if it exists (to reuse a decoded copy).
    async fn doc_seq(&self, id: &str) -> StoreResult<Option<i64>>;
    /// Documents among `ids` written after `cursor`, oldest first, at most `limit`.
    async fn docs_since(&self, cursor: i64, ids: &[String], limit: i64) -> StoreResult<Changed>;
    /// Every document written after `after`, oldest first, with the sequence number the
    /// database had reached before they were read.
    async fn written_after(&self, after: i64) -> StoreResult<Changed>;
    /// Of `doc_ids`, the heads each had at sequence `seq`; a document that did not exist
    /// then is not in the answer.
    async fn heads_at(
        &self,
        doc_ids: &[String],
        seq: i64,
    ) -> StoreResult<Vec<(String, Vec<String>)>>;
    async fn current_seq(&self) -> StoreResult<i64>;
    /// How many documents, and the bytes of their snapshots and change logs.
    async fn doc_storage(&self) -> StoreResult<(i64, i64)>;
    /// Overwrites a household's read-model rows with these records (rebuilding from
    /// documents).
    async fn put_records(&self, r: &shared::projection::Records) -> StoreResult<()>;
}

// The read model's statements both databases run alike, in PostgreSQL's `$n` form
// (SQLite runs them through `numbered`).

const UPSERT_HOUSEHOLD: &str = "INSERT INTO households (id, code, village_id, address, head_name, residence, status, priority, causes, created_at, updated_at, search_text, code_key, commune_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, (SELECT parent_id FROM areas WHERE id = $3)) \
     ON CONFLICT (id) DO UPDATE SET code = excluded.code, code_key = excluded.code_key, village_id = excluded.village_id, commune_id = excluded.commune_id, address = excluded.address, \
     head_name = excluded.head_name, residence = excluded.residence, status = excluded.status, priority = excluded.priority, \
     causes = excluded.causes, updated_at = excluded.updated_at, search_text = excluded.search_text";
/// A write that left the profile as it was: only the household's last change time moves.
const TOUCH_HOUSEHOLD: &str = "UPDATE households SET updated_at = $2 WHERE id = $1";
/// What the household's row keeps of its visits and plan (`shared::projection::Followed`),
/// counted again from them after a write of either (a write's records hold only the
/// visits and plan items it touched). `{next}` is the database's way to read a visit's
/// `next_visit` from its JSON. It moves the time of the household's last change too (`$2`),
/// so a write of visits or plan items needs no `TOUCH_HOUSEHOLD` of its own.
const FOLLOW_HOUSEHOLD: &str = "UPDATE households SET updated_at = $2, \
     last_visit = (SELECT MAX(v.date) FROM visits v WHERE v.household_id = $1), \
     next_visit = (SELECT MIN({next}) FROM visits v WHERE v.household_id = $1 \
         AND v.date = (SELECT MAX(w.date) FROM visits w WHERE w.household_id = $1)), \
     has_plan = EXISTS (SELECT 1 FROM plan_items p WHERE p.household_id = $1 AND p.status <> 'dropped') \
     WHERE id = $1";

/// Whether a write of these records changes what the household's row keeps of its visits
/// and plan.
fn follows(touched: Option<&shared::doc::Touched>) -> bool {
    use shared::doc::Collection;
    touched.is_none_or(|t| t.contains_key(&Collection::Visits) || t.contains_key(&Collection::Plan))
}

const INSERT_ASSESSMENT: &str = "INSERT INTO assessments (id, household_id, date, rule_set_id, classification, data, commune_id) \
     VALUES ($1, $2, $3, $4, $5, $6, (SELECT commune_id FROM households WHERE id = $2)) ON CONFLICT (id) DO NOTHING";
const INSERT_VISIT: &str = "INSERT INTO visits (id, household_id, cadre_id, date, data, commune_id) \
     VALUES ($1, $2, $3, $4, $5, (SELECT commune_id FROM households WHERE id = $2)) \
     ON CONFLICT (id) DO NOTHING";
/// A support record is updated only within its own household.
const UPSERT_SUPPORT: &str = "INSERT INTO support_actions (id, household_id, status, delivered_date, planned_date, data, commune_id) \
     VALUES ($1, $2, $3, $4, $5, $6, (SELECT commune_id FROM households WHERE id = $2)) \
     ON CONFLICT (id) DO UPDATE SET status = excluded.status, delivered_date = excluded.delivered_date, data = excluded.data \
     WHERE support_actions.household_id = excluded.household_id";

/// A review step, recorded once (its id is the step's).
pub(in crate::store) const INSERT_REVIEW_STEP: &str = "INSERT INTO review_steps (id, household_id, review_id, kind, date, data, commune_id) \
     VALUES ($1, $2, $3, $4, $5, $6, (SELECT commune_id FROM households WHERE id = $2)) ON CONFLICT (id) DO NOTHING";

/// A movement of the ledger (`shared::ledger`), recorded once: its id is fixed by what it
/// comes from, and a later write of the same household never rewrites it.
pub(in crate::store) const INSERT_MOVEMENT: &str = "INSERT INTO movements (id, household_id, from_status, to_status, date, basis, recorded_by, recorded_at, commune_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, (SELECT commune_id FROM households WHERE id = $2)) ON CONFLICT (id) DO NOTHING";

/// A household that left the register: its day of leaving on its row.
pub(in crate::store) const SET_LEFT_ON: &str = "UPDATE households SET left_on = $1 WHERE id = $2";

/// The ledger's movements a write of `r` may make: only a write of the profile or of the
/// review steps (or of the whole household) can change its status or its entry.
fn movements_of(
    r: &shared::projection::Records,
    touched: Option<&shared::doc::Touched>,
) -> Vec<shared::ledger::Movement> {
    use shared::doc::Collection;
    if touched.is_some_and(|t| {
        !t.contains_key(&Collection::Profile) && !t.contains_key(&Collection::ReviewSteps)
    }) {
        return vec![];
    }
    shared::ledger::movements(&r.household, &r.review_steps)
}

/// Who a commit's movements are recorded by where their records do not say.
fn recorder(actor: &crate::store::Actor) -> &str {
    actor.user_id.as_deref().unwrap_or("")
}

/// A `$n` statement with SQLite's `?n` placeholders, which bind by number exactly.
fn numbered(sql: &str) -> String {
    sql.replace('$', "?")
}

/// Automerge actors this process knows are bound to a device. A binding is never changed
/// or removed, so one a committed write made or found holds for good: a later write by the
/// same actor from the same device skips the statements that bind and check it (two per
/// actor, on every push otherwise).
pub(super) struct BoundActors(std::sync::Mutex<lru::LruCache<String, (String, String)>>);

impl std::fmt::Debug for BoundActors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundActors").finish_non_exhaustive()
    }
}

impl BoundActors {
    /// Phones make a new actor per app start; this many are kept (about 100 bytes each).
    const KEPT: usize = 65_536;

    pub fn new() -> Self {
        BoundActors(std::sync::Mutex::new(lru::LruCache::new(
            std::num::NonZeroUsize::new(Self::KEPT).expect("non-zero"),
        )))
    }

    /// Whether `actor` is known bound to this user and device.
    pub fn is_bound_to(&self, actor: &str, user: &str, device: &str) -> bool {
        let mut kept = self.0.lock().expect("not poisoned");
        kept.get(actor)
            .is_some_and(|(u, d)| u == user && d == device)
    }

    /// Keeps the bindings of the writes that committed (call after the commit).
    pub fn committed(&self, writes: &[(Actor, DocWrite)], results: &[StoreResult<i64>]) {
        let done = writes.iter().zip(results).filter(|(_, r)| r.is_ok());
        self.keep(done.map(|((actor, w), _)| (actor, w.actors.as_slice())));
    }

    fn keep<'a>(&self, bindings: impl IntoIterator<Item = (&'a Actor, &'a [String])>) {
        let mut kept = self.0.lock().expect("not poisoned");
        for (actor, actors) in bindings {
            if let (Some(user), Some(device)) = (&actor.user_id, &actor.device_id) {
                for a in actors {
                    kept.put(a.clone(), (user.clone(), device.clone()));
                }
            }
        }
    }
}

/// Whether a conflict at `path` (its JSON form) lies inside the records a write touched;
/// without `touched`, every conflict does.
fn inside(touched: Option<&shared::doc::Touched>, path: &str) -> bool {
    use shared::doc::Collection;
    let Some(t) = touched else { return true };
    let path: Vec<String> = serde_json::from_str(path).unwrap_or_default();
    let Some((head, rest)) = path.split_first() else {
        return false;
    };
    match (Collection::parse(head), rest) {
        (Some(Collection::Profile), _) => t.contains_key(&Collection::Profile),
        (Some(c), [id, ..]) => t.get(&c).is_some_and(|ids| ids.contains(id)),
        (Some(c), []) => t.contains_key(&c),
        (None, _) => false,
    }
}

/// How a write is audited: a REST edit names what it changed (`action`, `entity`,
/// `entity_id`); a push is a sync of the household.
fn audit_of(w: &DocWrite) -> (String, String, String, serde_json::Value) {
    let field = |k: &str, default: &str| {
        w.audit
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or(default)
            .to_string()
    };
    let changes = w
        .audit
        .get("changes")
        .cloned()
        .unwrap_or_else(|| w.audit.clone());
    (
        field("action", "sync"),
        field("entity", "household"),
        field("entity_id", &w.doc_id),
        changes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(user: &str, device: &str) -> Actor {
        Actor {
            user_id: Some(user.into()),
            device_id: Some(device.into()),
        }
    }

    /// An actor is known only as a committed write bound it: for its own user and device;
    /// another device using it is still checked in the database.
    #[test]
    fn an_actor_is_known_only_for_the_device_that_bound_it() {
        let bound = BoundActors::new();
        assert!(
            !bound.is_bound_to("aa", "u1", "phone-a"),
            "nothing committed"
        );
        let (a, actors) = (device("u1", "phone-a"), vec!["aa".to_string()]);
        bound.keep([(&a, actors.as_slice())]);
        assert!(bound.is_bound_to("aa", "u1", "phone-a"));
        assert!(!bound.is_bound_to("aa", "u1", "phone-b"), "another device");
        assert!(!bound.is_bound_to("aa", "u2", "phone-a"), "another user");
        // The server's own edits name no device and bind nothing.
        bound.keep([(&Actor::system(), ["bb".to_string()].as_slice())]);
        assert!(!bound.is_bound_to("bb", "", ""));
    }
}
