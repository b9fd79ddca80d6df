//! Per-process rate limits for abuse-prone actions (login, registration, password reset,
//! holds, payment creation), keyed on the real client address.
//!
//! Counters live in this process's memory: the one piece of state DESIGN.md accepts outside
//! the database. With N web processes a client gets at most N times the limit, which still
//! stops brute force; per-account login throttling is stored in the database and is exact.
//!
//! The limiter knows nothing of `AppState`: the state owns a limiter, and the `ClientIp`
//! extractor reads only the proxy count it needs (`TrustedProxyHops`), so the dependency
//! points one way.
//!
//! Why not the `governor` crate: it implements GCRA, which hands back one unit every
//! `window / max` rather than a whole fresh allowance when a window ends. With the same
//! figures that lets an address that spent its 300 holds get another one every 200 ms, and
//! says "retry in 15 s" where the five-minute login window has minutes left, so the limits
//! the tests pin (and the waits people are told) would change. It also has no way to forget
//! every counter (`reset`, used by tests). A fixed window over a map is a few lines.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use strum::{Display, IntoStaticStr};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;

use crate::error::AppError;

/// The abuse-prone actions that are limited; the text is the limit's name in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, IntoStaticStr, Display)]
#[strum(serialize_all = "snake_case")]
pub enum Limit {
    Login,
    Register,
    PasswordReset,
    Hold,
    /// Holds from one address across accounts (a family or office shares one address).
    #[strum(serialize = "hold_ip")]
    HoldPerIp,
    Payment,
}

/// At most `max` events per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub max: u32,
    pub window: Duration,
}

impl Limit {
    /// How many events this limit lets through, and over how long.
    pub const fn quota(self) -> Quota {
        let (max, seconds) = match self {
            Self::Login => (20, 300),
            Self::Register => (10, 3600),
            Self::PasswordReset => (5, 900),
            Self::Hold => (30, 60),
            Self::HoldPerIp => (300, 60),
            Self::Payment => (20, 60),
        };
        Quota {
            max,
            window: Duration::from_secs(seconds),
        }
    }
}

/// (limit, client key).
type WindowKey = (Limit, String);
/// When the current window started, and how many events it has seen.
type Window = (Instant, u32);

/// Above this many (limit, key) windows, finished ones are dropped on the next event, so
/// that a flood of distinct keys cannot grow the map without bound.
const PRUNE_ABOVE: usize = 100_000;

/// Fixed-window counters per (limit, key).
#[derive(Debug, Clone)]
pub struct RateLimiter {
    enabled: bool,
    windows: Arc<Mutex<HashMap<WindowKey, Window>>>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new(true)
    }
}

impl RateLimiter {
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            windows: Arc::default(),
        }
    }

    /// Counts one event for `key`; refuses with 429 and the seconds to wait once over.
    pub fn check(&self, limit: Limit, key: &str) -> Result<(), AppError> {
        self.check_quota(limit, limit.quota(), key)
    }

    fn check_quota(&self, limit: Limit, quota: Quota, key: &str) -> Result<(), AppError> {
        if !self.enabled {
            return Ok(());
        }
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > PRUNE_ABOVE {
            windows
                .retain(|(kind, _), (start, _)| now.duration_since(*start) < kind.quota().window);
        }
        let entry = windows.entry((limit, key.to_owned())).or_insert((now, 0));
        if now.duration_since(entry.0) >= quota.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        if entry.1 > quota.max {
            if entry.1 == quota.max + 1 {
                // Once per key and window, so a flood does not flood the log too.
                tracing::info!(limit = <&str>::from(limit), "rate limit reached");
            }
            let retry = quota.window.saturating_sub(now.duration_since(entry.0));
            return Err(AppError::TooManyRequests {
                retry_after_seconds: retry.as_secs().max(1),
            });
        }
        Ok(())
    }

    /// Forgets every counter (tests).
    pub fn reset(&self) {
        self.windows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// The address of the client that sent a request. Behind `hops` trusted proxies it is the
/// entry those proxies appended to `X-Forwarded-For`, counted from the right; entries to the
/// left of it were written by the client and may be forged, so they are never used.
pub fn client_ip(parts: &Parts, hops: usize) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if hops == 0 {
        return peer;
    }
    let forwarded: Vec<&str> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    forwarded
        .len()
        .checked_sub(hops)
        .and_then(|i| forwarded.get(i))
        .and_then(|s| s.parse().ok())
        .or(peer)
}

/// How many trusted proxies stand in front of the app (`TRUSTED_PROXY_HOPS`): all that
/// `ClientIp` needs from the application state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxyHops(pub usize);

/// The real client address of a request (see `client_ip`), as an extractor. Falls back to
/// "unknown" so that a missing address shares one bucket rather than escaping limits.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    TrustedProxyHops: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let TrustedProxyHops(hops) = TrustedProxyHops::from_ref(state);
        Ok(ClientIp(
            client_ip(parts, hops)
                .map(|ip| ip.to_string())
                .unwrap_or_else(|| "unknown".to_owned()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_engages_and_names_a_wait() {
        let limiter = RateLimiter::default();
        let tight = Quota {
            max: 2,
            window: Duration::from_secs(60),
        };
        let check = |key| limiter.check_quota(Limit::Login, tight, key);
        assert!(check("a").is_ok());
        assert!(check("a").is_ok());
        assert!(matches!(
            check("a"),
            Err(AppError::TooManyRequests { retry_after_seconds }) if retry_after_seconds > 0
        ));
        assert!(check("b").is_ok(), "keys are independent");
    }

    #[test]
    fn limit_names_are_their_log_text() {
        assert_eq!(<&str>::from(Limit::PasswordReset), "password_reset");
        assert_eq!(Limit::HoldPerIp.to_string(), "hold_ip");
        assert_eq!(Limit::Login.quota().max, 20);
    }

    #[test]
    fn the_forged_leftmost_forwarded_address_is_ignored() {
        let request = axum::http::Request::builder()
            .header("x-forwarded-for", "6.6.6.6, 203.0.113.7")
            .body(())
            .unwrap();
        let (parts, _) = request.into_parts();
        assert_eq!(client_ip(&parts, 1), Some("203.0.113.7".parse().unwrap()));
        assert_eq!(client_ip(&parts, 2), Some("6.6.6.6".parse().unwrap()));
    }
}
