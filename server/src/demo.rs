//! The demo commune: a realistic commune shaped like Đồng Vương in the 2024 plan — 10
//! villages, 1,329 households, 77 poor and 134 near-poor as the rule engine classifies
//! them from their review evidence, cadres accompanying them with a history of visits and
//! support across projects 2–7, and the 2024 targets. Deterministic for a given day.

use crate::auth::password;
use crate::error::AppError;
use crate::store::{Actor, Import, ImportedDoc, Store, StoreError};
use chrono::{Datelike, Duration, NaiveDate};
use shared::area::{Area, AreaKind};
use shared::assessment::{Assessment, ReviewKind};
use shared::assignment::Assignment;
use shared::doc::Collection;
use shared::household::{
    Cause, Household, HouseholdStatus, Member, MemberInput, PriorityFlags, Residence, Sex,
};
use shared::plan::{PlanItem, PlanItemInput, PlanStatus};
use shared::projection::{Records, to_doc};
use shared::review::{ListReason, ReviewStep, StepData};
use shared::rules::{DeprivationEvidence, Evidence, IncomeEvidence, RuleBook, RuleSet, classify};
use shared::support::{Project, SupportAction, SupportInput, SupportKind, SupportStatus};
use shared::target::{Target, TargetInput};
use shared::user::{Role, User};
use shared::visit::{Visit, VisitInput};

pub const HOUSEHOLDS: usize = 1329;
pub const POOR: usize = 77;
pub const NEAR_POOR: usize = 134;
/// Poor in the 2022 review who escaped in 2023 (5.79% + 1.16% of 1,329 were poor in 2022).
pub const ESCAPED: usize = 15;
pub const CADRES: usize = 20;
/// Every demo user has this password; change it before real use.
pub const PASSWORD: &str = "DongHanh@2024";

const VILLAGES: [(&str, &str, usize); 10] = [
    ("Bản Làng Đồng", "07210-01", 162),
    ("Bản Khe Lường", "07210-02", 118),
    ("Bản Đồng Gia", "07210-03", 141),
    ("Bản Khuôn Thần", "07210-04", 96),
    ("Bản Bo", "07210-05", 175),
    ("Bản Trại Nập", "07210-06", 124),
    ("Bản Cây Thị", "07210-07", 133),
    ("Bản Đèo Cà", "07210-08", 109),
    ("Bản Ven", "07210-09", 151),
    ("Bản Khe Nghè", "07210-10", 120),
];

const FAMILY: [&str; 12] = [
    "Hoàng", "Nông", "Lý", "Triệu", "Đặng", "Nguyễn", "Lương", "Vi", "Hà", "Dương", "Bàn", "Trần",
];
const MIDDLE_M: [&str; 5] = ["Văn", "Văn", "Đức", "Thành", "Quang"];
const MIDDLE_F: [&str; 4] = ["Thị", "Thị", "Thu", "Ngọc"];
const GIVEN_M: [&str; 14] = [
    "Páo", "Sình", "Minh", "Tuấn", "Hùng", "Dũng", "Chiến", "Thắng", "Lợi", "Sơn", "Tài", "Quý",
    "Khánh", "Phúc",
];
const GIVEN_F: [&str; 14] = [
    "Mai", "Lan", "Hường", "Nhung", "Thảo", "Hoa", "Liên", "Vân", "Dung", "Yến", "Hằng", "Chiên",
    "Mẩy", "Sen",
];
const ETHNIC: [&str; 6] = ["Tày", "Nùng", "Dao", "Sán Dìu", "Kinh", "Kinh"];

