//! The phone's app lock: what opens a person's data, offline, and what erases it.
//!
//! The lock record is the one thing of a person's store kept unsealed: the data key
//! wrapped by the password (and by a PIN, when set), when the password last opened it,
//! and the wrong tries in a row. The password is checked on the phone by unwrapping, so
//! the lock works without a network. Ten wrong passwords in a row erase the person's data
//! (unsent work too); a PIN works only within `PIN_WINDOW_MS` of a password unlock and is
//! forgotten after `PIN_TRIES` wrong ones.
//!
//! The first lock of a phone (a new sign-in, or a store written before encryption) is
//! made from the password the server has just accepted, so nobody holding an unlocked
//! old-version phone can set a password of their own.

use crate::local::{LocalError, LocalStore};
use crate::session;
use crate::vault::{DataKey, PASSWORD_ITERATIONS, PIN_ITERATIONS, VaultError, Wrapped};
use serde::{Deserialize, Serialize};
use shared::Text;
use shared::api::TokenPair;
use shared::summary::Accompaniments;

/// Wrong passwords in a row that erase the person's data on the phone.
pub const ERASE_AFTER: u32 = 10;
/// From this many wrong passwords the lock screen warns of the erase.
pub const WARN_FROM: u32 = 5;
/// Wrong PINs in a row after which the PIN is forgotten (the password is then needed).
pub const PIN_TRIES: u32 = 5;
/// How long after a password unlock the PIN may unlock (12 hours).
pub const PIN_WINDOW_MS: f64 = 12.0 * 3600.0 * 1000.0;
/// Idle, or in the background, this long: the app locks (15 minutes).
pub const IDLE_MS: f64 = 15.0 * 60.0 * 1000.0;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockRecord {
    pub password: Wrapped,
    #[serde(default)]
    pub pin: Option<Wrapped>,
    /// When the password last opened the data (ms since the epoch): the PIN's window.
    pub password_at_ms: f64,
    #[serde(default)]
    pub wrong_passwords: u32,
    #[serde(default)]
    pub wrong_pins: u32,
}

impl LockRecord {
    /// Whether the PIN may unlock now.
    pub fn pin_usable(&self, now_ms: f64) -> bool {
        self.pin.is_some()
            && self.wrong_pins < PIN_TRIES
            && now_ms >= self.password_at_ms
            && now_ms - self.password_at_ms < PIN_WINDOW_MS
    }
}

/// Whether the open app locks now: idle too long, or back from the background after too
/// long (timers do not run reliably while a phone's page is hidden).
pub fn should_lock(now_ms: f64, last_active_ms: f64, hidden_since_ms: Option<f64>) -> bool {
    now_ms - last_active_ms >= IDLE_MS || hidden_since_ms.is_some_and(|h| now_ms - h >= IDLE_MS)
}

