//! The phone's list of households: one small summary per household document, and the
//! search, filters and sort of the "my households" screen. Pure, so the rules of what
//! counts as an overdue visit are tested here and not only through a browser.

use crate::assignment::Accompaniment;
use crate::doc::HouseholdDoc;
use crate::household::{HouseholdStatus, PriorityFlags};
use crate::projection::{Records, project};
use crate::search::fold;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Summary {
    pub id: String,
    pub code: String,
    pub head_name: String,
    pub village_id: String,
    pub address: String,
    pub status: HouseholdStatus,
    pub priority: PriorityFlags,
    pub members: usize,
    pub visits: usize,
    pub last_visit: Option<NaiveDate>,
    /// The next visit the last one planned, if it planned one.
    #[serde(default)]
    pub planned_visit: Option<NaiveDate>,
    /// Devices with a value that a commune decision replaced (`HouseholdDoc::
    /// overridden_devices`), so a phone decodes only the documents that hold its badges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overridden_devices: Vec<String>,
    /// The household left the register (the commune recorded it): out of the phone's
    /// list, as it is out of the console's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub left: bool,
}

impl Summary {
    pub fn of(r: &Records) -> Self {
        let last = r.visits.iter().max_by_key(|v| v.data.date);
        let last_visit = last.map(|v| v.data.date);
        let planned_visit = last.and_then(|v| v.data.next_visit);
        Summary {
            id: r.household.id.clone(),
            code: r.household.code.clone(),
            head_name: r.household.head_name.clone(),
            village_id: r.household.village_id.clone(),
            address: r.household.address.clone(),
            status: r.household.status,
            priority: r.household.priority,
            members: r.members.len(),
            visits: r.visits.len(),
            last_visit,
            planned_visit,
            overridden_devices: vec![],
            left: r
                .review_steps
                .iter()
                .any(|s| matches!(s.data, crate::review::StepData::Left { .. })),
        }
    }

    /// The summary of a household document; `None` when the document does not hold a
    /// complete household (its profile not yet written).
    pub fn of_doc(id: &str, doc: &HouseholdDoc) -> Option<Self> {
        project(id, &doc.to_json(), "")
            .ok()
            .map(|r| Summary::of(&r))
    }

    /// When the next visit is due by the running assignments' cadence; `None` when
    /// nobody accompanies the household (then no visit is ever overdue).
    pub fn due(&self, acc: Option<&Accompaniment>) -> Option<NaiveDate> {
        acc?.due(self.last_visit, self.planned_visit)
    }

    pub fn overdue(&self, today: NaiveDate, acc: Option<&Accompaniment>) -> bool {
        self.due(acc).is_some_and(|d| d < today)
    }

    pub fn has_priority(&self) -> bool {
        let p = self.priority;
        p.ethnic_minority
            || p.meritorious
            || p.woman_headed
            || p.member_with_disability
            || p.elderly_only
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Sort {
    /// Overdue first, then the soonest next visit: what a cadre does next.
    #[default]
    NextVisit,
    Name,
    Code,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    /// Part of the head's name, the code or the address, accents optional.
    pub text: String,
    pub status: Option<HouseholdStatus>,
    pub overdue_only: bool,
    pub priority_only: bool,
    pub sort: Sort,
}

/// Who accompanies each household, by household id.
pub type Accompaniments = BTreeMap<String, Accompaniment>;

/// The summaries that pass the filter, in the chosen order.
pub fn select<'a>(
    all: &'a [Summary],
    f: &Filter,
    today: NaiveDate,
    acc: &Accompaniments,
) -> Vec<&'a Summary> {
    // Each row's due date is worked out once (a phone sorts a whole commune on every
    // keystroke), not in every comparison.
    let needle = fold(f.text.trim());
    let mut out: Vec<(&Summary, Option<NaiveDate>)> = all
        .iter()
        .filter(|s| !s.left)
        .filter(|s| f.status.is_none_or(|st| s.status == st))
        .map(|s| (s, s.due(acc.get(&s.id))))
        .filter(|(_, due)| !f.overdue_only || due.is_some_and(|d| d < today))
        .filter(|(s, _)| !f.priority_only || s.has_priority())
        .filter(|(s, _)| {
            needle.is_empty()
                || fold(&s.head_name).contains(&needle)
                || fold(&s.code).contains(&needle)
                || fold(&s.address).contains(&needle)
        })
        .collect();
    match f.sort {
        Sort::NextVisit => out.sort_by(|(a, da), (b, db)| {
            let late = |d: &Option<NaiveDate>| d.is_some_and(|d| d < today);
            (!late(da), da.is_none(), da, &a.head_name).cmp(&(
                !late(db),
                db.is_none(),
                db,
                &b.head_name,
            ))
        }),
        Sort::Name => {
            out.sort_by_cached_key(|(s, _)| (last_word(&s.head_name), s.head_name.clone()))
        }
        Sort::Code => out.sort_by(|(a, _), (b, _)| a.code.cmp(&b.code)),
    }
    out.into_iter().map(|(s, _)| s).collect()
}

