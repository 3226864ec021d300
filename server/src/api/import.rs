//! Importing a household list from the spreadsheet a commune already keeps (XLSX or CSV):
//! the file is bounded before it is read (size, inflation, rows, columns, cell length),
//! every row is checked (`shared::import`) and reported with its row and column, and the
//! households are registered through the same write core as one typed into a form — all of
//! them, or none when a row is wrong, unless the officer asks for the valid rows only.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::AppQuery;
use crate::store::HouseholdFilter;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;
use shared::Text;
use shared::area::AreaKind;
use shared::import::{ImportReport, MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS, VillageRef, check};
use shared::permissions::Action;
use std::collections::BTreeSet;
use std::io::Read;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import_households))
}

/// Largest inflated part of an XLSX archive: a 5,000-row sheet is a few MB.
const MAX_INFLATED: u64 = 16 * 1024 * 1024;
/// Parts of an XLSX archive (a workbook has a handful).
const MAX_PARTS: usize = 64;

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
}

fn unreadable(vi: &str, en: &str) -> AppError {
    AppError::field("file", "unreadable_file", Text::new(vi, en))
}

fn cell(s: String) -> String {
    // Longer cells are refused by the row check; keep one character more to say so.
    s.chars().take(MAX_CELL_CHARS + 1).collect()
}

fn read_csv(bytes: &[u8]) -> AppResult<Vec<Vec<String>>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| {
        unreadable(
            "Tệp CSV phải lưu bằng mã UTF-8.",
            "The CSV file must be saved as UTF-8.",
        )
    })?;
    let delimiter = if text
        .lines()
        .next()
        .is_some_and(|l| l.matches(';').count() > l.matches(',').count())
    {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record
            .map_err(|_| unreadable("Tệp CSV bị lỗi định dạng.", "The CSV file is malformed."))?;
        if rows.len() > MAX_ROWS + 1 {
            break;
        }
        rows.push(
            record
                .iter()
                .take(MAX_COLUMNS)
                .map(|c| cell(c.to_string()))
                .collect(),
        );
    }
    Ok(rows)
}

/// Inflates every part of the archive with a cap, so calamine only ever reads an archive
/// whose real size is known to be bounded.
fn check_archive(bytes: &[u8]) -> AppResult<()> {
    let bad = || {
        unreadable(
            "Tệp không phải là tệp Excel (.xlsx) hợp lệ.",
            "The file is not a valid Excel (.xlsx) file.",
        )
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| bad())?;
    if archive.len() > MAX_PARTS {
        return Err(bad());
    }
    let mut total = 0u64;
    for i in 0..archive.len() {
        let part = archive.by_index(i).map_err(|_| bad())?;
        let read = std::io::copy(&mut part.take(MAX_INFLATED + 1), &mut std::io::sink())
            .map_err(|_| bad())?;
        total += read;
        if read > MAX_INFLATED || total > 2 * MAX_INFLATED {
            return Err(unreadable(
                "Tệp Excel quá lớn khi giải nén; hãy chia thành nhiều tệp.",
                "The Excel file is too large once unpacked; split it into several files.",
            ));
        }
    }
    Ok(())
}

/// The first sheet's cells, read one at a time into a grid of at most `MAX_ROWS + 2` rows
/// and `MAX_COLUMNS` columns: calamine's own `Range` would allocate the bounding box of
/// every cell, which a two-cell sheet (A1 and XFD1048576) turns into billions.
fn read_xlsx(bytes: &[u8]) -> AppResult<Vec<Vec<String>>> {
    use calamine::{Data, Reader, Xlsx};
    check_archive(bytes)?;
    let bad = || {
        unreadable(
            "Tệp không phải là tệp Excel (.xlsx) hợp lệ.",
            "The file is not a valid Excel (.xlsx) file.",
        )
    };
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).map_err(|_| bad())?;
    let first = book.sheet_names().first().cloned().ok_or_else(|| {
        unreadable(
            "Tệp Excel không có trang tính nào.",
            "The Excel file has no sheet.",
        )
    })?;
    let mut cells = book.worksheet_cells_reader(&first).map_err(|_| bad())?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    while let Some(c) = cells.next_cell().map_err(|_| bad())? {
        let (r, col) = c.get_position();
        let (r, col) = (r as usize, col as usize);
        if r > MAX_ROWS + 1 || col >= MAX_COLUMNS {
            // Beyond the rows an import takes (the row check says so) or the columns read.
            if r > MAX_ROWS + 1 && rows.len() < MAX_ROWS + 2 {
                rows.resize(MAX_ROWS + 2, Vec::new());
            }
            continue;
        }
        let text = match Data::from(c.get_value().clone()) {
            Data::Empty => continue,
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            other => other.to_string(),
        };
        if rows.len() <= r {
            rows.resize(r + 1, Vec::new());
        }
        let row = &mut rows[r];
        if row.len() <= col {
            row.resize(col + 1, String::new());
        }
        row[col] = cell(text);
    }
    Ok(rows)
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
    let store = state.store.as_ref();
    let table = {
        let bytes = body.clone();
        let format = q.format;
        tokio::task::spawn_blocking(move || match format {
            FileFormat::Csv => read_csv(&bytes),
            FileFormat::Xlsx => read_xlsx(&bytes),
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??
    };
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
            village_ids: Some(village_ids),
            limit: i64::MAX / 2,
            ..Default::default()
        })
        .await?
        .into_iter()
        .map(|h| h.code)
        .collect();
    let (valid, errors) = check(&table, &villages, &taken);
    let mut report = ImportReport {
        rows: table.len().saturating_sub(1),
        valid: valid.len(),
        errors,
        imported: 0,
        codes: vec![],
        refused: None,
    };
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
        for r in valid {
            match super::households::register(&state, &me, &r.input, r.status).await {
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
