//! The demo: a realistic commune shaped like Đồng Vương in the 2024 plan — 10 villages,
//! 1,329 households, 77 poor and 134 near-poor as the rule engine classifies them from
//! their review evidence, cadres accompanying them with a history of visits and support
//! across projects 2–7, and the 2024 targets — and, for the province's screens and the
//! benchmarks, a province of such communes of any size up to a real one's (100 communes of
//! 8,000 households). Deterministic for a given day.
//!
//! - `names`: the seeded generator and the names it draws;
//! - `commune`: one commune — villages, staff, classes of households — built from the rest;
//! - `households`: one household, its members and its history of reviews (`reviews`);
//! - `accompaniment`: cadres, visits, support and plans of the poor and near-poor;
//! - `targets`: the commune's yearly targets;
//! - `documents`: each household's automerge document, admitted by the write core's gate.
//!
//! A province is made commune by commune, each in its own transaction, the next commune
//! generated while one is written: memory holds two communes, whatever the province's size.

use crate::auth::password;
use crate::error::AppError;
use crate::store::{Actor, Import, Store, StoreError};
use chrono::NaiveDate;
use futures_util::StreamExt;
use shared::area::AreaKind;
use shared::user::Role;

mod accompaniment;
mod commune;
mod documents;
mod households;
mod names;
mod reviews;
mod targets;

pub const HOUSEHOLDS: usize = 1329;
pub const POOR: usize = 77;
pub const NEAR_POOR: usize = 134;
/// Poor in the 2022 review who escaped in 2023 (5.79% + 1.16% of 1,329 were poor in 2022).
pub const ESCAPED: usize = 15;
/// Every demo user has this password; change it before real use.
pub const PASSWORD: &str = "DongHanh@2024";

/// How big a demo province is: its communes, the demo commune first, and the households
/// of each (the demo commune's shares of poor, near-poor and the rest at any size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    pub communes: usize,
    pub households_per_commune: usize,
}

impl Size {
    /// The demo commune alone.
    pub const COMMUNE: Size = Size {
        communes: 1,
        households_per_commune: HOUSEHOLDS,
    };
    /// The demo commune and `communes - 1` more of its size.
    pub fn communes(communes: usize) -> Size {
        Size {
            communes,
            ..Size::COMMUNE
        }
    }
}

/// Communes the province demo may hold (a real province has about 100).
pub const MAX_COMMUNES: usize = 200;
/// Households a demo commune may hold (a commune since the 2025 reform has about 8,000).
pub const HOUSEHOLDS_PER_COMMUNE: std::ops::RangeInclusive<usize> = 100..=20_000;

/// What the demo created, and how to sign in.
#[derive(Debug)]
pub struct Report {
    pub communes: usize,
    pub counts: [(&'static str, usize); 6],
    pub users: Vec<(String, Role)>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.communes {
            1 => writeln!(f, "Đã tạo xã mẫu Đồng Vương / Demo commune created:")?,
            n => writeln!(
                f,
                "Đã tạo tỉnh mẫu gồm xã Đồng Vương và {} xã khác / demo province created, \
                 the demo commune and {} more (their users: chutich.<mã xã>, …):",
                n - 1,
                n - 1
            )?,
        }
        for (what, n) in self.counts {
            writeln!(f, "  {what}: {n}")?;
        }
        writeln!(
            f,
            "Tài khoản mẫu / demo users (mật khẩu / password: {PASSWORD}):"
        )?;
        for (name, role) in &self.users {
            writeln!(f, "  {name:<14} {}", role.label().vi)?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the database already has users; the demo commune goes only into an empty database")]
    NotEmpty,
    #[error(
        "a demo province holds 1 to {MAX_COMMUNES} communes of 100 to 20,000 households (asked: {0:?})"
    )]
    Size(Size),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("password hashing: {0}")]
    Hash(String),
    #[error("demo generator produced {0}; this is a bug")]
    Bug(String),
}

impl From<AppError> for DemoError {
    fn from(e: AppError) -> Self {
        DemoError::Hash(e.to_string())
    }
}

