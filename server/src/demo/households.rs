//! One household of the demo: its members, the review evidence designed for its class
//! (the rule engine, not the generator, decides the class), and its history of reviews and
//! decisions from the 2022 paper list to the 2026 campaign so far.

use super::names::{ETHNIC, FAMILY, Gen};
use super::reviews::{self, Hands, Reached};
use super::{DemoError, Designed};
use crate::store::Import;
use chrono::{Datelike, Duration, NaiveDate};
use shared::area::Area;
use shared::assessment::{Assessment, ReviewKind};
use shared::household::{
    Cause, Household, HouseholdStatus, Member, MemberInput, PriorityFlags, Residence, Sex,
};
use shared::review::{LeftReason, ListReason, ReviewStep, StepData};
use shared::rules::{DeprivationEvidence, Evidence, IncomeEvidence, RuleBook, RuleSet, classify};

/// What every household of one commune shares.
pub(super) struct Commune<'a> {
    pub today: NaiveDate,
    pub book: &'a RuleBook,
    /// The rule set of the 2023–2025 reviews the evidence is designed against.
    pub rules: &'a RuleSet,
    pub leader: &'a str,
    /// The first part of the commune's household codes ("DV").
    pub code_prefix: &'a str,
}

/// The village a household lives in and the head who records its reviews.
pub(super) struct Village<'a> {
    pub index: usize,
    pub area: &'a Area,
    pub head: &'a str,
}

