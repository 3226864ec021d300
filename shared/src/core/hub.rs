//! The hub of the write core: answers one device's sync request (its pushes through the
//! gate, then every in-scope household it lacks, in pages) and takes the edits the server
//! makes on a user's behalf — over any `Storage`. The server runs it on SQLite and
//! PostgreSQL; the tests run it on `memory::MemoryStore`; the code is the same.

use super::gate::{Admission, Writer, admit};
use super::{Limits, Refusal};
use crate::doc::{Author, DocError, FieldConflict, HouseholdDoc, Touched};
use crate::projection::Records;
use crate::rules::RuleBook;
use crate::summary::Summary;
use crate::sync::{Ack, DocUpdate, Held, PROTOCOL, Refused, SyncRequest, SyncResponse};
use automerge::ChangeHash;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;

/// A household document as storage holds it, decoded.
#[derive(Debug, Clone)]
pub struct Stored {
    pub doc: HouseholdDoc,
    /// The document's position in the change sequence, for optimistic commits.
    pub seq: u64,
    /// Change chunks kept after its snapshot (compaction is due after `COMPACT_AFTER`).
    pub chunks: usize,
}

/// One accepted write and everything derived from it, committed together.
#[derive(Debug, Clone)]
pub struct Commit {
    pub doc_id: String,
    /// The document after the write, for storages that keep documents decoded.
    pub doc: HouseholdDoc,
    /// `None` for a new household; otherwise the `Stored::seq` it was based on.
    pub expected_seq: Option<u64>,
    /// The new changes (after the stored heads).
    pub changes: Vec<u8>,
    /// When set, the whole document, stored as the new snapshot in place of the changes.
    pub compacted: Option<Vec<u8>>,
    pub heads: Vec<String>,
    pub records: Records,
    /// Records the changes wrote, by collection (the profile with no ids).
    pub touched: Touched,
    /// The open conflicts inside the touched records (the others are unchanged).
    pub conflicts: Vec<FieldConflict>,
    /// Automerge actors of a device's changes, bound to that device (empty for edits the
    /// server makes).
    pub actors: Vec<String>,
    pub audit: serde_json::Value,
}

/// What a device holding a document as of a sequence number lacks, taken from the
/// storage's recent log of that document's writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    /// The changes written since, as stored (one chunk after another).
    pub bytes: Vec<u8>,
    /// The document's heads after them.
    pub heads: Vec<String>,
}

/// The changes of a document's last writes, kept by a storage to answer `changes_after`:
/// every write numbered after `after` is here, oldest first.
#[derive(Debug, Clone)]
pub struct RecentWrites {
    writes: Vec<(u64, Arc<Vec<u8>>)>,
    after: u64,
}

impl RecentWrites {
    /// None kept: complete only after `seq` (a document as read from storage, or new, so a
    /// device that did not hold it gets it whole).
    pub fn after(seq: u64) -> Self {
        RecentWrites {
            writes: vec![],
            after: seq,
        }
    }

    /// Adds the write numbered `seq` (its changes after the previous one), keeping `keep`.
    pub fn push(&mut self, seq: u64, changes: Arc<Vec<u8>>, keep: usize) {
        self.writes.push((seq, changes));
        if self.writes.len() > keep {
            self.after = self.writes.remove(0).0;
        }
    }

    /// The changes written after `seq`, one chunk after another, if every one is kept.
    pub fn since(&self, seq: u64) -> Option<Vec<u8>> {
        (self.after <= seq).then(|| {
            self.writes
                .iter()
                .filter(|(at, _)| *at > seq)
                .flat_map(|(_, b)| b.iter().copied())
                .collect()
        })
    }
}

/// Documents written after a cursor, `(id, sequence number)` in sequence order, after the
/// sequence number storage had reached before it looked.
pub type Changed = (u64, Vec<(String, u64)>);