/// The day the demo is built around (its visits run up to it).
pub fn today_for_demo() -> NaiveDate {
    crate::today()
}

/// The class each demo household is built to be.
#[derive(Clone, Copy, PartialEq)]
enum Designed {
    Poor,
    NearPoor,
    Escaped,
    Average,
    NotPoor,
}

/// Builds the demo commune in memory; users carry an empty password hash.
pub fn build(today: NaiveDate) -> Result<(Import, Vec<(String, Role)>), DemoError> {
    commune::build(today, 0, &commune::Scale::of(HOUSEHOLDS, 0))
}

/// Creates the demo commune in an empty database, in one transaction.
pub async fn create(store: &dyn Store, today: NaiveDate) -> Result<Report, DemoError> {
    create_province(store, today, Size::COMMUNE).await
}

/// The `index`-th commune ready to write: every household with its document, admitted by
/// the write core's gate, and the read model projected from it.
fn ready(today: NaiveDate, index: usize, scale: &commune::Scale) -> Result<Ready, DemoError> {
    let (data, sign_in) = commune::build(today, index, scale)?;
    let admitted = documents::documents(&data, index, today)?;
    let mut data = Import {
        households: Vec::with_capacity(admitted.len()),
        members: vec![],
        assessments: vec![],
        visits: vec![],
        support: vec![],
        review_steps: vec![],
        ..data
    };
    for (doc, r) in admitted {
        data.docs.push(doc);
        data.households.push(r.household);
        data.members.extend(r.members);
        data.assessments.extend(r.assessments);
        data.visits.extend(r.visits);
        data.support.extend(r.support);
        data.plan.extend(r.plan);
        data.review_steps.extend(r.review_steps);
    }
    Ok(Ready { data, sign_in })
}

struct Ready {
    data: Import,
    sign_in: Vec<(String, Role)>,
}

