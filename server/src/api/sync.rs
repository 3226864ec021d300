//! The sync endpoint: one request per device carries its changes to every household in
//! its scope and gets back what it lacks (see `shared::sync` and docs/sync-protocol.md).
//! Every pushed change is checked against the user's role and scope, committed with the
//! read model and the conflict records in one transaction, and only then acknowledged;
//! a refused change is quarantined for the commune officer, never applied or dropped.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::AppJson;
use crate::store::{Actor, AssignmentFilter, DocWrite, HouseholdFilter, Store, StoreError};
use crate::write::Pushed;
use axum::Json;
use axum::extract::State;
use shared::Text;
use shared::core::{Refusal, Writer};
use shared::doc::Author;
use shared::permissions::{Action, Reach};
use shared::projection::{Records, to_doc};
use shared::summary::Summary;
use shared::sync::{Ack, DocUpdate, Held, PROTOCOL, Refused, SyncRequest, SyncResponse};
use std::collections::{BTreeMap, BTreeSet};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sync))
}

/// Documents per response page; a fresh pull of a large commune takes a few pages.
pub const PAGE: usize = 500;
/// Days after an assignment ends during which the cadre's unsent changes are still taken in.
const GRACE_DAYS: i64 = 30;

fn writer(me: &CurrentUser) -> Writer {
    Writer {
        user_id: me.user.id.clone(),
        device_id: me.device_id.clone(),
        role: me.user.role,
        now_ms: chrono::Utc::now().timestamp_millis(),
        decision: false,
    }
}

fn author(me: &CurrentUser) -> Author {
    writer(me).author()
}

fn too_much(what: &str, max: usize) -> AppError {
    AppError::BadRequest {
        code: "sync_limit",
        message: Text::new(
            format!("Yêu cầu đồng bộ vượt giới hạn: {what} (tối đa {max}); hãy cập nhật ứng dụng."),
            format!(
                "The sync request exceeds a limit: {what} (at most {max}); please update the app."
            ),
        ),
    }
}

/// Households the user's device holds, and those it may still push to.
async fn scope(
    store: &dyn Store,
    me: &CurrentUser,
) -> AppResult<(BTreeSet<String>, BTreeSet<String>)> {
    let (villages, ids) = me.household_scope(store, Action::ReadHouseholds).await?;
    let scope: BTreeSet<String> = match ids {
        Some(ids) => ids.into_iter().collect(),
        None => store
            .list_households(&HouseholdFilter {
                village_ids: villages,
                limit: i64::MAX / 2,
                ..Default::default()
            })
            .await?
            .into_iter()
            .map(|h| h.id)
            .collect(),
    };
    let mut push_scope = scope.clone();
    if me.reach(Action::ReadHouseholds)? == Reach::Assigned {
        let since = crate::today() - chrono::Duration::days(GRACE_DAYS);
        for a in store
            .list_assignments(&AssignmentFilter {
                cadre_id: Some(me.user.id.clone()),
                ..Default::default()
            })
            .await?
        {
            if a.to_date.is_some_and(|t| t >= since) {
                push_scope.insert(a.household_id);
            }
        }
    }
    Ok((scope, push_scope))
}

