//! Household codes compared by their key (`shared::household::code_key`): the keys of
//! households stored before the key existed are filled in when the server starts.

use super::*;

impl<DB: Backend> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    String: Column<DB>,
    Option<String>: Column<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    /// Gives each household without a code key its key, unless another household holds
    /// that key already (the two are left for an officer: `donghanh check-codes`). Returns
    /// how many households stay without a key.
    pub(super) async fn fill_code_keys(conn: &mut DB::Connection) -> StoreResult<usize> {
        let missing: Vec<(String, String)> =
            sqlx::query_as("SELECT id, code FROM households WHERE code_key IS NULL")
                .fetch_all(&mut *conn)
                .await?;
        if missing.is_empty() {
            return Ok(0);
        }
        let mut taken: std::collections::BTreeSet<String> =
            sqlx::query_scalar("SELECT code_key FROM households WHERE code_key IS NOT NULL")
                .fetch_all(&mut *conn)
                .await?
                .into_iter()
                .collect();
        let mut left = 0;
        for (id, code) in missing {
            let key = shared::household::code_key(&code);
            if !taken.insert(key.clone()) {
                left += 1;
                tracing::warn!(%id, %code, "household code collides with another; see donghanh check-codes");
                continue;
            }
            sqlx::query("UPDATE households SET code_key = $1 WHERE id = $2")
                .bind(key)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        Ok(left)
    }
}
