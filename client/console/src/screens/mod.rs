//! One module per console screen, and what they share: reading from the API into a
//! resource, showing the server's reason when it refuses, the commune's village names.

pub mod assignments;
pub mod conflicts;
pub mod dashboard;
pub mod household;
pub mod import;
pub mod list;
pub mod overview;
pub mod quarantine;
pub mod reports;
pub mod reviews;
pub mod support;
pub mod targets;
pub mod users;

use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::area::{Area, AreaKind};
use ui::api::{ClientError, Method, authed};
use ui::text::{Lang, tr, use_lang};

pub use ui::text::{date, percent, say, today};

/// A GET of `/api{path}` that runs again whenever a signal read by `path` changes.
pub fn load<T: DeserializeOwned + 'static>(
    path: impl Fn() -> String + 'static,
) -> LocalResource<Result<T, ClientError>> {
    LocalResource::new(move || {
        let p = path();
        async move { authed::<T>(Method::Get, &p, None::<&()>).await }
    })
}

/// One GET of `/api{path}`, outside a resource (answers to typing).
pub async fn send_get<T: DeserializeOwned>(path: &str) -> Result<T, ClientError> {
    authed(Method::Get, path, None::<&()>).await
}

/// A change sent to the API.
pub async fn send<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: &impl Serialize,
) -> Result<T, ClientError> {
    authed(method, path, Some(body)).await
}

/// The server's reason for a refusal, in the current language.
#[component]
pub fn Problem(error: ClientError) -> impl IntoView {
    let lang = use_lang();
    let m = error.message();
    let fields: Vec<String> = match &error {
        ClientError::Refused(b) => b
            .fields
            .iter()
            .map(|f| f.message.get(lang.get_untracked()).to_string())
            .collect(),
        _ => vec![],
    };
    view! {
        <div class="error" role="alert" data-testid="error">
            <p>{move || m.get(lang.get()).to_string()}</p>
            {(!fields.is_empty())
                .then(|| view! { <ul>{fields.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul> })}
        </div>
    }
}

/// Part of a query string: `&key=value`, the value percent-encoded.
pub fn param(key: &str, value: &str) -> String {
    format!("&{key}={}", js_sys_encode(value))
}

fn js_sys_encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The villages the user can see, by id, in code order.
pub fn villages() -> LocalResource<Result<Vec<Area>, ClientError>> {
    LocalResource::new(|| async {
        let mut all: Vec<Area> = authed(Method::Get, "/areas", None::<&()>).await?;
        all.retain(|a| a.kind == AreaKind::Village);
        all.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(all)
    })
}

/// A village's name from the loaded list, or its id when it is not there.
pub fn village_name(all: &Option<Result<Vec<Area>, ClientError>>, id: &str) -> String {
    all.as_ref()
        .and_then(|r| r.as_ref().ok())
        .and_then(|vs| vs.iter().find(|a| a.id == id))
        .map_or_else(|| id.to_string(), |a| a.name.clone())
}

/// A server time (milliseconds since the epoch) as Vietnamese write it, in Vietnam's time.
pub fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms + 7 * 3_600_000)
        .map(|t| t.format("%d/%m/%Y %H:%M").to_string())
        .unwrap_or_default()
}

/// The signed-in commune's users, to name who did what.
pub type Users = LocalResource<Result<Vec<shared::user::User>, ClientError>>;

pub fn users() -> Users {
    load(|| "/users".to_string())
}

/// A user's name and username from the loaded list; the id itself when not in it, "—" for
/// nobody.
pub fn user_name(users: &Users, id: Option<&str>) -> String {
    let Some(id) = id else { return "—".into() };
    users
        .get()
        .and_then(|r| r.ok())
        .and_then(|us| us.into_iter().find(|u| u.id == id))
        .map_or_else(
            || id.to_string(),
            |u| format!("{} ({})", u.full_name, u.username),
        )
}

