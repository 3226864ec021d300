//! The conflict queue: a field two phones changed at once, by its label, the competing
//! values side by side with the person and the device that wrote each and when ("two
//! devices of the same person" said as such); the officer picks one or writes another,
//! confirms, and may change it for a few minutes; every phone converges on the decision
//! at its next sync. The queue looks again by itself every half minute; with "decided" it
//! shows the value chosen and the ones it replaced.

use super::{
    Ask, Confirm, Outcome, Problem, Undo, UndoOffer, load, param, say, send, village_name,
    villages, when,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use shared::api::ConflictRecord;
use shared::history::field_label;
use std::collections::{BTreeMap, BTreeSet};
use ui::api::{ClientError, Method};
use ui::text::{Lang, tr, use_lang};

/// The household behind a conflict, as the queue names it.
#[derive(Debug, Clone, serde::Deserialize)]
struct HouseholdDetail {
    household: shared::household::Household,
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        Value::Bool(true) => "có".into(),
        Value::Bool(false) => "không".into(),
        other => other.to_string(),
    }
}

/// Seconds between two looks at the queue while it is open.
const REFRESH_SECONDS: u64 = 30;

#[component]
pub fn Conflicts() -> impl IntoView {
    let lang = use_lang();
    let village = RwSignal::new(String::new());
    let field = RwSignal::new(String::new());
    let min_age = RwSignal::new(String::new());
    let decided = RwSignal::new(false);
    let reload = RwSignal::new(0u32);
    let outcome = RwSignal::new(None::<Result<String, ClientError>>);
    let ask = RwSignal::new(None::<Ask>);
    let undo = RwSignal::new(None::<UndoOffer>);
    // A decision the officer reopened to change it (within the server's few minutes).
    let redo = RwSignal::new(None::<String>);
    let me = ui::session::load().map(|p| p.user.id).unwrap_or_default();
    let vs = villages();
    // The queue looks again by itself: new conflicts arrive as phones sync.
    let ticking = set_interval_with_handle(
        move || reload.update(|n| *n += 1),
        std::time::Duration::from_secs(REFRESH_SECONDS),
    );
    on_cleanup(move || {
        if let Ok(t) = ticking {
            t.clear();
        }
    });
    let list = load::<Vec<ConflictRecord>>(move || {
        reload.track();
        let mut p = format!("/conflicts?all={}", decided.get());
        if !village.get().is_empty() {
            p.push_str(&param("village_id", &village.get()));
        }
        if !field.get().trim().is_empty() {
            p.push_str(&param("field", field.get().trim()));
        }
        if let Ok(d) = min_age.get().trim().parse::<i64>() {
            p.push_str(&format!("&min_age_days={}", d.max(0)));
        }
        p
    });
    // The households the listed conflicts belong to, for their code and head's name.
    let households = LocalResource::new(move || {
        let ids: Vec<String> = list
            .get()
            .and_then(|r| r.ok())
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.household_id)
            .collect();
        async move {
            let mut out = BTreeMap::new();
            for id in ids {
                if out.contains_key(&id) {
                    continue;
                }
                if let Ok(d) = ui::api::authed::<HouseholdDetail>(
                    Method::Get,
                    &format!("/households/{id}"),
                    None::<&()>,
                )
                .await
                {
                    out.insert(id, d.household);
                }
            }
            out
        }
    });
    let name_of = move |hid: &str| {
        households
            .get()
            .and_then(|h| h.get(hid).cloned())
            .map(|h| format!("{} · {}", h.code, h.head_name))
            .unwrap_or_else(|| hid.to_string())
    };
    let resolve = move |id: String, value: Value, what: String| {
        spawn_local(async move {
            let r = send::<ConflictRecord>(
                Method::Post,
                &format!("/conflicts/{id}/resolve"),
                &serde_json::json!({ "value": value }),
            )
            .await;
            let l = lang.get_untracked();
            match r {
                Ok(_) => {
                    outcome.set(None);
                    redo.set(None);
                    undo.set(Some(UndoOffer {
                        done: format!(
                            "{} {what}. {}",
                            tr(l, "Đã quyết định:", "Decided:"),
                            tr(
                                l,
                                "Các điện thoại nhận giá trị này ở lần đồng bộ tới.",
                                "The phones get this value at their next sync."
                            )
                        ),
                        run: Callback::new(move |_| {
                            decided.set(true);
                            redo.set(Some(id.clone()));
                        }),
                    }));
                }
                Err(e) => outcome.set(Some(Err(e))),
            }
            reload.update(|n| *n += 1);
        });
    };
    // Picking a value says back what changes for whom before it is written.
    let pick = move |c: ConflictRecord, value: Value| {
        let l = lang.get_untracked();
        let label = field_label(&c.path).get(l).to_string();
        let household = name_of(&c.household_id);
        let mut lines = vec![format!(
            "{label} {} {household}: {}",
            tr(l, "của hộ", "of"),
            shown(&value)
        )];
        for v in c.candidates.iter().filter(|v| v.value != value) {
            lines.push(format!(
                "{} {} ({})",
                tr(l, "Giá trị bị thay:", "Replaced:"),
                shown(&v.value),
                writer(&c, v, l)
            ));
        }
        lines.push(
            tr(
                l,
                "Trong 10 phút, bạn có thể đổi lại quyết định này.",
                "For 10 minutes you can change this decision.",
            )
            .to_string(),
        );
        let what = format!("{label} · {household} = {}", shown(&value));
        let id = c.id.clone();
        ask.set(Some(Ask {
            title: format!("{} {label}?", tr(l, "Chọn giá trị cho", "Decide")),
            lines,
            yes: tr(l, "Xác nhận", "Confirm").to_string(),
            run: Callback::new(move |_| resolve(id.clone(), value.clone(), what.clone())),
        }));
    };
    view! {
        <section class="card">
            <div class="filters">
                <select data-testid="village-filter" on:change=move |ev| village.set(event_target_value(&ev))>
                    <option value="">{move || tr(lang.get(), "Mọi thôn", "Every village")}</option>
                    {move || vs.get().and_then(|r| r.ok()).unwrap_or_default().into_iter().map(|v| {
                        view! { <option value=v.id.clone()>{v.name.clone()}</option> }
                    }).collect_view()}
                </select>
                <select data-testid="field-filter" on:change=move |ev| field.set(event_target_value(&ev))>
                    <option value="">{move || tr(lang.get(), "Mọi trường thông tin", "Every field")}</option>
                    {FIELDS.into_iter().map(|f| view! {
                        <option value=f selected=move || field.get() == f>{move || field_label(&[f.to_string()]).get(lang.get()).to_string()}</option>
                    }).collect_view()}
                </select>
                <label class="check">
                    {move || tr(lang.get(), "Mở ít nhất", "Open at least")}
                    <input type="number" min="0" class="short" data-testid="age-filter" bind:value=min_age />
                    {move || tr(lang.get(), "ngày", "days")}
                </label>
                <label class="check">
                    <input type="checkbox" data-testid="show-decided" prop:checked=decided on:change=move |ev| decided.set(event_target_checked(&ev)) />
                    {move || tr(lang.get(), "Gồm cả đã quyết định", "Include decided")}
                </label>
            </div>
            <Outcome outcome=outcome />
            <Undo offer=undo />
            <Confirm ask=ask />
            <Transition fallback=|| ()>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <Problem error=e /> }.into_any(),
                    Ok(cs) if cs.is_empty() => view! {
                        <p data-testid="no-conflicts">{move || tr(lang.get(), "Không có xung đột nào.", "No conflicts.")}</p>
                    }.into_any(),
                    Ok(cs) => cs.into_iter().map(|c| {
                        let hid = c.household_id.clone();
                        let label = field_label(&c.path);
                        let mine_recent = c.resolved_by.as_deref() == Some(me.as_str()) && c.resolution.is_some();
                        let cid = c.id.clone();
                        let open = c.resolved_at.is_none() || redo.get().as_deref() == Some(cid.as_str()) && mine_recent;
                        let numeric = c.candidates.iter().all(|v| v.value.is_number());
                        let other = RwSignal::new(String::new());
                        let people: BTreeSet<&str> = c.candidates.iter().filter_map(|v| v.user_id.as_deref()).collect();
                        let same_person = (people.len() == 1 && c.candidates.len() > 1)
                            .then(|| c.writers.first().map(|w| w.user_name.clone()).unwrap_or_default());
                        let record = c.clone();
                        view! {
                            <article class="conflict" data-testid="conflict">
                                <h3>
                                    <span data-testid="conflict-field">{say(label.clone())}</span>
                                    " · "
                                    {move || households.get().and_then(|h| h.get(&hid).cloned()).map(|h| {
                                        format!("{} · {} · {}", h.code, h.head_name, village_name(&vs.get(), &h.village_id))
                                    }).unwrap_or_else(|| hid.clone())}
                                </h3>
                                <p class="meta">
                                    {move || tr(lang.get(), "Mở từ", "Open since")} " " {when(c.opened_at)}
                                </p>
                                {same_person.map(|name| view! {
                                    <p class="warning" data-testid="same-person">{move || format!("{} {name} {}", tr(lang.get(), "Cả hai giá trị đều do", "Both values were written by"), tr(lang.get(), "nhập trên hai máy khác nhau: hãy hỏi người đó giá trị nào đúng.", "on two devices: ask them which is right."))}</p>
                                })}
                                <div class="candidates">
                                    {c.candidates.iter().map(|v| {
                                        let value = v.value.clone();
                                        let chosen = c.resolution.as_ref() == Some(&v.value);
                                        let overridden = c.resolution.is_some() && !chosen;
                                        let by = writer(&record, v, Lang::Vi);
                                        let by_en = writer(&record, v, Lang::En);
                                        let rec = record.clone();
                                        view! {
                                            <div class="candidate" data-testid="candidate" class:chosen=chosen class:overridden=overridden>
                                                <p class="value" data-testid="candidate-value">{shown(&v.value)}</p>
                                                <p class="meta" data-testid="candidate-by">
                                                    {move || if lang.get() == Lang::Vi { by.clone() } else { by_en.clone() }}<br />
                                                    {when(v.at_ms)}
                                                </p>
                                                {chosen.then(|| view! { <p data-testid="chosen"><strong>{move || tr(lang.get(), "✓ Giá trị đã chọn", "✓ The decided value")}</strong></p> })}
                                                {overridden.then(|| view! { <p class="meta" data-testid="overridden">{move || tr(lang.get(), "Giá trị bị thay", "Overridden")}</p> })}
                                                {(open && !chosen).then(|| view! {
                                                    <button class="primary" data-testid="pick"
                                                        on:click=move |_| pick(rec.clone(), value.clone())>
                                                        {move || tr(lang.get(), "Chọn giá trị này…", "Keep this value…")}
                                                    </button>
                                                })}
                                            </div>
                                        }
                                    }).collect_view()}
                                </div>
                                {if open {
                                    let rec = record.clone();
                                    view! {
                                        <div class="actions">
                                            <input data-testid="other-value" bind:value=other placeholder=move || tr(lang.get(), "Hoặc nhập giá trị khác", "Or write another value") />
                                            <button class="secondary" data-testid="write-other"
                                                disabled=move || other.get().trim().is_empty()
                                                on:click=move |_| {
                                                    let t = other.get().trim().to_string();
                                                    let v = if numeric {
                                                        t.parse::<f64>().map(|n| serde_json::json!(n)).unwrap_or(Value::String(t))
                                                    } else {
                                                        Value::String(t)
                                                    };
                                                    pick(rec.clone(), v)
                                                }>
                                                {move || tr(lang.get(), "Dùng giá trị này…", "Use this value…")}
                                            </button>
                                        </div>
                                    }.into_any()
                                } else {
                                    let by = c.resolved_by_name.clone().unwrap_or_else(|| "—".into());
                                    let value = c.resolution.as_ref().map(shown);
                                    view! {
                                        <p class="decided" data-testid="decided">
                                            {move || match &value {
                                                Some(v) => format!("{} {by}: {v}", tr(lang.get(), "Đã quyết định bởi", "Decided by")),
                                                None => format!("{} {by}", tr(lang.get(), "Đã đóng bởi một thay đổi sau của", "Closed by a later change of")),
                                            }}
                                            " · " {c.resolved_at.map(when).unwrap_or_default()}
                                        </p>
                                    }.into_any()
                                }}
                            </article>
                        }
                    }).collect_view().into_any(),
                })}
            </Transition>
        </section>
    }
}

/// The fields phones write most, for the filter.
const FIELDS: [&str; 8] = [
    "head_name",
    "address",
    "code",
    "full_name",
    "birth_year",
    "citizen_id",
    "relation",
    "progress_note",
];

/// "Lò Văn Pản · Chrome · Android · SM-A145F": who wrote a value on which device.
fn writer(c: &ConflictRecord, v: &shared::doc::ConflictValue, lang: Lang) -> String {
    let found = c.writers.iter().find(|w| {
        Some(&w.user_id) == v.user_id.as_ref() && Some(&w.device_id) == v.device_id.as_ref()
    });
    match found {
        Some(w) => format!("{} · {}", w.user_name, w.device_name),
        None => tr(lang, "Không rõ người ghi", "Unknown writer").to_string(),
    }
}
