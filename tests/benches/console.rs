//! The commune console's benchmark (`cargo xtask bench console`, which builds the apps
//! first), on a SQLite province of 100 communes shaped like the demo commune (`donghanh
//! demo --communes 100`, about 130,000 households):
//!
//! - the server alone: `GET /api/dashboard` as the demo commune's officer and
//!   `GET /api/stats/communes` as the province viewer, median wall time of 20 requests and
//!   the process's CPU time per request (server and client share this process);
//! - in headless Chromium at 1280 × 800: from opening the console signed in to the figures
//!   drawn, the commune dashboard and the province overview, median of 5.

use fantoccini::Locator;
use std::time::Instant;
use tests::chromium::{Driver, chromium_desktop, dist, submit_sign_in};
use tests::{TestDb, TestServer};

const COMMUNES: usize = 100;
const REQUESTS: usize = 20;
const LOADS: usize = 5;

/// CPU time of this process so far (user + system), from /proc.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|x| x.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|x| x.parse().ok()).unwrap_or(0.0);
    ticks * 10.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn server_side(srv: &TestServer, token: &str, path: &str) -> (f64, f64) {
    let http = reqwest::Client::new();
    let mut times = vec![];
    let cpu0 = cpu_ms();
    for _ in 0..REQUESTS {
        let t = Instant::now();
        let r = http
            .get(srv.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.bytes().await.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    (median(times), (cpu_ms() - cpu0) / REQUESTS as f64)
}

/// Milliseconds from opening `hash` in the console to `ready` (a CSS selector) drawn: the
/// page itself watches every animation frame for the element, so the figure does not carry
/// the driver's polling interval.
async fn page_load(c: &fantoccini::Client, base: &str, hash: &str, ready: &str) -> f64 {
    let mut times = vec![];
    for _ in 0..LOADS {
        c.goto(&format!("{base}console/{hash}")).await.unwrap();
        let ms = c
            .execute_async(
                &format!(
                    "const done = arguments[0];
                     const start = performance.getEntriesByType('navigation')[0].startTime;
                     const check = () => document.querySelector({ready:?})
                         ? done(performance.now() - start)
                         : requestAnimationFrame(check);
                     check();"
                ),
                vec![],
            )
            .await
            .unwrap()
            .as_f64()
            .unwrap();
        times.push(ms);
    }
    median(times)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(dist) = dist() else {
        eprintln!("set DONGHANH_DIST or run `cargo xtask bench console`");
        std::process::exit(2);
    };
    let db = TestDb::sqlite().await;
    let store = db.store().await;
    let t = Instant::now();
    let report =
        server::demo::create_province(store.as_ref(), server::demo::today_for_demo(), COMMUNES)
            .await
            .unwrap();
    let households = report
        .counts
        .iter()
        .find(|(k, _)| *k == "households")
        .map_or(0, |(_, n)| *n);
    println!(
        "province of {COMMUNES} communes, {households} households, made in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    let srv = TestServer::start(store.clone(), Some(dist)).await;
    let officer = srv
        .login_with("congchuc", server::demo::PASSWORD, "bench-office")
        .await;
    let province = srv
        .login_with("tinh", server::demo::PASSWORD, "bench-province")
        .await;

    println!("server ({REQUESTS} requests each; CPU of the whole process per request):");
    let (ms, cpu) = server_side(&srv, &officer, "/api/dashboard").await;
    println!("  commune dashboard  GET /api/dashboard        median {ms:.0} ms, {cpu:.1} ms CPU");
    let (ms, cpu) = server_side(&srv, &province, "/api/stats/communes").await;
    println!("  province overview  GET /api/stats/communes   median {ms:.0} ms, {cpu:.1} ms CPU");

    let driver = Driver::start();
    let base = srv.url("/");
    println!(
        "in headless Chromium, 1280 × 800, from opening the console to the figures drawn (median of {LOADS}):"
    );
    for (user, what, ready, goal) in [
        (
            "congchuc",
            "commune dashboard",
            "[data-testid=village-table] tbody tr",
            1000.0,
        ),
        (
            "tinh",
            "province overview",
            "[data-testid=commune-table] tbody tr",
            2000.0,
        ),
    ] {
        let profile = std::env::temp_dir().join(format!("donghanh-bench-{}", uuid::Uuid::now_v7()));
        let c = chromium_desktop(&driver, &profile).await;
        c.goto(&format!("{base}console/")).await.unwrap();
        submit_sign_in(&c, user, server::demo::PASSWORD).await;
        c.wait().for_element(Locator::Css(ready)).await.unwrap();
        let ms = page_load(&c, &base, "#/", ready).await;
        println!("  {what:<18} {ms:>6.0} ms   (goal: ≤ {goal:.0} ms)");
        c.close().await.unwrap();
        let _ = std::fs::remove_dir_all(profile);
    }
    drop(driver);
    db.cleanup().await;
}
