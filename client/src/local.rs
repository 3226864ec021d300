//! The phone's local store in IndexedDB, one database per user so that a second person
//! signing in on the same phone never sees or wipes the first one's unsent work.
//!
//! Everything of the person is sealed with their data key (`vault`) before it is
//! written: IndexedDB holds, per household, only its id and sealed bytes, and the meta
//! store the sealed sync state and accompaniment list. The one record kept open is the
//! lock (`lock::LockRecord`): the data key wrapped by the password, and the count of
//! wrong tries, which the phone must read before anything is unlocked.
//!
//! - `docs`: per household, the sealed automerge document, the heads the server confirmed,
//!   and the summary row the list screen reads (so the list shows before any document
//!   is decoded);
//! - `meta`: this store's automerge actor and the sync state (`SavedDevice`), the time of
//!   the last successful sync; who accompanies the households; the lock.
//!
//! Every write is one IndexedDB transaction: a person's action (one household) or a whole
//! sync answer (many households), sealed before the transaction opens (a transaction
//! that waits for anything but IndexedDB commits early). The caller awaits its completion
//! before saying "saved".

use crate::lock::LockRecord;
use crate::vault::{DataKey, VaultError};
use rexie::{ObjectStore, Rexie, TransactionMode};
use serde::{Deserialize, Serialize};
use shared::Text;
use shared::summary::{Accompaniments, Summary};
use shared::sync::SavedDevice;
use wasm_bindgen::JsValue;

const DOCS: &str = "docs";
const META: &str = "meta";
const META_KEY: &str = "device";
const ACCOMPANIMENTS_KEY: &str = "accompaniments";
const LOCK_KEY: &str = "lock";
const SESSION_KEY: &str = "session";

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

/// A record as IndexedDB holds it: sealed bytes (and, for a household, its id as the key).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sealed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(with = "serde_bytes")]
    sealed: Vec<u8>,
}

/// What a household's sealed bytes hold besides the document.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DocHeader {
    synced: Vec<String>,
    summary: Option<Summary>,
    pending: bool,
}

/// A household before sealing: the header's length, the header as JSON, the document.
fn encode_doc(d: &StoredDoc) -> Result<Vec<u8>, LocalError> {
    let header = serde_json::to_vec(&DocHeader {
        synced: d.synced.clone(),
        summary: d.summary.clone(),
        pending: d.pending,
    })
    .map_err(|e| LocalError(e.to_string()))?;
    let len = u32::try_from(header.len()).map_err(|e| LocalError(e.to_string()))?;
    let mut out = Vec::with_capacity(4 + header.len() + d.bytes.len());
    out.extend(len.to_le_bytes());
    out.extend(header);
    out.extend(&d.bytes);
    Ok(out)
}

fn decode_doc(id: String, plain: &[u8]) -> Result<StoredDoc, LocalError> {
    let bad = || LocalError("a household record is damaged".into());
    let len = u32::from_le_bytes(
        plain
            .get(..4)
            .ok_or_else(bad)?
            .try_into()
            .map_err(|_| bad())?,
    );
    let end = 4usize.checked_add(len as usize).ok_or_else(bad)?;
    let header: DocHeader =
        serde_json::from_slice(plain.get(4..end).ok_or_else(bad)?).map_err(|_| bad())?;
    Ok(StoredDoc {
        id,
        bytes: plain[end..].to_vec(),
        synced: header.synced,
        summary: header.summary,
        pending: header.pending,
    })
}

/// Households' sealed bytes as IndexedDB records with their keys.
fn sealed_docs(
    docs: &[StoredDoc],
    sealed: Vec<Vec<u8>>,
) -> Result<Vec<(JsValue, Option<JsValue>)>, LocalError> {
    docs.iter()
        .zip(sealed)
        .map(|(d, sealed)| {
            let record = Sealed {
                id: Some(d.id.clone()),
                sealed,
            };
            Ok((to_js(&record)?, Some(JsValue::from_str(&d.id))))
        })
        .collect()
}

/// Everything a person's store holds, unsealed.
pub struct Loaded {
    pub meta: Option<Meta>,
    pub docs: Vec<StoredDoc>,
    pub accompaniments: Accompaniments,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("local store: {0}")]
pub struct LocalError(String);

impl From<VaultError> for LocalError {
    fn from(e: VaultError) -> Self {
        match e {
            VaultError::Wrong => LocalError("the data does not open with this key".into()),
            VaultError::Unavailable(why) => LocalError(why),
        }
    }
}

impl From<serde_json::Error> for LocalError {
    fn from(e: serde_json::Error) -> Self {
        LocalError(e.to_string())
    }
}

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
    /// The person's data key, once the lock opened it.
    key: Option<DataKey>,
}

