//! Reading a household list the commune already keeps in a spreadsheet: the header row is
//! matched by name (Vietnamese or English, accents optional), every row is checked like a
//! household typed into a form, and every problem is reported with its row and column so
//! the officer can fix the file. Pure: the file is read into cells first (`files`, with the
//! `files` feature).

use crate::household::{HouseholdInput, HouseholdStatus, PriorityFlags, Residence};
use crate::search::fold;
use crate::{Text, Validate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(feature = "files")]
pub mod files;

/// Rows per import: a commune's register fits many times over.
pub const MAX_ROWS: usize = 5000;
/// Columns read per row; anything beyond is ignored.
pub const MAX_COLUMNS: usize = 30;
/// Characters per cell.
pub const MAX_CELL_CHARS: usize = 500;

/// One problem of the file: the spreadsheet's row number (the header is row 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowError {
    pub row: usize,
    /// The column's header as written in the file, or the field when it is missing.
    pub column: String,
    pub message: Text,
}

/// A row that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub row: usize,
    pub input: HouseholdInput,
    pub status: HouseholdStatus,
}

/// What the server did with the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    /// Data rows read (the header not counted).
    pub rows: usize,
    pub valid: usize,
    pub errors: Vec<RowError>,
    /// Households registered; 0 when only checked, or when a row is wrong and the
    /// officer asked for all or nothing.
    pub imported: usize,
    /// Codes of the households registered.
    pub codes: Vec<String>,
    /// Why nothing was registered (all or nothing, and a row is wrong).
    pub refused: Option<Text>,
    /// What becomes of the file's status column ("Phân loại"), said before the officer
    /// confirms: the commune's opening balance (before its first decision, on the date the
    /// officer gives), or only a proposal for the next review (after it, the households
    /// come in not reviewed). `None` when the file lists no status.
    #[serde(default)]
    pub statuses: Option<Text>,
}

/// A village the file may name, by code or by name.
#[derive(Debug, Clone)]
pub struct VillageRef {
    pub id: String,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Code,
    Head,
    Village,
    Address,
    Residence,
    Status,
    EthnicMinority,
    WomanHeaded,
}

/// Header names as offices write them, accent-folded.
fn column_of(header: &str) -> Option<Col> {
    let h = fold(header.trim());
    let is = |names: &[&str]| names.iter().any(|n| h == *n);
    Some(if is(&["ma ho", "ma so ho", "household code", "code"]) {
        Col::Code
    } else if is(&[
        "ho ten chu ho",
        "chu ho",
        "ten chu ho",
        "head",
        "head of household",
        "head name",
    ]) {
        Col::Head
    } else if is(&["thon", "thon/ban", "thon ban", "ban", "village"]) {
        Col::Village
    } else if is(&["dia chi", "address"]) {
        Col::Address
    } else if is(&["khu vuc", "residence", "area"]) {
        Col::Residence
    } else if is(&["phan loai", "phan loai ho", "status"]) {
        Col::Status
    } else if is(&["dan toc thieu so", "ethnic minority"]) {
        Col::EthnicMinority
    } else if is(&["chu ho la nu", "woman headed", "woman-headed"]) {
        Col::WomanHeaded
    } else {
        return None;
    })
}

fn err(row: usize, column: &str, vi: impl Into<String>, en: impl Into<String>) -> RowError {
    RowError {
        row,
        column: column.to_string(),
        message: Text::new(vi, en),
    }
}

fn yes(cell: &str) -> Option<bool> {
    match fold(cell.trim()).as_str() {
        "" | "0" | "khong" | "no" | "false" => Some(false),
        "x" | "1" | "co" | "yes" | "true" => Some(true),
        _ => None,
    }
}

