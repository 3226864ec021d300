//! The reports' benchmark (`cargo xtask bench report`): the annual report exported as XLSX
//! (`GET /api/reports?format=xlsx`), on a SQLite demo commune as its officer and on a
//! SQLite province of 100 communes shaped like it (about 130,000 households) as the
//! province viewer. Prints the median wall time of the requests and the process's CPU time
//! per request (server and client share this process), and the file's size.
//! Targets: the commune in ≤ 2 s, the province in ≤ 10 s.

use std::time::Instant;
use tests::{TestDb, TestServer};

const COMMUNES: usize = 100;

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

async fn export(srv: &TestServer, token: &str, runs: usize) -> (f64, f64, usize) {
    let http = reqwest::Client::new();
    let mut times = vec![];
    let mut size = 0;
    let cpu0 = cpu_ms();
    for _ in 0..runs {
        let t = Instant::now();
        let r = http
            .get(srv.url("/api/reports?year=2025&period=annual&format=xlsx"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        size = r.bytes().await.unwrap().len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    (median(times), (cpu_ms() - cpu0) / runs as f64, size)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    for (communes, user, runs, target_ms) in [
        (1, "congchuc", 10, 2_000.0),
        (COMMUNES, "tinh", 5, 10_000.0),
    ] {
        let db = TestDb::sqlite().await;
        let store = db.store().await;
        let t = Instant::now();
        server::demo::create_province(
            store.as_ref(),
            server::demo::today_for_demo(),
            server::demo::Size::communes(communes),
        )
        .await
        .unwrap();
        eprintln!(
            "demo of {communes} commune(s) built in {:.0} s",
            t.elapsed().as_secs_f64()
        );
        let srv = TestServer::start(store.clone(), None).await;
        let token = srv.login_with(user, server::demo::PASSWORD, "bench").await;
        let (wall, cpu, size) = export(&srv, &token, runs).await;
        let what = if communes == 1 {
            "commune (1,329 households)".to_string()
        } else {
            format!("province ({communes} communes)")
        };
        println!(
            "annual report XLSX, {what}: median {wall:.0} ms wall, {cpu:.0} ms CPU per export, {:.0} KB; target ≤ {target_ms:.0} ms: {}",
            size as f64 / 1024.0,
            if wall <= target_ms { "met" } else { "NOT met" }
        );
        db.cleanup().await;
    }
}
