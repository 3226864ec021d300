//! The field app's own endpoint, sync; the rest of the API transport is shared with the
//! commune console (`ui::api`).

use gloo_net::http::Request;
use shared::sync::{SyncRequest, SyncResponse};
pub use ui::api::*;

/// One sync round trip (docs/sync-protocol.md); the browser compresses nothing on the way
/// up but takes the compressed answer.
pub async fn sync(token: &str, req: &SyncRequest) -> Result<SyncResponse, ClientError> {
    send(
        Request::post("/api/sync").header("Authorization", &format!("Bearer {token}")),
        Some(req),
    )
    .await
}
