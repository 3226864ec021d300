//! Property, through the real server on SQLite and PostgreSQL: phones of a village head, a
//! commune officer and a cadre edit offline and sync in random order over a network that
//! loses, duplicates, delays and replays messages. In the end every phone and the server's
//! read model agree, no visit or member is lost, and every set of concurrent writes to a
//! field is exactly one open conflict in the officer's queue.

use automerge::ChangeHash;
use proptest::prelude::*;
use serde_json::{Value, json};
use shared::doc::Author;
use shared::doc::Collection;
use shared::sync::{Device, SyncRequest, SyncResponse};
use std::collections::BTreeSet;
use tests::{Backend, TestDb, TestServer, fixture};

const USERS: [&str; 3] = ["vh1", "officer1", "cadre1"];
const FIELDS: [&str; 2] = ["head_name", "address"];

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
    },
    Member {
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
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..2usize, 0..2usize, 0..2usize, any::<u8>()).prop_map(|(dev, doc, field, value)| Step::Edit { dev, doc, field, value }),
        2 => (1..3usize).prop_map(|dev| Step::Visit { dev }),
        1 => (0..2usize, 0..2usize).prop_map(|(dev, doc)| Step::Member { dev, doc }),
        4 => (0..3usize, any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(dev, a, b, c, d)| Step::Sync { dev, lose_request: a && b, lose_response: b && c, duplicate: c, hold: d }),
        1 => (0..8usize).prop_map(|which| Step::Deliver { which }),
    ]
}

