//! Headless Chromium for the browser tests and the app benchmark: chromedriver on a free
//! port, a browser with its own profile and a 360 × 800 phone viewport, and the built web
//! app (`DONGHANH_DIST`, set by `cargo xtask test` and `cargo xtask bench app`).

use fantoccini::ClientBuilder;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// chromedriver on a free port, stopped when dropped.
pub struct Driver {
    child: Child,
    pub port: u16,
}

impl Driver {
    pub fn start() -> Driver {
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

pub fn dist() -> Option<PathBuf> {
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
pub async fn chromium(driver: &Driver, profile: &std::path::Path) -> fantoccini::Client {
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            // Headless windows are at least 500 px wide; this gives the page a phone's viewport.
            "mobileEmulation": { "deviceMetrics": { "width": 360, "height": 800, "pixelRatio": 1.0 } },
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

/// Headless Chromium with its own profile in a 1280 × 800 window: the commune office's
/// laptop, for the console.
pub async fn chromium_desktop(driver: &Driver, profile: &std::path::Path) -> fantoccini::Client {
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,800", format!("--user-data-dir={}", profile.display())]
        }
    });
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps.as_object().unwrap().clone())
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("connect to chromedriver")
}

/// Runs a Chrome DevTools command in the page (e.g. CPU throttling), through chromedriver.
pub async fn cdp(
    driver: &Driver,
    c: &fantoccini::Client,
    cmd: &str,
    params: serde_json::Value,
) -> serde_json::Value {
    let session = c.session_id().await.unwrap().expect("a session");
    let r = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{}/session/{session}/goog/cdp/execute",
            driver.port
        ))
        .json(&serde_json::json!({ "cmd": cmd, "params": params }))
        .send()
        .await
        .expect("chromedriver answers");
    assert!(r.status().is_success(), "{cmd}: {}", r.status());
    r.json().await.unwrap()
}

/// Fills and submits the app's sign-in form once it shows.
pub async fn submit_sign_in(c: &fantoccini::Client, username: &str, password: &str) {
    use fantoccini::Locator;
    c.wait()
        .for_element(Locator::Css("[data-testid=login-form]"))
        .await
        .unwrap();
    for (field, value) in [("username", username), ("password", password)] {
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
}

/// Polls a JavaScript condition in the page for up to 30 s; on timeout, fails with what
/// the page shows. A condition that throws (an element it reads is being drawn again)
/// is not met yet.
pub async fn wait_js(c: &fantoccini::Client, condition: &str) {
    for _ in 0..300 {
        if matches!(
            c.execute(condition, vec![]).await,
            Ok(serde_json::Value::Bool(true))
        ) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let page = c
        .execute("return document.body.innerText", vec![])
        .await
        .unwrap_or_default();
    panic!("timed out waiting for: {condition}; the page shows: {page}");
}

/// Saves the screen into `docs/screenshots/` when asked to (`DONGHANH_SCREENSHOTS=1`).
pub async fn screenshot(c: &fantoccini::Client, name: &str) {
    if std::env::var("DONGHANH_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let dir =
            PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../docs/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = c.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

/// A fresh browser profile directory (removed by the test when done).
pub fn new_profile() -> PathBuf {
    std::env::temp_dir().join(format!("donghanh-chromium-{}", uuid::Uuid::now_v7()))
}
