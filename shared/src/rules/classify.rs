//! Classification of one household under one rule set, from direct income and the
//! indicators, or from the B1/B2 scores of the review forms (and any mix of the two).
//! The result carries its explanation so a person can see why.

use super::RuleSet;
use crate::household::Residence;
use crate::{Text, ValidationErrors};
use serde::{Deserialize, Serialize};

/// The four outcomes of a review, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    Poor,
    NearPoor,
    Average,
    NotPoor,
}

impl Classification {
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Poor => "poor",
            Classification::NearPoor => "near_poor",
            Classification::Average => "average",
            Classification::NotPoor => "not_poor",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Classification::Poor,
            Classification::NearPoor,
            Classification::Average,
            Classification::NotPoor,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    pub fn label(self) -> Text {
        match self {
            Classification::Poor => Text::new("Hộ nghèo", "Poor"),
            Classification::NearPoor => Text::new("Hộ cận nghèo", "Near-poor"),
            Classification::Average => Text::new("Hộ có mức sống trung bình", "Average"),
            Classification::NotPoor => Text::new("Hộ không nghèo", "Not poor"),
        }
    }

    /// Poor or near-poor: the households the programme supports.
    pub fn is_supported(self) -> bool {
        matches!(self, Classification::Poor | Classification::NearPoor)
    }
}

/// How the income side was established.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum IncomeEvidence {
    /// Income per person per month, VND.
    Income { per_person_month: i64 },
    /// Score of form B1 (assets and characteristics).
    B1 { score: u32 },
}

/// How the deprivation side was established.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DeprivationEvidence {
    /// Codes of the deprived indicators.
    Indicators { deprived: Vec<String> },
    /// Score of form B2: points per deprived indicator.
    B2 { score: u32 },
}

/// Everything a review collects that the classification needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub residence: Residence,
    pub income: IncomeEvidence,
    pub deprivation: DeprivationEvidence,
}

/// Why the classification came out as it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Explanation {
    pub rule_set_id: String,
    pub income_line: i64,
    pub income_poor: bool,
    /// Codes of the deprived indicators, when they were given one by one.
    pub deprived: Vec<String>,
    pub deprivation_count: u32,
    /// The reasons in words, in order.
    pub reasons: Vec<Text>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Outcome {
    pub classification: Classification,
    pub explanation: Explanation,
}

fn vnd(n: i64) -> String {
    // 1500000 → "1.500.000" as Vietnamese write amounts.
    // `unsigned_abs`: the most negative amount has no positive `i64` (a device sends it).
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Classifies one household. Bad evidence (unknown indicator, B2 score not a multiple of
/// the points per indicator, negative income) is refused with per-field reasons.
pub fn classify(rs: &RuleSet, ev: &Evidence) -> Result<Outcome, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let line = rs.income_line.get(ev.residence);
    let mut reasons = Vec::new();

    let (income_poor, above_average) = match ev.income {
        IncomeEvidence::Income { per_person_month } => {
            if per_person_month < 0 {
                errors.push(
                    "income.per_person_month",
                    "out_of_range",
                    Text::new("Thu nhập không được âm.", "Income cannot be negative."),
                );
            }
            let poor = per_person_month <= line;
            reasons.push(if poor {
                Text::new(
                    format!(
                        "Thu nhập {} đồng/người/tháng, không vượt chuẩn {} đồng.",
                        vnd(per_person_month),
                        vnd(line)
                    ),
                    format!(
                        "Income {} VND per person per month is at or below the line of {} VND.",
                        vnd(per_person_month),
                        vnd(line)
                    ),
                )
            } else {
                Text::new(
                    format!(
                        "Thu nhập {} đồng/người/tháng, cao hơn chuẩn {} đồng.",
                        vnd(per_person_month),
                        vnd(line)
                    ),
                    format!(
                        "Income {} VND per person per month is above the line of {} VND.",
                        vnd(per_person_month),
                        vnd(line)
                    ),
                )
            });
            (
                poor,
                Some(per_person_month > rs.average_upper.get(ev.residence)),
            )
        }
        IncomeEvidence::B1 { score } => {
            if score > rs.b1_max_score {
                errors.range_i64("income.score", score.into(), 0, rs.b1_max_score.into());
            }
            let max = rs.b1_income_poor_max.get(ev.residence);
            let poor = i64::from(score) <= max;
            reasons.push(if poor {
                Text::new(
                    format!("Điểm B1 là {score}, không vượt ngưỡng {max}."),
                    format!("B1 score {score} is at or below the threshold of {max}."),
                )
            } else {
                Text::new(
                    format!("Điểm B1 là {score}, cao hơn ngưỡng {max}."),
                    format!("B1 score {score} is above the threshold of {max}."),
                )
            });
            // B1 does not measure income, so it cannot place a household in the average band.
            (poor, None)
        }
    };

    let (deprived, count) = match &ev.deprivation {
        DeprivationEvidence::Indicators { deprived } => {
            let mut codes: Vec<String> = Vec::new();
            for (i, code) in deprived.iter().enumerate() {
                if rs.indicator(code).is_none() {
                    errors.push(
                        format!("deprivation.deprived[{i}]"),
                        "unknown_indicator",
                        Text::new(
                            format!("Chỉ số \"{code}\" không có trong chuẩn {}.", rs.id),
                            format!("Indicator \"{code}\" is not part of rule set {}.", rs.id),
                        ),
                    );
                } else if !codes.contains(code) {
                    codes.push(code.clone());
                }
            }
            // Report in the order of the official form.
            codes.sort_by_key(|c| rs.indicator(c).map(|i| i.number));
            let n = codes.len() as u32;
            (codes, n)
        }
        DeprivationEvidence::B2 { score } => {
            let per = rs.b2_points_per_indicator;
            let max = per * rs.indicators.len() as u32;
            if !score.is_multiple_of(per) || *score > max {
                errors.push(
                    "deprivation.score",
                    "invalid_b2",
                    Text::new(
                        format!("Điểm B2 phải là bội của {per}, từ 0 đến {max}."),
                        format!("The B2 score must be a multiple of {per} between 0 and {max}."),
                    ),
                );
            }
            (Vec::new(), score / per)
        }
    };
    errors.clone().into_result()?;

    let min = rs.poor_min_deprivations;
    let names: Vec<&str> = deprived
        .iter()
        .filter_map(|c| rs.indicator(c))
        .map(|i| i.name.vi.as_str())
        .collect();
    let names_en: Vec<&str> = deprived
        .iter()
        .filter_map(|c| rs.indicator(c))
        .map(|i| i.name.en.as_str())
        .collect();
    reasons.push(if names.is_empty() {
        Text::new(
            format!("Thiếu hụt {count} chỉ số (ngưỡng hộ nghèo: {min})."),
            format!("Deprived in {count} indicators (poor from {min})."),
        )
    } else {
        Text::new(
            format!(
                "Thiếu hụt {count} chỉ số (ngưỡng hộ nghèo: {min}): {}.",
                names.join(", ")
            ),
            format!(
                "Deprived in {count} indicators (poor from {min}): {}.",
                names_en.join(", ")
            ),
        )
    });

    let classification = match (income_poor, above_average) {
        (true, _) if count >= min => Classification::Poor,
        (true, _) => Classification::NearPoor,
        (false, Some(false)) => Classification::Average,
        (false, _) => Classification::NotPoor,
    };
    Ok(Outcome {
        classification,
        explanation: Explanation {
            rule_set_id: rs.id.clone(),
            income_line: line,
            income_poor,
            deprived,
            deprivation_count: count,
            reasons,
        },
    })
}

#[cfg(test)]
mod tests;
