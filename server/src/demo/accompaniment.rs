//! The accompaniment of a commune's poor and near-poor households since the commune's
//! reorganisation: a cadre for each with monthly or bimonthly visits (about one in seven
//! fallen behind), the support of projects 2–7 matched to its causes and deprivations,
//! and the plan the commune drew up after its review.

use super::names::Gen;
use crate::store::Import;
use chrono::{Duration, NaiveDate};
use shared::assignment::Assignment;
use shared::household::{Cause, Household, HouseholdStatus};
use shared::plan::{PlanItem, PlanItemInput, PlanStatus};
use shared::support::{Project, SupportAction, SupportInput, SupportKind, SupportStatus};
use shared::user::User;
use shared::visit::{Visit, VisitInput};

/// Assigns the `supported` households to `cadres` in turn from mid-2025, with their visits
/// up to `today`, then the support each was given; all into `out`. `place` is the
/// commune's name without "Xã" (providers are named after it).
pub(super) fn accompany(
    g: &mut Gen,
    supported: &[Household],
    cadres: &[User],
    place: &str,
    today: NaiveDate,
    out: &mut Import,
) {
    let assigned_from = NaiveDate::from_ymd_opt(2025, 7, 1).expect("date");
    for (i, h) in supported.iter().enumerate() {
        let cadre = &cadres[i % cadres.len()];
        let cadence = if h.status == HouseholdStatus::Poor {
            30
        } else {
            60
        };
        out.assignments.push(Assignment {
            id: g.id(),
            household_id: h.id.clone(),
            cadre_id: cadre.id.clone(),
            from_date: assigned_from,
            to_date: None,
            cadence_days: cadence,
        });
        // Most cadres keep up; about one household in seven has fallen behind.
        let behind = g.rng.u8(..100) < 15;
        let stop = if behind {
            today - Duration::days(cadence + 20 + g.rng.i64(0..40))
        } else {
            today
        };
        let mut day = assigned_from + Duration::days(g.rng.i64(3..20));
        while day <= stop {
            let next = day + Duration::days(cadence + g.rng.i64(-5..6));
            out.visits.push(visit(g, h, cadre, day, next));
            day = next;
        }
    }
    // Support across projects 2–7 and the policies beside them, matched to the causes.
    for h in supported {
        let latest = out
            .assessments
            .iter()
            .rev()
            .find(|a| a.household_id == h.id)
            .expect("reviewed");
        for plan in support_for(h, &latest.explanation.deprived, place) {
            let planned = NaiveDate::from_ymd_opt(
                2024 + g.rng.i32(0..3),
                1 + g.rng.u32(..12),
                1 + g.rng.u32(..28),
            )
            .expect("date");
            let planned = planned.min(today);
            let delivered = (planned + Duration::days(30) <= today && g.rng.u8(..100) < 80)
                .then(|| planned + Duration::days(g.rng.i64(5..45)));
            out.support.push(SupportAction {
                id: g.id(),
                household_id: h.id.clone(),
                status: if delivered.is_some() {
                    SupportStatus::Delivered
                } else {
                    SupportStatus::Planned
                },
                delivered_date: delivered.map(|x| x.min(today)),
                data: SupportInput {
                    planned_date: planned,
                    ..plan
                },
            });
        }
    }
}

/// The household's plan as the commune drew it up after the review: for a poor or
/// near-poor household, one item per cause of its poverty with the commune plan's matched
/// solution, who carries it and by when, and the progress noted so far.
pub(super) fn plan_for(h: &Household) -> Vec<PlanItem> {
    if !matches!(h.status, HouseholdStatus::Poor | HouseholdStatus::NearPoor) {
        return vec![];
    }
    let seed =
        h.id.bytes()
            .fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(b as usize));
    let mid_year = NaiveDate::from_ymd_opt(2026, 6, 30).expect("date");
    let year_end = NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
    h.causes
        .iter()
        .enumerate()
        .map(|(k, &cause)| {
            let owner = match cause {
                Cause::LackOfCapital => "Hội Nông dân xã (ủy thác NHCSXH)",
                Cause::LackOfSkills | Cause::ManyDependants => "Công chức LĐ-TB&XH xã",
                Cause::LackOfKnowHow | Cause::LackOfWill => "Cán bộ kèm cặp",
                Cause::LackOfLand | Cause::LackOfMeans => "Cán bộ khuyến nông xã",
                Cause::IllnessNoWorkers
                | Cause::Disability
                | Cause::OldAgeAlone
                | Cause::RiskOrDisaster => "Ủy ban MTTQ xã",
            };
            let due = if (seed + k) % 2 == 0 {
                mid_year
            } else {
                year_end
            };
            let (status, note) = match (seed + 3 * k) % 4 {
                0 if due == mid_year => (PlanStatus::Done, "Đã hoàn thành."),
                1 => (
                    PlanStatus::Open,
                    "Đã hướng dẫn hộ làm hồ sơ, đang chờ xét duyệt.",
                ),
                2 => (PlanStatus::Open, "Hộ đã đồng ý tham gia, chưa triển khai."),
                _ => (PlanStatus::Open, ""),
            };
            PlanItem {
                id: format!("{}-plan-{k}", h.id),
                household_id: h.id.clone(),
                status,
                data: PlanItemInput {
                    progress_note: note.into(),
                    ..PlanItemInput::matched(cause, owner, due)
                },
            }
        })
        .collect()
}

