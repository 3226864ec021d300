//! The SQL behind `Store`, written once and instantiated for SQLite and PostgreSQL. Both
//! accept `$n` placeholders and the same schema (`migrations/*/`), so only connecting
//! differs; a query that one day must differ gets its own arm here.

use super::*;
use serde::de::DeserializeOwned;
use shared::area::AreaKind;
use shared::household::{PriorityFlags, Residence};
use shared::support::{SupportInput, SupportStatus};
use shared::target::TargetInput;
use shared::visit::VisitInput;
use sqlx::{QueryBuilder, Row};

/// An enum's serde name, e.g. `Residence::Rural` → `rural`.
pub(super) fn name_of<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        other => unreachable!("unit enum serialises to a string, got {other:?}"),
    }
}

fn from_name<T: DeserializeOwned>(s: &str) -> StoreResult<T> {
    Ok(serde_json::from_value(serde_json::Value::String(
        s.to_string(),
    ))?)
}

pub(super) fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("records serialise to JSON")
}

fn date(s: &str) -> StoreResult<NaiveDate> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("date {s}")))
}

pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[derive(sqlx::FromRow)]
struct AreaRow {
    id: String,
    parent_id: Option<String>,
    kind: String,
    code: String,
    name: String,
}

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
struct UserRow {
    id: String,
    username: String,
    full_name: String,
    role: String,
    area_id: String,
    active: bool,
    password_hash: String,
}

impl UserRow {
    fn into_user(self) -> StoreResult<User> {
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
struct SessionRow {
    id: String,
    user_id: String,
    device_id: String,
    created_at: i64,
    last_seen_at: i64,
    revoked_at: Option<i64>,
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Session {
            id: r.id,
            user_id: r.user_id,
            device_id: r.device_id,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct HouseholdRow {
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
    fn into_household(self) -> StoreResult<Household> {
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
            data: serde_json::from_str::<TargetInput>(&self.data)?,
            area_id: self.area_id,
        })
    }
}

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

/// The fields that differ between two versions of a record: `{field: [before, after]}`.
fn diff<T: Serialize>(before: &T, after: &T) -> serde_json::Value {
    let (b, a) = (
        serde_json::to_value(before).unwrap_or_default(),
        serde_json::to_value(after).unwrap_or_default(),
    );
    match (b, a) {
        (serde_json::Value::Object(b), serde_json::Value::Object(a)) => {
            let mut out = serde_json::Map::new();
            for (k, av) in &a {
                let bv = b.get(k).cloned().unwrap_or(serde_json::Value::Null);
                if &bv != av {
                    out.insert(k.clone(), serde_json::json!([bv, av]));
                }
            }
            serde_json::Value::Object(out)
        }
        (b, a) => serde_json::json!([b, a]),
    }
}

/// What household search matches: code, head and address, folded (see `shared::search`).
pub(super) fn search_text(h: &Household) -> String {
    shared::search::fold(&format!("{} {} {}", h.code, h.head_name, h.address))
}

fn created<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::json!({ "created": v })
}

const AREA_COLS: &str = "id, parent_id, kind, code, name";
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
const USER_COLS: &str = "id, username, full_name, role, area_id, active, password_hash";
const SESSION_COLS: &str = "id, user_id, device_id, created_at, last_seen_at, revoked_at";
const HOUSEHOLD_COLS: &str = "id, code, village_id, address, head_name, residence, status, priority, causes, created_at, updated_at";

/// A write transaction, holding this process's write turn where the database has one.
struct WriteTx<'c, DB: sqlx::Database> {
    tx: sqlx::Transaction<'c, DB>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl<DB: sqlx::Database> std::ops::Deref for WriteTx<'_, DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.tx
    }
}

impl<DB: sqlx::Database> std::ops::DerefMut for WriteTx<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }
}

impl<DB: sqlx::Database> WriteTx<'_, DB> {
    async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

