use super::*;
use crate::rules::RuleBook;
use proptest::prelude::*;

fn book() -> RuleBook {
    RuleBook::built_in()
}

fn ev(residence: Residence, income: i64, deprived: &[&str]) -> Evidence {
    Evidence {
        residence,
        income: IncomeEvidence::Income {
            per_person_month: income,
        },
        deprivation: DeprivationEvidence::Indicators {
            deprived: deprived.iter().map(|s| s.to_string()).collect(),
        },
    }
}

fn scores(residence: Residence, b1: u32, b2: u32) -> Evidence {
    Evidence {
        residence,
        income: IncomeEvidence::B1 { score: b1 },
        deprivation: DeprivationEvidence::B2 { score: b2 },
    }
}

#[test]
fn every_indicator_counts_on_both_rule_sets_and_both_paths() {
    let book = book();
    for rs in book.all() {
        let codes: Vec<&str> = rs.indicators.iter().map(|i| i.code.as_str()).collect();
        for (n, code) in codes.iter().enumerate() {
            let others = [codes[(n + 1) % codes.len()], codes[(n + 2) % codes.len()]];
            let low = rs.income_line.rural - 100_000;

            // Direct path: this indicator alone → near-poor; with two more → poor.
            let alone = classify(rs, &ev(Residence::Rural, low, &[code])).unwrap();
            assert_eq!(alone.classification, Classification::NearPoor, "{code}");
            assert_eq!(alone.explanation.deprived, vec![code.to_string()]);
            let three = classify(
                rs,
                &ev(Residence::Rural, low, &[code, others[0], others[1]]),
            )
            .unwrap();
            assert_eq!(
                three.classification,
                Classification::Poor,
                "{} {code}",
                rs.id
            );
            assert!(three.explanation.deprived.contains(&code.to_string()));
            let name = &rs.indicator(code).unwrap().name.vi;
            assert!(
                three.explanation.reasons[1].vi.contains(name.as_str()),
                "explanation names {name}"
            );

            // Score path: the same deprivations as B2 points.
            let b1 = rs.b1_income_poor_max.rural as u32;
            let per = rs.b2_points_per_indicator;
            assert_eq!(
                classify(rs, &scores(Residence::Rural, b1, per))
                    .unwrap()
                    .classification,
                Classification::NearPoor
            );
            assert_eq!(
                classify(rs, &scores(Residence::Rural, b1, 3 * per))
                    .unwrap()
                    .classification,
                Classification::Poor
            );
        }
    }
}

#[test]
fn income_lines_are_inclusive_and_differ_by_residence() {
    let book = book();
    let rs = book.get("vn-2022-2025").unwrap();
    let all3 = ["employment", "nutrition", "latrine"];
    assert_eq!(
        classify(rs, &ev(Residence::Rural, 1_500_000, &all3))
            .unwrap()
            .classification,
        Classification::Poor
    );
    assert_eq!(
        classify(rs, &ev(Residence::Rural, 1_500_001, &all3))
            .unwrap()
            .classification,
        Classification::Average
    );
    assert_eq!(
        classify(rs, &ev(Residence::Rural, 2_250_000, &[]))
            .unwrap()
            .classification,
        Classification::Average
    );
    assert_eq!(
        classify(rs, &ev(Residence::Rural, 2_250_001, &[]))
            .unwrap()
            .classification,
        Classification::NotPoor
    );
    // 1.8 million is above the rural line but below the urban one.
    assert_eq!(
        classify(rs, &ev(Residence::Urban, 1_800_000, &[]))
            .unwrap()
            .classification,
        Classification::NearPoor
    );
    assert_eq!(
        classify(rs, &ev(Residence::Urban, 3_000_001, &[]))
            .unwrap()
            .classification,
        Classification::NotPoor
    );

    let new = book.get("vn-2027-2030").unwrap();
    // The same household is average under 2022–2025 but income-poor from 2027.
    let o = classify(new, &ev(Residence::Rural, 2_000_000, &all3)).unwrap();
    assert_eq!(o.classification, Classification::Poor);
    assert_eq!(o.explanation.income_line, 2_200_000);
    assert_eq!(o.explanation.rule_set_id, "vn-2027-2030");
    assert!(o.explanation.reasons[0].vi.contains("2.200.000"));
}

#[test]
fn b1_thresholds_by_residence() {
    let book = book();
    let rs = book.get("vn-2022-2025").unwrap();
    assert_eq!(
        classify(rs, &scores(Residence::Rural, 140, 0))
            .unwrap()
            .classification,
        Classification::NearPoor
    );
    assert_eq!(
        classify(rs, &scores(Residence::Rural, 141, 60))
            .unwrap()
            .classification,
        Classification::NotPoor
    );
    assert_eq!(
        classify(rs, &scores(Residence::Urban, 175, 30))
            .unwrap()
            .classification,
        Classification::Poor
    );
    assert_eq!(
        classify(rs, &scores(Residence::Urban, 176, 30))
            .unwrap()
            .classification,
        Classification::NotPoor
    );
}

#[test]
fn bad_evidence_is_refused_with_field_reasons() {
    let book = book();
    let rs = book.get("vn-2022-2025").unwrap();
    let e = classify(rs, &ev(Residence::Rural, -5, &["electricity"])).unwrap_err();
    let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        fields,
        ["income.per_person_month", "deprivation.deprived[0]"]
    );
    assert!(e.0[1].message.vi.contains("electricity"));
    let e = classify(rs, &scores(Residence::Rural, 100, 35)).unwrap_err();
    assert_eq!(e.0[0].code, "invalid_b2");
    assert!(classify(rs, &scores(Residence::Rural, 100, 130)).is_err());
}

