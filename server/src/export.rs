//! A report as the files the commune sends upward: an XLSX workbook with Vietnamese labels
//! and number formats (one sheet per part, the households behind the figures last), and a
//! CSV of the same tables for other tools.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet, XlsxError};
use shared::household::HouseholdStatus;
use shared::report::flows;
use shared::report::{AreaRow, Movement, Report};

/// The summary sheet's name, which the tests read back.
pub const SUMMARY: &str = "Tổng hợp";
/// The movement table's sheet.
pub const MOVEMENT: &str = "Biến động";

/// A cell of the movement table.
pub enum MovementCell {
    Text(String),
    Count(usize),
    /// start + inflows − outflows − end (0 when the row adds up).
    Check(i64),
}

impl MovementCell {
    /// The cell as text (CSV, `donghanh movements`).
    pub fn text(self) -> String {
        match self {
            MovementCell::Text(t) => t,
            MovementCell::Count(n) => n.to_string(),
            MovementCell::Check(v) => v.to_string(),
        }
    }
}

/// The movement table's header: area, category, start, each inflow, all inflows, each
/// outflow, all outflows, end, check.
pub fn movement_header() -> Vec<String> {
    let (ins, outs) = flows::columns();
    let mut h = vec!["Địa bàn".to_string(), "Diện hộ".into(), "Đầu kỳ".into()];
    h.extend(ins.iter().map(|k| format!("Tăng: {}", k.label(true).vi)));
    h.push("Tổng tăng".into());
    h.extend(outs.iter().map(|k| format!("Giảm: {}", k.label(false).vi)));
    h.push("Tổng giảm".into());
    h.push("Cuối kỳ".into());
    h.push("Kiểm tra (= 0)".into());
    h
}

/// The spreadsheet columns (A, B, …) of start, all inflows, all outflows and end.
fn movement_columns() -> (String, String, String, String) {
    let (ins, outs) = flows::columns();
    let letter = |i: usize| ((b'A' + i as u8) as char).to_string();
    let total_in = 3 + ins.len();
    let total_out = total_in + 1 + outs.len();
    (
        letter(2),
        letter(total_in),
        letter(total_out),
        letter(total_out + 1),
    )
}

/// One line per area (the total last) and category.
pub fn movement_rows(r: &Report) -> Vec<Vec<MovementCell>> {
    let (ins, outs) = flows::columns();
    let mut out = vec![];
    for (x, name) in r
        .rows
        .iter()
        .map(|x| (x, x.name.clone()))
        .chain([(&r.total, "Tổng cộng".to_string())])
    {
        for cf in &x.flows {
            let mut cells = vec![
                MovementCell::Text(name.clone()),
                MovementCell::Text(cf.category.label().vi),
                MovementCell::Count(cf.start),
            ];
            cells.extend(ins.iter().map(|k| MovementCell::Count(cf.inflow_of(*k))));
            cells.push(MovementCell::Count(cf.inflow()));
            cells.extend(outs.iter().map(|k| MovementCell::Count(cf.outflow_of(*k))));
            cells.push(MovementCell::Count(cf.outflow()));
            cells.push(MovementCell::Count(cf.end));
            cells.push(MovementCell::Check(cf.check()));
            out.push(cells);
        }
    }
    out
}

