//! The database: PostgreSQL over TLS, or SQLite only when the operator says so.

use url::Url;

use super::Findings;
use crate::config::Database;
use crate::config::database::{DATABASE_URL, Engine};

/// `pgsslmode` is `PGSSLMODE`, which platforms set beside a `DATABASE_URL` they manage.
pub(super) fn check_database(database: &Database, pgsslmode: Option<&str>, out: &mut Findings) {
    let url = database.url.as_str();
    if database.engine() == Some(Engine::Sqlite) {
        if database.allow_sqlite_in_production {
            out.add(
                "MB-W041",
                DATABASE_URL,
                "Production runs on SQLite: only one web process may use it, and platforms with ephemeral disks (Heroku) lose the file at every restart.".into(),
                "Keep the file on a persistent volume, run one process, and back it up: moviebooking backup --output FILE.",
            );
        } else {
            out.add(
                "MB-E040",
                DATABASE_URL,
                "DATABASE_URL is a SQLite file (the default when unset); production expects PostgreSQL.".into(),
                "Attach PostgreSQL (its DATABASE_URL is set for you), or set ALLOW_SQLITE_IN_PRODUCTION=true for a single-process deployment on a persistent disk.",
            );
        }
        return;
    }
    let from_url = Url::parse(url).ok().and_then(|u| {
        u.query_pairs()
            .find(|(k, _)| k == "sslmode" || k == "ssl-mode")
            .map(|(_, v)| v.into_owned())
    });
    let mode = from_url.or_else(|| pgsslmode.map(str::to_owned));
    if !matches!(
        mode.as_deref(),
        Some("require" | "verify-ca" | "verify-full")
    ) {
        out.add(
            "MB-E042",
            DATABASE_URL,
            format!(
                "the PostgreSQL connection does not require TLS (sslmode={}), so credentials and data may cross the network in clear.",
                mode.as_deref().unwrap_or("prefer, the default")
            ),
            "Add ?sslmode=require to DATABASE_URL, or set PGSSLMODE=require when the platform manages DATABASE_URL (Heroku).",
        );
    }
}