/// What the demo created, and how to sign in.
#[derive(Debug)]
pub struct Report {
    pub counts: [(&'static str, usize); 6],
    pub users: Vec<(String, Role)>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Đã tạo xã mẫu Đồng Vương / Demo commune created:")?;
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

mod reviews;

struct Gen {
    rng: fastrand::Rng,
}

impl Gen {
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.rng.usize(..xs.len())]
    }

    fn id(&mut self) -> String {
        // Deterministic ids so two demo databases of the same day are identical.
        let hi = self.rng.u64(..);
        let lo = self.rng.u64(..);
        uuid::Builder::from_random_bytes(((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes())
            .into_uuid()
            .to_string()
    }

    fn name(&mut self, family: &str, sex: Sex) -> String {
        let (mid, given): (&[&str], &[&str]) = match sex {
            Sex::Male => (&MIDDLE_M, &GIVEN_M),
            Sex::Female => (&MIDDLE_F, &GIVEN_F),
        };
        format!("{family} {} {}", self.pick(mid), self.pick(given))
    }

    fn deprivations(&mut self, rs: &RuleSet, min: usize, max: usize) -> Vec<String> {
        let n = self.rng.usize(min..=max);
        let mut codes: Vec<String> = rs.indicators.iter().map(|i| i.code.clone()).collect();
        self.rng.shuffle(&mut codes);
        codes.truncate(n);
        codes
    }
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

/// Creates the demo commune in an empty database, in one transaction.
pub async fn create(store: &dyn Store, today: NaiveDate) -> Result<Report, DemoError> {
    create_province(store, today, 1).await
}

/// Communes the province demo may hold (the benchmark's province has 100).
pub const MAX_COMMUNES: usize = 200;

/// The demo commune and `communes - 1` more of its province shaped like it: the same
/// villages and households (each keeps a seeded 85–100 % of them, so the communes' rates
/// differ), members and reviews, with no documents (the write core builds a household's
/// document the first time a device syncs it) and no staff of their own. For the province
/// viewer's screens and the console benchmark.
pub async fn create_province(
    store: &dyn Store,
    today: NaiveDate,
    communes: usize,
) -> Result<Report, DemoError> {
    if store.count_users().await? > 0 {
        return Err(DemoError::NotEmpty);
    }
    let (data, users) = build(today)?;
    let mut hashed = Vec::with_capacity(data.users.len());
    let plain = data.users.clone();
    let hashes = tokio::task::spawn_blocking(move || {
        plain
            .iter()
            .map(|_| password::hash_blocking(PASSWORD))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| DemoError::Hash(e.to_string()))??;
    for ((u, _), h) in data.users.iter().zip(hashes) {
        hashed.push((u.clone(), h));
    }
    let gated = tokio::task::spawn_blocking({
        let data = data.clone();
        move || documents(&data, today)
    })
    .await
    .map_err(|e| DemoError::Hash(e.to_string()))??;
    let mut data = Import {
        users: hashed,
        households: vec![],
        members: vec![],
        assessments: vec![],
        visits: vec![],
        support: vec![],
        ..data
    };
    for (doc, r) in gated {
        data.docs.push(doc);
        data.households.push(r.household);
        data.members.extend(r.members);
        data.assessments.extend(r.assessments);
        data.visits.extend(r.visits);
        data.support.extend(r.support);
        data.plan.extend(r.plan);
        data.review_steps.extend(r.review_steps);
    }
    let base = data.clone();
    for i in 1..communes.clamp(1, MAX_COMMUNES) {
        let copy = commune_like(&base, i);
        data.areas.extend(copy.areas);
        data.households.extend(copy.households);
        data.members.extend(copy.members);
        data.assessments.extend(copy.assessments);
        data.review_steps.extend(copy.review_steps);
    }
    store.import(&Actor::system(), &data).await?;
    Ok(Report {
        counts: [
            (
                "villages",
                data.areas
                    .iter()
                    .filter(|a| a.kind == AreaKind::Village)
                    .count(),
            ),
            ("households", data.households.len()),
            ("members", data.members.len()),
            ("assignments", data.assignments.len()),
            ("visits", data.visits.len()),
            ("support actions", data.support.len()),
        ],
        users,
    })
}

/// The `i`-th other commune of the province: the demo commune's villages, households,
/// members and reviews under new ids, named and coded after `i`, keeping a seeded share
/// of the households.
fn commune_like(base: &Import, i: usize) -> Import {
    let mut rng = fastrand::Rng::with_seed(0x00D0_4E64_0000 + i as u64);
    let keep_pct = rng.u8(85..=100);
    let id = |old: &str| format!("{old}-x{i}");
    let commune = base
        .areas
        .iter()
        .find(|a| a.kind == AreaKind::Commune)
        .expect("the demo has a commune");
    let mut out = Import::default();
    for a in &base.areas {
        match a.kind {
            AreaKind::Commune => out.areas.push(Area {
                id: id(&a.id),
                code: format!("{:05}", 7210 + i * 3),
                name: format!(
                    "Xã {} {}",
                    COMMUNE_NAMES[i % COMMUNE_NAMES.len()],
                    i / COMMUNE_NAMES.len() + 1
                ),
                ..a.clone()
            }),
            AreaKind::Village if a.parent_id.as_deref() == Some(commune.id.as_str()) => {
                out.areas.push(Area {
                    id: id(&a.id),
                    parent_id: Some(id(&commune.id)),
                    code: format!("{}.{i}", a.code),
                    ..a.clone()
                })
            }
            _ => {}
        }
    }
    let kept: std::collections::BTreeSet<&str> = base
        .households
        .iter()
        .filter(|_| rng.u8(..100) < keep_pct)
        .map(|h| h.id.as_str())
        .collect();
    for h in base
        .households
        .iter()
        .filter(|h| kept.contains(h.id.as_str()))
    {
        out.households.push(Household {
            id: id(&h.id),
            village_id: id(&h.village_id),
            code: format!("{}-{i}", h.code),
            ..h.clone()
        });
    }
    for m in base
        .members
        .iter()
        .filter(|m| kept.contains(m.household_id.as_str()))
    {
        out.members.push(Member {
            id: id(&m.id),
            household_id: id(&m.household_id),
            ..m.clone()
        });
    }
    for a in base
        .assessments
        .iter()
        .filter(|a| kept.contains(a.household_id.as_str()))
    {
        out.assessments.push(Assessment {
            id: id(&a.id),
            household_id: id(&a.household_id),
            ..a.clone()
        });
    }
    // The decisions, for the province's movement and escape figures.
    for st in base.review_steps.iter().filter(|s| {
        kept.contains(s.household_id.as_str()) && matches!(s.data, StepData::Decision { .. })
    }) {
        out.review_steps.push(ReviewStep {
            id: id(&st.id),
            household_id: id(&st.household_id),
            review_id: st.review_id.as_deref().map(id),
            ..st.clone()
        });
    }
    out
}

const COMMUNE_NAMES: [&str; 10] = [
    "Tân Lập",
    "Hòa Bình",
    "Quang Trung",
    "Đồng Tâm",
    "Thống Nhất",
    "Hợp Tiến",
    "Nghĩa Hưng",
    "Phúc Sơn",
    "Yên Thịnh",
    "Minh Khai",
];

/// Builds the whole commune in memory; users carry an empty password hash.
pub fn build(today: NaiveDate) -> Result<(Import, Vec<(String, Role)>), DemoError> {
    let book = RuleBook::built_in();
    let rs2023 = book.get("vn-2022-2025").expect("built-in rule set").clone();
    let mut g = Gen {
        rng: fastrand::Rng::with_seed(0x00D0_4E64_2024),
    };
    let mut d = Import::default();

    let province = Area {
        id: g.id(),
        parent_id: None,
        kind: AreaKind::Province,
        code: "24".into(),
        name: "Tỉnh Bắc Ninh".into(),
    };
    let commune = Area {
        id: g.id(),
        parent_id: Some(province.id.clone()),
        kind: AreaKind::Commune,
        code: "07210".into(),
        name: "Xã Đồng Vương".into(),
    };
    d.areas.push(province.clone());
    d.areas.push(commune.clone());
    let villages: Vec<Area> = VILLAGES
        .iter()
        .map(|(name, code, _)| Area {
            id: g.id(),
            parent_id: Some(commune.id.clone()),
            kind: AreaKind::Village,
            code: (*code).into(),
            name: (*name).into(),
        })
        .collect();
    d.areas.extend(villages.iter().cloned());

    // Users: one per role to sign in with, a head for every village, cadres for mentoring.
    let mut user = |g: &mut Gen, username: &str, full_name: String, role: Role, area: &str| {
        let u = User {
            id: g.id(),
            username: username.into(),
            full_name,
            role,
            area_id: area.into(),
            active: true,
        };
        d.users.push((u.clone(), String::new()));
        u
    };
    user(
        &mut g,
        "quantri",
        "Quản trị hệ thống".into(),
        Role::Admin,
        &province.id,
    );
    user(
        &mut g,
        "tinh",
        "Phạm Thu Hà".into(),
        Role::ProvinceViewer,
        &province.id,
    );
    let leader = user(
        &mut g,
        "chutich",
        "Hoàng Văn Thắng".into(),
        Role::CommuneLeader,
        &commune.id,
    );
    let officer = user(
        &mut g,
        "congchuc",
        "Nông Thị Hường".into(),
        Role::CommuneOfficer,
        &commune.id,
    );
    let mut heads = Vec::new();
    for (i, v) in villages.iter().enumerate() {
        let fam = g.pick(&FAMILY);
        let name = g.name(fam, Sex::Male);
        heads.push(user(
            &mut g,
            &format!("truongban{:02}", i + 1),
            name,
            Role::VillageHead,
            &v.id,
        ));
    }
    let mut cadres = Vec::new();
    for i in 0..CADRES {
        let fam = g.pick(&FAMILY);
        let sex = if i % 3 == 0 { Sex::Female } else { Sex::Male };
        let name = g.name(fam, sex);
        cadres.push(user(
            &mut g,
            &format!("canbo{:02}", i + 1),
            name,
            Role::Cadre,
            &commune.id,
        ));
    }
    let sign_in = [
        "quantri",
        "tinh",
        "chutich",
        "congchuc",
        "truongban01",
        "canbo01",
    ]
    .iter()
    .map(|n| {
        let u = &d
            .users
            .iter()
            .find(|(u, _)| u.username == *n)
            .expect("demo user")
            .0;
        (u.username.clone(), u.role)
    })
    .collect();

    // Which households are designed to be which class, spread over the villages.
    let mut designs: Vec<Designed> = std::iter::repeat_n(Designed::Poor, POOR)
        .chain(std::iter::repeat_n(Designed::NearPoor, NEAR_POOR))
        .chain(std::iter::repeat_n(Designed::Escaped, ESCAPED))
        .chain(std::iter::repeat_n(Designed::Average, 160))
        .collect();
    designs.resize(HOUSEHOLDS, Designed::NotPoor);
    g.rng.shuffle(&mut designs);

    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
    let (review_2024, decided_2024) = (day(2024, 10, 20), day(2024, 12, 13));
    let (review_2025, decided_2025) = (day(2025, 10, 25), day(2025, 12, 12));
    // The 2026 campaign has run through its first villages by the end of November.
    let campaign_2026 = today >= day(2026, 11, 25);
    let mut fell_back_done = false;
    let mut ad_hoc_done = 0;
    let created = "2022-09-01T08:00:00.000Z".to_string();
    let mut n = 0usize;
    let mut supported = Vec::new();
    for (vi, (_, _, count)) in VILLAGES.iter().enumerate() {
        for k in 0..*count {
            let design = designs[n];
            n += 1;
            let family = g.pick(&FAMILY);
            let ethnicity = g.pick(&ETHNIC);
            let head_sex = if g.rng.u8(..100) < 18 {
                Sex::Female
            } else {
                Sex::Male
            };
            let size = match design {
                Designed::Poor => g.rng.usize(1..=7),
                _ => g.rng.usize(2..=6),
            };
            let hid = g.id();
            let mut members = Vec::new();
            let head_born = 1950 + g.rng.i32(0..50);
            for m in 0..size {
                let (sex, born, relation) = match m {
                    0 => (head_sex, head_born, "Chủ hộ"),
                    1 => (
                        if head_sex == Sex::Male {
                            Sex::Female
                        } else {
                            Sex::Male
                        },
                        head_born + g.rng.i32(-3..5),
                        if head_sex == Sex::Male {
                            "Vợ"
                        } else {
                            "Chồng"
                        },
                    ),
                    _ => (
                        if g.rng.bool() { Sex::Male } else { Sex::Female },
                        (head_born + 20 + g.rng.i32(0..12)).min(today.year() - 1),
                        "Con",
                    ),
                };
                let age = today.year() - born;
                let fam = if m == 1 { g.pick(&FAMILY) } else { family };
                let name = g.name(fam, sex);
                let citizen_id = (age >= 14).then(|| {
                    format!(
                        "024{:01}{:02}{:06}",
                        u8::from(sex == Sex::Female),
                        born % 100,
                        g.rng.u32(..1_000_000)
                    )
                });
                members.push(Member {
                    id: g.id(),
                    household_id: hid.clone(),
                    data: MemberInput {
                        full_name: name,
                        birth_year: born,
                        sex,
                        ethnicity: ethnicity.into(),
                        citizen_id,
                        relation: relation.into(),
                        disability: g.rng.u8(..100) < 4,
                        health_insurance: design != Designed::NotPoor || g.rng.u8(..100) < 92,
                        schooling: match age {
                            0..=5 => "Chưa đi học",
                            6..=10 => "Tiểu học",
                            11..=14 => "THCS",
                            15..=17 => "THPT",
                            _ => "Lớp 9",
                        }
                        .into(),
                        work: match age {
                            0..=17 => "Đi học",
                            18..=60 => "Làm nông nghiệp",
                            _ => "Già yếu",
                        }
                        .into(),
                    },
                });
            }
            let elderly_only = members
                .iter()
                .all(|m| today.year() - m.data.birth_year >= 60);
            let mut causes = Vec::new();
            if matches!(design, Designed::Poor | Designed::NearPoor) {
                let mut all = Cause::ALL.to_vec();
                g.rng.shuffle(&mut all);
                causes = all.into_iter().take(g.rng.usize(1..=3)).collect();
            }
            let head_name = members[0].data.full_name.clone();
            let mut household = Household {
                id: hid.clone(),
                code: format!("DV-{:02}-{:04}", vi + 1, k + 1),
                village_id: villages[vi].id.clone(),
                address: format!("Xóm {}, {}", 1 + k % 4, VILLAGES[vi].0),
                head_name,
                residence: Residence::Rural,
                status: HouseholdStatus::NotPoor,
                priority: PriorityFlags {
                    ethnic_minority: ethnicity != "Kinh",
                    meritorious: g.rng.u8(..100) < 3,
                    woman_headed: head_sex == Sex::Female,
                    member_with_disability: members.iter().any(|m| m.data.disability),
                    elderly_only,
                },
                causes,
                created_at: created.clone(),
                updated_at: created.clone(),
            };

            // Review evidence designed for the class; the rule engine decides the class.
            // Incomes are reported in tens of thousands of đồng.
            let (line, avg) = (
                rs2023.income_line.rural / 10_000,
                rs2023.average_upper.rural / 10_000,
            );
            let (income, deprived) = match design {
                Designed::Poor => (g.rng.i64(50..=line), g.deprivations(&rs2023, 3, 6)),
                Designed::NearPoor => (g.rng.i64(80..=line), g.deprivations(&rs2023, 0, 2)),
                Designed::Escaped | Designed::Average => {
                    (g.rng.i64(line + 1..=avg), g.deprivations(&rs2023, 0, 3))
                }
                Designed::NotPoor => (g.rng.i64(avg + 1..=600), g.deprivations(&rs2023, 0, 1)),
            };
            let income = income * 10_000;
            // About a third of village heads score with forms B1/B2 instead of asking income.
            let use_scores =
                g.rng.u8(..100) < 33 && matches!(design, Designed::Poor | Designed::NearPoor);
            let evidence = if use_scores {
                Evidence {
                    residence: Residence::Rural,
                    income: IncomeEvidence::B1 {
                        score: g.rng.u32(60..=rs2023.b1_income_poor_max.rural as u32),
                    },
                    deprivation: DeprivationEvidence::B2 {
                        score: rs2023.b2_points_per_indicator * deprived.len() as u32,
                    },
                }
            } else {
                Evidence {
                    residence: Residence::Rural,
                    income: IncomeEvidence::Income {
                        per_person_month: income,
                    },
                    deprivation: DeprivationEvidence::Indicators { deprived },
                }
            };
            // The status of the list the commune registered from paper in 2022, then the
            // decisions of the 2024 and 2025 campaigns and the 2026 campaign so far.
            let special = g.rng.u8(..100);
            let mut status = match design {
                Designed::Poor if special < 7 => HouseholdStatus::NearPoor,
                Designed::NearPoor if special < 8 => HouseholdStatus::Poor,
                Designed::Poor | Designed::Escaped => HouseholdStatus::Poor,
                Designed::NearPoor => HouseholdStatus::NearPoor,
                Designed::Average if special < 12 => HouseholdStatus::NearPoor,
                Designed::Average => HouseholdStatus::Average,
                Designed::NotPoor => HouseholdStatus::NotPoor,
            };
            let hands = reviews::Hands {
                head: &heads[vi].id,
                leader: &leader.id,
            };
            let reason = |s: HouseholdStatus| {
                if matches!(s, HouseholdStatus::Poor | HouseholdStatus::NearPoor) {
                    ListReason::OnList
                } else {
                    ListReason::FlaggedByVillage
                }
            };
            let falls_back =
                design == Designed::Poor && status == HouseholdStatus::Poor && !fell_back_done;
            if design == Designed::Escaped || falls_back {
                fell_back_done |= falls_back;
                let income = if falls_back { 1_900_000 } else { 1_200_000 };
                let before = Evidence {
                    residence: Residence::Rural,
                    income: IncomeEvidence::Income {
                        per_person_month: income,
                    },
                    deprivation: DeprivationEvidence::Indicators {
                        deprived: g.deprivations(&rs2023, 3, 4),
                    },
                };
                let a = assessment(&mut g, &book, &hid, ReviewKind::Annual, review_2024, before)?;
                let reached = reviews::Reached::Decided {
                    on: decided_2024,
                    number: "198/QĐ-UBND",
                };
                status = reviews::steps(
                    &mut g,
                    &mut d.review_steps,
                    &hands,
                    &a,
                    reason(status),
                    status,
                    reached,
                );
                d.assessments.push(a);
            }
            let flagged = design == Designed::NotPoor && g.rng.u8(..100) < 4;
            if design != Designed::NotPoor || flagged {
                let a = assessment(
                    &mut g,
                    &book,
                    &hid,
                    ReviewKind::Annual,
                    review_2025,
                    evidence.clone(),
                )?;
                let reached = reviews::Reached::Decided {
                    on: decided_2025,
                    number: "245/QĐ-UBND",
                };
                status = reviews::steps(
                    &mut g,
                    &mut d.review_steps,
                    &hands,
                    &a,
                    reason(status),
                    status,
                    reached,
                );
                d.assessments.push(a);
            }
            let listed = matches!(
                status,
                HouseholdStatus::Poor | HouseholdStatus::NearPoor | HouseholdStatus::NewlyEscaped
            );
            if campaign_2026 && vi < 4 && listed {
                let date = day(2026, 10, 5) + Duration::days(vi as i64 * 4 + g.rng.i64(0..3));
                let a = assessment(
                    &mut g,
                    &book,
                    &hid,
                    ReviewKind::Annual,
                    date,
                    evidence.clone(),
                )?;
                let reached = match vi {
                    0 => reviews::Reached::Posted { complaint: false },
                    1 => reviews::Reached::Posted {
                        complaint: k % 9 == 4,
                    },
                    2 => reviews::Reached::Met {
                        agreed_pct: if k % 11 == 3 {
                            40
                        } else {
                            55 + g.rng.u32(..35)
                        },
                    },
                    _ => reviews::Reached::Listed,
                };
                reviews::steps(
                    &mut g,
                    &mut d.review_steps,
                    &hands,
                    &a,
                    reason(status),
                    status,
                    reached,
                );
                d.assessments.push(a);
            }
            // Households that asked for a review of their own during the year.
            if design == Designed::NotPoor && vi >= 5 && ad_hoc_done < 2 {
                let (date, reached) = if ad_hoc_done == 0 {
                    (
                        day(2026, 4, 6),
                        reviews::Reached::Decided {
                            on: day(2026, 4, 24),
                            number: "67/QĐ-UBND",
                        },
                    )
                } else {
                    (
                        (today - Duration::days(6)).max(day(2026, 1, 5)),
                        reviews::Reached::Listed,
                    )
                };
                ad_hoc_done += 1;
                let a = assessment(
                    &mut g,
                    &book,
                    &hid,
                    ReviewKind::AdHoc,
                    date,
                    evidence.clone(),
                )?;
                status = reviews::steps(
                    &mut g,
                    &mut d.review_steps,
                    &hands,
                    &a,
                    ListReason::Applied,
                    status,
                    reached,
                );
                d.assessments.push(a);
            }
            // A few households left the register during 2026, each recorded by the commune.
            let leaving = match (design == Designed::NotPoor && vi >= 5, k) {
                (true, 40) => Some((day(2026, 3, 20), shared::review::LeftReason::MovedAway)),
                (true, 41) => Some((day(2026, 7, 2), shared::review::LeftReason::Merged)),
                (true, 42) => Some((day(2026, 9, 15), shared::review::LeftReason::Dissolved)),
                _ => None,
            };
            if let Some((date, reason)) = leaving.filter(|(d, _)| *d <= today) {
                d.review_steps.push(shared::review::ReviewStep {
                    id: g.id(),
                    household_id: hid.clone(),
                    review_id: None,
                    date,
                    by: hands.leader.to_string(),
                    data: StepData::Left {
                        reason,
                        number: format!("{}/XN-UBND", 30 + vi),
                        from: status,
                    },
                });
            }
            household.status = status;
            if status == HouseholdStatus::Poor || status == HouseholdStatus::NearPoor {
                supported.push(household.clone());
            }
            d.households.push(household);
            d.members.extend(members);
        }
    }

    let poor = d
        .households
        .iter()
        .filter(|h| h.status == HouseholdStatus::Poor)
        .count();
    let near = d
        .households
        .iter()
        .filter(|h| h.status == HouseholdStatus::NearPoor)
        .count();
    let escaped = d
        .households
        .iter()
        .filter(|h| h.status == HouseholdStatus::NewlyEscaped)
        .count();
    if (poor, near, escaped) != (POOR, NEAR_POOR, ESCAPED) {
        return Err(DemoError::Bug(format!(
            "{poor} poor, {near} near-poor, {escaped} escaped"
        )));
    }

    // Accompaniment since the commune reorganisation, with monthly visits.
    let assigned_from = NaiveDate::from_ymd_opt(2025, 7, 1).expect("date");
    for (i, h) in supported.iter().enumerate() {
        let cadre = &cadres[i % CADRES];
        let cadence = if h.status == HouseholdStatus::Poor {
            30
        } else {
            60
        };
        d.assignments.push(Assignment {
            id: g.id(),
            household_id: h.id.clone(),
            cadre_id: cadre.id.clone(),
            from_date: assigned_from,
            to_date: None,
            cadence_days: cadence,
        });
        // Most cadres keep up; about one household in seven has fallen behind.
        let behind = g.rng.u8(..100) < 15;
        let stop = if behind {
            today - Duration::days(cadence + 20 + g.rng.i64(0..40))
        } else {
            today
        };
        let mut day = assigned_from + Duration::days(g.rng.i64(3..20));
        while day <= stop {
            let next = day + Duration::days(cadence + g.rng.i64(-5..6));
            d.visits.push(visit(&mut g, h, cadre, day, next));
            day = next;
        }
    }

    // Support across projects 2–7 and the policies beside them, matched to the causes.
    for h in &supported {
        let latest = d
            .assessments
            .iter()
            .rev()
            .find(|a| a.household_id == h.id)
            .expect("reviewed");
        for plan in support_for(h, &latest.explanation.deprived) {
            let planned = NaiveDate::from_ymd_opt(
                2024 + g.rng.i32(0..3),
                1 + g.rng.u32(..12),
                1 + g.rng.u32(..28),
            )
            .expect("date");
            let planned = planned.min(today);
            let delivered = (planned + Duration::days(30) <= today && g.rng.u8(..100) < 80)
                .then(|| planned + Duration::days(g.rng.i64(5..45)));
            d.support.push(SupportAction {
                id: g.id(),
                household_id: h.id.clone(),
                status: if delivered.is_some() {
                    SupportStatus::Delivered
                } else {
                    SupportStatus::Planned
                },
                delivered_date: delivered.map(|x| x.min(today)),
                data: SupportInput {
                    planned_date: planned,
                    ..plan
                },
            });
        }
    }

    // The targets of the plan: 2024 as the plan set them (poor 3.39%, near-poor 8.0%),
    // then lower each year; each village its share, in proportion to its own rates.
    let rate_in = |hs: &[&Household], s| {
        100.0 * hs.iter().filter(|h| h.status == s).count() as f64 / hs.len().max(1) as f64
    };
    let all: Vec<&Household> = d.households.iter().collect();
    let (poor_now, near_now) = (
        rate_in(&all, HouseholdStatus::Poor),
        rate_in(&all, HouseholdStatus::NearPoor),
    );
    let round = |x: f64| (x * 100.0).round() / 100.0;
    for (year, poor_pct, near_pct) in [(2024, 3.39, 8.0), (2025, 3.0, 7.5), (2026, 2.6, 7.0)] {
        d.targets.push(Target {
            area_id: commune.id.clone(),
            year,
            data: TargetInput {
                poor_rate_pct: poor_pct,
                near_poor_rate_pct: near_pct,
                indicator_goals: [("health_insurance".to_string(), 0.0)].into(),
            },
        });
        for v in &villages {
            let hs: Vec<&Household> = d
                .households
                .iter()
                .filter(|h| h.village_id == v.id)
                .collect();
            d.targets.push(Target {
                area_id: v.id.clone(),
                year,
                data: TargetInput {
                    poor_rate_pct: round(rate_in(&hs, HouseholdStatus::Poor) * poor_pct / poor_now),
                    near_poor_rate_pct: round(
                        rate_in(&hs, HouseholdStatus::NearPoor) * near_pct / near_now,
                    ),
                    indicator_goals: Default::default(),
                },
            });
        }
    }
    let _ = officer;
    Ok((d, sign_in))
}

/// The household's plan as the commune drew it up after the review: for a poor or
/// near-poor household, one item per cause of its poverty with the commune plan's matched
/// solution, who carries it and by when, and the progress noted so far.
fn plan_for(h: &Household) -> Vec<PlanItem> {
    if !matches!(h.status, HouseholdStatus::Poor | HouseholdStatus::NearPoor) {
        return vec![];
    }
    let seed =
        h.id.bytes()
            .fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(b as usize));
    let mid_year = NaiveDate::from_ymd_opt(2026, 6, 30).expect("date");
    let year_end = NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
    h.causes
        .iter()
        .enumerate()
        .map(|(k, &cause)| {
            let owner = match cause {
                Cause::LackOfCapital => "Hội Nông dân xã (ủy thác NHCSXH)",
                Cause::LackOfSkills | Cause::ManyDependants => "Công chức LĐ-TB&XH xã",
                Cause::LackOfKnowHow | Cause::LackOfWill => "Cán bộ kèm cặp",
                Cause::LackOfLand | Cause::LackOfMeans => "Cán bộ khuyến nông xã",
                Cause::IllnessNoWorkers
                | Cause::Disability
                | Cause::OldAgeAlone
                | Cause::RiskOrDisaster => "Ủy ban MTTQ xã",
            };
            let due = if (seed + k) % 2 == 0 {
                mid_year
            } else {
                year_end
            };
            let (status, note) = match (seed + 3 * k) % 4 {
                0 if due == mid_year => (PlanStatus::Done, "Đã hoàn thành."),
                1 => (
                    PlanStatus::Open,
                    "Đã hướng dẫn hộ làm hồ sơ, đang chờ xét duyệt.",
                ),
                2 => (PlanStatus::Open, "Hộ đã đồng ý tham gia, chưa triển khai."),
                _ => (PlanStatus::Open, ""),
            };
            PlanItem {
                id: format!("{}-plan-{k}", h.id),
                household_id: h.id.clone(),
                status,
                data: PlanItemInput {
                    progress_note: note.into(),
                    ..PlanItemInput::matched(cause, owner, due)
                },
            }
        })
        .collect()
}

/// One household document per household, holding its records, so phones can sync at once.
/// Each passes the write core's gate as a household's history (`admit_history`): the
/// read model stored beside it is the core's projection of the document, not the rows
/// the generator made.
fn documents(d: &Import, today: NaiveDate) -> Result<Vec<(ImportedDoc, Records)>, DemoError> {
    use std::collections::HashMap;
    let mut by: HashMap<&str, Records> = d
        .households
        .iter()
        .map(|h| {
            (
                h.id.as_str(),
                Records {
                    household: h.clone(),
                    members: vec![],
                    assessments: vec![],
                    visits: vec![],
                    support: vec![],
                    plan: plan_for(h),
                    review_steps: vec![],
                },
            )
        })
        .collect();
    for m in &d.members {
        by.get_mut(m.household_id.as_str())
            .expect("member of a household")
            .members
            .push(m.clone());
    }
    for a in &d.assessments {
        by.get_mut(a.household_id.as_str())
            .expect("review of a household")
            .assessments
            .push(a.clone());
    }
    for st in &d.review_steps {
        by.get_mut(st.household_id.as_str())
            .expect("review step of a household")
            .review_steps
            .push(st.clone());
    }
    for v in &d.visits {
        by.get_mut(v.household_id.as_str())
            .expect("visit of a household")
            .visits
            .push(v.clone());
    }
    for s in &d.support {
        by.get_mut(s.household_id.as_str())
            .expect("support of a household")
            .support
            .push(s.clone());
    }
    let author = shared::doc::Author {
        user_id: "demo".into(),
        device_id: "server".into(),
        at_ms: 1_700_000_000_000,
        door: None,
    };
    let book = RuleBook::built_in();
    // The end of the demo's day: nothing it dates lies ahead of it.
    let now_ms = today
        .and_hms_opt(23, 59, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis());
    d.households
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let mut actor = [0u8; 16];
            actor[..8].copy_from_slice(&(i as u64).to_be_bytes());
            let mut doc = lived_doc(&actor, &by[h.id.as_str()], &author)
                .map_err(|e| DemoError::Bug(e.to_string()))?;
            let mut a = shared::core::admit_history(
                &h.id,
                &doc.save_after(&[]),
                now_ms,
                &book,
                &shared::core::Limits::DEFAULT,
            )
            .map_err(|r| DemoError::Bug(format!("household {}: {}", h.code, r.reason.en)))?;
            let heads = a.doc.heads().iter().map(|x| x.to_string()).collect();
            let imported = ImportedDoc {
                household_id: h.id.clone(),
                bytes: a.doc.save(),
                heads,
            };
            Ok((imported, a.records))
        })
        .collect()
}

/// A document shaped as it would be after months of use: the registration and reviews
/// brought in at once, then every visit a change of its own from the cadre's phone and
/// every support action one from the commune officer's laptop.
fn lived_doc(
    actor: &[u8],
    r: &Records,
    author: &shared::doc::Author,
) -> Result<shared::doc::HouseholdDoc, shared::doc::DocError> {
    use shared::projection::{support_json, visit_json};
    let registered = Records {
        visits: vec![],
        support: vec![],
        ..r.clone()
    };
    let mut doc = to_doc(actor, &registered, author)?;
    let device_of = |user: &str| {
        let mut a = [0xD0u8; 16];
        for (i, b) in user.bytes().enumerate() {
            a[i % 16] ^= b.rotate_left(i as u32 % 8);
        }
        a
    };
    let at = |d: NaiveDate| {
        d.and_hms_opt(9, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp_millis())
    };
    for v in &r.visits {
        doc.automerge()
            .set_actor(automerge::ActorId::from(&device_of(&v.cadre_id)[..]));
        let by = shared::doc::Author {
            user_id: v.cadre_id.clone(),
            device_id: format!("{}-phone", v.cadre_id),
            at_ms: at(v.data.date),
            door: None,
        };
        doc.put_record(Collection::Visits, &v.id, &visit_json(v), &by)?;
    }
    for s in &r.support {
        doc.automerge()
            .set_actor(automerge::ActorId::from(&device_of("officer")[..]));
        let by = shared::doc::Author {
            user_id: "demo-officer".into(),
            device_id: "commune-laptop".into(),
            at_ms: at(s.data.planned_date),
            door: None,
        };
        doc.put_record(Collection::Support, &s.id, &support_json(s), &by)?;
    }
    Ok(doc)
}

fn assessment(
    g: &mut Gen,
    book: &RuleBook,
    household_id: &str,
    kind: ReviewKind,
    date: NaiveDate,
    evidence: Evidence,
) -> Result<Assessment, DemoError> {
    let rs = shared::review::rule_set_for(book, kind, date)
        .ok_or_else(|| DemoError::Bug(format!("no rule set for {date}")))?;
    let o =
        classify(rs, &evidence).map_err(|e| DemoError::Bug(format!("invalid evidence {e:?}")))?;
    Ok(Assessment {
        id: g.id(),
        household_id: household_id.into(),
        kind,
        date,
        evidence,
        classification: o.classification,
        explanation: o.explanation,
    })
}

fn visit(g: &mut Gen, h: &Household, cadre: &User, day: NaiveDate, next: NaiveDate) -> Visit {
    const TOPICS: [(&str, &str, &str); 6] = [
        (
            "Hướng dẫn chăm sóc đàn bò được hỗ trợ, tiêm phòng lở mồm long móng",
            "Đàn bò khỏe, đã phối giống",
            "Cần thêm giống cỏ voi",
        ),
        (
            "Trao đổi kế hoạch trồng keo trên đất đồi",
            "Đã phát dọn 0,5 ha",
            "Cần vay vốn mua cây giống",
        ),
        ("Vận động cho con đi học lại", "Cháu đã trở lại lớp", ""),
        (
            "Hướng dẫn làm hồ sơ vay vốn NHCSXH",
            "Đã nộp hồ sơ",
            "Chờ giải ngân",
        ),
        (
            "Kiểm tra việc sử dụng thẻ BHYT, nhắc khám định kỳ",
            "Cả nhà đã có thẻ",
            "",
        ),
        (
            "Động viên chủ hộ đi làm thuê theo mùa vụ",
            "Chủ hộ đã nhận việc tại xưởng gỗ",
            "Cần đào tạo nghề mộc",
        ),
    ];
    let (discussed, progress, needs) = TOPICS[g.rng.usize(..TOPICS.len())];
    Visit {
        id: g.id(),
        household_id: h.id.clone(),
        cadre_id: cadre.id.clone(),
        data: VisitInput {
            date: day,
            discussed: discussed.into(),
            progress: progress.into(),
            needs: needs.into(),
            next_visit: Some(next),
        },
    }
}

/// Support matched to the household's causes and deprivations, as the plan asks.
fn support_for(h: &Household, deprived: &[String]) -> Vec<SupportInput> {
    let base = |kind, project, provider: &str| SupportInput {
        kind,
        project,
        provider: provider.into(),
        amount_vnd: None,
        quantity: None,
        unit: String::new(),
        planned_date: NaiveDate::MIN,
        addresses_cause: None,
        addresses_indicator: None,
        note: String::new(),
    };
    let mut out = Vec::new();
    for c in &h.causes {
        let s = match c {
            Cause::LackOfCapital => SupportInput {
                amount_vnd: Some(50_000_000),
                addresses_cause: Some(*c),
                ..base(SupportKind::Loan, Project::OtherPolicy, "NHCSXH")
            },
            Cause::LackOfSkills => SupportInput {
                addresses_cause: Some(*c),
                note: "Lớp sơ cấp nghề mộc".into(),
                ..base(
                    SupportKind::Training,
                    Project::P4Vocational,
                    "Trung tâm GDNN-GDTX",
                )
            },
            Cause::LackOfLand | Cause::LackOfMeans => SupportInput {
                quantity: Some(1),
                unit: "con bò".into(),
                amount_vnd: Some(15_000_000),
                addresses_cause: Some(*c),
                ..base(
                    SupportKind::LivelihoodModel,
                    Project::P2Livelihood,
                    "UBND xã Đồng Vương",
                )
            },
            Cause::LackOfKnowHow => SupportInput {
                quantity: Some(500),
                unit: "cây keo giống".into(),
                addresses_cause: Some(*c),
                ..base(
                    SupportKind::ProductionSupport,
                    Project::P3Production,
                    "Hội Nông dân xã",
                )
            },
            Cause::ManyDependants => SupportInput {
                addresses_cause: Some(*c),
                ..base(
                    SupportKind::Job,
                    Project::P4Jobs,
                    "Trung tâm Dịch vụ việc làm",
                )
            },
            Cause::RiskOrDisaster => SupportInput {
                amount_vnd: Some(3_000_000),
                addresses_cause: Some(*c),
                ..base(
                    SupportKind::EmergencyRelief,
                    Project::OtherPolicy,
                    "Ủy ban MTTQ xã",
                )
            },
            Cause::LackOfWill
            | Cause::IllnessNoWorkers
            | Cause::Disability
            | Cause::OldAgeAlone => continue,
        };
        out.push(s);
    }
    for code in deprived {
        let s = match code.as_str() {
            "health_insurance" => SupportInput {
                quantity: Some(1),
                unit: "thẻ BHYT".into(),
                ..base(
                    SupportKind::HealthInsurance,
                    Project::OtherPolicy,
                    "BHXH huyện",
                )
            },
            "housing_quality" | "floor_area" => SupportInput {
                amount_vnd: Some(40_000_000),
                ..base(
                    SupportKind::Housing,
                    Project::P5Housing,
                    "UBND xã Đồng Vương",
                )
            },
            "nutrition" => SupportInput {
                note: "Bổ sung vi chất cho trẻ dưới 5 tuổi".into(),
                ..base(SupportKind::Nutrition, Project::P3Nutrition, "Trạm Y tế xã")
            },
            "information_assets" | "telecom" => SupportInput {
                quantity: Some(1),
                unit: "chiếc radio".into(),
                ..base(
                    SupportKind::Information,
                    Project::P6Information,
                    "Đài truyền thanh xã",
                )
            },
            "adult_education" => SupportInput {
                ..base(
                    SupportKind::Training,
                    Project::P4Vocational,
                    "Trung tâm GDNN-GDTX",
                )
            },
            "child_school" => SupportInput {
                ..base(
                    SupportKind::TuitionExemption,
                    Project::OtherPolicy,
                    "Trường THCS Đồng Vương",
                )
            },
            _ => continue,
        };
        out.push(SupportInput {
            addresses_indicator: Some(code.clone()),
            ..s
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
