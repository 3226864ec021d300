//! The review campaign of a year: each village's progress through the steps (listed,
//! reviewed, village meeting, posting, complaints, decision), every household's proposed
//! result beside its official status and what still blocks the decision; the officer
//! records postings and answers complaints, the commune leader decides the selected
//! households. Below: the households the commune watches after its decisions, and a
//! what-if of the commune under another rule set.

use super::{
    Ask, Confirm, Outcome, Problem, date, load, param, say, send, today, village_name, villages,
};
use crate::route::Route;
use chrono::Datelike;
use chrono::NaiveDate;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::Text;
use shared::campaign::{
    Campaign, CampaignRow, CampaignVillage, StepInput, StepOutcome, StepRequest, TrackedRow, WhatIf,
};
use shared::review::Flag;
use std::collections::{BTreeMap, BTreeSet};
use ui::api::Method;
use ui::text::{tr, use_lang};

/// Where a household of the campaign stands: what the filters and the village summary
/// count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stand {
    Ready,
    Blocked,
    Waiting,
    Decided,
}

impl Stand {
    const ALL: [Stand; 4] = [Stand::Ready, Stand::Blocked, Stand::Waiting, Stand::Decided];

    fn of(row: &CampaignRow) -> Stand {
        match (&row.progress.decision, &row.blocked, &row.review_id) {
            (Some(_), _, _) => Stand::Decided,
            (None, Some(_), _) => Stand::Blocked,
            (None, None, Some(_)) => Stand::Ready,
            (None, None, None) => Stand::Waiting,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Stand::Ready => "ready",
            Stand::Blocked => "blocked",
            Stand::Waiting => "waiting",
            Stand::Decided => "decided",
        }
    }

    fn label(self) -> Text {
        match self {
            Stand::Ready => Text::new(
                "Sẵn sàng để xã quyết định",
                "Ready for the commune's decision",
            ),
            Stand::Blocked => Text::new("Còn vướng", "Blocked"),
            Stand::Waiting => Text::new("Chờ chấm điểm", "Waiting to be scored"),
            Stand::Decided => Text::new("Đã quyết định", "Decided"),
        }
    }
}

/// A village's row of the campaign: its figures, its ready households, what blocks the
/// rest (by kind, with counts) and how many answers are late.
type VillageSummary = (
    CampaignVillage,
    Vec<String>,
    BTreeMap<String, (Text, usize)>,
    usize,
);

/// What keeps a household from the decision, in the few words that group a village's
/// households (the row itself says it in full).
fn blocker(row: &CampaignRow, today: NaiveDate) -> Option<Text> {
    if Stand::of(row) != Stand::Blocked {
        return None;
    }
    let p = &row.progress;
    Some(match (p.meeting, p.posted_until) {
        (None, _) => Text::new("chưa họp thôn", "no village meeting"),
        (Some(m), _) if !m.valid() => Text::new("họp thôn dưới 50%", "meeting below 50%"),
        (_, None) => Text::new("chưa niêm yết", "not posted"),
        (_, Some(until)) if until > today => Text::new("đang niêm yết", "posting not over"),
        _ if !p.unanswered.is_empty() => {
            Text::new("khiếu nại chưa trả lời", "complaint unanswered")
        }
        _ => row
            .blocked
            .clone()
            .unwrap_or_else(|| Text::new("còn vướng", "blocked")),
    })
}

/// Whether an answer is late: an open complaint past its answer date, or a household's own
/// request past its deadline.
fn overdue(row: &CampaignRow, today: NaiveDate) -> bool {
    row.progress.unanswered.iter().any(|c| c.answer_by < today)
        || (row.progress.decision.is_none() && row.deadline.is_some_and(|d| d < today))
}

