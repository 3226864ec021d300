//! What every form screen does the same way: a field's error shown under it, and after a
//! change is saved on the phone, a "saved" notice and back to the household with a sync
//! started, or the reason it could not be saved shown with the form.

use super::say;
use crate::engine::Engine;
use crate::route::{Route, go};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::{FieldError, Text};
use std::rc::Rc;

/// The error for `field` (`""`: the form as a whole), in the current language.
pub fn error_for(errors: RwSignal<Vec<FieldError>>, field: &'static str) -> impl IntoView {
    move || {
        errors.with(|e| {
            e.iter()
                .find(|f| f.field == field)
                .map(|f| view! { <p class="error" role="alert">{say(f.message.clone())}</p> })
        })
    }
}

/// Brings the first reason of a refused form into view once it is drawn, so a person who
/// tapped Save at the bottom sees what to correct.
pub fn reveal_errors() {
    request_animation_frame(|| {
        if let Some(e) = document().query_selector("form .error").ok().flatten() {
            e.scroll_into_view();
        }
    });
}

/// Says "saved on this phone" (and whether it is sent, once the sync says so).
pub fn saved(engine: &Engine) {
    engine
        .status
        .notice
        .set(Some(Text::new("Đã lưu trên máy.", "Saved on this phone.")));
}

/// Ends a save: on success back to the household and a sync; on failure (the phone's
/// storage refused) the reason, with the form still filled in.
pub fn after_save(
    engine: Rc<Engine>,
    household_id: String,
    result: Result<(), Text>,
    errors: RwSignal<Vec<FieldError>>,
) {
    match result {
        Ok(()) => {
            saved(&engine);
            go(&Route::Household(household_id));
            spawn_local(engine.sync());
        }
        Err(message) => errors.set(vec![FieldError {
            field: String::new(),
            code: "storage".into(),
            message,
        }]),
    }
}
