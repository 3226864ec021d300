//! Requests to the server, each returning the server's own error body when it refuses, so
//! the person reads the server's reason in their language. `authed` signs the request with
//! the stored session and renews the access token once when it has expired.

use crate::session;
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::Text;
use shared::api::{ErrorBody, LoginRequest, RefreshRequest, TokenPair};

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
                "Không kết nối được máy chủ. Kiểm tra kết nối mạng rồi thử lại.",
                "Cannot reach the server. Check the network connection and try again.",
            ),
            ClientError::Refused(body) | ClientError::Unauthorized(body) => body.message.clone(),
            ClientError::Unreadable(_) => Text::new(
                "Máy chủ trả lời không đọc được. Hãy tải lại trang.",
                "The server's answer could not be read. Please reload the page.",
            ),
        }
    }
}

/// The body of a successful answer (an empty one reads as JSON `null`), or the refusal.
pub async fn read<T: DeserializeOwned>(r: Response) -> Result<T, ClientError> {
    if r.ok() {
        let text = r
            .text()
            .await
            .map_err(|e| ClientError::Unreadable(e.to_string()))?;
        let text = if text.is_empty() { "null" } else { &text };
        serde_json::from_str(text).map_err(|e| ClientError::Unreadable(e.to_string()))
    } else {
        match r.json::<ErrorBody>().await {
            Ok(body) if r.status() == 401 => Err(ClientError::Unauthorized(body)),
            Ok(body) => Err(ClientError::Refused(body)),
            Err(e) => Err(ClientError::Unreadable(format!("{}: {e}", r.status()))),
        }
    }
}

/// Sends a request built by `build`, with `body` as JSON when there is one.
pub async fn send<T: DeserializeOwned>(
    build: RequestBuilder,
    body: Option<&impl Serialize>,
) -> Result<T, ClientError> {
    let request = match body {
        Some(b) => build.json(b),
        None => build.build(),
    }
    .map_err(|e| ClientError::Unreadable(e.to_string()))?;
    let r = request
        .send()
        .await
        .map_err(|e| ClientError::Network(e.to_string()))?;
    read(r).await
}

pub async fn login(req: &LoginRequest) -> Result<TokenPair, ClientError> {
    send(Request::post("/api/auth/login"), Some(req)).await
}

pub async fn refresh(req: &RefreshRequest) -> Result<TokenPair, ClientError> {
    send(Request::post("/api/auth/refresh"), Some(req)).await
}

/// A phone reported lost confirms it erased the person's data (`POST /api/auth/erased`).
pub async fn erased(req: &shared::api::ErasedRequest) -> Result<(), ClientError> {
    send::<serde_json::Value>(Request::post("/api/auth/erased"), Some(req))
        .await
        .map(|_| ())
}

pub async fn logout(token: &str) -> Result<(), ClientError> {
    send::<serde_json::Value>(
        Request::post("/api/auth/logout").header("Authorization", &format!("Bearer {token}")),
        None::<&()>,
    )
    .await
    .map(|_| ())
}

/// HTTP methods of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

fn builder(method: Method, path: &str, token: &str) -> RequestBuilder {
    let url = format!("/api{path}");
    let b = match method {
        Method::Get => Request::get(&url),
        Method::Post => Request::post(&url),
        Method::Put => Request::put(&url),
        Method::Patch => Request::patch(&url),
        Method::Delete => Request::delete(&url),
    };
    b.header("Authorization", &format!("Bearer {token}"))
}

/// A request to `/api{path}` signed with the stored session. An expired access token is
/// renewed once with the refresh token (and the new pair stored); a refused renewal is
/// `Unauthorized`, and the person signs in again.
///
/// A read refused because this person's other heavy requests (reports, imports, a page
/// left behind) still run is sent again after the server's wait, a few times, so the page
/// loads once they end instead of showing the refusal.
pub async fn authed<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<T, ClientError> {
    let send = || {
        signed(|token| {
            let b = builder(method, path, token);
            match body {
                Some(body) => b.json(body),
                None => b.build(),
            }
        })
    };
    let mut tries = 0;
    loop {
        match send().await {
            Err(ClientError::Refused(b))
                if method == Method::Get
                    && b.code == "too_many_heavy_requests"
                    && tries < HEAVY_RETRIES =>
            {
                tries += 1;
                sleep_ms(HEAVY_WAIT_MS).await;
            }
            other => return other,
        }
    }
}

/// How many times a read refused for heavy requests is sent again, and the wait before
/// each (the server asks for 5 s; heavy reads of a page left behind end sooner).
const HEAVY_RETRIES: u32 = 6;
const HEAVY_WAIT_MS: i32 = 2_000;

/// Waits `ms` milliseconds on the browser's timer.
async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// A file sent as the request body (`POST /api{path}`), signed like `authed`.
pub async fn upload<T: DeserializeOwned>(path: &str, bytes: &[u8]) -> Result<T, ClientError> {
    signed(|token| {
        let data = js_sys::Uint8Array::from(bytes);
        builder(Method::Post, path, token)
            .header("Content-Type", "application/octet-stream")
            .body(data)
    })
    .await
}

/// A file from `GET /api{path}` (a report), signed like `authed`; a refusal is read as
/// the server's reason.
pub async fn download(path: &str) -> Result<Vec<u8>, ClientError> {
    let r = signed_response(|token| builder(Method::Get, path, token).build()).await?;
    if !r.ok() {
        return Err(read::<serde_json::Value>(r)
            .await
            .err()
            .unwrap_or_else(|| ClientError::Unreadable("refused".into())));
    }
    r.binary()
        .await
        .map_err(|e| ClientError::Network(e.to_string()))
}

async fn signed<T: DeserializeOwned>(
    make: impl Fn(&str) -> Result<Request, gloo_net::Error>,
) -> Result<T, ClientError> {
    read(signed_response(make).await?).await
}

/// Sends the request with the stored access token; when the server answers 401 (expired),
/// renews the pair once with the refresh token and sends it again.
async fn signed_response(
    make: impl Fn(&str) -> Result<Request, gloo_net::Error>,
) -> Result<Response, ClientError> {
    let send_with = |token: &str| {
        let request = make(token).map_err(|e| ClientError::Unreadable(e.to_string()));
        async move {
            request?
                .send()
                .await
                .map_err(|e| ClientError::Network(e.to_string()))
        }
    };
    let pair = session::load().ok_or_else(signed_out)?;
    let first = send_with(&pair.access_token).await?;
    if first.status() != 401 {
        return Ok(first);
    }
    let req = RefreshRequest {
        refresh_token: pair.refresh_token.clone(),
        device_id: session::device_id(),
    };
    let next = match refresh(&req).await {
        Ok(next) => next,
        Err(ClientError::Refused(b)) => return Err(ClientError::Unauthorized(b)),
        Err(e) => return Err(e),
    };
    session::save(&next);
    send_with(&next.access_token).await
}

fn signed_out() -> ClientError {
    ClientError::Unauthorized(ErrorBody {
        code: "signed_out".into(),
        message: Text::new("Bạn chưa đăng nhập.", "You are not signed in."),
        fields: Default::default(),
    })
}