/// Columns of the summary sheet: label and how to read the figure from a row.
pub fn summary_columns() -> Vec<(&'static str, Figure)> {
    vec![
        ("Số hộ đầu kỳ", Figure::Count(|r| r.households_start)),
        ("Hộ nghèo đầu kỳ", Figure::Count(|r| r.poor_start)),
        (
            "Tỷ lệ hộ nghèo đầu kỳ",
            Figure::Rate(AreaRow::poor_rate_start),
        ),
        ("Hộ cận nghèo đầu kỳ", Figure::Count(|r| r.near_poor_start)),
        (
            "Tỷ lệ hộ cận nghèo đầu kỳ",
            Figure::Rate(AreaRow::near_poor_rate_start),
        ),
        ("Số hộ cuối kỳ", Figure::Count(|r| r.households_end)),
        ("Hộ nghèo cuối kỳ", Figure::Count(|r| r.poor_end)),
        (
            "Tỷ lệ hộ nghèo cuối kỳ",
            Figure::Rate(AreaRow::poor_rate_end),
        ),
        (
            "Chỉ tiêu tỷ lệ hộ nghèo",
            Figure::Target(|r| r.target_poor_pct),
        ),
        ("Hộ cận nghèo cuối kỳ", Figure::Count(|r| r.near_poor_end)),
        (
            "Tỷ lệ hộ cận nghèo cuối kỳ",
            Figure::Rate(AreaRow::near_poor_rate_end),
        ),
        (
            "Chỉ tiêu tỷ lệ hộ cận nghèo",
            Figure::Target(|r| r.target_near_poor_pct),
        ),
        ("Thoát nghèo", Figure::Count(|r| r.escaped)),
        ("Nghèo phát sinh", Figure::Count(|r| r.newly_poor)),
        ("Tái nghèo", Figure::Count(|r| r.fell_back)),
        ("Cận nghèo phát sinh", Figure::Count(|r| r.newly_near_poor)),
        ("Thoát cận nghèo", Figure::Count(|r| r.left_near_poor)),
    ]
}

/// How a summary column reads a row: a count, a rate in percent, or a target in percent.
#[derive(Clone, Copy)]
pub enum Figure {
    Count(fn(&AreaRow) -> usize),
    Rate(fn(&AreaRow) -> f64),
    Target(fn(&AreaRow) -> Option<f64>),
}

impl Figure {
    /// The value as the sheet holds it: rates as fractions (shown as percentages).
    pub fn value(self, r: &AreaRow) -> Option<f64> {
        match self {
            Figure::Count(f) => Some(f(r) as f64),
            Figure::Rate(f) => Some(f(r) / 100.0),
            Figure::Target(f) => f(r).map(|p| p / 100.0),
        }
    }
}

fn status_vi(s: HouseholdStatus) -> String {
    s.label().vi
}

fn moves_vi(m: &[Movement]) -> String {
    m.iter()
        .map(|m| m.label().vi)
        .collect::<Vec<_>>()
        .join(", ")
}

struct Styles {
    title: Format,
    head: Format,
    count: Format,
    rate: Format,
    money: Format,
    date: Format,
    total: Format,
}

fn styles() -> Styles {
    let head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin)
        .set_background_color(0xE8F0E8);
    Styles {
        title: Format::new().set_bold().set_font_size(14),
        head,
        count: Format::new().set_num_format("#,##0"),
        rate: Format::new().set_num_format("0.00%"),
        money: Format::new().set_num_format("#,##0 \"đ\""),
        date: Format::new().set_num_format("dd/mm/yyyy"),
        total: Format::new().set_bold().set_num_format("#,##0"),
    }
}

fn header(ws: &mut Worksheet, st: &Styles, row: u32, labels: &[&str]) -> Result<(), XlsxError> {
    for (c, l) in labels.iter().enumerate() {
        ws.write_with_format(row, c as u16, *l, &st.head)?;
    }
    ws.set_row_height(row, 45)?;
    Ok(())
}

fn titled(
    wb: &mut Workbook,
    st: &Styles,
    name: &str,
    r: &Report,
    what: &str,
) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    ws.write_with_format(0, 0, format!("{} — {}", r.title.vi, r.area_name), &st.title)?;
    ws.write(
        1,
        0,
        format!(
            "{what}. Kỳ báo cáo: {} – {}",
            r.from.format("%d/%m/%Y"),
            r.to.format("%d/%m/%Y")
        ),
    )?;
    Ok(())
}

