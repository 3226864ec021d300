//! One household: profile, members, current classification and why, causes and the plan
//! (each solution with its owner, due date and progress; the commune plan's matched
//! solutions while no plan is drawn up), visits, support received, the review history, and any value of
//! this phone's that a commune officer's decision replaced.

use super::{date, say, today};
use crate::engine::use_engine;
use crate::route::Route;
use crate::text::{tr, use_lang};
use leptos::prelude::*;
use shared::Text;
use shared::doc::Collection;
use shared::history::field_label;
use shared::plan::PlanStatus;
use shared::review::{Flag, ListReason, Progress, ReviewStep, StatusChange, StepData, Trajectory};
use shared::summary::Summary;
use shared::support::SupportStatus;
use shared::user::Role;

/// A field's value as the person wrote it.
fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Records a step of the household's review (no review for a listing) in the signed-in
/// village head's name, dated today, and starts a sync.
fn record(household_id: String, review_id: Option<String>, data: StepData) {
    let engine = use_engine();
    let step = ReviewStep {
        id: super::new_id(),
        household_id: household_id.clone(),
        review_id,
        date: today(),
        by: engine.user.id.clone(),
        data,
    };
    leptos::task::spawn_local(async move {
        let saved = engine
            .edit(&household_id, |doc, author| {
                doc.put_record(
                    Collection::ReviewSteps,
                    &step.id,
                    &shared::projection::step_json(&step),
                    author,
                )
            })
            .await;
        if saved.is_ok() {
            leptos::task::spawn_local(engine.sync());
        }
    });
}

/// Records that the review's result is posted at the village from today for seven days.
fn post(household_id: String, review_id: String) {
    record(
        household_id,
        Some(review_id),
        StepData::Posted {
            until: today() + chrono::Duration::days(7),
        },
    );
}

/// This year's listing of the household for review, or (village head) the way to list it.
#[component]
fn ListForReview(
    household_id: String,
    listed: Option<(chrono::NaiveDate, ListReason)>,
) -> impl IntoView {
    let lang = use_lang();
    if let Some((on, reason)) = listed {
        return view! {
            <p class="meta" data-testid="listed">
                {move || tr(lang.get(), "Trong danh sách rà soát từ ", "On the review list since ")} {date(on)} " · " {say(reason.label())}
            </p>
        }
        .into_any();
    }
    let reason = RwSignal::new(ListReason::OnList);
    view! {
        <div class="actions" data-testid="list-for-review">
            <select data-testid="list-reason" on:change=move |ev| reason.set(match event_target_value(&ev).as_str() {
                "applied" => ListReason::Applied,
                "flagged_by_village" => ListReason::FlaggedByVillage,
                _ => ListReason::OnList,
            })>
                {[ListReason::OnList, ListReason::Applied, ListReason::FlaggedByVillage].into_iter().map(|r| {
                    let value = serde_json::to_value(r).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
                    view! { <option value=value>{say(r.label())}</option> }
                }).collect_view()}
            </select>
            <button type="button" class="secondary" data-testid="list-household" on:click=move |_| {
                record(household_id.clone(), None, StepData::Listed { reason: reason.get() })
            }>
                {move || tr(lang.get(), "Đưa vào danh sách rà soát", "Put on the review list")}
            </button>
        </div>
    }
    .into_any()
}

