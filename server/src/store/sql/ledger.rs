//! The ledger's rows (`shared::ledger`): reading movements back, writing those of a whole
//! commune brought at once (the demo, `donghanh import`), and giving households stored
//! before the ledger existed their movements when the server starts.

use super::read_model::{HOUSEHOLD_COLS, HouseholdRow};
use super::*;
use shared::ledger::Movement;
use std::collections::BTreeMap;

/// The columns `MovementRow` reads, over `movements m`.
pub(super) const MOVEMENT_COLS: &str =
    "m.id, m.household_id, m.from_status, m.to_status, m.date, m.basis, m.recorded_by";

#[derive(sqlx::FromRow)]
pub(super) struct MovementRow {
    id: String,
    household_id: String,
    from_status: Option<String>,
    to_status: Option<String>,
    date: String,
    basis: String,
    recorded_by: String,
}

impl MovementRow {
    pub(super) fn into_movement(self) -> StoreResult<Movement> {
        let status = |s: &str| {
            HouseholdStatus::parse(s).ok_or_else(|| StoreError::Corrupt(format!("status {s}")))
        };
        Ok(Movement {
            from: self.from_status.as_deref().map(status).transpose()?,
            to: self.to_status.as_deref().map(status).transpose()?,
            date: date(&self.date)?,
            basis: serde_json::from_str(&self.basis)?,
            id: self.id,
            household_id: self.household_id,
            by: self.recorded_by,
        })
    }
}

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
    /// Records `movements` once each (a movement already recorded stays as it was), by
    /// `recorded_by` where a movement does not name who recorded it.
    pub(in crate::store) async fn insert_movements(
        conn: &mut DB::Connection,
        movements: Vec<Movement>,
        recorded_by: &str,
    ) -> StoreResult<()> {
        let at = now_ms();
        for m in movements {
            if m.to.is_none() {
                // Out of the register from that day: the lists and counts of the
                // households in it leave it out.
                sqlx::query(crate::store::docs::SET_LEFT_ON)
                    .bind(m.date.to_string())
                    .bind(m.household_id.clone())
                    .execute(&mut *conn)
                    .await?;
            }
            sqlx::query(crate::store::docs::INSERT_MOVEMENT)
                .bind(m.id)
                .bind(m.household_id)
                .bind(m.from.map(|f| f.as_str().to_string()))
                .bind(m.to.map(|t| t.as_str().to_string()))
                .bind(m.date.to_string())
                .bind(json(&m.basis))
                .bind(if m.by.is_empty() {
                    recorded_by.to_string()
                } else {
                    m.by
                })
                .bind(at)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// Gives every household without any movement the movements its records make (data
    /// stored before the ledger), once: every write since brings its own movements, so
    /// later starts skip the search through the province. Returns how many households
    /// got theirs.
    pub(super) async fn fill_ledger(conn: &mut DB::Connection) -> StoreResult<usize> {
        let filled: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_filled")
            .fetch_one(&mut *conn)
            .await?;
        if filled > 0 {
            return Ok(0);
        }
        let n = Self::fill_ledger_once(conn).await?;
        // Marked only once every household's movements are in: a start stopped half way
        // fills the rest at the next.
        sqlx::query("INSERT INTO ledger_filled (id) VALUES (1) ON CONFLICT (id) DO NOTHING")
            .execute(&mut *conn)
            .await?;
        Ok(n)
    }

    async fn fill_ledger_once(conn: &mut DB::Connection) -> StoreResult<usize> {
        let sql = format!(
            "SELECT {HOUSEHOLD_COLS} FROM households h \
             WHERE NOT EXISTS (SELECT 1 FROM movements m WHERE m.household_id = h.id)"
        );
        let households = sqlx::query_as::<_, HouseholdRow>(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await?;
        if households.is_empty() {
            return Ok(0);
        }
        // The steps that make movements (decisions and departures) of those households only.
        let mut steps: BTreeMap<String, Vec<shared::review::ReviewStep>> = BTreeMap::new();
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT s.data FROM review_steps s WHERE s.kind IN ('decision', 'left') \
             AND NOT EXISTS (SELECT 1 FROM movements m WHERE m.household_id = s.household_id)",
        )
        .fetch_all(&mut *conn)
        .await?;
        for d in rows {
            let s: shared::review::ReviewStep = serde_json::from_str(&d)?;
            steps.entry(s.household_id.clone()).or_default().push(s);
        }
        let n = households.len();
        for row in households {
            let h = row.into_household()?;
            let own = steps.remove(&h.id).unwrap_or_default();
            Self::insert_movements(conn, shared::ledger::movements(&h, &own), "").await?;
        }
        // Movements written outside the documents' sequence: the kept report parts that
        // counted without them are stale.
        Self::next_report_epoch(conn).await?;
        Ok(n)
    }
}
