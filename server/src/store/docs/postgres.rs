//! Household documents on PostgreSQL, through sqlx on the register's pool (the SQL of
//! `sqlite.rs`, in PostgreSQL's dialect and sent over the network).

use super::{
    BoundActors, Changed, Docs, FOLLOW_HOUSEHOLD, INSERT_ASSESSMENT, INSERT_VISIT, Published,
    TOUCH_HOUSEHOLD, UPSERT_HOUSEHOLD, UPSERT_SUPPORT, audit_of, follows, inside, movements_of,
    recorder,
};
use crate::store::sql::{json, name_of, now_ms, search_text};
use crate::store::{Actor, DocWrite, PostgresStore, StoreError, StoreResult, StoredDoc};
use async_trait::async_trait;
use sqlx::{PgConnection, QueryBuilder};

/// Each write's result so far and the writes prepared (`PgDocs::prepare_group`).
type Prepared = (Vec<StoreResult<i64>>, Vec<usize>);

#[derive(Debug, Clone)]
pub struct PgDocs {
    pool: sqlx::PgPool,
    bound: std::sync::Arc<BoundActors>,
}

use shared::doc::{Collection, Touched};

impl PgDocs {
    pub fn new(pool: sqlx::PgPool) -> Self {
        PgDocs {
            pool,
            bound: std::sync::Arc::new(BoundActors::new()),
        }
    }

    /// Writes a household's records as the read model keeps them: the household row,
    /// and of the other records those `touched` names (all when `None`). A record id
    /// held by another household is refused, never overwritten.
    async fn write_records(
        conn: &mut PgConnection,
        r: &shared::projection::Records,
        touched: Option<&Touched>,
        recorded_by: &str,
    ) -> StoreResult<()> {
        let h = &r.household;
        let wants = |c: Collection, id: &str| {
            touched.is_none_or(|t| t.get(&c).is_some_and(|s| s.contains(id)))
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
            let ids: Vec<&String> = ids.into_iter().filter(|id| wants(collection, id)).collect();
            if ids.is_empty() {
                continue;
            }
            let mut qb = QueryBuilder::<sqlx::Postgres>::new(format!(
                "SELECT id FROM {table} WHERE household_id <> "
            ));
            qb.push_bind(h.id.clone());
            qb.push(" AND id IN (");
            let mut sep = qb.separated(", ");
            for id in ids {
                sep.push_bind(id.clone());
            }
            qb.push(") LIMIT 1");
            if let Some(taken) = qb
                .build_query_scalar::<String>()
                .fetch_optional(&mut *conn)
                .await?
            {
                return Err(StoreError::Ownership(taken));
            }
        }
        if touched.is_some_and(|t| !t.contains_key(&Collection::Profile)) {
            // The profile is as it was: only the time of the household's last change
            // moves (by `FOLLOW_HOUSEHOLD` below when the write has visits or plan items).
            if !follows(touched) {
                sqlx::query(TOUCH_HOUSEHOLD)
                    .bind(h.id.clone())
                    .bind(h.updated_at.clone())
                    .execute(&mut *conn)
                    .await?;
            }
        } else {
            sqlx::query(UPSERT_HOUSEHOLD)
                .bind(h.id.clone())
                .bind(h.code.clone())
                .bind(h.village_id.clone())
                .bind(h.address.clone())
                .bind(h.head_name.clone())
                .bind(name_of(&h.residence))
                .bind(h.status.as_str())
                .bind(json(&h.priority))
                .bind(json(&h.causes))
                .bind(h.created_at.clone())
                .bind(h.updated_at.clone())
                .bind(search_text(h))
                .bind(shared::household::code_key(&h.code))
                .execute(&mut *conn)
                .await?;
        }
        if touched.is_none_or(|t| t.contains_key(&Collection::Members)) {
            sqlx::query("DELETE FROM members WHERE household_id = $1")
                .bind(h.id.clone())
                .execute(&mut *conn)
                .await?;
            for m in &r.members {
                PostgresStore::insert_member(conn, m).await?;
            }
        }
        if touched.is_none_or(|t| t.contains_key(&Collection::Plan)) {
            sqlx::query("DELETE FROM plan_items WHERE household_id = $1")
                .bind(h.id.clone())
                .execute(&mut *conn)
                .await?;
            for p in &r.plan {
                PostgresStore::insert_plan_item(conn, p).await?;
            }
        }
        for a in r
            .assessments
            .iter()
            .filter(|a| wants(Collection::Assessments, &a.id))
        {
            sqlx::query(INSERT_ASSESSMENT)
                .bind(a.id.clone())
                .bind(a.household_id.clone())
                .bind(a.date.to_string())
                .bind(a.explanation.rule_set_id.clone())
                .bind(a.classification.as_str())
                .bind(json(a))
                .execute(&mut *conn)
                .await?;
        }
        for st in r
            .review_steps
            .iter()
            .filter(|s| wants(Collection::ReviewSteps, &s.id))
        {
            PostgresStore::insert_review_step(conn, st).await?;
        }
        // A visit is never changed once recorded: one whose id is already recorded is
        // checked to be this household's (and left as it is), not looked for before each
        // insert.
        for v in r.visits.iter().filter(|v| wants(Collection::Visits, &v.id)) {
            let inserted = sqlx::query(INSERT_VISIT)
                .bind(v.id.clone())
                .bind(v.household_id.clone())
                .bind(v.cadre_id.clone())
                .bind(v.data.date.to_string())
                .bind(json(&v.data))
                .execute(&mut *conn)
                .await?
                .rows_affected();
            if inserted == 0 {
                let owner: String =
                    sqlx::query_scalar("SELECT household_id FROM visits WHERE id = $1")
                        .bind(v.id.clone())
                        .fetch_one(&mut *conn)
                        .await?;
                if owner != h.id {
                    return Err(StoreError::Ownership(v.id.clone()));
                }
            }
        }
        for s in r
            .support
            .iter()
            .filter(|s| wants(Collection::Support, &s.id))
        {
            sqlx::query(UPSERT_SUPPORT)
                .bind(s.id.clone())
                .bind(s.household_id.clone())
                .bind(s.status.as_str())
                .bind(s.delivered_date.map(|d| d.to_string()))
                .bind(s.data.planned_date.to_string())
                .bind(json(&s.data))
                .execute(&mut *conn)
                .await?;
        }
        if follows(touched) {
            sqlx::query(sqlx::AssertSqlSafe(
                FOLLOW_HOUSEHOLD.replace("{next}", "v.data::json->>'next_visit'"),
            ))
            .bind(h.id.clone())
            .bind(h.updated_at.clone())
            .execute(&mut *conn)
            .await?;
        }
        PostgresStore::insert_movements(conn, movements_of(r, touched), recorded_by).await?;
        Ok(())
    }

