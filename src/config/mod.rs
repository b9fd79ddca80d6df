//! Typed configuration, read once at start from the environment (and an optional `.env`).
//!
//! Every setting is parsed and validated here so that the rest of the program works with
//! values it can trust. A bad value stops the program with a message that names the
//! variable and what was expected, instead of failing later in some request.
//!
//! Each concern has its own module and parser (database, server, security, email, payments,
//! booking rules, limits, observability); each variable's name is written once, in its
//! concern's `variables!` list. A parser never stops at the first refused setting, so the
//! operator sees all of them at once, and `check --deploy` (`crate::deploy_check`) audits
//! the values these same parsers produce.

pub mod booking;
pub mod database;
pub mod email;
pub mod limits;
pub mod observability;
pub mod payments;
mod read;
pub mod security;
pub mod server;

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;
use strum::{EnumString, IntoStaticStr};

use url::Url;

pub use booking::{BookingRules, CheckinRules};
pub use database::Database;
pub use email::{Email, EmailBackend};
pub use limits::Limits;
pub use observability::Observability;
pub use payments::{Payments, RazorpayKeys};
pub use read::{Vars, redact_url};
pub use security::{DEV_SECRET_FILE, Security};
pub use server::Server;

use read::{Errors, variables};

variables! {
    /// `development` (the default) or `production`.
    APP_ENV,
}

/// Which kind of deployment this is. Production turns on every secure default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr)]
pub enum Environment {
    #[strum(serialize = "development", serialize = "dev")]
    Development,
    #[strum(serialize = "production", serialize = "prod")]
    Production,
}

impl Environment {
    /// `APP_ENV`, development when unset.
    pub fn parse(vars: Vars) -> Result<Self, ConfigError> {
        match vars.get(APP_ENV) {
            None => Ok(Self::Development),
            Some(raw) => raw
                .parse()
                .map_err(|_| ConfigError::new(APP_ENV, raw, "`development` or `production`")),
        }
    }
}

/// Every variable the configuration reads, concern by concern (`.env.example` documents
/// each one).
pub fn variables() -> impl Iterator<Item = &'static str> {
    [
        VARIABLES,
        database::VARIABLES,
        server::VARIABLES,
        security::VARIABLES,
        email::VARIABLES,
        payments::VARIABLES,
        booking::VARIABLES,
        limits::VARIABLES,
        observability::VARIABLES,
    ]
    .into_iter()
    .flatten()
    .copied()
}

/// The whole configuration of one process.
#[derive(Debug, Clone)]
pub struct Config {
    pub app_env: Environment,
    pub database_url: String,
    pub bind_addr: IpAddr,
    pub port: u16,
    pub base_url: Url,
    pub secret_key: Secret,
    pub allowed_hosts: Vec<String>,
    pub email_backend: EmailBackend,
    pub email_from: String,
    pub razorpay: Option<RazorpayKeys>,
    pub razorpay_api_base: Url,
    /// Total time allowed for one call to Razorpay (connecting takes at most 3 s of it).
    pub razorpay_timeout: Duration,
    pub booking: BookingRules,
    pub checkin: CheckinRules,
    pub hsts_seconds: u64,
    pub cors_allowed_origins: Vec<String>,
    pub metrics_token: Option<Secret>,
    pub sentry_dsn: Option<String>,
    /// How many proxies stand in front of the app and append to `X-Forwarded-For`; also
    /// whether a proxy's `X-Request-Id` is trusted (only when above 0).
    pub trusted_proxy_hops: usize,
    /// Operators must say so explicitly to run production on SQLite.
    pub allow_sqlite_in_production: bool,
    pub request_timeout: Duration,
    pub body_limit_bytes: usize,
    pub db_acquire_timeout: Duration,
    /// Per-process rate limits (on unless `RATE_LIMITS=off`, which load tests use).
    pub rate_limits: bool,
}

