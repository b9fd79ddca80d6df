//! Running the site: error reports, metrics, rate limits and the request body limit.

use super::Findings;
use crate::config::limits::{BODY_LIMIT_BYTES, RATE_LIMITS};
use crate::config::observability::{METRICS_TOKEN, SENTRY_DSN};
use crate::config::{Limits, Observability};

/// The largest request body production should accept.
const BODY_LIMIT_MAX: u64 = 10 * 1024 * 1024;
const METRICS_TOKEN_MIN: usize = 32;

/// `dsn_refused`: a DSN was given but refused (reported as such, not as a missing one).
pub(super) fn check_sentry(observability: &Observability, dsn_refused: bool, out: &mut Findings) {
    if observability.sentry_dsn.is_none() && !dsn_refused {
        out.add(
            "MB-W060",
            SENTRY_DSN,
            "No error reporting: panics and 5xx errors only reach the logs.".into(),
            "Create a Sentry project and set SENTRY_DSN to its DSN.",
        );
    }
}

pub(super) fn check_metrics(observability: &Observability, out: &mut Findings) {
    match &observability.metrics_token {
        None => out.add(
            "MB-W090",
            METRICS_TOKEN,
            "GET /metrics is disabled (404), so nothing can scrape request and booking metrics.".into(),
            "Set METRICS_TOKEN to a random value (openssl rand -hex 32) and give it to your scraper as a Bearer token.",
        ),
        Some(token) if token.expose().chars().count() < METRICS_TOKEN_MIN => out.add(
            "MB-W091",
            METRICS_TOKEN,
            format!(
                "METRICS_TOKEN has {} characters; a short token can be guessed.",
                token.expose().chars().count()
            ),
            "Use at least 32 random characters: openssl rand -hex 32.",
        ),
        Some(_) => {}
    }
}

pub(super) fn check_rate_limits(limits: &Limits, out: &mut Findings) {
    if !limits.rate_limits {
        out.add(
            "MB-E080",
            RATE_LIMITS,
            "Rate limits are off: login, registration, password reset, holds and payments can be hammered.".into(),
            "Unset RATE_LIMITS (it is meant for load tests only).",
        );
    }
}

pub(super) fn check_body_limit(limits: &Limits, out: &mut Findings) {
    let bytes = limits.body_limit_bytes as u64;
    if bytes > BODY_LIMIT_MAX {
        out.add(
            "MB-E081",
            BODY_LIMIT_BYTES,
            format!("BODY_LIMIT_BYTES={bytes}: requests that large let a few clients exhaust memory; the largest thing anyone uploads is a 2 MB poster."),
            "Unset BODY_LIMIT_BYTES (3 MB) or keep it at most 10485760 (10 MB).",
        );
    }
}
