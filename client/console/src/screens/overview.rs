//! What the province sees, without personal data: every commune's households, poor and
//! near-poor rates against its targets (`ProvinceOverview`), and one commune's villages
//! (`AreaStats`), which a commune's row opens.

use super::{Problem, load, percent, village_name, villages};
use crate::route::Route;
use leptos::prelude::*;
use shared::api::Stats;
use shared::dashboard::{CommuneFigures, rate_pct};
use shared::household::HouseholdStatus;
use ui::text::{tr, use_lang};

fn pct(part: i64, whole: i64) -> String {
    percent(rate_pct(
        usize::try_from(part).unwrap_or(0),
        usize::try_from(whole).unwrap_or(0),
    ))
}

#[component]
pub fn ProvinceOverview() -> impl IntoView {
    let lang = use_lang();
    let list = load::<Vec<CommuneFigures>>(|| "/stats/communes".to_string());
    let filter = RwSignal::new(String::new());
    let rate = |r: f64, t: Option<f64>| match t {
        Some(t) => format!("{} ({})", percent(r), percent(t)),
        None => percent(r),
    };
    view! {
        <input type="search" data-testid="commune-filter" bind:value=filter
            placeholder=move || tr(lang.get(), "Tìm xã", "Find a commune") />
        <Suspense fallback=move || view! { <p>{move || tr(lang.get(), "Đang tải…", "Loading…")}</p> }>
            {move || list.get().map(|r| match r {
                Err(e) => view! { <Problem error=e /> }.into_any(),
                Ok(cs) => {
                    let total: usize = cs.iter().map(|c| c.households).sum();
                    let poor: usize = cs.iter().map(|c| c.poor).sum();
                    let near: usize = cs.iter().map(|c| c.near_poor).sum();
                    let needle = shared::search::fold(filter.get().trim());
                    view! {
                        <div class="figures" data-testid="figures">
                            <div class="figure"><span class="big" data-testid="fig-communes">{cs.len()}</span>{move || tr(lang.get(), "xã", "communes")}</div>
                            <div class="figure"><span class="big" data-testid="fig-households">{total}</span>{move || tr(lang.get(), "hộ", "households")}</div>
                            <div class="figure"><span class="big">{poor}</span>{move || tr(lang.get(), "hộ nghèo", "poor")} " · " {pct(poor as i64, total as i64)}</div>
                            <div class="figure"><span class="big">{near}</span>{move || tr(lang.get(), "hộ cận nghèo", "near-poor")} " · " {pct(near as i64, total as i64)}</div>
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
                                {cs.into_iter().filter(|c| needle.is_empty() || shared::search::fold(&c.name).contains(&needle)).map(|c| {
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
                    }.into_any()
                }
            })}
        </Suspense>
    }
}

/// One area's villages: households, poor and near-poor and their rates.
#[component]
pub fn AreaStats(area_id: String) -> impl IntoView {
    let lang = use_lang();
    let stats = load::<Stats>(move || format!("/stats?area_id={area_id}"));
    let vs = villages();
    view! {
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
                                {target.as_ref().map(|t| format!(" ({} {:.2} %)", "→", t.data.poor_rate_pct))}
                            </div>
                            <div class="figure"><span class="big" data-testid="fig-near-poor">{s.near_poor}</span>
                                {move || tr(lang.get(), "hộ cận nghèo", "near-poor")} " · " {pct(s.near_poor, s.households)}
                                {target.as_ref().map(|t| format!(" ({} {:.2} %)", "→", t.data.near_poor_rate_pct))}
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
