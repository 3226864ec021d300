//! The server's storage for the household write core (`shared::core::hub`): the core's
//! `Storage` trait over the SQLite or PostgreSQL `Store`. It keeps recently used
//! documents decoded (reused only while their sequence number in the database is
//! unchanged, so several processes may share one database), commits the writes of
//! concurrent requests together in one transaction (group commit), answers which documents
//! changed since a device's cursor from an index of its own (`seqs`), and runs the gate's
//! CPU work on a bounded pool of blocking threads. Every change to a household document —
//! sync pushes, conflict decisions — goes through the core with this storage.

mod seqs;

use crate::store::{Actor, DocWrite, DynStore, StoreError, StoreResult, StoredDoc};
use seqs::Seqs;
use shared::core::hub::{Changed, Commit, CommitError, Delta, RecentWrites, Storage, Stored};
use shared::core::{Refusal, Writer};
use shared::doc::HouseholdDoc;
use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Decoded documents kept: every household of a large commune. A household out of the
/// cache is decoded again at its next sync (with 512 kept, 922 were decoded again during
/// one push storm of 200 phones); keeping all 1,329 of the demo commune raised the server's
/// peak memory in that storm by about 20–30 MB (165–181 MB → 186–214 MB).
const CACHED_DOCS: usize = 2048;
/// Writes committed in one transaction at most.
const GROUP: usize = 64;
/// How long the first write of a group waits for others to commit with it: each commit
/// costs a disk sync and writes the pages it shares with the others once.
const GATHER: std::time::Duration = std::time::Duration::from_millis(2);
/// Writes of a document kept with it, to answer the devices that hold it from them.
const RECENT: usize = 16;

/// A decoded document as of a sequence number. Readers use it in place (under its own
/// lock); a push takes it out (the household's write turn makes it the only one) and its
/// result becomes a new entry, so the document is neither copied for the push nor freed
/// on the committing thread. A push that writes nothing gives it back.
struct Cached {
    seq: u64,
    chunks: usize,
    /// `None` while a push of this process holds it (or after one that failed).
    doc: Mutex<Option<HouseholdDoc>>,
    /// Its heads (as stored).
    heads: Vec<String>,
    /// The changes of this process's last writes to it (a write by another process makes
    /// a new entry without them).
    recent: RecentWrites,
}

type Pending = (Actor, DocWrite, Written, oneshot::Sender<StoreResult<i64>>);
type DocCache = Arc<Mutex<lru::LruCache<String, Arc<Cached>>>>;
type SeqIndex = Arc<Mutex<Seqs>>;

/// A document as a write left it, kept once the write is committed.
struct Written {
    id: String,
    doc: HouseholdDoc,
    heads: Vec<String>,
    /// The sequence number the write was based on (`None`: a new household).
    expected: Option<u64>,
    changes: Arc<Vec<u8>>,
    /// Whether the write stored the whole document as the new snapshot.
    compacted: bool,
}

impl Written {
    /// Keeps the document as of `seq`, continuing the log of writes of the entry it was
    /// based on: the next load of this household (often the same phone's next push)
    /// finds it, and the devices that hold it are answered from the log.
    fn publish(self, cache: &Mutex<lru::LruCache<String, Arc<Cached>>>, seq: u64) {
        let mut docs = cache.lock().expect("not poisoned");
        let before = docs.peek(&self.id);
        // A slower writer never replaces a newer document with an older one.
        if before.is_some_and(|c| c.seq > seq) {
            return;
        }
        let chunks = match before {
            Some(c) if !self.compacted => c.chunks + 1,
            _ => 1,
        };
        let recent = match (before, self.expected) {
            (Some(b), Some(e)) if b.seq == e => {
                let mut recent = b.recent.clone();
                recent.push(seq, self.changes, RECENT);
                recent
            }
            // A new household, or one this process did not hold as of the write's base.
            _ => RecentWrites::after(seq),
        };
        let entry = Arc::new(Cached {
            seq,
            chunks,
            doc: Mutex::new(Some(self.doc)),
            heads: self.heads,
            recent,
        });
        let replaced = docs.put(self.id, entry);
        // The replaced document is freed after the cache is unlocked.
        drop(docs);
        drop(replaced);
    }
}

