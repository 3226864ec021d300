//! The lock screen: what a person sees when the app opens or comes back after a while,
//! before any household. The password (or, within its window, the PIN) is checked on the
//! phone, offline; wrong tries are counted and the tenth erases the person's data.

use crate::lock::{self, ERASE_AFTER, Tried, WARN_FROM};
use crate::session;
use crate::text::{tr, use_lang};
use crate::vault::DataKey;
use leptos::prelude::*;
use leptos::task::spawn_local;
use send_wrapper::SendWrapper;
use shared::Text;
use shared::api::{LoginRequest, TokenPair};
use shared::user::User;
use ui::api::ClientError;

/// The person's data key while the app is unlocked.
#[derive(Clone)]
pub struct Unlocked(pub SendWrapper<DataKey>);

impl Unlocked {
    pub fn new(key: DataKey) -> Self {
        Unlocked(SendWrapper::new(key))
    }
}

/// What the app holds about being unlocked, shared by the frame and the lock screen.
#[derive(Clone, Copy)]
pub struct LockState {
    pub key: RwSignal<Option<Unlocked>>,
    /// A new password the server accepted while the phone's data is still locked with an
    /// earlier one: the lock takes it once the earlier one opened the data.
    pub rewrap: RwSignal<Option<String>>,
    /// Said above the sign-in form after the phone's data was erased.
    pub farewell: RwSignal<Option<Text>>,
    /// Why opening the data after a sign-in failed, said on the lock screen.
    pub problem: RwSignal<Option<Text>>,
    /// A session just signed in whose data is not yet open: held once it is.
    pub fresh: RwSignal<Option<SendWrapper<TokenPair>>>,
}

