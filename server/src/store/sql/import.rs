//! A whole commune written in one transaction (the demo data and `donghanh import`): the
//! register, the read model and the household documents the write core's gate admitted
//! (`shared::core::gate::admit_history`), each with its own sequence number.

use super::*;
use std::collections::BTreeMap;

impl<DB: Backend> SqlStore<DB>
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
    pub(super) async fn import_commune(&self, actor: &Actor, d: &Import) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for a in &d.areas {
            Self::insert_area(&mut tx, a).await?;
        }
        for (u, hash) in &d.users {
            Self::insert_user(&mut tx, u, hash).await?;
        }
        for h in &d.households {
            Self::insert_household(&mut tx, h).await?;
        }
        for m in &d.members {
            Self::insert_member(&mut tx, m).await?;
        }
        for a in &d.assessments {
            Self::insert_assessment(&mut tx, a).await?;
        }
        for a in &d.assignments {
            Self::insert_assignment(&mut tx, a).await?;
        }
        for v in &d.visits {
            Self::insert_visit(&mut tx, v).await?;
        }
        for s in &d.support {
            Self::insert_support(&mut tx, s).await?;
        }
        for p in &d.plan {
            Self::insert_plan_item(&mut tx, p).await?;
        }
        for st in &d.review_steps {
            Self::insert_review_step(&mut tx, st).await?;
        }
        let mut steps: BTreeMap<&str, Vec<shared::review::ReviewStep>> = BTreeMap::new();
        for st in &d.review_steps {
            steps.entry(&st.household_id).or_default().push(st.clone());
        }
        let by = actor.user_id.as_deref().unwrap_or("");
        for h in &d.households {
            let own = steps.remove(h.id.as_str()).unwrap_or_default();
            Self::insert_movements(&mut tx, shared::ledger::movements(h, &own), by).await?;
        }
        for t in &d.targets {
            Self::upsert_target(&mut tx, t).await?;
        }
        for doc in &d.docs {
            Self::insert_doc(&mut tx, doc).await?;
        }
        let summary = serde_json::json!({
            "areas": d.areas.len(), "users": d.users.len(), "households": d.households.len(),
            "members": d.members.len(), "assessments": d.assessments.len(),
            "assignments": d.assignments.len(), "visits": d.visits.len(),
            "support_actions": d.support.len(), "targets": d.targets.len(),
        });
        insert_audit(&mut tx, actor, "import", "commune", "import", summary).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A household document written whole, with its own sequence number: pages of a pull
    /// end between documents.
    async fn insert_doc(conn: &mut DB::Connection, doc: &ImportedDoc) -> StoreResult<()> {
        let seq: i64 = sqlx::query_scalar(
            "UPDATE sync_counter SET value = value + 1 WHERE id = 1 RETURNING value",
        )
        .fetch_one(&mut *conn)
        .await?;
        let heads = json(&doc.heads);
        sqlx::query(
            "INSERT INTO docs (doc_id, snapshot, snapshot_seq, heads, seq) VALUES ($1, $2, $3, $4, $3)",
        )
        .bind(doc.household_id.clone())
        .bind(doc.bytes.clone())
        .bind(seq)
        .bind(heads.clone())
        .execute(&mut *conn)
        .await?;
        sqlx::query("INSERT INTO doc_history (doc_id, seq, heads) VALUES ($1, $2, $3)")
            .bind(doc.household_id.clone())
            .bind(seq)
            .bind(heads)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}
