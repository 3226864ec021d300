//! Đồng Hành server: builds the axum application (REST API, OpenAPI document, health
//! check, the built PWA) over a `Store`. `main.rs` only reads configuration and starts it.

pub mod api;
pub mod auth;
pub mod backup;
pub mod codes;
pub mod config;
pub mod demo;
pub mod edge;
pub mod error;
pub mod export;
pub mod extract;
pub mod heavy;
pub mod metrics;
pub mod rebuild;
pub mod recovery;
pub mod report_keeper;
pub mod scope;
pub mod store;
pub mod write;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use shared::rules::RuleBook;
use std::path::PathBuf;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::Predicate as _;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use store::{DynStore, Store};

/// Largest accepted request body. Households and forms are a few KB; this leaves room for
/// bulk requests without letting a client exhaust memory.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    pub keys: Arc<auth::Keys>,
    pub rules: Arc<RuleBook>,
    /// The household write core: every change to a household document passes through it.
    pub hub: Arc<shared::core::Hub>,
    /// The database as the write core's storage.
    pub db: write::DbStorage,
    /// Sync scopes of recently syncing users.
    pub scopes: Arc<scope::Scopes>,
    /// Sign-in and refresh throttles.
    pub sign_in: Arc<auth::throttle::SignIn>,
    /// Each user's heavy requests running at once.
    pub heavy: Arc<heavy::HeavyGate>,
    /// The dashboard's movement figures, kept while the area's households stand.
    pub(crate) movements: Arc<api::area_memo::AreaMemo<Option<shared::dashboard::MovementSince>>>,
    /// The areas' household lists the commune's screens count, kept while unwritten.
    pub(crate) briefs: Arc<api::area_memo::AreaMemo<Arc<Vec<store::HouseholdBrief>>>>,
    /// The token `GET /metrics` asks for; `None`: the route answers 404.
    pub metrics_token: Option<Arc<str>>,
}

impl AppState {
    pub fn new(store: DynStore, jwt_secret: &[u8]) -> Self {
        let rules = Arc::new(RuleBook::built_in());
        Self {
            store: store.clone(),
            keys: Arc::new(auth::Keys::new(jwt_secret, Default::default())),
            rules: rules.clone(),
            hub: Arc::new(shared::core::Hub {
                page: api::sync::PAGE,
                ..shared::core::Hub::new(rules)
            }),
            db: write::DbStorage::new(store.clone()),
            scopes: Arc::default(),
            sign_in: Arc::default(),
            heavy: Arc::default(),
            movements: Arc::new(api::area_memo::AreaMemo::new(api::area_memo::FIGURES)),
            briefs: Arc::new(api::area_memo::AreaMemo::new(api::area_memo::LISTS)),
            metrics_token: None,
        }
    }
}

/// Today in Vietnam (UTC+7), the day assignments and reviews are counted on.
pub fn today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

/// The whole application with the default edge. `static_dir` holds the built PWA
/// (`cargo xtask dist`).
pub fn app(state: AppState, static_dir: Option<PathBuf>) -> Router {
    app_with(state, static_dir, edge::Edge::default())
}

/// The whole application behind `edge` (security headers, bounds, time limits).
pub fn app_with(state: AppState, static_dir: Option<PathBuf>, edge: edge::Edge) -> Router {
    metrics::install();
    let scrape = Router::new()
        .route("/metrics", get(metrics::scrape))
        .with_state(state.clone());
    let (api, mut openapi) = api::router().split_for_parts();
    api::complete(&mut openapi);
    // Written once: the document does not change while the server runs.
    let openapi = axum::body::Bytes::from(serde_json::to_vec(&openapi).expect("serialises"));
    let api = api
        .route(
            "/openapi.json",
            get(move || {
                let doc = openapi.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        doc,
                    )
                }
            }),
        )
        // Counted by route: the routes above, not the fallbacks below.
        .route_layer(axum::middleware::from_fn(metrics::track))
        .fallback(|| async { error::AppError::NotFound("route") })
        .method_not_allowed_fallback(|| async {
            error::AppError::BadRequest {
                code: "method_not_allowed",
                message: shared::Text::new(
                    "Phương thức này không dùng được ở đường dẫn này.",
                    "This method is not allowed on this path.",
                ),
            }
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Phones on 2G/3G: answers are compressed when the client accepts it, and requests
        // may come gzip- or brotli-compressed (the body limit applies after decompression).
        // Brotli's default quality (11) is for static files: on every sync answer it cost
        // more CPU than the sync itself; quality 3 keeps most of the gain. zstd (level 3)
        // is chosen when the client accepts it, as Chrome does. Sync answers, the most
        // frequent, are compressed by their handler instead (`api::packed`), which keeps
        // a zstd context per thread. Answers under 1 KB (acknowledgements) are sent as they
        // are: compressing them costs more than the bytes it saves.
        .layer(
            CompressionLayer::new()
                .quality(tower_http::CompressionLevel::Precise(3))
                .compress_when(
                    tower_http::compression::DefaultPredicate::new()
                        .and(tower_http::compression::predicate::SizeAbove::new(1024)),
                ),
        )
        .layer(RequestDecompressionLayer::new())
        .with_state(state);

    let mut router = Router::new()
        .nest("/api", api)
        .route("/healthz", get(|| async { (StatusCode::OK, "ok") }))
        .merge(scrape);
    if let Some(dir) = static_dir {
        // Client-side routes fall back to the app shell.
        let index = dir.join("index.html");
        // Browsers always ask again (cheaply, by ETag): offline starts are the service
        // worker's job, and a stale HTTP cache must never hide a new version from it.
        let files = tower::ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-cache"),
            ))
            // `cargo xtask dist` writes each file brotli- and gzip-compressed beside it
            // (once, at the highest quality): a phone's first visit downloads the
            // compressed app, at no CPU cost per request.
            .service(
                ServeDir::new(dir)
                    .precompressed_br()
                    .precompressed_gzip()
                    .fallback(
                        ServeFile::new(index)
                            .precompressed_br()
                            .precompressed_gzip(),
                    ),
            );
        router = router.fallback_service(files);
    }
    let router = router.layer(CatchPanicLayer::custom(|_| {
        error::AppError::Internal("handler panicked".into()).into_response()
    }));
    edge::wrap(router, edge).layer(TraceLayer::new_for_http())
}
