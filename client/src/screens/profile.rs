//! Registering a household and editing its profile (village head). Only the fields that
//! changed are written, so two people editing different fields never conflict.

use super::say;
use crate::engine::use_engine;
use crate::route::Route;
use crate::text::{tr, use_lang};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::Validate;
use shared::household::{Cause, HouseholdInput, HouseholdStatus, PriorityFlags, Residence};

#[component]
pub fn EditHousehold(id: Option<String>) -> impl IntoView {
    let lang = use_lang();
    let engine = use_engine();
    let existing = id.as_ref().and_then(|id| engine.household(id));
    let start = existing.as_ref().map(|r| r.household.clone());
    let code = RwSignal::new(start.as_ref().map(|h| h.code.clone()).unwrap_or_default());
    let head_name = RwSignal::new(
        start
            .as_ref()
            .map(|h| h.head_name.clone())
            .unwrap_or_default(),
    );
    let address = RwSignal::new(
        start
            .as_ref()
            .map(|h| h.address.clone())
            .unwrap_or_default(),
    );
    let urban = RwSignal::new(
        start
            .as_ref()
            .is_some_and(|h| h.residence == Residence::Urban),
    );
    let priority = RwSignal::new(start.as_ref().map(|h| h.priority).unwrap_or_default());
    let causes = RwSignal::new(start.as_ref().map(|h| h.causes.clone()).unwrap_or_default());
    let village_id = start
        .as_ref()
        .map(|h| h.village_id.clone())
        .unwrap_or_else(|| engine.user.area_id.clone());
    let errors = RwSignal::new(Vec::<shared::FieldError>::new());
    let saving = RwSignal::new(false);
    let back = id
        .clone()
        .map(Route::Household)
        .unwrap_or(Route::Households);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get() {
            return;
        }
        let input = HouseholdInput {
            code: code.get().trim().to_string(),
            village_id: village_id.clone(),
            address: address.get().trim().to_string(),
            head_name: head_name.get().trim().to_string(),
            residence: if urban.get() {
                Residence::Urban
            } else {
                Residence::Rural
            },
            priority: priority.get(),
            causes: causes.get(),
        };
        let mut problems = input.validate().err().unwrap_or_default();
        // A code another household on this phone already has is caught here; one taken on
        // another phone meanwhile is refused at the next sync, with the reason shown there.
        let own = id.clone();
        let taken = use_engine().status.rows.with_untracked(|rows| {
            rows.iter().any(|r| {
                Some(&r.id) != own.as_ref()
                    && shared::household::code_key(&r.code)
                        == shared::household::code_key(&input.code)
            })
        });
        if taken && !input.code.is_empty() {
            problems.push(
                "code",
                "duplicate_code",
                shared::Text::new(
                    "Mã hộ này đã có hộ khác dùng; hãy kiểm tra lại sổ.",
                    "Another household already has this code; check the register.",
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
        let id = id.clone();
        spawn_local(async move {
            let (household_id, result) = match id {
                Some(id) => {
                    let profile = serde_json::to_value(&input).expect("serialises");
                    let r = engine
                        .edit(&id, |doc, author| doc.update_profile(&profile, author))
                        .await;
                    (id, r)
                }
                None => {
                    let id = super::new_id();
                    let r = engine
                        .register(&id, &input, HouseholdStatus::NotReviewed)
                        .await;
                    (id, r)
                }
            };
            saving.set(false);
            super::form::after_save(engine, household_id, result, errors);
        });
    };
    let error_for = move |field: &'static str| super::form::error_for(errors, field);
    let flag = move |label: (&'static str, &'static str),
                     get: fn(&PriorityFlags) -> bool,
                     set: fn(&mut PriorityFlags, bool)| {
        view! {
            <label class="check">
                <input
                    type="checkbox"
                    prop:checked=move || priority.with(get)
                    on:change=move |ev| priority.update(|p| set(p, event_target_checked(&ev)))
                />
                {move || tr(lang.get(), label.0, label.1)}
            </label>
        }
    };
    view! {
        <form class="card" data-testid="household-form" on:submit=save>
            <a class="back" href=back.href()>{move || tr(lang.get(), "← Quay lại", "← Back")}</a>
            <h2>{move || if existing.is_some() { tr(lang.get(), "Sửa thông tin hộ", "Edit household") } else { tr(lang.get(), "Đăng ký hộ mới", "Register a household") }}</h2>
            <label for="head-name">{move || tr(lang.get(), "Họ tên chủ hộ", "Head of household")}</label>
            <input id="head-name" data-testid="head-name-input" bind:value=head_name />
            {error_for("head_name")}
            <label for="code">{move || tr(lang.get(), "Mã hộ", "Household code")}</label>
            <input id="code" data-testid="code-input" bind:value=code
                placeholder=move || tr(lang.get(), "VD: DV-01-0123", "e.g. DV-01-0123") aria-describedby="code-hint" />
            <p class="meta" id="code-hint">{move || tr(lang.get(),
                "Mã theo sổ theo dõi của xã: ký hiệu xã, số thôn, số thứ tự hộ. Mỗi hộ một mã.",
                "The code from the commune's register: commune letters, village number, household number. One code per household.")}</p>
            {start.is_none().then(|| {
                // The next number of the village's register, from the households on this phone.
                let next = use_engine().status.rows.with_untracked(|rows| {
                    shared::household::next_code(rows.iter().map(|r| r.code.as_str()))
                });
                next.map(|n| {
                    let shown = n.clone();
                    view! {
                        <button type="button" class="secondary" data-testid="suggest-code"
                            on:click=move |_| code.set(n.clone())>
                            {move || format!("{} {shown}", tr(lang.get(), "Dùng mã tiếp theo:", "Use the next code:"))}
                        </button>
                    }
                })
            })}
            {error_for("code")}
            <label for="address">{move || tr(lang.get(), "Địa chỉ", "Address")}</label>
            <input id="address" data-testid="address-input" bind:value=address />
            {error_for("address")}
            <label class="check">
                <input type="checkbox" bind:checked=urban />
                {move || tr(lang.get(), "Hộ ở thành thị", "Urban household")}
            </label>
            <fieldset>
                <legend>{move || tr(lang.get(), "Nhóm ưu tiên", "Priority groups")}</legend>
                {flag(("Dân tộc thiểu số", "Ethnic minority"), |p| p.ethnic_minority, |p, v| p.ethnic_minority = v)}
                {flag(("Gia đình có công", "Meritorious family"), |p| p.meritorious, |p, v| p.meritorious = v)}
                {flag(("Phụ nữ làm chủ hộ", "Woman-headed"), |p| p.woman_headed, |p, v| p.woman_headed = v)}
                {flag(("Có người khuyết tật", "Member with disability"), |p| p.member_with_disability, |p, v| p.member_with_disability = v)}
                {flag(("Chỉ có người cao tuổi", "Elderly only"), |p| p.elderly_only, |p, v| p.elderly_only = v)}
            </fieldset>
            <fieldset>
                <legend>{move || tr(lang.get(), "Nguyên nhân nghèo", "Causes of poverty")}</legend>
                {Cause::ALL.into_iter().map(|c| view! {
                    <label class="check">
                        <input
                            type="checkbox"
                            prop:checked=move || causes.with(|cs| cs.contains(&c))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                causes.update(|cs| {
                                    cs.retain(|x| *x != c);
                                    if on { cs.push(c) }
                                });
                            }
                        />
                        {say(c.label())}
                    </label>
                }).collect_view()}
            </fieldset>
            {error_for("causes")}
            {error_for("")}
            <button type="submit" class="primary" data-testid="save-household" disabled=move || saving.get()>
                {move || tr(lang.get(), "Lưu trên máy", "Save on this phone")}
            </button>
        </form>
    }
}
