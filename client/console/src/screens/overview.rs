//! The commune at a glance: households, poor and near-poor rates against the year's
//! targets, and the same per village.

use super::{Problem, load, village_name, villages};
use leptos::prelude::*;
use shared::api::Stats;
use shared::household::HouseholdStatus;
use ui::text::{tr, use_lang};

fn pct(part: i64, whole: i64) -> String {
    if whole == 0 {
        "0,00 %".into()
    } else {
        format!("{:.2} %", part as f64 * 100.0 / whole as f64).replace('.', ",")
    }
}

#[component]
pub fn Overview() -> impl IntoView {
    let lang = use_lang();
    let stats = load::<Stats>(|| "/stats".to_string());
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
