//! Proof that the wire carries real automerge: a client written with the official
//! JavaScript package (`tests/js/interop.mjs`, npm `@automerge/automerge`) follows
//! `docs/sync-protocol.md`, pulls the households in its scope, logs a visit and pushes it;
//! the server merges it into the document and the read model, and a Rust phone receives it.

use serde_json::Value;
use shared::sync::Device;
use std::path::PathBuf;
use tests::{Backend, TestDb, TestServer, fixture, on_both_backends};

/// The JavaScript client, once `npm ci` has installed its package (`cargo xtask test` does).
fn js_client() -> Option<PathBuf> {
    // At run time (cargo sets it), so a test binary reused from a cache built in another
    // checkout still looks in this one.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let dir = manifest.join("js");
    if dir.join("node_modules/@automerge/automerge").exists() {
        return Some(dir.join("interop.mjs"));
    }
    if std::env::var("DONGHANH_REQUIRE_JS").is_ok_and(|v| v == "1") {
        panic!("DONGHANH_REQUIRE_JS=1 but tests/js has no node_modules (npm ci)");
    }
    eprintln!("tests/js is not installed (run through `cargo xtask test`); skipping");
    None
}

async fn a_javascript_automerge_client_syncs_a_visit(b: Backend) {
    let Some(script) = js_client() else {
        return;
    };
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let store = db.store().await;
    fixture::load(&store).await;
    let srv = TestServer::start(store, None).await;

    let out = tokio::process::Command::new("node")
        .arg(&script)
        .arg(format!("http://{}", srv.addr))
        .args(["cadre1", fixture::PASSWORD, "h1", "visit-from-js"])
        .output()
        .await
        .expect("node runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the JavaScript client failed: {stderr}"
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    // It read the document the Rust server wrote, in the cadre's scope only.
    assert_eq!(seen["households"], 1, "{seen}");
    assert_eq!(seen["code"], "H-1");
    // Its change was committed and acknowledged, not refused.
    assert_eq!(seen["acked"], serde_json::json!(["h1"]), "{seen}");
    assert_eq!(seen["refused"], serde_json::json!([]));
    // Reconnecting with nothing new brought nothing back.
    assert_eq!(seen["noop_docs"], 0, "{seen}");

    // The visit is in the read model, written by the cadre from that device.
    let officer = srv.login("officer1", "laptop").await;
    let detail: Value = srv
        .http
        .get(srv.url("/api/households/h1"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let visit = detail["visits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "visit-from-js")
        .unwrap_or_else(|| panic!("visit missing: {detail}"));
    assert_eq!(
        visit["discussed"],
        "Ghi từ ứng dụng JavaScript: hướng dẫn ủ phân chuồng"
    );
    assert_eq!(visit["next_visit"], "2026-12-05");
    assert_eq!(visit["cadre_id"], "u-cadre1");
    // The visit written with the package's default (collaborative text) strings is read
    // as its text, as docs/sync-protocol.md says.
    let text = detail["visits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "visit-from-js-text")
        .unwrap_or_else(|| panic!("text visit missing: {detail}"));
    assert_eq!(text["needs"], "Cần phân bón");
    assert_eq!(text["cadre_id"], "u-cadre1");
    assert_eq!(text["date"], "2026-11-22");

    // A Rust phone of the same cadre receives it with the JavaScript client's authorship.
    let token = srv.login("cadre1", "rust-phone").await;
    let mut phone = Device::new(&[7; 16]);
    for _ in 0..3 {
        let req = phone.request();
        let resp: shared::sync::SyncResponse = srv
            .http
            .post(srv.url("/api/sync"))
            .bearer_auth(&token)
            .json(&req)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        phone.receive(&resp).unwrap();
    }
    let doc = phone.doc("h1").expect("h1 on the phone");
    assert_eq!(
        doc.to_json()["visits"]["visit-from-js"]["needs"],
        "Cần giống ngô"
    );
    db.cleanup().await;
}

on_both_backends!(a_javascript_automerge_client_syncs_a_visit);