async fn post(srv: &TestServer, token: &str, req: &SyncRequest) -> SyncResponse {
    let r = srv
        .http
        .post(srv.url("/api/sync"))
        .bearer_auth(token)
        .json(req)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn settle(srv: &TestServer, token: &str, dev: &mut Device) {
    for _ in 0..10 {
        let req = dev.request();
        let resp = post(srv, token, &req).await;
        dev.receive(&resp).unwrap();
        if req.pushes.is_empty()
            && req.want.is_empty()
            && resp.docs.is_empty()
            && !resp.more
            && resp.scope.is_none()
        {
            return;
        }
    }
    panic!("sync did not settle");
}

struct Write {
    doc: String,
    field: &'static str,
    value: Value,
    hash: ChangeHash,
}

async fn run_case(backend: Backend, steps: Vec<Step>) -> Result<(), TestCaseError> {
    let Some(db) = TestDb::open(backend).await else {
        return Ok(());
    };
    let store = db.store().await;
    fixture::load(&store).await;
    let srv = TestServer::start(store, None).await;
    let mut tokens = Vec::new();
    let mut devs = Vec::new();
    for (i, u) in USERS.iter().enumerate() {
        tokens.push(srv.login(u, &format!("{u}-phone")).await);
        let mut d = Device::new(&[i as u8 + 1; 16]);
        settle(&srv, &tokens[i], &mut d).await;
        devs.push(d);
    }
    let docs = ["h1", "h2"];
    let mut held: Vec<(usize, SyncResponse)> = Vec::new();
    let mut writes: Vec<Write> = Vec::new();
    let mut visits = Vec::new();
    let mut members = Vec::new();
    for (t, s) in steps.into_iter().enumerate() {
        let author = |dev: usize| Author {
            user_id: format!("u-{}", USERS[dev]),
            device_id: format!("{}-phone", USERS[dev]),
            at_ms: chrono::Utc::now().timestamp_millis() + t as i64,
            door: None,
        };
        match s {
            Step::Edit {
                dev,
                doc,
                field,
                value,
            } => {
                let v = json!(format!("giá trị {value} của {}", USERS[dev]));
                let d = devs[dev].doc_mut(docs[doc]).unwrap();
                d.set_field(&["profile", FIELDS[field]], &v, &author(dev))
                    .unwrap();
                let hash = d.automerge().get_last_local_change().unwrap().hash();
                if !writes.iter().any(|w| w.hash == hash) {
                    writes.push(Write {
                        doc: docs[doc].into(),
                        field: FIELDS[field],
                        value: v,
                        hash,
                    });
                }
            }
            Step::Visit { dev } => {
                let id = format!("visit-{t}");
                let v = json!({"date": "2026-11-01", "discussed": format!("Lần thăm {t}"), "progress": "", "needs": "", "next_visit": null, "cadre_id": format!("u-{}", USERS[dev])});
                devs[dev]
                    .doc_mut("h1")
                    .unwrap()
                    .put_record(Collection::Visits, &id, &v, &author(dev))
                    .unwrap();
                visits.push(id);
            }
            Step::Member { dev, doc } => {
                let id = format!("member-{t}");
                let m = serde_json::to_value(fixture::member_input(&format!("Thành viên {t}")))
                    .unwrap();
                devs[dev]
                    .doc_mut(docs[doc])
                    .unwrap()
                    .put_record(Collection::Members, &id, &m, &author(dev))
                    .unwrap();
                members.push((docs[doc], id));
            }
            Step::Sync {
                dev,
                lose_request,
                lose_response,
                duplicate,
                hold,
            } => {
                let req = devs[dev].request();
                if lose_request {
                    continue;
                }
                let resp = post(&srv, &tokens[dev], &req).await;
                if duplicate {
                    held.push((dev, post(&srv, &tokens[dev], &req).await));
                }
                if hold {
                    held.push((dev, resp));
                } else if !lose_response {
                    devs[dev].receive(&resp).unwrap();
                }
            }
            Step::Deliver { which } => {
                if !held.is_empty() {
                    let (dev, resp) = held.remove(which % held.len());
                    devs[dev].receive(&resp).unwrap();
                }
            }
        }
    }
    for (dev, resp) in held.drain(..) {
        devs[dev].receive(&resp).unwrap();
    }
    for _ in 0..2 {
        for (i, d) in devs.iter_mut().enumerate() {
            settle(&srv, &tokens[i], d).await;
        }
    }

    let officer = &tokens[1];
    for id in docs {
        let want = devs[1].doc(id).unwrap().to_json();
        prop_assert_eq!(
            &devs[0].doc(id).unwrap().to_json(),
            &want,
            "village head and officer agree on {}",
            id
        );
        if id == "h1" {
            prop_assert_eq!(
                &devs[2].doc(id).unwrap().to_json(),
                &want,
                "cadre agrees on h1"
            );
        }
        let detail: Value = srv
            .http
            .get(srv.url(&format!("/api/households/{id}")))
            .bearer_auth(officer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        prop_assert_eq!(
            &detail["household"]["head_name"],
            &want["profile"]["head_name"],
            "read model of {}",
            id
        );
        prop_assert_eq!(
            detail["members"].as_array().unwrap().len(),
            want["members"].as_object().unwrap().len()
        );
        if id == "h1" {
            prop_assert_eq!(
                detail["visits"].as_array().unwrap().len(),
                visits.len(),
                "no visit lost"
            );
        }
    }
    for (doc, m) in &members {
        prop_assert!(
            devs[1].doc(doc).unwrap().to_json()["members"]
                .get(m)
                .is_some(),
            "member {} lost",
            m
        );
    }
    let queue: Vec<Value> = srv
        .http
        .get(srv.url("/api/conflicts"))
        .bearer_auth(officer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for id in docs {
        let doc = devs[1].doc_mut(id).unwrap();
        for field in FIELDS {
            let ws: Vec<&Write> = writes
                .iter()
                .filter(|w| w.doc == id && w.field == field)
                .collect();
            let mut frontier: Vec<String> = Vec::new();
            for w in &ws {
                let seen_later = ws.iter().any(|o| {
                    o.hash != w.hash && {
                        let outside: BTreeSet<ChangeHash> = doc
                            .automerge()
                            .get_changes(&[o.hash])
                            .iter()
                            .map(|c| c.hash())
                            .collect();
                        !outside.contains(&w.hash)
                    }
                });
                if !seen_later {
                    frontier.push(w.value.to_string());
                }
            }
            frontier.sort();
            let found: Vec<&Value> = queue
                .iter()
                .filter(|c| c["household_id"] == id && c["path"] == json!(["profile", field]))
                .collect();
            if frontier.len() > 1 {
                prop_assert_eq!(found.len(), 1, "one open conflict for {}.{}", id, field);
                let mut got: Vec<String> = found[0]["candidates"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["value"].to_string())
                    .collect();
                got.sort();
                prop_assert_eq!(got, frontier);
            } else {
                prop_assert!(found.is_empty(), "no conflict for {}.{}", id, field);
            }
        }
    }
    drop(srv);
    db.cleanup().await;
    Ok(())
}

fn run(backend: Backend) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let cases = std::env::var("DONGHANH_SYNC_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        ..Default::default()
    });
    runner
        .run(&prop::collection::vec(step(), 1..30), |steps| {
            rt.block_on(run_case(backend, steps))
        })
        .unwrap();
}

#[test]
fn sqlite_phones_converge_through_the_server_without_losing_anything() {
    run(Backend::Sqlite);
}

#[test]
fn postgres_phones_converge_through_the_server_without_losing_anything() {
    run(Backend::Postgres);
}
