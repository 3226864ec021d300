//! What the write core did not take as sent: changes it refused (quarantine, kept for
//! the commune officer to accept or reject) and fields left in conflict.

use super::*;

const QUARANTINE_COLS: &str = "id, doc_id, user_id, device_id, at, reason, code, CAST(LENGTH(bytes) AS BIGINT) AS size, decision, decided_by, decided_at";

#[derive(sqlx::FromRow)]
struct QuarantineRow {
    id: String,
    doc_id: String,
    user_id: String,
    device_id: String,
    at: i64,
    reason: String,
    code: String,
    size: i64,
    decision: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<i64>,
}

impl QuarantineRow {
    fn into_record(self) -> StoreResult<QuarantineRecord> {
        Ok(QuarantineRecord {
            id: self.id,
            household_id: self.doc_id,
            user_id: self.user_id,
            device_id: self.device_id,
            at: self.at,
            reason: serde_json::from_str(&self.reason)?,
            code: self.code,
            bytes: self.size,
            decision: self.decision,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
        })
    }
}

type ConflictRow = (
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
);

fn conflict_of(row: ConflictRow) -> StoreResult<ConflictRecord> {
    let (id, doc_id, path, candidates, opened_at, resolved_at, resolved_by, resolution) = row;
    Ok(ConflictRecord {
        id,
        household_id: doc_id,
        path: serde_json::from_str(&path)?,
        candidates: serde_json::from_str(&candidates)?,
        opened_at,
        resolved_at,
        resolved_by,
        resolution: resolution.map(|r| serde_json::from_str(&r)).transpose()?,
        writers: Vec::new(),
        resolved_by_name: None,
    })
}

const CONFLICT_COLS: &str =
    "id, doc_id, path, candidates, opened_at, resolved_at, resolved_by, resolution";

#[async_trait]
impl<DB: Backend> Refused for SqlStore<DB>
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
    async fn quarantine(
        &self,
        actor: &Actor,
        doc_id: &str,
        code: &str,
        reason: &str,
        bytes: &[u8],
    ) -> StoreResult<bool> {
        let device = actor.device_id.clone().unwrap_or_default();
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM quarantine WHERE device_id = $1 AND decided_at IS NULL",
        )
        .bind(device.clone())
        .fetch_one(&self.pool)
        .await?;
        if waiting >= QUARANTINE_PER_DEVICE {
            return Ok(false);
        }
        let mut tx = self.begin_write().await?;
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO quarantine (id, doc_id, user_id, device_id, at, reason, bytes, code) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.clone())
        .bind(doc_id.to_string())
        .bind(actor.user_id.clone().unwrap_or_default())
        .bind(device)
        .bind(now_ms())
        .bind(reason.to_string())
        .bind(bytes.to_vec())
        .bind(code.to_string())
        .execute(&mut *tx)
        .await?;
        insert_audit(
            &mut tx,
            actor,
            "quarantine",
            "household",
            doc_id,
            serde_json::json!({ "reason": reason, "code": code, "quarantine_id": id }),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn list_quarantine(&self, doc_ids: &[String]) -> StoreResult<Vec<QuarantineRecord>> {
        if doc_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = sqlx::QueryBuilder::<DB>::new(format!(
            "SELECT {QUARANTINE_COLS} FROM quarantine WHERE doc_id"
        ));
        push_in(&mut qb, doc_ids);
        qb.push(" ORDER BY at, id");
        let rows: Vec<QuarantineRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(QuarantineRow::into_record).collect()
    }

    async fn quarantined(&self, id: &str) -> StoreResult<(QuarantineRecord, Vec<u8>)> {
        let sql = format!("SELECT {QUARANTINE_COLS} FROM quarantine WHERE id = $1");
        let row: QuarantineRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?;
        let bytes: Vec<u8> = sqlx::query_scalar("SELECT bytes FROM quarantine WHERE id = $1")
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok((row.into_record()?, bytes))
    }

    async fn decide_quarantine(&self, actor: &Actor, id: &str, decision: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let n = DB::rows_affected(
            &sqlx::query(
                "UPDATE quarantine SET decision = $2, decided_by = $3, decided_at = $4 \
                 WHERE id = $1 AND decided_at IS NULL",
            )
            .bind(id.to_string())
            .bind(decision.to_string())
            .bind(actor.user_id.clone())
            .bind(now_ms())
            .execute(&mut *tx)
            .await?,
        );
        if n != 1 {
            return Err(StoreError::Duplicate(format!(
                "quarantine {id} already decided"
            )));
        }
        insert_audit(
            &mut tx,
            actor,
            decision,
            "quarantine",
            id,
            serde_json::json!({ "decision": decision }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_conflicts(
        &self,
        doc_ids: Option<&[String]>,
        open_only: bool,
    ) -> StoreResult<Vec<ConflictRecord>> {
        let mut qb = sqlx::QueryBuilder::<DB>::new(format!(
            "SELECT {CONFLICT_COLS} FROM conflicts WHERE 1 = 1"
        ));
        if open_only {
            qb.push(" AND resolved_at IS NULL");
        }
        if let Some(ids) = doc_ids {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            qb.push(" AND doc_id");
            push_in(&mut qb, ids);
        }
        qb.push(" ORDER BY opened_at, id");
        let rows: Vec<ConflictRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(conflict_of).collect()
    }

    async fn get_conflict(&self, id: &str) -> StoreResult<ConflictRecord> {
        let sql = format!("SELECT {CONFLICT_COLS} FROM conflicts WHERE id = $1");
        let row: Option<ConflictRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        conflict_of(row.ok_or(StoreError::NotFound)?)
    }

    async fn record_decision(
        &self,
        id: &str,
        value: &serde_json::Value,
        by: &str,
        at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE conflicts SET resolution = $2, resolved_by = $3, resolved_at = $4 WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(value.to_string())
        .bind(by.to_string())
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
