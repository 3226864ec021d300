use super::*;
use crate::core::memory::{MemoryStore, block_on};
use crate::core::{Hub, Scope, Writer};
use crate::doc::{Author, Collection, HouseholdDoc};
use crate::user::Role;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::Arc;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Device `i`'s user and phone; `t` orders the edits of a test.
fn author(i: usize, t: i64) -> Author {
    Author {
        user_id: format!("u{i}"),
        device_id: format!("u{i}-phone"),
        at_ms: now_ms() + t,
        door: None,
    }
}

/// The session of device `i`: a commune officer unless told otherwise.
fn writer(i: usize, role: Role) -> Writer {
    Writer {
        user_id: format!("u{i}"),
        device_id: format!("u{i}-phone"),
        role,
        now_ms: now_ms() + 10_000,
        decision: false,
        door: crate::doc::Door::Console,
    }
}

fn visit(i: usize, discussed: &str) -> Value {
    json!({"date": "2026-11-01", "discussed": discussed, "progress": "", "needs": "", "next_visit": null, "cadre_id": format!("u{i}")})
}

/// The write core's hub over memory, as the server runs it over a database.
struct Net {
    hub: Hub,
    store: MemoryStore,
}

impl Net {
    fn handle(&self, scope: &BTreeSet<String>, w: &Writer, req: &SyncRequest) -> SyncResponse {
        let scope = Scope {
            read: scope.clone(),
            push: scope.clone(),
            villages: None,
        };
        block_on(self.hub.sync(&self.store, w, scope, req)).expect("answered")
    }

    fn doc(&self, id: &str) -> HouseholdDoc {
        self.store.doc(id).expect("stored")
    }
}

fn hub_with(n: usize) -> (Net, BTreeSet<String>) {
    let net = Net {
        hub: Hub::new(Arc::new(crate::rules::RuleBook::built_in())),
        store: MemoryStore::default(),
    };
    let mut scope = BTreeSet::new();
    let server = Author {
        user_id: "server".into(),
        device_id: "server".into(),
        at_ms: now_ms(),
        door: None,
    };
    for i in 0..n {
        let id = format!("h{i:04}");
        let profile = json!({"code": format!("DV-{i}"), "village_id": "v1", "head_name": "Hoàng Văn Páo", "address": "Xóm 1", "residence": "rural", "status": "poor", "created_at": "2025-01-01T00:00:00.000Z"});
        let mut d = HouseholdDoc::new(&[0xAA; 16], &id, &server);
        d.update_profile(&profile, &server).unwrap();
        net.store.put(&id, d);
        scope.insert(id);
    }
    (net, scope)
}

/// Syncs until nothing moves; returns the number of round trips.
fn settle(net: &Net, scope: &BTreeSet<String>, dev: &mut Device, w: &Writer) -> usize {
    let mut last = None;
    for round in 1..=20 {
        let req = dev.request();
        let resp = net.handle(scope, w, &req);
        let quiet = req.pushes.is_empty()
            && resp.docs.is_empty()
            && !resp.more
            && resp.scope.is_none()
            && req.want.is_empty();
        dev.receive(&resp).unwrap();
        if quiet {
            return round;
        }
        last = Some((
            req.pushes.len(),
            resp.acks.len(),
            resp.refused.clone(),
            resp.docs.len(),
        ));
    }
    panic!("sync did not settle: {last:?}");
}

#[test]
fn a_fresh_pull_takes_one_round_trip_per_page_and_a_reconnect_is_one_small_request() {
    let (net, scope) = hub_with(1200);
    let w0 = writer(0, Role::CommuneOfficer);
    let mut dev = Device::new(&[1; 16]);
    let mut trips = 0;
    loop {
        trips += 1;
        let resp = net.handle(&scope, &w0, &dev.request());
        assert!(
            resp.docs.iter().all(|d| d.snapshot),
            "a device with nothing gets snapshots"
        );
        dev.receive(&resp).unwrap();
        if !resp.more {
            break;
        }
    }
    assert_eq!(trips, 3, "1,200 households in pages of 500");
    assert_eq!(dev.doc_ids().count(), 1200);
    // Reconnecting with nothing new: one request, nothing back.
    let req = dev.request();
    let size = serde_json::to_vec(&req).unwrap().len();
    assert!(size < 200, "no-op request is {size} bytes");
    let resp = net.handle(&scope, &w0, &req);
    assert!(resp.docs.is_empty() && resp.scope.is_none() && !resp.more);
}

