//! The commune console in headless Chromium (a 1280 × 800 laptop) against the real server,
//! with a cadre's phone (360 × 800) beside it, on SQLite and on PostgreSQL: the officer
//! assigns a cadre to a household without one and it reaches the cadre's phone at its next
//! sync, with who accompanies it and the cadence; the administrator reports the phone lost
//! (asked once more) and it erases itself at its next sync, the console showing when; the officer imports an Excel household list with one bad row,
//! sees that row's error with nothing imported, then imports the valid rows; and plans a
//! household's way out from its cause, which lands in the household's document and history. With `DONGHANH_SCREENSHOTS=1` the console's screens are saved
//! into `docs/screenshots/`.

use fantoccini::Locator;
use tests::chromium::{
    Driver, chromium, chromium_desktop, dist, new_profile, screenshot, submit_sign_in, wait_js,
};
use tests::{Backend, TestDb, TestServer, fixture};

async fn find(c: &fantoccini::Client, css: &str) -> fantoccini::elements::Element {
    match c.wait().for_element(Locator::Css(css)).await {
        Ok(e) => e,
        Err(e) => {
            let page = c
                .execute(
                    "return location.href + '\\n' + document.body.innerText",
                    vec![],
                )
                .await
                .unwrap_or_default();
            panic!("{css}: {e}; the page shows: {page}")
        }
    }
}

async fn click(c: &fantoccini::Client, css: &str) {
    let e = find(c, css).await;
    let arg = serde_json::to_value(&e).unwrap();
    c.execute("arguments[0].scrollIntoView({block: 'center'})", vec![arg])
        .await
        .unwrap();
    e.click().await.unwrap();
}

/// Households the phone lists, once a sync finished with nothing unsent.
async fn phone_lists(c: &fantoccini::Client, n: usize) {
    wait_js(c, &format!("return document.querySelector('[data-testid=last-sync]') && document.querySelector('[data-testid=last-sync]').innerText !== '' && document.querySelectorAll('[data-testid=household-row]').length === {n}")).await;
}

async fn sync_now(c: &fantoccini::Client) {
    click(c, "[data-testid=sync-line]").await;
    click(c, "[data-testid=sync-now]").await;
}

async fn console_sign_in(c: &fantoccini::Client, url: &str, username: &str) {
    console_sign_in_with(c, url, username, fixture::PASSWORD).await;
}

async fn console_sign_in_with(c: &fantoccini::Client, url: &str, username: &str, password: &str) {
    c.goto(&format!("{url}console/")).await.unwrap();
    submit_sign_in(c, username, password).await;
    find(c, "[data-testid=nav]").await;
}

