//! Reviews (rà soát): the evidence a village head collects and the classification the rule
//! set computes from it. The steps that follow (village meeting, posting, the commune's
//! decision) are in `review`.

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
