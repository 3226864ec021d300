//! The audit trail: every write of the register records who did what in its own
//! transaction (`insert_audit`), and the commune officer reads it back.

use super::*;

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: String,
    at: i64,
    user_id: Option<String>,
    device_id: Option<String>,
    action: String,
    entity: String,
    entity_id: String,
    changes: String,
}

impl AuditRow {
    fn into_event(self) -> StoreResult<AuditEvent> {
        Ok(AuditEvent {
            changes: serde_json::from_str(&self.changes)?,
            id: self.id,
            at: self.at,
            user_id: self.user_id,
            device_id: self.device_id,
            action: self.action,
            entity: self.entity,
            entity_id: self.entity_id,
        })
    }
}

/// Records an audit event in the caller's transaction.
pub(in crate::store) async fn insert_audit<DB: sqlx::Database>(
    conn: &mut DB::Connection,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: &str,
    changes: serde_json::Value,
) -> StoreResult<()>
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
    sqlx::query(
        "INSERT INTO audit_events (id, at, user_id, device_id, action, entity, entity_id, changes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(now_ms())
    .bind(actor.user_id.clone())
    .bind(actor.device_id.clone())
    .bind(action.to_string())
    .bind(entity.to_string())
    .bind(entity_id.to_string())
    .bind(changes.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[async_trait]
impl<DB: Backend> Audit for SqlStore<DB>
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
    async fn record_event(
        &self,
        actor: &Actor,
        action: &str,
        entity: &str,
        entity_id: &str,
        details: serde_json::Value,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        insert_audit(&mut tx, actor, action, entity, entity_id, details).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_audit(
        &self,
        entity_id: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<AuditEvent>> {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT id, at, user_id, device_id, action, entity, entity_id, changes FROM audit_events",
        );
        if let Some(e) = entity_id {
            qb.push(" WHERE entity_id = ").push_bind(e.to_string());
        }
        qb.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
        qb.build_query_as::<AuditRow>()
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(AuditRow::into_event)
            .collect()
    }
}
