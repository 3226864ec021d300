//! Who may write where in a household document, judged on every operation of every new
//! change — a value that loses a concurrent write is judged like one that wins, since it
//! stays in the document and shows up as a conflict candidate.

use super::Refusal;
use crate::doc::Collection;
use crate::user::Role;

/// What one operation does at its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    MakeMap,
    MakeList,
    /// A collaborative text object: read as its text wherever a string is expected, so
    /// making one at a field is a write of that field (other clients' default strings).
    MakeText,
    /// Any other object (table): never written by this app.
    MakeOther,
    Put,
    Delete,
    /// Counters and marks: never written by this app.
    Other,
}

/// Where an operation writes, from the root; list positions are `#`.
pub type Path = Vec<String>;

/// What the document held before the push, as far as the rules need it.
pub trait Before {
    /// Whether the document existed before (a push may register a new household).
    fn exists(&self) -> bool;
    /// Whether a record with this id was in the collection before.
    fn has_record(&self, collection: Collection, id: &str) -> bool;
}

fn refuse(role: Role, path: &[String]) -> Refusal {
    let (vi, en) = match role {
        Role::Cadre => (
            "Cán bộ kèm cặp chỉ được ghi thăm hộ, tiến độ kế hoạch và đề xuất hỗ trợ",
            "A mentoring cadre may only log visits, plan progress and proposed support",
        ),
        Role::VillageHead => (
            "Trưởng thôn chỉ được sửa thông tin hộ, thành viên và kết quả rà soát",
            "A village head may only change the household profile, members and review results",
        ),
        Role::CommuneOfficer => ("Thay đổi này không được phép", "This change is not allowed"),
        Role::CommuneLeader => (
            "Lãnh đạo xã chỉ ghi quyết định công nhận kết quả rà soát",
            "The commune leader only records decisions on reviews",
        ),
        _ => (
            "Vai trò của bạn chỉ được xem, không được sửa hồ sơ hộ",
            "Your role may read households but not change them",
        ),
    };
    let at = path.join("/");
    Refusal::new(
        "role",
        format!("{vi} ({at}); thay đổi không được nhận."),
        format!("{en} ({at}); the change was not accepted."),
    )
}

/// Whether `path` names a scalar field of a record or of the profile (not a list of the
/// profile, whose items are written by position), where a text object may stand.
fn text_field(path: &[&str]) -> bool {
    match path {
        [head, field] if Collection::parse(head) == Some(Collection::Profile) => {
            !matches!(*field, "priority" | "causes")
        }
        [head, _, _] => Collection::parse(head).is_some_and(|c| c.is_records()),
        _ => false,
    }
}

