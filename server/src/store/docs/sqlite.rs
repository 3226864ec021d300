//! Household documents on SQLite, through rusqlite on threads of their own: one writer
//! connection that commits each group of writes in one transaction, and two reader
//! connections for sync's queries. A request waits for its answer on a channel; the
//! statements of a whole group run on the writer's thread without a hop each.
//!
//! Writers of this process take the same write turn as the register's writers
//! (`SqliteStore`), so they queue in order instead of polling SQLite's lock.

use super::{
    BoundActors, Changed, Docs, FOLLOW_HOUSEHOLD, INSERT_ASSESSMENT, INSERT_MOVEMENT, INSERT_VISIT,
    Published, TOUCH_HOUSEHOLD, UPSERT_HOUSEHOLD, UPSERT_SUPPORT, audit_of, follows, inside,
    movements_of, numbered, recorder,
};
use crate::store::sql::{json, name_of, now_ms, search_text};
use crate::store::{Actor, DocWrite, StoreError, StoreResult, StoredDoc};
use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::path::Path;
use std::sync::Arc;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;
use shared::doc::{Collection, Touched};

/// Reader connections (sync's queries are short; two keep one long pull from holding up
/// every other device).
const READERS: usize = 2;

pub struct SqliteDocs {
    writer: flume::Sender<Job>,
    readers: flume::Sender<Job>,
    turn: Arc<tokio::sync::Mutex<()>>,
    bound: Arc<BoundActors>,
}

impl std::fmt::Debug for SqliteDocs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDocs").finish_non_exhaustive()
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi;
        match &e {
            rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
            rusqlite::Error::SqliteFailure(f, msg) => {
                let detail = msg.clone().unwrap_or_else(|| f.to_string());
                match f.extended_code {
                    ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                        StoreError::Duplicate(detail)
                    }
                    ffi::SQLITE_CONSTRAINT_FOREIGNKEY => StoreError::BadReference(detail),
                    _ => StoreError::Sqlite(e),
                }
            }
            _ => StoreError::Sqlite(e),
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Corrupt("the document store's connection stopped".into())
}

/// Opens `count` connections to `path`, each on its own thread, taking jobs from one queue.
fn spawn(path: &Path, count: usize, name: &str) -> StoreResult<flume::Sender<Job>> {
    let (tx, rx) = flume::unbounded::<Job>();
    for i in 0..count {
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // As the register's connections: WAL (set when the file was created), durable
        // across power loss before a write is acknowledged, references checked.
        // Pages are read through a memory map instead of copied from the file: a
        // connection's page cache is dropped whenever another connection wrote, which
        // during sync is nearly every time it reads.
        // The log is copied into the database file (checkpointed) once it holds 10,000
        // pages rather than SQLite's 1,000: the same hot pages (the counter, the last
        // pages of the logs, the households being visited) are written many times over,
        // and a longer log copies each of them once.
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
             PRAGMA mmap_size = 268435456; PRAGMA wal_autocheckpoint = 10000; \
             PRAGMA journal_size_limit = 67108864;",
        )?;
        conn.set_prepared_statement_cache_capacity(64);
        let rx = rx.clone();
        std::thread::Builder::new()
            .name(format!("{name}-{i}"))
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    let ran =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut conn)));
                    // A job that panicked answers nobody (its caller sees the connection
                    // stop); a transaction it left open is rolled back.
                    if ran.is_err() && !conn.is_autocommit() {
                        let _ = conn.execute_batch("ROLLBACK");
                    }
                }
            })
            .map_err(|e| StoreError::Corrupt(format!("thread: {e}")))?;
    }
    Ok(tx)
}

impl SqliteDocs {
    /// Opens the documents of the (already migrated) SQLite file at `path`; `turn` is the
    /// write turn this process's other writers take.
    pub fn open(path: &Path, turn: Arc<tokio::sync::Mutex<()>>) -> StoreResult<Self> {
        Ok(SqliteDocs {
            writer: spawn(path, 1, "docs-writer")?,
            readers: spawn(path, READERS, "docs-reader")?,
            turn,
            bound: Arc::new(BoundActors::new()),
        })
    }