/// The database behind the write core.
#[derive(Clone)]
pub struct DbStorage {
    store: DynStore,
    /// At most one admission per core at a time, so a burst of pushes cannot take every
    /// thread of the runtime.
    decoding: Arc<Semaphore>,
    docs: DocCache,
    /// The queue of the task that commits writes in groups, started at the first write.
    committer: Arc<OnceLock<mpsc::Sender<Pending>>>,
    /// Households known to have a document (a document is never removed).
    with_doc: Arc<Mutex<std::collections::HashSet<String>>>,
    /// Writes of this process on their way into the database and the cache.
    landing: Arc<Landing>,
    /// The write turn of each household being written (see `Storage::turn`).
    turns: Turns,
    /// Which document was last written when, to answer pulls without the database.
    seqs: SeqIndex,
}

type TurnMap = Arc<Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>>;

/// A lock per household being written, made when first asked for and removed when its
/// last holder or waiter is done, so the map holds only households written right now.
#[derive(Clone, Default)]
struct Turns(TurnMap);

impl Turns {
    async fn take(&self, id: &str) -> Turn {
        let lock = self
            .0
            .lock()
            .expect("not poisoned")
            .entry(id.to_string())
            .or_default()
            .clone();
        let guard = lock.lock_owned().await;
        Turn {
            guard: Some(guard),
            id: id.to_string(),
            turns: self.0.clone(),
        }
    }
}

/// A household's write turn; the last holder removes it from the map.
pub struct Turn {
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    id: String,
    turns: TurnMap,
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut turns = self.turns.lock().expect("not poisoned");
        drop(self.guard.take());
        // Nobody else holds or waits for it (the map's own reference is the only one).
        if turns
            .get(&self.id)
            .is_some_and(|t| Arc::strong_count(t) == 1)
        {
            turns.remove(&self.id);
        }
    }
}

/// The households whose writes this process is committing. Between the commit and the
/// moment the written documents are kept, a request may already see the new sequence
/// number in the database: it waits for the kept document instead of decoding the
/// household again from the database.
#[derive(Default)]
struct Landing {
    ids: Mutex<std::collections::HashMap<String, usize>>,
    landed: tokio::sync::Notify,
}

impl Landing {
    fn start<'a>(&self, ids: impl IntoIterator<Item = &'a String>) {
        let mut landing = self.ids.lock().expect("not poisoned");
        for id in ids {
            *landing.entry(id.clone()).or_default() += 1;
        }
    }

    fn end<'a>(&self, ids: impl IntoIterator<Item = &'a String>) {
        let mut landing = self.ids.lock().expect("not poisoned");
        for id in ids {
            if let Some(n) = landing.get_mut(id) {
                *n -= 1;
                if *n == 0 {
                    landing.remove(id);
                }
            }
        }
        drop(landing);
        self.landed.notify_waiters();
    }

    fn has(&self, id: &str) -> bool {
        self.ids.lock().expect("not poisoned").contains_key(id)
    }
}

impl std::fmt::Debug for DbStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbStorage").finish_non_exhaustive()
    }
}

