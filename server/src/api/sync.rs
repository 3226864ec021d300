//! The sync endpoint: one request per device carries its changes to every household in
//! its scope and gets back what it lacks (see `shared::sync` and docs/sync-protocol.md).
//! Every pushed change is checked against the user's role and scope, committed with the
//! read model and the conflict records in one transaction, and only then acknowledged;
//! a refused change is quarantined for the commune officer, never applied or dropped.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::AppJson;
use crate::store::{
    Actor, AssignmentFilter, DocWrite, HouseholdFilter, Store, StoreError, StoredDoc,
};
use axum::Json;
use axum::extract::State;
use serde_json::Value;
use shared::Text;
use shared::doc::{Author, HouseholdDoc};
use shared::permissions::{Action, Reach, check_doc_change};
use shared::projection::{Records, project, to_doc};
use shared::summary::Summary;
use shared::sync::{Ack, DocUpdate, Held, PROTOCOL, Push, Refused, SyncRequest, SyncResponse};
use std::collections::{BTreeMap, BTreeSet};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sync))
}

/// Documents per response page; a fresh pull of a large commune takes a few pages.
pub const PAGE: i64 = 500;
/// Changes after a snapshot before the document is compacted again.
const COMPACT_AFTER: usize = 16;
/// Days after an assignment ends during which the cadre's unsent changes are still taken in.
const GRACE_DAYS: i64 = 30;
/// Attempts to merge a push when other writers keep committing to the same household.
const MAX_ATTEMPTS: usize = 20;

fn author(me: &CurrentUser) -> Author {
    Author {
        user_id: me.user.id.clone(),
        device_id: me.device_id.clone(),
        at_ms: chrono::Utc::now().timestamp_millis(),
    }
}

