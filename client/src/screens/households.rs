//! "My households": the cadre's assigned households or the village head's village, with
//! search, filters and sort. Overdue visits come first and stand out.

use super::{date, say, today};
use crate::field::use_field;
use crate::route::Route;
use crate::text::{tr, use_lang};
use leptos::prelude::*;
use shared::household::HouseholdStatus;
use shared::summary::{Filter, Sort, select};
use shared::user::Role;

/// Households drawn per "show more".
const PAGE: usize = 100;

#[component]
pub fn Households() -> impl IntoView {
    let lang = use_lang();
    let field = use_field();
    let status = field.status;
    let can_register = field.user.role == Role::VillageHead;
    let text = RwSignal::new(String::new());
    let state = RwSignal::new(None::<HouseholdStatus>);
    let overdue_only = RwSignal::new(false);
    let priority_only = RwSignal::new(false);
    let sort = RwSignal::new(Sort::NextVisit);
    // Rows drawn at once; a phone draws a village quickly, a whole commune a page at a time.
    let limit = RwSignal::new(PAGE);
    Effect::new(move |_| {
        text.track();
        state.track();
        overdue_only.track();
        priority_only.track();
        sort.track();
        limit.set(PAGE);
    });
    let overridden = move || {
        status
            .overridden
            .with(|o| o.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>())
    };
    // The rows that pass the filter: how many, and the first `limit` of them (only those
    // are copied for drawing).
    let shown = Memo::new(move |_| {
        let filter = Filter {
            text: text.get(),
            status: state.get(),
            overdue_only: overdue_only.get(),
            priority_only: priority_only.get(),
            sort: sort.get(),
        };
        let today = today();
        let limit = limit.get();
        status.accompaniments.with(|acc| {
            status.rows.with(|rows| {
                let selected = select(rows, &filter, today, acc);
                let first = selected
                    .iter()
                    .take(limit)
                    .map(|s| {
                        let a = acc.get(&s.id);
                        ((*s).clone(), s.overdue(today, a), s.due(a))
                    })
                    .collect::<Vec<_>>();
                (selected.len(), first)
            })
        })
    });
    view! {
        <section class="households" data-testid="households">
            <div class="filters">
                <input
                    type="search"
                    data-testid="search"
                    placeholder=move || tr(lang.get(), "Tìm tên chủ hộ, mã hộ, địa chỉ", "Search head, code, address")
                    bind:value=text
                />
                <div class="chips">
                    <button
                        class="chip"
                        data-testid="filter-overdue"
                        aria-pressed=move || overdue_only.get().to_string()
                        on:click=move |_| overdue_only.update(|v| *v = !*v)
                    >
                        {move || tr(lang.get(), "Quá hạn thăm", "Visit overdue")}
                    </button>
                    <button
                        class="chip"
                        data-testid="filter-priority"
                        aria-pressed=move || priority_only.get().to_string()
                        on:click=move |_| priority_only.update(|v| *v = !*v)
                    >
                        {move || tr(lang.get(), "Nhóm ưu tiên", "Priority groups")}
                    </button>
                </div>
                <div class="row">
                    <select
                        data-testid="filter-status"
                        aria-label=move || tr(lang.get(), "Loại hộ", "Household status")
                        on:change=move |ev| state.set(HouseholdStatus::parse(&event_target_value(&ev)))
                    >
                        <option value="">{move || tr(lang.get(), "Tất cả các hộ", "All households")}</option>
                        {HouseholdStatus::ALL
                            .into_iter()
                            .map(|s| view! { <option value=s.as_str()>{say(s.label())}</option> })
                            .collect_view()}
                    </select>
                    <select
                        data-testid="sort"
                        aria-label=move || tr(lang.get(), "Sắp xếp", "Sort")
                        on:change=move |ev| {
                            sort.set(match event_target_value(&ev).as_str() {
                                "name" => Sort::Name,
                                "code" => Sort::Code,
                                _ => Sort::NextVisit,
                            })
                        }
                    >
                        <option value="next">{move || tr(lang.get(), "Cần thăm trước", "Visit due first")}</option>
                        <option value="name">{move || tr(lang.get(), "Theo tên", "By name")}</option>
                        <option value="code">{move || tr(lang.get(), "Theo mã hộ", "By code")}</option>
                    </select>
                </div>
            </div>
            <p class="count" data-testid="count">
                {move || {
                    let (n, all) = (shown.with(|s| s.0), status.rows.with(Vec::len));
                    if lang.get() == crate::text::Lang::Vi {
                        format!("{n} / {all} hộ")
                    } else {
                        format!("{n} of {all} households")
                    }
                }}
            </p>
            {can_register.then(|| view! {
                <a class="button primary" data-testid="new-household" href=Route::NewHousehold.href()>
                    {move || tr(lang.get(), "+ Đăng ký hộ mới", "+ Register a household")}
                </a>
            })}
            <ul class="list">
                <For
                    each=move || shown.with(|s| s.1.clone())
                    key=|(s, overdue, due)| (s.clone(), *overdue, *due)
                    let:item
                >
                    {
                        let (s, overdue, next) = item;
                        let badge = overridden().contains(&s.id);
                        view! {
                            <li class="household" class:overdue=overdue data-testid="household-row">
                                <a href=Route::Household(s.id.clone()).href()>
                                    <span class="name">{s.head_name.clone()}</span>
                                    {badge.then(|| view! {
                                        <span class="badge" data-testid="overridden-badge">
                                            {move || tr(lang.get(), "Đã bị sửa", "Overridden")}
                                        </span>
                                    })}
                                    <span class="meta">{s.code.clone()} " · " {say(s.status.label())}</span>
                                    <span class="meta visit">
                                        {move || match (overdue, next) {
                                            (true, Some(d)) => format!("{} {}", tr(lang.get(), "Quá hạn thăm từ", "Visit overdue since"), date(d)),
                                            (true, None) => String::new(),
                                            (false, Some(d)) => format!("{} {}", tr(lang.get(), "Hạn thăm:", "Visit due:"), date(d)),
                                            (false, None) => String::new(),
                                        }}
                                    </span>
                                </a>
                            </li>
                        }
                    }
                </For>
            </ul>
            {move || (shown.with(|s| s.0) > limit.get()).then(|| view! {
                <button class="secondary more" data-testid="show-more" on:click=move |_| limit.update(|l| *l += PAGE)>
                    {move || tr(lang.get(), "Xem thêm", "Show more")}
                </button>
            })}
            {move || (status.rows.with(Vec::is_empty) && !status.syncing.get()).then(|| view! {
                <p class="empty">{move || tr(lang.get(), "Chưa có hộ nào trên máy. Hãy đồng bộ khi có sóng.", "No households on this phone yet. Sync when there is signal.")}</p>
            })}
        </section>
    }
}
