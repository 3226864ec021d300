//! One module per field screen. Every screen reads the working copy through the engine
//! and fits a 360 px wide phone.

pub mod form;
pub mod household;
pub mod households;
pub mod lock;
pub mod meeting;
pub mod member;
pub mod plan;
pub mod profile;
pub mod review;
pub mod support;
pub mod sync;
pub mod visit;

pub use ui::text::{date, say, today, vnd};

/// A new record id (UUID v4 from the browser's crypto).
pub fn new_id() -> String {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_else(|| format!("id-{}", js_sys::Date::now()))
}