/// The report as an XLSX workbook.
pub fn xlsx(r: &Report) -> Result<Vec<u8>, XlsxError> {
    let st = styles();
    let mut wb = Workbook::new();
    let area_name = |id: &str| {
        r.rows
            .iter()
            .find(|x| x.area_id == id)
            .map_or_else(|| id.to_string(), |x| x.name.clone())
    };

    titled(
        &mut wb,
        &st,
        SUMMARY,
        r,
        "Số hộ, tỷ lệ và biến động theo địa bàn",
    )?;
    {
        let ws = wb.worksheet_from_name(SUMMARY)?;
        let cols = summary_columns();
        let mut labels = vec!["Địa bàn"];
        labels.extend(cols.iter().map(|c| c.0));
        header(ws, &st, 3, &labels)?;
        ws.set_column_width(0, 24)?;
        for c in 1..=cols.len() as u16 {
            ws.set_column_width(c, 12)?;
        }
        let all = r.rows.iter().map(|x| (x, false)).chain([(&r.total, true)]);
        for (row, (x, bold)) in (4u32..).zip(all) {
            let name = if bold {
                "Tổng cộng".to_string()
            } else {
                x.name.clone()
            };
            ws.write_with_format(row, 0, name, if bold { &st.total } else { &st.count })?;
            for (c, (_, fig)) in cols.iter().enumerate() {
                let fmt = match fig {
                    Figure::Count(_) if bold => &st.total,
                    Figure::Count(_) => &st.count,
                    _ => &st.rate,
                };
                if let Some(v) = fig.value(x) {
                    ws.write_with_format(row, c as u16 + 1, v, fmt)?;
                }
            }
        }
    }

    titled(
        &mut wb,
        &st,
        MOVEMENT,
        r,
        "Biến động theo diện hộ: đầu kỳ + tăng − giảm = cuối kỳ (cột Kiểm tra bằng 0)",
    )?;
    {
        let ws = wb.worksheet_from_name(MOVEMENT)?;
        let head = movement_header();
        let labels: Vec<&str> = head.iter().map(String::as_str).collect();
        header(ws, &st, 3, &labels)?;
        ws.set_column_width(0, 24)?;
        ws.set_column_width(1, 22)?;
        let (start, total_in, total_out, end) = movement_columns();
        for (row, cells) in (4u32..).zip(movement_rows(r)) {
            let n = row + 1;
            for (c, cell) in (0u16..).zip(&cells) {
                match cell {
                    MovementCell::Text(t) => ws.write(row, c, t)?,
                    MovementCell::Count(v) => ws.write_with_format(row, c, *v as f64, &st.count)?,
                    // start + inflows − outflows − end, computed by the spreadsheet itself.
                    MovementCell::Check(v) => ws.write_formula(
                        row,
                        c,
                        Formula::new(format!("={start}{n}+{total_in}{n}-{total_out}{n}-{end}{n}"))
                            .set_result(v.to_string()),
                    )?,
                };
            }
        }
    }

    titled(
        &mut wb,
        &st,
        "Nguyên nhân",
        r,
        "Nguyên nhân nghèo của hộ nghèo cuối kỳ",
    )?;
    {
        let ws = wb.worksheet_from_name("Nguyên nhân")?;
        header(ws, &st, 3, &["Nguyên nhân", "Số hộ"])?;
        ws.set_column_width(0, 48)?;
        for (i, c) in r.causes.iter().enumerate() {
            ws.write(4 + i as u32, 0, &c.label.vi)?;
            ws.write_with_format(4 + i as u32, 1, c.households as f64, &st.count)?;
        }
    }

    titled(
        &mut wb,
        &st,
        "Hỗ trợ",
        r,
        "Hỗ trợ đã trao theo dự án của Chương trình",
    )?;
    {
        let ws = wb.worksheet_from_name("Hỗ trợ")?;
        header(ws, &st, 3, &["Dự án", "Số lượt", "Số hộ hưởng", "Kinh phí"])?;
        ws.set_column_width(0, 48)?;
        ws.set_column_width(3, 18)?;
        for (row, s) in (4u32..).zip(&r.support) {
            ws.write(row, 0, &s.label.vi)?;
            ws.write_with_format(row, 1, s.actions as f64, &st.count)?;
            ws.write_with_format(row, 2, s.beneficiaries as f64, &st.count)?;
            ws.write_with_format(row, 3, s.amount_vnd as f64, &st.money)?;
        }
    }

    titled(
        &mut wb,
        &st,
        "Thăm hộ",
        r,
        "Số lần thăm hộ của cán bộ kèm cặp",
    )?;
    {
        let ws = wb.worksheet_from_name("Thăm hộ")?;
        header(ws, &st, 3, &["Cán bộ", "Số lần thăm", "Số hộ được thăm"])?;
        ws.set_column_width(0, 30)?;
        for (i, v) in r.visits.iter().enumerate() {
            ws.write(4 + i as u32, 0, &v.cadre)?;
            ws.write_with_format(4 + i as u32, 1, v.visits as f64, &st.count)?;
            ws.write_with_format(4 + i as u32, 2, v.households as f64, &st.count)?;
        }
    }

    titled(
        &mut wb,
        &st,
        "Mới thoát nghèo",
        r,
        "Hộ mới thoát nghèo trong 36 tháng hưởng chính sách",
    )?;
    {
        let ws = wb.worksheet_from_name("Mới thoát nghèo")?;
        header(
            ws,
            &st,
            3,
            &[
                "Mã hộ",
                "Chủ hộ",
                "Địa bàn",
                "Ngày thoát nghèo",
                "Hết 36 tháng",
            ],
        )?;
        ws.set_column_width(1, 28)?;
        ws.set_column_width(2, 20)?;
        ws.set_column_width(3, 14)?;
        ws.set_column_width(4, 14)?;
        for (i, h) in r.in_window().enumerate() {
            let row = 4 + i as u32;
            ws.write(row, 0, &h.code)?;
            ws.write(row, 1, &h.head_name)?;
            ws.write(row, 2, area_name(&h.area_id))?;
            if let Some(d) = h.escaped_on {
                ws.write_with_format(row, 3, &d, &st.date)?;
            }
            if let Some(d) = h.window_until {
                ws.write_with_format(row, 4, &d, &st.date)?;
            }
        }
    }

    if !r.households.is_empty() {
        titled(
            &mut wb,
            &st,
            "Danh sách hộ",
            r,
            "Các hộ đứng sau mỗi số liệu",
        )?;
        let ws = wb.worksheet_from_name("Danh sách hộ")?;
        header(
            ws,
            &st,
            3,
            &[
                "Mã hộ",
                "Chủ hộ",
                "Địa bàn",
                "Đầu kỳ",
                "Cuối kỳ",
                "Biến động",
            ],
        )?;
        ws.set_column_width(1, 28)?;
        ws.set_column_width(2, 20)?;
        ws.set_column_width(3, 22)?;
        ws.set_column_width(4, 22)?;
        ws.set_column_width(5, 28)?;
        for (i, h) in r.households.iter().enumerate() {
            let row = 4 + i as u32;
            ws.write(row, 0, &h.code)?;
            ws.write(row, 1, &h.head_name)?;
            ws.write(row, 2, area_name(&h.area_id))?;
            ws.write(
                row,
                3,
                h.start
                    .map_or_else(|| "Chưa đăng ký".to_string(), status_vi),
            )?;
            ws.write(row, 4, status_vi(h.end))?;
            ws.write(row, 5, moves_vi(&h.movements))?;
        }
    }
    wb.save_to_buffer()
}

