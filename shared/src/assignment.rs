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
    /// Whether the assignment runs on `day`. It ends on its end date: from that day the
    /// household has no cadre through it ("Kết thúc" today ends it today).
    pub fn active_on(&self, day: NaiveDate) -> bool {
        self.from_date <= day && self.to_date.is_none_or(|t| day < t)
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
        e.in_calendar("from_date", self.from_date);
        if let Some(to) = self.to_date {
            e.in_calendar("to_date", to);
        }
        e.date_order("to_date", self.from_date, self.to_date);
        check_cadence(&mut e, self.cadence_days);
        e.into_result()
    }
}

fn check_cadence(e: &mut ValidationErrors, days: i64) {
    if !(7..=366).contains(&days) {
        e.push(
            "cadence_days",
            "out_of_range",
            Text::new(
                "Chu kỳ thăm hộ từ 7 đến 366 ngày.",
                "The visit cadence is between 7 and 366 days.",
            ),
        );
    }
}

/// Ends an assignment on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EndAssignment {
    pub to_date: NaiveDate,
}

/// Assign one cadre to several households at once (the console's bulk action). With
/// `replace`, the households' running assignments end the day before `from_date`
/// (a reassignment); without it, a household keeps its other cadres.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BulkAssignment {
    pub household_ids: Vec<String>,
    pub cadre_id: String,
    pub from_date: NaiveDate,
    pub cadence_days: i64,
    #[serde(default)]
    pub replace: bool,
}

/// Households per bulk assignment: a whole commune's poor and near-poor fit.
pub const MAX_BULK: usize = 500;

impl BulkAssignment {
    /// The single assignment for one of the households, validated like any other.
    pub fn input(&self, household_id: &str) -> AssignmentInput {
        AssignmentInput {
            household_id: household_id.to_string(),
            cadre_id: self.cadre_id.clone(),
            from_date: self.from_date,
            to_date: None,
            cadence_days: self.cadence_days,
        }
    }
}

impl Validate for BulkAssignment {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        if self.household_ids.is_empty() || self.household_ids.len() > MAX_BULK {
            e.push(
                "household_ids",
                "out_of_range",
                Text::new(
                    format!("Chọn từ 1 đến {MAX_BULK} hộ."),
                    format!("Choose 1 to {MAX_BULK} households."),
                ),
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        if self.household_ids.iter().any(|h| !seen.insert(h)) {
            e.push(
                "household_ids",
                "duplicate",
                Text::new("Một hộ được chọn hai lần.", "A household is chosen twice."),
            );
        }
        e.required_text("cadre_id", &self.cadre_id, 64);
        check_cadence(&mut e, self.cadence_days);
        for h in &self.household_ids {
            if h.is_empty() || h.len() > 64 {
                e.push(
                    "household_ids",
                    "invalid",
                    Text::new("Mã hộ không hợp lệ.", "A household id is not valid."),
                );
                break;
            }
        }
        e.into_result()
    }
}

/// Who accompanies a household and how often they must visit, as the phone keeps it to
/// say "overdue" only where a running assignment asks for visits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Accompaniment {
    pub household_id: String,
    /// The running assignments, each with its cadre's name.
    pub cadres: Vec<AssignedCadre>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignedCadre {
    pub assignment_id: String,
    pub cadre_id: String,
    pub full_name: String,
    pub from_date: NaiveDate,
    pub cadence_days: i64,
}

impl Accompaniment {
    /// The date the next visit is due: the cadence after the last visit (or sooner, if
    /// that visit planned an earlier one); with no visit since the assignment began, the
    /// cadence after its start. `None` when nobody accompanies the household.
    pub fn due(
        &self,
        last_visit: Option<NaiveDate>,
        planned: Option<NaiveDate>,
    ) -> Option<NaiveDate> {
        let cadence = self.cadres.iter().map(|c| c.cadence_days).min()?;
        let since = self.cadres.iter().map(|c| c.from_date).min()?;
        let every = chrono::Duration::days(cadence);
        Some(match last_visit {
            Some(v) if v >= since => {
                let by_cadence = v + every;
                planned.map_or(by_cadence, |p| p.min(by_cadence))
            }
            _ => since + every,
        })
    }

