//! Logging a visit (cadre): today's date and the next visit a month on are filled in,
//! common topics are one tap, so a typical visit takes seconds. Saved on the phone first.

use super::today;
use crate::engine::use_engine;
use crate::route::Route;
use crate::text::{tr, use_lang};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::doc::Collection;
use shared::projection::visit_json;
use shared::visit::{Visit, VisitInput};

/// One-tap topics, as cadres write them in the paper visit book.
const TOPICS: [(&str, &str); 6] = [
    ("Vay vốn sản xuất", "Production loan"),
    ("Chăn nuôi", "Livestock"),
    ("Trồng trọt", "Crops"),
    ("Học nghề, việc làm", "Training and jobs"),
    ("Bảo hiểm y tế", "Health insurance"),
    ("Cho con đi học", "Children's schooling"),
];

#[component]
pub fn LogVisit(id: String) -> impl IntoView {
    let lang = use_lang();
    let engine = use_engine();
    let name = engine
        .household(&id)
        .map(|r| r.household.head_name)
        .unwrap_or_default();
    let today = today();
    let day = RwSignal::new(today.to_string());
    let next = RwSignal::new((today + chrono::Duration::days(30)).to_string());
    let discussed = RwSignal::new(String::new());
    let progress = RwSignal::new(String::new());
    let needs = RwSignal::new(String::new());
    let errors = RwSignal::new(Vec::<shared::FieldError>::new());
    let saving = RwSignal::new(false);
    let household_id = id.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get() {
            return;
        }
        // Every problem at once, each beside its field, in the same words the server
        // would use (`VisitInput::validate_on`).
        let mut problems = shared::ValidationErrors::default();
        let mut date_of = |field: &str, text: String, required: bool| match text.trim() {
            "" if !required => None,
            t => t.parse().map_or_else(
                |_| {
                    problems.push(
                        field,
                        "date",
                        shared::Text::new("Chưa chọn ngày hợp lệ.", "Choose a valid date."),
                    );
                    None
                },
                Some,
            ),
        };
        let date = date_of("date", day.get(), true);
        let next_visit = date_of("next_visit", next.get(), false);
        let input = VisitInput {
            date: date.unwrap_or(today),
            discussed: discussed.get().trim().to_string(),
            progress: progress.get().trim().to_string(),
            needs: needs.get().trim().to_string(),
            next_visit,
        };
        if let Err(e) = input.validate_on(super::today()) {
            problems.0.extend(
                e.0.into_iter()
                    .filter(|f| date.is_some() || f.field != "next_visit"),
            );
        }
        if !problems.is_empty() {
            errors.set(problems.0);
            super::form::reveal_errors();
            return;
        }
        errors.set(vec![]);
        saving.set(true);
        let engine = use_engine();
        let household_id = household_id.clone();
        spawn_local(async move {
            let visit = Visit {
                id: super::new_id(),
                household_id: household_id.clone(),
                cadre_id: engine.user.id.clone(),
                data: input,
            };
            let result = engine
                .edit(&household_id, |doc, author| {
                    doc.put_record(Collection::Visits, &visit.id, &visit_json(&visit), author)
                })
                .await;
            saving.set(false);
            super::form::after_save(engine, household_id, result, errors);
        });
    };
    let error_for = move |field: &'static str| super::form::error_for(errors, field);
    view! {
        <form class="card" data-testid="visit-form" novalidate=true on:submit=save>
            <a class="back" href=Route::Household(id.clone()).href()>{move || tr(lang.get(), "← Quay lại", "← Back")}</a>
            <h2>{move || tr(lang.get(), "Ghi thăm hộ", "Log a visit")}</h2>
            <p class="meta">{name}</p>
            <label for="visit-date">{move || tr(lang.get(), "Ngày thăm", "Visit date")}</label>
            <input id="visit-date" type="date" data-testid="visit-date" max=today.to_string() bind:value=day />
            {error_for("date")}
            <label for="discussed">{move || tr(lang.get(), "Đã trao đổi về", "What was discussed")}</label>
            <div class="chips">
                {TOPICS.into_iter().enumerate().map(|(i, (vi, en))| view! {
                    <button
                        type="button"
                        class="chip"
                        data-testid=format!("topic-{i}")
                        on:click=move |_| discussed.update(|d| {
                            let topic = tr(lang.get_untracked(), vi, en);
                            if d.is_empty() { *d = topic.to_string() } else { *d = format!("{d}; {topic}") }
                        })
                    >
                        {move || tr(lang.get(), vi, en)}
                    </button>
                }).collect_view()}
            </div>
            <textarea id="discussed" data-testid="discussed" rows="3" bind:value=discussed></textarea>
            {error_for("discussed")}
            <label for="progress">{move || tr(lang.get(), "Tiến bộ thấy được", "Progress seen")}</label>
            <textarea id="progress" data-testid="progress" rows="2" bind:value=progress></textarea>
            {error_for("progress")}
            <label for="needs">{move || tr(lang.get(), "Hộ cần hỗ trợ gì", "What the household needs")}</label>
            <textarea id="needs" data-testid="needs" rows="2" bind:value=needs></textarea>
            {error_for("needs")}
            <label for="next-visit">{move || tr(lang.get(), "Hẹn thăm lần sau", "Next visit")}</label>
            <input id="next-visit" type="date" data-testid="next-visit" bind:value=next />
            {error_for("next_visit")}
            {error_for("")}
            <button type="submit" class="primary" data-testid="save-visit" disabled=move || saving.get()>
                {move || tr(lang.get(), "Lưu trên máy", "Save on this phone")}
            </button>
        </form>
    }
}