/// Why a commit did not happen.
#[derive(Debug)]
pub enum CommitError<E> {
    /// Another writer committed to the document first: load and try again.
    Stale,
    /// The data is at fault (a household code taken, a record id owned elsewhere, an
    /// actor of another device): refused with this reason.
    Refused(Refusal),
    Failed(E),
}

/// Persistence, as the core needs it. Futures are `Send` so a server can run the hub on a
/// multi-threaded runtime.
pub trait Storage: Sync {
    type Error: std::fmt::Display + Send;
    /// Held while one write of a household is judged and committed.
    type Turn: Send;
    /// Waits for the turn to write `id`: writes of one household within one process take
    /// turns instead of racing to a stale commit, judged again on the winner's document.
    /// (Writers in other processes still race; the commit's sequence check decides.)
    fn turn(&self, id: &str) -> impl Future<Output = Self::Turn> + Send;
    fn load(&self, id: &str) -> impl Future<Output = Result<Option<Stored>, Self::Error>> + Send;
    fn commit(
        &self,
        writer: &Writer,
        commit: Commit,
    ) -> impl Future<Output = Result<(), CommitError<Self::Error>>> + Send;
    /// Documents among `ids` written after `cursor`, in sequence order, at most `limit`,
    /// after the sequence number the storage had reached before it looked: every write
    /// numbered up to it is among them (when in `ids` and within the limit).
    fn changed_since(
        &self,
        cursor: u64,
        ids: &[String],
        limit: usize,
    ) -> impl Future<Output = Result<Changed, Self::Error>> + Send;
    /// Takes back, unchanged, a document `load` gave out for a write that did not happen
    /// (`seq` as loaded), for a storage that hands out the copy it keeps.
    fn give_back(&self, _id: &str, _seq: u64, _doc: HouseholdDoc) {}
    /// Runs `f` on the stored document without copying it; `seq`, when given, is the
    /// sequence number the document is known to have reached (from `changed_since`), so
    /// a copy kept from before it is not used.
    fn read<T: Send>(
        &self,
        id: &str,
        seq: Option<u64>,
        f: impl FnOnce(&mut HouseholdDoc) -> T + Send,
    ) -> impl Future<Output = Result<Option<T>, Self::Error>> + Send;
    /// Makes the documents of `ids` (each with the sequence number it is known to have
    /// reached, from `changed_since`) ready for `read`, in one trip to storage where it
    /// can: a fresh phone's first page reads hundreds. Only a speed-up: `read` still
    /// answers for any document this did not ready.
    fn prefetch(
        &self,
        _ids: &[(String, u64)],
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        async { Ok(()) }
    }
    /// The changes written to `id` after sequence number `after`, when the storage still
    /// keeps every one of them (a recent tail of each document's writes) and the document
    /// existed at `after`; `seq` is the sequence number it is known to have reached (from
    /// `changed_since`). `None`: the hub encodes the difference itself, from the heads
    /// the document had at `after`.
    fn changes_after(
        &self,
        id: &str,
        after: u64,
        seq: u64,
    ) -> impl Future<Output = Result<Option<Delta>, Self::Error>> + Send;
    /// Of `ids`, the heads each had at sequence `seq`; a document missing from the
    /// answer did not exist then.
    fn heads_at(
        &self,
        ids: &[String],
        seq: u64,
    ) -> impl Future<Output = Result<BTreeMap<String, Vec<ChangeHash>>, Self::Error>> + Send;
    /// Keeps refused changes for the commune officer (bounded per device by the storage).
    fn quarantine(
        &self,
        writer: &Writer,
        id: &str,
        refusal: &Refusal,
        bytes: &[u8],
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Runs the gate's CPU-bound work where it does not hold up other requests; `size` is
    /// the number of bytes it decodes (bounded by the limits), so a storage may run small
    /// work in place rather than pay a hop to another thread.
    fn compute<T: Send + 'static>(
        &self,
        size: usize,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send;
}

/// What a device may read and write, computed by the server from assignments and areas.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Households the device holds.
    pub read: BTreeSet<String>,
    /// Households it may still push to (its reads, plus assignments just ended).
    pub push: BTreeSet<String>,
    /// Villages where it may register or move a household (`None`: anywhere).
    pub villages: Option<BTreeSet<String>>,
}