fn corrupt(e: impl std::fmt::Display) -> Text {
    Text::new(
        format!("Dữ liệu đồng bộ không đọc được: {e}"),
        format!("The sync data could not be read: {e}"),
    )
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
        };
        match store.commit_doc(&Actor::system(), &write).await {
            Ok(_) | Err(StoreError::Duplicate(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Why a push was not taken in.
enum NotTaken {
    /// The role rules or the data refuse it: quarantined, the device is told.
    Refused(Text),
    /// Too many writers at once or a storage failure: not acknowledged, the device keeps
    /// the changes and sends them again at its next sync.
    Later,
    /// The changes build on changes the server does not have (the device believed it had
    /// them): not acknowledged; the server's whole document goes back so the device can
    /// send what is missing.
    Resend,
}

impl From<Text> for NotTaken {
    fn from(t: Text) -> Self {
        NotTaken::Refused(t)
    }
}

/// Applies one push; `Ok(true)` when it changed the document.
async fn take_push(state: &AppState, me: &CurrentUser, push: &Push) -> Result<bool, NotTaken> {
    let store = state.store.as_ref();
    let author = author(me);
    let internal = |e: StoreError| {
        tracing::warn!(error = %e, "sync push not stored");
        NotTaken::Later
    };
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            // Another writer committed to this household first: merge again after a short,
            // random pause so the writers do not collide in step again.
            let pause = rand::random::<u64>() % (2 * attempt as u64 + 1);
            tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        }
        let stored = store.load_doc(&push.doc_id).await.map_err(internal)?;
        let (before, mut doc) = match &stored {
            Some(s) => {
                let mut doc = s.open(&author).map_err(corrupt)?;
                let before = doc.to_json();
                doc.apply(&push.changes).map_err(corrupt)?;
                (before, doc)
            }
            None => {
                let actor: [u8; 16] = rand::random();
                (
                    Value::Null,
                    HouseholdDoc::load(&actor, &push.changes, &author).map_err(corrupt)?,
                )
            }
        };
        if !doc.automerge().get_missing_deps(&[]).is_empty() {
            return Err(NotTaken::Resend);
        }
        let heads: Vec<String> = doc.heads().iter().map(|h| h.to_string()).collect();
        if stored.as_ref().is_some_and(|s| s.heads == heads) {
            return Ok(false); // a repeat
        }
        // Changes new to the server must be signed by the user whose token sent them.
        let old_heads = stored
            .as_ref()
            .map(StoredDoc::change_heads)
            .unwrap_or_default();
        for change in doc.automerge().get_changes(&old_heads) {
            let signed = change
                .message()
                .and_then(|m| serde_json::from_str::<Author>(m).ok());
            if signed.is_none_or(|a| a.user_id != me.user.id) {
                return Err(NotTaken::Refused(Text::new(
                    "Thay đổi không ghi đúng người dùng đang đăng nhập trên máy này.",
                    "The changes do not name the user signed in on this device.",
                )));
            }
        }
        let after = doc.to_json();
        check_doc_change(me.user.role, &before, &after)?;
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let records = project(&push.doc_id, &after, &now).map_err(corrupt)?;
        validate(&records)?;
        // A new household, or one moved, must be in a village of the user's scope.
        me.check_area(store, Action::ReadHouseholds, &records.household.village_id)
            .await
            .map_err(|_| {
                Text::new(
                    "Hộ này nằm ngoài địa bàn của bạn.",
                    "This household is outside your area.",
                )
            })?;
        let conflicts = doc.conflicts().map_err(corrupt)?;
        let old_heads = stored
            .as_ref()
            .map(StoredDoc::change_heads)
            .unwrap_or_default();
        let compact = stored
            .as_ref()
            .is_some_and(|s| s.chunks.len() >= COMPACT_AFTER);
        let write = DocWrite {
            doc_id: push.doc_id.clone(),
            expected_seq: stored.as_ref().map(|s| s.seq),
            changes: doc.save_after(&old_heads),
            compacted: compact.then(|| doc.save()),
            heads,
            records,
            conflicts,
            audit: serde_json::json!({ "via": "sync", "pushed_heads": push.heads }),
        };
        match store.commit_doc(&me.actor(), &write).await {
            Ok(_) => return Ok(true),
            Err(StoreError::Duplicate(_)) => continue,
            Err(e) => return Err(internal(e)),
        }
    }
    Err(NotTaken::Later)
}

fn validate(r: &Records) -> Result<(), Text> {
    use shared::Validate;
    let first = |e: shared::ValidationErrors| {
        let f = &e.0[0];
        Text::new(
            format!("{}: {}", f.field, f.message.vi),
            format!("{}: {}", f.field, f.message.en),
        )
    };
    for m in &r.members {
        m.data.validate().map_err(first)?;
    }
    for v in &r.visits {
        v.data.validate().map_err(first)?;
    }
    for s in &r.support {
        s.data.validate().map_err(first)?;
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
    let store = state.store.as_ref();
    let (mut scope, push_scope) = scope(store, &me).await?;
    ensure_docs(store, &scope).await?;

    let mut resp = SyncResponse {
        protocol: PROTOCOL,
        cursor: req.cursor,
        docs: vec![],
        acks: vec![],
        refused: vec![],
        scope: None,
        more: false,
    };
    let mut pushed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut must_send: BTreeSet<String> = req
        .want
        .iter()
        .filter(|w| scope.contains(*w))
        .cloned()
        .collect();
    for push in &req.pushes {
        // A household registered on the phone is new to the server: it is taken if the
        // role may create it in a village of the user's area (checked in `take_push`).
        let registered_on_phone = !push_scope.contains(&push.doc_id)
            && matches!(
                state.store.get_household(&push.doc_id).await,
                Err(StoreError::NotFound)
            );
        let outcome = if push_scope.contains(&push.doc_id) || registered_on_phone {
            take_push(&state, &me, push).await
        } else {
            Err(NotTaken::Refused(Text::new(
                "Hộ này không thuộc phạm vi của bạn; thay đổi được giữ lại để cán bộ xã xem xét.",
                "This household is not in your scope; the changes are kept for the commune officer to review.",
            )))
        };
        match outcome {
            Err(NotTaken::Later) => {}
            Err(NotTaken::Resend) => {
                must_send.insert(push.doc_id.clone());
            }
            Ok(_) => {
                if registered_on_phone {
                    scope.insert(push.doc_id.clone());
                }
                pushed.insert(push.doc_id.clone(), push.heads.clone());
                resp.acks.push(Ack {
                    doc_id: push.doc_id.clone(),
                    heads: push.heads.clone(),
                });
            }
            Err(NotTaken::Refused(reason)) => {
                let text = serde_json::to_string(&reason).unwrap_or_default();
                store
                    .quarantine(&me.actor(), &push.doc_id, &text, &push.changes)
                    .await?;
                resp.refused.push(Refused {
                    doc_id: push.doc_id.clone(),
                    reason,
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
    let mut changed = store.docs_since(req.cursor as i64, &ids, PAGE + 1).await?;
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
        if sent == PAGE {
            resp.more = true;
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
        } else if req.cursor > 0 {
            store
                .heads_at(&id, req.cursor as i64)
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
