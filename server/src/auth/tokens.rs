//! Access tokens (JWT, HS256) and refresh tokens (random, stored only as SHA-256).

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long tokens live.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub access_secs: i64,
    pub refresh_secs: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            access_secs: 15 * 60,
            // A phone may stay offline for weeks; the refresh token must outlive that.
            refresh_secs: 45 * 24 * 3600,
        }
    }
}

/// Signing keys, built once from the configured secret and kept in the app state.
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub lifetimes: Lifetimes,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

/// What an access token says about its bearer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Session id (one per user and device).
    pub sid: String,
    /// Device id.
    pub dev: String,
    pub iat: i64,
    pub exp: i64,
}

impl Keys {
    pub fn new(secret: &[u8], lifetimes: Lifetimes) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            lifetimes,
        }
    }

    pub fn issue(&self, user_id: &str, session_id: &str, device_id: &str, now: i64) -> String {
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session_id.to_string(),
            dev: device_id.to_string(),
            iat: now,
            exp: now + self.lifetimes.access_secs,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing does not fail")
    }

    /// Checks signature and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &v).map(|d| d.claims)
    }
}

/// A new random refresh token (256 bits, URL-safe).
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a refresh token.
pub fn refresh_digest(token: &str) -> String {
    let d = Sha256::digest(token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_expire() {
        let keys = Keys::new(b"0123456789abcdef0123456789abcdef", Lifetimes::default());
        let now = chrono::Utc::now().timestamp();
        let t = keys.issue("u1", "s1", "d1", now);
        let c = keys.verify(&t).unwrap();
        assert_eq!(
            (c.sub.as_str(), c.sid.as_str(), c.dev.as_str()),
            ("u1", "s1", "d1")
        );
        let old = keys.issue("u1", "s1", "d1", now - 3600);
        assert!(keys.verify(&old).is_err(), "an expired token is refused");
        let other = Keys::new(b"another secret of thirty-two b!!", Lifetimes::default());
        assert!(
            other.verify(&t).is_err(),
            "a token signed with another key is refused"
        );
    }
}
