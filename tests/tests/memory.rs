//! A few small hostile sync requests must not raise the server's peak memory by more than
//! a bounded amount: a compressed change chunk that would inflate to hundreds of
//! megabytes, and run-length encoded operations that would expand to millions, sent
//! four at a time. Its own test binary, so no other test shares the process's peak.

use base64::Engine;
use serde_json::json;
use shared::sync::{Held, PROTOCOL};
use std::io::Write;
use tests::{Backend, TestDb, TestServer, fixture};

/// Resets this process's peak resident memory to its current size (Linux `clear_refs`).
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
}

/// Peak resident memory of this process, in KiB.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A chunk with automerge's header, of type 2 (deflated change), whose body inflates to
/// `size` zero bytes. Only the header is checked before inflating, in automerge.
fn deflate_bomb(size: usize) -> Vec<u8> {
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![0u8; 1 << 20];
    for _ in 0..size / block.len() {
        z.write_all(&block).unwrap();
    }
    let body = z.finish().unwrap();
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2];
    let mut n = body.len();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            chunk.push(b);
            break;
        }
        chunk.push(b | 0x80);
    }
    chunk.extend(body);
    chunk
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_hostile_requests_do_not_raise_peak_memory() {
    let Some(db) = TestDb::open(Backend::Sqlite).await else {
        return;
    };
    let store = db.store().await;
    fixture::load(&store).await;
    let srv = TestServer::start(store, None).await;
    let token = srv.login("officer1", "o-phone").await;
    // Under the 256 KiB a push may carry, so it reaches the gate: 200 MiB once inflated.
    let bomb = deflate_bomb(200 << 20);
    // 2^40 operations declared in one run-length encoded run: a few dozen bytes.
    let ops = shared::core::limits::run_length_bomb(1 << 40);
    // Built before measuring: what the server does with them is measured, not the test.
    let bodies: Vec<serde_json::Value> = [&bomb, &ops, &bomb, &ops]
        .iter()
        .map(|bytes| {
            json!({
                "protocol": PROTOCOL, "cursor": 0, "held": Held::default(),
                "pushes": [{"doc_id": "h1", "heads": [],
                    "changes": base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)}],
            })
        })
        .collect();
    println!(
        "request bodies: {} B (deflate) and {} B (operations)",
        serde_json::to_vec(&bodies[0]).unwrap().len(),
        serde_json::to_vec(&bodies[1]).unwrap().len()
    );
    reset_peak();
    let before = peak_kib();
    let mut tasks = Vec::new();
    for body in bodies {
        let (http, url, token) = (srv.http.clone(), srv.url("/api/sync"), token.clone());
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let v: serde_json::Value = r.json().await.unwrap();
            (status, v)
        }));
    }
    for t in tasks {
        let (status, v) = t.await.unwrap();
        assert_eq!(status, 200, "{v}");
        let code = v["refused"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(code == "chunk_kind" || code == "limit", "{}", v["refused"]);
    }
    let grown = peak_kib().saturating_sub(before);
    println!("peak resident memory grew by {grown} KiB over 4 hostile requests");
    assert!(grown < 64 * 1024, "peak memory grew by {grown} KiB");
    db.cleanup().await;
}
