//! What the review campaign's screens and API exchange: the steps a person records (one
//! household or many), where each household's review stands, the households the commune
//! watches after a decision, and a what-if under another rule set.

use crate::Text;
use crate::assessment::ReviewKind;
use crate::household::HouseholdStatus;
use crate::review::{ListReason, Progress, StepData, Trajectory, decided_status};
use crate::rules::Classification;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The most households one request may record a step for.
pub const MAX_BULK: usize = 500;

/// A step as a person records it; the server adds who, which review and, for a decision,
/// the statuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepInput {
    Listed {
        reason: ListReason,
    },
    Meeting {
        attendees: u32,
        agreed: u32,
    },
    Posted {
        until: NaiveDate,
    },
    Complaint {
        text: String,
    },
    Answer {
        complaint: String,
        text: String,
    },
    Decision {
        number: String,
        approved: bool,
    },
    /// A new decision setting right the household's latest decision (recorded by the
    /// commune leader): the review's result approved or not, under a number of its own.
    Correction {
        number: String,
        approved: bool,
    },
    /// The household leaves the register (recorded by the commune office or its leader).
    Left {
        reason: crate::review::LeftReason,
        number: String,
    },
}

impl StepInput {
    /// The step this input records for a household whose official status is `from` and
    /// whose review classified it `classification`; `in_force` is the review's decision in
    /// force, which a correction sets right.
    pub fn into_data(
        self,
        from: HouseholdStatus,
        classification: Option<Classification>,
        in_force: Option<&crate::review::Decided>,
    ) -> StepData {
        match self {
            StepInput::Listed { reason } => StepData::Listed { reason },
            StepInput::Meeting { attendees, agreed } => StepData::Meeting { attendees, agreed },
            StepInput::Posted { until } => StepData::Posted { until },
            StepInput::Complaint { text } => StepData::Complaint { text },
            StepInput::Answer { complaint, text } => StepData::Answer { complaint, text },
            StepInput::Decision { number, approved } => StepData::Decision {
                number,
                approved,
                from,
                to: classification.map_or(from, |c| decided_status(from, c, approved)),
                corrects: None,
            },
            StepInput::Correction { number, approved } => {
                let before = in_force.map_or(from, |d| d.before);
                StepData::Decision {
                    number,
                    approved,
                    from,
                    to: classification.map_or(from, |c| decided_status(before, c, approved)),
                    corrects: in_force.map(|d| d.step_id.clone()),
                }
            }
            StepInput::Left { reason, number } => StepData::Left {
                reason,
                number,
                from,
            },
        }
    }
}

/// One step for one or many households, each on its open review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    pub household_ids: Vec<String>,
    pub date: NaiveDate,
    pub step: StepInput,
}

/// What became of the step for one household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepOutcome {
    pub household_id: String,
    /// The step's id when it was recorded.
    pub step_id: Option<String>,
    /// Why it was not, in words a person understands.
    pub refused: Option<Text>,
}

/// Where one household's review stands in a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignRow {
    pub household_id: String,
    pub code: String,
    pub head_name: String,
    pub village_id: String,
    /// The official status (changed only by a decision).
    pub official: HouseholdStatus,
    pub listed: Option<ListReason>,
    /// The review: its id, kind, date, rule set and the classification it proposes.
    pub review_id: Option<String>,
    pub kind: Option<ReviewKind>,
    pub date: Option<NaiveDate>,
    pub rule_set_id: Option<String>,
    pub proposed: Option<Classification>,
    pub progress: Progress,
    /// Why the leader cannot decide yet (none when a decision may be made).
    pub blocked: Option<Text>,
    /// An ad-hoc request's deadline.
    pub deadline: Option<NaiveDate>,
}

/// A village's campaign at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignVillage {
    pub village_id: String,
    pub name: String,
    pub listed: usize,
    pub reviewed: usize,
    pub met: usize,
    /// Reviews whose meeting fell below 50% agreement.
    pub met_invalid: usize,
    pub posted: usize,
    pub open_complaints: usize,
    pub decided: usize,
}

/// A year's campaign (and the ad-hoc reviews of the year) in the user's area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Campaign {
    pub year: i32,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The rule set the yearly review of this campaign uses, and what of it is provisional.
    pub rule_set_id: String,
    pub rule_set_title: Text,
    pub provisional: Vec<Text>,
    pub villages: Vec<CampaignVillage>,
    pub rows: Vec<CampaignRow>,
}

/// A household the commune watches after its decisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrackedRow {
    pub household_id: String,
    pub code: String,
    pub head_name: String,
    pub village_id: String,
    pub status: HouseholdStatus,
    pub trajectory: Trajectory,
    /// For a household in its window: the policies it is still owed.
    pub owed: Vec<Text>,
}

/// A household whose class would change under another rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhatIfRow {
    pub household_id: String,
    pub code: String,
    pub head_name: String,
    pub village_id: String,
    pub review_date: NaiveDate,
    pub now: Classification,
    pub would_be: Classification,
    /// Why, as the other rule set explains it.
    pub reasons: Vec<Text>,
}

/// Every household of an area classified under another rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhatIf {
    pub rule_set_id: String,
    pub title: Text,
    pub provisional: Vec<Text>,
    /// Households with a review whose evidence was classified.
    pub classified: usize,
    pub changed: Vec<WhatIfRow>,
}
