//! The household list import as a hostile or careless office computer would use it, on
//! SQLite and PostgreSQL: an archive that inflates without bound, a sheet whose two cells
//! span the largest grid, bytes that are no
//! spreadsheet, a CSV that is not UTF-8, too many rows, an overlong cell, a body over the
//! limit and a role that may not import each get a clear answer and change nothing; a file
//! with a wrong row imports nothing in "all" mode and its valid rows in "valid_only" mode.

use serde_json::Value;
use std::io::Write;
use tests::{Backend, TestDb, TestServer, fixture, on_both_backends};

async fn post(srv: &TestServer, token: &str, query: &str, body: Vec<u8>) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(srv.url(&format!("/api/import/households?{query}")))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn count(srv: &TestServer, token: &str) -> usize {
    let v: Value = reqwest::Client::new()
        .get(srv.url("/api/households?limit=2000"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v.as_array().unwrap().len()
}

/// A zip archive whose one part inflates to `mb` megabytes of zeros.
fn bomb(mb: usize) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    z.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..mb {
        z.write_all(&zeros).unwrap();
    }
    z.finish().unwrap();
    out.into_inner()
}

async fn hostile_files_are_refused_in_words(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let store = db.store().await;
    fixture::load(&store).await;
    let srv = TestServer::start(store, None).await;
    let token = srv.login("officer1", "officer-desk").await;
    let before = count(&srv, &token).await;

    let bomb = bomb(64);
    assert!(bomb.len() < 1024 * 1024, "{} bytes", bomb.len());
    let (status, body) = post(&srv, &token, "format=xlsx&mode=all", bomb).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "validation_failed");
    assert!(
        body["fields"][0]["message"]["vi"]
            .as_str()
            .unwrap()
            .contains("quá lớn")
    );

    // Two cells at opposite corners of the largest sheet: a reader that allocates the
    // bounding box would need billions of cells.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["Mã hộ", "Chủ hộ", "Thôn"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    let corners = book.save_to_buffer().unwrap();
    let (status, body) = post(&srv, &token, "format=xlsx&mode=all", corners).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"], 0);
    assert!(
        body["errors"][0]["message"]["en"]
            .as_str()
            .unwrap()
            .contains("more than 5000")
    );
    let (status, body) = post(
        &srv,
        &token,
        "format=xlsx",
        b"PK\x03\x04 not a workbook".to_vec(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = post(&srv, &token, "format=csv", vec![0xff, 0xfe, b'a', b',']).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["fields"][0]["message"]["en"]
            .as_str()
            .unwrap()
            .contains("UTF-8")
    );

    let mut many = String::from("Mã hộ,Chủ hộ,Thôn\n");
    for i in 0..6000 {
        many.push_str(&format!("X-{i},Người {i},Bản Một\n"));
    }
    let (status, body) = post(&srv, &token, "format=csv&mode=all", many.into_bytes()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"], 0);
    assert!(
        body["errors"][0]["message"]["en"]
            .as_str()
            .unwrap()
            .contains("more than 5000")
    );

    let long = format!("Mã hộ,Chủ hộ,Thôn\nX-1,{},Bản Một\n", "a".repeat(5000));
    let (status, body) = post(
        &srv,
        &token,
        "format=csv&mode=valid_only",
        long.into_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"], 0);
    assert_eq!(body["errors"][0]["column"], "Chủ hộ");

    let (status, _) = post(&srv, &token, "format=csv", vec![b'a'; 3 * 1024 * 1024]).await;
    assert_eq!(status, 413);

    let cadre = srv.login("cadre1", "cadre-phone").await;
    let (status, body) = post(
        &srv,
        &cadre,
        "format=csv&mode=all",
        b"Ma ho,Chu ho,Thon\nX-9,A,Ban Mot\n".to_vec(),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(count(&srv, &token).await, before, "nothing was imported");

    // One wrong row: "all" imports nothing, "valid_only" the two good rows, which are then
    // households like any other (in the register, with their documents).
    let file = "Mã hộ;Họ tên chủ hộ;Thôn;Phân loại\nNK-1;Lò Văn Sơn;Bản Một;hộ nghèo\nNK-2;Lò Thị Hoa;Bản Hai;\nNK-3;Vàng A Dếnh;Bản Ba;\n";
    let (status, body) = post(&srv, &token, "format=csv&mode=all", file.into()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"], 0);
    assert_eq!(body["errors"].as_array().unwrap().len(), 1);
    assert_eq!(
        body["errors"][0]["row"], 4,
        "Bản Ba is another commune's village"
    );
    assert!(
        body["refused"]["vi"]
            .as_str()
            .unwrap()
            .contains("chưa nhập")
    );
    assert_eq!(count(&srv, &token).await, before);
    // The fixture's commune has no decision yet: the status column is its opening
    // balance, which needs its date.
    let (status, body) = post(&srv, &token, "format=csv&mode=valid_only", file.into()).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["field"], "opening_date");
    assert_eq!(count(&srv, &token).await, before);
    let (_, body) = post(
        &srv,
        &token,
        "format=csv&mode=valid_only&opening_date=2025-01-01",
        file.into(),
    )
    .await;
    assert_eq!(body["imported"], 2, "{body}");
    assert_eq!(count(&srv, &token).await, before + 2);
    let poor: Value = reqwest::Client::new()
        .get(srv.url("/api/households?q=NK-1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(poor[0]["status"], "poor");
    assert_eq!(
        poor[0]["created_at"].as_str().unwrap().get(..10),
        Some("2025-01-01")
    );

    // Once the commune has decided a review, an imported status is only a proposal: the
    // household comes in not reviewed, and the report says so before anything is done.
    let vh = srv.login("vh1", "vh-phone").await;
    let leader = srv.login("leader1", "office").await;
    let call = |token: String, path: &'static str, body: Value| {
        let url = srv.url(path);
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            let v: Value = r.json().await.unwrap();
            assert!(s == 200 || s == 201, "{s} {v}");
            assert!(v[0]["refused"].is_null(), "{v}");
        }
    };
    call(vh.clone(), "/api/households/h1/assessments", serde_json::json!({"kind": "annual", "date": "2026-10-07", "evidence": {"residence": "rural",
        "income": {"kind": "income", "per_person_month": 4_000_000}, "deprivation": {"kind": "indicators", "deprived": []}}})).await;
    let step = |date: &str, step: Value| serde_json::json!({"household_ids": ["h1"], "date": date, "step": step});
    call(
        vh.clone(),
        "/api/reviews/steps",
        step(
            "2026-10-14",
            serde_json::json!({"kind": "meeting", "attendees": 30, "agreed": 25}),
        ),
    )
    .await;
    call(
        vh.clone(),
        "/api/reviews/steps",
        step(
            "2026-10-16",
            serde_json::json!({"kind": "posted", "until": "2026-10-23"}),
        ),
    )
    .await;
    call(
        leader,
        "/api/reviews/steps",
        step(
            "2026-10-24",
            serde_json::json!({"kind": "decision", "number": "3/QĐ-UBND", "approved": true}),
        ),
    )
    .await;
    let later = "Mã hộ;Họ tên chủ hộ;Thôn;Phân loại\nNK-7;Lò Văn Bảy;Bản Một;hộ nghèo\n";
    let (_, checked) = post(&srv, &token, "format=csv&mode=check", later.into()).await;
    assert!(
        checked["statuses"]["en"]
            .as_str()
            .unwrap_or_default()
            .contains("only a proposal"),
        "{checked}"
    );
    let (status, body) = post(
        &srv,
        &token,
        "format=csv&mode=all&opening_date=2025-01-01",
        later.into(),
    )
    .await;
    assert_eq!(
        (status, body["imported"].as_u64()),
        (200, Some(1)),
        "{body}"
    );
    let seven: Value = reqwest::Client::new()
        .get(srv.url("/api/households?q=NK-7"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seven[0]["status"], "not_reviewed", "{seven}");
    db.assert_counts_agree().await;
    db.cleanup().await;
}

on_both_backends!(hostile_files_are_refused_in_words);
