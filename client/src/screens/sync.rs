//! Sync status: a line on every screen (the network state, unsent changes, last sync, a
//! bar while syncing, the reason it failed and when it retries, a badge when a value of
//! yours was overridden), the "saved" notice, the menu, and the full screen with "sync
//! now", storage use, refusals and signing out.

use super::say;
use crate::engine::Status;
use crate::engine::use_engine;
use crate::field::use_field;
use crate::local;
use crate::route::Route;
use crate::session;
use crate::text::{Lang, tr, use_lang};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::TokenPair;

fn ago(lang: Lang, ms: f64) -> String {
    let minutes = ((js_sys::Date::now() - ms) / 60_000.0).max(0.0) as i64;
    match (lang, minutes) {
        (Lang::Vi, 0) => "vừa xong".into(),
        (Lang::En, 0) => "just now".into(),
        (Lang::Vi, m) if m < 60 => format!("{m} phút trước"),
        (Lang::En, m) if m < 60 => format!("{m} min ago"),
        (Lang::Vi, m) if m < 48 * 60 => format!("{} giờ trước", m / 60),
        (Lang::En, m) if m < 48 * 60 => format!("{} h ago", m / 60),
        (Lang::Vi, m) => format!("{} ngày trước", m / (24 * 60)),
        (Lang::En, m) => format!("{} days ago", m / (24 * 60)),
    }
}

/// What the line says about the network and sending, in one word a person can act on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NetState {
    Offline,
    Sending,
    /// Online, and the last attempt failed.
    Failed,
    Unsent,
    AllSent,
}

impl NetState {
    fn of(status: &Status) -> NetState {
        if !status.online.get() {
            NetState::Offline
        } else if status.syncing.get() {
            NetState::Sending
        } else if status.error.with(Option::is_some) {
            NetState::Failed
        } else if status.pending.get() > 0 {
            NetState::Unsent
        } else {
            NetState::AllSent
        }
    }

    fn key(self) -> &'static str {
        match self {
            NetState::Offline => "offline",
            NetState::Sending => "sending",
            NetState::Failed => "failed",
            NetState::Unsent => "unsent",
            NetState::AllSent => "sent",
        }
    }
}