impl DbStorage {
    pub fn new(store: DynStore) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        DbStorage {
            store,
            decoding: Arc::new(Semaphore::new(cores)),
            docs: Arc::new(Mutex::new(lru::LruCache::new(
                NonZeroUsize::new(CACHED_DOCS).expect("not zero"),
            ))),
            committer: Arc::new(OnceLock::new()),
            with_doc: Arc::default(),
            landing: Arc::default(),
            turns: Turns::default(),
            seqs: Arc::default(),
        }
    }

    /// Of `ids`, those not known to have a document.
    pub fn without_known_docs<'a>(&self, ids: impl IntoIterator<Item = &'a String>) -> Vec<String> {
        let known = self.with_doc.lock().expect("not poisoned");
        ids.into_iter()
            .filter(|id| !known.contains(*id))
            .cloned()
            .collect()
    }

    pub fn know_docs(&self, ids: impl IntoIterator<Item = String>) {
        self.with_doc.lock().expect("not poisoned").extend(ids);
    }

    /// Commits `write` together with whatever other writes are waiting.
    async fn commit_grouped(
        &self,
        actor: Actor,
        write: DocWrite,
        written: Written,
    ) -> StoreResult<i64> {
        let queue = self.committer.get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Pending>(GROUP * 4);
            tokio::spawn(commit_loop(
                self.store.clone(),
                self.docs.clone(),
                self.seqs.clone(),
                self.landing.clone(),
                rx,
            ));
            tx
        });
        let (done, answer) = oneshot::channel();
        queue
            .send((actor, write, written, done))
            .await
            .map_err(|_| StoreError::Corrupt("the committer stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Corrupt("the committer stopped".into()))?
    }

    /// The decoded document kept for `id`, if any.
    fn cached(&self, id: &str) -> Option<Arc<Cached>> {
        self.docs.lock().expect("not poisoned").get(id).cloned()
    }

    /// The kept document for `id` as of `seq` or later: when this process is committing
    /// a write of it, once that write is kept.
    async fn cached_as_of(&self, id: &str, seq: u64) -> Option<Arc<Cached>> {
        loop {
            // Registered before looking, so the end of the landing cannot be missed.
            let landed = self.landing.landed.notified();
            if let Some(e) = self.cached(id).filter(|c| c.seq >= seq) {
                return Some(e);
            }
            if !self.landing.has(id) {
                return None;
            }
            landed.await;
        }
    }

    /// Drops the kept document of `id` if it is no newer than `seq` (`None`: any): a
    /// write based on it failed, perhaps because another process wrote since. A newer
    /// one was kept by the write of this process that came first; it stays.
    fn forget_unless_newer(&self, id: &str, seq: Option<u64>) {
        let mut docs = self.docs.lock().expect("not poisoned");
        if docs
            .peek(id)
            .is_some_and(|c| seq.is_none_or(|s| c.seq <= s))
        {
            docs.pop(id);
        }
    }

    /// Decodes the stored document and keeps it.
    async fn decode(&self, id: &str) -> Result<Option<Arc<Cached>>, StoreError> {
        Ok(self.open(id).await?.map(|entry| self.keep(id, entry)))
    }

    /// Decodes the stored document.
    async fn open(&self, id: &str) -> Result<Option<Cached>, StoreError> {
        let Some(stored) = self.store.docs().load_doc(id).await.map_err(logged)? else {
            return Ok(None);
        };
        let doc = open_stored(id, &stored)?;
        let seq = stored.seq as u64;
        Ok(Some(Cached {
            seq,
            chunks: stored.chunks.len(),
            doc: Mutex::new(Some(doc)),
            heads: stored.heads,
            recent: RecentWrites::after(seq),
        }))
    }

    fn keep(&self, id: &str, entry: Cached) -> Arc<Cached> {
        let seq = entry.seq;
        let entry = Arc::new(entry);
        let mut docs = self.docs.lock().expect("not poisoned");
        // A slower writer never replaces a newer document with an older one.
        if docs.peek(id).is_none_or(|c| c.seq <= seq) {
            docs.put(id.to_string(), entry.clone());
        }
        entry
    }
}

/// Decodes a stored document, as the server's own actor from here on.
fn open_stored(id: &str, stored: &StoredDoc) -> Result<HouseholdDoc, StoreError> {
    let author = shared::doc::Author {
        user_id: "server".into(),
        device_id: "server".into(),
        at_ms: chrono::Utc::now().timestamp_millis(),
        door: None,
    };
    stored
        .open(&author)
        .map_err(|e| logged(StoreError::Corrupt(format!("document {id}: {e}"))))
}

