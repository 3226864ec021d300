//! The commune's targets as its plan sets them: 2024 as the plan set them (poor 3.39 %,
//! near-poor 8.0 %), then lower each year; each village its share, in proportion to its
//! own rates.

use shared::area::Area;
use shared::household::{Household, HouseholdStatus};
use shared::target::{Target, TargetInput};

pub(super) fn targets(commune: &Area, villages: &[Area], households: &[Household]) -> Vec<Target> {
    let rate_in = |hs: &[&Household], s| {
        100.0 * hs.iter().filter(|h| h.status == s).count() as f64 / hs.len().max(1) as f64
    };
    let all: Vec<&Household> = households.iter().collect();
    let (poor_now, near_now) = (
        rate_in(&all, HouseholdStatus::Poor),
        rate_in(&all, HouseholdStatus::NearPoor),
    );
    let round = |x: f64| (x * 100.0).round() / 100.0;
    let mut out = Vec::new();
    for (year, poor_pct, near_pct) in [(2024, 3.39, 8.0), (2025, 3.0, 7.5), (2026, 2.6, 7.0)] {
        out.push(Target {
            area_id: commune.id.clone(),
            year,
            data: TargetInput {
                poor_rate_pct: poor_pct,
                near_poor_rate_pct: near_pct,
                indicator_goals: [("health_insurance".to_string(), 0.0)].into(),
            },
        });
        for v in villages {
            let hs: Vec<&Household> = households.iter().filter(|h| h.village_id == v.id).collect();
            out.push(Target {
                area_id: v.id.clone(),
                year,
                data: TargetInput {
                    poor_rate_pct: round(rate_in(&hs, HouseholdStatus::Poor) * poor_pct / poor_now),
                    near_poor_rate_pct: round(
                        rate_in(&hs, HouseholdStatus::NearPoor) * near_pct / near_now,
                    ),
                    indicator_goals: Default::default(),
                },
            });
        }
    }
    out
}