fn from_js<T: serde::de::DeserializeOwned>(v: Option<JsValue>) -> Result<Option<T>, LocalError> {
    match v {
        Some(v) if !v.is_undefined() && !v.is_null() => {
            Ok(Some(serde_wasm_bindgen::from_value(v)?))
        }
        _ => Ok(None),
    }
}

impl LocalStore {
    /// The person's store, still locked: only the lock can be read or written.
    pub async fn open(user_id: &str) -> Result<Self, LocalError> {
        let db = Rexie::builder(&db_name(user_id))
            .version(1)
            .add_object_store(ObjectStore::new(DOCS))
            .add_object_store(ObjectStore::new(META))
            .build()
            .await?;
        Ok(LocalStore { db, key: None })
    }

    /// The store with its data key, for reading and writing the person's data.
    pub fn unlocked(mut self, key: DataKey) -> Self {
        self.key = Some(key);
        self
    }

    fn key(&self) -> Result<&DataKey, LocalError> {
        self.key
            .as_ref()
            .ok_or_else(|| LocalError("the store is locked".into()))
    }

    pub async fn lock_record(&self) -> Result<Option<LockRecord>, LocalError> {
        let tx = self.db.transaction(&[META], TransactionMode::ReadOnly)?;
        let v = tx.store(META)?.get(JsValue::from_str(LOCK_KEY)).await?;
        tx.done().await?;
        from_js(v)
    }

    pub async fn save_lock(&self, lock: &LockRecord) -> Result<(), LocalError> {
        let tx = self.db.transaction(&[META], TransactionMode::ReadWrite)?;
        tx.store(META)?
            .put(&to_js(lock)?, Some(&JsValue::from_str(LOCK_KEY)))
            .await?;
        tx.done().await?;
        Ok(())
    }

