//! One module per field screen. Every screen reads the working copy through the engine
//! and fits a 360 px wide phone.

pub mod form;
pub mod household;
pub mod households;
pub mod login;
pub mod member;
pub mod plan;
pub mod profile;
pub mod review;
pub mod support;
pub mod sync;
pub mod visit;

use crate::text::use_lang;
use leptos::prelude::*;
use shared::Text;

/// A text from the shared crate in the current language.
pub fn say(t: Text) -> impl Fn() -> String + Send + Sync + 'static {
    let lang = use_lang();
    move || t.get(lang.get()).to_string()
}

/// Today on the phone's clock.
pub fn today() -> chrono::NaiveDate {
    let d = js_sys::Date::new_0();
    chrono::NaiveDate::from_ymd_opt(d.get_full_year() as i32, d.get_month() + 1, d.get_date())
        .unwrap_or_default()
}

/// A date as Vietnamese write it: 22/11/2026.
pub fn date(d: chrono::NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// A new record id (UUID v4 from the browser's crypto).
pub fn new_id() -> String {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_else(|| format!("id-{}", js_sys::Date::now()))
}

/// An amount as Vietnamese write it: 1.500.000 đ.
pub fn vnd(n: i64) -> String {
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("{}{out} đ", if n < 0 { "-" } else { "" })
}
