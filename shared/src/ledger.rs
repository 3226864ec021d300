//! The register's ledger: every change of a household's official status, and its entry
//! into the register, is one movement — from, to, the day it takes effect, its basis and
//! who recorded it. The write core records a household's movements in the same commit as
//! the document change that makes them (the read model's `movements` table), and the
//! reports count nothing else, so every figure drills to the movements behind it.
//!
//! A movement is a function of the household's records (its profile and its review
//! steps), so rebuilding the read model from the documents gives the same ledger; once
//! recorded, a movement is never rewritten (its id is fixed by what it comes from).

use crate::Text;
use crate::household::{Household, HouseholdStatus};
use crate::review::{ReviewStep, StepData};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Why a household's place in the register changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = LedgerBasis))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Basis {
    /// Registered by a village head or an officer: it enters "not reviewed yet".
    Registration,
    /// The commune's first list, brought with official statuses, dated by the officer.
    OpeningBalance,
    /// A commune decision on the household's review; `corrects` when it sets right the
    /// review's earlier decision.
    Decision {
        number: String,
        step_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        corrects: Option<crate::review::Corrects>,
    },
    /// The household left the register, confirmed by the commune under `number`.
    Departure {
        reason: crate::review::LeftReason,
        number: String,
        step_id: String,
    },
}

/// One movement of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// Named apart from the reports' kinds of movement (`report::Movement`) in the API document.
#[cfg_attr(feature = "openapi", schema(as = LedgerMovement))]
pub struct Movement {
    /// Fixed by what the movement comes from: `{household}/registered` or
    /// `{household}/decision/{step}`.
    pub id: String,
    pub household_id: String,
    /// `None` where the household was not in the register before (its registration).
    pub from: Option<HouseholdStatus>,
    /// `None` where it is not in the register after (its departure).
    pub to: Option<HouseholdStatus>,
    /// The day it takes effect.
    pub date: NaiveDate,
    pub basis: Basis,
    /// The user who recorded it (empty where the records do not say: a registration
    /// rebuilt from a document; the write core records the writer).
    pub by: String,
}

impl Movement {
    /// The basis in words, for the household's history and the reports' drill-down.
    pub fn basis_text(&self) -> Text {
        match &self.basis {
            Basis::Registration => Text::new("Đăng ký hộ mới", "Registered"),
            Basis::OpeningBalance => Text::new(
                format!("Số dư đầu kỳ của danh sách xã, tính từ {}", self.date),
                format!("The commune list's opening balance, as of {}", self.date),
            ),
            Basis::Decision {
                number,
                corrects: None,
                ..
            } => Text::new(
                format!("Quyết định số {number} ngày {}", self.date),
                format!("Decision no. {number} of {}", self.date),
            ),
            Basis::Decision {
                number,
                corrects: Some(c),
                ..
            } => Text::new(
                format!(
                    "Quyết định số {number} ngày {}, sửa quyết định số {}",
                    self.date, c.number
                ),
                format!(
                    "Decision no. {number} of {}, correcting decision no. {}",
                    self.date, c.number
                ),
            ),
            Basis::Departure { reason, number, .. } => Text::new(
                format!(
                    "{}, xác nhận số {number} ngày {}",
                    reason.label().vi,
                    self.date
                ),
                format!(
                    "{}, confirmed no. {number} of {}",
                    reason.label().en,
                    self.date
                ),
            ),
        }
    }
}

/// The movements a household's records make, oldest first: its entry into the register
/// (dated by its registration, with the status it came in with: "not reviewed yet", or an
/// official one when it came as an opening balance), each approved decision that changed
/// its status, and its departure from the register, if it left.
pub fn movements(household: &Household, steps: &[ReviewStep]) -> Vec<Movement> {
    let own: Vec<&ReviewStep> = steps
        .iter()
        .filter(|s| s.household_id == household.id)
        .collect();
    let decisions: Vec<&ReviewStep> = {
        let mut v: Vec<&ReviewStep> = own
            .iter()
            .copied()
            .filter(|s| matches!(&s.data, StepData::Decision { from, to, .. } if from != to))
            .collect();
        v.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
        v
    };
    // It came in with the status before its first decision, or its status now.
    let entered = match decisions.first().map(|s| &s.data) {
        Some(StepData::Decision { from, .. }) => *from,
        _ => household.status,
    };
    let registered = household
        .created_at
        .get(..10)
        .and_then(|d| d.parse().ok())
        .unwrap_or(NaiveDate::MIN);
    let mut out = vec![Movement {
        id: format!("{}/registered", household.id),
        household_id: household.id.clone(),
        from: None,
        to: Some(entered),
        date: registered,
        basis: if entered == HouseholdStatus::NotReviewed {
            Basis::Registration
        } else {
            Basis::OpeningBalance
        },
        by: String::new(),
    }];
    out.extend(decisions.into_iter().filter_map(|s| match &s.data {
        StepData::Decision {
            number, from, to, ..
        } => Some(Movement {
            id: format!("{}/decision/{}", household.id, s.id),
            household_id: household.id.clone(),
            from: Some(*from),
            to: Some(*to),
            date: s.date,
            basis: Basis::Decision {
                number: number.clone(),
                step_id: s.id.clone(),
                corrects: crate::review::Corrects::of(s, &own),
            },
            by: s.by.clone(),
        }),
        _ => None,
    }));
    let left = own
        .iter()
        .filter_map(|s| match &s.data {
            StepData::Left {
                reason,
                number,
                from,
            } => Some((s, *reason, number, *from)),
            _ => None,
        })
        .min_by(|a, b| (a.0.date, &a.0.id).cmp(&(b.0.date, &b.0.id)));
    if let Some((s, reason, number, from)) = left {
        out.push(Movement {
            id: format!("{}/left/{}", household.id, s.id),
            household_id: household.id.clone(),
            from: Some(from),
            to: None,
            date: s.date,
            basis: Basis::Departure {
                reason,
                number: number.clone(),
                step_id: s.id.clone(),
            },
            by: s.by.clone(),
        });
    }
    out
}