/// Whether `role` may do `kind` at `path` of the document `before` held. `decision` is
/// set for a change the server builds for a commune decision (a conflict resolved), the
/// only writer of `resolutions`.
pub fn may_write(
    role: Role,
    decision: bool,
    path: &[String],
    kind: OpKind,
    before: &dyn Before,
) -> Result<(), Refusal> {
    use Collection::*;
    use OpKind::*;
    use Role::*;
    let no = || Err(refuse(role, path));
    let mut segs: Vec<&str> = path.iter().map(String::as_str).collect();
    // A text object at a field is that field's value: making it, and editing the
    // characters inside it, are writes of the field (the schema bounds its length).
    let kind = match (kind, segs.last()) {
        (MakeText, _) => Put,
        (Put | Delete, Some(&"#")) if text_field(&segs[..segs.len() - 1]) => {
            segs.pop();
            Put
        }
        (kind, _) => kind,
    };
    let (collection, rest) = match segs.split_first() {
        Some((head, rest)) => (Collection::parse(head), rest),
        None => return no(),
    };
    if collection == Some(Resolutions) {
        return if decision && role == CommuneOfficer && kind != Other && kind != MakeOther {
            Ok(())
        } else {
            no()
        };
    }
    // Writing a field may delete: setting a field in conflict to the value one side
    // already has is encoded as deleting the other values, and clearing a field is one too.
    // What a deletion leaves is judged by the schema and record validation.
    let field_write = matches!(kind, Put | Delete);
    if role == CommuneLeader {
        // The leader writes only decisions: a new review step and the status it sets
        // (the gate checks that the step is a decision the review allows).
        let ok = match (collection, rest) {
            (Some(Profile), ["status"]) => field_write,
            (Some(ReviewSteps), [id]) => kind == MakeMap && !before.has_record(ReviewSteps, id),
            (Some(ReviewSteps), [id, _]) => field_write && !before.has_record(ReviewSteps, id),
            _ => false,
        };
        return if ok { Ok(()) } else { no() };
    }
    let writer = matches!(role, CommuneOfficer | VillageHead | Cadre);
    if !writer {
        return no();
    }
    match (collection, rest) {
        // The skeleton of a new household, written once by the device that registers it.
        (_, []) => {
            let skeleton = match collection {
                None => matches!(segs[0], "schema_version" | "household_id") && kind == Put,
                Some(c) => (c == Profile || c.is_records()) && kind == MakeMap,
            };
            if !before.exists() && skeleton && matches!(role, CommuneOfficer | VillageHead) {
                Ok(())
            } else {
                no()
            }
        }
        (Some(Profile), [field]) => {
            let shape_ok = match *field {
                "priority" => matches!(kind, MakeMap | Delete),
                "causes" => matches!(kind, MakeList | Delete),
                _ => field_write,
            };
            if shape_ok && matches!(role, CommuneOfficer | VillageHead) {
                Ok(())
            } else {
                no()
            }
        }
        (Some(Profile), ["priority" | "causes", _])
            if matches!(kind, Put | Delete) && matches!(role, CommuneOfficer | VillageHead) =>
        {
            Ok(())
        }
        (Some(collection), [id]) => {
            let existed = before.has_record(collection, id);
            let ok = match (kind, collection) {
                (MakeMap, Members) => matches!(role, CommuneOfficer | VillageHead),
                (MakeMap, Assessments | ReviewSteps) => {
                    !existed && matches!(role, CommuneOfficer | VillageHead)
                }
                (MakeMap, Visits | Support) => !existed && matches!(role, CommuneOfficer | Cadre),
                (MakeMap, Plan) => role == CommuneOfficer,
                (Delete, Members) => matches!(role, CommuneOfficer | VillageHead),
                (Delete, Plan) => role == CommuneOfficer,
                _ => false,
            };
            if ok { Ok(()) } else { no() }
        }
        (Some(collection), [id, field]) if field_write => {
            let existed = before.has_record(collection, id);
            let ok = match collection {
                Members => matches!(role, CommuneOfficer | VillageHead),
                Assessments | ReviewSteps => {
                    !existed && matches!(role, CommuneOfficer | VillageHead)
                }
                Visits => !existed && matches!(role, CommuneOfficer | Cadre),
                Support => role == CommuneOfficer || (!existed && role == Cadre),
                Plan => {
                    role == CommuneOfficer
                        || (existed
                            && role == Cadre
                            && matches!(*field, "progress_note" | "status"))
                }
                Profile | Resolutions => false,
            };
            if ok { Ok(()) } else { no() }
        }
        _ => no(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Doc {
        exists: bool,
        records: Vec<(Collection, &'static str)>,
    }

    impl Before for Doc {
        fn exists(&self) -> bool {
            self.exists
        }
        fn has_record(&self, collection: Collection, id: &str) -> bool {
            self.records.contains(&(collection, id))
        }
    }

    fn path(p: &str) -> Vec<String> {
        p.split('/').map(String::from).collect()
    }

    #[test]
    fn each_role_writes_only_its_own_records() {
        let doc = Doc {
            exists: true,
            records: vec![
                (Collection::Visits, "v1"),
                (Collection::Support, "s1"),
                (Collection::Plan, "p1"),
            ],
        };
        let ok = |role, p: &str, kind| may_write(role, false, &path(p), kind, &doc).is_ok();
        use OpKind::*;
        use Role::*;
        // A cadre adds a visit, notes plan progress, proposes support; nothing else.
        assert!(ok(Cadre, "visits/v2", MakeMap));
        assert!(ok(Cadre, "visits/v2/date", Put));
        assert!(!ok(Cadre, "visits/v1/date", Put), "visits are append-only");
        assert!(ok(Cadre, "plan/p1/progress_note", Put));
        assert!(!ok(Cadre, "plan/p1/owner", Put));
        assert!(ok(Cadre, "support/s2/status", Put));
        assert!(
            !ok(Cadre, "support/s1/status", Put),
            "only the commune delivers"
        );
        assert!(!ok(Cadre, "profile/head_name", Put));
        assert!(!ok(Cadre, "members/m1", MakeMap));
        // A village head: profile, members, new reviews.
        assert!(ok(VillageHead, "profile/head_name", Put));
        assert!(ok(VillageHead, "profile/causes/#", Put));
        assert!(ok(VillageHead, "members/m1", Delete));
        assert!(ok(VillageHead, "assessments/a1", MakeMap));
        assert!(!ok(VillageHead, "visits/v2", MakeMap));
        assert!(
            !ok(VillageHead, "profile/priority/x", MakeMap),
            "no nesting"
        );
        // Nobody but the server's decisions writes resolutions; nobody writes the root.
        assert!(!ok(CommuneOfficer, "resolutions/c1", MakeMap));
        assert!(may_write(CommuneOfficer, true, &path("resolutions/c1"), MakeMap, &doc).is_ok());
        assert!(!ok(CommuneOfficer, "schema_version", Put));
        assert!(!ok(CommuneOfficer, "extra", MakeMap));
        assert!(
            !ok(CommuneOfficer, "profile/address", MakeOther),
            "no tables"
        );
        // A text object (another client's default string) is a write of its field.
        assert!(ok(Cadre, "visits/v2/needs", MakeText));
        assert!(ok(Cadre, "visits/v2/needs/#", Put));
        assert!(
            !ok(Cadre, "visits/v1/needs/#", Put),
            "visits are append-only"
        );
        assert!(ok(VillageHead, "profile/head_name/#", Delete));
        assert!(!ok(Cadre, "profile/head_name", MakeText));
        assert!(!ok(Cadre, "profile/head_name/#", Put));
        // Review steps are written once, by the village and the commune.
        assert!(ok(VillageHead, "review_steps/st1", MakeMap));
        assert!(ok(VillageHead, "review_steps/st1/json", Put));
        assert!(!ok(Cadre, "review_steps/st1", MakeMap));
        // The leader writes a decision and the status it sets, nothing else.
        assert!(ok(CommuneLeader, "review_steps/st2", MakeMap));
        assert!(ok(CommuneLeader, "profile/status", Put));
        assert!(!ok(CommuneLeader, "profile/head_name", Put));
        assert!(!ok(CommuneLeader, "assessments/a9", MakeMap));
        // Choosing the value one side of a conflict already has deletes the others.
        assert!(ok(CommuneOfficer, "profile/address", Delete));
        assert!(ok(VillageHead, "members/m1/name", Delete));
        assert!(ok(CommuneOfficer, "support/s1/status", Delete));
        assert!(ok(CommuneLeader, "profile/status", Delete));
        assert!(!ok(Cadre, "profile/address", Delete));
        assert!(
            !ok(Cadre, "visits/v1/date", Delete),
            "visits stay as logged"
        );
        assert!(!ok(VillageHead, "plan/p1/owner", Delete));
        // Read-only roles write nothing.
        for role in [CommuneLeader, ProvinceViewer, Admin] {
            assert!(!ok(role, "visits/v2", MakeMap));
        }
    }

    #[test]
    fn only_a_new_household_gets_its_skeleton() {
        let new = Doc {
            exists: false,
            records: vec![],
        };
        let old = Doc {
            exists: true,
            records: vec![],
        };
        let root = |d: &Doc, role| may_write(role, false, &path("household_id"), OpKind::Put, d);
        assert!(root(&new, Role::VillageHead).is_ok());
        assert!(root(&old, Role::VillageHead).is_err());
        assert!(
            root(&new, Role::Cadre).is_err(),
            "a cadre registers no household"
        );
    }
}
