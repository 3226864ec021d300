//! The review as the law runs it, on SQLite and PostgreSQL: a village head's review never
//! changes a household's status; the commune leader's decision does, and only after a
//! village meeting where at least half agreed and a posting; the September 2026 review
//! uses the 2027–2030 standard; an escaped household keeps its 36-month window and a fall
//! back raises the flag. Every step goes through the same write core as a phone's sync.

use serde_json::{Value, json};
use tests::{Backend, TestDb, TestServer, fixture, on_both_backends};

async fn setup(b: Backend) -> Option<(TestDb, TestServer)> {
    let db = TestDb::open(b).await?;
    let store = db.store().await;
    fixture::load(&store).await;
    let srv = TestServer::start(store, None).await;
    Some((db, srv))
}

async fn send(
    srv: &TestServer,
    token: &str,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let c = reqwest::Client::new();
    let r = match method {
        "GET" => c.get(srv.url(path)),
        _ => c.post(srv.url(path)).json(&body),
    }
    .bearer_auth(token)
    .send()
    .await
    .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Records a review of h1 by the village head: poor evidence or not.
async fn review(srv: &TestServer, vh: &str, kind: &str, date: &str, poor: bool) -> Value {
    let income = if poor { 900_000 } else { 4_000_000 };
    let deprived: Vec<&str> = if poor {
        vec!["nutrition", "latrine", "telecom"]
    } else {
        vec![]
    };
    let (status, body) = send(
        srv,
        vh,
        "POST",
        "/api/households/h1/assessments",
        json!({"kind": kind, "date": date, "evidence": {"residence": "rural",
            "income": {"kind": "income", "per_person_month": income},
            "deprivation": {"kind": "indicators", "deprived": deprived}}}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body
}

/// Records a step for h1; returns the refusal, if any.
async fn step(srv: &TestServer, token: &str, date: &str, s: Value) -> Option<String> {
    let (status, body) = send(
        srv,
        token,
        "POST",
        "/api/reviews/steps",
        json!({"household_ids": ["h1"], "date": date, "step": s}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body[0]["refused"]["en"].as_str().map(str::to_string)
}

async fn status(srv: &TestServer, token: &str) -> String {
    let (_, h) = send(srv, token, "GET", "/api/households/h1", Value::Null).await;
    h["household"]["status"].as_str().unwrap().to_string()
}

async fn a_status_changes_only_through_a_valid_decision(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let vh = srv.login("vh1", "vh-phone").await;
    let officer = srv.login("officer1", "office").await;
    let leader = srv.login("leader1", "office").await;
    // The September 2026 review decides 2027: the 2027–2030 standard classifies it.
    let r = review(&srv, &vh, "annual", "2026-09-20", false).await;
    assert_eq!(r["explanation"]["rule_set_id"], "vn-2027-2030");
    assert_eq!(
        status(&srv, &officer).await,
        "poor",
        "a village head's review alone never changes the status"
    );
    let decide = json!({"kind": "decision", "number": "12/QĐ-UBND", "approved": true});
    // No meeting yet: the leader cannot decide.
    let why = step(&srv, &leader, "2026-10-20", decide.clone()).await;
    assert!(
        why.as_deref().unwrap_or_default().contains("meeting"),
        "{why:?}"
    );
    // A meeting below half agreeing does not make the result valid.
    assert_eq!(
        step(
            &srv,
            &vh,
            "2026-09-27",
            json!({"kind": "meeting", "attendees": 40, "agreed": 19})
        )
        .await,
        None
    );
    assert_eq!(
        step(
            &srv,
            &vh,
            "2026-09-29",
            json!({"kind": "posted", "until": "2026-10-06"})
        )
        .await,
        None
    );
    let why = step(&srv, &leader, "2026-10-20", decide.clone()).await;
    assert!(why.unwrap().contains("below 50%"));
    assert_eq!(status(&srv, &officer).await, "poor");
    // The village head and the officer may not decide.
    let (code, _) = send(
        &srv,
        &vh,
        "POST",
        "/api/reviews/steps",
        json!({"household_ids": ["h1"], "date": "2026-10-20", "step": decide}),
    )
    .await;
    assert_eq!(code, 403);
    assert!(
        step(&srv, &officer, "2026-10-20", decide.clone())
            .await
            .is_some()
    );
    // A second meeting with 20 of 40 (exactly half) agreeing; an open complaint blocks.
    assert_eq!(
        step(
            &srv,
            &vh,
            "2026-10-02",
            json!({"kind": "meeting", "attendees": 40, "agreed": 20})
        )
        .await,
        None
    );
    assert_eq!(
        step(
            &srv,
            &vh,
            "2026-10-03",
            json!({"kind": "complaint", "text": "Hộ đã có xe máy mới"})
        )
        .await,
        None
    );
    assert!(
        step(&srv, &leader, "2026-10-20", decide.clone())
            .await
            .unwrap()
            .contains("complaint")
    );
    let (_, c) = send(
        &srv,
        &officer,
        "GET",
        "/api/reviews/campaign?year=2026",
        Value::Null,
    )
    .await;
    let row = &c["rows"][0];
    assert_eq!(row["proposed"], "not_poor");
    assert_eq!(row["official"], "poor");
    let complaint = row["progress"]["unanswered"][0]["step_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        step(&srv, &officer, "2026-10-05", json!({"kind": "answer", "complaint": complaint, "text": "Xe mua trả góp; thu nhập không đổi."})).await,
        None
    );
    // The dashboard's movement figures before the decision (kept by the server between
    // requests while the register stands)...
    let (_, before) = send(&srv, &officer, "GET", "/api/dashboard", Value::Null).await;
    // Now the decision is taken and the status is the review's result.
    assert_eq!(
        step(&srv, &leader, "2026-10-20", decide.clone()).await,
        None
    );
    assert_eq!(status(&srv, &officer).await, "newly_escaped");
    // ...and after it: the household it moved is counted at once.
    let (_, after) = send(&srv, &officer, "GET", "/api/dashboard", Value::Null).await;
    assert_ne!(before["movement"], after["movement"]);
    assert_eq!(after["movement"]["since"], "2026-09-01");
    let escaped = after["movement"]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["movement"] == "escaped")
        .unwrap();
    assert_eq!(escaped["households"], 1, "{after}");
    assert!(
        step(&srv, &leader, "2026-10-21", decide)
            .await
            .unwrap()
            .contains("no review waiting"),
        "a review is decided once"
    );
    let (_, c) = send(
        &srv,
        &officer,
        "GET",
        "/api/reviews/campaign?year=2026",
        Value::Null,
    )
    .await;
    assert_eq!(c["rule_set_id"], "vn-2027-2030");
    assert!(!c["provisional"].as_array().unwrap().is_empty());
    // The ledger holds the decision with its basis and who recorded it; the history says
    // in words what the decision changed, by whom and through which door.
    let (s, h) = send(
        &srv,
        &officer,
        "GET",
        "/api/households/h1/history",
        Value::Null,
    )
    .await;
    assert_eq!(s, 200, "{h}");
    let moves = h["movements"].as_array().unwrap();
    let decided: Vec<&Value> = moves
        .iter()
        .filter(|m| m["basis"]["kind"] == "decision")
        .collect();
    assert_eq!(decided.len(), 1, "{moves:?}");
    assert_eq!(
        (
            decided[0]["from"].as_str(),
            decided[0]["to"].as_str(),
            decided[0]["date"].as_str()
        ),
        (Some("poor"), Some("newly_escaped"), Some("2026-10-20"))
    );
    assert_eq!(decided[0]["basis"]["number"], "12/QĐ-UBND");
    assert_eq!(decided[0]["by"], "u-leader1");
    assert!(
        decided[0]["basis_text"]["vi"]
            .as_str()
            .unwrap()
            .contains("12/QĐ-UBND")
    );
    assert_eq!(
        moves[0]["from"],
        Value::Null,
        "the household's entry comes first"
    );
    let entries = h["history"]["entries"].as_array().unwrap();
    let decision = entries
        .iter()
        .find(|e| e["door"] == "decision")
        .expect("the decision's change");
    assert_eq!(decision["user_id"], "u-leader1");
    assert!(
        decision["device_name"]
            .as_str()
            .unwrap()
            .starts_with("Máy 1 của"),
        "{decision}"
    );
    let items: Vec<&str> = decision["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["vi"].as_str().unwrap())
        .collect();
    assert!(
        items
            .iter()
            .any(|t| t.starts_with("Phân loại: ") && t.contains(" → ")),
        "{items:?}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e["door"] == "console" && e["user_id"] == "u-vh1"),
        "the village head's review through the REST door"
    );
    // A cadre of another village may not read it.
    let other = srv.login("vh3", "vh3-phone").await;
    let (s, _) = send(
        &srv,
        &other,
        "GET",
        "/api/households/h1/history",
        Value::Null,
    )
    .await;
    assert!(s == 403 || s == 404, "{s}");
    let v1 = c["villages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["village_id"] == "v1")
        .unwrap();
    assert_eq!(
        (
            v1["reviewed"].as_u64(),
            v1["met"].as_u64(),
            v1["decided"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );
    db.assert_counts_agree().await;
    db.cleanup().await;
}

fn posted_until(posted: &str) -> String {
    let day: chrono::NaiveDate = posted.parse().unwrap();
    (day + chrono::Duration::days(7)).to_string()
}

async fn an_escape_keeps_its_window_and_a_fall_back_raises_the_flag(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let vh = srv.login("vh1", "vh-phone").await;
    let leader = srv.login("leader1", "office").await;
    let officer = srv.login("officer1", "office").await;
    let decide = json!({"kind": "decision", "number": "7/QĐ-UBND", "approved": true});
    let run =
        |date: &'static str, meeting: &'static str, posted: &'static str, decided: &'static str| {
            let (srv, vh, leader, decide) = (&srv, &vh, &leader, decide.clone());
            async move {
                let _ = date;
                assert_eq!(
                    step(
                        srv,
                        vh,
                        meeting,
                        json!({"kind": "meeting", "attendees": 30, "agreed": 25})
                    )
                    .await,
                    None
                );
                assert_eq!(
                    step(
                        srv,
                        vh,
                        posted,
                        // Posted for a week; the decision comes after it.
                        json!({"kind": "posted", "until": posted_until(posted)})
                    )
                    .await,
                    None
                );
                assert_eq!(step(srv, leader, decided, decide).await, None);
            }
        };
    review(&srv, &vh, "annual", "2025-10-01", false).await;
    run("2025-10-01", "2025-10-08", "2025-10-10", "2025-12-12").await;
    assert_eq!(status(&srv, &officer).await, "newly_escaped");
    let (_, t) = send(
        &srv,
        &officer,
        "GET",
        "/api/reviews/tracking?flag=in_window",
        Value::Null,
    )
    .await;
    assert_eq!(t[0]["household_id"], "h1");
    assert_eq!(t[0]["trajectory"]["escaped_on"], "2025-12-12");
    assert_eq!(t[0]["trajectory"]["window_until"], "2028-12-12");
    assert!(!t[0]["owed"].as_array().unwrap().is_empty());
    // Poor again on its own request: the fall back is flagged and the window closes.
    review(&srv, &vh, "ad_hoc", "2026-03-02", true).await;
    run("2026-03-02", "2026-03-05", "2026-03-06", "2026-03-20").await;
    assert_eq!(status(&srv, &officer).await, "poor");
    let (_, t) = send(
        &srv,
        &officer,
        "GET",
        "/api/reviews/tracking?flag=fell_back",
        Value::Null,
    )
    .await;
    assert_eq!(t[0]["household_id"], "h1");
    assert_eq!(t[0]["trajectory"]["fell_back_on"], "2026-03-20");
    let (_, t) = send(
        &srv,
        &officer,
        "GET",
        "/api/reviews/tracking?flag=in_window",
        Value::Null,
    )
    .await;
    assert_eq!(t, json!([]));
    // A yearly review outside 1 September – 14 December is refused with the reason.
    let (code, body) = send(
        &srv,
        &vh,
        "POST",
        "/api/households/h1/assessments",
        json!({"kind": "annual", "date": "2026-06-01", "evidence": {"residence": "rural",
            "income": {"kind": "income", "per_person_month": 900000},
            "deprivation": {"kind": "indicators", "deprived": []}}}),
    )
    .await;
    assert_eq!(code, 422, "{body}");
    assert!(body.to_string().contains("14 December"));
    db.assert_counts_agree().await;
    db.cleanup().await;
}

/// What a hostile village head or leader would try through the campaign's doors.
async fn hostile_steps_are_refused_with_reasons(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let vh = srv.login("vh1", "vh-phone").await;
    let leader = srv.login("leader1", "office").await;
    let cadre = srv.login("cadre1", "c-phone").await;
    review(&srv, &vh, "annual", "2026-09-20", false).await;
    for (token, body, code) in [
        // Too many, repeated, none.
        (
            &vh,
            json!({"household_ids": ["h1", "h1"], "date": "2026-10-01", "step": {"kind": "posted", "until": "2026-10-08"}}),
            422,
        ),
        (
            &vh,
            json!({"household_ids": [], "date": "2026-10-01", "step": {"kind": "posted", "until": "2026-10-08"}}),
            422,
        ),
        (
            &vh,
            json!({"household_ids": (0..501).map(|i| format!("h{i}")).collect::<Vec<_>>(), "date": "2026-10-01", "step": {"kind": "posted", "until": "2026-10-08"}}),
            422,
        ),
        // A date ahead, a forged decision field, an unknown step.
        (
            &vh,
            json!({"household_ids": ["h1"], "date": "2099-01-01", "step": {"kind": "posted", "until": "2099-01-08"}}),
            422,
        ),
        (
            &leader,
            json!({"household_ids": ["h1"], "date": "2026-10-01", "step": {"kind": "decision", "number": "1", "approved": true, "to": "not_poor"}}),
            400,
        ),
        (
            &vh,
            json!({"household_ids": ["h1"], "date": "2026-10-01", "step": {"kind": "vote"}}),
            400,
        ),
        // A cadre records no step.
        (
            &cadre,
            json!({"household_ids": ["h1"], "date": "2026-10-01", "step": {"kind": "posted", "until": "2026-10-08"}}),
            403,
        ),
    ] {
        let (got, answer) = send(&srv, token, "POST", "/api/reviews/steps", body.clone()).await;
        assert_eq!(got, code, "{body} → {answer}");
        assert!(answer["message"]["vi"].is_string(), "a reason: {answer}");
    }
    // A household of another commune among them: nothing is recorded.
    let (code, out) = send(&srv, &vh, "POST", "/api/reviews/steps",
        json!({"household_ids": ["h1", "h3"], "date": "2026-10-01", "step": {"kind": "meeting", "attendees": 10, "agreed": 9}})).await;
    assert_eq!(code, 403, "{out}");
    let (_, c) = send(
        &srv,
        &vh,
        "GET",
        "/api/reviews/campaign?year=2026",
        Value::Null,
    )
    .await;
    assert!(
        c["rows"][0]["progress"]["meeting"].is_null(),
        "nothing recorded: {c}"
    );
    // More agreed than attended.
    assert!(
        step(
            &srv,
            &vh,
            "2026-10-01",
            json!({"kind": "meeting", "attendees": 10, "agreed": 11})
        )
        .await
        .is_some()
    );
    // A step before its review.
    assert!(
        step(
            &srv,
            &vh,
            "2026-09-01",
            json!({"kind": "meeting", "attendees": 10, "agreed": 9})
        )
        .await
        .is_some()
    );
    // An answer to a complaint that does not exist.
    assert!(
        step(
            &srv,
            &vh,
            "2026-10-01",
            json!({"kind": "answer", "complaint": "nope", "text": "x"})
        )
        .await
        .is_some()
    );
    db.assert_counts_agree().await;
    db.cleanup().await;
}

/// The review's steps in the law's order, and no date of year 1: a posting before its
/// meeting, a decision before the posting has ended or before the meeting are refused
/// with the reason; a step or an assignment dated 0001-01-01 is refused.
async fn the_steps_come_in_the_laws_order(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let vh = srv.login("vh1", "vh-phone").await;
    let leader = srv.login("leader1", "office").await;
    let officer = srv.login("officer1", "office").await;
    review(&srv, &vh, "annual", "2026-10-07", false).await;
    let meeting = json!({"kind": "meeting", "attendees": 30, "agreed": 25});
    let posted = json!({"kind": "posted", "until": "2026-10-23"});
    let decide = json!({"kind": "decision", "number": "9/QĐ-UBND", "approved": true});
    // Posting before any meeting, then a meeting, then a posting dated before it.
    let why = step(&srv, &vh, "2026-10-15", posted.clone()).await;
    assert!(why.unwrap_or_default().contains("meeting"));
    assert_eq!(step(&srv, &vh, "2026-10-14", meeting).await, None);
    let why = step(&srv, &vh, "2026-10-13", posted.clone()).await;
    assert!(
        why.unwrap_or_default()
            .contains("before the village meeting")
    );
    assert_eq!(step(&srv, &vh, "2026-10-16", posted).await, None);
    // A decision dated before the meeting, or while the result is still posted.
    let why = step(&srv, &leader, "2026-10-08", decide.clone()).await;
    assert!(
        why.unwrap_or_default()
            .contains("before the village meeting")
    );
    let why = step(&srv, &leader, "2026-10-20", decide.clone()).await;
    assert!(why.unwrap_or_default().contains("posted until 23/10/2026"));
    assert_eq!(status(&srv, &officer).await, "poor");
    assert_eq!(step(&srv, &leader, "2026-10-24", decide).await, None);
    assert_eq!(status(&srv, &officer).await, "newly_escaped");

    // Year 1: a step, an assignment's start and its end.
    let (code, body) = send(
        &srv,
        &vh,
        "POST",
        "/api/reviews/steps",
        json!({"household_ids": ["h1"], "date": "0001-01-01", "step": {"kind": "listed", "reason": "applied"}}),
    )
    .await;
    assert_eq!(code, 422, "{body}");
    let (code, body) = send(
        &srv,
        &officer,
        "POST",
        "/api/assignments",
        json!({"household_id": "h2", "cadre_id": "u-cadre1", "from_date": "0001-01-01", "cadence_days": 30}),
    )
    .await;
    assert_eq!(code, 422, "{body}");
    let (code, body) = send(
        &srv,
        &officer,
        "POST",
        "/api/assignments/a1/end",
        json!({"to_date": "9999-12-31"}),
    )
    .await;
    assert_eq!(code, 422, "{body}");
    db.assert_counts_agree().await;
    db.cleanup().await;
}

/// A household leaves the register only by the commune's record (moved away, merged,
/// split, dissolved), once, not before it was registered; from that day it is out of the
/// lists and counts, the report counts it as an outflow and still adds up, and its ledger
/// says why and who recorded it.
async fn a_household_leaves_the_register_only_by_the_communes_record(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let vh = srv.login("vh1", "vh-phone").await;
    let officer = srv.login("officer1", "office").await;
    let leave = |date: &str| json!({"household_ids": ["h2"], "date": date, "step": {"kind": "left", "reason": "moved_away", "number": "5/XN-UBND"}});
    let (s, _) = send(&srv, &vh, "POST", "/api/reviews/steps", leave("2026-03-10")).await;
    assert_eq!(
        s, 403,
        "a village head does not take a household off the register"
    );
    let (s, body) = send(
        &srv,
        &officer,
        "POST",
        "/api/reviews/steps",
        leave("2024-06-01"),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert!(
        body[0]["refused"]["en"]
            .as_str()
            .unwrap_or_default()
            .contains("before it was registered"),
        "{body}"
    );
    let (s, body) = send(
        &srv,
        &officer,
        "POST",
        "/api/reviews/steps",
        leave("2026-03-10"),
    )
    .await;
    assert_eq!(
        (s, body[0]["refused"].clone()),
        (200, Value::Null),
        "{body}"
    );
    let (_, body) = send(
        &srv,
        &officer,
        "POST",
        "/api/reviews/steps",
        leave("2026-03-11"),
    )
    .await;
    assert!(
        body[0]["refused"]["en"]
            .as_str()
            .unwrap_or_default()
            .contains("has left"),
        "{body}"
    );
    // Out of the lists and the counts from then on.
    let (_, list) = send(
        &srv,
        &officer,
        "GET",
        "/api/households?limit=100",
        Value::Null,
    )
    .await;
    let codes: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"H-1") && !codes.contains(&"H-2"),
        "{codes:?}"
    );
    // The 2026 report: one near-poor household out of the register, and every category
    // still adds up; 2025's still counts it at its end.
    let (s, r) = send(
        &srv,
        &officer,
        "GET",
        "/api/reports?year=2026&period=annual",
        Value::Null,
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let flows = r["total"]["flows"].as_array().unwrap();
    for c in flows {
        let sum = |k: &str| {
            c[k].as_array()
                .unwrap()
                .iter()
                .map(|f| f["count"].as_i64().unwrap())
                .sum::<i64>()
        };
        assert_eq!(
            c["start"].as_i64().unwrap() + sum("inflows") - sum("outflows"),
            c["end"].as_i64().unwrap(),
            "{c}"
        );
    }
    let near = flows.iter().find(|c| c["category"] == "near_poor").unwrap();
    assert_eq!(
        near["outflows"],
        json!([{"kind": "left", "count": 1}]),
        "{near}"
    );
    assert_eq!(
        near["end"].as_i64().unwrap() + 1,
        near["start"].as_i64().unwrap()
    );
    let (_, r2025) = send(
        &srv,
        &officer,
        "GET",
        "/api/reports?year=2025&period=annual",
        Value::Null,
    )
    .await;
    assert_eq!(r2025["total"]["near_poor_end"], near["start"]);
    // Its ledger says why, when, and who recorded it.
    let (_, h) = send(
        &srv,
        &officer,
        "GET",
        "/api/households/h2/history",
        Value::Null,
    )
    .await;
    let last = h["movements"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            last["from"].as_str(),
            last["to"].as_str(),
            last["date"].as_str(),
            last["by"].as_str()
        ),
        (
            Some("near_poor"),
            None,
            Some("2026-03-10"),
            Some("u-officer1")
        )
    );
    assert_eq!(last["basis"]["kind"], "departure");
    assert!(
        last["basis_text"]["vi"]
            .as_str()
            .unwrap()
            .contains("Chuyển đi nơi khác")
    );
    // A database from before the ledger (no movements, never filled) gets its ledger from
    // the records at start, the departure with it.
    db.execute("DELETE FROM movements").await;
    db.execute("DELETE FROM ledger_filled").await;
    let again = TestServer::start(db.store().await, None).await;
    let officer = again.login("officer1", "office").await;
    let (_, h) = send(
        &again,
        &officer,
        "GET",
        "/api/households/h2/history",
        Value::Null,
    )
    .await;
    assert_eq!(
        h["movements"].as_array().unwrap().last().unwrap()["id"],
        last["id"]
    );
    db.assert_counts_agree().await;
    db.cleanup().await;
}

/// A decision is never undone: the leader sets a mistake right by a new decision that
/// corrects the one in force, with its own number and a later date. The ledger keeps both,
/// the period already reported keeps its figures, and the household's trajectory reads
/// the decision as corrected.
async fn a_decision_is_corrected_by_a_new_decision(b: Backend) {
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let vh = srv.login("vh1", "vh-phone").await;
    let leader = srv.login("leader1", "office").await;
    let officer = srv.login("officer1", "office").await;
    let correct = |number: &str, approved: bool| json!({"kind": "correction", "number": number, "approved": approved});
    // Nothing to correct yet.
    let why = step(&srv, &leader, "2025-09-30", correct("1/QĐ-UBND", false)).await;
    assert!(why.unwrap().contains("no decision to correct"));
    review(&srv, &vh, "annual", "2025-10-01", false).await;
    for (date, s) in [
        (
            "2025-10-08",
            json!({"kind": "meeting", "attendees": 30, "agreed": 25}),
        ),
        (
            "2025-10-10",
            json!({"kind": "posted", "until": "2025-10-17"}),
        ),
    ] {
        assert_eq!(step(&srv, &vh, date, s).await, None);
    }
    let decide = json!({"kind": "decision", "number": "7/QĐ-UBND", "approved": true});
    assert_eq!(step(&srv, &leader, "2025-12-12", decide).await, None);
    assert_eq!(status(&srv, &officer).await, "newly_escaped");
    // The officer may not correct; the leader needs a new number and a later date.
    assert!(
        step(&srv, &officer, "2026-01-05", correct("9/QĐ-UBND", false))
            .await
            .is_some()
    );
    let why = step(&srv, &leader, "2026-01-05", correct("7/QĐ-UBND", false)).await;
    assert!(why.unwrap().contains("number of its own"));
    let why = step(&srv, &leader, "2025-12-10", correct("9/QĐ-UBND", false)).await;
    assert!(why.unwrap().contains("comes after"), "dated before it");
    assert_eq!(status(&srv, &officer).await, "newly_escaped");
    // The result should not have been approved: the household stays poor.
    assert_eq!(
        step(&srv, &leader, "2026-01-05", correct("9/QĐ-UBND", false)).await,
        None
    );
    assert_eq!(status(&srv, &officer).await, "poor");
    let tracked = |flag: &'static str| {
        let (srv, officer) = (&srv, &officer);
        async move {
            let (_, t) = send(
                srv,
                officer,
                "GET",
                &format!("/api/reviews/tracking?flag={flag}"),
                Value::Null,
            )
            .await;
            t
        }
    };
    assert_eq!(
        tracked("in_window").await,
        json!([]),
        "it never escaped: no window"
    );
    assert_eq!(tracked("fell_back").await, json!([]), "nor fell back");
    let (_, c) = send(
        &srv,
        &officer,
        "GET",
        "/api/reviews/campaign?year=2025",
        Value::Null,
    )
    .await;
    let decision = &c["rows"][0]["progress"]["decision"];
    assert_eq!(decision["number"], "9/QĐ-UBND");
    assert_eq!(decision["corrects"], "7/QĐ-UBND");
    // The ledger keeps both decisions; the correction says what it corrects.
    let (_, h) = send(
        &srv,
        &officer,
        "GET",
        "/api/households/h1/history",
        Value::Null,
    )
    .await;
    let moves: Vec<&Value> = h["movements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["basis"]["kind"] == "decision")
        .collect();
    assert_eq!(moves.len(), 2, "{moves:?}");
    assert_eq!(
        (moves[1]["from"].as_str(), moves[1]["to"].as_str()),
        (Some("newly_escaped"), Some("poor"))
    );
    assert!(
        moves[1]["basis_text"]["vi"]
            .as_str()
            .unwrap()
            .contains("sửa quyết định số 7/QĐ-UBND"),
        "{}",
        moves[1]
    );
    // 2025 as reported stays: one escape. 2026's first half shows the correction as a
    // move back into the poor list, and no new case of poverty.
    let report = |q: &'static str| {
        let (srv, officer) = (&srv, &officer);
        async move {
            send(
                srv,
                officer,
                "GET",
                &format!("/api/reports?{q}"),
                Value::Null,
            )
            .await
            .1
        }
    };
    let y2025 = report("year=2025&period=annual").await;
    assert_eq!(y2025["total"]["escaped"], 1, "{}", y2025["total"]);
    let h2026 = report("year=2026&period=half_year").await;
    let total = &h2026["total"];
    assert_eq!(
        (
            total["escaped"].as_u64(),
            total["newly_poor"].as_u64(),
            total["fell_back"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "{total}"
    );
    let poor = total["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["category"] == "poor")
        .unwrap();
    let inflow: u64 = poor["inflows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["count"].as_u64().unwrap())
        .sum();
    assert_eq!(inflow, 1, "{poor}");
    let out: u64 = poor["outflows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["count"].as_u64().unwrap())
        .sum();
    assert_eq!(
        poor["start"].as_u64().unwrap() + inflow - out,
        poor["end"].as_u64().unwrap()
    );
    // Corrected again (approved after all): it escaped as of the first decision.
    assert_eq!(
        step(&srv, &leader, "2026-01-10", correct("10/QĐ-UBND", true)).await,
        None
    );
    assert_eq!(status(&srv, &officer).await, "newly_escaped");
    let t = tracked("in_window").await;
    assert_eq!(t[0]["trajectory"]["escaped_on"], "2025-12-12", "{t}");
    // Only the decision in force is corrected: the old number cannot be corrected again,
    // and a correction cannot name a decision the household does not have.
    let why = step(&srv, &leader, "2026-01-11", correct("10/QĐ-UBND", true)).await;
    assert!(why.unwrap().contains("number of its own"));
    db.assert_counts_agree().await;
    db.cleanup().await;
}

on_both_backends!(
    a_household_leaves_the_register_only_by_the_communes_record,
    the_steps_come_in_the_laws_order,
    a_status_changes_only_through_a_valid_decision,
    a_decision_is_corrected_by_a_new_decision,
    an_escape_keeps_its_window_and_a_fall_back_raises_the_flag,
    hostile_steps_are_refused_with_reasons,
);