/// What became of one push.
#[derive(Debug)]
pub enum Pushed {
    /// Stored (or already held): acknowledge these heads.
    Taken(Vec<ChangeHash>),
    Refused(Refusal),
    /// Built on changes the server lacks: the device must get the whole document.
    Resend,
    /// Storage busy or failing: not acknowledged, the device sends it again later.
    Later,
}

/// Why a request as a whole was not answered.
#[derive(Debug)]
pub enum SyncError<E> {
    /// Over a limit of the request itself (the device is told which).
    Refused(Refusal),
    Storage(E),
}

/// Why a server-made edit was not stored.
#[derive(Debug)]
pub enum EditError<E> {
    NotFound,
    Refused(Refusal),
    Busy,
    Storage(E),
}

/// Change chunks after a snapshot before the document is compacted again.
pub const COMPACT_AFTER: usize = 16;
/// Attempts when other writers keep committing to the same household.
const MAX_ATTEMPTS: usize = 20;

/// The write core's rules and settings; stateless apart from them.
#[derive(Debug, Clone)]
pub struct Hub {
    pub rules: Arc<RuleBook>,
    pub limits: Limits,
    /// Documents per sync response.
    pub page: usize,
}

/// The one rule on where a household may stand, whichever door the write came through
/// (sync, REST edit, conflict decision, quarantine acceptance, registration, import): the
/// household's village after the write must be one of the writer's (`None`: anywhere).
fn placed_outside(villages: Option<&BTreeSet<String>>, records: &Records) -> Option<Refusal> {
    villages
        .is_some_and(|v| !v.contains(&records.household.village_id))
        .then(|| {
            Refusal::new(
                "scope",
                "Hộ này nằm ngoài địa bàn của bạn.",
                "This household is outside your area.",
            )
        })
}

fn hexes(h: &[ChangeHash]) -> Vec<String> {
    h.iter().map(ChangeHash::to_string).collect()
}

fn limit(what: &str, max: usize) -> Refusal {
    Refusal::new(
        "sync_limit",
        format!("Yêu cầu đồng bộ vượt giới hạn: {what} (tối đa {max}); hãy cập nhật ứng dụng."),
        format!("The sync request exceeds a limit: {what} (at most {max}); please update the app."),
    )
}

impl Hub {
    pub fn new(rules: Arc<RuleBook>) -> Self {
        Hub {
            rules,
            limits: Limits::DEFAULT,
            page: 500,
        }
    }