    /// Everything the store holds, read in one transaction and unsealed.
    pub async fn load(&self) -> Result<Loaded, LocalError> {
        let key = self.key()?;
        let tx = self
            .db
            .transaction(&[DOCS, META], TransactionMode::ReadOnly)?;
        let meta = tx.store(META)?.get(JsValue::from_str(META_KEY)).await?;
        let accompaniments = tx
            .store(META)?
            .get(JsValue::from_str(ACCOMPANIMENTS_KEY))
            .await?;
        let docs = tx.store(DOCS)?.get_all(None, None).await?;
        tx.done().await?;
        let docs = docs
            .into_iter()
            .map(serde_wasm_bindgen::from_value)
            .collect::<Result<Vec<Sealed>, _>>()?;
        let meta: Option<Sealed> = from_js(meta)?;
        let accompaniments: Option<Sealed> = from_js(accompaniments)?;
        let mut sealed: Vec<&[u8]> = docs.iter().map(|d| d.sealed.as_slice()).collect();
        sealed.extend(meta.iter().map(|m| m.sealed.as_slice()));
        sealed.extend(accompaniments.iter().map(|a| a.sealed.as_slice()));
        let mut plain = key.open_all(&sealed).await?;
        let accompaniments = match accompaniments {
            Some(_) => serde_json::from_slice(&plain.pop().unwrap_or_default())?,
            None => Accompaniments::new(),
        };
        let meta = match meta {
            Some(_) => Some(serde_json::from_slice(&plain.pop().unwrap_or_default())?),
            None => None,
        };
        let docs = docs
            .into_iter()
            .zip(plain)
            .map(|(d, p)| decode_doc(d.id.unwrap_or_default(), &p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Loaded {
            meta,
            docs,
            accompaniments,
        })
    }

    /// Writes documents, removes others and saves the sync state, all or nothing.
    pub async fn write(
        &self,
        docs: &[StoredDoc],
        removed: &[String],
        meta: &Meta,
    ) -> Result<(), LocalError> {
        let key = self.key()?;
        let mut plains = docs.iter().map(encode_doc).collect::<Result<Vec<_>, _>>()?;
        plains.push(serde_json::to_vec(meta)?);
        let mut sealed = key.seal_all(&plains).await?;
        let meta = Sealed {
            id: None,
            sealed: sealed.pop().unwrap_or_default(),
        };
        let tx = self
            .db
            .transaction(&[DOCS, META], TransactionMode::ReadWrite)?;
        let store = tx.store(DOCS)?;
        store
            .put_all(sealed_docs(docs, sealed)?.into_iter())
            .await?;
        for id in removed {
            store.delete(JsValue::from_str(id)).await?;
        }
        tx.store(META)?
            .put(&to_js(&meta)?, Some(&JsValue::from_str(META_KEY)))
            .await?;
        tx.done().await?;
        Ok(())
    }

    /// `value` sealed into the meta store under `key`, in a transaction of its own.
    async fn put_sealed(&self, key: &str, value: &impl Serialize) -> Result<(), LocalError> {
        let sealed = self.key()?.seal(&serde_json::to_vec(value)?).await?;
        let tx = self.db.transaction(&[META], TransactionMode::ReadWrite)?;
        tx.store(META)?
            .put(
                &to_js(&Sealed { id: None, sealed })?,
                Some(&JsValue::from_str(key)),
            )
            .await?;
        tx.done().await?;
        Ok(())
    }

    /// Who accompanies the households, as the server last said.
    pub async fn save_accompaniments(&self, map: &Accompaniments) -> Result<(), LocalError> {
        self.put_sealed(ACCOMPANIMENTS_KEY, map).await
    }

    /// The person's session (its tokens open the server), sealed.
    pub async fn save_session(&self, pair: &shared::api::TokenPair) -> Result<(), LocalError> {
        self.put_sealed(SESSION_KEY, pair).await
    }

    pub async fn session(&self) -> Result<Option<shared::api::TokenPair>, LocalError> {
        let tx = self.db.transaction(&[META], TransactionMode::ReadOnly)?;
        let v = tx.store(META)?.get(JsValue::from_str(SESSION_KEY)).await?;
        tx.done().await?;
        let Some(sealed) = from_js::<Sealed>(v)? else {
            return Ok(None);
        };
        let plain = self.key()?.open_all(&[sealed.sealed.as_slice()]).await?;
        Ok(Some(serde_json::from_slice(
            plain.first().map(Vec::as_slice).unwrap_or_default(),
        )?))
    }

    /// A store written before the phone encrypted its data (the households and sync
    /// state in plain form), if this is one.
    pub async fn legacy(&self) -> Result<Option<(Option<Meta>, Vec<StoredDoc>)>, LocalError> {
        let tx = self
            .db
            .transaction(&[DOCS, META], TransactionMode::ReadOnly)?;
        let meta = tx.store(META)?.get(JsValue::from_str(META_KEY)).await?;
        let docs = tx.store(DOCS)?.get_all(None, None).await?;
        tx.done().await?;
        let has = |v: &JsValue, field: &str| {
            js_sys::Reflect::has(v, &JsValue::from_str(field)).unwrap_or(false)
        };
        let plain_meta = meta
            .as_ref()
            .is_some_and(|m| m.is_object() && has(m, "actor"));
        let plain_docs = docs.iter().any(|d| has(d, "bytes"));
        if !plain_meta && !plain_docs {
            return Ok(None);
        }
        let meta = if plain_meta { from_js(meta)? } else { None };
        let docs = docs
            .into_iter()
            .filter(|d| has(d, "bytes"))
            .map(serde_wasm_bindgen::from_value)
            .collect::<Result<Vec<StoredDoc>, _>>()?;
        Ok(Some((meta, docs)))
    }

    /// Replaces a legacy store's plain records by sealed ones and saves the lock, in one
    /// transaction: the unsent work is never in neither form.
    pub async fn seal_legacy(
        &self,
        meta: Option<&Meta>,
        docs: &[StoredDoc],
        accompaniments: &Accompaniments,
        lock: &LockRecord,
    ) -> Result<(), LocalError> {
        let key = self.key()?;
        let mut plains = docs.iter().map(encode_doc).collect::<Result<Vec<_>, _>>()?;
        plains.push(serde_json::to_vec(accompaniments)?);
        if let Some(m) = meta {
            plains.push(serde_json::to_vec(m)?);
        }
        let mut sealed = key.seal_all(&plains).await?;
        let meta = meta.map(|_| Sealed {
            id: None,
            sealed: sealed.pop().unwrap_or_default(),
        });
        let accompaniments = Sealed {
            id: None,
            sealed: sealed.pop().unwrap_or_default(),
        };
        let tx = self
            .db
            .transaction(&[DOCS, META], TransactionMode::ReadWrite)?;
        let store = tx.store(DOCS)?;
        store.clear().await?;
        store
            .put_all(sealed_docs(docs, sealed)?.into_iter())
            .await?;
        let meta_store = tx.store(META)?;
        match meta {
            Some(m) => {
                meta_store
                    .put(&to_js(&m)?, Some(&JsValue::from_str(META_KEY)))
                    .await?;
            }
            None => meta_store.delete(JsValue::from_str(META_KEY)).await?,
        }
        meta_store
            .put(
                &to_js(&accompaniments)?,
                Some(&JsValue::from_str(ACCOMPANIMENTS_KEY)),
            )
            .await?;
        meta_store
            .put(&to_js(lock)?, Some(&JsValue::from_str(LOCK_KEY)))
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
