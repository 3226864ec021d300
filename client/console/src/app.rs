//! The console's frame: sign-in, the navigation the user's role opens, the language, and
//! the screen the address names.

use crate::route::{Route, use_route};
use crate::screens;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::TokenPair;
use shared::user::Role;
use ui::session;
use ui::text::{Lang, tr, use_lang};

#[component]
pub fn App() -> impl IntoView {
    let lang = RwSignal::new(session::load_lang());
    provide_context(lang);
    let signed_in = RwSignal::new(session::load());
    view! {
        {move || match signed_in.get() {
            Some(pair) if pair.user.role.uses_console() => {
                view! { <Console pair=pair signed_in=signed_in /> }.into_any()
            }
            Some(_) => {
                // Village heads and cadres work in the field app.
                ui::go_to("/");
                ().into_any()
            }
            None => {
                view! {
                    <header class="bar">
                        <h1>"Đồng Hành"</h1>
                        <ui::text::LangButton />
                    </header>
                    <main class="narrow">
                        <ui::login::Login signed_in=signed_in />
                    </main>
                }
                    .into_any()
            }
        }}
    }
}

fn current_tab_into_view() {
    use wasm_bindgen::JsCast;
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let (Ok(Some(nav)), Ok(Some(tab))) = (
        doc.query_selector("[data-testid=nav]"),
        doc.query_selector("[data-testid=nav] a.current"),
    ) else {
        return;
    };
    if let (Some(nav), Some(tab)) = (
        nav.dyn_ref::<web_sys::HtmlElement>(),
        tab.dyn_ref::<web_sys::HtmlElement>(),
    ) {
        // Both offsets from the same page origin: the tab's place inside the navigation.
        let inside = tab.offset_left() - nav.offset_left();
        nav.set_scroll_left(inside - (nav.client_width() - tab.offset_width()) / 2);
    }
}

/// The screens a role works with, in the order of the navigation.
fn screens_of(role: Role) -> Vec<Route> {
    match role {
        Role::CommuneOfficer => vec![
            Route::Overview,
            Route::Reviews,
            Route::Assignments,
            Route::Support,
            Route::Conflicts,
            Route::Quarantine,
            Route::Import,
            Route::Targets,
            Route::Reports,
        ],
        Role::CommuneLeader => vec![
            Route::Overview,
            Route::Reviews,
            Route::Assignments,
            Route::Support,
            Route::Reports,
        ],
        Role::Admin => vec![Route::Users],
        _ => vec![Route::Overview, Route::Reports],
    }
}

fn title(route: &Route, lang: Lang) -> &'static str {
    match route {
        Route::Overview => tr(lang, "Tổng quan", "Overview"),
        Route::Assignments => tr(lang, "Phân công kèm cặp", "Assignments"),
        Route::Conflicts => tr(lang, "Xung đột dữ liệu", "Conflicts"),
        Route::Quarantine => tr(lang, "Thay đổi bị giữ lại", "Quarantine"),
        Route::Users => tr(lang, "Người dùng và thiết bị", "Users and devices"),
        Route::List(_) => tr(lang, "Danh sách hộ", "Households"),
        Route::Area(_) => tr(lang, "Các thôn của xã", "The commune's villages"),
        Route::Household(_) => tr(lang, "Hồ sơ hộ", "Household"),
        Route::Import => tr(lang, "Nhập danh sách hộ", "Import households"),
        Route::Targets => tr(lang, "Chỉ tiêu", "Targets"),
        Route::Support => tr(lang, "Hỗ trợ theo dự án", "Support by project"),
        Route::Reviews => tr(lang, "Rà soát hằng năm", "Yearly review"),
        Route::Reports => tr(lang, "Báo cáo", "Reports"),
    }
}

