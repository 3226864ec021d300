//! The server's side of the household write core: it loads a household document, runs the
//! shared admission gate (`shared::core`) on a bounded pool of threads, and commits what
//! passes together with its read-model rows, conflicts, actor bindings and audit event.
//! Sync pushes and server-made edits (conflict decisions) both come through here, so they
//! pass the same gate.

use crate::store::{Actor, DocWrite, Store, StoreError, StoredDoc};
use shared::core::{Admission, Limits, Refusal, Writer, admit};
use shared::doc::{Author, HouseholdDoc};
use shared::rules::RuleBook;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Changes after a snapshot before the document is compacted again.
const COMPACT_AFTER: usize = 16;
/// Attempts when other writers keep committing to the same household.
const MAX_ATTEMPTS: usize = 20;

/// What became of one push.
#[derive(Debug)]
pub enum Pushed {
    /// Stored (or already held): acknowledge.
    Taken,
    /// Refused by the gate: quarantine and tell the device.
    Refused(Refusal),
    /// Built on changes the server lacks: the device must get the whole document.
    Resend,
    /// Storage busy or failing: not acknowledged, the device sends it again later.
    Later,
}

/// The gate's dependencies: the rule book, the limits, and a bound on concurrent decoding
/// so a burst of pushes cannot take every thread of the runtime.
#[derive(Debug)]
pub struct WriteCore {
    pub rules: Arc<RuleBook>,
    pub limits: Limits,
    decoding: Semaphore,
}

