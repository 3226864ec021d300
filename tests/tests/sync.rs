//! Household documents syncing over the real HTTP endpoint, on SQLite and PostgreSQL:
//! scope per role, pushes acknowledged after commit and projected into the read model,
//! refusals quarantined, concurrent edits surfaced as conflicts and resolved, REST writes
//! reaching phones, and two server processes sharing one database.

use serde_json::{Value, json};
use shared::doc::Author;
use shared::doc::Collection;
use shared::sync::{Device, SyncResponse};
use tests::{Backend, TestDb, TestServer, fixture, on_both_backends};

fn by(u: &str) -> Author {
    Author {
        user_id: u.into(),
        // The device the test signs the user in on: the gate binds changes to it.
        device_id: format!("{}-phone", u.strip_prefix("u-").unwrap_or(u)),
        at_ms: chrono::Utc::now().timestamp_millis(),
        door: None,
    }
}

async fn get(srv: &TestServer, token: &str, path: &str) -> Value {
    srv.http
        .get(srv.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn setup(b: Backend) -> Option<(TestDb, TestServer)> {
    let db = TestDb::open(b).await?;
    let store = db.store().await;
    fixture::load(&store).await;
    Some((db, TestServer::start(store, None).await))
}

async fn a_cadre_syncs_assigned_households_and_logs_a_visit(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let token = srv.login("cadre1", "cadre1-phone").await;
    let mut phone = Device::new(&[1; 16]);
    let first = srv.exchange(&token, &mut phone).await;
    // The snapshot carries the household's list row, so the phone lists it undecoded.
    let row = first.docs[0]
        .summary
        .as_ref()
        .expect("a snapshot's list row");
    assert_eq!((row.id.as_str(), row.code.as_str()), ("h1", "H-1"));
    assert_eq!(phone.packed_ids(), ["h1"], "kept encoded until read");
    srv.settle(&token, &mut phone, 10).await;
    assert_eq!(
        phone.doc_ids().cloned().collect::<Vec<_>>(),
        ["h1"],
        "only the assigned household"
    );
    assert_eq!(phone.doc("h1").unwrap().to_json()["profile"]["code"], "H-1");

    phone.doc_mut("h1").unwrap().put_record(Collection::Visits, "visit-1", &json!({"date": "2026-11-20", "discussed": "Hướng dẫn làm chuồng bò", "progress": "", "needs": "", "next_visit": "2026-12-20", "cadre_id": "u-cadre1"}), &by("u-cadre1")).unwrap();
    let resp = srv.exchange(&token, &mut phone).await;
    assert_eq!(resp.acks.len(), 1);
    assert_eq!(phone.pending(), 0);
    // Committed into the read model with the visit, and audited with the device.
    let officer = srv.login("officer1", "laptop").await;
    let detail = get(&srv, &officer, "/api/households/h1").await;
    assert_eq!(detail["visits"][0]["discussed"], "Hướng dẫn làm chuồng bò");
    let audit = get(&srv, &officer, "/api/audit?entity_id=h1").await;
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["device_id"] == "cadre1-phone" && e["action"] == "sync")
    );

    // Reconnecting with nothing new is one small exchange.
    let req = phone.request();
    assert!(serde_json::to_vec(&req).unwrap().len() < 200);
    assert_eq!(srv.settle(&token, &mut phone, 10).await, 1);
    db.assert_counts_agree().await;
    db.cleanup().await;
}