    async fn run<T: Send + 'static>(
        queue: &flume::Sender<Job>,
        f: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        queue
            .send(Box::new(move |c| {
                let _ = tx.send(f(c));
            }))
            .map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        Self::run(&self.readers, f).await
    }

    /// Runs `f` in a write transaction, in this process's write turn.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let _turn = self.turn.clone().lock_owned().await;
        Self::run(&self.writer, move |c| {
            c.execute_batch("BEGIN IMMEDIATE")?;
            let result = f(c).and_then(|v| {
                c.execute_batch("COMMIT")?;
                Ok(v)
            });
            if result.is_err() && !c.is_autocommit() {
                let _ = c.execute_batch("ROLLBACK");
            }
            result
        })
        .await
    }
}

fn ids_sql(n: usize, from: usize) -> String {
    (0..n)
        .map(|i| format!("?{}", i + from))
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait]
impl Docs for SqliteDocs {
    async fn load_doc(&self, id: &str) -> StoreResult<Option<StoredDoc>> {
        let id = id.to_string();
        self.read(move |c| {
            // One statement, so the snapshot and the changes after it are read from the
            // same state even while the writer compacts the document.
            let mut st = c.prepare_cached(
                "SELECT d.snapshot, d.heads, d.seq, c.bytes FROM docs d \
                 LEFT JOIN doc_changes c ON c.doc_id = d.doc_id AND c.seq > d.snapshot_seq \
                 WHERE d.doc_id = ?1 ORDER BY c.seq",
            )?;
            let mut rows = st.query(params![id])?;
            let mut found: Option<StoredDoc> = None;
            while let Some(r) = rows.next()? {
                let doc = match &mut found {
                    Some(d) => d,
                    None => {
                        let snapshot: Option<Vec<u8>> = r.get(0)?;
                        let heads: String = r.get(1)?;
                        found.insert(StoredDoc {
                            chunks: snapshot.into_iter().collect(),
                            heads: serde_json::from_str(&heads)?,
                            seq: r.get(2)?,
                        })
                    }
                };
                if let Some(bytes) = r.get::<_, Option<Vec<u8>>>(3)? {
                    doc.chunks.push(bytes);
                }
            }
            Ok(found)
        })
        .await
    }

    async fn commit_docs_then(
        &self,
        writes: Vec<(Actor, DocWrite)>,
        published: Published,
    ) -> StoreResult<Vec<StoreResult<i64>>> {
        let _turn = self.turn.clone().lock_owned().await;
        let bound = self.bound.clone();
        Self::run(&self.writer, move |c| {
            // Almost every group commits whole: written without savepoints, whose page
            // journal costs more than the writes. When one write fails, the group is
            // rolled back and written again, each write in its own savepoint, so the
            // failure leaves the others.
            c.execute_batch("BEGIN IMMEDIATE")?;
            let whole: StoreResult<Vec<StoreResult<i64>>> = writes
                .iter()
                .map(|(actor, w)| write_doc(c, actor, w, &bound).map(Ok))
                .collect();
            if let Ok(results) = whole {
                match c.execute_batch("COMMIT") {
                    Ok(()) => {
                        bound.committed(&writes, &results);
                        published(&results);
                        return Ok(results);
                    }
                    Err(e) => {
                        let _ = c.execute_batch("ROLLBACK");
                        return Err(e.into());
                    }
                }
            }
            c.execute_batch("ROLLBACK; BEGIN IMMEDIATE")?;
            let mut results = Vec::with_capacity(writes.len());
            for (actor, w) in &writes {
                c.prepare_cached("SAVEPOINT write")?.execute([])?;
                match write_doc(c, actor, w, &bound) {
                    Ok(seq) => {
                        c.prepare_cached("RELEASE write")?.execute([])?;
                        results.push(Ok(seq));
                    }
                    Err(e) => {
                        c.prepare_cached("ROLLBACK TO write")?.execute([])?;
                        c.prepare_cached("RELEASE write")?.execute([])?;
                        results.push(Err(e));
                    }
                }
            }
            if let Err(e) = c.execute_batch("COMMIT") {
                let _ = c.execute_batch("ROLLBACK");
                return Err(e.into());
            }
            bound.committed(&writes, &results);
            published(&results);
            Ok(results)
        })
        .await
    }

