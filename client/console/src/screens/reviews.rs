//! The review campaign of a year: each village's progress through the steps (listed,
//! reviewed, village meeting, posting, complaints, decision), every household's proposed
//! result beside its official status and what still blocks the decision; the officer
//! records postings and answers complaints, the commune leader decides the selected
//! households. Below: the households the commune watches after its decisions, and a
//! what-if of the commune under another rule set.

use super::{Outcome, Problem, date, load, param, say, send, today, village_name, villages};
use crate::route::Route;
use chrono::Datelike;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::campaign::{Campaign, StepInput, StepOutcome, StepRequest, TrackedRow, WhatIf};
use shared::review::Flag;
use std::collections::BTreeSet;
use ui::api::Method;
use ui::text::{tr, use_lang};

#[component]
pub fn Reviews(leader: bool, officer: bool) -> impl IntoView {
    let lang = use_lang();
    let year = RwSignal::new(today().year());
    let reload = RwSignal::new(0u32);
    let data = load::<Campaign>(move || {
        reload.track();
        format!("/reviews/campaign?year={}", year.get())
    });
    let vs = villages();
    let selected = RwSignal::new(BTreeSet::<String>::new());
    let outcome = RwSignal::new(None);
    let number = RwSignal::new(String::new());
    let day = RwSignal::new(today().to_string());
    let apply = move |step: StepInput| {
        let ids: Vec<String> = selected.get().into_iter().collect();
        let Ok(on) = day.get().parse() else { return };
        spawn_local(async move {
            let req = StepRequest {
                household_ids: ids,
                date: on,
                step,
            };
            let r = send::<Vec<StepOutcome>>(Method::Post, "/reviews/steps", &req).await;
            let lang = lang.get_untracked();
            outcome.set(Some(r.map(|out| {
                let done = out.iter().filter(|o| o.step_id.is_some()).count();
                let refused: Vec<String> = out
                    .iter()
                    .filter_map(|o| o.refused.as_ref().map(|t| t.get(lang).to_string()))
                    .collect();
                let mut m = format!("{done} {}", tr(lang, "hộ đã ghi.", "households recorded."));
                if !refused.is_empty() {
                    m.push_str(&format!(
                        " {} {}: {}",
                        refused.len(),
                        tr(lang, "hộ chưa ghi", "not recorded"),
                        refused.join(" · ")
                    ));
                }
                m
            })));
            selected.set(BTreeSet::new());
            reload.update(|n| *n += 1);
        });
    };
    view! {
        <section class="card filters">
            <label>{move || tr(lang.get(), "Năm rà soát", "Review year")} " "
                <select data-testid="campaign-year" on:change=move |ev| {
                    if let Ok(y) = event_target_value(&ev).parse() { year.set(y) }
                }>
                    {(2024..=today().year()).rev().map(|y| view! { <option value=y.to_string() selected=move || year.get() == y>{y}</option> }).collect_view()}
                </select>
            </label>
        </section>
        <Suspense fallback=move || view! { <p>{move || tr(lang.get(), "Đang tải…", "Loading…")}</p> }>
            {move || data.get().map(|r| match r {
                Err(e) => view! { <Problem error=e /> }.into_any(),
                Ok(c) => {
                    let rows = c.rows.clone();
                    view! {
                        <section class="card" data-testid="campaign">
                            <p>
                                {move || tr(lang.get(), "Rà soát định kỳ ", "Yearly review ")} {date(c.from)} " – " {date(c.to)} " · "
                                {say(c.rule_set_title.clone())}
                            </p>
                            {c.provisional.iter().map(|t| view! { <p class="meta" data-testid="provisional">"⚠ " {say(t.clone())}</p> }).collect_view()}
                            <div class="scroll">
                            <table data-testid="campaign-villages">
                                <thead><tr>
                                    <th>{move || tr(lang.get(), "Thôn", "Village")}</th>
                                    <th class="num">{move || tr(lang.get(), "Lập danh sách", "Listed")}</th>
                                    <th class="num">{move || tr(lang.get(), "Đã chấm điểm", "Reviewed")}</th>
                                    <th class="num">{move || tr(lang.get(), "Đã họp", "Met")}</th>
                                    <th class="num">{move || tr(lang.get(), "Họp chưa đạt", "Meeting below 50%")}</th>
                                    <th class="num">{move || tr(lang.get(), "Đã niêm yết", "Posted")}</th>
                                    <th class="num">{move || tr(lang.get(), "Khiếu nại chờ", "Open complaints")}</th>
                                    <th class="num">{move || tr(lang.get(), "Đã quyết định", "Decided")}</th>
                                </tr></thead>
                                <tbody>
                                    {c.villages.iter().map(|v| view! {
                                        <tr data-testid="campaign-village">
                                            <td>{v.name.clone()}</td>
                                            <td class="num">{v.listed}</td>
                                            <td class="num">{v.reviewed}</td>
                                            <td class="num" data-testid="met">{v.met}</td>
                                            <td class="num">{v.met_invalid}</td>
                                            <td class="num">{v.posted}</td>
                                            <td class="num">{v.open_complaints}</td>
                                            <td class="num">{v.decided}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            </div>
                        </section>
                        {(leader || officer).then(|| view! {
                            <section class="card actions">
                                <label>{move || tr(lang.get(), "Ngày", "Date")} " "
                                    <input type="date" data-testid="step-date" bind:value=day />
                                </label>
                                {officer.then(|| view! {
                                    <button class="secondary" data-testid="post-selected" disabled=move || selected.with(BTreeSet::is_empty)
                                        on:click=move |_| {
                                            let until = day.get().parse::<chrono::NaiveDate>().map(|d| d + chrono::Duration::days(7));
                                            if let Ok(until) = until { apply(StepInput::Posted { until }) }
                                        }>
                                        {move || tr(lang.get(), "Ghi niêm yết (7 ngày)", "Record posting (7 days)")}
                                    </button>
                                })}
                                {leader.then(|| view! {
                                    <label>{move || tr(lang.get(), "Số quyết định", "Decision number")} " "
                                        <input data-testid="decision-number" bind:value=number placeholder="245/QĐ-UBND" />
                                    </label>
                                    <button class="primary" data-testid="decide-selected" disabled=move || selected.with(BTreeSet::is_empty)
                                        on:click=move |_| apply(StepInput::Decision { number: number.get(), approved: true })>
                                        {move || tr(lang.get(), "Công nhận kết quả các hộ đã chọn", "Approve the selected results")}
                                    </button>
                                })}
                                <span class="meta">{move || selected.with(BTreeSet::len)} " " {move || tr(lang.get(), "hộ đã chọn", "selected")}</span>
                            </section>
                        })}
                        <Outcome outcome=outcome />
                        <section class="card">
                            <div class="scroll">
                            <table data-testid="campaign-rows">
                                <thead><tr>
                                    <th></th>
                                    <th>{move || tr(lang.get(), "Mã hộ", "Code")}</th>
                                    <th>{move || tr(lang.get(), "Chủ hộ", "Head")}</th>
                                    <th>{move || tr(lang.get(), "Thôn", "Village")}</th>
                                    <th>{move || tr(lang.get(), "Chính thức", "Official")}</th>
                                    <th>{move || tr(lang.get(), "Đề xuất", "Proposed")}</th>
                                    <th>{move || tr(lang.get(), "Họp thôn", "Meeting")}</th>
                                    <th>{move || tr(lang.get(), "Niêm yết", "Posted")}</th>
                                    <th>{move || tr(lang.get(), "Tình trạng", "Where it stands")}</th>
                                    {officer.then(|| view! { <th>{move || tr(lang.get(), "Khiếu nại", "Complaints")}</th> })}
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|row| {
                                        let id = row.household_id.clone();
                                        let check_id = id.clone();
                                        let v = row.village_id.clone();
                                        let can_pick = row.review_id.is_some() && row.progress.decision.is_none();
                                        let state = match (&row.progress.decision, &row.blocked, &row.review_id) {
                                            (Some(d), _, _) => shared::Text::new(format!("Đã quyết định {} ({})", d.number, date(d.date)), format!("Decided {} ({})", d.number, date(d.date))),
                                            (None, Some(why), _) => why.clone(),
                                            (None, None, Some(_)) => shared::Text::new("Sẵn sàng để xã quyết định", "Ready for the commune's decision"),
                                            (None, None, None) => shared::Text::new("Chờ chấm điểm", "Waiting to be scored"),
                                        };
                                        let deadline = row.deadline;
                                        view! {
                                            <tr data-testid="campaign-row">
                                                <td>{can_pick.then(|| view! {
                                                    <input type="checkbox" data-testid="pick" aria-label="chọn"
                                                        prop:checked=move || selected.with(|s| s.contains(&check_id))
                                                        on:change={
                                                            let id = id.clone();
                                                            move |ev| {
                                                                let on = event_target_checked(&ev);
                                                                selected.update(|s| { if on { s.insert(id.clone()); } else { s.remove(&id); } });
                                                            }
                                                        } />
                                                })}</td>
                                                <td>{row.code.clone()}</td>
                                                <td><a href=Route::Household(row.household_id.clone()).href()>{row.head_name.clone()}</a></td>
                                                <td>{move || village_name(&vs.get(), &v)}</td>
                                                <td>{say(row.official.label())}</td>
                                                <td data-testid="proposed">{row.proposed.map(|p| say(p.label()))}</td>
                                                <td>{row.progress.meeting.map(|m| format!("{}/{}{}", m.agreed, m.attendees, if m.valid() { "" } else { " ⚠" }))}</td>
                                                <td>{row.progress.posted_until.map(date)}</td>
                                                <td data-testid="row-state">
                                                    {say(state)}
                                                    {deadline.map(|d| view! { <br/><span class="meta">{move || tr(lang.get(), "Hạn trả lời: ", "Answer by: ")} {date(d)}</span> })}
                                                </td>
                                                {(officer && can_pick).then(|| view! {
                                                    <td><Complaints household_id=row.household_id.clone() open=row.progress.unanswered.clone() day=day outcome=outcome reload=reload /></td>
                                                })}
                                                {(officer && !can_pick).then(|| view! { <td></td> })}
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            </div>
                        </section>
                    }.into_any()
                }
            })}
        </Suspense>
        <Tracking />
        <WhatIfPanel />
    }
}

/// A household's complaints about its posted result (officer): each open one with a
/// field for the answer, and a field to record a new one.
#[component]
fn Complaints(
    household_id: String,
    open: Vec<shared::review::OpenComplaint>,
    day: RwSignal<String>,
    outcome: RwSignal<Option<Result<String, ui::api::ClientError>>>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let lang = use_lang();
    let text = RwSignal::new(String::new());
    let record = move |household_id: String, step: StepInput| {
        let Ok(on) = day.get().parse() else { return };
        spawn_local(async move {
            let req = StepRequest {
                household_ids: vec![household_id],
                date: on,
                step,
            };
            let r = send::<Vec<StepOutcome>>(Method::Post, "/reviews/steps", &req).await;
            let lang = lang.get_untracked();
            outcome.set(Some(r.map(
                |out| match out.first().and_then(|o| o.refused.clone()) {
                    Some(why) => why.get(lang).to_string(),
                    None => tr(lang, "Đã ghi.", "Recorded.").to_string(),
                },
            )));
            reload.update(|n| *n += 1);
        });
    };
    let new_id = household_id.clone();
    view! {
        {open.into_iter().map(|c| {
            let answer = RwSignal::new(String::new());
            let hid = household_id.clone();
            view! {
                <p class="meta" data-testid="complaint">{c.text.clone()}</p>
                <input data-testid="answer-text" bind:value=answer placeholder=move || tr(lang.get(), "Trả lời", "Answer") />
                <button class="secondary" data-testid="answer" on:click=move |_| record(hid.clone(), StepInput::Answer { complaint: c.step_id.clone(), text: answer.get() })>
                    {move || tr(lang.get(), "Trả lời", "Answer")}
                </button>
            }
        }).collect_view()}
        <input data-testid="complaint-text" bind:value=text placeholder=move || tr(lang.get(), "Khiếu nại mới", "New complaint") />
        <button class="secondary" data-testid="complain" on:click=move |_| record(new_id.clone(), StepInput::Complaint { text: text.get() })>
            {move || tr(lang.get(), "Ghi", "Record")}
        </button>
    }
}

/// The households flagged after the commune's decisions, one flag at a time.
#[component]
fn Tracking() -> impl IntoView {
    let lang = use_lang();
    let flag = RwSignal::new(Flag::InWindow);
    let vs = villages();
    let data = load::<Vec<TrackedRow>>(move || {
        format!(
            "/reviews/tracking?{}",
            &param("flag", flag.get().as_str())[1..]
        )
    });
    view! {
        <section class="card" data-testid="tracking">
            <h3>{move || tr(lang.get(), "Theo dõi sau quyết định", "Watched after the decisions")}</h3>
            <div class="tabs">
                {Flag::ALL.into_iter().map(|f| view! {
                    <button class="secondary" class:current=move || flag.get() == f data-testid=format!("flag-{}", f.as_str()) on:click=move |_| flag.set(f)>
                        {say(f.label())}
                    </button>
                }).collect_view()}
            </div>
            <Suspense fallback=|| ()>
                {move || data.get().map(|r| match r {
                    Err(e) => view! { <Problem error=e /> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! { <p>{move || tr(lang.get(), "Không có hộ nào.", "No households.")}</p> }.into_any(),
                    Ok(rows) => view! {
                        <div class="scroll"><table data-testid="tracked-rows">
                            <tbody>{rows.into_iter().map(|t| {
                                let v = t.village_id.clone();
                                view! {
                                    <tr data-testid="tracked-row">
                                        <td>{t.code.clone()}</td>
                                        <td><a href=Route::Household(t.household_id.clone()).href()>{t.head_name.clone()}</a></td>
                                        <td>{move || village_name(&vs.get(), &v)}</td>
                                        <td>{say(t.status.label())}</td>
                                        <td>{t.trajectory.escaped_on.map(|d| view! { {move || tr(lang.get(), "Thoát nghèo ", "Escaped ")} {date(d)} })}</td>
                                        <td>{t.trajectory.window_until.filter(|_| !t.owed.is_empty()).map(|d| view! { {move || tr(lang.get(), "Hưởng chính sách đến ", "Policies until ")} {date(d)} })}</td>
                                        <td>{t.trajectory.fell_back_on.map(|d| view! { {move || tr(lang.get(), "Tái nghèo ", "Fell back ")} {date(d)} })}</td>
                                    </tr>
                                }
                            }).collect_view()}</tbody>
                        </table></div>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// Every household of the commune classified under another rule set.
#[component]
fn WhatIfPanel() -> impl IntoView {
    let lang = use_lang();
    let rule_set = RwSignal::new("vn-2027-2030".to_string());
    let vs = villages();
    let data = load::<WhatIf>(move || {
        format!(
            "/reviews/what-if?{}",
            &param("rule_set_id", &rule_set.get())[1..]
        )
    });
    view! {
        <section class="card" data-testid="what-if">
            <h3>{move || tr(lang.get(), "Thử phân loại theo chuẩn khác", "What if another standard applied")}</h3>
            <select data-testid="what-if-rules" on:change=move |ev| rule_set.set(event_target_value(&ev))>
                <option value="vn-2027-2030">"2027–2030 (NĐ 351/2025)"</option>
                <option value="vn-2022-2025">"2022–2025 (NĐ 07/2021)"</option>
            </select>
            <Suspense fallback=|| ()>
                {move || data.get().map(|r| match r {
                    Err(e) => view! { <Problem error=e /> }.into_any(),
                    Ok(w) => view! {
                        <p data-testid="what-if-summary">
                            {w.changed.len()} {move || tr(lang.get(), " hộ đổi loại trong ", " households change class of ")} {w.classified}
                            {move || tr(lang.get(), " hộ có rà soát.", " with a review.")}
                        </p>
                        {w.provisional.iter().map(|t| view! { <p class="meta">"⚠ " {say(t.clone())}</p> }).collect_view()}
                        <div class="scroll"><table>
                            <tbody>{w.changed.into_iter().take(200).map(|c| {
                                let v = c.village_id.clone();
                                view! {
                                    <tr data-testid="what-if-row">
                                        <td>{c.code.clone()}</td>
                                        <td><a href=Route::Household(c.household_id.clone()).href()>{c.head_name.clone()}</a></td>
                                        <td>{move || village_name(&vs.get(), &v)}</td>
                                        <td>{say(c.now.label())} " → " <strong>{say(c.would_be.label())}</strong></td>
                                        <td class="meta">{c.reasons.into_iter().map(|t| view! { <span>{say(t)} " "</span> }).collect_view()}</td>
                                    </tr>
                                }
                            }).collect_view()}</tbody>
                        </table></div>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
