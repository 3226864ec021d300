//! The register's movement table: for each category of households (poor, near-poor, not
//! poor, not reviewed, and all households), the count at the start of a period, every
//! inflow and outflow by kind, and the count at the end. It is built by walking each
//! household through its official status changes inside the period, one category to the
//! next, so every change is an outflow of the category it leaves and an inflow of the one
//! it enters: start + inflows − outflows = end holds for every household, and so for every
//! area, period and sum of areas, by construction.

use crate::Text;
use crate::household::HouseholdStatus;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A category of the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Poor,
    NearPoor,
    /// Neither list: newly escaped, average living standard, not poor.
    NotPoor,
    /// Registered and not reviewed yet.
    NotReviewed,
    /// Every household of the register.
    All,
}

impl Category {
    /// The categories a household is in one of (`All` aside).
    pub const STATUSES: [Category; 4] = [
        Category::Poor,
        Category::NearPoor,
        Category::NotPoor,
        Category::NotReviewed,
    ];
    pub const ALL: [Category; 5] = [
        Category::Poor,
        Category::NearPoor,
        Category::NotPoor,
        Category::NotReviewed,
        Category::All,
    ];

    /// The category of an official status.
    pub fn of(s: HouseholdStatus) -> Category {
        match s {
            HouseholdStatus::Poor => Category::Poor,
            HouseholdStatus::NearPoor => Category::NearPoor,
            HouseholdStatus::NewlyEscaped | HouseholdStatus::Average | HouseholdStatus::NotPoor => {
                Category::NotPoor
            }
            HouseholdStatus::NotReviewed => Category::NotReviewed,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Poor => "poor",
            Category::NearPoor => "near_poor",
            Category::NotPoor => "not_poor",
            Category::NotReviewed => "not_reviewed",
            Category::All => "all",
        }
    }

    pub fn label(self) -> Text {
        match self {
            Category::Poor => Text::new("Hộ nghèo", "Poor"),
            Category::NearPoor => Text::new("Hộ cận nghèo", "Near-poor"),
            Category::NotPoor => Text::new("Không nghèo, không cận nghèo", "Neither list"),
            Category::NotReviewed => Text::new("Chưa rà soát", "Not reviewed yet"),
            Category::All => Text::new("Tổng số hộ", "All households"),
        }
    }
}

/// Why households entered or left a category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind", content = "category")]
pub enum FlowKind {
    /// Registered in the period (into its first category, and into all households).
    Registered,
    /// Left the register in the period (out of its last category, and of all households).
    Left,
    /// An inflow from this category, or an outflow to it, by a change of official status.
    Status(Category),
}

impl FlowKind {
    /// How the movement table's column names it, as an inflow (`true`) or an outflow.
    pub fn label(self, inflow: bool) -> Text {
        match (self, inflow) {
            (FlowKind::Registered, _) => Text::new("Đăng ký mới", "Newly registered"),
            (FlowKind::Left, _) => Text::new("Ra khỏi sổ", "Left the register"),
            (FlowKind::Status(c), true) => {
                let l = c.label();
                Text::new(
                    format!("Từ {}", l.vi.to_lowercase()),
                    format!("From {}", l.en.to_lowercase()),
                )
            }
            (FlowKind::Status(c), false) => {
                let l = c.label();
                Text::new(
                    format!("Sang {}", l.vi.to_lowercase()),
                    format!("To {}", l.en.to_lowercase()),
                )
            }
        }
    }
}

/// Households that moved one way, of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Flow {
    #[serde(flatten)]
    pub kind: FlowKind,
    pub count: usize,
}

/// One category's movement over the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryFlows {
    pub category: Category,
    pub start: usize,
    pub inflows: Vec<Flow>,
    pub outflows: Vec<Flow>,
    pub end: usize,
}

/// The movement table's columns, the same for every category: the kinds of inflow, then
/// the kinds of outflow (a kind that cannot happen to a category is a column of zeros).
pub fn columns() -> (Vec<FlowKind>, Vec<FlowKind>) {
    let status = Category::STATUSES.into_iter().map(FlowKind::Status);
    (
        std::iter::once(FlowKind::Registered)
            .chain(status.clone())
            .collect(),
        status.chain(std::iter::once(FlowKind::Left)).collect(),
    )
}

impl CategoryFlows {
    /// Households that came in by `kind`.
    pub fn inflow_of(&self, kind: FlowKind) -> usize {
        self.inflows
            .iter()
            .filter(|f| f.kind == kind)
            .map(|f| f.count)
            .sum()
    }
    /// Households that went out by `kind`.
    pub fn outflow_of(&self, kind: FlowKind) -> usize {
        self.outflows
            .iter()
            .filter(|f| f.kind == kind)
            .map(|f| f.count)
            .sum()
    }
    pub fn inflow(&self) -> usize {
        self.inflows.iter().map(|f| f.count).sum()
    }
    pub fn outflow(&self) -> usize {
        self.outflows.iter().map(|f| f.count).sum()
    }
    /// start + inflows − outflows − end: zero when the figures add up.
    pub fn check(&self) -> i64 {
        self.start as i64 + self.inflow() as i64 - self.outflow() as i64 - self.end as i64
    }
}

