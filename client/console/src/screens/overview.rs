//! What the province sees, without personal data: every commune's households, poor and
//! near-poor rates against its targets, filtered, sorted and paged by the server
//! (`ProvinceOverview`), and one commune's villages
//! (`AreaStats`), which a commune's row opens.

use super::{PAGE, Pager, Problem, load, param, percent, village_name, villages};
use crate::route::Route;
use leptos::prelude::*;
use shared::api::Stats;
use shared::dashboard::{CommunePage, rate_pct};
use shared::household::HouseholdStatus;
use ui::text::{tr, use_lang};

fn pct(part: i64, whole: i64) -> String {
    percent(rate_pct(
        usize::try_from(part).unwrap_or(0),
        usize::try_from(whole).unwrap_or(0),
    ))
}

/// The columns the province can sort by, as the server names them.
const SORTS: [(&str, &str, &str); 4] = [
    ("poor_rate", "Tỷ lệ nghèo cao nhất", "Highest poverty rate"),
    (
        "near_poor_rate",
        "Tỷ lệ cận nghèo cao nhất",
        "Highest near-poverty rate",
    ),
    ("households", "Nhiều hộ nhất", "Most households"),
    ("name", "Tên xã (A–Z)", "Name (A–Z)"),
];

#[component]
pub fn ProvinceOverview() -> impl IntoView {
    let lang = use_lang();
    let filter = RwSignal::new(String::new());
    let sort = RwSignal::new(SORTS[0].0.to_string());
    let page = RwSignal::new(0usize);
    // A new filter or order starts at the first page.
    Effect::watch(
        move || (filter.get(), sort.get()),
        move |_, _, _| page.set(0),
        false,
    );
    let list = load::<CommunePage>(move || {
        format!(
            "/stats/communes?sort={}&limit={PAGE}&offset={}{}",
            sort.get(),
            page.get() * PAGE,
            param("q", filter.get().trim())
        )
    });
    let rate = |r: f64, t: Option<f64>| match t {
        Some(t) => format!("{} ({})", percent(r), percent(t)),
        None => percent(r),
    };
    view! {
        <div class="filters">
            <input type="search" data-testid="commune-filter" bind:value=filter
                placeholder=move || tr(lang.get(), "Tìm xã", "Find a commune") />
            <select data-testid="commune-sort" aria-label="sort"
                on:change=move |ev| sort.set(event_target_value(&ev))>
                {SORTS.into_iter().map(|(key, vi, en)| view! {
                    <option value=key selected=move || sort.get() == key>{move || tr(lang.get(), vi, en)}</option>
                }).collect_view()}
            </select>
        </div>
        <Transition fallback=move || view! { <p>{move || tr(lang.get(), "Đang tải…", "Loading…")}</p> }>
            {move || list.get().map(|r| match r {
                Err(e) => view! { <Problem error=e /> }.into_any(),
                Ok(p) => {
                    let first = page.get() * PAGE;
                    view! {
                        <div class="figures" data-testid="figures">
                            <div class="figure"><span class="big" data-testid="fig-communes">{p.communes}</span>{move || tr(lang.get(), "xã", "communes")}</div>
                            <div class="figure"><span class="big" data-testid="fig-households">{p.households}</span>{move || tr(lang.get(), "hộ", "households")}</div>
                            <div class="figure"><span class="big">{p.poor}</span>{move || tr(lang.get(), "hộ nghèo", "poor")} " · " {pct(p.poor as i64, p.households as i64)}</div>
                            <div class="figure"><span class="big">{p.near_poor}</span>{move || tr(lang.get(), "hộ cận nghèo", "near-poor")} " · " {pct(p.near_poor as i64, p.households as i64)}</div>
                        </div>
                        <table class="card" data-testid="commune-table">
                            <thead><tr>
                                <th>{move || tr(lang.get(), "Xã", "Commune")}</th>
                                <th class="num">{move || tr(lang.get(), "Số hộ", "Households")}</th>
                                <th class="num">{move || tr(lang.get(), "Hộ nghèo", "Poor")}</th>
                                <th class="num">{move || tr(lang.get(), "Tỷ lệ (chỉ tiêu)", "Rate (target)")}</th>
                                <th class="num">{move || tr(lang.get(), "Hộ cận nghèo", "Near-poor")}</th>
                                <th class="num">{move || tr(lang.get(), "Tỷ lệ (chỉ tiêu)", "Rate (target)")}</th>
                            </tr></thead>
                            <tbody>
                                {p.rows.into_iter().map(|c| {
                                    let t = c.target.as_ref().map(|t| (t.data.poor_rate_pct, t.data.near_poor_rate_pct));
                                    view! {
                                        <tr data-testid="commune-row">
                                            <td><a href=Route::Area(c.area_id.clone()).href()>{c.name.clone()}</a></td>
                                            <td class="num">{c.households}</td>
                                            <td class="num">{c.poor}</td>
                                            <td class="num">{rate(c.poor_rate_pct, t.map(|t| t.0))}</td>
                                            <td class="num">{c.near_poor}</td>
                                            <td class="num">{rate(c.near_poor_rate_pct, t.map(|t| t.1))}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <Pager page=page total=p.matched first=first lang=lang none=("Không có xã nào.", "No communes.") />
                    }.into_any()
                }
            })}
        </Transition>
    }
}

/// One area's villages: households, poor and near-poor and their rates.
#[component]
pub fn AreaStats(area_id: String) -> impl IntoView {
    let lang = use_lang();
    let id = area_id.clone();
    let area = load::<shared::area::Area>(move || format!("/areas/{id}"));
    let stats = load::<Stats>(move || format!("/stats?area_id={area_id}"));
    let vs = villages();
    view! {
        <h3 data-testid="area-name">{move || area.get().and_then(Result::ok).map(|a| a.name)}</h3>
        <Suspense fallback=|| ()>
            {move || stats.get().map(|r| match r {
                Err(e) => view! { <Problem error=e /> }.into_any(),
                Ok(s) => {
                    let target = s.target.clone();
                    let mut by: std::collections::BTreeMap<String, [i64; 3]> = Default::default();
                    for c in &s.by_village {
                        let row = by.entry(c.village_id.clone()).or_default();
                        row[0] += c.households;
                        match c.status {
                            HouseholdStatus::Poor => row[1] += c.households,
                            HouseholdStatus::NearPoor => row[2] += c.households,
                            _ => {}
                        }
                    }
                    view! {
                        <div class="figures" data-testid="figures">
                            <div class="figure"><span class="big" data-testid="fig-households">{s.households}</span>{move || tr(lang.get(), "hộ", "households")}</div>
                            <div class="figure"><span class="big" data-testid="fig-poor">{s.poor}</span>
                                {move || tr(lang.get(), "hộ nghèo", "poor")} " · " {pct(s.poor, s.households)}
                                {target.as_ref().map(|t| format!(" (→ {})", percent(t.data.poor_rate_pct)))}
                            </div>
                            <div class="figure"><span class="big" data-testid="fig-near-poor">{s.near_poor}</span>
                                {move || tr(lang.get(), "hộ cận nghèo", "near-poor")} " · " {pct(s.near_poor, s.households)}
                                {target.as_ref().map(|t| format!(" (→ {})", percent(t.data.near_poor_rate_pct)))}
                            </div>
                        </div>
                        <table class="card" data-testid="village-table">
                            <thead><tr>
                                <th>{move || tr(lang.get(), "Thôn", "Village")}</th>
                                <th class="num">{move || tr(lang.get(), "Số hộ", "Households")}</th>
                                <th class="num">{move || tr(lang.get(), "Hộ nghèo", "Poor")}</th>
                                <th class="num">{move || tr(lang.get(), "Tỷ lệ", "Rate")}</th>
                                <th class="num">{move || tr(lang.get(), "Hộ cận nghèo", "Near-poor")}</th>
                                <th class="num">{move || tr(lang.get(), "Tỷ lệ", "Rate")}</th>
                            </tr></thead>
                            <tbody>
                                {by.into_iter().map(|(v, [n, p, np])| view! {
                                    <tr>
                                        <td>{move || village_name(&vs.get(), &v)}</td>
                                        <td class="num">{n}</td>
                                        <td class="num">{p}</td>
                                        <td class="num">{pct(p, n)}</td>
                                        <td class="num">{np}</td>
                                        <td class="num">{pct(np, n)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }
            })}
        </Suspense>
    }
}