    /// Runs the gate, then commits, retrying while other writers come first. The device
    /// is acknowledged the heads it `declared` when the server holds them all after the
    /// commit, otherwise the heads of what it pushed.
    pub async fn push<S: Storage>(
        &self,
        store: &S,
        writer: &Writer,
        scope: &Scope,
        id: &str,
        bytes: Arc<Vec<u8>>,
        declared: &[String],
    ) -> Pushed {
        let declared: Option<Vec<ChangeHash>> = declared.iter().map(|h| h.parse().ok()).collect();
        let ack = |doc: &mut HouseholdDoc, pushed: Vec<ChangeHash>| match &declared {
            Some(d) if !d.is_empty() && d.iter().all(|h| doc.has_change(h)) => d.clone(),
            _ => pushed,
        };
        let _turn = store.turn(id).await;
        for _ in 0..MAX_ATTEMPTS {
            let stored = match store.load(id).await {
                Ok(s) => s,
                // Storage reports its own failures; the device sends the push again.
                Err(_) => return Pushed::Later,
            };
            if stored.is_some() && !scope.push.contains(id) {
                if let Some(s) = stored {
                    store.give_back(id, s.seq, s.doc);
                }
                return Pushed::Refused(Refusal::new(
                    "scope",
                    "Hộ này không thuộc phạm vi của bạn; thay đổi được giữ lại để cán bộ xã xem xét.",
                    "This household is not in your scope; the changes are kept for the commune officer to review.",
                ));
            }
            let (w, doc_id, rules, limits, b) = (
                writer.clone(),
                id.to_string(),
                self.rules.clone(),
                self.limits,
                bytes.clone(),
            );
            let (seq, chunks) = (
                stored.as_ref().map(|s| s.seq),
                stored.as_ref().map_or(0, |s| s.chunks),
            );
            let mut before = stored.map(|s| s.doc);
            let (admission, mut unchanged) = store
                .compute(b.len(), move || {
                    let admission = admit(&w, &doc_id, &mut before, &b, &rules, &limits);
                    (admission, before)
                })
                .await;
            // What the gate did not apply changes to goes back to storage unchanged.
            let acked = match (&admission, unchanged.as_mut()) {
                (Ok(Admission::Repeat(heads)), Some(d)) => Some(ack(d, heads.clone())),
                _ => None,
            };
            if let (Some(doc), Some(seq)) = (unchanged, seq) {
                store.give_back(id, seq, doc);
            }
            let mut a = match admission {
                Ok(Admission::Repeat(heads)) => return Pushed::Taken(acked.unwrap_or(heads)),
                Ok(Admission::MissingDeps) => return Pushed::Resend,
                Ok(Admission::Admitted(a)) => *a,
                Err(r) => return Pushed::Refused(r),
            };
            if let Some(r) = placed_outside(scope.villages.as_ref(), &a.records) {
                return Pushed::Refused(r);
            }
            let conflicts = match a.conflict_free {
                true => vec![],
                false => match a.doc.conflicts_in(&a.touched) {
                    Ok(c) => c,
                    Err(e) => return Pushed::Refused(malformed(e)),
                },
            };
            let acked = ack(&mut a.doc, a.pushed_heads);
            let compacted = (chunks >= COMPACT_AFTER).then(|| a.doc.save());
            let heads = hexes(&a.doc.heads());
            let commit = Commit {
                doc_id: id.to_string(),
                doc: a.doc,
                expected_seq: seq,
                compacted,
                changes: a.changes,
                heads,
                records: a.records,
                touched: a.touched,
                conflicts,
                actors: a.actors.into_iter().collect(),
                audit: serde_json::json!({ "via": "sync" }),
            };
            match store.commit(writer, commit).await {
                Ok(()) => return Pushed::Taken(acked),
                Err(CommitError::Stale) => continue,
                Err(CommitError::Refused(r)) => return Pushed::Refused(r),
                Err(CommitError::Failed(_)) => return Pushed::Later,
            }
        }
        Pushed::Later
    }

