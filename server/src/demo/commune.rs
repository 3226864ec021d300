//! One commune of the demo province: its villages sized to the households asked for, its
//! staff, how many households of each class it holds (the demo commune's shares), and the
//! commune built from them. The `index`-th commune of a province is the same whatever the
//! province's size, so a province is made commune by commune in bounded memory.

use super::households::{self, Once, Village};
use super::names::{FAMILY, Gen};
use super::{DemoError, Designed, ESCAPED, HOUSEHOLDS, NEAR_POOR, POOR, accompaniment, targets};
use crate::store::Import;
use shared::area::{Area, AreaKind};
use shared::household::{HouseholdStatus, Sex};
use shared::rules::RuleBook;
use shared::user::{Role, User};

/// The demo commune's villages and their households; a commune of another size has as
/// many villages in proportion, sized in the same pattern.
const VILLAGES: [(&str, usize); 10] = [
    ("Bản Làng Đồng", 162),
    ("Bản Khe Lường", 118),
    ("Bản Đồng Gia", 141),
    ("Bản Khuôn Thần", 96),
    ("Bản Bo", 175),
    ("Bản Trại Nập", 124),
    ("Bản Cây Thị", 133),
    ("Bản Đèo Cà", 109),
    ("Bản Ven", 151),
    ("Bản Khe Nghè", 120),
];

/// Cadres accompanying the demo commune's poor and near-poor households.
const CADRES: usize = 20;
/// Households designed to be of average living standard (above the near-poor line).
const AVERAGE: usize = 160;

/// Names of the province's other communes (numbered after the tenth).
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

/// How big one commune is: its villages' sizes and how many households of each class it
/// holds, in the demo commune's proportions.
pub(super) struct Scale {
    pub villages: Vec<usize>,
    pub poor: usize,
    pub near_poor: usize,
    pub escaped: usize,
    pub average: usize,
    pub cadres: usize,
}

impl Scale {
    /// The `index`-th commune of a province of communes of about `households`: the demo
    /// commune (index 0) exactly, the others 90–110 % of it with 70–130 % of its share of
    /// poor and near-poor households (seeded by the index), so the communes' rates differ.
    pub fn of(households: usize, index: usize) -> Scale {
        let (households, poverty_pct) = if index == 0 {
            (households, 100)
        } else {
            let mut rng = fastrand::Rng::with_seed(0x00D0_4E64_5CA1 + index as u64);
            (households * rng.usize(90..=110) / 100, rng.usize(70..=130))
        };
        let share = |n: usize| (n * households + HOUSEHOLDS / 2) / HOUSEHOLDS;
        let poverty = |n: usize| (share(n) * poverty_pct + 50) / 100;
        let weights: Vec<usize> = (0..share(VILLAGES.len()).max(1))
            .map(|j| VILLAGES[j % VILLAGES.len()].1)
            .collect();
        let total: usize = weights.iter().sum();
        let mut villages: Vec<usize> = weights.iter().map(|w| w * households / total).collect();
        let rest = households - villages.iter().sum::<usize>();
        for v in villages.iter_mut().take(rest) {
            *v += 1;
        }
        Scale {
            villages,
            poor: poverty(POOR),
            near_poor: poverty(NEAR_POOR),
            escaped: share(ESCAPED),
            average: share(AVERAGE),
            cadres: share(CADRES).max(1),
        }
    }

    pub fn households(&self) -> usize {
        self.villages.iter().sum()
    }
}

/// The province every demo commune belongs to (drawn first from the demo commune's seed).
fn province(g: &mut Gen) -> Area {
    Area {
        id: g.id(),
        parent_id: None,
        kind: AreaKind::Province,
        code: "24".into(),
        name: "Tỉnh Bắc Ninh".into(),
    }
}

