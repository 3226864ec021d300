//! Adding, editing or removing a household member (village head), written field by field
//! so an edit of one field never conflicts with another person's edit of another. Removing
//! (someone moved away or died) asks for a second tap.

use crate::engine::use_engine;
use crate::route::Route;
use crate::text::{tr, use_lang};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::doc::Collection;
use shared::household::{MemberInput, Sex};
use shared::projection::member_json;

/// The relations to the head a household register uses most.
const RELATIONS: [&str; 12] = [
    "Chủ hộ",
    "Vợ",
    "Chồng",
    "Con",
    "Con dâu",
    "Con rể",
    "Cháu",
    "Bố",
    "Mẹ",
    "Anh",
    "Chị",
    "Em",
];

#[component]
pub fn MemberForm(household_id: String, member_id: Option<String>) -> impl IntoView {
    let lang = use_lang();
    let engine = use_engine();
    let start = member_id.as_ref().and_then(|m| {
        engine
            .household(&household_id)?
            .members
            .into_iter()
            .find(|x| &x.id == m)
            .map(|x| x.data)
    });
    let s = start.clone();
    let full_name = RwSignal::new(s.as_ref().map(|m| m.full_name.clone()).unwrap_or_default());
    let birth_year = RwSignal::new(
        s.as_ref()
            .map(|m| m.birth_year.to_string())
            .unwrap_or_default(),
    );
    let female = RwSignal::new(s.as_ref().is_some_and(|m| m.sex == Sex::Female));
    let ethnicity = RwSignal::new(s.as_ref().map(|m| m.ethnicity.clone()).unwrap_or_default());
    let citizen_id = RwSignal::new(
        s.as_ref()
            .and_then(|m| m.citizen_id.clone())
            .unwrap_or_default(),
    );
    let relation = RwSignal::new(s.as_ref().map(|m| m.relation.clone()).unwrap_or_default());
    let disability = RwSignal::new(s.as_ref().is_some_and(|m| m.disability));
    let insured = RwSignal::new(s.as_ref().is_some_and(|m| m.health_insurance));
    let schooling = RwSignal::new(s.as_ref().map(|m| m.schooling.clone()).unwrap_or_default());
    let work = RwSignal::new(s.as_ref().map(|m| m.work.clone()).unwrap_or_default());
    let errors = RwSignal::new(Vec::<shared::FieldError>::new());
    let saving = RwSignal::new(false);
    let back = Route::Household(household_id.clone());
    let confirm_remove = RwSignal::new(false);
    let remove = {
        let household_id = household_id.clone();
        let member_id = member_id.clone();
        move |_| {
            let Some(id) = member_id.clone() else {
                return;
            };
            if !confirm_remove.get() {
                confirm_remove.set(true);
                return;
            }
            saving.set(true);
            let engine = use_engine();
            let household_id = household_id.clone();
            spawn_local(async move {
                let result = engine
                    .edit(&household_id, |doc, author| {
                        doc.delete_record(Collection::Members, &id, author)
                    })
                    .await;
                saving.set(false);
                super::form::after_save(engine, household_id, result, errors);
            });
        }
    };
    let editing = start.is_some();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get() {
            return;
        }
        // Every problem at once, in the server's words (`MemberInput::validate_on`).
        let year = birth_year.get().trim().parse::<i32>().ok();
        let id_text = citizen_id.get().trim().to_string();
        let input = MemberInput {
            full_name: full_name.get().trim().to_string(),
            birth_year: year.unwrap_or(1990),
            sex: if female.get() { Sex::Female } else { Sex::Male },
            ethnicity: ethnicity.get().trim().to_string(),
            citizen_id: (!id_text.is_empty()).then_some(id_text),
            relation: relation.get().trim().to_string(),
            disability: disability.get(),
            health_insurance: insured.get(),
            schooling: schooling.get().trim().to_string(),
            work: work.get().trim().to_string(),
        };
        let mut problems = input.validate_on(super::today()).err().unwrap_or_default();
        if year.is_none() {
            problems.push(
                "birth_year",
                "number",
                shared::Text::new(
                    "Năm sinh phải là số, ví dụ 1985.",
                    "The birth year must be a number, e.g. 1985.",
                ),
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
        let id = member_id.clone().unwrap_or_else(super::new_id);
        spawn_local(async move {
            let result = engine
                .edit(&household_id, |doc, author| {
                    doc.put_record(Collection::Members, &id, &member_json(&input), author)
                })
                .await;
            saving.set(false);
            super::form::after_save(engine, household_id, result, errors);
        });
    };
    let error_for = move |field: &'static str| super::form::error_for(errors, field);
    let text_field =
        move |id: &'static str, label: (&'static str, &'static str), value: RwSignal<String>| {
            view! {
                <label for=id>{move || tr(lang.get(), label.0, label.1)}</label>
                <input id=id data-testid=id bind:value=value />
                {error_for(id)}
            }
        };
    view! {
        <form class="card" data-testid="member-form" on:submit=save>
            <a class="back" href=back.href()>{move || tr(lang.get(), "← Quay lại", "← Back")}</a>
            <h2>{move || if start.is_some() { tr(lang.get(), "Sửa thành viên", "Edit member") } else { tr(lang.get(), "Thêm thành viên", "Add a member") }}</h2>
            {text_field("full_name", ("Họ và tên", "Full name"), full_name)}
            <label for="birth_year">{move || tr(lang.get(), "Năm sinh", "Birth year")}</label>
            <input id="birth_year" data-testid="birth_year" inputmode="numeric" bind:value=birth_year />
            {error_for("birth_year")}
            <label class="check">
                <input type="checkbox" data-testid="female" bind:checked=female />
                {move || tr(lang.get(), "Nữ", "Female")}
            </label>
            <label for="relation">{move || tr(lang.get(), "Quan hệ với chủ hộ", "Relation to the head")}</label>
            // The usual relations offered as choices; another one can still be typed.
            <input id="relation" data-testid="relation" list="relations" autocomplete="off" bind:value=relation />
            <datalist id="relations">
                {RELATIONS.into_iter().map(|r| view! { <option value=r></option> }).collect_view()}
            </datalist>
            {error_for("relation")}
            {text_field("ethnicity", ("Dân tộc", "Ethnicity"), ethnicity)}
            {text_field("citizen_id", ("Số định danh (12 số, nếu có)", "Citizen ID (12 digits, if any)"), citizen_id)}
            <label class="check">
                <input type="checkbox" bind:checked=insured />
                {move || tr(lang.get(), "Có thẻ bảo hiểm y tế", "Has health insurance")}
            </label>
            <label class="check">
                <input type="checkbox" bind:checked=disability />
                {move || tr(lang.get(), "Người khuyết tật", "Has a disability")}
            </label>
            {text_field("schooling", ("Học vấn", "Schooling"), schooling)}
            {text_field("work", ("Việc làm", "Work"), work)}
            {error_for("")}
            <button type="submit" class="primary" data-testid="save-member" disabled=move || saving.get()>
                {move || tr(lang.get(), "Lưu trên máy", "Save on this phone")}
            </button>
            {editing.then(|| view! {
                {move || confirm_remove.get().then(|| view! {
                    <p class="error" role="alert">{move || tr(lang.get(),
                        "Bấm lần nữa để xoá thành viên này khỏi hộ.",
                        "Tap again to remove this member from the household.")}</p>
                })}
                <button type="button" class="danger" data-testid="remove-member" on:click=remove.clone() disabled=move || saving.get()>
                    {move || if confirm_remove.get() {
                        tr(lang.get(), "Xác nhận xoá", "Confirm removal")
                    } else {
                        tr(lang.get(), "Xoá thành viên", "Remove member")
                    }}
                </button>
            })}
        </form>
    }
}
