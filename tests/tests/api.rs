//! The HTTP API end to end over real sockets, on SQLite and PostgreSQL: sign-in and
//! token life cycle, the error body for every kind of bad input, audited writes and
//! server-side classification.

use serde_json::{Value, json};
use server::auth::Keys;
use tests::{Backend, TestDb, TestServer, fixture, on_both_backends};

async fn call(
    srv: &TestServer,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = srv.http.request(method.parse().unwrap(), srv.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn raw(
    srv: &TestServer,
    token: &str,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut req = srv
        .http
        .request(method.parse().unwrap(), srv.url(path))
        .bearer_auth(token)
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(
        (status, body["code"].as_str()),
        (want_status, Some(want_code)),
        "{body}"
    );
    assert!(
        !body["message"]["vi"].as_str().unwrap().is_empty(),
        "a Vietnamese message"
    );
    assert!(
        !body["message"]["en"].as_str().unwrap().is_empty(),
        "an English message"
    );
}

async fn setup(b: Backend) -> Option<(TestDb, TestServer)> {
    let db = TestDb::open(b).await?;
    let store = db.store().await;
    fixture::load(&store).await;
    let srv = TestServer::start(store, None).await;
    Some((db, srv))
}

async fn sign_in_refresh_rotate_revoke_and_sign_out(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let login = |u: &str, p: &str, d: &str| json!({"username": u, "password": p, "device_id": d});

    let (s, body) = call(
        &srv,
        None,
        "POST",
        "/api/auth/login",
        Some(login("cadre1", "sai-mat-khau", "phone-a")),
    )
    .await;
    assert_error(s, &body, 401, "invalid_credentials");
    let (s, body) = call(
        &srv,
        None,
        "POST",
        "/api/auth/login",
        Some(login("nobody", "sai-mat-khau", "phone-a")),
    )
    .await;
    assert_error(s, &body, 401, "invalid_credentials");
    let (s, body) = call(
        &srv,
        None,
        "POST",
        "/api/auth/login",
        Some(login("cadre1", fixture::PASSWORD, "")),
    )
    .await;
    assert_error(s, &body, 422, "validation_failed");
    assert_eq!(body["fields"][0]["field"], "device_id");

    let (s, pair) = call(
        &srv,
        None,
        "POST",
        "/api/auth/login",
        Some(login("cadre1", fixture::PASSWORD, "phone-a")),
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        pair["refresh_expires_in"].as_i64().unwrap() >= 30 * 86400,
        "a phone stays signed in through weeks offline"
    );
    assert!(
        pair["expires_in"].as_i64().unwrap() <= 3600,
        "access tokens are short-lived"
    );
    let access = pair["access_token"].as_str().unwrap().to_string();
    let (s, me) = call(&srv, Some(&access), "GET", "/api/auth/me", None).await;
    assert_eq!(s, 200);
    assert_eq!(me["user"]["role"], "cadre");
    assert_eq!(me["permissions"]["log_visits"], "assigned");
    assert!(me["permissions"].get("record_assessments").is_none());

    // Refresh rotates: the new token works once, the old one is refused.
    let refresh = |t: &Value, d: &str| {
        let body = json!({"refresh_token": t.as_str().unwrap(), "device_id": d});
        call(&srv, None, "POST", "/api/auth/refresh", Some(body))
    };
    let (s, lost) = refresh(&pair["refresh_token"], "phone-a").await;
    assert_eq!(s, 200);
    assert_ne!(lost["refresh_token"], pair["refresh_token"]);
    // That answer never reached the phone (coverage gone): it presents the old token
    // again and is not signed out; the token of the lost answer is retired.
    let (s, pair2) = refresh(&pair["refresh_token"], "phone-a").await;
    assert_eq!(s, 200, "a retry after a lost answer: {pair2}");
    let (s, body) = refresh(&lost["refresh_token"], "phone-a").await;
    assert_error(s, &body, 401, "refresh_reused");
    // Presenting a retired token is a replay: the whole session ends (reuse detection).
    let (s, body) = refresh(&pair2["refresh_token"], "phone-a").await;
    assert_error(s, &body, 401, "session_revoked");
    let (s, pair) = call(
        &srv,
        None,
        "POST",
        "/api/auth/login",
        Some(login("cadre1", fixture::PASSWORD, "phone-a")),
    )
    .await;
    assert_eq!(s, 200);
    let (s, pair3) = refresh(&pair["refresh_token"], "phone-a").await;
    assert_eq!(s, 200);
    let (s, body) = refresh(&pair3["refresh_token"], "phone-b").await;
    assert_error(s, &body, 401, "wrong_device");

    // A lost phone: the administrator revokes it; its access and refresh tokens stop, also
    // right after the server answered it (and kept its session for a few seconds).
    let access2 = pair3["access_token"].as_str().unwrap();
    let (s, _) = call(&srv, Some(access2), "GET", "/api/households", None).await;
    assert_eq!(s, 200);
    let admin = srv.login("admin", "admin-laptop").await;
    let (s, devices) = call(
        &srv,
        Some(&admin),
        "GET",
        "/api/users/u-cadre1/devices",
        None,
    )
    .await;
    assert_eq!(s, 200);
    // The session the replay ended, and the one signed in after it.
    assert_eq!(devices.as_array().unwrap().len(), 2);
    let (s, _) = call(
        &srv,
        Some(&admin),
        "POST",
        "/api/users/u-cadre1/devices/phone-a/revoke",
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = call(&srv, Some(access2), "GET", "/api/households", None).await;
    assert_error(s, &body, 401, "session_revoked");
    let (s, body) = refresh(&pair3["refresh_token"], "phone-a").await;
    assert_error(s, &body, 401, "session_revoked");

    // Sign-out ends this device's session only.
    let other = srv.login("cadre1", "phone-c").await;
    let (s, _) = call(&srv, Some(&other), "POST", "/api/auth/logout", None).await;
    assert_eq!(s, 204);
    let (s, body) = call(&srv, Some(&other), "GET", "/api/auth/me", None).await;
    assert_error(s, &body, 401, "session_revoked");

    // Expired and forged access tokens.
    let keys = Keys::new(b"test-secret-of-at-least-32-bytes!", Default::default());
    let session = srv.store.list_sessions("u-vh1").await.unwrap();
    let fresh = srv.login("vh1", "vh-phone").await;
    let sid = &srv.store.list_sessions("u-vh1").await.unwrap()[session.len()].id;
    let old = keys.issue(
        "u-vh1",
        sid,
        "vh-phone",
        chrono::Utc::now().timestamp() - 7200,
    );
    let (s, body) = call(&srv, Some(&old), "GET", "/api/auth/me", None).await;
    assert_error(s, &body, 401, "token_expired");
    let forged = Keys::new(b"some-other-secret-32-bytes-long!!", Default::default()).issue(
        "u-admin",
        sid,
        "x",
        chrono::Utc::now().timestamp(),
    );
    let (s, body) = call(&srv, Some(&forged), "GET", "/api/auth/me", None).await;
    assert_error(s, &body, 401, "invalid_token");
    let (s, _) = call(&srv, Some(&fresh), "GET", "/api/auth/me", None).await;
    assert_eq!(s, 200);

    // A disabled account cannot sign in, and its open sessions stop.
    let (s, _) = call(
        &srv,
        Some(&admin),
        "PATCH",
        "/api/users/u-vh1",
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = call(&srv, Some(&fresh), "GET", "/api/auth/me", None).await;
    assert_error(s, &body, 401, "account_disabled");
    let (s, body) = call(
        &srv,
        None,
        "POST",
        "/api/auth/login",
        Some(login("vh1", fixture::PASSWORD, "vh-phone")),
    )
    .await;
    assert_error(s, &body, 401, "account_disabled");
    db.cleanup().await;
}

async fn bad_input_gets_a_clear_error_and_no_5xx(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let t = srv.login("vh1", "vh-phone").await;
    let (s, body) = raw(
        &srv,
        &t,
        "POST",
        "/api/households",
        Some("application/json"),
        b"{\"code\": \"H-9\",".to_vec(),
    )
    .await;
    assert_error(s, &body, 400, "malformed_json");
    let (s, body) = call(
        &srv,
        Some(&t),
        "POST",
        "/api/households",
        Some(json!({"code": 9})),
    )
    .await;
    assert_error(s, &body, 400, "invalid_fields");
    let (s, body) = call(&srv, Some(&t), "POST", "/api/households", Some(json!({"code": "H-9", "village_id": "v1", "address": "", "head_name": "A", "residence": "rural", "colour": "red"}))).await;
    assert_error(s, &body, 400, "invalid_fields");
    let (s, body) = raw(&srv, &t, "POST", "/api/households", None, b"{}".to_vec()).await;
    assert_error(s, &body, 400, "content_type");
    let (s, body) = call(&srv, Some(&t), "POST", "/api/households", Some(json!({"code": " ", "village_id": "v1", "address": "", "head_name": "", "residence": "rural"}))).await;
    assert_error(s, &body, 422, "validation_failed");
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["code", "head_name"]);
    assert_eq!(body["fields"][0]["message"]["vi"], "Không được để trống.");
    let (s, body) = call(&srv, Some(&t), "POST", "/api/households", Some(json!({"code": "H-9", "village_id": "no-such", "address": "", "head_name": "A", "residence": "rural"}))).await;
    assert_error(s, &body, 422, "validation_failed");
    assert_eq!(body["fields"][0]["code"], "unknown_area");
    let (s, body) = call(&srv, Some(&t), "POST", "/api/households", Some(json!({"code": "H-1", "village_id": "v1", "address": "", "head_name": "A", "residence": "rural"}))).await;
    assert_error(s, &body, 409, "duplicate");
    let big = format!("{{\"code\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    // The server answers before reading the whole body and closes that connection, so
    // this request gets a client of its own.
    let r = reqwest::Client::new()
        .post(srv.url("/api/households"))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    assert_error(s, &r.json().await.unwrap(), 413, "body_too_large");
    let (s, body) = call(
        &srv,
        Some(&t),
        "GET",
        "/api/households/does-not-exist",
        None,
    )
    .await;
    assert_error(s, &body, 404, "not_found");
    let (s, body) = call(&srv, Some(&t), "GET", "/api/nothing-here", None).await;
    assert_error(s, &body, 404, "not_found");
    let (s, body) = call(&srv, Some(&t), "DELETE", "/api/households", None).await;
    assert_error(s, &body, 400, "method_not_allowed");
    let (s, body) = call(&srv, Some(&t), "GET", "/api/households?limit=abc", None).await;
    assert_error(s, &body, 400, "invalid_query");
    let (s, body) = call(&srv, Some(&t), "GET", "/api/households?status=rich", None).await;
    assert_error(s, &body, 400, "invalid_query");
    let (s, body) = call(&srv, Some(&t), "GET", "/api/households?limit=0", None).await;
    assert_error(s, &body, 400, "invalid_query");
    let (s, body) = call(&srv, Some(&t), "POST", "/api/households/h1/assessments", Some(json!({"kind": "annual", "date": "2019-01-01", "evidence": {"residence": "rural", "income": {"kind": "b1", "score": 100}, "deprivation": {"kind": "b2", "score": 40}}}))).await;
    assert_error(s, &body, 422, "validation_failed");
    assert_eq!(body["fields"][0]["code"], "no_rule_set");
    let (s, body) = call(&srv, Some(&t), "POST", "/api/households/h1/assessments", Some(json!({"kind": "annual", "date": "2026-10-01", "evidence": {"residence": "rural", "income": {"kind": "b1", "score": 100}, "deprivation": {"kind": "b2", "score": 45}}}))).await;
    assert_error(s, &body, 422, "validation_failed");
    assert_eq!(body["fields"][0]["field"], "evidence.deprivation.score");
    db.cleanup().await;
}

async fn reviews_are_classified_on_the_server_and_writes_audited(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let t = srv.login("vh1", "vh-phone-7").await;
    let review = json!({"kind": "annual", "date": "2026-10-15", "evidence": {"residence": "rural",
        "income": {"kind": "income", "per_person_month": 1_400_000},
        "deprivation": {"kind": "indicators", "deprived": ["health_insurance", "latrine", "water_source"]}}});
    let (s, a) = call(
        &srv,
        Some(&t),
        "POST",
        "/api/households/h2/assessments",
        Some(review),
    )
    .await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["classification"], "poor");
    // The October 2026 review decides 2027: the 2027–2030 standard.
    assert_eq!(a["explanation"]["rule_set_id"], "vn-2027-2030");
    assert_eq!(a["explanation"]["income_line"], 2_200_000);
    assert!(
        a["explanation"]["reasons"][1]["vi"]
            .as_str()
            .unwrap()
            .contains("Bảo hiểm y tế")
    );
    let (_, detail) = call(&srv, Some(&t), "GET", "/api/households/h2", None).await;
    assert_eq!(
        detail["household"]["status"], "near_poor",
        "the official status waits for the commune's decision"
    );
    assert_eq!(detail["assessments"].as_array().unwrap().len(), 1);

    let officer = srv.login("officer1", "laptop").await;
    let (_, audit) = call(
        &srv,
        Some(&officer),
        "GET",
        &format!("/api/audit?entity_id={}", a["id"].as_str().unwrap()),
        None,
    )
    .await;
    // The trail is read per household; the review's own id is not a household.
    assert_eq!(audit["code"], "not_found");
    let (s, h) = call(&srv, Some(&t), "POST", "/api/households", Some(json!({"code": "H-NEW", "village_id": "v1", "address": "Xóm 4", "head_name": "Lò Văn Pản", "residence": "rural", "priority": {"ethnic_minority": true}}))).await;
    assert_eq!(s, 201);
    let id = h["id"].as_str().unwrap();
    let (s, audit) = call(
        &srv,
        Some(&officer),
        "GET",
        &format!("/api/audit?entity_id={id}"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(audit[0]["action"], "create");
    assert_eq!(audit[0]["user_id"], "u-vh1");
    assert_eq!(audit[0]["device_id"], "vh-phone-7");
    assert_eq!(audit[0]["changes"]["created"]["head_name"], "Lò Văn Pản");

    // The 2027–2030 standard can be previewed before it takes effect.
    let (s, o) = call(&srv, Some(&t), "POST", "/api/rule-sets/vn-2027-2030/classify", Some(json!({"evidence": {"residence": "rural", "income": {"kind": "income", "per_person_month": 2_000_000}, "deprivation": {"kind": "indicators", "deprived": []}}}))).await;
    assert_eq!(s, 200);
    assert_eq!(o["classification"], "near_poor");

    let (s, stats) = call(&srv, Some(&officer), "GET", "/api/stats", None).await;
    assert_eq!(s, 200);
    assert_eq!(stats["households"], 3);
    assert_eq!(
        stats["poor"], 1,
        "h2's review proposed poor; no decision yet"
    );
    db.cleanup().await;
}

async fn a_cadre_sees_only_assigned_households(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let t = srv.login("cadre1", "phone").await;
    let (_, list) = call(&srv, Some(&t), "GET", "/api/households", None).await;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["h1"]);
    let (s, body) = call(&srv, Some(&t), "GET", "/api/households/h2", None).await;
    assert_error(s, &body, 403, "out_of_scope");
    // When the assignment ends ("Kết thúc": today), it has ended today: the household
    // leaves the cadre's list and counts as without a cadre everywhere.
    let officer = srv.login("officer1", "laptop").await;
    let (_, before) = call(
        &srv,
        Some(&officer),
        "GET",
        "/api/accompaniment?unassigned=true",
        None,
    )
    .await;
    assert!(!before.to_string().contains("\"h1\""), "{before}");
    let today = server::today();
    let (s, _) = call(
        &srv,
        Some(&officer),
        "POST",
        "/api/assignments/a1/end",
        Some(json!({"to_date": today})),
    )
    .await;
    assert_eq!(s, 200);
    let (_, list) = call(&srv, Some(&t), "GET", "/api/households", None).await;
    assert_eq!(list.as_array().unwrap().len(), 0);
    let (_, after) = call(
        &srv,
        Some(&officer),
        "GET",
        "/api/accompaniment?unassigned=true",
        None,
    )
    .await;
    assert!(after.to_string().contains("\"h1\""), "{after}");
    let (_, running) = call(
        &srv,
        Some(&officer),
        "GET",
        "/api/assignments?active=true",
        None,
    )
    .await;
    assert!(!running.to_string().contains("\"a1\""), "{running}");
    let (s, body) = call(&srv, Some(&officer), "POST", "/api/assignments", Some(json!({"household_id": "h2", "cadre_id": "u-vh1", "from_date": "2026-01-01", "cadence_days": 30}))).await;
    assert_error(s, &body, 422, "validation_failed");
    assert_eq!(body["fields"][0]["code"], "not_a_cadre");
    let (s, _) = call(&srv, Some(&officer), "POST", "/api/assignments", Some(json!({"household_id": "h2", "cadre_id": "u-cadre1", "from_date": "2026-01-01", "cadence_days": 30}))).await;
    assert_eq!(s, 201);
    let (s, body) = call(&srv, Some(&officer), "POST", "/api/assignments", Some(json!({"household_id": "h2", "cadre_id": "u-cadre1", "from_date": "2026-02-01", "cadence_days": 30}))).await;
    assert_error(s, &body, 409, "already_assigned");
    let (_, list) = call(&srv, Some(&t), "GET", "/api/households", None).await;
    assert_eq!(list.as_array().unwrap()[0]["id"], "h2");
    db.cleanup().await;
}

async fn the_api_document_and_health_check_are_served(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let r = srv.http.get(srv.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (s, doc) = call(&srv, None, "GET", "/api/openapi.json", None).await;
    assert_eq!(s, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    for p in [
        "/auth/login",
        "/households/{id}",
        "/assignments",
        "/targets/{area_id}/{year}",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} is documented");
    }
    assert!(doc["components"]["schemas"].get("ErrorBody").is_some());
    db.cleanup().await;
}

/// One household code, one household: on the REST door a code is the same code in
/// another letter case, with spaces around it, or with its accents typed decomposed; codes
/// stored before that rule are listed for the officer by `donghanh check-codes`.
async fn a_household_code_is_one_code_whatever_its_case_or_unicode_form(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let t = srv.login("officer1", "laptop-1").await;
    let register = |code: &str| json!({"code": code, "village_id": "v1", "address": "", "head_name": "Lò Văn Pản", "residence": "rural"});
    for code in ["h-1", " H-1", "h-1 "] {
        let (s, body) = call(
            &srv,
            Some(&t),
            "POST",
            "/api/households",
            Some(register(code)),
        )
        .await;
        assert_error(s, &body, 409, "duplicate");
    }
    let (s, body) = call(
        &srv,
        Some(&t),
        "POST",
        "/api/households",
        Some(register("Đồi-7")),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    let nfd = "đo\u{302}\u{300}i-7";
    let (s, body) = call(
        &srv,
        Some(&t),
        "POST",
        "/api/households",
        Some(register(nfd)),
    )
    .await;
    assert_error(s, &body, 409, "duplicate");
    // Renaming another household's code onto a taken one is refused too.
    let (s, h2) = call(&srv, Some(&t), "GET", "/api/households/h2", None).await;
    assert_eq!(s, 200, "{h2}");
    let edit = &h2["household"];
    let input = json!({"code": "ĐỒI-7", "village_id": edit["village_id"], "address": edit["address"], "head_name": edit["head_name"], "residence": edit["residence"]});
    let (s, body) = call(&srv, Some(&t), "PUT", "/api/households/h2", Some(input)).await;
    assert_error(s, &body, 409, "duplicate");

    // Households an older server stored: two codes that are one once compared by their
    // key, and one that is alone.
    let groups = server::codes::collisions(db.store().await.as_ref())
        .await
        .unwrap();
    assert!(groups.is_empty(), "{groups:?}");
    db.execute(
        "INSERT INTO households (id, code, village_id, address, head_name, residence, status, priority, causes, created_at, updated_at, search_text) \
         VALUES ('old-1', 'h-1 ', 'v1', '', 'Cũ', 'rural', 'not_reviewed', '{}', '[]', '2025-01-01', '2025-01-01', 'h-1'), \
                ('old-2', 'Lẻ-9', 'v1', '', 'Cũ', 'rural', 'not_reviewed', '{}', '[]', '2025-01-01', '2025-01-01', 'le-9')",
    )
    .await;
    // The server, starting, gives the lone one its key and leaves the colliding one.
    let store = db.store().await;
    let groups = server::codes::collisions(store.as_ref()).await.unwrap();
    let ids: Vec<Vec<&str>> = groups
        .iter()
        .map(|g| g.iter().map(|h| h.id.as_str()).collect())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert!(
        ids[0].contains(&"h1") && ids[0].contains(&"old-1"),
        "{ids:?}"
    );
    assert!(server::codes::text(&groups).contains("old-1"));
    let srv2 = TestServer::start(store, None).await;
    let t2 = srv2.login("officer1", "laptop-2").await;
    let (s, body) = call(
        &srv2,
        Some(&t2),
        "POST",
        "/api/households",
        Some(register("LẺ-9")),
    )
    .await;
    assert_error(s, &body, 409, "duplicate");
    db.cleanup().await;
}

/// Signs in over the API on `device`: the access and the refresh token.
async fn tokens(srv: &TestServer, username: &str, device: &str) -> (String, String) {
    let (s, pair) = call(
        srv,
        None,
        "POST",
        "/api/auth/login",
        Some(json!({"username": username, "password": fixture::PASSWORD, "device_id": device})),
    )
    .await;
    assert_eq!(s, 200, "{pair}");
    (
        pair["access_token"].as_str().unwrap().to_string(),
        pair["refresh_token"].as_str().unwrap().to_string(),
    )
}

/// vh1's session on `device`, as the device list shows it.
async fn vh1_device(srv: &TestServer, admin: &str, device: &str) -> Value {
    let (_, devices) = call(srv, Some(admin), "GET", "/api/users/u-vh1/devices", None).await;
    devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device_id"] == device)
        .cloned()
        .unwrap_or_else(|| panic!("no session on {device}: {devices}"))
}

/// Revoking says what it means: "sign out" refuses the phone with `session_revoked` and
/// lets the person sign in again; "erase" refuses it with `device_erase` until the phone
/// confirms, which only the revoked session's refresh token of that device can do, once.
/// A phone's sync reports its unsent count, which the device list shows.
async fn a_revoked_phone_is_told_to_sign_out_or_to_erase_itself(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let (admin, _) = tokens(&srv, "admin", "desk").await;
    let (access, refresh) = tokens(&srv, "vh1", "phone-a").await;

    // A sync reports 3 households unsent; the device list shows it.
    let sync = serde_json::to_value(shared::sync::SyncRequest {
        protocol: shared::sync::PROTOCOL,
        cursor: 0,
        pushes: vec![],
        held: shared::sync::Held::of(std::iter::empty::<&String>()),
        want: vec![],
        resume: None,
        unsent: Some(3),
    })
    .unwrap();
    let (s, body) = call(&srv, Some(&access), "POST", "/api/sync", Some(sync)).await;
    assert_eq!(s, 200, "{body}");
    let d = vh1_device(&srv, &admin, "phone-a").await;
    assert_eq!(d["unsent"], 3, "{d}");
    assert!(d["revoked_at"].is_null());

    // An unknown kind is refused in words; nothing is revoked.
    let revoke = |device: &str| format!("/api/users/u-vh1/devices/{device}/revoke");
    let kind = |k: &str| Some(json!({ "kind": k }));
    let (s, body) = call(&srv, Some(&admin), "POST", &revoke("phone-a"), kind("wipe")).await;
    assert_eq!(s, 400, "{body}");
    assert!(!body["message"]["vi"].as_str().unwrap().is_empty());
    let (s, _) = call(&srv, Some(&access), "GET", "/api/auth/me", None).await;
    assert_eq!(s, 200, "a refused revocation revokes nothing");

    // Erase: every request and every renewal says so.
    let (s, _) = call(
        &srv,
        Some(&admin),
        "POST",
        &revoke("phone-a"),
        kind("erase"),
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = call(&srv, Some(&access), "GET", "/api/auth/me", None).await;
    assert_error(s, &body, 401, "device_erase");
    let renew = json!({"refresh_token": refresh, "device_id": "phone-a"});
    let (s, body) = call(&srv, None, "POST", "/api/auth/refresh", Some(renew)).await;
    assert_error(s, &body, 401, "device_erase");
    // Signing out later does not soften it.
    let (s, _) = call(
        &srv,
        Some(&admin),
        "POST",
        &revoke("phone-a"),
        kind("sign_out"),
    )
    .await;
    assert_eq!(s, 404, "no active session is left to sign out");

    // Only the revoked session's token, from its own device, confirms; once.
    let erased = |token: &str, device: &str, unsent: u32| {
        Some(json!({"refresh_token": token, "device_id": device, "unsent": unsent}))
    };
    for (token, device) in [("a-guess", "phone-a"), (refresh.as_str(), "another-phone")] {
        let (s, body) = call(
            &srv,
            None,
            "POST",
            "/api/auth/erased",
            erased(token, device, 2),
        )
        .await;
        assert_error(s, &body, 401, "invalid_token");
    }
    let (s, body) = call(
        &srv,
        None,
        "POST",
        "/api/auth/erased",
        erased("", "phone-a", 2_000_000),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    let (s, body) = call(
        &srv,
        None,
        "POST",
        "/api/auth/erased",
        erased(&refresh, "phone-a", 2),
    )
    .await;
    assert_eq!(s, 204, "{body}");
    let (s, body) = call(
        &srv,
        None,
        "POST",
        "/api/auth/erased",
        erased(&refresh, "phone-a", 2),
    )
    .await;
    assert_error(s, &body, 401, "invalid_token");
    let d = vh1_device(&srv, &admin, "phone-a").await;
    assert_eq!(d["revoke_kind"], "erase");
    assert!(d["erased_at"].is_i64(), "{d}");
    assert_eq!(d["unsent"], 2, "the unsent work the erase took: {d}");
    // Erased: the phone is refused as any revoked one.
    let (s, body) = call(&srv, Some(&access), "GET", "/api/auth/me", None).await;
    assert_error(s, &body, 401, "session_revoked");

    // "Sign out" (no body): refused, and the same person signs in again on that phone.
    let (access, _) = tokens(&srv, "vh1", "phone-b").await;
    let (s, _) = call(&srv, Some(&admin), "POST", &revoke("phone-b"), None).await;
    assert_eq!(s, 200);
    let (s, body) = call(&srv, Some(&access), "GET", "/api/auth/me", None).await;
    assert_error(s, &body, 401, "session_revoked");
    assert_eq!(
        vh1_device(&srv, &admin, "phone-b").await["revoke_kind"],
        "sign_out"
    );
    tokens(&srv, "vh1", "phone-b").await;

    // The commune officer may do it for the commune's people, not another commune's.
    let (officer, _) = tokens(&srv, "officer1", "desk").await;
    let (s, _) = call(
        &srv,
        Some(&officer),
        "POST",
        &revoke("phone-b"),
        kind("erase"),
    )
    .await;
    assert_eq!(s, 200);
    let other = "/api/users/u-vh3/devices/phone-c/revoke";
    let (s, _) = call(&srv, Some(&officer), "POST", other, kind("erase")).await;
    assert_eq!(s, 403);
    db.cleanup().await;
}

/// The console's search box: a member's name typed without accents or a whole ID number
/// finds the household; part of a number, another commune's household or a household the
/// cadre does not accompany is never found.
async fn one_search_finds_a_household_by_any_name_or_a_whole_id_number(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let officer = srv.login("officer1", "laptop").await;
    let member = json!({"full_name": "Đặng Thị Hường", "birth_year": 1990, "sex": "female", "relation": "Con", "citizen_id": "001085012345"});
    let (s, _) = call(
        &srv,
        Some(&officer),
        "POST",
        "/api/households/h2/members",
        Some(member),
    )
    .await;
    assert_eq!(s, 201);
    let find = |token: String, q: &'static str| {
        let srv = &srv;
        async move {
            let path = format!("/api/search?q={}", q.replace(' ', "%20"));
            call(srv, Some(&token), "GET", &path, None).await
        }
    };
    let (s, hits) = find(officer.clone(), "dang thi huong").await;
    assert_eq!(s, 200, "{hits}");
    assert_eq!(hits.as_array().unwrap().len(), 1, "{hits}");
    assert_eq!(hits[0]["household_id"], "h2");
    assert_eq!(hits[0]["matched"]["vi"], "Thành viên: Đặng Thị Hường");
    let (_, hits) = find(officer.clone(), "001 085 012 345").await;
    assert_eq!(hits[0]["household_id"], "h2", "{hits}");
    assert_eq!(hits[0]["matched"]["vi"], "Số định danh của Đặng Thị Hường");
    let (_, hits) = find(officer.clone(), "0010850").await;
    assert_eq!(hits, json!([]), "part of an ID number finds nothing");
    // Codes first; the other commune's H-3 is not there.
    let (_, hits) = find(officer.clone(), "h-").await;
    let codes: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["H-1", "H-2"]);
    let cadre = srv.login("cadre1", "phone").await;
    let (_, hits) = find(cadre, "chu ho").await;
    let ids: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["household_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["h1"],
        "a cadre finds only the households they accompany"
    );
    let (s, body) = find(officer.clone(), "%20").await;
    assert_error(s, &body, 400, "invalid_query");
    let long = "a".repeat(101);
    let (s, body) = call(
        &srv,
        Some(&officer),
        "GET",
        &format!("/api/search?q={long}"),
        None,
    )
    .await;
    assert_error(s, &body, 400, "invalid_query");
    let (s, body) = call(
        &srv,
        Some(&officer),
        "GET",
        "/api/search?q=lo&limit=51",
        None,
    )
    .await;
    assert_error(s, &body, 400, "invalid_query");
    let province = srv.login("province", "laptop").await;
    let (s, _) = find(province, "lo").await;
    assert_eq!(s, 403);
    db.cleanup().await;
}

/// A support delivery keeps its date and amount; one recorded by mistake goes back to
/// planned by a change of its own; a transition the law has not is refused with a reason.
async fn a_support_delivery_keeps_its_date_and_amount_and_a_mistake_goes_back(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let officer = srv.login("officer1", "laptop").await;
    let plan = json!({"kind": "loan", "project": "other_policy", "provider": "NHCSXH", "amount_vnd": 50000000, "planned_date": "2026-11-01"});
    let (s, planned) = call(
        &srv,
        Some(&officer),
        "POST",
        "/api/households/h1/support",
        Some(plan),
    )
    .await;
    assert_eq!(s, 201, "{planned}");
    let path = format!("/api/support/{}/status", planned["id"].as_str().unwrap());
    let (s, body) = call(
        &srv,
        Some(&officer),
        "POST",
        &path,
        Some(json!({"status": "cancelled", "amount_vnd": 5})),
    )
    .await;
    assert_error(s, &body, 422, "validation_failed");
    let (s, body) = call(
        &srv,
        Some(&officer),
        "POST",
        &path,
        Some(json!({"status": "planned"})),
    )
    .await;
    assert_error(s, &body, 409, "duplicate");
    let (s, done) = call(
        &srv,
        Some(&officer),
        "POST",
        &path,
        Some(
            json!({"status": "delivered", "delivered_date": "2026-11-20", "amount_vnd": 45000000}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(
        (done["delivered_date"].as_str(), done["amount_vnd"].as_i64()),
        (Some("2026-11-20"), Some(45000000))
    );
    let (s, body) = call(
        &srv,
        Some(&officer),
        "POST",
        &path,
        Some(json!({"status": "cancelled"})),
    )
    .await;
    assert_error(s, &body, 409, "invalid_transition");
    let (s, back) = call(
        &srv,
        Some(&officer),
        "POST",
        &path,
        Some(json!({"status": "planned", "amount_vnd": 50000000})),
    )
    .await;
    assert_eq!(s, 200, "{back}");
    assert_eq!(
        (
            back["status"].as_str(),
            back["delivered_date"].as_str(),
            back["amount_vnd"].as_i64()
        ),
        (Some("planned"), None, Some(50000000))
    );
    // The household's history says both, in words.
    let (_, history) = call(
        &srv,
        Some(&officer),
        "GET",
        "/api/households/h1/history",
        None,
    )
    .await;
    let said = history["history"]["entries"].to_string();
    assert!(said.contains("Trạng thái: Dự kiến → Đã trao"), "{said}");
    assert!(said.contains("Ngày trao: — → 20/11/2026"), "{said}");
    assert!(said.contains("Trạng thái: Đã trao → Dự kiến"), "{said}");
    db.cleanup().await;
}

/// A device is named at sign-in by what it says of itself (or its browser's header), and
/// its person renames it; the administrator reads the names, never a bare id.
async fn a_device_is_named_at_sign_in_and_renamed_by_its_person(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let named = json!({"username": "vh1", "password": fixture::PASSWORD, "device_id": "phone-n", "device_name": "Chrome · Android · SM-A145F"});
    let (s, pair) = call(&srv, None, "POST", "/api/auth/login", Some(named)).await;
    assert_eq!(s, 200);
    let token = pair["access_token"].as_str().unwrap().to_string();
    let r = srv
        .http
        .post(srv.url("/api/auth/login"))
        .header("user-agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
        .json(&json!({"username": "vh1", "password": fixture::PASSWORD, "device_id": "desk-n"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let admin = srv.login("admin", "admin-desk").await;
    let names = |devices: &Value| -> Vec<(String, String)> {
        devices
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["device_id"].as_str().unwrap().to_string(),
                    d["device_name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let (_, devices) = call(&srv, Some(&admin), "GET", "/api/users/u-vh1/devices", None).await;
    let seen = names(&devices);
    assert!(
        seen.contains(&("phone-n".into(), "Chrome · Android · SM-A145F".into())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&("desk-n".into(), "Chrome · Windows".into())),
        "{seen:?}"
    );
    // Renamed by its person; a hostile name is cleaned and bounded, an empty one refused.
    let (s, _) = call(
        &srv,
        Some(&token),
        "PUT",
        "/api/auth/device",
        Some(json!({"name": "  Điện thoại\u{0007} của Pản  "})),
    )
    .await;
    assert_eq!(s, 204);
    let (s, body) = call(
        &srv,
        Some(&token),
        "PUT",
        "/api/auth/device",
        Some(json!({"name": " \n "})),
    )
    .await;
    assert_error(s, &body, 422, "validation_failed");
    let (s, body) = call(
        &srv,
        Some(&token),
        "PUT",
        "/api/auth/device",
        Some(json!({"name": "x".repeat(1000)})),
    )
    .await;
    assert_error(s, &body, 422, "validation_failed");
    let (_, devices) = call(&srv, Some(&admin), "GET", "/api/users/u-vh1/devices", None).await;
    assert!(
        names(&devices).contains(&("phone-n".into(), "Điện thoại của Pản".into())),
        "{devices}"
    );
    // A sign-in naming its device at length is refused before the password is checked.
    let long = json!({"username": "vh1", "password": fixture::PASSWORD, "device_id": "phone-x", "device_name": "x".repeat(1000)});
    let (s, body) = call(&srv, None, "POST", "/api/auth/login", Some(long)).await;
    assert_error(s, &body, 422, "validation_failed");
    db.cleanup().await;
}

on_both_backends!(
    a_support_delivery_keeps_its_date_and_amount_and_a_mistake_goes_back,
    a_device_is_named_at_sign_in_and_renamed_by_its_person,
    one_search_finds_a_household_by_any_name_or_a_whole_id_number,
    a_revoked_phone_is_told_to_sign_out_or_to_erase_itself,
    a_household_code_is_one_code_whatever_its_case_or_unicode_form,
    sign_in_refresh_rotate_revoke_and_sign_out,
    bad_input_gets_a_clear_error_and_no_5xx,
    reviews_are_classified_on_the_server_and_writes_audited,
    a_cadre_sees_only_assigned_households,
    the_api_document_and_health_check_are_served,
);
