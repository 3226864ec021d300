//! Noting progress on one item of a household's plan (a cause, its solution, who carries it
//! and by when): the cadre who accompanies the household writes what has moved and marks
//! the item done. Saved on the phone first; only the note and the status change, so a
//! concurrent edit of another field never conflicts with it.

use super::{date, say, today};
use crate::engine::use_engine;
use crate::route::Route;
use crate::text::{tr, use_lang};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::Validate;
use shared::doc::Collection;
use shared::plan::{PlanItem, PlanStatus};
use shared::projection::plan_json;

#[component]
pub fn PlanProgress(household_id: String, item_id: String) -> impl IntoView {
    let lang = use_lang();
    let engine = use_engine();
    let item: Option<PlanItem> = engine
        .household(&household_id)
        .and_then(|r| r.plan.into_iter().find(|p| p.id == item_id));
    let back = Route::Household(household_id.clone()).href();
    let Some(item) = item else {
        return view! {
            <section class="card">
                <p>{move || tr(lang.get(), "Không tìm thấy mục kế hoạch này.", "This plan item was not found.")}</p>
                <a class="button secondary" href=back>{move || tr(lang.get(), "← Quay lại", "← Back")}</a>
            </section>
        }
        .into_any();
    };
    let note = RwSignal::new(item.data.progress_note.clone());
    let done = RwSignal::new(item.status == PlanStatus::Done);
    let errors = RwSignal::new(Vec::<shared::FieldError>::new());
    let saving = RwSignal::new(false);
    let overdue = item.status == PlanStatus::Open && item.data.due < today();
    let (solution, owner, due, cause) = (
        item.data.solution.clone(),
        item.data.owner.clone(),
        item.data.due,
        item.data.cause,
    );
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get() {
            return;
        }
        let mut next = item.clone();
        next.data.progress_note = note.get().trim().to_string();
        next.status = match (done.get(), item.status) {
            (true, _) => PlanStatus::Done,
            (false, PlanStatus::Done) => PlanStatus::Open,
            (false, other) => other,
        };
        if let Err(e) = next.data.validate() {
            errors.set(e.0);
            return;
        }
        errors.set(vec![]);
        saving.set(true);
        let engine = use_engine();
        spawn_local(async move {
            let household_id = next.household_id.clone();
            let result = engine
                .edit(&household_id, |doc, author| {
                    doc.put_record(Collection::Plan, &next.id, &plan_json(&next), author)
                })
                .await;
            saving.set(false);
            super::form::after_save(engine, household_id, result, errors);
        });
    };
    view! {
        <form class="card" data-testid="plan-form" on:submit=save>
            <a class="back" href=back>{move || tr(lang.get(), "← Quay lại", "← Back")}</a>
            <h2>{move || tr(lang.get(), "Tiến độ kế hoạch", "Plan progress")}</h2>
            <p><strong>{solution}</strong></p>
            <p class="meta">
                {say(cause.label())} " · " {owner} " · "
                {move || tr(lang.get(), "hạn ", "due ")} {date(due)}
            </p>
            {overdue.then(|| view! {
                <p class="overdue-note">{move || tr(lang.get(), "Đã quá hạn", "Past its due date")}</p>
            })}
            <label for="progress-note">{move || tr(lang.get(), "Đã làm được gì", "What has moved")}</label>
            <textarea id="progress-note" data-testid="progress-note" rows="4" bind:value=note></textarea>
            {super::form::error_for(errors, "progress_note")}
            {super::form::error_for(errors, "")}
            <label class="check">
                <input type="checkbox" data-testid="plan-done" bind:checked=done />
                {move || tr(lang.get(), "Đã hoàn thành", "Done")}
            </label>
            <button type="submit" class="primary" data-testid="save-plan" disabled=move || saving.get()>
                {move || tr(lang.get(), "Lưu trên máy", "Save on this phone")}
            </button>
        </form>
    }
    .into_any()
}