async fn assign_and_revoke(backend: Backend) {
    let Some(dist) = dist() else { return };
    let Some(db) = TestDb::open(backend).await else {
        return;
    };
    let store = db.store().await;
    fixture::load(&store).await;
    let srv = TestServer::start(store, Some(dist)).await;
    let url = srv.url("/");
    let driver = Driver::start();
    let profiles = [new_profile(), new_profile()];
    let phone = chromium(&driver, &profiles[0]).await;
    let desk = chromium_desktop(&driver, &profiles[1]).await;

    // The cadre's phone holds the one household assigned to them.
    phone.goto(&url).await.unwrap();
    submit_sign_in(&phone, "cadre1", fixture::PASSWORD).await;
    phone_lists(&phone, 1).await;

    // The officer signs in on the field app and is sent on to the console.
    desk.goto(&url).await.unwrap();
    submit_sign_in(&desk, "officer1", fixture::PASSWORD).await;
    find(&desk, "[data-testid=nav]").await;
    assert!(
        desk.current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/console/")
    );
    screenshot(&desk, "console-1-overview").await;

    // Households without a cadre: H-2 (near-poor) is one; H-1 has cadre1.
    click(&desk, "[data-testid=nav-assign]").await;
    find(&desk, "[data-testid=household-row][data-code=H-2]").await;
    let listed = desk
        .execute("return [...document.querySelectorAll('[data-testid=household-row]')].map(r => r.dataset.code)", vec![])
        .await
        .unwrap();
    assert_eq!(
        listed,
        serde_json::json!(["H-2"]),
        "only households nobody accompanies"
    );
    assert!(
        find(&desk, "[data-testid=assign-hint]")
            .await
            .text()
            .await
            .unwrap()
            .contains("Chọn hộ")
    );
    click(
        &desk,
        "[data-testid=household-row][data-code=H-2] [data-testid=choose]",
    )
    .await;
    find(&desk, "[data-testid=assign-cadre]")
        .await
        .select_by_value("u-cadre1")
        .await
        .unwrap();
    let cadence = find(&desk, "[data-testid=cadence]").await;
    cadence.clear().await.unwrap();
    cadence.send_keys("14").await.unwrap();
    screenshot(&desk, "console-2-assign").await;
    click(&desk, "[data-testid=assign]").await;
    let outcome = find(&desk, "[data-testid=outcome]")
        .await
        .text()
        .await
        .unwrap();
    assert!(outcome.contains("Đã giao 1"), "{outcome}");
    // Nobody is left without a cadre; cadre1 now accompanies two households.
    wait_js(
        &desk,
        "return document.querySelectorAll('[data-testid=household-row]').length === 0",
    )
    .await;
    wait_js(&desk, "return [...document.querySelectorAll('[data-testid=cadre-row]')].some(r => r.innerText.includes('cadre1') && r.cells[1].innerText === '2')").await;

    // At its next sync (here: the app opened again) the phone lists H-2, with who
    // accompanies it and how often.
    phone.goto(&url).await.unwrap();
    tests::phone::unlock(&phone, fixture::PASSWORD).await;
    phone_lists(&phone, 2).await;
    phone.goto(&format!("{url}#/h/h2")).await.unwrap();
    let by = find(&phone, "[data-testid=accompanied-by]")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        by.contains("Người dùng cadre1") && by.contains("14"),
        "{by}"
    );

    // The cadre names the phone on its sync screen; the administrator finds it by that name.
    click(&phone, "[data-testid=sync-line]").await;
    let named = find(&phone, "[data-testid=device-name]").await;
    named.clear().await.unwrap();
    named.send_keys("Điện thoại của Sình").await.unwrap();
    click(&phone, "[data-testid=save-device-name]").await;
    let saved = find(&phone, "[data-testid=device-name-saved]")
        .await
        .text()
        .await
        .unwrap();
    assert!(saved.contains("Đã đổi tên máy"), "{saved}");

    // The administrator revokes the phone; its next sync is refused.
    let device: String = phone
        .execute("return localStorage.getItem('donghanh.device')", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    click(&desk, "[data-testid=sign-out]").await;
    // Signed out before the next person signs in on this laptop.
    find(&desk, "[data-testid=login-form]").await;
    console_sign_in(&desk, &url, "admin").await;
    click(
        &desk,
        "[data-testid=user-row][data-username=cadre1] [data-testid=open-user]",
    )
    .await;
    // "Lost or stolen": the console says what it will do and asks once more.
    let row = format!("[data-testid=device-row][data-device='{device}']");
    let shown = find(&desk, &format!("{row} [data-testid=device-name]"))
        .await
        .text()
        .await
        .unwrap();
    assert!(shown.starts_with("Điện thoại của Sình"), "{shown}");
    screenshot(&desk, "console-devices-1280").await;
    click(&desk, &format!("{row} [data-testid=revoke-erase]")).await;
    let asked = find(&desk, &format!("{row} [data-testid=revoke-confirm-text]"))
        .await
        .text()
        .await
        .unwrap();
    assert!(asked.contains("kể cả phần chưa gửi"), "{asked}");
    click(&desk, &format!("{row} [data-testid=revoke-confirm]")).await;
    find(&desk, &format!("{row}[data-state=ErasePending]")).await;
    // At its next contact the phone erases everything of the person and says so.
    sync_now(&phone).await;
    let said = find(&phone, "[data-testid=farewell]")
        .await
        .text()
        .await
        .unwrap();
    assert!(said.contains("báo mất"), "{said}");
    // The console shows when the phone confirmed.
    let mut erased = String::new();
    for _ in 0..30 {
        // Closed and opened again, the user's devices are read anew.
        for _ in 0..2 {
            click(
                &desk,
                "[data-testid=user-row][data-username=cadre1] [data-testid=open-user]",
            )
            .await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        if let Ok(e) = desk
            .find(fantoccini::Locator::Css(&format!(
                "{row}[data-state=Erased] [data-testid=device-state]"
            )))
            .await
        {
            erased = e.text().await.unwrap();
            break;
        }
    }
    assert!(
        erased.contains("Đã xóa lúc"),
        "the console shows the erase: {erased}"
    );
    screenshot(&desk, "console-3-users").await;

    phone.close().await.unwrap();
    desk.close().await.unwrap();
    drop(driver);
    for p in profiles {
        let _ = std::fs::remove_dir_all(p);
    }
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_an_officer_assigns_a_cadre_and_an_administrator_revokes_the_phone() {
    assign_and_revoke(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_an_officer_assigns_a_cadre_and_an_administrator_revokes_the_phone() {
    assign_and_revoke(Backend::Postgres).await;
}

/// A household list as the commune keeps it in Excel: three rows, the third naming a
/// village the commune does not have.
fn household_list(path: &std::path::Path) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let rows = [
        ["Mã hộ", "Họ tên chủ hộ", "Thôn", "Phân loại", "Khu vực"],
        [
            "NK-101",
            "Hoàng Văn Páo",
            "Bản Một",
            "Hộ nghèo",
            "nông thôn",
        ],
        [
            "NK-102",
            "Lý Thị Mai",
            "Bản Hai",
            "Hộ cận nghèo",
            "nông thôn",
        ],
        [
            "NK-103",
            "Vàng A Sử",
            "Bản Không Có",
            "Hộ nghèo",
            "nông thôn",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *cell).unwrap();
        }
    }
    book.save(path).unwrap();
}

async fn household_count(srv: &TestServer, token: &str) -> usize {
    let list: serde_json::Value = reqwest::Client::new()
        .get(srv.url("/api/households?limit=2000"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list.as_array().unwrap().len()
}

async fn import_with_a_bad_row(backend: Backend) {
    let Some(dist) = dist() else { return };
    let Some(db) = TestDb::open(backend).await else {
        return;
    };
    let store = db.store().await;
    fixture::load(&store).await;
    let srv = TestServer::start(store, Some(dist)).await;
    let url = srv.url("/");
    let token = srv.login("officer1", "officer-check").await;
    let before = household_count(&srv, &token).await;
    let dir = new_profile();
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("danh-sach-ho.xlsx");
    household_list(&file);

    let driver = Driver::start();
    let profile = new_profile();
    let desk = chromium_desktop(&driver, &profile).await;
    console_sign_in(&desk, &url, "officer1").await;
    click(&desk, "[data-testid=nav-import]").await;
    find(&desk, "[data-testid=import-file]")
        .await
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    click(&desk, "[data-testid=import-all]").await;
    // Row 4 (the header is row 1) is named with its column and reason; nothing imported.
    let error = find(&desk, "[data-testid=import-error][data-row='4']")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        error.contains("Thôn") && error.contains("Bản Không Có"),
        "{error}"
    );
    assert_eq!(
        desk.execute(
            "return document.querySelectorAll('[data-testid=import-error]').length",
            vec![]
        )
        .await
        .unwrap(),
        serde_json::json!(1)
    );
    find(&desk, "[data-testid=import-refused]").await;
    screenshot(&desk, "console-5-import").await;
    assert_eq!(
        household_count(&srv, &token).await,
        before,
        "nothing imported"
    );

    // The file's statuses are the commune's first list: its opening balance, dated by the
    // officer before importing (the report said so).
    let said = find(&desk, "[data-testid=import-statuses]")
        .await
        .text()
        .await
        .unwrap();
    assert!(said.contains("số dư đầu kỳ"), "{said}");
    desk.execute(
        "const i = document.querySelector('[data-testid=import-opening-date]'); i.value = '2025-01-01'; i.dispatchEvent(new Event('input', {bubbles: true}));",
        vec![],
    )
    .await
    .unwrap();
    // The officer chooses to import the valid rows: two households, registered through
    // the write core like any other.
    click(&desk, "[data-testid=import-valid]").await;
    wait_js(&desk, "return (document.querySelector('[data-testid=import-summary]') || {innerText: ''}).innerText.includes('2 hộ đã nhập')").await;
    assert_eq!(household_count(&srv, &token).await, before + 2);
    // Importing the same file again finds the codes taken.
    click(&desk, "[data-testid=import-check]").await;
    wait_js(
        &desk,
        "return document.querySelectorAll('[data-testid=import-error]').length === 3",
    )
    .await;

    // The officer plans H-1's way out of poverty from its cause: the matched solution is
    // offered, saved into the household's document, and the change is in its history.
    let r = reqwest::Client::new()
        .put(srv.url("/api/households/h1"))
        .bearer_auth(&token)
        .json(
            &serde_json::json!({"code": "H-1", "village_id": "v1", "address": "Xóm 1",
            "head_name": "Chủ hộ H-1", "residence": "rural", "causes": ["lack_of_capital"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    desk.goto(&format!("{url}console/#/h/h1")).await.unwrap();
    click(&desk, "[data-testid=plan-cause]").await;
    let solution = find(&desk, "[data-testid=plan-solution]")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        solution.contains("Ngân hàng Chính sách xã hội"),
        "{solution}"
    );
    click(&desk, "[data-testid=save-plan]").await;
    find(&desk, "[data-testid=plan-row]").await;
    // The history says it in words: the plan item added, by the officer, through the
    // console; the ledger shows the household's entry into the register.
    wait_js(&desk, "return [...document.querySelectorAll('[data-testid=history-row]')].some(r => r.innerText.includes('Thêm kế hoạch') && r.innerText.includes('trang quản lý'))").await;
    wait_js(&desk, "return [...document.querySelectorAll('[data-testid=history-row]')].some(r => r.innerText.includes('Nguyên nhân nghèo:'))").await;
    wait_js(&desk, "return document.querySelectorAll('[data-testid=ledger-row]').length >= 1 && document.querySelectorAll('[data-testid=member-row]').length >= 1").await;
    screenshot(&desk, "console-6-household").await;
    let detail: serde_json::Value = reqwest::Client::new()
        .get(srv.url("/api/households/h1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["plan"][0]["cause"], "lack_of_capital", "{detail}");
    // The read model knows it too: H-1 is no longer among the households without a plan.
    let without: serde_json::Value = reqwest::Client::new()
        .get(srv.url("/api/accompaniment?supported=true&without_plan=true"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = without["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(
        !codes.contains(&"H-1") && codes.contains(&"H-2"),
        "{codes:?}"
    );

    // H-2 moves away: the officer records it on the household's page with the commune's
    // confirmation number; the ledger shows it and the form is gone.
    desk.goto(&format!("{url}console/#/h/h2")).await.unwrap();
    click(&desk, "[data-testid=leave-open]").await;
    find(&desk, "[data-testid=leave-number]")
        .await
        .send_keys("7/XN-UBND")
        .await
        .unwrap();
    click(&desk, "[data-testid=leave-save]").await;
    wait_js(&desk, "return [...document.querySelectorAll('[data-testid=ledger-row]')].some(r => r.innerText.includes('Chuyển đi nơi khác') && r.innerText.includes('7/XN-UBND'))").await;
    wait_js(
        &desk,
        "return !document.querySelector('[data-testid=leave-open]')",
    )
    .await;

    desk.close().await.unwrap();
    drop(driver);
    let _ = std::fs::remove_dir_all(profile);
    let _ = std::fs::remove_dir_all(dir);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_an_officer_imports_an_xlsx_with_a_bad_row_and_nothing_is_imported() {
    import_with_a_bad_row(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_an_officer_imports_an_xlsx_with_a_bad_row_and_nothing_is_imported() {
    import_with_a_bad_row(Backend::Postgres).await;
}

/// Every console screen fits a 360 px phone (nothing makes the page scroll sideways; wide
/// tables scroll inside themselves) as well as a 1280 px laptop; with
/// `DONGHANH_SCREENSHOTS=1` each is saved at both sizes.
#[tokio::test(flavor = "multi_thread")]
async fn every_console_screen_fits_a_phone_and_a_laptop() {
    let Some(dist) = dist() else { return };
    let db = TestDb::sqlite().await;
    let store = db.store().await;
    fixture::load(&store).await;
    let srv = TestServer::start(store, Some(dist)).await;
    let url = srv.url("/");
    let driver = Driver::start();
    let screens: [(&str, &[(&str, &str)]); 3] = [
        (
            "officer1",
            &[
                ("overview", "#/"),
                ("assignments", "#/assign"),
                ("support", "#/support"),
                ("conflicts", "#/conflicts"),
                ("quarantine", "#/quarantine"),
                ("import", "#/import"),
                ("targets", "#/targets"),
                ("reviews", "#/reviews"),
                ("reports", "#/reports"),
                ("household", "#/h/h1"),
                ("list", "#/list?area_id=c1&status=poor"),
            ],
        ),
        ("admin", &[("users", "#/users")]),
        (
            "province",
            &[("province", "#/"), ("province-reports", "#/reports")],
        ),
    ];
    for phone in [true, false] {
        for (user, pages) in screens {
            let profile = new_profile();
            let c = if phone {
                chromium(&driver, &profile).await
            } else {
                chromium_desktop(&driver, &profile).await
            };
            console_sign_in(&c, &url, user).await;
            for (name, hash) in pages {
                c.goto(&format!("{url}console/{hash}")).await.unwrap();
                find(&c, "[data-testid=screen-title]").await;
                // Let the screen's data arrive and draw.
                tokio::time::sleep(std::time::Duration::from_millis(400)).await;
                let wide = c
                    .execute(
                        "return document.documentElement.scrollWidth - window.innerWidth",
                        vec![],
                    )
                    .await
                    .unwrap()
                    .as_f64()
                    .unwrap();
                assert!(
                    wide <= 1.0,
                    "{name} at {}: {wide} px too wide",
                    if phone { 360 } else { 1280 }
                );
                let size = if phone { "360" } else { "1280" };
                screenshot(&c, &format!("console-{name}-{size}")).await;
                if *name == "household" {
                    c.execute(
                        "document.querySelector('[data-testid=ledger-table]').scrollIntoView()",
                        vec![],
                    )
                    .await
                    .unwrap();
                    screenshot(&c, &format!("console-household-history-{size}")).await;
                }
            }
            c.close().await.unwrap();
            let _ = std::fs::remove_dir_all(profile);
        }
    }
    drop(driver);
    db.cleanup().await;
}

/// An officer whose earlier heavy requests (a report, an import, pages left behind) still
/// run opens the dashboard: the server turns its read away for the moment, and the page
/// waits and asks again instead of showing the refusal, loading once one of them ends.
#[tokio::test(flavor = "multi_thread")]
async fn a_page_waits_for_the_officer_s_other_heavy_requests_then_loads() {
    let Some(dist) = dist() else { return };
    let db = TestDb::sqlite().await;
    let store = db.store().await;
    fixture::load(&store).await;
    let srv = TestServer::start(store, Some(dist)).await;
    let url = srv.url("/");
    let driver = Driver::start();
    let profile = new_profile();
    let c = chromium_desktop(&driver, &profile).await;

    // The officer's three heavy turns are all taken.
    let mut held: Vec<_> = (0..server::heavy::PER_USER)
        .map(|_| srv.heavy.enter_as("u-officer1").expect("a free turn"))
        .collect();
    console_sign_in(&c, &url, "officer1").await;
    find(&c, "[data-testid=screen-title]").await;
    // Long enough for the dashboard's read to be refused and sent again at least once.
    tokio::time::sleep(std::time::Duration::from_millis(3_000)).await;
    let shown = c
        .execute("return document.body.innerText", vec![])
        .await
        .unwrap();
    let shown = shown.as_str().unwrap_or_default();
    assert!(
        !shown.contains("nhiều yêu cầu lớn") && !shown.contains("large requests"),
        "the refusal reached the page: {shown}"
    );
    assert!(
        c.find(Locator::Css("[data-testid=figures]")).await.is_err(),
        "the dashboard loaded while every turn was held"
    );

    // One of them ends: the dashboard loads without the officer doing anything.
    held.pop();
    find(&c, "[data-testid=figures]").await;
    drop(held);

    c.close().await.unwrap();
    let _ = std::fs::remove_dir_all(profile);
    drop(driver);
    db.cleanup().await;
}

/// The campaign and the report on the demo commune, as the commune leader sees them: the
/// 2026 campaign in progress (villages met, posted, one meeting below half, a complaint
/// waiting), the households watched after the decisions, the what-if under the 2027–2030
/// standard, and the 2025 annual report with its movement. Saved as screenshots.
#[tokio::test(flavor = "multi_thread")]
async fn the_campaign_and_the_annual_report_of_the_demo_commune() {
    let Some(dist) = dist() else { return };
    let db = TestDb::sqlite().await;
    let store = db.store().await;
    server::demo::create(store.as_ref(), server::demo::today_for_demo())
        .await
        .unwrap();
    let srv = TestServer::start(store, Some(dist)).await;
    let url = srv.url("/");
    let driver = Driver::start();
    let profile = new_profile();
    let c = chromium_desktop(&driver, &profile).await;
    c.goto(&format!("{url}console/")).await.unwrap();
    submit_sign_in(&c, "chutich", server::demo::PASSWORD).await;
    find(&c, "[data-testid=screen-title]").await;
    c.goto(&format!("{url}console/#/reviews")).await.unwrap();
    find(&c, "[data-testid=campaign-row]").await;
    let villages = c
        .execute("return [...document.querySelectorAll('[data-testid=met]')].map(e => Number(e.innerText)).filter(n => n > 0).length", vec![])
        .await
        .unwrap();
    assert_eq!(
        villages, 4,
        "three villages met in the demo's 2026 campaign, and one on an ad-hoc review"
    );
    screenshot(&c, "console-campaign-1280").await;
    click(&c, "[data-testid=flag-in_window]").await;
    find(&c, "[data-testid=tracked-row]").await;
    c.execute(
        "document.querySelector('[data-testid=tracking]').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    screenshot(&c, "console-tracking-1280").await;
    c.goto(&format!("{url}console/#/reports")).await.unwrap();
    find(&c, "[data-testid=report-row]").await;
    let year = find(&c, "[data-testid=report-year]").await;
    year.select_by_value("2025").await.unwrap();
    wait_js(
        &c,
        "return [...document.querySelectorAll('[data-testid=report-window] tr')].length > 0",
    )
    .await;
    // The report's movement table adds up for every category.
    let checks = c
        .execute("return [...document.querySelectorAll('[data-testid=flow-check]')].map(e => e.innerText)", vec![])
        .await
        .unwrap();
    let checks: Vec<String> = serde_json::from_value(checks).unwrap();
    assert!(
        !checks.is_empty() && checks.iter().all(|c| c == "0"),
        "{checks:?}"
    );
    screenshot(&c, "console-report-2025-1280").await;
    c.execute(
        "document.querySelector('[data-testid=report-flows]').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    screenshot(&c, "console-report-movements-1280").await;
    c.close().await.unwrap();
    let _ = std::fs::remove_dir_all(profile);

    // The officer answers a complaint about a posted result.
    let profile = new_profile();
    let c = chromium_desktop(&driver, &profile).await;
    c.goto(&format!("{url}console/")).await.unwrap();
    submit_sign_in(&c, "congchuc", server::demo::PASSWORD).await;
    find(&c, "[data-testid=screen-title]").await;
    c.goto(&format!("{url}console/#/reviews")).await.unwrap();
    find(&c, "[data-testid=complaint]").await;
    let open = c
        .execute(
            "return document.querySelectorAll('[data-testid=complaint]').length",
            vec![],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap();
    assert!(open > 0, "the demo has complaints waiting");
    find(&c, "[data-testid=answer-text]")
        .await
        .send_keys("Đã xác minh: thu nhập không đổi, giữ kết quả.")
        .await
        .unwrap();
    click(&c, "[data-testid=answer]").await;
    wait_js(&c, "return (document.querySelector('[data-testid=outcome]') || {innerText: ''}).innerText.includes('Đã ghi')").await;
    wait_js(
        &c,
        &format!(
            "return document.querySelectorAll('[data-testid=complaint]').length === {}",
            open - 1
        ),
    )
    .await;
    c.close().await.unwrap();
    let _ = std::fs::remove_dir_all(profile);
    db.cleanup().await;
}

/// Types into an input and, when asked, presses Enter.
async fn type_into(c: &fantoccini::Client, css: &str, text: &str) {
    let e = find(c, css).await;
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

/// The console's second pass on the demo commune, as its people work: the officer finds a
/// household by a member's name typed without accents (3 actions) and records a support
/// delivery with its date and amount, sees it in the household's history and undoes it as
/// a new change; the leader selects every ready household of one village and decides them
/// after the console says what the decision will do (4 actions); at 360 px the search still
/// works. Screenshots at both sizes.
#[tokio::test(flavor = "multi_thread")]
async fn the_console_second_pass_on_the_demo_commune() {
    let Some(dist) = dist() else { return };
    let db = TestDb::sqlite().await;
    let store = db.store().await;
    server::demo::create(store.as_ref(), server::demo::today_for_demo())
        .await
        .unwrap();
    // A household whose second member is searched for by name, accents left out, and one
    // with a planned support action.
    let households = store
        .list_households(&server::store::HouseholdFilter {
            in_register_only: true,
            limit: 100_000,
            ..Default::default()
        })
        .await
        .unwrap();
    let ids: Vec<String> = households.iter().map(|h| h.id.clone()).collect();
    let members = store.list_members_of(&ids).await.unwrap();
    let fold = shared::search::fold;
    // A member whose name, typed without accents, finds no head, address or code and no
    // other member: the search must find the household by the member alone.
    let member = members
        .iter()
        .find(|m| {
            let typed = fold(&m.data.full_name);
            households.iter().all(|h| {
                !fold(&h.head_name).contains(&typed)
                    && !fold(&h.address).contains(&typed)
                    && !fold(&h.code).contains(&typed)
            }) && members
                .iter()
                .filter(|o| fold(&o.data.full_name).contains(&typed))
                .count()
                == 1
        })
        .expect("a member found by their name alone");
    let code = households
        .iter()
        .find(|h| h.id == member.household_id)
        .unwrap()
        .code
        .clone();
    let typed = fold(&member.data.full_name);
    let planned = store
        .list_support_of(&ids)
        .await
        .unwrap()
        .into_iter()
        .find(|s| {
            s.status == shared::support::SupportStatus::Planned && s.data.amount_vnd.is_some()
        })
        .expect("a planned support action with an amount");

    let srv = TestServer::start(store, Some(dist)).await;
    let url = srv.url("/");
    let driver = Driver::start();
    let profile = new_profile();
    let c = chromium_desktop(&driver, &profile).await;
    console_sign_in_with(&c, &url, "congchuc", server::demo::PASSWORD).await;

    // Search: click the box, type the name without accents, click the household.
    click(&c, "[data-testid=search]").await;
    type_into(&c, "[data-testid=search]", &typed).await;
    find(&c, "[data-testid=search-hits], [data-testid=search-none]").await;
    let hit = format!("//a[@data-testid='search-hit'][contains(., '{code}')]");
    let found = match c.wait().for_element(Locator::XPath(&hit)).await {
        Ok(e) => e,
        Err(e) => {
            let page = c
                .execute("return document.body.innerText", vec![])
                .await
                .unwrap();
            panic!("{code} for {typed:?}: {e}; {page}");
        }
    };
    let said = found.text().await.unwrap();
    assert!(
        said.contains(&format!("Thành viên: {}", member.data.full_name)),
        "{said}"
    );
    screenshot(&c, "console-search-1280").await;
    found.click().await.unwrap();
    let head = find(&c, "[data-testid=household-head]")
        .await
        .text()
        .await
        .unwrap();
    assert!(head.starts_with(&code), "{head}");

    // A support delivery: its date and amount, said back, then offered to undo.
    c.goto(&format!("{url}console/#/h/{}", planned.household_id))
        .await
        .unwrap();
    let row = "//tr[@data-testid='support-row'][.//button[@data-testid='delivered']]";
    c.wait().for_element(Locator::XPath(row)).await.unwrap();
    click(&c, "[data-testid=delivered]").await;
    type_into(&c, "[data-testid=deliver-amount]", "4.500.000").await;
    let summary = find(&c, "[data-testid=deliver-summary]")
        .await
        .text()
        .await
        .unwrap();
    assert!(summary.contains("4.500.000 đ"), "{summary}");
    click(&c, "[data-testid=confirm-deliver]").await;
    let offer = find(&c, "[data-testid=undo-offer]")
        .await
        .text()
        .await
        .unwrap();
    assert!(offer.contains("Đã ghi nhận đã trao"), "{offer}");
    wait_js(&c, "return document.querySelector('[data-testid=history-table]').innerText.includes('Trạng thái: Dự kiến → Đã trao')").await;
    wait_js(&c, "return document.querySelector('[data-testid=history-table]').innerText.includes('→ 4.500.000 đ')").await;
    screenshot(&c, "console-confirm-undo-1280").await;
    click(&c, "[data-testid=undo]").await;
    wait_js(&c, "return (document.querySelector('[data-testid=outcome]') || {innerText: ''}).innerText.includes('Đã hoàn tác')").await;
    wait_js(&c, "return document.querySelector('[data-testid=history-table]').innerText.includes('Trạng thái: Đã trao → Dự kiến')").await;
    c.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&profile);

    // The leader decides one village's ready households: select them, number, decide, confirm.
    let profile = new_profile();
    let c = chromium_desktop(&driver, &profile).await;
    console_sign_in_with(&c, &url, "chutich", server::demo::PASSWORD).await;
    c.goto(&format!("{url}console/#/reviews")).await.unwrap();
    let select = find(&c, "[data-testid=select-ready]").await;
    let label = select.text().await.unwrap();
    let n: usize = label
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .expect("how many are ready");
    select.click().await.unwrap();
    let shown = find(&c, "[data-testid=rows-shown]")
        .await
        .text()
        .await
        .unwrap();
    assert!(shown.starts_with(&format!("Đang hiện {n} hộ")), "{shown}");
    assert!(shown.contains("Sẵn sàng để xã quyết định"), "{shown}");
    let rows = c
        .execute(
            "return document.querySelectorAll('[data-testid=campaign-row]').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(rows.as_u64(), Some(n as u64));
    let picked = find(&c, "[data-testid=selected-count]")
        .await
        .text()
        .await
        .unwrap();
    assert!(picked.starts_with(&n.to_string()), "{picked}");
    // What blocks the rest of the campaign, per village, in a few words.
    wait_js(&c, "return [...document.querySelectorAll('[data-testid=village-blockers]')].some(e => e.innerText.includes('họp thôn dưới 50%'))").await;
    type_into(&c, "[data-testid=decision-number]", "412/QĐ-UBND").await;
    click(&c, "[data-testid=decide-selected]").await;
    let asked = find(&c, "[data-testid=confirm]")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        asked.contains(&format!(
            "Công nhận kết quả của {n} hộ theo quyết định số 412/QĐ-UBND"
        )),
        "{asked}"
    );
    screenshot(&c, "console-campaign-village-1280").await;
    click(&c, "[data-testid=confirm-yes]").await;
    wait_js(&c, &format!("return (document.querySelector('[data-testid=outcome]') || {{innerText: ''}}).innerText.startsWith('{n} hộ đã ghi')")).await;
    // A mistake in it is set right by a new decision: one household's decision corrected,
    // said back first; the row then names both numbers.
    c.execute(
        "const s = document.querySelector('[data-testid=filter-state]'); s.value = 'decided'; s.dispatchEvent(new Event('change'));",
        vec![],
    )
    .await
    .unwrap();
    wait_js(&c, "return [...document.querySelectorAll('[data-testid=campaign-row]')].some(r => r.innerText.includes('412/QĐ-UBND'))").await;
    c.execute(
        "[...document.querySelectorAll('[data-testid=campaign-row]')].find(r => r.innerText.includes('412/QĐ-UBND')).querySelector('[data-testid=pick]').click();",
        vec![],
    )
    .await
    .unwrap();
    type_into(&c, "[data-testid=decision-number]", "415/QĐ-UBND").await;
    click(&c, "[data-testid=correct-selected]").await;
    let asked = find(&c, "[data-testid=confirm]")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        asked.contains("Sửa quyết định của 1 hộ bằng quyết định số 415/QĐ-UBND")
            && asked.contains("Sửa quyết định số 412/QĐ-UBND: 1 hộ")
            && asked.contains("hộ trở lại diện trước quyết định"),
        "{asked}"
    );
    click(&c, "[data-testid=confirm-yes]").await;
    wait_js(&c, "return (document.querySelector('[data-testid=outcome]') || {innerText: ''}).innerText.startsWith('1 hộ đã ghi')").await;
    wait_js(&c, "return [...document.querySelectorAll('[data-testid=row-state]')].some(r => r.innerText.includes('415/QĐ-UBND') && r.innerText.includes('sửa quyết định 412/QĐ-UBND'))").await;
    c.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&profile);

    // At 360 px the search box is there and its hits fit the screen.
    let profile = new_profile();
    let c = chromium(&driver, &profile).await;
    console_sign_in_with(&c, &url, "congchuc", server::demo::PASSWORD).await;
    type_into(&c, "[data-testid=search]", &typed).await;
    find(&c, "[data-testid=search-hit]").await;
    let wide = c
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(wide <= 1.0, "the search at 360 px: {wide} px too wide");
    screenshot(&c, "console-search-360").await;
    c.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&profile);

    // The campaign by village and a confirmation at 360 px (asked, then not done), and the
    // administrator's devices, named.
    let profile = new_profile();
    let c = chromium(&driver, &profile).await;
    console_sign_in_with(&c, &url, "chutich", server::demo::PASSWORD).await;
    c.goto(&format!("{url}console/#/reviews")).await.unwrap();
    click(&c, "[data-testid=select-ready]").await;
    type_into(&c, "[data-testid=decision-number]", "413/QĐ-UBND").await;
    click(&c, "[data-testid=decide-selected]").await;
    find(&c, "[data-testid=confirm]").await;
    screenshot(&c, "console-campaign-village-360").await;
    click(&c, "[data-testid=confirm-no]").await;
    click(&c, "[data-testid=sign-out]").await;
    find(&c, "[data-testid=login-form]").await;
    console_sign_in_with(&c, &url, "quantri", server::demo::PASSWORD).await;
    click(
        &c,
        "[data-testid=user-row][data-username=chutich] [data-testid=open-user]",
    )
    .await;
    let device = find(&c, "[data-testid=device-name]").await;
    let named = device.text().await.unwrap();
    assert!(named.starts_with("Chrome · Linux"), "{named}");
    let arg = serde_json::to_value(&device).unwrap();
    c.execute(
        "arguments[0].scrollIntoView({block: 'center', inline: 'start'})",
        vec![arg],
    )
    .await
    .unwrap();
    screenshot(&c, "console-devices-360").await;
    c.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    drop(driver);
    db.cleanup().await;
}
