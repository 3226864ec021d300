//! The year's targets of the commune and each village (poor and near-poor rates, in %):
//! the officer sets them here; the overview compares the rates with them and warns when
//! the villages' targets do not add up to the commune's.

use super::{Outcome, load, send, today};
use chrono::Datelike;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::area::{Area, AreaKind};
use shared::target::{Target, TargetInput};
use ui::api::{ClientError, Method};
use ui::text::{tr, use_lang};

#[component]
pub fn Targets() -> impl IntoView {
    let lang = use_lang();
    let year = RwSignal::new(today().year());
    let reload = RwSignal::new(0u32);
    let outcome = RwSignal::new(None::<Result<String, ClientError>>);
    let areas = load::<Vec<Area>>(|| "/areas".to_string());
    let targets = load::<Vec<Target>>(move || {
        reload.track();
        "/targets".to_string()
    });
    let save = move |area_id: String, poor: String, near: String| {
        let y = year.get_untracked();
        spawn_local(async move {
            let parse = |s: &str| s.trim().replace(',', ".").parse::<f64>().unwrap_or(-1.0);
            let input = TargetInput {
                poor_rate_pct: parse(&poor),
                near_poor_rate_pct: parse(&near),
                indicator_goals: Default::default(),
            };
            let r = send::<Target>(Method::Put, &format!("/targets/{area_id}/{y}"), &input).await;
            outcome.set(Some(r.map(|_| {
                tr(
                    lang.get_untracked(),
                    "Đã lưu chỉ tiêu.",
                    "The target is saved.",
                )
                .to_string()
            })));
            reload.update(|n| *n += 1);
        });
    };
    view! {
        <section class="card">
            <label class="check">
                {move || tr(lang.get(), "Năm", "Year")}
                <input type="number" class="short" data-testid="target-year" min="2020" max="2100"
                    prop:value=move || year.get().to_string()
                    on:change=move |ev| if let Ok(y) = event_target_value(&ev).parse() { year.set(y) } />
            </label>
            <Outcome outcome=outcome />
            <Suspense fallback=|| ()>
                {move || {
                    let (Some(Ok(all)), Some(Ok(ts))) = (areas.get(), targets.get()) else {
                        return view! { <p>{move || tr(lang.get(), "Đang tải…", "Loading…")}</p> }.into_any();
                    };
                    let y = year.get();
                    let mut rows: Vec<Area> = all.into_iter().filter(|a| matches!(a.kind, AreaKind::Commune | AreaKind::Village)).collect();
                    rows.sort_by(|a, b| (a.kind != AreaKind::Commune, &a.code).cmp(&(b.kind != AreaKind::Commune, &b.code)));
                    view! {
                        <table data-testid="target-table">
                            <thead><tr>
                                <th>{move || tr(lang.get(), "Địa bàn", "Area")}</th>
                                <th>{move || tr(lang.get(), "Tỷ lệ hộ nghèo (%)", "Poor rate (%)")}</th>
                                <th>{move || tr(lang.get(), "Tỷ lệ hộ cận nghèo (%)", "Near-poor rate (%)")}</th>
                                <th></th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|a| {
                                    let t = ts.iter().find(|t| t.area_id == a.id && t.year == y);
                                    let poor = RwSignal::new(t.map(|t| ui::text::decimal(t.data.poor_rate_pct, 2)).unwrap_or_default());
                                    let near = RwSignal::new(t.map(|t| ui::text::decimal(t.data.near_poor_rate_pct, 2)).unwrap_or_default());
                                    let id = a.id.clone();
                                    view! {
                                        <tr data-testid="target-row">
                                            <td>{a.name.clone()}</td>
                                            <td><input class="short" inputmode="decimal" data-testid="target-poor" bind:value=poor /></td>
                                            <td><input class="short" inputmode="decimal" data-testid="target-near-poor" bind:value=near /></td>
                                            <td><button class="secondary" data-testid="save-target" on:click=move |_| save(id.clone(), poor.get(), near.get())>
                                                {move || tr(lang.get(), "Lưu", "Save")}
                                            </button></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
            </Suspense>
        </section>
    }
}
