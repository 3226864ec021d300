//! The 6-month and annual reports: the report of the user's commune (or province) seen
//! here as tables, and downloaded as the XLSX or CSV file the district asks for.

use super::{Problem, load, percent, say, today};
use chrono::Datelike;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::report::flows::{CategoryFlows, columns};
use shared::report::{AreaRow, Period, Report};
use ui::api::ClientError;
use ui::text::{tr, use_lang, vnd};
use wasm_bindgen::JsCast;

fn period_name(p: Period) -> &'static str {
    match p {
        Period::HalfYear => "half_year",
        Period::Annual => "annual",
    }
}

/// Saves `bytes` as a file named `name` through the browser's download.
fn save_file(bytes: &[u8], name: &str, mime: &str) -> Option<()> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).ok()?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
    let doc = web_sys::window()?.document()?;
    let a: web_sys::HtmlAnchorElement = doc.create_element("a").ok()?.dyn_into().ok()?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    web_sys::Url::revoke_object_url(&url).ok()
}

fn row_view(r: &AreaRow, total: bool) -> impl IntoView + use<> {
    let target = |t: Option<f64>| t.map(percent).unwrap_or_default();
    view! {
        <tr class:total=total data-testid="report-row">
            <td>{r.name.clone()}</td>
            <td class="num">{r.households_end}</td>
            <td class="num">{r.poor_start}</td>
            <td class="num">{r.poor_end}</td>
            <td class="num">{percent(r.poor_rate_end())}</td>
            <td class="num">{target(r.target_poor_pct)}</td>
            <td class="num">{r.near_poor_end}</td>
            <td class="num">{percent(r.near_poor_rate_end())}</td>
            <td class="num">{target(r.target_near_poor_pct)}</td>
            <td class="num">{r.escaped}</td>
            <td class="num">{r.newly_poor}</td>
            <td class="num">{r.fell_back}</td>
            <td class="num">{r.newly_near_poor}</td>
            <td class="num">{r.left_near_poor}</td>
        </tr>
    }
}

