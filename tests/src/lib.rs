//! Shared harness for the end-to-end tests: a real database (a fresh SQLite file or a fresh
//! PostgreSQL database), the real server on a loopback port, and a small commune fixture
//! with one user per role, so every test starts from known records.

pub mod chromium;
pub mod fixture;
pub mod phone;

use server::AppState;
use server::store::{self, DynStore};
use std::net::SocketAddr;

/// The database backends the suite runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The token every test server asks `GET /metrics` for.
pub const METRICS_TOKEN: &str = "test-metrics-token-of-some-length";

/// The PostgreSQL server the tests use: `DATABASE_URL_PG`, or the local one.
pub fn pg_admin_url() -> String {
    std::env::var("DATABASE_URL_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Whether missing PostgreSQL fails the run (CI) instead of skipping its half.
pub fn pg_required() -> bool {
    std::env::var("DONGHANH_REQUIRE_PG").is_ok_and(|v| v == "1")
}

/// A database of its own for one test, removed by `cleanup` (or by a later sweep).
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempdir::TempDir>,
}

mod tempdir {
    /// A directory under the system temp dir, removed on drop.
    pub struct TempDir(pub std::path::PathBuf);
    impl TempDir {
        pub fn new() -> Self {
            let p = std::env::temp_dir().join(format!("donghanh-test-{}", uuid::Uuid::now_v7()));
            std::fs::create_dir_all(&p).expect("create temp dir");
            TempDir(p)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempdir::TempDir::new();
        let url = format!("sqlite://{}", dir.0.join("test.db").display());
        TestDb {
            backend: Backend::Sqlite,
            url,
            pg_name: None,
            _dir: Some(dir),
        }
    }

    /// A fresh PostgreSQL database, or `None` (with a note) when the server is not
    /// reachable and the run does not require it.
    pub async fn postgres() -> Option<Self> {
        use sqlx::Connection;
        let admin = pg_admin_url();
        let mut conn = match sqlx::PgConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) if !pg_required() => {
                eprintln!(
                    "PostgreSQL not reachable at {admin} ({e}); skipping the PostgreSQL half"
                );
                return None;
            }
            Err(e) => panic!(
                "PostgreSQL is required (DONGHANH_REQUIRE_PG=1) but not reachable at {admin}: {e}"
            ),
        };
        let now = chrono::Utc::now().timestamp();
        // Sweep databases left by tests that panicked more than an hour ago.
        let old: Vec<String> =
            sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'dh_t_%'")
                .fetch_all(&mut conn)
                .await
                .expect("list databases");
        for name in old {
            let born: i64 = name
                .split('_')
                .nth(2)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if born < now - 3600 {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await;
            }
        }
        let name = format!("dh_t_{now}_{}", uuid::Uuid::now_v7().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let base = admin
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .unwrap_or(admin);
        Some(TestDb {
            backend: Backend::Postgres,
            url: format!("{base}/{name}"),
            pg_name: Some(name),
            _dir: None,
        })
    }

    pub async fn open(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }

    pub async fn store(&self) -> DynStore {
        store::connect(&self.url)
            .await
            .expect("connect and migrate")
    }

    /// Asserts that the village counts the database's triggers keep
    /// (`village_status_counts`) are what a count of the households in the register gives,
    /// that each household's row keeps what its visits and plan say
    /// (`shared::projection::Followed`), and that every household and record carries its
    /// village's commune (the commune key, migration 0015).
    pub async fn assert_counts_agree(&self) {
        const RECOUNT: &str = "SELECT village_id, status, COUNT(*) AS n FROM households \
             WHERE left_on IS NULL GROUP BY village_id, status";
        const KEPT: &str = "SELECT village_id, status, households AS n FROM village_status_counts WHERE households > 0";
        let wrong = self
            .strings(format!(
                "SELECT 'recount ' || village_id || ' ' || status FROM ({RECOUNT} EXCEPT {KEPT}) a \
                 UNION ALL SELECT 'kept ' || village_id || ' ' || status FROM ({KEPT} EXCEPT {RECOUNT}) b"
            ))
            .await;
        assert_eq!(
            wrong,
            Vec::<String>::new(),
            "the kept village counts differ from a recount"
        );
        // Each household's last visit, next visit planned that day and whether it has a
        // plan, as its row keeps them, against its visits and plan items.
        let next = match self.backend {
            Backend::Sqlite => "json_extract(v.data, '$.next_visit')",
            Backend::Postgres => "v.data::json->>'next_visit'",
        };
        let wrong = self
            .strings(format!(
                "SELECT h.id || ' ' || COALESCE(h.last_visit, '-') || ' ' || COALESCE(h.next_visit, '-') \
                 FROM households h WHERE \
                 h.last_visit IS DISTINCT FROM (SELECT MAX(v.date) FROM visits v WHERE v.household_id = h.id) \
                 OR h.next_visit IS DISTINCT FROM (SELECT MIN({next}) FROM visits v \
                     WHERE v.household_id = h.id AND v.date = h.last_visit) \
                 OR h.has_plan <> EXISTS (SELECT 1 FROM plan_items p \
                     WHERE p.household_id = h.id AND p.status <> 'dropped')"
            ))
            .await;
        assert_eq!(
            wrong,
            Vec::<String>::new(),
            "households whose kept last visit or plan differs from their visits and plan"
        );
        // The commune key: each household's is its village's commune, each record's its
        // household's.
        let mut sql = String::from(
            "SELECT 'household ' || h.id FROM households h JOIN areas a ON a.id = h.village_id \
             WHERE h.commune_id IS DISTINCT FROM a.parent_id",
        );
        for table in [
            "movements",
            "assessments",
            "review_steps",
            "support_actions",
            "visits",
            "assignments",
        ] {
            sql.push_str(&format!(
                " UNION ALL SELECT '{table} ' || t.id FROM {table} t \
                 JOIN households h ON h.id = t.household_id \
                 WHERE t.commune_id IS DISTINCT FROM h.commune_id"
            ));
        }
        assert_eq!(
            self.strings(sql).await,
            Vec::<String>::new(),
            "rows whose commune key is not their village's commune"
        );
    }

    /// The one text column of every row `sql` returns, on a connection of its own.
    async fn strings(&self, sql: String) -> Vec<String> {
        use sqlx::Connection;
        let sql = sqlx::AssertSqlSafe(sql);
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
            }
        }
    }

    /// Runs `sql` on the database directly, beside the server: data as an older version
    /// of the server, or a hand edit, would have left it.
    pub async fn execute(&self, sql: &str) {
        use sqlx::Connection;
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
            }
        }
    }

    pub async fn cleanup(self) {
        use sqlx::Connection;
        if let Some(name) = &self.pg_name
            && let Ok(mut conn) = sqlx::PgConnection::connect(&pg_admin_url()).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        }
    }
}

