//! Đồng Hành in the browser: the Leptos app that village heads, cadres and commune staff
//! open on their phones. This first shell signs in against the real API and keeps the
//! session on the device; the offline field screens build on it.

mod api;
mod app;
mod session;
mod text;

use wasm_bindgen::prelude::wasm_bindgen;

/// Entry point called by the generated JS glue once the module is loaded.
#[wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(app::App);
}