/// Found by REST fuzzing: the most negative amount made writing the amount in words
/// overflow (a panic, a 500) instead of being refused.
#[test]
fn extreme_incomes_are_judged_without_overflow() {
    let book = book();
    let rs = book.get("vn-2022-2025").unwrap();
    let e = classify(rs, &ev(Residence::Rural, i64::MIN, &[])).unwrap_err();
    assert_eq!(e.0[0].field, "income.per_person_month");
    let o = classify(rs, &ev(Residence::Urban, i64::MAX, &[])).unwrap();
    assert_eq!(o.classification, Classification::NotPoor);
}

#[test]
fn a_repeated_indicator_counts_once() {
    let book = book();
    let rs = book.get("vn-2022-2025").unwrap();
    let o = classify(
        rs,
        &ev(
            Residence::Rural,
            1_000_000,
            &["latrine", "latrine", "telecom"],
        ),
    )
    .unwrap();
    assert_eq!(o.explanation.deprivation_count, 2);
    assert_eq!(o.classification, Classification::NearPoor);
}

fn residence() -> impl Strategy<Value = Residence> {
    prop_oneof![Just(Residence::Rural), Just(Residence::Urban)]
}

fn deprivation_set() -> impl Strategy<Value = Vec<bool>> {
    proptest::collection::vec(any::<bool>(), 12)
}

fn codes(rs: &RuleSet, set: &[bool]) -> Vec<String> {
    rs.indicators
        .iter()
        .zip(set)
        .filter(|(_, d)| **d)
        .map(|(i, _)| i.code.clone())
        .collect()
}

proptest! {
    #[test]
    fn one_more_deprivation_never_improves(
        set in deprivation_set(),
        extra in 0usize..12,
        income in 0i64..6_000_000,
        res in residence(),
        which in 0usize..2,
    ) {
        let book = book();
        let rs = &book.all()[which];
        let before = codes(rs, &set);
        let mut more = set.clone();
        more[extra] = true;
        let after = codes(rs, &more);
        let a = classify(rs, &Evidence { residence: res, income: IncomeEvidence::Income { per_person_month: income }, deprivation: DeprivationEvidence::Indicators { deprived: before } }).unwrap();
        let b = classify(rs, &Evidence { residence: res, income: IncomeEvidence::Income { per_person_month: income }, deprivation: DeprivationEvidence::Indicators { deprived: after } }).unwrap();
        // Worse classifications order first.
        prop_assert!(b.classification <= a.classification);
    }

    #[test]
    fn more_income_never_worsens(set in deprivation_set(), income in 0i64..6_000_000, raise in 0i64..2_000_000, res in residence(), which in 0usize..2) {
        let book = book();
        let rs = &book.all()[which];
        let d = DeprivationEvidence::Indicators { deprived: codes(rs, &set) };
        let a = classify(rs, &Evidence { residence: res, income: IncomeEvidence::Income { per_person_month: income }, deprivation: d.clone() }).unwrap();
        let b = classify(rs, &Evidence { residence: res, income: IncomeEvidence::Income { per_person_month: income + raise }, deprivation: d }).unwrap();
        prop_assert!(b.classification >= a.classification);
    }

    #[test]
    fn income_above_the_line_is_never_poor_or_near_poor(set in deprivation_set(), over in 1i64..10_000_000, res in residence(), which in 0usize..2) {
        let book = book();
        let rs = &book.all()[which];
        let income = rs.income_line.get(res) + over;
        let o = classify(rs, &Evidence { residence: res, income: IncomeEvidence::Income { per_person_month: income }, deprivation: DeprivationEvidence::Indicators { deprived: codes(rs, &set) } }).unwrap();
        prop_assert!(!o.classification.is_supported());
        prop_assert!(!o.explanation.income_poor);
    }

    #[test]
    fn score_path_agrees_with_direct_path(set in deprivation_set(), income in 0i64..6_000_000, res in residence(), which in 0usize..2) {
        let book = book();
        let rs = &book.all()[which];
        let deprived = codes(rs, &set);
        let direct = classify(rs, &Evidence { residence: res, income: IncomeEvidence::Income { per_person_month: income }, deprivation: DeprivationEvidence::Indicators { deprived: deprived.clone() } }).unwrap();
        // A B1 score on the same side of its threshold as the income is of its line,
        // and B2 points for the same deprivations.
        let max = rs.b1_income_poor_max.get(res) as u32;
        let b1 = if income <= rs.income_line.get(res) { max } else { max + 1 };
        let b2 = rs.b2_points_per_indicator * deprived.len() as u32;
        let scored = classify(rs, &Evidence { residence: res, income: IncomeEvidence::B1 { score: b1 }, deprivation: DeprivationEvidence::B2 { score: b2 } }).unwrap();
        prop_assert_eq!(direct.explanation.deprivation_count, scored.explanation.deprivation_count);
        if direct.classification.is_supported() || scored.classification.is_supported() {
            prop_assert_eq!(direct.classification, scored.classification);
        } else {
            // B1 cannot tell average from not poor; neither path may call it poor.
            prop_assert_eq!(scored.classification, Classification::NotPoor);
        }
    }
}