    /// A change the server makes on a user's behalf (a conflict decision, a REST edit):
    /// `edit` writes it on the stored document, then the same gate judges it.
    pub async fn edit<S: Storage>(
        &self,
        store: &S,
        writer: &Writer,
        villages: Option<&BTreeSet<String>>,
        id: &str,
        audit: serde_json::Value,
        edit: impl Fn(&mut HouseholdDoc, &Author) -> Result<(), DocError>,
    ) -> Result<(), EditError<S::Error>> {
        let _turn = store.turn(id).await;
        for _ in 0..MAX_ATTEMPTS {
            let stored = store
                .load(id)
                .await
                .map_err(EditError::Storage)?
                .ok_or(EditError::NotFound)?;
            let mut doc = stored.doc.clone();
            let old = doc.heads();
            let edited = edit(&mut doc, &writer.author());
            let bytes = doc.save_after(&old);
            if edited.is_err() || bytes.is_empty() {
                store.give_back(id, stored.seq, stored.doc);
                return edited.map_err(|e| EditError::Refused(malformed(e)));
            }
            let (w, doc_id, rules, limits, mut before) = (
                writer.clone(),
                id.to_string(),
                self.rules.clone(),
                self.limits,
                Some(stored.doc),
            );
            let (admission, unchanged) = store
                .compute(bytes.len(), move || {
                    let admission = admit(&w, &doc_id, &mut before, &bytes, &rules, &limits);
                    (admission, before)
                })
                .await;
            if let Some(doc) = unchanged {
                store.give_back(id, stored.seq, doc);
            }
            let mut a = match admission {
                Ok(Admission::Admitted(a)) => *a,
                Ok(_) => return Ok(()),
                Err(r) => return Err(EditError::Refused(r)),
            };
            if let Some(r) = placed_outside(villages, &a.records) {
                return Err(EditError::Refused(r));
            }
            let commit = Commit {
                doc_id: id.to_string(),
                doc: a.doc.clone(),
                expected_seq: Some(stored.seq),
                compacted: (stored.chunks >= COMPACT_AFTER).then(|| a.doc.save()),
                changes: a.changes,
                heads: hexes(&a.doc.heads()),
                records: a.records,
                touched: a.touched,
                conflicts: a
                    .doc
                    .conflicts()
                    .map_err(|e| EditError::Refused(malformed(e)))?,
                actors: vec![],
                audit: audit.clone(),
            };
            match store.commit(writer, commit).await {
                Ok(()) => return Ok(()),
                Err(CommitError::Stale) => continue,
                Err(CommitError::Refused(r)) => return Err(EditError::Refused(r)),
                Err(CommitError::Failed(e)) => return Err(EditError::Storage(e)),
            }
        }
        Err(EditError::Busy)
    }

    /// A household made on the server on a user's behalf (registered through the web):
    /// `build` writes it into a new document, then the same gate judges it whole.
    pub async fn create<S: Storage>(
        &self,
        store: &S,
        writer: &Writer,
        villages: Option<&BTreeSet<String>>,
        id: &str,
        audit: serde_json::Value,
        build: impl FnOnce(&mut HouseholdDoc, &Author) -> Result<(), DocError>,
    ) -> Result<(), EditError<S::Error>> {
        let author = writer.author();
        let actor: [u8; 16] =
            std::array::from_fn(|i| id.as_bytes().get(i).copied().unwrap_or(0) ^ 0x5a);
        let mut doc = HouseholdDoc::new(&actor, id, &author);
        build(&mut doc, &author).map_err(|e| EditError::Refused(malformed(e)))?;
        let bytes = doc.save_after(&[]);
        let (w, doc_id, rules, limits) = (
            writer.clone(),
            id.to_string(),
            self.rules.clone(),
            self.limits,
        );
        let admission = store
            .compute(bytes.len(), move || {
                admit(&w, &doc_id, &mut None, &bytes, &rules, &limits)
            })
            .await;
        let mut a = match admission {
            Ok(Admission::Admitted(a)) => *a,
            Ok(_) => return Err(EditError::Refused(malformed("empty"))),
            Err(r) => return Err(EditError::Refused(r)),
        };
        if let Some(r) = placed_outside(villages, &a.records) {
            return Err(EditError::Refused(r));
        }
        let heads = hexes(&a.doc.heads());
        let conflicts = a
            .doc
            .conflicts_in(&a.touched)
            .map_err(|e| EditError::Refused(malformed(e)))?;
        let commit = Commit {
            doc_id: id.to_string(),
            doc: a.doc,
            expected_seq: None,
            compacted: None,
            changes: a.changes,
            heads,
            records: a.records,
            touched: a.touched,
            conflicts,
            actors: vec![],
            audit,
        };
        match store.commit(writer, commit).await {
            Ok(()) => Ok(()),
            Err(CommitError::Stale) => Err(EditError::Busy),
            Err(CommitError::Refused(r)) => Err(EditError::Refused(r)),
            Err(CommitError::Failed(e)) => Err(EditError::Storage(e)),
        }
    }

