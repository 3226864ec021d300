//! The province benchmark (`cargo xtask bench province`): a province of 10 and of 100
//! communes on PostgreSQL (`DATABASE_URL_PG`), made by `donghanh demo`'s generator, served by
//! one in-process server. Prints, per size, the median time of the requests a commune
//! officer and the province viewer make most — the commune dashboard, the review campaign,
//! the household list with a name search, the province overview and the province's annual
//! report (JSON and XLSX) — and whether the campaign list keeps its speed when PostgreSQL
//! has run it many times on one connection (the generic-plan check: the median of runs
//! 21–30 against runs 1–5, as a ratio). The province's report is timed twice: counted at
//! the request with nothing kept, and after the keeper's pass (`report_keeper`, which
//! `donghanh serve` runs), whose own time is printed too. The figures are the request's
//! wall time on loopback, server and client in this process; the ratio between sizes is
//! the figure the scale targets are judged by (a commune's requests must not grow with
//! the province).
//!
//! Then a village head's fresh pull (new phones syncing the village from nothing).
//!
//! Last, the national roll-up by simulation: 34 provinces × 100 communes of commune
//! reports (their figures generated directly, each from a small register), summed into
//! provinces and the provinces into the nation as the server sums a province
//! (`shared::report::Combined`), timed, and checked to add up.
//!
//! `DONGHANH_BENCH_COMMUNES=10,100` chooses the sizes, `DONGHANH_BENCH_HOUSEHOLDS` the
//! households of each commune (default 8,000, a commune's size since the 2025 reform).

use std::time::Instant;
use tests::{TestDb, TestServer};

const RUNS: usize = 15;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn times(srv: &TestServer, token: &str, path: &str, runs: usize) -> Vec<f64> {
    let http = reqwest::Client::new();
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let r = http
            .get(srv.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.bytes().await.unwrap();
        out.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    out
}

fn percentile(v: &[f64], p: usize) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[(v.len() * p / 100).min(v.len() - 1)]
}

/// `phones` new phones of the user signed in with `token`, each pulling its scope from
/// nothing: the time of each sync request and its answer (the phone applying the answer
/// is not timed), the households a phone holds after, and the bytes it received.
async fn fresh_pulls(srv: &TestServer, token: &str, phones: usize) -> (Vec<f64>, usize, usize) {
    let mut times = vec![];
    let (mut households, mut bytes) = (0, 0);
    for n in 0..phones {
        let mut dev = shared::sync::Device::new(&[n as u8 + 1; 16]);
        bytes = 0;
        for _ in 0..1_000 {
            let req = dev.request();
            let t = Instant::now();
            let r = srv
                .http
                .post(srv.url("/api/sync"))
                .bearer_auth(token)
                .json(&req)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let body = r.bytes().await.unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            bytes += body.len();
            let resp: shared::sync::SyncResponse = serde_json::from_slice(&body).unwrap();
            dev.receive(&resp).unwrap();
            if req.pushes.is_empty()
                && req.want.is_empty()
                && resp.docs.is_empty()
                && !resp.more
                && resp.scope.is_none()
            {
                break;
            }
        }
        households = dev.doc_ids().count();
    }
    (times, households, bytes)
}

