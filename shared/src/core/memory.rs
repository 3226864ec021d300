//! `Storage` in memory, for the tests of the sync core (native and WebAssembly): the same
//! hub and gate as the server, with documents in a map instead of a database.

use super::hub::{Changed, Commit, CommitError, Delta, RecentWrites, Storage, Stored};
use super::{Refusal, Writer};
use crate::doc::HouseholdDoc;
use automerge::ChangeHash;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;

#[derive(Debug, Clone)]
struct Entry {
    doc: HouseholdDoc,
    seq: u64,
    /// Heads after each accepted write, by sequence number.
    history: Vec<(u64, Vec<ChangeHash>)>,
    /// The changes of the last writes (`RECENT` at most).
    recent: RecentWrites,
}

/// Writes kept in a document's log: few, so the tests take both ways of answering a pull.
const RECENT: usize = 3;

/// Changes that were refused, kept for the commune officer.
#[derive(Debug, Clone, PartialEq)]
pub struct Quarantined {
    pub doc_id: String,
    pub code: String,
    pub changes: Vec<u8>,
}

#[derive(Debug, Default)]
struct State {
    docs: BTreeMap<String, Entry>,
    seq: u64,
    quarantine: Vec<Quarantined>,
    /// Actor id → device that first wrote with it.
    actors: BTreeMap<String, String>,
    /// Household code keys in use, for the uniqueness a database index gives.
    codes: BTreeMap<String, String>,
}

/// Documents with a global change sequence, in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// Adds a document written on the server itself (the test's starting data).
    pub fn put(&self, id: &str, mut doc: HouseholdDoc) {
        let mut s = self.state.lock().expect("not poisoned");
        s.seq += 1;
        let seq = s.seq;
        let heads = doc.heads();
        s.docs.insert(
            id.to_string(),
            Entry {
                doc,
                seq,
                history: vec![(seq, heads)],
                recent: RecentWrites::after(seq),
            },
        );
    }

    /// A copy of a document as stored.
    pub fn doc(&self, id: &str) -> Option<HouseholdDoc> {
        let s = self.state.lock().expect("not poisoned");
        s.docs.get(id).map(|e| e.doc.clone())
    }

    pub fn quarantine(&self) -> Vec<Quarantined> {
        self.state.lock().expect("not poisoned").quarantine.clone()
    }
}

impl Storage for MemoryStore {
    type Error = std::convert::Infallible;
    /// The tests interleave writers on purpose: none take turns, so every write races.
    type Turn = ();

    async fn turn(&self, _id: &str) {}

    fn load(&self, id: &str) -> impl Future<Output = Result<Option<Stored>, Self::Error>> + Send {
        let s = self.state.lock().expect("not poisoned");
        let found = s.docs.get(id).map(|e| Stored {
            doc: e.doc.clone(),
            seq: e.seq,
            chunks: 0,
        });
        std::future::ready(Ok(found))
    }

