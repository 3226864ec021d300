//! The web app in headless Chromium against the real server: a person signs in with a
//! wrong and then the right password, switches language, reloads, and signs out; and the
//! installed app opens from its service worker's cache with the server stopped.

use fantoccini::{ClientBuilder, Locator};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use tests::{TestDb, TestServer, fixture};

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Driver {
        let mut child = Command::new("chromedriver")
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let out = child.stdout.take().expect("stdout");
        // chromedriver prints the port it picked once it is ready.
        let port = BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .find_map(|l| {
                l.split("started successfully on port ")
                    .nth(1)
                    .map(|p| p.trim_end_matches('.').parse::<u16>().expect("port"))
            })
            .expect("chromedriver reports its port");
        Driver { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dist() -> Option<PathBuf> {
    let d = std::env::var_os("DONGHANH_DIST").map(PathBuf::from);
    match d {
        Some(d) if d.join("index.html").exists() => Some(d),
        _ if std::env::var("DONGHANH_REQUIRE_BROWSER").is_ok_and(|v| v == "1") => {
            panic!("DONGHANH_REQUIRE_BROWSER=1 but DONGHANH_DIST has no built web app")
        }
        _ => {
            eprintln!(
                "no built web app (run through `cargo xtask test`); skipping the browser test"
            );
            None
        }
    }
}

/// Headless Chromium with its own profile, at a 360 × 800 phone's size.
async fn chromium(driver: &Driver, profile: &std::path::Path) -> fantoccini::Client {
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=360,800", format!("--user-data-dir={}", profile.display())]
        }
    });
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps.as_object().unwrap().clone())
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("connect to chromedriver")
}

async fn sign_in(c: &fantoccini::Client, username: &str) {
    c.wait()
        .for_element(Locator::Css("[data-testid=login-form]"))
        .await
        .unwrap();
    for (field, value) in [("username", username), ("password", fixture::PASSWORD)] {
        c.find(Locator::Css(&format!("[data-testid={field}]")))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    c.find(Locator::Css("[data-testid=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("[data-testid=welcome]"))
        .await
        .unwrap();
}

/// The installed app opens with the server gone: the service worker serves the shell and
/// the WebAssembly from its cache, and the signed-in person is still signed in. The server
/// runs on its own runtime so that stopping it closes every connection, kept-alive ones too.
#[test]
fn the_app_opens_with_the_server_stopped() {
    let Some(dist) = dist() else { return };
    let server_rt = tokio::runtime::Runtime::new().unwrap();
    let (db, addr) = server_rt.block_on(async {
        let db = TestDb::sqlite().await;
        let store = db.store().await;
        fixture::load(&store).await;
        let state = server::AppState::new(store, b"test-secret-of-at-least-32-bytes!");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, server::app(state, Some(dist)))
                .await
                .unwrap()
        });
        (db, addr)
    });
    let url = format!("http://{addr}/");
    let client_rt = tokio::runtime::Runtime::new().unwrap();
    let driver = Driver::start();
    let profile = std::env::temp_dir().join(format!("donghanh-chromium-{}", uuid::Uuid::now_v7()));
    let c = client_rt.block_on(async {
        let c = chromium(&driver, &profile).await;
        c.goto(&url).await.unwrap();
        sign_in(&c, "vh1").await;
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

    // The server stops: every socket closes.
    server_rt.shutdown_timeout(std::time::Duration::from_secs(10));
    let gone = (0..50).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(addr).is_err()
    });
    assert!(gone, "the server is really gone");

    client_rt.block_on(async {
        c.goto(&url).await.unwrap();
        let welcome = c
            .wait()
            .for_element(Locator::Css("[data-testid=welcome]"))
            .await
            .expect("the app opens offline");
        assert!(welcome.text().await.unwrap().contains("Người dùng vh1"));
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
    let welcome = c
        .wait()
        .for_element(Locator::Css("[data-testid=welcome]"))
        .await
        .unwrap();
    assert!(welcome.text().await.unwrap().contains("Người dùng vh1"));
    let role = c
        .find(Locator::Css("[data-testid=role]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(role, "Trưởng thôn/bản");
    let perms = c
        .wait()
        .for_element(Locator::Css("[data-testid=permissions] li"))
        .await
        .unwrap();
    assert!(
        perms.text().await.unwrap().contains("Đăng ký"),
        "a village head registers households"
    );

    // A reload keeps the person signed in.
    c.refresh().await.unwrap();
    c.wait()
        .for_element(Locator::Css("[data-testid=welcome]"))
        .await
        .unwrap();

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
