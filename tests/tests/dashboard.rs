//! The commune dashboard on the demo commune, on SQLite and PostgreSQL: every figure (for
//! the commune and for each village) equals the number of households its drill-down lists,
//! the villages add up to the commune, each project's support totals are the sums of its
//! beneficiary list, and a household assigned through the console's bulk
//! assignment leaves "without a cadre" at once.

use serde_json::Value;
use tests::{Backend, TestDb, TestServer, on_both_backends};

/// Every figure of an area against its drill-down list.
async fn check_area(srv: &TestServer, token: &str, area: &Value) -> usize {
    let mut checked = 0;
    for f in area["figures"].as_array().unwrap() {
        let n = f["households"].as_u64().unwrap();
        let q = f["query"].as_str().unwrap();
        let list = srv
            .get_json(token, &format!("/api/accompaniment?{q}&limit=2000"))
            .await;
        assert_eq!(list["total"].as_u64().unwrap(), n, "{} {q}", f["kind"]);
        assert_eq!(list["rows"].as_array().unwrap().len() as u64, n, "{q}");
        checked += 1;
    }
    checked
}

fn figure_of_movement(d: &Value, kind: &str) -> u64 {
    d["movement"]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["movement"] == kind)
        .unwrap()["households"]
        .as_u64()
        .unwrap()
}