/// What happens once in a commune (one household falls back, two ask for a review).
#[derive(Default)]
pub(super) struct Once {
    fell_back: bool,
    ad_hoc: usize,
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// The `k`-th household of village `v`, built to be `design`: returns it with its
/// official status; its members, reviews and review steps go into `out`.
pub(super) fn household(
    g: &mut Gen,
    c: &Commune<'_>,
    v: &Village<'_>,
    k: usize,
    design: Designed,
    once: &mut Once,
    out: &mut Import,
) -> Result<Household, DemoError> {
    let today = c.today;
    let family = g.pick(&FAMILY);
    let ethnicity = g.pick(&ETHNIC);
    let head_sex = if g.rng.u8(..100) < 18 {
        Sex::Female
    } else {
        Sex::Male
    };
    let size = match design {
        Designed::Poor => g.rng.usize(1..=7),
        _ => g.rng.usize(2..=6),
    };
    let hid = g.id();
    let members = members(g, &hid, size, family, ethnicity, head_sex, design, today);
    let elderly_only = members
        .iter()
        .all(|m| today.year() - m.data.birth_year >= 60);
    let mut causes = Vec::new();
    if matches!(design, Designed::Poor | Designed::NearPoor) {
        let mut all = Cause::ALL.to_vec();
        g.rng.shuffle(&mut all);
        causes = all.into_iter().take(g.rng.usize(1..=3)).collect();
    }
    let created = "2022-09-01T08:00:00.000Z".to_string();
    let mut household = Household {
        id: hid.clone(),
        code: format!("{}-{:02}-{:04}", c.code_prefix, v.index + 1, k + 1),
        village_id: v.area.id.clone(),
        address: format!("Xóm {}, {}", 1 + k % 4, v.area.name),
        head_name: members[0].data.full_name.clone(),
        residence: Residence::Rural,
        status: HouseholdStatus::NotPoor,
        priority: PriorityFlags {
            ethnic_minority: ethnicity != "Kinh",
            meritorious: g.rng.u8(..100) < 3,
            woman_headed: head_sex == Sex::Female,
            member_with_disability: members.iter().any(|m| m.data.disability),
            elderly_only,
        },
        causes,
        created_at: created.clone(),
        updated_at: created,
    };
    let evidence = evidence(g, c.rules, design);
    household.status = history(g, c, v, k, design, &hid, evidence, once, out)?;
    out.members.extend(members);
    Ok(household)
}

#[allow(clippy::too_many_arguments)]
fn members(
    g: &mut Gen,
    hid: &str,
    size: usize,
    family: &str,
    ethnicity: &str,
    head_sex: Sex,
    design: Designed,
    today: NaiveDate,
) -> Vec<Member> {
    let mut members = Vec::with_capacity(size);
    let head_born = 1950 + g.rng.i32(0..50);
    for m in 0..size {
        let (sex, born, relation) = match m {
            0 => (head_sex, head_born, "Chủ hộ"),
            1 => (
                if head_sex == Sex::Male {
                    Sex::Female
                } else {
                    Sex::Male
                },
                head_born + g.rng.i32(-3..5),
                if head_sex == Sex::Male {
                    "Vợ"
                } else {
                    "Chồng"
                },
            ),
            _ => (
                if g.rng.bool() { Sex::Male } else { Sex::Female },
                (head_born + 20 + g.rng.i32(0..12)).min(today.year() - 1),
                "Con",
            ),
        };
        let age = today.year() - born;
        let fam = if m == 1 { g.pick(&FAMILY) } else { family };
        let name = g.name(fam, sex);
        let citizen_id = (age >= 14).then(|| {
            format!(
                "024{:01}{:02}{:06}",
                u8::from(sex == Sex::Female),
                born % 100,
                g.rng.u32(..1_000_000)
            )
        });
        members.push(Member {
            id: g.id(),
            household_id: hid.to_string(),
            data: MemberInput {
                full_name: name,
                birth_year: born,
                sex,
                ethnicity: ethnicity.into(),
                citizen_id,
                relation: relation.into(),
                disability: g.rng.u8(..100) < 4,
                health_insurance: design != Designed::NotPoor || g.rng.u8(..100) < 92,
                schooling: match age {
                    0..=5 => "Chưa đi học",
                    6..=10 => "Tiểu học",
                    11..=14 => "THCS",
                    15..=17 => "THPT",
                    _ => "Lớp 9",
                }
                .into(),
                work: match age {
                    0..=17 => "Đi học",
                    18..=60 => "Làm nông nghiệp",
                    _ => "Già yếu",
                }
                .into(),
            },
        });
    }
    members
}

/// Review evidence designed for the class; incomes are drawn in tens of thousands of đồng.
fn evidence(g: &mut Gen, rs: &RuleSet, design: Designed) -> Evidence {
    let (line, avg) = (
        rs.income_line.rural / 10_000,
        rs.average_upper.rural / 10_000,
    );
    let (income, deprived) = match design {
        Designed::Poor => (g.rng.i64(50..=line), g.deprivations(rs, 3, 6)),
        Designed::NearPoor => (g.rng.i64(80..=line), g.deprivations(rs, 0, 2)),
        Designed::Escaped | Designed::Average => {
            (g.rng.i64(line + 1..=avg), g.deprivations(rs, 0, 3))
        }
        Designed::NotPoor => (g.rng.i64(avg + 1..=600), g.deprivations(rs, 0, 1)),
    };
    let income = income * 10_000;
    // About a third of village heads score with forms B1/B2 instead of asking income.
    let use_scores = g.rng.u8(..100) < 33 && matches!(design, Designed::Poor | Designed::NearPoor);
    if use_scores {
        Evidence {
            residence: Residence::Rural,
            income: IncomeEvidence::B1 {
                score: g.rng.u32(60..=rs.b1_income_poor_max.rural as u32),
            },
            deprivation: DeprivationEvidence::B2 {
                score: rs.b2_points_per_indicator * deprived.len() as u32,
            },
        }
    } else {
        Evidence {
            residence: Residence::Rural,
            income: IncomeEvidence::Income {
                per_person_month: income,
            },
            deprivation: DeprivationEvidence::Indicators { deprived },
        }
    }
}

/// The status of the list the commune registered from paper in 2022, then the decisions
/// of the 2024 and 2025 campaigns, the 2026 campaign so far, reviews households asked for
/// and the few that left the register; returns the household's status after them.
#[allow(clippy::too_many_arguments)]
fn history(
    g: &mut Gen,
    c: &Commune<'_>,
    v: &Village<'_>,
    k: usize,
    design: Designed,
    hid: &str,
    evidence: Evidence,
    once: &mut Once,
    out: &mut Import,
) -> Result<HouseholdStatus, DemoError> {
    let (review_2024, decided_2024) = (day(2024, 10, 20), day(2024, 12, 13));
    let (review_2025, decided_2025) = (day(2025, 10, 25), day(2025, 12, 12));
    // The 2026 campaign has run through its first villages by the end of November.
    let campaign_2026 = c.today >= day(2026, 11, 25);
    let vi = v.index;
    let special = g.rng.u8(..100);
    let mut status = match design {
        Designed::Poor if special < 7 => HouseholdStatus::NearPoor,
        Designed::NearPoor if special < 8 => HouseholdStatus::Poor,
        Designed::Poor | Designed::Escaped => HouseholdStatus::Poor,
        Designed::NearPoor => HouseholdStatus::NearPoor,
        Designed::Average if special < 12 => HouseholdStatus::NearPoor,
        Designed::Average => HouseholdStatus::Average,
        Designed::NotPoor => HouseholdStatus::NotPoor,
    };
    let hands = Hands {
        head: v.head,
        leader: c.leader,
    };
    let reason = |s: HouseholdStatus| {
        if matches!(s, HouseholdStatus::Poor | HouseholdStatus::NearPoor) {
            ListReason::OnList
        } else {
            ListReason::FlaggedByVillage
        }
    };
    let review = |g: &mut Gen,
                  out: &mut Import,
                  kind: ReviewKind,
                  date: NaiveDate,
                  evidence: Evidence,
                  why: ListReason,
                  status: HouseholdStatus,
                  reached: Reached|
     -> Result<HouseholdStatus, DemoError> {
        let a = assessment(g, c.book, hid, kind, date, evidence)?;
        let after = reviews::steps(g, &mut out.review_steps, &hands, &a, why, status, reached);
        out.assessments.push(a);
        Ok(after)
    };
    let falls_back = design == Designed::Poor && status == HouseholdStatus::Poor && !once.fell_back;
    if design == Designed::Escaped || falls_back {
        once.fell_back |= falls_back;
        let income = if falls_back { 1_900_000 } else { 1_200_000 };
        let before = Evidence {
            residence: Residence::Rural,
            income: IncomeEvidence::Income {
                per_person_month: income,
            },
            deprivation: DeprivationEvidence::Indicators {
                deprived: g.deprivations(c.rules, 3, 4),
            },
        };
        let reached = Reached::Decided {
            on: decided_2024,
            number: "198/QĐ-UBND",
        };
        status = review(
            g,
            out,
            ReviewKind::Annual,
            review_2024,
            before,
            reason(status),
            status,
            reached,
        )?;
    }
    let flagged = design == Designed::NotPoor && g.rng.u8(..100) < 4;
    if design != Designed::NotPoor || flagged {
        let reached = Reached::Decided {
            on: decided_2025,
            number: "245/QĐ-UBND",
        };
        status = review(
            g,
            out,
            ReviewKind::Annual,
            review_2025,
            evidence.clone(),
            reason(status),
            status,
            reached,
        )?;
    }
    let listed = matches!(
        status,
        HouseholdStatus::Poor | HouseholdStatus::NearPoor | HouseholdStatus::NewlyEscaped
    );
    if campaign_2026 && vi < 4 && listed {
        let date = day(2026, 10, 5) + Duration::days(vi as i64 * 4 + g.rng.i64(0..3));
        let a = assessment(g, c.book, hid, ReviewKind::Annual, date, evidence.clone())?;
        let reached = match vi {
            0 => Reached::Posted { complaint: false },
            1 => Reached::Posted {
                complaint: k % 9 == 4,
            },
            2 => Reached::Met {
                agreed_pct: if k % 11 == 3 {
                    40
                } else {
                    55 + g.rng.u32(..35)
                },
            },
            _ => Reached::Listed,
        };
        reviews::steps(
            g,
            &mut out.review_steps,
            &hands,
            &a,
            reason(status),
            status,
            reached,
        );
        out.assessments.push(a);
    }
    // Households that asked for a review of their own during the year.
    if design == Designed::NotPoor && vi >= 5 && once.ad_hoc < 2 {
        let (date, reached) = if once.ad_hoc == 0 {
            (
                day(2026, 4, 6),
                Reached::Decided {
                    on: day(2026, 4, 24),
                    number: "67/QĐ-UBND",
                },
            )
        } else {
            (
                (c.today - Duration::days(6)).max(day(2026, 1, 5)),
                Reached::Listed,
            )
        };
        once.ad_hoc += 1;
        status = review(
            g,
            out,
            ReviewKind::AdHoc,
            date,
            evidence.clone(),
            ListReason::Applied,
            status,
            reached,
        )?;
    }
    // A few households left the register during 2026, each recorded by the commune.
    let leaving = match (design == Designed::NotPoor && vi >= 5, k) {
        (true, 40) => Some((day(2026, 3, 20), LeftReason::MovedAway)),
        (true, 41) => Some((day(2026, 7, 2), LeftReason::Merged)),
        (true, 42) => Some((day(2026, 9, 15), LeftReason::Dissolved)),
        _ => None,
    };
    if let Some((date, reason)) = leaving.filter(|(d, _)| *d <= c.today) {
        out.review_steps.push(ReviewStep {
            id: g.id(),
            household_id: hid.to_string(),
            review_id: None,
            date,
            by: c.leader.to_string(),
            data: StepData::Left {
                reason,
                number: format!("{}/XN-UBND", 30 + vi),
                from: status,
            },
        });
    }
    Ok(status)
}

/// A review of the household: the evidence and the rule engine's classification of it
/// under the rule set in force on `date`.
fn assessment(
    g: &mut Gen,
    book: &RuleBook,
    household_id: &str,
    kind: ReviewKind,
    date: NaiveDate,
    evidence: Evidence,
) -> Result<Assessment, DemoError> {
    let rs = shared::review::rule_set_for(book, kind, date)
        .ok_or_else(|| DemoError::Bug(format!("no rule set for {date}")))?;
    let o =
        classify(rs, &evidence).map_err(|e| DemoError::Bug(format!("invalid evidence {e:?}")))?;
    Ok(Assessment {
        id: g.id(),
        household_id: household_id.into(),
        kind,
        date,
        evidence,
        classification: o.classification,
        explanation: o.explanation,
    })
}
