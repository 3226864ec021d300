//! Poverty standards as versioned data. Each rule set is a JSON file in `shared/rules/`,
//! validated when loaded, with an effective period; the one in force is picked by date.
//! Phone and server evaluate them with the same code (`classify`).

mod classify;

pub use classify::{
    Classification, DeprivationEvidence, Evidence, Explanation, IncomeEvidence, Outcome, classify,
};

use crate::Text;
use crate::household::Residence;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// An amount per residence type: rural or urban.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PerResidence {
    pub rural: i64,
    pub urban: i64,
}

impl PerResidence {
    pub fn get(&self, r: Residence) -> i64 {
        match r {
            Residence::Rural => self.rural,
            Residence::Urban => self.urban,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IndicatorDef {
    /// Stable code, e.g. `health_insurance`.
    pub code: String,
    /// Number on the official form (1–12).
    pub number: u32,
    pub dimension: Text,
    pub name: Text,
    pub deprived_if: Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub id: String,
    pub title: Text,
    pub legal_basis: String,
    pub effective_from: NaiveDate,
    pub effective_to: NaiveDate,
    /// Income per person per month (VND) at or below which a household is income-poor.
    pub income_line: PerResidence,
    /// Upper bound (inclusive) of the average-living-standard band.
    pub average_upper: PerResidence,
    /// Deprivations at or above which an income-poor household is poor.
    pub poor_min_deprivations: u32,
    /// B1 score at or below which a household is income-poor.
    pub b1_income_poor_max: PerResidence,
    /// The highest score form B1 can give (⚠ from secondary sources, like the scale).
    pub b1_max_score: u32,
    /// B2 points per deprived indicator.
    pub b2_points_per_indicator: u32,
    /// Parts of this rule set that are not yet confirmed and may be corrected.
    #[serde(default)]
    pub provisional: Vec<Text>,
    pub indicators: Vec<IndicatorDef>,
}

/// Why a rule set file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleSetError {
    #[error("rule set file is not valid JSON for a rule set: {0}")]
    Parse(String),
    #[error("rule set {id}: {problem}")]
    Invalid { id: String, problem: String },
    #[error("rule sets {0} and {1} overlap in time")]
    Overlap(String, String),
}

impl RuleSet {
    /// Parses and checks one rule set file.
    pub fn from_json(json: &str) -> Result<Self, RuleSetError> {
        let rs: RuleSet =
            serde_json::from_str(json).map_err(|e| RuleSetError::Parse(e.to_string()))?;
        rs.check()?;
        Ok(rs)
    }

    fn check(&self) -> Result<(), RuleSetError> {
        let bad = |problem: &str| {
            Err(RuleSetError::Invalid {
                id: self.id.clone(),
                problem: problem.to_string(),
            })
        };
        if self.id.trim().is_empty() {
            return bad("empty id");
        }
        if self.effective_to < self.effective_from {
            return bad("effective_to is before effective_from");
        }
        for r in [Residence::Rural, Residence::Urban] {
            if self.income_line.get(r) <= 0 {
                return bad("income line must be positive");
            }
            if self.average_upper.get(r) < self.income_line.get(r) {
                return bad("average band must lie above the income line");
            }
        }
        if self.indicators.is_empty() {
            return bad("no indicators");
        }
        let mut codes = std::collections::HashSet::new();
        let mut numbers = std::collections::HashSet::new();
        for i in &self.indicators {
            if !codes.insert(i.code.as_str()) || !numbers.insert(i.number) {
                return bad("duplicate indicator code or number");
            }
        }
        if self.poor_min_deprivations == 0
            || self.poor_min_deprivations as usize > self.indicators.len()
        {
            return bad("poor_min_deprivations must be between 1 and the number of indicators");
        }
        if self.b2_points_per_indicator == 0 {
            return bad("b2_points_per_indicator must be positive");
        }
        Ok(())
    }

    pub fn in_force_on(&self, date: NaiveDate) -> bool {
        self.effective_from <= date && date <= self.effective_to
    }

    pub fn indicator(&self, code: &str) -> Option<&IndicatorDef> {
        self.indicators.iter().find(|i| i.code == code)
    }
}

/// All rule sets the product knows, ordered by start date, with no overlaps.
#[derive(Debug, Clone)]
pub struct RuleBook {
    sets: Vec<RuleSet>,
}

/// The rule set files shipped with the product.
const BUILT_IN: [&str; 2] = [
    include_str!("../../rules/vn-2022-2025.json"),
    include_str!("../../rules/vn-2027-2030.json"),
];

impl RuleBook {
    pub fn from_sets(mut sets: Vec<RuleSet>) -> Result<Self, RuleSetError> {
        sets.sort_by_key(|s| s.effective_from);
        for w in sets.windows(2) {
            if w[1].effective_from <= w[0].effective_to {
                return Err(RuleSetError::Overlap(w[0].id.clone(), w[1].id.clone()));
            }
        }
        Ok(Self { sets })
    }

    /// The rule sets shipped in `shared/rules/`.
    pub fn built_in() -> Self {
        let sets = BUILT_IN
            .iter()
            .map(|j| RuleSet::from_json(j).expect("built-in rule set is valid (tested)"))
            .collect();
        Self::from_sets(sets).expect("built-in rule sets do not overlap (tested)")
    }

    pub fn all(&self) -> &[RuleSet] {
        &self.sets
    }

    pub fn get(&self, id: &str) -> Option<&RuleSet> {
        self.sets.iter().find(|s| s.id == id)
    }

    /// The rule set in force on `date`, if any.
    pub fn in_force(&self, date: NaiveDate) -> Option<&RuleSet> {
        self.sets.iter().find(|s| s.in_force_on(date))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn built_in_rule_sets_load_and_are_picked_by_date() {
        let book = RuleBook::built_in();
        assert_eq!(book.all().len(), 2);
        assert_eq!(book.in_force(d("2024-06-01")).unwrap().id, "vn-2022-2025");
        // The 2022–2025 standard stays in force through 31 Dec 2026.
        assert_eq!(book.in_force(d("2026-12-31")).unwrap().id, "vn-2022-2025");
        assert_eq!(book.in_force(d("2027-01-01")).unwrap().id, "vn-2027-2030");
        assert!(book.in_force(d("2021-12-31")).is_none());
    }

    #[test]
    fn income_lines_match_the_decrees() {
        let book = RuleBook::built_in();
        let old = book.get("vn-2022-2025").unwrap();
        assert_eq!(old.income_line.get(Residence::Rural), 1_500_000);
        assert_eq!(old.income_line.get(Residence::Urban), 2_000_000);
        assert_eq!(old.indicators.len(), 12);
        let new = book.get("vn-2027-2030").unwrap();
        assert_eq!(new.income_line.get(Residence::Rural), 2_200_000);
        assert_eq!(new.income_line.get(Residence::Urban), 2_800_000);
        assert!(
            !new.provisional.is_empty(),
            "unconfirmed indicator list is marked"
        );
    }

    #[test]
    fn a_broken_rule_set_is_refused_with_the_reason() {
        let mut v: serde_json::Value = serde_json::from_str(BUILT_IN[0]).unwrap();
        v["effective_to"] = "2020-01-01".into();
        let err = RuleSet::from_json(&v.to_string()).unwrap_err();
        assert!(err.to_string().contains("effective_to"));

        let mut v: serde_json::Value = serde_json::from_str(BUILT_IN[0]).unwrap();
        v["indicators"][1]["code"] = "employment".into();
        assert!(RuleSet::from_json(&v.to_string()).is_err());

        assert!(matches!(
            RuleSet::from_json("{\"id\": 3}"),
            Err(RuleSetError::Parse(_))
        ));
    }

    #[test]
    fn overlapping_rule_sets_are_refused() {
        let a = RuleSet::from_json(BUILT_IN[0]).unwrap();
        let mut b = RuleSet::from_json(BUILT_IN[1]).unwrap();
        b.effective_from = d("2026-06-01");
        assert!(matches!(
            RuleBook::from_sets(vec![a, b]),
            Err(RuleSetError::Overlap(..))
        ));
    }
}