fn figure(area: &Value, kind: &str) -> u64 {
    area["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == kind)
        .unwrap()["households"]
        .as_u64()
        .unwrap()
}

async fn every_figure_opens_exactly_its_households(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let store = db.store().await;
    server::demo::create(store.as_ref(), server::demo::today_for_demo())
        .await
        .unwrap();
    let srv = TestServer::start(store, None).await;
    let token = srv
        .login_with("congchuc", server::demo::PASSWORD, "office-pc")
        .await;
    let d = srv.get_json(&token, "/api/dashboard").await;
    // The demo's 1,329 households, less the 13 that left the register in 2026.
    assert_eq!(figure(&d["total"], "households"), 1316);
    // Movement since the last review (the 2025 campaign, decided in December 2025) is the
    // 2025 annual report's movement: no other decision moved a household since.
    let report = srv
        .get_json(&token, "/api/reports?year=2025&period=annual")
        .await;
    assert_eq!(d["movement"]["since"], "2025-09-01");
    for c in d["movement"]["counts"].as_array().unwrap() {
        let kind = c["movement"].as_str().unwrap();
        assert_eq!(c["households"], report["total"][kind], "{kind}");
        // The figure opens exactly the households it counts.
        let list = srv
            .get_json(
                &token,
                &format!("/api/accompaniment?movement={kind}&limit=2000"),
            )
            .await;
        assert_eq!(list["total"], c["households"], "{kind}");
    }
    assert!(figure_of_movement(&d, "escaped") > 0);
    assert_eq!(figure_of_movement(&d, "fell_back"), 1);
    let mut checked = check_area(&srv, &token, &d["total"]).await;
    let villages = d["villages"].as_array().unwrap();
    assert_eq!(villages.len(), 10);
    for kind in [
        "households",
        "poor",
        "near_poor",
        "without_cadre",
        "overdue",
    ] {
        let sum: u64 = villages.iter().map(|v| figure(v, kind)).sum();
        assert_eq!(
            sum,
            figure(&d["total"], kind),
            "villages add up to the commune: {kind}"
        );
    }
    for v in villages {
        checked += check_area(&srv, &token, v).await;
    }
    // The demo plans its poor households: fewer lack a plan than are supported.
    let supported = figure(&d["total"], "poor") + figure(&d["total"], "near_poor");
    assert!(figure(&d["total"], "without_plan") < supported);
    assert_eq!(checked, 66);
    // Each cadre's figures open their households.
    for c in d["cadres"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        let all = srv
            .get_json(
                &token,
                &format!("/api/accompaniment?cadre_id={id}&limit=2000"),
            )
            .await;
        assert_eq!(all["total"], c["households"]);
        let late = srv
            .get_json(
                &token,
                &format!("/api/accompaniment?cadre_id={id}&overdue=true&limit=2000"),
            )
            .await;
        assert_eq!(late["total"], c["overdue"]);
    }

    // Support by project: each project's totals are the sums of its beneficiary list.
    let all = srv.get_json(&token, "/api/support").await;
    let mut seen = 0;
    for p in all["projects"].as_array().unwrap() {
        let project = p["project"].as_str().unwrap();
        let list = srv
            .get_json(&token, &format!("/api/support?project={project}"))
            .await;
        let rows = list["beneficiaries"].as_array().unwrap();
        let households: std::collections::BTreeSet<&str> = rows
            .iter()
            .filter(|b| b["support"]["status"] != "cancelled")
            .map(|b| b["household_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            households.len() as u64,
            p["beneficiaries"].as_u64().unwrap(),
            "{project}"
        );
        let delivered: Vec<&Value> = rows
            .iter()
            .filter(|b| b["support"]["status"] == "delivered")
            .collect();
        assert_eq!(
            delivered.len() as u64,
            p["delivered"].as_u64().unwrap(),
            "{project}"
        );
        let money: i64 = delivered
            .iter()
            .filter_map(|b| b["support"]["amount_vnd"].as_i64())
            .sum();
        assert_eq!(money, p["delivered_vnd"].as_i64().unwrap(), "{project}");
        seen += rows.len();
    }
    assert_eq!(seen, all["beneficiaries"].as_array().unwrap().len());
    assert!(seen > 0, "the demo commune has support");

    // Assigning every household still without a cadre empties that figure.
    let without = figure(&d["total"], "without_cadre");
    if without > 0 {
        let list = srv
            .get_json(
                &token,
                "/api/accompaniment?supported=true&unassigned=true&limit=2000",
            )
            .await;
        let ids: Vec<&str> = list["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["household_id"].as_str().unwrap())
            .collect();
        let cadre = d["cadres"][0]["id"].as_str().unwrap();
        let r = reqwest::Client::new()
            .post(srv.url("/api/assignments/bulk"))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "household_ids": ids, "cadre_id": cadre,
                "from_date": server::demo::today_for_demo(), "cadence_days": 30
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let result: Value = r.json().await.unwrap();
        assert_eq!(result["created"].as_array().unwrap().len() as u64, without);
        let after = srv.get_json(&token, "/api/dashboard").await;
        assert_eq!(figure(&after["total"], "without_cadre"), 0);
    }
    db.cleanup().await;
}

/// The province's commune table is filtered, sorted and paged by the server: the pages
/// together hold every commune once, the figures above it are the whole province's
/// whatever the filter, and a name typed without accents finds its commune.
async fn the_province_pages_and_filters_its_communes(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let store = db.store().await;
    server::demo::create_province(
        store.as_ref(),
        server::demo::today_for_demo(),
        server::demo::Size {
            communes: 5,
            households_per_commune: 300,
        },
    )
    .await
    .unwrap();
    let srv = TestServer::start(store, None).await;
    let token = srv
        .login_with("tinh", server::demo::PASSWORD, "province-pc")
        .await;
    let all = srv.get_json(&token, "/api/stats/communes?limit=500").await;
    assert_eq!(all["communes"], 5);
    assert_eq!(all["matched"], 5);
    let rows = all["rows"].as_array().unwrap();
    let sum = |k: &str| rows.iter().map(|r| r[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(all["households"].as_u64().unwrap(), sum("households"));
    assert_eq!(all["poor"].as_u64().unwrap(), sum("poor"));
    // The default order puts the highest poverty rate first.
    let rates: Vec<f64> = rows
        .iter()
        .map(|r| r["poor_rate_pct"].as_f64().unwrap())
        .collect();
    assert!(rates.windows(2).all(|w| w[0] >= w[1]), "{rates:?}");

    // Pages of two by name hold every commune once, in order.
    let mut names = vec![];
    for offset in [0, 2, 4] {
        let p = srv
            .get_json(
                &token,
                &format!("/api/stats/communes?sort=name&limit=2&offset={offset}"),
            )
            .await;
        assert_eq!(p["matched"], 5);
        assert_eq!(p["households"], all["households"]);
        names.extend(
            p["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["name"].as_str().unwrap().to_string()),
        );
    }
    assert_eq!(names.len(), 5);
    let folded: Vec<String> = names.iter().map(|n| shared::search::fold(n)).collect();
    assert!(folded.windows(2).all(|w| w[0] <= w[1]), "{names:?}");

    // A name without accents finds its commune; the totals stay the province's.
    let one = &names[3];
    let needle: String = shared::search::fold(one);
    let found = srv
        .get_json(
            &token,
            &format!("/api/stats/communes?q={}", needle.replace(' ', "%20")),
        )
        .await;
    assert_eq!(found["matched"], 1, "{needle}");
    assert_eq!(found["rows"][0]["name"].as_str().unwrap(), one);
    assert_eq!(found["communes"], 5);
    assert_eq!(found["households"], all["households"]);

    // A page too large is refused with a reason.
    let r = reqwest::Client::new()
        .get(srv.url("/api/stats/communes?limit=100000"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "invalid_query");
    db.cleanup().await;
}

/// A new household in the register's words: a profile the write core accepts.
fn profile(code: &str, village: &str) -> Value {
    let input = shared::household::HouseholdInput {
        code: code.into(),
        village_id: village.into(),
        address: "Xóm Nà Khau".into(),
        head_name: "Triệu Văn Sình".into(),
        residence: shared::household::Residence::Rural,
        priority: Default::default(),
        causes: vec![shared::household::Cause::LackOfCapital],
    };
    let mut v = serde_json::to_value(input).unwrap();
    v["status"] = serde_json::json!("not_poor");
    v["created_at"] = serde_json::json!("2026-01-01T00:00:00.000Z");
    v
}

/// The commune's dashboard is counted from its households kept between requests
/// (`api::area_memo`): every write that changes them shows at the next request — a
/// household registered in the commune, one moved out to another commune — while a write
/// in another commune leaves the figures as they were. The writes are made as another
/// server process makes them (through the write core on the same database), so only the
/// database's clocks can tell this server of them.
async fn the_kept_households_follow_every_write_of_the_commune(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let store = db.store().await;
    tests::fixture::load(&store).await;
    let srv = TestServer::start(store.clone(), None).await;
    let one = srv.login("officer1", "office-1").await;
    let two = srv.login("officer2", "office-2").await;
    let counts = |d: &Value| figure(&d["total"], "households");
    let c1 = counts(&srv.get_json(&one, "/api/dashboard").await);
    let c2 = counts(&srv.get_json(&two, "/api/dashboard").await);
    // Read twice: the second answer is the kept one.
    assert_eq!(counts(&srv.get_json(&one, "/api/dashboard").await), c1);

    // A household registered in the other commune: this commune's figures stand.
    tests::write::create(&store, "h-far", profile("XA-1", "v3"))
        .await
        .unwrap();
    assert_eq!(counts(&srv.get_json(&one, "/api/dashboard").await), c1);
    let c2 = c2 + 1;
    assert_eq!(counts(&srv.get_json(&two, "/api/dashboard").await), c2);

    // One registered here: counted at the next request.
    tests::write::create(&store, "h-near", profile("GAN-1", "v1"))
        .await
        .unwrap();
    let c1 = c1 + 1;
    assert_eq!(counts(&srv.get_json(&one, "/api/dashboard").await), c1);
    let list = srv.get_json(&one, "/api/accompaniment?limit=2000").await;
    assert!(
        list["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["household_id"] == "h-near"),
        "the list behind the figure holds it"
    );

    // Moved to a village of the other commune: gone from here, counted there.
    let audit = serde_json::json!({"action": "update", "entity": "household", "entity_id": "h-near",
        "changes": {"village_id": ["v1", "v3"]}});
    tests::write::edit(&store, "h-near", audit, |d, a| {
        d.update_profile(&serde_json::json!({"village_id": "v3"}), a)
    })
    .await
    .unwrap();
    assert_eq!(counts(&srv.get_json(&one, "/api/dashboard").await), c1 - 1);
    assert_eq!(counts(&srv.get_json(&two, "/api/dashboard").await), c2 + 1);
    db.assert_counts_agree().await;
    db.cleanup().await;
}

on_both_backends!(
    the_kept_households_follow_every_write_of_the_commune,
    every_figure_opens_exactly_its_households,
    the_province_pages_and_filters_its_communes
);