#[test]
fn a_visit_is_pushed_acknowledged_and_reaches_another_device() {
    let (net, scope) = hub_with(5);
    let w0 = writer(0, Role::CommuneOfficer);
    let (mut a, mut b) = (Device::new(&[1; 16]), Device::new(&[2; 16]));
    settle(&net, &scope, &mut a, &w0);
    settle(&net, &scope, &mut b, &writer(1, Role::CommuneOfficer));
    a.doc_mut("h0002")
        .unwrap()
        .put_record(
            Collection::Visits,
            "visit-1",
            &visit(0, "Tiêm phòng cho bò"),
            &author(0, 10),
        )
        .unwrap();
    assert_eq!(a.pending(), 1);
    let req = a.request();
    assert_eq!(req.pushes.len(), 1, "only the changed household travels");
    let resp = net.handle(&scope, &w0, &req);
    assert_eq!(resp.acks.len(), 1);
    assert!(
        resp.docs.is_empty(),
        "the device is not sent its own change back"
    );
    a.receive(&resp).unwrap();
    assert_eq!(a.pending(), 0);
    settle(&net, &scope, &mut b, &writer(1, Role::CommuneOfficer));
    assert_eq!(
        b.doc("h0002").unwrap().to_json()["visits"]["visit-1"]["discussed"],
        "Tiêm phòng cho bò"
    );
}

#[test]
fn a_field_in_conflict_is_settled_on_the_phone_by_keeping_one_side() {
    let (net, scope) = hub_with(2);
    let (w0, w1) = (
        writer(0, Role::VillageHead),
        writer(1, Role::CommuneOfficer),
    );
    let (mut a, mut b) = (Device::new(&[1; 16]), Device::new(&[2; 16]));
    settle(&net, &scope, &mut a, &w0);
    settle(&net, &scope, &mut b, &w1);
    for (i, dev, w, value) in [
        (0, &mut a, &w0, "Thôn Nà Sài"),
        (1, &mut b, &w1, "Thôn Bản Mế"),
    ] {
        dev.doc_mut("h0001")
            .unwrap()
            .set_field(&["profile", "address"], &json!(value), &author(i, 5))
            .unwrap();
        let resp = net.handle(&scope, w, &dev.request());
        assert_eq!(resp.acks.len(), 1);
        dev.receive(&resp).unwrap();
    }
    settle(&net, &scope, &mut a, &w0);
    assert_eq!(a.doc_mut("h0001").unwrap().conflicts().unwrap().len(), 1);
    // The village head keeps the value the phone shows: automerge writes this as deleting
    // the other value, which the rules must take like any write of the field.
    let shown = a.doc("h0001").unwrap().to_json()["profile"]["address"].clone();
    a.doc_mut("h0001")
        .unwrap()
        .set_field(&["profile", "address"], &shown, &author(0, 6))
        .unwrap();
    let resp = net.handle(&scope, &w0, &a.request());
    assert!(resp.refused.is_empty(), "{:?}", resp.refused);
    assert_eq!(resp.acks.len(), 1);
    let mut stored = net.doc("h0001");
    assert!(stored.conflicts().unwrap().is_empty());
    assert_eq!(stored.to_json()["profile"]["address"], shown);
}

