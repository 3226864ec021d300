//! The app's frame and first screen: the top bar, sign-in, the lock, and once unlocked
//! the household list drawn from the list rows kept on the phone. The working copy (the
//! sync engine) and every other screen load behind it (`later`).

use crate::engine::{self, Status};
use crate::field::{Field, use_field};
use crate::later;
use crate::local::{LocalStore, Meta, StoredDoc};
use crate::lock;
use crate::route::{Route, use_route};
use crate::screens;
use crate::screens::lock::{LockScreen, LockState, Unlocked};
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
    // The session's tokens are sealed on the phone: until it is unlocked, only who is
    // signed in is known (an earlier version or the console may have left a whole one).
    let signed_in = RwSignal::new(session::load().or_else(|| {
        session::load_who().map(|user| TokenPair {
            access_token: String::new(),
            expires_in: 0,
            refresh_token: String::new(),
            refresh_expires_in: 0,
            user,
        })
    }));
    let menu_open = RwSignal::new(false);
    provide_context(MenuOpen(menu_open));
    let locks = LockState {
        key: RwSignal::new(None),
        rewrap: RwSignal::new(None),
        farewell: RwSignal::new(None),
        problem: RwSignal::new(None),
        fresh: RwSignal::new(None),
    };
    provide_context(locks);
    // A revoked phone shows its one message; the menu goes too.
    let revoked = RwSignal::new(false);
    provide_context(Revoked(revoked));
    // Locked: the session's tokens go from memory too.
    Effect::watch(
        move || locks.key.with(Option::is_some),
        move |open, _, _| {
            if !open {
                session::release();
            }
        },
        false,
    );
    // Signing out locks the data again (a sign-in sets the key with the session).
    Effect::watch(
        move || signed_in.with(Option::is_some),
        move |signed, _, _| {
            if !signed {
                locks.key.set(None);
                revoked.set(false);
            }
        },
        false,
    );
    // An erase the server has not yet heard of (the network dropped) is confirmed now.
    spawn_local(lock::confirm_erased());
    let with_password = Callback::new(move |(pair, password): (TokenPair, String)| {
        if pair.user.role.console_only() || LEAVING.load(std::sync::atomic::Ordering::Relaxed) {
            signed_in.set(Some(pair));
            return;
        }
        locks.farewell.set(None);
        locks.fresh.set(Some(SendWrapper::new(pair.clone())));
        spawn_local(async move {
            let user_id = pair.user.id.clone();
            let opened = match lock::signed_in(&user_id, &password).await {
                Ok(lock::SignedIn::Open(key)) => {
                    signed_in.set(Some(pair));
                    locks.open(&user_id, key).await
                }
                Ok(lock::SignedIn::EarlierPassword) => {
                    signed_in.set(Some(pair));
                    locks.rewrap.set(Some(password));
                    Ok(())
                }
                Err(e) => {
                    signed_in.set(Some(pair));
                    Err(e)
                }
            };
            // The lock screen says what is wrong (and offers to try again).
            if let Err(e) = opened {
                locks.problem.set(Some(e));
            }
        });
    });
    let menu_shown = move || {
        signed_in.with(Option::is_some) && locks.key.with(Option::is_some) && !revoked.get()
    };
    view! {
        <header class="bar">
            <a class="home" href="#/"><h1>"Đồng Hành"</h1></a>
            {move || if menu_shown() {
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
            {move || match (signed_in.get(), locks.key.get()) {
                (Some(pair), _) if pair.user.role.console_only()
                    || LEAVING.load(std::sync::atomic::Ordering::Relaxed) => {
                    ui::go_to(CONSOLE);
                    view! { <p class="card">{move || tr(lang.get(), "Đang mở trang quản lý…", "Opening the console…")}</p> }.into_any()
                }
                (Some(pair), Some(key)) => view! { <Working pair=pair key=key signed_in=signed_in /> }.into_any(),
                (Some(pair), None) => view! { <LockScreen user=pair.user signed_in=signed_in /> }.into_any(),
                (None, _) => view! {
                    {move || locks.farewell.get().map(|t| view! {
                        <p class="error" role="alert" data-testid="farewell">{move || t.get(lang.get()).to_string()}</p>
                    })}
                    <ui::login::Login signed_in=signed_in after=to_console with_password=with_password />
                }.into_any(),
            }}
        </main>
    }
}

/// Whether the phone was revoked (the frame hides its menu then).
#[derive(Clone, Copy)]
pub struct Revoked(pub RwSignal<bool>);

/// Whether the menu (language, sync, sign-out) is open; the header's button toggles it.
#[derive(Clone, Copy)]
pub struct MenuOpen(pub RwSignal<bool>);

/// Opens this user's local store with the data key and shows its list rows; the first
/// screen needs nothing more, so it does not wait for the working copy
/// (`later::open_engine`).
async fn read_phone(
    user: &User,
    key: &Unlocked,
    status: Status,
) -> Result<(LocalStore, Option<Meta>, Vec<StoredDoc>), Text> {
    let store = LocalStore::open(&user.id)
        .await
        .map_err(|e| e.message())?
        .unlocked((*key.0).clone());
    let loaded = store.load().await.map_err(|e| e.message())?;
    status.rows.set(
        loaded
            .docs
            .iter()
            .filter_map(|d| d.summary.clone())
            .collect(),
    );
    status
        .pending
        .set(loaded.docs.iter().filter(|d| d.pending).count());
    status
        .last_ok_ms
        .set(loaded.meta.as_ref().and_then(|m| m.last_sync_ms));
    status.accompaniments.set(loaded.accompaniments);
    Ok((store, loaded.meta, loaded.docs))
}

/// Locks the app after `lock::IDLE_MS` without a touch, or on coming back from that long
/// in the background; the listeners go with the frame.
fn lock_when_idle(locks: LockState) {
    use std::cell::Cell;
    use std::rc::Rc;
    let last = Rc::new(Cell::new(js_sys::Date::now()));
    let hidden_since = Rc::new(Cell::new(None::<f64>));
    let touch = {
        let last = last.clone();
        move || last.set(js_sys::Date::now())
    };
    let check = {
        let (last, hidden_since) = (last.clone(), hidden_since.clone());
        move || {
            if lock::should_lock(js_sys::Date::now(), last.get(), hidden_since.get()) {
                locks.key.try_set(None);
            }
        }
    };
    let pointer = {
        let touch = touch.clone();
        window_event_listener(leptos::ev::pointerdown, move |_| touch())
    };
    let keys = window_event_listener(leptos::ev::keydown, move |_| touch());
    let visibility = {
        let check = check.clone();
        window_event_listener_untyped("visibilitychange", move |_| {
            let hidden = web_sys::window()
                .and_then(|w| w.document())
                .is_some_and(|d| d.hidden());
            if hidden {
                hidden_since.set(Some(js_sys::Date::now()));
            } else {
                check();
                hidden_since.set(None);
                last.set(js_sys::Date::now());
            }
        })
    };
    let timer = set_interval_with_handle(check, std::time::Duration::from_secs(30)).ok();
    let handles = SendWrapper::new((pointer, keys, visibility, timer));
    on_cleanup(move || {
        let (pointer, keys, visibility, timer) = handles.take();
        pointer.remove();
        keys.remove();
        visibility.remove();
        if let Some(t) = timer {
            t.clear();
        }
    });
}

/// Numbers the `Working` frames, so each closes only the working copy it opened.
static FRAMES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Reads the phone's list rows and shows the field screens; the working copy opens
/// behind the list.
#[component]
fn Working(
    pair: TokenPair,
    key: Unlocked,
    signed_in: RwSignal<Option<TokenPair>>,
) -> impl IntoView {
    let lang = use_lang();
    let locks = expect_context::<LockState>();
    lock_when_idle(locks);
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
        match read_phone(&user, &key, status).await {
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
    let revoked = expect_context::<Revoked>().0;
    let locks = expect_context::<LockState>();
    Effect::new(move |_| revoked.set(status.signed_out.with(Option::is_some)));
    // Reported lost: everything of the person goes, then the server hears it.
    let user_id = use_field().user.id.clone();
    Effect::new(move |_| {
        if !status.erase.get() {
            return;
        }
        let user_id = user_id.clone();
        let unsent = status.pending.get_untracked() as u32;
        spawn_local(async move {
            // The working copy lets go of the store first, so deleting it is not blocked.
            let _ = later::close_current().await;
            let farewell = match lock::erase_as_asked(&user_id, unsent).await {
                Ok(()) => Text::new(
                    "Thiết bị này đã được báo mất: dữ liệu của bạn trên máy đã được xóa. Nếu bạn vẫn giữ máy, hãy liên hệ cán bộ xã rồi đăng nhập lại.",
                    "This device was reported lost: your data on it has been erased. If you still have it, contact the commune office, then sign in again.",
                ),
                Err(e) => e,
            };
            locks.farewell.set(Some(farewell));
            signed_in.set(None);
        });
    });
    view! {
        {move || match status.signed_out.get() {
            // Revoked: one message, nothing of the households.
            Some(why) => view! {
                <div class="error" role="alert" data-testid="session-ended">
                    <p>{move || why.get(lang.get()).to_string()}</p>
                    <p>{move || tr(lang.get(),
                        "Dữ liệu chưa gửi vẫn được giữ trên máy, đã mã hóa, và sẽ được gửi khi bạn đăng nhập lại.",
                        "Unsent data stays on this phone, encrypted, and is sent when you sign in again.")}</p>
                    <button class="primary" data-testid="sign-in-again" on:click=move |_| {
                        session::clear();
                        signed_in.set(None);
                    }>
                        {move || tr(lang.get(), "Đăng nhập lại", "Sign in again")}
                    </button>
                </div>
            }.into_any(),
            None if status.erase.get() => view! {
                <p class="card" role="alert" data-testid="erasing">{move || tr(lang.get(), "Đang xóa dữ liệu trên máy…", "Erasing the data on this phone…")}</p>
            }.into_any(),
            None => view! {
                {move || menu_open.get().then(|| view! { <screens::sync::Menu signed_in=signed_in /> })}
                <screens::sync::SyncLine status=status />
                <screens::sync::Notice status=status />
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
            }.into_any(),
        }}
    }
}
