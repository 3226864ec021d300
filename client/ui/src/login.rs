//! Sign-in, the same form for the field app and the console: online once; afterwards the
//! field app works from the phone's own store.

use crate::api::{self, ClientError};
use crate::session;
use crate::text::{Lang, tr, use_lang};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::{LoginRequest, TokenPair};

#[component]
pub fn Login(
    signed_in: RwSignal<Option<TokenPair>>,
    /// Called with the new session before it is shown (the field app sends office roles
    /// on to the console).
    #[prop(optional)]
    after: Option<fn(&TokenPair)>,
    /// Takes the new session with the password the server accepted, instead of showing
    /// it at once (the field app opens the phone's encrypted data with it).
    #[prop(optional)]
    with_password: Option<Callback<(TokenPair, String)>>,
) -> impl IntoView {
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
        let mut req = LoginRequest {
            username: username.get().trim().to_string(),
            password: password.get(),
            device_id: session::device_id(),
            device_name: None,
        };
        spawn_local(async move {
            req.device_name = crate::device::name().await;
            match api::login(&req).await {
                Ok(pair) => {
                    // The field app keeps the session itself, sealed.
                    if with_password.is_none() || pair.user.role.uses_console() {
                        session::save(&pair);
                    }
                    if let Some(after) = after {
                        after(&pair);
                    }
                    match with_password {
                        Some(then) => then.run((pair, req.password)),
                        None => signed_in.set(Some(pair)),
                    }
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