/// The network and sync state on every screen: offline, sending, failed (with the
/// reason and when it tries again), unsent or all sent, and the last sync; it opens the
/// sync screen.
#[component]
pub fn SyncLine(status: Status) -> impl IntoView {
    let lang = use_lang();
    let state = move || NetState::of(&status);
    // The countdown to the next retry is redrawn every second while one is scheduled.
    let tick = RwSignal::new(0u32);
    let timer = set_interval_with_handle(
        move || {
            if status.retry_at_ms.with_untracked(Option::is_some) {
                tick.update(|t| *t = t.wrapping_add(1));
            }
        },
        std::time::Duration::from_secs(1),
    )
    .ok();
    on_cleanup(move || {
        if let Some(t) = timer {
            t.clear();
        }
    });
    view! {
        <a class="sync-line" href=Route::Sync.href() data-testid="sync-line"
            class:offline=move || state() == NetState::Offline>
            <span class="net" data-testid="network" data-state=move || state().key()>
                {move || match (state(), lang.get()) {
                    (NetState::Offline, Lang::Vi) => "⚠ Mất mạng".to_string(),
                    (NetState::Offline, Lang::En) => "⚠ No network".to_string(),
                    (NetState::Sending, Lang::Vi) => "Đang gửi…".to_string(),
                    (NetState::Sending, Lang::En) => "Sending…".to_string(),
                    (NetState::Failed, Lang::Vi) => "⚠ Không liên lạc được máy chủ".to_string(),
                    (NetState::Failed, Lang::En) => "⚠ Cannot reach the server".to_string(),
                    (_, Lang::Vi) => "Có mạng".to_string(),
                    (_, Lang::En) => "Online".to_string(),
                }}
            </span>
            <span data-testid="pending" data-pending=move || status.pending.get().to_string()>
                {move || match (status.pending.get(), lang.get()) {
                    (0, Lang::Vi) => "Đã gửi hết".to_string(),
                    (0, Lang::En) => "All sent".to_string(),
                    (n, Lang::Vi) => format!("{n} hộ chưa gửi"),
                    (n, Lang::En) => format!("{n} households unsent"),
                }}
            </span>
            <span data-testid="last-sync">
                {move || status.last_ok_ms.get().map(|ms| {
                    // Beside a failure, the last sync that worked is said as such.
                    let said = if matches!(state(), NetState::Failed | NetState::Offline) {
                        tr(lang.get(), "Đồng bộ lần cuối", "Last synced")
                    } else {
                        tr(lang.get(), "Đồng bộ", "Synced")
                    };
                    format!("{said} {}", ago(lang.get(), ms))
                })}
            </span>
            {move || {
                let n = status.overridden.with(Vec::len);
                (n > 0).then(|| view! {
                    <span class="decided-note">
                        <span class="badge" data-testid="overridden-count">{n}</span>
                        " " {move || tr(lang.get(), "giá trị xã đã quyết định lại", "values the commune decided")}
                    </span>
                })
            }}
        </a>
        {move || {
            let n = status.refused.with(Vec::len);
            (n > 0).then(|| view! {
                <a class="warn refused-note" href=Route::Sync.href() data-testid="refused-note">
                    {move || match lang.get() {
                        Lang::Vi => format!("⚠ {n} thay đổi không được xã nhận — bấm để xem lý do"),
                        Lang::En => format!("⚠ {n} changes not accepted by the commune — tap for the reason"),
                    }}
                </a>
            })
        }}
        {move || (state() == NetState::Offline).then(|| view! {
            <p class="warn" data-testid="offline-note">
                {move || tr(lang.get(),
                    "Không có mạng. Mọi thay đổi được lưu trên máy và tự gửi khi có mạng trở lại.",
                    "No network. Every change is saved on this phone and sent by itself when the network returns.")}
            </p>
        })}
        {move || status.syncing.get().then(|| view! {
            <div class="progress" role="progressbar" data-testid="syncing">
                <div class="bar-fill"></div>
                <span>{move || format!("{} {}", tr(lang.get(), "Đang đồng bộ… đã nhận", "Syncing… received"), status.received.get())}</span>
            </div>
        })}
        {move || (state() != NetState::Offline).then(|| status.error.get().map(|e| view! {
            <p class="warn" data-testid="sync-error">
                {say(e)}
                {move || {
                    tick.track();
                    status.retry_at_ms.get().map(|at| {
                        let secs = ((at - js_sys::Date::now()) / 1000.0).ceil().max(0.0) as i64;
                        match lang.get() {
                            Lang::Vi => format!(" Tự thử lại sau {secs} giây."),
                            Lang::En => format!(" Trying again in {secs} s."),
                        }
                    })
                }}
            </p>
        }))}
    }
}

/// "Saved on this phone" after a save, for a few seconds.
#[component]
pub fn Notice(status: Status) -> impl IntoView {
    Effect::new(move |_| {
        if status.notice.with(Option::is_some) {
            set_timeout(
                move || status.notice.set(None),
                std::time::Duration::from_secs(4),
            );
        }
    });
    move || {
        status.notice.get().map(|t| {
            view! { <p class="notice" role="status" data-testid="notice">"✓ " {say(t)}</p> }
        })
    }
}

/// The menu: language, the sync screen, signing out.
#[component]
pub fn Menu(signed_in: RwSignal<Option<TokenPair>>) -> impl IntoView {
    let lang = use_lang();
    view! {
        <nav class="card menu" data-testid="menu">
            <ui::text::LangButton />
            <a class="button secondary" data-testid="menu-sync" href=Route::Sync.href()>
                {move || tr(lang.get(), "Đồng bộ và bộ nhớ", "Sync and storage")}
            </a>
            <SignOut signed_in=signed_in />
        </nav>
    }
}

