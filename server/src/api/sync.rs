//! The sync endpoint: one request per device carries its changes to every household in
//! its scope and gets back what it lacks (see `shared::sync` and docs/sync-protocol.md).
//! This handler only computes the device's scope from assignments and areas; the write
//! core's hub (`shared::core::hub`) does the rest over the database (`crate::write`):
//! every pushed change passes the admission gate, is committed with the read model and
//! the conflict records in one transaction, and only then acknowledged; a refused change
//! is quarantined for the commune officer, never applied or dropped.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::AppJson;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use shared::Text;
use shared::core::{EditError, SyncError, Writer};
use shared::permissions::{Action, Reach};
use shared::projection::{Records, put_records};
use shared::sync::{PROTOCOL, SyncRequest};
use std::collections::BTreeSet;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sync))
}

/// Documents per response page; a fresh pull of a large commune takes a few pages.
pub const PAGE: usize = 500;

/// The session's writer: what the gate binds every pushed change to.
pub fn writer(me: &CurrentUser) -> Writer {
    Writer {
        user_id: me.user.id.clone(),
        device_id: me.device_id.clone(),
        role: me.user.role,
        now_ms: chrono::Utc::now().timestamp_millis(),
        decision: false,
        door: shared::doc::Door::Console,
    }
}

/// The villages where `me` may place a household (`None`: anywhere), as the write core
/// judges every write's result: the same villages a device's sync is judged by.
pub(crate) async fn villages_of(
    state: &AppState,
    me: &CurrentUser,
) -> AppResult<Option<BTreeSet<String>>> {
    let (villages, _) = me
        .household_scope(state.store.as_ref(), Action::ReadHouseholds)
        .await?;
    Ok(villages.map(|v| v.into_iter().collect()))
}

/// Builds the documents of households that have rows but no document yet (brought in
/// as rows by an import, or registered before documents existed), through the write
/// core like every other write. Households known to have one are not asked again.
pub(crate) async fn ensure_docs(state: &AppState, ids: &BTreeSet<String>) -> AppResult<()> {
    let store = state.store.as_ref();
    let listed: Vec<String> = state.db.without_known_docs(ids);
    if listed.is_empty() {
        return Ok(());
    }
    let have: BTreeSet<String> = store
        .docs()
        .docs_since(-1, &listed, i64::MAX / 2)
        .await?
        .docs
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    state.db.know_docs(have.iter().cloned());
    for id in listed.iter().filter(|id| !have.contains(*id)) {
        let records = Records {
            household: store.get_household(id).await?,
            members: store.list_members(id).await?,
            assessments: store.list_assessments(id).await?,
            visits: store.list_visits(id).await?,
            support: store.list_support(id).await?,
            plan: vec![],
            review_steps: store.list_review_steps(id).await?,
        };
        let made = state
            .hub
            .create(
                &state.db,
                &Writer::server(chrono::Utc::now().timestamp_millis()),
                None,
                id,
                serde_json::json!({ "created_from": "read model" }),
                |doc, author| put_records(doc, &records, author),
            )
            .await;
        match made {
            // Another request built it first.
            Ok(()) | Err(EditError::Busy) => {}
            Err(EditError::Refused(r)) if r.code == "duplicate_code" => {}
            Err(e) => return Err(crate::write::edit_error(e)),
        }
        state.db.know_docs([id.clone()]);
    }
    Ok(())
}

/// How often a syncing phone's last sighting is written down: the console shows it to
/// the minute, and a sync storm does not write a row per request.
const SIGHTING_EVERY_MS: i64 = 60_000;

/// Keeps the device's last sync time current, and the unsent count its phone reports
/// whenever it changes (what a revoked or lost phone still held).
async fn note_sighting(state: &AppState, me: &CurrentUser, unsent: Option<u32>) -> AppResult<()> {
    let now = chrono::Utc::now().timestamp_millis();
    // A phone's own count, shown as it says; no phone holds more than a province.
    let unsent = unsent.map(|n| n.min(1_000_000));
    let changed = unsent.is_some_and(|n| i64::from(n) != me.unsent);
    if changed || now - me.last_seen_at >= SIGHTING_EVERY_MS {
        state.store.device_seen(&me.session_id, unsent, now).await?;
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
    headers: HeaderMap,
    AppJson(req): AppJson<SyncRequest>,
) -> AppResult<Response> {
    if req.protocol != PROTOCOL {
        return Err(AppError::BadRequest {
            code: "protocol_version",
            message: Text::new(
                "Phiên bản ứng dụng cũ; hãy cập nhật ứng dụng.",
                "This app version is too old; please update it.",
            ),
        });
    }
    note_sighting(&state, &me, req.unsent).await?;
    let scope = state.scopes.of(state.store.as_ref(), &me).await?;
    ensure_docs(&state, &scope.read).await?;
    let areas = me.reach(Action::ReadHouseholds)? != Reach::Assigned;
    match state.hub.sync(&state.db, &writer(&me), scope, &req).await {
        Ok(resp) => {
            metrics::counter!(crate::metrics::SYNC_ACKNOWLEDGED).increment(resp.acks.len() as u64);
            for r in &resp.refused {
                metrics::counter!(crate::metrics::SYNC_REFUSED, "code" => r.code.clone())
                    .increment(1);
            }
            // A household registered or moved by a phone changes the scopes of the
            // village's other devices (a cadre's changes never do).
            if areas && !resp.acks.is_empty() {
                state.scopes.changed();
            }
            Ok(super::packed::json(&resp, super::packed::accepts_zstd(&headers)).await)
        }
        Err(SyncError::Refused(r)) => {
            metrics::counter!(crate::metrics::SYNC_REFUSED, "code" => "sync_limit").increment(1);
            Err(AppError::BadRequest {
                code: "sync_limit",
                message: r.reason,
            })
        }
        Err(SyncError::Storage(e)) => Err(e.into()),
    }
}
