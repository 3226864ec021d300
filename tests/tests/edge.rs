//! The server as an attacker meets it, on SQLite and PostgreSQL: sign-in throttled per
//! address and locked per username (known or not, with the same work and answer), a
//! replayed refresh token revoking its session, a new password ending other sessions,
//! security headers on every answer, a slow client cut off, overload answered 503.

use reqwest::StatusCode;
use serde_json::{Value, json};
use server::auth::throttle::SignIn;
use server::edge::Edge;
use server::store::SignInPolicy;
use std::time::{Duration, Instant};
use tests::{Backend, TestDb, TestServer, fixture, on_both_backends};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn server(b: Backend, sign_in: SignIn, edge: Edge) -> Option<(TestDb, TestServer)> {
    let db = TestDb::open(b).await?;
    let store = db.store().await;
    fixture::load(&store).await;
    Some((
        db,
        TestServer::start_with(store, None, server::api::sync::PAGE, sign_in, edge).await,
    ))
}

fn open_throttle(policy: SignInPolicy) -> SignIn {
    SignIn::new(1_000_000, Duration::from_millis(1), policy)
}

async fn login(srv: &TestServer, user: &str, password: &str, device: &str) -> reqwest::Response {
    srv.http
        .post(srv.url("/api/auth/login"))
        .json(&json!({"username": user, "password": password, "device_id": device}))
        .send()
        .await
        .unwrap()
}

