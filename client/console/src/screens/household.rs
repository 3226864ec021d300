//! One household as the commune officer works on it, whole: its profile and members, its
//! reviews with their steps, the cadre accompanying it (or none yet), its visits, its plan
//! (each cause with its matched solution, owner and due date), the support it was promised
//! and whether it was delivered; then its movements in the register's ledger and the
//! history of every change in words (who, on which device, when, through which door, the
//! field's old value → new value). Plan and support changes go through the server's write
//! core like a phone's.

use super::{
    Ask, Confirm, Outcome, Problem, Undo, UndoOffer, date, load, say, send, today, user_name,
    users, when,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::history::{HouseholdHistory, step_text};
use shared::household::{Cause, Household};
use shared::plan::{PlanItem, PlanItemInput, PlanStatus};
use shared::support::{SupportAction, SupportStatus, SupportStatusChange};
use ui::api::{ClientError, Method};
use ui::text::{Lang, tr, use_lang, vnd};

/// What `GET /api/households/{id}` answers, as far as this screen reads it.
#[derive(Debug, Clone, serde::Deserialize)]
struct Detail {
    household: Household,
    members: Vec<shared::household::Member>,
    assessments: Vec<shared::assessment::Assessment>,
    review_steps: Vec<shared::review::ReviewStep>,
    visits: Vec<shared::visit::Visit>,
    assignments: Vec<shared::assignment::Assignment>,
    support: Vec<SupportAction>,
    plan: Vec<PlanItem>,
}

fn plan_status(s: PlanStatus, lang: Lang) -> &'static str {
    match s {
        PlanStatus::Open => tr(lang, "Đang thực hiện", "Open"),
        PlanStatus::Done => tr(lang, "Đã xong", "Done"),
        PlanStatus::Dropped => tr(lang, "Bỏ", "Dropped"),
    }
}

/// "Đã trao": the day it was delivered (today unless changed) and the amount (the planned
/// one unless changed), said back in words before it is recorded.
#[component]
fn Deliver(
    support: SupportAction,
    delivering: RwSignal<Option<SupportAction>>,
    done: Callback<(SupportAction, SupportStatusChange)>,
) -> impl IntoView {
    let lang = use_lang();
    let on = RwSignal::new(today().to_string());
    let amount = RwSignal::new(
        support
            .data
            .amount_vnd
            .map(|a| a.to_string())
            .unwrap_or_default(),
    );
    let problem = RwSignal::new(None::<&'static str>);
    let kind = StoredValue::new(support.data.kind.label());
    let s = StoredValue::new(support);
    view! {
        <form class="card confirm" role="alertdialog" data-testid="deliver-form" on:submit=move |ev| {
            ev.prevent_default();
            let lang = lang.get_untracked();
            let Ok(day) = on.get().parse::<chrono::NaiveDate>() else {
                problem.set(Some(tr(lang, "Ngày trao không hợp lệ.", "The delivery date is not a date.")));
                return;
            };
            let amount = match ui::text::parse_amount(&amount.get()) {
                None => None,
                Some(Ok(a)) if a >= 0 => Some(a),
                Some(_) => {
                    problem.set(Some(tr(lang, "Số tiền phải là số đồng, không âm.", "The amount must be whole đồng, not negative.")));
                    return;
                }
            };
            delivering.set(None);
            let before = s.get_value();
            done.run((before.clone(), SupportStatusChange {
                status: SupportStatus::Delivered,
                delivered_date: Some(day),
                amount_vnd: amount.filter(|a| Some(*a) != before.data.amount_vnd),
            }));
        }>
            <h3>{move || format!("{}: {}", tr(lang.get(), "Ghi nhận đã trao", "Record as delivered"), kind.with_value(|k| k.get(lang.get()).to_string()))}</h3>
            <label>{move || tr(lang.get(), "Ngày trao", "Delivered on")} " "
                <input type="date" data-testid="deliver-date" bind:value=on />
            </label>
            <label>{move || tr(lang.get(), "Số tiền đã trao (đồng)", "Amount delivered (VND)")} " "
                <input inputmode="numeric" data-testid="deliver-amount" bind:value=amount />
            </label>
            <p data-testid="deliver-summary">{move || {
                let a = ui::text::parse_amount(&amount.get()).and_then(Result::ok).map(vnd).unwrap_or_default();
                let d = on.get().parse::<chrono::NaiveDate>().map(date).unwrap_or_default();
                format!("{} {} {} {} {}.", tr(lang.get(), "Sẽ ghi:", "Will record:"), kind.with_value(|k| k.get(lang.get()).to_string()), a, tr(lang.get(), "đã trao ngày", "delivered on"), d)
            }}</p>
            {move || problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> })}
            <div class="buttons">
                <button type="submit" class="primary" data-testid="confirm-deliver">{move || tr(lang.get(), "Xác nhận đã trao", "Confirm delivered")}</button>
                <button type="button" class="secondary" data-testid="confirm-no" on:click=move |_| delivering.set(None)>{move || tr(lang.get(), "Hủy", "Cancel")}</button>
            </div>
        </form>
    }
}