    async fn load_docs(&self, ids: &[String]) -> StoreResult<Vec<(String, StoredDoc)>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let ids = ids.to_vec();
        self.read(move |c| {
            let sql = format!(
                "SELECT d.doc_id, d.snapshot, d.heads, d.seq, c.bytes FROM docs d \
                 LEFT JOIN doc_changes c ON c.doc_id = d.doc_id AND c.seq > d.snapshot_seq \
                 WHERE d.doc_id IN ({}) ORDER BY d.doc_id, c.seq",
                ids_sql(ids.len(), 1)
            );
            let mut st = c.prepare(&sql)?;
            let mut rows = st.query(rusqlite::params_from_iter(ids.iter()))?;
            let mut out: Vec<(String, StoredDoc)> = Vec::new();
            while let Some(r) = rows.next()? {
                let id: String = r.get(0)?;
                if out.last().is_none_or(|(last, _)| *last != id) {
                    let snapshot: Option<Vec<u8>> = r.get(1)?;
                    let heads: String = r.get(2)?;
                    out.push((
                        id,
                        StoredDoc {
                            chunks: snapshot.into_iter().collect(),
                            heads: serde_json::from_str(&heads)?,
                            seq: r.get(3)?,
                        },
                    ));
                }
                if let (Some(b), Some((_, doc))) = (r.get::<_, Option<Vec<u8>>>(4)?, out.last_mut())
                {
                    doc.chunks.push(b);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn doc_seq(&self, id: &str) -> StoreResult<Option<i64>> {
        let id = id.to_string();
        self.read(move |c| {
            Ok(c.prepare_cached("SELECT seq FROM docs WHERE doc_id = ?1")?
                .query_row(params![id], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    async fn docs_since(&self, cursor: i64, ids: &[String], limit: i64) -> StoreResult<Changed> {
        let ids = ids.to_vec();
        self.read(move |c| {
            // Read first: every write numbered up to it is committed, so visible below.
            let seq = current_seq(c)?;
            if ids.is_empty() {
                return Ok(Changed { seq, docs: vec![] });
            }
            let sql = format!(
                "SELECT doc_id, seq FROM docs WHERE seq > ?1 AND doc_id IN ({}) \
                 ORDER BY seq, doc_id LIMIT ?2",
                ids_sql(ids.len(), 3)
            );
            let mut st = c.prepare_cached(&sql)?;
            let mut values: Vec<&dyn rusqlite::ToSql> = vec![&cursor, &limit];
            values.extend(ids.iter().map(|i| i as &dyn rusqlite::ToSql));
            let docs = st
                .query_map(values.as_slice(), |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Changed { seq, docs })
        })
        .await
    }

    async fn written_after(&self, after: i64) -> StoreResult<Changed> {
        self.read(move |c| {
            // Read first: every write numbered up to it is committed, so visible below.
            let seq = current_seq(c)?;
            let docs = c
                .prepare_cached("SELECT doc_id, seq FROM docs WHERE seq > ?1 ORDER BY seq")?
                .query_map(params![after], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Changed { seq, docs })
        })
        .await
    }

    async fn heads_at(
        &self,
        doc_ids: &[String],
        seq: i64,
    ) -> StoreResult<Vec<(String, Vec<String>)>> {
        if doc_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = doc_ids.to_vec();
        self.read(move |c| {
            let sql = format!(
                "SELECT h.doc_id, h.heads FROM doc_history h JOIN \
                 (SELECT doc_id, MAX(seq) AS at FROM doc_history WHERE seq <= ?1 AND doc_id IN ({}) \
                 GROUP BY doc_id) m ON h.doc_id = m.doc_id AND h.seq = m.at",
                ids_sql(ids.len(), 2)
            );
            let mut st = c.prepare_cached(&sql)?;
            let mut values: Vec<&dyn rusqlite::ToSql> = vec![&seq];
            values.extend(ids.iter().map(|i| i as &dyn rusqlite::ToSql));
            let rows = st
                .query_map(values.as_slice(), |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(id, h)| Ok((id, serde_json::from_str(&h)?)))
                .collect()
        })
        .await
    }

    async fn current_seq(&self) -> StoreResult<i64> {
        self.read(|c| current_seq(c)).await
    }

    async fn doc_storage(&self) -> StoreResult<(i64, i64)> {
        self.read(|c| {
            let docs: i64 = c.query_row("SELECT COUNT(*) FROM docs", [], |r| r.get(0))?;
            let snap: Option<i64> =
                c.query_row("SELECT SUM(LENGTH(snapshot)) FROM docs", [], |r| r.get(0))?;
            let log: Option<i64> =
                c.query_row("SELECT SUM(LENGTH(bytes)) FROM doc_changes", [], |r| {
                    r.get(0)
                })?;
            Ok((docs, snap.unwrap_or(0) + log.unwrap_or(0)))
        })
        .await
    }

    async fn put_records(&self, r: &shared::projection::Records) -> StoreResult<()> {
        let r = r.clone();
        self.write(move |c| write_records(c, &r, None, "")).await
    }
}

fn current_seq(c: &Connection) -> StoreResult<i64> {
    Ok(
        c.prepare_cached("SELECT value FROM sync_counter WHERE id = 1")?
            .query_row([], |r| r.get(0))?,
    )
}

/// One document write: its change log, read model, conflicts, actor binding and audit
/// event, inside the caller's transaction.
fn write_doc(c: &Connection, actor: &Actor, w: &DocWrite, bound: &BoundActors) -> StoreResult<i64> {
    let seq: i64 = c
        .prepare_cached("UPDATE sync_counter SET value = value + 1 WHERE id = 1 RETURNING value")?
        .query_row([], |r| r.get(0))?;
    let heads = json(&w.heads);
    match w.expected_seq {
        Some(expected) => {
            let n = c
                .prepare_cached(
                    "UPDATE docs SET heads = ?2, seq = ?3 WHERE doc_id = ?1 AND seq = ?4",
                )?
                .execute(params![w.doc_id, heads, seq, expected])?;
            if n != 1 {
                return Err(StoreError::Stale);
            }
        }
        None => {
            // The household row must exist before its document refers to it.
            write_records(c, &w.records, None, recorder(actor))?;
            c.prepare_cached("INSERT INTO docs (doc_id, heads, seq) VALUES (?1, ?2, ?3)")?
                .execute(params![w.doc_id, heads, seq])?;
        }
    }
    match &w.compacted {
        Some(full) => {
            c.prepare_cached("UPDATE docs SET snapshot = ?2, snapshot_seq = ?3 WHERE doc_id = ?1")?
                .execute(params![w.doc_id, full, seq])?;
            c.prepare_cached("DELETE FROM doc_changes WHERE doc_id = ?1")?
                .execute(params![w.doc_id])?;
        }
        None => {
            c.prepare_cached("INSERT INTO doc_changes (doc_id, seq, bytes) VALUES (?1, ?2, ?3)")?
                .execute(params![w.doc_id, seq, w.changes])?;
        }
    }
    c.prepare_cached("INSERT INTO doc_history (doc_id, seq, heads) VALUES (?1, ?2, ?3)")?
        .execute(params![w.doc_id, seq, heads])?;
    if w.expected_seq.is_some() {
        write_records(c, &w.records, w.touched.as_ref(), recorder(actor))?;
    }
    bind_actors(c, actor, &w.actors, bound)?;
    sync_conflicts(c, actor, &w.doc_id, &w.conflicts, w.touched.as_ref())?;
    let (action, entity, entity_id, changes) = audit_of(w);
    c.prepare_cached(
        "INSERT INTO audit_events (id, at, user_id, device_id, action, entity, entity_id, changes) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        uuid::Uuid::now_v7().to_string(),
        now_ms(),
        actor.user_id,
        actor.device_id,
        action,
        entity,
        entity_id,
        changes.to_string()
    ])?;
    Ok(seq)
}

/// Writes a household's records as the read model keeps them: the household row, and of
/// the other records those `touched` names (all when `None`). A record id held by another
/// household is refused, never overwritten.
fn write_records(
    c: &Connection,
    r: &shared::projection::Records,
    touched: Option<&Touched>,
    recorded_by: &str,
) -> StoreResult<()> {
    let h = &r.household;
    let wants = |col: Collection, id: &str| {
        touched.is_none_or(|t| t.get(&col).is_some_and(|s| s.contains(id)))
    };
    for (table, collection, ids) in [
        (
            "members",
            Collection::Members,
            r.members.iter().map(|m| &m.id).collect::<Vec<_>>(),
        ),
        (
            "assessments",
            Collection::Assessments,
            r.assessments.iter().map(|a| &a.id).collect(),
        ),
        (
            "support_actions",
            Collection::Support,
            r.support.iter().map(|s| &s.id).collect(),
        ),
        (
            "plan_items",
            Collection::Plan,
            r.plan.iter().map(|p| &p.id).collect(),
        ),
        (
            "review_steps",
            Collection::ReviewSteps,
            r.review_steps.iter().map(|s| &s.id).collect(),
        ),
    ] {
        let mut st = c.prepare_cached(&format!(
            "SELECT id FROM {table} WHERE id = ?1 AND household_id <> ?2"
        ))?;
        for id in ids.into_iter().filter(|id| wants(collection, id)) {
            if let Some(taken) = st
                .query_row(params![id, h.id], |row| row.get::<_, String>(0))
                .optional()?
            {
                return Err(StoreError::Ownership(taken));
            }
        }
    }
    if touched.is_some_and(|t| !t.contains_key(&Collection::Profile)) {
        // The profile is as it was: only the time of the household's last change moves
        // (rewriting the row would rewrite every index on it), by `FOLLOW_HOUSEHOLD` below
        // when the write has visits or plan items.
        if !follows(touched) {
            c.prepare_cached(&numbered(TOUCH_HOUSEHOLD))?
                .execute(params![h.id, h.updated_at])?;
        }
    } else {
        c.prepare_cached(&numbered(UPSERT_HOUSEHOLD))?
            .execute(params![
                h.id,
                h.code,
                h.village_id,
                h.address,
                h.head_name,
                name_of(&h.residence),
                h.status.as_str(),
                json(&h.priority),
                json(&h.causes),
                h.created_at,
                h.updated_at,
                search_text(h),
                shared::household::code_key(&h.code)
            ])?;
    }
    if touched.is_none_or(|t| t.contains_key(&Collection::Members)) {
        c.prepare_cached("DELETE FROM members WHERE household_id = ?1")?
            .execute(params![h.id])?;
        let mut st = c.prepare_cached(
            "INSERT INTO members (id, household_id, position, data) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (position, m) in r.members.iter().enumerate() {
            st.execute(params![
                m.id,
                m.household_id,
                position as i64,
                json(&m.data)
            ])?;
        }
    }
    if touched.is_none_or(|t| t.contains_key(&Collection::Plan)) {
        c.prepare_cached("DELETE FROM plan_items WHERE household_id = ?1")?
            .execute(params![h.id])?;
        let mut st = c.prepare_cached(
            "INSERT INTO plan_items (id, household_id, status, due, data) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for p in &r.plan {
            st.execute(params![
                p.id,
                p.household_id,
                name_of(&p.status),
                p.data.due.to_string(),
                json(&p.data)
            ])?;
        }
    }
    let mut st = c.prepare_cached(&numbered(INSERT_ASSESSMENT))?;
    for a in r
        .assessments
        .iter()
        .filter(|a| wants(Collection::Assessments, &a.id))
    {
        st.execute(params![
            a.id,
            a.household_id,
            a.date.to_string(),
            a.explanation.rule_set_id,
            a.classification.as_str(),
            json(a)
        ])?;
    }
    let mut st = c.prepare_cached(&numbered(super::INSERT_REVIEW_STEP))?;
    for s in r
        .review_steps
        .iter()
        .filter(|s| wants(Collection::ReviewSteps, &s.id))
    {
        st.execute(params![
            s.id,
            s.household_id,
            s.review_id,
            s.data.kind(),
            s.date.to_string(),
            json(s)
        ])?;
    }
    let mut st = c.prepare_cached(&numbered(INSERT_VISIT))?;
    // A visit is never changed once recorded: one whose id is already recorded is checked
    // to be this household's (and left as it is), not looked for before each insert.
    for v in r.visits.iter().filter(|v| wants(Collection::Visits, &v.id)) {
        let inserted = st.execute(params![
            v.id,
            v.household_id,
            v.cadre_id,
            v.data.date.to_string(),
            json(&v.data)
        ])?;
        if inserted == 0 {
            let owner: String = c
                .prepare_cached("SELECT household_id FROM visits WHERE id = ?1")?
                .query_row(params![v.id], |row| row.get(0))?;
            if owner != h.id {
                return Err(StoreError::Ownership(v.id.clone()));
            }
        }
    }
    let mut st = c.prepare_cached(&numbered(UPSERT_SUPPORT))?;
    for s in r
        .support
        .iter()
        .filter(|s| wants(Collection::Support, &s.id))
    {
        st.execute(params![
            s.id,
            s.household_id,
            s.status.as_str(),
            s.delivered_date.map(|d| d.to_string()),
            s.data.planned_date.to_string(),
            json(&s.data)
        ])?;
    }
    if follows(touched) {
        // Numbered first: the JSON path's `$` is not a parameter.
        c.prepare_cached(
            &numbered(FOLLOW_HOUSEHOLD).replace("{next}", "json_extract(v.data, '$.next_visit')"),
        )?
        .execute(params![h.id, h.updated_at])?;
    }
    // A visit's write makes no movement: nothing is prepared for it.
    let movements = movements_of(r, touched);
    if movements.is_empty() {
        return Ok(());
    }
    let mut st = c.prepare_cached(&numbered(INSERT_MOVEMENT))?;
    for m in movements {
        if m.to.is_none() {
            c.prepare_cached(&numbered(super::SET_LEFT_ON))?
                .execute(params![m.date.to_string(), m.household_id])?;
        }
        st.execute(params![
            m.id,
            m.household_id,
            m.from.map(|f| f.as_str()),
            m.to.map(|t| t.as_str()),
            m.date.to_string(),
            json(&m.basis),
            if m.by.is_empty() { recorded_by } else { &m.by },
            now_ms()
        ])?;
    }
    Ok(())
}

/// Binds each automerge actor id to the device that first wrote with it.
fn bind_actors(
    c: &Connection,
    actor: &Actor,
    actors: &[String],
    bound: &BoundActors,
) -> StoreResult<()> {
    let (Some(user), Some(device)) = (&actor.user_id, &actor.device_id) else {
        return Ok(());
    };
    for a in actors
        .iter()
        .filter(|a| !bound.is_bound_to(a, user, device))
    {
        c.prepare_cached(
            "INSERT INTO device_actors (actor_id, user_id, device_id, first_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (actor_id) DO NOTHING",
        )?
        .execute(params![a, user, device, now_ms()])?;
        let owner: (String, String) = c
            .prepare_cached("SELECT user_id, device_id FROM device_actors WHERE actor_id = ?1")?
            .query_row(params![a], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if (&owner.0, &owner.1) != (user, device) {
            return Err(StoreError::ActorTaken(a.clone()));
        }
    }
    Ok(())
}

/// Opens, updates and closes the conflict records of a document to match its current
/// conflicts; with `touched`, only conflicts inside those records are compared (the
/// write found its conflicts there only).
fn sync_conflicts(
    c: &Connection,
    actor: &Actor,
    doc_id: &str,
    found: &[shared::doc::FieldConflict],
    touched: Option<&Touched>,
) -> StoreResult<()> {
    let now = now_ms();
    let open: Vec<(String, String)> = c
        .prepare_cached("SELECT id, path FROM conflicts WHERE doc_id = ?1 AND resolved_at IS NULL")?
        .query_map(params![doc_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for f in found {
        let path = json(&f.path);
        match open.iter().find(|(_, p)| *p == path) {
            Some((id, _)) => {
                c.prepare_cached("UPDATE conflicts SET candidates = ?2 WHERE id = ?1")?
                    .execute(params![id, json(&f.values)])?;
            }
            None => {
                c.prepare_cached(
                    "INSERT INTO conflicts (id, doc_id, path, candidates, opened_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    uuid::Uuid::now_v7().to_string(),
                    doc_id,
                    path,
                    json(&f.values),
                    now
                ])?;
            }
        }
    }
    for (id, path) in open.iter().filter(|(_, p)| inside(touched, p)) {
        if !found.iter().any(|f| json(&f.path) == *path) {
            c.prepare_cached(
                "UPDATE conflicts SET resolved_at = ?2, resolved_by = ?3 WHERE id = ?1",
            )?
            .execute(params![id, now, actor.user_id])?;
        }
    }
    Ok(())
}
