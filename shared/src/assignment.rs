//! Accompaniment: a commune officer assigns a cadre to a household with a visit cadence.

use crate::{Text, Validate, ValidationErrors};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assignment {
    pub id: String,
    pub household_id: String,
    pub cadre_id: String,
    pub from_date: NaiveDate,
    pub to_date: Option<NaiveDate>,
    /// Days between expected visits (30 = monthly).
    pub cadence_days: i64,
}

impl Assignment {
    /// Whether the assignment runs on `day`.
    pub fn active_on(&self, day: NaiveDate) -> bool {
        self.from_date <= day && self.to_date.is_none_or(|t| day <= t)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssignmentInput {
    pub household_id: String,
    pub cadre_id: String,
    pub from_date: NaiveDate,
    #[serde(default)]
    pub to_date: Option<NaiveDate>,
    pub cadence_days: i64,
}

impl Validate for AssignmentInput {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        e.required_text("household_id", &self.household_id, 64);
        e.required_text("cadre_id", &self.cadre_id, 64);
        e.date_order("to_date", self.from_date, self.to_date);
        if !(7..=366).contains(&self.cadence_days) {
            e.push(
                "cadence_days",
                "out_of_range",
                Text::new(
                    "Chu kỳ thăm hộ từ 7 đến 366 ngày.",
                    "The visit cadence is between 7 and 366 days.",
                ),
            );
        }
        e.into_result()
    }
}

/// Ends an assignment on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EndAssignment {
    pub to_date: NaiveDate,
}
