//! The screens of the shell: sign-in, and the signed-in home that confirms who the person
//! is and what they may do.

use crate::api::{self, ClientError};
use crate::session;
use crate::text::{Lang, tr, use_lang};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::{LoginRequest, Me, TokenPair};

#[component]
pub fn App() -> impl IntoView {
    let lang = RwSignal::new(session::load_lang());
    provide_context(lang);
    let signed_in = RwSignal::new(session::load());
    view! {
        <header class="bar">
            <h1>"Đồng Hành"</h1>
            <button
                class="lang"
                data-testid="lang"
                on:click=move |_| {
                    let next = if lang.get() == Lang::Vi { Lang::En } else { Lang::Vi };
                    session::save_lang(next);
                    lang.set(next);
                }
            >
                {move || tr(lang.get(), "English", "Tiếng Việt")}
            </button>
        </header>
        <main>
            {move || match signed_in.get() {
                Some(pair) => view! { <Home pair=pair signed_in=signed_in /> }.into_any(),
                None => view! { <Login signed_in=signed_in /> }.into_any(),
            }}
        </main>
    }
}

#[component]
fn Login(signed_in: RwSignal<Option<TokenPair>>) -> impl IntoView {
    let lang = use_lang();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ClientError>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get() {
            return;
        }
        busy.set(true);
        error.set(None);
        let req = LoginRequest {
            username: username.get().trim().to_string(),
            password: password.get(),
            device_id: session::device_id(),
        };
        spawn_local(async move {
            match api::login(&req).await {
                Ok(pair) => {
                    session::save(&pair);
                    signed_in.set(Some(pair));
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card" on:submit=submit data-testid="login-form">
            <h2>{move || tr(lang.get(), "Đăng nhập", "Sign in")}</h2>
            <label for="username">{move || tr(lang.get(), "Tên đăng nhập", "Username")}</label>
            <input
                id="username"
                data-testid="username"
                autocomplete="username"
                autocapitalize="none"
                required
                bind:value=username
            />
            <label for="password">{move || tr(lang.get(), "Mật khẩu", "Password")}</label>
            <input
                id="password"
                data-testid="password"
                type="password"
                autocomplete="current-password"
                required
                bind:value=password
            />
            {move || {
                error
                    .get()
                    .map(|e| {
                        let m = e.message();
                        view! {
                            <p class="error" role="alert" data-testid="login-error">
                                {if lang.get() == Lang::Vi { m.vi } else { m.en }}
                            </p>
                        }
                    })
            }}
            <button type="submit" class="primary" data-testid="submit" disabled=move || busy.get()>
                {move || {
                    if busy.get() {
                        tr(lang.get(), "Đang đăng nhập…", "Signing in…")
                    } else {
                        tr(lang.get(), "Đăng nhập", "Sign in")
                    }
                }}
            </button>
        </form>
    }
}

#[component]
fn Home(pair: TokenPair, signed_in: RwSignal<Option<TokenPair>>) -> impl IntoView {
    let lang = use_lang();
    let token = pair.access_token.clone();
    let me = LocalResource::new(move || {
        let token = token.clone();
        async move { api::me(&token).await }
    });
    let user = pair.user.clone();
    let sign_out = move |_| {
        let token = pair.access_token.clone();
        spawn_local(async move {
            // Signing out offline still forgets the session on this phone.
            let _ = api::logout(&token).await;
            session::clear();
            signed_in.set(None);
        });
    };
    let role = user.role.label();
    view! {
        <section class="card" data-testid="welcome">
            <h2>{move || tr(lang.get(), "Xin chào", "Welcome")} ", " {user.full_name.clone()}</h2>
            <p class="role" data-testid="role">
                {move || if lang.get() == Lang::Vi { role.vi.clone() } else { role.en.clone() }}
            </p>
            <Suspense fallback=move || view! { <p>{move || tr(lang.get(), "Đang tải…", "Loading…")}</p> }>
                {move || me.get().map(|r| match r {
                    Ok(me) => view! { <Permissions me=me /> }.into_any(),
                    Err(e) => {
                        let m = e.message();
                        view! { <p class="error" role="alert">{if lang.get() == Lang::Vi { m.vi } else { m.en }}</p> }.into_any()
                    }
                })}
            </Suspense>
            <button class="secondary" data-testid="logout" on:click=sign_out>
                {move || tr(lang.get(), "Đăng xuất", "Sign out")}
            </button>
        </section>
    }
}

#[component]
fn Permissions(me: Me) -> impl IntoView {
    let lang = use_lang();
    let can = |a: &str| me.permissions.contains_key(a);
    let mut items: Vec<(&'static str, &'static str)> = Vec::new();
    if can("write_households") {
        items.push((
            "Đăng ký, cập nhật hộ và thành viên",
            "Register and update households",
        ));
    }
    if can("record_assessments") {
        items.push(("Rà soát hộ nghèo, cận nghèo", "Run the poverty review"));
    }
    if can("log_visits") {
        items.push((
            "Ghi nhật ký thăm hộ được giao",
            "Log visits to assigned households",
        ));
    }
    if can("manage_assignments") {
        items.push(("Phân công cán bộ kèm cặp", "Assign mentoring cadres"));
    }
    if can("read_aggregates") {
        items.push(("Xem số liệu và chỉ tiêu", "See figures and targets"));
    }
    if can("manage_users") {
        items.push(("Quản lý người dùng và thiết bị", "Manage users and devices"));
    }
    view! {
        <ul class="can" data-testid="permissions">
            {items
                .into_iter()
                .map(|(vi, en)| view! { <li>{move || tr(lang.get(), vi, en)}</li> })
                .collect_view()}
        </ul>
    }
}
