//! A small province with two communes: enough to tell "in scope" from "out of scope" for
//! every role. Commune 1 has villages V1 and V2; commune 2 has V3.

use chrono::NaiveDate;
use server::store::{Actor, DynStore, Import};
use shared::area::{Area, AreaKind};
use shared::assignment::Assignment;
use shared::household::{
    Household, HouseholdStatus, Member, MemberInput, PriorityFlags, Residence, Sex,
};
use shared::user::{Role, User};

pub const PASSWORD: &str = "mat-khau-thu-nghiem";

#[derive(Debug, Clone)]
pub struct Fixture {
    pub province: String,
    pub commune1: String,
    pub commune2: String,
    pub v1: String,
    pub v2: String,
    pub v3: String,
    /// In V1, assigned to `cadre1`.
    pub h1: String,
    /// In V1, not assigned to anyone.
    pub h2: String,
    /// In V3 (commune 2), assigned to `cadre2`.
    pub h3: String,
    pub users: Vec<User>,
}

impl Fixture {
    pub fn user(&self, username: &str) -> &User {
        self.users
            .iter()
            .find(|u| u.username == username)
            .expect("fixture user")
    }
}

fn area(id: &str, parent: Option<&str>, kind: AreaKind, name: &str) -> Area {
    Area {
        id: id.into(),
        parent_id: parent.map(Into::into),
        kind,
        code: id.to_uppercase(),
        name: name.into(),
    }
}

pub fn household(id: &str, village: &str, code: &str, status: HouseholdStatus) -> Household {
    Household {
        id: id.into(),
        code: code.into(),
        village_id: village.into(),
        address: "Xóm 1".into(),
        head_name: format!("Chủ hộ {code}"),
        residence: Residence::Rural,
        status,
        priority: PriorityFlags::default(),
        causes: vec![],
        created_at: "2025-01-01T00:00:00.000Z".into(),
        updated_at: "2025-01-01T00:00:00.000Z".into(),
    }
}

pub fn member_input(name: &str) -> MemberInput {
    MemberInput {
        full_name: name.into(),
        birth_year: 1985,
        sex: Sex::Female,
        ethnicity: "Tày".into(),
        citizen_id: None,
        relation: "Chủ hộ".into(),
        disability: false,
        health_insurance: true,
        schooling: String::new(),
        work: String::new(),
    }
}

/// The usernames of the fixture, one per role in commune 1 (plus the out-of-scope ones).
pub const ROLE_USERS: [(Role, &str); 6] = [
    (Role::VillageHead, "vh1"),
    (Role::Cadre, "cadre1"),
    (Role::CommuneOfficer, "officer1"),
    (Role::CommuneLeader, "leader1"),
    (Role::ProvinceViewer, "province"),
    (Role::Admin, "admin"),
];

pub async fn load(store: &DynStore) -> Fixture {
    let hash = tokio::task::spawn_blocking(|| server::auth::password::hash_blocking(PASSWORD))
        .await
        .expect("join")
        .expect("hash");
    let areas = vec![
        area("p", None, AreaKind::Province, "Tỉnh Thử"),
        area("c1", Some("p"), AreaKind::Commune, "Xã Một"),
        area("c2", Some("p"), AreaKind::Commune, "Xã Hai"),
        area("v1", Some("c1"), AreaKind::Village, "Bản Một"),
        area("v2", Some("c1"), AreaKind::Village, "Bản Hai"),
        area("v3", Some("c2"), AreaKind::Village, "Bản Ba"),
    ];
    let user = |username: &str, role: Role, area: &str| User {
        id: format!("u-{username}"),
        username: username.into(),
        full_name: format!("Người dùng {username}"),
        role,
        area_id: area.into(),
        active: true,
    };
    let users = vec![
        user("vh1", Role::VillageHead, "v1"),
        user("vh3", Role::VillageHead, "v3"),
        user("cadre1", Role::Cadre, "c1"),
        user("cadre2", Role::Cadre, "c2"),
        user("officer1", Role::CommuneOfficer, "c1"),
        user("officer2", Role::CommuneOfficer, "c2"),
        user("leader1", Role::CommuneLeader, "c1"),
        user("province", Role::ProvinceViewer, "p"),
        user("admin", Role::Admin, "p"),
    ];
    let households = vec![
        household("h1", "v1", "H-1", HouseholdStatus::Poor),
        household("h2", "v1", "H-2", HouseholdStatus::NearPoor),
        household("h3", "v3", "H-3", HouseholdStatus::Poor),
    ];
    let members = households
        .iter()
        .map(|h| Member {
            id: format!("m-{}", h.id),
            household_id: h.id.clone(),
            data: member_input(&h.head_name),
        })
        .collect();
    let since = NaiveDate::from_ymd_opt(2025, 1, 1).expect("date");
    let assignments = vec![
        Assignment {
            id: "a1".into(),
            household_id: "h1".into(),
            cadre_id: "u-cadre1".into(),
            from_date: since,
            to_date: None,
            cadence_days: 30,
        },
        Assignment {
            id: "a3".into(),
            household_id: "h3".into(),
            cadre_id: "u-cadre2".into(),
            from_date: since,
            to_date: None,
            cadence_days: 30,
        },
    ];
    let data = Import {
        areas,
        users: users.iter().map(|u| (u.clone(), hash.clone())).collect(),
        households,
        members,
        assignments,
        ..Default::default()
    };
    store
        .import(&Actor::system(), &data)
        .await
        .expect("load fixture");
    Fixture {
        province: "p".into(),
        commune1: "c1".into(),
        commune2: "c2".into(),
        v1: "v1".into(),
        v2: "v2".into(),
        v3: "v3".into(),
        h1: "h1".into(),
        h2: "h2".into(),
        h3: "h3".into(),
        users,
    }
}