/// The movement table of one area: every category, in `Category::ALL`'s order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    start: BTreeMap<Category, usize>,
    end: BTreeMap<Category, usize>,
    inflows: BTreeMap<(Category, FlowKind), usize>,
    outflows: BTreeMap<(Category, FlowKind), usize>,
}

/// One household's path through a period: where it stood at the start (`None`: not yet
/// registered), the status it was registered with when that was inside the period, and
/// its status changes dated inside the period, oldest first.
#[derive(Debug, Clone)]
pub struct Path {
    pub start: Option<HouseholdStatus>,
    pub registered_as: Option<HouseholdStatus>,
    pub changes: Vec<(NaiveDate, HouseholdStatus)>,
    /// It left the register inside the period (after its changes).
    pub left: bool,
}

impl Ledger {
    /// Adds one household's path; returns its category at the end (the one it left from,
    /// when it left).
    pub fn add(&mut self, path: &Path) -> Category {
        let mut inflow = |c: Category, k: FlowKind| *self.inflows.entry((c, k)).or_default() += 1;
        let mut at = match (path.start, path.registered_as) {
            (Some(s), _) => {
                let c = Category::of(s);
                *self.start.entry(c).or_default() += 1;
                *self.start.entry(Category::All).or_default() += 1;
                c
            }
            (None, registered) => {
                let c = Category::of(registered.unwrap_or(HouseholdStatus::NotReviewed));
                inflow(c, FlowKind::Registered);
                inflow(Category::All, FlowKind::Registered);
                c
            }
        };
        for (_, to) in &path.changes {
            let next = Category::of(*to);
            if next != at {
                *self
                    .outflows
                    .entry((at, FlowKind::Status(next)))
                    .or_default() += 1;
                *self
                    .inflows
                    .entry((next, FlowKind::Status(at)))
                    .or_default() += 1;
                at = next;
            }
        }
        if path.left {
            *self.outflows.entry((at, FlowKind::Left)).or_default() += 1;
            *self
                .outflows
                .entry((Category::All, FlowKind::Left))
                .or_default() += 1;
        } else {
            *self.end.entry(at).or_default() += 1;
            *self.end.entry(Category::All).or_default() += 1;
        }
        at
    }

    /// `n` households that stood in `c` from the start to the end, with no movement.
    pub fn stayed(&mut self, c: Category, n: usize) {
        for c in [c, Category::All] {
            *self.start.entry(c).or_default() += n;
            *self.end.entry(c).or_default() += n;
        }
    }

    /// Another area's table added to this one (a commune's villages, a province's communes).
    pub fn merge(&mut self, o: &Ledger) {
        for (k, v) in &o.start {
            *self.start.entry(*k).or_default() += v;
        }
        for (k, v) in &o.end {
            *self.end.entry(*k).or_default() += v;
        }
        for (k, v) in &o.inflows {
            *self.inflows.entry(*k).or_default() += v;
        }
        for (k, v) in &o.outflows {
            *self.outflows.entry(*k).or_default() += v;
        }
    }

    /// The table `table` made again into a ledger, to merge with others (a province's
    /// communes reported one at a time).
    pub fn from_table(table: &[CategoryFlows]) -> Ledger {
        let mut l = Ledger::default();
        for c in table {
            l.start.insert(c.category, c.start);
            l.end.insert(c.category, c.end);
            for f in &c.inflows {
                *l.inflows.entry((c.category, f.kind)).or_default() += f.count;
            }
            for f in &c.outflows {
                *l.outflows.entry((c.category, f.kind)).or_default() += f.count;
            }
        }
        l
    }

    /// The table, every category with every flow that moved at least one household.
    pub fn table(&self) -> Vec<CategoryFlows> {
        let flows = |m: &BTreeMap<(Category, FlowKind), usize>, c: Category| {
            m.iter()
                .filter(|((cat, _), n)| *cat == c && **n > 0)
                .map(|((_, kind), n)| Flow {
                    kind: *kind,
                    count: *n,
                })
                .collect()
        };
        Category::ALL
            .into_iter()
            .map(|c| CategoryFlows {
                category: c,
                start: self.start.get(&c).copied().unwrap_or(0),
                inflows: flows(&self.inflows, c),
                outflows: flows(&self.outflows, c),
                end: self.end.get(&c).copied().unwrap_or(0),
            })
            .collect()
    }
}