/// Takes the waiting writes, as many as are there (up to `GROUP`), and commits them in one
/// transaction: one disk sync for all, every one acknowledged only after it. The written
/// documents are kept the moment the transaction is committed, on the committing thread:
/// a request that sees the new sequence numbers finds them kept (otherwise it would
/// decode the household again from the database).
async fn commit_loop(
    store: DynStore,
    cache: DocCache,
    seqs: SeqIndex,
    landing: Arc<Landing>,
    mut rx: mpsc::Receiver<Pending>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let until = tokio::time::Instant::now() + GATHER;
        while batch.len() < GROUP {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => match tokio::time::timeout_at(until, rx.recv()).await {
                    Ok(Some(p)) => batch.push(p),
                    _ => break,
                },
            }
        }
        metrics::histogram!(crate::metrics::GROUP_COMMIT).record(batch.len() as f64);
        let mut writes = Vec::with_capacity(batch.len());
        let mut kept = Vec::with_capacity(batch.len());
        let mut answers = Vec::with_capacity(batch.len());
        for (actor, write, written, done) in batch {
            writes.push((actor, write));
            kept.push(written);
            answers.push(done);
        }
        let ids: Vec<String> = kept.iter().map(|w| w.id.clone()).collect();
        landing.start(&ids);
        let (cache, seqs) = (cache.clone(), seqs.clone());
        let published = Box::new(move |results: &[StoreResult<i64>]| {
            let done: Vec<(Written, u64)> = results
                .iter()
                .zip(kept)
                .filter_map(|(r, w)| Some((w, *r.as_ref().ok()? as u64)))
                .collect();
            seqs.lock()
                .expect("not poisoned")
                .committed(done.iter().map(|(w, seq)| (w.id.as_str(), *seq)));
            for (w, seq) in done {
                w.publish(&cache, seq);
            }
        });
        let committed = store.docs().commit_docs_then(writes, published).await;
        landing.end(&ids);
        match committed {
            Ok(results) => {
                for (r, d) in results.into_iter().zip(answers) {
                    let _ = d.send(r);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "group commit failed");
                for d in answers {
                    let _ = d.send(Err(StoreError::Corrupt(e.to_string())));
                }
            }
        }
    }
}

fn actor(w: &Writer) -> Actor {
    Actor {
        user_id: Some(w.user_id.clone()),
        device_id: Some(w.device_id.clone()),
    }
}

fn logged(e: StoreError) -> StoreError {
    tracing::warn!(error = %e, "write core storage");
    e
}

/// Storage errors that are the written data's fault, as the refusal a person is shown.
fn refusal_of(e: StoreError) -> CommitError<StoreError> {
    match e {
        StoreError::Stale => CommitError::Stale,
        StoreError::Duplicate(detail) => {
            tracing::info!(%detail, "write refused: duplicate");
            CommitError::Refused(Refusal::new(
                "duplicate_code",
                "Mã hộ này đã có người dùng; hãy đặt mã khác cho hộ rồi đồng bộ lại.",
                "This household code is already taken; give the household another code and sync again.",
            ))
        }
        StoreError::Ownership(_) => CommitError::Refused(Refusal::new(
            "ownership",
            "Bản ghi không thuộc hộ này.",
            "A record does not belong to this household.",
        )),
        StoreError::ActorTaken(_) => CommitError::Refused(Refusal::new(
            "actor",
            "Máy này ghi dưới danh nghĩa của một máy khác; hãy cài lại ứng dụng.",
            "This device writes under another device's identity; reinstall the app.",
        )),
        other => CommitError::Failed(logged(other)),
    }
}

/// Pushes up to this size are judged on the request's own task (see `compute`).
const INLINE_BYTES: usize = 16 * 1024;

impl Storage for DbStorage {
    type Error = StoreError;
    type Turn = Turn;

    async fn turn(&self, id: &str) -> Turn {
        self.turns.take(id).await
    }

