//! What the operators see of a running process: error reports and metrics.

use super::read::{Errors, Vars, variables};
use super::{ConfigError, Secret, redact_url};

variables! {
    SENTRY_DSN,
    /// The Bearer token `GET /metrics` wants; without it the endpoint answers 404.
    METRICS_TOKEN,
}

/// The observability settings.
#[derive(Debug, Clone)]
pub struct Observability {
    pub sentry_dsn: Option<String>,
    pub metrics_token: Option<Secret>,
}

impl Observability {
    pub fn parse(vars: Vars, errors: &mut Errors) -> Self {
        let sentry_dsn = match vars.get(SENTRY_DSN) {
            // Checked here because the Sentry client panics on a malformed DSN.
            Some(dsn) if dsn.parse::<sentry::types::Dsn>().is_err() => {
                errors.push(ConfigError::new(
                    SENTRY_DSN,
                    &redact_url(dsn),
                    "a Sentry DSN such as https://KEY@o0.ingest.sentry.io/0",
                ));
                None
            }
            dsn => dsn.map(str::to_owned),
        };
        Self {
            sentry_dsn,
            metrics_token: vars.get(METRICS_TOKEN).map(Secret::new),
        }
    }
}
