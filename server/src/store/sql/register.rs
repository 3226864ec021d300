//! The commune's register apart from households: areas, users, who accompanies which
//! household (assignments) and the targets set for an area.

use super::*;
use shared::area::AreaKind;

const AREA_COLS: &str = "id, parent_id, kind, code, name";
const USER_COLS: &str = "id, username, full_name, role, area_id, active, password_hash";
const ASSIGNMENT_COLS: &str = "id, household_id, cadre_id, from_date, to_date, cadence_days";

#[derive(sqlx::FromRow)]
struct AreaRow {
    id: String,
    parent_id: Option<String>,
    kind: String,
    code: String,
    name: String,
}

/// Levels of the area tree (province, commune, village): the recursive area queries stop
/// here whatever the rows say, so no edit can make them loop.
const MAX_AREA_DEPTH: i64 = 3;

impl AreaRow {
    fn into_area(self) -> StoreResult<Area> {
        Ok(Area {
            kind: AreaKind::parse(&self.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("area kind {}", self.kind)))?,
            id: self.id,
            parent_id: self.parent_id,
            code: self.code,
            name: self.name,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub role: String,
    pub area_id: String,
    pub active: bool,
    pub password_hash: String,
}

impl UserRow {
    pub fn into_user(self) -> StoreResult<User> {
        Ok(User {
            role: parse_role(&self.role)?,
            id: self.id,
            username: self.username,
            full_name: self.full_name,
            area_id: self.area_id,
            active: self.active,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AssignmentRow {
    id: String,
    household_id: String,
    cadre_id: String,
    from_date: String,
    to_date: Option<String>,
    cadence_days: i64,
}

impl AssignmentRow {
    fn into_assignment(self) -> StoreResult<Assignment> {
        Ok(Assignment {
            from_date: date(&self.from_date)?,
            to_date: self.to_date.as_deref().map(date).transpose()?,
            id: self.id,
            household_id: self.household_id,
            cadre_id: self.cadre_id,
            cadence_days: self.cadence_days,
        })
    }
}

#[derive(sqlx::FromRow)]
struct TargetRow {
    area_id: String,
    year: i64,
    data: String,
}

impl TargetRow {
    fn into_target(self) -> StoreResult<Target> {
        Ok(Target {
            year: i32::try_from(self.year)
                .map_err(|_| StoreError::Corrupt(format!("year {}", self.year)))?,
            data: serde_json::from_str::<shared::target::TargetInput>(&self.data)?,
            area_id: self.area_id,
        })
    }
}

/// Rows written inside a caller's transaction (a form's write, the commune import).
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
    pub(super) async fn insert_area(conn: &mut DB::Connection, a: &Area) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO areas (id, parent_id, kind, code, name) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(a.id.clone())
        .bind(a.parent_id.clone())
        .bind(a.kind.as_str())
        .bind(a.code.clone())
        .bind(a.name.clone())
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    pub(super) async fn insert_user(
        conn: &mut DB::Connection,
        u: &User,
        hash: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO users (id, username, full_name, password_hash, role, area_id, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(u.id.clone())
        .bind(u.username.clone())
        .bind(u.full_name.clone())
        .bind(hash.to_string())
        .bind(u.role.as_str())
        .bind(u.area_id.clone())
        .bind(u.active)
        .bind(now_ms())
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    pub(super) async fn insert_assignment(
        conn: &mut DB::Connection,
        a: &Assignment,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO assignments (id, household_id, cadre_id, from_date, to_date, cadence_days, commune_id) \
             VALUES ($1, $2, $3, $4, $5, $6, (SELECT commune_id FROM households WHERE id = $2))",
        )
        .bind(a.id.clone())
        .bind(a.household_id.clone())
        .bind(a.cadre_id.clone())
        .bind(a.from_date.to_string())
        .bind(a.to_date.map(|d| d.to_string()))
        .bind(a.cadence_days)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    pub(super) async fn upsert_target(conn: &mut DB::Connection, t: &Target) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO targets (area_id, year, data) VALUES ($1, $2, $3) \
             ON CONFLICT (area_id, year) DO UPDATE SET data = excluded.data",
        )
        .bind(t.area_id.clone())
        .bind(i64::from(t.year))
        .bind(json(&t.data))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn target_on(
        conn: &mut DB::Connection,
        area_id: &str,
        year: i32,
    ) -> StoreResult<Option<Target>> {
        sqlx::query_as::<_, TargetRow>(
            "SELECT area_id, year, data FROM targets WHERE area_id = $1 AND year = $2",
        )
        .bind(area_id.to_string())
        .bind(i64::from(year))
        .fetch_optional(&mut *conn)
        .await?
        .map(TargetRow::into_target)
        .transpose()
    }
}

#[async_trait]
impl<DB: Backend> Register for SqlStore<DB>
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
    async fn list_areas(&self) -> StoreResult<Vec<Area>> {
        let sql = format!("SELECT {AREA_COLS} FROM areas");
        let rows = sqlx::query_as::<_, AreaRow>(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        by_code(rows)
    }

    async fn areas_under(&self, id: &str) -> StoreResult<Vec<Area>> {
        self.walk_down(id, false).await
    }

    async fn communes_under(&self, id: &str) -> StoreResult<Vec<Area>> {
        self.walk_down(id, true).await
    }

    async fn get_area(&self, id: &str) -> StoreResult<Area> {
        let sql = format!("SELECT {AREA_COLS} FROM areas WHERE id = $1");
        sqlx::query_as::<_, AreaRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?
            .into_area()
    }

    async fn area_path(&self, id: &str) -> StoreResult<Vec<String>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "WITH RECURSIVE up(id, parent_id, depth) AS ( \
               SELECT id, parent_id, 0 FROM areas WHERE id = $1 \
               UNION ALL SELECT a.id, a.parent_id, up.depth + 1 FROM areas a JOIN up ON a.id = up.parent_id \
               WHERE up.depth < $2) \
             SELECT id FROM up ORDER BY depth",
        )
        .bind(id.to_string())
        .bind(MAX_AREA_DEPTH)
        .fetch_all(&self.pool)
        .await?;
        if ids.is_empty() {
            return Err(StoreError::NotFound);
        }
        Ok(ids)
    }

    async fn villages_under(&self, id: &str) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "WITH RECURSIVE down(id, kind, depth) AS ( \
               SELECT id, kind, 0 FROM areas WHERE id = $1 \
               UNION ALL SELECT a.id, a.kind, d.depth + 1 FROM areas a JOIN down d ON a.parent_id = d.id \
               WHERE d.depth < $2) \
             SELECT DISTINCT id FROM down WHERE kind = 'village' ORDER BY id",
        )
        .bind(id.to_string())
        .bind(MAX_AREA_DEPTH)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn within(&self, id: &str) -> StoreResult<Within> {
        // The communes under the area (itself when it is one), and its villages not under
        // a commune (itself when it is a village).
        let rows: Vec<(String, String)> = sqlx::query_as(
            "WITH RECURSIVE down(id, kind, depth) AS ( \
               SELECT id, kind, 0 FROM areas WHERE id = $1 \
               UNION ALL SELECT a.id, a.kind, d.depth + 1 FROM areas a JOIN down d ON a.parent_id = d.id \
               WHERE d.depth < $2 AND d.kind <> 'commune') \
             SELECT DISTINCT id, kind FROM down WHERE kind IN ('commune', 'village') ORDER BY id",
        )
        .bind(id.to_string())
        .bind(MAX_AREA_DEPTH)
        .fetch_all(&self.pool)
        .await?;
        let (communes, villages): (Vec<_>, Vec<_>) =
            rows.into_iter().partition(|(_, kind)| kind == "commune");
        Ok(match (communes.is_empty(), villages.is_empty()) {
            (false, true) => Within::Communes(communes.into_iter().map(|(id, _)| id).collect()),
            // A village (or villages outside any commune): by their own ids.
            (true, _) => Within::Villages(villages.into_iter().map(|(id, _)| id).collect()),
            // Both (a tree that is not province → commune → village): every village.
            (false, false) => Within::Villages(self.villages_under(id).await?),
        })
    }

    async fn create_area(&self, actor: &Actor, input: &AreaInput) -> StoreResult<Area> {
        let area = Area {
            id: uuid::Uuid::now_v7().to_string(),
            parent_id: input.parent_id.clone(),
            kind: input.kind,
            code: input.code.trim().to_string(),
            name: input.name.trim().to_string(),
        };
        let mut tx = self.begin_write().await?;
        Self::insert_area(&mut tx, &area).await?;
        insert_audit(&mut tx, actor, "create", "area", &area.id, created(&area)).await?;
        tx.commit().await?;
        Ok(area)
    }

    async fn update_area(&self, actor: &Actor, id: &str, input: &AreaInput) -> StoreResult<Area> {
        let before = self.get_area(id).await?;
        let after = Area {
            id: before.id.clone(),
            parent_id: input.parent_id.clone(),
            kind: input.kind,
            code: input.code.trim().to_string(),
            name: input.name.trim().to_string(),
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE areas SET parent_id = $2, kind = $3, code = $4, name = $5 WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(after.parent_id.clone())
        .bind(after.kind.as_str())
        .bind(after.code.clone())
        .bind(after.name.clone())
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, actor, "update", "area", id, diff(&before, &after)).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn count_users(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn credentials(&self, username: &str) -> StoreResult<Credentials> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE username = $1");
        let row = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
            .bind(username.to_string())
            .fetch_one(&self.pool)
            .await?;
        let password_hash = row.password_hash.clone();
        Ok(Credentials {
            user: row.into_user()?,
            password_hash,
        })
    }

    async fn get_user(&self, id: &str) -> StoreResult<User> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
        sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?
            .into_user()
    }

    async fn list_users(&self, area_ids: Option<&[String]>) -> StoreResult<Vec<User>> {
        let mut qb = sqlx::QueryBuilder::<DB>::new(format!("SELECT {USER_COLS} FROM users"));
        if let Some(ids) = area_ids {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            qb.push(" WHERE area_id");
            push_in(&mut qb, ids);
        }
        qb.push(" ORDER BY username");
        qb.build_query_as::<UserRow>()
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(UserRow::into_user)
            .collect()
    }

    async fn user_labels(
        &self,
        ids: &[String],
    ) -> StoreResult<std::collections::BTreeMap<String, (String, String)>> {
        let mut out = std::collections::BTreeMap::new();
        // A province's report names thousands of cadres: few statements on PostgreSQL.
        for chunk in ids.chunks(DB::VALUES_PER_STATEMENT) {
            let mut qb =
                sqlx::QueryBuilder::<DB>::new("SELECT id, full_name, area_id FROM users WHERE id");
            push_in(&mut qb, chunk);
            let rows: Vec<(String, String, String)> =
                qb.build_query_as().fetch_all(&self.pool).await?;
            out.extend(rows.into_iter().map(|(id, name, area)| (id, (name, area))));
        }
        Ok(out)
    }

    async fn create_user(
        &self,
        actor: &Actor,
        user: &User,
        password_hash: &str,
    ) -> StoreResult<User> {
        let mut tx = self.begin_write().await?;
        Self::insert_user(&mut tx, user, password_hash).await?;
        insert_audit(&mut tx, actor, "create", "user", &user.id, created(user)).await?;
        tx.commit().await?;
        Ok(user.clone())
    }

    async fn update_user(
        &self,
        actor: &Actor,
        user: &User,
        password_hash: Option<&str>,
    ) -> StoreResult<User> {
        let before = self.get_user(&user.id).await?;
        let mut tx = self.begin_write().await?;
        if DB::BACKEND == "postgres" && before.role == shared::user::Role::Admin {
            // Two administrators disabling each other at once: the second waits here for
            // the first and then counts what it left (SQLite's writes take turns anyway).
            sqlx::query("SELECT id FROM users WHERE role = 'admin' AND active FOR UPDATE")
                .fetch_all(&mut *tx)
                .await?;
        }
        sqlx::query(
            "UPDATE users SET full_name = $2, role = $3, area_id = $4, active = $5 WHERE id = $1",
        )
        .bind(user.id.clone())
        .bind(user.full_name.clone())
        .bind(user.role.as_str())
        .bind(user.area_id.clone())
        .bind(user.active)
        .execute(&mut *tx)
        .await?;
        let mut changes = diff(&before, user);
        if let Some(hash) = password_hash {
            sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                .bind(user.id.clone())
                .bind(hash.to_string())
                .execute(&mut *tx)
                .await?;
            changes["password"] = serde_json::json!("changed");
        }
        let is_admin = |u: &User| u.role == shared::user::Role::Admin && u.active;
        let admins: i64 = if is_admin(&before) && !is_admin(user) {
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active")
                .fetch_one(&mut *tx)
                .await?
        } else {
            1
        };
        if admins == 0 {
            // Dropping the transaction rolls the update back.
            return Err(StoreError::LastAdministrator);
        }
        insert_audit(&mut tx, actor, "update", "user", &user.id, changes).await?;
        tx.commit().await?;
        self.sessions.forget();
        Ok(user.clone())
    }

    async fn list_assignments(&self, f: &AssignmentFilter) -> StoreResult<Vec<Assignment>> {
        let Some(mut qb) = rows_within::<DB>(
            "a.id, a.household_id, a.cadre_id, a.from_date, a.to_date, a.cadence_days",
            "assignments",
            "a",
            &f.within,
        ) else {
            return Ok(Vec::new());
        };
        if let Some(h) = &f.household_id {
            qb.push(" AND a.household_id = ").push_bind(h.clone());
        }
        if let Some(c) = &f.cadre_id {
            qb.push(" AND a.cadre_id = ").push_bind(c.clone());
        }
        if let Some(day) = f.active_on {
            // An assignment ends on its end date (`Assignment::active_on`). The day is
            // written in, as the review steps' (digits and dashes).
            qb.push(format!(
                " AND a.from_date <= '{day}' AND (a.to_date IS NULL OR a.to_date > '{day}')"
            ));
        }
        let mut out = qb
            .build_query_as::<AssignmentRow>()
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(AssignmentRow::into_assignment)
            .collect::<StoreResult<Vec<_>>>()?;
        in_order(&mut out, |a| (a.from_date, a.id.as_str()));
        Ok(out)
    }

    async fn get_assignment(&self, id: &str) -> StoreResult<Assignment> {
        let sql = format!("SELECT {ASSIGNMENT_COLS} FROM assignments WHERE id = $1");
        sqlx::query_as::<_, AssignmentRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?
            .into_assignment()
    }

    async fn create_assignment(&self, actor: &Actor, a: &Assignment) -> StoreResult<Assignment> {
        self.change_assignments(actor, &[], std::slice::from_ref(a))
            .await?;
        Ok(a.clone())
    }

    async fn end_assignment(
        &self,
        actor: &Actor,
        id: &str,
        to_date: NaiveDate,
    ) -> StoreResult<Assignment> {
        self.change_assignments(actor, &[(id.to_string(), to_date)], &[])
            .await?;
        self.get_assignment(id).await
    }

    async fn change_assignments(
        &self,
        actor: &Actor,
        ends: &[(String, NaiveDate)],
        creates: &[Assignment],
    ) -> StoreResult<()> {
        let mut befores = Vec::with_capacity(ends.len());
        for (id, _) in ends {
            befores.push(self.get_assignment(id).await?);
        }
        let mut tx = self.begin_write().await?;
        for (before, (id, to_date)) in befores.iter().zip(ends) {
            let after = Assignment {
                to_date: Some(*to_date),
                ..before.clone()
            };
            sqlx::query("UPDATE assignments SET to_date = $2 WHERE id = $1")
                .bind(id.to_string())
                .bind(to_date.to_string())
                .execute(&mut *tx)
                .await?;
            insert_audit(
                &mut tx,
                actor,
                "update",
                "assignment",
                id,
                diff(before, &after),
            )
            .await?;
        }
        for a in creates {
            Self::insert_assignment(&mut tx, a).await?;
            insert_audit(&mut tx, actor, "create", "assignment", &a.id, created(a)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn list_targets(&self, area_ids: &[String]) -> StoreResult<Vec<Target>> {
        if area_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb =
            sqlx::QueryBuilder::<DB>::new("SELECT area_id, year, data FROM targets WHERE area_id");
        push_in(&mut qb, area_ids);
        qb.push(" ORDER BY year, area_id");
        qb.build_query_as::<TargetRow>()
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(TargetRow::into_target)
            .collect()
    }

    async fn put_target(&self, actor: &Actor, t: &Target) -> StoreResult<Target> {
        let mut tx = self.begin_write().await?;
        let before = Self::target_on(&mut tx, &t.area_id, t.year).await?;
        Self::upsert_target(&mut tx, t).await?;
        let changes = match &before {
            Some(b) => diff(b, t),
            None => created(t),
        };
        let entity_id = format!("{}/{}", t.area_id, t.year);
        insert_audit(&mut tx, actor, "put", "target", &entity_id, changes).await?;
        tx.commit().await?;
        Ok(t.clone())
    }
}

/// The area tree read downwards.
impl<DB: Backend> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    String: Column<DB>,
    Option<String>: Column<DB>,
    i64: Column<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'s> &'s str: ColumnIndex<DB::Row>,
{
    /// The area `id` and the areas under it (`communes_only`: only the communes, the walk
    /// going neither below a commune nor into villages), ordered by code. Each row is
    /// carried down the tree itself: joined back to `areas` at the end, the province's
    /// whole table was read to pick out a commune's sixty.
    async fn walk_down(&self, id: &str, communes_only: bool) -> StoreResult<Vec<Area>> {
        let (descend, keep) = if communes_only {
            (
                "AND d.kind <> 'commune' AND a.kind <> 'village'",
                "WHERE kind = 'commune'",
            )
        } else {
            ("", "")
        };
        let sql = format!(
            "WITH RECURSIVE down({AREA_COLS}, depth) AS ( \
               SELECT {AREA_COLS}, 0 FROM areas WHERE id = $1 \
               UNION ALL SELECT a.id, a.parent_id, a.kind, a.code, a.name, d.depth + 1 \
               FROM areas a JOIN down d ON a.parent_id = d.id \
               WHERE d.depth < $2 {descend}) \
             SELECT DISTINCT {AREA_COLS} FROM down {keep}"
        );
        let rows = sqlx::query_as::<_, AreaRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(MAX_AREA_DEPTH)
            .fetch_all(&self.pool)
            .await?;
        by_code(rows)
    }
}

/// Areas ordered by code, then id, by the server: a province's thousands of areas took
/// PostgreSQL longer to sort than to read (its collation compares through the C library).
/// Codes are official administrative codes (digits and dashes), which sort the same by
/// bytes as by any collation.
fn by_code(rows: Vec<AreaRow>) -> StoreResult<Vec<Area>> {
    let mut areas = rows
        .into_iter()
        .map(AreaRow::into_area)
        .collect::<StoreResult<Vec<_>>>()?;
    areas.sort_unstable_by(|a, b| {
        (a.code.as_str(), a.id.as_str()).cmp(&(b.code.as_str(), b.id.as_str()))
    });
    Ok(areas)
}
