//! A household's plan, "concrete down to each household": each cause of its poverty matched
//! to a solution, with who is responsible and by when.

use crate::household::Cause;
use crate::{Validate, ValidationErrors};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Open,
    Done,
    Dropped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanItem {
    pub id: String,
    pub household_id: String,
    pub status: PlanStatus,
    #[serde(flatten)]
    pub data: PlanItemInput,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlanItemInput {
    pub cause: Cause,
    /// The matched solution; `Cause::matched_solution` gives the plan's default wording.
    pub solution: String,
    /// Who is responsible, e.g. "Hội Nông dân xã" or a cadre's name.
    pub owner: String,
    pub due: NaiveDate,
    #[serde(default)]
    pub progress_note: String,
}

impl Validate for PlanItemInput {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        e.required_text("solution", &self.solution, 500);
        e.required_text("owner", &self.owner, 200);
        e.max_len("progress_note", &self.progress_note, 2000);
        e.in_calendar("due", self.due);
        e.into_result()
    }
}

impl PlanItemInput {
    /// A plan item with the solution the commune plan matches to `cause`.
    pub fn matched(cause: Cause, owner: impl Into<String>, due: NaiveDate) -> Self {
        Self {
            cause,
            solution: cause.matched_solution().vi,
            owner: owner.into(),
            due,
            progress_note: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cause_has_a_matched_solution_that_validates() {
        let due = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        for c in Cause::ALL {
            let item = PlanItemInput::matched(c, "UBND xã", due);
            assert!(item.validate().is_ok(), "{c:?}");
            assert!(!c.matched_solution().en.is_empty());
        }
        let capital = PlanItemInput::matched(Cause::LackOfCapital, "NHCSXH", due);
        assert!(capital.solution.contains("Ngân hàng Chính sách xã hội"));
    }

    #[test]
    fn an_item_needs_an_owner() {
        let due = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        let e = PlanItemInput::matched(Cause::LackOfWill, " ", due)
            .validate()
            .unwrap_err();
        assert_eq!(e.0[0].field, "owner");
    }
}