/// The server running on a loopback port over a store.
pub struct TestServer {
    pub addr: SocketAddr,
    pub store: DynStore,
    pub http: reqwest::Client,
    /// The server's bound on each user's heavy requests, so a test can hold a user's turns.
    pub heavy: std::sync::Arc<server::heavy::HeavyGate>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    pub async fn start(store: DynStore, static_dir: Option<std::path::PathBuf>) -> Self {
        Self::start_paged(store, static_dir, server::api::sync::PAGE).await
    }

    /// A server whose sync answers hold at most `page` documents, so pulls take pages.
    pub async fn start_paged(
        store: DynStore,
        static_dir: Option<std::path::PathBuf>,
        page: usize,
    ) -> Self {
        // Tests sign in many times from one address: its throttle is wide open here
        // (tests/tests/edge.rs tests the real one).
        let sign_in = server::auth::throttle::SignIn::new(
            1_000_000,
            std::time::Duration::from_millis(1),
            Default::default(),
        );
        Self::start_with(store, static_dir, page, sign_in, Default::default()).await
    }

    /// A server with the given sign-in throttle and HTTP edge, served by the production
    /// connection loop (`server::edge::serve`).
    pub async fn start_with(
        store: DynStore,
        static_dir: Option<std::path::PathBuf>,
        page: usize,
        sign_in: server::auth::throttle::SignIn,
        edge: server::edge::Edge,
    ) -> Self {
        let mut state = AppState::new(store.clone(), b"test-secret-of-at-least-32-bytes!");
        state.hub = std::sync::Arc::new(shared::core::Hub {
            page,
            ..(*state.hub).clone()
        });
        state.sign_in = std::sync::Arc::new(sign_in);
        state.metrics_token = Some(METRICS_TOKEN.into());
        let heavy = state.heavy.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            server::edge::serve(
                listener,
                server::app_with(state, static_dir, edge),
                edge,
                std::future::pending(),
            )
            .await
            .expect("serve");
        });
        TestServer {
            addr,
            store,
            http: reqwest::Client::new(),
            heavy,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A `GET` of `path` with `token`, answered 200, as JSON.
    pub async fn get_json(&self, token: &str, path: &str) -> serde_json::Value {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET request");
        assert_eq!(r.status(), 200, "{path}");
        r.json().await.expect("JSON body")
    }

    /// Signs a fixture user in and returns the access token.
    pub async fn login(&self, username: &str, device: &str) -> String {
        self.login_with(username, fixture::PASSWORD, device).await
    }

    /// Signs in with `password` (the demo commune's, for instance) and returns the token.
    pub async fn login_with(&self, username: &str, password: &str, device: &str) -> String {
        let r = self
            .http
            .post(self.url("/api/auth/login"))
            .json(&serde_json::json!({"username": username, "password": password, "device_id": device}))
            .send()
            .await
            .expect("login request");
        assert_eq!(r.status(), 200, "login of {username}");
        let v: serde_json::Value = r.json().await.expect("login body");
        v["access_token"].as_str().expect("token").to_string()
    }

    /// One sync exchange of `dev` as the signed-in user of `token`.
    pub async fn exchange(
        &self,
        token: &str,
        dev: &mut shared::sync::Device,
    ) -> shared::sync::SyncResponse {
        let req = dev.request();
        let r = self
            .http
            .post(self.url("/api/sync"))
            .bearer_auth(token)
            .json(&req)
            .send()
            .await
            .expect("sync request");
        assert_eq!(r.status(), 200, "sync answered {}", r.status());
        let resp: shared::sync::SyncResponse = r.json().await.expect("sync body");
        dev.receive(&resp).expect("sync answer applies");
        resp
    }

    /// Syncs `dev` until nothing moves, within `rounds` exchanges; returns how many it took.
    pub async fn settle(
        &self,
        token: &str,
        dev: &mut shared::sync::Device,
        rounds: usize,
    ) -> usize {
        for n in 1..=rounds {
            let before = dev.request();
            let resp = self.exchange(token, dev).await;
            if before.pushes.is_empty()
                && before.want.is_empty()
                && resp.docs.is_empty()
                && !resp.more
                && resp.scope.is_none()
            {
                return n;
            }
        }
        panic!("sync did not settle in {rounds} exchanges");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Generates one `#[tokio::test]` per backend for each listed async test function taking a
/// `Backend`, grouped as `sqlite::name` and `postgres::name` so the output shows both ran.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await;
                }
            )*
        }
    };
}

