//! The app's frame: the top bar, sign-in, and once signed in the working copy (the sync
//! engine) that every field screen reads and writes, with the triggers that sync it.

use crate::engine::{Engine, Status};
use crate::route::{Route, use_route};
use crate::screens;
use crate::session;
use crate::text::{tr, use_lang};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::TokenPair;
use std::rc::Rc;

/// Minutes between background syncs while the app is open.
const SYNC_EVERY_MINUTES: u64 = 5;

/// Where the commune console is served (its own bundle, `client/console`).
const CONSOLE: &str = "/console/";

/// Set once the page is on its way to the console: the field app then opens nothing (an
/// IndexedDB store opened while the page unloads can stay blocked for the next visit).
static LEAVING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Office roles sign in to the console; officers and leaders can come back to the field
/// app from there.
fn to_console(pair: &TokenPair) {
    if pair.user.role.uses_console() {
        LEAVING.store(true, std::sync::atomic::Ordering::Relaxed);
        ui::go_to(CONSOLE);
    }
}

#[component]
pub fn App() -> impl IntoView {
    let lang = RwSignal::new(session::load_lang());
    provide_context(lang);
    let signed_in = RwSignal::new(session::load());
    let menu_open = RwSignal::new(false);
    provide_context(MenuOpen(menu_open));
    view! {
        <header class="bar">
            <a class="home" href="#/"><h1>"Đồng Hành"</h1></a>
            {move || if signed_in.with(Option::is_some) {
                view! {
                    <button class="lang" data-testid="menu-button" aria-haspopup="true"
                        aria-expanded=move || menu_open.get().to_string()
                        on:click=move |_| menu_open.update(|o| *o = !*o)>
                        {move || tr(lang.get(), "☰ Menu", "☰ Menu")}
                    </button>
                }.into_any()
            } else {
                view! { <ui::text::LangButton /> }.into_any()
            }}
        </header>
        <main>
            {move || match signed_in.get() {
                Some(pair) if pair.user.role.console_only()
                    || LEAVING.load(std::sync::atomic::Ordering::Relaxed) => {
                    ui::go_to(CONSOLE);
                    view! { <p class="card">{move || tr(lang.get(), "Đang mở trang quản lý…", "Opening the console…")}</p> }.into_any()
                }
                Some(pair) => view! { <Working pair=pair signed_in=signed_in /> }.into_any(),
                None => view! { <ui::login::Login signed_in=signed_in after=to_console /> }.into_any(),
            }}
        </main>
    }
}

/// Whether the menu (language, sync, sign-out) is open; the header's button toggles it.
#[derive(Clone, Copy)]
pub struct MenuOpen(pub RwSignal<bool>);

/// The engine, for the screens below `Working`.
pub fn use_engine() -> Rc<Engine> {
    expect_context::<StoredValue<Rc<Engine>, LocalStorage>>().get_value()
}

/// Opens the signed-in user's store, then shows the field screens.
#[component]
fn Working(pair: TokenPair, signed_in: RwSignal<Option<TokenPair>>) -> impl IntoView {
    let lang = use_lang();
    let status = Status::new();
    let engine = RwSignal::new_local(None::<Result<Rc<Engine>, shared::Text>>);
    let user = pair.user.clone();
    spawn_local(async move {
        let opened = Engine::open(user, session::device_id(), status).await;
        if let Ok(e) = &opened {
            start_syncing(e.clone());
        }
        engine.set(Some(opened));
    });
    move || {
        match engine.get() {
        None => view! { <p class="card">{move || tr(lang.get(), "Đang mở dữ liệu trên máy…", "Opening the data on this phone…")}</p> }.into_any(),
        Some(Err(e)) => view! { <p class="error" role="alert">{move || e.get(lang.get()).to_string()}</p> }.into_any(),
        Some(Ok(e)) => view! { <Screens engine=e signed_in=signed_in /> }.into_any(),
    }
    }
}

/// Sync now, when the network comes back (then with back-off retries if the radio is
/// still settling, see `Engine::sync`), and every few minutes; the network state follows
/// the phone's.
fn start_syncing(engine: Rc<Engine>) {
    spawn_local(engine.clone().sync());
    let on_line = engine.clone();
    let handle = window_event_listener(leptos::ev::online, move |_| {
        on_line.status.online.set(true);
        spawn_local(on_line.clone().sync());
    });
    let status = engine.status;
    let off_handle = window_event_listener(leptos::ev::offline, move |_| {
        status.online.set(false);
    });
    let every = engine.clone();
    let timer = set_interval_with_handle(
        move || spawn_local(every.clone().sync()),
        std::time::Duration::from_secs(SYNC_EVERY_MINUTES * 60),
    )
    .ok();
    on_cleanup(move || {
        handle.remove();
        off_handle.remove();
        if let Some(t) = timer {
            t.clear();
        }
    });
}

#[component]
fn Screens(engine: Rc<Engine>, signed_in: RwSignal<Option<TokenPair>>) -> impl IntoView {
    let status = engine.status;
    provide_context(StoredValue::new_local(engine));
    let route = use_route();
    let lang = use_lang();
    // A new screen starts at its top, and closes the menu.
    let menu_open = expect_context::<MenuOpen>().0;
    Effect::watch(
        move || route.get(),
        move |_, _, _| {
            menu_open.set(false);
            if let Some(w) = web_sys::window() {
                w.scroll_to_with_x_and_y(0.0, 0.0);
            }
        },
        false,
    );
    view! {
        {move || menu_open.get().then(|| view! { <screens::sync::Menu signed_in=signed_in /> })}
        <screens::sync::SyncLine status=status />
        <screens::sync::Notice status=status />
        {move || {
            status
                .signed_out
                .get()
                .map(|why| {
                    view! {
                        <div class="error" role="alert" data-testid="session-ended">
                            <p>{move || why.get(lang.get()).to_string()}</p>
                            <button
                                class="primary"
                                data-testid="sign-in-again"
                                on:click=move |_| {
                                    session::clear();
                                    signed_in.set(None);
                                }
                            >
                                {move || tr(lang.get(), "Đăng nhập lại", "Sign in again")}
                            </button>
                        </div>
                    }
                })
        }}
        {move || match route.get() {
            Route::Households => view! { <screens::households::Households /> }.into_any(),
            Route::Household(id) => view! { <screens::household::HouseholdDetail id=id /> }.into_any(),
            Route::LogVisit(id) => view! { <screens::visit::LogVisit id=id /> }.into_any(),
            Route::EditHousehold(id) => view! { <screens::profile::EditHousehold id=Some(id) /> }.into_any(),
            Route::NewHousehold => view! { <screens::profile::EditHousehold id=None /> }.into_any(),
            Route::Review(id) => view! { <screens::review::Review id=id /> }.into_any(),
            Route::Meeting(id) => view! { <screens::meeting::Meeting id=id /> }.into_any(),
            Route::Member(id, member) => view! { <screens::member::MemberForm household_id=id member_id=member /> }.into_any(),
            Route::ProposeSupport(id) => view! { <screens::support::ProposeSupport id=id /> }.into_any(),
            Route::PlanProgress(id, item) => view! { <screens::plan::PlanProgress household_id=id item_id=item /> }.into_any(),
            Route::Sync => view! { <screens::sync::SyncScreen signed_in=signed_in /> }.into_any(),
        }}
    }
}
