//! Support by programme project (2–7 and other policies): for each, the households that
//! benefit, what is planned, delivered and cancelled and the money delivered; a project's
//! row opens its beneficiaries, each with a link to the household.

use super::{Problem, date, load, say, village_name, villages};
use crate::route::Route;
use leptos::prelude::*;
use shared::support::{Project, SupportOverview};
use ui::text::{tr, use_lang, vnd};

#[component]
pub fn Support() -> impl IntoView {
    let lang = use_lang();
    let chosen = RwSignal::new(None::<Project>);
    let vs = villages();
    let data = load::<SupportOverview>(move || match chosen.get() {
        Some(p) => format!(
            "/support?project={}",
            serde_json::to_value(p)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        ),
        None => "/support".to_string(),
    });
    view! {
        <Suspense fallback=move || view! { <p>{move || tr(lang.get(), "Đang tải…", "Loading…")}</p> }>
            {move || data.get().map(|r| match r {
                Err(e) => view! { <Problem error=e /> }.into_any(),
                Ok(d) => view! {
                    <table class="card" data-testid="project-table">
                        <thead><tr>
                            <th>{move || tr(lang.get(), "Dự án / chính sách", "Project / policy")}</th>
                            <th class="num">{move || tr(lang.get(), "Số hộ được hưởng", "Households that benefit")}</th>
                            <th class="num">{move || tr(lang.get(), "Lượt hỗ trợ dự kiến", "Support actions planned")}</th>
                            <th class="num">{move || tr(lang.get(), "Lượt đã trao", "Actions delivered")}</th>
                            <th class="num">{move || tr(lang.get(), "Lượt đã hủy", "Actions cancelled")}</th>
                            <th class="num">{move || tr(lang.get(), "Số tiền đã trao", "Money delivered")}</th>
                        </tr></thead>
                        <tbody>
                            {d.projects.into_iter().map(|p| {
                                let project = p.project;
                                view! {
                                    <tr data-testid="project-row" class:current=move || chosen.get() == Some(project)>
                                        <td><button class="link" data-testid="open-project" on:click=move |_| chosen.set(Some(project))>
                                            {say(project.label())}
                                        </button></td>
                                        <td class="num" data-testid="beneficiaries">{p.beneficiaries}</td>
                                        <td class="num">{p.planned}</td>
                                        <td class="num">{p.delivered}</td>
                                        <td class="num">{p.cancelled}</td>
                                        <td class="num">{vnd(p.delivered_vnd)}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    {chosen.get().map(|p| view! {
                        <section class="card">
                            <h3>{say(p.label())}</h3>
                            <table data-testid="beneficiary-table">
                                <thead><tr>
                                    <th>{move || tr(lang.get(), "Mã hộ", "Code")}</th>
                                    <th>{move || tr(lang.get(), "Chủ hộ", "Head")}</th>
                                    <th>{move || tr(lang.get(), "Thôn", "Village")}</th>
                                    <th>{move || tr(lang.get(), "Hỗ trợ", "Support")}</th>
                                    <th class="num">{move || tr(lang.get(), "Số tiền", "Amount")}</th>
                                    <th>{move || tr(lang.get(), "Trạng thái", "Status")}</th>
                                    <th>{move || tr(lang.get(), "Ngày", "Date")}</th>
                                </tr></thead>
                                <tbody>
                                    {d.beneficiaries.into_iter().map(|b| {
                                        let v = b.village_id.clone();
                                        let s = b.support.clone();
                                        view! {
                                            <tr data-testid="beneficiary-row">
                                                <td class="code">{b.code.clone()}</td>
                                                <td><a href=Route::Household(b.household_id.clone()).href()>{b.head_name.clone()}</a></td>
                                                <td>{move || village_name(&vs.get(), &v)}</td>
                                                <td>{say(s.data.kind.label())}</td>
                                                <td class="num">{s.data.amount_vnd.map(vnd).unwrap_or_default()}</td>
                                                <td>{say(s.status.label())}</td>
                                                <td>{s.delivered_date.map(date).unwrap_or_else(|| date(s.data.planned_date))}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    })}
                }.into_any(),
            })}
        </Suspense>
    }
}
