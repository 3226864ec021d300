//! The commune console in the browser: a Leptos app of its own (its own wasm bundle),
//! loaded only for commune officers, leaders, province viewers and the administrator.
//! Everything it shows and changes goes through the REST API; household changes made here
//! pass the server's write core like every phone's.
//!
//! - `app`: the frame (navigation, language, sign-in); `route`: which screen is open;
//! - `search`: the household search in the header;
//! - `screens`: one module per screen.

mod app;
mod route;
mod screens;
mod search;

use wasm_bindgen::prelude::wasm_bindgen;

/// Entry point called by the generated JS glue once the module is loaded.
#[wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(app::App);
}
