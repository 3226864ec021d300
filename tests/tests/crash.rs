//! The crash drill, on SQLite and PostgreSQL: phones push visits to the demo commune while
//! the server process is killed with SIGKILL at random moments and started again. Every
//! change the server acknowledged must be there afterwards, every document must open, the
//! read model must equal the documents (rebuilding it changes nothing) and the phones must
//! finish syncing.

use shared::doc::Author;
use shared::doc::Collection;
use shared::sync::{Device, SyncResponse};
use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tests::{Backend, TestDb, on_both_backends};

const SECRET: &str = "crash-drill-secret-of-at-least-32-bytes";
const KILLS: usize = 6;
const PHONES: usize = 4;

struct Server {
    child: Child,
    base: String,
}

fn start(url: &str) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_serve"))
        .args([url, &listen, SECRET])
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .spawn()
        .expect("start the server");
    let base = format!("http://{listen}");
    let started = Instant::now();
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Server { child, base }
}

fn kill(mut s: Server) {
    // SIGKILL: no shutdown, no flush; whatever was acknowledged must already be durable.
    s.child.kill().unwrap();
    s.child.wait().unwrap();
}

struct Phone {
    user_id: String,
    device_id: String,
    token: String,
    device: Device,
    /// Visits written on the phone, and those the server acknowledged.
    written: Vec<(String, String)>,
    acknowledged: BTreeSet<String>,
}

async fn sign_in(http: &reqwest::Client, base: &str, user: &str, device: &str) -> (String, String) {
    let r: serde_json::Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({"username": user, "password": server::demo::PASSWORD, "device_id": device}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        r["access_token"].as_str().expect("signed in").to_string(),
        r["user"]["id"].as_str().unwrap().to_string(),
    )
}

/// One sync; `None` when the server was not there (killed mid-request).
async fn exchange(http: &reqwest::Client, base: &str, p: &mut Phone) -> Option<SyncResponse> {
    let req = p.device.request();
    let pushed: Vec<String> = req.pushes.iter().map(|x| x.doc_id.clone()).collect();
    let Ok(r) = http
        .post(format!("{base}/api/sync"))
        .bearer_auth(&p.token)
        .json(&req)
        .send()
        .await
    else {
        return None;
    };
    if !r.status().is_success() {
        return None;
    }
    let Ok(resp) = r.json::<SyncResponse>().await else {
        return None;
    };
    assert!(resp.refused.is_empty(), "refused: {:?}", resp.refused);
    p.device.receive(&resp).unwrap();
    // A household's visits count as acknowledged once the server acknowledged the heads
    // that hold them.
    for ack in &resp.acks {
        if pushed.contains(&ack.doc_id) {
            for (doc, visit) in &p.written {
                if *doc == ack.doc_id {
                    p.acknowledged.insert(visit.clone());
                }
            }
        }
    }
    Some(resp)
}

/// Syncs until nothing moves.
async fn settle(http: &reqwest::Client, base: &str, p: &mut Phone) {
    for _ in 0..20 {
        let resp = exchange(http, base, p).await.expect("the server answers");
        if resp.docs.is_empty() && !resp.more && p.device.pending() == 0 {
            return;
        }
    }
    panic!("{}: sync did not settle", p.device_id);
}

fn log_visit(p: &mut Phone, n: usize) {
    let ids: Vec<String> = p.device.doc_ids().cloned().collect();
    let doc = ids[n % ids.len()].clone();
    let today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive();
    let id = format!("crash-{}-{n}", p.device_id);
    let author = Author {
        user_id: p.user_id.clone(),
        device_id: p.device_id.clone(),
        at_ms: chrono::Utc::now().timestamp_millis(),
        door: None,
    };
    p.device
        .doc_mut(&doc)
        .unwrap()
        .put_record(
            Collection::Visits,
            &id,
            &serde_json::json!({"date": today.to_string(), "discussed": "Kiểm tra sau sự cố", "progress": "", "needs": "", "next_visit": null, "cadre_id": p.user_id}),
            &author,
        )
        .unwrap();
    p.written.push((doc, id));
}

