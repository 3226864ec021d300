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

        // An officer signs out or erases the phones of the commune's people.
        (CommuneOfficer, ManageAreas | ManageUsers) => None,
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
    fn area_tree_contains_self_and_descendants_only() {
        let village_path = ["v1".to_string(), "c1".to_string(), "p1".to_string()];
        assert!(area_in_tree("v1", &village_path));
        assert!(area_in_tree("c1", &village_path));
        assert!(!area_in_tree("v2", &village_path));
        assert!(!area_in_tree("c2", &village_path));
    }
}
