//! Property: no input, however malformed, makes the API answer 5xx or lose its error body.
//! Random JSON values and random bytes go to every write endpoint as a signed-in officer.

use proptest::prelude::*;
use serde_json::Value;
use tests::{Backend, TestDb, TestServer, fixture};

const WRITES: [(&str, &str); 14] = [
    ("POST", "/api/households"),
    ("PUT", "/api/households/h1"),
    ("POST", "/api/households/h1/members"),
    ("PUT", "/api/members/m-h1"),
    ("POST", "/api/households/h1/assessments"),
    ("POST", "/api/households/h1/visits"),
    ("POST", "/api/households/h1/support"),
    ("POST", "/api/assignments"),
    ("POST", "/api/assignments/a1/end"),
    ("PUT", "/api/targets/v1/2026"),
    ("POST", "/api/rule-sets/vn-2022-2025/classify"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/refresh"),
    ("GET", "/api/households?limit=-5&offset=x"),
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z_ ]{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("rural"),
            Just("annual"),
            Just("2026-13-45"),
            Just("v1"),
            Just("h1"),
            Just("u-cadre1"),
            Just("income"),
            Just("b2")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("code".to_string()),
                    Just("village_id".to_string()),
                    Just("evidence".to_string()),
                    Just("kind".to_string()),
                    Just("date".to_string()),
                    Just("score".to_string()),
                    "[a-z_]{1,10}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        json_value().prop_map(|v| v.to_string().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..64),
    ]
}

fn run(backend: Backend) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some((db, srv, token)) = rt.block_on(async {
        let db = TestDb::open(backend).await?;
        let store = db.store().await;
        fixture::load(&store).await;
        let srv = TestServer::start(store, None).await;
        let token = srv.login("officer1", "laptop").await;
        Some((db, srv, token))
    }) else {
        return;
    };
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 150,
        ..Default::default()
    });
    runner
        .run(&(0..WRITES.len(), body()), |(i, bytes)| {
            let (method, path) = WRITES[i];
            let (status, text) = rt.block_on(async {
                let r = reqwest::Client::new()
                    .request(method.parse().unwrap(), srv.url(path))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(bytes.clone())
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            });
            prop_assert!(status < 500, "{method} {path} answered {status}: {text}");
            if status >= 400 {
                let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                prop_assert!(
                    v["code"].is_string() && v["message"]["vi"].is_string(),
                    "error body: {text}"
                );
            }
            Ok(())
        })
        .unwrap();
    rt.block_on(db.cleanup());
}

#[test]
fn sqlite_random_input_never_gets_a_5xx() {
    run(Backend::Sqlite);
}

#[test]
fn postgres_random_input_never_gets_a_5xx() {
    run(Backend::Postgres);
}
