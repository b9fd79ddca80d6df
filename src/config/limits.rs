//! How much one request may ask of the server: its time, its body and its rate.

use std::time::Duration;

use super::read::{Errors, Vars, variables};

variables! {
    REQUEST_TIMEOUT_SECONDS,
    BODY_LIMIT_BYTES,
    /// On unless switched off (load tests do).
    RATE_LIMITS,
}

/// The request limits.
#[derive(Debug, Clone)]
pub struct Limits {
    pub request_timeout: Duration,
    pub body_limit_bytes: usize,
    /// Per-process rate limits.
    pub rate_limits: bool,
}

impl Limits {
    pub fn parse(vars: Vars, errors: &mut Errors) -> Self {
        Self {
            request_timeout: errors.seconds(
                vars,
                REQUEST_TIMEOUT_SECONDS,
                30,
                "a number of seconds",
            ),
            body_limit_bytes: errors.parse_or(
                vars,
                BODY_LIMIT_BYTES,
                3 * 1024 * 1024usize,
                "a number of bytes",
            ),
            rate_limits: !matches!(
                vars.get(RATE_LIMITS)
                    .map(str::to_ascii_lowercase)
                    .as_deref(),
                Some("off" | "false" | "0" | "no")
            ),
        }
    }
}