/// Creates a demo province of `size` in an empty database: the demo commune and more
/// communes shaped like it, each with its villages, staff, households, members, reviews,
/// decisions, accompaniment and household documents. Each commune is its own transaction;
/// the next is generated while one is written. Every user shares one hash of
/// [`PASSWORD`] (hashing it per user would cost a province minutes for a published
/// password). Statistics are gathered once at the end. A province that fails part way
/// keeps the communes already written (the database is then no longer empty: drop it and
/// run again).
pub async fn create_province(
    store: &dyn Store,
    today: NaiveDate,
    size: Size,
) -> Result<Report, DemoError> {
    if !(1..=MAX_COMMUNES).contains(&size.communes)
        || !HOUSEHOLDS_PER_COMMUNE.contains(&size.households_per_commune)
    {
        return Err(DemoError::Size(size));
    }
    if store.count_users().await? > 0 {
        return Err(DemoError::NotEmpty);
    }
    let joined = |e: tokio::task::JoinError| DemoError::Bug(e.to_string());
    let hash = tokio::task::spawn_blocking(|| password::hash_blocking(PASSWORD))
        .await
        .map_err(joined)??;
    let per_commune = size.households_per_commune;
    let mut made = futures_util::stream::iter(0..size.communes)
        .map(|i| {
            tokio::task::spawn_blocking(move || {
                ready(today, i, &commune::Scale::of(per_commune, i))
            })
        })
        .buffered(2);
    let mut report = Report {
        communes: size.communes,
        counts: [
            ("villages", 0),
            ("households", 0),
            ("members", 0),
            ("assignments", 0),
            ("visits", 0),
            ("support actions", 0),
        ],
        users: vec![],
    };
    let started = std::time::Instant::now();
    let mut i = 0;
    while let Some(next) = made.next().await {
        let Ready { mut data, sign_in } = next.map_err(joined)??;
        for (_, h) in &mut data.users {
            h.clone_from(&hash);
        }
        store.import(&Actor::system(), &data).await?;
        i += 1;
        let villages = data
            .areas
            .iter()
            .filter(|a| a.kind == AreaKind::Village)
            .count();
        for (count, n) in report.counts.iter_mut().zip([
            villages,
            data.households.len(),
            data.members.len(),
            data.assignments.len(),
            data.visits.len(),
            data.support.len(),
        ]) {
            count.1 += n;
        }
        report.users.extend(sign_in);
        if size.communes > 1 {
            tracing::info!(
                commune = i,
                of = size.communes,
                households = report.counts[1].1,
                seconds = started.elapsed().as_secs(),
                "demo commune written"
            );
        }
    }
    // The province is committed: statistics that cannot be gathered now are gathered later
    // (autovacuum, the next ANALYZE) and do not fail the demo.
    if let Err(e) = store.analyze().await {
        tracing::warn!(error = %e, "statistics not gathered after the demo");
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::household::HouseholdStatus;
    use shared::rules::{RuleBook, classify};
    use shared::support::Project;

    #[test]
    fn the_demo_commune_has_the_plans_figures() {
        let (d, users) = build(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()).unwrap();
        assert_eq!(d.households.len(), HOUSEHOLDS);
        assert_eq!(
            d.areas
                .iter()
                .filter(|a| a.kind == AreaKind::Village)
                .count(),
            10
        );
        let count = |s| d.households.iter().filter(|h| h.status == s).count();
        assert_eq!(count(HouseholdStatus::Poor), 77);
        assert_eq!(count(HouseholdStatus::NearPoor), 134);
        // Every poor and near-poor household is accompanied.
        assert_eq!(d.assignments.len(), 77 + 134);
        assert!(d.visits.len() > 1000);
        let projects: std::collections::HashSet<_> =
            d.support.iter().map(|s| s.data.project).collect();
        for p in [
            Project::P2Livelihood,
            Project::P3Production,
            Project::P3Nutrition,
            Project::P4Vocational,
            Project::P5Housing,
            Project::P6Information,
        ] {
            assert!(projects.contains(&p), "{p:?} has support");
        }
        assert_eq!(users.len(), 6, "one sign-in user per role");
        // The classification stored with each review is the rule engine's.
        let book = RuleBook::built_in();
        for a in &d.assessments {
            let rs = book.get(&a.explanation.rule_set_id).unwrap();
            assert_eq!(
                classify(rs, &a.evidence).unwrap().classification,
                a.classification
            );
        }
    }

    #[test]
    fn the_demo_is_deterministic_for_a_day() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let (a, _) = build(day).unwrap();
        let (b, _) = build(day).unwrap();
        assert_eq!(a.households, b.households);
        assert_eq!(a.visits, b.visits);
    }

    #[test]
    fn a_commune_of_any_size_keeps_the_demo_communes_shares() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        for households in [100, 2_500, 8_000] {
            let scale = commune::Scale::of(households, 3);
            let made = scale.households();
            assert!((households * 9 / 10..=households * 11 / 10).contains(&made));
            let (d, sign_in) = commune::build(day, 3, &scale).unwrap();
            assert!(sign_in.is_empty(), "another commune's users are its own");
            assert_eq!(d.households.len(), made);
            let count = |s| d.households.iter().filter(|h| h.status == s).count();
            assert_eq!(count(HouseholdStatus::Poor), scale.poor);
            assert_eq!(count(HouseholdStatus::NearPoor), scale.near_poor);
            assert_eq!(d.assignments.len(), scale.poor + scale.near_poor);
            let villages = d
                .areas
                .iter()
                .filter(|a| a.kind == AreaKind::Village)
                .count();
            assert_eq!(villages, scale.villages.len());
            // Households, codes and users are the commune's own.
            let codes: std::collections::HashSet<_> =
                d.households.iter().map(|h| &h.code).collect();
            assert_eq!(codes.len(), made);
            assert!(d.users.iter().all(|(u, _)| u.username.ends_with(".07219")));
            assert!(d.areas.iter().all(|a| a.kind != AreaKind::Province));
        }
        // Ten villages to 1,329 households, sixty to 8,000.
        assert_eq!(commune::Scale::of(8_000, 0).villages.len(), 60);
        assert_eq!(commune::Scale::of(8_000, 0).households(), 8_000);
    }
}