async fn a_forbidden_change_is_refused_and_quarantined(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let token = srv.login("cadre1", "cadre1-phone").await;
    let mut phone = Device::new(&[1; 16]);
    srv.settle(&token, &mut phone, 10).await;
    phone
        .doc_mut("h1")
        .unwrap()
        .set_field(&["profile", "status"], &json!("not_poor"), &by("u-cadre1"))
        .unwrap();
    let resp = srv.exchange(&token, &mut phone).await;
    assert_eq!(resp.refused.len(), 1);
    assert!(resp.refused[0].reason.vi.contains("Cán bộ kèm cặp"));
    assert_eq!(
        phone.doc("h1").unwrap().to_json()["profile"]["status"],
        "poor",
        "the phone is back in step"
    );
    assert_eq!(phone.pending(), 0);
    let officer = srv.login("officer1", "laptop").await;
    assert_eq!(
        get(&srv, &officer, "/api/households/h1").await["household"]["status"],
        "poor"
    );
    let audit = get(&srv, &officer, "/api/audit?entity_id=h1").await;
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "quarantine"),
        "kept for review"
    );
    db.assert_counts_agree().await;
    db.cleanup().await;
}

/// A village head registers a household on the phone: it is taken in its village, stays
/// on the phone, and a household registered outside the village head's area is refused.
async fn a_household_registered_on_a_phone_is_taken_in_its_village_only(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let token = srv.login("vh1", "vh1-phone").await;
    let mut phone = Device::new(&[1; 16]);
    srv.settle(&token, &mut phone, 10).await;
    let profile = |village: &str, code: &str| {
        json!({"code": code, "village_id": village, "address": "Thôn Khuổi Hẩu", "head_name": "Triệu Văn Minh",
               "residence": "rural", "priority": {}, "causes": [], "status": "not_poor", "created_at": "2026-11-22T08:00:00Z"})
    };
    for (id, village, code) in [("new-in-v1", "v1", "H-NEW"), ("new-in-v3", "v3", "H-FAR")] {
        let mut doc = shared::doc::HouseholdDoc::new(&[1; 16], id, &by("u-vh1"));
        doc.put_all(&profile(village, code), std::iter::empty(), &by("u-vh1"))
            .unwrap();
        phone.create(id, doc);
    }
    let resp = srv.exchange(&token, &mut phone).await;
    assert_eq!(
        resp.acks
            .iter()
            .map(|a| a.doc_id.as_str())
            .collect::<Vec<_>>(),
        ["new-in-v1"],
        "{:?}",
        resp.refused
    );
    assert_eq!(resp.refused.len(), 1);
    assert_eq!(resp.refused[0].doc_id, "new-in-v3");
    assert!(
        resp.refused[0].reason.vi.contains("ngoài địa bàn"),
        "{:?}",
        resp.refused[0].reason
    );
    srv.settle(&token, &mut phone, 10).await;
    assert!(
        phone.doc("new-in-v1").is_some(),
        "the registered household stays on the phone"
    );
    assert_eq!(phone.pending(), 0);
    let officer = srv.login("officer1", "laptop").await;
    let detail = get(&srv, &officer, "/api/households/new-in-v1").await;
    assert_eq!(detail["household"]["code"], "H-NEW");
    assert_eq!(
        get(&srv, &officer, "/api/households/new-in-v3").await["code"],
        "not_found"
    );

    // The commune officer's own phone cannot register a household straight onto a list:
    // an official status comes only from a decision (or the commune's dated opening list).
    let mut office_phone = Device::new(&[9; 16]);
    srv.settle(&officer, &mut office_phone, 10).await;
    let mut listed = profile("v1", "H-LISTED");
    listed["status"] = json!("poor");
    let by_officer = Author {
        user_id: "u-officer1".into(),
        device_id: "laptop".into(),
        at_ms: chrono::Utc::now().timestamp_millis(),
        door: None,
    };
    let mut doc = shared::doc::HouseholdDoc::new(&[9; 16], "listed-by-phone", &by_officer);
    doc.put_all(&listed, std::iter::empty(), &by_officer)
        .unwrap();
    office_phone.create("listed-by-phone", doc);
    let resp = srv.exchange(&officer, &mut office_phone).await;
    assert!(
        resp.acks.iter().all(|a| a.doc_id != "listed-by-phone"),
        "{resp:?}"
    );
    assert!(
        resp.refused
            .iter()
            .any(|r| r.doc_id == "listed-by-phone" && r.code == "derived"),
        "{:?}",
        resp.refused
    );
    db.assert_counts_agree().await;
    db.cleanup().await;
}

