//! The language the person chose, Vietnamese unless they switch, kept on the device.

use leptos::prelude::*;
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