    /// Answers one sync request of `writer`'s device within `scope`.
    pub async fn sync<S: Storage>(
        &self,
        store: &S,
        writer: &Writer,
        mut scope: Scope,
        req: &SyncRequest,
    ) -> Result<SyncResponse, SyncError<S::Error>> {
        if req.pushes.len() > self.limits.pushes_per_request {
            return Err(SyncError::Refused(limit(
                "số hộ / households",
                self.limits.pushes_per_request,
            )));
        }
        let total: usize = req.pushes.iter().map(|p| p.changes.len()).sum();
        if total > self.limits.bytes_per_request {
            return Err(SyncError::Refused(limit(
                "số byte / bytes",
                self.limits.bytes_per_request,
            )));
        }
        let mut resp = SyncResponse {
            protocol: PROTOCOL,
            cursor: req.cursor,
            docs: vec![],
            acks: vec![],
            refused: vec![],
            scope: None,
            more: false,
            resume: None,
        };
        let mut pushed: BTreeMap<String, Vec<ChangeHash>> = BTreeMap::new();
        let mut must_send: BTreeSet<String> = req
            .want
            .iter()
            .filter(|w| scope.read.contains(*w))
            .cloned()
            .collect();
        let writes =
            crate::permissions::reach(writer.role, crate::permissions::Action::WriteHouseholds)
                .is_some()
                || crate::permissions::reach(writer.role, crate::permissions::Action::LogVisits)
                    .is_some();
        for push in &req.pushes {
            let outcome = if writes {
                self.push(
                    store,
                    writer,
                    &scope,
                    &push.doc_id,
                    Arc::new(push.changes.clone()),
                    &push.heads,
                )
                .await
            } else {
                // Read-only roles push nothing: refused before any document is loaded.
                Pushed::Refused(Refusal::new(
                    "role",
                    "Vai trò của bạn chỉ được xem, không được sửa hồ sơ hộ.",
                    "Your role may read households but not change them.",
                ))
            };
            match outcome {
                Pushed::Later => {}
                Pushed::Resend => {
                    // Only a household the device may read is ever sent back.
                    if scope.read.contains(&push.doc_id) {
                        must_send.insert(push.doc_id.clone());
                    }
                }
                Pushed::Taken(heads) => {
                    // A household registered on the phone is the device's from now on.
                    scope.read.insert(push.doc_id.clone());
                    resp.acks.push(Ack {
                        doc_id: push.doc_id.clone(),
                        heads: hexes(&heads),
                    });
                    pushed.insert(push.doc_id.clone(), heads);
                }
                Pushed::Refused(refusal) => {
                    store
                        .quarantine(writer, &push.doc_id, &refusal, &push.changes)
                        .await
                        .map_err(SyncError::Storage)?;
                    resp.refused.push(Refused {
                        doc_id: push.doc_id.clone(),
                        reason: refusal.reason,
                        code: refusal.code,
                    });
                    if scope.read.contains(&push.doc_id) {
                        must_send.insert(push.doc_id.clone());
                    }
                }
            }
        }

        // Read after the pushes are committed, so the device's own writes are behind its
        // cursor.
        let ids: Vec<String> = scope.read.iter().cloned().collect();
        let base_cursor = req.resume.unwrap_or(req.cursor);
        let (seq_before, mut changed) = store
            .changed_since(req.cursor, &ids, self.page + 1)
            .await
            .map_err(SyncError::Storage)?;
        for id in &must_send {
            if !changed.iter().any(|(d, _)| d == id) {
                changed.push((id.clone(), 0));
            }
        }
        resp.cursor = req.cursor.max(seq_before);
        // What the device lacks of a document it held before this pull began: the writes
        // since, where storage keeps them; otherwise the difference from the heads it had
        // then, read in one query. A document it never received has no heads then and
        // goes whole.
        let mut from_log: BTreeMap<String, Delta> = BTreeMap::new();
        let mut held_before = BTreeMap::new();
        if base_cursor > 0 {
            let mut rest = Vec::new();
            for (id, seq) in changed.iter().take(self.page) {
                if must_send.contains(id) || pushed.contains_key(id) {
                    continue;
                }
                match store
                    .changes_after(id, base_cursor, *seq)
                    .await
                    .map_err(SyncError::Storage)?
                {
                    Some(d) => {
                        from_log.insert(id.clone(), d);
                    }
                    None => rest.push(id.clone()),
                }
            }
            held_before = store
                .heads_at(&rest, base_cursor)
                .await
                .map_err(SyncError::Storage)?;
        }
        // The documents read below, from storage in one trip rather than one by one.
        let to_read: Vec<(String, u64)> = changed
            .iter()
            .take(self.page)
            .filter(|(id, _)| !from_log.contains_key(id))
            .cloned()
            .collect();
        store.prefetch(&to_read).await.map_err(SyncError::Storage)?;
        let mut sent = 0;
        let mut last_seq = req.cursor;
        for (id, seq) in changed {
            if sent == self.page {
                resp.more = true;
                resp.resume = Some(base_cursor);
                break;
            }
            let base: Option<&Vec<ChangeHash>> = if must_send.contains(&id) {
                None
            } else if let Some(h) = pushed.get(&id) {
                Some(h)
            } else {
                held_before.get(&id)
            };
            last_seq = last_seq.max(seq);
            if let Some(d) = from_log.remove(&id) {
                if !d.bytes.is_empty() {
                    resp.docs.push(DocUpdate {
                        doc_id: id,
                        snapshot: false,
                        bytes: d.bytes,
                        heads: d.heads,
                        summary: None,
                    });
                    sent += 1;
                }
                continue;
            }
            let known = (seq > 0).then_some(seq);
            let update = store
                .read(&id, known, |doc| {
                    let now = doc.heads();
                    let heads = hexes(&now);
                    match base {
                        // Most often the device's own push: nothing else to send.
                        Some(b) if same_heads(b, &now) => None,
                        Some(b) => {
                            let bytes = doc.save_after(b);
                            (!bytes.is_empty()).then(|| DocUpdate {
                                doc_id: id.clone(),
                                snapshot: false,
                                bytes,
                                heads,
                                summary: None,
                            })
                        }
                        None => Some(DocUpdate {
                            doc_id: id.clone(),
                            snapshot: true,
                            bytes: doc.save(),
                            heads,
                            summary: Summary::of_doc(&id, doc),
                        }),
                    }
                })
                .await
                .map_err(SyncError::Storage)?
                .flatten();
            if let Some(u) = update {
                resp.docs.push(u);
                sent += 1;
            }
        }
        if resp.more {
            // Every document has its own sequence number, so the next page starts after it.
            resp.cursor = last_seq;
        } else if Held::of(scope.read.iter()) != req.held {
            resp.scope = Some(scope.read.iter().cloned().collect());
        }
        Ok(resp)
    }
}

