//! Sync answers compressed by the handler itself, with zstd, when the phone accepts it.
//!
//! A phone syncs after every visit, so most answers are a few kilobytes. The compression
//! layer makes a new compressor for every answer and streams into it without knowing the
//! size: on a push storm, setting up and clearing zstd's or brotli's tables for each answer
//! cost more than compressing it. Here each thread keeps one zstd context, and an answer is
//! compressed in one piece, so zstd sizes its tables to the answer. The layer leaves an
//! answer that already says its encoding as it is, and still compresses the answers of
//! clients that do not accept zstd.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::cell::RefCell;

/// Answers smaller than this go uncompressed: compressing costs more than it saves.
const MIN_BYTES: usize = 1024;
/// Answers larger than this (a page of a fresh pull, rare) are compressed off the
/// request's worker thread, so other phones' requests are not held up behind it.
const INLINE_BYTES: usize = 64 * 1024;
/// zstd's level: about brotli quality 3's size on sync answers.
const LEVEL: i32 = 3;

thread_local! {
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
}

/// Whether `Accept-Encoding` lists zstd with a weight above zero.
pub fn accepts_zstd(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let weight_zero = parts.any(|p| {
                p.strip_prefix("q=")
                    .or_else(|| p.strip_prefix("Q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            name.eq_ignore_ascii_case("zstd") && !weight_zero
        })
}

fn compress(body: &[u8]) -> Option<Vec<u8>> {
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = zstd::bulk::Compressor::new(LEVEL).ok();
        }
        c.as_mut()?.compress(body).ok()
    })
}

/// `value` as a JSON answer, zstd-compressed when `zstd` (the client accepts it) and
/// large enough to gain; otherwise plain, for the compression layer to handle.
pub async fn json<T: serde::Serialize>(value: &T, zstd: bool) -> Response {
    let body = match serde_json::to_vec(value) {
        Ok(b) => b,
        Err(e) => return crate::error::AppError::Internal(e.to_string()).into_response(),
    };
    let json = (
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if !zstd || body.len() < MIN_BYTES {
        return ([json], body).into_response();
    }
    // The large body moves to the blocking thread and comes back beside its compressed
    // form, so it is never copied; a task that could not run loses the answer (500). It
    // is compressed with a context of its own, freed with it: a context kept on each of
    // the blocking pool's threads would hold memory sized for the largest answer.
    let (body, packed) = if body.len() <= INLINE_BYTES {
        let packed = compress(&body);
        (body, packed)
    } else {
        match tokio::task::spawn_blocking(move || {
            let packed = zstd::bulk::compress(&body, LEVEL).ok();
            (body, packed)
        })
        .await
        {
            Ok(pair) => pair,
            Err(e) => return crate::error::AppError::Internal(e.to_string()).into_response(),
        }
    };
    match packed {
        Some(p) => (
            [
                json,
                (header::CONTENT_ENCODING, HeaderValue::from_static("zstd")),
                (header::VARY, HeaderValue::from_static("accept-encoding")),
            ],
            p,
        )
            .into_response(),
        // zstd could not set up its context (out of memory): sent as it is.
        None => ([json], body).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, v.parse().unwrap());
        h
    }

    #[test]
    fn zstd_is_used_only_when_accepted() {
        assert!(accepts_zstd(&accept("gzip, deflate, br, zstd")));
        assert!(accepts_zstd(&accept("ZSTD;q=0.5")));
        assert!(!accepts_zstd(&accept("gzip, deflate, br")));
        assert!(!accepts_zstd(&accept("br, zstd;q=0")));
        assert!(!accepts_zstd(&accept("zstdx")));
        assert!(!accepts_zstd(&HeaderMap::new()));
    }

    /// A page of a fresh pull (over `INLINE_BYTES`) goes to the blocking pool and comes
    /// back whole, zstd-encoded; a small answer is compressed in place.
    #[tokio::test]
    async fn large_and_small_answers_come_back_whole() {
        for n in [100usize, 20_000] {
            let value: Vec<String> = (0..n).map(|i| format!("household-{i}")).collect();
            let plain = serde_json::to_vec(&value).unwrap();
            assert_eq!(plain.len() > INLINE_BYTES, n == 20_000);
            let resp = json(&value, true).await;
            assert_eq!(resp.headers()[header::CONTENT_ENCODING], "zstd");
            let packed = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            assert!(packed.len() < plain.len());
            assert_eq!(zstd::decode_all(&packed[..]).unwrap(), plain);
        }
    }

    #[test]
    fn an_answer_compressed_twice_on_one_thread_comes_back_whole() {
        let a: Vec<u8> = (0..20_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let b = b"{\"docs\":[]}".repeat(300);
        for body in [&a[..], &b[..], &a[..]] {
            let packed = compress(body).expect("compressed");
            assert!(packed.len() < body.len());
            assert_eq!(zstd::decode_all(&packed[..]).unwrap(), body);
        }
    }
}