async fn concurrent_edits_become_one_conflict_that_the_officer_resolves(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let (vh, officer) = (
        srv.login("vh1", "vh1-phone").await,
        srv.login("officer1", "officer1-phone").await,
    );
    let (mut p1, mut p2) = (Device::new(&[1; 16]), Device::new(&[2; 16]));
    srv.settle(&vh, &mut p1, 10).await;
    srv.settle(&officer, &mut p2, 10).await;
    p1.doc_mut("h2")
        .unwrap()
        .set_field(
            &["profile", "head_name"],
            &json!("Lò Văn Pản"),
            &by("u-vh1"),
        )
        .unwrap();
    p2.doc_mut("h2")
        .unwrap()
        .set_field(
            &["profile", "head_name"],
            &json!("Lò Thị Pản"),
            &by("u-officer1"),
        )
        .unwrap();
    srv.settle(&vh, &mut p1, 10).await;
    srv.settle(&officer, &mut p2, 10).await;
    srv.settle(&vh, &mut p1, 10).await;
    assert_eq!(
        p1.doc("h2").unwrap().to_json(),
        p2.doc("h2").unwrap().to_json(),
        "both phones show the same"
    );

    let queue = get(&srv, &officer, "/api/conflicts?household_id=h2").await;
    let queue = queue.as_array().unwrap();
    assert_eq!(queue.len(), 1, "{queue:?}");
    assert_eq!(queue[0]["path"], json!(["profile", "head_name"]));
    let mut who: Vec<String> = queue[0]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {}",
                c["user_id"].as_str().unwrap(),
                c["device_id"].as_str().unwrap(),
                c["value"].as_str().unwrap()
            )
        })
        .collect();
    who.sort();
    assert_eq!(
        who,
        [
            "u-officer1 officer1-phone Lò Thị Pản",
            "u-vh1 vh1-phone Lò Văn Pản"
        ]
    );
    assert_eq!(
        get(
            &srv,
            &officer,
            "/api/conflicts?field=head_name&min_age_days=0"
        )
        .await
        .as_array()
        .unwrap()
        .len(),
        1
    );

    let id = queue[0]["id"].as_str().unwrap();
    let r = srv
        .http
        .post(srv.url(&format!("/api/conflicts/{id}/resolve")))
        .bearer_auth(&officer)
        .json(&json!({"value": "Lò Văn Pản"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["resolved_by"], "u-officer1");
    assert!(
        get(&srv, &officer, "/api/conflicts")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    srv.settle(&vh, &mut p1, 10).await;
    srv.settle(&officer, &mut p2, 10).await;
    for p in [&mut p1, &mut p2] {
        let d = p.doc_mut("h2").unwrap();
        assert!(d.conflicts().unwrap().is_empty());
        assert_eq!(d.to_json()["profile"]["head_name"], "Lò Văn Pản");
    }
    // The phone whose value lost learns it; the one whose value was kept does not.
    assert!(p1.overridden("vh1-phone").is_empty());
    let told = p2.overridden("officer1-phone");
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].0, "h2");
    assert_eq!(told[0].1.conflict_id, id);
    assert_eq!(told[0].1.yours, "Lò Thị Pản");
    assert_eq!(told[0].1.decided, "Lò Văn Pản");
    assert_eq!(told[0].1.resolved_by, "u-officer1");
    // The queue keeps the decided value, who decided, and who wrote each value, by name.
    let decided = get(&srv, &officer, "/api/conflicts?household_id=h2&all=true").await;
    assert_eq!(decided[0]["resolution"], "Lò Văn Pản");
    assert_eq!(decided[0]["resolved_by_name"], "Người dùng officer1");
    let writers: Vec<&str> = decided[0]["writers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["user_name"].as_str().unwrap())
        .collect();
    assert_eq!(writers.len(), 2, "{writers:?}");
    assert!(writers.contains(&"Người dùng vh1"), "{writers:?}");
    // For a few minutes the officer may change the decision (the console's undo), as a new
    // decision; afterwards it stands.
    let resolve = |value: &'static str| {
        srv.http
            .post(srv.url(&format!("/api/conflicts/{id}/resolve")))
            .bearer_auth(&officer)
            .json(&json!({ "value": value }))
            .send()
    };
    let again = resolve("Lò Thị Pản").await.unwrap();
    assert_eq!(again.status(), 200);
    let changed: Value = again.json().await.unwrap();
    assert_eq!(changed["resolution"], "Lò Thị Pản");
    srv.settle(&vh, &mut p1, 10).await;
    assert_eq!(
        p1.doc_mut("h2").unwrap().to_json()["profile"]["head_name"],
        "Lò Thị Pản"
    );
    let long_ago = chrono::Utc::now().timestamp_millis() - 11 * 60 * 1000;
    db.store()
        .await
        .record_decision(id, &json!("Lò Thị Pản"), "u-officer1", long_ago)
        .await
        .unwrap();
    let late = resolve("x").await.unwrap();
    assert_eq!(late.status(), 409);
    db.assert_counts_agree().await;
    db.cleanup().await;
}

