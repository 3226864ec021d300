//! The device simulator (`donghanh sim`): plays phones against a running server with the
//! real sync core, over HTTP with brotli-compressed answers, and reports what travels on
//! the wire and how long acknowledgements take. Used for demos and the sync benchmark.

use shared::api::TokenPair;
use shared::doc::Author;
use shared::sync::{Device, SyncRequest, SyncResponse};
use std::io::Read;
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// One simulated phone with a signed-in user.
pub struct Phone {
    http: reqwest::Client,
    base: String,
    token: String,
    pub user_id: String,
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
        let http = reqwest::Client::new();
        let r = http
            .post(format!("{base}/api/auth/login"))
            .json(&serde_json::json!({"username": username, "password": password, "device_id": device_id}))
            .send()
            .await?;
        if !r.status().is_success() {
            return Err(format!("sign-in of {username} failed: {}", r.text().await?).into());
        }
        let pair: TokenPair = r.json().await?;
        Ok(Phone {
            http,
            base: base.into(),
            token: pair.access_token,
            user_id: pair.user.id,
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
            .header("accept-encoding", "br")
            .body(body.clone())
            .send()
            .await?;
        let status = r.status();
        let brotli = r
            .headers()
            .get("content-encoding")
            .is_some_and(|v| v == "br");
        let raw = r.bytes().await?;
        let took = started.elapsed();
        if !status.is_success() {
            return Err(format!("sync answered {status}").into());
        }
        let mut plain = Vec::new();
        if brotli {
            brotli::Decompressor::new(&raw[..], 4096).read_to_end(&mut plain)?;
        } else {
            plain = raw.to_vec();
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
            device_id: "sim".into(),
            at_ms: chrono::Utc::now().timestamp_millis(),
        };
        let today = crate::today();
        let visit = serde_json::json!({
            "date": today.to_string(), "discussed": "Hướng dẫn chăm sóc bò, tiêm phòng", "progress": "Đàn bò khỏe",
            "needs": "", "next_visit": (today + chrono::Duration::days(30)).to_string(), "cadre_id": self.user_id,
        });
        let vid = format!(
            "sim-{}-{n}-{}",
            self.user_id,
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        );
        self.device
            .doc_mut(&id)
            .expect("held")
            .put_record("visits", &vid, &visit, &author)?;
        Ok(())
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The sync benchmark against the demo commune on `base`.
pub async fn bench(
    base: &str,
    password: &str,
    devices: usize,
    changes: usize,
) -> Result<String, Error> {
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
        let mut p =
            Phone::sign_in(base, &user, password, &format!("storm-{i}"), rand::random()).await?;
        p.settle().await?;
        phones.push(p);
    }
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
    lat.sort();
    out += &format!(
        "push storm: {devices} devices x {changes} changes = {} changes in {:.1} s = {:.0} changes/s; acknowledge latency p50 {} ms, p95 {} ms\n",
        lat.len(),
        wall.as_secs_f64(),
        lat.len() as f64 / wall.as_secs_f64(),
        percentile(&lat, 0.50).as_millis(),
        percentile(&lat, 0.95).as_millis()
    );
    Ok(out)
}