async fn refresh(srv: &TestServer, token: &str, device: &str) -> (StatusCode, Value) {
    let r = srv
        .http
        .post(srv.url("/api/auth/refresh"))
        .json(&json!({"refresh_token": token, "device_id": device}))
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

async fn sign_in_is_throttled_per_address_and_lifts(b: Backend) {
    let throttle = SignIn::new(3, Duration::from_secs(1), SignInPolicy::default());
    let Some((db, srv)) = server(b, throttle, Edge::default()).await else {
        return;
    };
    for _ in 0..3 {
        let r = login(&srv, "nobody", "sai-mat-khau-roi", "d").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = login(&srv, "vh1", fixture::PASSWORD, "d").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "too_many_attempts");
    assert!(
        body["message"]["vi"]
            .as_str()
            .unwrap()
            .contains("thử lại sau")
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = login(&srv, "vh1", fixture::PASSWORD, "d").await;
    assert_eq!(r.status(), StatusCode::OK, "the throttle lifted");
    db.cleanup().await;
}

async fn failed_sign_ins_lock_known_and_unknown_usernames_alike(b: Backend) {
    let policy = SignInPolicy {
        free: 2,
        base_ms: 1_000,
        max_ms: 60_000,
    };
    let Some((db, srv)) = server(b, open_throttle(policy), Edge::default()).await else {
        return;
    };
    for user in ["vh1", "khong-co-ai"] {
        for _ in 0..2 {
            let r = login(&srv, user, "sai-mat-khau-roi", "d").await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{user}");
            let body: Value = r.json().await.unwrap();
            assert_eq!(
                body["code"], "invalid_credentials",
                "{user}: the same answer"
            );
        }
        // Locked now, even with the right password.
        let r = login(&srv, user, fixture::PASSWORD, "d").await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{user}");
    }
    // The administrator sees both locks; others may not look.
    let admin = srv.login("admin", "admin-pc").await;
    let locked: Value = srv
        .http
        .get(srv.url("/api/users/locked"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = locked
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["khong-co-ai", "vh1"]);
    let officer = srv.login("officer1", "officer-pc").await;
    let r = srv
        .http
        .get(srv.url("/api/users/locked"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Failed sign-ins are in the audit trail.
    let audit: Value = srv
        .http
        .get(srv.url("/api/audit?entity_id=vh1"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let failed = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "sign_in_failed")
        .count();
    assert_eq!(failed, 2, "{audit}");
    // The lock lifts by itself; a success clears the count.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = login(&srv, "vh1", fixture::PASSWORD, "d").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = login(&srv, "vh1", "sai-mat-khau-roi", "d").await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "counting starts again"
    );
    db.cleanup().await;
}

async fn unknown_and_known_usernames_take_the_same_time(b: Backend) {
    let policy = SignInPolicy {
        free: 1_000,
        ..Default::default()
    };
    let Some((db, srv)) = server(b, open_throttle(policy), Edge::default()).await else {
        return;
    };
    // Measured up to three times: a leak shows in every measurement, while a burst of
    // load from the tests running beside this one (CI runs two binaries at once) skews
    // one now and then.
    let mut ratios = Vec::new();
    for _ in 0..3 {
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        // Interleaved, so a change of machine load hits both alike.
        for i in 0..50 {
            for (user, times) in [
                ("vh1", &mut known),
                (&*format!("khong-co-{i}-{}", ratios.len()), &mut unknown),
            ] {
                let t = Instant::now();
                let r = login(&srv, user, "sai-mat-khau-roi", "d").await;
                times.push(t.elapsed());
                assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
            }
        }
        known.sort();
        unknown.sort();
        let (k, u) = (known[25].as_secs_f64(), unknown[25].as_secs_f64());
        let ratio = k / u;
        eprintln!(
            "median sign-in: known {:.1} ms, unknown {:.1} ms, ratio {ratio:.2}",
            k * 1e3,
            u * 1e3
        );
        ratios.push(ratio);
        if (0.7..1.43).contains(&ratio) {
            break;
        }
    }
    assert!(
        ratios.iter().any(|r| (0.7..1.43).contains(r)),
        "known against unknown sign-in time, each measurement: {ratios:?}"
    );
    db.cleanup().await;
}

async fn a_replayed_refresh_token_revokes_the_session(b: Backend) {
    let Some((db, srv)) = server(b, open_throttle(Default::default()), Edge::default()).await
    else {
        return;
    };
    let pair: Value = login(&srv, "cadre1", fixture::PASSWORD, "phone")
        .await
        .json()
        .await
        .unwrap();
    let t1 = pair["refresh_token"].as_str().unwrap().to_string();
    let (s, p2) = refresh(&srv, &t1, "phone").await;
    assert_eq!(s, StatusCode::OK);
    // The answer was lost: the phone presents t1 again, once, at once — taken.
    let (s, p3) = refresh(&srv, &t1, "phone").await;
    assert_eq!(s, StatusCode::OK, "{p3}");
    // The token of the lost answer was retired by that retry.
    let (s, body) = refresh(&srv, p2["refresh_token"].as_str().unwrap(), "phone").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "refresh_reused");
    // That replay revoked the whole session: the newest token and the access token too.
    let (s, body) = refresh(&srv, p3["refresh_token"].as_str().unwrap(), "phone").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "session_revoked");
    let r = srv
        .http
        .get(srv.url("/api/auth/me"))
        .bearer_auth(p3["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // A stolen old token presented after the phone moved on: the session ends.
    let pair: Value = login(&srv, "cadre1", fixture::PASSWORD, "phone2")
        .await
        .json()
        .await
        .unwrap();
    let old = pair["refresh_token"].as_str().unwrap().to_string();
    let (_, p2) = refresh(&srv, &old, "phone2").await;
    let (s, p3) = refresh(&srv, p2["refresh_token"].as_str().unwrap(), "phone2").await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = refresh(&srv, &old, "phone2").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, body) = refresh(&srv, p3["refresh_token"].as_str().unwrap(), "phone2").await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("session_revoked"))
    );
    db.cleanup().await;
}

async fn a_new_password_ends_the_users_other_sessions(b: Backend) {
    let Some((db, srv)) = server(b, open_throttle(Default::default()), Edge::default()).await
    else {
        return;
    };
    let cadre = srv.login("cadre1", "phone").await;
    let admin = srv.login("admin", "admin-pc").await;
    let patch = |body: Value| {
        srv.http
            .patch(srv.url("/api/users/u-cadre1"))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    // Common passwords are refused, with the reason.
    let r = patch(json!({"password": "1234567890"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["fields"][0]["code"], "too_common", "{body}");
    let r = srv
        .http
        .get(srv.url("/api/auth/me"))
        .bearer_auth(&cadre)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "nothing changed yet");
    let r = patch(json!({"password": "trau-vang-cay-ruong-som"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = srv
        .http
        .get(srv.url("/api/auth/me"))
        .bearer_auth(&cadre)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "the old session ended"
    );
    let r = srv
        .http
        .get(srv.url("/api/auth/me"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "the administrator's session stays"
    );
    let r = login(&srv, "cadre1", "trau-vang-cay-ruong-som", "phone").await;
    assert_eq!(r.status(), StatusCode::OK);
    db.cleanup().await;
}

async fn answers_carry_security_headers_and_overload_is_a_clear_503(b: Backend) {
    let edge = Edge {
        trust_proxy: true,
        ..Default::default()
    };
    let Some((db, srv)) = server(b, open_throttle(Default::default()), edge).await else {
        return;
    };
    for path in ["/healthz", "/api/auth/me", "/api/nothing-here"] {
        let r = srv.http.get(srv.url(path)).send().await.unwrap();
        let h = r.headers();
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(
            !h.contains_key("strict-transport-security"),
            "plain HTTP: no HSTS"
        );
    }
    let r = srv
        .http
        .get(srv.url("/healthz"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
    db.cleanup().await;

    // No room for any request: 503 with Retry-After and a reason.
    let Some((db, srv)) = server(
        b,
        open_throttle(Default::default()),
        Edge {
            max_in_flight: 0,
            ..Default::default()
        },
    )
    .await
    else {
        return;
    };
    let r = srv.http.get(srv.url("/api/auth/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "5");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "busy");
    db.cleanup().await;
}

async fn a_client_sending_headers_slowly_is_cut_off(b: Backend) {
    let edge = Edge {
        header_read_timeout: Duration::from_secs(1),
        ..Default::default()
    };
    let Some((db, srv)) = server(b, open_throttle(Default::default()), edge).await else {
        return;
    };
    let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    // The server closes the connection (maybe after a 408) instead of waiting for ever.
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "still open after 5 s");
    assert!(started.elapsed() >= Duration::from_millis(900));
    db.cleanup().await;
}

on_both_backends!(
    sign_in_is_throttled_per_address_and_lifts,
    failed_sign_ins_lock_known_and_unknown_usernames_alike,
    unknown_and_known_usernames_take_the_same_time,
    a_replayed_refresh_token_revokes_the_session,
    a_new_password_ends_the_users_other_sessions,
    answers_carry_security_headers_and_overload_is_a_clear_503,
    a_client_sending_headers_slowly_is_cut_off,
);
