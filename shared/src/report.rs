//! The 6-month and annual reports a commune owes the district (and a province over its
//! communes): households and rates by area at the start and end of the period against the
//! targets, movement through the lists, causes of poverty, support by programme project,
//! visits by cadre and newly escaped households in their window. Built here from facts
//! the server reads, so every figure is a count over the household lines the report also
//! carries (`households`), and the totals are the sums of the rows.

use crate::Text;
use crate::household::{Cause, HouseholdStatus};
use crate::review::{StatusChange, Trajectory};
use crate::support::Project;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};

pub mod flows;
use flows::{Category, CategoryFlows, Ledger, Path};

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// 1 January – 30 June.
    HalfYear,
    /// 1 January – 31 December.
    Annual,
}

impl Period {
    pub fn span(self, year: i32) -> (NaiveDate, NaiveDate) {
        let from = NaiveDate::from_ymd_opt(year, 1, 1).expect("valid");
        let to = match self {
            Period::HalfYear => NaiveDate::from_ymd_opt(year, 6, 30),
            Period::Annual => NaiveDate::from_ymd_opt(year, 12, 31),
        }
        .expect("valid");
        (from, to)
    }

    pub fn label(self, year: i32) -> Text {
        match self {
            Period::HalfYear => Text::new(
                format!("Báo cáo 6 tháng đầu năm {year}"),
                format!("Report for the first half of {year}"),
            ),
            Period::Annual => Text::new(
                format!("Báo cáo năm {year}"),
                format!("Annual report {year}"),
            ),
        }
    }
}

/// What the report needs of one household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdFact {
    pub id: String,
    pub code: String,
    pub head_name: String,
    /// The row it counts in: its village (commune report) or its commune (province).
    pub area_id: String,
    /// The day it was registered.
    pub registered: NaiveDate,
    pub status: HouseholdStatus,
    pub causes: Vec<Cause>,
    /// Its decisions, oldest first.
    pub changes: Vec<StatusChange>,
    /// The day it left the register, if it did: counted until the day before.
    pub left: Option<NaiveDate>,
}

/// What the reports read of a household's own record (the rest is its ledger).
#[derive(Debug, Clone)]
pub struct Registered<'a> {
    pub id: String,
    pub code: String,
    pub head_name: String,
    pub status: HouseholdStatus,
    pub causes: Vec<Cause>,
    /// When its record was made (RFC 3339): its entry when the ledger has none.
    pub created_at: &'a str,
}

impl HouseholdFact {
    /// A household as the reports count it, from its movements in the register's ledger
    /// (`ledger::movements`): its entry, its decisions and its departure. `area_id` is the
    /// row it counts in.
    pub fn of(
        h: crate::household::Household,
        ledger: &[crate::ledger::Movement],
        area_id: String,
    ) -> HouseholdFact {
        HouseholdFact::from_ledger(
            Registered {
                id: h.id,
                code: h.code,
                head_name: h.head_name,
                status: h.status,
                causes: h.causes,
                created_at: &h.created_at,
            },
            ledger,
            area_id,
        )
    }

    /// As `of`, from only the columns the reports read.
    pub fn from_ledger(
        h: Registered<'_>,
        ledger: &[crate::ledger::Movement],
        area_id: String,
    ) -> HouseholdFact {
        HouseholdFact {
            // Its entry into the register; one without (none should be) counts from its
            // registration time.
            registered: ledger
                .iter()
                .find(|m| m.from.is_none())
                .map(|m| m.date)
                .or_else(|| h.created_at.get(..10).and_then(|d| d.parse().ok()))
                .unwrap_or(NaiveDate::MIN),
            area_id,
            changes: crate::ledger::status_changes(ledger),
            left: crate::ledger::left_on(ledger),
            id: h.id,
            code: h.code,
            head_name: h.head_name,
            status: h.status,
            causes: h.causes,
        }
    }

    /// The official status at the end of `day`.
    pub fn status_on(&self, day: NaiveDate) -> HouseholdStatus {
        match self.changes.iter().rev().find(|c| c.date <= day) {
            Some(c) => c.to,
            None => self.changes.first().map_or(self.status, |c| c.from),
        }
    }