    fn commit(
        &self,
        writer: &Writer,
        c: Commit,
    ) -> impl Future<Output = Result<(), CommitError<Self::Error>>> + Send {
        let mut s = self.state.lock().expect("not poisoned");
        let result = (|| {
            if s.docs.get(&c.doc_id).map(|e| e.seq) != c.expected_seq {
                return Err(CommitError::Stale);
            }
            let code = crate::household::code_key(&c.records.household.code);
            if s.codes.get(&code).is_some_and(|owner| *owner != c.doc_id) {
                return Err(CommitError::Refused(Refusal::new(
                    "duplicate_code",
                    "Mã hộ này đã có người dùng.",
                    "This household code is already taken.",
                )));
            }
            for a in &c.actors {
                if s.actors.get(a).is_some_and(|d| *d != writer.device_id) {
                    return Err(CommitError::Refused(Refusal::new(
                        "actor",
                        "Máy này ghi dưới danh nghĩa của một máy khác.",
                        "This device writes under another device's identity.",
                    )));
                }
            }
            for a in &c.actors {
                s.actors.insert(a.clone(), writer.device_id.clone());
            }
            s.codes.retain(|_, owner| *owner != c.doc_id);
            s.codes.insert(code, c.doc_id.clone());
            s.seq += 1;
            let seq = s.seq;
            let entry = s.docs.entry(c.doc_id.clone());
            let entry = entry.or_insert_with(|| Entry {
                doc: HouseholdDoc::empty(&[0; 16]),
                seq,
                history: vec![],
                recent: RecentWrites::after(seq),
            });
            entry
                .doc
                .apply(&c.changes)
                .map_err(|_| CommitError::Stale)?;
            if c.expected_seq.is_some() {
                let changes = std::sync::Arc::new(c.changes.clone());
                entry.recent.push(seq, changes, RECENT);
            }
            entry.seq = seq;
            let heads = entry.doc.heads();
            entry.history.push((seq, heads));
            Ok(())
        })();
        std::future::ready(result)
    }

    fn changed_since(
        &self,
        cursor: u64,
        ids: &[String],
        limit: usize,
    ) -> impl Future<Output = Result<Changed, Self::Error>> + Send {
        let s = self.state.lock().expect("not poisoned");
        let mut found: Vec<(String, u64)> = ids
            .iter()
            .filter_map(|id| s.docs.get(id).map(|e| (id.clone(), e.seq)))
            .filter(|(_, seq)| *seq > cursor)
            .collect();
        found.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        found.truncate(limit);
        std::future::ready(Ok((s.seq, found)))
    }

    fn read<T: Send>(
        &self,
        id: &str,
        _seq: Option<u64>,
        f: impl FnOnce(&mut HouseholdDoc) -> T + Send,
    ) -> impl Future<Output = Result<Option<T>, Self::Error>> + Send {
        let mut s = self.state.lock().expect("not poisoned");
        std::future::ready(Ok(s.docs.get_mut(id).map(|e| f(&mut e.doc))))
    }

    fn changes_after(
        &self,
        id: &str,
        after: u64,
        seq: u64,
    ) -> impl Future<Output = Result<Option<Delta>, Self::Error>> + Send {
        let mut s = self.state.lock().expect("not poisoned");
        let delta = s.docs.get_mut(id).and_then(|e| {
            let bytes = e.recent.since(after).filter(|_| e.seq >= seq)?;
            let heads = e.doc.heads().iter().map(ChangeHash::to_string).collect();
            Some(Delta { bytes, heads })
        });
        std::future::ready(Ok(delta))
    }

    fn heads_at(
        &self,
        ids: &[String],
        seq: u64,
    ) -> impl Future<Output = Result<BTreeMap<String, Vec<ChangeHash>>, Self::Error>> + Send {
        let s = self.state.lock().expect("not poisoned");
        let heads = ids
            .iter()
            .filter_map(|id| {
                let e = s.docs.get(id)?;
                let (_, h) = e.history.iter().rev().find(|(at, _)| *at <= seq)?;
                Some((id.clone(), h.clone()))
            })
            .collect();
        std::future::ready(Ok(heads))
    }

    fn quarantine(
        &self,
        _writer: &Writer,
        id: &str,
        refusal: &Refusal,
        bytes: &[u8],
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.state
            .lock()
            .expect("not poisoned")
            .quarantine
            .push(Quarantined {
                doc_id: id.to_string(),
                code: refusal.code.clone(),
                changes: bytes.to_vec(),
            });
        std::future::ready(Ok(()))
    }

    fn compute<T: Send + 'static>(
        &self,
        _size: usize,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send {
        std::future::ready(work())
    }
}

/// Runs a future of the in-memory store to its end: it never waits, so one poll does.
pub fn block_on<T>(fut: impl Future<Output = T>) -> T {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the in-memory store never waits"),
    }
}
