//! The conflict queue: fields written concurrently on several devices, with every value and
//! who wrote it, until a commune officer picks one or writes a new one. The decision is a
//! new write to the household document, so every device converges on it at its next sync.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::current::not_found;
use crate::error::{AppError, AppResult};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::store::{ConflictRecord, QuarantineRecord};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;
use shared::Text;
use shared::api::NamedDevice;
use shared::core::EditError;
use shared::permissions::Action;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_conflicts))
        .routes(routes!(resolve))
        .routes(routes!(list_quarantine))
        .routes(routes!(accept_quarantined))
        .routes(routes!(reject_quarantined))
}

/// A quarantine entry the commune officer may decide: in their area, not decided yet.
async fn undecided(
    state: &AppState,
    me: &CurrentUser,
    id: &str,
) -> AppResult<(QuarantineRecord, Vec<u8>)> {
    me.reach(Action::ResolveConflicts)?;
    let (q, bytes) = state
        .store
        .quarantined(id)
        .await
        .map_err(not_found("quarantine entry"))?;
    me.household(
        state.store.as_ref(),
        Action::ResolveConflicts,
        &q.household_id,
    )
    .await?;
    if q.decided_at.is_some() {
        return Err(AppError::Conflict {
            code: "already_decided",
            message: Text::new(
                "Thay đổi này đã được quyết định.",
                "These changes were already decided.",
            ),
        });
    }
    Ok((q, bytes))
}

/// Accept refused changes: their effect is written again as the commune officer's own
/// change (audited, with the entry it came from), through the same gate as every write.
#[utoipa::path(post, path = "/quarantine/{id}/accept", tag = "conflicts", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = QuarantineRecord), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn accept_quarantined(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
) -> AppResult<Json<QuarantineRecord>> {
    let (q, bytes) = undecided(&state, &me, &id).await?;
    let changes = shared::core::limits::decode_changes(&bytes, &state.hub.limits).map_err(|r| {
        let mut e = shared::ValidationErrors::default();
        e.push("changes", &r.code, r.reason);
        AppError::Validation(e)
    })?;
    let audit = serde_json::json!({ "action": "accept", "entity": "quarantine", "entity_id": id,
        "changes": { "household_id": q.household_id, "from_user": q.user_id, "from_device": q.device_id } });
    crate::write::edit_household(&state, &me, &q.household_id, audit, |doc, author| {
        doc.reapply(changes.clone(), author)
    })
    .await?;
    state
        .store
        .decide_quarantine(&me.actor(), &id, "accepted")
        .await?;
    Ok(Json(state.store.quarantined(&id).await?.0))
}