async fn rest_writes_reach_phones_and_scope_changes_move_households(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let cadre = srv.login("cadre1", "cadre1-phone").await;
    let officer = srv.login("officer1", "laptop").await;
    let mut phone = Device::new(&[1; 16]);
    srv.settle(&cadre, &mut phone, 10).await;
    // The officer edits the profile through the API; the phone receives it.
    let r = srv.http.put(srv.url("/api/households/h1")).bearer_auth(&officer).json(&json!({"code": "H-1", "village_id": "v1", "address": "Xóm Mới", "head_name": "Chủ hộ H-1", "residence": "rural"})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    srv.settle(&cadre, &mut phone, 10).await;
    assert_eq!(
        phone.doc("h1").unwrap().to_json()["profile"]["address"],
        "Xóm Mới"
    );
    // A new assignment brings h2 to the phone on the next sync.
    let r = srv.http.post(srv.url("/api/assignments")).bearer_auth(&officer).json(&json!({"household_id": "h2", "cadre_id": "u-cadre1", "from_date": "2026-01-01", "cadence_days": 30})).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let trips = srv.settle(&cadre, &mut phone, 10).await;
    assert!(trips <= 3, "{trips} requests");
    assert!(phone.doc("h2").is_some());
    db.assert_counts_agree().await;
    db.cleanup().await;
}

async fn two_server_processes_lose_no_change(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let s1 = db.store().await;
    fixture::load(&s1).await;
    let (a, bsrv) = (
        TestServer::start(s1, None).await,
        TestServer::start(db.store().await, None).await,
    );
    let (ta, tb) = (
        a.login("vh1", "vh1-phone").await,
        bsrv.login("officer1", "officer1-phone").await,
    );
    let (mut pa, mut pb) = (Device::new(&[1; 16]), Device::new(&[2; 16]));
    a.settle(&ta, &mut pa, 10).await;
    bsrv.settle(&tb, &mut pb, 10).await;
    for i in 0..5 {
        pa.doc_mut("h1")
            .unwrap()
            .put_record(
                Collection::Members,
                &format!("ma{i}"),
                &serde_json::to_value(fixture::member_input(&format!("Thành viên A{i}"))).unwrap(),
                &by("u-vh1"),
            )
            .unwrap();
        pb.doc_mut("h1").unwrap().put_record(Collection::Visits, &format!("vb{i}"), &json!({"date": "2026-11-01", "discussed": format!("Lần {i}"), "progress": "", "needs": "", "next_visit": null, "cadre_id": "u-officer1"}), &by("u-officer1")).unwrap();
        let (ra, rb) = tokio::join!(
            a.http
                .post(a.url("/api/sync"))
                .bearer_auth(&ta)
                .json(&pa.request())
                .send(),
            bsrv.http
                .post(bsrv.url("/api/sync"))
                .bearer_auth(&tb)
                .json(&pb.request())
                .send(),
        );
        pa.receive(&ra.unwrap().json().await.unwrap()).unwrap();
        pb.receive(&rb.unwrap().json().await.unwrap()).unwrap();
    }
    // A process answers which documents changed from its own index and reads the
    // database again at least once a second (`server::write::seqs::FRESH`): the other
    // process's last writes reach its devices after that.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    a.settle(&ta, &mut pa, 10).await;
    bsrv.settle(&tb, &mut pb, 10).await;
    a.settle(&ta, &mut pa, 10).await;
    let j = pa.doc("h1").unwrap().to_json();
    assert_eq!(j, pb.doc("h1").unwrap().to_json());
    assert_eq!(j["members"].as_object().unwrap().len(), 6, "1 + 5 members");
    assert_eq!(j["visits"].as_object().unwrap().len(), 5);
    let detail = get(&a, &tb, "/api/households/h1").await;
    assert_eq!(detail["visits"].as_array().unwrap().len(), 5);
    assert_eq!(detail["members"].as_array().unwrap().len(), 6);
    db.assert_counts_agree().await;
    db.cleanup().await;
}

async fn sync_bodies_travel_compressed(b: Backend) {
    use std::io::Write;
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let token = srv.login("officer1", "laptop").await;
    let req = Device::new(&[1; 16]).request();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&serde_json::to_vec(&req).unwrap()).unwrap();
    let r = srv
        .http
        .post(srv.url("/api/sync"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .header("accept-encoding", "br")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "br");
    let raw = r.bytes().await.unwrap();
    let mut plain = Vec::new();
    brotli_decompress(&raw, &mut plain);
    let resp: SyncResponse = serde_json::from_slice(&plain).unwrap();
    assert_eq!(resp.docs.len(), 2, "the commune's two households");
    // What a phone's Chrome accepts: zstd, the cheapest for the server of the three.
    let r = srv
        .http
        .post(srv.url("/api/sync"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .header("accept-encoding", "gzip, deflate, br, zstd")
        .body(serde_json::to_vec(&req).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "zstd");
    let raw = r.bytes().await.unwrap();
    let plain = zstd::decode_all(&raw[..]).unwrap();
    let again: SyncResponse = serde_json::from_slice(&plain).unwrap();
    assert_eq!(again.docs, resp.docs, "the same answer, however it travels");
    db.assert_counts_agree().await;
    db.cleanup().await;
}

/// A push takes the decoded household out of the server's cache instead of copying it:
/// while it holds it, a pull still reads the stored document; given back unchanged, the
/// next push finds it; dropped (a refused push), the next push decodes it again.
async fn a_household_held_by_a_push_is_still_read_and_comes_back(b: Backend) {
    use shared::core::hub::Storage;
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let cadre = srv.login("cadre1", "cadre1-phone").await;
    let mut phone = Device::new(&[1; 16]);
    srv.settle(&cadre, &mut phone, 10).await;
    let storage = server::write::DbStorage::new(db.store().await);
    let held = storage
        .load("h1")
        .await
        .unwrap()
        .expect("h1 has a document");
    let mut doc = held.doc;
    let heads = doc.heads();
    assert!(!heads.is_empty());
    let read = storage.read("h1", None, |d| d.heads()).await.unwrap();
    assert_eq!(read, Some(heads.clone()), "read while a push holds it");
    storage.give_back("h1", held.seq, doc);
    let mut again = storage.load("h1").await.unwrap().unwrap();
    assert_eq!((again.seq, again.doc.heads()), (held.seq, heads.clone()));
    drop(again);
    let mut decoded = storage.load("h1").await.unwrap().unwrap();
    assert_eq!((decoded.seq, decoded.doc.heads()), (held.seq, heads));
    db.assert_counts_agree().await;
    db.cleanup().await;
}

/// A phone's push is answered with what other phones wrote to the same household since its
/// last sync, and without the phone's own change, which it holds: on a slow line a phone
/// should not download its own visit again.
async fn a_push_brings_back_the_other_phones_writes_but_not_its_own(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let (ta, tb) = (
        srv.login("cadre1", "cadre1-phone").await,
        srv.login("cadre1", "cadre1-tablet").await,
    );
    let (mut a, mut tablet) = (Device::new(&[1; 16]), Device::new(&[2; 16]));
    srv.settle(&ta, &mut a, 10).await;
    srv.settle(&tb, &mut tablet, 10).await;
    let visit = |discussed: &str| json!({"date": "2026-11-20", "discussed": discussed, "progress": "", "needs": "", "next_visit": null, "cadre_id": "u-cadre1"});
    let on_tablet = Author {
        device_id: "cadre1-tablet".into(),
        ..by("u-cadre1")
    };
    // The tablet writes, then the phone writes and syncs; twice, so the second round
    // starts from a household both have written.
    for round in 0..2 {
        let (vb, va) = (format!("tablet-{round}"), format!("phone-{round}"));
        tablet
            .doc_mut("h1")
            .unwrap()
            .put_record(
                Collection::Visits,
                &vb,
                &visit("Trên máy tính bảng"),
                &on_tablet,
            )
            .unwrap();
        assert_eq!(srv.exchange(&tb, &mut tablet).await.acks.len(), 1);
        a.doc_mut("h1")
            .unwrap()
            .put_record(
                Collection::Visits,
                &va,
                &visit("Trên điện thoại"),
                &by("u-cadre1"),
            )
            .unwrap();
        let own: Vec<automerge::ChangeHash> = a.doc_mut("h1").unwrap().heads();
        let resp = srv.exchange(&ta, &mut a).await;
        assert_eq!(resp.acks.len(), 1, "round {round}");
        let update = resp
            .docs
            .iter()
            .find(|u| u.doc_id == "h1")
            .expect("the tablet's visit comes back");
        assert!(!update.snapshot, "only what the phone lacks, round {round}");
        let changes =
            shared::core::limits::decode_changes(&update.bytes, &shared::core::Limits::DEFAULT)
                .unwrap();
        assert_eq!(changes.len(), 1, "the tablet's change alone, round {round}");
        assert!(
            !own.contains(&changes[0].hash()),
            "not the phone's own change"
        );
        let records = a.doc("h1").unwrap().records(Collection::Visits);
        assert!(
            records.contains_key(&vb) && records.contains_key(&va),
            "round {round}"
        );
        assert_eq!(a.pending(), 0);
    }
    db.assert_counts_agree().await;
    db.cleanup().await;
}

fn brotli_decompress(input: &[u8], out: &mut Vec<u8>) {
    let mut r = brotli::Decompressor::new(input, 4096);
    std::io::Read::read_to_end(&mut r, out).unwrap();
}

on_both_backends!(
    sync_bodies_travel_compressed,
    a_cadre_syncs_assigned_households_and_logs_a_visit,
    a_forbidden_change_is_refused_and_quarantined,
    a_household_registered_on_a_phone_is_taken_in_its_village_only,
    concurrent_edits_become_one_conflict_that_the_officer_resolves,
    rest_writes_reach_phones_and_scope_changes_move_households,
    two_server_processes_lose_no_change,
    a_household_held_by_a_push_is_still_read_and_comes_back,
    a_push_brings_back_the_other_phones_writes_but_not_its_own,
);
