//! The field app in headless Chromium against the real server, on a real SQLite file (the
//! conflict test on PostgreSQL too):
//! signing in and out; a cadre logging a visit with no network, reloading, and the visit
//! reaching the server when the network returns; two phones editing the same field offline
//! and both learning the decision the commune officer takes in the console; and the installed app opening with the server
//! stopped. With `DONGHANH_SCREENSHOTS=1` the tests save the main screens at 360 × 800 into
//! `docs/screenshots/`.

use fantoccini::Locator;
use shared::doc::Author;
use shared::doc::Collection;
use shared::household::Cause;
use shared::plan::{PlanItem, PlanItemInput, PlanStatus};
use shared::projection::plan_json;
use shared::sync::{Device, SyncResponse};
use std::path::PathBuf;
use tests::chromium::{
    Driver, chromium, chromium_desktop, dist, new_profile, screenshot, submit_sign_in, wait_js,
};
use tests::phone::{
    click, databases, everything_stored, fill, pending, sign_in, synced_with, text, unlock,
    wrong_password,
};
use tests::{Backend, TestDb, TestServer, fixture};

/// A SQLite file holding the test fixture.
fn fixture_db(rt: &tokio::runtime::Runtime) -> TestDb {
    fixture_on(rt, Backend::Sqlite).expect("SQLite is always there")
}

/// A database of `backend` holding the test fixture; `None` when PostgreSQL is not
/// reachable and not required.
fn fixture_on(rt: &tokio::runtime::Runtime, backend: Backend) -> Option<TestDb> {
    rt.block_on(async {
        let db = TestDb::open(backend).await?;
        fixture::load(&db.store().await).await;
        Some(db)
    })
}

/// A server on its own runtime, so stopping it closes every connection (kept-alive ones
/// too) the way a lost network does; started again on the same port and database file.
struct Server {
    rt: Option<tokio::runtime::Runtime>,
    addr: std::net::SocketAddr,
    dist: PathBuf,
}

impl Server {
    fn start(db: &TestDb, dist: &std::path::Path, addr: Option<std::net::SocketAddr>) -> Server {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let addr = rt.block_on(async {
            let store = db.store().await;
            let state = server::AppState::new(store, b"test-secret-of-at-least-32-bytes!");
            let listener =
                tokio::net::TcpListener::bind(addr.unwrap_or(([127, 0, 0, 1], 0).into()))
                    .await
                    .unwrap();
            let addr = listener.local_addr().unwrap();
            let dist = dist.to_path_buf();
            tokio::spawn(async move {
                axum::serve(listener, server::app(state, Some(dist)))
                    .await
                    .unwrap()
            });
            addr
        });
        Server {
            rt: Some(rt),
            addr,
            dist: dist.to_path_buf(),
        }
    }

    fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    fn stop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(std::time::Duration::from_secs(10));
        }
        let gone = (0..50).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(100));
            std::net::TcpStream::connect(self.addr).is_err()
        });
        assert!(gone, "the server is really gone");
    }

    fn restart(&mut self, db: &TestDb) {
        *self = Server::start(db, &self.dist.clone(), Some(self.addr));
    }
}

/// Tells the page the network is back, as the browser does when signal returns.
async fn back_online(c: &fantoccini::Client) {
    c.execute(
        "window.dispatchEvent(new Event('online')); return true;",
        vec![],
    )
    .await
    .unwrap();
}

/// Signs in over the API as a laptop would; the access token.
async fn api_login(http: &reqwest::Client, url: &str, username: &str, device: &str) -> String {
    let login: serde_json::Value = http
        .post(format!("{url}api/auth/login"))
        .json(&serde_json::json!({"username": username, "password": fixture::PASSWORD, "device_id": device}))
        .send().await.unwrap().json().await.unwrap();
    login["access_token"].as_str().unwrap().to_string()
}

/// The commune officer draws up h1's plan on the laptop: one item, written into the
/// household's document through sync as any device does.
async fn officer_plans_h1(url: &str) {
    let http = reqwest::Client::new();
    let token = api_login(&http, url, "officer1", "officer-desk").await;
    let mut desk = Device::new(&[0x0F; 16]);
    let mut planned = false;
    for _ in 0..10 {
        let req = desk.request();
        let resp: SyncResponse = http
            .post(format!("{url}api/sync"))
            .bearer_auth(&token)
            .json(&req)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        desk.receive(&resp).unwrap();
        if !planned && let Some(doc) = desk.doc_mut("h1") {
            let item = PlanItem {
                id: "plan-capital".into(),
                household_id: "h1".into(),
                status: PlanStatus::Open,
                data: PlanItemInput::matched(
                    Cause::LackOfCapital,
                    "Hội Nông dân xã",
                    "2027-03-31".parse().unwrap(),
                ),
            };
            let author = Author {
                user_id: "u-officer1".into(),
                device_id: "officer-desk".into(),
                at_ms: 1_790_000_000_000,
                door: None,
            };
            doc.put_record(Collection::Plan, &item.id, &plan_json(&item), &author)
                .unwrap();
            planned = true;
        } else if planned && req.pushes.is_empty() && !resp.more {
            return;
        }
    }
    panic!("the officer's plan did not reach the server");
}