/// Reject refused changes: they stay kept, marked as decided.
#[utoipa::path(post, path = "/quarantine/{id}/reject", tag = "conflicts", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = QuarantineRecord), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
async fn reject_quarantined(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
) -> AppResult<Json<QuarantineRecord>> {
    undecided(&state, &me, &id).await?;
    state
        .store
        .decide_quarantine(&me.actor(), &id, "rejected")
        .await?;
    Ok(Json(state.store.quarantined(&id).await?.0))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuarantineQuery {
    /// One household; the whole area when absent.
    pub household_id: Option<String>,
}

/// Changes devices pushed that the role rules refused: kept whole, never applied.
#[utoipa::path(get, path = "/quarantine", tag = "conflicts", security(("bearer" = [])), params(QuarantineQuery),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Vec<QuarantineRecord>), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody, description = "No such household")))]
async fn list_quarantine(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<QuarantineQuery>,
) -> AppResult<Json<Vec<QuarantineRecord>>> {
    let store = state.store.as_ref();
    me.reach(Action::ResolveConflicts)?;
    let ids = match q.household_id {
        Some(h) => vec![me.household(store, Action::ResolveConflicts, &h).await?.id],
        None => store
            .list_households(&crate::store::HouseholdFilter {
                within: store.within(&me.user.area_id).await?,
                limit: i64::MAX / 2,
                ..Default::default()
            })
            .await?
            .into_iter()
            .map(|h| h.id)
            .collect(),
    };
    Ok(Json(store.list_quarantine(&ids).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConflictQuery {
    pub household_id: Option<String>,
    pub village_id: Option<String>,
    /// A field name, e.g. `head_name`.
    pub field: Option<String>,
    /// Only conflicts open at least this many days.
    pub min_age_days: Option<i64>,
    /// Include resolved conflicts too.
    #[serde(default)]
    pub all: bool,
}

#[utoipa::path(get, path = "/conflicts", tag = "conflicts", security(("bearer" = [])), params(ConflictQuery),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Vec<ConflictRecord>), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody, description = "No such household")))]
async fn list_conflicts(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<ConflictQuery>,
) -> AppResult<Json<Vec<ConflictRecord>>> {
    let store = state.store.as_ref();
    me.reach(Action::ResolveConflicts)?;
    let ids: Vec<String> = match (&q.household_id, &q.village_id) {
        (Some(h), _) => vec![me.household(store, Action::ResolveConflicts, h).await?.id],
        (None, village) => {
            let villages = match village {
                Some(v) => {
                    me.check_area(store, Action::ResolveConflicts, v).await?;
                    vec![v.clone()]
                }
                None => store.villages_under(&me.user.area_id).await?,
            };
            store
                .list_households(&crate::store::HouseholdFilter {
                    within: crate::store::Within::Villages(villages),
                    limit: i64::MAX / 2,
                    ..Default::default()
                })
                .await?
                .into_iter()
                .map(|h| h.id)
                .collect()
        }
    };
    let now = chrono::Utc::now().timestamp_millis();
    let found: Vec<ConflictRecord> = store
        .list_conflicts(Some(&ids), !q.all)
        .await?
        .into_iter()
        .filter(|c| q.field.as_ref().is_none_or(|f| c.path.last() == Some(f)))
        .filter(|c| {
            q.min_age_days
                .is_none_or(|d| now - c.opened_at >= d * 86_400_000)
        })
        .collect();
    Ok(Json(named(&state, found).await?))
}

/// The conflicts with the names of who wrote each value on which device, and who decided.
async fn named(state: &AppState, mut found: Vec<ConflictRecord>) -> AppResult<Vec<ConflictRecord>> {
    let mut people: Vec<String> = found
        .iter()
        .flat_map(|c| {
            c.candidates
                .iter()
                .filter_map(|v| v.user_id.clone())
                .chain(c.resolved_by.clone())
        })
        .collect();
    people.sort();
    people.dedup();
    let names = crate::api::history::Names::of(state, &people).await?;
    for c in &mut found {
        let mut writers: Vec<NamedDevice> = Vec::new();
        for v in &c.candidates {
            if let (Some(u), Some(d)) = (&v.user_id, &v.device_id)
                && !writers.iter().any(|w| &w.user_id == u && &w.device_id == d)
            {
                writers.push(NamedDevice {
                    user_id: u.clone(),
                    device_id: d.clone(),
                    user_name: names.user(u),
                    device_name: names.device_only(u, d),
                });
            }
        }
        c.writers = writers;
        c.resolved_by_name = c.resolved_by.as_deref().map(|u| names.user(u));
    }
    Ok(found)
}

/// How long the officer who decided a conflict may change the decision (the console's undo).
const REDECIDE_MS: i64 = 10 * 60 * 1000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    /// The value decided: one of the candidates or a new one.
    #[schema(value_type = Object)]
    pub value: Value,
}

#[utoipa::path(post, path = "/conflicts/{id}/resolve", tag = "conflicts", security(("bearer" = [])), params(("id" = String, Path)), request_body = Resolution,
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = ConflictRecord), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody, description = "The value is refused: not a field's value, or (a village) outside the officer's area")))]
async fn resolve(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
    AppJson(r): AppJson<Resolution>,
) -> AppResult<Json<ConflictRecord>> {
    let store = state.store.as_ref();
    me.reach(Action::ResolveConflicts)?;
    let conflict = store
        .get_conflict(&id)
        .await
        .map_err(not_found("conflict"))?;
    me.household(store, Action::ResolveConflicts, &conflict.household_id)
        .await?;
    let now = chrono::Utc::now().timestamp_millis();
    // A decision can be changed (undone) by the officer who made it for a short while, as a
    // new decision; afterwards, or a conflict a later edit closed, stays as it is.
    let own_recent = conflict.resolution.is_some()
        && conflict.resolved_by.as_deref() == Some(me.user.id.as_str())
        && conflict
            .resolved_at
            .is_some_and(|at| now - at <= REDECIDE_MS);
    if conflict.resolved_at.is_some() && !own_recent {
        return Err(AppError::Conflict {
            code: "already_resolved",
            message: Text::new(
                "Xung đột này đã được giải quyết.",
                "This conflict is already resolved.",
            ),
        });
    }
    if matches!(r.value, Value::Object(_) | Value::Array(_)) {
        return Err(AppError::field(
            "value",
            "not_a_field_value",
            Text::new(
                "Giá trị phải là chữ, số, đúng/sai hoặc rỗng.",
                "The value must be text, a number, true/false or null.",
            ),
        ));
    }
    // A decision: the only writer of the document's `resolutions`.
    let writer = shared::core::Writer {
        decision: true,
        ..crate::api::sync::writer(&me)
    };
    let field = shared::doc::FieldConflict {
        path: conflict.path.clone(),
        values: conflict.candidates.clone(),
    };
    let audit = serde_json::json!({ "resolved_conflict": id, "path": conflict.path, "value": r.value, "candidates": conflict.candidates });
    // The decided value is judged like any write: a household moved by it must stay in
    // the officer's villages.
    let villages = crate::api::sync::villages_of(&state, &me).await?;
    let edited = state
        .hub
        .edit(
            &state.db,
            &writer,
            villages.as_ref(),
            &conflict.household_id,
            audit,
            |doc, author| doc.resolve_conflict(&id, &field, &r.value, author),
        )
        .await;
    match edited {
        Ok(()) => {
            store
                .record_decision(&id, &r.value, &me.user.id, now)
                .await?;
            let decided = store.get_conflict(&id).await?;
            let mut one = named(&state, vec![decided]).await?;
            Ok(Json(one.remove(0)))
        }
        Err(EditError::Refused(refusal)) => {
            let mut e = shared::ValidationErrors::default();
            e.push("value", &refusal.code, refusal.reason);
            Err(AppError::Validation(e))
        }
        Err(other) => Err(crate::write::edit_error(other)),
    }
}
