//! Who may do what, and where: the one table of role × action × area scope that the server
//! enforces and the phone uses to decide which buttons to show.

use crate::user::Role;
use serde::{Deserialize, Serialize};

/// Everything a person can ask the system to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ReadAreas,
    ManageAreas,
    ReadUsers,
    ManageUsers,
    /// Cut off a lost phone by revoking its session.
    RevokeDevices,
    ReadHouseholds,
    /// Register a household, edit its profile and members.
    WriteHouseholds,
    /// Enter review data (income or B1, indicators or B2).
    RecordAssessments,
    /// Record the commune decision on a review.
    DecideAssessments,
    ReadAssignments,
    ManageAssignments,
    LogVisits,
    /// Propose support (it starts as planned).
    ProposeSupport,
    /// Mark support delivered or cancelled.
    ManageSupport,
    ReadTargets,
    ManageTargets,
    ReadAudit,
    /// Counts and rates per area, without personal data.
    ReadAggregates,
    /// Pick or write the value of a field written concurrently on several devices.
    ResolveConflicts,
}

impl Action {
    pub const ALL: [Action; 19] = [
        Action::ReadAreas,
        Action::ManageAreas,
        Action::ReadUsers,
        Action::ManageUsers,
        Action::RevokeDevices,
        Action::ReadHouseholds,
        Action::WriteHouseholds,
        Action::RecordAssessments,
        Action::DecideAssessments,
        Action::ReadAssignments,
        Action::ManageAssignments,
        Action::LogVisits,
        Action::ProposeSupport,
        Action::ManageSupport,
        Action::ReadTargets,
        Action::ManageTargets,
        Action::ReadAudit,
        Action::ReadAggregates,
        Action::ResolveConflicts,
    ];
}

/// How far a permitted action reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    /// Any area.
    Everywhere,
    /// The user's area and every area below it.
    AreaTree,
    /// Only households the user is currently assigned to (cadres).
    Assigned,
}

/// Whether `role` may do `action`, and how far. `None` means never.
pub fn reach(role: Role, action: Action) -> Option<Reach> {
    use Action::*;
    use Reach::*;
    use Role::*;
    match (role, action) {
        (Admin, ReadAreas | ManageAreas | ReadUsers | ManageUsers | RevokeDevices | ReadAudit) => {
            Some(Everywhere)
        }
        (Admin, _) => None,

        (CommuneOfficer, ManageAreas | ManageUsers | RevokeDevices) => None,
        (CommuneOfficer, _) => Some(AreaTree),

        (CommuneLeader, DecideAssessments) => Some(AreaTree),
        (
            CommuneLeader,
            ReadAreas | ReadHouseholds | ReadAssignments | ReadTargets | ReadAggregates,
        ) => Some(AreaTree),
        (CommuneLeader, _) => None,

        (VillageHead, ReadAreas | ReadHouseholds | WriteHouseholds | RecordAssessments) => {
            Some(AreaTree)
        }
        (VillageHead, ReadAssignments | ReadTargets | ReadAggregates) => Some(AreaTree),
        (VillageHead, _) => None,

        (Cadre, ReadAreas | ReadTargets) => Some(AreaTree),
        (Cadre, ReadHouseholds | ReadAssignments | LogVisits | ProposeSupport) => Some(Assigned),
        (Cadre, _) => None,

        (ProvinceViewer, ReadAreas | ReadTargets | ReadAggregates) => Some(AreaTree),
        (ProvinceViewer, _) => None,
    }
}

/// Whether a device of a user with `role` may make the change from `before` to `after` to
/// a household document (JSON as `doc::HouseholdDoc::to_json` gives it; `Null` before a
/// new household). The reason is for the person whose change was refused.
pub fn check_doc_change(
    role: Role,
    before: &serde_json::Value,
    after: &serde_json::Value,
) -> Result<(), crate::Text> {
    use crate::Text;
    use serde_json::Value;
    // A household new to the server is compared with an empty one that is not (yet)
    // classified: registering it writes a profile, and only a review may set it poor.
    let is_new = before.is_null();
    let baseline;
    let before = if is_new {
        let mut empty = serde_json::Map::new();
        for c in crate::doc::COLLECTIONS {
            empty.insert(c.to_string(), Value::Object(Default::default()));
        }
        empty.insert(
            "profile".into(),
            serde_json::json!({ "status": "not_poor" }),
        );
        baseline = Value::Object(empty);
        &baseline
    } else {
        before
    };
    let changed = |key: &str| before.get(key) != after.get(key);
    let obj = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    // Records that existed before and are now different or gone.
    let edited = |key: &str| {
        let (b, a) = (obj(before, key), obj(after, key));
        b.iter().any(|(id, v)| a.get(id) != Some(v))
    };
    let added = |key: &str| {
        let (b, a) = (obj(before, key), obj(after, key));
        a.keys()
            .filter(|id| !b.contains_key(*id))
            .cloned()
            .collect::<Vec<_>>()
    };
    let profile_changed: Vec<String> = {
        let (b, a) = (obj(before, "profile"), obj(after, "profile"));
        a.keys()
            .chain(b.keys())
            .filter(|k| a.get(*k) != b.get(*k))
            .cloned()
            .collect()
    };
    let refuse = |vi: &str, en: &str| Err(Text::new(vi, en));
    match role {
        Role::CommuneOfficer => Ok(()),
        Role::Cadre => {
            let support_ok = !edited("support")
                && added("support")
                    .iter()
                    .all(|id| obj(after, "support")[id]["status"] == "planned");
            if is_new
                || !profile_changed.is_empty()
                || changed("members")
                || changed("assessments")
                || changed("review_steps")
                || changed("resolutions")
                || edited("visits")
                || !support_ok
            {
                refuse(
                    "Cán bộ kèm cặp chỉ được ghi thăm hộ, tiến độ kế hoạch và đề xuất hỗ trợ; các thay đổi khác không được nhận.",
                    "A mentoring cadre may only log visits, plan progress and proposed support; other changes were not accepted.",
                )
            } else {
                Ok(())
            }
        }
        Role::VillageHead => {
            let status_ok =
                !profile_changed.iter().any(|k| k == "status") || !added("assessments").is_empty();
            if changed("visits")
                || changed("support")
                || changed("plan")
                || edited("assessments")
                || changed("resolutions")
                || !status_ok
            {
                refuse(
                    "Trưởng thôn chỉ được sửa thông tin hộ, thành viên và kết quả rà soát; các thay đổi khác không được nhận.",
                    "A village head may only change the household profile, members and review results; other changes were not accepted.",
                )
            } else {
                Ok(())
            }
        }
        Role::CommuneLeader | Role::ProvinceViewer | Role::Admin => refuse(
            "Vai trò của bạn chỉ được xem, không được sửa hồ sơ hộ.",
            "Your role may read households but not change them.",
        ),
    }
}