/// Vietnamese names sort by the given name, the last word.
fn last_word(name: &str) -> String {
    fold(name.split_whitespace().last().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn summary(name: &str, status: HouseholdStatus, last: Option<&str>) -> Summary {
        Summary {
            id: name.into(),
            code: format!("TD-{name}"),
            head_name: name.into(),
            village_id: "v1".into(),
            address: "Thôn Nà Rì".into(),
            status,
            priority: PriorityFlags::default(),
            members: 4,
            visits: usize::from(last.is_some()),
            last_visit: last.map(day),
            planned_visit: None,
            overridden_devices: vec![],
            left: false,
        }
    }

    fn monthly(id: &str) -> Accompaniment {
        Accompaniment {
            household_id: id.into(),
            cadres: vec![crate::assignment::AssignedCadre {
                assignment_id: format!("a-{id}"),
                cadre_id: "c".into(),
                full_name: "Lò Văn Sơn".into(),
                from_date: day("2026-01-01"),
                cadence_days: 30,
            }],
        }
    }

    #[test]
    fn a_household_that_left_the_register_is_out_of_the_list() {
        let mut gone = summary("Gone", HouseholdStatus::Poor, None);
        gone.left = true;
        let all = vec![summary("Here", HouseholdStatus::Poor, None), gone];
        let shown = select(
            &all,
            &Filter::default(),
            day("2026-12-01"),
            &Accompaniments::new(),
        );
        let names: Vec<&str> = shown.iter().map(|s| s.head_name.as_str()).collect();
        assert_eq!(names, ["Here"]);
    }

    #[test]
    fn overdue_only_where_someone_accompanies_the_household() {
        let today = day("2026-11-22");
        let visited = summary("a", HouseholdStatus::Poor, Some("2026-10-23"));
        // Nobody accompanies it: never overdue, whatever its status.
        assert!(!visited.overdue(today, None));
        assert!(!summary("a", HouseholdStatus::Poor, None).overdue(today, None));
        let acc = monthly("a");
        assert!(!visited.overdue(today, Some(&acc)));
        assert!(visited.overdue(day("2026-11-22") + chrono::Duration::days(1), Some(&acc)));
        assert!(summary("a", HouseholdStatus::NearPoor, None).overdue(today, Some(&acc)));
    }

    #[test]
    fn search_ignores_accents_and_case() {
        let all = vec![
            summary("Hoàng Văn Páo", HouseholdStatus::Poor, None),
            summary("Lý Thị Mai", HouseholdStatus::Poor, None),
        ];
        let f = Filter {
            text: "hoang van pao".into(),
            ..Default::default()
        };
        let got = select(&all, &f, day("2026-11-22"), &Accompaniments::new());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].head_name, "Hoàng Văn Páo");
    }

    #[test]
    fn names_sort_by_given_name() {
        let all = vec![
            summary("Hoàng Văn Páo", HouseholdStatus::Poor, None),
            summary("Lý Thị Mai", HouseholdStatus::Poor, None),
        ];
        let f = Filter {
            sort: Sort::Name,
            ..Default::default()
        };
        let got: Vec<&str> = select(&all, &f, day("2026-11-22"), &Accompaniments::new())
            .iter()
            .map(|s| s.head_name.as_str())
            .collect();
        assert_eq!(got, ["Lý Thị Mai", "Hoàng Văn Páo"]);
    }

    proptest! {
        /// Filters only ever remove households, and the default order puts every overdue
        /// household before every household that is not.
        #[test]
        fn filters_narrow_and_overdue_comes_first(
            rows in proptest::collection::vec((0..5usize, proptest::option::of(0..60i64), any::<bool>()), 0..40),
            overdue_only in any::<bool>(),
            status in proptest::option::of(0..5usize),
        ) {
            let today = day("2026-11-22");
            let all: Vec<Summary> = rows.iter().enumerate().map(|(i, (st, next, prio))| {
                let mut s = summary(&format!("h{i}"), HouseholdStatus::ALL[*st], None);
                s.last_visit = next.map(|d| day("2026-09-23") + chrono::Duration::days(d));
                s.priority.ethnic_minority = *prio;
                s
            }).collect();
            let acc: Accompaniments = all.iter().enumerate().filter(|(i, _)| i % 3 != 0).map(|(_, s)| (s.id.clone(), monthly(&s.id))).collect();
            let f = Filter { overdue_only, status: status.map(|i| HouseholdStatus::ALL[i]), ..Default::default() };
            let got = select(&all, &f, today, &acc);
            let everything = select(&all, &Filter::default(), today, &acc);
            prop_assert_eq!(everything.len(), all.len());
            prop_assert!(got.len() <= all.len());
            for s in &got {
                prop_assert!(!overdue_only || s.overdue(today, acc.get(&s.id)));
                // Nobody accompanies it: never overdue.
                prop_assert!(acc.contains_key(&s.id) || !s.overdue(today, None));
                prop_assert!(f.status.is_none_or(|st| s.status == st));
            }
            let late = |s: &Summary| s.overdue(today, acc.get(&s.id));
            let first_not_overdue = everything.iter().position(|s| !late(s)).unwrap_or(everything.len());
            prop_assert!(everything[first_not_overdue..].iter().all(|s| !late(s)));
        }
    }
}
