//! The households behind a dashboard figure, listed by the same query that counted them,
//! a page at a time.

use super::{PAGE, Pager, Problem, date, load, say, village_name, villages};
use leptos::prelude::*;
use shared::assignment::AccompanimentPage;
use ui::text::{tr, use_lang};

#[component]
pub fn HouseholdList(query: String) -> impl IntoView {
    let lang = use_lang();
    let page = RwSignal::new(0usize);
    let vs = villages();
    let rows = load::<AccompanimentPage>(move || {
        format!(
            "/accompaniment?{query}&sort=code&limit={PAGE}&offset={}",
            page.get() * PAGE
        )
    });
    view! {
        <a href="#/">{move || tr(lang.get(), "← Tổng quan", "← Overview")}</a>
        <Suspense fallback=|| ()>
            {move || rows.get().map(|r| match r {
                Err(e) => view! { <Problem error=e /> }.into_any(),
                Ok(p) => {
                    let total = p.total;
                    let first = page.get() * PAGE;
                    view! {
                        <p data-testid="list-total">{total}</p>
                        <table class="card" data-testid="list-table">
                            <thead><tr>
                                <th>{move || tr(lang.get(), "Mã hộ", "Code")}</th>
                                <th>{move || tr(lang.get(), "Chủ hộ", "Head")}</th>
                                <th>{move || tr(lang.get(), "Thôn", "Village")}</th>
                                <th>{move || tr(lang.get(), "Phân loại", "Status")}</th>
                                <th>{move || tr(lang.get(), "Cán bộ kèm cặp", "Accompanied by")}</th>
                                <th>{move || tr(lang.get(), "Hạn thăm", "Visit due")}</th>
                            </tr></thead>
                            <tbody>
                                {p.rows.into_iter().map(|r| {
                                    let v = r.village_id.clone();
                                    let open = crate::route::Route::Household(r.household_id.clone()).href();
                                    let late = r.overdue;
                                    view! {
                                        <tr data-testid="list-row">
                                            <td>{r.code}</td>
                                            <td><a href=open>{r.head_name}</a></td>
                                            <td>{move || village_name(&vs.get(), &v)}</td>
                                            <td>{say(r.status.label())}</td>
                                            <td>{r.accompaniment.cadres.iter().map(|c| c.full_name.clone()).collect::<Vec<_>>().join(", ")}</td>
                                            <td class:late=late>{r.due.map(date).unwrap_or_else(|| "—".into())}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <Pager page=page total=total first=first lang=lang />
                    }.into_any()
                }
            })}
        </Suspense>
    }
}