/// Household writes in tests go through the write core, as the server's REST writes do,
/// written by the commune officer `u-officer1` on device `laptop-1`.
pub mod write {
    use server::store::{DynStore, StoreError};
    use shared::core::{EditError, Hub, Writer};
    use shared::doc::{Author, DocError, HouseholdDoc};
    use std::sync::Arc;

    fn officer() -> Writer {
        Writer {
            user_id: "u-officer1".into(),
            device_id: "laptop-1".into(),
            role: shared::user::Role::CommuneOfficer,
            now_ms: chrono::Utc::now().timestamp_millis(),
            decision: false,
            door: shared::doc::Door::Console,
        }
    }

    fn hub() -> Hub {
        Hub::new(Arc::new(shared::rules::RuleBook::built_in()))
    }

    /// Registers a household with this profile.
    pub async fn create(
        store: &DynStore,
        id: &str,
        profile: serde_json::Value,
    ) -> Result<(), EditError<StoreError>> {
        let db = server::write::DbStorage::new(store.clone());
        let audit = serde_json::json!({ "action": "create", "entity": "household", "entity_id": id, "changes": {} });
        hub()
            .create(&db, &officer(), None, id, audit, |doc, a| {
                doc.put_all(&profile, std::iter::empty(), a)
            })
            .await
    }

    /// Edits a household's document (made from its read-model rows first if it has none).
    pub async fn edit(
        store: &DynStore,
        id: &str,
        audit: serde_json::Value,
        edit: impl Fn(&mut HouseholdDoc, &Author) -> Result<(), DocError>,
    ) -> Result<(), EditError<StoreError>> {
        let db = server::write::DbStorage::new(store.clone());
        if store
            .docs()
            .doc_seq(id)
            .await
            .map_err(EditError::Storage)?
            .is_none()
        {
            let household = store.get_household(id).await.map_err(EditError::Storage)?;
            let records = shared::projection::Records {
                household,
                members: store.list_members(id).await.map_err(EditError::Storage)?,
                assessments: store
                    .list_assessments(id)
                    .await
                    .map_err(EditError::Storage)?,
                visits: store.list_visits(id).await.map_err(EditError::Storage)?,
                support: store.list_support(id).await.map_err(EditError::Storage)?,
                plan: vec![],
                review_steps: store
                    .list_review_steps(id)
                    .await
                    .map_err(EditError::Storage)?,
            };
            // As the server builds a document from its read model (`ensure_docs`): its
            // own write, with the records as the register holds them.
            hub()
                .create(
                    &db,
                    &Writer::server(chrono::Utc::now().timestamp_millis()),
                    None,
                    id,
                    serde_json::json!({}),
                    |doc, a| shared::projection::put_records(doc, &records, a),
                )
                .await?;
        }
        hub().edit(&db, &officer(), None, id, audit, edit).await
    }
}
