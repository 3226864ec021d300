//! The phone's list of households: one small summary per household document, and the
//! search, filters and sort of the "my households" screen. Pure, so the rules of what
//! counts as an overdue visit are tested here and not only through a browser.

use crate::doc::HouseholdDoc;
use crate::household::{HouseholdStatus, PriorityFlags};
use crate::projection::{Records, project};
use crate::search::fold;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Days after the last visit when a household with no next-visit date counts as overdue
/// (the usual cadence is monthly).
pub const DEFAULT_CADENCE_DAYS: i64 = 30;

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
    /// The next visit the last one planned, or the default cadence after it.
    pub next_visit: Option<NaiveDate>,
    /// Devices with a value that a commune decision replaced (`HouseholdDoc::
    /// overridden_devices`), so a phone decodes only the documents that hold its badges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overridden_devices: Vec<String>,
}

impl Summary {
    pub fn of(r: &Records) -> Self {
        let last = r.visits.iter().max_by_key(|v| v.data.date);
        let last_visit = last.map(|v| v.data.date);
        let next_visit = last.map(|v| {
            v.data
                .next_visit
                .unwrap_or(v.data.date + chrono::Duration::days(DEFAULT_CADENCE_DAYS))
        });
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
            next_visit,
            overridden_devices: vec![],
        }
    }

    /// The summary of a household document; `None` when the document does not hold a
    /// complete household (its profile not yet written).
    pub fn of_doc(id: &str, doc: &HouseholdDoc) -> Option<Self> {
        project(id, &doc.to_json(), "")
            .ok()
            .map(|r| Summary::of(&r))
    }

    /// A supported household whose planned visit date has passed, or that was never visited.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        let supported = matches!(
            self.status,
            HouseholdStatus::Poor | HouseholdStatus::NearPoor
        );
        supported && self.next_visit.is_none_or(|d| d < today)
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

/// The summaries that pass the filter, in the chosen order.
pub fn select<'a>(all: &'a [Summary], f: &Filter, today: NaiveDate) -> Vec<&'a Summary> {
    let needle = fold(f.text.trim());
    let mut out: Vec<&Summary> = all
        .iter()
        .filter(|s| f.status.is_none_or(|st| s.status == st))
        .filter(|s| !f.overdue_only || s.overdue(today))
        .filter(|s| !f.priority_only || s.has_priority())
        .filter(|s| {
            needle.is_empty()
                || fold(&s.head_name).contains(&needle)
                || fold(&s.code).contains(&needle)
                || fold(&s.address).contains(&needle)
        })
        .collect();
    match f.sort {
        Sort::NextVisit => out.sort_by(|a, b| {
            (!a.overdue(today), a.next_visit, &a.head_name).cmp(&(
                !b.overdue(today),
                b.next_visit,
                &b.head_name,
            ))
        }),
        Sort::Name => out.sort_by(|a, b| {
            (last_word(&a.head_name), &a.head_name).cmp(&(last_word(&b.head_name), &b.head_name))
        }),
        Sort::Code => out.sort_by(|a, b| a.code.cmp(&b.code)),
    }
    out
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

    fn summary(name: &str, status: HouseholdStatus, next: Option<&str>) -> Summary {
        Summary {
            id: name.into(),
            code: format!("TD-{name}"),
            head_name: name.into(),
            village_id: "v1".into(),
            address: "Thôn Nà Rì".into(),
            status,
            priority: PriorityFlags::default(),
            members: 4,
            visits: usize::from(next.is_some()),
            last_visit: None,
            next_visit: next.map(day),
            overridden_devices: vec![],
        }
    }

    #[test]
    fn a_passed_next_visit_or_no_visit_is_overdue_for_supported_households_only() {
        let today = day("2026-11-22");
        assert!(summary("a", HouseholdStatus::Poor, Some("2026-11-21")).overdue(today));
        assert!(!summary("a", HouseholdStatus::Poor, Some("2026-11-22")).overdue(today));
        assert!(summary("a", HouseholdStatus::NearPoor, None).overdue(today));
        assert!(!summary("a", HouseholdStatus::Average, None).overdue(today));
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
        let got = select(&all, &f, day("2026-11-22"));
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
        let got: Vec<&str> = select(&all, &f, day("2026-11-22"))
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
                s.next_visit = next.map(|d| day("2026-10-23") + chrono::Duration::days(d));
                s.priority.ethnic_minority = *prio;
                s
            }).collect();
            let f = Filter { overdue_only, status: status.map(|i| HouseholdStatus::ALL[i]), ..Default::default() };
            let got = select(&all, &f, today);
            let everything = select(&all, &Filter::default(), today);
            prop_assert_eq!(everything.len(), all.len());
            prop_assert!(got.len() <= all.len());
            for s in &got {
                prop_assert!(!overdue_only || s.overdue(today));
                prop_assert!(f.status.is_none_or(|st| s.status == st));
            }
            let first_not_overdue = everything.iter().position(|s| !s.overdue(today)).unwrap_or(everything.len());
            prop_assert!(everything[first_not_overdue..].iter().all(|s| !s.overdue(today)));
        }
    }
}
