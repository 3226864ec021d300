//! Per-field validation shared by the phone forms and the server API, so a person sees the
//! same reason in the same words wherever the input is checked.

use crate::Text;
use serde::{Deserialize, Serialize};

/// Days a recorded date may lie after the checker's today.
pub const DATE_AHEAD_DAYS: i64 = 1;

/// One problem with one field of an input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// Field path as sent, e.g. `members[2].birth_year`.
    pub field: String,
    /// Stable machine code, e.g. `required`, `too_long`, `out_of_range`.
    pub code: String,
    pub message: Text,
}

/// All problems found in one input; empty means valid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn push(&mut self, field: impl Into<String>, code: &str, message: Text) {
        self.0.push(FieldError {
            field: field.into(),
            code: code.to_string(),
            message,
        });
    }

    /// Errors of a nested record, with their field paths prefixed.
    pub fn nest(&mut self, prefix: &str, inner: ValidationErrors) {
        for mut e in inner.0 {
            e.field = format!("{prefix}.{}", e.field);
            self.0.push(e);
        }
    }

    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }

    /// A non-empty, trimmed text of at most `max` characters.
    pub fn required_text(&mut self, field: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.push(
                field,
                "required",
                Text::new("Không được để trống.", "This field is required."),
            );
        } else {
            self.max_len(field, value, max);
        }
    }

    /// At most `max` characters (not bytes: Vietnamese letters are several bytes).
    pub fn max_len(&mut self, field: &str, value: &str, max: usize) {
        if value.chars().count() > max {
            self.push(
                field,
                "too_long",
                Text::new(
                    format!("Quá dài: tối đa {max} ký tự."),
                    format!("Too long: at most {max} characters."),
                ),
            );
        }
    }

    pub fn range_i64(&mut self, field: &str, value: i64, min: i64, max: i64) {
        if value < min || value > max {
            self.push(
                field,
                "out_of_range",
                Text::new(
                    format!("Giá trị phải từ {min} đến {max}."),
                    format!("Must be between {min} and {max}."),
                ),
            );
        }
    }

    pub fn range_f64(&mut self, field: &str, value: f64, min: f64, max: f64) {
        if !value.is_finite() || value < min || value > max {
            self.push(
                field,
                "out_of_range",
                Text::new(
                    format!("Giá trị phải từ {min} đến {max}."),
                    format!("Must be between {min} and {max}."),
                ),
            );
        }
    }

    /// A date any record may carry: 1900 to 2100. Year 1, or 9999, is a slip of the
    /// keyboard or a hostile value, never a date of this programme.
    pub fn in_calendar(&mut self, field: &str, date: chrono::NaiveDate) {
        if !(EARLIEST..=LATEST).contains(&date) {
            self.push(
                field,
                "out_of_range",
                Text::new(
                    "Ngày phải từ năm 1900 đến năm 2100.",
                    "The date must be between the years 1900 and 2100.",
                ),
            );
        }
    }

    /// A date that has happened (the date of a fact: a visit, a meeting, a decision, a
    /// delivery): in the calendar and not after `today` by more than [`DATE_AHEAD_DAYS`]
    /// (phones' clocks and time zones differ by hours, not days).
    pub fn not_ahead(&mut self, field: &str, date: chrono::NaiveDate, today: chrono::NaiveDate) {
        if date < EARLIEST {
            self.in_calendar(field, date);
        } else if date > today + chrono::Duration::days(DATE_AHEAD_DAYS) {
            self.push(
                field,
                "future_date",
                Text::new(
                    "Ngày này chưa tới; không ghi trước được.",
                    "This date is in the future; it cannot be recorded ahead.",
                ),
            );
        }
    }

    /// `later` must not be before `earlier`.
    pub fn date_order(
        &mut self,
        field: &str,
        earlier: chrono::NaiveDate,
        later: Option<chrono::NaiveDate>,
    ) {
        if let Some(later) = later
            && later < earlier
        {
            self.push(
                field,
                "date_order",
                Text::new(
                    "Ngày kết thúc không được trước ngày bắt đầu.",
                    "The end date cannot be before the start date.",
                ),
            );
        }
    }
}

/// The earliest date a record may carry.
pub const EARLIEST: chrono::NaiveDate = chrono::NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid");
/// The latest date a record may carry (a plan's due date, an assignment's end).
pub const LATEST: chrono::NaiveDate = chrono::NaiveDate::from_ymd_opt(2100, 12, 31).expect("valid");

/// A record that can check itself before it is stored or sent.
pub trait Validate {
    fn validate(&self) -> Result<(), ValidationErrors>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_characters_not_bytes() {
        let mut e = ValidationErrors::default();
        e.max_len("name", "Nguyễn Thị Hường", 16);
        assert!(e.is_empty(), "16 Vietnamese letters fit in 16");
        e.max_len("name", "Nguyễn Thị Hường!", 16);
        assert_eq!(e.0.len(), 1);
        assert_eq!(e.0[0].code, "too_long");
    }

    #[test]
    fn blank_text_is_required() {
        let mut e = ValidationErrors::default();
        e.required_text("head_name", "   ", 100);
        assert_eq!(e.0[0].code, "required");
        assert!(!e.0[0].message.vi.is_empty() && !e.0[0].message.en.is_empty());
    }
}
