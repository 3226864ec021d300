use super::*;
use proptest::prelude::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn status() -> impl Strategy<Value = HouseholdStatus> {
    prop::sample::select(HouseholdStatus::ALL.to_vec())
}

/// A household with a random path of decisions, one per year from 2022.
fn household(i: usize) -> impl Strategy<Value = HouseholdFact> {
    (
        status(),
        prop::collection::vec(status(), 0..5),
        0usize..3,
        0i64..1500,
    )
        .prop_map(move |(first, path, area, reg)| {
            let mut changes = vec![];
            let mut at = first;
            for (y, s) in path.into_iter().enumerate() {
                if s != at {
                    changes.push(StatusChange {
                        date: d("2022-12-10").with_year(2022 + y as i32).unwrap(),
                        from: at,
                        to: s,
                    });
                    at = s;
                }
            }
            HouseholdFact {
                id: format!("h{i}"),
                code: format!("C-{i:04}"),
                head_name: "x".into(),
                area_id: format!("v{area}"),
                registered: d("2022-01-01") + chrono::Duration::days(reg),
                status: at,
                causes: vec![Cause::LackOfCapital],
                changes,
            }
        })
}

fn facts() -> impl Strategy<Value = Facts> {
    (0usize..40)
        .prop_flat_map(|n| (0..n).map(household).collect::<Vec<_>>())
        .prop_map(|households| Facts {
            areas: (0..3)
                .map(|i| (format!("v{i}"), format!("Thôn {i}")))
                .collect(),
            households,
            ..Default::default()
        })
}

use chrono::Datelike;

proptest! {
    /// The totals are the sums of the rows, and every count of the rows is a count over
    /// the household lines the report carries.
    #[test]
    fn totals_are_the_sums_of_rows_and_rows_count_the_lines(f in facts(), year in 2022i32..2027, half in any::<bool>()) {
        let period = if half { Period::HalfYear } else { Period::Annual };
        let r = build(("c", "Xã"), year, period, &f);
        let sum = |get: fn(&AreaRow) -> usize| r.rows.iter().map(get).sum::<usize>();
        prop_assert_eq!(r.total.poor_end, sum(|x| x.poor_end));
        prop_assert_eq!(r.total.near_poor_start, sum(|x| x.near_poor_start));
        prop_assert_eq!(r.total.households_end, sum(|x| x.households_end));
        prop_assert_eq!(r.total.escaped, sum(|x| x.escaped));
        for row in &r.rows {
            let lines: Vec<_> = r.households.iter().filter(|h| h.area_id == row.area_id).collect();
            prop_assert_eq!(row.poor_end, lines.iter().filter(|h| h.end == HouseholdStatus::Poor).count());
            prop_assert_eq!(row.near_poor_start, lines.iter().filter(|h| h.start == Some(HouseholdStatus::NearPoor)).count());
            for m in Movement::ALL {
                prop_assert_eq!(row.movement(m), lines.iter().map(|h| h.movements.iter().filter(|x| **x == m).count()).sum::<usize>());
            }
        }
    }
}

#[test]
fn a_household_that_fell_back_counts_as_fallen_back_not_newly_poor() {
    use HouseholdStatus::*;
    let changes = [
        StatusChange {
            date: d("2024-12-13"),
            from: Poor,
            to: NewlyEscaped,
        },
        StatusChange {
            date: d("2025-12-12"),
            from: NewlyEscaped,
            to: Poor,
        },
    ];
    assert_eq!(
        Movement::of(&changes, d("2024-01-01"), d("2024-12-31")),
        vec![Movement::Escaped]
    );
    assert_eq!(
        Movement::of(&changes, d("2025-01-01"), d("2025-12-31")),
        vec![Movement::FellBack]
    );
    let h = HouseholdFact {
        id: "h".into(),
        code: "c".into(),
        head_name: "x".into(),
        area_id: "v".into(),
        registered: d("2022-01-01"),
        status: Poor,
        causes: vec![],
        changes: changes.to_vec(),
    };
    assert_eq!(h.status_on(d("2024-06-30")), Poor);
    assert_eq!(h.status_on(d("2024-12-31")), NewlyEscaped);
    assert_eq!(h.status_on(d("2025-12-31")), Poor);
}