/// The area of the user signed in with `token`.
async fn area_of(srv: &TestServer, token: &str) -> String {
    let me: serde_json::Value = srv
        .http
        .get(srv.url("/api/auth/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    me["user"]["area_id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Forgets this process's peak resident memory so far (Linux: `clear_refs` 5), so the next
/// reading is the peak from now on.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Current and peak resident memory of this process (kB), from /proc.
fn rss_kb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let read = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (read("VmRSS:"), read("VmHWM:"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let sizes: Vec<usize> = std::env::var("DONGHANH_BENCH_COMMUNES")
        .unwrap_or_else(|_| "10,100".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let per_commune: usize = std::env::var("DONGHANH_BENCH_HOUSEHOLDS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(8_000);
    let mut dashboards = vec![];
    for communes in sizes {
        let Some(db) = TestDb::postgres().await else {
            eprintln!("the province benchmark needs PostgreSQL (DATABASE_URL_PG)");
            std::process::exit(2);
        };
        let t = Instant::now();
        let store = db.store().await;
        let size = server::demo::Size {
            communes,
            households_per_commune: per_commune,
        };
        let report =
            server::demo::create_province(store.as_ref(), server::demo::today_for_demo(), size)
                .await
                .unwrap();
        let households = report
            .counts
            .iter()
            .find(|(k, _)| *k == "households")
            .map_or(0, |(_, n)| *n);
        println!(
            "province of {communes} communes, {households} households (PostgreSQL), made in {:.0} s",
            t.elapsed().as_secs_f64()
        );
        let srv = TestServer::start(store.clone(), None).await;
        let officer = srv
            .login_with("congchuc", server::demo::PASSWORD, "bench-office")
            .await;
        let province = srv
            .login_with("tinh", server::demo::PASSWORD, "bench-province")
            .await;
        let year = server::demo::today_for_demo().format("%Y").to_string();
        let campaign = format!("/api/reviews/campaign?year={year}");
        for (who, token, what, path) in [
            ("officer", &officer, "commune dashboard", "/api/dashboard"),
            ("officer", &officer, "review campaign", campaign.as_str()),
            (
                "officer",
                &officer,
                "household list, name search",
                "/api/households?q=Th%E1%BB%8B&limit=50",
            ),
            (
                "province",
                &province,
                "province overview",
                "/api/stats/communes",
            ),
        ] {
            let ms = median(times(&srv, token, path, RUNS).await);
            if what == "commune dashboard" {
                dashboards.push((communes, ms));
            }
            println!("  {what:<30} ({who:<8}) median {ms:>7.1} ms");
        }
        // The first report of a period with no part kept counts every commune at the
        // request (the server then keeps each commune's part).
        let json = "/api/reports?year=2025&period=annual";
        reset_peak();
        let (before, _) = rss_kb();
        let cold = times(&srv, &province, json, 1).await[0];
        println!(
            "  {:<30} (province) {cold:>7.1} ms, peak memory grew {:.0} MB",
            "annual report, nothing kept",
            rss_kb().1.saturating_sub(before) as f64 / 1024.0
        );
        // `donghanh serve` keeps the parts counted between requests (`report_keeper`):
        // one pass from nothing, then the requests find every part kept.
        store.forget_report_parts().await.unwrap();
        let t = Instant::now();
        server::report_keeper::pass(store.as_ref(), server::today())
            .await
            .unwrap();
        println!(
            "  {:<30} {:>7.1} s for {communes} communes × 3 periods, one commune at a time",
            "keeper's pass from nothing",
            t.elapsed().as_secs_f64()
        );
        for (what, path) in [
            ("annual report JSON", json),
            (
                "annual report XLSX",
                "/api/reports?year=2025&period=annual&format=xlsx",
            ),
        ] {
            reset_peak();
            let (before, _) = rss_kb();
            let runs = times(&srv, &province, path, 6).await;
            let grew = rss_kb().1.saturating_sub(before);
            println!(
                "  {what:<30} (province) first {:>7.1} ms, then median {:>7.1} ms, peak memory grew {:.0} MB",
                runs[0],
                median(runs[1..].to_vec()),
                grew as f64 / 1024.0
            );
        }
        // 20 people at once — officers of the demo commune and province viewers, each
        // signed in as themselves (the server runs at most 3 heavy requests per person) —
        // each asking in turn for the screens they use most, 200 requests in all.
        let admin = srv
            .login_with("quantri", server::demo::PASSWORD, "bench-admin")
            .await;
        let province_area = area_of(&srv, &province).await;
        let commune_area = area_of(&srv, &officer).await;
        let mut people = vec![];
        for i in 0..20 {
            let (role, area) = if i % 4 == 3 {
                ("province_viewer", &province_area)
            } else {
                ("commune_officer", &commune_area)
            };
            let username = format!("bench{communes}x{i}");
            let r = srv
                .http
                .post(srv.url("/api/users"))
                .bearer_auth(&admin)
                .json(
                    &serde_json::json!({"username": username, "full_name": format!("Người đo {i}"),
                    "role": role, "area_id": area, "password": server::demo::PASSWORD}),
                )
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "a bench user: {}", r.status());
            let token = srv
                .login_with(&username, server::demo::PASSWORD, "bench")
                .await;
            people.push((i % 4 == 3, token));
        }
        let started = Instant::now();
        let tasks: Vec<_> = people
            .into_iter()
            .enumerate()
            .map(|(i, (viewer, token))| {
                let url = srv.url("/");
                let mixed: Vec<(String, String)> = if viewer {
                    vec![(token.clone(), "/api/stats/communes".to_string())]
                } else {
                    vec![
                        (token.clone(), "/api/dashboard".to_string()),
                        (token.clone(), campaign.clone()),
                        (
                            token.clone(),
                            "/api/households?q=Th%E1%BB%8B&limit=50".to_string(),
                        ),
                    ]
                };
                tokio::spawn(async move {
                    let http = reqwest::Client::new();
                    let mut out = vec![];
                    for k in 0..10 {
                        let (token, path) = &mixed[(i + k) % mixed.len()];
                        let t = Instant::now();
                        let r = http
                            .get(format!("{}{}", url.trim_end_matches('/'), path))
                            .bearer_auth(token)
                            .send()
                            .await
                            .unwrap();
                        assert!(r.status().is_success(), "{path}: {}", r.status());
                        r.bytes().await.unwrap();
                        out.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    out
                })
            })
            .collect();
        let mut all = vec![];
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        let secs = started.elapsed().as_secs_f64();
        all.sort_by(f64::total_cmp);
        println!(
            "  20 concurrent mixed console requests: {:.0} requests/s, p95 {:.0} ms (targets ≥ 150/s, ≤ 300 ms)",
            all.len() as f64 / secs,
            all[all.len() * 95 / 100]
        );
        // The generic-plan check: 30 runs in a row; PostgreSQL may switch a prepared
        // statement to a generic plan after its fifth run on a connection.
        let runs = times(&srv, &officer, &campaign, 30).await;
        let first = median(runs[..5].to_vec());
        let last = median(runs[20..].to_vec());
        println!(
            "  review campaign, 30 runs in a row: runs 1–5 median {first:.1} ms, runs 21–30 median {last:.1} ms, ratio {:.2} (target ≤ 1.20)",
            last / first
        );
        // A village head's fresh pull: a new phone syncs the village from nothing.
        let head = srv
            .login_with("truongban01", server::demo::PASSWORD, "bench-head")
            .await;
        let (pages, households, bytes) = fresh_pulls(&srv, &head, 10).await;
        println!(
            "  village head's fresh pull, 10 phones: {households} households, {:.0} kB, {} requests each; request p95 {:.1} ms, median {:.1} ms (target p95 ≤ 100 ms)",
            bytes as f64 / 1024.0,
            pages.len() / 10,
            percentile(&pages, 95),
            percentile(&pages, 50)
        );
        db.cleanup().await;
    }
    national();
    if let [(small, a), .., (large, b)] = dashboards.as_slice() {
        println!(
            "commune dashboard at {large} communes against {small}: ratio {:.2} (target ≤ 1.20)",
            b / a
        );
    }
}

/// A commune's report generated directly: `n` households of a small register with a few
/// decisions in the year, seeded by `seed`.
fn commune_report(seed: u64, n: usize) -> shared::report::Report {
    use shared::household::HouseholdStatus as S;
    use shared::report::{Facts, HouseholdFact, Period};
    let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    let statuses = [
        S::Poor,
        S::NearPoor,
        S::NotPoor,
        S::Average,
        S::NewlyEscaped,
    ];
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = |m: usize| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 33) as usize) % m
    };
    let households = (0..n)
        .map(|i| {
            let from = statuses[next(statuses.len())];
            let to = statuses[next(statuses.len())];
            let changes = if from != to && next(4) == 0 {
                vec![shared::review::StatusChange {
                    date: d("2025-12-10"),
                    from,
                    to,
                    corrects: None,
                }]
            } else {
                vec![]
            };
            HouseholdFact {
                id: format!("c{seed}-h{i}"),
                code: format!("C{seed}-{i:05}"),
                head_name: String::new(),
                area_id: format!("c{seed}"),
                registered: d("2020-01-01"),
                status: if changes.is_empty() { from } else { to },
                causes: vec![],
                changes,
                left: None,
            }
        })
        .collect();
    let facts = Facts {
        areas: vec![(format!("c{seed}"), format!("Xã {seed}"))],
        households,
        ..Default::default()
    };
    let id = format!("c{seed}");
    shared::report::build((&id, &id), 2025, Period::Annual, &facts)
}

/// 34 provinces of 100 communes, each commune's report generated from 200 households.
fn national() {
    use shared::report::{Combined, Period};
    let reports: Vec<Vec<shared::report::Report>> = (0..34u64)
        .map(|p| {
            (0..100u64)
                .map(|c| commune_report(p * 1000 + c, 200))
                .collect()
        })
        .collect();
    let t = Instant::now();
    let mut nation = Combined::new(("vn", "Việt Nam"), 2025, Period::Annual);
    let mut communes = 0;
    for (p, parts) in reports.into_iter().enumerate() {
        let id = format!("p{p}");
        let mut province = Combined::new((&id, &id), 2025, Period::Annual);
        for r in parts {
            communes += 1;
            province.add(r, false);
        }
        nation.add(province.finish(None), false);
    }
    let n = nation.finish(None);
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let adds_up = n.total.flows.iter().all(|c| c.check() == 0);
    println!(
        "national roll-up (simulated): {communes} communes in {} provinces summed in {ms:.1} ms; {} households at the end; the movement table adds up: {adds_up}",
        n.rows.len(),
        n.total.households_end
    );
    assert!(adds_up);
}
