//! What the field app loads after its first screen. The first download holds the frame,
//! sign-in, the household list drawn from the list rows kept in IndexedDB and the sync
//! line; everything that needs a household document (automerge, the sync engine, the rule
//! engine, the forms and the detail screens) is reached only through the functions here.
//!
//! Each function is a split point (`#[lazy]`, Leptos's `wasm_split`): `cargo xtask dist`
//! cuts the code reachable only from them into chunks of their own, fetched the first time
//! one is called and kept by the service worker for offline use. Built without the split
//! (tests, `cargo check`) they are plain async calls to the same code.

use crate::engine::{self, Engine, Status};
use crate::local::{LocalStore, Meta, StoredDoc};
use crate::route::Route;
use crate::screens;
use leptos::prelude::*;
use shared::Text;
use shared::api::TokenPair;
use shared::user::User;

/// What the first screen read from the phone, handed to the working copy.
pub struct Opening {
    pub user: User,
    pub device_id: String,
    pub status: Status,
    pub store: LocalStore,
    pub meta: Option<Meta>,
    pub stored: Vec<StoredDoc>,
    /// The `Working` frame asking (`app::Working`).
    pub frame: u64,
}

/// Builds the working copy from what the first screen read and starts syncing it.
#[lazy]
pub fn open_engine(opening: Opening) -> Result<(), Text> {
    let Opening {
        user,
        device_id,
        status,
        store,
        meta,
        stored,
        frame,
    } = opening;
    let engine = Engine::start(user, device_id, status, store, meta, stored, frame);
    engine::set_current(Some(engine.clone()));
    engine::start_syncing(engine);
    let now = web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now());
    engine::report("donghanhOpened", &[("ms", now)]);
    Ok(())
}

/// Closes the working copy a `Working` frame opened, when that frame goes (the person
/// signed out, or must sign in again): it stops syncing and lets go of its store.
#[lazy]
pub fn close_engine(frame: u64) {
    if engine::current().is_some_and(|e| e.opened_by() == frame) {
        engine::set_current(None);
    }
}

/// Every screen but the household list, drawn once the working copy is open.
#[lazy]
pub fn screen(route: Route, signed_in: RwSignal<Option<TokenPair>>) -> AnyView {
    match route {
        Route::Households => view! { <screens::households::Households /> }.into_any(),
        Route::Household(id) => view! { <screens::household::HouseholdDetail id=id /> }.into_any(),
        Route::LogVisit(id) => view! { <screens::visit::LogVisit id=id /> }.into_any(),
        Route::EditHousehold(id) => {
            view! { <screens::profile::EditHousehold id=Some(id) /> }.into_any()
        }
        Route::NewHousehold => view! { <screens::profile::EditHousehold id=None /> }.into_any(),
        Route::Review(id) => view! { <screens::review::Review id=id /> }.into_any(),
        Route::Meeting(id) => view! { <screens::meeting::Meeting id=id /> }.into_any(),
        Route::Member(id, member) => {
            view! { <screens::member::MemberForm household_id=id member_id=member /> }.into_any()
        }
        Route::ProposeSupport(id) => {
            view! { <screens::support::ProposeSupport id=id /> }.into_any()
        }
        Route::PlanProgress(id, item) => {
            view! { <screens::plan::PlanProgress household_id=id item_id=item /> }.into_any()
        }
        Route::Sync => view! { <screens::sync::SyncScreen signed_in=signed_in /> }.into_any(),
    }
}

/// Closes and deletes this user's local store: through the working copy when it is
/// open (it may be writing), directly when it never opened.
#[lazy]
pub async fn forget_phone_data(user_id: String) -> Result<(), Text> {
    match engine::current() {
        Some(e) => {
            e.wipe().await?;
            engine::set_current(None);
            Ok(())
        }
        None => LocalStore::delete(&user_id).await.map_err(|e| e.message()),
    }
}