#[test]
fn a_refused_change_is_quarantined_and_the_device_told() {
    let (net, scope) = hub_with(2);
    let w0 = writer(0, Role::Cadre);
    let mut dev = Device::new(&[1; 16]);
    settle(&net, &scope, &mut dev, &w0);
    dev.doc_mut("h0001")
        .unwrap()
        .set_field(&["profile", "status"], &json!("not_poor"), &author(0, 5))
        .unwrap();
    let resp = net.handle(&scope, &w0, &dev.request());
    assert_eq!(resp.refused.len(), 1);
    assert_eq!(resp.refused[0].code, "role");
    dev.receive(&resp).unwrap();
    assert_eq!(
        net.store.quarantine().len(),
        1,
        "kept for the commune officer"
    );
    assert!(dev.refused[0].reason.vi.contains("Cán bộ kèm cặp"));
    assert_eq!(
        dev.doc("h0001").unwrap().to_json()["profile"]["status"],
        "poor",
        "the phone is back in step"
    );
    assert_eq!(
        dev.pending(),
        0,
        "and does not push the refused change forever"
    );
    assert_eq!(net.doc("h0001").to_json()["profile"]["status"], "poor");
}

#[test]
fn households_enter_and_leave_a_phone_with_its_scope() {
    let (net, mut scope) = hub_with(4);
    let w0 = writer(0, Role::CommuneOfficer);
    let all = scope.clone();
    scope.remove("h0003");
    let mut dev = Device::new(&[1; 16]);
    settle(&net, &scope, &mut dev, &w0);
    assert_eq!(dev.doc_ids().count(), 3);
    // An assignment starts: the household arrives on the next sync.
    let trips = settle(&net, &all, &mut dev, &w0);
    assert!(trips <= 3, "{trips} round trips");
    assert!(dev.doc("h0003").is_some());
    // An assignment ends while the cadre has an unsent visit: it is taken in, then leaves.
    dev.doc_mut("h0000")
        .unwrap()
        .put_record(
            Collection::Visits,
            "last",
            &visit(0, "Lần cuối"),
            &author(0, 9),
        )
        .unwrap();
    let mut fewer = all.clone();
    fewer.remove("h0000");
    // The server still takes changes for a household that just left (grace), so use the
    // old scope for the push and the new one after.
    let resp = net.handle(&all, &w0, &dev.request());
    dev.receive(&resp).unwrap();
    settle(&net, &fewer, &mut dev, &w0);
    assert!(dev.doc("h0000").is_none());
    assert!(net.doc("h0000").to_json()["visits"]["last"].is_object());
}

/// One step of the random schedule.
#[derive(Debug, Clone)]
enum Step {
    Edit {
        dev: usize,
        doc: usize,
        field: usize,
        value: u8,
    },
    Visit {
        dev: usize,
        doc: usize,
    },
    Sync {
        dev: usize,
        lose_request: bool,
        lose_response: bool,
        duplicate: bool,
        hold: bool,
    },
    Deliver {
        which: usize,
    },
    /// The phone app is closed and opened again: documents with nothing unsent come back
    /// undecoded.
    Reload {
        dev: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..3usize, 0..3usize, 0..2usize, any::<u8>()).prop_map(|(dev, doc, field, value)| Step::Edit { dev, doc, field, value }),
        2 => (0..3usize, 0..3usize).prop_map(|(dev, doc)| Step::Visit { dev, doc }),
        4 => (0..3usize, any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(dev, a, b, c, d)| Step::Sync { dev, lose_request: a && b, lose_response: b && c, duplicate: c, hold: d }),
        1 => (0..8usize).prop_map(|which| Step::Deliver { which }),
        1 => (0..3usize).prop_map(|dev| Step::Reload { dev }),
    ]
}

const FIELDS: [&str; 2] = ["head_name", "address"];

