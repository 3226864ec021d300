//! The language the person chose, Vietnamese unless they switch, kept on the device, and
//! dates and amounts written as Vietnamese write them.

use leptos::prelude::*;
use shared::Text;
pub use shared::i18n::Lang;

/// The word in the current language.
pub fn tr(lang: Lang, vi: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

/// The language signal shared by every component.
pub fn use_lang() -> RwSignal<Lang> {
    expect_context::<RwSignal<Lang>>()
}

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

pub use shared::i18n::{decimal, percent, vnd};

/// An amount as people type it ("1.500.000", "1 500 000 đ", "-200.000"): `None` when
/// empty, `Some(Err(()))` when it is not a whole number of đồng.
pub fn parse_amount(text: &str) -> Option<Result<i64, ()>> {
    let t: String = text
        .trim()
        .trim_end_matches(['đ', 'Đ'])
        .chars()
        .filter(|c| !matches!(c, '.' | ',' | ' '))
        .collect();
    if t.is_empty() {
        return None;
    }
    Some(t.parse::<i64>().map_err(|_| ()))
}

/// A typed amount regrouped by thousands as Vietnamese write it (`1500000` → `1.500.000`);
/// text that is not a number stays as typed, for its error to name.
pub fn group_amount(text: &str) -> String {
    match parse_amount(text) {
        Some(Ok(n)) => vnd(n).trim_end_matches(" đ").to_string(),
        _ => text.to_string(),
    }
}

/// Switches between Vietnamese and English, remembered on the device; the same button in
/// the field app and the console.
#[component]
pub fn LangButton() -> impl IntoView {
    let lang = use_lang();
    view! {
        <button
            class="lang"
            data-testid="lang"
            on:click=move |_| {
                let next = if lang.get() == Lang::Vi { Lang::En } else { Lang::Vi };
                crate::session::save_lang(next);
                lang.set(next);
            }
        >
            {move || tr(lang.get(), "English", "Tiếng Việt")}
        </button>
    }
}
