//! The conflict queue: a field two phones changed at once, the competing values side by
//! side with who wrote them on which device and when; the officer picks one or writes
//! another, and every phone converges on the decision at its next sync. With "decided"
//! the history shows who decided what.

use super::{Outcome, Problem, load, param, send, user_name, users, village_name, villages, when};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use shared::api::ConflictRecord;
use std::collections::BTreeMap;
use ui::api::{ClientError, Method};
use ui::text::{Lang, tr, use_lang};

/// The household behind a conflict, as the queue names it.
#[derive(Debug, Clone, serde::Deserialize)]
struct HouseholdDetail {
    household: shared::household::Household,
}

fn field_label(path: &[String], lang: Lang) -> String {
    let last = path.last().map(String::as_str).unwrap_or_default();
    let name = match last {
        "head_name" => tr(lang, "Tên chủ hộ", "Head's name"),
        "address" => tr(lang, "Địa chỉ", "Address"),
        "code" => tr(lang, "Mã hộ", "Household code"),
        "full_name" => tr(lang, "Họ tên thành viên", "Member's name"),
        "birth_year" => tr(lang, "Năm sinh", "Birth year"),
        "progress_note" => tr(lang, "Ghi chú tiến độ", "Progress note"),
        "status" => tr(lang, "Trạng thái", "Status"),
        _ => last,
    };
    format!("{name} ({})", path.join("/"))
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

#[component]
pub fn Conflicts() -> impl IntoView {
    let lang = use_lang();
    let village = RwSignal::new(String::new());
    let field = RwSignal::new(String::new());
    let min_age = RwSignal::new(String::new());
    let decided = RwSignal::new(false);
    let reload = RwSignal::new(0u32);
    let outcome = RwSignal::new(None::<Result<String, ClientError>>);
    let vs = villages();
    let users = users();
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
    let resolve = move |id: String, value: Value| {
        spawn_local(async move {
            let r = send::<ConflictRecord>(
                Method::Post,
                &format!("/conflicts/{id}/resolve"),
                &serde_json::json!({ "value": value }),
            )
            .await;
            outcome.set(Some(r.map(|_| {
                tr(
                    lang.get_untracked(),
                    "Đã quyết định; các điện thoại nhận giá trị này ở lần đồng bộ tới.",
                    "Decided; the phones get this value at their next sync.",
                )
                .to_string()
            })));
            reload.update(|n| *n += 1);
        });
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
                <input data-testid="field-filter" placeholder=move || tr(lang.get(), "Trường (vd. head_name)", "Field (e.g. head_name)") bind:value=field />
                <input type="number" min="0" class="short" data-testid="age-filter" placeholder=move || tr(lang.get(), "Tối thiểu ngày", "Min. days open") bind:value=min_age />
                <label class="check">
                    <input type="checkbox" data-testid="show-decided" on:change=move |ev| decided.set(event_target_checked(&ev)) />
                    {move || tr(lang.get(), "Gồm cả đã quyết định (lịch sử)", "Include decided (history)")}
                </label>
            </div>
            <Outcome outcome=outcome />
            <Suspense fallback=|| ()>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <Problem error=e /> }.into_any(),
                    Ok(cs) if cs.is_empty() => view! {
                        <p data-testid="no-conflicts">{move || tr(lang.get(), "Không có xung đột nào.", "No conflicts.")}</p>
                    }.into_any(),
                    Ok(cs) => cs.into_iter().map(|c| {
                        let hid = c.household_id.clone();
                        let path = c.path.clone();
                        let open = c.resolved_at.is_none();
                        let numeric = c.candidates.iter().all(|v| v.value.is_number());
                        let other = RwSignal::new(String::new());
                        let cid = c.id.clone();
                        view! {
                            <article class="conflict" data-testid="conflict">
                                <h3>
                                    {move || households.get().and_then(|h| h.get(&hid).cloned()).map(|h| {
                                        format!("{} · {} · {}", h.code, h.head_name, village_name(&vs.get(), &h.village_id))
                                    }).unwrap_or_else(|| hid.clone())}
                                </h3>
                                <p>
                                    {move || field_label(&path, lang.get())}
                                    " · "
                                    {move || tr(lang.get(), "mở từ", "open since")}
                                    " "
                                    {when(c.opened_at)}
                                </p>
                                <div class="candidates">
                                    {c.candidates.into_iter().map(|v| {
                                        let value = v.value.clone();
                                        let id = cid.clone();
                                        view! {
                                            <div class="candidate" data-testid="candidate">
                                                <p class="value" data-testid="candidate-value">{shown(&v.value)}</p>
                                                <p class="meta">
                                                    {move || user_name(&users, v.user_id.as_deref())}<br />
                                                    {move || tr(lang.get(), "Thiết bị", "Device")} " " {v.device_id.clone().unwrap_or_default()}<br />
                                                    {when(v.at_ms)}
                                                </p>
                                                {open.then(|| view! {
                                                    <button class="primary" data-testid="pick"
                                                        on:click=move |_| resolve(id.clone(), value.clone())>
                                                        {move || tr(lang.get(), "Chọn giá trị này", "Keep this value")}
                                                    </button>
                                                })}
                                            </div>
                                        }
                                    }).collect_view()}
                                </div>
                                {if open {
                                    let id = cid.clone();
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
                                                    resolve(id.clone(), v)
                                                }>
                                                {move || tr(lang.get(), "Dùng giá trị này", "Use this value")}
                                            </button>
                                        </div>
                                    }.into_any()
                                } else {
                                    let by = c.resolved_by.clone();
                                    view! {
                                        <p class="decided" data-testid="decided">
                                            {move || tr(lang.get(), "Đã quyết định bởi", "Decided by")} " "
                                            {move || user_name(&users, by.as_deref())} " · " {c.resolved_at.map(when).unwrap_or_default()}
                                        </p>
                                    }.into_any()
                                }}
                            </article>
                        }
                    }).collect_view().into_any(),
                })}
            </Suspense>
        </section>
    }
}
