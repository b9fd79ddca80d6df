//! The database: which engine and where, how long a request may wait for a connection, and
//! whether production may run on SQLite.

use std::time::Duration;

use super::read::{Errors, Vars, variables};
use super::{ConfigError, redact_url};

variables! {
    DATABASE_URL,
    /// Operators must say so explicitly to run production on SQLite.
    ALLOW_SQLITE_IN_PRODUCTION,
    DB_ACQUIRE_TIMEOUT_SECONDS,
    /// Read by libpq-style clients and by `check --deploy` (TLS to PostgreSQL), not by the
    /// application's own parser.
    PGSSLMODE,
}

/// The database used when `DATABASE_URL` is unset: a local file, for development.
pub const DEFAULT_URL: &str = "sqlite://moviebooking.db";

/// The two engines the application runs on, told apart by the URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The engine a database URL names, if it is one the application runs on.
    pub fn of(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

/// The database settings.
#[derive(Debug, Clone)]
pub struct Database {
    /// As given even when refused, so that `check --deploy` judges what was written.
    pub url: String,
    pub allow_sqlite_in_production: bool,
    pub acquire_timeout: Duration,
}

impl Database {
    pub fn parse(vars: Vars, errors: &mut Errors) -> Self {
        let url = vars.get(DATABASE_URL).unwrap_or(DEFAULT_URL).to_owned();
        if Engine::of(&url).is_none() {
            errors.push(ConfigError::new(
                DATABASE_URL,
                &redact_url(&url),
                "a `sqlite://FILE` or `postgres://USER@HOST/DB` URL",
            ));
        }
        Self {
            url,
            allow_sqlite_in_production: errors.flag(vars, ALLOW_SQLITE_IN_PRODUCTION),
            acquire_timeout: errors.seconds(
                vars,
                DB_ACQUIRE_TIMEOUT_SECONDS,
                5,
                "a number of seconds",
            ),
        }
    }

    /// The engine, when the URL names one.
    pub fn engine(&self) -> Option<Engine> {
        Engine::of(&self.url)
    }
}