impl WriteCore {
    pub fn new(rules: Arc<RuleBook>) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        WriteCore {
            rules,
            limits: Limits::DEFAULT,
            decoding: Semaphore::new(cores),
        }
    }

    /// Runs the gate on a blocking thread, at most one per core at a time.
    async fn admit(
        &self,
        writer: &Writer,
        id: &str,
        before: Option<HouseholdDoc>,
        bytes: Arc<Vec<u8>>,
    ) -> Result<Admission, Refusal> {
        let _permit = self.decoding.acquire().await.expect("never closed");
        let (writer, id, rules, limits) = (
            writer.clone(),
            id.to_string(),
            self.rules.clone(),
            self.limits,
        );
        tokio::task::spawn_blocking(move || {
            admit(&writer, &id, before.as_ref(), &bytes, &rules, &limits)
        })
        .await
        .unwrap_or_else(|_| {
            Err(Refusal::new(
                "malformed",
                "Dữ liệu đồng bộ không xử lý được.",
                "The sync data could not be processed.",
            ))
        })
    }

    /// Takes a device's push of `bytes` to household `id` through the gate and commits it.
    /// The resulting household must lie in one of `villages` (`None`: anywhere).
    pub async fn push(
        &self,
        store: &dyn Store,
        writer: &Writer,
        actor: &Actor,
        id: &str,
        bytes: Vec<u8>,
        villages: Option<&std::collections::BTreeSet<String>>,
    ) -> Pushed {
        let bytes = Arc::new(bytes);
        let later = |e: StoreError| {
            tracing::warn!(error = %e, "push not stored");
            Pushed::Later
        };
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0 {
                let pause = rand::random::<u64>() % (2 * attempt as u64 + 1);
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            let stored = match store.load_doc(id).await {
                Ok(s) => s,
                Err(e) => return later(e),
            };
            let before = match stored
                .as_ref()
                .map(|s| s.open(&writer.author()))
                .transpose()
            {
                Ok(d) => d,
                Err(e) => return later(StoreError::Corrupt(e.to_string())),
            };
            let admitted = match self.admit(writer, id, before, bytes.clone()).await {
                Ok(Admission::Repeat) => return Pushed::Taken,
                Ok(Admission::MissingDeps) => return Pushed::Resend,
                Ok(Admission::Admitted(a)) => a,
                Err(r) => return Pushed::Refused(r),
            };
            if villages.is_some_and(|v| !v.contains(&admitted.records.household.village_id)) {
                return Pushed::Refused(Refusal::new(
                    "scope",
                    "Hộ này nằm ngoài địa bàn của bạn.",
                    "This household is outside your area.",
                ));
            }
            let mut a = *admitted;
            let conflicts = match a.doc.conflicts() {
                Ok(c) => c,
                Err(e) => return later(StoreError::Corrupt(e.to_string())),
            };
            let write = DocWrite {
                doc_id: id.to_string(),
                expected_seq: stored.as_ref().map(|s| s.seq),
                compacted: stored
                    .as_ref()
                    .is_some_and(|s| s.chunks.len() >= COMPACT_AFTER)
                    .then(|| a.doc.save()),
                changes: a.changes,
                heads: a.doc.heads().iter().map(|h| h.to_string()).collect(),
                records: a.records,
                conflicts,
                audit: serde_json::json!({ "via": "sync" }),
                touched: Some(a.touched),
                actors: a.actors.into_iter().collect(),
            };
            match store.commit_doc(actor, &write).await {
                Ok(_) => return Pushed::Taken,
                Err(StoreError::Stale) => continue,
                Err(e) => return refusal_of(e).map_or(Pushed::Later, Pushed::Refused),
            }
        }
        Pushed::Later
    }

    /// A change the server makes on a user's behalf (a conflict decision): written by
    /// `edit` on the stored document, then judged by the same gate as a device's push.
    pub async fn edit(
        &self,
        store: &dyn Store,
        writer: &Writer,
        actor: &Actor,
        id: &str,
        audit: serde_json::Value,
        edit: impl Fn(&mut HouseholdDoc, &Author) -> Result<(), shared::doc::DocError>,
    ) -> Result<(), EditError> {
        for _ in 0..MAX_ATTEMPTS {
            let stored: StoredDoc = store.load_doc(id).await?.ok_or(EditError::NotFound)?;
            let author = writer.author();
            let mut doc = stored
                .open(&author)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let before = doc.clone();
            let old = stored.change_heads();
            edit(&mut doc, &author).map_err(|e| {
                EditError::Refused(Refusal::new("malformed", e.to_string(), e.to_string()))
            })?;
            let bytes = Arc::new(doc.save_after(&old));
            if bytes.is_empty() {
                return Ok(());
            }
            let mut a = match self.admit(writer, id, Some(before), bytes).await {
                Ok(Admission::Admitted(a)) => *a,
                Ok(_) => return Ok(()),
                Err(r) => return Err(EditError::Refused(r)),
            };
            let write = DocWrite {
                doc_id: id.to_string(),
                expected_seq: Some(stored.seq),
                compacted: (stored.chunks.len() >= COMPACT_AFTER).then(|| a.doc.save()),
                changes: a.changes,
                heads: a.doc.heads().iter().map(|h| h.to_string()).collect(),
                records: a.records,
                conflicts: a
                    .doc
                    .conflicts()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                audit: audit.clone(),
                touched: Some(a.touched),
                actors: vec![],
            };
            match store.commit_doc(actor, &write).await {
                Ok(_) => return Ok(()),
                Err(StoreError::Stale) => continue,
                Err(e) => return Err(refusal_of(e).map_or_else(|e| e.into(), EditError::Refused)),
            }
        }
        Err(EditError::Busy)
    }
}

/// Why a server-made edit was not stored.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("no such household")]
    NotFound,
    #[error("refused: {0:?}")]
    Refused(Refusal),
    #[error("busy")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Storage errors that are the pushed data's fault, as a refusal the device is shown.
fn refusal_of(e: StoreError) -> Result<Refusal, StoreError> {
    match e {
        StoreError::Duplicate(detail) => {
            tracing::info!(%detail, "push refused: duplicate");
            Ok(Refusal::new(
                "duplicate_code",
                "Mã hộ này đã có người dùng; hãy đặt mã khác cho hộ rồi đồng bộ lại.",
                "This household code is already taken; give the household another code and sync again.",
            ))
        }
        StoreError::Ownership(_) => Ok(Refusal::new(
            "ownership",
            "Bản ghi không thuộc hộ này.",
            "A record does not belong to this household.",
        )),
        StoreError::ActorTaken(_) => Ok(Refusal::new(
            "actor",
            "Máy này ghi dưới danh nghĩa của một máy khác; hãy cài lại ứng dụng.",
            "This device writes under another device's identity; reinstall the app.",
        )),
        other => Err(other),
    }
}
