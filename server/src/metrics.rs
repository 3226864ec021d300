//! What an administrator watches the server by: `GET /metrics` in Prometheus' text format
//! (the `metrics` facade, rendered by `metrics-exporter-prometheus`). It is off unless the
//! server is given a token (`DONGHANH_METRICS_TOKEN`), and then answers only a request
//! carrying that token, so request rates and queue sizes are not public.
//!
//! Families (all prefixed `donghanh_`): HTTP requests by route, method and status, with a
//! latency histogram; sync changes acknowledged and refused (by the gate's code); the group
//! commit's sizes; the document cache's hits and misses; sign-ins throttled; the communes'
//! report parts counted (by a request or the keeper, `report_keeper`); the time each
//! database connection was waited for (`PoolWait`); and, read at each scrape, the database
//! pool's connections (in use, idle) and the quarantine and conflict queues waiting for an
//! officer.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

pub const HTTP_REQUESTS: &str = "donghanh_http_requests_total";
pub const HTTP_SECONDS: &str = "donghanh_http_request_duration_seconds";
pub const SYNC_ACKNOWLEDGED: &str = "donghanh_sync_changes_acknowledged_total";
pub const SYNC_REFUSED: &str = "donghanh_sync_changes_refused_total";
pub const GROUP_COMMIT: &str = "donghanh_group_commit_size";
pub const DOC_CACHE: &str = "donghanh_doc_cache_total";
pub const SIGN_IN_THROTTLED: &str = "donghanh_sign_in_throttled_total";
pub const POOL: &str = "donghanh_db_pool_connections";
pub const POOL_WAIT: &str = "donghanh_db_pool_wait_seconds";
pub const QUARANTINE: &str = "donghanh_quarantine_waiting";
pub const CONFLICTS: &str = "donghanh_conflicts_open";
pub const REPORT_PARTS_COUNTED: &str = "donghanh_report_parts_counted_total";

/// The process's one recorder: installed the first time a server is built (a test
/// process builds several; they share it).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        // Latency buckets from 1 ms to 10 s; group sizes from 1 to the group's bound.
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(HTTP_SECONDS.into()),
                &[
                    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
            )
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full(GROUP_COMMIT.into()),
                    &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0],
                )
            })
            // A connection is usually there at once (well under a millisecond); waits of
            // tens of milliseconds mean the pool is too small for the load.
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full(POOL_WAIT.into()),
                    &[0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0],
                )
            })
            .expect("valid buckets")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder already installed (none is in this program) only means these
        // figures go nowhere; the server runs the same.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Makes sure the recorder is there before the first request is counted.
pub fn install() {
    handle();
}

/// Where sqlx says how long each connection was waited for: both pools announce every
/// acquire at trace level (`ACQUIRE_EVENTS`), and only `PoolWait` listens there.
pub const ACQUIRE_TARGET: &str = "sqlx::pool::acquire";
/// The level the pools announce their acquires at (sqlx takes it as a `log` level).
pub const ACQUIRE_EVENTS: log::LevelFilter = log::LevelFilter::Trace;

/// Records the wait of each database connection acquired (sqlx's `acquired_after_secs`,
/// on its acquire event) into `POOL_WAIT`: the figure that says requests queue for the
/// pool, which its use alone does not.
pub struct PoolWait;

impl<S: tracing::Subscriber> Layer<S> for PoolWait {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        struct Waited(Option<f64>);
        impl Visit for Waited {
            fn record_f64(&mut self, field: &Field, value: f64) {
                if field.name() == "acquired_after_secs" {
                    self.0 = Some(value);
                }
            }
            fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
        }
        let mut waited = Waited(None);
        event.record(&mut waited);
        if let Some(secs) = waited.0 {
            metrics::histogram!(POOL_WAIT).record(secs);
        }
    }
}

/// The process's logs (filtered by `RUST_LOG`, else by `default_filter`; JSON lines when
/// `json`) and `PoolWait`, which sees only the pools' acquire events whatever the logs'
/// filter.
pub fn init_tracing(
    default_filter: &str,
    json: bool,
) -> Result<(), tracing_subscriber::util::TryInitError> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| default_filter.into());
    let logs = if json {
        tracing_subscriber::fmt::layer().json().boxed()
    } else {
        tracing_subscriber::fmt::layer().boxed()
    };
    let acquires = tracing_subscriber::filter::Targets::new()
        .with_target(ACQUIRE_TARGET, tracing::Level::TRACE);
    tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(PoolWait.with_filter(acquires))
        .try_init()
}

/// Counts each API request by its route (the pattern, not the path: ids do not make new
/// series), method and status, and its latency.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(HTTP_REQUESTS, "route" => route.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(HTTP_SECONDS, "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Whether two tokens are equal, in a time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /metrics`: 404 when no token is configured, 401 without the right one.
pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = state.metrics_token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !same(given.as_bytes(), token.as_bytes()) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    // Read from this server's database at each scrape, and written after the recorder's
    // families (they are this store's state, not counts of this process's events).
    let mut text = handle().render();
    let (in_use, idle) = state.store.pool_use();
    text.push_str(&format!(
        "# HELP {POOL} Database connections of the pool, by state.\n# TYPE {POOL} gauge\n{POOL}{{state=\"in_use\"}} {in_use}\n{POOL}{{state=\"idle\"}} {idle}\n"
    ));
    match state.store.queue_sizes().await {
        Ok((quarantined, conflicts)) => text.push_str(&format!(
            "# HELP {QUARANTINE} Refused changes waiting for an officer.\n# TYPE {QUARANTINE} gauge\n{QUARANTINE} {quarantined}\n\
             # HELP {CONFLICTS} Conflicting values waiting for an officer.\n# TYPE {CONFLICTS} gauge\n{CONFLICTS} {conflicts}\n"
        )),
        Err(e) => tracing::warn!(error = %e, "metrics: the queues could not be counted"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
