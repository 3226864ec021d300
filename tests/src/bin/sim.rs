//! The device simulator (`cargo xtask bench sync` runs it): plays phones against running
//! servers with the real sync core, over HTTP with compressed answers (zstd or brotli, as
//! the server chooses), and reports what travels on the wire, how long acknowledgements
//! take and how much CPU the servers spent per acknowledged change (from
//! `/proc/<pid>/stat`).

use shared::api::TokenPair;
use shared::doc::Author;
use shared::doc::Collection;
use shared::sync::{Device, SyncRequest, SyncResponse};
use std::io::Read;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// One simulated phone with a signed-in user.
pub struct Phone {
    http: reqwest::Client,
    base: String,
    token: String,
    pub user_id: String,
    pub device_id: String,
    pub device: Device,
    /// Bytes sent and received on the wire (compressed where compressed).
    pub sent: usize,
    pub received: usize,
    pub requests: usize,
}

impl Phone {
    pub async fn sign_in(
        base: &str,
        username: &str,
        password: &str,
        device_id: &str,
        actor: [u8; 16],
    ) -> Result<Self, Error> {
        // Each phone comes from its own address, as the proxy in front of the server
        // (`serve --trust-proxy`) reports it; one address signing 200 phones in would be
        // throttled as an attacker is.
        let address = format!("10.{}.{}.{}", actor[0], actor[1], actor[2].max(1));
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            address.parse().expect("an address is a header value"),
        );
        // Idle connections are dropped before the server's header-read timeout (10 s) may
        // close them, so a phone that waited does not send into a closing connection.
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .pool_idle_timeout(Duration::from_secs(5))
            .build()?;
        // Throttled all the same (a server without `--trust-proxy`): like the app, wait
        // as long as the server says, then try again.
        let mut tries = 0;
        let r = loop {
            let r = http
                .post(format!("{base}/api/auth/login"))
                .json(&serde_json::json!({"username": username, "password": password, "device_id": device_id}))
                .send()
                .await?;
            if r.status() != reqwest::StatusCode::TOO_MANY_REQUESTS || tries == 60 {
                break r;
            }
            tries += 1;
            let wait = r
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()?.parse().ok())
                .unwrap_or(1u64);
            tokio::time::sleep(Duration::from_secs(wait)).await;
        };
        if !r.status().is_success() {
            return Err(format!("sign-in of {username} failed: {}", r.text().await?).into());
        }
        let pair: TokenPair = r.json().await?;
        Ok(Phone {
            http,
            base: base.into(),
            token: pair.access_token,
            user_id: pair.user.id,
            device_id: device_id.into(),
            device: Device::new(&actor),
            sent: 0,
            received: 0,
            requests: 0,
        })
    }

    /// One exchange; returns the response and how long the server took to answer.
    pub async fn exchange(&mut self) -> Result<(SyncRequest, SyncResponse, Duration), Error> {
        let req = self.device.request();
        let body = serde_json::to_vec(&req)?;
        let started = Instant::now();
        let r = self
            .http
            .post(format!("{}/api/sync", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            // What a phone's Chrome accepts.
            .header("accept-encoding", "gzip, deflate, br, zstd")
            .body(body.clone())
            .send()
            .await?;
        let status = r.status();
        let encoding = r
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let raw = r.bytes().await?;
        let took = started.elapsed();
        if !status.is_success() {
            return Err(format!("sync answered {status}").into());
        }
        let mut plain = Vec::new();
        match encoding.as_str() {
            "br" => {
                brotli::Decompressor::new(&raw[..], 4096).read_to_end(&mut plain)?;
            }
            "zstd" => {
                zstd::stream::read::Decoder::new(&raw[..])?.read_to_end(&mut plain)?;
            }
            "" => plain = raw.to_vec(),
            other => return Err(format!("answer encoded as {other}").into()),
        }
        let resp: SyncResponse = serde_json::from_slice(&plain)?;
        if let Err(e) = self.device.receive(&resp) {
            let detail: Vec<String> = resp
                .docs
                .iter()
                .map(|u| {
                    format!(
                        "{} snapshot={} held={}",
                        u.doc_id,
                        u.snapshot,
                        self.device.doc_ids().any(|d| d == &u.doc_id)
                    )
                })
                .collect();
            return Err(format!(
                "{e} (cursor {} -> {}, more {}, docs: {detail:?}, refused {:?})",
                req.cursor, resp.cursor, resp.more, resp.refused
            )
            .into());
        }
        self.sent += body.len();
        self.received += raw.len();
        self.requests += 1;
        Ok((req, resp, took))
    }

    /// Syncs until nothing moves.
    pub async fn settle(&mut self) -> Result<(), Error> {
        for _ in 0..50 {
            let (req, resp, _) = self.exchange().await?;
            if req.pushes.is_empty()
                && req.want.is_empty()
                && resp.docs.is_empty()
                && !resp.more
                && resp.scope.is_none()
            {
                return Ok(());
            }
        }
        Err("sync did not settle".into())
    }

    /// Decodes every household the phone holds, as a phone in use all day has them: the
    /// storm then measures the server, not each phone's one-time decoding of what its
    /// first sync brought (which ran on this one core for all the phones at once).
    pub fn open_all(&mut self) -> Result<(), Error> {
        let ids: Vec<String> = self.device.doc_ids().cloned().collect();
        for id in ids {
            self.device
                .doc_mut(&id)
                .ok_or_else(|| format!("household {id} does not decode"))?;
        }
        Ok(())
    }

    pub fn reset_counters(&mut self) {
        (self.sent, self.received, self.requests) = (0, 0, 0);
    }

    /// Logs a visit to the `n`-th of the phone's households.
    pub fn log_visit(&mut self, n: usize) -> Result<(), Error> {
        let ids: Vec<String> = self.device.doc_ids().cloned().collect();
        let Some(id) = ids.get(n % ids.len().max(1)).cloned() else {
            return Err("no household on this phone".into());
        };
        let author = Author {
            user_id: self.user_id.clone(),
            device_id: self.device_id.clone(),
            at_ms: chrono::Utc::now().timestamp_millis(),
            door: None,
        };
        let today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive();
        let visit = serde_json::json!({
            "date": today.to_string(), "discussed": "Hướng dẫn chăm sóc bò, tiêm phòng", "progress": "Đàn bò khỏe",
            "needs": "", "next_visit": (today + chrono::Duration::days(30)).to_string(), "cadre_id": self.user_id,
        });
        let vid = format!(
            "sim-{}-{n}-{}",
            self.user_id,
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        );
        self.device.doc_mut(&id).expect("held").put_record(
            Collection::Visits,
            &vid,
            &visit,
            &author,
        )?;
        Ok(())
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Seconds of CPU (user + system) a process has used.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name: utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let hz = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse::<f64>().ok())
        .unwrap_or(100.0);
    Some(ticks as f64 / hz)
}

/// The sync benchmark against the demo commune on `bases` (phones spread over them).
pub async fn bench(
    bases: &[String],
    server_pids: &[u32],
    password: &str,
    devices: usize,
    changes: usize,
) -> Result<String, Error> {
    let base = bases[0].as_str();
    let mut out = String::new();
    let mut officer =
        Phone::sign_in(base, "congchuc", password, "bench-officer", rand::random()).await?;
    officer.settle().await?;
    let households = officer.device.doc_ids().count();
    out += &format!(
        "fresh pull, whole commune ({households} households): {} requests, {} B sent, {} B received = {:.0} B per household\n",
        officer.requests,
        officer.sent,
        officer.received,
        (officer.sent + officer.received) as f64 / households as f64
    );
    officer.reset_counters();
    officer.exchange().await?;
    out += &format!(
        "no-op reconnect: {} request, {} B sent + {} B received\n",
        officer.requests, officer.sent, officer.received
    );

    let mut cadre =
        Phone::sign_in(base, "canbo01", password, "bench-cadre", rand::random()).await?;
    cadre.settle().await?;
    cadre.reset_counters();
    cadre.log_visit(0)?;
    let (_, resp, _) = cadre.exchange().await?;
    out += &format!(
        "one-visit push: {} request, {} B sent + {} B received, acknowledged: {}\n",
        cadre.requests,
        cadre.sent,
        cadre.received,
        resp.acks.len() == 1
    );

    // The storm: `devices` phones of the 20 cadres, each pushing `changes` visits one sync at a time.
    let mut phones = Vec::new();
    for i in 0..devices {
        let user = format!("canbo{:02}", i % 20 + 1);
        let server = &bases[i % bases.len()];
        let mut p = Phone::sign_in(
            server,
            &user,
            password,
            &format!("storm-{i}"),
            rand::random(),
        )
        .await?;
        p.settle().await?;
        p.open_all()?;
        phones.push(p);
    }
    // For profiling the storm alone: a file that says the phones are signed in and settled.
    if let Some(path) = std::env::var_os("DONGHANH_SIM_READY") {
        std::fs::write(path, b"storm")?;
    }
    let cpu_before: Option<f64> = server_pids.iter().map(|p| cpu_seconds(*p)).sum();
    let sim_before = cpu_seconds(std::process::id());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, mut p) in phones.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(changes);
            for n in 0..changes {
                // Phones of one cadre visit different households at a time, as people do.
                p.log_visit(n + i)?;
                // A push the server could not take at once is sent again, as a phone does;
                // its latency counts until it is acknowledged.
                let mut waited = Duration::ZERO;
                for _ in 0..10 {
                    let (_, resp, took) = p.exchange().await?;
                    waited += took;
                    if resp.acks.len() == 1 {
                        break;
                    }
                }
                if p.device.pending() > 0 {
                    let (req, resp, _) = p.exchange().await?;
                    return Err::<Vec<Duration>, Error>(format!("a push was never acknowledged: {} pushes, {} acks, refused {:?}, {} docs back", req.pushes.len(), resp.acks.len(), resp.refused, resp.docs.len()).into());
                }
                lat.push(waited);
            }
            Ok(lat)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    let wall = started.elapsed();
    let cpu_after: Option<f64> = server_pids.iter().map(|p| cpu_seconds(*p)).sum();
    let sim_after = cpu_seconds(std::process::id());
    lat.sort();
    out += &format!(
        "push storm: {devices} devices x {changes} changes = {} changes in {:.1} s = {:.0} changes/s; acknowledge latency p50 {} ms, p95 {} ms\n",
        lat.len(),
        wall.as_secs_f64(),
        lat.len() as f64 / wall.as_secs_f64(),
        percentile(&lat, 0.50).as_millis(),
        percentile(&lat, 0.95).as_millis()
    );
    // Nothing lost: every visit of the storm is on the server, as a fresh look shows.
    officer.settle().await?;
    let ids: Vec<String> = officer.device.doc_ids().cloned().collect();
    let mut found = 0;
    for id in ids {
        if let Some(doc) = officer.device.doc(&id) {
            found += doc
                .records(Collection::Visits)
                .keys()
                .filter(|k| k.starts_with("sim-"))
                .count();
        }
    }
    // The one-visit push before the storm is there too.
    let found = found.saturating_sub(1);
    out += &format!(
        "storm visits on the server afterwards: {found} of {}\n",
        lat.len()
    );
    if found < lat.len() {
        return Err(format!("{} acknowledged visits are missing", lat.len() - found).into());
    }
    if let (Some(a), Some(b)) = (cpu_before, cpu_after) {
        out += &format!(
            "server CPU during the storm: {:.2} s = {:.3} ms per acknowledged change ({} server process(es))\n",
            b - a,
            (b - a) * 1000.0 / lat.len() as f64,
            server_pids.len()
        );
    }
    // The phones' own work (automerge, JSON, brotli) runs in this one process: when it
    // nears a whole core during the storm, the storm's rate is the simulator's, not the
    // server's.
    if let (Some(a), Some(b)) = (sim_before, sim_after) {
        out += &format!(
            "simulator CPU during the storm: {:.2} s = {:.3} ms per acknowledged change ({:.0} % of the storm's wall time)\n",
            b - a,
            (b - a) * 1000.0 / lat.len() as f64,
            (b - a) * 100.0 / wall.as_secs_f64()
        );
    }
    Ok(out)
}

/// `sim --server URL [--server URL] [--server-pid PID]… [--devices N] [--changes N]`
#[derive(Debug, clap::Parser)]
struct Args {
    /// A server with the demo commune; give several to spread the phones over them.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: Vec<String>,
    /// Process ids of the servers, to read their CPU time around the storm.
    #[arg(long)]
    server_pid: Vec<u32>,
    /// Phones in the push storm.
    #[arg(long, default_value_t = 200)]
    devices: usize,
    /// Changes each phone pushes in the storm.
    #[arg(long, default_value_t = 30)]
    changes: usize,
    /// The demo users' password.
    #[arg(long, default_value = server::demo::PASSWORD)]
    password: String,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let a = <Args as clap::Parser>::parse();
    print!(
        "{}",
        bench(&a.server, &a.server_pid, &a.password, a.devices, a.changes).await?
    );
    Ok(())
}
