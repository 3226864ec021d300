//! The signed-in session and this device's id. The console keeps the session in the
//! browser's local storage so a reload does not sign the person out; the field app holds
//! it in memory only (`hold`), sealed in the phone's encrypted store, so that a phone's
//! storage read without the password gives no way into the server either.

use shared::api::TokenPair;
use shared::user::User;
use std::cell::RefCell;
use std::rc::Rc;

const SESSION_KEY: &str = "donghanh.session";
const WHO_KEY: &str = "donghanh.user";
const DEVICE_KEY: &str = "donghanh.device";
const LANG_KEY: &str = "donghanh.lang";

pub(crate) fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Keeps a renewed session wherever the app holds it (the field app seals it).
pub type Keeper = Rc<dyn Fn(&TokenPair)>;

struct Held {
    pair: Option<TokenPair>,
    keep: Keeper,
}

thread_local! {
    /// The session held in memory; `Some` once the app holds its session itself.
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// From now on the session lives in memory, kept by `keep` at each renewal, and never
/// in local storage (which forgets any it held).
pub fn hold(pair: TokenPair, keep: Keeper) {
    if let Some(s) = storage() {
        let _ = s.remove_item(SESSION_KEY);
    }
    HELD.with(|h| {
        *h.borrow_mut() = Some(Held {
            pair: Some(pair),
            keep,
        })
    });
}

/// Lets go of a held session's tokens (the app locked); its keeper stays.
pub fn release() {
    HELD.with(|h| {
        if let Some(held) = h.borrow_mut().as_mut() {
            held.pair = None;
        }
    });
}

pub fn load() -> Option<TokenPair> {
    if let Some(held) = HELD.with(|h| h.borrow().as_ref().map(|h| h.pair.clone())) {
        return held;
    }
    let raw = storage()?.get_item(SESSION_KEY).ok().flatten()?;
    serde_json::from_str(&raw).ok()
}

pub fn save(pair: &TokenPair) {
    let keeper = HELD.with(|h| {
        h.borrow_mut().as_mut().map(|held| {
            held.pair = Some(pair.clone());
            held.keep.clone()
        })
    });
    if let Some(keep) = keeper {
        keep(pair);
        return;
    }
    if let (Some(s), Ok(json)) = (storage(), serde_json::to_string(pair)) {
        // A full or blocked storage only costs a sign-in after reload.
        let _ = s.set_item(SESSION_KEY, &json);
    }
}

/// Ends the session on this browser: held, stored, and whose it was.
pub fn clear() {
    HELD.with(|h| *h.borrow_mut() = None);
    if let Some(s) = storage() {
        let _ = s.remove_item(SESSION_KEY);
        let _ = s.remove_item(WHO_KEY);
    }
}

/// Who is signed in on this phone while the session itself is sealed (the lock screen
/// names them and opens their store).
pub fn save_who(user: &User) {
    save_json(WHO_KEY, user);
}

pub fn load_who() -> Option<User> {
    load_json(WHO_KEY)
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

/// Forgets a value kept under `key`.
pub fn remove(key: &str) {
    if let Some(s) = storage() {
        let _ = s.remove_item(key);
    }
}