/// Every concern's settings as its parser read them, before they become one `Config`.
/// A refused setting holds its default here (the database URL: the text as given), so
/// `check --deploy` can audit the rest.
#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    pub database: Database,
    pub server: Server,
    pub security: Security,
    pub email: Email,
    pub payments: Payments,
    pub booking: BookingRules,
    pub checkin: CheckinRules,
    pub limits: Limits,
    pub observability: Observability,
}

impl Settings {
    /// Runs every concern's parser as `environment` reads them; the settings refused are
    /// returned beside, in the order they were read.
    pub fn parse(vars: Vars, environment: Environment, workdir: &Path) -> (Self, Vec<ConfigError>) {
        let mut errors = Errors::default();
        let database = Database::parse(vars, &mut errors);
        let server = Server::parse(vars, environment, &mut errors);
        let security = Security::parse(vars, environment, &server.base_url, workdir, &mut errors);
        let settings = Self {
            environment,
            database,
            server,
            security,
            email: Email::parse(vars, environment, &mut errors),
            payments: Payments::parse(vars, environment, &mut errors),
            booking: BookingRules::parse(vars, &mut errors),
            checkin: CheckinRules::parse(vars, &mut errors),
            limits: Limits::parse(vars, &mut errors),
            observability: Observability::parse(vars, &mut errors),
        };
        (settings, errors.into_vec())
    }
}

impl From<Settings> for Config {
    fn from(s: Settings) -> Self {
        Self {
            app_env: s.environment,
            database_url: s.database.url,
            bind_addr: s.server.bind_addr,
            port: s.server.port,
            base_url: s.server.base_url,
            secret_key: s.security.secret_key,
            allowed_hosts: s.security.allowed_hosts,
            email_backend: s.email.backend,
            email_from: s.email.from,
            razorpay: s.payments.razorpay,
            razorpay_api_base: s.payments.api_base,
            razorpay_timeout: s.payments.timeout,
            booking: s.booking,
            checkin: s.checkin,
            hsts_seconds: s.security.hsts_seconds,
            cors_allowed_origins: s.security.cors_allowed_origins,
            metrics_token: s.observability.metrics_token,
            sentry_dsn: s.observability.sentry_dsn,
            // Unset trusts no proxy: the peer address is the client. Production refuses to
            // serve until it is set explicitly (`check --deploy`, MB-E070).
            trusted_proxy_hops: s.security.trusted_proxy_hops.unwrap_or(0),
            allow_sqlite_in_production: s.database.allow_sqlite_in_production,
            request_timeout: s.limits.request_timeout,
            body_limit_bytes: s.limits.body_limit_bytes,
            db_acquire_timeout: s.database.acquire_timeout,
            rate_limits: s.limits.rate_limits,
        }
    }
}

/// A value that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A setting that could not be used, with the variable's name and what it should be.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {name}={value:?}: expected {expected}")]
pub struct ConfigError {
    pub name: &'static str,
    pub value: String,
    pub expected: String,
}

impl ConfigError {
    pub(crate) fn new(name: &'static str, value: &str, expected: impl Into<String>) -> Self {
        Self {
            name,
            value: value.to_owned(),
            expected: expected.into(),
        }
    }
}

/// Every setting that could not be used (never empty), in the order they were read.
#[derive(Debug)]
pub struct ConfigErrors(Vec<ConfigError>);

impl ConfigErrors {
    pub fn all(&self) -> &[ConfigError] {
        &self.0
    }

