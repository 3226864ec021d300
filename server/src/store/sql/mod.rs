//! The SQL behind `Store`, written once for SQLite and PostgreSQL: `SqlStore<DB>` is
//! generic over the sqlx database, each concern of the register in its own module. Both
//! databases accept `$n` placeholders and the same schema (`migrations/*/`), so only
//! connecting and beginning a write differ (`Backend`). The household documents are a
//! concern apart (`super::docs`), written only by the write core.

mod audit;
mod codes;
mod import;
mod ledger;
mod read_model;
mod refused;
mod register;
mod report_parts;
mod sessions;

pub(super) use audit::insert_audit;

use super::*;
use serde::de::DeserializeOwned;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

/// What differs between the two databases.
pub trait Backend: sqlx::Database {
    /// `sqlite` or `postgres`, for logs and test names.
    const BACKEND: &'static str;
    /// How a write transaction begins.
    const BEGIN: &'static str;
    /// The household documents' persistence on this database.
    type Docs: Docs;
    /// Values a bulk load binds to one statement (`import.rs`): many to save round trips
    /// to PostgreSQL; few on SQLite, in the process, where binding a `$n` parameter looks
    /// its name up among the statement's (quadratic in the values of a statement).
    const VALUES_PER_STATEMENT: usize;
    /// Rows an `UPDATE` or `DELETE` changed (sqlx has no trait for it).
    fn rows_affected(r: &Self::QueryResult) -> u64;
    /// The first statement of a read transaction whose statements read one snapshot, when
    /// `BEGIN` alone does not give it.
    const READ_SNAPSHOT: Option<&'static str>;
}

impl Backend for sqlx::Sqlite {
    const BACKEND: &'static str = "sqlite";
    // SQLite takes the write lock at BEGIN IMMEDIATE, so a transaction that reads then
    // writes waits for another writer instead of failing when it upgrades its lock.
    const BEGIN: &'static str = "BEGIN IMMEDIATE";
    type Docs = super::docs::SqliteDocs;
    const VALUES_PER_STATEMENT: usize = 120;
    // A read transaction reads the database as of its first read (WAL).
    const READ_SNAPSHOT: Option<&'static str> = None;
    fn rows_affected(r: &Self::QueryResult) -> u64 {
        r.rows_affected()
    }
}

impl Backend for sqlx::Postgres {
    const BACKEND: &'static str = "postgres";
    const BEGIN: &'static str = "BEGIN";
    type Docs = super::docs::PgDocs;
    const VALUES_PER_STATEMENT: usize = 4_000;
    // `READ COMMITTED` (the default) takes a snapshot for each statement.
    const READ_SNAPSHOT: Option<&'static str> =
        Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    fn rows_affected(r: &Self::QueryResult) -> u64 {
        r.rows_affected()
    }
}

/// A Rust value bound into and read from a column of `DB`. The register's impls state
/// what they need of a database as bounds like `String: Column<DB>` (a trait's own
/// where-clause is not implied where it is used, so each impl repeats them; SQLite and
/// PostgreSQL meet them all).
pub trait Column<DB: sqlx::Database>:
    for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>
{
}

impl<DB: sqlx::Database, T> Column<DB> for T where
    T: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>
{
}

/// `Store` on one database.
pub struct SqlStore<DB: Backend> {
    pool: sqlx::Pool<DB>,
    /// SQLite has one writer at a time: writers of this process queue here, in order,
    /// instead of polling the database lock in SQLite's busy handler (which sleeps and
    /// leaves the lock idle). `None` on PostgreSQL.
    write_turn: Option<Arc<tokio::sync::Mutex<()>>>,
    /// The household documents (see `super::docs`).
    docs: DB::Docs,
    /// Sessions looked up in the last seconds (see `sessions::SESSION_KEPT`).
    sessions: sessions::KeptSessions,
}

pub type SqliteStore = SqlStore<sqlx::Sqlite>;
pub type PostgresStore = SqlStore<sqlx::Postgres>;

