//! The commune dashboard's figures. Every figure carries the list query that names the
//! households behind it (`/api/accompaniment?…`), computed by the same filter as the count,
//! so a person who opens a figure sees exactly the households it counts.

use crate::Text;
use crate::assignment::CadreLoad;
use crate::target::Target;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FigureKind {
    Households,
    Poor,
    NearPoor,
    /// Poor and near-poor households nobody accompanies.
    WithoutCadre,
    /// Households whose visit is overdue by their assignment's cadence.
    Overdue,
    /// Poor and near-poor households with no plan.
    WithoutPlan,
}

impl FigureKind {
    pub const ALL: [FigureKind; 6] = [
        FigureKind::Households,
        FigureKind::Poor,
        FigureKind::NearPoor,
        FigureKind::WithoutCadre,
        FigureKind::Overdue,
        FigureKind::WithoutPlan,
    ];

    pub fn label(self) -> Text {
        match self {
            FigureKind::Households => Text::new("Tổng số hộ", "Households"),
            FigureKind::Poor => Text::new("Hộ nghèo", "Poor"),
            FigureKind::NearPoor => Text::new("Hộ cận nghèo", "Near-poor"),
            FigureKind::WithoutCadre => Text::new("Chưa có cán bộ kèm cặp", "Without a cadre"),
            FigureKind::Overdue => Text::new("Quá hạn thăm hộ", "Visit overdue"),
            FigureKind::WithoutPlan => Text::new("Chưa có kế hoạch", "Without a plan"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Figure {
    pub kind: FigureKind,
    pub households: usize,
    /// The `/api/accompaniment` query listing exactly these households.
    pub query: String,
}

/// The figures of one area (a village, or the whole commune).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AreaFigures {
    pub area_id: String,
    pub name: String,
    pub figures: Vec<Figure>,
    /// The area's target for the dashboard's year, when one is set.
    pub target: Option<Target>,
}

impl AreaFigures {
    pub fn get(&self, kind: FigureKind) -> usize {
        self.figures
            .iter()
            .find(|f| f.kind == kind)
            .map_or(0, |f| f.households)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    /// The target year compared with: the year asked for, else the latest with targets.
    pub year: Option<i32>,
    pub total: AreaFigures,
    pub villages: Vec<AreaFigures>,
    /// Cadres with their workload and overdue visits, most overdue first.
    pub cadres: Vec<CadreLoad>,
    /// Village targets that do not add up to the commune's (in words), if any.
    pub target_warnings: Vec<Text>,
    /// Movement through the lists by the commune's decisions since the last review began;
    /// none before any decision.
    #[serde(default)]
    pub movement: Option<MovementSince>,
}

/// Households moved by the decisions since `since` (1 September of the last campaign
/// with a decision), by kind of movement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MovementSince {
    pub since: chrono::NaiveDate,
    pub counts: Vec<MovementCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MovementCount {
    pub movement: crate::report::Movement,
    pub households: usize,
}

impl MovementSince {
    /// How many households each movement holds (see [`movers`]); none without decisions.
    pub fn of(ledger: &[crate::ledger::Movement], today: chrono::NaiveDate) -> Option<Self> {
        let (since, moved) = movers(ledger, today)?;
        let counts = crate::report::Movement::ALL
            .into_iter()
            .map(|m| MovementCount {
                movement: m,
                households: moved.get(&m).map_or(0, |ids| ids.len()),
            })
            .collect();
        Some(MovementSince { since, counts })
    }
}

/// The households moved by the ledger's decisions since the last campaign with a decision
/// (1 September of its year), up to `today`, by kind of movement — counted by the
/// reports' own `report::Movement::of`: the one definition behind the dashboard's figure,
/// the list it opens and the report's columns, over the period the dashboard names.
pub fn movers(
    ledger: &[crate::ledger::Movement],
    today: chrono::NaiveDate,
) -> Option<(
    chrono::NaiveDate,
    std::collections::BTreeMap<crate::report::Movement, std::collections::BTreeSet<String>>,
)> {
    use chrono::Datelike;
    let last = ledger
        .iter()
        .filter(|m| matches!(m.basis, crate::ledger::Basis::Decision { .. }))
        .map(|m| m.date)
        .max()?;
    let year = if last.month() >= 9 {
        last.year()
    } else {
        last.year() - 1
    };
    let since = chrono::NaiveDate::from_ymd_opt(year, 9, 1)?;
    let mut by_household: std::collections::BTreeMap<&str, Vec<crate::ledger::Movement>> =
        Default::default();
    for m in ledger {
        by_household
            .entry(m.household_id.as_str())
            .or_default()
            .push(m.clone());
    }
    let mut moved: std::collections::BTreeMap<_, std::collections::BTreeSet<String>> =
        Default::default();
    for (household, own) in by_household {
        let changes = crate::ledger::status_changes(&own);
        for m in crate::report::Movement::of(&changes, since, today) {
            moved.entry(m).or_default().insert(household.to_string());
        }
    }
    Some((since, moved))
}

/// A rate in percent with two decimals, as reports write it.
pub fn rate_pct(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 10_000.0 / whole as f64).round() / 100.0
    }
}

/// A page of a province's communes (filtered and sorted by the server) with the whole
/// province's figures, whatever the filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommunePage {
    /// Every commune of the area.
    pub communes: usize,
    pub households: usize,
    pub poor: usize,
    pub near_poor: usize,
    /// The communes that pass the filter, before paging.
    pub matched: usize,
    pub rows: Vec<CommuneFigures>,
}

/// One commune as the province compares them: counts and rates only, no personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommuneFigures {
    pub area_id: String,
    pub name: String,
    pub households: usize,
    pub poor: usize,
    pub near_poor: usize,
    pub poor_rate_pct: f64,
    pub near_poor_rate_pct: f64,
    /// The commune's target for the year compared with, when one is set.
    pub target: Option<Target>,
}
