//! What the field app loads after its first screen. The first download holds the frame,
//! sign-in, the household list drawn from the list rows kept in IndexedDB and the sync
//! line; everything that needs a household document (automerge, the sync engine, the rule
//! engine, the forms and the detail screens) is reached only through the functions here.
//!
//! Each function is a split point (Leptos's `wasm_split`): `cargo xtask dist` cuts the code
//! reachable only from them into chunks of their own, fetched the first time one is called
//! and kept by the service worker for offline use. Each is `fallible`: a chunk that cannot
//! be fetched (no network before the service worker holds the app) is an `Err(Unloaded)`
//! the screen says in words, not a crash, and the next call tries again. Built without the
//! split (tests, `cargo check`) they are plain calls to the same code.

use crate::engine::{self, Engine, Status};
use crate::local::{LocalStore, Meta, StoredDoc};
use crate::route::Route;
use crate::screens;
use leptos::prelude::*;
use leptos::wasm_split::{SplitLoaderError, wasm_split};
use shared::Text;
use shared::api::TokenPair;
use shared::user::User;
use std::future::Future;
use std::pin::Pin;

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

/// A chunk of the app could not be fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unloaded;

impl From<SplitLoaderError> for Unloaded {
    fn from(_: SplitLoaderError) -> Self {
        Unloaded
    }
}

impl Unloaded {
    pub fn message(self) -> Text {
        Text::new(
            "Chưa tải được phần còn lại của ứng dụng. Hãy bật mạng rồi thử lại; dữ liệu trên máy vẫn được giữ.",
            "The rest of the app could not be loaded. Turn on the network and try again; the data on this phone is kept.",
        )
    }
}

/// Builds the working copy from what the first screen read and starts syncing it.
#[wasm_split(open_engine, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn open_engine(opening: Opening) -> Result<(), Unloaded> {
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
#[wasm_split(close_engine, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn close_engine(frame: u64) -> Result<(), Unloaded> {
    if engine::current().is_some_and(|e| e.opened_by() == frame) {
        engine::set_current(None);
    }
    Ok(())
}

/// Closes whatever working copy is open (the phone was reported lost: its store is
/// about to be deleted).
#[wasm_split(close_current, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn close_current() -> Result<(), Unloaded> {
    engine::set_current(None);
    Ok(())
}

/// Every screen but the household list, drawn once the working copy is open.
#[wasm_split(screen, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn screen(route: Route, signed_in: RwSignal<Option<TokenPair>>) -> Result<AnyView, Unloaded> {
    Ok(match route {
        // Drawn by the first screen itself; here only so that every route has a screen.
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
    })
}

/// What deleting the phone's copy returns: the work itself, which runs in the chunk.
pub type Forgetting = Pin<Box<dyn Future<Output = Result<(), Text>>>>;

/// Closes and deletes this user's local store: through the working copy when it is
/// open (it may be writing), directly when it never opened.
#[wasm_split(forget_phone_data, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn forget_phone_data(user_id: String) -> Result<Forgetting, Unloaded> {
    Ok(Box::pin(async move {
        match engine::current() {
            Some(e) => {
                e.wipe().await?;
                engine::set_current(None);
                Ok(())
            }
            None => LocalStore::delete(&user_id).await.map_err(|e| e.message()),
        }
    }))
}