/// What a try at the lock came to.
pub enum Tried {
    Open(DataKey),
    /// Wrong; how many wrong passwords in a row so far (a PIN: tries left for it).
    Wrong(u32),
    /// The tenth wrong password: the person's data is gone from the phone.
    Erased,
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn store_error(e: LocalError) -> Text {
    e.message()
}

fn vault_error(e: VaultError) -> Text {
    e.message()
}

/// The lock record of the person's store, if the phone has one.
pub async fn record(user_id: &str) -> Result<Option<LockRecord>, Text> {
    let store = LocalStore::open(user_id).await.map_err(store_error)?;
    let r = store.lock_record().await.map_err(store_error);
    store.close();
    r
}

/// The first lock of the person's data on this phone, from the password the server has
/// just accepted: a new data key, and a store from before encryption sealed with it,
/// unsent work included.
pub async fn first_lock(user_id: &str, password: &str) -> Result<DataKey, Text> {
    let (key, raw) = DataKey::create().await.map_err(vault_error)?;
    let lock = LockRecord {
        password: Wrapped::new(&raw, password, PASSWORD_ITERATIONS)
            .await
            .map_err(vault_error)?,
        pin: None,
        password_at_ms: now_ms(),
        wrong_passwords: 0,
        wrong_pins: 0,
    };
    drop(raw);
    let store = LocalStore::open(user_id)
        .await
        .map_err(store_error)?
        .unlocked(key.clone());
    let legacy = store.legacy().await.map_err(store_error)?;
    let (meta, docs) = legacy.unwrap_or_default();
    // What the old version kept in the browser's local storage moves into the store.
    let accompaniments: Accompaniments =
        session::load_json(&legacy_accompaniment_key(user_id)).unwrap_or_default();
    let result = store
        .seal_legacy(meta.as_ref(), &docs, &accompaniments, &lock)
        .await
        .map_err(store_error);
    store.close();
    result?;
    session::remove(&legacy_accompaniment_key(user_id));
    Ok(key)
}

/// Where the version before encryption kept who accompanies the households.
fn legacy_accompaniment_key(user_id: &str) -> String {
    format!("donghanh.accompaniment.{user_id}")
}

/// What signing in online came to on this phone.
pub enum SignedIn {
    Open(DataKey),
    /// The phone's data is locked with an earlier password (it was changed since): the
    /// lock screen asks for that one once, then locks with the new one.
    EarlierPassword,
}

/// After the server accepted `password`: opens the person's data on this phone with it,
/// or makes the first lock.
pub async fn signed_in(user_id: &str, password: &str) -> Result<SignedIn, Text> {
    match record(user_id).await? {
        None => Ok(SignedIn::Open(first_lock(user_id, password).await?)),
        Some(rec) => match rec.password.open(password).await {
            Ok((key, _)) => {
                save_after_password(user_id, rec).await?;
                Ok(SignedIn::Open(key))
            }
            Err(VaultError::Wrong) => Ok(SignedIn::EarlierPassword),
            Err(e) => Err(vault_error(e)),
        },
    }
}

async fn save(user_id: &str, rec: &LockRecord) -> Result<(), Text> {
    let store = LocalStore::open(user_id).await.map_err(store_error)?;
    let r = store.save_lock(rec).await.map_err(store_error);
    store.close();
    r
}

async fn save_after_password(user_id: &str, mut rec: LockRecord) -> Result<(), Text> {
    rec.wrong_passwords = 0;
    rec.wrong_pins = 0;
    rec.password_at_ms = now_ms();
    save(user_id, &rec).await
}

/// A password typed at the lock. `rewrap`: a new password the server accepted, to lock
/// with from now on once the earlier one opened the data.
pub async fn try_password(
    user_id: &str,
    password: &str,
    rewrap: Option<&str>,
) -> Result<Tried, Text> {
    let Some(mut rec) = record(user_id).await? else {
        return Err(Text::new(
            "Máy chưa có khóa dữ liệu; hãy đăng nhập khi có mạng.",
            "This phone has no data lock yet; sign in with a network.",
        ));
    };
    match rec.password.open(password).await {
        Ok((key, raw)) => {
            if let Some(new) = rewrap {
                rec.password = Wrapped::new(&raw, new, PASSWORD_ITERATIONS)
                    .await
                    .map_err(vault_error)?;
                // A PIN set under the earlier password stays valid only through it.
                rec.pin = None;
            }
            save_after_password(user_id, rec).await?;
            Ok(Tried::Open(key))
        }
        Err(VaultError::Wrong) => {
            rec.wrong_passwords += 1;
            if rec.wrong_passwords >= ERASE_AFTER {
                erase(user_id).await?;
                return Ok(Tried::Erased);
            }
            save(user_id, &rec).await?;
            Ok(Tried::Wrong(rec.wrong_passwords))
        }
        Err(e) => Err(vault_error(e)),
    }
}

/// A PIN typed at the lock, within its window.
pub async fn try_pin(user_id: &str, pin: &str) -> Result<Tried, Text> {
    let Some(mut rec) = record(user_id).await? else {
        return Err(Text::new("Không có mã PIN.", "No PIN is set."));
    };
    let Some(wrapped) = rec.pin.clone().filter(|_| rec.pin_usable(now_ms())) else {
        return Ok(Tried::Wrong(0));
    };
    match wrapped.open(pin).await {
        Ok((key, _)) => {
            rec.wrong_pins = 0;
            save(user_id, &rec).await?;
            Ok(Tried::Open(key))
        }
        Err(VaultError::Wrong) => {
            rec.wrong_pins += 1;
            if rec.wrong_pins >= PIN_TRIES {
                rec.pin = None;
            }
            save(user_id, &rec).await?;
            Ok(Tried::Wrong(PIN_TRIES.saturating_sub(rec.wrong_pins)))
        }
        Err(e) => Err(vault_error(e)),
    }
}

/// Sets a 6-digit PIN, after the password opened the data again.
pub async fn set_pin(user_id: &str, password: &str, pin: &str) -> Result<(), Text> {
    if pin.len() != 6 || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Text::new(
            "Mã PIN gồm đúng 6 chữ số.",
            "A PIN is exactly 6 digits.",
        ));
    }
    let Some(mut rec) = record(user_id).await? else {
        return Err(Text::new("Máy chưa có khóa dữ liệu.", "No data lock yet."));
    };
    let (_, raw) = rec.password.open(password).await.map_err(vault_error)?;
    rec.pin = Some(
        Wrapped::new(&raw, pin, PIN_ITERATIONS)
            .await
            .map_err(vault_error)?,
    );
    rec.wrong_pins = 0;
    rec.password_at_ms = now_ms();
    save(user_id, &rec).await
}