#[component]
fn Console(pair: TokenPair, signed_in: RwSignal<Option<TokenPair>>) -> impl IntoView {
    let lang = use_lang();
    let route = use_route();
    let role = pair.user.role;
    let allowed = screens_of(role);
    let first = allowed[0].clone();
    let nav = allowed.clone();
    // On a phone the navigation scrolls sideways: the current screen's tab is brought into
    // view whenever the screen changes.
    Effect::new(move |_| {
        route.track();
        request_animation_frame(current_tab_into_view);
    });
    let sign_out = move |_| {
        spawn_local(async move {
            if let Some(p) = session::load() {
                // Signing out on the server only ends the session sooner; the local
                // session is cleared whatever the answer.
                let _ = ui::api::logout(&p.access_token).await;
            }
            session::clear();
            signed_in.set(None);
        });
    };
    let name = pair.user.full_name.clone();
    view! {
        <header class="bar">
            <h1>"Đồng Hành"</h1>
            <nav data-testid="nav">
                {nav
                    .into_iter()
                    .map(|r| {
                        let here = r.clone();
                        let href = r.nav_href();
                        view! {
                            <a
                                href=href
                                class:current=move || route.get() == here
                                data-testid=format!("nav-{}", href.trim_start_matches("#/"))
                            >
                                {move || title(&r, lang.get())}
                            </a>
                        }
                    })
                    .collect_view()}
            </nav>
            {matches!(role, Role::CommuneOfficer | Role::CommuneLeader)
                .then(|| view! { <crate::search::SearchBox /> })}
            <span class="who" data-testid="who">
                {name}
                " · "
                {move || role.label().get(lang.get()).to_string()}
            </span>
            {(role != Role::Admin && role != Role::ProvinceViewer)
                .then(|| {
                    view! {
                        <a class="field-link" href="/">
                            {move || tr(lang.get(), "Ứng dụng điện thoại", "Field app")}
                        </a>
                    }
                })}
            <ui::text::LangButton />
            <button class="secondary" data-testid="sign-out" on:click=sign_out>
                {move || tr(lang.get(), "Đăng xuất", "Sign out")}
            </button>
        </header>
        <main>
            {move || {
                let r = route.get();
                let open = allowed.contains(&r)
                    || (matches!(r, Route::List(_) | Route::Household(_)) && allowed.contains(&Route::Assignments))
                    || (matches!(r, Route::Area(_)) && allowed.contains(&Route::Overview));
                let r = if open { r } else { first.clone() };
                let heading = r.clone();
                view! {
                    <h2 data-testid="screen-title">{move || title(&heading, lang.get())}</h2>
                    {match r {
                        Route::Overview if role == Role::ProvinceViewer => view! { <screens::overview::ProvinceOverview /> }.into_any(),
                        Route::Area(id) => view! { <screens::overview::AreaStats area_id=id /> }.into_any(),
                        Route::Household(id) => view! { <screens::household::HouseholdScreen id=id /> }.into_any(),
                        Route::Overview => view! { <screens::dashboard::DashboardScreen /> }.into_any(),
                        Route::List(q) => view! { <screens::list::HouseholdList query=q /> }.into_any(),
                        Route::Assignments => {
                            view! { <screens::assignments::Assignments manage=role == Role::CommuneOfficer /> }
                                .into_any()
                        }
                        Route::Conflicts => view! { <screens::conflicts::Conflicts /> }.into_any(),
                        Route::Quarantine => view! { <screens::quarantine::Quarantine /> }.into_any(),
                        Route::Users => view! { <screens::users::Users /> }.into_any(),
                        Route::Import => view! { <screens::import::Import /> }.into_any(),
                        Route::Targets => view! { <screens::targets::Targets /> }.into_any(),
                        Route::Support => view! { <screens::support::Support /> }.into_any(),
                        Route::Reviews => view! {
                            <screens::reviews::Reviews leader=role == Role::CommuneLeader officer=role == Role::CommuneOfficer />
                        }.into_any(),
                        Route::Reports => view! { <screens::reports::Reports /> }.into_any(),
                    }}
                }
            }}
        </main>
    }
}
