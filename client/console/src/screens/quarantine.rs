//! Changes the server refused from a phone (a role writing where it may not, a household
//! out of scope), kept whole and never applied until the officer accepts them — then they
//! are written again through the same gate as the officer's own change — or rejects them.

use super::{Outcome, Problem, load, send, user_name, users, when};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::QuarantineRecord;
use ui::api::{ClientError, Method};
use ui::text::{tr, use_lang};

#[component]
pub fn Quarantine() -> impl IntoView {
    let lang = use_lang();
    let reload = RwSignal::new(0u32);
    let outcome = RwSignal::new(None::<Result<String, ClientError>>);
    let users = users();
    let list = load::<Vec<QuarantineRecord>>(move || {
        reload.track();
        "/quarantine".to_string()
    });
    let decide = move |id: String, accept: bool| {
        spawn_local(async move {
            let verb = if accept { "accept" } else { "reject" };
            let r = send::<serde_json::Value>(
                Method::Post,
                &format!("/quarantine/{id}/{verb}"),
                &serde_json::json!({}),
            )
            .await;
            outcome.set(Some(r.map(|_| {
                let l = lang.get_untracked();
                if accept {
                    tr(
                        l,
                        "Đã nhận thay đổi vào hồ sơ hộ.",
                        "The changes were taken into the household.",
                    )
                } else {
                    tr(l, "Đã từ chối thay đổi.", "The changes were rejected.")
                }
                .to_string()
            })));
            reload.update(|n| *n += 1);
        });
    };
    view! {
        <section class="card">
            <Outcome outcome=outcome />
            <Suspense fallback=|| ()>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <Problem error=e /> }.into_any(),
                    Ok(qs) if qs.is_empty() => view! {
                        <p data-testid="no-quarantine">{move || tr(lang.get(), "Không có thay đổi nào bị giữ lại.", "Nothing is held back.")}</p>
                    }.into_any(),
                    Ok(qs) => view! {
                        <table data-testid="quarantine-table">
                            <thead><tr>
                                <th>{move || tr(lang.get(), "Thời gian", "When")}</th>
                                <th>{move || tr(lang.get(), "Người gửi · thiết bị", "Sent by · device")}</th>
                                <th>{move || tr(lang.get(), "Hộ", "Household")}</th>
                                <th>{move || tr(lang.get(), "Lý do", "Reason")}</th>
                                <th class="num">"bytes"</th>
                                <th>{move || tr(lang.get(), "Quyết định", "Decision")}</th>
                            </tr></thead>
                            <tbody>
                                {qs.into_iter().map(|q| {
                                    let user = q.user_id.clone();
                                    let reason = q.reason.clone();
                                    let (a, b) = (q.id.clone(), q.id.clone());
                                    view! {
                                        <tr data-testid="quarantined">
                                            <td>{when(q.at)}</td>
                                            <td>{move || user_name(&users, Some(&user))} <br /> <small>{q.device_id.clone()}</small></td>
                                            <td>{q.household_id.clone()}</td>
                                            <td>{move || reason.get(lang.get()).to_string()}</td>
                                            <td class="num">{q.bytes}</td>
                                            <td>
                                                {match q.decision.clone() {
                                                    Some(d) => view! { <span data-testid="decision">{d} " · " {q.decided_at.map(when).unwrap_or_default()}</span> }.into_any(),
                                                    None => view! {
                                                        <button class="primary" data-testid="accept" on:click=move |_| decide(a.clone(), true)>
                                                            {move || tr(lang.get(), "Nhận", "Accept")}
                                                        </button>
                                                        <button class="secondary" data-testid="reject" on:click=move |_| decide(b.clone(), false)>
                                                            {move || tr(lang.get(), "Từ chối", "Reject")}
                                                        </button>
                                                    }.into_any(),
                                                }}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