/// Forgets the PIN.
pub async fn remove_pin(user_id: &str) -> Result<(), Text> {
    if let Some(mut rec) = record(user_id).await? {
        rec.pin = None;
        save(user_id, &rec).await?;
    }
    Ok(())
}

/// Deletes everything of the person on this phone: the store (households, unsent work,
/// sync state, accompaniments, the wrapped keys) and what the browser's local storage
/// held of them. The app's own files stay cached; they hold nobody's data.
pub async fn erase(user_id: &str) -> Result<(), Text> {
    LocalStore::delete(user_id).await.map_err(store_error)?;
    session::remove(&legacy_accompaniment_key(user_id));
    Ok(())
}

/// Holds the person's session in memory, sealed in their store, once the data is open:
/// `fresh` from a sign-in just made, else the one sealed at the last, else (the first
/// unlock after the update) the one the earlier version kept in local storage, which is
/// sealed and forgotten there. Each renewal of the tokens is sealed again. Whether a
/// session is held.
pub async fn hold_session(
    user_id: &str,
    key: &DataKey,
    fresh: Option<TokenPair>,
) -> Result<bool, Text> {
    let store = LocalStore::open(user_id)
        .await
        .map_err(store_error)?
        .unlocked(key.clone());
    let pair = match fresh {
        Some(p) => store.save_session(&p).await.map(|()| Some(p)),
        None => match store.session().await {
            Ok(Some(p)) => Ok(Some(p)),
            Ok(None) => {
                let earlier = session::load().filter(|p| p.user.id == user_id);
                match &earlier {
                    Some(p) => store.save_session(p).await.map(|()| earlier),
                    None => Ok(None),
                }
            }
            Err(e) => Err(e),
        },
    };
    store.close();
    let Some(pair) = pair.map_err(store_error)? else {
        return Ok(false);
    };
    session::save_who(&pair.user);
    let (owner, sealing) = (user_id.to_string(), key.clone());
    let keep: session::Keeper = std::rc::Rc::new(move |pair: &TokenPair| {
        let (owner, sealing, pair) = (owner.clone(), sealing.clone(), pair.clone());
        leptos::task::spawn_local(async move {
            if let Ok(store) = LocalStore::open(&owner).await {
                let store = store.unlocked(sealing);
                // Not kept (the storage failed): the next start presents the token
                // sealed before, which the server refuses as reused once the new one
                // was used; the person then signs in again, unsent work kept.
                let _ = store.save_session(&pair).await;
                store.close();
            }
        });
    });
    session::hold(pair, keep);
    Ok(true)
}

/// Where an erase asked by the commune waits to be confirmed to the server, when the
/// network dropped between erasing and confirming: the revoked session's refresh token
/// (useless for anything else) and how much unsent work was erased.
const ERASE_PENDING_KEY: &str = "donghanh.erase-pending";

/// The commune reported this phone lost: everything of the person is erased, then the
/// server hears it; the session is forgotten either way.
pub async fn erase_as_asked(user_id: &str, unsent: u32) -> Result<(), Text> {
    erase(user_id).await?;
    if let Some(pair) = session::load() {
        let pending = shared::api::ErasedRequest {
            refresh_token: pair.refresh_token,
            device_id: session::device_id(),
            unsent,
        };
        session::save_json(ERASE_PENDING_KEY, &pending);
    }
    session::clear();
    confirm_erased().await;
    Ok(())
}

/// Sends a waiting erase confirmation; kept for the next start if the server could not
/// be reached, dropped once the server answered (recorded, or nothing to record).
pub async fn confirm_erased() {
    let Some(pending) = session::load_json::<shared::api::ErasedRequest>(ERASE_PENDING_KEY) else {
        return;
    };
    match ui::api::erased(&pending).await {
        Err(ui::api::ClientError::Network(_)) => {}
        _ => session::remove(ERASE_PENDING_KEY),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_or_long_in_the_background_locks() {
        let t = 10.0 * IDLE_MS;
        assert!(!should_lock(t, t - IDLE_MS + 1.0, None));
        assert!(should_lock(t, t - IDLE_MS, None));
        assert!(!should_lock(t, t, Some(t - IDLE_MS + 1.0)));
        assert!(should_lock(t, t, Some(t - IDLE_MS)));
    }
}
