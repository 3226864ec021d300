//! Importing a household list from the spreadsheet a commune already keeps (XLSX or CSV):
//! the file is bounded before it is read (size, inflation, rows, columns, cell length,
//! and a time budget that ends with the request: `shared::import::files`),
//! every row is checked (`shared::import`) and reported with its row and column, and the
//! households are registered through the same write core as one typed into a form — all of
//! them, or none when a row is wrong, unless the officer asks for the valid rows only.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::AppQuery;
use crate::store::{HouseholdFilter, Within};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;
use shared::Text;
use shared::area::AreaKind;
use shared::household::HouseholdStatus;
use shared::import::files::{self, Budget, ReadError};
use shared::import::{ImportReport, VillageRef, check};
use shared::permissions::Action;
use std::collections::BTreeSet;
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import_households))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    Xlsx,
    Csv,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Only check the file; register nothing.
    #[default]
    Check,
    /// Register every row, or none when any row is wrong.
    All,
    /// Register the valid rows and report the others.
    ValidOnly,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    #[param(inline)]
    pub format: FileFormat,
    #[serde(default)]
    #[param(inline)]
    pub mode: ImportMode,
    /// The date of the commune's opening balance, when its first list brings official
    /// statuses (before the commune has any decision).
    pub opening_date: Option<chrono::NaiveDate>,
}

/// Time to read a file: a real 5,000-row list takes well under a second.
const READ_BUDGET: Duration = Duration::from_secs(10);

/// The file's cells, read on a blocking thread under a budget that ends with this
/// request: dropped (answered, cancelled by the client, timed out), the reading stops.
async fn read_file(format: FileFormat, bytes: Bytes) -> AppResult<Vec<Vec<String>>> {
    let (budget, _ends_with_request) = Budget::new(READ_BUDGET);
    let read = tokio::task::spawn_blocking(move || match format {
        FileFormat::Csv => files::read_csv(&bytes, &budget),
        FileFormat::Xlsx => files::read_xlsx(&bytes, &budget),
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    match read {
        Ok(table) => Ok(table),
        Err(ReadError::Unreadable(reason)) => {
            Err(AppError::field("file", "unreadable_file", reason))
        }
        Err(ReadError::Spent) => Err(AppError::Unavailable {
            code: "file_too_slow",
            message: Text::new(
                "Đọc tệp mất quá nhiều thời gian; hãy chia thành nhiều tệp nhỏ hơn.",
                "Reading the file took too long; split it into several smaller files.",
            ),
        }),
    }
}

/// Check or import a household list. The body is the file itself.
#[utoipa::path(post, path = "/import/households", tag = "households", security(("bearer" = [])), params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The XLSX or CSV file"),
    responses((status = 200, body = ImportReport, description = "Checked, or imported (with every row's problem)"), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody, description = "The file cannot be read")))]