    /// The first refused setting.
    pub fn into_first(self) -> ConfigError {
        self.0
            .into_iter()
            .next()
            .expect("ConfigErrors is never empty")
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl Config {
    /// Reads the process environment, after loading `.env` when one exists.
    pub fn from_env() -> Result<Self, ConfigErrors> {
        Self::parse(&environment(), Path::new("."))
    }

    /// Builds the configuration from a map of variables; `workdir` is where the development
    /// secret key file is kept. Tests call this directly with the settings they need. On
    /// refusal this names the first refused setting; `parse` names them all.
    pub fn from_vars(vars: &HashMap<String, String>, workdir: &Path) -> Result<Self, ConfigError> {
        Self::parse(vars, workdir).map_err(ConfigErrors::into_first)
    }

    /// Like `from_vars`, reporting every refused setting.
    pub fn parse(vars: &HashMap<String, String>, workdir: &Path) -> Result<Self, ConfigErrors> {
        let vars = Vars::new(vars);
        let (environment, mut errors) = match Environment::parse(vars) {
            Ok(environment) => (environment, Vec::new()),
            // The rest is read as development would read it, to report its errors too.
            Err(error) => (Environment::Development, vec![error]),
        };
        let (settings, refused) = Settings::parse(vars, environment, workdir);
        errors.extend(refused);
        if errors.is_empty() {
            Ok(settings.into())
        } else {
            Err(ConfigErrors(errors))
        }
    }

    pub fn is_production(&self) -> bool {
        self.app_env == Environment::Production
    }

    /// The address the HTTP server listens on.
    pub fn listen_addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::new(self.bind_addr, self.port)
    }

    /// An absolute URL on this site, built from `BASE_URL` (never from a request's Host).
    pub fn absolute_url(&self, path_and_query: &str) -> String {
        let base = self.base_url.as_str().trim_end_matches('/');
        format!("{base}{path_and_query}")
    }

    /// The origin (`scheme://host[:port]`) that our own pages are served from.
    pub fn origin(&self) -> String {
        self.base_url.origin().ascii_serialization()
    }

    /// Whether the session cookie must be `Secure` (and carry the `__Host-` prefix).
    pub fn secure_cookies(&self) -> bool {
        self.is_production()
    }
}

/// The process environment, after loading `.env` when one exists (it never overrides a
/// variable that is already set).
pub fn environment() -> HashMap<String, String> {
    let _ = dotenvy::dotenv();
    std::env::vars().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn development_defaults_need_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::from_vars(&HashMap::new(), dir.path()).unwrap();
        assert_eq!(config.app_env, Environment::Development);
        assert_eq!(config.port, 8000);
        assert_eq!(config.database_url, "sqlite://moviebooking.db");
        assert!(config.razorpay.is_none());
        assert!(dir.path().join(DEV_SECRET_FILE).exists());
        let again = Config::from_vars(&HashMap::new(), dir.path()).unwrap();
        assert_eq!(
            config.secret_key, again.secret_key,
            "the development key is kept"
        );
    }

    #[test]
    fn a_bad_port_names_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let error = Config::from_vars(&vars(&[("PORT", "eighty")]), dir.path()).unwrap_err();
        assert_eq!(error.name, "PORT");
        assert!(error.to_string().contains("TCP port"));
    }

    #[test]
    fn production_requires_its_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let error = Config::from_vars(&vars(&[("APP_ENV", "production")]), dir.path()).unwrap_err();
        assert_eq!(error.name, "BASE_URL");
    }

    #[test]
    fn every_refused_setting_is_reported_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let errors = Config::parse(
            &vars(&[
                ("PORT", "eighty"),
                ("EMAIL_BACKEND", "pigeon"),
                ("RAZORPAY_TIMEOUT_SECONDS", "soon"),
                ("CHECKIN_UNDO_MINUTES", "-1"),
            ]),
            dir.path(),
        )
        .unwrap_err();
        let names: Vec<&str> = errors.all().iter().map(|e| e.name).collect();
        assert_eq!(
            names,
            [
                server::PORT,
                email::EMAIL_BACKEND,
                payments::RAZORPAY_TIMEOUT_SECONDS,
                booking::CHECKIN_UNDO_MINUTES
            ]
        );
    }

    #[test]
    fn secrets_are_not_printed() {
        let printed = format!("{:?}", Secret::new("hunter2-hunter2"));
        assert!(!printed.contains("hunter2"));
        assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
    }
}