/// The `index`-th commune of the province, with `scale`'s households; the demo commune
/// (index 0) also holds the province and its users. Users carry an empty password hash.
/// Returns the commune and, for the demo commune, one user of each role to sign in with.
pub(super) fn build(
    today: chrono::NaiveDate,
    index: usize,
    scale: &Scale,
) -> Result<(Import, Vec<(String, Role)>), DemoError> {
    let book = RuleBook::built_in();
    let rules = book.get("vn-2022-2025").expect("built-in rule set").clone();
    let mut g = Gen::for_commune(index);
    let mut d = Import::default();

    let province = if index == 0 {
        let p = province(&mut g);
        d.areas.push(p.clone());
        p
    } else {
        province(&mut Gen::for_commune(0))
    };
    let (code, name) = if index == 0 {
        ("07210".to_string(), "Xã Đồng Vương".to_string())
    } else {
        (
            format!("{:05}", 7210 + index * 3),
            format!(
                "Xã {} {}",
                COMMUNE_NAMES[index % COMMUNE_NAMES.len()],
                index / COMMUNE_NAMES.len() + 1
            ),
        )
    };
    let commune = Area {
        id: g.id(),
        parent_id: Some(province.id.clone()),
        kind: AreaKind::Commune,
        code: code.clone(),
        name,
    };
    d.areas.push(commune.clone());
    let villages: Vec<Area> = (0..scale.villages.len())
        .map(|j| {
            let (name, _) = VILLAGES[j % VILLAGES.len()];
            Area {
                id: g.id(),
                parent_id: Some(commune.id.clone()),
                kind: AreaKind::Village,
                code: format!("{code}-{:02}", j + 1),
                name: match j / VILLAGES.len() {
                    0 => name.to_string(),
                    n => format!("{name} {}", n + 1),
                },
            }
        })
        .collect();
    d.areas.extend(villages.iter().cloned());

    // Users: one per role to sign in with, a head for every village, cadres for mentoring.
    // The demo commune's are named plainly; another commune's carry its code.
    let username = |base: &str| {
        if index == 0 {
            base.to_string()
        } else {
            format!("{base}.{code}")
        }
    };
    let mut user = |g: &mut Gen, username: String, full_name: String, role: Role, area: &str| {
        let u = User {
            id: g.id(),
            username,
            full_name,
            role,
            area_id: area.into(),
            active: true,
        };
        d.users.push((u.clone(), String::new()));
        u
    };
    if index == 0 {
        user(
            &mut g,
            "quantri".into(),
            "Quản trị hệ thống".into(),
            Role::Admin,
            &province.id,
        );
        user(
            &mut g,
            "tinh".into(),
            "Phạm Thu Hà".into(),
            Role::ProvinceViewer,
            &province.id,
        );
    }
    let (leader_name, officer_name) = if index == 0 {
        ("Hoàng Văn Thắng".to_string(), "Nông Thị Hường".to_string())
    } else {
        let fam = g.pick(&FAMILY);
        let leader = g.name(fam, Sex::Male);
        let fam = g.pick(&FAMILY);
        (leader, g.name(fam, Sex::Female))
    };
    let leader = user(
        &mut g,
        username("chutich"),
        leader_name,
        Role::CommuneLeader,
        &commune.id,
    );
    user(
        &mut g,
        username("congchuc"),
        officer_name,
        Role::CommuneOfficer,
        &commune.id,
    );
    let mut heads = Vec::new();
    for (i, v) in villages.iter().enumerate() {
        let fam = g.pick(&FAMILY);
        let name = g.name(fam, Sex::Male);
        let login = username(&format!("truongban{:02}", i + 1));
        heads.push(user(&mut g, login, name, Role::VillageHead, &v.id));
    }
    let mut cadres = Vec::new();
    for i in 0..scale.cadres {
        let fam = g.pick(&FAMILY);
        let sex = if i % 3 == 0 { Sex::Female } else { Sex::Male };
        let name = g.name(fam, sex);
        let login = username(&format!("canbo{:02}", i + 1));
        cadres.push(user(&mut g, login, name, Role::Cadre, &commune.id));
    }
    let sign_in = if index == 0 {
        [
            "quantri",
            "tinh",
            "chutich",
            "congchuc",
            "truongban01",
            "canbo01",
        ]
        .iter()
        .filter_map(|n| d.users.iter().find(|(u, _)| u.username == *n))
        .map(|(u, _)| (u.username.clone(), u.role))
        .collect()
    } else {
        vec![]
    };

    // Which households are designed to be which class, spread over the villages.
    let mut designs: Vec<Designed> = std::iter::repeat_n(Designed::Poor, scale.poor)
        .chain(std::iter::repeat_n(Designed::NearPoor, scale.near_poor))
        .chain(std::iter::repeat_n(Designed::Escaped, scale.escaped))
        .chain(std::iter::repeat_n(Designed::Average, scale.average))
        .collect();
    designs.resize(scale.households(), Designed::NotPoor);
    g.rng.shuffle(&mut designs);

    let place = commune.name.trim_start_matches("Xã ").to_string();
    let code_prefix = if index == 0 {
        "DV".to_string()
    } else {
        format!("X{index:03}")
    };
    let c = households::Commune {
        today,
        book: &book,
        rules: &rules,
        leader: &leader.id,
        code_prefix: &code_prefix,
    };
    let mut once = Once::default();
    let mut supported = Vec::new();
    let mut designed = designs.into_iter();
    for (vi, count) in scale.villages.iter().enumerate() {
        let v = Village {
            index: vi,
            area: &villages[vi],
            head: &heads[vi].id,
        };
        for k in 0..*count {
            let design = designed.next().expect("a design for every household");
            let household = households::household(&mut g, &c, &v, k, design, &mut once, &mut d)?;
            if matches!(
                household.status,
                HouseholdStatus::Poor | HouseholdStatus::NearPoor
            ) {
                supported.push(household.clone());
            }
            d.households.push(household);
        }
    }
    let count = |s| d.households.iter().filter(|h| h.status == s).count();
    let found = (
        count(HouseholdStatus::Poor),
        count(HouseholdStatus::NearPoor),
        count(HouseholdStatus::NewlyEscaped),
    );
    if found != (scale.poor, scale.near_poor, scale.escaped) {
        return Err(DemoError::Bug(format!(
            "{} poor, {} near-poor, {} escaped in {}",
            found.0, found.1, found.2, commune.name
        )));
    }
    accompaniment::accompany(&mut g, &supported, &cadres, &place, today, &mut d);
    d.targets = targets::targets(&commune, &villages, &d.households);
    Ok((d, sign_in))
}
