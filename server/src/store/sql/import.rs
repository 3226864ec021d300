//! A whole commune written in one transaction (the demo data and `donghanh import`): the
//! register, the read model and the household documents the write core's gate admitted
//! (`shared::core::gate::admit_history`), each with its own sequence number.
//!
//! A province's demo is millions of rows, so the big tables are written many rows to a
//! statement (`Rows`): one statement per row would spend the load on round trips. The
//! rows are the same the single-row writes of the read model make (`read_model.rs`).

use super::*;
use shared::projection::Followed;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A value of a row written in a batch.
enum Value {
    Text(String),
    MaybeText(Option<String>),
    Int(i64),
    Bool(bool),
    Bytes(Vec<u8>),
}

use Value::{Bool, Bytes, Int, MaybeText, Text};

/// An insert without its values: `INSERT INTO t (a, b)`, its column count, and what
/// follows the values (`ON CONFLICT …`).
struct Rows {
    head: &'static str,
    width: usize,
    tail: &'static str,
}

const HOUSEHOLDS: Rows = Rows {
    head: "INSERT INTO households (id, code, village_id, address, head_name, residence, status, priority, causes, created_at, updated_at, search_text, code_key, last_visit, next_visit, has_plan, commune_id)",
    width: 17,
    tail: "",
};
/// A new household's members, numbered in their order.
const MEMBERS: Rows = Rows {
    head: "INSERT INTO members (id, household_id, position, data)",
    width: 4,
    tail: "",
};
const ASSESSMENTS: Rows = Rows {
    head: "INSERT INTO assessments (id, household_id, date, rule_set_id, classification, data, commune_id)",
    width: 7,
    tail: "",
};
const VISITS: Rows = Rows {
    head: "INSERT INTO visits (id, household_id, cadre_id, date, data, commune_id)",
    width: 6,
    tail: "",
};
const SUPPORT: Rows = Rows {
    head: "INSERT INTO support_actions (id, household_id, status, delivered_date, planned_date, data, commune_id)",
    width: 7,
    tail: "",
};
const PLAN: Rows = Rows {
    head: "INSERT INTO plan_items (id, household_id, status, due, data)",
    width: 5,
    tail: "",
};
const REVIEW_STEPS: Rows = Rows {
    head: "INSERT INTO review_steps (id, household_id, review_id, kind, date, data, commune_id)",
    width: 7,
    tail: "ON CONFLICT (id) DO NOTHING",
};
const MOVEMENTS: Rows = Rows {
    head: "INSERT INTO movements (id, household_id, from_status, to_status, date, basis, recorded_by, recorded_at, commune_id)",
    width: 9,
    tail: "ON CONFLICT (id) DO NOTHING",
};
const DOCS: Rows = Rows {
    head: "INSERT INTO docs (doc_id, snapshot, snapshot_seq, heads, seq)",
    width: 5,
    tail: "",
};
const DOC_HISTORY: Rows = Rows {
    head: "INSERT INTO doc_history (doc_id, seq, heads)",
    width: 3,
    tail: "",
};

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
        // The document counter first, as the write core takes it: the areas and users
        // below move the reports' epoch (migration 0013's triggers), which a write moving
        // a household to another village takes after the counter. Taken in the other
        // order, the two could wait on each other.
        sqlx::query("UPDATE sync_counter SET value = value WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        for a in &d.areas {
            Self::insert_area(&mut tx, a).await?;
        }
        for (u, hash) in &d.users {
            Self::insert_user(&mut tx, u, hash).await?;
        }
        // The commune key of each household and record, from the areas the import brings
        // (a village already in the database is left to the database's trigger to fill).
        let commune_of_village: BTreeMap<&str, &str> = d
            .areas
            .iter()
            .filter(|a| a.kind == shared::area::AreaKind::Village)
            .filter_map(|a| Some((a.id.as_str(), a.parent_id.as_deref()?)))
            .collect();
        let key: BTreeMap<&str, &str> = d
            .households
            .iter()
            .filter_map(|h| {
                Some((
                    h.id.as_str(),
                    *commune_of_village.get(h.village_id.as_str())?,
                ))
            })
            .collect();
        let key_of = |household_id: &str| MaybeText(key.get(household_id).map(|c| c.to_string()));
        // Each household's visits and plan, gathered once, for what its row keeps of them.
        let mut visits: BTreeMap<&str, Vec<&shared::visit::Visit>> = BTreeMap::new();
        for v in &d.visits {
            visits.entry(&v.household_id).or_default().push(v);
        }
        let mut plan: BTreeMap<&str, Vec<&shared::plan::PlanItem>> = BTreeMap::new();
        for p in &d.plan {
            plan.entry(&p.household_id).or_default().push(p);
        }
        Self::insert_rows(
            &mut tx,
            &HOUSEHOLDS,
            d.households
                .iter()
                .map(|h| {
                    let id = h.id.as_str();
                    let followed = Followed::of(
                        visits.get(id).into_iter().flatten().copied(),
                        plan.get(id).into_iter().flatten().copied(),
                    );
                    household_row(h, followed, key_of(&h.id))
                })
                .collect(),
        )
        .await?;
        let mut position: BTreeMap<&str, i64> = BTreeMap::new();
        let members = d
            .members
            .iter()
            .map(|m| {
                let n = position.entry(&m.household_id).or_default();
                *n += 1;
                vec![
                    Text(m.id.clone()),
                    Text(m.household_id.clone()),
                    Int(*n - 1),
                    Text(json(&m.data)),
                ]
            })
            .collect::<Vec<_>>();
        Self::insert_rows(&mut tx, &MEMBERS, members).await?;
        let assessments = d
            .assessments
            .iter()
            .map(|a| {
                vec![
                    Text(a.id.clone()),
                    Text(a.household_id.clone()),
                    Text(a.date.to_string()),
                    Text(a.explanation.rule_set_id.clone()),
                    Text(a.classification.as_str().into()),
                    Text(json(a)),
                    key_of(&a.household_id),
                ]
            })
            .collect::<Vec<_>>();
        Self::insert_rows(&mut tx, &ASSESSMENTS, assessments).await?;
        for a in &d.assignments {
            Self::insert_assignment(&mut tx, a).await?;
        }
        let visits = d
            .visits
            .iter()
            .map(|v| {
                vec![
                    Text(v.id.clone()),
                    Text(v.household_id.clone()),
                    Text(v.cadre_id.clone()),
                    Text(v.data.date.to_string()),
                    Text(json(&v.data)),
                    key_of(&v.household_id),
                ]
            })
            .collect::<Vec<_>>();
        Self::insert_rows(&mut tx, &VISITS, visits).await?;
        let support = d
            .support
            .iter()
            .map(|s| {
                vec![
                    Text(s.id.clone()),
                    Text(s.household_id.clone()),
                    Text(s.status.as_str().into()),
                    MaybeText(s.delivered_date.map(|d| d.to_string())),
                    Text(s.data.planned_date.to_string()),
                    Text(json(&s.data)),
                    key_of(&s.household_id),
                ]
            })
            .collect::<Vec<_>>();
        Self::insert_rows(&mut tx, &SUPPORT, support).await?;
        let plan = d
            .plan
            .iter()
            .map(|p| {
                vec![
                    Text(p.id.clone()),
                    Text(p.household_id.clone()),
                    Text(name_of(&p.status)),
                    Text(p.data.due.to_string()),
                    Text(json(&p.data)),
                ]
            })
            .collect::<Vec<_>>();
        Self::insert_rows(&mut tx, &PLAN, plan).await?;
        let steps = d
            .review_steps
            .iter()
            .map(|st| {
                vec![
                    Text(st.id.clone()),
                    Text(st.household_id.clone()),
                    MaybeText(st.review_id.clone()),
                    Text(st.data.kind().into()),
                    Text(st.date.to_string()),
                    Text(json(st)),
                    key_of(&st.household_id),
                ]
            })
            .collect::<Vec<_>>();
        Self::insert_rows(&mut tx, &REVIEW_STEPS, steps).await?;
        Self::import_ledger(&mut tx, actor, d, &key_of).await?;
        for t in &d.targets {
            Self::upsert_target(&mut tx, t).await?;
        }
        Self::import_docs(&mut tx, &d.docs).await?;
        let summary = serde_json::json!({
            "areas": d.areas.len(), "users": d.users.len(), "households": d.households.len(),
            "members": d.members.len(), "assessments": d.assessments.len(),
            "assignments": d.assignments.len(), "visits": d.visits.len(),
            "support_actions": d.support.len(), "targets": d.targets.len(),
        });
        insert_audit(&mut tx, actor, "import", "commune", "import", summary).await?;
        // Households, ledger and documents brought at once: the kept report parts of the
        // communes they join are counted again.
        Self::next_report_epoch(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Each household's movements in the register, as its records make them.
    async fn import_ledger(
        conn: &mut DB::Connection,
        actor: &Actor,
        d: &Import,
        key_of: &(dyn Fn(&str) -> Value + Sync),
    ) -> StoreResult<()> {
        let mut steps: BTreeMap<&str, Vec<shared::review::ReviewStep>> = BTreeMap::new();
        for st in &d.review_steps {
            steps.entry(&st.household_id).or_default().push(st.clone());
        }
        let by = actor.user_id.as_deref().unwrap_or("");
        let at = now_ms();
        let mut rows = Vec::new();
        for h in &d.households {
            let own = steps.remove(h.id.as_str()).unwrap_or_default();
            for m in shared::ledger::movements(h, &own) {
                if m.to.is_none() {
                    // Out of the register from that day.
                    sqlx::query(crate::store::docs::SET_LEFT_ON)
                        .bind(m.date.to_string())
                        .bind(m.household_id.clone())
                        .execute(&mut *conn)
                        .await?;
                }
                let key = key_of(&m.household_id);
                rows.push(vec![
                    Text(m.id),
                    Text(m.household_id),
                    MaybeText(m.from.map(|f| f.as_str().to_string())),
                    MaybeText(m.to.map(|t| t.as_str().to_string())),
                    Text(m.date.to_string()),
                    Text(json(&m.basis)),
                    Text(if m.by.is_empty() {
                        by.to_string()
                    } else {
                        m.by
                    }),
                    Int(at),
                    key,
                ]);
            }
        }
        Self::insert_rows(conn, &MOVEMENTS, rows).await
    }

    /// The household documents written whole, each with its own sequence number (pages
    /// of a pull end between documents), the numbers taken from the counter at once.
    async fn import_docs(conn: &mut DB::Connection, docs: &[ImportedDoc]) -> StoreResult<()> {
        if docs.is_empty() {
            return Ok(());
        }
        let last: i64 = sqlx::query_scalar(
            "UPDATE sync_counter SET value = value + $1 WHERE id = 1 RETURNING value",
        )
        .bind(docs.len() as i64)
        .fetch_one(&mut *conn)
        .await?;
        let first = last - docs.len() as i64 + 1;
        let numbered = || docs.iter().zip(first..);
        let rows = numbered()
            .map(|(doc, seq)| {
                vec![
                    Text(doc.household_id.clone()),
                    Bytes(doc.bytes.clone()),
                    Int(seq),
                    Text(json(&doc.heads)),
                    Int(seq),
                ]
            })
            .collect::<Vec<_>>();
        Self::insert_rows(conn, &DOCS, rows).await?;
        let history = numbered()
            .map(|(doc, seq)| {
                vec![
                    Text(doc.household_id.clone()),
                    Int(seq),
                    Text(json(&doc.heads)),
                ]
            })
            .collect::<Vec<_>>();
        Self::insert_rows(conn, &DOC_HISTORY, history).await
    }

    /// Writes `rows` (each `insert.width` values) many to a statement.
    async fn insert_rows(
        conn: &mut DB::Connection,
        insert: &Rows,
        rows: Vec<Vec<Value>>,
    ) -> StoreResult<()> {
        let per = (DB::VALUES_PER_STATEMENT / insert.width).max(1);
        let mut rows = rows.into_iter();
        loop {
            let chunk: Vec<Vec<Value>> = rows.by_ref().take(per).collect();
            if chunk.is_empty() {
                return Ok(());
            }
            let mut sql = String::with_capacity(insert.head.len() + chunk.len() * insert.width * 6);
            sql.push_str(insert.head);
            sql.push_str(" VALUES ");
            for r in 0..chunk.len() {
                sql.push_str(if r == 0 { "(" } else { ", (" });
                for c in 0..insert.width {
                    let sep = if c == 0 { "" } else { ", " };
                    let _ = write!(sql, "{sep}${}", r * insert.width + c + 1);
                }
                sql.push(')');
            }
            sql.push(' ');
            sql.push_str(insert.tail);
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for v in chunk.into_iter().flatten() {
                q = match v {
                    Text(s) => q.bind(s),
                    MaybeText(s) => q.bind(s),
                    Int(i) => q.bind(i),
                    Bool(b) => q.bind(b),
                    Bytes(b) => q.bind(b),
                };
            }
            q.execute(&mut *conn).await?;
        }
    }
}

/// A household's row, as `insert_household` writes it.
fn household_row(h: &Household, f: Followed, commune: Value) -> Vec<Value> {
    vec![
        Text(h.id.clone()),
        Text(h.code.clone()),
        Text(h.village_id.clone()),
        Text(h.address.clone()),
        Text(h.head_name.clone()),
        Text(name_of(&h.residence)),
        Text(h.status.as_str().into()),
        Text(json(&h.priority)),
        Text(json(&h.causes)),
        Text(h.created_at.clone()),
        Text(h.updated_at.clone()),
        Text(search_text(h)),
        Text(shared::household::code_key(&h.code)),
        MaybeText(f.last_visit.map(|d| d.to_string())),
        MaybeText(f.next_visit.map(|d| d.to_string())),
        Bool(f.has_plan),
        commune,
    ]
}
