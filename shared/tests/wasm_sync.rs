//! The sync core running as WebAssembly in Chromium, as the field app runs it: household
//! documents made in the browser (its randomness and clock), offline edits on two
//! devices, every message through JSON as on the wire, convergence, one conflict for one
//! field, and the officer's decision reaching the device whose value lost.
//!
//! Run by `cargo xtask test` (the xtask as `wasm-bindgen-test-runner`) and Debian's
//! chromedriver.
#![cfg(target_arch = "wasm32")]

use serde_json::json;
use shared::core::memory::{MemoryStore, block_on};
use shared::core::{Hub, Scope, Writer};
use shared::doc::Collection;
use shared::doc::{Author, HouseholdDoc};
use shared::sync::{Device, SyncRequest, SyncResponse};
use shared::user::Role;
use std::collections::BTreeSet;
use std::sync::Arc;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn by(u: &str, d: &str) -> Author {
    Author {
        user_id: u.into(),
        device_id: d.into(),
        at_ms: now_ms(),
        door: None,
    }
}

/// The browser's clock, through chrono (its `wasmbind` feature).
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn officer(u: &str, d: &str, decision: bool) -> Writer {
    Writer {
        user_id: u.into(),
        device_id: d.into(),
        role: Role::CommuneOfficer,
        now_ms: now_ms(),
        decision,
        door: shared::doc::Door::Console,
    }
}

/// The write core over memory, as the server runs it over a database.
struct Net {
    hub: Hub,
    store: MemoryStore,
    scope: BTreeSet<String>,
}

/// One exchange with every message serialised to JSON and back, as over HTTP.
fn exchange(net: &Net, w: &Writer, dev: &mut Device) -> SyncResponse {
    let wire = serde_json::to_string(&dev.request()).unwrap();
    let req: SyncRequest = serde_json::from_str(&wire).unwrap();
    let scope = Scope {
        read: net.scope.clone(),
        push: net.scope.clone(),
        villages: None,
    };
    let resp = block_on(net.hub.sync(&net.store, w, scope, &req)).unwrap();
    let wire = serde_json::to_string(&resp).unwrap();
    let resp: SyncResponse = serde_json::from_str(&wire).unwrap();
    dev.receive(&resp).unwrap();
    resp
}

fn settle(net: &Net, w: &Writer, dev: &mut Device) {
    for _ in 0..10 {
        let resp = exchange(net, w, dev);
        if resp.docs.is_empty() && resp.acks.is_empty() && !resp.more && resp.scope.is_none() {
            return;
        }
    }
    panic!("sync did not settle");
}

fn profile(code: &str) -> serde_json::Value {
    json!({"code": code, "village_id": "v1", "head_name": "Hoàng Văn Páo", "address": "Xóm 1", "residence": "rural", "status": "poor", "created_at": "2025-01-01T00:00:00.000Z"})
}

fn net() -> Net {
    let store = MemoryStore::default();
    let mut scope = BTreeSet::new();
    for i in 0..30 {
        let id = format!("h{i}");
        let mut doc = HouseholdDoc::new(&[0xAA; 16], &id, &by("server", "server"));
        doc.update_profile(&profile(&format!("DV-01-{i:04}")), &by("server", "server"))
            .unwrap();
        store.put(&id, doc);
        scope.insert(id);
    }
    Net {
        hub: Hub::new(Arc::new(shared::rules::RuleBook::built_in())),
        store,
        scope,
    }
}

#[wasm_bindgen_test]
fn two_offline_devices_converge_in_the_browser() {
    let mut net = net();
    let (wa, wb) = (
        officer("u-a", "phone-a", false),
        officer("u-b", "phone-b", false),
    );
    let (mut a, mut b) = (Device::new(&[1; 16]), Device::new(&[2; 16]));
    settle(&net, &wa, &mut a);
    settle(&net, &wb, &mut b);
    assert_eq!(a.doc_ids().count(), 30);

    // Offline: each logs a visit to the same household and renames its head.
    for (dev, user, device, name) in [
        (&mut a, "u-a", "phone-a", "Hoàng Thị Mai"),
        (&mut b, "u-b", "phone-b", "Hoàng Văn Sình"),
    ] {
        let doc = dev.doc_mut("h3").unwrap();
        doc.put_record(
            Collection::Visits,
            &format!("visit-{device}"),
            &json!({"date": "2026-11-20", "discussed": "Chăm sóc bò", "progress": "", "needs": "", "next_visit": null, "cadre_id": user}),
            &by(user, device),
        )
        .unwrap();
        doc.set_field(&["profile", "head_name"], &json!(name), &by(user, device))
            .unwrap();
    }
    // A new household made on the phone in the browser.
    // A household registered on a phone is not reviewed yet: only a decision lists it.
    let mut fresh = HouseholdDoc::new(&[1; 16], "h-new", &by("u-a", "phone-a"));
    let mut registered = profile("DV-01-9999");
    registered["status"] = json!("not_reviewed");
    fresh
        .update_profile(&registered, &by("u-a", "phone-a"))
        .unwrap();
    a.create("h-new", fresh);
    assert_eq!(a.pending(), 2);

    net.scope.insert("h-new".into());
    settle(&net, &wa, &mut a);
    settle(&net, &wb, &mut b);
    settle(&net, &wa, &mut a);
    assert_eq!(a.pending(), 0);
    assert_eq!(b.pending(), 0);

    let (ja, jb) = (
        a.doc("h3").unwrap().to_json(),
        b.doc("h3").unwrap().to_json(),
    );
    assert_eq!(ja, jb, "both devices show the same");
    assert_eq!(ja["visits"].as_object().unwrap().len(), 2, "no visit lost");
    assert_eq!(
        b.doc("h-new").unwrap().to_json()["profile"]["code"],
        "DV-01-9999"
    );

    // One conflict for the one field written on both, with both authors.
    let conflicts = a.doc_mut("h3").unwrap().conflicts().unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].path, ["profile", "head_name"]);
    let devices: BTreeSet<_> = conflicts[0]
        .values
        .iter()
        .map(|v| v.device_id.clone().unwrap())
        .collect();
    assert_eq!(
        devices,
        BTreeSet::from(["phone-a".into(), "phone-b".into()])
    );

    // The decision reaches both; only phone-b is told its value was replaced.
    let decision = officer("u-officer", "laptop", true);
    block_on(net.hub.edit(
        &net.store,
        &decision,
        None,
        "h3",
        json!({}),
        |doc, author| doc.resolve_conflict("c-1", &conflicts[0], &json!("Hoàng Thị Mai"), author),
    ))
    .unwrap();
    settle(&net, &wa, &mut a);
    settle(&net, &wb, &mut b);
    assert!(b.doc_mut("h3").unwrap().conflicts().unwrap().is_empty());
    assert_eq!(
        b.doc("h3").unwrap().to_json()["profile"]["head_name"],
        "Hoàng Thị Mai"
    );
    assert!(a.overridden("phone-a").is_empty());
    let told = b.overridden("phone-b");
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].1.yours, "Hoàng Văn Sình");
}
