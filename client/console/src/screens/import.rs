//! Importing the household list the commune keeps in Excel (or CSV): check the file first
//! and see every wrong row with its column and reason; then import all of it (nothing is
//! imported while a row is wrong) or, by choice, only the valid rows. A first list's
//! status column is the commune's opening balance, on the date the officer gives; after
//! the commune's first decision it is only a proposal (the report says which, first).

use super::Problem;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::import::ImportReport;
use ui::api::ClientError;
use ui::text::{tr, use_lang};
use wasm_bindgen::JsCast;

/// The chosen file's name and bytes.
async fn read_file(input: &web_sys::HtmlInputElement) -> Option<(String, Vec<u8>)> {
    let file = input.files()?.get(0)?;
    let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .ok()?;
    Some((file.name(), js_sys::Uint8Array::new(&buffer).to_vec()))
}

#[component]
pub fn Import() -> impl IntoView {
    let lang = use_lang();
    let input = NodeRef::<leptos::html::Input>::new();
    let report = RwSignal::new(None::<Result<(String, ImportReport), ClientError>>);
    let busy = RwSignal::new(false);
    let opening = RwSignal::new(String::new());
    let run = move |mode: &'static str| {
        let Some(el) = input.get() else { return };
        let el: web_sys::HtmlInputElement = el.unchecked_into();
        busy.set(true);
        spawn_local(async move {
            let out = match read_file(&el).await {
                None => Err(ClientError::Refused(shared::api::ErrorBody {
                    code: "no_file".into(),
                    message: shared::Text::new(
                        "Hãy chọn một tệp .xlsx hoặc .csv.",
                        "Choose an .xlsx or .csv file.",
                    ),
                    fields: vec![],
                })),
                Some((name, bytes)) => {
                    let format = if name.to_lowercase().ends_with(".csv") {
                        "csv"
                    } else {
                        "xlsx"
                    };
                    let day = opening.get_untracked();
                    let day = if day.is_empty() {
                        String::new()
                    } else {
                        format!("&opening_date={day}")
                    };
                    ui::api::upload::<ImportReport>(
                        &format!("/import/households?format={format}&mode={mode}{day}"),
                        &bytes,
                    )
                    .await
                    .map(|r| (mode.to_string(), r))
                }
            };
            report.set(Some(out));
            busy.set(false);
        });
    };
    view! {
        <section class="card">
            <p>{move || tr(lang.get(),
                "Tệp Excel (.xlsx) hoặc CSV, dòng đầu là tên cột: Mã hộ, Họ tên chủ hộ, Thôn (tên hoặc mã), Địa chỉ, Khu vực (nông thôn/thành thị), Phân loại (hộ nghèo, hộ cận nghèo, …), Dân tộc thiểu số (x), Chủ hộ là nữ (x).",
                "An Excel (.xlsx) or CSV file whose first row names the columns: Mã hộ (code), Họ tên chủ hộ (head), Thôn (village name or code), Địa chỉ (address), Khu vực (nông thôn/thành thị), Phân loại (status), Dân tộc thiểu số (x), Chủ hộ là nữ (x).")}</p>
            <div class="actions">
                <input type="file" accept=".xlsx,.csv" node_ref=input data-testid="import-file" />
                <label>
                    {move || tr(lang.get(), "Ngày số dư đầu kỳ (danh sách đầu tiên có cột Phân loại)", "Opening balance date (a first list with a status column)")}
                    <input type="date" data-testid="import-opening-date" bind:value=opening />
                </label>
                <button class="secondary" data-testid="import-check" disabled=move || busy.get() on:click=move |_| run("check")>
                    {move || tr(lang.get(), "Kiểm tra tệp", "Check the file")}
                </button>
                <button class="primary" data-testid="import-all" disabled=move || busy.get() on:click=move |_| run("all")>
                    {move || tr(lang.get(), "Nhập tất cả (không nhập gì nếu có dòng sai)", "Import all (nothing if a row is wrong)")}
                </button>
                <button class="secondary" data-testid="import-valid" disabled=move || busy.get() on:click=move |_| run("valid_only")>
                    {move || tr(lang.get(), "Chỉ nhập các dòng đúng", "Import the valid rows only")}
                </button>
            </div>
        </section>
        {move || report.get().map(|r| match r {
            Err(e) => view! { <Problem error=e /> }.into_any(),
            Ok((mode, r)) => view! {
                <section class="card" data-testid="import-report">
                    <p data-testid="import-summary">
                        {
                            let (rows, valid, imported) = (r.rows, r.valid, r.imported);
                            let wrong = r.errors.iter().map(|e| e.row).collect::<std::collections::BTreeSet<_>>().len();
                            move || format!("{} {} · {} {} · {} {} · {} {}",
                                rows, tr(lang.get(), "dòng", "rows"),
                                valid, tr(lang.get(), "dòng đúng", "valid"),
                                wrong, tr(lang.get(), "dòng sai", "wrong"),
                                imported, tr(lang.get(), "hộ đã nhập", "imported"))
                        }
                    </p>
                    {r.refused.clone().map(|t| view! { <p class="error" role="alert" data-testid="import-refused">{move || t.get(lang.get()).to_string()}</p> })}
                    {r.statuses.clone().map(|t| view! { <p class="note" data-testid="import-statuses">{move || t.get(lang.get()).to_string()}</p> })}
                    {(mode == "check" && r.errors.is_empty()).then(|| view! {
                        <p class="ok">{move || tr(lang.get(), "Tệp không có lỗi; có thể nhập.", "The file has no errors; it can be imported.")}</p>
                    })}
                    {(!r.errors.is_empty()).then(|| view! {
                        <table data-testid="import-errors">
                            <thead><tr>
                                <th class="num">{move || tr(lang.get(), "Dòng", "Row")}</th>
                                <th>{move || tr(lang.get(), "Cột", "Column")}</th>
                                <th>{move || tr(lang.get(), "Lỗi", "Problem")}</th>
                            </tr></thead>
                            <tbody>
                                {r.errors.iter().cloned().map(|e| view! {
                                    <tr data-testid="import-error" data-row=e.row.to_string()>
                                        <td class="num">{e.row}</td>
                                        <td>{e.column.clone()}</td>
                                        <td>{move || e.message.get(lang.get()).to_string()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    })}
                </section>
            }.into_any(),
        })}
    }
}
