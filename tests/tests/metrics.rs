//! `/metrics` as an administrator's Prometheus scrapes it, on SQLite and PostgreSQL: closed
//! without the token, then after a short sync storm (changes taken, one refused, a conflict
//! left for the officer) and a throttled sign-in, every family is there with the figures
//! the storm made, the database pool's waits among them.

use serde_json::json;
use shared::doc::Author;
use shared::sync::Device;
use tests::{Backend, METRICS_TOKEN, TestDb, TestServer, fixture, on_both_backends};

fn by(u: &str) -> Author {
    Author {
        user_id: u.into(),
        device_id: format!("{}-phone", u.strip_prefix("u-").unwrap_or(u)),
        at_ms: chrono::Utc::now().timestamp_millis(),
        door: None,
    }
}

/// The value of the series `name{labels…}` whose labels include all of `with`, summed.
fn value(text: &str, name: &str, with: &[&str]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name} ")) || l.starts_with(&format!("{name}{{")))
        .filter(|l| with.iter().all(|w| l.contains(w)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn scrape(srv: &TestServer, token: Option<&str>) -> (u16, String) {
    let mut r = srv.http.get(srv.url("/metrics"));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn the_metrics_show_a_sync_storm(b: Backend) {
    // The server's own logs and pool-wait listener, as `donghanh serve` sets them up (once
    // for the process: the other backend's run may have set them already).
    let _ = server::metrics::init_tracing("warn", false);
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let store = db.store().await;
    fixture::load(&store).await;
    // A throttle of two sign-ins, to see the third counted.
    let sign_in = server::auth::throttle::SignIn::new(
        2,
        std::time::Duration::from_secs(3600),
        Default::default(),
    );
    let srv = TestServer::start_with(
        store,
        None,
        server::api::sync::PAGE,
        sign_in,
        Default::default(),
    )
    .await;
    // Closed to anyone without the token, and to a wrong one of the same length.
    assert_eq!(scrape(&srv, None).await.0, 401);
    let wrong = "x".repeat(METRICS_TOKEN.len());
    assert_eq!(scrape(&srv, Some(&wrong)).await.0, 401);
    let (_, before) = scrape(&srv, Some(METRICS_TOKEN)).await;
    let acked0 = value(&before, "donghanh_sync_changes_acknowledged_total", &[]);
    let refused0 = value(
        &before,
        "donghanh_sync_changes_refused_total",
        &["code=\"role\""],
    );

    let (vh, cadre) = (
        srv.login("vh1", "vh1-phone").await,
        srv.login("cadre1", "cadre1-phone").await,
    );
    let throttled = srv
        .http
        .post(srv.url("/api/auth/login"))
        .json(&json!({"username": "officer1", "password": "wrong", "device_id": "x"}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(throttled, 429);
    // The storm: the village head edits each of their households, one change at a time; the cadre
    // tries a status change the gate refuses.
    let mut phone = Device::new(&[1; 16]);
    srv.settle(&vh, &mut phone, 10).await;
    let ids: Vec<String> = phone.doc_ids().take(5).cloned().collect();
    assert!(!ids.is_empty());
    for (i, id) in ids.iter().enumerate() {
        phone
            .doc_mut(id)
            .unwrap()
            .set_field(
                &["profile", "address"],
                &json!(format!("Đội {i}, bản mới")),
                &by("u-vh1"),
            )
            .unwrap();
        srv.settle(&vh, &mut phone, 10).await;
    }
    let mut other = Device::new(&[2; 16]);
    srv.settle(&cadre, &mut other, 10).await;
    other
        .doc_mut("h1")
        .unwrap()
        .set_field(&["profile", "status"], &json!("not_poor"), &by("u-cadre1"))
        .unwrap();
    let resp = srv.exchange(&cadre, &mut other).await;
    assert_eq!(resp.refused.len(), 1);

    let read = srv
        .http
        .get(srv.url("/api/households/h1"))
        .bearer_auth(&vh)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let (status, text) = scrape(&srv, Some(METRICS_TOKEN)).await;
    assert_eq!(status, 200);
    let acked = value(&text, "donghanh_sync_changes_acknowledged_total", &[]);
    assert!(acked - acked0 >= ids.len() as f64, "{acked0} → {acked}");
    let refused = value(
        &text,
        "donghanh_sync_changes_refused_total",
        &["code=\"role\""],
    );
    assert!(refused - refused0 >= 1.0, "{refused0} → {refused}");
    assert!(
        value(
            &text,
            "donghanh_http_requests_total",
            &["route=\"/api/sync\"", "method=\"POST\"", "status=\"200\""]
        ) >= ids.len() as f64
    );
    assert!(
        value(
            &text,
            "donghanh_http_requests_total",
            &["route=\"/api/auth/login\"", "status=\"429\""]
        ) >= 1.0
    );
    assert!(
        value(
            &text,
            "donghanh_http_request_duration_seconds_count",
            &["route=\"/api/sync\""]
        ) >= 1.0
    );
    assert!(value(&text, "donghanh_group_commit_size_count", &[]) >= ids.len() as f64);
    assert!(value(&text, "donghanh_doc_cache_total", &[]) >= 1.0);
    assert!(value(&text, "donghanh_sign_in_throttled_total", &[]) >= 1.0);
    assert!(
        text.contains("donghanh_db_pool_connections{state=\"idle\"}"),
        "{text}"
    );
    assert!(text.contains("donghanh_db_pool_connections{state=\"in_use\"}"));
    // Every connection the storm's requests took was waited for, and each wait recorded.
    let waits = value(&text, "donghanh_db_pool_wait_seconds_count", &[]);
    assert!(waits >= ids.len() as f64, "{waits} waits");
    assert!(
        value(
            &text,
            "donghanh_db_pool_wait_seconds_bucket",
            &["le=\"+Inf\""]
        ) >= waits
    );
    assert!(value(&text, "donghanh_db_pool_wait_seconds_sum", &[]) >= 0.0);
    // The refused change waits in quarantine for the officer.
    assert!(value(&text, "donghanh_quarantine_waiting", &[]) >= 1.0);
    assert!(text.contains("donghanh_conflicts_open "));
    // A route's ids never make new series: households are counted under their pattern.
    assert!(!text.contains("route=\"/api/households/h1\""));
    assert!(text.contains("route=\"/api/households/{id}\""));
    db.cleanup().await;
}

on_both_backends!(the_metrics_show_a_sync_storm);