/// A write transaction, holding this process's write turn where the database has one.
struct WriteTx<DB: sqlx::Database> {
    tx: sqlx::Transaction<'static, DB>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl<DB: sqlx::Database> std::ops::Deref for WriteTx<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.tx
    }
}

impl<DB: sqlx::Database> std::ops::DerefMut for WriteTx<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }
}

impl<DB: sqlx::Database> WriteTx<DB> {
    async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl<DB: Backend> SqlStore<DB> {
    pub fn pool(&self) -> &sqlx::Pool<DB> {
        &self.pool
    }

    async fn begin_write(&self) -> StoreResult<WriteTx<DB>> {
        let turn = match &self.write_turn {
            Some(m) => Some(m.clone().lock_owned().await),
            None => None,
        };
        Ok(WriteTx {
            tx: self.pool.begin_with(DB::BEGIN).await?,
            _turn: turn,
        })
    }
}

#[async_trait]
impl<DB: Backend> Store for SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    String: Column<DB>,
    Option<String>: Column<DB>,
    i64: Column<DB>,
    Option<i64>: Column<DB>,
    bool: Column<DB>,
    Vec<u8>: Column<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'s> &'s str: ColumnIndex<DB::Row>,
{
    fn backend(&self) -> &'static str {
        DB::BACKEND
    }

    fn docs(&self) -> &dyn Docs {
        &self.docs
    }

    async fn import(&self, actor: &Actor, data: &Import) -> StoreResult<()> {
        self.import_commune(actor, data).await
    }

    async fn analyze(&self) -> StoreResult<()> {
        // PostgreSQL samples each table; SQLite reads every index unless told to sample
        // (`analysis_limit`, rows per index), which keeps a province's ANALYZE in bounds.
        if DB::BACKEND == "sqlite" {
            sqlx::raw_sql("PRAGMA analysis_limit = 1000; ANALYZE;")
                .execute(&self.pool)
                .await?;
            return Ok(());
        }
        // The villages' kept counts are updated once for every household a bulk load
        // writes: a province's load leaves their 28,783 rows scattered over 8,371 pages,
        // which the overview read through (30–45 ms). Rewritten whole (302 pages; 0.13 s
        // under a moment's exclusive lock of that table), the overview at 100 communes
        // went 46 → 24 ms. (`VACUUM` runs alone, outside a transaction.) A server writing
        // to the same database meanwhile holds the table: the rewrite waits at most a
        // moment for it and is otherwise left for another time — never queued ahead of the
        // server's writes.
        let mut conn = self.pool.acquire().await?;
        sqlx::raw_sql("SET lock_timeout = '1s'")
            .execute(&mut *conn)
            .await?;
        if let Err(e) = sqlx::raw_sql("VACUUM FULL village_status_counts")
            .execute(&mut *conn)
            .await
        {
            tracing::warn!(error = %e, "the villages' kept counts were not rewritten");
        }
        sqlx::raw_sql("RESET lock_timeout")
            .execute(&mut *conn)
            .await?;
        drop(conn);
        // Vacuumed as well: a bulk load's pages are then marked visible to all, and the
        // reports' index-only reads (migration 0023) need not visit the tables.
        sqlx::raw_sql("VACUUM (ANALYZE)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    fn pool_use(&self) -> (u32, usize) {
        let idle = self.pool.num_idle();
        (self.pool.size().saturating_sub(idle as u32), idle)
    }

    async fn queue_sizes(&self) -> StoreResult<(i64, i64)> {
        let row: (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM quarantine WHERE decided_at IS NULL), \
                    (SELECT COUNT(*) FROM conflicts WHERE resolved_at IS NULL)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row)
    }
}