/// Signing out forgets everything on this phone; with unsent changes it first says how
/// many and asks again.
#[component]
pub fn SignOut(signed_in: RwSignal<Option<TokenPair>>) -> impl IntoView {
    let lang = use_lang();
    let field = use_field();
    let status = field.status;
    let confirm = RwSignal::new(false);
    // Why signing out did not go ahead.
    let held = RwSignal::new(None::<shared::Text>);
    // The warning holds only while something is unsent.
    let warn = move || confirm.get() && status.pending.get() > 0;
    let sign_out = move |_| {
        if status.pending.get() > 0 && !confirm.get() {
            confirm.set(true);
            return;
        }
        if field.opened.with_untracked(Option::is_none) {
            // Its store is still being opened; deleting it now would wait on that.
            held.set(Some(shared::Text::new(
                "Đang mở dữ liệu trên máy, hãy đăng xuất lại sau giây lát.",
                "The data on this phone is still opening; sign out again in a moment.",
            )));
            return;
        }
        held.set(None);
        let user_id = field.user.id.clone();
        spawn_local(async move {
            // The code that deletes the phone's copy first: without it nobody is signed
            // out with their households left on the phone.
            let forgetting = match crate::later::forget_phone_data(user_id).await {
                Ok(f) => f,
                Err(u) => {
                    held.set(Some(u.message()));
                    return;
                }
            };
            if let Some(pair) = session::load() {
                // Signing out offline still forgets everything on this phone.
                let _ = crate::api::logout(&pair.access_token).await;
            }
            let _ = forgetting.await;
            session::clear();
            signed_in.set(None);
        });
    };
    view! {
        {move || warn().then(|| view! {
            <p class="error" role="alert" data-testid="unsent-warning">
                {move || match lang.get() {
                    Lang::Vi => format!("Còn {} hộ có thay đổi chưa gửi. Đăng xuất sẽ xoá chúng khỏi máy. Hãy đồng bộ trước, hoặc bấm lần nữa để vẫn đăng xuất.", status.pending.get()),
                    Lang::En => format!("{} households have unsent changes. Signing out deletes them from this phone. Sync first, or press again to sign out anyway.", status.pending.get()),
                }}
            </p>
        })}
        {move || held.get().map(|why| view! { <p class="error" role="alert" data-testid="sign-out-held">{say(why)}</p> })}
        <button class="secondary" data-testid="logout" on:click=sign_out>
            {move || if warn() { tr(lang.get(), "Vẫn đăng xuất và xoá", "Sign out and delete") } else { tr(lang.get(), "Đăng xuất", "Sign out") }}
        </button>
    }
}

#[component]
pub fn SyncScreen(signed_in: RwSignal<Option<TokenPair>>) -> impl IntoView {
    let lang = use_lang();
    let engine = use_engine();
    let status = engine.status;
    let usage = LocalResource::new(local::usage);
    let sync_now = move |_| spawn_local(use_engine().sync());
    let households = engine.household_count();
    view! {
        <section class="card" data-testid="sync-screen">
            <a class="back" href="#/">{move || tr(lang.get(), "← Danh sách hộ", "← Households")}</a>
            <h2>{move || tr(lang.get(), "Đồng bộ", "Sync")}</h2>
            <p>{engine.user.full_name.clone()} " · " {say(engine.user.role.label())}</p>
            <button class="primary" data-testid="sync-now" on:click=sync_now disabled=move || status.syncing.get()>
                {move || tr(lang.get(), "Đồng bộ ngay", "Sync now")}
            </button>
            <p data-testid="storage">
                {move || {
                    let used = usage.get().flatten().map(|(u, _)| format!(" · {:.1} MB", u / 1_048_576.0)).unwrap_or_default();
                    format!("{households} {}{used}", tr(lang.get(), "hộ trên máy", "households on this phone"))
                }}
            </p>
            {move || status.refused.with(|r| (!r.is_empty()).then(|| view! {
                <div class="warn" data-testid="refused">
                    <h3>{move || tr(lang.get(), "Thay đổi không được nhận", "Changes not accepted")}</h3>
                    {r.iter().map(|r| view! { <p>{say(r.reason.clone())}</p> }).collect_view()}
                </div>
            }))}
            <DeviceName />
            <PinSetting />
            <SignOut signed_in=signed_in />
        </section>
    }
}

