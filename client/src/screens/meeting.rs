//! The village meeting on a household's review (village head, offline): the day, how many
//! attended and how many agreed with the proposed result. The result is valid only when at
//! least half agreed; the form says so as the numbers are typed. Saved on the phone first,
//! it reaches the commune at the next sync; posting the result is one more tap.

use super::{date, say, today};
use crate::engine::use_engine;
use crate::route::Route;
use crate::text::{tr, use_lang};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::doc::Collection;
use shared::projection::step_json;
use shared::review::{Progress, ReviewStep, StepData, meeting_valid};

#[component]
pub fn Meeting(id: String) -> impl IntoView {
    let lang = use_lang();
    let engine = use_engine();
    let back = Route::Household(id.clone()).href();
    // The open review: the latest without a decision.
    let steps = StoredValue::new(
        engine
            .household(&id)
            .map(|r| r.review_steps.clone())
            .unwrap_or_default(),
    );
    let open = engine.household(&id).and_then(|r| {
        let steps = r.review_steps.clone();
        let mut reviews = r.assessments.clone();
        reviews.sort_by_key(|a| a.date);
        reviews
            .into_iter()
            .rev()
            .find(|a| Progress::of(&a.id, &steps).decision.is_none())
    });
    let Some(review) = open else {
        return view! {
            <section class="card">
                <p>{move || tr(lang.get(), "Hộ chưa có lần rà soát nào đang chờ họp thôn.", "The household has no review waiting for the village meeting.")}</p>
                <a class="button secondary" href=back>{move || tr(lang.get(), "← Quay lại", "← Back")}</a>
            </section>
        }
        .into_any();
    };
    let day = RwSignal::new(today().to_string());
    let attendees = RwSignal::new(String::new());
    let agreed = RwSignal::new(String::new());
    let errors = RwSignal::new(Vec::<shared::FieldError>::new());
    let saving = RwSignal::new(false);
    let numbers = move || -> Option<(u32, u32)> {
        Some((
            attendees.get().trim().parse().ok()?,
            agreed.get().trim().parse().ok()?,
        ))
    };
    let household_id = id.clone();
    let review_id = review.id.clone();
    let review_date = review.date;
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get() {
            return;
        }
        let Some((n, a)) = numbers() else {
            errors.set(vec![shared::FieldError {
                field: "attendees".into(),
                code: "required".into(),
                message: shared::Text::new(
                    "Nhập số người dự họp và số người đồng ý.",
                    "Enter how many attended and how many agreed.",
                ),
            }]);
            return;
        };
        let Ok(on) = day.get().parse() else {
            return;
        };
        let engine = use_engine();
        let step = ReviewStep {
            id: super::new_id(),
            household_id: household_id.clone(),
            review_id: Some(review_id.clone()),
            date: on,
            by: engine.user.id.clone(),
            data: StepData::Meeting {
                attendees: n,
                agreed: a,
            },
        };
        // The same checks as the server's: the step on its own, then its dates in the
        // law's order against the review and the household's other steps on this phone.
        let mut problems = step.validate().err().unwrap_or_default();
        if let Err(e) = step.dates_in_order(today(), Some(review_date), &steps.get_value()) {
            problems.0.extend(e.0);
        }
        if !problems.is_empty() {
            errors.set(problems.0);
            return;
        }
        errors.set(vec![]);
        saving.set(true);
        spawn_local(async move {
            let household_id = step.household_id.clone();
            let result = engine
                .edit(&household_id, |doc, author| {
                    doc.put_record(Collection::ReviewSteps, &step.id, &step_json(&step), author)
                })
                .await;
            saving.set(false);
            super::form::after_save(engine, household_id, result, errors);
        });
    };
    view! {
        <form class="card" data-testid="meeting-form" on:submit=save>
            <a class="back" href=back>{move || tr(lang.get(), "← Quay lại", "← Back")}</a>
            <h2>{move || tr(lang.get(), "Họp dân thôn", "Village meeting")}</h2>
            <p class="meta">
                {move || tr(lang.get(), "Kết quả rà soát ngày ", "Review of ")} {date(review.date)} ": "
                <strong>{say(review.classification.label())}</strong>
            </p>
            <label for="meeting-day">{move || tr(lang.get(), "Ngày họp", "Meeting day")}</label>
            <input id="meeting-day" type="date" data-testid="meeting-day" bind:value=day />
            {super::form::error_for(errors, "date")}
            <label for="attendees">{move || tr(lang.get(), "Số người dự họp", "People present")}</label>
            <input id="attendees" inputmode="numeric" data-testid="attendees" bind:value=attendees />
            {super::form::error_for(errors, "attendees")}
            <label for="agreed">{move || tr(lang.get(), "Số người đồng ý với kết quả", "People who agreed with the result")}</label>
            <input id="agreed" inputmode="numeric" data-testid="agreed" bind:value=agreed />
            {super::form::error_for(errors, "agreed")}
            {super::form::error_for(errors, "")}
            <p aria-live="polite" data-testid="meeting-verdict">
                {move || numbers().map(|(n, a)| if a > n {
                    // An impossible count is said as such, not judged against the 50%.
                    tr(lang.get(), "Số người đồng ý không thể nhiều hơn số người dự họp.", "More cannot agree than were present.")
                } else if meeting_valid(n, a) {
                    tr(lang.get(), "Đạt: từ 50% số người dự họp đồng ý.", "Valid: at least half of those present agreed.")
                } else {
                    tr(lang.get(), "Chưa đạt: dưới 50% đồng ý, kết quả chưa được công nhận.", "Not valid: fewer than half agreed; the result cannot be decided.")
                })}
            </p>
            <button type="submit" class="primary" data-testid="save-meeting" disabled=move || saving.get()>
                {move || tr(lang.get(), "Lưu trên máy", "Save on this phone")}
            </button>
        </form>
    }
    .into_any()
}
