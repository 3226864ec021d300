//! One async function per API endpoint the app uses, each returning the server's own
//! error body when it refuses, so the person reads the server's reason in their language.

use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use shared::Text;
use shared::api::{ErrorBody, LoginRequest, RefreshRequest, TokenPair};
use shared::sync::{SyncRequest, SyncResponse};

#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// No answer: offline, or the server is down.
    #[error("network: {0}")]
    Network(String),
    /// The server refused, with its reason.
    #[error("{}", .0.message.en)]
    Refused(ErrorBody),
    /// The access token is missing, expired or revoked (HTTP 401).
    #[error("{}", .0.message.en)]
    Unauthorized(ErrorBody),
    /// The answer could not be read (a version mismatch or a proxy's page).
    #[error("unreadable answer: {0}")]
    Unreadable(String),
}

impl ClientError {
    /// What to tell the person.
    pub fn message(&self) -> Text {
        match self {
            ClientError::Network(_) => Text::new(
                "Không kết nối được máy chủ. Kiểm tra sóng điện thoại rồi thử lại.",
                "Cannot reach the server. Check the phone's signal and try again.",
            ),
            ClientError::Refused(body) | ClientError::Unauthorized(body) => body.message.clone(),
            ClientError::Unreadable(_) => Text::new(
                "Máy chủ trả lời không đọc được. Hãy cập nhật ứng dụng.",
                "The server's answer could not be read. Please update the app.",
            ),
        }
    }
}

async fn read<T: DeserializeOwned>(r: Response) -> Result<T, ClientError> {
    if r.ok() {
        r.json()
            .await
            .map_err(|e| ClientError::Unreadable(e.to_string()))
    } else {
        match r.json::<ErrorBody>().await {
            Ok(body) if r.status() == 401 => Err(ClientError::Unauthorized(body)),
            Ok(body) => Err(ClientError::Refused(body)),
            Err(e) => Err(ClientError::Unreadable(format!("{}: {e}", r.status()))),
        }
    }
}

pub async fn login(req: &LoginRequest) -> Result<TokenPair, ClientError> {
    let r = Request::post("/api/auth/login")
        .json(req)
        .map_err(|e| ClientError::Unreadable(e.to_string()))?
        .send()
        .await
        .map_err(|e| ClientError::Network(e.to_string()))?;
    read(r).await
}

pub async fn refresh(req: &RefreshRequest) -> Result<TokenPair, ClientError> {
    let r = Request::post("/api/auth/refresh")
        .json(req)
        .map_err(|e| ClientError::Unreadable(e.to_string()))?
        .send()
        .await
        .map_err(|e| ClientError::Network(e.to_string()))?;
    read(r).await
}

/// One sync round trip (docs/sync-protocol.md); the browser compresses nothing on the way
/// up but takes the compressed answer.
pub async fn sync(token: &str, req: &SyncRequest) -> Result<SyncResponse, ClientError> {
    let r = Request::post("/api/sync")
        .header("Authorization", &format!("Bearer {token}"))
        .json(req)
        .map_err(|e| ClientError::Unreadable(e.to_string()))?
        .send()
        .await
        .map_err(|e| ClientError::Network(e.to_string()))?;
    read(r).await
}

pub async fn logout(token: &str) -> Result<(), ClientError> {
    let r = Request::post("/api/auth/logout")
        .header("Authorization", &format!("Bearer {token}"))
        .send()
        .await
        .map_err(|e| ClientError::Network(e.to_string()))?;
    if r.ok() {
        Ok(())
    } else {
        read::<serde_json::Value>(r).await.map(|_| ())
    }
}