/// Must-show 1: a cadre logs a visit with no network, reloads while still offline and the
/// visit is there; when the network returns it reaches the server.
#[test]
fn a_visit_logged_offline_survives_a_reload_and_reaches_the_server() {
    let Some(dist) = dist() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = fixture_db(&rt);
    let mut srv = Server::start(&db, &dist, None);
    let driver = Driver::start();
    let profile = new_profile();
    let c = rt.block_on(async {
        officer_plans_h1(&srv.url()).await;
        let c = chromium(&driver, &profile).await;
        c.goto(&srv.url()).await.unwrap();
        sign_in(&c, "cadre1").await;
        synced_with(&c, 1).await;
        screenshot(&c, "1-households").await;
        c
    });

    srv.stop();
    rt.block_on(async {
        click(&c, "household-row").await;
        assert!(text(&c, "head-name").await.len() > 1);
        screenshot(&c, "2-household").await;
        click(&c, "log-visit").await;
        fill(&c, "discussed", "Bàn kế hoạch nuôi bò sinh sản").await;
        fill(&c, "needs", "Vay thêm 20 triệu").await;
        screenshot(&c, "3-log-visit").await;
        click(&c, "save-visit").await;
        let visits = text(&c, "visits").await;
        assert!(visits.contains("Bàn kế hoạch nuôi bò sinh sản"), "{visits}");
        assert_eq!(pending(&c).await, "1", "the visit waits to be sent");

        // Progress on the plan the officer drew up, noted on the same visit.
        assert!(text(&c, "plan").await.contains("Hội Nông dân xã"));
        click(&c, "note-progress").await;
        fill(&c, "progress-note", "Đã nộp hồ sơ vay 30 triệu").await;
        click(&c, "plan-done").await;
        screenshot(&c, "10-plan-progress").await;
        click(&c, "save-plan").await;
        assert_eq!(text(&c, "plan-note").await, "Đã nộp hồ sơ vay 30 triệu");
        assert!(text(&c, "plan-status").await.contains("đã xong"));

        // And a loan proposed for the household.
        click(&c, "propose-support").await;
        fill(&c, "provider", "NHCSXH huyện").await;
        fill(&c, "amount", "30.000.000").await;
        screenshot(&c, "11-propose-support").await;
        click(&c, "save-support").await;
        let support = text(&c, "support").await;
        assert!(
            support.contains("NHCSXH huyện") && support.contains("dự kiến"),
            "{support}"
        );

        // Reload with no network: the service worker opens the app, the store has the visit.
        c.refresh().await.unwrap();
        unlock(&c, fixture::PASSWORD).await;
        let visits = text(&c, "visits").await;
        assert!(
            visits.contains("Bàn kế hoạch nuôi bò sinh sản"),
            "after reload: {visits}"
        );
        assert_eq!(text(&c, "plan-note").await, "Đã nộp hồ sơ vay 30 triệu");
        assert!(text(&c, "support").await.contains("NHCSXH huyện"));
        assert_eq!(pending(&c).await, "1");
        screenshot(&c, "4-unsent").await;
    });

    srv.restart(&db);
    rt.block_on(async {
        back_online(&c).await;
        c.wait()
            .for_element(Locator::Css("[data-testid=pending][data-pending='0']"))
            .await
            .expect("the visit is sent when the network returns");
        let visits = db.store().await.list_visits("h1").await.unwrap();
        let v = visits
            .iter()
            .find(|v| v.data.discussed == "Bàn kế hoạch nuôi bò sinh sản")
            .expect("the server has the visit");
        assert_eq!(v.cadre_id, "u-cadre1");
        assert_eq!(v.data.needs, "Vay thêm 20 triệu");
        let stored = db
            .store()
            .await
            .docs()
            .load_doc("h1")
            .await
            .unwrap()
            .unwrap();
        let author = Author {
            user_id: "test".into(),
            device_id: "test".into(),
            at_ms: 0,
            door: None,
        };
        let plan = &stored.open(&author).unwrap().to_json()["plan"]["plan-capital"];
        assert_eq!(plan["progress_note"], "Đã nộp hồ sơ vay 30 triệu", "{plan}");
        assert_eq!(plan["status"], "done");
        let support = db.store().await.list_support("h1").await.unwrap();
        let loan = support
            .iter()
            .find(|s| s.data.provider == "NHCSXH huyện")
            .expect("the server has the proposed support");
        assert_eq!(loan.data.amount_vnd, Some(30_000_000));
        assert_eq!(loan.status.as_str(), "planned");
        click(&c, "sync-line").await;
        screenshot(&c, "5-sync").await;
        c.close().await.unwrap();
    });
    srv.stop();
    drop(driver);
    let _ = std::fs::remove_dir_all(profile);
    drop(db);
}

