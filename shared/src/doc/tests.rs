use super::*;
use serde_json::json;

fn author(u: &str, d: &str, at: i64) -> Author {
    Author {
        user_id: u.into(),
        device_id: d.into(),
        at_ms: at,
        door: None,
    }
}

fn profile() -> Value {
    json!({"code": "DV-01-0001", "village_id": "v1", "address": "Xóm 1", "head_name": "Hoàng Văn Páo",
           "residence": "rural", "status": "poor", "priority": {"ethnic_minority": true, "woman_headed": false},
           "causes": ["lack_of_capital", "lack_of_land"]})
}

/// A household created by the village head, then copied to two phones.
fn replicas() -> (HouseholdDoc, HouseholdDoc) {
    let mut head = HouseholdDoc::new(&[1; 16], "h1", &author("u-vh", "vh-phone", 1_000));
    head.update_profile(&profile(), &author("u-vh", "vh-phone", 1_001))
        .unwrap();
    let bytes = head.save();
    let a = HouseholdDoc::load(&[2; 16], &bytes, &author("u-a", "phone-a", 2_000)).unwrap();
    let b = HouseholdDoc::load(&[3; 16], &bytes, &author("u-b", "phone-b", 2_000)).unwrap();
    (a, b)
}

fn merge(a: &mut HouseholdDoc, b: &mut HouseholdDoc) {
    let from_a = a.save();
    let from_b = b.save();
    a.apply(&from_b).unwrap();
    b.apply(&from_a).unwrap();
}

#[test]
fn a_document_keeps_the_profile_and_records_it_is_given() {
    let (mut a, _) = replicas();
    a.put_record(
        Collection::Visits,
        "visit-1",
        &json!({"date": "2026-11-02", "discussed": "Chăm sóc bò"}),
        &author("u-a", "phone-a", 3_000),
    )
    .unwrap();
    let j = a.to_json();
    assert_eq!(j["schema_version"], 1);
    assert_eq!(j["profile"], profile());
    assert_eq!(j["visits"]["visit-1"]["discussed"], "Chăm sóc bò");
    let reloaded = HouseholdDoc::load(&[9; 16], &a.save(), &author("u", "d", 0)).unwrap();
    assert_eq!(reloaded.to_json(), j);
}

#[test]
fn concurrent_writes_to_one_field_keep_every_value_with_its_author() {
    let (mut a, mut b) = replicas();
    a.set_field(
        &["profile", "head_name"],
        &json!("Hoàng Thị Mai"),
        &author("u-a", "phone-a", 5_000),
    )
    .unwrap();
    b.set_field(
        &["profile", "head_name"],
        &json!("Hoàng Văn Sình"),
        &author("u-b", "phone-b", 6_000),
    )
    .unwrap();
    // Different fields merge silently.
    a.set_field(
        &["profile", "address"],
        &json!("Xóm 2"),
        &author("u-a", "phone-a", 5_001),
    )
    .unwrap();
    merge(&mut a, &mut b);
    assert_eq!(
        a.to_json(),
        b.to_json(),
        "both replicas show the same winner"
    );
    assert_eq!(a.to_json()["profile"]["address"], "Xóm 2");
    let conflicts = a.conflicts().unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].path, ["profile", "head_name"]);
    let mut who: Vec<(String, String, Value, i64)> = conflicts[0]
        .values
        .iter()
        .map(|v| {
            (
                v.user_id.clone().unwrap(),
                v.device_id.clone().unwrap(),
                v.value.clone(),
                v.at_ms,
            )
        })
        .collect();
    who.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        who,
        [
            (
                "u-a".to_string(),
                "phone-a".to_string(),
                json!("Hoàng Thị Mai"),
                5_000
            ),
            (
                "u-b".to_string(),
                "phone-b".to_string(),
                json!("Hoàng Văn Sình"),
                6_000
            ),
        ]
    );
    assert_eq!(b.conflicts().unwrap(), conflicts);

    // The officer's decision is a new write; once merged, the conflict is gone everywhere
    // and only the device whose value was replaced is told so.
    assert!(a.overridden_for("phone-b").is_empty());
    a.resolve_conflict(
        "c-1",
        &conflicts[0],
        &json!("Hoàng Thị Mai"),
        &author("u-officer", "laptop", 7_000),
    )
    .unwrap();
    merge(&mut a, &mut b);
    assert!(a.conflicts().unwrap().is_empty());
    assert!(b.conflicts().unwrap().is_empty());
    assert_eq!(b.to_json()["profile"]["head_name"], "Hoàng Thị Mai");
    assert!(
        b.overridden_for("phone-a").is_empty(),
        "phone-a's value won"
    );
    assert_eq!(
        b.overridden_for("phone-b"),
        [Overridden {
            conflict_id: "c-1".into(),
            path: vec!["profile".into(), "head_name".into()],
            yours: json!("Hoàng Văn Sình"),
            decided: json!("Hoàng Thị Mai"),
            resolved_by: "u-officer".into(),
            resolved_at: 7_000,
        }]
    );
    // The list row names only that device, so phones know which document to decode.
    assert_eq!(b.overridden_devices(), ["phone-b"]);
}