    /// The kept copy is used without asking the database: when another process wrote
    /// since, the commit finds the sequence number changed, the copy is dropped and the
    /// push runs again on the stored document.
    async fn load(&self, id: &str) -> Result<Option<Stored>, StoreError> {
        let entry = match counted(self.cached(id)) {
            Some(e) => e,
            None => match self.decode(id).await? {
                Some(e) => e,
                None => return Ok(None),
            },
        };
        let held = entry.doc.lock().expect("not poisoned").take();
        let (entry, doc) = match held {
            Some(doc) => (entry, doc),
            // A push of this household failed after taking it: decoded again.
            None => match self.decode(id).await? {
                Some(fresh) => {
                    let doc = fresh.doc.lock().expect("not poisoned").take();
                    match doc {
                        Some(doc) => (fresh, doc),
                        None => return Err(StoreError::Corrupt(format!("document {id}: taken"))),
                    }
                }
                None => return Ok(None),
            },
        };
        Ok(Some(Stored {
            doc,
            seq: entry.seq,
            chunks: entry.chunks,
        }))
    }

    fn give_back(&self, id: &str, seq: u64, doc: HouseholdDoc) {
        let entry = self.docs.lock().expect("not poisoned").peek(id).cloned();
        if let Some(entry) = entry.filter(|e| e.seq == seq) {
            let mut slot = entry.doc.lock().expect("not poisoned");
            if slot.is_none() {
                *slot = Some(doc);
            }
        }
    }

    async fn read<T: Send>(
        &self,
        id: &str,
        seq: Option<u64>,
        f: impl FnOnce(&mut HouseholdDoc) -> T + Send,
    ) -> Result<Option<T>, StoreError> {
        let current = match seq {
            Some(s) => s,
            None => match self.store.docs().doc_seq(id).await.map_err(logged)? {
                Some(s) => s as u64,
                None => return Ok(None),
            },
        };
        let entry = match counted(self.cached_as_of(id, current).await) {
            Some(e) => e,
            None => match self.decode(id).await? {
                Some(e) => e,
                None => return Ok(None),
            },
        };
        {
            let mut kept = entry.doc.lock().expect("not poisoned");
            if let Some(doc) = kept.as_mut() {
                return Ok(Some(f(doc)));
            }
        }
        // A push of this household holds it: read a copy of the stored document.
        let Some(own) = self.open(id).await? else {
            return Ok(None);
        };
        let mut doc = own.doc.into_inner().expect("not poisoned");
        Ok(doc.as_mut().map(f))
    }

    /// The documents not kept (or kept from before the sequence number they reached) are
    /// read in one statement and decoded together, off the request's thread when large.
    async fn prefetch(&self, ids: &[(String, u64)]) -> Result<(), StoreError> {
        let missing: Vec<String> = ids
            .iter()
            .filter(|(id, seq)| {
                // A write of this process on its way in is kept when it lands.
                self.cached(id).is_none_or(|c| c.seq < *seq) && !self.landing.has(id)
            })
            .map(|(id, _)| id.clone())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let stored = self
            .store
            .docs()
            .load_docs(&missing)
            .await
            .map_err(logged)?;
        let size = stored
            .iter()
            .map(|(_, d)| d.chunks.iter().map(Vec::len).sum::<usize>())
            .sum();
        let opened = self
            .compute(size, move || {
                stored
                    .into_iter()
                    .map(|(id, d)| {
                        let doc = open_stored(&id, &d);
                        (id, d, doc)
                    })
                    .collect::<Vec<_>>()
            })
            .await;
        for (id, stored, doc) in opened {
            // One that does not decode is left to `read`, which reports it.
            let Ok(doc) = doc else { continue };
            let seq = stored.seq as u64;
            self.keep(
                &id,
                Cached {
                    seq,
                    chunks: stored.chunks.len(),
                    doc: Mutex::new(Some(doc)),
                    heads: stored.heads,
                    recent: RecentWrites::after(seq),
                },
            );
        }
        Ok(())
    }