    /// The first part of a write, before it is numbered: the document's row checked
    /// against the state the write was made from (and locked to the end of the
    /// transaction), its records, conflicts and audit (its actors are bound before, for
    /// the whole group: `bind_group_actors`). A new document's row is
    /// made with no number yet (`number_docs` gives it one before the commit; no other
    /// transaction sees it before).
    async fn prepare_doc(
        &self,
        conn: &mut PgConnection,
        actor: &Actor,
        w: &DocWrite,
    ) -> StoreResult<()> {
        let heads = json(&w.heads);
        // The document's open conflicts, read by the statement that checks it (a new one
        // has none).
        let mut open = vec![];
        match w.expected_seq {
            Some(expected) => {
                let rows: Vec<(Option<String>, Option<String>)> = sqlx::query_as(
                    "WITH d AS (UPDATE docs SET heads = $2 WHERE doc_id = $1 AND seq = $3 \
                     RETURNING doc_id) \
                     SELECT c.id, c.path FROM d \
                     LEFT JOIN conflicts c ON c.doc_id = d.doc_id AND c.resolved_at IS NULL",
                )
                .bind(w.doc_id.clone())
                .bind(heads)
                .bind(expected)
                .fetch_all(&mut *conn)
                .await?;
                if rows.is_empty() {
                    return Err(StoreError::Stale);
                }
                open = rows
                    .into_iter()
                    .filter_map(|(id, path)| Some((id?, path?)))
                    .collect();
            }
            None => {
                // The household row must exist before its document refers to it.
                Self::write_records(conn, &w.records, None, recorder(actor)).await?;
                sqlx::query("INSERT INTO docs (doc_id, heads, seq) VALUES ($1, $2, 0)")
                    .bind(w.doc_id.clone())
                    .bind(heads)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        if let Some(full) = &w.compacted {
            sqlx::query("UPDATE docs SET snapshot = $2 WHERE doc_id = $1")
                .bind(w.doc_id.clone())
                .bind(full.clone())
                .execute(&mut *conn)
                .await?;
            sqlx::query("DELETE FROM doc_changes WHERE doc_id = $1")
                .bind(w.doc_id.clone())
                .execute(&mut *conn)
                .await?;
        }
        if w.expected_seq.is_some() {
            Self::write_records(conn, &w.records, w.touched.as_ref(), recorder(actor)).await?;
        }
        Self::sync_conflicts(
            conn,
            actor,
            &w.doc_id,
            &open,
            &w.conflicts,
            w.touched.as_ref(),
        )
        .await?;
        let (action, entity, entity_id, changes) = audit_of(w);
        crate::store::sql::insert_audit::<sqlx::Postgres>(
            conn, actor, &action, &entity, &entity_id, changes,
        )
        .await?;
        Ok(())
    }

    /// The first part of each write of a group (`prepare_doc`), in the documents' order:
    /// two processes' groups lock the rows they write in the same order, so they wait for
    /// each other but never deadlock. Gives each write's failure (the others `Stale` until
    /// numbered) and the writes prepared; `None` when, without `savepoints`, a write failed
    /// after writing (the transaction must be undone).
    async fn prepare_group(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        writes: &[(Actor, DocWrite)],
        savepoints: bool,
    ) -> StoreResult<Option<Prepared>> {
        let mut order: Vec<usize> = (0..writes.len()).collect();
        order.sort_by(|&a, &b| writes[a].1.doc_id.cmp(&writes[b].1.doc_id));
        let mut results: Vec<StoreResult<i64>> = Vec::with_capacity(writes.len());
        results.resize_with(writes.len(), || Err(StoreError::Stale));
        let mut prepared: Vec<usize> = Vec::with_capacity(writes.len());
        let taken = self.bind_group_actors(&mut *tx, writes).await?;
        for i in order {
            let (actor, w) = &writes[i];
            if let Some(a) = &taken[i] {
                results[i] = Err(StoreError::ActorTaken(a.clone()));
                continue;
            }
            // A second write of a document in one group was made from the state before
            // the first: stale, as it would be after the first's commit.
            if prepared
                .last()
                .is_some_and(|&p| writes[p].1.doc_id == w.doc_id)
            {
                continue;
            }
            if !savepoints {
                match self.prepare_doc(&mut *tx, actor, w).await {
                    Ok(()) => prepared.push(i),
                    Err(StoreError::Stale) => {}
                    Err(_) => return Ok(None),
                }
                continue;
            }
            let mut sp = sqlx::Connection::begin(&mut **tx).await?;
            match self.prepare_doc(&mut sp, actor, w).await {
                Ok(()) => {
                    sp.commit().await?;
                    prepared.push(i);
                }
                Err(e) => {
                    sp.rollback().await?;
                    results[i] = Err(e);
                }
            }
        }
        Ok(Some((results, prepared)))
    }

    /// The second part, for all the prepared writes of a group at once: numbered in their
    /// order by one step of the counter, whose row stays locked until the commit (so the
    /// numbers become visible in their order: a reader that sees a number sees every
    /// lower one), then their numbers, changes and heads written in three statements.
    async fn number_docs(conn: &mut PgConnection, prepared: &[&DocWrite]) -> StoreResult<i64> {
        let last: i64 = sqlx::query_scalar(
            "UPDATE sync_counter SET value = value + $1 WHERE id = 1 RETURNING value",
        )
        .bind(prepared.len() as i64)
        .fetch_one(&mut *conn)
        .await?;
        let first = last - prepared.len() as i64 + 1;
        let seqs: Vec<i64> = (first..=last).collect();
        let ids: Vec<String> = prepared.iter().map(|w| w.doc_id.clone()).collect();
        let compacted: Vec<bool> = prepared.iter().map(|w| w.compacted.is_some()).collect();
        sqlx::query(
            "UPDATE docs d SET seq = v.seq, \
             snapshot_seq = CASE WHEN v.compacted THEN v.seq ELSE d.snapshot_seq END \
             FROM UNNEST($1::text[], $2::int8[], $3::bool[]) AS v(doc_id, seq, compacted) \
             WHERE d.doc_id = v.doc_id",
        )
        .bind(&ids)
        .bind(&seqs)
        .bind(&compacted)
        .execute(&mut *conn)
        .await?;
        let appended: Vec<usize> = (0..prepared.len())
            .filter(|&i| prepared[i].compacted.is_none())
            .collect();
        if !appended.is_empty() {
            sqlx::query(
                "INSERT INTO doc_changes (doc_id, seq, bytes) \
                 SELECT * FROM UNNEST($1::text[], $2::int8[], $3::bytea[])",
            )
            .bind(appended.iter().map(|&i| ids[i].clone()).collect::<Vec<_>>())
            .bind(appended.iter().map(|&i| seqs[i]).collect::<Vec<_>>())
            .bind(
                appended
                    .iter()
                    .map(|&i| prepared[i].changes.clone())
                    .collect::<Vec<_>>(),
            )
            .execute(&mut *conn)
            .await?;
        }
        sqlx::query(
            "INSERT INTO doc_history (doc_id, seq, heads) \
             SELECT * FROM UNNEST($1::text[], $2::int8[], $3::text[])",
        )
        .bind(&ids)
        .bind(&seqs)
        .bind(prepared.iter().map(|w| json(&w.heads)).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
        Ok(first)
    }

    /// Binds each automerge actor id of the group's writes to the device that first wrote
    /// with it, before any document is locked, in the actors' order: two processes' groups
    /// binding the same new actor (a phone's request retried on another process) wait for
    /// each other there, never while one holds a document the other wants (a wait the
    /// other way round would be a deadlock, broken by PostgreSQL only after a second).
    /// Gives, for each write, an actor of it another device holds.
    async fn bind_group_actors(
        &self,
        conn: &mut PgConnection,
        writes: &[(Actor, DocWrite)],
    ) -> StoreResult<Vec<Option<String>>> {
        // Each actor not yet known bound to its writer, by actor, with the first writer to
        // claim it in this group.
        let mut claims: std::collections::BTreeMap<&str, (&str, &str)> = Default::default();
        for (actor, w) in writes {
            let (Some(user), Some(device)) = (&actor.user_id, &actor.device_id) else {
                continue;
            };
            for a in w
                .actors
                .iter()
                .filter(|a| !self.bound.is_bound_to(a, user, device))
            {
                claims.entry(a.as_str()).or_insert((user, device));
            }
        }
        let mut taken = vec![None; writes.len()];
        if claims.is_empty() {
            return Ok(taken);
        }
        let ids: Vec<String> = claims.keys().map(|a| a.to_string()).collect();
        let users: Vec<String> = claims.values().map(|c| c.0.to_string()).collect();
        let devices: Vec<String> = claims.values().map(|c| c.1.to_string()).collect();
        sqlx::query(
            "INSERT INTO device_actors (actor_id, user_id, device_id, first_at) \
             SELECT a, u, d, $4 FROM UNNEST($1::text[], $2::text[], $3::text[]) AS c(a, u, d) \
             ORDER BY a ON CONFLICT (actor_id) DO NOTHING",
        )
        .bind(&ids)
        .bind(&users)
        .bind(&devices)
        .bind(now_ms())
        .execute(&mut *conn)
        .await?;
        let owners: std::collections::HashMap<String, (String, String)> =
            sqlx::query_as::<_, (String, String, String)>(
                "SELECT actor_id, user_id, device_id FROM device_actors WHERE actor_id = ANY($1)",
            )
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|(a, u, d)| (a, (u, d)))
            .collect();
        for ((actor, w), taken) in writes.iter().zip(&mut taken) {
            let (Some(user), Some(device)) = (&actor.user_id, &actor.device_id) else {
                continue;
            };
            *taken = w
                .actors
                .iter()
                .find(|a| {
                    owners
                        .get(a.as_str())
                        .is_some_and(|(u, d)| (u, d) != (user, device))
                })
                .cloned();
        }
        Ok(taken)
    }

    /// Opens, updates and closes the conflict records of a document to match its
    /// current conflicts; `open` are its conflict records still open (id, path).
    /// With `touched`, only conflicts inside those records are compared: the write
    /// found its conflicts there only.
    async fn sync_conflicts(
        conn: &mut PgConnection,
        actor: &Actor,
        doc_id: &str,
        open: &[(String, String)],
        found: &[shared::doc::FieldConflict],
        touched: Option<&Touched>,
    ) -> StoreResult<()> {
        let now = now_ms();
        for c in found {
            let path = json(&c.path);
            match open.iter().find(|(_, p)| *p == path) {
                Some((id, _)) => {
                    sqlx::query("UPDATE conflicts SET candidates = $2 WHERE id = $1")
                        .bind(id.clone())
                        .bind(json(&c.values))
                        .execute(&mut *conn)
                        .await?;
                }
                None => {
                    sqlx::query("INSERT INTO conflicts (id, doc_id, path, candidates, opened_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(uuid::Uuid::now_v7().to_string())
                        .bind(doc_id.to_string())
                        .bind(path)
                        .bind(json(&c.values))
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                }
            }
        }
        for (id, path) in open.iter().filter(|(_, p)| inside(touched, p)) {
            if !found.iter().any(|c| json(&c.path) == *path) {
                sqlx::query(
                    "UPDATE conflicts SET resolved_at = $2, resolved_by = $3 WHERE id = $1",
                )
                .bind(id.clone())
                .bind(now)
                .bind(actor.user_id.clone())
                .execute(&mut *conn)
                .await?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Docs for PgDocs {
    async fn load_doc(&self, id: &str) -> StoreResult<Option<StoredDoc>> {
        // One statement, so the snapshot and the changes after it are read from the
        // same state even while another writer compacts the document.
        let rows: Vec<(Option<Vec<u8>>, String, i64, Option<Vec<u8>>)> = sqlx::query_as(
            "SELECT d.snapshot, d.heads, d.seq, c.bytes FROM docs d \
             LEFT JOIN doc_changes c ON c.doc_id = d.doc_id AND c.seq > d.snapshot_seq \
             WHERE d.doc_id = $1 ORDER BY c.seq",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        let Some((snapshot, heads, seq, _)) = rows.first().cloned() else {
            return Ok(None);
        };
        let mut chunks: Vec<Vec<u8>> = snapshot.into_iter().collect();
        chunks.extend(rows.into_iter().filter_map(|r| r.3));
        Ok(Some(StoredDoc {
            chunks,
            heads: serde_json::from_str(&heads)?,
            seq,
        }))
    }

    async fn load_docs(&self, ids: &[String]) -> StoreResult<Vec<(String, StoredDoc)>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let rows: Vec<(String, Option<Vec<u8>>, String, i64, Option<Vec<u8>>)> = sqlx::query_as(
            "SELECT d.doc_id, d.snapshot, d.heads, d.seq, c.bytes FROM docs d \
             LEFT JOIN doc_changes c ON c.doc_id = d.doc_id AND c.seq > d.snapshot_seq \
             WHERE d.doc_id = ANY($1) ORDER BY d.doc_id, c.seq",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<(String, StoredDoc)> = Vec::new();
        for (id, snapshot, heads, seq, bytes) in rows {
            if out.last().is_none_or(|(last, _)| *last != id) {
                out.push((
                    id,
                    StoredDoc {
                        chunks: snapshot.into_iter().collect(),
                        heads: serde_json::from_str(&heads)?,
                        seq,
                    },
                ));
            }
            if let (Some(b), Some((_, doc))) = (bytes, out.last_mut()) {
                doc.chunks.push(b);
            }
        }
        Ok(out)
    }

    async fn commit_docs_then(
        &self,
        writes: Vec<(Actor, DocWrite)>,
        published: Published,
    ) -> StoreResult<Vec<StoreResult<i64>>> {
        // Without a savepoint per write first (two statements fewer each): a stale write
        // is found by its first statement, which then wrote nothing. Any other failure
        // undoes the group, which is prepared again with a savepoint per write, so that
        // one that fails leaves the others.
        let mut tx = self.pool.begin().await?;
        let (mut results, mut prepared) = match self.prepare_group(&mut tx, &writes, false).await? {
            Some(done) => done,
            None => {
                tx.rollback().await?;
                tx = self.pool.begin().await?;
                // With savepoints every failure is the write's own (never `None`).
                self.prepare_group(&mut tx, &writes, true)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt("a group failed with savepoints".into()))?
            }
        };
        if !prepared.is_empty() {
            // Numbered in the order they came (the index of written documents takes a
            // group's numbers in that order).
            prepared.sort_unstable();
            let docs: Vec<&DocWrite> = prepared.iter().map(|&i| &writes[i].1).collect();
            let first = Self::number_docs(&mut tx, &docs).await?;
            for (k, &i) in prepared.iter().enumerate() {
                results[i] = Ok(first + k as i64);
            }
        }
        tx.commit().await?;
        self.bound.committed(&writes, &results);
        published(&results);
        Ok(results)
    }

    async fn doc_seq(&self, id: &str) -> StoreResult<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT seq FROM docs WHERE doc_id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn docs_since(&self, cursor: i64, ids: &[String], limit: i64) -> StoreResult<Changed> {
        // Read first: every write numbered up to it is committed, so visible below.
        let seq = self.current_seq().await?;
        if ids.is_empty() {
            return Ok(Changed { seq, docs: vec![] });
        }
        // The scope's documents found by their ids first, then ordered: left to choose,
        // PostgreSQL may walk the sequence index from the cursor over the whole province
        // until it meets enough of the scope's documents (cheap when a village's documents
        // came early, a province's walk when they came late).
        let mut qb = QueryBuilder::<sqlx::Postgres>::new(
            "WITH scope AS MATERIALIZED (SELECT doc_id, seq FROM docs WHERE doc_id IN (",
        );
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(id.clone());
        }
        qb.push(")) SELECT doc_id, seq FROM scope WHERE seq > ");
        qb.push_bind(cursor);
        qb.push(" ORDER BY seq, doc_id LIMIT ").push_bind(limit);
        let docs = qb
            .build_query_as::<(String, i64)>()
            .fetch_all(&self.pool)
            .await?;
        Ok(Changed { seq, docs })
    }

    async fn written_after(&self, after: i64) -> StoreResult<Changed> {
        // Read first: every write numbered up to it is committed, so visible below.
        let seq = self.current_seq().await?;
        let docs = sqlx::query_as::<_, (String, i64)>(
            "SELECT doc_id, seq FROM docs WHERE seq > $1 ORDER BY seq",
        )
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        Ok(Changed { seq, docs })
    }

    async fn heads_at(
        &self,
        doc_ids: &[String],
        seq: i64,
    ) -> StoreResult<Vec<(String, Vec<String>)>> {
        if doc_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<sqlx::Postgres>::new(
            "SELECT h.doc_id, h.heads FROM doc_history h JOIN \
             (SELECT doc_id, MAX(seq) AS at FROM doc_history WHERE seq <= ",
        );
        qb.push_bind(seq);
        qb.push(" AND doc_id IN (");
        let mut sep = qb.separated(", ");
        for id in doc_ids {
            sep.push_bind(id.clone());
        }
        qb.push(") GROUP BY doc_id) m ON h.doc_id = m.doc_id AND h.seq = m.at");
        qb.build_query_as::<(String, String)>()
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|(id, h)| Ok((id, serde_json::from_str(&h)?)))
            .collect()
    }

    async fn current_seq(&self) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT value FROM sync_counter WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn doc_storage(&self) -> StoreResult<(i64, i64)> {
        let docs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM docs")
            .fetch_one(&self.pool)
            .await?;
        let snap: Option<i64> =
            sqlx::query_scalar("SELECT CAST(SUM(LENGTH(snapshot)) AS BIGINT) FROM docs")
                .fetch_one(&self.pool)
                .await?;
        let log: Option<i64> =
            sqlx::query_scalar("SELECT CAST(SUM(LENGTH(bytes)) AS BIGINT) FROM doc_changes")
                .fetch_one(&self.pool)
                .await?;
        Ok((docs, snap.unwrap_or(0) + log.unwrap_or(0)))
    }

    async fn put_records(&self, r: &shared::projection::Records) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        Self::write_records(&mut tx, r, None, "").await?;
        tx.commit().await?;
        Ok(())
    }
}
