//! The app's frame and first screen: the top bar, sign-in, and once signed in the
//! household list drawn from the list rows kept on the phone. The working copy (the sync
//! engine) and every other screen load behind it (`later`).

use crate::engine::{self, Status};
use crate::field::{Field, use_field};
use crate::later;
use crate::local::{LocalStore, Meta, StoredDoc};
use crate::route::{Route, use_route};
use crate::screens;
use crate::session;
use crate::text::{Lang, tr, use_lang};
use leptos::prelude::*;
use leptos::task::spawn_local;
use send_wrapper::SendWrapper;
use shared::Text;
use shared::api::TokenPair;
use shared::user::User;

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

/// Opens this user's local store and shows its list rows; the first screen needs nothing
/// more, so it does not wait for the working copy (`later::open_engine`).
async fn read_phone(
    user: &User,
    status: Status,
) -> Result<(LocalStore, Option<Meta>, Vec<StoredDoc>), Text> {
    let store = LocalStore::open(&user.id).await.map_err(|e| e.message())?;
    let (meta, stored) = store.load().await.map_err(|e| e.message())?;
    status
        .rows
        .set(stored.iter().filter_map(|d| d.summary.clone()).collect());
    status
        .pending
        .set(stored.iter().filter(|d| d.pending).count());
    status
        .last_ok_ms
        .set(meta.as_ref().and_then(|m| m.last_sync_ms));
    status
        .accompaniments
        .set(session::load_json(&engine::accompaniment_key(&user.id)).unwrap_or_default());
    Ok((store, meta, stored))
}

/// Numbers the `Working` frames, so each closes only the working copy it opened.
static FRAMES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Reads the phone's list rows and shows the field screens; the working copy opens
/// behind the list.
#[component]
fn Working(pair: TokenPair, signed_in: RwSignal<Option<TokenPair>>) -> impl IntoView {
    let lang = use_lang();
    let status = Status::new();
    let user = pair.user.clone();
    let opened = RwSignal::new(None::<Result<(), Text>>);
    provide_context(Field {
        user: user.clone(),
        status,
        opened,
    });
    let listed = RwSignal::new(false);
    // Reading the list rows failed: nothing can be shown.
    let unreadable = RwSignal::new(None::<Text>);
    let frame = FRAMES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    on_cleanup(move || {
        spawn_local(async move {
            // Not loaded: then no working copy was opened either.
            let _ = later::close_engine(frame).await;
        })
    });
    spawn_local(async move {
        match read_phone(&user, status).await {
            Err(e) => unreadable.set(Some(e)),
            Ok((store, meta, stored)) => {
                listed.set(true);
                // For the app benchmark: what was fetched before this moment is the
                // first screen; the chunks behind `later` are fetched from here on.
                let now = web_sys::window()
                    .and_then(|w| w.performance())
                    .map_or(0.0, |p| p.now());
                engine::report("donghanhListed", &[("ms", now)]);
                let opening = later::Opening {
                    user,
                    device_id: session::device_id(),
                    status,
                    store,
                    meta,
                    stored,
                    frame,
                };
                let result = later::open_engine(opening).await;
                opened.try_set(Some(result.map_err(|u| u.message())));
            }
        }
    });
    move || match (unreadable.get(), listed.get()) {
        (Some(e), _) => {
            view! { <p class="error" role="alert">{move || e.get(lang.get()).to_string()}</p> }
                .into_any()
        }
        (None, false) => opening(lang).into_any(),
        (None, true) => view! { <Screens signed_in=signed_in /> }.into_any(),
    }
}

fn opening(lang: RwSignal<Lang>) -> impl IntoView {
    view! { <p class="card">{move || tr(lang.get(), "Đang mở dữ liệu trên máy…", "Opening the data on this phone…")}</p> }
}

/// Why a screen cannot open, and a way out: reloading the page fetches the app again.
fn unloaded(lang: RwSignal<Lang>, why: Text) -> impl IntoView {
    view! {
        <div class="error" role="alert" data-testid="unloaded">
            <p>{move || why.get(lang.get()).to_string()}</p>
            <button class="primary" on:click=move |_| {
                if let Some(w) = web_sys::window() {
                    let _ = w.location().reload();
                }
            }>
                {move || tr(lang.get(), "Tải lại", "Reload")}
            </button>
        </div>
    }
}

#[component]
fn Screens(signed_in: RwSignal<Option<TokenPair>>) -> impl IntoView {
    let Field { status, opened, .. } = use_field();
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
    // The list draws at once; another screen once the working copy is open.
    let shown = Memo::new(move |_| {
        let r = route.get();
        (r == Route::Households || matches!(opened.get(), Some(Ok(())))).then_some(r)
    });
    let not_opened = Memo::new(move |_| opened.get().and_then(Result::err));
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
        {move || not_opened.get().map(|why| unloaded(lang, why))}
        {move || match shown.get() {
            Some(Route::Households) => view! { <screens::households::Households /> }.into_any(),
            Some(route) => {
                let loading = later::screen(route, signed_in);
                let loaded = SendWrapper::new(async move {
                    match loading.await {
                        Ok(view) => view,
                        Err(u) => unloaded(lang, u.message()).into_any(),
                    }
                });
                view! {
                    <Suspense fallback=move || opening(lang)>
                        {Suspend::new(loaded)}
                    </Suspense>
                }.into_any()
            }
            None if not_opened.with(Option::is_some) => ().into_any(),
            None => opening(lang).into_any(),
        }}
    }
}
