//! The phone's encryption, from the browser's WebCrypto: everything of a person kept on
//! the phone is sealed with AES-256-GCM under a random data key, and the data key is kept
//! only wrapped by keys derived from what the person knows (their password, and an
//! optional PIN) with PBKDF2-SHA256. A powered-off stolen phone then gives nothing away
//! without the password; the derivation's cost is what a guesser pays per try.
//!
//! The data key is created here as raw bytes once, wrapped, and imported as a
//! non-extractable `CryptoKey`; the raw bytes live only as long as the call that wraps
//! them (and again when a PIN is set, after the password opened them).

use js_sys::{Array, Object, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use shared::Text;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

/// PBKDF2-SHA256 iterations for a password (OWASP's figure for PBKDF2-HMAC-SHA256).
pub const PASSWORD_ITERATIONS: u32 = 600_000;
/// The same for a PIN: a 6-digit PIN has a million values, so its wrapped copy is the
/// weaker lock (README.md, "The phone's lock"), and is kept only for a while.
pub const PIN_ITERATIONS: u32 = 600_000;
const SALT_LEN: usize = 16;
const IV_LEN: usize = 12;
const KEY_LEN: usize = 32;

/// Why the vault could not do what was asked.
#[derive(Debug, Clone)]
pub enum VaultError {
    /// The password or PIN does not open the key (or the sealed bytes were altered).
    Wrong,
    /// The browser has no WebCrypto here (an insecure origin) or refused.
    Unavailable(String),
}

impl VaultError {
    pub fn message(&self) -> Text {
        match self {
            VaultError::Wrong => Text::new("Mật khẩu không đúng.", "Wrong password."),
            VaultError::Unavailable(why) => Text::new(
                format!(
                    "Trình duyệt không mã hóa được dữ liệu ({why}). Hãy mở ứng dụng qua địa chỉ https."
                ),
                format!("The browser cannot encrypt the data ({why}). Open the app over https."),
            ),
        }
    }
}

fn unavailable(e: JsValue) -> VaultError {
    VaultError::Unavailable(
        e.as_string()
            .or_else(|| {
                e.dyn_ref::<js_sys::Error>()
                    .map(|e| String::from(e.message()))
            })
            .unwrap_or_else(|| "WebCrypto".into()),
    )
}

fn subtle() -> Result<SubtleCrypto, VaultError> {
    let crypto = web_sys::window()
        .ok_or_else(|| VaultError::Unavailable("no window".into()))?
        .crypto()
        .map_err(unavailable)?;
    Ok(crypto.subtle())
}

/// `n` bytes from the browser's cryptographic random source.
pub fn random(n: usize) -> Result<Vec<u8>, VaultError> {
    let mut bytes = vec![0u8; n];
    web_sys::window()
        .ok_or_else(|| VaultError::Unavailable("no window".into()))?
        .crypto()
        .map_err(unavailable)?
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(unavailable)?;
    Ok(bytes)
}

fn object(fields: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in fields {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o
}

fn usages(list: &[&str]) -> JsValue {
    list.iter()
        .map(|u| JsValue::from_str(u))
        .collect::<Array>()
        .into()
}

fn gcm(iv: &[u8]) -> Object {
    object(&[
        ("name", "AES-GCM".into()),
        ("iv", Uint8Array::from(iv).into()),
    ])
}

async fn resolve(p: Result<js_sys::Promise, JsValue>) -> Result<JsValue, JsValue> {
    JsFuture::from(p?).await
}

fn bytes_of(buffer: JsValue) -> Vec<u8> {
    Uint8Array::new(&buffer).to_vec()
}

/// The key that seals a person's data on this phone.
#[derive(Clone)]
pub struct DataKey(CryptoKey);

/// A key wrapped by one derived from a secret: what the phone stores instead of the key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Wrapped {
    #[serde(with = "serde_bytes")]
    pub salt: Vec<u8>,
    pub iterations: u32,
    /// The nonce, then the AES-GCM ciphertext of the raw data key.
    #[serde(with = "serde_bytes")]
    pub sealed: Vec<u8>,
}

/// A key derived from `secret` by PBKDF2-SHA256 (non-extractable, AES-GCM).
async fn derive(secret: &str, salt: &[u8], iterations: u32) -> Result<CryptoKey, VaultError> {
    let subtle = subtle()?;
    let base = resolve(subtle.import_key_with_object(
        "raw",
        &Uint8Array::from(secret.as_bytes()),
        &object(&[("name", "PBKDF2".into())]),
        false,
        &usages(&["deriveKey"]),
    ))
    .await
    .map_err(unavailable)?;
    let params = object(&[
        ("name", "PBKDF2".into()),
        ("hash", "SHA-256".into()),
        ("salt", Uint8Array::from(salt).into()),
        ("iterations", iterations.into()),
    ]);
    let key = resolve(subtle.derive_key_with_object_and_object(
        &params,
        base.unchecked_ref(),
        &object(&[("name", "AES-GCM".into()), ("length", 256.into())]),
        false,
        &usages(&["encrypt", "decrypt"]),
    ))
    .await
    .map_err(unavailable)?;
    Ok(key.unchecked_into())
}

async fn import(raw: &[u8]) -> Result<DataKey, VaultError> {
    let key = resolve(subtle()?.import_key_with_object(
        "raw",
        &Uint8Array::from(raw),
        &object(&[("name", "AES-GCM".into())]),
        false,
        &usages(&["encrypt", "decrypt"]),
    ))
    .await
    .map_err(unavailable)?;
    Ok(DataKey(key.unchecked_into()))
}

async fn seal_with(key: &CryptoKey, plain: &[u8]) -> Result<Vec<u8>, VaultError> {
    let iv = random(IV_LEN)?;
    let ct = resolve(subtle()?.encrypt_with_object_and_u8_array(&gcm(&iv), key, plain))
        .await
        .map_err(unavailable)?;
    let mut out = iv;
    out.extend(bytes_of(ct));
    Ok(out)
}

async fn open_with(key: &CryptoKey, sealed: &[u8]) -> Result<Vec<u8>, VaultError> {
    if sealed.len() < IV_LEN {
        return Err(VaultError::Wrong);
    }
    let (iv, ct) = sealed.split_at(IV_LEN);
    // A failed authentication tag is the only way decrypting fails with a good key.
    let plain = resolve(subtle()?.decrypt_with_object_and_u8_array(&gcm(iv), key, ct))
        .await
        .map_err(|_| VaultError::Wrong)?;
    Ok(bytes_of(plain))
}

impl DataKey {
    /// A new random data key, with its raw bytes to wrap (and then let go).
    pub async fn create() -> Result<(DataKey, Vec<u8>), VaultError> {
        let raw = random(KEY_LEN)?;
        Ok((import(&raw).await?, raw))
    }

    /// `plain` sealed: a fresh nonce, then the ciphertext with its tag.
    pub async fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, VaultError> {
        seal_with(&self.0, plain).await
    }

    /// Many values sealed at once: every encryption is started before the first is
    /// awaited, so the browser runs them together (a pull of 1,500 households).
    pub async fn seal_all(&self, plains: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, VaultError> {
        let subtle = subtle()?;
        let mut running = Vec::with_capacity(plains.len());
        for plain in plains {
            let iv = random(IV_LEN)?;
            let p = subtle
                .encrypt_with_object_and_u8_array(&gcm(&iv), &self.0, plain)
                .map_err(unavailable)?;
            running.push((iv, JsFuture::from(p)));
        }
        let mut out = Vec::with_capacity(running.len());
        for (iv, p) in running {
            let mut sealed = iv;
            sealed.extend(bytes_of(p.await.map_err(unavailable)?));
            out.push(sealed);
        }
        Ok(out)
    }

    /// Many values opened at once, as `seal_all`.
    pub async fn open_all(&self, sealed: &[&[u8]]) -> Result<Vec<Vec<u8>>, VaultError> {
        let subtle = subtle()?;
        let mut running = Vec::with_capacity(sealed.len());
        for s in sealed {
            if s.len() < IV_LEN {
                return Err(VaultError::Wrong);
            }
            let (iv, ct) = s.split_at(IV_LEN);
            let p = subtle
                .decrypt_with_object_and_u8_array(&gcm(iv), &self.0, ct)
                .map_err(unavailable)?;
            running.push(JsFuture::from(p));
        }
        let mut out = Vec::with_capacity(running.len());
        for p in running {
            out.push(bytes_of(p.await.map_err(|_| VaultError::Wrong)?));
        }
        Ok(out)
    }
}

impl Wrapped {
    /// `raw` wrapped under a key derived from `secret` with a fresh salt.
    pub async fn new(raw: &[u8], secret: &str, iterations: u32) -> Result<Wrapped, VaultError> {
        let salt = random(SALT_LEN)?;
        let kek = derive(secret, &salt, iterations).await?;
        Ok(Wrapped {
            sealed: seal_with(&kek, raw).await?,
            salt,
            iterations,
        })
    }

    /// The data key, if `secret` is the one it was wrapped with; also its raw bytes, for
    /// wrapping it again under another secret.
    pub async fn open(&self, secret: &str) -> Result<(DataKey, Vec<u8>), VaultError> {
        let kek = derive(secret, &self.salt, self.iterations).await?;
        let raw = open_with(&kek, &self.sealed).await?;
        Ok((import(&raw).await?, raw))
    }
}
