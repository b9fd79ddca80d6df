//! Per-process rate limits for abuse-prone actions (login, registration, password reset,
//! holds, payment creation), keyed on the real client address.
//!
//! Counters live in this process's memory: the one piece of state DESIGN.md accepts outside
//! the database. With N web processes a client gets at most N times the limit, which still
//! stops brute force; per-account login throttling is stored in the database and is exact.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;

use crate::error::AppError;

/// A named limit: at most `max` events per `window`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub name: &'static str,
    pub max: u32,
    pub window: Duration,
}

pub const LOGIN: Limit = Limit {
    name: "login",
    max: 20,
    window: Duration::from_secs(300),
};
pub const REGISTER: Limit = Limit {
    name: "register",
    max: 10,
    window: Duration::from_secs(3600),
};
pub const PASSWORD_RESET: Limit = Limit {
    name: "password_reset",
    max: 5,
    window: Duration::from_secs(900),
};
pub const HOLD: Limit = Limit {
    name: "hold",
    max: 30,
    window: Duration::from_secs(60),
};
/// Holds from one address across accounts (a family or office shares one address).
pub const HOLD_PER_IP: Limit = Limit {
    name: "hold_ip",
    max: 300,
    window: Duration::from_secs(60),
};
pub const PAYMENT: Limit = Limit {
    name: "payment",
    max: 20,
    window: Duration::from_secs(60),
};

/// (limit name, client key).
type WindowKey = (&'static str, String);
/// When the current window started, and how many events it has seen.
type Window = (Instant, u32);

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
        if !self.enabled {
            return Ok(());
        }
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > 100_000 {
            // Bound memory under a flood of distinct keys: drop finished windows.
            windows.retain(|(name, _), (start, _)| now.duration_since(*start) < limit_window(name));
        }
        let entry = windows
            .entry((limit.name, key.to_owned()))
            .or_insert((now, 0));
        if now.duration_since(entry.0) >= limit.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > limit.max {
            let retry = limit.window.saturating_sub(now.duration_since(entry.0));
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

fn limit_window(name: &str) -> Duration {
    [LOGIN, REGISTER, PASSWORD_RESET, HOLD, HOLD_PER_IP, PAYMENT]
        .iter()
        .find(|l| l.name == name)
        .map(|l| l.window)
        .unwrap_or(Duration::from_secs(3600))
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

/// The real client address of a request (see `client_ip`), as an extractor. Falls back to
/// "unknown" so that a missing address shares one bucket rather than escaping limits.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl axum::extract::FromRequestParts<crate::state::AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            client_ip(parts, state.config.trusted_proxy_hops)
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
        let tight = Limit {
            name: "t",
            max: 2,
            window: Duration::from_secs(60),
        };
        assert!(limiter.check(tight, "a").is_ok());
        assert!(limiter.check(tight, "a").is_ok());
        assert!(matches!(
            limiter.check(tight, "a"),
            Err(AppError::TooManyRequests { retry_after_seconds }) if retry_after_seconds > 0
        ));
        assert!(limiter.check(tight, "b").is_ok(), "keys are independent");
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