fn same_heads(a: &[ChangeHash], b: &[ChangeHash]) -> bool {
    a.len() == b.len() && a.iter().all(|h| b.contains(h))
}

fn malformed(e: impl std::fmt::Display) -> Refusal {
    Refusal::new(
        "malformed",
        format!("Dữ liệu không xử lý được: {e}"),
        format!("The data could not be processed: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::RecentWrites;
    use std::sync::Arc;

    #[test]
    fn recent_writes_answer_only_when_every_write_since_is_kept() {
        let mut r = RecentWrites::after(10);
        assert_eq!(
            r.since(9),
            None,
            "writes before the log began are not known"
        );
        assert_eq!(r.since(10), Some(vec![]));
        r.push(12, Arc::new(vec![1]), 2);
        r.push(15, Arc::new(vec![2, 3]), 2);
        assert_eq!(r.since(10), Some(vec![1, 2, 3]));
        assert_eq!(r.since(12), Some(vec![2, 3]));
        assert_eq!(r.since(15), Some(vec![]));
        // A third write pushes the first out: a device at 10 or 11 lacks it.
        r.push(20, Arc::new(vec![4]), 2);
        assert_eq!(r.since(11), None);
        assert_eq!(r.since(12), Some(vec![2, 3, 4]));
    }
}