struct Write {
    doc: String,
    field: &'static str,
    value: Value,
    hash: ChangeHash,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Three phones edit offline and sync in random order over a network that loses,
    /// duplicates, delays and replays messages. In the end all copies are identical, no
    /// value is lost, and every set of concurrent writes to a field is one conflict.
    #[test]
    fn replicas_converge_without_losing_anything(steps in prop::collection::vec(step(), 1..60)) {
        let (net, scope) = hub_with(3);
        let ws: Vec<Writer> = (0..3).map(|i| writer(i, Role::CommuneOfficer)).collect();
        let mut devs: Vec<Device> = (0..3u8).map(|i| Device::new(&[i + 1; 16])).collect();
        for (i, d) in devs.iter_mut().enumerate() { settle(&net, &scope, d, &ws[i]); }
        let mut held: Vec<(usize, SyncResponse)> = Vec::new();
        let mut writes: Vec<Write> = Vec::new();
        let mut visits: Vec<(String, String)> = Vec::new();
        let mut t = 100;
        for s in steps {
            t += 1;
            match s {
                Step::Edit { dev, doc, field, value } => {
                    let id = format!("h{doc:04}");
                    let v = json!(format!("giá trị {value} từ máy {dev}"));
                    let d = devs[dev].doc_mut(&id).unwrap();
                    let before = d.automerge().get_last_local_change().map(|c| c.hash());
                    d.set_field(&["profile", FIELDS[field]], &v, &author(dev, t)).unwrap();
                    let hash = d.automerge().get_last_local_change().unwrap().hash();
                    // Writing the value a field already has makes no change: the last
                    // local change is then an earlier one (perhaps a visit), not a write.
                    if before != Some(hash) {
                        writes.push(Write { doc: id, field: FIELDS[field], value: v, hash });
                    }
                }
                Step::Visit { dev, doc } => {
                    let id = format!("h{doc:04}");
                    let vid = format!("visit-{t}");
                    devs[dev].doc_mut(&id).unwrap().put_record(Collection::Visits, &vid, &visit(dev, "Thăm hộ"), &author(dev, t)).unwrap();
                    visits.push((id, vid));
                }
                Step::Sync { dev, lose_request, lose_response, duplicate, hold } => {
                    let req = devs[dev].request();
                    if lose_request { continue; }
                    let resp = net.handle(&scope, &ws[dev], &req);
                    if duplicate { held.push((dev, net.handle(&scope, &ws[dev], &req))); }
                    if hold { held.push((dev, resp)); continue; }
                    if !lose_response { devs[dev].receive(&resp).unwrap(); }
                }
                Step::Reload { dev } => {
                    devs[dev] = reload(&mut devs[dev], &[dev as u8 + 1; 16]);
                }
                Step::Deliver { which } => {
                    if !held.is_empty() {
                        let (dev, resp) = held.remove(which % held.len());
                        devs[dev].receive(&resp).unwrap();
                    }
                }
            }
        }
        // Late, replayed messages arrive; then everyone syncs on a good connection.
        for (dev, resp) in held.drain(..) { devs[dev].receive(&resp).unwrap(); }
        for _ in 0..2 { for (i, d) in devs.iter_mut().enumerate() { settle(&net, &scope, d, &ws[i]); } }

        for id in &scope {
            let want = net.doc(id).to_json();
            for d in devs.iter_mut() {
                prop_assert_eq!(&d.doc(id).unwrap().to_json(), &want);
                prop_assert_eq!(d.pending(), 0);
            }
        }
        for (id, vid) in &visits {
            prop_assert!(net.doc(id).to_json()["visits"].get(vid).is_some(), "visit {vid} lost");
        }
        // The frontier of each field: writes no later write has seen.
        for id in &scope {
            let mut stored = net.doc(id);
            let hubdoc = &mut stored;
            let conflicts = hubdoc.conflicts().unwrap();
            for field in FIELDS {
                let ws: Vec<&Write> = writes.iter().filter(|w| &w.doc == id && w.field == field).collect();
                let mut frontier: Vec<Value> = Vec::new();
                for w in &ws {
                    let seen_later = ws.iter().any(|o| o.hash != w.hash && {
                        let outside: BTreeSet<ChangeHash> = hubdoc.automerge().get_changes(&[o.hash]).iter().map(|c| c.hash()).collect();
                        !outside.contains(&w.hash)
                    });
                    if !seen_later { frontier.push(w.value.clone()); }
                }
                frontier.sort_by_key(|v| v.to_string());
                let found: Vec<&FieldConflictRef> = conflicts.iter().filter(|c| c.path == ["profile", field]).collect();
                if frontier.len() > 1 {
                    prop_assert_eq!(found.len(), 1, "one conflict for {}.{}", id, field);
                    let mut got: Vec<Value> = found[0].values.iter().map(|v| v.value.clone()).collect();
                    got.sort_by_key(|v| v.to_string());
                    prop_assert_eq!(got, frontier);
                } else {
                    prop_assert!(found.is_empty());
                    if let Some(v) = frontier.first() {
                        prop_assert_eq!(&hubdoc.to_json()["profile"][field], v);
                    }
                }
            }
        }
    }
}