#[component]
pub fn HouseholdScreen(id: String) -> impl IntoView {
    let lang = use_lang();
    let reload = RwSignal::new(0u32);
    let outcome = RwSignal::new(None::<Result<String, ClientError>>);
    let hid = id.clone();
    let detail = load::<Detail>(move || {
        reload.track();
        format!("/households/{hid}")
    });
    let hid = id.clone();
    let history = load::<HouseholdHistory>(move || {
        reload.track();
        format!("/households/{hid}/history")
    });
    let users = users();
    let editing = RwSignal::new(None::<(String, PlanItemInput, PlanStatus)>);
    let hid = StoredValue::new(id.clone());
    let save_plan = move |(item_id, item, status): (String, PlanItemInput, PlanStatus)| {
        spawn_local(async move {
            let r = send::<Vec<PlanItem>>(
                Method::Put,
                &format!("/households/{}/plan/{item_id}", hid.get_value()),
                &serde_json::json!({ "item": item, "status": status }),
            )
            .await;
            let ok = r.is_ok();
            outcome.set(Some(r.map(|_| {
                tr(
                    lang.get_untracked(),
                    "Đã lưu kế hoạch.",
                    "The plan is saved.",
                )
                .to_string()
            })));
            if ok {
                editing.set(None);
            }
            reload.update(|n| *n += 1);
        });
    };
    let ask = RwSignal::new(None::<Ask>);
    let undo = RwSignal::new(None::<UndoOffer>);
    let delivering = RwSignal::new(None::<SupportAction>);
    // One status change of a support action; done, it offers its lawful undo: back to
    // planned, with the amount that was planned.
    let set_support = move |before: SupportAction, change: SupportStatusChange| {
        spawn_local(async move {
            let r = send::<SupportAction>(
                Method::Post,
                &format!("/support/{}/status", before.id),
                &change,
            )
            .await;
            let lang = lang.get_untracked();
            let what = format!(
                "{} {}",
                before.data.kind.label().get(lang),
                before.data.amount_vnd.map(vnd).unwrap_or_default()
            );
            match &r {
                Ok(after) if change.status != SupportStatus::Planned => {
                    let back = SupportStatusChange {
                        status: SupportStatus::Planned,
                        delivered_date: None,
                        amount_vnd: before.data.amount_vnd,
                    };
                    let done = match after.delivered_date {
                        Some(d) => format!(
                            "{}: {} {} {}",
                            tr(lang, "Đã ghi nhận đã trao", "Recorded as delivered"),
                            what.trim(),
                            tr(lang, "ngày", "on"),
                            date(d)
                        ),
                        None => format!("{}: {}", tr(lang, "Đã hủy", "Cancelled"), what.trim()),
                    };
                    let id = before.id.clone();
                    undo.set(Some(UndoOffer {
                        done,
                        run: Callback::new(move |_| {
                            let (id, back) = (id.clone(), back.clone());
                            spawn_local(async move {
                                let r = send::<SupportAction>(Method::Post, &format!("/support/{id}/status"), &back).await;
                                outcome.set(Some(r.map(|_| tr(
                                    lang,
                                    "Đã hoàn tác: hỗ trợ trở lại dự kiến; lịch sử của hộ ghi cả hai lần.",
                                    "Undone: the support is planned again; the household's history keeps both changes.",
                                ).to_string())));
                                reload.update(|n| *n += 1);
                            });
                        }),
                    }));
                    outcome.set(None);
                }
                _ => outcome.set(Some(r.map(|_| String::new()))),
            }
            reload.update(|n| *n += 1);
        });
    };
    let cancel_support = move |s: SupportAction| {
        let lang = lang.get_untracked();
        let what = format!(
            "{} {} · {} {}",
            s.data.kind.label().get(lang),
            s.data.amount_vnd.map(vnd).unwrap_or_default(),
            tr(lang, "dự kiến", "planned"),
            date(s.data.planned_date)
        );
        ask.set(Some(Ask {
            title: tr(lang, "Hủy hỗ trợ này?", "Cancel this support?").to_string(),
            lines: vec![
                what,
                tr(
                    lang,
                    "Hỗ trợ được ghi là đã hủy; lịch sử của hộ giữ lại.",
                    "It is recorded as cancelled; the household's history keeps it.",
                )
                .to_string(),
            ],
            yes: tr(lang, "Xác nhận hủy", "Cancel it").to_string(),
            run: Callback::new(move |_| {
                set_support(
                    s.clone(),
                    SupportStatusChange {
                        status: SupportStatus::Cancelled,
                        delivered_date: None,
                        amount_vnd: None,
                    },
                )
            }),
        }));
    };
    view! {
        <Outcome outcome=outcome />
        <Undo offer=undo />
        <Confirm ask=ask />
        {move || delivering.get().map(|s| view! { <Deliver support=s delivering=delivering done=Callback::new(move |(s, c)| set_support(s, c)) /> })}
        <Suspense fallback=|| ()>
            {move || detail.get().map(|r| match r {
                Err(e) => view! { <Problem error=e /> }.into_any(),
                Ok(d) => {
                    let h = d.household.clone();
                    let planned: Vec<Cause> = d.plan.iter().map(|p| p.data.cause).collect();
                    let open_causes: Vec<Cause> = h.causes.iter().copied().filter(|c| !planned.contains(c)).collect();
                    let running: Vec<_> = d.assignments.iter().filter(|a| a.active_on(today())).cloned().collect();
                    let left = d.review_steps.iter().any(|s| matches!(s.data, shared::review::StepData::Left { .. }));
                    view! {
                        <section class="card">
                            <h3 data-testid="household-head">{format!("{} · {}", h.code, h.head_name)}</h3>
                            <p>{say(h.status.label())} " · " {h.address.clone()}</p>
                            <p data-testid="household-cadre">
                                {move || tr(lang.get(), "Cán bộ kèm cặp:", "Accompanied by:")} " "
                                {if running.is_empty() {
                                    view! { <strong>{move || tr(lang.get(), "Chưa có cán bộ", "No cadre yet")}</strong> }.into_any()
                                } else {
                                    let names = running.iter().map(|a| format!("{} ({} {})", user_name(&users, Some(&a.cadre_id)), a.cadence_days, tr(lang.get_untracked(), "ngày/lần", "days"))).collect::<Vec<_>>().join(", ");
                                    view! { <span>{names}</span> }.into_any()
                                }}
                            </p>
                        </section>
                        {(!left).then(|| view! { <LeaveForm id=hid.get_value() reload=reload outcome=outcome /> })}
                        <section class="card">
                            <h3>{move || tr(lang.get(), "Thành viên", "Members")}</h3>
                            <table data-testid="members-table">
                                <thead><tr>
                                    <th>{move || tr(lang.get(), "Họ tên", "Name")}</th>
                                    <th>{move || tr(lang.get(), "Năm sinh", "Born")}</th>
                                    <th>{move || tr(lang.get(), "Quan hệ", "Relation")}</th>
                                    <th>{move || tr(lang.get(), "Dân tộc", "Ethnicity")}</th>
                                </tr></thead>
                                <tbody>
                                    {d.members.iter().map(|m| view! {
                                        <tr data-testid="member-row">
                                            <td>{m.data.full_name.clone()}</td>
                                            <td class="num">{m.data.birth_year}</td>
                                            <td>{m.data.relation.clone()}</td>
                                            <td>{m.data.ethnicity.clone()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                        <section class="card">
                            <h3>{move || tr(lang.get(), "Rà soát và các bước bình xét", "Reviews and their steps")}</h3>
                            <ul data-testid="reviews-list">
                                {d.assessments.iter().map(|a| {
                                    let steps: Vec<_> = d.review_steps.iter().filter(|s| s.review_id.as_deref() == Some(a.id.as_str())).cloned().collect();
                                    view! {
                                        <li data-testid="review-row">
                                            {date(a.date)} " · " {say(a.classification.label())}
                                            <ul>
                                                {steps.into_iter().map(|s| view! {
                                                    <li data-testid="review-step">{date(s.date)} " · " {say(step_text(&s.data))}</li>
                                                }).collect_view()}
                                            </ul>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </section>
                        <section class="card">
                            <h3>{move || tr(lang.get(), "Các lần thăm hộ", "Visits")}</h3>
                            <ul data-testid="visits-list">
                                {d.visits.iter().rev().take(20).map(|v| view! {
                                    <li>{date(v.data.date)} " · " {user_name(&users, Some(&v.cadre_id))} " · " {v.data.discussed.clone()}</li>
                                }).collect_view()}
                            </ul>
                        </section>
                        <section class="card">
                            <h3>{move || tr(lang.get(), "Kế hoạch của hộ", "The household's plan")}</h3>
                            <table data-testid="plan-table">
                                <thead><tr>
                                    <th>{move || tr(lang.get(), "Nguyên nhân", "Cause")}</th>
                                    <th>{move || tr(lang.get(), "Giải pháp", "Solution")}</th>
                                    <th>{move || tr(lang.get(), "Phụ trách", "Owner")}</th>
                                    <th>{move || tr(lang.get(), "Hạn", "Due")}</th>
                                    <th>{move || tr(lang.get(), "Trạng thái", "Status")}</th>
                                    <th></th>
                                </tr></thead>
                                <tbody>
                                    {d.plan.iter().cloned().map(|p| {
                                        let edit = (p.id.clone(), p.data.clone(), p.status);
                                        // The phone flags the same: an open item past its due date.
                                        let late = p.status == PlanStatus::Open && p.data.due < today();
                                        view! {
                                            <tr data-testid="plan-row">
                                                <td>{say(p.data.cause.label())}</td>
                                                <td>{p.data.solution.clone()}<br /><small>{p.data.progress_note.clone()}</small></td>
                                                <td>{p.data.owner.clone()}</td>
                                                <td class:late=late data-testid="plan-due">
                                                    {date(p.data.due)}
                                                    {late.then(|| view! { <br /><span>{move || tr(lang.get(), "Quá hạn", "Overdue")}</span> })}
                                                </td>
                                                <td>{move || plan_status(p.status, lang.get())}</td>
                                                <td><button class="link" data-testid="edit-plan" on:click=move |_| editing.set(Some(edit.clone()))>
                                                    {move || tr(lang.get(), "Sửa", "Edit")}
                                                </button></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <div class="actions">
                                {open_causes.into_iter().map(|c| {
                                    let item = PlanItemInput::matched(c, "UBND xã", today() + chrono::Duration::days(180));
                                    view! {
                                        <button class="secondary" data-testid="plan-cause" on:click=move |_| {
                                            let id = web_sys::window().and_then(|w| w.crypto().ok()).map(|c| c.random_uuid()).unwrap_or_default();
                                            editing.set(Some((id, item.clone(), PlanStatus::Open)))
                                        }>
                                            {move || format!("+ {}", c.label().get(lang.get()))}
                                        </button>
                                    }
                                }).collect_view()}
                            </div>
                            {move || editing.get().map(|(item_id, item, status)| {
                                let solution = RwSignal::new(item.solution.clone());
                                let owner = RwSignal::new(item.owner.clone());
                                let due = RwSignal::new(item.due.to_string());
                                let note = RwSignal::new(item.progress_note.clone());
                                let state = RwSignal::new(status);
                                let cause = item.cause;
                                view! {
                                    <form class="card grid" data-testid="plan-form" on:submit=move |ev| {
                                        ev.prevent_default();
                                        let input = PlanItemInput {
                                            cause,
                                            solution: solution.get(),
                                            owner: owner.get(),
                                            due: due.get().parse().unwrap_or_else(|_| today()),
                                            progress_note: note.get(),
                                        };
                                        save_plan((item_id.clone(), input, state.get()));
                                    }>
                                        <h3>{move || cause.label().get(lang.get()).to_string()}</h3>
                                        <label>{move || tr(lang.get(), "Giải pháp", "Solution")}<input data-testid="plan-solution" bind:value=solution /></label>
                                        <label>{move || tr(lang.get(), "Phụ trách", "Owner")}<input data-testid="plan-owner" bind:value=owner /></label>
                                        <label>{move || tr(lang.get(), "Hạn", "Due")}<input type="date" data-testid="plan-due" bind:value=due /></label>
                                        <label>{move || tr(lang.get(), "Ghi chú tiến độ", "Progress note")}<input data-testid="plan-note" bind:value=note /></label>
                                        <label>{move || tr(lang.get(), "Trạng thái", "Status")}
                                            <select data-testid="plan-status" on:change=move |ev| state.set(match event_target_value(&ev).as_str() {
                                                "done" => PlanStatus::Done,
                                                "dropped" => PlanStatus::Dropped,
                                                _ => PlanStatus::Open,
                                            })>
                                                {[(PlanStatus::Open, "open"), (PlanStatus::Done, "done"), (PlanStatus::Dropped, "dropped")].into_iter().map(|(s, v)| view! {
                                                    <option value=v selected=s == status>{move || plan_status(s, lang.get())}</option>
                                                }).collect_view()}
                                            </select>
                                        </label>
                                        <button type="submit" class="primary" data-testid="save-plan">{move || tr(lang.get(), "Lưu", "Save")}</button>
                                        <button type="button" class="secondary" on:click=move |_| editing.set(None)>{move || tr(lang.get(), "Huỷ", "Cancel")}</button>
                                    </form>
                                }
                            })}
                        </section>
                        <section class="card">
                            <h3>{move || tr(lang.get(), "Hỗ trợ", "Support")}</h3>
                            <table data-testid="support-table">
                                <thead><tr>
                                    <th>{move || tr(lang.get(), "Hỗ trợ", "Support")}</th>
                                    <th>{move || tr(lang.get(), "Dự án / chính sách", "Project / policy")}</th>
                                    <th>{move || tr(lang.get(), "Đơn vị hỗ trợ", "Provided by")}</th>
                                    <th class="num">{move || tr(lang.get(), "Số tiền", "Amount")}</th>
                                    <th>{move || tr(lang.get(), "Ngày dự kiến", "Planned for")}</th>
                                    <th>{move || tr(lang.get(), "Trạng thái", "Status")}</th>
                                    <th></th>
                                </tr></thead>
                                <tbody>
                                    {d.support.iter().map(|s| {
                                        let (a, b) = (s.clone(), s.clone());
                                        let planned = s.status == SupportStatus::Planned;
                                        view! {
                                            <tr data-testid="support-row">
                                                <td>{say(s.data.kind.label())}</td>
                                                <td>{say(s.data.project.label())}</td>
                                                <td>{s.data.provider.clone()}</td>
                                                <td class="num">{s.data.amount_vnd.map(vnd).unwrap_or_default()}</td>
                                                <td>{date(s.data.planned_date)}</td>
                                                <td>{say(s.status.label())} " " {s.delivered_date.map(date).unwrap_or_default()}</td>
                                                <td>{planned.then(|| view! {
                                                    <button class="primary" data-testid="delivered" on:click=move |_| delivering.set(Some(a.clone()))>
                                                        {move || tr(lang.get(), "Đã trao…", "Delivered…")}
                                                    </button>
                                                    <button class="secondary" data-testid="cancelled" on:click=move |_| cancel_support(b.clone())>
                                                        {move || tr(lang.get(), "Hủy…", "Cancel…")}
                                                    </button>
                                                })}</td>
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
        <Suspense fallback=|| ()>
            {move || history.get().map(|r| match r {
                Err(e) => view! { <Problem error=e /> }.into_any(),
                Ok(h) => view! {
                    <section class="card">
                        <h3>{move || tr(lang.get(), "Biến động trong sổ hộ nghèo", "Movements in the register")}</h3>
                        <ol class="history" data-testid="ledger-table">
                            {h.movements.into_iter().map(|m| {
                                let from = m.movement.from;
                                let to = m.movement.to;
                                view! {
                                    <li data-testid="ledger-row">
                                        <strong>{date(m.movement.date)} " · "
                                            {move || format!("{} → {}",
                                                from.map_or_else(|| tr(lang.get(), "Chưa có trong sổ", "Not in the register").to_string(), |f| f.label().get(lang.get()).to_string()),
                                                to.map_or_else(|| tr(lang.get(), "Ra khỏi sổ", "Out of the register").to_string(), |t| t.label().get(lang.get()).to_string()))}
                                        </strong>
                                        <br /><small>{say(m.basis_text.clone())} " · " {move || tr(lang.get(), "người ghi: ", "recorded by: ")} {m.by_name.clone()}</small>
                                    </li>
                                }
                            }).collect_view()}
                        </ol>
                    </section>
                    <section class="card">
                        <h3>{move || tr(lang.get(), "Lịch sử thay đổi", "History of changes")}</h3>
                        <ol class="history" data-testid="history-table">
                            {h.history.entries.into_iter().map(|e| {
                                let door = e.door.text();
                                view! {
                                    <li data-testid="history-row">
                                        <strong>{when(e.at_ms)} " · " {e.user_name.clone()}</strong>
                                        <br /><small>{e.device_name.clone()} " · " {move || tr(lang.get(), "qua ", "via ")} {say(door)}</small>
                                        <ul>{e.items.into_iter().map(|t| view! { <li>{say(t)}</li> }).collect_view()}</ul>
                                    </li>
                                }
                            }).collect_view()}
                        </ol>
                        {(h.history.older > 0).then(|| view! {
                            <p><small>{move || format!("{} {}", h.history.older, tr(lang.get(), "thay đổi cũ hơn không hiển thị.", "older changes not shown."))}</small></p>
                        })}
                    </section>
                }.into_any(),
            })}
        </Suspense>
    }
}

/// The commune's record of a household leaving the register: why, the day, and the
/// number of the commune's confirmation. The server's write core admits it from the
/// commune office and its leader only, once.
#[component]
fn LeaveForm(
    id: String,
    reload: RwSignal<u32>,
    outcome: RwSignal<Option<Result<String, ClientError>>>,
) -> impl IntoView {
    use shared::review::LeftReason;
    let lang = use_lang();
    let open = RwSignal::new(false);
    let reason = RwSignal::new(LeftReason::MovedAway);
    let day = RwSignal::new(today().to_string());
    let number = RwSignal::new(String::new());
    let id = StoredValue::new(id);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = serde_json::json!({
            "household_ids": [id.get_value()],
            "date": day.get(),
            "step": {"kind": "left", "reason": reason.get(), "number": number.get()},
        });
        spawn_local(async move {
            let r =
                send::<Vec<shared::campaign::StepOutcome>>(Method::Post, "/reviews/steps", &body)
                    .await;
            let lang = lang.get_untracked();
            outcome.set(Some(r.and_then(|o| {
                match o.first().and_then(|o| o.refused.clone()) {
                    Some(why) => Err(ClientError::Refused(shared::api::ErrorBody {
                        code: "refused".into(),
                        message: why,
                        fields: vec![],
                    })),
                    None => Ok(tr(
                        lang,
                        "Đã ghi hộ ra khỏi sổ.",
                        "The household is out of the register.",
                    )
                    .to_string()),
                }
            })));
            open.set(false);
            reload.update(|n| *n += 1);
        });
    };
    view! {
        <section class="card">
            {move || if open.get() {
                view! {
                    <form class="grid" data-testid="leave-form" on:submit=submit>
                        <h3>{move || tr(lang.get(), "Ghi hộ ra khỏi sổ", "Record the household leaving the register")}</h3>
                        <label>{move || tr(lang.get(), "Lý do", "Reason")}
                            <select data-testid="leave-reason" on:change=move |ev| {
                                let v = event_target_value(&ev);
                                if let Some(r) = LeftReason::ALL.into_iter().find(|r| r.as_str() == v) { reason.set(r) }
                            }>
                                {LeftReason::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{say(r.label())}</option> }).collect_view()}
                            </select>
                        </label>
                        <label>{move || tr(lang.get(), "Ngày ra khỏi sổ", "Day it leaves")}<input type="date" data-testid="leave-date" bind:value=day /></label>
                        <label>{move || tr(lang.get(), "Số văn bản xác nhận của xã", "The commune's confirmation number")}<input data-testid="leave-number" bind:value=number /></label>
                        <button type="submit" class="primary" data-testid="leave-save">{move || tr(lang.get(), "Ghi ra khỏi sổ", "Record it")}</button>
                        <button type="button" class="secondary" on:click=move |_| open.set(false)>{move || tr(lang.get(), "Huỷ", "Cancel")}</button>
                    </form>
                }.into_any()
            } else {
                view! {
                    <button class="secondary" data-testid="leave-open" on:click=move |_| open.set(true)>
                        {move || tr(lang.get(), "Hộ ra khỏi sổ (chuyển đi, nhập, tách, không còn)…", "Household leaves the register (moved, merged, split, dissolved)…")}
                    </button>
                }.into_any()
            }}
        </section>
    }
}
