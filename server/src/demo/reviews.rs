//! The demo commune's reviews as the law runs them: each review listed, met on by the
//! village, posted and decided by the commune leader; the 2026 campaign stopped where a
//! commune would be at the end of November (some villages met, some posted, none decided),
//! and households that applied for an ad-hoc review.

use super::names::Gen;
use chrono::{Duration, NaiveDate};
use shared::assessment::Assessment;
use shared::household::HouseholdStatus;
use shared::review::{ListReason, ReviewStep, StepData, decided_status};

/// Who records the steps of one village's reviews.
pub(super) struct Hands<'a> {
    pub head: &'a str,
    pub leader: &'a str,
}

/// How far a review went.
pub(super) enum Reached {
    Listed,
    Met { agreed_pct: u32 },
    Posted { complaint: bool },
    Decided { on: NaiveDate, number: &'static str },
}

fn step(
    g: &mut Gen,
    review: Option<&Assessment>,
    household_id: &str,
    by: &str,
    date: NaiveDate,
    data: StepData,
) -> ReviewStep {
    ReviewStep {
        id: g.id(),
        household_id: household_id.into(),
        review_id: review.map(|a| a.id.clone()),
        date,
        by: by.into(),
        data,
    }
}

/// The steps of `review` up to `reached`, for a household whose official status is
/// `from`; returns its status after them. The village meets a week after the review, posts
/// the result two days later for seven days.
pub(super) fn steps(
    g: &mut Gen,
    out: &mut Vec<ReviewStep>,
    who: &Hands<'_>,
    review: &Assessment,
    reason: ListReason,
    from: HouseholdStatus,
    reached: Reached,
) -> HouseholdStatus {
    let h = review.household_id.as_str();
    let listed = review.date - Duration::days(10);
    out.push(step(
        g,
        None,
        h,
        who.head,
        listed,
        StepData::Listed { reason },
    ));
    let meeting = review.date + Duration::days(7);
    let attendees = g.rng.u32(28..=64);
    let agreed_pct = match reached {
        Reached::Listed => return from,
        Reached::Met { agreed_pct } => agreed_pct,
        _ => g.rng.u32(62..=95),
    };
    let agreed = attendees * agreed_pct / 100;
    out.push(step(
        g,
        Some(review),
        h,
        who.head,
        meeting,
        StepData::Meeting { attendees, agreed },
    ));
    if matches!(reached, Reached::Met { .. }) {
        return from;
    }
    let posted = meeting + Duration::days(2);
    out.push(step(
        g,
        Some(review),
        h,
        who.head,
        posted,
        StepData::Posted {
            until: posted + Duration::days(7),
        },
    ));
    match reached {
        Reached::Posted { complaint } => {
            if complaint {
                out.push(step(
                    g,
                    Some(review),
                    h,
                    who.head,
                    posted + Duration::days(3),
                    StepData::Complaint {
                        text: "Hộ lân cận cho rằng hộ đã có thu nhập từ làm thuê ở Bắc Ninh, đề nghị xem lại.".into(),
                    },
                ));
            }
            from
        }
        Reached::Decided { on, number } => {
            let to = decided_status(from, review.classification, true);
            out.push(step(
                g,
                Some(review),
                h,
                who.leader,
                on,
                StepData::Decision {
                    number: number.into(),
                    approved: true,
                    from,
                    to,
                    corrects: None,
                },
            ));
            to
        }
        Reached::Listed | Reached::Met { .. } => from,
    }
}
