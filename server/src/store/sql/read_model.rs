//! The read model: the relational rows projected from household documents (households,
//! members, reviews, visits, support, plans, review steps) and the queries of lists and
//! reports over them. Rows are written only as a document's projection, in the same
//! transaction as the document (`super::super::docs`, and the commune import).

use super::*;
use shared::household::{PriorityFlags, Residence};
use shared::support::{SupportInput, SupportStatus};
use shared::visit::VisitInput;
use sqlx::Row;

pub(super) const HOUSEHOLD_COLS: &str = "id, code, village_id, address, head_name, residence, status, priority, causes, created_at, updated_at";
const SUPPORT_COLS: &str = "id, household_id, status, delivered_date, data";

#[derive(sqlx::FromRow)]
pub(super) struct HouseholdRow {
    id: String,
    code: String,
    village_id: String,
    address: String,
    head_name: String,
    residence: String,
    status: String,
    priority: String,
    causes: String,
    created_at: String,
    updated_at: String,
}

impl HouseholdRow {
    pub(super) fn into_household(self) -> StoreResult<Household> {
        Ok(Household {
            residence: from_name::<Residence>(&self.residence)?,
            status: HouseholdStatus::parse(&self.status)
                .ok_or_else(|| StoreError::Corrupt(format!("status {}", self.status)))?,
            priority: serde_json::from_str::<PriorityFlags>(&self.priority)?,
            causes: serde_json::from_str(&self.causes)?,
            id: self.id,
            code: self.code,
            village_id: self.village_id,
            address: self.address,
            head_name: self.head_name,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    id: String,
    household_id: String,
    data: String,
}

impl MemberRow {
    fn into_member(self) -> StoreResult<Member> {
        Ok(Member {
            data: serde_json::from_str::<MemberInput>(&self.data)?,
            id: self.id,
            household_id: self.household_id,
        })
    }
}

#[derive(sqlx::FromRow)]
struct VisitRow {
    id: String,
    household_id: String,
    cadre_id: String,
    data: String,
}

impl VisitRow {
    fn into_visit(self) -> StoreResult<Visit> {
        Ok(Visit {
            data: serde_json::from_str::<VisitInput>(&self.data)?,
            id: self.id,
            household_id: self.household_id,
            cadre_id: self.cadre_id,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SupportRow {
    id: String,
    household_id: String,
    status: String,
    delivered_date: Option<String>,
    data: String,
}

impl SupportRow {
    fn into_support(self) -> StoreResult<SupportAction> {
        Ok(SupportAction {
            status: from_name::<SupportStatus>(&self.status)?,
            delivered_date: self.delivered_date.as_deref().map(date).transpose()?,
            data: serde_json::from_str::<SupportInput>(&self.data)?,
            id: self.id,
            household_id: self.household_id,
        })
    }
}

/// Records stored as their JSON in a `data` column.
fn from_data<T: DeserializeOwned>(rows: Vec<String>) -> StoreResult<Vec<T>> {
    rows.iter().map(|d| Ok(serde_json::from_str(d)?)).collect()
}

/// Rows of a household's projection, written inside the caller's transaction.
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
    pub(in crate::store) async fn insert_member(
        conn: &mut DB::Connection,
        m: &Member,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO members (id, household_id, position, data) \
             VALUES ($1, $2, (SELECT COUNT(*) FROM members WHERE household_id = $2), $3)",
        )
        .bind(m.id.clone())
        .bind(m.household_id.clone())
        .bind(json(&m.data))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    pub(in crate::store) async fn insert_plan_item(
        conn: &mut DB::Connection,
        p: &shared::plan::PlanItem,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO plan_items (id, household_id, status, due, data) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(p.id.clone())
        .bind(p.household_id.clone())
        .bind(name_of(&p.status))
        .bind(p.data.due.to_string())
        .bind(json(&p.data))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    pub(in crate::store) async fn insert_review_step(
        conn: &mut DB::Connection,
        st: &shared::review::ReviewStep,
    ) -> StoreResult<()> {
        sqlx::query(crate::store::docs::INSERT_REVIEW_STEP)
            .bind(st.id.clone())
            .bind(st.household_id.clone())
            .bind(st.review_id.clone())
            .bind(st.data.kind())
            .bind(st.date.to_string())
            .bind(json(st))
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

/// `SELECT cols FROM households` with `f`'s conditions, order and page; `None` when `f`
/// names no place or no household.
fn households_where<DB: sqlx::Database>(
    cols: &str,
    f: &HouseholdFilter,
) -> Option<sqlx::QueryBuilder<DB>>
where
    String: Column<DB>,
    i64: Column<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
{
    let mut qb =
        sqlx::QueryBuilder::<DB>::new(format!("SELECT {cols} FROM households WHERE 1 = 1"));
    if !push_within(&mut qb, "households", &f.within) {
        return None;
    }
    if let Some(ids) = &f.household_ids {
        if ids.is_empty() {
            return None;
        }
        qb.push(" AND id");
        push_in(&mut qb, ids);
    }
    if let Some(s) = f.status {
        qb.push(" AND status = ").push_bind(s.as_str());
    }
    if f.in_register_only {
        qb.push(" AND left_on IS NULL");
    }
    if let Some(q) = f.search.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let like = format!(
            "%{}%",
            shared::search::fold(q).replace(['%', '_', '\\'], "")
        );
        qb.push(" AND search_text LIKE ").push_bind(like);
    }
    // The page written into the statement, not bound: with a bound limit, PostgreSQL's
    // generic plan (after a statement's fifth run on a connection) expects a short page
    // and walks the province's households in code order, keeping a commune's (180 ms
    // against 28 ms for a commune's 8,000 at 10 communes). Numbers are digits only.
    qb.push(format!(
        " ORDER BY code LIMIT {} OFFSET {}",
        f.limit.max(0),
        f.offset.max(0)
    ));
    Some(qb)
}

/// The columns of a movement the reports read.
const REPORT_MOVEMENT_COLS: &str =
    "m.household_id, m.id, m.from_status, m.to_status, m.date, m.basis";

/// The households within `within` counted in groups by village, status and (the poor's)
/// causes: every household of the area, read from the commune key's index alone
/// (migration 0023). The report's unmoved groups are these less the households read on
/// their own (`moved_or_new`). `None` when the area names no place.
fn grouped<DB: sqlx::Database>(within: &Within) -> Option<sqlx::QueryBuilder<DB>>
where
    String: Column<DB>,
{
    let mut qb = sqlx::QueryBuilder::<DB>::new(
        "SELECT h.village_id, h.status, \
         CASE WHEN h.status = 'poor' THEN h.causes ELSE '[]' END, COUNT(*) \
         FROM households h WHERE 1 = 1",
    );
    if !push_within(&mut qb, "h", within) {
        return None;
    }
    qb.push(" GROUP BY 1, 2, 3");
    Some(qb)
}

/// The households within `within` that a report reads on their own because they may have
/// moved since `since` (`shared::report::HouseholdFact::unmoved_since`): those with a
/// movement other than an entry dated before `since`, and those made on or after `since`
/// (whose entry, if their ledger has none, is their making). A household read on its own
/// is right whether or not it moved. Columns: id, village, status, causes, made. `None`
/// when the area names no place. A date's text is digits and dashes only.
fn moved_or_new<DB: sqlx::Database>(
    within: &Within,
    since: NaiveDate,
) -> Option<sqlx::QueryBuilder<DB>>
where
    String: Column<DB>,
{
    let mut qb = sqlx::QueryBuilder::<DB>::new(
        "SELECT h.id, h.village_id, h.status, h.causes, h.created_at \
         FROM households h WHERE 1 = 1",
    );
    if !push_within(&mut qb, "h", within) {
        return None;
    }
    qb.push(format!(" AND (h.created_at >= '{since}' OR h.id IN ("));
    let on = match within {
        Within::Villages(_) => {
            qb.push(
                "SELECT m.household_id FROM movements m \
                 JOIN households o ON o.id = m.household_id WHERE 1 = 1",
            );
            "o"
        }
        _ => {
            qb.push("SELECT m.household_id FROM movements m WHERE 1 = 1");
            "m"
        }
    };
    push_within(&mut qb, on, within);
    qb.push(format!(
        " AND NOT (m.from_status IS NULL AND m.to_status IS NOT NULL AND m.date < '{since}')))"
    ));
    Some(qb)
}

/// The support delivered `from..=to` within `within` (`ReadModel::delivered_in`); `None`
/// when the area names no place. A date's text is digits and dashes only.
fn delivered<DB: sqlx::Database>(
    columns: &str,
    within: &Within,
    from: NaiveDate,
    to: NaiveDate,
) -> Option<sqlx::QueryBuilder<DB>>
where
    String: Column<DB>,
{
    let mut qb = rows_within::<DB>(columns, "support_actions", "s", within)?;
    qb.push(format!(
        " AND s.status = 'delivered' AND s.delivered_date >= '{from}' AND s.delivered_date <= '{to}'"
    ));
    Some(qb)
}

/// What a report counts of a support delivered, read from its stored record (written
/// whole and checked by the write core; the rest of it is not decoded).
#[derive(serde::Deserialize)]
struct DeliveredCounted {
    project: shared::support::Project,
    #[serde(default)]
    amount_vnd: Option<i64>,
}

/// The visits dated `from..=to` within `within` counted by cadre and household
/// (`ReadModel::visits_in`): counted by the database, as a household has a visit a month
/// or more and a province's report reads every commune's visits of the year when counted
/// again. `None` when the area names no place.
fn visits_counted<DB: sqlx::Database>(
    within: &Within,
    from: NaiveDate,
    to: NaiveDate,
) -> Option<sqlx::QueryBuilder<DB>>
where
    String: Column<DB>,
{
    let mut qb = rows_within::<DB>(
        "v.cadre_id, v.household_id, COUNT(*)",
        "visits",
        "v",
        within,
    )?;
    qb.push(format!(
        " AND v.date >= '{from}' AND v.date <= '{to}' GROUP BY v.cadre_id, v.household_id"
    ));
    Some(qb)
}

fn status_named(s: &str) -> StoreResult<HouseholdStatus> {
    HouseholdStatus::parse(s).ok_or_else(|| StoreError::Corrupt(format!("status {s}")))
}

#[async_trait]
impl<DB: Backend> ReadModel for SqlStore<DB>
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
    async fn list_households(&self, f: &HouseholdFilter) -> StoreResult<Vec<Household>> {
        let Some(mut qb) = households_where(HOUSEHOLD_COLS, f) else {
            return Ok(Vec::new());
        };
        qb.build_query_as::<HouseholdRow>()
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(HouseholdRow::into_household)
            .collect()
    }

    async fn list_briefs(&self, f: &HouseholdFilter) -> StoreResult<Vec<HouseholdBrief>> {
        let Some(mut qb) = households_where(
            "id, code, head_name, village_id, status, last_visit, next_visit, has_plan",
            f,
        ) else {
            return Ok(Vec::new());
        };
        type Row = (
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            bool,
        );
        let rows: Vec<Row> = qb.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(
                |(id, code, head_name, village_id, status, last_visit, next_visit, has_plan)| {
                    Ok(HouseholdBrief {
                        status: HouseholdStatus::parse(&status)
                            .ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
                        followed: shared::projection::Followed {
                            last_visit: last_visit.as_deref().map(date).transpose()?,
                            next_visit: next_visit.as_deref().map(date).transpose()?,
                            has_plan,
                        },
                        id,
                        code,
                        head_name,
                        village_id,
                    })
                },
            )
            .collect()
    }

    async fn get_household(&self, id: &str) -> StoreResult<Household> {
        let sql = format!("SELECT {HOUSEHOLD_COLS} FROM households WHERE id = $1");
        sqlx::query_as::<_, HouseholdRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?
            .into_household()
    }

    async fn list_members(&self, household_id: &str) -> StoreResult<Vec<Member>> {
        sqlx::query_as::<_, MemberRow>(
            "SELECT id, household_id, data FROM members WHERE household_id = $1 ORDER BY position, id",
        )
        .bind(household_id.to_string())
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(MemberRow::into_member)
        .collect()
    }

    async fn list_members_of(&self, household_ids: &[String]) -> StoreResult<Vec<Member>> {
        let mut out = Vec::new();
        // A commune's households in pieces, so no query carries more binds than a database takes.
        for ids in household_ids.chunks(1000) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT id, household_id, data FROM members WHERE household_id",
            );
            push_in(&mut qb, ids);
            for row in qb
                .build_query_as::<MemberRow>()
                .fetch_all(&self.pool)
                .await?
            {
                out.push(row.into_member()?);
            }
        }
        Ok(out)
    }

    async fn get_member(&self, id: &str) -> StoreResult<Member> {
        sqlx::query_as::<_, MemberRow>("SELECT id, household_id, data FROM members WHERE id = $1")
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?
            .into_member()
    }

    async fn list_assessments(&self, household_id: &str) -> StoreResult<Vec<Assessment>> {
        from_data(
            sqlx::query_scalar(
                "SELECT data FROM assessments WHERE household_id = $1 ORDER BY date, id",
            )
            .bind(household_id.to_string())
            .fetch_all(&self.pool)
            .await?,
        )
    }

    async fn list_visits(&self, household_id: &str) -> StoreResult<Vec<Visit>> {
        sqlx::query_as::<_, VisitRow>(
            "SELECT id, household_id, cadre_id, data FROM visits WHERE household_id = $1 ORDER BY date, id",
        )
        .bind(household_id.to_string())
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(VisitRow::into_visit)
        .collect()
    }

    async fn list_support(&self, household_id: &str) -> StoreResult<Vec<SupportAction>> {
        let sql = format!(
            "SELECT {SUPPORT_COLS} FROM support_actions WHERE household_id = $1 ORDER BY planned_date, id"
        );
        sqlx::query_as::<_, SupportRow>(sqlx::AssertSqlSafe(sql))
            .bind(household_id.to_string())
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(SupportRow::into_support)
            .collect()
    }

    async fn list_support_of(&self, household_ids: &[String]) -> StoreResult<Vec<SupportAction>> {
        if household_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = sqlx::QueryBuilder::<DB>::new(format!(
            "SELECT {SUPPORT_COLS} FROM support_actions WHERE household_id"
        ));
        push_in(&mut qb, household_ids);
        let mut out = qb
            .build_query_as::<SupportRow>()
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(SupportRow::into_support)
            .collect::<StoreResult<Vec<_>>>()?;
        in_order(&mut out, |s| (s.data.planned_date, s.id.as_str()));
        Ok(out)
    }

    async fn list_review_steps(
        &self,
        household_id: &str,
    ) -> StoreResult<Vec<shared::review::ReviewStep>> {
        from_data(
            sqlx::query_scalar(
                "SELECT data FROM review_steps WHERE household_id = $1 ORDER BY date, id",
            )
            .bind(household_id.to_string())
            .fetch_all(&self.pool)
            .await?,
        )
    }

    async fn movements_in(&self, within: &Within) -> StoreResult<Vec<shared::ledger::Movement>> {
        let Some(mut qb) =
            rows_within::<DB>(super::ledger::MOVEMENT_COLS, "movements", "m", within)
        else {
            return Ok(Vec::new());
        };
        let mut out = qb
            .build_query_as::<super::ledger::MovementRow>()
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(super::ledger::MovementRow::into_movement)
            .collect::<StoreResult<Vec<_>>>()?;
        // Ordered here, not by the database (`in_order`).
        in_order(&mut out, |m| (m.date, m.id.as_str()));
        Ok(out)
    }

    async fn report_households(
        &self,
        within: &Within,
        read: RegisterRead,
        periods: &[(NaiveDate, NaiveDate)],
    ) -> StoreResult<ReportRegister> {
        // Read by position, only what the reports count: a province's report reads each of
        // its communes' 8,000 households this way when its kept part is stale. The
        // statements read one snapshot: a household decided between two of them is
        // counted once, from its own ledger.
        let mut tx = self.pool.begin().await?;
        if let Some(sql) = DB::READ_SNAPSHOT {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        let mut register = ReportRegister::default();
        // An area that names no place has nothing in any period.
        let nothing = || ReportRegister {
            periods: vec![crate::store::PeriodRecords::default(); periods.len()],
            ..ReportRegister::default()
        };
        // Each household read on its own: (id, code, head's name, village, status, causes,
        // made).
        type HouseholdCols = (String, String, String, String, String, String, String);
        let (rows, movements): (Vec<HouseholdCols>, Vec<sqlx::QueryBuilder<DB>>) = match read {
            RegisterRead::Named => {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "SELECT h.id, h.code, h.head_name, h.village_id, h.status, h.causes, \
                     h.created_at FROM households h WHERE 1 = 1",
                );
                if !push_within(&mut qb, "h", within) {
                    return Ok(nothing());
                }
                let rows = qb.build_query_as().fetch_all(&mut *tx).await?;
                let movements = rows_within::<DB>(REPORT_MOVEMENT_COLS, "movements", "m", within);
                (rows, movements.into_iter().collect())
            }
            RegisterRead::Figures { unmoved_since } => {
                let (Some(mut all), Some(mut own)) = (
                    grouped::<DB>(within),
                    moved_or_new::<DB>(within, unmoved_since),
                ) else {
                    return Ok(nothing());
                };
                // Every household in its group, by (village, status, causes as stored).
                let mut groups: std::collections::BTreeMap<(String, String, String), i64> = all
                    .build_query_as::<(String, String, String, i64)>()
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(|(village, s, causes, n)| ((village, s, causes), n))
                    .collect();
                let rows: Vec<HouseholdCols> = own
                    .build_query_as::<(String, String, String, String, String)>()
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    // No names: a province's parts have no household lines.
                    .map(|(id, village, s, causes, made)| {
                        (id, String::new(), String::new(), village, s, causes, made)
                    })
                    .collect();
                // Those read on their own are taken out of their groups (one snapshot: each
                // is in one).
                for (id, _, _, village, s, causes, _) in &rows {
                    let causes = if s == "poor" { causes.as_str() } else { "[]" };
                    let key = (village.clone(), s.clone(), causes.to_string());
                    match groups.get_mut(&key) {
                        Some(n) if *n > 0 => *n -= 1,
                        _ => {
                            return Err(StoreError::Corrupt(format!(
                                "household {id} outside the groups of its village"
                            )));
                        }
                    }
                }
                for ((village_id, s, causes), n) in groups {
                    if n == 0 {
                        continue;
                    }
                    register.unmoved.push(shared::report::Unmoved {
                        area_id: village_id,
                        status: status_named(&s)?,
                        causes: serde_json::from_str(&causes)?,
                        households: usize::try_from(n).map_err(|_| {
                            StoreError::Corrupt(format!("{n} households in a group"))
                        })?,
                    });
                }
                // The movements of those read on their own, by their ids.
                let movements = rows
                    .chunks(500)
                    .map(|chunk| {
                        let mut qb = sqlx::QueryBuilder::<DB>::new(format!(
                            "SELECT {REPORT_MOVEMENT_COLS} FROM movements m WHERE m.household_id"
                        ));
                        let ids: Vec<String> = chunk.iter().map(|r| r.0.clone()).collect();
                        push_in(&mut qb, &ids);
                        qb
                    })
                    .collect();
                (rows, movements)
            }
        };
        type MovementCols = (
            String,
            String,
            Option<String>,
            Option<String>,
            String,
            String,
        );
        let mut ledger: std::collections::HashMap<String, Vec<shared::ledger::Movement>> =
            std::collections::HashMap::new();
        for mut qb in movements {
            for (household_id, id, from, to, day, basis) in qb
                .build_query_as::<MovementCols>()
                .fetch_all(&mut *tx)
                .await?
            {
                let m = shared::ledger::Movement {
                    from: from.as_deref().map(status_named).transpose()?,
                    to: to.as_deref().map(status_named).transpose()?,
                    date: date(&day)?,
                    basis: serde_json::from_str(&basis)?,
                    id,
                    household_id: String::new(),
                    by: String::new(),
                };
                ledger.entry(household_id).or_default().push(m);
            }
        }
        // The periods' support and visits in the same snapshot: each is of a household
        // read above.
        for &(from, to) in periods {
            let mut of_period = crate::store::PeriodRecords::default();
            // Only what the report counts of each: a province's part reads a commune's
            // year of support, and the whole record was most of its decoding.
            if let Some(mut qb) = delivered::<DB>("s.household_id, s.data", within, from, to) {
                for (household_id, data) in qb
                    .build_query_as::<(String, String)>()
                    .fetch_all(&mut *tx)
                    .await?
                {
                    let counted: DeliveredCounted = serde_json::from_str(&data)?;
                    of_period.delivered.push(shared::report::DeliveredFact {
                        household_id,
                        project: counted.project,
                        amount_vnd: counted.amount_vnd,
                    });
                }
            }
            if let Some(mut qb) = visits_counted::<DB>(within, from, to) {
                of_period.visits = qb.build_query_as().fetch_all(&mut *tx).await?;
            }
            register.periods.push(of_period);
        }
        tx.rollback().await?;
        register.households = rows
            .into_iter()
            .map(|(id, code, head_name, village_id, s, causes, created_at)| {
                let mut own = ledger.remove(&id).unwrap_or_default();
                own.sort_unstable_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
                Ok(shared::report::HouseholdFact::from_ledger(
                    shared::report::Registered {
                        id,
                        code,
                        head_name,
                        status: status_named(&s)?,
                        causes: serde_json::from_str(&causes)?,
                        created_at: &created_at,
                    },
                    &own,
                    village_id,
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(register)
    }

    async fn actor_devices(
        &self,
        actors: &[String],
    ) -> StoreResult<std::collections::BTreeMap<String, (String, String)>> {
        let mut out = std::collections::BTreeMap::new();
        for chunk in actors.chunks(500) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT actor_id, user_id, device_id FROM device_actors WHERE actor_id",
            );
            push_in(&mut qb, chunk);
            let rows: Vec<(String, String, String)> =
                qb.build_query_as().fetch_all(&self.pool).await?;
            out.extend(rows.into_iter().map(|(a, u, d)| (a, (u, d))));
        }
        Ok(out)
    }

    async fn list_movements(
        &self,
        household_id: &str,
    ) -> StoreResult<Vec<shared::ledger::Movement>> {
        let sql = format!(
            "SELECT {} FROM movements m WHERE m.household_id = $1 ORDER BY m.date, m.id",
            super::ledger::MOVEMENT_COLS
        );
        sqlx::query_as::<_, super::ledger::MovementRow>(sqlx::AssertSqlSafe(sql))
            .bind(household_id.to_string())
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(super::ledger::MovementRow::into_movement)
            .collect()
    }

    async fn review_steps_in(
        &self,
        within: &Within,
        kind: Option<&str>,
        from: Option<NaiveDate>,
    ) -> StoreResult<Vec<shared::review::ReviewStep>> {
        let Some(mut qb) = rows_within::<DB>("s.data", "review_steps", "s", within) else {
            return Ok(Vec::new());
        };
        if let Some(k) = kind {
            qb.push(" AND s.kind = ").push_bind(k.to_string());
        }
        if let Some(from) = from {
            // Written into the statement, not bound: a generic plan (PostgreSQL's, after a
            // statement's fifth run on a connection) cannot see a bound date's selectivity
            // and read the province's steps (`EXPLAIN`: 77 ms against 18 ms at 10
            // communes). A date's text is digits and dashes only.
            qb.push(format!(" AND s.date >= '{from}'"));
        }
        let mut out: Vec<shared::review::ReviewStep> =
            from_data(qb.build_query_scalar().fetch_all(&self.pool).await?)?;
        in_order(&mut out, |s| (s.date, s.id.as_str()));
        Ok(out)
    }

    async fn assessments_in(
        &self,
        within: &Within,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Assessment>> {
        let Some(mut qb) = rows_within::<DB>("a.data", "assessments", "a", within) else {
            return Ok(Vec::new());
        };
        // The dates written in, as the review steps' (a date is digits and dashes).
        qb.push(format!(" AND a.date >= '{from}' AND a.date <= '{to}'"));
        let mut out: Vec<Assessment> =
            from_data(qb.build_query_scalar().fetch_all(&self.pool).await?)?;
        in_order(&mut out, |a| (a.date, a.id.as_str()));
        Ok(out)
    }

    async fn delivered_in(
        &self,
        within: &Within,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<SupportAction>> {
        let Some(mut qb) = delivered::<DB>(
            "s.id, s.household_id, s.status, s.delivered_date, s.data",
            within,
            from,
            to,
        ) else {
            return Ok(Vec::new());
        };
        let mut out = qb
            .build_query_as::<SupportRow>()
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(SupportRow::into_support)
            .collect::<StoreResult<Vec<_>>>()?;
        in_order(&mut out, |s| (s.delivered_date, s.id.as_str()));
        Ok(out)
    }

    async fn visits_in(
        &self,
        within: &Within,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<(String, String, i64)>> {
        let Some(mut qb) = visits_counted::<DB>(within, from, to) else {
            return Ok(Vec::new());
        };
        Ok(qb.build_query_as().fetch_all(&self.pool).await?)
    }

    async fn get_support(&self, id: &str) -> StoreResult<SupportAction> {
        let sql = format!("SELECT {SUPPORT_COLS} FROM support_actions WHERE id = $1");
        sqlx::query_as::<_, SupportRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?
            .into_support()
    }

    async fn commune_status_counts(
        &self,
        communes: &[String],
    ) -> StoreResult<Vec<(String, HouseholdStatus, i64)>> {
        let mut out = Vec::new();
        // A commune's villages all come in the piece that names it.
        for ids in communes.chunks(1000) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT a.parent_id, c.status, CAST(SUM(c.households) AS BIGINT) \
                 FROM village_status_counts c JOIN areas a ON a.id = c.village_id \
                 WHERE c.households > 0 AND a.parent_id",
            );
            push_in(&mut qb, ids);
            qb.push(" GROUP BY a.parent_id, c.status");
            for (commune, status, n) in qb
                .build_query_as::<(String, String, i64)>()
                .fetch_all(&self.pool)
                .await?
            {
                let status = HouseholdStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?;
                out.push((commune, status, n));
            }
        }
        out.sort_unstable_by(|a, b| {
            (a.0.as_str(), a.1.as_str()).cmp(&(b.0.as_str(), b.1.as_str()))
        });
        Ok(out)
    }

    async fn status_counts(&self, within: &Within) -> StoreResult<Vec<StatusCount>> {
        let mut out = Vec::new();
        // Kept by the database's triggers with every write of a household (migration
        // 0012); a province's communes (by their villages' parent) or villages in pieces,
        // so no query carries too many binds.
        let (col, ids): (&str, &[String]) = match within {
            Within::Everywhere => ("", &[]),
            Within::Communes(ids) => ("a.parent_id", ids),
            Within::Villages(ids) => ("c.village_id", ids),
        };
        let pieces: Vec<&[String]> = if col.is_empty() {
            vec![&[]]
        } else {
            ids.chunks(1000).collect()
        };
        for ids in pieces {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT c.village_id, c.status, c.households AS n FROM village_status_counts c \
                 JOIN areas a ON a.id = c.village_id WHERE c.households > 0",
            );
            if !col.is_empty() {
                qb.push(format!(" AND {col}"));
                push_in(&mut qb, ids);
            }
            for r in qb.build().fetch_all(&self.pool).await? {
                let status: String = r.try_get("status")?;
                out.push(StatusCount {
                    village_id: r.try_get("village_id")?,
                    status: HouseholdStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
                    households: r.try_get("n")?,
                });
            }
        }
        // Ordered here, as `in_order` (a province's 18,000 rows took PostgreSQL longer to
        // sort than to read).
        out.sort_unstable_by(|a, b| {
            (a.village_id.as_str(), a.status.as_str())
                .cmp(&(b.village_id.as_str(), b.status.as_str()))
        });
        Ok(out)
    }
}
