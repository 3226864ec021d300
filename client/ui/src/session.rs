//! The signed-in session and this device's id, kept in the browser's local storage so a
//! reload does not sign the person out.

use shared::api::TokenPair;

const SESSION_KEY: &str = "donghanh.session";
const DEVICE_KEY: &str = "donghanh.device";
const LANG_KEY: &str = "donghanh.lang";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn load() -> Option<TokenPair> {
    let raw = storage()?.get_item(SESSION_KEY).ok().flatten()?;
    serde_json::from_str(&raw).ok()
}

pub fn save(pair: &TokenPair) {
    if let (Some(s), Ok(json)) = (storage(), serde_json::to_string(pair)) {
        // A full or blocked storage only costs a sign-in after reload.
        let _ = s.set_item(SESSION_KEY, &json);
    }
}

pub fn clear() {
    if let Some(s) = storage() {
        let _ = s.remove_item(SESSION_KEY);
    }
}

/// This device's id, created once; the server binds refresh tokens to it.
pub fn device_id() -> String {
    let s = storage();
    if let Some(id) = s
        .as_ref()
        .and_then(|s| s.get_item(DEVICE_KEY).ok().flatten())
    {
        return id;
    }
    let id = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_else(|| format!("device-{}", js_sys_now()));
    if let Some(s) = s {
        let _ = s.set_item(DEVICE_KEY, &id);
    }
    id
}

fn js_sys_now() -> u64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now() as u64)
        .unwrap_or_default()
}

pub fn load_lang() -> shared::i18n::Lang {
    match storage()
        .and_then(|s| s.get_item(LANG_KEY).ok().flatten())
        .as_deref()
    {
        Some("en") => shared::i18n::Lang::En,
        _ => shared::i18n::Lang::Vi,
    }
}

pub fn save_lang(lang: shared::i18n::Lang) {
    if let Some(s) = storage() {
        let _ = s.set_item(
            LANG_KEY,
            if lang == shared::i18n::Lang::En {
                "en"
            } else {
                "vi"
            },
        );
    }
}

/// A small value kept on the device under `key` (what the phone last heard from the
/// server and needs offline).
pub fn save_json<T: serde::Serialize>(key: &str, value: &T) {
    if let (Some(s), Ok(json)) = (storage(), serde_json::to_string(value)) {
        // A full storage only costs asking the server again.
        let _ = s.set_item(key, &json);
    }
}

pub fn load_json<T: serde::de::DeserializeOwned>(key: &str) -> Option<T> {
    serde_json::from_str(&storage()?.get_item(key).ok().flatten()?).ok()
}