    /// Whether a visit is overdue on `today`.
    pub fn overdue(
        &self,
        last_visit: Option<NaiveDate>,
        planned: Option<NaiveDate>,
        today: NaiveDate,
    ) -> bool {
        self.due(last_visit, planned).is_some_and(|d| d < today)
    }
}

/// One household as the assignment screen lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccompaniedRow {
    pub household_id: String,
    pub code: String,
    pub head_name: String,
    pub village_id: String,
    pub status: crate::household::HouseholdStatus,
    pub accompaniment: Accompaniment,
    pub last_visit: Option<NaiveDate>,
    /// When the next visit is due by the cadence; `None` when nobody accompanies.
    pub due: Option<NaiveDate>,
    pub overdue: bool,
    /// Whether the household has a plan (an item not dropped).
    #[serde(default)]
    pub has_plan: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccompanimentPage {
    /// Households that pass the filters, before paging.
    pub total: usize,
    pub rows: Vec<AccompaniedRow>,
}

/// A cadre of the commune with how many households they accompany and how many visits
/// are overdue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CadreLoad {
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub area_id: String,
    pub households: usize,
    pub overdue: usize,
}

/// What a bulk assignment did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkResult {
    pub created: Vec<Assignment>,
    /// Running assignments it ended (a reassignment).
    pub ended: Vec<Assignment>,
    /// Households this cadre already accompanies, left as they were.
    pub unchanged: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn with(cadence: i64, from: &str) -> Accompaniment {
        Accompaniment {
            household_id: "h".into(),
            cadres: vec![AssignedCadre {
                assignment_id: "a".into(),
                cadre_id: "c".into(),
                full_name: "Lò Văn Sơn".into(),
                from_date: day(from),
                cadence_days: cadence,
            }],
        }
    }

    #[test]
    fn an_assignment_ends_on_its_end_date() {
        let a = Assignment {
            id: "a".into(),
            household_id: "h".into(),
            cadre_id: "c".into(),
            from_date: day("2026-01-01"),
            to_date: Some(day("2026-12-06")),
            cadence_days: 30,
        };
        assert!(!a.active_on(day("2025-12-31")));
        assert!(a.active_on(day("2026-01-01")));
        assert!(a.active_on(day("2026-12-05")));
        assert!(!a.active_on(day("2026-12-06")), "ended today is ended");
    }

    #[test]
    fn nobody_assigned_is_never_overdue() {
        let none = Accompaniment {
            household_id: "h".into(),
            cadres: vec![],
        };
        assert_eq!(none.due(None, None), None);
        assert!(!none.overdue(None, None, day("2030-01-01")));
    }

    #[test]
    fn the_cadence_counts_from_the_last_visit_or_from_the_assignment() {
        let a = with(14, "2026-11-01");
        assert_eq!(a.due(None, None), Some(day("2026-11-15")));
        assert_eq!(
            a.due(Some(day("2026-11-10")), None),
            Some(day("2026-11-24"))
        );
        // A visit before this assignment began does not count for it.
        assert_eq!(
            a.due(Some(day("2026-10-01")), None),
            Some(day("2026-11-15"))
        );
        // A sooner planned visit wins; a later one does not stretch the cadence.
        assert_eq!(
            a.due(Some(day("2026-11-10")), Some(day("2026-11-12"))),
            Some(day("2026-11-12"))
        );
        assert_eq!(
            a.due(Some(day("2026-11-10")), Some(day("2026-12-30"))),
            Some(day("2026-11-24"))
        );
        assert!(a.overdue(Some(day("2026-11-10")), None, day("2026-11-25")));
        assert!(!a.overdue(Some(day("2026-11-10")), None, day("2026-11-24")));
    }

    proptest! {
        /// The next visit is due at most one cadence after the last visit (or after the
        /// start), never before the start, whatever the cadre planned.
        #[test]
        fn due_is_within_one_cadence(
            cadence in 7i64..=366,
            visit in proptest::option::of(0i64..400),
            planned in proptest::option::of(0i64..800),
        ) {
            let a = with(cadence, "2026-01-01");
            let start = day("2026-01-01");
            let last = visit.map(|d| start + chrono::Duration::days(d));
            let plan = planned.map(|d| start + chrono::Duration::days(d));
            let due = a.due(last, plan).unwrap();
            let base = last.unwrap_or(start);
            prop_assert!(due <= base + chrono::Duration::days(cadence));
            prop_assert!(due >= start || plan.is_some_and(|p| p == due));
        }
    }

    #[test]
    fn a_bulk_assignment_is_refused_with_every_reason() {
        let b = BulkAssignment {
            household_ids: vec!["h1".into(), "h1".into(), String::new()],
            cadre_id: String::new(),
            from_date: day("2026-11-30"),
            cadence_days: 400,
            replace: false,
        };
        let e = b.validate().unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        for f in ["household_ids", "cadre_id", "cadence_days"] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }
}