    async fn commit(&self, writer: &Writer, c: Commit) -> Result<(), CommitError<StoreError>> {
        let id = c.doc_id.clone();
        let written = Written {
            id: c.doc_id.clone(),
            doc: c.doc,
            heads: c.heads.clone(),
            expected: c.expected_seq,
            changes: Arc::new(c.changes.clone()),
            compacted: c.compacted.is_some(),
        };
        let write = DocWrite {
            doc_id: c.doc_id,
            expected_seq: c.expected_seq.map(|s| s as i64),
            changes: c.changes,
            compacted: c.compacted,
            heads: c.heads,
            records: c.records,
            conflicts: c.conflicts,
            audit: c.audit,
            touched: Some(c.touched),
            actors: c.actors,
        };
        let expected = c.expected_seq;
        if let Err(e) = self.commit_grouped(actor(writer), write, written).await {
            // Written since, by another request (whose document is kept) or another
            // process (then the next load reads the database).
            self.forget_unless_newer(&id, expected);
            return Err(refusal_of(e));
        }
        Ok(())
    }

    async fn changed_since(
        &self,
        cursor: u64,
        ids: &[String],
        limit: usize,
    ) -> Result<Changed, StoreError> {
        let now = std::time::Instant::now();
        if self.seqs.lock().expect("not poisoned").unstarted() {
            // The index starts where the database is now, not with every document of it.
            let seq = self.store.docs().current_seq().await.map_err(logged)?;
            self.seqs
                .lock()
                .expect("not poisoned")
                .start(seq.max(0) as u64, now);
        }
        let after = {
            let seqs = self.seqs.lock().expect("not poisoned");
            if seqs.below_floor(cursor) {
                None
            } else if !seqs.stale(now) {
                return Ok(seqs.since(cursor, ids, limit));
            } else {
                Some(seqs.upto())
            }
        };
        let Some(after) = after else {
            // Older than the index: the database answers for the device's scope.
            let read = self
                .store
                .docs()
                .docs_since(cursor as i64, ids, limit as i64)
                .await
                .map_err(logged)?;
            return Ok((
                read.seq.max(0) as u64,
                read.docs
                    .into_iter()
                    .map(|(id, s)| (id, s.max(0) as u64))
                    .collect(),
            ));
        };
        let read = self
            .store
            .docs()
            .written_after(after as i64)
            .await
            .map_err(logged)?;
        let mut seqs = self.seqs.lock().expect("not poisoned");
        seqs.read(
            read.seq.max(0) as u64,
            read.docs.into_iter().map(|(id, s)| (id, s.max(0) as u64)),
            now,
        );
        Ok(seqs.since(cursor, ids, limit))
    }

    async fn changes_after(
        &self,
        id: &str,
        after: u64,
        seq: u64,
    ) -> Result<Option<Delta>, StoreError> {
        Ok(counted(self.cached_as_of(id, seq).await).and_then(|c| {
            Some(Delta {
                bytes: c.recent.since(after)?,
                heads: c.heads.clone(),
            })
        }))
    }

    async fn heads_at(
        &self,
        ids: &[String],
        seq: u64,
    ) -> Result<std::collections::BTreeMap<String, Vec<automerge::ChangeHash>>, StoreError> {
        Ok(self
            .store
            .docs()
            .heads_at(ids, seq as i64)
            .await?
            .into_iter()
            .map(|(id, h)| (id, h.iter().filter_map(|h| h.parse().ok()).collect()))
            .collect())
    }

    fn quarantine(
        &self,
        writer: &Writer,
        id: &str,
        refusal: &Refusal,
        bytes: &[u8],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let actor = actor(writer);
        let reason = serde_json::to_string(&refusal.reason).unwrap_or_default();
        let code = refusal.code.clone();
        async move {
            // Bounded per device: what is not kept is still refused, with its reason.
            self.store
                .quarantine(&actor, id, &code, &reason, bytes)
                .await
                .map(|_| ())
        }
    }