/// Builds and stores documents for households registered before they had one.
async fn ensure_docs(store: &dyn Store, ids: &BTreeSet<String>) -> AppResult<()> {
    let listed: Vec<String> = ids.iter().cloned().collect();
    let have: BTreeSet<String> = store
        .docs_since(-1, &listed, i64::MAX / 2)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let author = Author {
        user_id: "server".into(),
        device_id: "server".into(),
        at_ms: chrono::Utc::now().timestamp_millis(),
    };
    for id in ids.iter().filter(|id| !have.contains(*id)) {
        let records = Records {
            household: store.get_household(id).await?,
            members: store.list_members(id).await?,
            assessments: store.list_assessments(id).await?,
            visits: store.list_visits(id).await?,
            support: store.list_support(id).await?,
            plan: vec![],
        };
        let actor: [u8; 16] = rand::random();
        let mut doc =
            to_doc(&actor, &records, &author).map_err(|e| AppError::Internal(e.to_string()))?;
        let write = DocWrite {
            doc_id: id.clone(),
            expected_seq: None,
            changes: doc.save(),
            compacted: None,
            heads: doc.heads().iter().map(|h| h.to_string()).collect(),
            records,
            conflicts: vec![],
            audit: serde_json::json!({ "created_from": "read model" }),
            touched: None,
            actors: vec![],
        };
        match store.commit_doc(&Actor::system(), &write).await {
            Ok(_) | Err(StoreError::Duplicate(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Sync every household in the device's scope in one exchange.
#[utoipa::path(post, path = "/sync", tag = "sync", security(("bearer" = [])),
    request_body(content = Object, description = "SyncRequest, see docs/sync-protocol.md"),
    responses((status = 200, body = Object, description = "SyncResponse"), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
async fn sync(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(req): AppJson<SyncRequest>,
) -> AppResult<Json<SyncResponse>> {
    if req.protocol != PROTOCOL {
        return Err(AppError::BadRequest {
            code: "protocol_version",
            message: Text::new(
                "Phiên bản ứng dụng cũ; hãy cập nhật ứng dụng.",
                "This app version is too old; please update it.",
            ),
        });
    }
    let limits = state.core.limits;
    if req.pushes.len() > limits.pushes_per_request {
        return Err(too_much("số hộ / households", limits.pushes_per_request));
    }
    let total: usize = req.pushes.iter().map(|p| p.changes.len()).sum();
    if total > limits.bytes_per_request {
        return Err(too_much("số byte / bytes", limits.bytes_per_request));
    }
    let store = state.store.as_ref();
    let (mut scope, push_scope) = scope(store, &me).await?;
    ensure_docs(store, &scope).await?;
    let w = writer(&me);
    let writes = shared::permissions::reach(me.user.role, Action::WriteHouseholds).is_some()
        || shared::permissions::reach(me.user.role, Action::LogVisits).is_some();
    let villages: Option<BTreeSet<String>> = me
        .household_scope(store, Action::ReadHouseholds)
        .await?
        .0
        .map(|v| v.into_iter().collect());

    let mut resp = SyncResponse {
        protocol: PROTOCOL,
        cursor: req.cursor,
        docs: vec![],
        acks: vec![],
        refused: vec![],
        scope: None,
        more: false,
        resume: None,
    };
    let mut pushed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut must_send: BTreeSet<String> = req
        .want
        .iter()
        .filter(|w| scope.contains(*w))
        .cloned()
        .collect();
    for push in &req.pushes {
        let outcome = if !writes {
            // Read-only roles push nothing: refused before any document is loaded.
            Pushed::Refused(Refusal::new(
                "role",
                "Vai trò của bạn chỉ được xem, không được sửa hồ sơ hộ.",
                "Your role may read households but not change them.",
            ))
        } else if push_scope.contains(&push.doc_id)
            // A household registered on the phone is new to the server: the gate takes it
            // if the role may create it, in a village of the user's area.
            || matches!(store.get_household(&push.doc_id).await, Err(StoreError::NotFound))
        {
            state
                .core
                .push(
                    store,
                    &w,
                    &me.actor(),
                    &push.doc_id,
                    push.changes.clone(),
                    villages.as_ref(),
                )
                .await
        } else {
            Pushed::Refused(Refusal::new(
                "scope",
                "Hộ này không thuộc phạm vi của bạn; thay đổi được giữ lại để cán bộ xã xem xét.",
                "This household is not in your scope; the changes are kept for the commune officer to review.",
            ))
        };
        match outcome {
            Pushed::Later => {}
            Pushed::Resend => {
                // Only a household the device may read is ever sent back.
                if scope.contains(&push.doc_id) {
                    must_send.insert(push.doc_id.clone());
                }
            }
            Pushed::Taken => {
                if !push_scope.contains(&push.doc_id) {
                    scope.insert(push.doc_id.clone());
                }
                pushed.insert(push.doc_id.clone(), push.heads.clone());
                resp.acks.push(Ack {
                    doc_id: push.doc_id.clone(),
                    heads: push.heads.clone(),
                });
            }
            Pushed::Refused(refusal) => {
                let text = serde_json::to_string(&refusal.reason).unwrap_or_default();
                // Bounded per device; what is not kept is still refused, with its reason.
                store
                    .quarantine(
                        &me.actor(),
                        &push.doc_id,
                        &refusal.code,
                        &text,
                        &push.changes,
                    )
                    .await?;
                resp.refused.push(Refused {
                    doc_id: push.doc_id.clone(),
                    reason: refusal.reason,
                    code: refusal.code,
                });
                if scope.contains(&push.doc_id) {
                    must_send.insert(push.doc_id.clone());
                }
            }
        }
    }

    // Read after the pushes are committed, so the device's own writes are behind its cursor.
    // Writes commit in sequence order (the counter row is locked until commit), so every
    // write at or below this number is visible to the query below.
    let seq_before = store.current_seq().await?;
    let ids: Vec<String> = scope.iter().cloned().collect();
    let page = state.sync_page;
    let base_cursor = req.resume.unwrap_or(req.cursor);
    let mut changed = store
        .docs_since(req.cursor as i64, &ids, page as i64 + 1)
        .await?;
    for id in &must_send {
        if !changed.iter().any(|(d, _)| d == id) {
            changed.push((id.clone(), 0));
        }
    }
    resp.cursor = req.cursor.max(seq_before.max(0) as u64);
    let mut sent = 0;
    let mut last_seq = req.cursor;
    let au = author(&me);
    for (id, seq) in changed {
        if sent == page {
            resp.more = true;
            resp.resume = Some(base_cursor);
            break;
        }
        let Some(stored) = store.load_doc(&id).await? else {
            continue;
        };
        let mut doc = stored
            .open(&au)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let base: Option<Vec<automerge::ChangeHash>> = if must_send.contains(&id) {
            None
        } else if let Some(h) = pushed.get(&id) {
            Some(h.iter().filter_map(|h| h.parse().ok()).collect())
        } else if base_cursor > 0 {
            // What the device held before this pull began; a document it never received
            // has no heads then and goes whole.
            store
                .heads_at(&id, base_cursor as i64)
                .await?
                .map(|h| h.iter().filter_map(|h| h.parse().ok()).collect())
        } else {
            None
        };
        let heads: Vec<String> = doc.heads().iter().map(|h| h.to_string()).collect();
        let update = match base {
            Some(b) => {
                let bytes = doc.save_after(&b);
                (!bytes.is_empty()).then_some(DocUpdate {
                    doc_id: id.clone(),
                    snapshot: false,
                    bytes,
                    heads,
                    summary: None,
                })
            }
            None => Some(DocUpdate {
                doc_id: id.clone(),
                snapshot: true,
                bytes: doc.save(),
                heads,
                summary: Summary::of_doc(&id, &doc),
            }),
        };
        if let Some(u) = update {
            resp.docs.push(u);
            sent += 1;
        }
        last_seq = last_seq.max(seq.max(0) as u64);
    }
    if resp.more {
        // Every document has its own sequence number, so the next page starts after this one.
        resp.cursor = last_seq;
    } else if Held::of(scope.iter()) != req.held {
        resp.scope = Some(ids);
    }
    Ok(Json(resp))
}
