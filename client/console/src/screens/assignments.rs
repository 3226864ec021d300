//! Assignments: the poor and near-poor households and who accompanies them, the cadres
//! with their workload, and the officer's assign, reassign and end actions (one household
//! or many at once) with the visit cadence the phones then keep to.

use super::{
    Ask, Confirm, Outcome, PAGE, Pager, Problem, Undo, UndoOffer, date, load, param, say, send,
    today, village_name, villages,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::assignment::{
    AccompanimentPage, AssignedCadre, Assignment, AssignmentInput, BulkAssignment, BulkResult,
    CadreLoad, EndAssignment,
};
use std::collections::BTreeSet;
use ui::api::{ClientError, Method};
use ui::text::{tr, use_lang};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Show {
    Unassigned,
    Supported,
    Overdue,
}

#[component]
pub fn Assignments(
    /// Commune officers change assignments; leaders only look.
    manage: bool,
) -> impl IntoView {
    let lang = use_lang();
    let show = RwSignal::new(Show::Unassigned);
    let village = RwSignal::new(String::new());
    let cadre_filter = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let sort = RwSignal::new("due".to_string());
    let page = RwSignal::new(0usize);
    let chosen = RwSignal::new(BTreeSet::<String>::new());
    let reload = RwSignal::new(0u32);
    let outcome = RwSignal::new(None::<Result<String, ClientError>>);

    let vs = villages();
    let cadres = load::<Vec<CadreLoad>>(move || {
        reload.track();
        "/accompaniment/cadres".to_string()
    });
    let rows = load::<AccompanimentPage>(move || {
        reload.track();
        let mut p = format!(
            "/accompaniment?supported=true&limit={PAGE}&offset={}&sort={}",
            page.get() * PAGE,
            sort.get()
        );
        match show.get() {
            Show::Unassigned => p.push_str("&unassigned=true"),
            Show::Overdue => p.push_str("&overdue=true"),
            Show::Supported => {}
        }
        if !village.get().is_empty() {
            p.push_str(&param("area_id", &village.get()));
        }
        if !cadre_filter.get().is_empty() {
            p.push_str(&param("cadre_id", &cadre_filter.get()));
        }
        if !text.get().trim().is_empty() {
            p.push_str(&param("q", text.get().trim()));
        }
        p
    });
    // A new filter starts at its first page with nothing ticked.
    Effect::new(move |_| {
        show.track();
        village.track();
        cadre_filter.track();
        text.track();
        sort.track();
        page.set(0);
        chosen.set(BTreeSet::new());
    });

    let assign_to = RwSignal::new(String::new());
    let cadence = RwSignal::new("30".to_string());
    let from = RwSignal::new(today().to_string());
    let busy = RwSignal::new(false);
    let act = move |replace: bool| {
        let ids: Vec<String> = chosen.get().into_iter().collect();
        let cadence_days = cadence.get().trim().parse::<i64>().unwrap_or(0);
        let from_date = from.get().parse().unwrap_or_else(|_| today());
        let body = BulkAssignment {
            household_ids: ids,
            cadre_id: assign_to.get(),
            from_date,
            cadence_days,
            replace,
        };
        busy.set(true);
        spawn_local(async move {
            let r = send::<BulkResult>(Method::Post, "/assignments/bulk", &body).await;
            outcome.set(Some(r.map(|r| {
                let l = lang.get_untracked();
                format!(
                    "{} {} · {} {} · {} {}",
                    tr(l, "Đã giao", "Assigned"),
                    r.created.len(),
                    tr(l, "đã kết thúc", "ended"),
                    r.ended.len(),
                    tr(l, "giữ nguyên", "unchanged"),
                    r.unchanged.len()
                )
            })));
            chosen.set(BTreeSet::new());
            busy.set(false);
            reload.update(|n| *n += 1);
        });
    };
    let ask = RwSignal::new(None::<Ask>);
    let undo = RwSignal::new(None::<UndoOffer>);
    // Ending an assignment says who stops accompanying whom, asks, and then offers to undo
    // by a new assignment of the same cadre from the same day (the ended one stays ended
    // in the record).
    let end = move |c: AssignedCadre, household_id: String, who: String, alone: bool| {
        let l = lang.get_untracked();
        let mut lines = vec![format!(
            "{} {} {} {} {}.",
            c.full_name,
            tr(l, "thôi kèm cặp hộ", "stops accompanying"),
            who,
            tr(l, "từ hôm nay,", "from today,"),
            date(today())
        )];
        if alone {
            lines.push(
                tr(
                    l,
                    "Hộ sẽ không còn cán bộ kèm cặp nào.",
                    "The household will have no cadre.",
                )
                .to_string(),
            );
        }
        let run = Callback::new(move |_| {
            let c = c.clone();
            let household_id = household_id.clone();
            let who = who.clone();
            spawn_local(async move {
                let r = send::<Assignment>(
                    Method::Post,
                    &format!("/assignments/{}/end", c.assignment_id),
                    &EndAssignment { to_date: today() },
                )
                .await;
                let l = lang.get_untracked();
                match r {
                    Ok(_) => {
                        outcome.set(None);
                        let again = AssignmentInput {
                            household_id,
                            cadre_id: c.cadre_id.clone(),
                            from_date: today(),
                            to_date: None,
                            cadence_days: c.cadence_days,
                        };
                        undo.set(Some(UndoOffer {
                            done: format!("{}: {} · {}", tr(l, "Đã kết thúc phân công", "Assignment ended"), c.full_name, who),
                            run: Callback::new(move |_| {
                                let again = again.clone();
                                spawn_local(async move {
                                    let r = send::<Assignment>(Method::Post, "/assignments", &again).await;
                                    outcome.set(Some(r.map(|_| tr(
                                        lang.get_untracked(),
                                        "Đã hoàn tác: cán bộ kèm cặp lại hộ từ hôm nay.",
                                        "Undone: the cadre accompanies the household again from today.",
                                    ).to_string())));
                                    reload.update(|n| *n += 1);
                                });
                            }),
                        }));
                    }
                    Err(e) => outcome.set(Some(Err(e))),
                }
                reload.update(|n| *n += 1);
            });
        });
        ask.set(Some(Ask {
            title: tr(l, "Kết thúc phân công kèm cặp?", "End this assignment?").to_string(),
            lines,
            yes: tr(l, "Xác nhận kết thúc", "End it").to_string(),
            run,
        }));
    };

    view! {
        <section class="cadres card">
            <h3>{move || tr(lang.get(), "Cán bộ kèm cặp", "Mentoring cadres")}</h3>
            <Suspense fallback=|| ()>
                {move || cadres.get().map(|r| match r {
                    Err(e) => view! { <Problem error=e /> }.into_any(),
                    Ok(list) => view! {
                        <table data-testid="cadre-table">
                            <thead><tr>
                                <th>{move || tr(lang.get(), "Họ tên", "Name")}</th>
                                <th class="num">{move || tr(lang.get(), "Số hộ", "Households")}</th>
                                <th class="num">{move || tr(lang.get(), "Quá hạn thăm", "Overdue")}</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|c| {
                                    let id = c.id.clone();
                                    let pick = c.id.clone();
                                    let late = c.overdue > 0;
                                    view! {
                                        <tr class:current=move || cadre_filter.get() == id data-testid="cadre-row">
                                            <td><button class="link" on:click=move |_| {
                                                show.set(Show::Supported);
                                                cadre_filter.set(pick.clone());
                                            }>{c.full_name}</button></td>
                                            <td class="num">{c.households}</td>
                                            <td class="num" class:late=late>{c.overdue}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Suspense>
        </section>

        <section class="card">
            <div class="filters">
                <div class="tabs" role="tablist">
                    <ShowTab show=show value=Show::Unassigned vi="Chưa có cán bộ" en="Without a cadre" testid="show-unassigned" cadre=cadre_filter />
                    <ShowTab show=show value=Show::Supported vi="Tất cả hộ nghèo, cận nghèo" en="All poor and near-poor" testid="show-all" cadre=cadre_filter />
                    <ShowTab show=show value=Show::Overdue vi="Quá hạn thăm" en="Overdue visits" testid="show-overdue" cadre=cadre_filter />
                </div>
                <select data-testid="village-filter" on:change=move |ev| village.set(event_target_value(&ev))>
                    <option value="">{move || tr(lang.get(), "Mọi thôn", "Every village")}</option>
                    {move || vs.get().and_then(|r| r.ok()).unwrap_or_default().into_iter().map(|v| {
                        view! { <option value=v.id.clone()>{v.name.clone()}</option> }
                    }).collect_view()}
                </select>
                <input
                    type="search"
                    data-testid="search"
                    placeholder=move || tr(lang.get(), "Tìm tên chủ hộ, mã hộ", "Search head's name, code")
                    bind:value=text
                />
                <select data-testid="sort" on:change=move |ev| sort.set(event_target_value(&ev))>
                    <option value="due">{move || tr(lang.get(), "Hạn thăm", "Visit due")}</option>
                    <option value="code">{move || tr(lang.get(), "Mã hộ", "Code")}</option>
                    <option value="name">{move || tr(lang.get(), "Tên chủ hộ", "Head's name")}</option>
                    <option value="village">{move || tr(lang.get(), "Thôn", "Village")}</option>
                </select>
                {move || (!cadre_filter.get().is_empty()).then(|| view! {
                    <button class="secondary" on:click=move |_| cadre_filter.set(String::new())>
                        {move || tr(lang.get(), "Bỏ lọc cán bộ", "Clear cadre filter")}
                    </button>
                })}
            </div>

            {manage.then(|| view! {
                <div class="actions" data-testid="assign-bar">
                    <span>{move || format!("{} {}", chosen.get().len(), tr(lang.get(), "hộ đã chọn", "chosen"))}</span>
                    <select data-testid="assign-cadre" on:change=move |ev| assign_to.set(event_target_value(&ev))>
                        <option value="">{move || tr(lang.get(), "— Chọn cán bộ —", "— Choose a cadre —")}</option>
                        {move || cadres.get().and_then(|r| r.ok()).unwrap_or_default().into_iter().map(|c| {
                            view! { <option value=c.id.clone()>{format!("{} ({})", c.full_name, c.households)}</option> }
                        }).collect_view()}
                    </select>
                    <label>
                        {move || tr(lang.get(), "Thăm mỗi (ngày)", "Visit every (days)")}
                        <input type="number" min="7" max="366" data-testid="cadence" bind:value=cadence class="short" />
                    </label>
                    <label>
                        {move || tr(lang.get(), "Từ ngày", "From")}
                        <input type="date" data-testid="from-date" bind:value=from />
                    </label>
                    <button class="primary" data-testid="assign"
                        disabled=move || busy.get() || chosen.get().is_empty() || assign_to.get().is_empty()
                        on:click=move |_| act(false)>
                        {move || tr(lang.get(), "Giao", "Assign")}
                    </button>
                    <button class="secondary" data-testid="reassign"
                        disabled=move || busy.get() || chosen.get().is_empty() || assign_to.get().is_empty()
                        on:click=move |_| act(true)>
                        {move || tr(lang.get(), "Giao lại (thay cán bộ cũ)", "Reassign (replace the cadre)")}
                    </button>
                    {move || (chosen.get().is_empty() || assign_to.get().is_empty()).then(|| view! {
                        <span class="hint" data-testid="assign-hint">
                            {move || tr(lang.get(), "Chọn hộ trong bảng và một cán bộ để giao.", "Tick households in the table and choose a cadre to assign.")}
                        </span>
                    })}
                </div>
            })}
            <Outcome outcome=outcome />
            <Undo offer=undo />
            <Confirm ask=ask />

            <Suspense fallback=move || view! { <p>{move || tr(lang.get(), "Đang tải…", "Loading…")}</p> }>
                {move || rows.get().map(|r| match r {
                    Err(e) => view! { <Problem error=e /> }.into_any(),
                    Ok(p) => {
                        let total = p.total;
                        let first = page.get() * PAGE;
                        let ids: Vec<String> = p.rows.iter().map(|r| r.household_id.clone()).collect();
                        // What the table holds, in words, with the filters named.
                        let says = move || {
                            let l = lang.get();
                            let mut out = format!("{total} {}", match show.get() {
                                Show::Unassigned => tr(l, "hộ nghèo, cận nghèo chưa có cán bộ kèm cặp", "poor and near-poor households without a cadre"),
                                Show::Supported => tr(l, "hộ nghèo và cận nghèo", "poor and near-poor households"),
                                Show::Overdue => tr(l, "hộ quá hạn thăm", "households overdue for a visit"),
                            });
                            let v = village.get();
                            if !v.is_empty() {
                                out.push_str(&format!(" · {}", village_name(&vs.get(), &v)));
                            }
                            let c = cadre_filter.get();
                            if let Some(name) = cadres.get().and_then(Result::ok).and_then(|cs| cs.into_iter().find(|x| x.id == c)) {
                                out.push_str(&format!(" · {} {}", tr(l, "do", "accompanied by"), name.full_name));
                            }
                            let t = text.get();
                            if !t.trim().is_empty() {
                                out.push_str(&format!(" · «{}»", t.trim()));
                            }
                            out
                        };
                        view! {
                            <p data-testid="table-says"><strong>{says}</strong></p>
                            <table data-testid="household-table">
                                <thead><tr>
                                    {manage.then(|| {
                                        let ids = ids.clone();
                                        view! { <th><input type="checkbox" aria-label="all" data-testid="choose-all"
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                chosen.update(|c| for id in &ids { if on { c.insert(id.clone()); } else { c.remove(id); } });
                                            } /></th> }
                                    })}
                                    <th>{move || tr(lang.get(), "Mã hộ", "Code")}</th>
                                    <th>{move || tr(lang.get(), "Chủ hộ", "Head")}</th>
                                    <th>{move || tr(lang.get(), "Thôn", "Village")}</th>
                                    <th>{move || tr(lang.get(), "Phân loại", "Status")}</th>
                                    <th>{move || tr(lang.get(), "Cán bộ kèm cặp", "Accompanied by")}</th>
                                    <th>{move || tr(lang.get(), "Lần thăm cuối", "Last visit")}</th>
                                    <th>{move || tr(lang.get(), "Hạn thăm", "Visit due")}</th>
                                </tr></thead>
                                <tbody>
                                    {p.rows.into_iter().map(|r| {
                                        let id = r.household_id.clone();
                                        let id2 = id.clone();
                                        let code = r.code.clone();
                                        let data_code = r.code.clone();
                                        let village_id = r.village_id.clone();
                                        let late = r.overdue;
                                        let open = crate::route::Route::Household(r.household_id.clone()).href();
                                        let who = format!("{} · {}", r.code, r.head_name);
                                        let alone = r.accompaniment.cadres.len() == 1;
                                        view! {
                                            <tr data-testid="household-row" data-code=data_code>
                                                {manage.then(|| view! { <td><input type="checkbox" data-testid="choose"
                                                    prop:checked=move || chosen.get().contains(&id)
                                                    on:change=move |ev| {
                                                        let on = event_target_checked(&ev);
                                                        chosen.update(|c| { if on { c.insert(id2.clone()); } else { c.remove(&id2); } });
                                                    } /></td> })}
                                                <td class="code">{code}</td>
                                                <td><a href=open>{r.head_name.clone()}</a></td>
                                                <td>{move || village_name(&vs.get(), &village_id)}</td>
                                                <td>{say(r.status.label())}</td>
                                                <td data-testid="cadres">
                                                    {r.accompaniment.cadres.iter().map(|c| {
                                                        let who = who.clone();
                                                        let hid = r.household_id.clone();
                                                        let this = c.clone();
                                                        view! {
                                                            <span class="chip">
                                                                {format!("{} · {} ", c.full_name, c.cadence_days)}
                                                                {move || tr(lang.get(), "ngày/lần", "days")}
                                                                {manage.then(|| view! {
                                                                    <button class="link" data-testid="end-assignment"
                                                                        on:click=move |_| end(this.clone(), hid.clone(), who.clone(), alone)>
                                                                        {move || tr(lang.get(), "Kết thúc…", "End…")}
                                                                    </button>
                                                                })}
                                                            </span>
                                                        }
                                                    }).collect_view()}
                                                </td>
                                                <td>{r.last_visit.map(date).unwrap_or_default()}</td>
                                                <td class:late=late>{r.due.map(date).unwrap_or_else(|| "—".into())}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <Pager page=page total=total first=first lang=lang />
                        }.into_any()
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn ShowTab(
    show: RwSignal<Show>,
    value: Show,
    vi: &'static str,
    en: &'static str,
    testid: &'static str,
    cadre: RwSignal<String>,
) -> impl IntoView {
    let lang = use_lang();
    view! {
        <button
            role="tab"
            class="tab"
            aria-selected=move || (show.get() == value).to_string()
            data-testid=testid
            on:click=move |_| {
                if value == Show::Unassigned {
                    cadre.set(String::new());
                }
                show.set(value)
            }
        >
            {move || tr(lang.get(), vi, en)}
        </button>
    }
}