async fn import_households(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<ImportQuery>,
    body: Bytes,
) -> AppResult<Json<ImportReport>> {
    me.reach(Action::ManageAssignments)?;
    me.reach(Action::WriteHouseholds)?;
    let _turn = state.heavy.enter(&me)?;
    let store = state.store.as_ref();
    let table = read_file(q.format, body).await?;
    let village_ids = store.villages_under(&me.user.area_id).await?;
    let villages: Vec<VillageRef> = store
        .list_areas()
        .await?
        .into_iter()
        .filter(|a| a.kind == AreaKind::Village && village_ids.contains(&a.id))
        .map(|a| VillageRef {
            id: a.id,
            code: a.code,
            name: a.name,
        })
        .collect();
    let taken: BTreeSet<String> = store
        .list_households(&HouseholdFilter {
            within: Within::Villages(village_ids.clone()),
            limit: i64::MAX / 2,
            ..Default::default()
        })
        .await?
        .into_iter()
        .map(|h| shared::household::code_key(&h.code))
        .collect();
    let (mut valid, errors) = check(&table, &villages, &taken);
    // An imported status is official only as the commune's opening balance, before its
    // first decision; afterwards only a decision changes a status.
    let listed = valid
        .iter()
        .any(|r| r.status != HouseholdStatus::NotReviewed);
    let decided = listed
        && !store
            .review_steps_in(
                &Within::Villages(village_ids.clone()),
                Some("decision"),
                None,
            )
            .await?
            .is_empty();
    let statuses = match (listed, decided, q.opening_date) {
        (false, _, _) => None,
        (true, true, _) => {
            for r in &mut valid {
                r.status = HouseholdStatus::NotReviewed;
            }
            Some(Text::new(
                "Xã đã có quyết định công nhận, nên cột Phân loại chỉ là đề xuất cho lần rà soát tới: các hộ được nhập ở trạng thái chưa rà soát. Chỉ quyết định của Chủ tịch UBND xã thay đổi diện hộ.",
                "The commune already has decisions, so the status column is only a proposal for the next review: the households come in not reviewed yet. Only the commune leader's decision changes a status.",
            ))
        }
        (true, false, Some(day)) => {
            let mut e = shared::ValidationErrors::default();
            e.not_ahead("opening_date", day, crate::today());
            e.into_result()?;
            Some(Text::new(
                format!(
                    "Danh sách đầu tiên của xã: cột Phân loại là số dư đầu kỳ chính thức, tính từ ngày {}.",
                    day.format("%d/%m/%Y")
                ),
                format!(
                    "The commune's first list: the status column is its official opening balance, as of {}.",
                    day.format("%d/%m/%Y")
                ),
            ))
        }
        (true, false, None) => {
            // Asked only when rows would be registered now.
            let registers = match q.mode {
                ImportMode::Check => false,
                ImportMode::All => errors.is_empty(),
                ImportMode::ValidOnly => !valid.is_empty(),
            };
            if registers {
                return Err(AppError::field(
                    "opening_date",
                    "required",
                    Text::new(
                        "Danh sách đầu tiên có cột Phân loại là số dư đầu kỳ: hãy chọn ngày của số dư đó.",
                        "The first list's status column is the opening balance: choose its date.",
                    ),
                ));
            }
            Some(Text::new(
                "Danh sách đầu tiên của xã: cột Phân loại sẽ là số dư đầu kỳ chính thức; hãy chọn ngày của số dư trước khi nhập.",
                "The commune's first list: the status column will be its official opening balance; choose its date before importing.",
            ))
        }
    };
    let mut report = ImportReport {
        rows: table.len().saturating_sub(1),
        valid: valid.len(),
        errors,
        imported: 0,
        codes: vec![],
        refused: None,
        statuses,
    };
    let opening = q.opening_date.filter(|_| listed && !decided);
    let go = match q.mode {
        ImportMode::Check => false,
        ImportMode::All => report.errors.is_empty(),
        ImportMode::ValidOnly => true,
    };
    if q.mode == ImportMode::All && !report.errors.is_empty() {
        let n = report
            .errors
            .iter()
            .map(|e| e.row)
            .collect::<BTreeSet<_>>()
            .len();
        report.refused = Some(Text::new(
            format!(
                "{n} dòng có lỗi nên chưa nhập hộ nào. Sửa tệp rồi nhập lại, hoặc chọn chỉ nhập các dòng đúng."
            ),
            format!(
                "{n} rows have errors, so nothing was imported. Fix the file and import again, or choose to import the valid rows only."
            ),
        ));
    }
    if go {
        // Where the officer may place a household, looked up once for every row.
        let placeable = crate::api::sync::villages_of(&state, &me).await?;
        for r in valid {
            let registered_on = opening.filter(|_| r.status != HouseholdStatus::NotReviewed);
            match super::households::register(
                &state,
                &me,
                &r.input,
                r.status,
                registered_on,
                placeable.as_ref(),
                shared::doc::Door::Import,
            )
            .await
            {
                Ok(_) => {
                    report.imported += 1;
                    report.codes.push(r.input.code.clone());
                }
                Err(e) => report.errors.push(shared::import::RowError {
                    row: r.row,
                    column: String::new(),
                    message: e.body().message,
                }),
            }
        }
        if report.imported > 0 {
            state.scopes.changed();
        }
    }
    Ok(Json(report))
}