async fn no_acknowledged_change_is_lost_when_the_server_is_killed(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let store = db.store().await;
    server::demo::create(store.as_ref(), server::demo::today_for_demo())
        .await
        .unwrap();
    drop(store);
    let http = reqwest::Client::new();
    let mut srv = start(&db.url);
    let mut phones = Vec::new();
    for i in 0..PHONES {
        let device_id = format!("crash-phone-{i}");
        let (token, user_id) =
            sign_in(&http, &srv.base, &format!("canbo{:02}", i + 1), &device_id).await;
        let mut p = Phone {
            user_id,
            device_id,
            token,
            device: Device::new(&[i as u8 + 1; 16]),
            written: vec![],
            acknowledged: BTreeSet::new(),
        };
        settle(&http, &srv.base, &mut p).await;
        phones.push(p);
    }
    let mut n = 0;
    // Requests that got no answer: the kill landed while they were on their way.
    let mut cut = 0;
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..KILLS {
        // Phones push while, at a random moment, the server is killed mid-request.
        let delay = Duration::from_millis(rng.u64(300..1500));
        let base = srv.base.clone();
        let killer = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            kill(srv);
        });
        while !killer.is_finished() {
            let mut round = Vec::new();
            for p in phones.iter_mut() {
                log_visit(p, n);
                n += 1;
                round.push(exchange(&http, &base, p));
            }
            cut += futures::future::join_all(round)
                .await
                .iter()
                .filter(|r| r.is_none())
                .count();
        }
        killer.await.unwrap();
        srv = start(&db.url);
    }
    // The phones finish syncing with the restarted server.
    for p in phones.iter_mut() {
        settle(&http, &srv.base, p).await;
        assert_eq!(p.device.pending(), 0, "{}: everything sent", p.device_id);
    }
    let acknowledged: usize = phones.iter().map(|p| p.acknowledged.len()).sum();
    kill(srv);

    // Every acknowledged visit is in its document and in the read model.
    let store = db.store().await;
    let mut checked = 0;
    for p in &phones {
        for (doc, visit) in &p.written {
            if !p.acknowledged.contains(visit) {
                continue;
            }
            let stored = store
                .docs()
                .load_doc(doc)
                .await
                .unwrap()
                .expect("the document");
            let opened = stored
                .open(&Author {
                    user_id: "check".into(),
                    device_id: "check".into(),
                    at_ms: 0,
                    door: None,
                })
                .expect("the document opens");
            assert!(
                opened.records(Collection::Visits).contains_key(visit),
                "acknowledged visit {visit} lost from {doc}"
            );
            let visits = store.list_visits(doc).await.unwrap();
            assert!(
                visits.iter().any(|v| v.id == *visit),
                "{visit} missing from the read model"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, acknowledged);
    assert!(
        checked >= PHONES * KILLS,
        "the drill pushed too little: {checked}"
    );
    // The read model equals the documents: rebuilding it changes nothing.
    let ids: Vec<String> = phones
        .iter()
        .flat_map(|p| p.written.iter().map(|(d, _)| d.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let before = read_model(store.as_ref(), &ids).await;
    server::rebuild::read_model(store.as_ref()).await.unwrap();
    let after = read_model(store.as_ref(), &ids).await;
    assert_eq!(after.len(), before.len(), "rebuild changed the read model");
    if let Some((a, b)) = after.iter().zip(&before).find(|(a, b)| a != b) {
        panic!("rebuild changed the read model: {b} became {a}");
    }
    assert!(
        cut >= KILLS,
        "every kill should cut requests in flight: {cut}"
    );
    eprintln!(
        "{b:?}: {KILLS} kills cutting {cut} requests, {checked} acknowledged visits checked, none lost"
    );
    db.cleanup().await;
}

async fn read_model(store: &dyn server::store::Store, ids: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for id in ids {
        let mut v: Vec<String> = store
            .list_visits(id)
            .await
            .unwrap()
            .into_iter()
            .map(|v| serde_json::to_string(&v).unwrap())
            .collect();
        v.sort();
        let mut h = serde_json::to_value(store.get_household(id).await.unwrap()).unwrap();
        // The time of the projection, not part of the household's data.
        h.as_object_mut().unwrap().remove("updated_at");
        out.push(h.to_string());
        out.extend(v);
    }
    out
}

on_both_backends!(no_acknowledged_change_is_lost_when_the_server_is_killed);
