//! What a hostile signed-in user tries at the console's doors, through the real server on
//! SQLite and PostgreSQL: an import file that would keep the cores busy after its request
//! ended, an area edit that would make the tree a cycle, many slow requests at once, a
//! household moved out of the commune through any door, household data read through the
//! audit trail, formulas in a CSV report, and the last administrator locking everyone out.
//!
//! The test that reads this process's CPU time takes the binary's lock alone; the others
//! share it, so nothing else runs in the process while it measures.

use serde_json::{Value, json};
use shared::doc::Author;
use shared::sync::Device;
use std::io::Write;
use std::time::{Duration, Instant};
use tests::{Backend, TestDb, TestServer, fixture, on_both_backends};
use tokio::sync::RwLock;

static CPU_WINDOW: RwLock<()> = RwLock::const_new(());

async fn setup(b: Backend) -> Option<(TestDb, TestServer)> {
    let db = TestDb::open(b).await?;
    let store = db.store().await;
    fixture::load(&store).await;
    let srv = TestServer::start(store, None).await;
    Some((db, srv))
}

async fn get(srv: &TestServer, token: &str, path: &str) -> (u16, Value) {
    let r = srv
        .http
        .get(srv.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn send(
    srv: &TestServer,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let r = srv
        .http
        .request(method, srv.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// This process's CPU time (user + system), from `/proc/self/stat`.
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // The fields after the command's closing parenthesis; utime and stime are 14 and 15.
    let rest = &stat[stat.rfind(')').expect("stat") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// A workbook whose one shared string of `mib` MiB is referenced by every cell of a
/// `rows` × `cols` grid: small as a file, enormous if each cell copied the string.
fn shared_string_bomb(mib: usize, rows: usize, cols: usize) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    let mut put = |name: &str, body: &[u8]| {
        z.start_file(name, opts).unwrap();
        z.write_all(body).unwrap();
    };
    put(
        "[Content_Types].xml",
        br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#,
    );
    put(
        "_rels/.rels",
        br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
    );
    put(
        "xl/workbook.xml",
        br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
    );
    put(
        "xl/_rels/workbook.xml.rels",
        br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
    );
    let mut sst = br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>"#.to_vec();
    sst.extend(std::iter::repeat_n(b'A', mib * 1024 * 1024));
    sst.extend_from_slice(b"</t></si></sst>");
    put("xl/sharedStrings.xml", &sst);
    let mut sheet = br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#.to_vec();
    for r in 1..=rows {
        write!(sheet, r#"<row r="{r}">"#).unwrap();
        for c in 0..cols {
            let col = (b'A' + c as u8) as char;
            write!(sheet, r#"<c r="{col}{r}" t="s"><v>0</v></c>"#).unwrap();
        }
        sheet.extend_from_slice(b"</row>");
    }
    sheet.extend_from_slice(b"</sheetData></worksheet>");
    put("xl/worksheets/sheet1.xml", &sheet);
    z.finish().unwrap().into_inner()
}

async fn post_import(srv: &TestServer, token: &str, file: Vec<u8>) -> reqwest::Response {
    srv.http
        .post(srv.url("/api/import/households?format=xlsx&mode=check"))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(file)
        .send()
        .await
        .unwrap()
}

/// Item 1: the shared-string file is answered quickly, and neither it nor the same file
/// cancelled by its client leaves work running after the request.
async fn an_import_bomb_is_answered_at_once_and_leaves_nothing_running(b: Backend) {
    let _alone = CPU_WINDOW.write().await;
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let officer = srv.login("officer1", "laptop").await;
    // 15 MiB of one string behind 5,002 × 26 cells.
    let bomb = shared_string_bomb(15, 5_002, 26);
    let bomb_len = bomb.len();
    assert!(
        bomb.len() < 1024 * 1024,
        "the file is small: {}",
        bomb.len()
    );

    let started = Instant::now();
    let r = post_import(&srv, &officer, bomb.clone()).await;
    let took = started.elapsed();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert!(
        took < Duration::from_secs(2),
        "answered in {took:?}: {status} {body}"
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["code"], "unreadable_file", "{body}");

    // The same file, given up by its client while the server reads it.
    let cancelled = tokio::time::timeout(
        Duration::from_millis(150),
        post_import(&srv, &officer, bomb),
    )
    .await;
    assert!(cancelled.is_err(), "the client gave up before the answer");

    let before = process_cpu();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let spent = process_cpu() - before;
    eprintln!(
        "{b:?}: the shared-string file ({} B) answered {status} in {took:?}; CPU in the 10 s after it and a cancelled one: {spent:?}",
        bomb_len
    );
    assert!(
        spent < Duration::from_millis(500),
        "the server went on working after the requests ended: {spent:?} of CPU in 10 s"
    );
    drop(srv);
    db.cleanup().await;
}

/// Item 2: the area tree stays a tree; one user's many slow requests leave the server
/// answering everyone, that user included.
async fn the_area_tree_cannot_become_a_cycle_and_slow_requests_hold_nothing(b: Backend) {
    let _shared = CPU_WINDOW.read().await;
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let admin = srv.login("admin", "admin-laptop").await;
    let put = reqwest::Method::PUT;
    // The province made a village under its own commune.
    let (s, body) = send(
        &srv,
        put.clone(),
        &admin,
        "/api/areas/p",
        json!({"parent_id": "c1", "kind": "village", "code": "P", "name": "Tỉnh"}),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    // A commune with villages made a village; a village put under itself.
    let (s, body) = send(
        &srv,
        put.clone(),
        &admin,
        "/api/areas/c1",
        json!({"parent_id": "c2", "kind": "village", "code": "C1", "name": "Xã Một"}),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["fields"][0]["code"], "has_children", "{body}");
    let (s, _) = send(
        &srv,
        put.clone(),
        &admin,
        "/api/areas/v1",
        json!({"parent_id": "v1", "kind": "village", "code": "V1", "name": "Bản Một"}),
    )
    .await;
    assert_eq!(s, 422);
    // A village moved to another commune is a fair edit.
    let (s, body) = send(
        &srv,
        put,
        &admin,
        "/api/areas/v2",
        json!({"parent_id": "c2", "kind": "village", "code": "V2", "name": "Bản Hai"}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let (s, tree) = get(&srv, &admin, "/api/areas").await;
    assert_eq!(s, 200);
    assert_eq!(tree.as_array().unwrap().len(), 6);

    // Twenty slow requests at once by one officer: a few run, the rest are turned away
    // at once with a reason, and the officer is still answered.
    let officer = srv.login("officer1", "laptop").await;
    let bomb = shared_string_bomb(15, 2_000, 26);
    let slow: Vec<_> = (0..20)
        .map(|_| {
            let (http, url, token, file) = (
                srv.http.clone(),
                srv.url("/api/import/households?format=xlsx&mode=check"),
                officer.clone(),
                bomb.clone(),
            );
            tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(token)
                    .header("content-type", "application/octet-stream")
                    .body(file)
                    .send()
                    .await
                    .map(|r| {
                        (
                            r.status().as_u16(),
                            r.headers().get("retry-after").is_some(),
                        )
                    })
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let (s, me) = get(&srv, &officer, "/api/auth/me").await;
    let took = started.elapsed();
    assert_eq!(s, 200, "{me}");
    assert!(took < Duration::from_secs(1), "/api/auth/me took {took:?}");
    eprintln!("{b:?}: /api/auth/me answered in {took:?} beside 20 slow requests of the same user");
    let mut turned_away = 0;
    for t in slow {
        let (status, retry) = t.await.unwrap().unwrap();
        if status == 429 {
            assert!(retry, "429 says when to retry");
            turned_away += 1;
        } else {
            // Read (its rows checked) or refused as too large: answered either way.
            assert!(status == 200 || status == 422, "{status}");
        }
    }
    assert!(turned_away >= 20 - server::heavy::PER_USER, "{turned_away}");
    drop(srv);
    db.cleanup().await;
}

fn by(user: &str, device: &str) -> Author {
    Author {
        user_id: user.into(),
        device_id: device.into(),
        at_ms: chrono::Utc::now().timestamp_millis(),
        door: None,
    }
}

async fn sync(srv: &TestServer, token: &str, dev: &mut Device) -> shared::sync::SyncResponse {
    let mut last = None;
    for _ in 0..5 {
        let req = dev.request();
        let resp: shared::sync::SyncResponse = srv
            .http
            .post(srv.url("/api/sync"))
            .bearer_auth(token)
            .json(&req)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        dev.receive(&resp).unwrap();
        let done = resp.docs.is_empty() && resp.acks.is_empty() && !resp.more;
        last = Some(resp);
        if done {
            break;
        }
    }
    last.unwrap()
}

async fn village_of(srv: &TestServer, token: &str, id: &str) -> String {
    let (s, h) = get(srv, token, &format!("/api/households/{id}")).await;
    assert_eq!(s, 200, "{h}");
    h["household"]["village_id"].as_str().unwrap().to_string()
}

/// Item 3: a household cannot leave the commune through any door: a phone's push, the
/// acceptance of that refused push, a conflict decision, a REST edit, an import row.
async fn no_door_moves_a_household_out_of_the_commune(b: Backend) {
    let _shared = CPU_WINDOW.read().await;
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let officer = srv.login("officer1", "officer-laptop").await;

    // Sync: the village head's phone moves h1 to commune 2's village: refused, kept.
    let vh = srv.login("vh1", "vh1-phone").await;
    let mut phone = Device::new(&[1; 16]);
    sync(&srv, &vh, &mut phone).await;
    phone
        .doc_mut("h1")
        .unwrap()
        .set_field(
            &["profile", "village_id"],
            &json!("v3"),
            &by("u-vh1", "vh1-phone"),
        )
        .unwrap();
    let resp = sync(&srv, &vh, &mut phone).await;
    assert!(
        resp.refused.iter().any(|r| r.doc_id == "h1")
            || village_of(&srv, &officer, "h1").await == "v1",
        "the push was refused"
    );
    assert_eq!(village_of(&srv, &officer, "h1").await, "v1");

    // Quarantine: accepting that refused push is the officer's own write, judged alike.
    let (_, kept) = get(&srv, &officer, "/api/quarantine?household_id=h1").await;
    let kept = kept.as_array().unwrap();
    assert!(!kept.is_empty(), "the refused push is kept");
    let id = kept[0]["id"].as_str().unwrap();
    let (s, body) = send(
        &srv,
        reqwest::Method::POST,
        &officer,
        &format!("/api/quarantine/{id}/accept"),
        json!(null),
    )
    .await;
    assert!(s == 403 || s == 422, "{s} {body}");
    assert_eq!(village_of(&srv, &officer, "h1").await, "v1");

    // Conflict decision: two of the officer's devices set h2's village at once; the
    // officer then "decides" a village of commune 2.
    let other = srv.login("officer1", "officer-phone").await;
    let (mut d1, mut d2) = (Device::new(&[2; 16]), Device::new(&[3; 16]));
    sync(&srv, &officer, &mut d1).await;
    sync(&srv, &other, &mut d2).await;
    d1.doc_mut("h2")
        .unwrap()
        .set_field(
            &["profile", "village_id"],
            &json!("v2"),
            &by("u-officer1", "officer-laptop"),
        )
        .unwrap();
    d2.doc_mut("h2")
        .unwrap()
        .set_field(
            &["profile", "village_id"],
            &json!("v2"),
            &by("u-officer1", "officer-phone"),
        )
        .unwrap();
    sync(&srv, &officer, &mut d1).await;
    sync(&srv, &other, &mut d2).await;
    let (_, queue) = get(&srv, &officer, "/api/conflicts?household_id=h2").await;
    let conflict = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == json!(["profile", "village_id"]))
        .unwrap_or_else(|| panic!("a conflict on the village: {queue}"))
        .clone();
    let cid = conflict["id"].as_str().unwrap();
    let (s, body) = send(
        &srv,
        reqwest::Method::POST,
        &officer,
        &format!("/api/conflicts/{cid}/resolve"),
        json!({"value": "v3"}),
    )
    .await;
    assert!(s == 403 || s == 422, "{s} {body}");
    assert_eq!(village_of(&srv, &officer, "h2").await, "v2");
    // Deciding a village of the commune is still the officer's to do.
    let (s, body) = send(
        &srv,
        reqwest::Method::POST,
        &officer,
        &format!("/api/conflicts/{cid}/resolve"),
        json!({"value": "v1"}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(village_of(&srv, &officer, "h2").await, "v1");

    // REST edit.
    let (s, _) = send(
        &srv,
        reqwest::Method::PUT,
        &officer,
        "/api/households/h1",
        json!({"code": "H-1", "village_id": "v3", "address": "Xóm 1", "head_name": "Chủ hộ H-1", "residence": "rural"}),
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(village_of(&srv, &officer, "h1").await, "v1");

    // Import: a row naming commune 2's village is an error of that row; nothing is taken.
    let csv = "Mã hộ,Thôn,Họ tên chủ hộ,Địa chỉ\nH-9,V3,Lò Văn Chín,Xóm 9\n";
    let r = srv
        .http
        .post(srv.url("/api/import/households?format=csv&mode=all"))
        .bearer_auth(&officer)
        .header("content-type", "application/octet-stream")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["imported"], 0, "{report}");
    assert!(!report["errors"].as_array().unwrap().is_empty(), "{report}");
    let (_, h3) = get(
        &srv,
        &srv.login("officer2", "o2").await,
        "/api/households?limit=50",
    )
    .await;
    assert!(!h3.to_string().contains("H-9"), "{h3}");
    drop(srv);
    db.cleanup().await;
}

/// Item 4: the administrator's audit trail names who did what kind of action, when, from
/// which device, on which record — never a household's personal data.
async fn the_administrators_audit_holds_no_household_data(b: Backend) {
    let _shared = CPU_WINDOW.read().await;
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let officer = srv.login("officer1", "officer-laptop").await;
    let secret_name = "Hoàng Thị Bí Mật";
    let secret_address = "Xóm Kín 77";
    let citizen_id = "001234567890";
    let (s, body) = send(
        &srv,
        reqwest::Method::PUT,
        &officer,
        "/api/households/h1",
        json!({"code": "H-1", "village_id": "v1", "address": secret_address, "head_name": secret_name, "residence": "rural"}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let mut member = serde_json::to_value(fixture::member_input("Lò Văn Riêng")).unwrap();
    member["citizen_id"] = json!(citizen_id);
    let (s, body) = send(
        &srv,
        reqwest::Method::POST,
        &officer,
        "/api/households/h1/members",
        member,
    )
    .await;
    assert_eq!(s, 201, "{body}");
    // The commune's own staff read the household's full history.
    let (s, trail) = get(&srv, &officer, "/api/audit?entity_id=h1").await;
    assert_eq!(s, 200);
    assert!(trail.to_string().contains(secret_name), "{trail}");

    let admin = srv.login("admin", "admin-laptop").await;
    let (s, all) = get(&srv, &admin, "/api/audit?limit=500").await;
    assert_eq!(s, 200);
    let mut answers = vec![all.clone()];
    let mut ids: Vec<String> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entity_id"].as_str().unwrap().to_string())
        .collect();
    ids.extend(["h1", "h2", "h3", "m-h1"].map(String::from));
    ids.sort();
    ids.dedup();
    for id in &ids {
        let (s, one) = get(
            &srv,
            &admin,
            &format!("/api/audit?entity_id={id}&limit=500"),
        )
        .await;
        assert_eq!(s, 200);
        answers.push(one);
    }
    // The events are there, by whom and on which record.
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|e| e["entity_id"] == "h1" && e["user_id"] == "u-officer1"),
        "{all}"
    );
    let text = serde_json::to_string(&answers).unwrap();
    for personal in [
        secret_name,
        secret_address,
        citizen_id,
        "Lò Văn Riêng",
        "poor",
        "ethnic_minority",
    ] {
        assert!(
            !text.contains(personal),
            "the administrator read {personal:?} in the audit trail"
        );
    }
    drop(srv);
    db.cleanup().await;
}

/// Item 5: a household named like a formula is written as text in the CSV report.
async fn a_csv_report_runs_no_formula(b: Backend) {
    let _shared = CPU_WINDOW.read().await;
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let vh = srv.login("vh1", "vh1-laptop").await;
    let formula = r#"=HYPERLINK("http://x","y")"#;
    let (s, body) = send(
        &srv,
        reqwest::Method::PUT,
        &vh,
        "/api/households/h1",
        json!({"code": "H-1", "village_id": "v1", "address": "Xóm 1", "head_name": formula, "residence": "rural"}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let officer = srv.login("officer1", "officer-laptop").await;
    let year = chrono::Utc::now().format("%Y").to_string();
    let csv = srv
        .http
        .get(srv.url(&format!(
            "/api/reports?year={year}&period=annual&format=csv"
        )))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv.as_bytes());
    let cells: Vec<String> = reader
        .records()
        .flat_map(|r| r.unwrap().iter().map(String::from).collect::<Vec<_>>())
        .collect();
    assert!(
        cells.iter().any(|c| c == &format!("'{formula}")),
        "the name is in the report, as text: {csv}"
    );
    for c in &cells {
        let risky = c.starts_with(['=', '+', '@', '\t', '\r'])
            || (c.starts_with('-') && c.parse::<f64>().is_err());
        assert!(!risky, "a cell a spreadsheet would run: {c:?}");
    }
    drop(srv);
    db.cleanup().await;
}

/// Item 6: the last active administrator cannot be disabled or demoted; the server's
/// console gives administration back.
async fn the_last_administrator_stays(b: Backend) {
    let _shared = CPU_WINDOW.read().await;
    let Some((db, srv)) = setup(b).await else {
        return;
    };
    let admin = srv.login("admin", "admin-laptop").await;
    let patch = reqwest::Method::PATCH;
    for change in [json!({"active": false}), json!({"role": "commune_officer"})] {
        let (s, body) = send(&srv, patch.clone(), &admin, "/api/users/u-admin", change).await;
        assert_eq!(s, 409, "{body}");
        assert_eq!(body["code"], "last_administrator");
    }
    let (s, me) = get(&srv, &admin, "/api/auth/me").await;
    assert_eq!(s, 200, "{me}");

    // With a second administrator, the first may step down.
    let (s, body) = send(
        &srv,
        patch.clone(),
        &admin,
        "/api/users/u-officer2",
        json!({"role": "admin"}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = send(
        &srv,
        patch.clone(),
        &admin,
        "/api/users/u-admin",
        json!({"active": false}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let second = srv.login("officer2", "o2").await;
    let (s, body) = send(
        &srv,
        patch,
        &second,
        "/api/users/u-officer2",
        json!({"active": false}),
    )
    .await;
    assert_eq!(s, 409, "{body}");

    // Recovery from the server's console: the disabled administrator is given back.
    let done = server::recovery::administrator(
        srv.store.as_ref(),
        "admin",
        None,
        "một mật khẩu khôi phục rất dài".into(),
    )
    .await
    .unwrap();
    assert_eq!(done, server::recovery::Recovered::Reset);
    srv.login_with("admin", "một mật khẩu khôi phục rất dài", "admin-laptop")
        .await;
    let done = server::recovery::administrator(
        srv.store.as_ref(),
        "quantri2",
        Some("Quản trị dự phòng"),
        "một mật khẩu khôi phục khác".into(),
    )
    .await
    .unwrap();
    assert_eq!(done, server::recovery::Recovered::Created);
    srv.login_with("quantri2", "một mật khẩu khôi phục khác", "x")
        .await;
    // A weak password is refused there too.
    assert!(
        server::recovery::administrator(srv.store.as_ref(), "admin", None, "123456".into())
            .await
            .is_err()
    );
    drop(srv);
    db.cleanup().await;
}

/// Item 2: a statement that would never end is stopped by the database after its budget,
/// and its connection serves the next request.
async fn a_runaway_statement_is_stopped_and_its_connection_freed(b: Backend) {
    let _shared = CPU_WINDOW.read().await;
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let budget = Duration::from_millis(300);
    let runaway =
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT COUNT(*) FROM r";
    let started = Instant::now();
    match b {
        Backend::Sqlite => {
            let store = server::store::SqliteStore::connect_with_budget(&db.url, budget)
                .await
                .unwrap();
            // More runaways than the pool has connections, one after another.
            for _ in 0..10 {
                let r: Result<i64, _> = sqlx::query_scalar(runaway).fetch_one(store.pool()).await;
                assert!(r.is_err(), "the runaway statement was stopped");
            }
            let one: i64 = sqlx::query_scalar("SELECT 1")
                .fetch_one(store.pool())
                .await
                .unwrap();
            assert_eq!(one, 1);
        }
        Backend::Postgres => {
            let store = server::store::PostgresStore::connect_with_budget(&db.url, budget)
                .await
                .unwrap();
            for _ in 0..20 {
                let r: Result<i64, _> = sqlx::query_scalar(runaway).fetch_one(store.pool()).await;
                assert!(r.is_err(), "the runaway statement was stopped");
            }
            let production = server::store::PostgresStore::connect(&db.url)
                .await
                .unwrap();
            let timeout: String = sqlx::query_scalar("SHOW statement_timeout")
                .fetch_one(production.pool())
                .await
                .unwrap();
            assert_eq!(timeout, "30s");
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "stopped after their budget: {:?}",
        started.elapsed()
    );
    db.cleanup().await;
}

on_both_backends!(
    an_import_bomb_is_answered_at_once_and_leaves_nothing_running,
    the_area_tree_cannot_become_a_cycle_and_slow_requests_hold_nothing,
    no_door_moves_a_household_out_of_the_commune,
    the_administrators_audit_holds_no_household_data,
    a_csv_report_runs_no_formula,
    the_last_administrator_stays,
    a_runaway_statement_is_stopped_and_its_connection_freed,
);