#[test]
fn concurrent_visits_and_member_fields_never_conflict() {
    let (mut a, mut b) = replicas();
    a.put_record(
        Collection::Members,
        "m1",
        &json!({"full_name": "Lý Thị Hoa", "birth_year": 1990, "health_insurance": false}),
        &author("u-a", "phone-a", 1),
    )
    .unwrap();
    merge(&mut a, &mut b);
    a.put_record(
        Collection::Visits,
        "v-a",
        &json!({"date": "2026-11-01", "discussed": "A"}),
        &author("u-a", "phone-a", 2),
    )
    .unwrap();
    b.put_record(
        Collection::Visits,
        "v-b",
        &json!({"date": "2026-11-01", "discussed": "B"}),
        &author("u-b", "phone-b", 2),
    )
    .unwrap();
    a.put_record(
        Collection::Members,
        "m1",
        &json!({"health_insurance": true}),
        &author("u-a", "phone-a", 3),
    )
    .unwrap();
    b.put_record(
        Collection::Members,
        "m1",
        &json!({"birth_year": 1991}),
        &author("u-b", "phone-b", 3),
    )
    .unwrap();
    merge(&mut a, &mut b);
    assert!(a.conflicts().unwrap().is_empty());
    let j = a.to_json();
    assert_eq!(j["visits"].as_object().unwrap().len(), 2);
    assert_eq!(
        j["members"]["m1"],
        json!({"full_name": "Lý Thị Hoa", "birth_year": 1991, "health_insurance": true})
    );
}

#[test]
fn an_old_document_is_upgraded_and_a_newer_one_refused() {
    // Version 0: no schema_version, no plan or review steps.
    let mut old = automerge::AutoCommit::new().with_actor(ActorId::from([7u8; 16]));
    old.put(ROOT, "household_id", "h1").unwrap();
    for c in ["profile", "members", "assessments", "visits", "support"] {
        old.put_object(ROOT, c, ObjType::Map).unwrap();
    }
    let bytes = old.save();
    let mut up = HouseholdDoc::load(&[8; 16], &bytes, &author("u", "d", 1)).unwrap();
    let j = up.to_json();
    assert_eq!(j["schema_version"], SCHEMA_VERSION);
    assert!(j["plan"].is_object() && j["review_steps"].is_object());
    up.put_record(
        Collection::ReviewSteps,
        "s1",
        &json!({"step": "village_meeting", "date": "2026-10-20"}),
        &author("u", "d", 2),
    )
    .unwrap();

    let mut newer = automerge::AutoCommit::new();
    newer.put(ROOT, "schema_version", 99).unwrap();
    assert!(matches!(
        HouseholdDoc::load(&[8; 16], &newer.save(), &author("u", "d", 1)),
        Err(DocError::TooNew(99))
    ));
    assert!(matches!(
        HouseholdDoc::load(&[8; 16], b"not automerge", &author("u", "d", 1)),
        Err(DocError::Load(_))
    ));
}

/// Every collection is read back from its key, and collections sort as their keys do
/// (a `Touched` map walks a document's maps in the document's own order).
#[test]
fn collections_are_named_by_their_keys_and_sort_like_them() {
    let all: Vec<Collection> = (Collection::MADE.into_iter())
        .chain([Collection::Resolutions])
        .collect();
    for c in &all {
        assert_eq!(Collection::parse(c.as_str()), Some(*c));
    }
    assert_eq!(Collection::parse("extra"), None);
    let mut by_key = all.clone();
    by_key.sort_by_key(|c| c.as_str());
    let mut by_value = all;
    by_value.sort();
    assert_eq!(by_key, by_value);
    assert!(Collection::RECORDS.iter().all(|c| c.is_records()));
    assert!(!Collection::Profile.is_records() && !Collection::Resolutions.is_records());
}
