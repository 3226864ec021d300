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
                        corrects: None,
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
                left: None,
            }
        })
}

fn facts() -> impl Strategy<Value = Facts> {
    commune(40, household)
}

/// Up to `max` households made by `one`, in three villages.
fn commune<S: Strategy<Value = HouseholdFact>>(
    max: usize,
    one: fn(usize) -> S,
) -> impl Strategy<Value = Facts> {
    (0usize..max)
        .prop_flat_map(move |n| (0..n).map(one).collect::<Vec<_>>())
        .prop_map(|households| Facts {
            areas: (0..3)
                .map(|i| (format!("v{i}"), format!("Thôn {i}")))
                .collect(),
            households,
            ..Default::default()
        })
}

use chrono::Datelike;

/// Support delivered to every third household, visits to every second, and targets of a
/// village and of the whole area `whole`.
fn supported_and_visited(f: &mut Facts, whole: &str) {
    for (i, h) in f.households.iter().enumerate() {
        if i % 3 == 0 {
            f.delivered.push(DeliveredFact {
                household_id: h.id.clone(),
                project: Project::ALL[i % Project::ALL.len()],
                amount_vnd: Some(1_000 * i as i64),
            });
        }
        if i % 2 == 0 {
            f.visits
                .push((["A", "B"][i % 4 / 2].to_string(), h.id.clone(), 1 + i % 3));
        }
    }
    f.targets = vec![("v1".into(), 3.5, 4.0), (whole.into(), 2.0, 3.0)];
}

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

proptest! {
    /// Households unmoved since the period's start counted in groups (as the database
    /// gives a province's parts: by row, status and, for the poor, causes) give the
    /// figures of the same households counted one by one: every row, total, movement
    /// table, cause, support and visit figure.
    #[test]
    fn unmoved_households_counted_in_groups_give_the_same_figures(f in facts(), year in 2022i32..2027, half in any::<bool>()) {
        let period = if half { Period::HalfYear } else { Period::Annual };
        let (from, _) = period.span(year);
        let mut f = f;
        let causes = [vec![Cause::LackOfCapital], vec![Cause::LackOfLand, Cause::IllnessNoWorkers], vec![]];
        for (i, h) in f.households.iter_mut().enumerate() {
            h.causes = causes[i % causes.len()].clone();
        }
        supported_and_visited(&mut f, "c");
        let one_by_one = figures(("c", "Xã"), year, period, &f);
        let mut grouped = Facts { households: vec![], ..f.clone() };
        for h in f.households {
            if !h.unmoved_since(from) {
                grouped.households.push(h);
                continue;
            }
            let causes = if h.status == HouseholdStatus::Poor { h.causes } else { vec![] };
            match grouped.unmoved.iter_mut().find(|g| g.area_id == h.area_id && g.status == h.status && g.causes == causes) {
                Some(g) => g.households += 1,
                None => grouped.unmoved.push(Unmoved { area_id: h.area_id, status: h.status, causes, households: 1 }),
            }
        }
        prop_assert_eq!(figures(("c", "Xã"), year, period, &grouped), one_by_one);
    }
}

proptest! {
    /// A province's report put together from its communes' own reports, one at a time,
    /// is the report built from the whole province at once: every row, total, movement
    /// table, cause, support and visit figure, and the household lines. Parts built as
    /// figures only (the province's kept parts) give the same figures without the lines.
    #[test]
    fn a_report_combined_from_its_parts_is_the_whole(f in facts(), year in 2022i32..2027, half in any::<bool>()) {
        let period = if half { Period::HalfYear } else { Period::Annual };
        let mut f = f;
        supported_and_visited(&mut f, "p");
        let whole = build(("p", "Tỉnh"), year, period, &f);
        let mut combined = Combined::new(("p", "Tỉnh"), year, period);
        let mut of_figures = Combined::new(("p", "Tỉnh"), year, period);
        for (id, name) in &f.areas {
            let own = |hid: &str| f.households.iter().any(|h| h.id == hid && &h.area_id == id);
            let part = Facts {
                areas: vec![(id.clone(), name.clone())],
                households: f.households.iter().filter(|h| &h.area_id == id).cloned().collect(),
                targets: f.targets.iter().filter(|t| &t.0 == id).cloned().collect(),
                delivered: f.delivered.iter().filter(|d| own(&d.household_id)).cloned().collect(),
                visits: f.visits.iter().filter(|v| own(&v.1)).cloned().collect(),
                unmoved: vec![],
            };
            combined.add(build((id, name), year, period, &part), true);
            let only = figures((id, name), year, period, &part);
            prop_assert!(only.households.is_empty());
            of_figures.add(only, false);
        }
        let c = combined.finish(Some((2.0, 3.0)));
        let mut without_lines = whole.clone();
        without_lines.households.clear();
        prop_assert_eq!(of_figures.finish(Some((2.0, 3.0))), without_lines);
        prop_assert_eq!(&c.rows, &whole.rows);
        prop_assert_eq!(&c.total, &whole.total);
        prop_assert_eq!(&c.causes, &whole.causes);
        prop_assert_eq!(&c.support, &whole.support);
        prop_assert_eq!(&c.visits, &whole.visits);
        prop_assert_eq!(&c.households, &whole.households);
    }
}