#[component]
pub fn HouseholdDetail(id: String) -> impl IntoView {
    let lang = use_lang();
    let engine = use_engine();
    let status = engine.status;
    let role = engine.user.role;
    let record_id = id.clone();
    let records = Memo::new(move |_| {
        status.revision.track();
        use_engine().household(&record_id)
    });
    let waiting_id = id.clone();
    let waiting = Memo::new(move |_| {
        status.revision.track();
        use_engine().waiting_decisions(&waiting_id)
    });
    let overridden_id = id.clone();
    let overridden = move || {
        status.overridden.with(|o| {
            o.iter()
                .filter(|(h, _)| *h == overridden_id)
                .map(|(_, o)| o.clone())
                .collect::<Vec<_>>()
        })
    };
    move || {
        let Some(r) = records.get() else {
            return view! {
                <p class="card" data-testid="household-missing">
                    {move || tr(lang.get(), "Hộ này không có trên máy.", "This household is not on this phone.")}
                </p>
                <a class="button secondary" href="#/">{move || tr(lang.get(), "← Danh sách hộ", "← Households")}</a>
            }
            .into_any();
        };
        let summary = Summary::of(&r);
        let accompaniment = status
            .accompaniments
            .with(|a| a.get(&r.household.id).cloned());
        let overdue = summary.overdue(today(), accompaniment.as_ref());
        // Out of the register: shown as such, with nothing more to record for it.
        let left = summary.left;
        let h = r.household.clone();
        let latest = r.assessments.iter().max_by_key(|a| a.date).cloned();
        let progress = latest
            .as_ref()
            .map(|a| Progress::of(&a.id, &r.review_steps))
            .unwrap_or_default();
        // A review not yet decided: its result is only proposed.
        let pending = latest.is_some() && progress.decision.is_none();
        let trajectory = Trajectory::of(&StatusChange::from_steps(&r.review_steps));
        let flags: Vec<Flag> = Flag::ALL
            .into_iter()
            .filter(|f| f.holds(&trajectory, today()))
            .collect();
        let window_until = trajectory
            .window_until
            .filter(|_| trajectory.in_window(today()));
        let listed = r
            .review_steps
            .iter()
            .filter(|s| chrono::Datelike::year(&s.date) == chrono::Datelike::year(&today()))
            .filter_map(|s| match s.data {
                StepData::Listed { reason } => Some((s.date, reason)),
                _ => None,
            })
            .next_back();
        let mut visits = r.visits.clone();
        visits.sort_by_key(|v| std::cmp::Reverse(v.data.date));
        let mut assessments = r.assessments.clone();
        assessments.sort_by_key(|a| std::cmp::Reverse(a.date));
        let id = h.id.clone();
        let overridden = overridden();
        view! {
            <article class="household-detail" data-testid="household-detail">
                <a class="back" href="#/">{move || tr(lang.get(), "← Danh sách hộ", "← Households")}</a>
                <section class="card">
                    <h2 data-testid="head-name">{h.head_name.clone()}</h2>
                    <p class="meta">{h.code.clone()} " · " <span data-testid="address">{h.address.clone()}</span></p>
                    <p class="status">{move || tr(lang.get(), "Phân loại chính thức: ", "Official status: ")} <span data-testid="status">{say(h.status.label())}</span></p>
                    {left.then(|| view! {
                        <p class="flag" data-testid="left">{move || tr(lang.get(), "Hộ đã ra khỏi sổ (xã đã xác nhận).", "The household has left the register (confirmed by the commune).")}</p>
                    })}
                    {flags.into_iter().map(|f| view! { <p class="flag" data-testid="flag">{say(f.label())}</p> }).collect_view()}
                    {window_until.map(|d| view! {
                        <p class="meta" data-testid="window">{move || tr(lang.get(), "Hưởng chính sách hộ mới thoát nghèo đến ", "Keeps the newly escaped policies until ")} {date(d)}</p>
                    })}
                    {accompaniment.map(|a| view! {
                        <p class="meta" data-testid="accompanied-by">
                            {move || tr(lang.get(), "Cán bộ kèm cặp:", "Accompanied by:")} " "
                            {a.cadres.iter().map(|c| format!("{} ({} {})", c.full_name, c.cadence_days, tr(lang.get(), "ngày/lần", "days"))).collect::<Vec<_>>().join(", ")}
                        </p>
                    })}
                    {overdue.then(|| view! {
                        <p class="overdue-note" data-testid="overdue">
                            {move || tr(lang.get(), "Đã quá hạn thăm hộ", "A visit is overdue")}
                        </p>
                    })}
                    <div class="actions">
                        {(role == Role::Cadre && !left).then(|| view! {
                            <a class="button primary" data-testid="log-visit" href=Route::LogVisit(id.clone()).href()>
                                {move || tr(lang.get(), "Ghi thăm hộ", "Log a visit")}
                            </a>
                            <a class="button secondary" data-testid="propose-support" href=Route::ProposeSupport(id.clone()).href()>
                                {move || tr(lang.get(), "Đề xuất hỗ trợ", "Propose support")}
                            </a>
                        })}
                        {(role == Role::VillageHead && !left).then(|| view! {
                            <a class="button primary" data-testid="review" href=Route::Review(id.clone()).href()>
                                {move || tr(lang.get(), "Rà soát hộ", "Review")}
                            </a>
                            <a class="button secondary" data-testid="edit-household" href=Route::EditHousehold(id.clone()).href()>
                                {move || tr(lang.get(), "Sửa thông tin hộ", "Edit household")}
                            </a>
                        })}
                    </div>
                </section>
                {move || {
                    let me = use_engine().device_id.clone();
                    let open = waiting.get();
                    (!open.is_empty()).then(|| view! {
                        <section class="card waiting" data-testid="waiting-decision">
                            <h3>{move || tr(lang.get(), "Đang chờ xã quyết định", "Waiting for the commune's decision")}</h3>
                            {open.into_iter().map(|c| {
                                let field = field_label(&c.path);
                                let yours: Vec<String> = c.values.iter().filter(|v| v.device_id.as_deref() == Some(me.as_str())).map(|v| show(&v.value)).collect();
                                let others: Vec<String> = c.values.iter().filter(|v| v.device_id.as_deref() != Some(me.as_str())).map(|v| show(&v.value)).collect();
                                let (yours, others) = (yours.join(" / "), others.join(" / "));
                                view! {
                                    <p data-testid="waiting-field">
                                        <strong>{say(field)}</strong> ": "
                                        {move || tr(lang.get(), "giá trị của bạn", "your value")} " «" <span data-testid="waiting-yours">{yours.clone()}</span> "» / "
                                        {move || tr(lang.get(), "giá trị khác", "the other value")} " «" <span data-testid="waiting-other">{others.clone()}</span> "»"
                                    </p>
                                }
                            }).collect_view()}
                            <p class="meta">{move || tr(lang.get(),
                                "Hai máy đã sửa cùng một thông tin khi chưa đồng bộ. Cán bộ xã sẽ chọn giá trị đúng; máy nhận quyết định ở lần đồng bộ sau.",
                                "Two devices changed the same detail before syncing. A commune officer will choose the right value; this phone gets the decision at a later sync.")}</p>
                        </section>
                    })
                }}
                {(!overridden.is_empty()).then(|| view! {
                    <section class="card overridden" data-testid="overridden">
                        <h3>{move || tr(lang.get(), "Giá trị của bạn đã được xã quyết định lại", "The commune decided on a value you entered")}</h3>
                        {overridden.into_iter().map(|o| {
                            let field = field_label(&o.path);
                            let (yours, decided) = (show(&o.yours), show(&o.decided));
                            view! {
                                <p>
                                    <strong>{say(field)}</strong> ": "
                                    {move || tr(lang.get(), "bạn ghi", "you wrote")} " «" {yours.clone()} "», "
                                    {move || tr(lang.get(), "đã chọn", "decided")} " «" <span data-testid="decided">{decided.clone()}</span> "»"
                                </p>
                            }
                        }).collect_view()}
                    </section>
                })}
                <section class="card" data-testid="classification">
                    <h3>{move || tr(lang.get(), "Kết quả rà soát gần nhất", "Latest review")}</h3>
                    {(role == Role::VillageHead || listed.is_some()).then(|| view! { <ListForReview household_id=id.clone() listed=listed /> })}
                    {match latest {
                        Some(a) => {
                            let reasons = a.explanation.reasons.clone();
                            let meeting = progress.meeting;
                            let posted = progress.posted_until;
                            let head = role == Role::VillageHead && !left;
                            let post_id = id.clone();
                            let review_id = a.id.clone();
                            view! {
                                {pending.then(|| view! {
                                    <p class="proposed" data-testid="proposed">
                                        {move || tr(lang.get(), "Đề xuất (chờ xã quyết định): ", "Proposed (awaiting the commune's decision): ")}
                                        <strong>{say(a.classification.label())}</strong>
                                        " · " {move || tr(lang.get(), "chính thức: ", "official: ")} {say(h.status.label())}
                                    </p>
                                })}
                                {(!pending).then(|| view! { <p><strong>{say(a.classification.label())}</strong></p> })}
                                <p class="meta">{date(a.date)} " · " {a.explanation.rule_set_id.clone()}</p>
                                <ul>{reasons.into_iter().map(|t| view! { <li>{say(t)}</li> }).collect_view()}</ul>
                                <ul class="steps" data-testid="review-steps">
                                    {meeting.map(|m| view! {
                                        <li data-testid="meeting-step">
                                            {move || tr(lang.get(), "Họp thôn ", "Village meeting ")} {date(m.date)} ": "
                                            {m.agreed} "/" {m.attendees} {move || tr(lang.get(), " đồng ý", " agreed")}
                                            {(!m.valid()).then(|| view! { " · " <span class="error">{move || tr(lang.get(), "dưới 50%, chưa đạt", "below 50%, not valid")}</span> })}
                                        </li>
                                    })}
                                    {posted.map(|d| view! { <li>{move || tr(lang.get(), "Niêm yết đến ", "Posted until ")} {date(d)}</li> })}
                                    {progress.decision.clone().map(|d| view! { <li>{move || tr(lang.get(), "Quyết định ", "Decision ")} {d.number.clone()} " · " {date(d.date)}</li> })}
                                </ul>
                                {(head && pending).then(|| view! {
                                    <div class="actions">
                                        <a class="button secondary" data-testid="record-meeting" href=Route::Meeting(post_id.clone()).href()>
                                            {move || tr(lang.get(), "Ghi họp thôn", "Record the village meeting")}
                                        </a>
                                        {(meeting.is_some_and(|m| m.valid()) && posted.is_none()).then(|| {
                                            let (hid, rid) = (post_id.clone(), review_id.clone());
                                            view! {
                                                <button type="button" class="secondary" data-testid="record-posted" on:click=move |_| post(hid.clone(), rid.clone())>
                                                    {move || tr(lang.get(), "Ghi niêm yết từ hôm nay (7 ngày)", "Record posting from today (7 days)")}
                                                </button>
                                            }
                                        })}
                                    </div>
                                })}
                            }.into_any()
                        }
                        None => view! { <p>{move || tr(lang.get(), "Chưa rà soát.", "Not reviewed yet.")}</p> }.into_any(),
                    }}
                </section>
                <section class="card" data-testid="plan">
                    <h3>{move || tr(lang.get(), "Nguyên nhân nghèo và kế hoạch", "Causes and plan")}</h3>
                    {if !r.plan.is_empty() {
                        let may_note = matches!(role, Role::Cadre | Role::CommuneOfficer);
                        view! {
                            <ul class="plan">{r.plan.iter().map(|p| {
                                let state = match p.status {
                                    PlanStatus::Open => Text::new("đang làm", "in progress"),
                                    PlanStatus::Done => Text::new("đã xong", "done"),
                                    PlanStatus::Dropped => Text::new("đã bỏ", "dropped"),
                                };
                                let late = p.status == PlanStatus::Open && p.data.due < today();
                                let note = p.data.progress_note.clone();
                                let href = Route::PlanProgress(id.clone(), p.id.clone()).href();
                                view! {
                                    <li data-testid="plan-item" class:late=late>
                                        <strong>{p.data.solution.clone()}</strong>
                                        <br/><span class="meta">{say(p.data.cause.label())} " · " {p.data.owner.clone()}</span>
                                        <br/>{move || tr(lang.get(), "Hạn ", "Due ")} {date(p.data.due)} " · " <span data-testid="plan-status">{say(state)}</span>
                                        {late.then(|| view! { " · " <span class="overdue-note">{move || tr(lang.get(), "quá hạn", "overdue")}</span> })}
                                        {(!note.is_empty()).then(|| view! { <br/><em data-testid="plan-note">{note.clone()}</em> })}
                                        {may_note.then(|| view! {
                                            <br/><a class="button secondary" data-testid="note-progress" href=href.clone()>
                                                {move || tr(lang.get(), "Ghi tiến độ", "Note progress")}
                                            </a>
                                        })}
                                    </li>
                                }
                            }).collect_view()}</ul>
                        }.into_any()
                    } else if h.causes.is_empty() {
                        view! { <p>{move || tr(lang.get(), "Chưa ghi nguyên nhân.", "No causes recorded.")}</p> }.into_any()
                    } else {
                        // No plan drawn up yet: the commune plan's solution for each cause.
                        view! {
                            <ul>{h.causes.iter().map(|c| view! {
                                <li><strong>{say(c.label())}</strong> " — " {say(c.matched_solution())}</li>
                            }).collect_view()}</ul>
                        }.into_any()
                    }}
                </section>
                <section class="card" data-testid="members">
                    <h3>{move || tr(lang.get(), "Thành viên", "Members")} " (" {r.members.len()} ")"</h3>
                    <ul class="rows">{r.members.iter().map(|m| {
                        let edit = Route::Member(id.clone(), Some(m.id.clone())).href();
                        let m = m.data.clone();
                        let line = format!("{} · {} · {}", m.full_name, m.relation, m.birth_year);
                        if role == Role::VillageHead {
                            view! { <li data-testid="member"><a href=edit>{line}</a></li> }.into_any()
                        } else {
                            view! { <li data-testid="member"><span>{line}</span></li> }.into_any()
                        }
                    }).collect_view()}</ul>
                    {(role == Role::VillageHead).then(|| view! {
                        <a class="button secondary" data-testid="add-member" href=Route::Member(id.clone(), None).href()>
                            {move || tr(lang.get(), "+ Thêm thành viên", "+ Add a member")}
                        </a>
                    })}
                </section>
                <section class="card" data-testid="visits">
                    <h3>{move || tr(lang.get(), "Các lần thăm", "Visits")} " (" {visits.len()} ")"</h3>
                    <ul>{visits.into_iter().map(|v| view! {
                        <li data-testid="visit">
                            <strong>{date(v.data.date)}</strong> " — " {v.data.discussed.clone()}
                            {(!v.data.needs.is_empty()).then(|| view! { <br/><em>{move || tr(lang.get(), "Cần: ", "Needs: ")}</em> {v.data.needs.clone()} })}
                        </li>
                    }).collect_view()}</ul>
                </section>
                <section class="card" data-testid="support">
                    <h3>{move || tr(lang.get(), "Hỗ trợ đã nhận", "Support")}</h3>
                    <ul>{r.support.iter().map(|s| {
                        let amount = s.data.amount_vnd.map(super::vnd).unwrap_or_default();
                        let state = match s.status {
                            SupportStatus::Planned => Text::new("dự kiến", "planned"),
                            SupportStatus::Delivered => Text::new("đã nhận", "delivered"),
                            SupportStatus::Cancelled => Text::new("đã huỷ", "cancelled"),
                        };
                        view! { <li>{say(s.data.kind.label())} " " {amount} " · " {say(state)} " · " {s.data.provider.clone()}</li> }
                    }).collect_view()}</ul>
                </section>
                <section class="card">
                    <h3>{move || tr(lang.get(), "Lịch sử rà soát", "Review history")}</h3>
                    <ul>{assessments.into_iter().map(|a| view! {
                        <li>{date(a.date)} " · " {say(a.classification.label())}</li>
                    }).collect_view()}</ul>
                </section>
            </article>
        }
        .into_any()
    }
}
