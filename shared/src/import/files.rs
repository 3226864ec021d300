//! The spreadsheet file of a household import turned into a grid of cells, bounded by what
//! the file really holds and by a budget the reading checks itself: the archive's parts
//! are inflated with a cap before calamine sees them, a cell's text is cut as it is read
//! (a shared string referenced by every cell is never copied whole per cell), the grid's
//! rows, columns and total text are bounded, and the work stops as soon as its request has
//! ended or its time is spent. Native only (the server and the fuzz target).

use super::{MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS};
use crate::Text;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Largest inflated part of an XLSX archive: a 5,000-row sheet is a few MB.
pub const MAX_INFLATED: u64 = 16 * 1024 * 1024;
/// All parts of an archive together, inflated.
const MAX_INFLATED_TOTAL: u64 = 2 * MAX_INFLATED;
/// Parts of an XLSX archive (a workbook has a handful).
const MAX_PARTS: usize = 64;
/// Bytes of cell text in the whole grid: 5,000 full rows of a real list are a few MB.
pub const MAX_GRID_BYTES: usize = 32 * 1024 * 1024;
/// Cells read between two looks at the budget.
const CHECK_EVERY: usize = 256;

/// When reading must stop: a deadline, and a flag the request sets when it ends (answered
/// elsewhere, cancelled by its client or timed out), so no reading outlives its request.
#[derive(Debug, Clone)]
pub struct Budget {
    deadline: Instant,
    ended: Arc<AtomicBool>,
}

/// Held by the request; dropping it ends the budget's work.
#[derive(Debug)]
pub struct EndOnDrop(Arc<AtomicBool>);

impl Drop for EndOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Budget {
    /// A budget of `time`, ended early when the returned guard is dropped.
    pub fn new(time: Duration) -> (Budget, EndOnDrop) {
        let ended = Arc::new(AtomicBool::new(false));
        (
            Budget {
                deadline: Instant::now() + time,
                ended: ended.clone(),
            },
            EndOnDrop(ended),
        )
    }

    /// Whether the work must stop now.
    pub fn spent(&self) -> bool {
        self.ended.load(Ordering::Relaxed) || Instant::now() >= self.deadline
    }

    fn check(&self) -> Result<(), ReadError> {
        if self.spent() {
            Err(ReadError::Spent)
        } else {
            Ok(())
        }
    }
}

/// Why a file gave no grid.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadError {
    /// The file is not what it claims, or too large; the reason says which.
    Unreadable(Text),
    /// The request ended or its time was spent before the file was read.
    Spent,
}

fn unreadable(vi: &str, en: &str) -> ReadError {
    ReadError::Unreadable(Text::new(vi, en))
}

fn not_xlsx() -> ReadError {
    unreadable(
        "Tệp không phải là tệp Excel (.xlsx) hợp lệ.",
        "The file is not a valid Excel (.xlsx) file.",
    )
}

fn too_large() -> ReadError {
    unreadable(
        "Tệp quá lớn; hãy chia thành nhiều tệp.",
        "The file is too large; split it into several files.",
    )
}

/// A cell's text, cut to one character more than a cell may hold (so the row check can
/// say it is too long) without reading the rest of it.
fn cut(s: &str) -> String {
    match s.char_indices().nth(MAX_CELL_CHARS + 1) {
        Some((end, _)) => s[..end].to_string(),
        None => s.to_string(),
    }
}

/// A grid growing cell by cell within its bounds.
#[derive(Default)]
struct Grid {
    rows: Vec<Vec<String>>,
    bytes: usize,
}

impl Grid {
    fn put(&mut self, r: usize, col: usize, text: String) -> Result<(), ReadError> {
        self.bytes += text.len();
        if self.bytes > MAX_GRID_BYTES {
            return Err(too_large());
        }
        if self.rows.len() <= r {
            self.rows.resize(r + 1, Vec::new());
        }
        let row = &mut self.rows[r];
        if row.len() <= col {
            row.resize(col + 1, String::new());
        }
        row[col] = text;
        Ok(())
    }
}

/// A CSV file (UTF-8, with or without a byte-order mark; `,` or `;` between cells).
pub fn read_csv(bytes: &[u8], budget: &Budget) -> Result<Vec<Vec<String>>, ReadError> {
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
    let mut grid = Grid::default();
    let mut record = csv::StringRecord::new();
    let mut r = 0;
    while reader
        .read_record(&mut record)
        .map_err(|_| unreadable("Tệp CSV bị lỗi định dạng.", "The CSV file is malformed."))?
    {
        if r > MAX_ROWS + 1 {
            break;
        }
        if r.is_multiple_of(CHECK_EVERY) {
            budget.check()?;
        }
        for (col, c) in record.iter().take(MAX_COLUMNS).enumerate() {
            grid.put(r, col, cut(c))?;
        }
        if grid.rows.len() <= r {
            grid.rows.resize(r + 1, Vec::new());
        }
        r += 1;
    }
    Ok(grid.rows)
}

