//! What this device is called: the name the person gave it on the phone, or its browser,
//! system and phone model as the browser reports them, sent at sign-in so the
//! administrator can tell a lost phone from the others.

use wasm_bindgen::{JsCast, JsValue};

const NAME_KEY: &str = "donghanh.device_name";
/// Set while the person's own name has not reached the server (renamed offline).
const UNSENT_KEY: &str = "donghanh.device_name_unsent";

/// The name the person gave this device, if they did.
pub fn chosen() -> Option<String> {
    crate::session::storage()?
        .get_item(NAME_KEY)
        .ok()
        .flatten()
        .filter(|n| !n.is_empty())
}

/// Keeps the person's own name for this device, to be sent (`send`).
pub fn choose(name: &str) {
    if let Some(s) = crate::session::storage() {
        let _ = s.set_item(NAME_KEY, name);
        let _ = s.set_item(UNSENT_KEY, "1");
    }
}

/// Sends the person's own name for this device if the server does not have it yet
/// (`PUT /api/auth/device`); a failure leaves it to the next try.
pub async fn send() -> Result<(), crate::api::ClientError> {
    let storage = crate::session::storage();
    let unsent = storage
        .as_ref()
        .and_then(|s| s.get_item(UNSENT_KEY).ok().flatten())
        .is_some();
    let Some(name) = chosen().filter(|_| unsent) else {
        return Ok(());
    };
    crate::api::authed::<serde_json::Value>(
        crate::api::Method::Put,
        "/auth/device",
        Some(&shared::api::DeviceRename { name }),
    )
    .await?;
    if let Some(s) = storage {
        let _ = s.remove_item(UNSENT_KEY);
    }
    Ok(())
}

/// The name to send at sign-in: the person's own, else "Chrome · Android · SM-A145F" from
/// the browser (the phone model from its client hints where the browser gives them).
pub async fn name() -> Option<String> {
    if let Some(n) = chosen() {
        return Some(n);
    }
    let navigator = web_sys::window()?.navigator();
    let ua = navigator.user_agent().ok()?;
    let derived = shared::device::name_from_user_agent(&ua);
    match model(&navigator).await {
        Some(m) if derived.as_deref().is_some_and(|d| !d.contains(&m)) => {
            shared::api::device_name(&format!("{} · {m}", derived.unwrap_or_default()))
        }
        _ => derived,
    }
}

/// `navigator.userAgentData.getHighEntropyValues(["model"])`, where the browser has it.
async fn model(navigator: &web_sys::Navigator) -> Option<String> {
    let data = js_sys::Reflect::get(navigator, &JsValue::from_str("userAgentData")).ok()?;
    if data.is_undefined() || data.is_null() {
        return None;
    }
    let ask: js_sys::Function =
        js_sys::Reflect::get(&data, &JsValue::from_str("getHighEntropyValues"))
            .ok()?
            .dyn_into()
            .ok()?;
    let hints = js_sys::Array::of1(&JsValue::from_str("model"));
    let promise: js_sys::Promise = ask.call1(&data, &hints).ok()?.into();
    let values = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    js_sys::Reflect::get(&values, &JsValue::from_str("model"))
        .ok()?
        .as_string()
        .filter(|m| !m.trim().is_empty())
}