    /// Its path through `from..=to` for the movement table (`None` when it was registered
    /// after the period): where it stood the day before, or the status it was registered
    /// with, then every status change dated inside the period.
    pub fn path(&self, from: NaiveDate, to: NaiveDate) -> Option<Path> {
        let before = from.pred_opt().expect("valid");
        if self.registered > to || !self.in_register_on(before) && self.registered <= before {
            return None;
        }
        let (start, registered_as, since) = if self.registered <= before {
            (Some(self.status_on(before)), None, from)
        } else {
            let day_before = self.registered.pred_opt().expect("valid");
            (None, Some(self.status_on(day_before)), self.registered)
        };
        let left = self.left.filter(|d| *d <= to);
        Some(Path {
            start,
            registered_as,
            changes: self
                .changes
                .iter()
                .filter(|c| since <= c.date && c.date <= to && left.is_none_or(|l| c.date <= l))
                .map(|c| (c.date, c.to))
                .collect(),
            left: left.is_some(),
        })
    }

    /// Whether it stood in the register, in its one status, from before `from` on: its
    /// ledger holds its entry, dated before `from`, and nothing else. Such a household
    /// counts the same in every report of a period from `from` on (`Unmoved`).
    pub fn unmoved_since(&self, from: NaiveDate) -> bool {
        self.changes.is_empty() && self.left.is_none() && self.registered < from
    }

    /// Whether it stood in the register at the end of `day`: registered by then and not
    /// left yet.
    pub fn in_register_on(&self, day: NaiveDate) -> bool {
        self.registered <= day && self.left.is_none_or(|l| l > day)
    }
}

/// One support action delivered in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveredFact {
    pub household_id: String,
    pub project: Project,
    pub amount_vnd: Option<i64>,
}

/// Households of one row and one status that are `HouseholdFact::unmoved_since` the
/// period's start, counted together: each is in the row's register at both ends of the
/// period, in `status`, with no movement. Most of a commune's households are such (a
/// commune's ledger holds about 1.05 movements a household), so a province's parts are
/// counted from a few groups the database makes, not from every household. Figures only:
/// a report with household lines reads every household on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmoved {
    pub area_id: String,
    pub status: HouseholdStatus,
    /// The causes its poor households name (every household of the group names these).
    pub causes: Vec<Cause>,
    /// How many households it holds.
    pub households: usize,
}

/// What the report is built from.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The rows' areas: (id, name), in the order the report lists them.
    pub areas: Vec<(String, String)>,
    pub households: Vec<HouseholdFact>,
    /// Households counted in groups, besides `households` (`figures` only).
    pub unmoved: Vec<Unmoved>,
    /// Targets of the year: (area id, poor %, near-poor %); the whole area's under its id.
    pub targets: Vec<(String, f64, f64)>,
    pub delivered: Vec<DeliveredFact>,
    /// Visits in the period by cadre and household: (cadre's id, household id, visits).
    pub visits: Vec<(String, String, usize)>,
}

/// How a household moved in the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Movement {
    /// Left poverty.
    Escaped,
    /// Poor, not having escaped before.
    NewlyPoor,
    /// Poor again after having escaped.
    FellBack,
    /// Entered the near-poor list from outside both lists.
    NewlyNearPoor,
    /// Left the near-poor list for neither list.
    LeftNearPoor,
}

impl Movement {
    pub const ALL: [Movement; 5] = [
        Movement::Escaped,
        Movement::NewlyPoor,
        Movement::FellBack,
        Movement::NewlyNearPoor,
        Movement::LeftNearPoor,
    ];