/// Inflates every part of the archive with a cap, so calamine only ever reads an archive
/// whose real size is known to be bounded.
fn check_archive(bytes: &[u8], budget: &Budget) -> Result<(), ReadError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| not_xlsx())?;
    if archive.len() > MAX_PARTS {
        return Err(not_xlsx());
    }
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..archive.len() {
        let mut part = archive
            .by_index(i)
            .map_err(|_| not_xlsx())?
            .take(MAX_INFLATED + 1);
        let mut read = 0u64;
        loop {
            budget.check()?;
            let n = part.read(&mut buf).map_err(|_| not_xlsx())?;
            if n == 0 {
                break;
            }
            read += n as u64;
        }
        total += read;
        if read > MAX_INFLATED || total > MAX_INFLATED_TOTAL {
            return Err(unreadable(
                "Tệp Excel quá lớn khi giải nén; hãy chia thành nhiều tệp.",
                "The Excel file is too large once unpacked; split it into several files.",
            ));
        }
    }
    Ok(())
}

/// The first sheet of an XLSX file, read one cell at a time into a grid of at most
/// `MAX_ROWS + 2` rows and `MAX_COLUMNS` columns: calamine's own `Range` would allocate
/// the bounding box of every cell, which a two-cell sheet (A1 and XFD1048576) turns into
/// billions.
pub fn read_xlsx(bytes: &[u8], budget: &Budget) -> Result<Vec<Vec<String>>, ReadError> {
    use calamine::{Data, DataRef, Reader, Xlsx};
    check_archive(bytes, budget)?;
    budget.check()?;
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).map_err(|_| not_xlsx())?;
    let first = book.sheet_names().first().cloned().ok_or_else(|| {
        unreadable(
            "Tệp Excel không có trang tính nào.",
            "The Excel file has no sheet.",
        )
    })?;
    let mut cells = book
        .worksheet_cells_reader(&first)
        .map_err(|_| not_xlsx())?;
    let mut grid = Grid::default();
    let mut seen = 0usize;
    while let Some(c) = cells.next_cell().map_err(|_| not_xlsx())? {
        seen += 1;
        if seen.is_multiple_of(CHECK_EVERY) {
            budget.check()?;
        }
        let (r, col) = c.get_position();
        let (r, col) = (r as usize, col as usize);
        if r > MAX_ROWS + 1 || col >= MAX_COLUMNS {
            // Beyond the rows an import takes (the row check says so) or the columns read.
            if r > MAX_ROWS + 1 && grid.rows.len() < MAX_ROWS + 2 {
                grid.rows.resize(MAX_ROWS + 2, Vec::new());
            }
            continue;
        }
        // Text is cut where it lies: a shared string is borrowed, never copied whole.
        let text = match c.get_value() {
            DataRef::Empty => continue,
            DataRef::SharedString(s) => cut(s),
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => cut(s),
            DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            DataRef::Float(f) => f.to_string(),
            DataRef::Int(i) => i.to_string(),
            DataRef::Bool(b) => b.to_string(),
            DataRef::DateTime(d) => Data::DateTime(*d).to_string(),
            DataRef::Error(e) => e.to_string(),
        };
        grid.put(r, col, text)?;
    }
    Ok(grid.rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> (Budget, EndOnDrop) {
        Budget::new(Duration::from_secs(30))
    }

    #[test]
    fn a_long_cell_is_cut_to_one_character_past_the_limit() {
        let long = "ă".repeat(10_000);
        assert_eq!(cut(&long).chars().count(), MAX_CELL_CHARS + 1);
        assert_eq!(cut("ngắn"), "ngắn");
    }

    #[test]
    fn reading_stops_once_its_request_has_ended() {
        let (b, guard) = budget();
        drop(guard);
        let csv = "Mã hộ,Họ tên chủ hộ\nDV-1,A\n".repeat(10);
        assert_eq!(read_csv(csv.as_bytes(), &b), Err(ReadError::Spent));
        assert!(read_xlsx(b"PK not a zip", &b).is_err());
    }

    #[test]
    fn csv_rows_are_bounded() {
        let (b, _guard) = budget();
        let csv = "a,b\n".repeat(MAX_ROWS + 100);
        let rows = read_csv(csv.as_bytes(), &b).unwrap();
        assert_eq!(rows.len(), MAX_ROWS + 2);
    }
}
