//! The administrator's users and devices: create a user with a role and an area, reset a
//! password, disable or enable, list a user's devices with their state and unsent work,
//! and sign a phone out or, lost or stolen, have it erase itself at its next contact.

use super::{Outcome, Problem, load, send, when};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::{DeviceState, RevokeKind, RevokeRequest, Session};
use shared::area::Area;
use shared::user::{NewUser, Role, User, UserUpdate};
use ui::api::{ClientError, Method};
use ui::text::{tr, use_lang};

#[component]
pub fn Users() -> impl IntoView {
    let lang = use_lang();
    let reload = RwSignal::new(0u32);
    let outcome = RwSignal::new(None::<Result<String, ClientError>>);
    let users = load::<Vec<User>>(move || {
        reload.track();
        "/users".to_string()
    });
    let areas = load::<Vec<Area>>(|| "/areas".to_string());
    let open = RwSignal::new(None::<String>);
    let done = move |r: Result<String, ClientError>| {
        outcome.set(Some(r));
        reload.update(|n| *n += 1);
    };
    view! {
        <NewUserForm areas=areas done=done />
        <Outcome outcome=outcome />
        <section class="card">
            <Suspense fallback=|| ()>
                {move || users.get().map(|r| match r {
                    Err(e) => view! { <Problem error=e /> }.into_any(),
                    Ok(us) => view! {
                        <table data-testid="user-table">
                            <thead><tr>
                                <th>{move || tr(lang.get(), "Tên đăng nhập", "Username")}</th>
                                <th>{move || tr(lang.get(), "Họ tên", "Name")}</th>
                                <th>{move || tr(lang.get(), "Vai trò", "Role")}</th>
                                <th>{move || tr(lang.get(), "Địa bàn", "Area")}</th>
                                <th>{move || tr(lang.get(), "Trạng thái", "State")}</th>
                                <th></th>
                            </tr></thead>
                            <tbody>
                                {us.into_iter().map(|u| {
                                    let id = u.id.clone();
                                    let id_open = u.id.clone();
                                    let area = u.area_id.clone();
                                    let active = u.active;
                                    let role = u.role;
                                    view! {
                                        <tr data-testid="user-row" data-username=u.username.clone()>
                                            <td>{u.username.clone()}</td>
                                            <td>{u.full_name.clone()}</td>
                                            <td>{move || role.label().get(lang.get()).to_string()}</td>
                                            <td>{move || areas.get().and_then(|r| r.ok()).and_then(|a| a.into_iter().find(|x| x.id == area)).map(|a| a.name).unwrap_or_default()}</td>
                                            <td>{move || if active { tr(lang.get(), "Đang hoạt động", "Active") } else { tr(lang.get(), "Đã khoá", "Disabled") }}</td>
                                            <td>
                                                <button class="secondary" data-testid="open-user" on:click=move |_| {
                                                    open.update(|o| *o = if o.as_deref() == Some(id_open.as_str()) { None } else { Some(id_open.clone()) })
                                                }>
                                                    {move || tr(lang.get(), "Thiết bị, mật khẩu", "Devices, password")}
                                                </button>
                                            </td>
                                        </tr>
                                        {move || (open.get().as_deref() == Some(id.as_str())).then(|| view! {
                                            <tr><td colspan="6"><UserDetail user_id=id.clone() active=active done=Callback::new(done) /></td></tr>
                                        })}
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn NewUserForm(
    areas: LocalResource<Result<Vec<Area>, ClientError>>,
    done: impl Fn(Result<String, ClientError>) + Copy + 'static,
) -> impl IntoView {
    let lang = use_lang();
    let username = RwSignal::new(String::new());
    let full_name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Cadre.as_str().to_string());
    let area = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = NewUser {
            username: username.get().trim().to_string(),
            full_name: full_name.get().trim().to_string(),
            role: Role::parse(&role.get()).unwrap_or(Role::Cadre),
            area_id: area.get(),
            password: password.get(),
        };
        spawn_local(async move {
            let r = send::<User>(Method::Post, "/users", &body).await;
            if r.is_ok() {
                username.set(String::new());
                full_name.set(String::new());
                password.set(String::new());
            }
            done(r.map(|u| {
                format!(
                    "{} {}",
                    tr(lang.get_untracked(), "Đã tạo người dùng", "Created user"),
                    u.username
                )
            }));
        });
    };
    view! {
        <form class="card grid" on:submit=submit data-testid="new-user">
            <h3>{move || tr(lang.get(), "Tạo người dùng", "Create a user")}</h3>
            <label>{move || tr(lang.get(), "Tên đăng nhập", "Username")}<input data-testid="new-username" bind:value=username /></label>
            <label>{move || tr(lang.get(), "Họ tên", "Full name")}<input data-testid="new-full-name" bind:value=full_name /></label>
            <label>{move || tr(lang.get(), "Vai trò", "Role")}
                <select data-testid="new-role" on:change=move |ev| role.set(event_target_value(&ev))>
                    {Role::ALL.into_iter().map(|r| view! {
                        <option value=r.as_str() selected=r == Role::Cadre>{move || r.label().get(lang.get()).to_string()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>{move || tr(lang.get(), "Địa bàn", "Area")}
                <select data-testid="new-area" on:change=move |ev| area.set(event_target_value(&ev))>
                    <option value="">{move || tr(lang.get(), "— Chọn —", "— Choose —")}</option>
                    {move || areas.get().and_then(|r| r.ok()).unwrap_or_default().into_iter().map(|a| view! {
                        <option value=a.id.clone()>{a.name.clone()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>{move || tr(lang.get(), "Mật khẩu (ít nhất 10 ký tự)", "Password (at least 10 characters)")}
                <input type="password" autocomplete="new-password" data-testid="new-password" bind:value=password />
            </label>
            <button type="submit" class="primary" data-testid="create-user">{move || tr(lang.get(), "Tạo", "Create")}</button>
        </form>
    }
}

#[component]
fn UserDetail(
    user_id: String,
    active: bool,
    done: Callback<Result<String, ClientError>>,
) -> impl IntoView {
    let lang = use_lang();
    let refresh = RwSignal::new(0u32);
    let uid = user_id.clone();
    let devices = load::<Vec<Session>>(move || {
        refresh.track();
        format!("/users/{uid}/devices")
    });
    let password = RwSignal::new(String::new());
    let user = StoredValue::new(user_id);
    let update = move |id: String, body: UserUpdate, ok: (&'static str, &'static str)| {
        spawn_local(async move {
            let r = send::<User>(Method::Patch, &format!("/users/{id}"), &body).await;
            done.run(r.map(|_| tr(lang.get_untracked(), ok.0, ok.1).to_string()));
        });
    };
    // A revocation is asked once more before it is sent: it cuts a person off.
    let confirming = RwSignal::new(None::<(String, RevokeKind)>);
    let revoke = move |device: String, kind: RevokeKind| {
        let id = user.get_value();
        confirming.set(None);
        spawn_local(async move {
            let r = send::<serde_json::Value>(
                Method::Post,
                &format!("/users/{id}/devices/{device}/revoke"),
                &RevokeRequest { kind: Some(kind) },
            )
            .await;
            done.run(r.map(|_| {
                match kind {
                    RevokeKind::SignOut => tr(
                        lang.get_untracked(),
                        "Đã đăng xuất thiết bị: máy ẩn dữ liệu, giữ phần chưa gửi cho tới khi người dùng đăng nhập lại.",
                        "Device signed out: the phone hides its data and keeps unsent work until the person signs in again.",
                    ),
                    RevokeKind::Erase => tr(
                        lang.get_untracked(),
                        "Đã yêu cầu xóa: máy sẽ xóa toàn bộ dữ liệu ở lần kết nối tới.",
                        "Erase requested: the phone deletes all its data at its next contact.",
                    ),
                }
                .to_string()
            }));
            refresh.update(|n| *n += 1);
        });
    };
    let blank = || UserUpdate {
        full_name: None,
        role: None,
        area_id: None,
        active: None,
        password: None,
    };
    view! {
        <div class="user-detail" data-testid="user-detail">
            <div class="actions">
                <input type="password" autocomplete="new-password" data-testid="reset-password"
                    placeholder=move || tr(lang.get(), "Mật khẩu mới", "New password") bind:value=password />
                <button class="secondary" data-testid="set-password" on:click=move |_| {
                    update(user.get_value(), UserUpdate { password: Some(password.get()), ..blank() }, ("Đã đặt lại mật khẩu.", "The password was reset."))
                }>{move || tr(lang.get(), "Đặt lại mật khẩu", "Reset password")}</button>
                <button class="secondary" data-testid="toggle-active" on:click=move |_| {
                    let ok = if active { ("Đã khoá người dùng.", "The user is disabled.") } else { ("Đã mở khoá người dùng.", "The user is enabled.") };
                    update(user.get_value(), UserUpdate { active: Some(!active), ..blank() }, ok)
                }>{move || if active { tr(lang.get(), "Khoá", "Disable") } else { tr(lang.get(), "Mở khoá", "Enable") }}</button>
            </div>
            <Suspense fallback=|| ()>
                {move || devices.get().map(|r| match r {
                    Err(e) => view! { <Problem error=e /> }.into_any(),
                    Ok(ds) if ds.is_empty() => view! { <p>{move || tr(lang.get(), "Chưa đăng nhập trên thiết bị nào.", "Not signed in on any device.")}</p> }.into_any(),
                    Ok(ds) => view! {
                        <table data-testid="device-table">
                            <thead><tr>
                                <th>{move || tr(lang.get(), "Thiết bị", "Device")}</th>
                                <th>{move || tr(lang.get(), "Đăng nhập lúc", "Signed in")}</th>
                                <th>{move || tr(lang.get(), "Đồng bộ gần nhất", "Last sync")}</th>
                                <th>{move || tr(lang.get(), "Trạng thái", "State")}</th>
                                <th>{move || tr(lang.get(), "Hộ chưa gửi", "Households unsent")}</th>
                                <th></th>
                            </tr></thead>
                            <tbody>
                                {ds.into_iter().map(|d| {
                                    let device = d.device_id.clone();
                                    let state = d.state();
                                    let unsent = d.unsent;
                                    let state_text = move || match state {
                                        DeviceState::Active => tr(lang.get(), "Đang dùng", "Active").to_string(),
                                        DeviceState::SignedOut => tr(lang.get(), "Đã đăng xuất", "Signed out").to_string(),
                                        DeviceState::ErasePending => tr(lang.get(), "Chờ xóa (máy chưa kết nối lại)", "Erase pending (not yet in contact)").to_string(),
                                        DeviceState::Erased => format!("{} {}", tr(lang.get(), "Đã xóa lúc", "Erased at"), when(d.erased_at.unwrap_or_default())),
                                    };
                                    let ask = move |kind: RevokeKind| {
                                        let device = device.clone();
                                        move |_| confirming.set(Some((device.clone(), kind)))
                                    };
                                    let this = d.device_id.clone();
                                    let asked = move || confirming.get().filter(|(dv, _)| *dv == this).map(|(_, k)| k);
                                    let sent_device = d.device_id.clone();
                                    view! {
                                        <tr data-testid="device-row" data-device=d.device_id.clone() data-state=format!("{state:?}")>
                                            <td data-testid="device-name">
                                                <strong>{if d.device_name.is_empty() { tr(lang.get_untracked(), "Máy chưa có tên", "Unnamed device").to_string() } else { d.device_name.clone() }}</strong>
                                                <br /><small class="meta">{d.device_id.chars().take(8).collect::<String>()}</small>
                                            </td>
                                            <td>{when(d.created_at)}</td>
                                            <td>{when(d.last_seen_at)}</td>
                                            <td data-testid="device-state">{state_text}</td>
                                            <td data-testid="device-unsent">{unsent}</td>
                                            <td>{move || match asked() {
                                                Some(kind) => {
                                                    let device = sent_device.clone();
                                                    view! {
                                                        <p class="warning" data-testid="revoke-confirm-text">{move || match kind {
                                                            RevokeKind::SignOut => tr(lang.get(),
                                                                "Đăng xuất máy này? Máy ẩn ngay mọi dữ liệu hộ; phần chưa gửi được giữ (mã hóa) và gửi khi chính người này đăng nhập lại.",
                                                                "Sign this device out? The phone hides all household data at once; unsent work is kept (encrypted) and sent when the same person signs in again."),
                                                            RevokeKind::Erase => tr(lang.get(),
                                                                "Máy bị mất hoặc bị lấy cắp? Ở lần kết nối tới, máy xóa toàn bộ dữ liệu của người này, kể cả phần chưa gửi. Không thể hoàn tác.",
                                                                "Lost or stolen? At its next contact the phone deletes everything of this person, unsent work included. This cannot be undone."),
                                                        }}</p>
                                                        <button class="danger" data-testid="revoke-confirm" on:click=move |_| revoke(device.clone(), kind)>
                                                            {move || tr(lang.get(), "Xác nhận", "Confirm")}
                                                        </button>
                                                        <button class="secondary" on:click=move |_| confirming.set(None)>
                                                            {move || tr(lang.get(), "Huỷ", "Cancel")}
                                                        </button>
                                                    }.into_any()
                                                }
                                                None => view! {
                                                    {(state == DeviceState::Active).then(|| view! {
                                                        <button class="secondary" data-testid="revoke-sign-out" on:click=ask(RevokeKind::SignOut)>
                                                            {move || tr(lang.get(), "Đăng xuất máy này", "Sign this device out")}
                                                        </button>
                                                    })}
                                                    {matches!(state, DeviceState::Active | DeviceState::SignedOut).then(|| view! {
                                                        <button class="danger" data-testid="revoke-erase" on:click=ask(RevokeKind::Erase)>
                                                            {move || tr(lang.get(), "Mất máy: xóa dữ liệu", "Lost or stolen: erase")}
                                                        </button>
                                                    })}
                                                }.into_any(),
                                            }}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Suspense>
        </div>
    }
}