/// Visits count by cadre, not by name: two cadres of one name in two communes are two rows
/// of a province's report, each with its own visits and households, and a cadre renamed
/// after the parts were counted is shown by the new name without counting them again.
#[test]
fn cadres_of_one_name_are_two_rows_named_when_the_report_is_given() {
    let household = |id: &str, area: &str| HouseholdFact {
        id: id.into(),
        code: id.to_uppercase(),
        head_name: "x".into(),
        area_id: area.into(),
        registered: d("2020-01-01"),
        status: HouseholdStatus::Poor,
        causes: vec![],
        changes: vec![],
        left: None,
    };
    let part = |area: &str, households: &[&str], visits: Vec<(&str, &str, usize)>| Facts {
        areas: vec![(area.into(), area.into())],
        households: households.iter().map(|h| household(h, area)).collect(),
        visits: visits
            .into_iter()
            .map(|(c, h, n)| (c.into(), h.into(), n))
            .collect(),
        ..Default::default()
    };
    let first = part("c1", &["h1", "h2"], vec![("u1", "h1", 2), ("u1", "h2", 1)]);
    let second = part("c2", &["h3"], vec![("u2", "h3", 4), ("u3", "h3", 1)]);
    let mut whole = Combined::new(("p", "Tỉnh"), 2026, Period::Annual);
    whole.add(figures(("c1", "c1"), 2026, Period::Annual, &first), false);
    whole.add(figures(("c2", "c2"), 2026, Period::Annual, &second), false);
    let counted = whole.finish(None);
    let rows = |r: &Report| {
        r.visits
            .iter()
            .map(|v| (v.cadre.clone(), v.cadre_id.clone(), v.visits, v.households))
            .collect::<Vec<_>>()
    };
    let mut names: BTreeMap<String, String> = [("u1", "Nguyễn Văn An"), ("u2", "Nguyễn Văn An")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut r = counted.clone();
    r.name_cadres(&names);
    let an = "Nguyễn Văn An".to_string();
    assert_eq!(
        rows(&r),
        vec![
            (an.clone(), "u1".into(), 3, 2),
            (an.clone(), "u2".into(), 4, 1),
            // A user no longer known keeps the id.
            ("u3".into(), "u3".into(), 1, 1),
        ]
    );
    names.insert("u2".into(), "Đỗ Thị Bình".into());
    let mut r = counted;
    r.name_cadres(&names);
    assert_eq!(
        rows(&r),
        vec![
            (an, "u1".into(), 3, 2),
            ("u3".into(), "u3".into(), 1, 1),
            ("Đỗ Thị Bình".into(), "u2".into(), 4, 1),
        ],
        "by name, as the new name sorts"
    );
}

#[test]
fn a_household_that_fell_back_counts_as_fallen_back_not_newly_poor() {
    use HouseholdStatus::*;
    let changes = [
        StatusChange {
            date: d("2024-12-13"),
            from: Poor,
            to: NewlyEscaped,
            corrects: None,
        },
        StatusChange {
            date: d("2025-12-12"),
            from: NewlyEscaped,
            to: Poor,
            corrects: None,
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
        left: None,
    };
    assert_eq!(h.status_on(d("2024-06-30")), Poor);
    assert_eq!(h.status_on(d("2024-12-31")), NewlyEscaped);
    assert_eq!(h.status_on(d("2025-12-31")), Poor);
}

/// What really happened to one household, kept beside what the ledger made of it, so
/// the report is checked against a recount of the events, not of its own reading.
#[derive(Debug, Clone)]
struct Truth {
    village: String,
    registered: NaiveDate,
    opening: HouseholdStatus,
    /// Decisions in the order they were taken: (day, new status).
    decisions: Vec<(NaiveDate, HouseholdStatus)>,
    left: Option<NaiveDate>,
}

impl Truth {
    /// Its category at the end of `day`, or `None` when it was not in the register then.
    fn at(&self, day: NaiveDate) -> Option<HouseholdStatus> {
        if self.registered > day || self.left.is_some_and(|l| l <= day) {
            return None;
        }
        Some(
            self.decisions
                .iter()
                .rev()
                .find(|(d, _)| *d <= day)
                .map_or(self.opening, |(_, s)| *s),
        )
    }
}

/// One household's life in the register, as the write core records it: registered on a
/// random day ("not reviewed yet", or an official status brought by an opening import),
/// decisions between any statuses on random days (several on one day too), maybe its
/// leaving the register (no decision after it); the report's facts come through
/// `ledger::movements`, as the server's do.
fn history(i: usize) -> impl Strategy<Value = (HouseholdFact, Truth)> {
    use crate::review::{LeftReason, ReviewStep, StepData};
    (
        (any::<bool>(), status()),
        prop::collection::vec((0i64..2200, status()), 0..8),
        0usize..3,
        0i64..2200,
        prop::option::of(0i64..2400),
    )
        .prop_map(move |((imported, opening), mut moves, area, reg, leave)| {
            let opening = if imported {
                opening
            } else {
                HouseholdStatus::NotReviewed
            };
            let registered = d("2021-01-01") + chrono::Duration::days(reg);
            let left = leave.map(|l| registered + chrono::Duration::days(l / 2));
            moves.sort_by_key(|m| m.0);
            let mut at = opening;
            let mut steps = vec![];
            let mut decisions = vec![];
            for (k, (day, to)) in moves.into_iter().enumerate() {
                let date = registered + chrono::Duration::days(day / 2);
                if left.is_some_and(|l| date > l) {
                    break;
                }
                steps.push(ReviewStep {
                    id: format!("s{k:02}"),
                    household_id: format!("h{i}"),
                    review_id: Some(format!("r{k}")),
                    date,
                    by: "leader".into(),
                    data: StepData::Decision {
                        number: format!("{k}/QĐ"),
                        approved: true,
                        from: at,
                        to,
                        corrects: None,
                    },
                });
                if to != at {
                    decisions.push((date, to));
                }
                at = to;
            }
            if let Some(l) = left {
                steps.push(ReviewStep {
                    id: "s99".into(),
                    household_id: format!("h{i}"),
                    review_id: None,
                    date: l,
                    by: "officer".into(),
                    data: StepData::Left {
                        reason: LeftReason::MovedAway,
                        number: "1/XN".into(),
                        from: at,
                    },
                });
            }
            let household = crate::household::Household {
                id: format!("h{i}"),
                code: format!("C-{i:04}"),
                village_id: format!("v{area}"),
                address: String::new(),
                head_name: "x".into(),
                residence: crate::household::Residence::Rural,
                status: at,
                priority: Default::default(),
                causes: vec![],
                created_at: format!("{registered}T00:00:00.000Z"),
                updated_at: format!("{registered}T00:00:00.000Z"),
            };
            let ledger = crate::ledger::movements(&household, &steps);
            let truth = Truth {
                village: household.village_id.clone(),
                registered,
                opening,
                decisions,
                left,
            };
            (
                HouseholdFact::of(household.clone(), &ledger, household.village_id),
                truth,
            )
        })
}

fn histories() -> impl Strategy<Value = (Facts, Vec<Truth>)> {
    (0usize..60)
        .prop_flat_map(|n| (0..n).map(history).collect::<Vec<_>>())
        .prop_map(|lives| {
            let (households, truths) = lives.into_iter().unzip();
            (
                Facts {
                    areas: (0..3)
                        .map(|i| (format!("v{i}"), format!("Thôn {i}")))
                        .collect(),
                    households,
                    ..Default::default()
                },
                truths,
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    /// Every category of every row and of the total adds up (start + inflows − outflows =
    /// end), its start and end equal a recount of the households at the day before the
    /// period and at its last day, the total's flows are the sums of the rows', and the
    /// summary's start and end figures are the movement table's.
    #[test]
    fn every_report_reconciles_and_equals_a_recount((f, truths) in histories(), year in 2021i32..2028, half in any::<bool>()) {
        use flows::Category;
        let period = if half { Period::HalfYear } else { Period::Annual };
        let r = build(("c", "Xã"), year, period, &f);
        let (from, to) = period.span(year);
        let before = from.pred_opt().unwrap();
        let recount = |area: Option<&str>, c: Category, day: NaiveDate| {
            truths
                .iter()
                .filter(|t| area.is_none_or(|a| t.village == a))
                .filter_map(|t| t.at(day))
                .filter(|s| c == Category::All || Category::of(*s) == c)
                .count()
        };
        // Every household that left inside the period is one outflow of "all households".
        let left = truths.iter().filter(|t| t.left.is_some_and(|l| from <= l && l <= to)).count();
        let all = r.total.flows.iter().find(|x| x.category == Category::All).unwrap();
        prop_assert_eq!(all.outflow_of(flows::FlowKind::Left), left);
        for row in r.rows.iter().chain([&r.total]) {
            let area = (row.area_id != "c").then_some(row.area_id.as_str());
            prop_assert_eq!(row.flows.len(), Category::ALL.len());
            for cf in &row.flows {
                prop_assert_eq!(cf.check(), 0, "{:?} of {}", cf, row.area_id);
                prop_assert_eq!(cf.start, recount(area, cf.category, before));
                prop_assert_eq!(cf.end, recount(area, cf.category, to));
            }
            let of = |c: Category| row.flows.iter().find(|x| x.category == c).unwrap();
            prop_assert_eq!(of(Category::Poor).start, row.poor_start);
            prop_assert_eq!(of(Category::NearPoor).end, row.near_poor_end);
            prop_assert_eq!(of(Category::All).start, row.households_start);
            prop_assert_eq!(of(Category::All).end, row.households_end);
        }
        for c in Category::ALL {
            let total = r.total.flows.iter().find(|x| x.category == c).unwrap();
            let sum = |get: fn(&flows::CategoryFlows) -> usize| {
                r.rows.iter().map(|row| get(row.flows.iter().find(|x| x.category == c).unwrap())).sum::<usize>()
            };
            prop_assert_eq!(total.inflow(), sum(flows::CategoryFlows::inflow));
            prop_assert_eq!(total.outflow(), sum(flows::CategoryFlows::outflow));
        }
    }
}

/// The 2025 finding: a household that escaped poverty into near-poverty leaves the poor
/// and enters the near-poor, so both categories add up.
#[test]
fn an_escape_into_near_poverty_is_an_inflow_of_the_near_poor() {
    use HouseholdStatus::*;
    let h = |id: &str, changes: Vec<StatusChange>, status| HouseholdFact {
        id: id.into(),
        code: id.into(),
        head_name: "x".into(),
        area_id: "v0".into(),
        registered: d("2022-01-01"),
        status,
        causes: vec![],
        changes,
        left: None,
    };
    let f = Facts {
        areas: vec![("v0".into(), "Thôn".into())],
        households: vec![
            h(
                "a",
                vec![StatusChange {
                    date: d("2025-12-12"),
                    from: Poor,
                    to: NearPoor,
                    corrects: None,
                }],
                NearPoor,
            ),
            h("b", vec![], NearPoor),
        ],
        ..Default::default()
    };
    let r = build(("c", "Xã"), 2025, Period::Annual, &f);
    let of = |c| {
        r.total
            .flows
            .iter()
            .find(|x| x.category == c)
            .unwrap()
            .clone()
    };
    let near = of(flows::Category::NearPoor);
    assert_eq!(
        (near.start, near.inflow(), near.outflow(), near.end),
        (1, 1, 0, 2)
    );
    assert_eq!(
        near.inflows[0].kind,
        flows::FlowKind::Status(flows::Category::Poor)
    );
    let poor = of(flows::Category::Poor);
    assert_eq!(
        (poor.start, poor.inflow(), poor.outflow(), poor.end),
        (1, 0, 1, 0)
    );
}