/// Whether an area whose path to the root is `target_path` (itself first, root last) lies
/// in the tree of `user_area`.
pub fn area_in_tree(user_area: &str, target_path: &[String]) -> bool {
    target_path.iter().any(|a| a == user_area)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cadre_cannot_change_a_classification_or_read_outside_assignments() {
        assert_eq!(reach(Role::Cadre, Action::RecordAssessments), None);
        assert_eq!(reach(Role::Cadre, Action::DecideAssessments), None);
        assert_eq!(
            reach(Role::Cadre, Action::ReadHouseholds),
            Some(Reach::Assigned)
        );
    }

    #[test]
    fn read_only_roles_write_nothing_but_their_decision() {
        let writes = [
            Action::ManageAreas,
            Action::ManageUsers,
            Action::WriteHouseholds,
            Action::RecordAssessments,
            Action::ManageAssignments,
            Action::LogVisits,
            Action::ProposeSupport,
            Action::ManageSupport,
            Action::ManageTargets,
        ];
        for a in writes {
            assert_eq!(reach(Role::CommuneLeader, a), None, "{a:?}");
            assert_eq!(reach(Role::ProvinceViewer, a), None, "{a:?}");
        }
    }

    #[test]
    fn the_province_sees_aggregates_not_households() {
        assert_eq!(reach(Role::ProvinceViewer, Action::ReadHouseholds), None);
        assert_eq!(
            reach(Role::ProvinceViewer, Action::ReadAggregates),
            Some(Reach::AreaTree)
        );
    }

    #[test]
    fn a_cadre_may_add_visits_but_not_change_a_classification() {
        use serde_json::json;
        let before = json!({"profile": {"status": "poor"}, "visits": {}, "support": {}});
        let visit = json!({"profile": {"status": "poor"}, "visits": {"v1": {"date": "2026-11-01"}}, "support": {}});
        assert!(check_doc_change(Role::Cadre, &before, &visit).is_ok());
        let status = json!({"profile": {"status": "not_poor"}, "visits": {}, "support": {}});
        let e = check_doc_change(Role::Cadre, &before, &status).unwrap_err();
        assert!(e.vi.contains("Cán bộ kèm cặp"));
        assert!(
            check_doc_change(Role::VillageHead, &before, &status).is_err(),
            "status moves only with a review"
        );
        assert!(check_doc_change(Role::CommuneOfficer, &before, &status).is_ok());
        let proposal = json!({"profile": {"status": "poor"}, "visits": {}, "support": {"s1": {"status": "planned"}}});
        assert!(check_doc_change(Role::Cadre, &before, &proposal).is_ok());
        let delivered = json!({"profile": {"status": "poor"}, "visits": {}, "support": {"s1": {"status": "delivered"}}});
        assert!(check_doc_change(Role::Cadre, &before, &delivered).is_err());
        assert!(check_doc_change(Role::CommuneLeader, &before, &visit).is_err());
    }

    #[test]
    fn a_village_head_registers_an_unclassified_household_and_a_cadre_cannot() {
        use serde_json::{Value, json};
        let empty = || json!({"members": {}, "assessments": {}, "visits": {}, "support": {}, "plan": {}, "review_steps": {}});
        let mut new = empty();
        new["profile"] =
            json!({"code": "H-9", "head_name": "Triệu Văn Minh", "status": "not_poor"});
        new["members"] = json!({"m1": {"full_name": "Triệu Văn Minh"}});
        assert!(check_doc_change(Role::VillageHead, &Value::Null, &new).is_ok());
        assert!(check_doc_change(Role::Cadre, &Value::Null, &new).is_err());
        let mut poor = new.clone();
        poor["profile"]["status"] = json!("poor");
        assert!(
            check_doc_change(Role::VillageHead, &Value::Null, &poor).is_err(),
            "classified only by a review"
        );
        let mut with_visit = new.clone();
        with_visit["visits"] = json!({"v1": {}});
        assert!(check_doc_change(Role::VillageHead, &Value::Null, &with_visit).is_err());
    }

    #[test]
    fn area_tree_contains_self_and_descendants_only() {
        let village_path = ["v1".to_string(), "c1".to_string(), "p1".to_string()];
        assert!(area_in_tree("v1", &village_path));
        assert!(area_in_tree("c1", &village_path));
        assert!(!area_in_tree("v2", &village_path));
        assert!(!area_in_tree("c2", &village_path));
    }
}
