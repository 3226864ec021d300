//! The households behind a dashboard figure, listed by the same query that counted them, a
//! page at a time. The heading says what the list holds in words ("30 hộ quá hạn thăm");
//! village, status and cadre narrow it further, and it sorts by code, name, village or the
//! visit due.

use super::{PAGE, Pager, Problem, date, load, param, say, village_name, villages};
use crate::route::Route;
use leptos::prelude::*;
use shared::Text;
use shared::assignment::{AccompanimentPage, CadreLoad};
use shared::household::HouseholdStatus;
use shared::report::Movement;
use ui::text::{tr, use_lang};

/// The filters a list query names, said in words.
fn described(pairs: &[(String, String)], cadre: impl Fn(&str) -> String) -> Text {
    let mut vi = Vec::new();
    let mut en = Vec::new();
    for (k, v) in pairs {
        let (a, b): (String, String) = match (k.as_str(), v.as_str()) {
            ("overdue", "true") => ("quá hạn thăm".into(), "overdue for a visit".into()),
            ("unassigned", "true") => ("chưa có cán bộ kèm cặp".into(), "without a cadre".into()),
            ("without_plan", "true") => ("chưa có kế hoạch".into(), "without a plan".into()),
            ("supported", "true") => ("nghèo và cận nghèo".into(), "poor and near-poor".into()),
            ("status", s) => match HouseholdStatus::parse(s) {
                Some(st) => (st.label().vi.to_lowercase(), st.label().en.to_lowercase()),
                None => continue,
            },
            ("movement", m) => match Movement::ALL.into_iter().find(|x| x.as_str() == m) {
                Some(mv) => (mv.label().vi.to_lowercase(), mv.label().en.to_lowercase()),
                None => continue,
            },
            ("cadre_id", c) => {
                let n = cadre(c);
                (format!("do {n} kèm cặp"), format!("accompanied by {n}"))
            }
            _ => continue,
        };
        vi.push(a);
        en.push(b);
    }
    if vi.is_empty() {
        return Text::new("trong sổ của xã", "in the commune's register");
    }
    Text::new(vi.join(" · "), en.join(" · "))
}

fn pairs_of(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[component]
pub fn HouseholdList(query: String) -> impl IntoView {
    let lang = use_lang();
    let page = RwSignal::new(0usize);
    let vs = villages();
    let cadres = load::<Vec<CadreLoad>>(|| "/accompaniment/cadres".to_string());
    let base = pairs_of(&query);
    let first_of = |key: &str| {
        base.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    // The figure's own filter, then what the person narrows it by here.
    let village = RwSignal::new(first_of("area_id"));
    let status = RwSignal::new(first_of("status"));
    let cadre = RwSignal::new(first_of("cadre_id"));
    let sort = RwSignal::new("code".to_string());
    let fixed: Vec<(String, String)> = base
        .into_iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "area_id" | "status" | "cadre_id" | "sort" | "limit" | "offset"
            )
        })
        .collect();
    let fixed = StoredValue::new(fixed);
    Effect::new(move |_| {
        village.track();
        status.track();
        cadre.track();
        sort.track();
        page.set(0);
    });
    let current = move || {
        let mut p = fixed.get_value();
        for (k, s) in [
            ("area_id", village),
            ("status", status),
            ("cadre_id", cadre),
        ] {
            let v = s.get();
            if !v.is_empty() {
                p.push((k.to_string(), v));
            }
        }
        p
    };
    let rows = load::<AccompanimentPage>(move || {
        let mut q = format!(
            "/accompaniment?sort={}&limit={PAGE}&offset={}",
            sort.get(),
            page.get() * PAGE
        );
        for (k, v) in current() {
            q.push_str(&param(&k, &v));
        }
        q
    });
    let cadre_name = move |id: &str| {
        cadres
            .get()
            .and_then(Result::ok)
            .and_then(|cs| cs.into_iter().find(|c| c.id == id))
            .map_or_else(|| id.to_string(), |c| c.full_name)
    };
    view! {
        <a href="#/">{move || tr(lang.get(), "← Tổng quan", "← Overview")}</a>
        <section class="card filters">
            <label>{move || tr(lang.get(), "Thôn", "Village")} " "
                <select data-testid="list-village" on:change=move |ev| village.set(event_target_value(&ev))>
                    <option value="" selected=move || village.with(String::is_empty)>{move || tr(lang.get(), "Tất cả các thôn", "Every village")}</option>
                    {move || vs.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|a| {
                        let here = a.id.clone();
                        view! { <option value=a.id.clone() selected=move || village.get() == here>{a.name}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>{move || tr(lang.get(), "Phân loại", "Status")} " "
                <select data-testid="list-status" on:change=move |ev| status.set(event_target_value(&ev))>
                    <option value="" selected=move || status.with(String::is_empty)>{move || tr(lang.get(), "Mọi phân loại", "Any status")}</option>
                    {HouseholdStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=move || status.get() == s.as_str()>{say(s.label())}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>{move || tr(lang.get(), "Cán bộ kèm cặp", "Cadre")} " "
                <select data-testid="list-cadre" on:change=move |ev| cadre.set(event_target_value(&ev))>
                    <option value="" selected=move || cadre.with(String::is_empty)>{move || tr(lang.get(), "Mọi cán bộ", "Any cadre")}</option>
                    {move || cadres.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|c| {
                        let here = c.id.clone();
                        view! { <option value=c.id.clone() selected=move || cadre.get() == here>{c.full_name}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>{move || tr(lang.get(), "Sắp xếp", "Sort")} " "
                <select data-testid="list-sort" on:change=move |ev| sort.set(event_target_value(&ev))>
                    {[("code", "Theo mã hộ", "By code"), ("name", "Theo tên chủ hộ", "By head's name"), ("village", "Theo thôn", "By village"), ("due", "Theo hạn thăm", "By visit due")].into_iter().map(|(k, vi, en)| view! {
                        <option value=k selected=move || sort.get() == k>{move || tr(lang.get(), vi, en)}</option>
                    }).collect_view()}
                </select>
            </label>
        </section>
        <Suspense fallback=|| ()>
            {move || rows.get().map(|r| match r {
                Err(e) => view! { <Problem error=e /> }.into_any(),
                Ok(p) => {
                    let total = p.total;
                    let first = page.get() * PAGE;
                    let what = described(&current(), cadre_name);
                    let v = village.get();
                    view! {
                        <h3 data-testid="list-says">
                            <span data-testid="list-total">{total}</span>
                            {move || format!(" {} {}", tr(lang.get(), "hộ", "households"), what.get(lang.get()))}
                            {move || Some(village_name(&vs.get(), &v)).filter(|n| !v.is_empty() && *n != v).map(|n| format!(" · {n}"))}
                        </h3>
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
                                    let open = Route::Household(r.household_id.clone()).href();
                                    let late = r.overdue;
                                    view! {
                                        <tr data-testid="list-row">
                                            <td class="code">{r.code}</td>
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
