//! Reviews (rà soát): the evidence a village head collects, the classification the rule
//! set computes from it, and the steps that follow (village meeting, commune decision).

use crate::rules::{Classification, Evidence, Explanation};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewKind {
    /// The yearly review, 1 Sep – 14 Dec.
    Annual,
    /// On the household's request, any month.
    AdHoc,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assessment {
    pub id: String,
    pub household_id: String,
    pub kind: ReviewKind,
    pub date: NaiveDate,
    pub evidence: Evidence,
    pub classification: Classification,
    pub explanation: Explanation,
    /// Share of the village meeting that agreed, in percent, once held.
    pub meeting_agreement_pct: Option<i64>,
    pub commune_decision: Option<Classification>,
}

/// What a village head sends: the rule set is the one in force on `date`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssessmentInput {
    pub kind: ReviewKind,
    pub date: NaiveDate,
    pub evidence: Evidence,
}
