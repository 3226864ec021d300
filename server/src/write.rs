//! The server's storage for the household write core (`shared::core::hub`): the core's
//! `Storage` trait over the SQLite or PostgreSQL `Store`, with the gate's CPU work on a
//! bounded pool of blocking threads. Every change to a household document — sync pushes,
//! conflict decisions — goes through the core with this storage.

use crate::store::{Actor, DocWrite, DynStore, StoreError};
use shared::core::hub::{Commit, CommitError, Storage, Stored};
use shared::core::{Refusal, Writer};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The database behind the write core.
#[derive(Clone)]
pub struct DbStorage {
    store: DynStore,
    /// At most one admission per core at a time, so a burst of pushes cannot take every
    /// thread of the runtime.
    decoding: Arc<Semaphore>,
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

impl Storage for DbStorage {
    type Error = StoreError;

    async fn load(&self, id: &str) -> Result<Option<Stored>, StoreError> {
        let Some(stored) = self.store.load_doc(id).await.map_err(logged)? else {
            return Ok(None);
        };
        let author = shared::doc::Author {
            user_id: "server".into(),
            device_id: "server".into(),
            at_ms: chrono::Utc::now().timestamp_millis(),
        };
        let doc = stored
            .open(&author)
            .map_err(|e| logged(StoreError::Corrupt(format!("document {id}: {e}"))))?;
        Ok(Some(Stored {
            doc,
            seq: stored.seq as u64,
            chunks: stored.chunks.len(),
        }))
    }

    fn commit(
        &self,
        writer: &Writer,
        c: Commit,
    ) -> impl Future<Output = Result<(), CommitError<StoreError>>> + Send {
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
        let actor = actor(writer);
        async move {
            self.store
                .commit_doc(&actor, &write)
                .await
                .map(|_| ())
                .map_err(refusal_of)
        }
    }

    async fn changed_since(
        &self,
        cursor: u64,
        ids: &[String],
        limit: usize,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        Ok(self
            .store
            .docs_since(cursor as i64, ids, limit as i64)
            .await?
            .into_iter()
            .map(|(id, seq)| (id, seq.max(0) as u64))
            .collect())
    }

    async fn heads_at(
        &self,
        id: &str,
        seq: u64,
    ) -> Result<Option<Vec<automerge::ChangeHash>>, StoreError> {
        Ok(self
            .store
            .heads_at(id, seq as i64)
            .await?
            .map(|h| h.iter().filter_map(|h| h.parse().ok()).collect()))
    }

    async fn current_seq(&self) -> Result<u64, StoreError> {
        Ok(self.store.current_seq().await?.max(0) as u64)
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
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send {
        let decoding = self.decoding.clone();
        async move {
            let _permit = decoding.acquire_owned().await.expect("never closed");
            match tokio::task::spawn_blocking(work).await {
                Ok(v) => v,
                // The gate never panics on input (fuzzed); if it did, the panic is the
                // request's, not the process's.
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        }
    }
}
