//! The commune at a glance: per village and for the commune, households, poor and near-poor
//! with their rates against the year's targets, households without a cadre and overdue
//! visits, and the cadres' workload. Every figure is a link to the households it counts.

use super::{Problem, load, percent};
use crate::route::Route;
use leptos::prelude::*;
use shared::dashboard::{AreaFigures, Dashboard, FigureKind, rate_pct};
use ui::text::{Lang, tr, use_lang};

/// One figure as a link to its households.
fn figure_link(a: &AreaFigures, kind: FigureKind) -> impl IntoView + use<> {
    let f = a.figures.iter().find(|f| f.kind == kind).cloned();
    f.map(|f| {
        view! {
            <a class="figure-link" href=Route::List(f.query.clone()).href()
                data-testid="figure" data-kind=format!("{:?}", f.kind) data-area=a.area_id.clone() data-query=f.query.clone()>
                {f.households}
            </a>
        }
    })
}

fn rate_with_target(a: &AreaFigures, kind: FigureKind, lang: Lang) -> String {
    let rate = rate_pct(a.get(kind), a.get(FigureKind::Households));
    let target = a.target.as_ref().map(|t| match kind {
        FigureKind::Poor => t.data.poor_rate_pct,
        _ => t.data.near_poor_rate_pct,
    });
    match target {
        Some(t) => format!(
            "{} ({} {})",
            percent(rate),
            tr(lang, "chỉ tiêu", "target"),
            percent(t)
        ),
        None => percent(rate),
    }
}

#[component]
pub fn DashboardScreen() -> impl IntoView {
    let lang = use_lang();
    let data = load::<Dashboard>(|| "/dashboard".to_string());
    view! {
        <Suspense fallback=move || view! { <p>{move || tr(lang.get(), "Đang tải…", "Loading…")}</p> }>
            {move || data.get().map(|r| match r {
                Err(e) => view! { <Problem error=e /> }.into_any(),
                Ok(d) => {
                    let total = d.total.clone();
                    let bars: Vec<(String, f64, Option<f64>)> = d.villages.iter().map(|v| (
                        v.name.clone(),
                        rate_pct(v.get(FigureKind::Poor), v.get(FigureKind::Households)),
                        v.target.as_ref().map(|t| t.data.poor_rate_pct),
                    )).collect();
                    let max = bars.iter().map(|b| b.1.max(b.2.unwrap_or(0.0))).fold(1.0, f64::max);
                    view! {
                        <div class="figures" data-testid="figures">
                            {FigureKind::ALL.into_iter().map(|k| {
                                let t = total.clone();
                                view! {
                                    <div class="figure">
                                        <span class="big">{figure_link(&t, k)}</span>
                                        {move || k.label().get(lang.get()).to_string()}
                                        {matches!(k, FigureKind::Poor | FigureKind::NearPoor).then(|| {
                                            let t = t.clone();
                                            view! { <br /><small>{move || rate_with_target(&t, k, lang.get())}</small> }
                                        })}
                                    </div>
                                }
                            }).collect_view()}
                        </div>
                        {d.movement.map(|m| view! {
                            <section class="card" data-testid="movement">
                                <h3>{move || tr(lang.get(), "Biến động từ đợt rà soát gần nhất, theo sổ biến động (từ ", "Movement since the last review, from the register's ledger (from ")} {super::date(m.since)} {move || tr(lang.get(), " đến hôm nay; báo cáo năm tính từ 01/01)", " to today; the annual report counts from 1 January)")}</h3>
                                <div class="figures">
                                    {m.counts.into_iter().map(|c| view! {
                                        <div class="figure" data-testid=format!("movement-{}", c.movement.as_str())>
                                            <span class="big"><a href=Route::List(format!("movement={}", c.movement.as_str())).href()>{c.households}</a></span>
                                            {super::say(c.movement.label())}
                                        </div>
                                    }).collect_view()}
                                </div>
                            </section>
                        })}
                        {d.target_warnings.into_iter().map(|w| view! {
                            <p class="error" role="alert" data-testid="target-warning">{move || w.get(lang.get()).to_string()}</p>
                        }).collect_view()}
                        <section class="card">
                            <h3>{move || tr(lang.get(), "Tỷ lệ hộ nghèo theo thôn", "Poverty rate by village")}
                                {d.year.map(|y| format!(" · {y}"))}</h3>
                            <div class="bars" role="img" aria-label="poverty rate by village">
                                {bars.into_iter().map(|(name, rate, target)| view! {
                                    <div class="bar-row">
                                        <span class="bar-name">{name}</span>
                                        <span class="bar-track">
                                            <span class="bar-fill" style=format!("width: {:.1}%", rate / max * 100.0)></span>
                                            {target.map(|t| view! { <span class="bar-target" style=format!("left: {:.1}%", t / max * 100.0)></span> })}
                                        </span>
                                        <span class="bar-value">{percent(rate)}</span>
                                    </div>
                                }).collect_view()}
                            </div>
                        </section>
                        <table class="card" data-testid="village-table">
                            <thead><tr>
                                <th>{move || tr(lang.get(), "Thôn", "Village")}</th>
                                {FigureKind::ALL.into_iter().map(|k| view! { <th class="num">{move || k.label().get(lang.get()).to_string()}</th> }).collect_view()}
                                <th class="num">{move || tr(lang.get(), "Tỷ lệ nghèo", "Poor rate")}</th>
                                <th class="num">{move || tr(lang.get(), "Tỷ lệ cận nghèo", "Near-poor rate")}</th>
                            </tr></thead>
                            <tbody>
                                {d.villages.into_iter().map(|v| {
                                    let (a, b) = (v.clone(), v.clone());
                                    view! {
                                        <tr>
                                            <td>{v.name.clone()}</td>
                                            {FigureKind::ALL.into_iter().map(|k| view! { <td class="num">{figure_link(&v, k)}</td> }).collect_view()}
                                            <td class="num">{move || rate_with_target(&a, FigureKind::Poor, lang.get())}</td>
                                            <td class="num">{move || rate_with_target(&b, FigureKind::NearPoor, lang.get())}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <section class="card">
                            <h3>{move || tr(lang.get(), "Cán bộ kèm cặp: số hộ và quá hạn thăm", "Cadres: households and overdue visits")}</h3>
                            <table data-testid="cadre-table">
                                <tbody>
                                    {d.cadres.into_iter().map(|c| {
                                        let all = Route::List(format!("cadre_id={}", c.id)).href();
                                        let late = Route::List(format!("cadre_id={}&overdue=true", c.id)).href();
                                        let behind = c.overdue > 0;
                                        view! {
                                            <tr>
                                                <td>{c.full_name}</td>
                                                <td class="num"><a href=all>{c.households}</a></td>
                                                <td class="num" class:late=behind><a href=late>{c.overdue}</a></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }.into_any()
                }
            })}
        </Suspense>
    }
}