macro_rules! sql_store {
    ($name:ident, $db:ty, $docs:ty, $backend:literal, $begin:literal) => {
        /// `Store` on
        #[doc = $backend]
        pub struct $name {
            pool: sqlx::Pool<$db>,
            /// SQLite has one writer at a time: writers of this process queue here, in
            /// order, instead of polling the database lock in SQLite's busy handler (which
            /// sleeps and leaves the lock idle). `None` on PostgreSQL.
            write_turn: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
            /// The household documents (see `super::docs`).
            docs: $docs,
        }

        impl $name {
            pub fn pool(&self) -> &sqlx::Pool<$db> {
                &self.pool
            }

            async fn begin_write(&self) -> StoreResult<WriteTx<'static, $db>> {
                let turn = match &self.write_turn {
                    Some(m) => Some(m.clone().lock_owned().await),
                    None => None,
                };
                Ok(WriteTx {
                    tx: self.pool.begin_with($begin).await?,
                    _turn: turn,
                })
            }

            pub(super) async fn audit(
                conn: &mut <$db as sqlx::Database>::Connection,
                actor: &Actor,
                action: &str,
                entity: &str,
                entity_id: &str,
                changes: serde_json::Value,
            ) -> StoreResult<()> {
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

            async fn insert_area(
                conn: &mut <$db as sqlx::Database>::Connection,
                a: &Area,
            ) -> StoreResult<()> {
                sqlx::query("INSERT INTO areas (id, parent_id, kind, code, name) VALUES ($1, $2, $3, $4, $5)")
                    .bind(a.id.clone())
                    .bind(a.parent_id.clone())
                    .bind(a.kind.as_str())
                    .bind(a.code.clone())
                    .bind(a.name.clone())
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            async fn insert_user(
                conn: &mut <$db as sqlx::Database>::Connection,
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

            async fn insert_household(
                conn: &mut <$db as sqlx::Database>::Connection,
                h: &Household,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO households (id, code, village_id, address, head_name, residence, status, priority, causes, created_at, updated_at, search_text) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
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
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            pub(super) async fn insert_member(
                conn: &mut <$db as sqlx::Database>::Connection,
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

            async fn insert_assessment(
                conn: &mut <$db as sqlx::Database>::Connection,
                a: &Assessment,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO assessments (id, household_id, date, rule_set_id, classification, data) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(a.id.clone())
                .bind(a.household_id.clone())
                .bind(a.date.to_string())
                .bind(a.explanation.rule_set_id.clone())
                .bind(a.classification.as_str())
                .bind(json(a))
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            async fn insert_assignment(
                conn: &mut <$db as sqlx::Database>::Connection,
                a: &Assignment,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO assignments (id, household_id, cadre_id, from_date, to_date, cadence_days) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
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

            async fn insert_visit(
                conn: &mut <$db as sqlx::Database>::Connection,
                v: &Visit,
            ) -> StoreResult<()> {
                sqlx::query("INSERT INTO visits (id, household_id, cadre_id, date, data) VALUES ($1, $2, $3, $4, $5)")
                    .bind(v.id.clone())
                    .bind(v.household_id.clone())
                    .bind(v.cadre_id.clone())
                    .bind(v.data.date.to_string())
                    .bind(json(&v.data))
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            pub(super) async fn insert_plan_item(
                conn: &mut <$db as sqlx::Database>::Connection,
                p: &shared::plan::PlanItem,
            ) -> StoreResult<()> {
                let status = serde_json::to_value(p.status)?;
                sqlx::query("INSERT INTO plan_items (id, household_id, status, due, data) VALUES ($1, $2, $3, $4, $5)")
                    .bind(p.id.clone())
                    .bind(p.household_id.clone())
                    .bind(status.as_str().unwrap_or_default().to_string())
                    .bind(p.data.due.to_string())
                    .bind(json(&p.data))
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            pub(super) async fn insert_review_step(
                conn: &mut <$db as sqlx::Database>::Connection,
                st: &shared::review::ReviewStep,
            ) -> StoreResult<()> {
                sqlx::query("INSERT INTO review_steps (id, household_id, review_id, kind, date, data) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING")
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

            async fn insert_support(
                conn: &mut <$db as sqlx::Database>::Connection,
                s: &SupportAction,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO support_actions (id, household_id, status, delivered_date, planned_date, data) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(s.id.clone())
                .bind(s.household_id.clone())
                .bind(s.status.as_str())
                .bind(s.delivered_date.map(|d| d.to_string()))
                .bind(s.data.planned_date.to_string())
                .bind(json(&s.data))
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            async fn upsert_target(
                conn: &mut <$db as sqlx::Database>::Connection,
                t: &Target,
            ) -> StoreResult<()> {
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
                conn: &mut <$db as sqlx::Database>::Connection,
                area_id: &str,
                year: i32,
            ) -> StoreResult<Option<Target>> {
                sqlx::query_as::<_, TargetRow>("SELECT area_id, year, data FROM targets WHERE area_id = $1 AND year = $2")
                    .bind(area_id.to_string())
                    .bind(i64::from(year))
                    .fetch_optional(&mut *conn)
                    .await?
                    .map(TargetRow::into_target)
                    .transpose()
            }
        }

        impl $name {

            /// Limits a query over `households h` to villages; false when that is none at all.
            fn push_villages(qb: &mut QueryBuilder<$db>, village_ids: Option<&[String]>) -> bool {
                let Some(ids) = village_ids else {
                    return true;
                };
                if ids.is_empty() {
                    return false;
                }
                qb.push(" AND h.village_id IN (");
                let mut sep = qb.separated(", ");
                for id in ids {
                    sep.push_bind(id.clone());
                }
                qb.push(")");
                true
            }

            async fn next_seq(conn: &mut <$db as sqlx::Database>::Connection) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("UPDATE sync_counter SET value = value + 1 WHERE id = 1 RETURNING value")
                    .fetch_one(&mut *conn)
                    .await?)
            }

        }

        #[async_trait]
        impl Store for $name {
            fn backend(&self) -> &'static str {
                $backend
            }

            fn docs(&self) -> &dyn super::docs::Docs {
                &self.docs
            }

            async fn list_areas(&self) -> StoreResult<Vec<Area>> {
                let sql = format!("SELECT {AREA_COLS} FROM areas ORDER BY code");
                sqlx::query_as::<_, AreaRow>(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(AreaRow::into_area)
                    .collect()
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
                       UNION ALL SELECT a.id, a.parent_id, up.depth + 1 FROM areas a JOIN up ON a.id = up.parent_id) \
                     SELECT id FROM up ORDER BY depth",
                )
                .bind(id.to_string())
                .fetch_all(&self.pool)
                .await?;
                if ids.is_empty() {
                    return Err(StoreError::NotFound);
                }
                Ok(ids)
            }

            async fn villages_under(&self, id: &str) -> StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "WITH RECURSIVE down(id, kind) AS ( \
                       SELECT id, kind FROM areas WHERE id = $1 \
                       UNION ALL SELECT a.id, a.kind FROM areas a JOIN down d ON a.parent_id = d.id) \
                     SELECT id FROM down WHERE kind = 'village' ORDER BY id",
                )
                .bind(id.to_string())
                .fetch_all(&self.pool)
                .await?)
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
                Self::audit(&mut tx, actor, "create", "area", &area.id, created(&area)).await?;
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
                sqlx::query("UPDATE areas SET parent_id = $2, kind = $3, code = $4, name = $5 WHERE id = $1")
                    .bind(id.to_string())
                    .bind(after.parent_id.clone())
                    .bind(after.kind.as_str())
                    .bind(after.code.clone())
                    .bind(after.name.clone())
                    .execute(&mut *tx)
                    .await?;
                Self::audit(&mut tx, actor, "update", "area", id, diff(&before, &after)).await?;
                tx.commit().await?;
                Ok(after)
            }

            async fn count_users(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?)
            }

            async fn credentials(&self, username: &str) -> StoreResult<Credentials> {
                let sql = format!("SELECT {USER_COLS} FROM users WHERE username = $1");
                let row = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
                    .bind(username.to_string())
                    .fetch_one(&self.pool)
                    .await?;
                let password_hash = row.password_hash.clone();
                Ok(Credentials { user: row.into_user()?, password_hash })
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
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {USER_COLS} FROM users"));
                if let Some(ids) = area_ids {
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    qb.push(" WHERE area_id IN (");
                    let mut sep = qb.separated(", ");
                    for id in ids {
                        sep.push_bind(id.clone());
                    }
                    qb.push(")");
                }
                qb.push(" ORDER BY username");
                qb.build_query_as::<UserRow>()
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(UserRow::into_user)
                    .collect()
            }

            async fn create_user(&self, actor: &Actor, user: &User, password_hash: &str) -> StoreResult<User> {
                let mut tx = self.begin_write().await?;
                Self::insert_user(&mut tx, user, password_hash).await?;
                Self::audit(&mut tx, actor, "create", "user", &user.id, created(user)).await?;
                tx.commit().await?;
                Ok(user.clone())
            }

            async fn update_user(&self, actor: &Actor, user: &User, password_hash: Option<&str>) -> StoreResult<User> {
                let before = self.get_user(&user.id).await?;
                let mut tx = self.begin_write().await?;
                sqlx::query("UPDATE users SET full_name = $2, role = $3, area_id = $4, active = $5 WHERE id = $1")
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
                Self::audit(&mut tx, actor, "update", "user", &user.id, changes).await?;
                tx.commit().await?;
                Ok(user.clone())
            }

            async fn create_session(&self, user_id: &str, device_id: &str, token_hash: &str, expires_at: i64, now: i64) -> StoreResult<Session> {
                let session = Session {
                    id: uuid::Uuid::now_v7().to_string(),
                    user_id: user_id.to_string(),
                    device_id: device_id.to_string(),
                    created_at: now,
                    last_seen_at: now,
                    revoked_at: None,
                };
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO sessions (id, user_id, device_id, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)")
                    .bind(session.id.clone())
                    .bind(session.user_id.clone())
                    .bind(session.device_id.clone())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, $3)")
                    .bind(token_hash.to_string())
                    .bind(session.id.clone())
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await?;
                let actor = Actor { user_id: Some(user_id.to_string()), device_id: Some(device_id.to_string()) };
                Self::audit(&mut tx, &actor, "login", "session", &session.id, serde_json::json!({})).await?;
                tx.commit().await?;
                Ok(session)
            }

            async fn rotate_refresh(&self, old_hash: &str, device_id: &str, new_hash: &str, new_expires_at: i64, now: i64) -> StoreResult<Result<Session, RefreshRefusal>> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(
                    "SELECT t.session_id, t.expires_at, t.used_at, t.replaced_by, s.device_id, s.revoked_at \
                     FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = $1",
                )
                .bind(old_hash.to_string())
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else { return Ok(Err(RefreshRefusal::Unknown)) };
                let session_id: String = row.try_get("session_id")?;
                let expires_at: i64 = row.try_get("expires_at")?;
                let used_at: Option<i64> = row.try_get("used_at")?;
                let replaced_by: Option<String> = row.try_get("replaced_by")?;
                let bound_device: String = row.try_get("device_id")?;
                let revoked_at: Option<i64> = row.try_get("revoked_at")?;
                if revoked_at.is_some() {
                    return Ok(Err(RefreshRefusal::Revoked));
                }
                if bound_device != device_id {
                    return Ok(Err(RefreshRefusal::OtherDevice));
                }
                if expires_at <= now {
                    return Ok(Err(RefreshRefusal::Expired));
                }
                // Only one of two concurrent refreshes with the same token wins: the token,
                // or on the one retry of a lost answer the token its first use issued, is
                // spent by one update. Any other use of a spent token is a replay (OAuth 2.0
                // Security BCP, refresh token reuse): the whole session is revoked.
                let retry = used_at.is_some();
                let spend = match (used_at, replaced_by) {
                    (None, _) => Some(old_hash.to_string()),
                    (Some(used), Some(issued)) if now - used <= REFRESH_RETRY_GRACE_MS => Some(issued),
                    (Some(_), _) => None,
                };
                let spent = match &spend {
                    Some(token) => sqlx::query("UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL")
                        .bind(token.clone())
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected(),
                    None => 0,
                };
                if spent != 1 && !retry && spend.is_some() {
                    // Seen unused, spent meanwhile by a concurrent request of the same
                    // phone: that request wins; this one is refused, nothing revoked.
                    return Ok(Err(RefreshRefusal::AlreadyUsed));
                }
                if spent != 1 {
                    sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                        .bind(session_id.clone())
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    Self::audit(&mut tx, &Actor::system(), "refresh_reused", "session", &session_id,
                        serde_json::json!({ "device_id": device_id, "session_revoked": true })).await?;
                    tx.commit().await?;
                    return Ok(Err(RefreshRefusal::AlreadyUsed));
                }
                if !retry {
                    // The retry of a lost answer works once: its old token keeps pointing at
                    // the token now spent, so presenting it again is a replay.
                    sqlx::query("UPDATE refresh_tokens SET replaced_by = $2 WHERE token_hash = $1")
                        .bind(old_hash.to_string())
                        .bind(new_hash.to_string())
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, $3)")
                    .bind(new_hash.to_string())
                    .bind(session_id.clone())
                    .bind(new_expires_at)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1")
                    .bind(session_id.clone())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE id = $1");
                let session = sqlx::query_as::<_, SessionRow>(sqlx::AssertSqlSafe(sql))
                    .bind(session_id)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Ok(session.into()))
            }

            async fn get_session(&self, id: &str) -> StoreResult<Session> {
                let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE id = $1");
                Ok(sqlx::query_as::<_, SessionRow>(sqlx::AssertSqlSafe(sql))
                    .bind(id.to_string())
                    .fetch_one(&self.pool)
                    .await?
                    .into())
            }

            async fn session_user(&self, session_id: &str) -> StoreResult<(Session, User)> {
                let row = sqlx::query(
                    "SELECT s.id, s.user_id, s.device_id, s.created_at, s.last_seen_at, s.revoked_at, \
                     u.username, u.full_name, u.role, u.area_id, u.active, u.password_hash \
                     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
                )
                .bind(session_id.to_string())
                .fetch_one(&self.pool)
                .await?;
                let session = SessionRow {
                    id: row.try_get(0)?,
                    user_id: row.try_get(1)?,
                    device_id: row.try_get(2)?,
                    created_at: row.try_get(3)?,
                    last_seen_at: row.try_get(4)?,
                    revoked_at: row.try_get(5)?,
                };
                let user = UserRow {
                    id: session.user_id.clone(),
                    username: row.try_get(6)?,
                    full_name: row.try_get(7)?,
                    role: row.try_get(8)?,
                    area_id: row.try_get(9)?,
                    active: row.try_get(10)?,
                    password_hash: row.try_get(11)?,
                }
                .into_user()?;
                Ok((session.into(), user))
            }

            async fn list_sessions(&self, user_id: &str) -> StoreResult<Vec<Session>> {
                let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE user_id = $1 ORDER BY created_at");
                Ok(sqlx::query_as::<_, SessionRow>(sqlx::AssertSqlSafe(sql))
                    .bind(user_id.to_string())
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(Session::from)
                    .collect())
            }

            async fn revoke_device(&self, actor: &Actor, user_id: &str, device_id: &str, now: i64) -> StoreResult<u64> {
                let mut tx = self.begin_write().await?;
                let n = sqlx::query("UPDATE sessions SET revoked_at = $3 WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL")
                    .bind(user_id.to_string())
                    .bind(device_id.to_string())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                Self::audit(&mut tx, actor, "revoke", "device", &format!("{user_id}/{device_id}"), serde_json::json!({ "sessions_revoked": n })).await?;
                tx.commit().await?;
                Ok(n)
            }

            async fn revoke_sessions(&self, actor: &Actor, user_id: &str, keep: Option<&str>, now: i64) -> StoreResult<u64> {
                let mut tx = self.begin_write().await?;
                let n = sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL AND id <> $3")
                    .bind(user_id.to_string())
                    .bind(now)
                    .bind(keep.unwrap_or("").to_string())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                Self::audit(&mut tx, actor, "revoke", "sessions", user_id, serde_json::json!({ "sessions_revoked": n })).await?;
                tx.commit().await?;
                Ok(n)
            }

            async fn sign_in_lock(&self, username: &str, now: i64) -> StoreResult<Option<i64>> {
                let until: Option<i64> = sqlx::query_scalar("SELECT locked_until FROM sign_in_failures WHERE username = $1")
                    .bind(username.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(until.filter(|u| *u > now))
            }

            async fn sign_in_failed(&self, username: &str, address: &str, policy: &SignInPolicy, now: i64) -> StoreResult<Option<i64>> {
                let mut tx = self.begin_write().await?;
                let failures: i64 = sqlx::query_scalar(
                    "INSERT INTO sign_in_failures (username, failures, last_failed_at) VALUES ($1, 1, $2) \
                     ON CONFLICT (username) DO UPDATE SET failures = sign_in_failures.failures + 1, last_failed_at = $2 \
                     RETURNING failures",
                )
                .bind(username.to_string())
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                let until = policy.locked_until(failures, now);
                if let Some(u) = until {
                    sqlx::query("UPDATE sign_in_failures SET locked_until = $2 WHERE username = $1")
                        .bind(username.to_string())
                        .bind(u)
                        .execute(&mut *tx)
                        .await?;
                }
                // Failures of a day ago are forgotten, so the table stays small.
                sqlx::query("DELETE FROM sign_in_failures WHERE last_failed_at < $1 AND locked_until < $2")
                    .bind(now - 24 * 3600 * 1000)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                Self::audit(&mut tx, &Actor::system(), "sign_in_failed", "user", username,
                    serde_json::json!({ "address": address, "failures": failures, "locked_until": until })).await?;
                tx.commit().await?;
                Ok(until)
            }

            async fn sign_in_cleared(&self, username: &str) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM sign_in_failures WHERE username = $1")
                    .bind(username.to_string())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn locked_accounts(&self, now: i64) -> StoreResult<Vec<LockedAccount>> {
                let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
                    "SELECT username, failures, last_failed_at, locked_until FROM sign_in_failures WHERE locked_until > $1 ORDER BY username",
                )
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(username, failures, last_failed_at, locked_until)| LockedAccount { username, failures, last_failed_at, locked_until })
                    .collect())
            }

            async fn record_event(&self, actor: &Actor, action: &str, entity: &str, entity_id: &str, details: serde_json::Value) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                Self::audit(&mut tx, actor, action, entity, entity_id, details).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_households(&self, f: &HouseholdFilter) -> StoreResult<Vec<Household>> {
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {HOUSEHOLD_COLS} FROM households WHERE 1 = 1"));
                for (col, ids) in [("village_id", &f.village_ids), ("id", &f.household_ids)] {
                    if let Some(ids) = ids {
                        if ids.is_empty() {
                            return Ok(Vec::new());
                        }
                        qb.push(format!(" AND {col} IN ("));
                        let mut sep = qb.separated(", ");
                        for id in ids {
                            sep.push_bind(id.clone());
                        }
                        qb.push(")");
                    }
                }
                if let Some(s) = f.status {
                    qb.push(" AND status = ").push_bind(s.as_str());
                }
                if let Some(q) = f.search.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
                    let like = format!("%{}%", shared::search::fold(q).replace(['%', '_', '\\'], ""));
                    qb.push(" AND search_text LIKE ").push_bind(like);
                }
                qb.push(" ORDER BY code LIMIT ").push_bind(f.limit);
                qb.push(" OFFSET ").push_bind(f.offset);
                qb.build_query_as::<HouseholdRow>()
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(HouseholdRow::into_household)
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
                sqlx::query_as::<_, MemberRow>("SELECT id, household_id, data FROM members WHERE household_id = $1 ORDER BY position, id")
                    .bind(household_id.to_string())
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(MemberRow::into_member)
                    .collect()
            }

            async fn get_member(&self, id: &str) -> StoreResult<Member> {
                sqlx::query_as::<_, MemberRow>("SELECT id, household_id, data FROM members WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_one(&self.pool)
                    .await?
                    .into_member()
            }





            async fn list_assessments(&self, household_id: &str) -> StoreResult<Vec<Assessment>> {
                let rows: Vec<String> = sqlx::query_scalar("SELECT data FROM assessments WHERE household_id = $1 ORDER BY date, id")
                    .bind(household_id.to_string())
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(|d| Ok(serde_json::from_str(d)?)).collect()
            }

            async fn list_assignments(&self, f: &AssignmentFilter) -> StoreResult<Vec<Assignment>> {
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT a.id, a.household_id, a.cadre_id, a.from_date, a.to_date, a.cadence_days \
                     FROM assignments a JOIN households h ON h.id = a.household_id WHERE 1 = 1",
                );
                if let Some(h) = &f.household_id {
                    qb.push(" AND a.household_id = ").push_bind(h.clone());
                }
                if let Some(c) = &f.cadre_id {
                    qb.push(" AND a.cadre_id = ").push_bind(c.clone());
                }
                if let Some(ids) = &f.village_ids {
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    qb.push(" AND h.village_id IN (");
                    let mut sep = qb.separated(", ");
                    for id in ids {
                        sep.push_bind(id.clone());
                    }
                    qb.push(")");
                }
                if let Some(day) = f.active_on {
                    let day = day.to_string();
                    qb.push(" AND a.from_date <= ").push_bind(day.clone());
                    qb.push(" AND (a.to_date IS NULL OR a.to_date >= ").push_bind(day).push(")");
                }
                qb.push(" ORDER BY a.from_date, a.id");
                qb.build_query_as::<AssignmentRow>()
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(AssignmentRow::into_assignment)
                    .collect()
            }

            async fn get_assignment(&self, id: &str) -> StoreResult<Assignment> {
                sqlx::query_as::<_, AssignmentRow>(
                    "SELECT id, household_id, cadre_id, from_date, to_date, cadence_days FROM assignments WHERE id = $1",
                )
                .bind(id.to_string())
                .fetch_one(&self.pool)
                .await?
                .into_assignment()
            }

            async fn create_assignment(&self, actor: &Actor, a: &Assignment) -> StoreResult<Assignment> {
                self.change_assignments(actor, &[], std::slice::from_ref(a)).await?;
                Ok(a.clone())
            }

            async fn end_assignment(&self, actor: &Actor, id: &str, to_date: NaiveDate) -> StoreResult<Assignment> {
                self.change_assignments(actor, &[(id.to_string(), to_date)], &[]).await?;
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
                    let after = Assignment { to_date: Some(*to_date), ..before.clone() };
                    sqlx::query("UPDATE assignments SET to_date = $2 WHERE id = $1")
                        .bind(id.to_string())
                        .bind(to_date.to_string())
                        .execute(&mut *tx)
                        .await?;
                    Self::audit(&mut tx, actor, "update", "assignment", id, diff(before, &after)).await?;
                }
                for a in creates {
                    Self::insert_assignment(&mut tx, a).await?;
                    Self::audit(&mut tx, actor, "create", "assignment", &a.id, created(a)).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn last_visits(
                &self,
                household_ids: &[String],
            ) -> StoreResult<Vec<(String, NaiveDate, Option<NaiveDate>)>> {
                if household_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT v.household_id, v.date, v.data FROM visits v WHERE v.date = \
                     (SELECT MAX(w.date) FROM visits w WHERE w.household_id = v.household_id) \
                     AND v.household_id IN (",
                );
                let mut sep = qb.separated(", ");
                for id in household_ids {
                    sep.push_bind(id.clone());
                }
                qb.push(") ORDER BY v.household_id");
                let rows: Vec<(String, String, String)> = qb.build_query_as().fetch_all(&self.pool).await?;
                let mut out: Vec<(String, NaiveDate, Option<NaiveDate>)> = Vec::with_capacity(rows.len());
                for (household, day, data) in rows {
                    let v: shared::visit::VisitInput = serde_json::from_str(&data)?;
                    let day = date(&day)?;
                    // Two visits on the same last day: the one planning the sooner next visit.
                    match out.last_mut() {
                        Some(last) if last.0 == household => {
                            last.2 = match (last.2, v.next_visit) {
                                (Some(a), Some(b)) => Some(a.min(b)),
                                (a, b) => a.or(b),
                            };
                        }
                        _ => out.push((household, day, v.next_visit)),
                    }
                }
                Ok(out)
            }

            async fn list_visits(&self, household_id: &str) -> StoreResult<Vec<Visit>> {
                sqlx::query_as::<_, VisitRow>("SELECT id, household_id, cadre_id, data FROM visits WHERE household_id = $1 ORDER BY date, id")
                    .bind(household_id.to_string())
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(VisitRow::into_visit)
                    .collect()
            }


            async fn list_support(&self, household_id: &str) -> StoreResult<Vec<SupportAction>> {
                sqlx::query_as::<_, SupportRow>(
                    "SELECT id, household_id, status, delivered_date, data FROM support_actions WHERE household_id = $1 ORDER BY planned_date, id",
                )
                .bind(household_id.to_string())
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(SupportRow::into_support)
                .collect()
            }

            async fn with_plan(&self, household_ids: &[String]) -> StoreResult<std::collections::BTreeSet<String>> {
                if household_ids.is_empty() {
                    return Ok(Default::default());
                }
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT DISTINCT household_id FROM plan_items WHERE status <> 'dropped' AND household_id IN (",
                );
                let mut sep = qb.separated(", ");
                for id in household_ids {
                    sep.push_bind(id.clone());
                }
                qb.push(")");
                Ok(qb.build_query_scalar::<String>().fetch_all(&self.pool).await?.into_iter().collect())
            }

            async fn list_review_steps(&self, household_id: &str) -> StoreResult<Vec<shared::review::ReviewStep>> {
                let rows: Vec<String> = sqlx::query_scalar("SELECT data FROM review_steps WHERE household_id = $1 ORDER BY date, id")
                    .bind(household_id.to_string())
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(|d| Ok(serde_json::from_str(d)?)).collect()
            }

            async fn review_steps_in(&self, village_ids: Option<&[String]>, kind: Option<&str>) -> StoreResult<Vec<shared::review::ReviewStep>> {
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT s.data FROM review_steps s JOIN households h ON h.id = s.household_id WHERE 1 = 1",
                );
                if let Some(k) = kind {
                    qb.push(" AND s.kind = ").push_bind(k.to_string());
                }
                if !Self::push_villages(&mut qb, village_ids) {
                    return Ok(Vec::new());
                }
                qb.push(" ORDER BY s.date, s.id");
                let rows: Vec<String> = qb.build_query_scalar().fetch_all(&self.pool).await?;
                rows.iter().map(|d| Ok(serde_json::from_str(d)?)).collect()
            }

            async fn assessments_in(&self, village_ids: Option<&[String]>, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<Assessment>> {
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT a.data FROM assessments a JOIN households h ON h.id = a.household_id WHERE a.date >= ",
                );
                qb.push_bind(from.to_string()).push(" AND a.date <= ").push_bind(to.to_string());
                if !Self::push_villages(&mut qb, village_ids) {
                    return Ok(Vec::new());
                }
                qb.push(" ORDER BY a.date, a.id");
                let rows: Vec<String> = qb.build_query_scalar().fetch_all(&self.pool).await?;
                rows.iter().map(|d| Ok(serde_json::from_str(d)?)).collect()
            }

            async fn delivered_in(&self, village_ids: Option<&[String]>, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<SupportAction>> {
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT s.id, s.household_id, s.status, s.delivered_date, s.data FROM support_actions s JOIN households h ON h.id = s.household_id \
                     WHERE s.status = 'delivered' AND s.delivered_date >= ",
                );
                qb.push_bind(from.to_string()).push(" AND s.delivered_date <= ").push_bind(to.to_string());
                if !Self::push_villages(&mut qb, village_ids) {
                    return Ok(Vec::new());
                }
                qb.push(" ORDER BY s.delivered_date, s.id");
                qb.build_query_as::<SupportRow>()
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(SupportRow::into_support)
                    .collect()
            }

            async fn visits_in(&self, village_ids: Option<&[String]>, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<(String, String)>> {
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT v.cadre_id, v.household_id FROM visits v JOIN households h ON h.id = v.household_id WHERE v.date >= ",
                );
                qb.push_bind(from.to_string()).push(" AND v.date <= ").push_bind(to.to_string());
                if !Self::push_villages(&mut qb, village_ids) {
                    return Ok(Vec::new());
                }
                Ok(qb.build_query_as::<(String, String)>().fetch_all(&self.pool).await?)
            }

            async fn list_support_of(&self, household_ids: &[String]) -> StoreResult<Vec<SupportAction>> {
                if household_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT id, household_id, status, delivered_date, data FROM support_actions WHERE household_id IN (",
                );
                let mut sep = qb.separated(", ");
                for id in household_ids {
                    sep.push_bind(id.clone());
                }
                qb.push(") ORDER BY planned_date, id");
                qb.build_query_as::<SupportRow>()
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(SupportRow::into_support)
                    .collect()
            }

            async fn get_support(&self, id: &str) -> StoreResult<SupportAction> {
                sqlx::query_as::<_, SupportRow>("SELECT id, household_id, status, delivered_date, data FROM support_actions WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_one(&self.pool)
                    .await?
                    .into_support()
            }



            async fn list_targets(&self, area_ids: &[String]) -> StoreResult<Vec<Target>> {
                if area_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = QueryBuilder::<$db>::new("SELECT area_id, year, data FROM targets WHERE area_id IN (");
                let mut sep = qb.separated(", ");
                for id in area_ids {
                    sep.push_bind(id.clone());
                }
                qb.push(") ORDER BY year, area_id");
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
                Self::audit(&mut tx, actor, "put", "target", &format!("{}/{}", t.area_id, t.year), changes).await?;
                tx.commit().await?;
                Ok(t.clone())
            }

            async fn status_counts(&self, village_ids: &[String]) -> StoreResult<Vec<StatusCount>> {
                if village_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = QueryBuilder::<$db>::new("SELECT village_id, status, COUNT(*) AS n FROM households WHERE village_id IN (");
                let mut sep = qb.separated(", ");
                for id in village_ids {
                    sep.push_bind(id.clone());
                }
                qb.push(") GROUP BY village_id, status ORDER BY village_id, status");
                let rows = qb.build().fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|r| {
                        let status: String = r.try_get("status")?;
                        Ok(StatusCount {
                            village_id: r.try_get("village_id")?,
                            status: HouseholdStatus::parse(&status)
                                .ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
                            households: r.try_get("n")?,
                        })
                    })
                    .collect()
            }

            async fn list_audit(&self, entity_id: Option<&str>, limit: i64) -> StoreResult<Vec<AuditEvent>> {
                let mut qb = QueryBuilder::<$db>::new(
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
                    .map(|r| {
                        Ok(AuditEvent {
                            changes: serde_json::from_str(&r.changes)?,
                            id: r.id,
                            at: r.at,
                            user_id: r.user_id,
                            device_id: r.device_id,
                            action: r.action,
                            entity: r.entity,
                            entity_id: r.entity_id,
                        })
                    })
                    .collect()
            }


            async fn quarantine(&self, actor: &Actor, doc_id: &str, code: &str, reason: &str, bytes: &[u8]) -> StoreResult<bool> {
                let device = actor.device_id.clone().unwrap_or_default();
                let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM quarantine WHERE device_id = $1 AND decided_at IS NULL")
                    .bind(device.clone())
                    .fetch_one(&self.pool)
                    .await?;
                if waiting >= super::QUARANTINE_PER_DEVICE {
                    return Ok(false);
                }
                let mut tx = self.begin_write().await?;
                let id = uuid::Uuid::now_v7().to_string();
                sqlx::query("INSERT INTO quarantine (id, doc_id, user_id, device_id, at, reason, bytes, code) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
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
                Self::audit(&mut tx, actor, "quarantine", "household", doc_id, serde_json::json!({ "reason": reason, "code": code, "quarantine_id": id })).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn list_quarantine(&self, doc_ids: &[String]) -> StoreResult<Vec<QuarantineRecord>> {
                if doc_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {QUARANTINE_COLS} FROM quarantine WHERE doc_id IN ("));
                let mut sep = qb.separated(", ");
                for id in doc_ids {
                    sep.push_bind(id.clone());
                }
                qb.push(") ORDER BY at, id");
                let rows: Vec<QuarantineRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter().map(QuarantineRow::into_record).collect()
            }

            async fn quarantined(&self, id: &str) -> StoreResult<(QuarantineRecord, Vec<u8>)> {
                let sql = format!("SELECT {QUARANTINE_COLS} FROM quarantine WHERE id = $1");
                let row: QuarantineRow = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id.to_string()).fetch_one(&self.pool).await?;
                let bytes: Vec<u8> = sqlx::query_scalar("SELECT bytes FROM quarantine WHERE id = $1").bind(id.to_string()).fetch_one(&self.pool).await?;
                Ok((row.into_record()?, bytes))
            }

            async fn decide_quarantine(&self, actor: &Actor, id: &str, decision: &str) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let n = sqlx::query("UPDATE quarantine SET decision = $2, decided_by = $3, decided_at = $4 WHERE id = $1 AND decided_at IS NULL")
                    .bind(id.to_string())
                    .bind(decision.to_string())
                    .bind(actor.user_id.clone())
                    .bind(now_ms())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if n != 1 {
                    return Err(StoreError::Duplicate(format!("quarantine {id} already decided")));
                }
                Self::audit(&mut tx, actor, decision, "quarantine", id, serde_json::json!({ "decision": decision })).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_conflicts(&self, doc_ids: Option<&[String]>, open_only: bool) -> StoreResult<Vec<ConflictRecord>> {
                let mut qb = QueryBuilder::<$db>::new("SELECT id, doc_id, path, candidates, opened_at, resolved_at, resolved_by FROM conflicts WHERE 1 = 1");
                if open_only {
                    qb.push(" AND resolved_at IS NULL");
                }
                if let Some(ids) = doc_ids {
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    qb.push(" AND doc_id IN (");
                    let mut sep = qb.separated(", ");
                    for id in ids {
                        sep.push_bind(id.clone());
                    }
                    qb.push(")");
                }
                qb.push(" ORDER BY opened_at, id");
                let rows: Vec<(String, String, String, String, i64, Option<i64>, Option<String>)> = qb.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter()
                    .map(|(id, doc_id, path, candidates, opened_at, resolved_at, resolved_by)| {
                        Ok(ConflictRecord {
                            id,
                            household_id: doc_id,
                            path: serde_json::from_str(&path)?,
                            candidates: serde_json::from_str(&candidates)?,
                            opened_at,
                            resolved_at,
                            resolved_by,
                        })
                    })
                    .collect()
            }

            async fn get_conflict(&self, id: &str) -> StoreResult<ConflictRecord> {
                let all = self.list_conflicts(None, false).await?;
                all.into_iter().find(|c| c.id == id).ok_or(StoreError::NotFound)
            }

            async fn import(&self, actor: &Actor, d: &Import) -> StoreResult<()> {
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
                for t in &d.targets {
                    Self::upsert_target(&mut tx, t).await?;
                }
                for ImportedDoc { household_id: id, bytes, heads } in &d.docs {
                    {
                        // Every document gets its own sequence number: pages of a pull end between them.
                        let seq = Self::next_seq(&mut tx).await?;
                        sqlx::query("INSERT INTO docs (doc_id, snapshot, snapshot_seq, heads, seq) VALUES ($1, $2, $3, $4, $3)")
                            .bind(id.clone())
                            .bind(bytes.clone())
                            .bind(seq)
                            .bind(json(heads))
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query("INSERT INTO doc_history (doc_id, seq, heads) VALUES ($1, $2, $3)")
                            .bind(id.clone())
                            .bind(seq)
                            .bind(json(heads))
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                let summary = serde_json::json!({
                    "areas": d.areas.len(), "users": d.users.len(), "households": d.households.len(),
                    "members": d.members.len(), "assessments": d.assessments.len(),
                    "assignments": d.assignments.len(), "visits": d.visits.len(),
                    "support_actions": d.support.len(), "targets": d.targets.len(),
                });
                Self::audit(&mut tx, actor, "import", "commune", "import", summary).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

// SQLite takes the write lock at BEGIN IMMEDIATE, so a transaction that reads then writes
// waits for another writer instead of failing when it upgrades its lock.
sql_store!(
    SqliteStore,
    sqlx::Sqlite,
    super::docs::SqliteDocs,
    "sqlite",
    "BEGIN IMMEDIATE"
);
sql_store!(
    PostgresStore,
    sqlx::Postgres,
    super::docs::PgDocs,
    "postgres",
    "BEGIN"
);

impl SqliteStore {
    /// Opens (creating if needed) a SQLite file in WAL mode and migrates it.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        use sqlx::sqlite::{
            SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
        };
        use std::str::FromStr;
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL is durable across application crashes; FULL also across
            // power loss, which is what an acknowledged field record deserves.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(10));
        let file = opts.get_filename().to_path_buf();
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(opts)
            .await?;
        sqlx::migrate!("../migrations/sqlite")
            .run(&pool)
            .await
            .map_err(sqlx::Error::from)?;
        let turn = std::sync::Arc::new(tokio::sync::Mutex::new(()));
        Ok(Self {
            pool,
            docs: super::docs::SqliteDocs::open(&file, turn.clone())?,
            write_turn: Some(turn),
        })
    }
}

impl PostgresStore {
    /// Connects to PostgreSQL and migrates it.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(16)
            .connect(url)
            .await?;
        sqlx::migrate!("../migrations/postgres")
            .run(&pool)
            .await
            .map_err(sqlx::Error::from)?;
        Ok(Self {
            docs: super::docs::PgDocs::new(pool.clone()),
            pool,
            write_turn: None,
        })
    }
}