/// The movement table of one area: each category's start, every inflow and outflow by
/// kind, the end, and the check start + inflows − outflows − end (0 when it adds up).
fn flows_view(flows: &[CategoryFlows]) -> impl IntoView + use<> {
    let lang = use_lang();
    let (ins, outs) = columns();
    let head_in = ins.clone();
    let head_out = outs.clone();
    view! {
        <div class="scroll">
        <table data-testid="report-flows">
            <thead>
                <tr>
                    <th rowspan="2">{move || tr(lang.get(), "Nhóm hộ", "Category")}</th>
                    <th rowspan="2" class="num">{move || tr(lang.get(), "Đầu kỳ", "Start")}</th>
                    <th colspan=head_in.len().to_string()>{move || tr(lang.get(), "Tăng trong kỳ", "Inflows")}</th>
                    <th colspan=head_out.len().to_string()>{move || tr(lang.get(), "Giảm trong kỳ", "Outflows")}</th>
                    <th rowspan="2" class="num">{move || tr(lang.get(), "Cuối kỳ", "End")}</th>
                    <th rowspan="2" class="num">{move || tr(lang.get(), "Kiểm tra", "Check")}</th>
                </tr>
                <tr>
                    {head_in.into_iter().map(|k| view! { <th class="num">{say(k.label(true))}</th> }).collect_view()}
                    {head_out.into_iter().map(|k| view! { <th class="num">{say(k.label(false))}</th> }).collect_view()}
                </tr>
            </thead>
            <tbody>
                {flows.iter().map(|c| {
                    let check = c.check();
                    view! {
                        <tr data-testid="flow-row">
                            <td>{say(c.category.label())}</td>
                            <td class="num">{c.start}</td>
                            {ins.iter().map(|k| view! { <td class="num">{c.inflow_of(*k)}</td> }).collect_view()}
                            {outs.iter().map(|k| view! { <td class="num">{c.outflow_of(*k)}</td> }).collect_view()}
                            <td class="num">{c.end}</td>
                            <td class="num" data-testid="flow-check">{check}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}

#[component]
pub fn Reports() -> impl IntoView {
    let lang = use_lang();
    let year = RwSignal::new(today().year());
    let period = RwSignal::new(Period::Annual);
    let query = move || format!("year={}&period={}", year.get(), period_name(period.get()));
    let data = load::<Report>(move || format!("/reports?{}", query()));
    let problem = RwSignal::new(None::<ClientError>);
    let download = move |ext: &'static str, mime: &'static str| {
        let q = query();
        spawn_local(async move {
            match ui::api::download(&format!("/reports?{q}&format={ext}")).await {
                Ok(bytes) => {
                    problem.set(None);
                    let _ = save_file(
                        &bytes,
                        &format!("bao-cao-{}.{ext}", q.replace(['&', '='], "-")),
                        mime,
                    );
                }
                Err(e) => problem.set(Some(e)),
            }
        });
    };
    view! {
        <section class="card filters">
            <label>{move || tr(lang.get(), "Năm", "Year")} " "
                <select data-testid="report-year" on:change=move |ev| { if let Ok(y) = event_target_value(&ev).parse() { year.set(y) } }>
                    {(2024..=today().year()).rev().map(|y| view! { <option value=y.to_string() selected=move || year.get() == y>{y}</option> }).collect_view()}
                </select>
            </label>
            <label>{move || tr(lang.get(), "Kỳ", "Period")} " "
                <select data-testid="report-period" on:change=move |ev| period.set(if event_target_value(&ev) == "half_year" { Period::HalfYear } else { Period::Annual })>
                    <option value="annual">{move || tr(lang.get(), "Cả năm", "Annual")}</option>
                    <option value="half_year">{move || tr(lang.get(), "6 tháng đầu năm", "First half")}</option>
                </select>
            </label>
            <button class="primary" data-testid="download-xlsx" on:click=move |_| download("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")>
                {move || tr(lang.get(), "Tải về Excel (XLSX)", "Download Excel (XLSX)")}
            </button>
            <button class="secondary" data-testid="download-csv" on:click=move |_| download("csv", "text/csv")>
                {move || tr(lang.get(), "Tải về CSV", "Download CSV")}
            </button>
        </section>
        {move || problem.get().map(|e| view! { <Problem error=e /> })}
        <Suspense fallback=move || view! { <p>{move || tr(lang.get(), "Đang tải…", "Loading…")}</p> }>
            {move || data.get().map(|r| match r {
                Err(e) => view! { <Problem error=e /> }.into_any(),
                Ok(r) => view! {
                    <section class="card report" data-testid="report">
                        <h3>{say(r.title.clone())} " — " {r.area_name.clone()}</h3>
                        <div class="scroll">
                        <table data-testid="report-table">
                            <thead><tr>
                                <th>{move || tr(lang.get(), "Địa bàn", "Area")}</th>
                                <th class="num">{move || tr(lang.get(), "Số hộ", "Households")}</th>
                                <th class="num">{move || tr(lang.get(), "Nghèo đầu kỳ", "Poor at start")}</th>
                                <th class="num">{move || tr(lang.get(), "Nghèo cuối kỳ", "Poor at end")}</th>
                                <th class="num">{move || tr(lang.get(), "Tỷ lệ nghèo", "Poor rate")}</th>
                                <th class="num">{move || tr(lang.get(), "Chỉ tiêu", "Target")}</th>
                                <th class="num">{move || tr(lang.get(), "Cận nghèo cuối kỳ", "Near-poor at end")}</th>
                                <th class="num">{move || tr(lang.get(), "Tỷ lệ cận nghèo", "Near-poor rate")}</th>
                                <th class="num">{move || tr(lang.get(), "Chỉ tiêu", "Target")}</th>
                                <th class="num">{move || tr(lang.get(), "Thoát nghèo", "Escaped")}</th>
                                <th class="num">{move || tr(lang.get(), "Nghèo phát sinh", "Newly poor")}</th>
                                <th class="num">{move || tr(lang.get(), "Tái nghèo", "Fell back")}</th>
                                <th class="num">{move || tr(lang.get(), "Cận nghèo phát sinh", "Newly near-poor")}</th>
                                <th class="num">{move || tr(lang.get(), "Thoát cận nghèo", "Left near-poor")}</th>
                            </tr></thead>
                            <tbody>
                                {r.rows.iter().map(|x| row_view(x, false)).collect_view()}
                                {row_view(&r.total, true)}
                            </tbody>
                        </table>
                        </div>
                    </section>
                    <section class="card">
                        <h3>{move || tr(lang.get(), "Biến động trong kỳ (đầu kỳ + tăng − giảm = cuối kỳ)", "Movement in the period (start + inflows − outflows = end)")} " — " {r.total.name.clone()}</h3>
                        {flows_view(&r.total.flows)}
                    </section>
                    <div class="report-parts">
                        <section class="card">
                            <h3>{move || tr(lang.get(), "Nguyên nhân nghèo", "Causes of poverty")}</h3>
                            <table>{r.causes.iter().filter(|c| c.households > 0).map(|c| view! {
                                <tr><td>{say(c.label.clone())}</td><td class="num">{c.households}</td></tr>
                            }).collect_view()}</table>
                        </section>
                        <section class="card">
                            <h3>{move || tr(lang.get(), "Hỗ trợ theo dự án", "Support by project")}</h3>
                            <table data-testid="report-support">{r.support.iter().map(|s| view! {
                                <tr><td>{say(s.label.clone())}</td><td class="num">{s.beneficiaries} {move || tr(lang.get(), " hộ", " hh")}</td><td class="num">{vnd(s.amount_vnd)}</td></tr>
                            }).collect_view()}</table>
                        </section>
                        <section class="card">
                            <h3>{move || tr(lang.get(), "Thăm hộ theo cán bộ", "Visits by cadre")}</h3>
                            <table>{r.visits.iter().map(|v| view! {
                                <tr><td>{v.cadre.clone()}</td><td class="num">{v.visits}</td><td class="num">{v.households} {move || tr(lang.get(), " hộ", " hh")}</td></tr>
                            }).collect_view()}</table>
                        </section>
                        <section class="card">
                            <h3>{move || tr(lang.get(), "Hộ mới thoát nghèo trong 36 tháng", "Newly escaped, within 36 months")}</h3>
                            <table data-testid="report-window">{r.in_window().map(|h| view! {
                                <tr><td>{h.code.clone()}</td><td>{h.head_name.clone()}</td><td>{h.window_until.map(super::date)}</td></tr>
                            }).collect_view()}</table>
                        </section>
                    </div>
                }.into_any(),
            })}
        </Suspense>
    }
}
