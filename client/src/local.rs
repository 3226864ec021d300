//! The phone's local store in IndexedDB, one database per user so that a second person
//! signing in on the same phone never sees or wipes the first one's unsent work.
//!
//! - `docs`: per household, the automerge document bytes, the heads the server confirmed,
//!   and the summary row the list screen reads (so the list shows before any document
//!   is decoded);
//! - `meta`: this store's automerge actor and the sync state (`SavedDevice`), the time of
//!   the last successful sync.
//!
//! Every write is one IndexedDB transaction: a person's action (one household) or a whole
//! sync answer (many households). The caller awaits its completion before saying "saved".

use rexie::{ObjectStore, Rexie, TransactionMode};
use serde::{Deserialize, Serialize};
use shared::Text;
use shared::summary::Summary;
use shared::sync::SavedDevice;
use wasm_bindgen::JsValue;

const DOCS: &str = "docs";
const META: &str = "meta";
const META_KEY: &str = "device";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredDoc {
    pub id: String,
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
    pub synced: Vec<String>,
    pub summary: Option<Summary>,
    /// Holds changes the server has not confirmed (so the count shows before decoding).
    #[serde(default)]
    pub pending: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    /// This store's automerge actor, hex; a wiped and refilled store gets a new one.
    pub actor: String,
    pub device: SavedDevice,
    /// Milliseconds since the epoch of the last sync that completed.
    pub last_sync_ms: Option<f64>,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("local store: {0}")]
pub struct LocalError(String);

impl LocalError {
    pub fn message(&self) -> Text {
        Text::new(
            format!(
                "Không ghi được vào bộ nhớ của điện thoại ({}). Hãy giải phóng bộ nhớ rồi thử lại.",
                self.0
            ),
            format!(
                "Could not write to the phone's storage ({}). Free some space and try again.",
                self.0
            ),
        )
    }
}

impl LocalError {
    pub fn closed() -> Self {
        LocalError("closed".into())
    }
}

impl From<rexie::Error> for LocalError {
    fn from(e: rexie::Error) -> Self {
        LocalError(e.to_string())
    }
}

impl From<serde_wasm_bindgen::Error> for LocalError {
    fn from(e: serde_wasm_bindgen::Error) -> Self {
        LocalError(e.to_string())
    }
}

fn db_name(user_id: &str) -> String {
    format!("donghanh-{user_id}")
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, LocalError> {
    let s = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    Ok(v.serialize(&s)?)
}

pub struct LocalStore {
    db: Rexie,
}

impl LocalStore {
    pub async fn open(user_id: &str) -> Result<Self, LocalError> {
        let db = Rexie::builder(&db_name(user_id))
            .version(1)
            .add_object_store(ObjectStore::new(DOCS))
            .add_object_store(ObjectStore::new(META))
            .build()
            .await?;
        Ok(LocalStore { db })
    }

    /// Everything the store holds, read in one transaction.
    pub async fn load(&self) -> Result<(Option<Meta>, Vec<StoredDoc>), LocalError> {
        let tx = self
            .db
            .transaction(&[DOCS, META], TransactionMode::ReadOnly)?;
        let meta = tx.store(META)?.get(JsValue::from_str(META_KEY)).await?;
        let docs = tx.store(DOCS)?.get_all(None, None).await?;
        tx.done().await?;
        let meta = match meta {
            Some(v) if !v.is_undefined() => Some(serde_wasm_bindgen::from_value(v)?),
            _ => None,
        };
        let docs = docs
            .into_iter()
            .map(serde_wasm_bindgen::from_value)
            .collect::<Result<Vec<StoredDoc>, _>>()?;
        Ok((meta, docs))
    }

    /// Writes documents, removes others and saves the sync state, all or nothing.
    pub async fn write(
        &self,
        docs: &[StoredDoc],
        removed: &[String],
        meta: &Meta,
    ) -> Result<(), LocalError> {
        let tx = self
            .db
            .transaction(&[DOCS, META], TransactionMode::ReadWrite)?;
        let store = tx.store(DOCS)?;
        let values = docs
            .iter()
            .map(|d| Ok((to_js(d)?, Some(JsValue::from_str(&d.id)))))
            .collect::<Result<Vec<_>, LocalError>>()?;
        store.put_all(values.into_iter()).await?;
        for id in removed {
            store.delete(JsValue::from_str(id)).await?;
        }
        tx.store(META)?
            .put(&to_js(meta)?, Some(&JsValue::from_str(META_KEY)))
            .await?;
        tx.done().await?;
        Ok(())
    }

    /// Removes this user's local data (after the person confirmed signing out).
    pub async fn wipe(self, user_id: &str) -> Result<(), LocalError> {
        self.db.close();
        Self::delete(user_id).await
    }

    /// Closes the connection (the working copy was replaced or signed out).
    pub fn close(self) {
        self.db.close();
    }

    /// Removes this user's local data when no store of it is open.
    pub async fn delete(user_id: &str) -> Result<(), LocalError> {
        Rexie::delete(&db_name(user_id)).await?;
        Ok(())
    }
}

/// Bytes used by this app's storage on the phone and the browser's quota, if it says.
pub async fn usage() -> Option<(f64, f64)> {
    let storage = web_sys::window()?.navigator().storage();
    let estimate = wasm_bindgen_futures::JsFuture::from(storage.estimate().ok()?)
        .await
        .ok()?;
    let get = |k: &str| {
        js_sys::Reflect::get(&estimate, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_f64())
    };
    Some((get("usage")?, get("quota")?))
}
