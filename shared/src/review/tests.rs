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
                changes.push(StatusChange { date, from: w[0], to: w[1] });
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
}