/// What the last action of a screen did: its confirmation, or the server's reason.
#[component]
pub fn Outcome(outcome: RwSignal<Option<Result<String, ClientError>>>) -> impl IntoView {
    move || {
        outcome.get().map(|r| match r {
            Ok(m) => view! { <p class="ok" role="status" data-testid="outcome">{m}</p> }.into_any(),
            Err(e) => view! { <Problem error=e /> }.into_any(),
        })
    }
}

/// A consequential action said in words before it is done: what it will do, to which
/// households, values and people, and the button that does it.
#[derive(Clone)]
pub struct Ask {
    pub title: String,
    pub lines: Vec<String>,
    pub yes: String,
    pub run: Callback<()>,
}

/// The question of a consequential action, asked once: "Xác nhận" does it, "Hủy" not.
#[component]
pub fn Confirm(ask: RwSignal<Option<Ask>>) -> impl IntoView {
    let lang = use_lang();
    move || {
        ask.get().map(|a| {
            let run = a.run;
            view! {
                <section class="card confirm" role="alertdialog" aria-labelledby="confirm-title" data-testid="confirm">
                    <h3 id="confirm-title">{a.title}</h3>
                    <ul>{a.lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
                    <div class="buttons">
                        <button class="primary" data-testid="confirm-yes" on:click=move |_| {
                            ask.set(None);
                            run.run(());
                        }>{a.yes}</button>
                        <button class="secondary" data-testid="confirm-no" on:click=move |_| ask.set(None)>
                            {move || tr(lang.get(), "Hủy", "Cancel")}
                        </button>
                    </div>
                </section>
            }
        })
    }
}

/// How long a lawful undo stays offered.
pub const UNDO_SECONDS: u64 = 60;

/// What was just done, and how to take it back by a new change.
#[derive(Clone)]
pub struct UndoOffer {
    pub done: String,
    pub run: Callback<()>,
}

/// "✓ Done … · Hoàn tác" for `UNDO_SECONDS`, then only the record of it stays.
#[component]
pub fn Undo(offer: RwSignal<Option<UndoOffer>>) -> impl IntoView {
    let lang = use_lang();
    // Each offer expires on its own: a newer offer is not cut short by an older timer.
    let shown = RwSignal::new(0u32);
    Effect::new(move |_| {
        if offer.with(Option::is_some) {
            let n = shown.get_untracked() + 1;
            shown.set(n);
            set_timeout(
                move || {
                    if shown.get_untracked() == n {
                        offer.set(None);
                    }
                },
                std::time::Duration::from_secs(UNDO_SECONDS),
            );
        }
    });
    move || {
        offer.get().map(|o| {
            let run = o.run;
            view! {
                <div class="undo" role="status" data-testid="undo-offer">
                    <span>"✓ " {o.done}</span>
                    <button class="secondary" data-testid="undo" on:click=move |_| {
                        offer.set(None);
                        run.run(());
                    }>{move || tr(lang.get(), "Hoàn tác", "Undo")}</button>
                </div>
            }
        })
    }
}

/// Rows a page of the console's long lists.
pub const PAGE: usize = 50;

/// "1–50 / 211" with the previous and next page, for lists of `PAGE` rows a page.
#[component]
pub fn Pager(
    page: RwSignal<usize>,
    total: usize,
    first: usize,
    lang: RwSignal<Lang>,
    /// What an empty list says.
    #[prop(default = ("Không có hộ nào.", "No households."))]
    none: (&'static str, &'static str),
) -> impl IntoView {
    let last = (first + PAGE).min(total);
    let at_end = last >= total;
    view! {
        <div class="pager" data-testid="pager">
            <button class="secondary" disabled=move || page.get() == 0 on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>
                {move || tr(lang.get(), "‹ Trước", "‹ Previous")}
            </button>
            <span data-testid="page-info">
                {move || if total == 0 {
                    tr(lang.get(), none.0, none.1).to_string()
                } else {
                    format!("{}–{} / {}", first + 1, last, total)
                }}
            </span>
            <button class="secondary" disabled=at_end on:click=move |_| page.update(|p| *p += 1)>
                {move || tr(lang.get(), "Sau ›", "Next ›")}
            </button>
        </div>
    }
}
