//! Mentoring visits a cadre logs; append-only, so they never conflict.

use crate::{Text, Validate, ValidationErrors};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Visit {
    pub id: String,
    pub household_id: String,
    pub cadre_id: String,
    #[serde(flatten)]
    pub data: VisitInput,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VisitInput {
    pub date: NaiveDate,
    /// What was discussed.
    pub discussed: String,
    #[serde(default)]
    pub progress: String,
    #[serde(default)]
    pub needs: String,
    pub next_visit: Option<NaiveDate>,
}

impl Validate for VisitInput {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        e.required_text("discussed", &self.discussed, 2000);
        e.max_len("progress", &self.progress, 2000);
        e.max_len("needs", &self.needs, 2000);
        e.in_calendar("date", self.date);
        if let Some(next) = self.next_visit {
            e.in_calendar("next_visit", next);
        }
        if let Some(next) = self.next_visit
            && next <= self.date
        {
            e.push(
                "next_visit",
                "date_order",
                Text::new(
                    "Lần thăm sau phải sau ngày thăm này.",
                    "The next visit must come after this visit.",
                ),
            );
        }
        e.into_result()
    }
}

impl VisitInput {
    /// With today's date: a visit is logged once it happened, not ahead.
    pub fn validate_on(&self, today: NaiveDate) -> Result<(), ValidationErrors> {
        let mut e = self.validate().err().unwrap_or_default();
        e.not_ahead("date", self.date, today);
        e.into_result()
    }
}