/// This phone's name, as the commune's administrator sees it in the device list: the
/// browser and model it reported at sign-in until the person gives it their own.
#[component]
fn DeviceName() -> impl IntoView {
    let lang = use_lang();
    let name = RwSignal::new(ui::device::chosen().unwrap_or_default());
    let said = RwSignal::new(None::<Result<&'static str, String>>);
    Effect::new(move |_| {
        if name.get_untracked().is_empty() {
            spawn_local(async move {
                // What the person typed meanwhile wins over the browser's name.
                if let Some(n) = ui::device::name()
                    .await
                    .filter(|_| name.get_untracked().is_empty())
                {
                    name.set(n);
                }
            });
        }
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(clean) = shared::api::device_name(&name.get()) else {
            said.set(Some(Err(tr(
                lang.get(),
                "Hãy đặt tên cho máy.",
                "Give the phone a name.",
            )
            .to_string())));
            return;
        };
        ui::device::choose(&clean);
        name.set(clean);
        spawn_local(async move {
            let r = ui::device::send().await;
            let l = lang.get_untracked();
            said.set(Some(match r {
                Ok(_) => Ok(tr(l, "Đã đổi tên máy.", "The phone is renamed.")),
                // Kept on the phone; it goes with the next sync that reaches the server.
                Err(ui::api::ClientError::Network(_)) => Ok(tr(
                    l,
                    "Đã lưu trên máy; xã sẽ thấy tên mới sau lần đồng bộ tới.",
                    "Saved on the phone; the commune sees the new name after the next sync.",
                )),
                Err(e) => Err(e.message().get(l).to_string()),
            }));
        });
    };
    view! {
        <form class="setting" data-testid="device-name-form" on:submit=save>
            <label>{move || tr(lang.get(), "Tên máy này", "This phone's name")}
                <input data-testid="device-name" maxlength=shared::api::DEVICE_NAME_MAX bind:value=name />
            </label>
            <button type="submit" class="secondary" data-testid="save-device-name">{move || tr(lang.get(), "Lưu tên máy", "Save the name")}</button>
            {move || said.get().map(|r| match r {
                Ok(m) => view! { <p class="ok" role="status" data-testid="device-name-saved">{m}</p> }.into_any(),
                Err(m) => view! { <p class="error" role="alert">{m}</p> }.into_any(),
            })}
        </form>
    }
}

/// The optional PIN: six digits that open the app within 12 hours of the last password
/// unlock (`lock::PIN_WINDOW_MS`); setting one asks for the password again.
#[component]
fn PinSetting() -> impl IntoView {
    let lang = use_lang();
    let user_id = use_field().user.id.clone();
    let locks = expect_context::<crate::screens::lock::LockState>();
    let password = RwSignal::new(String::new());
    let pin = RwSignal::new(String::new());
    let said = RwSignal::new(None::<(bool, shared::Text)>);
    let has_pin = RwSignal::new(false);
    {
        let user_id = user_id.clone();
        spawn_local(async move {
            if let Ok(Some(rec)) = crate::lock::record(&user_id).await {
                has_pin.set(rec.pin.is_some());
            }
        });
    }
    let set = {
        let user_id = user_id.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let (user_id, pw, p) = (user_id.clone(), password.get(), pin.get());
            spawn_local(async move {
                match crate::lock::set_pin(&user_id, &pw, &p).await {
                    Ok(()) => {
                        has_pin.set(true);
                        said.set(Some((true, shared::Text::new(
                            "Đã đặt mã PIN: trong 12 giờ sau lần mở bằng mật khẩu, mã PIN mở được ứng dụng.",
                            "PIN set: for 12 hours after a password unlock, the PIN opens the app.",
                        ))));
                    }
                    Err(e) => said.set(Some((false, e))),
                }
                password.set(String::new());
                pin.set(String::new());
            });
        }
    };
    let remove = move |_| {
        let user_id = user_id.clone();
        spawn_local(async move {
            if crate::lock::remove_pin(&user_id).await.is_ok() {
                has_pin.set(false);
            }
        });
    };
    view! {
        <form class="pin" data-testid="pin-setting" on:submit=set>
            <h3>{move || tr(lang.get(), "Khóa ứng dụng", "App lock")}</h3>
            <p class="muted">{move || tr(lang.get(),
                "Ứng dụng tự khóa sau 15 phút không dùng. Mã PIN 6 số tiện hơn nhưng dễ đoán hơn mật khẩu.",
                "The app locks itself after 15 minutes unused. A 6-digit PIN is quicker but easier to guess than the password.")}</p>
            <label for="pin-password">{move || tr(lang.get(), "Mật khẩu", "Password")}</label>
            <input id="pin-password" data-testid="pin-password" type="password" autocomplete="current-password" required bind:value=password />
            <label for="pin-new">{move || tr(lang.get(), "Mã PIN mới (6 số)", "New PIN (6 digits)")}</label>
            <input id="pin-new" data-testid="pin-new" type="password" inputmode="numeric" maxlength="6" autocomplete="off" required bind:value=pin />
            {move || said.get().map(|(ok, t)| view! {
                <p class=if ok { "ok" } else { "error" } role="alert" data-testid="pin-said">{say(t)}</p>
            })}
            <button type="submit" class="secondary" data-testid="pin-set">{move || tr(lang.get(), "Đặt mã PIN", "Set the PIN")}</button>
            {move || has_pin.get().then(|| view! {
                <button type="button" class="secondary" data-testid="pin-remove" on:click=remove.clone()>{move || tr(lang.get(), "Bỏ mã PIN", "Remove the PIN")}</button>
            })}
            <button type="button" class="secondary" data-testid="lock-now" on:click=move |_| locks.key.set(None)>
                {move || tr(lang.get(), "Khóa ngay", "Lock now")}
            </button>
        </form>
    }
}
