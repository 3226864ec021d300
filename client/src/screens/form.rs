//! What every form screen does the same way: a field's error shown under it, and after a
//! change is saved on the phone, back to the household with a sync started, or the reason
//! it could not be saved shown with the form.

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
