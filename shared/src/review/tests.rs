use super::*;
use proptest::prelude::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn change(date: &str, from: HouseholdStatus, to: HouseholdStatus) -> StatusChange {
    StatusChange {
        date: d(date),
        from,
        to,
        corrects: None,
    }
}

#[test]
fn the_september_2026_review_uses_the_2027_2030_standard() {
    let book = RuleBook::built_in();
    let rs = |k, s| rule_set_for(&book, k, d(s)).unwrap().id.clone();
    assert_eq!(rs(ReviewKind::Annual, "2026-09-01"), "vn-2027-2030");
    assert_eq!(rs(ReviewKind::Annual, "2026-12-14"), "vn-2027-2030");
    assert_eq!(rs(ReviewKind::Annual, "2025-10-15"), "vn-2022-2025");
    // An ad-hoc review decides from its own date, under the standard in force then.
    assert_eq!(rs(ReviewKind::AdHoc, "2026-10-01"), "vn-2022-2025");
    assert_eq!(rs(ReviewKind::AdHoc, "2027-02-01"), "vn-2027-2030");
}

#[test]
fn the_campaign_runs_from_1_september_to_14_december() {
    assert!(in_campaign(d("2026-09-01")));
    assert!(in_campaign(d("2026-12-14")));
    assert!(!in_campaign(d("2026-12-15")));
    assert!(!in_campaign(d("2026-08-31")));
}

#[test]
fn an_escaped_household_keeps_its_window_for_36_months() {
    use HouseholdStatus::*;
    let t = Trajectory::of(&[change("2025-12-20", Poor, NewlyEscaped)]);
    assert_eq!(t.escaped_on, Some(d("2025-12-20")));
    assert_eq!(t.window_until, Some(d("2028-12-20")));
    assert!(t.in_window(d("2028-12-19")));
    assert!(!t.in_window(d("2028-12-20")));
    assert!(!t.fell_back() && !t.rotating());
}

#[test]
fn a_fall_back_raises_the_flag_and_ends_the_window() {
    use HouseholdStatus::*;
    let t = Trajectory::of(&[
        change("2024-12-20", Poor, NewlyEscaped),
        change("2025-12-20", NewlyEscaped, Poor),
    ]);
    assert!(t.fell_back());
    assert!(!t.in_window(d("2026-01-01")));
    assert!(Flag::FellBack.holds(&t, d("2026-01-01")));
    // Escaping again clears the fall back and opens a new window.
    let t = Trajectory::of(&[
        change("2023-12-20", Poor, NewlyEscaped),
        change("2024-12-20", NewlyEscaped, Poor),
        change("2025-12-20", Poor, NewlyEscaped),
    ]);
    assert!(!t.fell_back());
    assert!(t.in_window(d("2026-06-01")));
    assert_eq!(t.exits, 2);
    assert!(t.rotating(), "out of the lists twice");
}

#[test]
fn a_near_poor_household_leaving_the_list_is_flagged() {
    use HouseholdStatus::*;
    let t = Trajectory::of(&[change("2025-12-20", NearPoor, Average)]);
    assert_eq!(t.left_near_poor_on, Some(d("2025-12-20")));
    assert!(t.escaped_on.is_none());
}

fn status() -> impl Strategy<Value = HouseholdStatus> {
    prop::sample::select(HouseholdStatus::ALL.to_vec())
}