fn status_of(cell: &str) -> Option<HouseholdStatus> {
    let c = fold(cell.trim());
    Some(match c.as_str() {
        "khong ngheo" | "ho khong ngheo" | "not poor" | "not_poor" => HouseholdStatus::NotPoor,
        "" | "chua ra soat" | "not reviewed" | "not_reviewed" => HouseholdStatus::NotReviewed,
        "ngheo" | "ho ngheo" | "poor" => HouseholdStatus::Poor,
        "can ngheo" | "ho can ngheo" | "near-poor" | "near poor" | "near_poor" => {
            HouseholdStatus::NearPoor
        }
        "moi thoat ngheo" | "ho moi thoat ngheo" | "newly escaped" | "newly_escaped" => {
            HouseholdStatus::NewlyEscaped
        }
        "trung binh" | "ho co muc song trung binh" | "average" => HouseholdStatus::Average,
        _ => return None,
    })
}

/// Checks a whole table (the first row is the header): the valid rows, and every problem
/// of every row. `taken` are the keys (`household::code_key`) of the codes already
/// registered in the commune; codes are compared by their keys.
pub fn check(
    table: &[Vec<String>],
    villages: &[VillageRef],
    taken: &std::collections::BTreeSet<String>,
) -> (Vec<ImportRow>, Vec<RowError>) {
    let mut errors = Vec::new();
    let Some(header) = table.first() else {
        errors.push(err(
            1,
            "",
            "Tệp không có dòng nào.",
            "The file has no rows.",
        ));
        return (vec![], errors);
    };
    let mut cols: BTreeMap<usize, (Col, String)> = BTreeMap::new();
    for (i, h) in header.iter().enumerate().take(MAX_COLUMNS) {
        if let Some(c) = column_of(h) {
            if cols.values().any(|(k, _)| *k == c) {
                errors.push(err(
                    1,
                    h,
                    "Cột này xuất hiện hai lần.",
                    "This column appears twice.",
                ));
            }
            cols.insert(i, (c, h.trim().to_string()));
        }
    }
    for (need, vi, en) in [
        (Col::Code, "Mã hộ", "Household code"),
        (Col::Head, "Họ tên chủ hộ", "Head of household"),
        (Col::Village, "Thôn", "Village"),
    ] {
        if !cols.values().any(|(c, _)| *c == need) {
            errors.push(err(
                1,
                vi,
                format!("Thiếu cột \"{vi}\"."),
                format!("The column \"{en}\" ({vi}) is missing."),
            ));
        }
    }
    if !errors.is_empty() {
        return (vec![], errors);
    }
    let rows = &table[1..];
    if rows.len() > MAX_ROWS {
        errors.push(err(
            MAX_ROWS + 2,
            "",
            format!("Tệp có hơn {MAX_ROWS} dòng; mỗi lần nhập tối đa {MAX_ROWS} dòng."),
            format!("The file has more than {MAX_ROWS} rows; at most {MAX_ROWS} per import."),
        ));
        return (vec![], errors);
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut valid = Vec::new();
    for (i, cells) in rows.iter().enumerate() {
        let row = i + 2;
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut found: BTreeMap<&'static str, (String, String)> = BTreeMap::new();
        let mut row_errors = Vec::new();
        for (&i, (c, h)) in &cols {
            let cell = cells.get(i).map(String::as_str).unwrap_or_default();
            if cell.chars().count() > MAX_CELL_CHARS {
                row_errors.push(err(row, h, "Ô quá dài.", "The cell is too long."));
                continue;
            }
            let key = match c {
                Col::Code => "code",
                Col::Head => "head_name",
                Col::Village => "village_id",
                Col::Address => "address",
                Col::Residence => "residence",
                Col::Status => "status",
                Col::EthnicMinority => "ethnic_minority",
                Col::WomanHeaded => "woman_headed",
            };
            found.insert(key, (cell.trim().to_string(), h.clone()));
        }
        let get = |k: &str| found.get(k).map(|(v, _)| v.clone()).unwrap_or_default();
        let header_of = |k: &str, default: &str| {
            found
                .get(k)
                .map_or_else(|| default.to_string(), |(_, h)| h.clone())
        };
        let village_cell = get("village_id");
        let folded = fold(&village_cell);
        let village = villages
            .iter()
            .find(|v| v.code == village_cell || fold(&v.name) == folded || v.id == village_cell);
        if village.is_none() && !village_cell.is_empty() {
            row_errors.push(err(
                row,
                &header_of("village_id", "Thôn"),
                format!("Không có thôn \"{village_cell}\" trong xã."),
                format!("There is no village \"{village_cell}\" in the commune."),
            ));
        }
        let residence = match fold(&get("residence")).as_str() {
            "" | "nong thon" | "rural" => Some(Residence::Rural),
            "thanh thi" | "urban" => Some(Residence::Urban),
            _ => None,
        };
        if residence.is_none() {
            row_errors.push(err(
                row,
                &header_of("residence", "Khu vực"),
                "Khu vực phải là \"nông thôn\" hoặc \"thành thị\".",
                "The area must be \"nông thôn\" (rural) or \"thành thị\" (urban).",
            ));
        }
        let status = status_of(&get("status"));
        if status.is_none() {
            row_errors.push(err(
                row,
                &header_of("status", "Phân loại"),
                "Phân loại không rõ; dùng \"hộ nghèo\", \"hộ cận nghèo\", \"hộ mới thoát nghèo\", \"trung bình\", \"không nghèo\" hoặc để trống (chưa rà soát).",
                "Unknown status; use \"hộ nghèo\" (poor), \"hộ cận nghèo\" (near-poor), \"hộ mới thoát nghèo\", \"trung bình\", \"không nghèo\" or leave it empty (not reviewed yet).",
            ));
        }
        let mut priority = PriorityFlags::default();
        for (key, flag, vi, en) in [
            (
                "ethnic_minority",
                &mut priority.ethnic_minority,
                "Dân tộc thiểu số",
                "Ethnic minority",
            ),
            (
                "woman_headed",
                &mut priority.woman_headed,
                "Chủ hộ là nữ",
                "Woman-headed",
            ),
        ] {
            match yes(&get(key)) {
                Some(v) => *flag = v,
                None => row_errors.push(err(
                    row,
                    &header_of(key, vi),
                    format!("\"{vi}\": ghi x hoặc để trống."),
                    format!("\"{en}\": write x or leave it empty."),
                )),
            }
        }
        let input = HouseholdInput {
            code: get("code"),
            village_id: village.map(|v| v.id.clone()).unwrap_or_default(),
            address: get("address"),
            head_name: get("head_name"),
            residence: residence.unwrap_or(Residence::Rural),
            priority,
            causes: vec![],
        };
        if let Err(v) = input.validate() {
            for f in v.0 {
                if f.field == "village_id" && !village_cell.is_empty() {
                    continue; // already said: no such village
                }
                let column = match f.field.as_str() {
                    "code" => header_of("code", "Mã hộ"),
                    "head_name" => header_of("head_name", "Họ tên chủ hộ"),
                    "village_id" => header_of("village_id", "Thôn"),
                    "address" => header_of("address", "Địa chỉ"),
                    other => other.to_string(),
                };
                row_errors.push(RowError {
                    row,
                    column,
                    message: f.message,
                });
            }
        }
        let code = input.code.clone();
        let key = crate::household::code_key(&code);
        if !key.is_empty() {
            if let Some(first) = seen.get(&key) {
                row_errors.push(err(
                    row,
                    &header_of("code", "Mã hộ"),
                    format!("Mã hộ {code} trùng với dòng {first}."),
                    format!("Household code {code} repeats row {first}."),
                ));
            } else if taken.contains(&key) {
                row_errors.push(err(
                    row,
                    &header_of("code", "Mã hộ"),
                    format!("Mã hộ {code} đã có trong sổ của xã."),
                    format!("Household code {code} is already in the commune's register."),
                ));
            }
            seen.entry(key).or_insert(row);
        }
        if row_errors.is_empty() {
            valid.push(ImportRow {
                row,
                input,
                status: status.unwrap_or(HouseholdStatus::NotReviewed),
            });
        } else {
            errors.extend(row_errors);
        }
    }
    (valid, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn villages() -> Vec<VillageRef> {
        vec![VillageRef {
            id: "v1".into(),
            code: "01".into(),
            name: "Thôn Nà Rì".into(),
        }]
    }

    fn table(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    }

    #[test]
    fn a_good_file_reads_whole_and_a_bad_row_is_named_with_its_column() {
        let t = table(&[
            &["Mã hộ", "Họ tên chủ hộ", "Thôn", "Phân loại", "Khu vực"],
            &[
                "NR-001",
                "Hoàng Văn Páo",
                "Thôn Nà Rì",
                "Hộ nghèo",
                "nông thôn",
            ],
            &["NR-002", "Lý Thị Mai", "01", "cận nghèo", ""],
            &["NR-003", "Vàng A Sử", "Bản Không Có", "", ""],
            &["NR-001", "", "Nà Rì", "giàu", "núi"],
        ]);
        let taken = BTreeSet::from(["NR-900".to_string()]);
        let (ok, errors) = check(&t, &villages(), &taken);
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].status, HouseholdStatus::Poor);
        assert_eq!(ok[1].status, HouseholdStatus::NearPoor);
        assert_eq!(ok[1].input.village_id, "v1");
        assert!(errors.iter().any(|e| e.row == 4 && e.column == "Thôn"));
        let row5: BTreeSet<&str> = errors
            .iter()
            .filter(|e| e.row == 5)
            .map(|e| e.column.as_str())
            .collect();
        assert_eq!(
            row5,
            BTreeSet::from(["Mã hộ", "Họ tên chủ hộ", "Thôn", "Phân loại", "Khu vực"])
        );
    }

    #[test]
    fn missing_columns_and_taken_codes_are_refused() {
        let (ok, errors) = check(&table(&[&["Tên"], &["x"]]), &villages(), &BTreeSet::new());
        assert!(ok.is_empty());
        assert_eq!(errors.len(), 3, "{errors:?}");
        let t = table(&[&["ma ho", "chu ho", "thon"], &["NR-900", "A", "01"]]);
        let taken = BTreeSet::from([crate::household::code_key("nr-900")]);
        let (ok, errors) = check(&t, &villages(), &taken);
        assert!(ok.is_empty());
        assert_eq!(errors[0].row, 2);
    }

    #[test]
    fn a_code_repeated_in_another_case_or_unicode_form_is_refused() {
        let t = table(&[
            &["ma ho", "chu ho", "thon"],
            &["ĐV-01", "A", "01"],
            &[" đv-01", "B", "01"],
            &["\u{110}V-01", "C", "01"],
            &["Đo\u{302}-2", "D", "01"],
            &["đô-2", "E", "01"],
        ]);
        let (ok, errors) = check(&t, &villages(), &BTreeSet::new());
        let rows: Vec<usize> = ok.iter().map(|r| r.row).collect();
        assert_eq!(rows, vec![2, 5], "{errors:?}");
        let refused: BTreeSet<usize> = errors.iter().map(|e| e.row).collect();
        assert_eq!(refused, BTreeSet::from([3, 4, 6]));
    }

    proptest! {
        /// Whatever the cells, every non-empty row is either taken or has a reason, and a
        /// taken row passes the same validation as a form.
        #[test]
        fn every_row_is_taken_or_explained(
            rows in proptest::collection::vec(proptest::collection::vec("[ -~àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễđ]{0,12}", 0..6), 0..20)
        ) {
            let mut t = vec![vec!["Mã hộ".to_string(), "Chủ hộ".into(), "Thôn".into(), "Phân loại".into(), "Khu vực".into()]];
            t.extend(rows.iter().cloned());
            let (ok, errors) = check(&t, &villages(), &BTreeSet::new());
            for r in &ok {
                prop_assert!(r.input.validate().is_ok());
                prop_assert!(!errors.iter().any(|e| e.row == r.row));
            }
            for (i, cells) in rows.iter().enumerate() {
                let row = i + 2;
                let blank = cells.iter().all(|c| c.trim().is_empty());
                let taken = ok.iter().any(|r| r.row == row);
                let explained = errors.iter().any(|e| e.row == row);
                prop_assert!(blank || taken != explained, "row {row}: {cells:?}");
            }
        }
    }
}
