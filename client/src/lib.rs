//! Đồng Hành in the browser: the Leptos app that village heads and cadres open on their
//! phones. It signs in online once, then works from a copy of its households kept in the
//! phone's IndexedDB and merges with the server by CRDT sync whenever there is signal.
//!
//! - `local`: the IndexedDB store, sealed by `vault` (WebCrypto) under the key `lock`
//!   opens with the person's password; `engine`: the working copy and its sync;
//! - `app`: the frame and the first screen; `later`: the split points behind which the
//!   working copy and the other screens load after it;
//! - `screens`: one module per screen; `route`: which one is open;
//! - `api`: sync; the rest (transport, session, language) is the `ui` crate, shared with
//!   the commune console.

mod api;
mod app;
mod engine;
mod field;
mod later;
mod local;
mod lock;
mod route;
mod screens;
mod vault;

use ui::{session, text};

use wasm_bindgen::prelude::wasm_bindgen;

/// Entry point called by the generated JS glue once the module is loaded.
#[wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(app::App);
}