impl LockState {
    /// The data is open: the session is held (sealed in the store) and the screens show.
    pub async fn open(self, user_id: &str, key: DataKey) -> Result<(), Text> {
        let fresh = self.fresh.get_untracked().map(|p| (*p).clone());
        lock::hold_session(user_id, &key, fresh).await?;
        self.fresh.set(None);
        self.rewrap.set(None);
        self.problem.set(None);
        self.key.set(Some(Unlocked::new(key)));
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Loading,
    /// No lock yet (a store from the version before encryption): the server checks the
    /// password once.
    FirstLock,
    Password,
    Pin,
}

fn warning(wrong: u32) -> Option<Text> {
    (wrong >= WARN_FROM).then(|| {
        let left = ERASE_AFTER.saturating_sub(wrong);
        Text::new(
            format!(
                "Đã nhập sai {wrong} lần. Sai thêm {left} lần nữa, toàn bộ dữ liệu trên máy sẽ bị xóa, kể cả phần chưa gửi."
            ),
            format!(
                "{wrong} wrong tries. {left} more and all the data on this phone is erased, unsent work included."
            ),
        )
    })
}

#[component]
pub fn LockScreen(user: User, signed_in: RwSignal<Option<TokenPair>>) -> impl IntoView {
    let lang = use_lang();
    let state = expect_context::<LockState>();
    let mode = RwSignal::new(Mode::Loading);
    let secret = RwSignal::new(String::new());
    let error = RwSignal::new(None::<Text>);
    let warn = RwSignal::new(None::<Text>);
    let busy = RwSignal::new(false);
    let user_id = user.id.clone();
    spawn_local(async move {
        match lock::record(&user_id).await {
            Ok(None) => mode.set(Mode::FirstLock),
            Ok(Some(rec)) => {
                warn.set(warning(rec.wrong_passwords));
                let pin = rec.pin_usable(js_sys::Date::now()) && state.rewrap.get().is_none();
                mode.set(if pin { Mode::Pin } else { Mode::Password });
            }
            Err(e) => {
                error.set(Some(e));
                mode.set(Mode::Password);
            }
        }
    });
    let opened = {
        let user_id = user.id.clone();
        move |key: DataKey| {
            let user_id = user_id.clone();
            spawn_local(async move {
                if let Err(e) = state.open(&user_id, key).await {
                    error.set(Some(e));
                }
            });
        }
    };
    let erased = move || {
        state.farewell.set(Some(Text::new(
            format!(
                "Đã nhập sai mật khẩu {ERASE_AFTER} lần: dữ liệu trên máy này đã bị xóa. Hãy đăng nhập lại khi có mạng."
            ),
            format!(
                "The password was wrong {ERASE_AFTER} times: the data on this phone was erased. Sign in again with a network."
            ),
        )));
        session::clear();
        signed_in.set(None);
    };
    let submit = {
        let user = user.clone();
        let opened = opened.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            if busy.get() {
                return;
            }
            busy.set(true);
            error.set(None);
            state.problem.set(None);
            let typed = secret.get();
            let user = user.clone();
            let opened = opened.clone();
            spawn_local(async move {
                let result = match mode.get_untracked() {
                    Mode::FirstLock => first_lock(&user, &typed, state).await.map(Some),
                    Mode::Pin => match lock::try_pin(&user.id, &typed).await {
                        Ok(Tried::Open(key)) => Ok(Some(key)),
                        Ok(Tried::Wrong(0)) => {
                            mode.set(Mode::Password);
                            Err(Text::new(
                                "Mã PIN sai quá nhiều lần nên đã bị xóa; hãy dùng mật khẩu.",
                                "Too many wrong PINs: the PIN was removed; use the password.",
                            ))
                        }
                        Ok(Tried::Wrong(left)) => Err(Text::new(
                            format!("Mã PIN không đúng (còn {left} lần thử)."),
                            format!("Wrong PIN ({left} tries left)."),
                        )),
                        Ok(Tried::Erased) => Ok(None),
                        Err(e) => Err(e),
                    },
                    Mode::Password | Mode::Loading => {
                        let rewrap = state.rewrap.get_untracked();
                        match lock::try_password(&user.id, &typed, rewrap.as_deref()).await {
                            Ok(Tried::Open(key)) => Ok(Some(key)),
                            Ok(Tried::Wrong(n)) => {
                                warn.set(warning(n));
                                Err(Text::new("Mật khẩu không đúng.", "Wrong password."))
                            }
                            Ok(Tried::Erased) => {
                                erased();
                                Ok(None)
                            }
                            Err(e) => Err(e),
                        }
                    }
                };
                secret.set(String::new());
                busy.set(false);
                match result {
                    Ok(Some(key)) => opened(key),
                    Ok(None) => {}
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    let name = user.full_name.clone();
    view! {
        <form class="card lock" on:submit=submit data-testid="lock-form">
            <h2>{move || tr(lang.get(), "Mở khóa dữ liệu", "Unlock the data")}</h2>
            <p class="muted">{name}</p>
            {move || match mode.get() {
                Mode::FirstLock => Some(view! {
                    <p data-testid="first-lock">{move || tr(lang.get(),
                        "Dữ liệu trên máy sẽ được mã hóa bằng mật khẩu của bạn. Nhập mật khẩu đăng nhập (lần này cần có mạng để kiểm tra).",
                        "The data on this phone will be encrypted with your password. Enter your sign-in password (this once, a network is needed to check it).")}</p>
                }.into_any()),
                _ if state.rewrap.get().is_some() => Some(view! {
                    <p data-testid="earlier-password">{move || tr(lang.get(),
                        "Mật khẩu của bạn đã đổi. Nhập mật khẩu cũ một lần để mở dữ liệu trên máy; từ nay máy dùng mật khẩu mới.",
                        "Your password changed. Enter the earlier password once to open the data on this phone; from then on the new one opens it.")}</p>
                }.into_any()),
                _ => None,
            }}
            {move || if mode.get() == Mode::Pin {
                view! {
                    <label for="lock-secret">{move || tr(lang.get(), "Mã PIN (6 số)", "PIN (6 digits)")}</label>
                    <input id="lock-secret" data-testid="lock-pin" type="password" inputmode="numeric"
                        autocomplete="off" maxlength="6" required bind:value=secret />
                }.into_any()
            } else {
                view! {
                    <label for="lock-secret">{move || tr(lang.get(), "Mật khẩu", "Password")}</label>
                    <input id="lock-secret" data-testid="lock-password" type="password"
                        autocomplete="current-password" required bind:value=secret />
                }.into_any()
            }}
            {move || warn.get().map(|w| view! {
                <p class="warning" role="alert" data-testid="lock-warning">{move || w.get(lang.get()).to_string()}</p>
            })}
            {move || error.get().or_else(|| state.problem.get()).map(|e| view! {
                <p class="error" role="alert" data-testid="lock-error">{move || e.get(lang.get()).to_string()}</p>
            })}
            <button type="submit" class="primary" data-testid="lock-submit"
                disabled=move || busy.get() || mode.get() == Mode::Loading>
                {move || if busy.get() {
                    tr(lang.get(), "Đang mở khóa…", "Unlocking…")
                } else {
                    tr(lang.get(), "Mở khóa", "Unlock")
                }}
            </button>
            {move || (mode.get() == Mode::Pin).then(|| view! {
                <button type="button" data-testid="use-password" on:click=move |_| {
                    error.set(None);
                    mode.set(Mode::Password);
                }>{move || tr(lang.get(), "Dùng mật khẩu", "Use the password")}</button>
            })}
            <button type="button" data-testid="other-account" on:click=move |_| {
                // The data stays on the phone, locked, for this person's next sign-in.
                session::clear();
                signed_in.set(None);
            }>{move || tr(lang.get(), "Đăng nhập tài khoản khác", "Sign in as someone else")}</button>
        </form>
    }
}

/// The first lock of a store written before encryption: the server checks the password,
/// then the store is sealed with a key it wraps.
async fn first_lock(user: &User, password: &str, state: LockState) -> Result<DataKey, Text> {
    let req = LoginRequest {
        username: user.username.clone(),
        password: password.to_string(),
        device_id: session::device_id(),
        device_name: ui::device::name().await,
    };
    match ui::api::login(&req).await {
        Ok(pair) => {
            state.fresh.set(Some(SendWrapper::new(pair)));
            lock::first_lock(&user.id, password).await
        }
        Err(ClientError::Network(_)) => Err(Text::new(
            "Lần đầu khóa dữ liệu cần có mạng để kiểm tra mật khẩu. Dữ liệu chưa gửi vẫn được giữ trên máy.",
            "The first lock needs a network to check the password. Unsent data stays on this phone.",
        )),
        Err(e) => Err(e.message()),
    }
}