fn visit(g: &mut Gen, h: &Household, cadre: &User, day: NaiveDate, next: NaiveDate) -> Visit {
    const TOPICS: [(&str, &str, &str); 6] = [
        (
            "Hướng dẫn chăm sóc đàn bò được hỗ trợ, tiêm phòng lở mồm long móng",
            "Đàn bò khỏe, đã phối giống",
            "Cần thêm giống cỏ voi",
        ),
        (
            "Trao đổi kế hoạch trồng keo trên đất đồi",
            "Đã phát dọn 0,5 ha",
            "Cần vay vốn mua cây giống",
        ),
        ("Vận động cho con đi học lại", "Cháu đã trở lại lớp", ""),
        (
            "Hướng dẫn làm hồ sơ vay vốn NHCSXH",
            "Đã nộp hồ sơ",
            "Chờ giải ngân",
        ),
        (
            "Kiểm tra việc sử dụng thẻ BHYT, nhắc khám định kỳ",
            "Cả nhà đã có thẻ",
            "",
        ),
        (
            "Động viên chủ hộ đi làm thuê theo mùa vụ",
            "Chủ hộ đã nhận việc tại xưởng gỗ",
            "Cần đào tạo nghề mộc",
        ),
    ];
    let (discussed, progress, needs) = TOPICS[g.rng.usize(..TOPICS.len())];
    Visit {
        id: g.id(),
        household_id: h.id.clone(),
        cadre_id: cadre.id.clone(),
        data: VisitInput {
            date: day,
            discussed: discussed.into(),
            progress: progress.into(),
            needs: needs.into(),
            next_visit: Some(next),
        },
    }
}

/// Support matched to the household's causes and deprivations, as the plan asks.
fn support_for(h: &Household, deprived: &[String], place: &str) -> Vec<SupportInput> {
    let commune = format!("UBND xã {place}");
    let base = |kind, project, provider: &str| SupportInput {
        kind,
        project,
        provider: provider.into(),
        amount_vnd: None,
        quantity: None,
        unit: String::new(),
        planned_date: NaiveDate::MIN,
        addresses_cause: None,
        addresses_indicator: None,
        note: String::new(),
    };
    let mut out = Vec::new();
    for c in &h.causes {
        let s = match c {
            Cause::LackOfCapital => SupportInput {
                amount_vnd: Some(50_000_000),
                addresses_cause: Some(*c),
                ..base(SupportKind::Loan, Project::OtherPolicy, "NHCSXH")
            },
            Cause::LackOfSkills => SupportInput {
                addresses_cause: Some(*c),
                note: "Lớp sơ cấp nghề mộc".into(),
                ..base(
                    SupportKind::Training,
                    Project::P4Vocational,
                    "Trung tâm GDNN-GDTX",
                )
            },
            Cause::LackOfLand | Cause::LackOfMeans => SupportInput {
                quantity: Some(1),
                unit: "con bò".into(),
                amount_vnd: Some(15_000_000),
                addresses_cause: Some(*c),
                ..base(
                    SupportKind::LivelihoodModel,
                    Project::P2Livelihood,
                    &commune,
                )
            },
            Cause::LackOfKnowHow => SupportInput {
                quantity: Some(500),
                unit: "cây keo giống".into(),
                addresses_cause: Some(*c),
                ..base(
                    SupportKind::ProductionSupport,
                    Project::P3Production,
                    "Hội Nông dân xã",
                )
            },
            Cause::ManyDependants => SupportInput {
                addresses_cause: Some(*c),
                ..base(
                    SupportKind::Job,
                    Project::P4Jobs,
                    "Trung tâm Dịch vụ việc làm",
                )
            },
            Cause::RiskOrDisaster => SupportInput {
                amount_vnd: Some(3_000_000),
                addresses_cause: Some(*c),
                ..base(
                    SupportKind::EmergencyRelief,
                    Project::OtherPolicy,
                    "Ủy ban MTTQ xã",
                )
            },
            Cause::LackOfWill
            | Cause::IllnessNoWorkers
            | Cause::Disability
            | Cause::OldAgeAlone => continue,
        };
        out.push(s);
    }
    for code in deprived {
        let s = match code.as_str() {
            "health_insurance" => SupportInput {
                quantity: Some(1),
                unit: "thẻ BHYT".into(),
                ..base(
                    SupportKind::HealthInsurance,
                    Project::OtherPolicy,
                    "BHXH huyện",
                )
            },
            "housing_quality" | "floor_area" => SupportInput {
                amount_vnd: Some(40_000_000),
                ..base(SupportKind::Housing, Project::P5Housing, &commune)
            },
            "nutrition" => SupportInput {
                note: "Bổ sung vi chất cho trẻ dưới 5 tuổi".into(),
                ..base(SupportKind::Nutrition, Project::P3Nutrition, "Trạm Y tế xã")
            },
            "information_assets" | "telecom" => SupportInput {
                quantity: Some(1),
                unit: "chiếc radio".into(),
                ..base(
                    SupportKind::Information,
                    Project::P6Information,
                    "Đài truyền thanh xã",
                )
            },
            "adult_education" => SupportInput {
                ..base(
                    SupportKind::Training,
                    Project::P4Vocational,
                    "Trung tâm GDNN-GDTX",
                )
            },
            "child_school" => SupportInput {
                ..base(
                    SupportKind::TuitionExemption,
                    Project::OtherPolicy,
                    &format!("Trường THCS {place}"),
                )
            },
            _ => continue,
        };
        out.push(SupportInput {
            addresses_indicator: Some(code.clone()),
            ..s
        });
    }
    out
}