    /// Its name in queries and JSON (`escaped`, `fell_back`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Movement::Escaped => "escaped",
            Movement::NewlyPoor => "newly_poor",
            Movement::FellBack => "fell_back",
            Movement::NewlyNearPoor => "newly_near_poor",
            Movement::LeftNearPoor => "left_near_poor",
        }
    }

    pub fn label(self) -> Text {
        match self {
            Movement::Escaped => Text::new("Thoát nghèo", "Escaped poverty"),
            Movement::NewlyPoor => Text::new("Nghèo phát sinh", "Newly poor"),
            Movement::FellBack => Text::new("Tái nghèo", "Fell back"),
            Movement::NewlyNearPoor => Text::new("Cận nghèo phát sinh", "Newly near-poor"),
            Movement::LeftNearPoor => Text::new("Thoát cận nghèo", "Left the near-poor list"),
        }
    }

    /// The movements of one household's decisions dated in `from..=to`. A correcting
    /// decision is none of them (it sets an earlier decision right, shown in the movement
    /// table and its drill-down); whether the household escaped before is read from the
    /// decisions as corrected.
    pub fn of(changes: &[StatusChange], from: NaiveDate, to: NaiveDate) -> Vec<Movement> {
        let listed = |s| matches!(s, HouseholdStatus::Poor | HouseholdStatus::NearPoor);
        let escape =
            |c: &StatusChange| c.from == HouseholdStatus::Poor && c.to != HouseholdStatus::Poor;
        let mut out = vec![];
        for (i, c) in changes.iter().enumerate() {
            if c.corrects.is_some() {
                continue;
            }
            let escaped_before = StatusChange::effective(&changes[..i]).iter().any(escape);
            let inside = from <= c.date && c.date <= to;
            let m = if escape(c) {
                Some(Movement::Escaped)
            } else if c.to == HouseholdStatus::Poor && escaped_before {
                Some(Movement::FellBack)
            } else if c.to == HouseholdStatus::Poor {
                Some(Movement::NewlyPoor)
            } else if c.to == HouseholdStatus::NearPoor && !listed(c.from) {
                Some(Movement::NewlyNearPoor)
            } else if c.from == HouseholdStatus::NearPoor && !listed(c.to) {
                Some(Movement::LeftNearPoor)
            } else {
                None
            };
            if let (Some(m), true) = (m, inside) {
                out.push(m);
            }
        }
        out
    }
}

/// The figures of one area (or of the whole).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AreaRow {
    pub area_id: String,
    pub name: String,
    pub households_start: usize,
    pub poor_start: usize,
    pub near_poor_start: usize,
    pub households_end: usize,
    pub poor_end: usize,
    pub near_poor_end: usize,
    pub target_poor_pct: Option<f64>,
    pub target_near_poor_pct: Option<f64>,
    pub escaped: usize,
    pub newly_poor: usize,
    pub fell_back: usize,
    pub newly_near_poor: usize,
    pub left_near_poor: usize,
    /// The movement table: each category's start, inflows, outflows and end, which add up
    /// by construction (`flows`).
    pub flows: Vec<CategoryFlows>,
}

fn pct(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        (n as f64 * 10_000.0 / of as f64).round() / 100.0
    }
}

impl AreaRow {
    pub fn poor_rate_start(&self) -> f64 {
        pct(self.poor_start, self.households_start)
    }
    pub fn poor_rate_end(&self) -> f64 {
        pct(self.poor_end, self.households_end)
    }
    pub fn near_poor_rate_start(&self) -> f64 {
        pct(self.near_poor_start, self.households_start)
    }
    pub fn near_poor_rate_end(&self) -> f64 {
        pct(self.near_poor_end, self.households_end)
    }

    pub fn movement(&self, m: Movement) -> usize {
        match m {
            Movement::Escaped => self.escaped,
            Movement::NewlyPoor => self.newly_poor,
            Movement::FellBack => self.fell_back,
            Movement::NewlyNearPoor => self.newly_near_poor,
            Movement::LeftNearPoor => self.left_near_poor,
        }
    }

