//! Proposing support for a household (cadre): what kind, from which project, who provides
//! it, how much and when, and which cause of poverty it should close. It starts as
//! "planned"; the commune officer delivers or cancels it. Saved on the phone first.

use super::{say, today};
use crate::engine::use_engine;
use crate::route::Route;
use crate::text::{tr, use_lang};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::Validate;
use shared::doc::Collection;
use shared::household::Cause;
use shared::projection::support_json;
use shared::support::{Project, SupportAction, SupportInput, SupportKind, SupportStatus};

/// The project that usually pays for a kind of support, so the form starts right.
fn usual_project(kind: SupportKind) -> Project {
    match kind {
        SupportKind::LivelihoodModel => Project::P2Livelihood,
        SupportKind::ProductionSupport => Project::P3Production,
        SupportKind::Nutrition => Project::P3Nutrition,
        SupportKind::Training => Project::P4Vocational,
        SupportKind::Job => Project::P4Jobs,
        SupportKind::Housing => Project::P5Housing,
        SupportKind::Information => Project::P6Information,
        SupportKind::Loan
        | SupportKind::HealthInsurance
        | SupportKind::TuitionExemption
        | SupportKind::LegalAid
        | SupportKind::EmergencyRelief => Project::OtherPolicy,
    }
}

#[component]
pub fn ProposeSupport(id: String) -> impl IntoView {
    let lang = use_lang();
    let engine = use_engine();
    let records = engine.household(&id);
    let name = records
        .as_ref()
        .map(|r| r.household.head_name.clone())
        .unwrap_or_default();
    let causes: Vec<Cause> = records.map(|r| r.household.causes).unwrap_or_default();
    let kind = RwSignal::new(SupportKind::ALL[0]);
    let project = RwSignal::new(usual_project(SupportKind::ALL[0]));
    let provider = RwSignal::new(String::new());
    let amount = RwSignal::new(String::new());
    let planned = RwSignal::new((today() + chrono::Duration::days(30)).to_string());
    let cause = RwSignal::new(causes.first().copied());
    let note = RwSignal::new(String::new());
    let errors = RwSignal::new(Vec::<shared::FieldError>::new());
    let saving = RwSignal::new(false);
    let household_id = id.clone();
    let field_error = |field: &str, vi: &str, en: &str| shared::FieldError {
        field: field.into(),
        code: "format".into(),
        message: shared::Text::new(vi, en),
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get() {
            return;
        }
        let amount_vnd = match ui::text::parse_amount(&amount.get()) {
            None => None,
            Some(result) => match result {
                Ok(n) => Some(n),
                Err(()) => {
                    errors.set(vec![field_error(
                        "amount_vnd",
                        "Số tiền phải là số đồng, ví dụ 30000000.",
                        "The amount must be a number of dong, e.g. 30000000.",
                    )]);
                    return;
                }
            },
        };
        let Ok(planned_date) = planned.get().parse() else {
            errors.set(vec![field_error(
                "planned_date",
                "Ngày không hợp lệ.",
                "Not a valid date.",
            )]);
            return;
        };
        let input = SupportInput {
            kind: kind.get(),
            project: project.get(),
            provider: provider.get().trim().to_string(),
            amount_vnd,
            quantity: None,
            unit: String::new(),
            planned_date,
            addresses_cause: cause.get(),
            addresses_indicator: None,
            note: note.get().trim().to_string(),
        };
        if let Err(e) = input.validate() {
            errors.set(e.0);
            return;
        }
        errors.set(vec![]);
        saving.set(true);
        let engine = use_engine();
        let household_id = household_id.clone();
        spawn_local(async move {
            let action = SupportAction {
                id: super::new_id(),
                household_id: household_id.clone(),
                status: SupportStatus::Planned,
                delivered_date: None,
                data: input,
            };
            let result = engine
                .edit(&household_id, |doc, author| {
                    doc.put_record(
                        Collection::Support,
                        &action.id,
                        &support_json(&action),
                        author,
                    )
                })
                .await;
            saving.set(false);
            super::form::after_save(engine, household_id, result, errors);
        });
    };
    let error_for = move |field: &'static str| super::form::error_for(errors, field);
    let index = |ev: &leptos::ev::Event| event_target_value(ev).parse::<usize>().ok();
    view! {
        <form class="card" data-testid="support-form" on:submit=save>
            <a class="back" href=Route::Household(id.clone()).href()>{move || tr(lang.get(), "← Quay lại", "← Back")}</a>
            <h2>{move || tr(lang.get(), "Đề xuất hỗ trợ", "Propose support")}</h2>
            <p class="meta">{name}</p>
            <label for="support-kind">{move || tr(lang.get(), "Loại hỗ trợ", "Kind of support")}</label>
            <select id="support-kind" data-testid="support-kind" on:change=move |ev| {
                if let Some(k) = index(&ev).and_then(|i| SupportKind::ALL.get(i).copied()) {
                    kind.set(k);
                    project.set(usual_project(k));
                }
            }>
                {SupportKind::ALL.into_iter().enumerate().map(|(i, k)| view! {
                    <option value=i.to_string()>{say(k.label())}</option>
                }).collect_view()}
            </select>
            <label for="support-project">{move || tr(lang.get(), "Nguồn (dự án)", "Paid by (project)")}</label>
            <select id="support-project" data-testid="support-project" on:change=move |ev| {
                if let Some(p) = index(&ev).and_then(|i| Project::ALL.get(i).copied()) {
                    project.set(p);
                }
            }>
                {Project::ALL.into_iter().enumerate().map(|(i, p)| view! {
                    <option value=i.to_string() selected=move || project.get() == p>{say(p.label())}</option>
                }).collect_view()}
            </select>
            <label for="provider">{move || tr(lang.get(), "Đơn vị hỗ trợ", "Provided by")}</label>
            <input id="provider" data-testid="provider" placeholder="NHCSXH huyện, Hội Nông dân xã…" bind:value=provider />
            {error_for("provider")}
            <label for="amount">{move || tr(lang.get(), "Số tiền (đồng, nếu có)", "Amount (dong, if any)")}</label>
            <input id="amount" data-testid="amount" inputmode="numeric" placeholder="30.000.000" bind:value=amount
                on:change=move |ev| amount.set(ui::text::group_amount(&event_target_value(&ev))) />
            {error_for("amount_vnd")}
            <label for="planned-date">{move || tr(lang.get(), "Dự kiến ngày", "Planned date")}</label>
            <input id="planned-date" type="date" data-testid="planned-date" bind:value=planned />
            {error_for("planned_date")}
            {(!causes.is_empty()).then(|| view! {
                <label for="support-cause">{move || tr(lang.get(), "Giải quyết nguyên nhân", "Closes the cause")}</label>
                <select id="support-cause" data-testid="support-cause" on:change=move |ev| {
                    cause.set(index(&ev).and_then(|i| causes.get(i).copied()));
                }>
                    {causes.iter().enumerate().map(|(i, c)| view! {
                        <option value=i.to_string()>{say(c.label())}</option>
                    }).collect_view()}
                    <option value="none">{move || tr(lang.get(), "Không gắn nguyên nhân", "No particular cause")}</option>
                </select>
            })}
            <label for="support-note">{move || tr(lang.get(), "Ghi chú", "Note")}</label>
            <textarea id="support-note" data-testid="support-note" rows="2" bind:value=note></textarea>
            {error_for("note")}
            {error_for("")}
            <button type="submit" class="primary" data-testid="save-support" disabled=move || saving.get()>
                {move || tr(lang.get(), "Lưu trên máy", "Save on this phone")}
            </button>
        </form>
    }
}