    fn compute<T: Send + 'static>(
        &self,
        size: usize,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send {
        let decoding = self.decoding.clone();
        async move {
            let _permit = decoding.acquire_owned().await.expect("never closed");
            // A phone's usual push (one visit, about 1 KB) is judged in a fraction of a
            // millisecond: in place, without two thread switches. Larger work goes to the
            // blocking pool so it cannot hold up the requests sharing this worker.
            if size <= INLINE_BYTES {
                return work();
            }
            match tokio::task::spawn_blocking(work).await {
                Ok(v) => v,
                // The gate never panics on input (fuzzed); if it did, the panic is the
                // request's, not the process's.
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        }
    }
}

/// A REST write of a household: the change `edit` makes, as the signed-in user, through
/// the write core (the same gate as a phone's push). A household registered before it had
/// a document gets one first.
pub async fn edit_household(
    state: &crate::AppState,
    me: &crate::auth::CurrentUser,
    id: &str,
    audit: serde_json::Value,
    edit: impl Fn(&mut HouseholdDoc, &shared::doc::Author) -> Result<(), shared::doc::DocError>,
) -> crate::error::AppResult<()> {
    crate::api::sync::ensure_docs(state, &[id.to_string()].into_iter().collect()).await?;
    let writer = crate::api::sync::writer(me);
    let villages = crate::api::sync::villages_of(state, me).await?;
    state
        .hub
        .edit(&state.db, &writer, villages.as_ref(), id, audit, edit)
        .await
        .map_err(edit_error)?;
    // The household may have moved to another village: scopes are computed again.
    state.scopes.changed();
    Ok(())
}

/// Why the write core did not take a server-made edit, as the API answers it.
pub fn edit_error(e: shared::core::EditError<StoreError>) -> crate::error::AppError {
    use crate::error::AppError;
    use shared::core::EditError;
    match e {
        EditError::NotFound => AppError::NotFound("household"),
        EditError::Busy => AppError::Conflict {
            code: "busy",
            message: shared::Text::new(
                "Hộ đang được cập nhật; hãy thử lại.",
                "The household is being updated; please try again.",
            ),
        },
        EditError::Storage(e) => e.into(),
        EditError::Refused(r) if r.code == "duplicate_code" => AppError::Conflict {
            code: "duplicate",
            message: r.reason,
        },
        EditError::Refused(r) if r.code == "role" || r.code == "scope" => AppError::Forbidden,
        EditError::Refused(r) => {
            let mut errors = shared::ValidationErrors(r.fields.clone());
            if errors.is_empty() {
                errors.push("record", &r.code, r.reason);
            }
            AppError::Validation(errors)
        }
    }
}

/// Counts a look in the document cache once, where a miss means decoding from the
/// database (`/metrics`: `donghanh_doc_cache_total`).
fn counted(found: Option<Arc<Cached>>) -> Option<Arc<Cached>> {
    let result = if found.is_some() { "hit" } else { "miss" };
    metrics::counter!(crate::metrics::DOC_CACHE, "result" => result).increment(1);
    found
}

#[cfg(test)]
mod tests {
    use super::Turns;
    use std::time::Duration;

    #[tokio::test]
    async fn writes_of_one_household_take_turns_and_leave_nothing_behind() {
        let turns = Turns::default();
        let first = turns.take("h1").await;
        // Another household is not held up.
        let other = turns.take("h2").await;
        // A second write of h1 waits until the first is done.
        let waiting = tokio::spawn({
            let turns = turns.clone();
            async move { turns.take("h1").await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "two writes of h1 at once");
        drop(first);
        let second = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the second write gets its turn")
            .expect("no panic");
        assert_eq!(turns.0.lock().unwrap().len(), 2, "h1 still held, h2 held");
        drop(second);
        drop(other);
        assert!(turns.0.lock().unwrap().is_empty(), "no lock left behind");
    }
}