proptest! {
    /// A meeting's result is valid exactly when at least half of those present agreed.
    #[test]
    fn a_meeting_is_valid_at_half_or_more(attendees in 1u32..=MAX_ATTENDEES, share in 0u32..=100) {
        let agreed = attendees * share / 100;
        prop_assert_eq!(meeting_valid(attendees, agreed), agreed * 2 >= attendees);
        let step = ReviewStep {
            id: "s".into(), household_id: "h".into(), review_id: Some("a".into()),
            date: d("2026-10-01"), by: "u".into(),
            data: StepData::Meeting { attendees, agreed: attendees + 1 },
        };
        prop_assert!(step.validate().is_err(), "more agreed than present is refused");
    }

    /// Whatever the path, the trajectory's counts match the changes and a household in
    /// its window has escaped within the last 36 months and not fallen back since.
    #[test]
    fn trajectories_follow_the_decisions(path in prop::collection::vec(status(), 1..8), day in 0i64..4000) {
        let mut changes = vec![];
        let mut date = d("2018-12-20");
        for w in path.windows(2) {
            if w[0] != w[1] {
                changes.push(StatusChange { date, from: w[0], to: w[1], corrects: None });
            }
            date = date.with_year(date.year() + 1).unwrap();
        }
        let t = Trajectory::of(&changes);
        let today = d("2018-01-01") + chrono::Duration::days(day);
        let listed = |s: HouseholdStatus| matches!(s, HouseholdStatus::Poor | HouseholdStatus::NearPoor);
        prop_assert_eq!(t.exits as usize, changes.iter().filter(|c| listed(c.from) && !listed(c.to)).count());
        if t.in_window(today) {
            let on = t.escaped_on.unwrap();
            prop_assert!(today < on.checked_add_months(Months::new(36)).unwrap());
            prop_assert!(!changes.iter().any(|c| c.date > on && c.to == HouseholdStatus::Poor));
        }
        if t.fell_back() {
            let last_poor = changes.iter().rev().find(|c| c.to == HouseholdStatus::Poor).unwrap();
            prop_assert!(changes.iter().any(|c| c.date < last_poor.date && c.from == HouseholdStatus::Poor));
        }
    }
    /// However often the last review's decision is corrected, the review's decision in
    /// force is the last correction, deciding from the status before the first; the
    /// household's effective path is the one where that review had decided so; the ledger
    /// keeps every step, and a correction is counted as no movement of the reports.
    #[test]
    fn corrections_replace_the_decision_in_force(
        path in prop::collection::vec(status(), 2..6),
        fixes in prop::collection::vec(status(), 1..4),
    ) {
        let mut steps = vec![];
        let mut date = d("2019-12-20");
        let step = |id: String, review: String, date, from, to, corrects| ReviewStep {
            id: id.clone(), household_id: "h".into(), review_id: Some(review), date, by: "leader".into(),
            data: StepData::Decision { number: format!("{id}/QĐ"), approved: true, from, to, corrects },
        };
        for (k, w) in path.windows(2).enumerate() {
            steps.push(step(format!("d{k}"), format!("r{k}"), date, w[0], w[1], None));
            date = date.with_year(date.year() + 1).unwrap();
        }
        let last = path.len() - 2;
        let (first_date, before) = (steps[last].date, path[last]);
        let mut at = path[last + 1];
        let mut in_force = format!("d{last}");
        for (j, fix) in fixes.iter().enumerate() {
            let on = first_date + chrono::Duration::days(10 * (j as i64 + 1));
            steps.push(step(format!("f{j}"), format!("r{last}"), on, at, *fix, Some(in_force.clone())));
            in_force = format!("f{j}");
            at = *fix;
        }
        let p = Progress::of(&format!("r{last}"), &steps);
        let decided = p.decision.unwrap();
        prop_assert_eq!(&decided.step_id, &in_force);
        prop_assert_eq!(decided.before, before);
        prop_assert_eq!(decided.to, at);
        let raw = StatusChange::from_steps(&steps);
        let mut expected: Vec<StatusChange> = path.windows(2).enumerate()
            .filter(|(_, w)| w[0] != w[1])
            .map(|(k, w)| StatusChange { date: steps[k].date, from: w[0], to: w[1], corrects: None })
            .collect();
        if path[last] != path[last + 1] {
            expected.pop();
        }
        if before != at {
            expected.push(StatusChange { date: first_date, from: before, to: at, corrects: None });
        }
        prop_assert_eq!(StatusChange::effective(&raw), expected.clone());
        prop_assert_eq!(Trajectory::of(&raw), Trajectory::of(&expected));
        let all = (d("2000-01-01"), d("2100-01-01"));
        let decisions: Vec<StatusChange> = raw.iter().filter(|c| c.corrects.is_none()).cloned().collect();
        prop_assert_eq!(
            crate::report::Movement::of(&raw, all.0, all.1).len(),
            crate::report::Movement::of(&decisions, all.0, all.1).len(),
            "a correction is no escape, new case or fall back"
        );
    }
}

/// A correcting decision pushed from a device names its decision by a bounded id, and a
/// correction without a number is refused like any decision.
#[test]
fn a_correction_is_bounded_before_it_is_judged() {
    let step = |corrects: &str, number: &str| ReviewStep {
        id: "s".into(),
        household_id: "h".into(),
        review_id: Some("r".into()),
        date: d("2026-01-05"),
        by: "leader".into(),
        data: StepData::Decision {
            number: number.into(),
            approved: false,
            from: HouseholdStatus::NewlyEscaped,
            to: HouseholdStatus::Poor,
            corrects: Some(corrects.into()),
        },
    };
    assert!(step("d1", "9/QĐ-UBND").validate().is_ok());
    assert!(step(&"x".repeat(65), "9/QĐ-UBND").validate().is_err());
    assert!(step("", "9/QĐ-UBND").validate().is_err());
    assert!(step("d1", " ").validate().is_err());
}
