//! The permission matrix: every role against every endpoint, on a record inside the
//! user's scope (commune 1) and one outside it (commune 2), over real HTTP with real JWTs.
//! The expectations are written out here from the domain brief, independently of
//! `shared::permissions`, so a wrong rule there fails this test.

use serde_json::Value;
use server::store::{Actor, DynStore};
use shared::assignment::Assignment;
use shared::doc::Collection;
use shared::support::{Project, SupportAction, SupportInput, SupportKind, SupportStatus};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use tests::fixture::{self, ROLE_USERS};
use tests::{Backend, TestDb, TestServer, on_both_backends};

/// Roles in the order of the expectation columns: village head, cadre, commune officer,
/// commune leader, province viewer, administrator. `o` allowed, `f` forbidden for the
/// role, `s` outside the user's scope; `in/out` where the endpoint targets a record.
const MATRIX: &[(&str, &str, &str, &str)] = &[
    // method, path, body, expectations VH CA CO CL PV AD
    ("GET", "/auth/me", "", "o o o o o o"),
    (
        "PUT",
        "/auth/device",
        r#"{"name":"Điện thoại mới"}"#,
        "o o o o o o",
    ),
    ("GET", "/areas", "", "o o o o o o"),
    ("GET", "/areas/{area}", "", "o/s o/s o/s o/s o/o o/o"),
    (
        "POST",
        "/areas",
        r#"{"parent_id":"{commune}","kind":"village","code":"{code}","name":"Bản Mới"}"#,
        "f f f f f o/o",
    ),
    (
        "PUT",
        "/areas/{area}",
        r#"{"parent_id":"{commune}","kind":"village","code":"{area_code}","name":"Bản Đổi Tên"}"#,
        "f f f f f o/o",
    ),
    ("GET", "/users", "", "f f o f f o"),
    (
        "POST",
        "/users",
        r#"{"username":"{code}","full_name":"Người Mới","role":"cadre","area_id":"{commune}","password":"trau-vang-cay-ruong-som"}"#,
        "f f f f f o/o",
    ),
    ("GET", "/users/{user}", "", "f f o/s f f o/o"),
    (
        "PATCH",
        "/users/{user}",
        r#"{"full_name":"Tên Mới"}"#,
        "f f f f f o/o",
    ),
    // The commune officer signs out or erases the phones of the commune's people.
    ("GET", "/users/{user}/devices", "", "f f o/s f f o/o"),
    (
        "POST",
        "/users/{user}/devices/{device}/revoke",
        "",
        "f f o/s f f o/o",
    ),
    ("GET", "/users/locked", "", "f f f f f o"),
    ("POST", "/users/locked/{code}/unlock", "", "f f f f f o"),
    ("GET", "/households", "", "o o o o f f"),
    ("GET", "/search?q=lo", "", "o o o o f f"),
    (
        "POST",
        "/households",
        r#"{"code":"{code}","village_id":"{area}","address":"Xóm 2","head_name":"Lò Văn Mới","residence":"rural"}"#,
        "o/s f o/s f f f",
    ),
    ("GET", "/households/{household}", "", "o/s o/s o/s o/s f f"),
    (
        "GET",
        "/households/{household}/history",
        "",
        "o/s o/s o/s o/s f f",
    ),
    (
        "PUT",
        "/households/{household}",
        r#"{"code":"{household_code}","village_id":"{area}","address":"Xóm 3","head_name":"Chủ hộ","residence":"rural"}"#,
        "o/s f o/s f f f",
    ),
    (
        "POST",
        "/households/{household}/members",
        r#"{"full_name":"Lò Thị Mới","birth_year":2001,"sex":"female","relation":"Con"}"#,
        "o/s f o/s f f f",
    ),
    (
        "PUT",
        "/members/{member}",
        r#"{"full_name":"Lò Thị Sửa","birth_year":2001,"sex":"female","relation":"Con"}"#,
        "o/s f o/s f f f",
    ),
    ("DELETE", "/members/{member}", "", "o/s f o/s f f f"),
    (
        "POST",
        "/households/{household}/assessments",
        r#"{"kind":"annual","date":"2026-10-01","evidence":{"residence":"rural","income":{"kind":"income","per_person_month":1000000},"deprivation":{"kind":"indicators","deprived":["latrine"]}}}"#,
        "o/s f o/s f f f",
    ),
    (
        "POST",
        "/households/{household}/visits",
        r#"{"date":"2026-11-01","discussed":"Thăm hỏi, động viên","next_visit":"2026-12-01"}"#,
        "f o/s o/s f f f",
    ),
    (
        "POST",
        "/households/{household}/support",
        r#"{"kind":"loan","project":"other_policy","provider":"NHCSXH","amount_vnd":1000000,"planned_date":"2026-11-01"}"#,
        "f o/s o/s f f f",
    ),
    (
        "POST",
        "/support/{support}/status",
        r#"{"status":"delivered","delivered_date":"2026-11-10"}"#,
        "f f o/s f f f",
    ),
    ("GET", "/assignments", "", "o o o o f f"),
    ("GET", "/accompaniment", "", "o o o o f f"),
    ("GET", "/accompaniment/cadres", "", "o f o o f f"),
    ("GET", "/dashboard", "", "o f o o f f"),
    ("GET", "/support", "", "o f o o f f"),
    ("GET", "/support?area_id={area}", "", "o/s f o/s o/s f f"),
    (
        "PUT",
        "/households/{household}/plan/{plan_item}",
        r#"{"item":{"cause":"lack_of_capital","solution":"Vay vốn","owner":"UBND xã","due":"2026-12-31"},"status":"open"}"#,
        "f f o/s f f f",
    ),
    ("GET", "/reviews/campaign", "", "o f o o f f"),
    (
        "GET",
        "/reviews/campaign?area_id={area}",
        "",
        "o/s f o/s o/s f f",
    ),
    ("GET", "/reviews/tracking", "", "o f o o f f"),
    (
        "GET",
        "/reviews/what-if?rule_set_id=vn-2027-2030",
        "",
        "o f o o f f",
    ),
    (
        "POST",
        "/reviews/steps",
        r#"{"household_ids":["{household}"],"date":"2026-10-01","step":{"kind":"listed","reason":"applied"}}"#,
        "o/s f o/s f f f",
    ),
    (
        "POST",
        "/reviews/steps",
        r#"{"household_ids":["{household}"],"date":"2026-10-01","step":{"kind":"decision","number":"1/QĐ","approved":true}}"#,
        "f f o/s o/s f f",
    ),
    ("GET", "/reports?year=2025&period=annual", "", "o f o o o f"),
    (
        "GET",
        "/reports?year=2025&period=half_year&area_id={area}",
        "",
        "o/s f o/s o/s o/o f",
    ),
    ("GET", "/stats/communes", "", "o f o o o f"),
    (
        "GET",
        "/stats/communes?area_id={area}",
        "",
        "o/s f o/s o/s o/o f",
    ),
    (
        "POST",
        "/import/households?format=csv",
        "Mã hộ,Chủ hộ,Thôn\nNK-1,Lò Văn Sơn,Bản Một",
        "f f o f f f",
    ),
    (
        "POST",
        "/assignments/bulk",
        r#"{"household_ids":["{fresh_household}"],"cadre_id":"u-cadre1","from_date":"2026-01-01","cadence_days":30}"#,
        "f f o/s f f f",
    ),
    (
        "POST",
        "/assignments",
        r#"{"household_id":"{fresh_household}","cadre_id":"u-cadre1","from_date":"2026-01-01","cadence_days":30}"#,
        "f f o/s f f f",
    ),
    (
        "POST",
        "/assignments/{assignment}/end",
        r#"{"to_date":"2026-12-31"}"#,
        "f f o/s f f f",
    ),
    ("GET", "/targets", "", "o o o o o f"),
    (
        "PUT",
        "/targets/{area}/2026",
        r#"{"poor_rate_pct":3.0,"near_poor_rate_pct":7.5}"#,
        "f f o/s f f f",
    ),
    ("GET", "/stats?area_id={area}", "", "o/s f o/s o/s o/o f"),
    ("GET", "/rule-sets", "", "o o o o o o"),
    ("GET", "/rule-sets/vn-2022-2025", "", "o o o o o o"),
    (
        "POST",
        "/rule-sets/vn-2027-2030/classify",
        r#"{"evidence":{"residence":"rural","income":{"kind":"b1","score":120},"deprivation":{"kind":"b2","score":30}}}"#,
        "o o o o o o",
    ),
    ("GET", "/audit?entity_id={household}", "", "f f o/s f f o/o"),
    (
        "POST",
        "/sync",
        r#"{"protocol":1,"cursor":0,"pushes":[],"held":{"count":0,"digest":"0"}}"#,
        "o o o o f f",
    ),
    (
        "GET",
        "/conflicts?household_id={household}",
        "",
        "f f o/s f f f",
    ),
    (
        "GET",
        "/quarantine?household_id={household}",
        "",
        "f f o/s f f f",
    ),
    (
        "POST",
        "/conflicts/{conflict}/resolve",
        r#"{"value":"Xóm Chín"}"#,
        "f f o/s f f f",
    ),
    (
        "POST",
        "/quarantine/{quarantined}/accept",
        "",
        "f f o/s f f f",
    ),
    (
        "POST",
        "/quarantine/{quarantined}/reject",
        "",
        "f f o/s f f f",
    ),
];

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// Fills a template for the in-scope (commune 1) or out-of-scope (commune 2) target,
/// creating the fresh records some endpoints consume.
async fn fill(store: &DynStore, template: &str, inside: bool) -> String {
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    let (commune, area, household, user, cadre) = if inside {
        ("c1", "v1", "h1", "u-vh1", "u-cadre1")
    } else {
        ("c2", "v3", "h3", "u-vh3", "u-cadre2")
    };
    let actor = Actor::system();
    let mut out = template
        .replace("{commune}", commune)
        .replace("{area_code}", &area.to_uppercase())
        .replace("{area}", area)
        .replace("{household_code}", if inside { "H-1" } else { "H-3" })
        .replace("{household}", household)
        .replace("{user}", user)
        .replace("{code}", &format!("x{n}"))
        .replace("{plan_item}", &format!("p-new-{n}"));
    if out.contains("{member}") {
        let id = format!("m-new-{n}");
        let record = shared::projection::member_json(&fixture::member_input("Thành viên"));
        tests::write::edit(store, household, serde_json::json!({}), |d, a| {
            d.put_record(Collection::Members, &id, &record, a)
        })
        .await
        .unwrap();
        out = out.replace("{member}", &id);
    }
    if out.contains("{support}") {
        let id = format!("s-new-{n}");
        let s = SupportAction {
            id: id.clone(),
            household_id: household.into(),
            status: SupportStatus::Planned,
            delivered_date: None,
            data: SupportInput {
                kind: SupportKind::HealthInsurance,
                project: Project::OtherPolicy,
                provider: "BHXH".into(),
                amount_vnd: None,
                quantity: Some(1),
                unit: "thẻ".into(),
                planned_date: "2026-10-01".parse().unwrap(),
                addresses_cause: None,
                addresses_indicator: None,
                note: String::new(),
            },
        };
        let record = shared::projection::support_json(&s);
        tests::write::edit(store, household, serde_json::json!({}), |d, a| {
            d.put_record(Collection::Support, &id, &record, a)
        })
        .await
        .unwrap();
        out = out.replace("{support}", &id);
    }
    if out.contains("{assignment}") {
        let id = format!("a-new-{n}");
        let a = Assignment {
            id: id.clone(),
            household_id: household.into(),
            cadre_id: cadre.into(),
            from_date: "2026-01-01".parse().unwrap(),
            to_date: None,
            cadence_days: 30,
        };
        store.create_assignment(&actor, &a).await.unwrap();
        out = out.replace("{assignment}", &id);
    }
    if out.contains("{fresh_household}") {
        let id = format!("h-new-{n}");
        store
            .import(
                &actor,
                &server::store::Import {
                    households: vec![fixture::household(
                        &id,
                        area,
                        &format!("HN-{n}"),
                        shared::household::HouseholdStatus::Poor,
                    )],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        out = out.replace("{fresh_household}", &id);
    }
    if out.contains("{quarantined}") {
        // A change with no dependencies: it applies to any document and changes nothing
        // the officer's copy would write.
        use automerge::transaction::Transactable;
        let mut d = automerge::AutoCommit::new();
        d.put(automerge::ROOT, "x", 1).unwrap();
        let actor = server::store::Actor {
            user_id: Some("u-cadre1".into()),
            device_id: Some(format!("phone-{n}")),
        };
        store
            .quarantine(
                &actor,
                household,
                "role",
                r#"{"vi":"x","en":"x"}"#,
                &d.save_after(&[]),
            )
            .await
            .unwrap();
        let id = store
            .list_quarantine(&[household.to_string()])
            .await
            .unwrap();
        let id = id
            .iter()
            .rfind(|q| q.device_id == format!("phone-{n}"))
            .unwrap()
            .id
            .clone();
        out = out.replace("{quarantined}", &id);
    }
    if out.contains("{conflict}") {
        out = out.replace("{conflict}", &open_conflict(store, household).await);
    }
    if out.contains("{device}") {
        let device = format!("lost-phone-{n}");
        store
            .create_session(user, &device, &format!("tok-{n}"), i64::MAX, 0)
            .await
            .unwrap();
        out = out.replace("{device}", &device);
    }
    out
}

/// Gives the household a document with an open conflict on its address.
async fn open_conflict(store: &DynStore, household: &str) -> String {
    use shared::doc::{Author, ConflictValue, FieldConflict};
    use shared::projection::{Records, to_doc};
    let author = Author {
        user_id: "u".into(),
        device_id: "d".into(),
        at_ms: 1,
        door: None,
    };
    let (mut doc, expected, old) = match store.docs().load_doc(household).await.unwrap() {
        Some(s) => (s.open(&author).unwrap(), Some(s.seq), s.change_heads()),
        None => {
            let records = Records {
                household: store.get_household(household).await.unwrap(),
                members: vec![],
                assessments: vec![],
                visits: vec![],
                support: vec![],
                plan: vec![],
                review_steps: vec![],
            };
            (to_doc(&[5; 16], &records, &author).unwrap(), None, vec![])
        }
    };
    let now = "2026-11-01T00:00:00.000Z";
    let records = shared::projection::project(household, &doc.to_json(), now).unwrap();
    let candidate = |v: &str| ConflictValue {
        value: Value::from(v),
        user_id: None,
        device_id: None,
        at_ms: 0,
        change: String::new(),
    };
    let write = server::store::DocWrite {
        doc_id: household.into(),
        expected_seq: expected,
        changes: doc.save_after(&old),
        compacted: None,
        heads: doc.heads().iter().map(|h| h.to_string()).collect(),
        records,
        conflicts: vec![FieldConflict {
            path: vec!["profile".into(), "address".into()],
            values: vec![candidate("Xóm 1"), candidate("Xóm 2")],
        }],
        audit: Value::Null,
        touched: None,
        actors: vec![],
    };
    store
        .docs()
        .commit_doc(&Actor::system(), &write)
        .await
        .unwrap();
    let open = store
        .list_conflicts(Some(&[household.to_string()]), true)
        .await
        .unwrap();
    open.last().unwrap().id.clone()
}

async fn send(
    srv: &TestServer,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, Value) {
    let mut req = srv
        .http
        .request(method.parse().unwrap(), srv.url(&format!("/api{path}")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if !body.is_empty() {
        req = req
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn verdict(status: u16, body: &Value) -> char {
    match (status, body["code"].as_str()) {
        (200..=299, _) => 'o',
        (403, Some("forbidden")) => 'f',
        (403, Some("out_of_scope")) => 's',
        _ => '?',
    }
}

async fn every_role_against_every_endpoint(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let store = db.store().await;
    fixture::load(&store).await;
    let srv = TestServer::start(store.clone(), None).await;
    let mut tokens = Vec::new();
    for (_, username) in ROLE_USERS {
        tokens.push(srv.login(username, &format!("{username}-phone")).await);
    }

    let mut failures = Vec::new();
    let mut checked = 0;
    for (method, path, body, expect) in MATRIX {
        let columns: Vec<&str> = expect.split_whitespace().collect();
        assert_eq!(
            columns.len(),
            ROLE_USERS.len(),
            "{method} {path}: one column per role"
        );
        for (i, (role, _)) in ROLE_USERS.iter().enumerate() {
            let wants: Vec<char> = columns[i]
                .split('/')
                .map(|s| s.chars().next().unwrap())
                .collect();
            let targets: &[bool] = if path.contains('{') || body.contains('{') {
                &[true, false]
            } else {
                &[true]
            };
            for (t, inside) in targets.iter().enumerate() {
                let want = *wants.get(t).unwrap_or(&wants[0]);
                let p = fill(&store, path, *inside).await;
                let bd = fill(&store, body, *inside).await;
                let (status, resp) = send(&srv, Some(&tokens[i]), method, &p, &bd).await;
                let got = verdict(status, &resp);
                checked += 1;
                if got != want {
                    failures.push(format!(
                        "{role:?} {method} {p} ({}) want {want} got {status} {resp}",
                        if *inside { "in scope" } else { "out of scope" }
                    ));
                }
            }
            // Without a token nothing but 401 comes back.
            let (status, resp) = send(
                &srv,
                None,
                method,
                &fill(&store, path, true).await,
                &fill(&store, body, true).await,
            )
            .await;
            if status != 401 || resp["code"] != "not_signed_in" {
                failures.push(format!("anonymous {method} {path}: {status} {resp}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // The matrix covers every route the API document lists (sign-in routes are public).
    let (_, doc) = send(&srv, None, "GET", "/openapi.json", "").await;
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let normalise = |p: &str| {
        let p = p.split('?').next().unwrap().to_string();
        p.split('/')
            .map(|seg| {
                if seg.starts_with('{') || seg == "2026" || seg.starts_with("vn-") {
                    "{}"
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    let covered: BTreeSet<String> = MATRIX
        .iter()
        .map(|(m, p, _, _)| format!("{m} {}", normalise(p)))
        .collect();
    let public = [
        "POST /auth/login",
        "POST /auth/refresh",
        "POST /auth/logout",
        // Proved by the refresh token of a session revoked for erasing (tests/api.rs).
        "POST /auth/erased",
    ];
    let missing: Vec<_> = documented
        .iter()
        .map(|d| {
            let (m, p) = d.split_once(' ').unwrap();
            format!("{m} {}", normalise(p))
        })
        .filter(|d| !covered.contains(d) && !public.contains(&d.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "endpoints missing from the matrix: {missing:?}"
    );
    db.cleanup().await;
}

on_both_backends!(every_role_against_every_endpoint);