type FieldConflictRef = crate::doc::FieldConflict;

/// What the phone does on reload: save every document with its confirmed heads and the
/// device state, rebuild the device from them, decoding at once only the documents with
/// unsent changes.
fn reload(dev: &mut Device, actor: &[u8]) -> Device {
    let saved: SavedDevice =
        serde_json::from_str(&serde_json::to_string(&dev.saved()).unwrap()).unwrap();
    let mut out = Device::restore(actor, saved);
    let ids: Vec<String> = dev.doc_ids().cloned().collect();
    for id in ids {
        let synced = dev.synced(&id).unwrap();
        if dev.is_pending(&id) {
            let bytes = dev.doc_mut(&id).unwrap().save();
            let doc = HouseholdDoc::load(actor, &bytes, &author(9, 0)).unwrap();
            out.restore_doc(&id, doc, &synced);
        } else {
            let bytes = match dev.packed(&id) {
                Some(b) => b.to_vec(),
                None => dev.doc_mut(&id).unwrap().save(),
            };
            out.restore_packed(&id, bytes, &synced);
        }
    }
    out
}

#[test]
fn a_device_reloaded_with_unsent_changes_sends_them_and_nothing_more() {
    let (net, scope) = hub_with(3);
    let w0 = writer(0, Role::CommuneOfficer);
    let mut dev = Device::new(&[1; 16]);
    settle(&net, &scope, &mut dev, &w0);
    dev.doc_mut("h0001")
        .unwrap()
        .put_record(
            Collection::Visits,
            "v1",
            &visit(0, "Vốn vay"),
            &author(0, 10),
        )
        .unwrap();
    // A new actor for the reloaded store's own future changes.
    let mut dev = reload(&mut dev, &[3; 16]);
    assert_eq!(
        dev.pending(),
        1,
        "the unsent visit is still pending after reload"
    );
    let req = dev.request();
    assert_eq!(req.pushes.len(), 1);
    assert_eq!(req.cursor, dev.cursor());
    let resp = net.handle(&scope, &w0, &req);
    dev.receive(&resp).unwrap();
    assert_eq!(dev.pending(), 0);
    assert!(
        net.doc("h0001")
            .records(Collection::Visits)
            .contains_key("v1")
    );
    let mut dev = reload(&mut dev, &[4; 16]);
    assert!(
        dev.request().pushes.is_empty(),
        "confirmed heads survive the reload"
    );
}

#[test]
fn a_received_snapshot_stays_encoded_until_read_and_bad_bytes_are_fetched_again() {
    let (net, scope) = hub_with(3);
    let w0 = writer(0, Role::CommuneOfficer);
    let mut dev = Device::new(&[1; 16]);
    settle(&net, &scope, &mut dev, &w0);
    assert_eq!(dev.packed_ids().len(), 3, "the pull decoded nothing");
    assert_eq!(dev.pending(), 0);
    // Reading decodes one document, equal to the server's.
    assert_eq!(
        dev.doc("h0001").unwrap().to_json(),
        net.doc("h0001").to_json()
    );
    assert_eq!(dev.packed_ids(), vec!["h0000", "h0002"]);

    // A phone whose stored bytes of one household no longer decode.
    let mut broken = Device::restore(&[1; 16], dev.saved());
    for id in ["h0000", "h0001", "h0002"] {
        let synced = dev.synced(id).unwrap();
        let bytes = match (id, dev.packed(id)) {
            ("h0002", _) => vec![1, 2, 3],
            (_, Some(b)) => b.to_vec(),
            (_, None) => dev.doc_mut(id).unwrap().save(),
        };
        broken.restore_packed(id, bytes, &synced);
    }
    assert!(broken.doc("h0002").is_none(), "dropped, not a crash");
    assert_eq!(broken.request().want, vec!["h0002"]);
    settle(&net, &scope, &mut broken, &w0);
    assert_eq!(
        broken.doc("h0002").unwrap().to_json(),
        net.doc("h0002").to_json()
    );
}