    fn add(&mut self, o: &AreaRow) {
        self.households_start += o.households_start;
        self.poor_start += o.poor_start;
        self.near_poor_start += o.near_poor_start;
        self.households_end += o.households_end;
        self.poor_end += o.poor_end;
        self.near_poor_end += o.near_poor_end;
        self.escaped += o.escaped;
        self.newly_poor += o.newly_poor;
        self.fell_back += o.fell_back;
        self.newly_near_poor += o.newly_near_poor;
        self.left_near_poor += o.left_near_poor;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CauseRow {
    pub cause: Cause,
    pub label: Text,
    /// Poor households at the end of the period naming this cause.
    pub households: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupportRow {
    pub project: Project,
    pub label: Text,
    pub actions: usize,
    pub beneficiaries: usize,
    pub amount_vnd: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CadreRow {
    /// One row per cadre, by id: two cadres of one name are two rows.
    pub cadre_id: String,
    /// The cadre's name as it is when the report is given (`Report::name_cadres`): a
    /// report's figures are kept by id and named at the end, so a renamed cadre changes
    /// no kept figure.
    pub cadre: String,
    pub visits: usize,
    pub households: usize,
}

/// A household behind the figures: its status at both ends and how it moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HouseholdLine {
    pub household_id: String,
    pub code: String,
    pub head_name: String,
    pub area_id: String,
    /// None when registered after the start.
    pub start: Option<HouseholdStatus>,
    /// Its status at the end, or the one it left the register with.
    pub end: HouseholdStatus,
    /// The day it left the register, when that was inside the period.
    #[serde(default)]
    pub left: Option<NaiveDate>,
    pub movements: Vec<Movement>,
    pub escaped_on: Option<NaiveDate>,
    pub window_until: Option<NaiveDate>,
    pub in_window: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    pub title: Text,
    pub area_id: String,
    pub area_name: String,
    pub year: i32,
    pub period: Period,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Rows by village (a commune's report) or by commune (a province's).
    pub rows: Vec<AreaRow>,
    pub total: AreaRow,
    pub causes: Vec<CauseRow>,
    pub support: Vec<SupportRow>,
    pub visits: Vec<CadreRow>,
    /// Every household counted as poor or near-poor at either end, or that moved.
    pub households: Vec<HouseholdLine>,
}

impl Report {
    /// Newly escaped households still in their 36-month window at the end of the period.
    pub fn in_window(&self) -> impl Iterator<Item = &HouseholdLine> {
        self.households.iter().filter(|h| h.in_window)
    }

    /// Names the cadres of the visits' rows from `names` (by user id; a user no longer
    /// known keeps the id) and orders the rows by name, then id.
    pub fn name_cadres(&mut self, names: &BTreeMap<String, String>) {
        for v in &mut self.visits {
            v.cadre = names
                .get(&v.cadre_id)
                .cloned()
                .unwrap_or_else(|| v.cadre_id.clone());
        }
        self.visits
            .sort_by(|a, b| (&a.cadre, &a.cadre_id).cmp(&(&b.cadre, &b.cadre_id)));
    }
}

/// The report of an area whose rows are its parts (a province's communes), put together
/// from each part's own report, one at a time: a part's total is its row; the totals, the
/// movement table, causes, support and visits are sums (a household belongs to one part,
/// so its beneficiaries and visited households are counted once). It holds one part's
/// households at a time, not the province's.
pub struct Combined {
    report: Report,
    whole: Ledger,
    causes: BTreeMap<Cause, usize>,
    support: BTreeMap<Project, SupportRow>,
    visits: BTreeMap<String, CadreRow>,
}

impl Combined {
    pub fn new(area: (&str, &str), year: i32, period: Period) -> Combined {
        let (from, to) = period.span(year);
        Combined {
            report: Report {
                title: period.label(year),
                area_id: area.0.to_string(),
                area_name: area.1.to_string(),
                year,
                period,
                from,
                to,
                rows: vec![],
                total: AreaRow {
                    area_id: area.0.to_string(),
                    name: area.1.to_string(),
                    ..Default::default()
                },
                causes: vec![],
                support: vec![],
                visits: vec![],
                households: vec![],
            },
            whole: Ledger::default(),
            causes: BTreeMap::new(),
            support: BTreeMap::new(),
            visits: BTreeMap::new(),
        }
    }

    /// Adds one part's report (built with the part as its area); its household lines are
    /// kept when `lines`, under the part's id.
    pub fn add(&mut self, part: Report, lines: bool) {
        let row = part.total;
        self.whole.merge(&Ledger::from_table(&row.flows));
        self.report.total.add(&row);
        for c in part.causes {
            *self.causes.entry(c.cause).or_default() += c.households;
        }
        for s in part.support {
            let e = self.support.entry(s.project).or_insert(SupportRow {
                actions: 0,
                beneficiaries: 0,
                amount_vnd: 0,
                ..s.clone()
            });
            e.actions += s.actions;
            e.beneficiaries += s.beneficiaries;
            e.amount_vnd += s.amount_vnd;
        }
        for v in part.visits {
            let e = self.visits.entry(v.cadre_id.clone()).or_insert(CadreRow {
                visits: 0,
                households: 0,
                ..v.clone()
            });
            e.visits += v.visits;
            e.households += v.households;
        }
        if lines {
            self.report
                .households
                .extend(part.households.into_iter().map(|mut h| {
                    h.area_id = row.area_id.clone();
                    h
                }));
        }
        self.report.rows.push(row);
    }

    /// The whole, with the area's own target (poor %, near-poor %), if it has one.
    pub fn finish(mut self, target: Option<(f64, f64)>) -> Report {
        self.report.total.flows = self.whole.table();
        if let Some((poor, near)) = target {
            self.report.total.target_poor_pct = Some(poor);
            self.report.total.target_near_poor_pct = Some(near);
        }
        self.report.causes = Cause::ALL
            .into_iter()
            .map(|c| CauseRow {
                cause: c,
                label: c.label(),
                households: self.causes.get(&c).copied().unwrap_or(0),
            })
            .collect();
        self.report.support = self.support.into_values().collect();
        self.report.visits = self.visits.into_values().collect();
        self.report
            .households
            .sort_by(|a, b| (&a.area_id, &a.code).cmp(&(&b.area_id, &b.code)));
        self.report
    }
}

/// Builds the report of `period` of `year` for the area `(area_id, area_name)`.
pub fn build(area: (&str, &str), year: i32, period: Period, facts: &Facts) -> Report {
    build_with(area, year, period, facts, true)
}

/// As `build`, without the household lines (`households` empty): a part a province's
/// report sums, whose figures are the same.
pub fn figures(area: (&str, &str), year: i32, period: Period, facts: &Facts) -> Report {
    build_with(area, year, period, facts, false)
}

fn build_with(
    area: (&str, &str),
    year: i32,
    period: Period,
    facts: &Facts,
    with_lines: bool,
) -> Report {
    let (from, to) = period.span(year);
    let before = from.pred_opt().expect("valid");
    let mut rows: BTreeMap<&str, AreaRow> = facts
        .areas
        .iter()
        .map(|(id, name)| {
            (
                id.as_str(),
                AreaRow {
                    area_id: id.clone(),
                    name: name.clone(),
                    ..Default::default()
                },
            )
        })
        .collect();
    let listed = |s| matches!(s, HouseholdStatus::Poor | HouseholdStatus::NearPoor);
    let mut ledgers: BTreeMap<&str, Ledger> = BTreeMap::new();
    let mut lines = Vec::new();
    let mut causes: BTreeMap<Cause, usize> = BTreeMap::new();
    // The households of the facts that the period does not count: support and visits
    // count for every other (the facts' support and visits are of the area's households,
    // each either read on its own or in an unmoved group, and an unmoved household is
    // counted). Naming these few, not the thousands counted, spares a province's parts
    // the ids of every unmoved household.
    let mut outside: HashSet<&str> = HashSet::new();
    debug_assert!(
        !with_lines || facts.unmoved.is_empty(),
        "a report with household lines reads every household on its own"
    );
    for g in &facts.unmoved {
        let Some(row) = rows.get_mut(g.area_id.as_str()) else {
            // Never so: the groups are of the area's villages, each in a row.
            continue;
        };
        let n = g.households;
        ledgers
            .entry(g.area_id.as_str())
            .or_default()
            .stayed(Category::of(g.status), n);
        let (poor, near) = (
            g.status == HouseholdStatus::Poor,
            g.status == HouseholdStatus::NearPoor,
        );
        row.households_start += n;
        row.households_end += n;
        row.poor_start += usize::from(poor) * n;
        row.poor_end += usize::from(poor) * n;
        row.near_poor_start += usize::from(near) * n;
        row.near_poor_end += usize::from(near) * n;
        if poor {
            for c in &g.causes {
                *causes.entry(*c).or_default() += n;
            }
        }
    }
    for h in &facts.households {
        let Some(row) = rows.get_mut(h.area_id.as_str()) else {
            outside.insert(&h.id);
            continue;
        };
        // Registered after the period, or gone from the register before it.
        if h.registered > to || h.left.is_some_and(|l| l <= before) {
            outside.insert(&h.id);
            continue;
        }
        if let Some(path) = h.path(from, to) {
            ledgers.entry(h.area_id.as_str()).or_default().add(&path);
        }
        let start = h.in_register_on(before).then(|| h.status_on(before));
        let end = h.status_on(to);
        let stays = h.in_register_on(to);
        if let Some(s) = start {
            row.households_start += 1;
            row.poor_start += usize::from(s == HouseholdStatus::Poor);
            row.near_poor_start += usize::from(s == HouseholdStatus::NearPoor);
        }
        if stays {
            row.households_end += 1;
            row.poor_end += usize::from(end == HouseholdStatus::Poor);
            row.near_poor_end += usize::from(end == HouseholdStatus::NearPoor);
        }
        let movements = Movement::of(&h.changes, from, to);
        for m in &movements {
            match m {
                Movement::Escaped => row.escaped += 1,
                Movement::NewlyPoor => row.newly_poor += 1,
                Movement::FellBack => row.fell_back += 1,
                Movement::NewlyNearPoor => row.newly_near_poor += 1,
                Movement::LeftNearPoor => row.left_near_poor += 1,
            }
        }
        if stays && end == HouseholdStatus::Poor {
            for c in &h.causes {
                *causes.entry(*c).or_default() += 1;
            }
        }
        if !with_lines {
            continue;
        }
        let upto: Vec<StatusChange> = h.changes.iter().filter(|c| c.date <= to).cloned().collect();
        let t = Trajectory::of(&upto);
        let in_window = t.in_window(to);
        if start.is_some_and(listed) || listed(end) || !movements.is_empty() || in_window || !stays
        {
            lines.push(HouseholdLine {
                household_id: h.id.clone(),
                code: h.code.clone(),
                head_name: h.head_name.clone(),
                area_id: h.area_id.clone(),
                start,
                end,
                left: h.left.filter(|l| *l <= to),
                movements,
                escaped_on: t.escaped_on,
                window_until: t.window_until,
                in_window,
            });
        }
    }
    let target = |id: &str| facts.targets.iter().find(|t| t.0 == id);
    let mut total = AreaRow {
        area_id: area.0.to_string(),
        name: area.1.to_string(),
        ..Default::default()
    };
    let mut whole = Ledger::default();
    let rows: Vec<AreaRow> = facts
        .areas
        .iter()
        .filter_map(|(id, _)| rows.remove(id.as_str()))
        .map(|mut r| {
            if let Some(t) = target(&r.area_id) {
                r.target_poor_pct = Some(t.1);
                r.target_near_poor_pct = Some(t.2);
            }
            let ledger = ledgers.remove(r.area_id.as_str()).unwrap_or_default();
            r.flows = ledger.table();
            whole.merge(&ledger);
            total.add(&r);
            r
        })
        .collect();
    total.flows = whole.table();
    if let Some(t) = target(area.0) {
        total.target_poor_pct = Some(t.1);
        total.target_near_poor_pct = Some(t.2);
    }
    let mut support: BTreeMap<Project, (usize, BTreeSet<&str>, i64)> = BTreeMap::new();
    for d in facts
        .delivered
        .iter()
        .filter(|d| !outside.contains(d.household_id.as_str()))
    {
        let e = support.entry(d.project).or_default();
        e.0 += 1;
        e.1.insert(&d.household_id);
        e.2 += d.amount_vnd.unwrap_or(0);
    }
    let mut visits: BTreeMap<&str, (usize, BTreeSet<&str>)> = BTreeMap::new();
    for (cadre, h, n) in facts
        .visits
        .iter()
        .filter(|(_, h, _)| !outside.contains(h.as_str()))
    {
        let e = visits.entry(cadre).or_default();
        e.0 += n;
        e.1.insert(h);
    }
    lines.sort_by(|a, b| (&a.area_id, &a.code).cmp(&(&b.area_id, &b.code)));
    Report {
        title: period.label(year),
        area_id: area.0.to_string(),
        area_name: area.1.to_string(),
        year,
        period,
        from,
        to,
        rows,
        total,
        causes: Cause::ALL
            .into_iter()
            .map(|c| CauseRow {
                cause: c,
                label: c.label(),
                households: causes.get(&c).copied().unwrap_or(0),
            })
            .collect(),
        support: support
            .into_iter()
            .map(|(p, (n, hs, amount))| SupportRow {
                project: p,
                label: p.label(),
                actions: n,
                beneficiaries: hs.len(),
                amount_vnd: amount,
            })
            .collect(),
        visits: visits
            .into_iter()
            .map(|(c, (n, hs))| CadreRow {
                cadre_id: c.to_string(),
                cadre: c.to_string(),
                visits: n,
                households: hs.len(),
            })
            .collect(),
        households: lines,
    }
}

#[cfg(test)]
mod tests;