impl SqliteStore {
    /// Opens (creating if needed) a SQLite file in WAL mode and migrates it.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with_budget(url, STATEMENT_BUDGET).await
    }

    /// As `connect`, with `budget` for each use of a pooled connection (tests use a short
    /// one to see a runaway statement stopped).
    pub async fn connect_with_budget(url: &str, budget: std::time::Duration) -> StoreResult<Self> {
        use sqlx::sqlite::{
            SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
        };
        use std::str::FromStr;
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL is durable across application crashes; FULL also across
            // power loss, which is what an acknowledged field record deserves.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(10));
        let file = opts.get_filename().to_path_buf();
        // Migrations run on a connection of their own, without the statement budget: a
        // migration of a large register may rightly take longer than any request.
        {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
            sqlx::migrate!("../migrations/sqlite")
                .run(&mut conn)
                .await
                .map_err(sqlx::Error::from)?;
            SqliteStore::fill_code_keys(&mut conn).await?;
            SqliteStore::fill_ledger(&mut conn).await?;
            conn.close().await?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_time_level(crate::metrics::ACQUIRE_EVENTS)
            .after_connect(move |conn, _| Box::pin(sqlite_budget(conn, budget)))
            .before_acquire(move |conn, _| {
                Box::pin(async move { sqlite_budget(conn, budget).await.map(|()| true) })
            })
            .connect_with(opts)
            .await?;
        let turn = Arc::new(tokio::sync::Mutex::new(()));
        Ok(Self {
            pool,
            docs: super::docs::SqliteDocs::open(&file, turn.clone())?,
            write_turn: Some(turn),
            sessions: sessions::KeptSessions::new(),
        })
    }
}

/// How long one use of a pooled connection may run its statements (SQLite) or one
/// statement may run (PostgreSQL) before the database stops it: longer than any honest
/// request needs, shorter than the handler's own time limit, so a query no request waits
/// for any more cannot go on holding its connection.
pub const STATEMENT_BUDGET: std::time::Duration = std::time::Duration::from_secs(30);

/// Gives a pooled SQLite connection a fresh budget for the use it is taken for: SQLite
/// calls the progress handler every few thousand instructions of a running statement,
/// and interrupts the statement once it answers `false`.
async fn sqlite_budget(
    conn: &mut sqlx::SqliteConnection,
    budget: std::time::Duration,
) -> Result<(), sqlx::Error> {
    let deadline = std::time::Instant::now() + budget;
    conn.lock_handle()
        .await?
        .set_progress_handler(10_000, move || std::time::Instant::now() < deadline);
    Ok(())
}

impl PostgresStore {
    /// Connects to PostgreSQL and migrates it.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with_budget(url, STATEMENT_BUDGET).await
    }

    /// As `connect`, with `budget` as every pooled connection's statement timeout.
    pub async fn connect_with_budget(url: &str, budget: std::time::Duration) -> StoreResult<Self> {
        use sqlx::ConnectOptions;
        use std::str::FromStr;
        let opts = sqlx::postgres::PgConnectOptions::from_str(url)?;
        // Migrations on a connection of their own, without the statement timeout.
        {
            use sqlx::Connection;
            let mut conn = opts.connect().await?;
            sqlx::migrate!("../migrations/postgres")
                .run(&mut conn)
                .await
                .map_err(sqlx::Error::from)?;
            PostgresStore::fill_code_keys(&mut conn).await?;
            PostgresStore::fill_ledger(&mut conn).await?;
            conn.close().await?;
        }
        let timeout = format!("{}ms", budget.as_millis());
        // A commune's reads go from its households to their rows by index (steps,
        // assessments, movements). With PostgreSQL's default random_page_cost (4, set for
        // spinning disks) the planner reads the whole province's table instead once the
        // province is large, so a commune's campaign grew with the province; 1.1 is the
        // cost of a random read on the solid-state disks and page cache a server has.
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(16)
            .acquire_time_level(crate::metrics::ACQUIRE_EVENTS)
            .connect_with(opts.options([
                ("statement_timeout", timeout.as_str()),
                ("random_page_cost", "1.1"),
            ]))
            .await?;
        Ok(Self {
            docs: super::docs::PgDocs::new(pool.clone()),
            pool,
            write_turn: None,
            sessions: sessions::KeptSessions::new(),
        })
    }
}

