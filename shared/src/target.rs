//! Yearly targets per area: the poor and near-poor rates the plan aims for.

use crate::{Validate, ValidationErrors};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Target {
    pub area_id: String,
    pub year: i32,
    #[serde(flatten)]
    pub data: TargetInput,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    /// Poor households as a percentage of all households at year end, e.g. 3.39.
    pub poor_rate_pct: f64,
    /// Near-poor households as a percentage, e.g. 8.0.
    pub near_poor_rate_pct: f64,
    /// Goals per indicator code: the share of households still deprived, in percent.
    #[serde(default)]
    pub indicator_goals: std::collections::BTreeMap<String, f64>,
}

impl Validate for TargetInput {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        e.range_f64("poor_rate_pct", self.poor_rate_pct, 0.0, 100.0);
        e.range_f64("near_poor_rate_pct", self.near_poor_rate_pct, 0.0, 100.0);
        for (code, v) in &self.indicator_goals {
            e.range_f64(&format!("indicator_goals.{code}"), *v, 0.0, 100.0);
        }
        e.into_result()
    }
}
