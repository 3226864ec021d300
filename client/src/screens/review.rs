//! The review form (village head): income or the B1 score, the 12 indicators or the B2
//! score. The classification and its reasons appear as the person fills the form, offline,
//! from the same rule set the server uses.

use super::{say, today};
use crate::engine::use_engine;
use crate::route::{Route, go};
use crate::text::{tr, use_lang};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::FieldError;
use shared::assessment::{Assessment, ReviewKind};
use shared::doc::Collection;
use shared::projection::assessment_json;
use shared::review;
use shared::rules::{DeprivationEvidence, Evidence, IncomeEvidence, RuleBook, classify};
use std::collections::BTreeSet;

#[component]
pub fn Review(id: String) -> impl IntoView {
    let lang = use_lang();
    let engine = use_engine();
    let Some(records) = engine.household(&id) else {
        return view! { <p class="card">{move || tr(lang.get(), "Hộ này không có trên máy.", "This household is not on this phone.")}</p> }.into_any();
    };
    let household = records.household.clone();
    let day = today();
    // Within 1 September – 14 December the yearly review, which decides the next year's
    // households under that year's standard; otherwise a review on the household's request.
    let kind = if review::in_campaign(day) {
        ReviewKind::Annual
    } else {
        ReviewKind::AdHoc
    };
    let Some(rules) = review::rule_set_for(&RuleBook::built_in(), kind, day).cloned() else {
        return view! { <p class="error">{move || tr(lang.get(), "Chưa có bộ tiêu chí cho ngày hôm nay.", "No rule set is in force today.")}</p> }.into_any();
    };
    let by_b1 = RwSignal::new(false);
    let income = RwSignal::new(String::new());
    let b1 = RwSignal::new(String::new());
    let by_b2 = RwSignal::new(false);
    let b2 = RwSignal::new(String::new());
    let deprived = RwSignal::new(BTreeSet::<String>::new());
    let saving = RwSignal::new(false);
    let saved_error = RwSignal::new(None::<shared::Text>);
    let residence = household.residence;
    // The evidence as typed: `None` while the income (or B1 score) is still empty, the
    // problems of what is typed otherwise, each named by the field it belongs to.
    let evidence = move || -> Option<Result<Evidence, Vec<FieldError>>> {
        let mut problems = Vec::new();
        let not_a_number = |field: &str, vi: &'static str, en: &'static str| FieldError {
            field: field.into(),
            code: "number".into(),
            message: shared::Text::new(vi, en),
        };
        let income = if by_b1.get() {
            let t = b1.get();
            if t.trim().is_empty() {
                return None;
            }
            t.trim()
                .parse()
                .map(|score| IncomeEvidence::B1 { score })
                .map_err(|_| {
                    problems.push(not_a_number(
                        "income.score",
                        "Điểm B1 là số nguyên không âm, ví dụ 120.",
                        "The B1 score is a whole number, 0 or more, e.g. 120.",
                    ));
                })
                .ok()
        } else {
            match ui::text::parse_amount(&income.get()) {
                None => return None,
                Some(Ok(n)) => Some(IncomeEvidence::Income {
                    per_person_month: n,
                }),
                Some(Err(())) => {
                    problems.push(not_a_number(
                        "income.per_person_month",
                        "Thu nhập là số đồng, ví dụ 1.500.000.",
                        "Income is a number of đồng, e.g. 1.500.000.",
                    ));
                    None
                }
            }
        };
        let deprivation = if by_b2.get() {
            b2.get()
                .trim()
                .parse()
                .map(|score| DeprivationEvidence::B2 { score })
                .map_err(|_| {
                    problems.push(not_a_number(
                        "deprivation.score",
                        "Điểm B2 là số nguyên không âm, ví dụ 20.",
                        "The B2 score is a whole number, 0 or more, e.g. 20.",
                    ));
                })
                .ok()
        } else {
            Some(DeprivationEvidence::Indicators {
                deprived: deprived.get().into_iter().collect(),
            })
        };
        Some(match (income, deprivation) {
            (Some(income), Some(deprivation)) if problems.is_empty() => Ok(Evidence {
                residence,
                income,
                deprivation,
            }),
            _ => Err(problems),
        })
    };
    let outcome_rules = rules.clone();
    // The result, or every problem: the shared rule engine's own checks (negative income,
    // scores beyond their scale) come with the typing ones.
    let outcome = Memo::new(move |_| {
        evidence().map(|ev| {
            ev.and_then(|ev| {
                classify(&outcome_rules, &ev)
                    .map(|o| (ev, o))
                    .map_err(|e| e.0)
            })
        })
    });
    // Problems show beside their fields once the person tried to save, or as they type a
    // value that cannot be right.
    let tried = RwSignal::new(false);
    let problem = move |field: &'static str| {
        move || {
            outcome.with(|o| match o {
                Some(Err(e)) => e
                    .iter()
                    .find(|f| f.field == field)
                    .map(|f| view! { <p class="error" role="alert" data-testid=format!("error-{}", field.replace('.', "-"))>{say(f.message.clone())}</p> }),
                None if tried.get() && (field == "income.per_person_month" || field == "income.score") => Some(view! {
                    <p class="error" role="alert" data-testid=format!("error-{}", field.replace('.', "-"))>
                        {say(shared::Text::new("Chưa nhập; cần để phân loại hộ.", "Not filled in; the classification needs it."))}
                    </p>
                }),
                _ => None,
            })
        }
    };
    let household_id = id.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        tried.set(true);
        let Some(Ok((evidence, out))) = outcome.get() else {
            super::form::reveal_errors();
            return;
        };
        saving.set(true);
        let engine = use_engine();
        let household_id = household_id.clone();
        spawn_local(async move {
            let a = Assessment {
                id: web_sys::window()
                    .and_then(|w| w.crypto().ok())
                    .map(|c| c.random_uuid())
                    .unwrap_or_default(),
                household_id: household_id.clone(),
                kind,
                date: day,
                evidence,
                classification: out.classification,
                explanation: out.explanation,
            };
            let result = engine
                .edit(&household_id, |doc, author| {
                    doc.put_record(Collection::Assessments, &a.id, &assessment_json(&a), author)
                })
                .await;
            saving.set(false);
            match result {
                Ok(()) => {
                    super::form::saved(&engine);
                    go(&Route::Household(household_id));
                    spawn_local(engine.sync());
                }
                Err(e) => saved_error.set(Some(e)),
            }
        });
    };
    let indicators = rules.indicators.clone();
    let line = StoredValue::new(super::vnd(rules.income_line.get(residence)));
    view! {
        <form class="card" data-testid="review-form" on:submit=save>
            <a class="back" href=Route::Household(id.clone()).href()>{move || tr(lang.get(), "← Quay lại", "← Back")}</a>
            <h2>{move || tr(lang.get(), "Rà soát hộ", "Review")} ": " {household.head_name.clone()}</h2>
            <p class="meta">{say(rules.title.clone())}</p>
            {rules.provisional.iter().map(|t| view! { <p class="meta provisional" data-testid="provisional">"⚠ " {say(t.clone())}</p> }).collect_view()}
            <p class="meta">{move || tr(lang.get(), "Kết quả là đề xuất: diện hộ chỉ đổi khi xã ra quyết định sau họp thôn và niêm yết.", "The result is a proposal: the household's status changes only by the commune's decision after the village meeting and posting.")}</p>
            <fieldset>
                <legend>{move || tr(lang.get(), "Thu nhập", "Income")}</legend>
                <label class="check">
                    <input type="checkbox" data-testid="use-b1" bind:checked=by_b1 />
                    {move || tr(lang.get(), "Chấm điểm theo phiếu B1", "Score with form B1")}
                </label>
                {move || if by_b1.get() {
                    view! {
                        <label for="b1">{move || tr(lang.get(), "Điểm B1", "B1 score")}</label>
                        <input id="b1" inputmode="numeric" data-testid="b1" bind:value=b1 />
                        {problem("income.score")}
                    }.into_any()
                } else {
                    view! {
                        <label for="income">{move || format!("{} ({} {})", tr(lang.get(), "Thu nhập bình quân người/tháng, đồng", "Income per person per month, VND"), tr(lang.get(), "chuẩn nghèo", "poverty line"), line.get_value())}</label>
                        <input id="income" inputmode="numeric" data-testid="income" bind:value=income
                            on:change=move |ev| income.set(ui::text::group_amount(&event_target_value(&ev))) />
                        {problem("income.per_person_month")}
                    }.into_any()
                }}
            </fieldset>
            <fieldset>
                <legend>{move || tr(lang.get(), "Thiếu hụt dịch vụ xã hội cơ bản", "Deprivations")}</legend>
                <label class="check">
                    <input type="checkbox" data-testid="use-b2" bind:checked=by_b2 />
                    {move || tr(lang.get(), "Chấm điểm theo phiếu B2", "Score with form B2")}
                </label>
                {move || if by_b2.get() {
                    view! {
                        <label for="b2">{move || tr(lang.get(), "Điểm B2", "B2 score")}</label>
                        <input id="b2" inputmode="numeric" data-testid="b2" bind:value=b2 />
                        {problem("deprivation.score")}
                    }.into_any()
                } else {
                    indicators.iter().map(|i| {
                        let code = i.code.clone();
                        let code2 = i.code.clone();
                        view! {
                            <label class="check">
                                <input
                                    type="checkbox"
                                    data-testid=format!("indicator-{}", i.code)
                                    prop:checked=move || deprived.with(|d| d.contains(&code))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        let code = code2.clone();
                                        deprived.update(|d| { if on { d.insert(code); } else { d.remove(&code); } });
                                    }
                                />
                                {i.number} ". " {say(i.name.clone())}
                            </label>
                        }
                    }).collect_view().into_any()
                }}
            </fieldset>
            <details class="outcome" data-testid="outcome" aria-live="polite" open=true>
                {move || match outcome.get() {
                    None => view! {
                        <summary data-testid="outcome-prompt">{move || if by_b1.get() {
                            tr(lang.get(), "Nhập điểm B1 để thấy kết quả.", "Enter the B1 score to see the result.")
                        } else {
                            tr(lang.get(), "Nhập thu nhập để thấy kết quả.", "Enter the income to see the result.")
                        }}</summary>
                    }.into_any(),
                    Some(Err(_)) => view! {
                        <summary class="error" data-testid="outcome-invalid">{move || tr(lang.get(), "Chưa phân loại được: sửa các ô báo lỗi.", "Cannot classify yet: correct the fields marked.")}</summary>
                    }.into_any(),
                    Some(Ok((_, o))) => view! {
                        <summary class="result" data-testid="classification-result">{say(o.classification.label())}</summary>
                        <ul>{o.explanation.reasons.into_iter().map(|t| view! { <li>{say(t)}</li> }).collect_view()}</ul>
                    }.into_any(),
                }}
            </details>
            {move || saved_error.get().map(|e| view! { <p class="error" role="alert">{say(e)}</p> })}
            <button type="submit" class="primary" data-testid="save-review" disabled=move || saving.get()>
                {move || tr(lang.get(), "Lưu kết quả rà soát", "Save the review")}
            </button>
        </form>
    }
    .into_any()
}
