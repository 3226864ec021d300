//! The kept report parts of communes (migration 0013, `api::report_parts`): reading and
//! writing them, and the two clocks that say whether one is still current.

use super::*;

impl<DB: Backend> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    String: Column<DB>,
    i64: Column<DB>,
{
    /// Moves the reports' epoch on inside `conn`'s transaction.
    pub(super) async fn next_report_epoch(conn: &mut DB::Connection) -> StoreResult<()> {
        sqlx::query("UPDATE report_epoch SET value = value + 1 WHERE id = 1")
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl<DB: Backend> ReportParts for SqlStore<DB>
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
    async fn report_clock(&self) -> StoreResult<(i64, i64)> {
        // Both in one statement, so they are read from one state. A write holds the
        // counter's row until it commits, so every sequence number up to the value read
        // is committed (writes commit in the order of their numbers).
        Ok(sqlx::query_as::<_, (i64, i64)>(
            "SELECT (SELECT value FROM sync_counter WHERE id = 1), \
                    (SELECT value FROM report_epoch WHERE id = 1)",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    async fn report_parts(
        &self,
        area_ids: &[String],
        year: i32,
        period: &str,
    ) -> StoreResult<Vec<ReportPart>> {
        let mut out = Vec::with_capacity(area_ids.len());
        for ids in area_ids.chunks(500) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT area_id, built_seq, epoch, part FROM report_parts WHERE year = ",
            );
            qb.push_bind(i64::from(year))
                .push(" AND period = ")
                .push_bind(period.to_string())
                .push(" AND area_id");
            push_in(&mut qb, ids);
            for (area_id, built_seq, epoch, part) in qb
                .build_query_as::<(String, i64, i64, String)>()
                .fetch_all(&self.pool)
                .await?
            {
                out.push(ReportPart {
                    area_id,
                    built_seq,
                    epoch,
                    part,
                });
            }
        }
        Ok(out)
    }

    async fn put_report_parts(&self, parts: &[(i32, &str, ReportPart)]) -> StoreResult<()> {
        if parts.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for (year, period, part) in parts {
            sqlx::query(
                "INSERT INTO report_parts (area_id, year, period, built_seq, epoch, part) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (area_id, year, period) DO UPDATE SET built_seq = excluded.built_seq, \
                 epoch = excluded.epoch, part = excluded.part \
                 WHERE report_parts.epoch < excluded.epoch OR (report_parts.epoch = excluded.epoch \
                 AND report_parts.built_seq <= excluded.built_seq)",
            )
            .bind(part.area_id.clone())
            .bind(i64::from(*year))
            .bind(period.to_string())
            .bind(part.built_seq)
            .bind(part.epoch)
            .bind(part.part.clone())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn villages_written_since(&self, seq: i64) -> StoreResult<Vec<(String, i64)>> {
        Ok(sqlx::query_as::<_, (String, i64)>(
            "SELECT h.village_id, MAX(d.seq) FROM docs d JOIN households h ON h.id = d.doc_id \
             WHERE d.seq > $1 GROUP BY h.village_id",
        )
        .bind(seq)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn confirm_report_parts(
        &self,
        area_ids: &[String],
        year: i32,
        period: &str,
        epoch: i64,
        seq: i64,
    ) -> StoreResult<()> {
        for ids in area_ids.chunks(500) {
            let mut tx = self.begin_write().await?;
            let mut qb = sqlx::QueryBuilder::<DB>::new("UPDATE report_parts SET built_seq = ");
            // A part replaced meanwhile by a newer epoch, or already stamped later, is left.
            qb.push_bind(seq)
                .push(" WHERE year = ")
                .push_bind(i64::from(year))
                .push(" AND period = ")
                .push_bind(period.to_string())
                .push(" AND epoch = ")
                .push_bind(epoch)
                .push(" AND built_seq < ")
                .push_bind(seq)
                .push(" AND area_id");
            push_in(&mut qb, ids);
            qb.build().execute(&mut *tx).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    async fn forget_report_parts(&self) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        Self::next_report_epoch(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn take_keeper_lease(
        &self,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> StoreResult<bool> {
        // One statement: of two processes asking at once, the row's lock lets one in and
        // the other then finds the lease taken.
        let mut tx = self.begin_write().await?;
        let taken = DB::rows_affected(
            &sqlx::query(
                "UPDATE report_keeper_lease SET holder = $1, until_ms = $2 \
                 WHERE id = 1 AND (holder = $1 OR until_ms < $3)",
            )
            .bind(holder.to_string())
            .bind(until_ms)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?,
        );
        tx.commit().await?;
        Ok(taken == 1)
    }
}