/// An enum's serde name, e.g. `Residence::Rural` → `rural`.
pub(super) fn name_of<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        other => unreachable!("unit enum serialises to a string, got {other:?}"),
    }
}

fn from_name<T: DeserializeOwned>(s: &str) -> StoreResult<T> {
    Ok(serde_json::from_value(serde_json::Value::String(
        s.to_string(),
    ))?)
}

pub(super) fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("records serialise to JSON")
}

fn date(s: &str) -> StoreResult<NaiveDate> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("date {s}")))
}

pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// What household search matches: code, head and address, folded (see `shared::search`).
pub(super) fn search_text(h: &Household) -> String {
    shared::search::fold(&format!("{} {} {}", h.code, h.head_name, h.address))
}

/// The fields that differ between two versions of a record: `{field: [before, after]}`.
fn diff<T: Serialize>(before: &T, after: &T) -> serde_json::Value {
    let (b, a) = (
        serde_json::to_value(before).unwrap_or_default(),
        serde_json::to_value(after).unwrap_or_default(),
    );
    match (b, a) {
        (serde_json::Value::Object(b), serde_json::Value::Object(a)) => {
            let mut out = serde_json::Map::new();
            for (k, av) in &a {
                let bv = b.get(k).cloned().unwrap_or(serde_json::Value::Null);
                if &bv != av {
                    out.insert(k.clone(), serde_json::json!([bv, av]));
                }
            }
            serde_json::Value::Object(out)
        }
        (b, a) => serde_json::json!([b, a]),
    }
}

fn created<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::json!({ "created": v })
}

/// ` AND {table}.commune_id IN (…)` or ` AND {table}.village_id IN (…)`; `false` when
/// nothing can match.
fn push_within<DB: sqlx::Database>(
    qb: &mut sqlx::QueryBuilder<DB>,
    table: &str,
    within: &Within,
) -> bool
where
    String: Column<DB>,
{
    let (col, ids) = match within {
        Within::Everywhere => return true,
        Within::Communes(ids) => ("commune_id", ids),
        Within::Villages(ids) => ("village_id", ids),
    };
    if ids.is_empty() {
        return false;
    }
    qb.push(format!(" AND {table}.{col}"));
    push_in(qb, ids);
    true
}

/// `SELECT select FROM table alias` within an area, `WHERE` begun: a commune's rows by the
/// table's own commune key, a village's through its households; `None` when nothing can
/// match.
fn rows_within<DB: sqlx::Database>(
    select: &str,
    table: &str,
    alias: &str,
    within: &Within,
) -> Option<sqlx::QueryBuilder<DB>>
where
    String: Column<DB>,
{
    let (join, on) = match within {
        Within::Villages(_) => (
            format!(" JOIN households h ON h.id = {alias}.household_id"),
            "h",
        ),
        _ => (String::new(), alias),
    };
    let mut qb = sqlx::QueryBuilder::<DB>::new(format!(
        "SELECT {select} FROM {table} {alias}{join} WHERE 1 = 1"
    ));
    push_within(&mut qb, on, within).then_some(qb)
}

/// Sorts a commune's rows by their day and id. Thousands of rows are sorted here rather
/// than by the database: PostgreSQL 15 sorted a commune's 8,438 movements in 10–14 ms (its
/// libc collation compares through the C library), against 4 ms to read them unsorted.
/// Ids compare byte by byte, as SQLite's `ORDER BY` would.
fn in_order<T, D: Ord>(rows: &mut [T], key: impl Fn(&T) -> (D, &str)) {
    rows.sort_unstable_by(|a, b| key(a).cmp(&key(b)));
}

/// Appends `IN ($n, …)` over `ids` to a query.
fn push_in<DB: sqlx::Database>(qb: &mut sqlx::QueryBuilder<DB>, ids: &[String])
where
    String: Column<DB>,
{
    qb.push(" IN (");
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(id.clone());
    }
    qb.push(")");
}
