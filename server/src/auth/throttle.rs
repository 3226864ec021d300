//! Sign-in throttling. Two limits, each from a well-kept mechanism: per client address a
//! GCRA rate limiter (`governor`) on sign-in and refresh attempts; per username an
//! exponential lock after consecutive failures, kept in the database (`SignInPolicy`,
//! `sign_in_failures`) so it holds across restarts and server processes and the
//! administrator can see it. Unknown usernames are counted and locked the same way, so a
//! lock tells nothing about which usernames exist.

use crate::error::AppError;
use crate::store::SignInPolicy;
use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use shared::Text;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

/// Attempts one address may make at once (a commune office signing in together behind
/// one address), then one every `ADDRESS_PERIOD_MS`.
const ADDRESS_BURST: u32 = 20;
const ADDRESS_PERIOD_MS: u64 = 3_000;

/// The throttles of sign-in and refresh.
pub struct SignIn {
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    pub policy: SignInPolicy,
    /// Behind a reverse proxy that sets `X-Forwarded-For` (`--trust-proxy`): the client is
    /// the address the proxy saw, not the proxy.
    pub trust_proxy: bool,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Default for SignIn {
    fn default() -> Self {
        Self::new(
            ADDRESS_BURST,
            std::time::Duration::from_millis(ADDRESS_PERIOD_MS),
            SignInPolicy::default(),
        )
    }
}

impl SignIn {
    pub fn new(burst: u32, period: std::time::Duration, policy: SignInPolicy) -> Self {
        let quota = Quota::with_period(period)
            .expect("a period above zero")
            .allow_burst(NonZeroU32::new(burst.max(1)).expect("not zero"));
        SignIn {
            by_address: RateLimiter::keyed(quota),
            policy,
            trust_proxy: false,
        }
    }

    /// Takes one attempt of `address`, or says how long to wait.
    pub fn attempt(&self, address: IpAddr) -> Result<(), AppError> {
        // Addresses not seen for a while are forgotten, so the map stays small.
        if self.by_address.len() > 10_000 {
            self.by_address.retain_recent();
        }
        self.by_address.check_key(&address).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            metrics::counter!(crate::metrics::SIGN_IN_THROTTLED).increment(1);
            too_many(wait.as_secs() + 1)
        })
    }

    /// The client's address: the connection's peer, or behind a trusted proxy the last
    /// address in `X-Forwarded-For` (the one the proxy appended).
    pub fn address(&self, parts: &Parts) -> IpAddr {
        if self.trust_proxy
            && let Some(ip) = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                .next_back()
        {
            return ip;
        }
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip())
    }
}

/// The answer to a throttled attempt.
pub fn too_many(retry_after: u64) -> AppError {
    AppError::TooMany {
        code: "too_many_attempts",
        message: Text::new(
            format!(
                "Đăng nhập sai quá nhiều lần; hãy thử lại sau {}.",
                wait_vi(retry_after)
            ),
            format!(
                "Too many failed attempts; try again in {}.",
                wait_en(retry_after)
            ),
        ),
        retry_after,
    }
}

fn wait_vi(secs: u64) -> String {
    if secs < 90 {
        format!("{secs} giây")
    } else {
        format!("{} phút", secs.div_ceil(60))
    }
}

fn wait_en(secs: u64) -> String {
    if secs < 90 {
        format!("{secs} seconds")
    } else {
        format!("{} minutes", secs.div_ceil(60))
    }
}

/// Client address, as an extractor for the sign-in handlers.
pub struct ClientAddress(pub IpAddr);

impl axum::extract::FromRequestParts<crate::AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(state.sign_in.address(parts)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_doubles_after_the_free_failures_and_is_capped() {
        let p = SignInPolicy::default();
        assert_eq!(p.locked_until(4, 0), None);
        assert_eq!(p.locked_until(5, 0), Some(30_000));
        assert_eq!(p.locked_until(6, 0), Some(60_000));
        assert_eq!(p.locked_until(9, 0), Some(480_000));
        assert_eq!(p.locked_until(1_000, 0), Some(3_600_000));
    }

    #[test]
    fn an_address_is_throttled_after_its_burst() {
        let s = SignIn::new(
            3,
            std::time::Duration::from_secs(60),
            SignInPolicy::default(),
        );
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..3 {
            s.attempt(a).unwrap();
        }
        let AppError::TooMany { retry_after, .. } = s.attempt(a).unwrap_err() else {
            panic!("throttled")
        };
        assert!((1..=61).contains(&retry_after));
        // Another address is not held up.
        s.attempt("10.0.0.2".parse().unwrap()).unwrap();
    }
}
