//! The sync endpoint against a hostile phone, on SQLite and PostgreSQL. Each test is an
//! attack written from the protocol (docs/sync-protocol.md) with automerge's own API:
//! what a signed-in user with a modified app could send. Every one must be refused with a
//! reason and a stable code, change nothing it may not change, and leave the server up.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ObjType, ROOT, ReadDoc};
use base64::Engine;
use serde_json::{Value, json};
use shared::sync::{Device, Held, PROTOCOL, SyncResponse};
use tests::{Backend, TestDb, TestServer, fixture, on_both_backends};

async fn setup(b: Backend) -> Option<(TestDb, TestServer)> {
    let db = TestDb::open(b).await?;
    let store = db.store().await;
    fixture::load(&store).await;
    Some((db, TestServer::start(store, None).await))
}

async fn post(srv: &TestServer, token: &str, body: &Value) -> (u16, Value) {
    let r = srv
        .http
        .post(srv.url("/api/sync"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// One push of raw change bytes, as a hand-written client sends it.
fn request(doc_id: &str, bytes: &[u8]) -> Value {
    json!({
        "protocol": PROTOCOL,
        "cursor": 0,
        "pushes": [{
            "doc_id": doc_id,
            "heads": [],
            "changes": base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes),
        }],
        "held": Held::default(),
    })
}

/// Pushes `bytes` and returns the refusal code (or `"taken"`), checking the answer's shape.
async fn push(srv: &TestServer, token: &str, doc_id: &str, bytes: &[u8]) -> String {
    let (status, v) = post(srv, token, &request(doc_id, bytes)).await;
    assert_eq!(status, 200, "{v}");
    let resp: SyncResponse = serde_json::from_value(v).unwrap();
    if let Some(r) = resp.refused.iter().find(|r| r.doc_id == doc_id) {
        assert!(!r.reason.vi.is_empty() && !r.reason.en.is_empty());
        assert!(!r.code.is_empty());
        return r.code.clone();
    }
    assert!(
        resp.acks.iter().any(|a| a.doc_id == doc_id),
        "neither taken nor refused"
    );
    "taken".into()
}

/// The household's document as the server holds it, pulled by `token`'s user.
async fn pull(srv: &TestServer, token: &str, id: &str) -> AutoCommit {
    let mut dev = Device::new(&[9; 16]);
    for _ in 0..10 {
        let (status, v) = post(srv, token, &serde_json::to_value(dev.request()).unwrap()).await;
        assert_eq!(status, 200);
        let resp: SyncResponse = serde_json::from_value(v).unwrap();
        dev.receive(&resp).unwrap();
        if !resp.more {
            break;
        }
    }
    dev.doc_mut(id).expect("pulled").automerge().clone()
}

fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Commits what `edit` wrote, signed `user`/`device` at `at_s` seconds, as actor `actor`;
/// returns the new change bytes.
fn commit(
    doc: &mut AutoCommit,
    actor: u8,
    user: &str,
    device: &str,
    at_s: i64,
    edit: impl FnOnce(&mut AutoCommit),
) -> Vec<u8> {
    let heads = doc.get_heads();
    doc.set_actor(ActorId::from(vec![actor; 16]));
    edit(doc);
    doc.commit_with(
        CommitOptions::default()
            .with_message(json!({"u": user, "d": device}).to_string())
            .with_time(at_s),
    );
    doc.save_after(&heads)
}

fn map(doc: &AutoCommit, key: &str) -> automerge::ObjId {
    doc.get(ROOT, key).unwrap().unwrap().1
}

async fn household(srv: &TestServer, token: &str, id: &str) -> Value {
    let r = srv
        .http
        .get(srv.url(&format!("/api/households/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    r.json().await.unwrap()
}

/// Deep nesting, sent by a read-only role and by a writing role: refused, server up.
async fn deeply_nested_maps_are_refused_and_the_server_stays_up(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let officer = srv.login("officer1", "o-phone").await;
    let leader = srv.login("leader1", "l-phone").await;
    let mut doc = pull(&srv, &officer, "h1").await;
    let bytes = commit(&mut doc, 1, "u-officer1", "o-phone", now_s(), |d| {
        let profile = map(d, "profile");
        let mut obj = d.put_object(&profile, "x", ObjType::Map).unwrap();
        for _ in 0..4_000 {
            obj = d.put_object(&obj, "x", ObjType::Map).unwrap();
        }
    });
    assert_eq!(push(&srv, &officer, "h1", &bytes).await, "schema");
    let mut doc = pull(&srv, &officer, "h1").await;
    let leader_bytes = commit(&mut doc, 2, "u-leader1", "l-phone", now_s(), |d| {
        let mut obj = map(d, "members");
        for _ in 0..4_000 {
            obj = d.put_object(&obj, "m", ObjType::Map).unwrap();
        }
    });
    assert_eq!(push(&srv, &leader, "h1", &leader_bytes).await, "role");
    // Deeper than the operation limit: refused before automerge decodes it.
    let mut doc = pull(&srv, &officer, "h1").await;
    let deep = commit(&mut doc, 3, "u-officer1", "o-phone", now_s(), |d| {
        let mut obj = map(d, "members");
        for _ in 0..20_000 {
            obj = d.put_object(&obj, "m", ObjType::Map).unwrap();
        }
    });
    assert_eq!(push(&srv, &officer, "h1", &deep).await, "limit");
    assert_eq!(
        household(&srv, &officer, "h1").await["household"]["code"],
        "H-1"
    );
    db.cleanup().await;
}

/// A compressed change chunk (automerge inflates those without a limit) is refused.
async fn compressed_chunks_are_refused(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let officer = srv.login("officer1", "o-phone").await;
    let mut doc = pull(&srv, &officer, "h1").await;
    commit(&mut doc, 1, "u-officer1", "o-phone", now_s(), |d| {
        let profile = map(d, "profile");
        d.put(&profile, "address", "Xóm ".repeat(3_000)).unwrap();
    });
    let mut change = doc.get_last_local_change().unwrap().clone();
    let compressed = change.bytes().into_owned();
    assert_eq!(compressed[8], 2, "a compressed chunk");
    assert_eq!(push(&srv, &officer, "h1", &compressed).await, "chunk_kind");
    db.cleanup().await;
}

/// A cadre may not change the schema version or add keys of its own.
async fn schema_version_and_unknown_keys_are_refused(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let cadre = srv.login("cadre1", "c-phone").await;
    let mut doc = pull(&srv, &cadre, "h1").await;
    let bytes = commit(&mut doc, 1, "u-cadre1", "c-phone", now_s(), |d| {
        d.put(ROOT, "schema_version", 2).unwrap();
    });
    assert_eq!(push(&srv, &cadre, "h1", &bytes).await, "schema");
    let mut doc = pull(&srv, &cadre, "h1").await;
    let bytes = commit(&mut doc, 1, "u-cadre1", "c-phone", now_s(), |d| {
        d.put(ROOT, "blob", "x".repeat(10_000)).unwrap();
    });
    assert_eq!(push(&srv, &cadre, "h1", &bytes).await, "schema");
    // Still readable by everyone.
    let officer = srv.login("officer1", "o-phone").await;
    let again = pull(&srv, &officer, "h1").await;
    assert!(again.get(ROOT, "blob").unwrap().is_none());
    db.cleanup().await;
}

/// A yearly review of 2026-10-01 (it decides 2027, so the 2027–2030 standard applies);
/// `classification` forges the result, `None` keeps the rule engine's.
fn review(id: &str, household_id: &str, classification: Option<&str>) -> Value {
    let rules = shared::rules::RuleBook::built_in();
    let rs = shared::review::rule_set_for(
        &rules,
        shared::assessment::ReviewKind::Annual,
        "2026-10-01".parse().unwrap(),
    )
    .unwrap();
    let evidence = shared::rules::Evidence {
        residence: shared::household::Residence::Rural,
        income: shared::rules::IncomeEvidence::Income {
            per_person_month: 2_900_000,
        },
        deprivation: shared::rules::DeprivationEvidence::Indicators { deprived: vec![] },
    };
    let outcome = shared::rules::classify(rs, &evidence).unwrap();
    json!({
        "id": id, "household_id": household_id, "kind": "annual", "date": "2026-10-01",
        "evidence": evidence,
        "classification": classification.unwrap_or(outcome.classification.as_str()),
        "explanation": outcome.explanation,
    })
}

fn put_review(d: &mut AutoCommit, key: &str, review: &Value, status: Option<&str>) {
    let coll = map(d, "assessments");
    let rec = d.put_object(&coll, key, ObjType::Map).unwrap();
    d.put(&rec, "json", review.to_string()).unwrap();
    if let Some(s) = status {
        let profile = map(d, "profile");
        d.put(&profile, "status", s).unwrap();
    }
}

/// A village head's review is judged by the rule engine: a classification the evidence
/// does not give, or a review planted in another household, are refused; and a review
/// alone never changes the household's status (only the commune's decision does).
async fn a_review_is_classified_by_the_server_and_stays_in_its_household(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let vh = srv.login("vh1", "vh-phone").await;
    let officer = srv.login("officer1", "o-phone").await;
    let cases = [
        ("r1", review("r1", "h1", Some("poor")), None, "derived"),
        (
            "r2",
            review("r2", "h1", None),
            Some("newly_escaped"),
            "derived",
        ),
        ("r3", review("r3", "h3", None), None, "invalid_record"),
        ("r4", review("r5", "h1", None), None, "invalid_record"),
        ("r6", review("r6", "h1", None), Some("average"), "derived"),
    ];
    for (key, r, status, code) in cases {
        let mut doc = pull(&srv, &vh, "h1").await;
        let bytes = commit(&mut doc, 1, "u-vh1", "vh-phone", now_s(), |d| {
            put_review(d, key, &r, status)
        });
        assert_eq!(push(&srv, &vh, "h1", &bytes).await, code, "{key}");
    }
    // The honest review is taken; the official status waits for the commune's decision.
    let mut doc = pull(&srv, &vh, "h1").await;
    let r = review("r7", "h1", None);
    let bytes = commit(&mut doc, 1, "u-vh1", "vh-phone", now_s(), |d| {
        put_review(d, "r7", &r, None)
    });
    assert_eq!(push(&srv, &vh, "h1", &bytes).await, "taken");
    assert_eq!(
        household(&srv, &officer, "h1").await["household"]["status"],
        "poor"
    );
    db.cleanup().await;
}

fn put_step(d: &mut AutoCommit, id: &str, by: &str, data: Value, status: Option<&str>) {
    let step = json!({"id": id, "household_id": "h1", "review_id": "r7", "date": "2026-10-02", "by": by, "data": data});
    let coll = map(d, "review_steps");
    let rec = d.put_object(&coll, id, ObjType::Map).unwrap();
    d.put(&rec, "kind", data_kind(&step)).unwrap();
    d.put(&rec, "date", "2026-10-02").unwrap();
    d.put(&rec, "json", step.to_string()).unwrap();
    if let Some(s) = status {
        let profile = map(d, "profile");
        d.put(&profile, "status", s).unwrap();
    }
}

fn data_kind(step: &Value) -> String {
    step["data"]["kind"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A village head's phone forging the commune's decision through sync: steps in another
/// user's name, a decision with the status it would set, a meeting below half — the same
/// gate as the console's door refuses them all; honest steps are taken.
async fn a_phone_cannot_decide_a_review(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let vh = srv.login("vh1", "vh-phone").await;
    let officer = srv.login("officer1", "o-phone").await;
    let send = |key: &'static str, by: &'static str, data: Value, status: Option<&'static str>| {
        let (srv, vh) = (&srv, &vh);
        async move {
            let mut doc = pull(srv, vh, "h1").await;
            let bytes = commit(&mut doc, 1, "u-vh1", "vh-phone", now_s(), |d| {
                put_step(d, key, by, data.clone(), status)
            });
            push(srv, vh, "h1", &bytes).await
        }
    };
    let mut doc = pull(&srv, &vh, "h1").await;
    let r = review("r7", "h1", None);
    let bytes = commit(&mut doc, 1, "u-vh1", "vh-phone", now_s(), |d| {
        put_review(d, "r7", &r, None)
    });
    assert_eq!(push(&srv, &vh, "h1", &bytes).await, "taken");
    let meeting = json!({"kind": "meeting", "attendees": 30, "agreed": 25});
    assert_eq!(
        send("s0", "u-officer1", meeting.clone(), None).await,
        "author"
    );
    assert_eq!(send("s1", "u-vh1", meeting, None).await, "taken");
    let posted = json!({"kind": "posted", "until": "2026-10-09"});
    assert_eq!(send("s2", "u-vh1", posted, None).await, "taken");
    let decision = json!({"kind": "decision", "number": "1/QĐ", "approved": true, "from": "poor", "to": "newly_escaped"});
    assert_eq!(
        send("s3", "u-vh1", decision.clone(), Some("newly_escaped")).await,
        "role"
    );
    assert_eq!(send("s4", "u-vh1", decision, None).await, "role");
    assert_eq!(
        send(
            "s5",
            "u-vh1",
            json!({"kind": "meeting", "attendees": 30, "agreed": 31}),
            None
        )
        .await,
        "invalid_record"
    );
    assert_eq!(
        household(&srv, &officer, "h1").await["household"]["status"],
        "poor"
    );
    db.cleanup().await;
}

/// A cadre reusing another household's support id, writing as another cadre, with a
/// forged device, a far-off clock, or a value it may not write that loses a conflict.
async fn what_the_phone_declares_is_not_believed(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let officer = srv.login("officer1", "o-phone").await;
    let cadre = srv.login("cadre1", "c-phone").await;
    // The officer records support in h2 (not the cadre's).
    let r = srv
        .http
        .post(srv.url("/api/households/h2/support"))
        .bearer_auth(&officer)
        .json(&json!({"kind": "loan", "project": "other_policy", "provider": "NHCSXH", "amount_vnd": 30000000, "quantity": null, "unit": "", "planned_date": "2026-10-01", "addresses_cause": null, "addresses_indicator": null, "note": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let taken: Value = r.json().await.unwrap();
    let support_id = taken["id"].as_str().unwrap().to_string();
    let support = |d: &mut AutoCommit, id: &str, status: &str| {
        let coll = map(d, "support");
        let rec = d.put_object(&coll, id, ObjType::Map).unwrap();
        for (k, v) in [
            ("kind", "loan"),
            ("project", "other_policy"),
            ("provider", "X"),
            ("unit", ""),
            ("planned_date", "2026-11-01"),
            ("note", ""),
            ("status", status),
        ] {
            d.put(&rec, k, v).unwrap();
        }
        for k in [
            "amount_vnd",
            "quantity",
            "addresses_cause",
            "addresses_indicator",
            "delivered_date",
        ] {
            d.put(&rec, k, automerge::ScalarValue::Null).unwrap();
        }
    };
    let mut doc = pull(&srv, &cadre, "h1").await;
    let bytes = commit(&mut doc, 1, "u-cadre1", "c-phone", now_s(), |d| {
        support(d, &support_id, "planned")
    });
    assert_eq!(push(&srv, &cadre, "h1", &bytes).await, "ownership");
    let h2 = household(&srv, &officer, "h2").await;
    assert_eq!(
        h2["support"][0]["provider"], "NHCSXH",
        "h2's record untouched"
    );

    let visit = |d: &mut AutoCommit, id: &str, date: &str, cadre_id: &str| {
        let coll = map(d, "visits");
        let rec = d.put_object(&coll, id, ObjType::Map).unwrap();
        for (k, v) in [
            ("date", date),
            ("discussed", "Hỏi thăm"),
            ("progress", ""),
            ("needs", ""),
            ("cadre_id", cadre_id),
        ] {
            d.put(&rec, k, v).unwrap();
        }
        d.put(&rec, "next_visit", automerge::ScalarValue::Null)
            .unwrap();
    };
    let attempts: [(&str, &str, i64, &str, &str, &str); 5] = [
        (
            "u-cadre1",
            "other-phone",
            now_s(),
            "2026-11-01",
            "u-cadre1",
            "author",
        ),
        (
            "u-officer1",
            "c-phone",
            now_s(),
            "2026-11-01",
            "u-cadre1",
            "author",
        ),
        (
            "u-cadre1",
            "c-phone",
            now_s() + 5 * 365 * 86_400,
            "2026-11-01",
            "u-cadre1",
            "clock",
        ),
        (
            "u-cadre1",
            "c-phone",
            now_s(),
            "2099-01-01",
            "u-cadre1",
            "invalid_record",
        ),
        (
            "u-cadre1",
            "c-phone",
            now_s(),
            "2026-11-01",
            "u-officer1",
            "author",
        ),
    ];
    for (i, (user, device, at, date, cadre_id, code)) in attempts.into_iter().enumerate() {
        let mut doc = pull(&srv, &cadre, "h1").await;
        let bytes = commit(&mut doc, 1, user, device, at, |d| {
            visit(d, &format!("v{i}"), date, cadre_id)
        });
        assert_eq!(push(&srv, &cadre, "h1", &bytes).await, code, "attempt {i}");
    }
    // A visit of h2 (recorded through the write core), its id reused in h1 by the cadre.
    let other = shared::visit::Visit {
        id: "v-of-h2".into(),
        household_id: "h2".into(),
        cadre_id: "u-cadre2".into(),
        data: shared::visit::VisitInput {
            date: chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
            discussed: "Hỏi thăm".into(),
            progress: String::new(),
            needs: String::new(),
            next_visit: None,
        },
    };
    let record = shared::projection::visit_json(&other);
    tests::write::edit(&srv.store, "h2", json!({}), |d, a| {
        d.put_record(shared::doc::Collection::Visits, &other.id, &record, a)
    })
    .await
    .unwrap();
    let mut doc = pull(&srv, &cadre, "h1").await;
    let bytes = commit(&mut doc, 1, "u-cadre1", "c-phone", now_s(), |d| {
        visit(d, "v-of-h2", "2026-11-01", "u-cadre1")
    });
    assert_eq!(push(&srv, &cadre, "h1", &bytes).await, "ownership");
    assert_eq!(srv.store.list_visits("h2").await.unwrap(), vec![other]);
    assert!(
        household(&srv, &officer, "h1").await["visits"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // A value the cadre may not write, made to lose against the officer's concurrent one:
    // still refused, and never a conflict candidate.
    let mut base = pull(&srv, &cadre, "h1").await;
    let mut officers = base.fork();
    let losing = commit(&mut base, 1, "u-cadre1", "c-phone", now_s(), |d| {
        let p = map(d, "profile");
        d.put(&p, "head_name", "Tên giả").unwrap();
    });
    let winning = commit(&mut officers, 0xff, "u-officer1", "o-phone", now_s(), |d| {
        let p = map(d, "profile");
        d.put(&p, "head_name", "Lò Văn Thật").unwrap();
    });
    assert_eq!(push(&srv, &officer, "h1", &winning).await, "taken");
    assert_eq!(push(&srv, &cadre, "h1", &losing).await, "role");
    let conflicts = srv
        .http
        .get(srv.url("/api/conflicts"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert!(conflicts.as_array().unwrap().is_empty(), "{conflicts}");
    db.cleanup().await;
}

/// A device that writes with another device's automerge actor id is refused; the owner
/// of that actor id goes on syncing.
async fn an_actor_id_belongs_to_the_device_that_first_used_it(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let officer = srv.login("officer1", "o-phone").await;
    let vh = srv.login("vh1", "vh-phone").await;
    let mut doc = pull(&srv, &officer, "h1").await;
    let mine = commit(&mut doc, 7, "u-officer1", "o-phone", now_s(), |d| {
        let p = map(d, "profile");
        d.put(&p, "address", "Xóm Trên").unwrap();
    });
    assert_eq!(push(&srv, &officer, "h1", &mine).await, "taken");
    let mut doc = pull(&srv, &vh, "h1").await;
    let stolen = commit(&mut doc, 7, "u-vh1", "vh-phone", now_s(), |d| {
        let p = map(d, "profile");
        d.put(&p, "address", "Xóm Dưới").unwrap();
    });
    assert_eq!(push(&srv, &vh, "h1", &stolen).await, "actor");
    let mut doc = pull(&srv, &officer, "h1").await;
    let next = commit(&mut doc, 7, "u-officer1", "o-phone", now_s(), |d| {
        let p = map(d, "profile");
        d.put(&p, "address", "Xóm Giữa").unwrap();
    });
    assert_eq!(push(&srv, &officer, "h1", &next).await, "taken");
    db.cleanup().await;
}

/// After a cadre's assignment ends, a push built on a change the server lacks gets nothing
/// of the household back.
async fn the_resend_path_sends_nothing_out_of_scope(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let officer = srv.login("officer1", "o-phone").await;
    let cadre = srv.login("cadre1", "c-phone").await;
    let mut doc = pull(&srv, &cadre, "h1").await;
    let r = srv
        .http
        .post(srv.url("/api/assignments/a1/end"))
        .bearer_auth(&officer)
        .json(&json!({"to_date": (chrono::Utc::now().date_naive() - chrono::Duration::days(1)).to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A change whose dependency the server never saw.
    let mut other = doc.fork();
    commit(&mut other, 3, "u-cadre1", "c-phone", now_s(), |d| {
        let p = map(d, "plan");
        d.put(&p, "x", 1).unwrap();
    });
    doc.merge(&mut other).unwrap();
    let missing_dep = commit(&mut other, 4, "u-cadre1", "c-phone", now_s(), |d| {
        let v = map(d, "visits");
        d.put_object(&v, "v1", ObjType::Map).unwrap();
    });
    let (status, v) = post(&srv, &cadre, &request("h1", &missing_dep)).await;
    assert_eq!(status, 200);
    let resp: SyncResponse = serde_json::from_value(v).unwrap();
    assert!(
        resp.docs.iter().all(|d| d.doc_id != "h1"),
        "nothing of h1 sent back"
    );
    db.cleanup().await;
}

/// Limits per request, and read-only roles refused before anything is loaded.
async fn requests_are_bounded(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let officer = srv.login("officer1", "o-phone").await;
    let pushes: Vec<Value> = (0..201)
        .map(|i| json!({"doc_id": format!("x{i}"), "heads": [], "changes": "hW9KgwAAAAA"}))
        .collect();
    let (status, body) = post(
        &srv,
        &officer,
        &json!({"protocol": PROTOCOL, "cursor": 0, "pushes": pushes, "held": Held::default()}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "sync_limit");
    assert!(body["message"]["vi"].as_str().unwrap().contains("200"));
    let huge = vec![0u8; 300 * 1024];
    assert_eq!(push(&srv, &officer, "h1", &huge).await, "limit");
    assert_eq!(
        push(&srv, &officer, "h1", b"not automerge").await,
        "malformed"
    );
    let province = srv.login("province", "p-phone").await;
    let (status, _) = post(&srv, &province, &request("h1", b"x")).await;
    assert_eq!(status, 403, "the province has no sync at all");
    db.cleanup().await;
}

/// A household registered on a phone with a code another household has is refused with
/// the reason, not left unsent forever; the same code in another letter case, with spaces
/// around it or with its accents typed decomposed is the same code.
async fn a_duplicate_household_code_is_refused_with_its_reason(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let vh = srv.login("vh1", "vh-phone").await;
    for (n, code) in ["H-1", "h-1", " H-1 "].into_iter().enumerate() {
        let id = format!("h-new-{n}");
        assert_eq!(
            push(&srv, &vh, &id, &registration(&id, code, n as u8)).await,
            "duplicate_code",
            "{code:?}"
        );
    }
    // A code with an accent, first composed, then decomposed (NFD) and upper-cased.
    assert_eq!(
        push(&srv, &vh, "h-acc", &registration("h-acc", "Đồi-7", 7)).await,
        "taken"
    );
    assert_eq!(
        push(
            &srv,
            &vh,
            "h-acc2",
            &registration("h-acc2", "ĐO\u{302}\u{300}I-7", 8)
        )
        .await,
        "duplicate_code"
    );
    // The phone's registration is in the ledger, recorded by the village head, and in the
    // household's history as the phone's change, the device named, not its id.
    let h = history(&srv, "h-acc").await;
    let moves = h["movements"].as_array().unwrap().clone();
    assert_eq!(moves.len(), 1, "{moves:?}");
    assert_eq!(
        (
            moves[0]["basis"]["kind"].as_str(),
            moves[0]["to"].as_str(),
            moves[0]["by"].as_str()
        ),
        (Some("registration"), Some("not_reviewed"), Some("u-vh1"))
    );
    let entry = &h["history"]["entries"][0];
    assert_eq!(
        (entry["door"].as_str(), entry["user_id"].as_str()),
        (Some("phone"), Some("u-vh1"))
    );
    assert_eq!(
        entry["device_name"],
        "Máy 1 của Người dùng vh1 / device 1 of Người dùng vh1"
    );
    assert!(
        entry["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["vi"] == "Mã hộ: — → Đồi-7"),
        "{entry}"
    );
    // Households stored before the ledger (a database never filled) get the same
    // movements from their records.
    db.execute("DELETE FROM movements").await;
    db.execute("DELETE FROM ledger_filled").await;
    let again = TestServer::start(db.store().await, None).await;
    let rebuilt = history(&again, "h-acc").await;
    let strip = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["id"].clone(),
                    m["from"].clone(),
                    m["to"].clone(),
                    m["date"].clone(),
                    m["basis"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&rebuilt["movements"]), strip(&Value::Array(moves)));
    db.cleanup().await;
}

/// A household's history and ledger as the commune officer reads them.
async fn history(srv: &TestServer, id: &str) -> Value {
    let officer = srv.login("officer1", "laptop-1").await;
    let r = srv
        .http
        .get(srv.url(&format!("/api/households/{id}/history")))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// A new household's document as a village head's phone registers it.
fn registration(id: &str, code: &str, actor: u8) -> Vec<u8> {
    let author = shared::doc::Author {
        user_id: "u-vh1".into(),
        device_id: "vh-phone".into(),
        at_ms: chrono::Utc::now().timestamp_millis(),
        door: None,
    };
    let mut doc = shared::doc::HouseholdDoc::new(&[actor + 20; 16], id, &author);
    doc.put_all(
        &json!({"code": code, "village_id": "v1", "address": "Xóm 3", "head_name": "Lý Văn Tâm", "residence": "rural", "priority": {"ethnic_minority": true, "meritorious": false, "woman_headed": false, "member_with_disability": false, "elderly_only": false}, "causes": [], "status": "not_reviewed", "created_at": "2026-11-01T00:00:00.000Z"}),
        std::iter::empty(),
        &author,
    )
    .unwrap();
    doc.save_after(&[])
}

/// Impossible values are refused: a member born in the future, a negative income, a B1
/// score beyond its scale.
async fn impossible_values_are_refused(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let vh = srv.login("vh1", "vh-phone").await;
    let mut doc = pull(&srv, &vh, "h1").await;
    let bytes = commit(&mut doc, 1, "u-vh1", "vh-phone", now_s(), |d| {
        let m = map(d, "members");
        let rec = d.get(&m, "m-h1").unwrap().unwrap().1;
        d.put(&rec, "birth_year", 2099).unwrap();
    });
    assert_eq!(push(&srv, &vh, "h1", &bytes).await, "invalid_record");
    for income in [
        json!({"kind": "income", "per_person_month": -5}),
        json!({"kind": "b1", "score": 5000}),
    ] {
        let mut r = review("r9", "h1", Some("poor"));
        r["evidence"]["income"] = income;
        let mut doc = pull(&srv, &vh, "h1").await;
        let bytes = commit(&mut doc, 1, "u-vh1", "vh-phone", now_s(), |d| {
            put_review(d, "r9", &r, None)
        });
        assert_eq!(push(&srv, &vh, "h1", &bytes).await, "invalid_record");
    }
    db.cleanup().await;
}

/// A commune-wide phone pulling in pages while households change between pages receives
/// every household whole and decodes all of them.
async fn a_paged_pull_delivers_every_household_whole(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let store = db.store().await;
    fixture::load(&store).await;
    let srv = TestServer::start_paged(store, None, 1).await;
    let officer = srv.login("officer1", "o-phone").await;
    // The first pull creates the documents (h1, then h2); then h1 changes.
    let mut doc = pull(&srv, &officer, "h1").await;
    let edit = commit(&mut doc, 1, "u-officer1", "o-phone", now_s(), |d| {
        let p = map(d, "profile");
        d.put(&p, "address", "Xóm Mới").unwrap();
    });
    assert_eq!(push(&srv, &officer, "h1", &edit).await, "taken");
    let laptop = srv.login("officer1", "laptop").await;
    let mut fresh = Device::new(&[8; 16]);
    for _ in 0..10 {
        let (status, v) = post(
            &srv,
            &laptop,
            &serde_json::to_value(fresh.request()).unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        let resp: SyncResponse = serde_json::from_value(v).unwrap();
        fresh.receive(&resp).unwrap();
        if !resp.more && resp.docs.is_empty() && fresh.request().want.is_empty() {
            break;
        }
    }
    let mut ids: Vec<String> = fresh.doc_ids().cloned().collect();
    ids.sort();
    assert_eq!(ids, ["h1", "h2"]);
    assert_eq!(
        fresh.doc("h1").unwrap().to_json()["profile"]["address"],
        "Xóm Mới"
    );
    assert!(fresh.doc("h2").is_some());
    db.cleanup().await;
}

/// Refused changes wait in quarantine until the commune officer accepts them (written
/// again in the officer's name, through the same gate) or rejects them.
async fn quarantined_changes_are_accepted_or_rejected_by_the_officer(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let cadre = srv.login("cadre1", "c-phone").await;
    let officer = srv.login("officer1", "o-phone").await;
    for (field, value) in [("head_name", "Lò Văn Đúng"), ("address", "Xóm Sai")] {
        let mut doc = pull(&srv, &cadre, "h1").await;
        let bytes = commit(&mut doc, 1, "u-cadre1", "c-phone", now_s(), |d| {
            let p = map(d, "profile");
            d.put(&p, field, value).unwrap();
        });
        assert_eq!(push(&srv, &cadre, "h1", &bytes).await, "role");
    }
    let call = |method: &'static str, path: String, token: String| {
        let srv = &srv;
        async move {
            let r = match method {
                "GET" => srv.http.get(srv.url(&path)),
                _ => srv.http.post(srv.url(&path)),
            }
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, list) = call(
        "GET",
        "/api/quarantine?household_id=h1".into(),
        officer.clone(),
    )
    .await;
    assert_eq!(status, 200);
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert!(
        list.iter()
            .all(|q| q["code"] == "role" && q["decision"].is_null())
    );
    let (first, second) = (
        list[0]["id"].as_str().unwrap(),
        list[1]["id"].as_str().unwrap(),
    );

    let (status, _) = call(
        "POST",
        format!("/api/quarantine/{first}/accept"),
        cadre.clone(),
    )
    .await;
    assert_eq!(status, 403, "only the commune decides");
    let (status, done) = call(
        "POST",
        format!("/api/quarantine/{first}/accept"),
        officer.clone(),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["decision"], "accepted");
    assert_eq!(done["decided_by"], "u-officer1");
    let h1 = household(&srv, &officer, "h1").await;
    assert_eq!(h1["household"]["head_name"], "Lò Văn Đúng");
    let (status, again) = call(
        "POST",
        format!("/api/quarantine/{first}/accept"),
        officer.clone(),
    )
    .await;
    assert_eq!(
        (status, again["code"].as_str()),
        (409, Some("already_decided"))
    );

    let (status, done) = call(
        "POST",
        format!("/api/quarantine/{second}/reject"),
        officer.clone(),
    )
    .await;
    assert_eq!((status, done["decision"].as_str()), (200, Some("rejected")));
    assert_ne!(
        household(&srv, &officer, "h1").await["household"]["address"],
        "Xóm Sai"
    );
    // The accepted value reaches the cadre's phone in the officer's name.
    let doc = pull(&srv, &cadre, "h1").await;
    let p = map(&doc, "profile");
    let (value, _) = doc.get(&p, "head_name").unwrap().unwrap();
    assert_eq!(value.to_string(), "\"Lò Văn Đúng\"");
    db.cleanup().await;
}

on_both_backends!(
    quarantined_changes_are_accepted_or_rejected_by_the_officer,
    deeply_nested_maps_are_refused_and_the_server_stays_up,
    compressed_chunks_are_refused,
    schema_version_and_unknown_keys_are_refused,
    a_review_is_classified_by_the_server_and_stays_in_its_household,
    a_phone_cannot_decide_a_review,
    what_the_phone_declares_is_not_believed,
    an_actor_id_belongs_to_the_device_that_first_used_it,
    the_resend_path_sends_nothing_out_of_scope,
    requests_are_bounded,
    a_duplicate_household_code_is_refused_with_its_reason,
    impossible_values_are_refused,
    a_paged_pull_delivers_every_household_whole,
);