/// Every commune's movement table for `period` of `year` as text, one line per area and
/// category (`donghanh movements`); a line that does not add up says CHECK FAILED.
pub async fn movement_text(
    store: &dyn crate::Store,
    year: i32,
    period: shared::report::Period,
) -> Result<String, crate::error::AppError> {
    use std::fmt::Write;
    let mut out = String::new();
    let communes = store
        .list_areas()
        .await?
        .into_iter()
        .filter(|a| a.kind == shared::area::AreaKind::Commune);
    for commune in communes {
        let (name, facts) = crate::api::reports::facts(store, &commune.id, year, period).await?;
        let r = shared::report::build((&commune.id, &name), year, period, &facts);
        let _ = writeln!(out, "{} — {}", r.title.en, name);
        let _ = writeln!(out, "{}", movement_header().join(" | "));
        for cells in movement_rows(&r) {
            let failed = cells
                .iter()
                .any(|c| matches!(c, MovementCell::Check(v) if *v != 0));
            let line: Vec<String> = cells.into_iter().map(MovementCell::text).collect();
            let _ = writeln!(
                out,
                "{}{}",
                line.join(" | "),
                if failed { "  CHECK FAILED" } else { "" }
            );
        }
        let _ = writeln!(out);
    }
    Ok(out)
}