/// The yearly review as the law runs it, across the phone and the console: the village
/// head reviews a household, goes out of coverage and records the village meeting on the
/// phone; when the network returns it reaches the commune; the officer posts the result,
/// the commune leader decides it in the console, and the phone shows the new status.
#[test]
fn a_village_meeting_recorded_offline_reaches_the_commune_and_the_leader_decides() {
    let Some(dist) = dist() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = fixture_db(&rt);
    let mut srv = Server::start(&db, &dist, None);
    let url = srv.url();
    let driver = Driver::start();
    let profile = new_profile();
    let c = rt.block_on(async {
        let c = chromium(&driver, &profile).await;
        c.goto(&url).await.unwrap();
        sign_in(&c, "vh1").await;
        synced_with(&c, 2).await;
        c.goto(&format!("{url}#/h/h1")).await.unwrap();
        // First on this year's list (it is on the poor list), then the review.
        click(&c, "list-household").await;
        assert!(text(&c, "listed").await.contains("Đang trong danh sách"));
        click(&c, "review").await;
        fill(&c, "income", "4.000.000").await;
        click(&c, "save-review").await;
        assert!(text(&c, "proposed").await.contains("Hộ không nghèo"));
        c.wait()
            .for_element(Locator::Css("[data-testid=pending][data-pending='0']"))
            .await
            .expect("the review is sent");
        c
    });

    // Out of coverage: the meeting is recorded on the phone.
    srv.stop();
    rt.block_on(async {
        click(&c, "record-meeting").await;
        // A meeting dated before the review is refused on the phone, with the reason.
        let set_day = |day: String| {
            c.execute(
                "const d = document.querySelector('[data-testid=meeting-day]'); d.value = arguments[0]; d.dispatchEvent(new Event('input', {bubbles: true}));",
                vec![serde_json::Value::String(day)],
            )
        };
        c.wait()
            .for_element(Locator::Css("[data-testid=meeting-day]"))
            .await
            .unwrap();
        set_day("2020-01-02".into()).await.unwrap();
        fill(&c, "attendees", "42").await;
        fill(&c, "agreed", "35").await;
        click(&c, "save-meeting").await;
        let mut refused = false;
        for _ in 0..50 {
            if text(&c, "meeting-form").await.contains("trước ngày rà soát") {
                refused = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(refused, "the phone checks the law's order");
        set_day(chrono::Utc::now().date_naive().to_string()).await.unwrap();
        fill(&c, "attendees", "42").await;
        fill(&c, "agreed", "19").await;
        assert!(text(&c, "meeting-verdict").await.contains("Chưa đạt"));
        fill(&c, "agreed", "35").await;
        assert!(text(&c, "meeting-verdict").await.contains("Đạt"));
        screenshot(&c, "12-village-meeting").await;
        click(&c, "save-meeting").await;
        assert!(text(&c, "meeting-step").await.contains("35/42"));
        assert_eq!(pending(&c).await, "1", "the meeting waits to be sent");
        screenshot(&c, "13-proposed-and-official").await;
    });

    srv.restart(&db);
    rt.block_on(async {
        back_online(&c).await;
        c.wait()
            .for_element(Locator::Css("[data-testid=pending][data-pending='0']"))
            .await
            .expect("the meeting is sent when the network returns");
        // The commune sees the meeting; the officer records the posting.
        let http = reqwest::Client::new();
        let officer = api_login(&http, &url, "officer1", "office-pc").await;
        let campaign: serde_json::Value = http
            .get(format!("{url}api/reviews/campaign?year=2026"))
            .bearer_auth(&officer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let row = campaign["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["household_id"] == "h1")
            .expect("h1 is in the campaign");
        assert_eq!(row["listed"], "on_list");
        assert_eq!(row["progress"]["meeting"]["agreed"], 35);
        assert_eq!(row["progress"]["meeting"]["attendees"], 42);
        let day = chrono::Utc::now().date_naive();
        let posted: serde_json::Value = http
            .post(format!("{url}api/reviews/steps"))
            .bearer_auth(&officer)
            .json(&serde_json::json!({"household_ids": ["h1"], "date": day, "step": {"kind": "posted", "until": day}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(posted[0]["step_id"].is_string(), "{posted}");

        // The leader decides in the console.
        let desk_profile = new_profile();
        let desk = chromium_desktop(&driver, &desk_profile).await;
        desk.goto(&format!("{url}console/")).await.unwrap();
        submit_sign_in(&desk, "leader1", fixture::PASSWORD).await;
        click(&desk, "nav-reviews").await;
        text(&desk, "campaign-rows").await;
        click(&desk, "pick").await;
        fill(&desk, "decision-number", "31/QĐ-UBND").await;
        screenshot(&desk, "console-9-campaign").await;
        click(&desk, "decide-selected").await;
        // The decision is said back in words and asked once.
        let asked = text(&desk, "confirm").await;
        assert!(asked.contains("Công nhận kết quả của 1 hộ theo quyết định số 31/QĐ-UBND"), "{asked}");
        assert!(asked.contains("sửa bằng một quyết định mới"), "{asked}");
        click(&desk, "confirm-yes").await;
        assert!(text(&desk, "outcome").await.contains("1 hộ đã ghi"));
        assert!(text(&desk, "row-state").await.contains("31/QĐ-UBND"));
        desk.close().await.unwrap();
        let _ = std::fs::remove_dir_all(desk_profile);
        assert_eq!(
            db.store().await.get_household("h1").await.unwrap().status.as_str(),
            "newly_escaped"
        );

        // The phone learns the decision at its next sync.
        click(&c, "sync-line").await;
        click(&c, "sync-now").await;
        c.goto(&format!("{url}#/h/h1")).await.unwrap();
        wait_js(&c, "return document.querySelector('[data-testid=status]')?.innerText === 'Hộ mới thoát nghèo'").await;
        assert!(text(&c, "window").await.contains("/"), "the 36-month window shows");
        screenshot(&c, "14-decided").await;
        c.close().await.unwrap();
    });
    srv.stop();
    drop(driver);
    let _ = std::fs::remove_dir_all(profile);
    drop(db);
}

/// Must-show 2: two phones of the village head change the same household's address while
/// offline; both sync; the commune officer finds one conflict with both values and decides
/// a third; after their next sync both phones show the decision and the badge.
#[test]
fn two_phones_editing_one_field_offline_both_learn_the_decision() {
    two_phones_and_the_console(Backend::Sqlite);
}

#[test]
fn postgres_two_phones_editing_one_field_offline_both_learn_the_decision() {
    two_phones_and_the_console(Backend::Postgres);
}

fn two_phones_and_the_console(backend: Backend) {
    let Some(dist) = dist() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = fixture_on(&rt, backend) else {
        return;
    };
    let mut srv = Server::start(&db, &dist, None);
    let driver = Driver::start();
    let profiles = [new_profile(), new_profile()];
    let phones: Vec<fantoccini::Client> = rt.block_on(async {
        let mut phones = vec![];
        for p in &profiles {
            let c = chromium(&driver, p).await;
            c.goto(&srv.url()).await.unwrap();
            sign_in(&c, "vh1").await;
            synced_with(&c, 2).await;
            c.goto(&format!("{}#/h/h1", srv.url())).await.unwrap();
            text(&c, "head-name").await;
            phones.push(c);
        }
        phones
    });

    srv.stop();
    rt.block_on(async {
        for (c, address) in phones.iter().zip(["Xóm Nà Rì, nhà số 4", "Thôn Bản Chang"]) {
            click(c, "edit-household").await;
            fill(c, "address-input", address).await;
            click(c, "save-household").await;
            c.wait()
                .for_element(Locator::Css("[data-testid=pending][data-pending='1']"))
                .await
                .unwrap();
            assert_eq!(text(c, "address").await, address);
        }
        screenshot(&phones[1], "6-edit-offline").await;
    });

    srv.restart(&db);
    let url = srv.url();
    rt.block_on(async {
        for c in &phones {
            back_online(c).await;
            c.wait()
                .for_element(Locator::Css("[data-testid=pending][data-pending='0']"))
                .await
                .unwrap();
        }
        // The phone that synced second learns at once that its value meets another one;
        // the first learns it at its next sync. Each says which value is its own.
        click(&phones[0], "sync-line").await;
        click(&phones[0], "sync-now").await;
        for (c, (mine, other)) in phones.iter().zip([
            ("Xóm Nà Rì, nhà số 4", "Thôn Bản Chang"),
            ("Thôn Bản Chang", "Xóm Nà Rì, nhà số 4"),
        ]) {
            c.goto(&format!("{}#/h/h1", srv.url())).await.unwrap();
            // The note redraws as syncs land: read it by polling, not by a held element.
            wait_js(
                c,
                &format!(
                    "const t = id => (document.querySelector(`[data-testid=${{id}}]`) || {{}}).innerText;
                     return t('waiting-yours') === {mine:?} && t('waiting-other') === {other:?}
                         && (t('waiting-decision') || '').includes('Đang chờ xã quyết định');"
                ),
            )
            .await;
        }
        screenshot(&phones[0], "6b-waiting-for-the-commune").await;
        // The officer's queue holds one conflict naming both phones' values.
        let http = reqwest::Client::new();
        let token = api_login(&http, &url, "officer1", "officer-desk").await;
        let conflicts: serde_json::Value = http
            .get(format!("{url}api/conflicts?household_id=h1"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let conflicts = conflicts.as_array().unwrap();
        assert_eq!(conflicts.len(), 1, "{conflicts:?}");
        let values: Vec<&str> = conflicts[0]["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["value"].as_str().unwrap())
            .collect();
        assert!(
            values.contains(&"Xóm Nà Rì, nhà số 4") && values.contains(&"Thôn Bản Chang"),
            "{values:?}"
        );
        let devices: std::collections::BTreeSet<&str> = conflicts[0]["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["device_id"].as_str().unwrap())
            .collect();
        assert_eq!(devices.len(), 2, "each value names its phone");
        // The officer decides in the console, on the office laptop: neither phone's value
        // but a third one, written beside the two candidates.
        let desk_profile = new_profile();
        let desk = chromium_desktop(&driver, &desk_profile).await;
        desk.goto(&format!("{url}console/")).await.unwrap();
        submit_sign_in(&desk, "officer1", fixture::PASSWORD).await;
        click(&desk, "nav-conflicts").await;
        wait_js(
            &desk,
            "return document.querySelectorAll('[data-testid=candidate]').length === 2",
        )
        .await;
        screenshot(&desk, "console-4-conflicts").await;
        // Plain words: the field's label, who wrote each value on which device, and that
        // both came from one person.
        assert_eq!(text(&desk, "conflict-field").await, "Địa chỉ");
        let by = text(&desk, "candidate-by").await;
        assert!(by.starts_with("Người dùng vh1 · "), "{by}");
        assert!(
            !by.contains(&devices.iter().next().unwrap()[..8]),
            "no device id: {by}"
        );
        assert!(text(&desk, "same-person").await.contains("Người dùng vh1"));
        fill(&desk, "other-value", "Thôn Bản Chang, nhà số 4").await;
        click(&desk, "write-other").await;
        let asked = text(&desk, "confirm").await;
        assert!(
            asked.contains("Giá trị bị thay: Xóm Nà Rì, nhà số 4"),
            "{asked}"
        );
        click(&desk, "confirm-yes").await;
        assert!(text(&desk, "undo-offer").await.contains("Đã quyết định"));
        text(&desk, "no-conflicts").await;
        // Afterwards the decided value and the ones it replaced stay visible.
        click(&desk, "show-decided").await;
        assert!(
            text(&desk, "decided")
                .await
                .contains("Thôn Bản Chang, nhà số 4")
        );
        wait_js(
            &desk,
            "return document.querySelectorAll('[data-testid=overridden]').length === 2",
        )
        .await;
        screenshot(&desk, "console-conflict-decided-1280").await;
        desk.close().await.unwrap();
        let _ = std::fs::remove_dir_all(desk_profile);

        for c in &phones {
            click(c, "sync-line").await;
            click(c, "sync-now").await;
            c.wait()
                .for_element(Locator::Css("[data-testid=overridden-count]"))
                .await
                .expect("the badge appears after the next sync");
            c.goto(&format!("{url}#/h/h1")).await.unwrap();
            assert_eq!(text(c, "address").await, "Thôn Bản Chang, nhà số 4");
            assert_eq!(text(c, "decided").await, "Thôn Bản Chang, nhà số 4");
        }
        screenshot(&phones[0], "7-overridden").await;
        for c in phones {
            c.close().await.unwrap();
        }
    });
    srv.stop();
    drop(driver);
    for p in profiles {
        let _ = std::fs::remove_dir_all(p);
    }
    rt.block_on(db.cleanup());
}

/// A village head reviews a household on the phone (the classification shows as the form
/// is filled), adds a member and registers a household; all of it reaches the server.
/// Then an administrator revokes the phone: the app says so, keeps the unsent change, and
/// sends it once the same person signs in again. Signing out warns about unsent changes.
#[test]
fn a_village_head_reviews_registers_and_keeps_work_through_a_revoked_session() {
    let Some(dist) = dist() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = fixture_db(&rt);
    let mut srv = Server::start(&db, &dist, None);
    let url = srv.url();
    let driver = Driver::start();
    let profile = new_profile();
    let c = rt.block_on(async {
        let store = db.store().await;
        let c = chromium(&driver, &profile).await;
        c.goto(&url).await.unwrap();
        sign_in(&c, "vh1").await;
        synced_with(&c, 2).await;

        // The review: income under the line and three deprivations make a poor household.
        c.goto(&format!("{url}#/h/h2")).await.unwrap();
        click(&c, "review").await;
        fill(&c, "income", "1.000.000").await;
        for code in ["health_insurance", "floor_area", "water_source"] {
            click(&c, &format!("indicator-{code}")).await;
        }
        let outcome = text(&c, "classification-result").await;
        assert_eq!(outcome, "Hộ nghèo");
        screenshot(&c, "8-review").await;
        click(&c, "save-review").await;
        // The review proposes; the official status waits for the commune's decision.
        assert_eq!(text(&c, "status").await, "Hộ cận nghèo");
        assert!(text(&c, "proposed").await.contains("Hộ nghèo"));

        // A member.
        click(&c, "add-member").await;
        fill(&c, "full_name", "Lò Thị Xuân").await;
        fill(&c, "birth_year", "20x0").await;
        fill(&c, "relation", "Con").await;
        click(&c, "save-member").await;
        let error = text(&c, "member-form").await;
        assert!(
            error.contains("Năm sinh phải là số"),
            "a bad year is refused in words: {error}"
        );
        fill(&c, "birth_year", "2010").await;
        click(&c, "save-member").await;
        assert!(text(&c, "members").await.contains("Lò Thị Xuân"));
        // A member entered by mistake is removed, after a second tap.
        click(&c, "add-member").await;
        fill(&c, "full_name", "Lò Văn Tạm").await;
        fill(&c, "birth_year", "1990").await;
        fill(&c, "relation", "Anh trai").await;
        click(&c, "save-member").await;
        c.wait()
            .for_element(Locator::LinkText("Lò Văn Tạm · Anh trai · 1990"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        click(&c, "remove-member").await;
        assert!(text(&c, "member-form").await.contains("Bấm lần nữa để xoá"));
        click(&c, "remove-member").await;
        let members = text(&c, "members").await;
        assert!(
            !members.contains("Lò Văn Tạm") && members.contains("Lò Thị Xuân"),
            "{members}"
        );

        // A new household.
        c.goto(&format!("{url}#/new")).await.unwrap();
        fill(&c, "head-name-input", "Triệu Văn Minh").await;
        fill(&c, "code-input", "H-NEW").await;
        fill(&c, "address-input", "Thôn Khuổi Hẩu").await;
        screenshot(&c, "9-register").await;
        click(&c, "save-household").await;
        assert_eq!(text(&c, "head-name").await, "Triệu Văn Minh");
        c.wait()
            .for_element(Locator::Css("[data-testid=pending][data-pending='0']"))
            .await
            .expect("everything is sent");
        let assessments = store.list_assessments("h2").await.unwrap();
        assert_eq!(assessments.len(), 1);
        assert_eq!(assessments[0].classification.as_str(), "poor");
        assert_eq!(
            store.get_household("h2").await.unwrap().status.as_str(),
            "near_poor",
            "a village head's review alone never changes the status"
        );
        let members = store.list_members("h2").await.unwrap();
        assert!(
            members
                .iter()
                .any(|m| m.data.full_name == "Lò Thị Xuân" && m.data.birth_year == 2010)
        );
        assert!(
            !members.iter().any(|m| m.data.full_name == "Lò Văn Tạm"),
            "the removal reached the server"
        );
        let all = store
            .list_households(&server::store::HouseholdFilter {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(
            all.iter()
                .any(|h| h.code == "H-NEW" && h.head_name == "Triệu Văn Minh")
        );

        // The administrator revokes this phone; an edit made meanwhile is kept.
        let device = c
            .execute("return localStorage.getItem('donghanh.device')", vec![])
            .await
            .unwrap();
        let http = reqwest::Client::new();
        let admin = api_login(&http, &url, "admin", "admin-desk").await;
        let r = http
            .post(format!(
                "{url}api/users/u-vh1/devices/{}/revoke",
                device.as_str().unwrap()
            ))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        c.goto(&format!("{url}#/h/h1/edit")).await.unwrap();
        fill(&c, "address-input", "Xóm Nà Rì, cạnh trường").await;
        click(&c, "save-household").await;
        let ended = text(&c, "session-ended").await;
        assert!(
            ended.contains("thu hồi") && ended.contains("chưa gửi vẫn được giữ"),
            "the app says the device was revoked and the unsent edit is kept: {ended}"
        );
        // One message, and nothing of the households.
        let page = c
            .execute("return document.querySelector('main').innerText", vec![])
            .await
            .unwrap();
        let page = page.as_str().unwrap();
        assert_eq!(page.matches("thu hồi").count(), 1, "{page}");
        for gone in ["household-row", "menu-button", "sync-line", "new-household"] {
            assert!(
                c.find(Locator::Css(&format!("[data-testid={gone}]")))
                    .await
                    .is_err(),
                "{gone} is hidden on a revoked phone: {page}"
            );
        }
        screenshot(&c, "33-revoked-phone").await;

        // The same person signs in again: the edit is still there and is sent.
        click(&c, "sign-in-again").await;
        sign_in(&c, "vh1").await;
        c.wait()
            .for_element(Locator::Css("[data-testid=pending][data-pending='0']"))
            .await
            .expect("the kept edit is sent after signing in again");
        assert_eq!(
            store.get_household("h1").await.unwrap().address,
            "Xóm Nà Rì, cạnh trường"
        );

        c
    });

    // Signing out with unsent changes asks first.
    srv.stop();
    rt.block_on(async {
        c.goto(&format!("{url}#/h/h1/edit")).await.unwrap();
        fill(&c, "address-input", "Xóm Nà Rì").await;
        click(&c, "save-household").await;
        c.wait()
            .for_element(Locator::Css("[data-testid=pending][data-pending='1']"))
            .await
            .unwrap();
        click(&c, "sync-line").await;
        click(&c, "logout").await;
        let warning = text(&c, "unsent-warning").await;
        assert!(warning.contains("1 hộ"), "{warning}");
        click(&c, "logout").await;
        c.wait()
            .for_element(Locator::Css("[data-testid=login-form]"))
            .await
            .unwrap();
        let left = databases(&c).await;
        assert!(
            !left.iter().any(|n| n == "donghanh-u-vh1"),
            "signing out wiped the phone's copy: {left:?}"
        );
        c.close().await.unwrap();
    });
    drop(driver);
    let _ = std::fs::remove_dir_all(profile);
    drop(db);
}

/// Must-show 3: the installed app opens with the server gone and shows the households:
/// the service worker serves the shell and the WebAssembly, the store the households.
#[test]
fn the_app_opens_with_the_server_stopped() {
    let Some(dist) = dist() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = fixture_db(&rt);
    let mut srv = Server::start(&db, &dist, None);
    let url = srv.url();
    let driver = Driver::start();
    let profile = new_profile();
    let c = rt.block_on(async {
        let c = chromium(&driver, &profile).await;
        c.goto(&url).await.unwrap();
        sign_in(&c, "vh1").await;
        synced_with(&c, 2).await;
        // The app is installable: a manifest with icons, and a service worker in control.
        let manifest = c
            .execute(
                "return fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(manifest["display"], "standalone");
        assert!(manifest["icons"].as_array().unwrap().len() >= 2);
        let controlled = c
            .execute_async(
                "const done = arguments[0];
                 navigator.serviceWorker.ready.then(() => {
                   if (navigator.serviceWorker.controller) return done(true);
                   navigator.serviceWorker.addEventListener('controllerchange', () => done(true));
                 });",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(controlled, true, "the service worker controls the page");
        c
    });

    srv.stop();
    rt.block_on(async {
        c.goto(&url).await.unwrap();
        unlock(&c, fixture::PASSWORD).await;
        c.wait()
            .for_element(Locator::Css("[data-testid=households]"))
            .await
            .expect("the app opens offline");
        wait_js(
            &c,
            "return document.querySelectorAll('[data-testid=household-row]').length === 2",
        )
        .await;
        let rows = text(&c, "households").await;
        assert!(rows.contains("H-1") && rows.contains("H-2"), "{rows}");
        c.close().await.unwrap();
    });
    drop(driver);
    let _ = std::fs::remove_dir_all(profile);
    drop(db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_village_head_signs_in_and_out_in_chromium() {
    let Some(dist) = dist() else { return };
    let db = TestDb::sqlite().await;
    let store = db.store().await;
    fixture::load(&store).await;
    let srv = TestServer::start(store.clone(), Some(dist)).await;
    let driver = Driver::start();
    let profile = std::env::temp_dir().join(format!("donghanh-chromium-{}", uuid::Uuid::now_v7()));
    let c = chromium(&driver, &profile).await;

    c.goto(&srv.url("/")).await.unwrap();
    let form = c
        .wait()
        .for_element(Locator::Css("[data-testid=login-form]"))
        .await
        .unwrap();
    assert!(
        form.text().await.unwrap().contains("Đăng nhập"),
        "Vietnamese first"
    );

    // A wrong password gets the server's reason in Vietnamese.
    c.find(Locator::Css("[data-testid=username]"))
        .await
        .unwrap()
        .send_keys("vh1")
        .await
        .unwrap();
    c.find(Locator::Css("[data-testid=password]"))
        .await
        .unwrap()
        .send_keys("sai-mat-khau")
        .await
        .unwrap();
    c.find(Locator::Css("[data-testid=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let err = c
        .wait()
        .for_element(Locator::Css("[data-testid=login-error]"))
        .await
        .unwrap();
    assert_eq!(
        err.text().await.unwrap(),
        "Tên đăng nhập hoặc mật khẩu không đúng."
    );

    // English is one tap away, and the same error reads in English.
    c.find(Locator::Css("[data-testid=lang]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let err = c
        .find(Locator::Css("[data-testid=login-error]"))
        .await
        .unwrap();
    assert_eq!(err.text().await.unwrap(), "Wrong username or password.");
    c.find(Locator::Css("[data-testid=lang]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // The right password signs in.
    let pw = c
        .find(Locator::Css("[data-testid=password]"))
        .await
        .unwrap();
    pw.clear().await.unwrap();
    pw.send_keys(fixture::PASSWORD).await.unwrap();
    c.find(Locator::Css("[data-testid=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("[data-testid=households]"))
        .await
        .unwrap();
    synced_with(&c, 2).await;

    // A reload keeps the person signed in.
    c.refresh().await.unwrap();
    unlock(&c, fixture::PASSWORD).await;
    synced_with(&c, 2).await;

    // The sync screen says who is signed in.
    click(&c, "sync-line").await;
    let screen = text(&c, "sync-screen").await;
    assert!(
        screen.contains("Người dùng vh1") && screen.contains("Trưởng thôn/bản"),
        "{screen}"
    );

    // Signing out ends the session on the server too.
    c.find(Locator::Css("[data-testid=logout]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("[data-testid=login-form]"))
        .await
        .unwrap();
    let sessions = store.list_sessions("u-vh1").await.unwrap();
    assert_eq!(sessions.len(), 1);
    assert!(
        sessions[0].revoked_at.is_some(),
        "the server revoked the session"
    );

    c.close().await.unwrap();
    drop(driver);
    let _ = std::fs::remove_dir_all(profile);
    db.cleanup().await;
}

/// What the phone must never hold in readable form, once a village head has synced,
/// reviewed (income), added a member (name and citizen ID) and logged work.
const SECRETS: [&str; 6] = [
    "Chủ hộ H-1",
    "Chủ hộ H-2",
    "Lò Thị Bí Mật",
    "001085012345",
    "1200000",
    "Người dùng cadre1",
];

fn nothing_readable(stored: &str) {
    for secret in SECRETS {
        assert!(
            !stored.contains(secret),
            "{secret:?} is readable in the phone's storage:\n{}",
            &stored[..stored.len().min(4000)]
        );
    }
}

/// Issue 33's must-show: after a full sync and unsent work, nothing of a household is
/// readable in IndexedDB, Cache Storage or localStorage; the lock opens offline with the
/// password and refuses a wrong one; ten wrong passwords erase the phone's data.
#[test]
fn a_lost_phone_gives_nothing_away() {
    let Some(dist) = dist() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = fixture_db(&rt);
    let mut srv = Server::start(&db, &dist, None);
    let url = srv.url();
    let driver = Driver::start();
    let profile = new_profile();
    let c = rt.block_on(async {
        let c = chromium(&driver, &profile).await;
        c.goto(&url).await.unwrap();
        sign_in(&c, "vh1").await;
        synced_with(&c, 2).await;
        // A member with a citizen ID, sent.
        c.goto(&format!("{url}#/h/h1")).await.unwrap();
        click(&c, "add-member").await;
        fill(&c, "full_name", "Lò Thị Bí Mật").await;
        fill(&c, "birth_year", "1985").await;
        fill(&c, "relation", "Vợ").await;
        fill(&c, "citizen_id", "001085012345").await;
        click(&c, "save-member").await;
        assert!(text(&c, "members").await.contains("Lò Thị Bí Mật"));
        c.wait()
            .for_element(Locator::Css("[data-testid=pending][data-pending='0']"))
            .await
            .expect("the member is sent");
        c
    });
    // Offline: a review with an income, left unsent.
    srv.stop();
    rt.block_on(async {
        tests::phone::record_a_review(&c, "H-2").await;
        assert_eq!(pending(&c).await, "1");
        let stored = everything_stored(&c).await;
        assert!(
            stored.contains("donghanh-u-vh1/docs") && stored.contains("id h1"),
            "the scan read the household records: {}",
            &stored[..stored.len().min(2000)]
        );
        nothing_readable(&stored);
        assert!(
            !stored.contains("localStorage donghanh.session"),
            "the session's tokens are sealed too"
        );

        // Reopened offline, the app asks for the password before anything else.
        c.goto(&url).await.unwrap();
        text(&c, "lock-form").await;
        let shown = text(&c, "lock-form").await;
        assert!(!shown.contains("H-1"), "{shown}");
        assert!(
            c.find(Locator::Css("[data-testid=household-row]"))
                .await
                .is_err(),
            "no household before unlocking"
        );
        screenshot(&c, "33-lock-screen").await;
        let said = wrong_password(&c, "khong-phai-mat-khau").await;
        assert!(said.contains("Mật khẩu không đúng"), "{said}");
        unlock(&c, fixture::PASSWORD).await;
        wait_js(
            &c,
            "return document.querySelectorAll('[data-testid=household-row]').length === 2",
        )
        .await;
        assert_eq!(pending(&c).await, "1", "the unsent review is still there");

        // A PIN, set with the password, opens the app within its window; a wrong one is
        // counted.
        c.goto(&format!("{url}#/sync")).await.unwrap();
        fill(&c, "pin-password", fixture::PASSWORD).await;
        fill(&c, "pin-new", "246810").await;
        click(&c, "pin-set").await;
        assert!(text(&c, "pin-said").await.contains("Đã đặt mã PIN"));
        click(&c, "lock-now").await;
        fill(&c, "lock-pin", "111111").await;
        click(&c, "lock-submit").await;
        let said = text(&c, "lock-error").await;
        assert!(said.contains("còn 4 lần"), "{said}");
        fill(&c, "lock-pin", "246810").await;
        click(&c, "lock-submit").await;
        text(&c, "sync-line").await;
        c.goto(&format!("{url}#/")).await.unwrap();
        wait_js(
            &c,
            "return document.querySelectorAll('[data-testid=household-row]').length === 2",
        )
        .await;
    });
    // Back in coverage: the review is sent by itself after the unlock.
    srv.restart(&db);
    rt.block_on(async {
        back_online(&c).await;
        c.wait()
            .for_element(Locator::Css("[data-testid=pending][data-pending='0']"))
            .await
            .expect("the review is sent once unlocked and online");
        let store = db.store().await;
        assert_eq!(store.list_assessments("h2").await.unwrap().len(), 1);

        // Ten wrong passwords in a row erase everything of the person (the PIN set
        // above is offered first; the password is one tap away).
        c.goto(&url).await.unwrap();
        click(&c, "use-password").await;
        for n in 1..=10 {
            let said = wrong_password(&c, &format!("sai-{n}")).await;
            match n {
                1..=4 => assert!(!said.contains("Sai thêm"), "no warning yet at {n}: {said}"),
                5 => {
                    assert!(said.contains("Sai thêm 5 lần nữa"), "{said}");
                    screenshot(&c, "33-wrong-password-warning").await;
                }
                6..=9 => assert!(
                    said.contains(&format!("Sai thêm {} lần nữa", 10 - n)),
                    "{said}"
                ),
                _ => assert!(said.contains("đã bị xóa"), "{said}"),
            }
        }
        text(&c, "login-form").await;
        assert!(
            !databases(&c).await.iter().any(|d| d == "donghanh-u-vh1"),
            "the person's store is gone"
        );
        let left = everything_stored(&c).await;
        assert!(!left.contains("localStorage donghanh.session"), "{left}");
        c.close().await.unwrap();
    });
    drop(driver);
    let _ = std::fs::remove_dir_all(profile);
    drop(db);
}

/// A phone updated from the version before encryption: its plain store (captured from
/// that version, `tests/fixtures/legacy-store.json`, with a household registered offline
/// and never sent) is sealed at the first unlock, and the unsent household is sent.
#[test]
fn an_unencrypted_store_is_sealed_at_the_first_unlock_and_keeps_unsent_work() {
    let Some(dist) = dist() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = fixture_db(&rt);
    let srv = Server::start(&db, &dist, None);
    let url = srv.url();
    let driver = Driver::start();
    let profile = new_profile();
    let legacy: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/legacy-store.json"),
        )
        .unwrap(),
    )
    .unwrap();
    rt.block_on(async {
        let c = chromium(&driver, &profile).await;
        c.goto(&url).await.unwrap();
        text(&c, "login-form").await;
        // The old version's state: its store, its device id and session, and the list of
        // accompaniments it kept in localStorage.
        let http = reqwest::Client::new();
        let device = legacy["device"].as_str().unwrap();
        let pair: serde_json::Value = http
            .post(format!("{url}api/auth/login"))
            .json(&serde_json::json!({"username": "vh1", "password": fixture::PASSWORD, "device_id": device}))
            .send().await.unwrap().json().await.unwrap();
        let restored = c
            .execute_async(
                r#"const [dump, pair, done] = arguments;
                const dec = (v) => {
                  if (v && typeof v === 'object' && '$bytes' in v)
                    return Uint8Array.from(atob(v['$bytes']), ch => ch.charCodeAt(0));
                  if (Array.isArray(v)) return v.map(dec);
                  if (v && typeof v === 'object') { const o = {}; for (const k of Object.keys(v)) o[k] = dec(v[k]); return o; }
                  return v;
                };
                const r = indexedDB.open('donghanh-u-vh1', 1);
                r.onupgradeneeded = () => { r.result.createObjectStore('docs'); r.result.createObjectStore('meta'); };
                r.onsuccess = () => {
                  const db = r.result;
                  const tx = db.transaction(['docs', 'meta'], 'readwrite');
                  for (const [k, v] of dump.docs) tx.objectStore('docs').put(dec(v), k);
                  for (const [k, v] of dump.meta) tx.objectStore('meta').put(dec(v), k);
                  tx.oncomplete = () => {
                    db.close();
                    localStorage.setItem('donghanh.device', dump.device);
                    localStorage.setItem('donghanh.accompaniment.u-vh1', dump.accompaniment);
                    localStorage.setItem('donghanh.session', JSON.stringify(pair));
                    done(true);
                  };
                };"#,
                vec![legacy.clone(), pair],
            )
            .await
            .unwrap();
        assert_eq!(restored, true);
        let before = everything_stored(&c).await;
        assert!(
            before.contains("Lò Văn Cũ") && before.contains("Người dùng cadre1"),
            "the old store is readable, as it was: the scan would see it"
        );

        // The updated app asks for the password once, checked by the server.
        c.goto(&url).await.unwrap();
        text(&c, "first-lock").await;
        unlock(&c, fixture::PASSWORD).await;
        wait_js(
            &c,
            "return document.querySelectorAll('[data-testid=household-row]').length === 3 && document.querySelector('[data-testid=pending]').dataset.pending === '0'",
        )
        .await;
        let store = db.store().await;
        let all = store
            .list_households(&server::store::HouseholdFilter {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(
            all.iter()
                .any(|h| h.code == "H-OLD" && h.head_name == "Lò Văn Cũ"),
            "the unsent household of the old version reached the server"
        );
        let after = everything_stored(&c).await;
        assert!(!after.contains("Lò Văn Cũ"), "sealed: {after}");
        assert!(
            !after.contains("localStorage donghanh.session")
                && !after.contains("localStorage donghanh.accompaniment"),
            "the old version's session and accompaniments left local storage"
        );
        nothing_readable(&after);

        // From now on the lock opens with the password, offline too.
        c.goto(&url).await.unwrap();
        unlock(&c, fixture::PASSWORD).await;
        wait_js(
            &c,
            "return document.querySelectorAll('[data-testid=household-row]').length === 3",
        )
        .await;
        c.close().await.unwrap();
    });
    drop(driver);
    let _ = std::fs::remove_dir_all(profile);
    drop(db);
}

#[test]
fn a_phone_reported_lost_erases_itself() {
    lost_phone(Backend::Sqlite);
}

#[test]
fn postgres_a_phone_reported_lost_erases_itself() {
    lost_phone(Backend::Postgres);
}

/// "Lost or stolen: erase": at its next contact the phone deletes everything of the
/// person, unsent work included, and the server records when it confirmed and how much
/// unsent work went with it.
fn lost_phone(backend: Backend) {
    let Some(dist) = dist() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = fixture_on(&rt, backend) else {
        return;
    };
    let srv = Server::start(&db, &dist, None);
    let url = srv.url();
    let driver = Driver::start();
    let profile = new_profile();
    rt.block_on(async {
        let c = chromium(&driver, &profile).await;
        c.goto(&url).await.unwrap();
        sign_in(&c, "vh1").await;
        synced_with(&c, 2).await;
        let device = c
            .execute("return localStorage.getItem('donghanh.device')", vec![])
            .await
            .unwrap();
        let device = device.as_str().unwrap().to_string();
        let http = reqwest::Client::new();
        let admin = api_login(&http, &url, "admin", "admin-desk").await;
        let devices = |http: reqwest::Client, admin: String| {
            let url = url.clone();
            async move {
                let v: serde_json::Value = http
                    .get(format!("{url}api/users/u-vh1/devices"))
                    .bearer_auth(&admin)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                v
            }
        };
        let r = http
            .post(format!("{url}api/users/u-vh1/devices/{device}/revoke"))
            .bearer_auth(&admin)
            .json(&serde_json::json!({"kind": "erase"}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let listed = devices(http.clone(), admin.clone()).await;
        let mine = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["device_id"] == device.as_str())
            .unwrap()
            .clone();
        assert_eq!(mine["revoke_kind"], "erase");
        assert!(mine["erased_at"].is_null(), "erase pending: {mine}");

        // The village head edits a household: the save is kept, the sync that follows
        // learns of the erase, and the phone erases everything of the person.
        c.goto(&format!("{url}#/h/h1/edit")).await.unwrap();
        fill(&c, "address-input", "Xóm đã mất máy").await;
        click(&c, "save-household").await;
        let said = text(&c, "farewell").await;
        assert!(said.contains("báo mất"), "{said}");
        text(&c, "login-form").await;
        assert!(
            !databases(&c).await.iter().any(|d| d == "donghanh-u-vh1"),
            "the person's store is gone"
        );
        let left = everything_stored(&c).await;
        assert!(!left.contains("localStorage donghanh.session"), "{left}");
        assert!(!left.contains("Chủ hộ H-1"), "{left}");

        // The server heard it: erased at, and the one unsent household that went.
        let mut erased = serde_json::Value::Null;
        for _ in 0..50 {
            let listed = devices(http.clone(), admin.clone()).await;
            erased = listed
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["device_id"] == device.as_str())
                .unwrap()
                .clone();
            if !erased["erased_at"].is_null() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(erased["erased_at"].is_i64(), "{erased}");
        assert_eq!(erased["unsent"], 1, "{erased}");
        assert_ne!(
            db.store().await.get_household("h1").await.unwrap().address,
            "Xóm đã mất máy",
            "nothing of the lost phone was taken after the erase was asked"
        );
        c.close().await.unwrap();
    });
    drop(driver);
    let _ = std::fs::remove_dir_all(profile);
    drop(db);
}
