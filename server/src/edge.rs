//! The HTTP edge, between the internet and the application: security headers on every
//! answer, a bound on requests in flight (a clear 503 with `Retry-After` beyond it), a
//! time limit per request, and the connection loop with a header-read timeout so a client
//! that sends its headers slowly (slowloris) is cut off instead of holding a connection.

use crate::error::AppError;
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use shared::Text;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_http::set_header::SetResponseHeaderLayer;

/// The web app is WebAssembly and scripts from this origin only; styles may be inline
/// (Leptos sets style attributes); nothing may frame it.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
    worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// Limits of the edge.
#[derive(Debug, Clone, Copy)]
pub struct Edge {
    /// Time a client has to send a request's headers.
    pub header_read_timeout: Duration,
    /// Time a handler has to answer (the body may stream after).
    pub request_timeout: Duration,
    /// Requests handled at once; more are answered 503 at once.
    pub max_in_flight: usize,
    /// Behind a TLS reverse proxy that sets `X-Forwarded-Proto`/`X-Forwarded-For`.
    pub trust_proxy: bool,
}

impl Default for Edge {
    fn default() -> Self {
        Edge {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_in_flight: 512,
            trust_proxy: false,
        }
    }
}

struct Guard {
    edge: Edge,
    in_flight: Semaphore,
}

/// `router` with the edge's headers, bound and time limit.
pub fn wrap(router: Router, edge: Edge) -> Router {
    let guard = Arc::new(Guard {
        edge,
        in_flight: Semaphore::new(edge.max_in_flight),
    });
    let headers: [(HeaderName, &'static str); 4] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    let mut router = router.layer(axum::middleware::from_fn_with_state(guard, guarded));
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router
}

async fn guarded(State(guard): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    let Ok(_permit) = guard.in_flight.try_acquire() else {
        let mut r = AppError::Unavailable {
            code: "busy",
            message: Text::new(
                "Máy chủ đang quá tải; ứng dụng sẽ tự thử lại sau ít giây.",
                "The server is overloaded; the app tries again in a few seconds.",
            ),
        }
        .into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return r;
    };
    let https = guard.edge.trust_proxy
        && req
            .headers()
            .get("x-forwarded-proto")
            .is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"https"));
    let mut r = match tokio::time::timeout(guard.edge.request_timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => AppError::Unavailable {
            code: "timeout",
            message: Text::new(
                "Máy chủ trả lời quá chậm; chưa có gì được lưu, hãy thử lại.",
                "The server took too long; nothing was saved, please try again.",
            ),
        }
        .into_response(),
    };
    if https {
        r.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    r
}

/// Serves `app` on `listener` until `shutdown` completes, each connection with the
/// header-read timeout and the peer address for the handlers (`ConnectInfo`).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    edge: Edge,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(edge.header_read_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors and the like: wait a little, keep serving.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req.map(axum::body::Body::new))
        });
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    // Requests under way finish (for at most the request timeout).
    let _ = tokio::time::timeout(edge.request_timeout, graceful.shutdown()).await;
    Ok(())
}
