//! What keeps the site and its sessions safe: the signing key, the host names it answers
//! to, HSTS, the origins the JSON API accepts, and the proxies trusted with the client's
//! address.

use std::path::Path;

use url::Url;

use super::read::{Errors, Vars, split_list, variables};
use super::{ConfigError, Environment, Secret};

variables! {
    SECRET_KEY,
    ALLOWED_HOSTS,
    HSTS_SECONDS,
    CORS_ALLOWED_ORIGINS,
    /// How many proxies stand in front of the app and append to `X-Forwarded-For`.
    TRUSTED_PROXY_HOPS,
}

/// The development secret key lives here (git-ignored) so sessions survive restarts.
pub const DEV_SECRET_FILE: &str = ".dev-secret-key";

/// The security settings.
#[derive(Debug, Clone)]
pub struct Security {
    pub secret_key: Secret,
    pub allowed_hosts: Vec<String>,
    pub hsts_seconds: u64,
    pub cors_allowed_origins: Vec<String>,
    /// `None` when unset: the application then trusts no proxy, and production refuses to
    /// serve until it is said explicitly (`check --deploy`, MB-E070).
    pub trusted_proxy_hops: Option<usize>,
}

impl Security {
    /// `base_url` gives development its default host; `workdir` is where the development
    /// key is kept (production never writes there).
    pub fn parse(
        vars: Vars,
        environment: Environment,
        base_url: &Url,
        workdir: &Path,
        errors: &mut Errors,
    ) -> Self {
        let production = environment == Environment::Production;
        let secret_key = match vars.get(SECRET_KEY) {
            Some(key) if key.len() >= 32 => Secret::new(key),
            Some(key) => {
                errors.push(ConfigError::new(
                    SECRET_KEY,
                    &"*".repeat(key.len().min(8)),
                    "at least 32 characters (64 random characters in production)",
                ));
                Secret::new("")
            }
            None if production => {
                errors.push(ConfigError::new(
                    SECRET_KEY,
                    "",
                    "a random key of at least 64 characters (required in production)",
                ));
                Secret::new("")
            }
            None => development_secret(workdir),
        };
        let allowed_hosts = match vars.get(ALLOWED_HOSTS) {
            Some(list) => split_list(list),
            None if production => Vec::new(),
            None => vec![
                "localhost".into(),
                "127.0.0.1".into(),
                "[::1]".into(),
                base_url.host_str().unwrap_or("localhost").to_owned(),
            ],
        };
        Self {
            secret_key,
            allowed_hosts,
            hsts_seconds: errors.parse_or(
                vars,
                HSTS_SECONDS,
                31_536_000u64,
                "a number of seconds (0 turns HSTS off)",
            ),
            cors_allowed_origins: vars
                .get(CORS_ALLOWED_ORIGINS)
                .map(split_list)
                .unwrap_or_default(),
            trusted_proxy_hops: errors.parse_optional(
                vars,
                TRUSTED_PROXY_HOPS,
                "the number of proxies in front of the app (0 when none)",
            ),
        }
    }
}

/// Reads the development key from its file, or makes one and keeps it there, so that
/// sessions survive a restart of `cargo run` without anyone setting `SECRET_KEY`.
fn development_secret(workdir: &Path) -> Secret {
    let path = workdir.join(DEV_SECRET_FILE);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Secret::new(existing);
        }
    }
    let key = crate::domain::tokens::random_token(48);
    if let Err(error) = std::fs::write(&path, &key) {
        tracing::warn!(%error, path = %path.display(), "could not keep the development secret key; sessions will end at restart");
    }
    Secret::new(key)
}
