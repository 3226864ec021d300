//! Sync status: a line on every screen (unsent changes, last sync, a bar while syncing,
//! the reason it failed, a badge when a value of yours was overridden) and the full
//! screen with "sync now", storage use, refusals and signing out.

use super::say;
use crate::app::use_engine;
use crate::engine::Status;
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

#[component]
pub fn SyncLine(status: Status) -> impl IntoView {
    let lang = use_lang();
    view! {
        <a class="sync-line" href=Route::Sync.href() data-testid="sync-line">
            <span data-testid="pending" data-pending=move || status.pending.get().to_string()>
                {move || match (status.pending.get(), lang.get()) {
                    (0, Lang::Vi) => "Đã gửi hết".to_string(),
                    (0, Lang::En) => "All sent".to_string(),
                    (n, Lang::Vi) => format!("{n} hộ chưa gửi"),
                    (n, Lang::En) => format!("{n} households unsent"),
                }}
            </span>
            <span data-testid="last-sync">
                {move || status.last_ok_ms.get().map(|ms| format!("{} {}", tr(lang.get(), "Đồng bộ", "Synced"), ago(lang.get(), ms)))}
            </span>
            {move || {
                let n = status.overridden.with(Vec::len);
                (n > 0).then(|| view! { <span class="badge" data-testid="overridden-count">{n}</span> })
            }}
        </a>
        {move || status.syncing.get().then(|| view! {
            <div class="progress" role="progressbar" data-testid="syncing">
                <div class="bar-fill"></div>
                <span>{move || format!("{} {}", tr(lang.get(), "Đang đồng bộ… đã nhận", "Syncing… received"), status.received.get())}</span>
            </div>
        })}
        {move || status.error.get().map(|e| view! { <p class="warn" data-testid="sync-error">{say(e)}</p> })}
    }
}

#[component]
pub fn SyncScreen(signed_in: RwSignal<Option<TokenPair>>) -> impl IntoView {
    let lang = use_lang();
    let engine = use_engine();
    let status = engine.status;
    let usage = LocalResource::new(local::usage);
    let confirm = RwSignal::new(false);
    let sync_now = move |_| spawn_local(use_engine().sync());
    let sign_out = move |_| {
        if status.pending.get() > 0 && !confirm.get() {
            confirm.set(true);
            return;
        }
        let engine = use_engine();
        spawn_local(async move {
            if let Some(pair) = session::load() {
                // Signing out offline still forgets everything on this phone.
                let _ = crate::api::logout(&pair.access_token).await;
            }
            let _ = engine.wipe().await;
            session::clear();
            signed_in.set(None);
        });
    };
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
            {move || confirm.get().then(|| view! {
                <p class="error" role="alert" data-testid="unsent-warning">
                    {move || match lang.get() {
                        Lang::Vi => format!("Còn {} hộ có thay đổi chưa gửi. Đăng xuất sẽ xoá chúng khỏi máy. Hãy đồng bộ trước, hoặc bấm lần nữa để vẫn đăng xuất.", status.pending.get()),
                        Lang::En => format!("{} households have unsent changes. Signing out deletes them from this phone. Sync first, or press again to sign out anyway.", status.pending.get()),
                    }}
                </p>
            })}
            <button class="secondary" data-testid="logout" on:click=sign_out>
                {move || if confirm.get() { tr(lang.get(), "Vẫn đăng xuất và xoá", "Sign out and delete") } else { tr(lang.get(), "Đăng xuất", "Sign out") }}
            </button>
        </section>
    }
}