/// What a decision does to the chosen households' official statuses, said in lines: how
/// many move from which status to which, and how many keep theirs. `moves` holds each
/// household's (official now, status after).
fn status_lines(
    l: ui::text::Lang,
    moves: impl IntoIterator<
        Item = (
            shared::household::HouseholdStatus,
            shared::household::HouseholdStatus,
        ),
    >,
) -> Vec<String> {
    let mut changes: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut unchanged = 0;
    for (from, to) in moves {
        if from == to {
            unchanged += 1;
        } else {
            let key = (
                from.label().get(l).to_string(),
                to.label().get(l).to_string(),
            );
            *changes.entry(key).or_default() += 1;
        }
    }
    let mut lines: Vec<String> = changes
        .iter()
        .map(|((from, to), n)| format!("{n} {}: {from} → {to}", tr(l, "hộ", "households")))
        .collect();
    if unchanged > 0 {
        lines.push(format!(
            "{unchanged} {}",
            tr(l, "hộ giữ nguyên phân loại", "households keep their status")
        ));
    }
    lines
}

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
    let ask = RwSignal::new(None::<Ask>);
    let number = RwSignal::new(String::new());
    let day = RwSignal::new(today().to_string());
    let in_village = RwSignal::new(String::new());
    let in_stand = RwSignal::new(None::<Stand>);
    // A correcting decision approves the review's result, or not (the status before it).
    let correct_approved = RwSignal::new(false);
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
    // The decision says back what it will make official before it is recorded: how many
    // households of which villages, which statuses change, under which number and date.
    let decide = move |rows: Vec<CampaignRow>| {
        let l = lang.get_untracked();
        let picked = selected.get_untracked();
        let chosen: Vec<&CampaignRow> = rows
            .iter()
            .filter(|r| picked.contains(&r.household_id))
            .collect();
        let names = vs.get_untracked();
        let mut by_village: BTreeMap<String, usize> = BTreeMap::new();
        for r in &chosen {
            *by_village
                .entry(village_name(&names, &r.village_id))
                .or_default() += 1;
        }
        let on = day
            .get_untracked()
            .parse::<NaiveDate>()
            .map(date)
            .unwrap_or_default();
        let mut lines = vec![
            by_village
                .iter()
                .map(|(v, n)| format!("{v}: {n} {}", tr(l, "hộ", "households")))
                .collect::<Vec<_>>()
                .join(" · "),
        ];
        lines.extend(status_lines(
            l,
            chosen.iter().map(|r| {
                let to = r.proposed.map_or(r.official, |p| {
                    shared::review::decided_status(r.official, p, true)
                });
                (r.official, to)
            }),
        ));
        lines.push(tr(l, "Quyết định là văn bản chính thức, không hoàn tác được; nếu có sai sót, xã sửa bằng một quyết định mới.", "A decision is an official act and cannot be undone; a mistake is corrected by a new decision.").to_string());
        let num = number.get_untracked();
        ask.set(Some(Ask {
            title: format!(
                "{} {} {} {} {} {}?",
                tr(l, "Công nhận kết quả của", "Approve the results of"),
                chosen.len(),
                tr(l, "hộ theo quyết định số", "households by decision no."),
                num,
                tr(l, "ngày", "of"),
                on
            ),
            lines,
            yes: tr(l, "Xác nhận công nhận", "Approve").to_string(),
            run: Callback::new(move |_| {
                apply(StepInput::Decision {
                    number: num.clone(),
                    approved: true,
                })
            }),
        }));
    };
    // A correcting decision says back which decisions it sets right and what becomes of
    // each household's status; the decisions it corrects stay in the register.
    let correct = move |rows: Vec<CampaignRow>| {
        let l = lang.get_untracked();
        let picked = selected.get_untracked();
        let approved = correct_approved.get_untracked();
        let chosen: Vec<&CampaignRow> = rows
            .iter()
            .filter(|r| picked.contains(&r.household_id))
            .collect();
        let mut corrected: BTreeMap<String, usize> = BTreeMap::new();
        let mut moves = Vec::with_capacity(chosen.len());
        for r in &chosen {
            let Some(d) = &r.progress.decision else {
                continue;
            };
            *corrected.entry(d.number.clone()).or_default() += 1;
            let to = r.proposed.map_or(r.official, |p| {
                shared::review::decided_status(d.before, p, approved)
            });
            moves.push((r.official, to));
        }
        let on = day
            .get_untracked()
            .parse::<NaiveDate>()
            .map(date)
            .unwrap_or_default();
        let mut lines: Vec<String> = corrected
            .iter()
            .map(|(n, k)| {
                format!(
                    "{} {n}: {k} {}",
                    tr(l, "Sửa quyết định số", "Corrects decision no."),
                    tr(l, "hộ", "households")
                )
            })
            .collect();
        lines.push(
            if approved {
                tr(l, "Công nhận kết quả rà soát.", "The review's result is approved.")
            } else {
                tr(
                    l,
                    "Không công nhận kết quả: hộ trở lại diện trước quyết định.",
                    "The result is not approved: each household goes back to its status before the decision.",
                )
            }
            .to_string(),
        );
        lines.extend(status_lines(l, moves));
        lines.push(tr(l, "Quyết định được sửa vẫn lưu trong sổ; quyết định mới có hiệu lực từ ngày của nó.", "The corrected decision stays in the register; the new one takes effect from its date.").to_string());
        let num = number.get_untracked();
        ask.set(Some(Ask {
            title: format!(
                "{} {} {} {} {} {}?",
                tr(l, "Sửa quyết định của", "Correct the decision of"),
                chosen.len(),
                tr(l, "hộ bằng quyết định số", "households by decision no."),
                num,
                tr(l, "ngày", "of"),
                on
            ),
            lines,
            yes: tr(l, "Xác nhận sửa quyết định", "Correct the decision").to_string(),
            run: Callback::new(move |_| {
                apply(StepInput::Correction {
                    number: num.clone(),
                    approved,
                })
            }),
        }));
    };
    // What the selection holds: households decided already (corrected, not decided) and
    // the others.
    let picked_decided = move |rows: &[CampaignRow]| {
        selected.with(|s| {
            let decided = rows
                .iter()
                .filter(|r| s.contains(&r.household_id) && Stand::of(r) == Stand::Decided)
                .count();
            (decided, s.len() - decided)
        })
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
                    let now = today();
                    let all_rows = StoredValue::new(c.rows.clone());
                    let shown = move || {
                        let v = in_village.get();
                        let st = in_stand.get();
                        all_rows.with_value(|rows| rows.iter().filter(|r| (v.is_empty() || r.village_id == v) && st.is_none_or(|s| Stand::of(r) == s)).cloned().collect::<Vec<_>>())
                    };
                    let villages_summary: Vec<VillageSummary> = c.villages.iter().map(|v| {
                        let own: Vec<&CampaignRow> = c.rows.iter().filter(|r| r.village_id == v.village_id).collect();
                        let ready = own.iter().filter(|r| Stand::of(r) == Stand::Ready).map(|r| r.household_id.clone()).collect();
                        let mut blocks: BTreeMap<String, (Text, usize)> = BTreeMap::new();
                        for r in &own {
                            if let Some(b) = blocker(r, now) {
                                blocks.entry(b.vi.clone()).or_insert((b, 0)).1 += 1;
                            }
                        }
                        let late = own.iter().filter(|r| overdue(r, now)).count();
                        (v.clone(), ready, blocks, late)
                    }).collect();
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
                                    <th class="num">{move || tr(lang.get(), "Đã niêm yết", "Posted")}</th>
                                    <th class="num">{move || tr(lang.get(), "Khiếu nại chờ", "Open complaints")}</th>
                                    <th class="num">{move || tr(lang.get(), "Đã quyết định", "Decided")}</th>
                                    <th>{move || tr(lang.get(), "Sẵn sàng", "Ready")}</th>
                                    <th>{move || tr(lang.get(), "Còn vướng", "What blocks the rest")}</th>
                                </tr></thead>
                                <tbody>
                                    {villages_summary.into_iter().map(|(v, ready, blocks, late)| {
                                        let n = ready.len();
                                        let vid = v.village_id.clone();
                                        view! {
                                            <tr data-testid="campaign-village" data-village=v.name.clone()>
                                                <td>{v.name.clone()}</td>
                                                <td class="num">{v.listed}</td>
                                                <td class="num">{v.reviewed}</td>
                                                <td class="num" data-testid="met">{v.met}</td>
                                                <td class="num">{v.posted}</td>
                                                <td class="num">{v.open_complaints}
                                                    {(late > 0).then(|| view! { <br/><span class="late" data-testid="village-overdue">{move || format!("{late} {}", tr(lang.get(), "quá hạn", "overdue"))}</span> })}
                                                </td>
                                                <td class="num">{v.decided}</td>
                                                <td data-testid="village-ready">
                                                    {n}
                                                    {(leader && n > 0).then(|| view! {
                                                        " "
                                                        <button class="secondary" data-testid="select-ready" on:click=move |_| {
                                                            in_village.set(vid.clone());
                                                            in_stand.set(Some(Stand::Ready));
                                                            selected.set(ready.iter().cloned().collect());
                                                        }>{move || format!("{} {n} {}", tr(lang.get(), "Chọn", "Select"), tr(lang.get(), "hộ sẵn sàng", "ready"))}</button>
                                                    })}
                                                </td>
                                                <td data-testid="village-blockers">
                                                    <ul class="blockers">
                                                        {blocks.into_values().map(|(t, k)| view! { <li>{k} " " {say(t)}</li> }).collect_view()}
                                                    </ul>
                                                </td>
                                            </tr>
                                        }
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
                                    <button class="primary" data-testid="decide-selected"
                                        disabled=move || { let (decided, open) = all_rows.with_value(|r| picked_decided(r)); open == 0 || decided > 0 || number.with(|n| n.trim().is_empty()) }
                                        on:click=move |_| decide(all_rows.get_value())>
                                        {move || tr(lang.get(), "Công nhận kết quả các hộ đã chọn…", "Approve the selected results…")}
                                    </button>
                                    <label>{move || tr(lang.get(), "Quyết định sửa", "Correcting decision")} " "
                                        <select data-testid="correct-approved" on:change=move |ev| correct_approved.set(event_target_value(&ev) == "yes")>
                                            <option value="no" selected=move || !correct_approved.get()>{move || tr(lang.get(), "Không công nhận kết quả", "Result not approved")}</option>
                                            <option value="yes" selected=move || correct_approved.get()>{move || tr(lang.get(), "Công nhận kết quả", "Result approved")}</option>
                                        </select>
                                    </label>
                                    <button class="secondary" data-testid="correct-selected"
                                        disabled=move || { let (decided, open) = all_rows.with_value(|r| picked_decided(r)); decided == 0 || open > 0 || number.with(|n| n.trim().is_empty()) }
                                        on:click=move |_| correct(all_rows.get_value())>
                                        {move || tr(lang.get(), "Sửa quyết định các hộ đã chọn…", "Correct the selected decisions…")}
                                    </button>
                                })}
                                <span class="meta" data-testid="selected-count">{move || selected.with(BTreeSet::len)} " " {move || tr(lang.get(), "hộ đã chọn", "selected")}</span>
                            </section>
                        })}
                        <Confirm ask=ask />
                        <Outcome outcome=outcome />
                        <section class="card">
                            <div class="filters">
                                <label>{move || tr(lang.get(), "Thôn", "Village")} " "
                                    <select data-testid="filter-village" on:change=move |ev| in_village.set(event_target_value(&ev))>
                                        <option value="" selected=move || in_village.with(String::is_empty)>{move || tr(lang.get(), "Tất cả các thôn", "Every village")}</option>
                                        {c.villages.iter().map(|v| {
                                            let id = v.village_id.clone();
                                            let here = id.clone();
                                            view! { <option value=id selected=move || in_village.get() == here>{v.name.clone()}</option> }
                                        }).collect_view()}
                                    </select>
                                </label>
                                <label>{move || tr(lang.get(), "Tình trạng", "State")} " "
                                    <select data-testid="filter-state" on:change=move |ev| {
                                        let k = event_target_value(&ev);
                                        in_stand.set(Stand::ALL.into_iter().find(|s| s.key() == k));
                                    }>
                                        <option value="" selected=move || in_stand.get().is_none()>{move || tr(lang.get(), "Mọi tình trạng", "Any state")}</option>
                                        {Stand::ALL.into_iter().map(|s| view! {
                                            <option value=s.key() selected=move || in_stand.get() == Some(s)>{say(s.label())}</option>
                                        }).collect_view()}
                                    </select>
                                </label>
                            </div>
                            <p data-testid="rows-shown">{move || {
                                let l = lang.get();
                                let n = shown().len();
                                let v = in_village.get();
                                let place = if v.is_empty() { tr(l, "mọi thôn", "every village").to_string() } else { village_name(&vs.get(), &v) };
                                let st = in_stand.get().map_or_else(|| tr(l, "mọi tình trạng", "any state").to_string(), |s| s.label().get(l).to_string());
                                format!("{} {n} {} · {place} · {st}", tr(l, "Đang hiện", "Showing"), tr(l, "hộ", "households"))
                            }}</p>
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
                                    {move || shown().into_iter().map(|row| {
                                        let id = row.household_id.clone();
                                        let check_id = id.clone();
                                        let v = row.village_id.clone();
                                        let can_pick = Stand::of(&row) == Stand::Ready || Stand::of(&row) == Stand::Blocked;
                                        // The leader picks decided households to correct their decision.
                                        let pickable = can_pick || (leader && Stand::of(&row) == Stand::Decided);
                                        let state = match (&row.progress.decision, &row.blocked) {
                                            (Some(d), _) => match &d.corrects {
                                                None => Text::new(format!("Đã quyết định {} ({})", d.number, date(d.date)), format!("Decided {} ({})", d.number, date(d.date))),
                                                Some(old) => Text::new(format!("Đã quyết định {} ({}), sửa quyết định {old}", d.number, date(d.date)), format!("Decided {} ({}), correcting {old}", d.number, date(d.date))),
                                            },
                                            (None, Some(why)) => why.clone(),
                                            (None, None) => Stand::of(&row).label(),
                                        };
                                        let late = overdue(&row, now);
                                        let deadline = row.deadline;
                                        let answers_by: Vec<NaiveDate> = row.progress.unanswered.iter().map(|c| c.answer_by).collect();
                                        view! {
                                            <tr data-testid="campaign-row" data-stand=Stand::of(&row).key()>
                                                <td>{pickable.then(|| view! {
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
                                                <td class="code">{row.code.clone()}</td>
                                                <td><a href=Route::Household(row.household_id.clone()).href()>{row.head_name.clone()}</a></td>
                                                <td>{move || village_name(&vs.get(), &v)}</td>
                                                <td>{say(row.official.label())}</td>
                                                <td data-testid="proposed">{row.proposed.map(|p| say(p.label()))}</td>
                                                <td>{row.progress.meeting.map(|m| format!("{}/{}{}", m.agreed, m.attendees, if m.valid() { "" } else { " ⚠" }))}</td>
                                                <td>{row.progress.posted_until.map(date)}</td>
                                                <td data-testid="row-state">
                                                    {say(state)}
                                                    {deadline.map(|d| view! { <br/><span class="meta">{move || tr(lang.get(), "Hạn trả lời: ", "Answer by: ")} {date(d)}</span> })}
                                                    {answers_by.into_iter().map(|d| view! { <br/><span class="meta">{move || tr(lang.get(), "Hạn trả lời khiếu nại: ", "Complaint answer due: ")} {date(d)}</span> }).collect_view()}
                                                    {late.then(|| view! { <br/><strong class="late" data-testid="overdue">{move || tr(lang.get(), "⚠ Quá hạn trả lời", "⚠ Answer overdue")}</strong> })}
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
                                        <td class="code">{t.code.clone()}</td>
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
                                        <td class="code">{c.code.clone()}</td>
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