/// A cell a spreadsheet program will not run as a formula (OWASP, CSV injection): text that
/// begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, which the
/// program shows as text. A number (`-3`, `2.50`) is left as it is.
pub fn csv_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The report's tables as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read
/// the Vietnamese letters), each table after a line naming it.
pub fn csv(r: &Report) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(vec![0xEF, 0xBB, 0xBF]);
    let mut line = |cells: Vec<String>| {
        // Writing to memory cannot fail.
        let _ = w.write_record(cells.iter().map(|c| csv_safe(c).into_owned()));
    };
    line(vec![format!("{} — {}", r.title.vi, r.area_name)]);
    line(vec![SUMMARY.to_string()]);
    let cols = summary_columns();
    let mut head = vec!["Địa bàn".to_string()];
    head.extend(cols.iter().map(|c| c.0.to_string()));
    line(head);
    for (x, name) in r
        .rows
        .iter()
        .map(|x| (x, x.name.clone()))
        .chain([(&r.total, "Tổng cộng".to_string())])
    {
        let mut cells = vec![name];
        for (_, fig) in &cols {
            cells.push(match fig {
                Figure::Count(f) => f(x).to_string(),
                Figure::Rate(f) => format!("{:.2}", f(x)),
                Figure::Target(f) => f(x).map_or_else(String::new, |v| format!("{v:.2}")),
            });
        }
        line(cells);
    }
    line(vec![]);
    line(vec![MOVEMENT.to_string()]);
    line(movement_header());
    for cells in movement_rows(r) {
        line(cells.into_iter().map(MovementCell::text).collect());
    }
    line(vec![]);
    line(vec!["Nguyên nhân".into(), "Số hộ".into()]);
    for c in &r.causes {
        line(vec![c.label.vi.clone(), c.households.to_string()]);
    }
    line(vec![]);
    line(vec![
        "Dự án".into(),
        "Số lượt".into(),
        "Số hộ hưởng".into(),
        "Kinh phí (đồng)".into(),
    ]);
    for s in &r.support {
        line(vec![
            s.label.vi.clone(),
            s.actions.to_string(),
            s.beneficiaries.to_string(),
            s.amount_vnd.to_string(),
        ]);
    }
    line(vec![]);
    line(vec![
        "Cán bộ".into(),
        "Số lần thăm".into(),
        "Số hộ được thăm".into(),
    ]);
    for v in &r.visits {
        line(vec![
            v.cadre.clone(),
            v.visits.to_string(),
            v.households.to_string(),
        ]);
    }
    line(vec![]);
    line(vec![
        "Mã hộ".into(),
        "Chủ hộ".into(),
        "Đầu kỳ".into(),
        "Cuối kỳ".into(),
        "Biến động".into(),
        "Hết 36 tháng".into(),
    ]);
    for h in &r.households {
        line(vec![
            h.code.clone(),
            h.head_name.clone(),
            h.start.map_or_else(String::new, status_vi),
            status_vi(h.end),
            moves_vi(&h.movements),
            h.window_until
                .filter(|_| h.in_window)
                .map_or_else(String::new, |d| d.format("%d/%m/%Y").to_string()),
        ]);
    }
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::csv_safe;

    #[test]
    fn a_formula_is_written_as_text_and_a_number_as_it_is() {
        for f in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+1+2",
            "-2+cmd|' /C calc'!A0",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(csv_safe(f), format!("'{f}"));
        }
        for ok in ["-3", "2.50", "Lò Văn Páo", "", "a=b"] {
            assert_eq!(csv_safe(ok), ok);
        }
    }
}