/// The day a household left the register, if it did.
pub fn left_on(ledger: &[Movement]) -> Option<NaiveDate> {
    ledger.iter().find(|m| m.to.is_none()).map(|m| m.date)
}

/// A household's status changes (its decisions), oldest first, as the reports count them.
pub fn status_changes(ledger: &[Movement]) -> Vec<crate::review::StatusChange> {
    let mut v: Vec<(&str, crate::review::StatusChange)> = ledger
        .iter()
        .filter_map(|m| {
            let change = crate::review::StatusChange {
                date: m.date,
                from: m.from?,
                to: m.to?,
                corrects: match &m.basis {
                    Basis::Decision { corrects, .. } => corrects.clone(),
                    _ => None,
                },
            };
            Some((m.id.as_str(), change))
        })
        .collect();
    // A correction made the day of the decision it corrects comes after it (step ids are
    // ordered by time).
    v.sort_by(|a, b| (a.1.date, a.0).cmp(&(b.1.date, b.0)));
    v.into_iter().map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::household::{PriorityFlags, Residence};

    fn household(status: HouseholdStatus) -> Household {
        Household {
            id: "h".into(),
            code: "H".into(),
            village_id: "v".into(),
            address: String::new(),
            head_name: "A".into(),
            residence: Residence::Rural,
            status,
            priority: PriorityFlags::default(),
            causes: vec![],
            created_at: "2024-03-01T00:00:00.000Z".into(),
            updated_at: "2024-03-01T00:00:00.000Z".into(),
        }
    }

    fn decision(id: &str, date: &str, from: HouseholdStatus, to: HouseholdStatus) -> ReviewStep {
        ReviewStep {
            id: id.into(),
            household_id: "h".into(),
            review_id: Some("r".into()),
            date: date.parse().unwrap(),
            by: "u-officer".into(),
            data: StepData::Decision {
                number: format!("QĐ-{id}"),
                approved: true,
                from,
                to,
                corrects: None,
            },
        }
    }

    #[test]
    fn a_household_enters_then_moves_by_its_decisions_only() {
        use HouseholdStatus::*;
        let steps = vec![
            decision("d2", "2025-12-20", Poor, NearPoor),
            decision("d1", "2024-12-20", NotReviewed, Poor),
            // Not approved: the status stays, nothing moves.
            decision("d0", "2024-12-01", NotReviewed, NotReviewed),
        ];
        let m = movements(&household(NearPoor), &steps);
        let path: Vec<(Option<HouseholdStatus>, Option<HouseholdStatus>, &str)> =
            m.iter().map(|m| (m.from, m.to, m.id.as_str())).collect();
        assert_eq!(
            path,
            vec![
                (None, Some(NotReviewed), "h/registered"),
                (Some(NotReviewed), Some(Poor), "h/decision/d1"),
                (Some(Poor), Some(NearPoor), "h/decision/d2"),
            ]
        );
        assert_eq!(m[0].basis, Basis::Registration);
        assert_eq!(m[2].by, "u-officer");
        assert_eq!(status_changes(&m).len(), 2);
    }

    #[test]
    fn an_opening_balance_enters_with_its_official_status() {
        let m = movements(&household(HouseholdStatus::Poor), &[]);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].basis, Basis::OpeningBalance);
        assert_eq!(m[0].to, Some(HouseholdStatus::Poor));
        assert_eq!(m[0].date.to_string(), "2024-03-01");
    }
}
