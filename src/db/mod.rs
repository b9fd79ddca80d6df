//! The database: one sqlx `AnyPool` dialect over SQLite (development) and PostgreSQL
//! (production), chosen at run time by `DATABASE_URL`.
//!
//! This module owns the connection pools, the per-connection SQLite pragmas, embedded
//! migrations and the one way to start a read-then-write transaction on either engine.
//! All SQL of the application lives here and in `domain/`.

pub mod backup;
pub mod decode;
pub mod migrate;
pub mod session_store;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, ConnectOptions, Transaction};

/// Which engine a pool talks to; a few statements differ between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A transaction on whichever engine is in use.
pub type Tx = Transaction<'static, Any>;

/// Connection pools. On SQLite, writes go through a small writer pool (so writers queue in
/// the application instead of backing off on the file lock) and reads through a larger
/// reader pool; on PostgreSQL both are the same ordinary pool.
#[derive(Debug, Clone)]
pub struct Db {
    engine: Engine,
    reader: AnyPool,
    writer: AnyPool,
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("could not open the database at {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
}

/// The pragmas every SQLite connection gets, in the order they are set.
pub const SQLITE_PRAGMAS: &[&str] = &[
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA busy_timeout = 20000",
    "PRAGMA foreign_keys = ON",
];

impl Db {
    /// Opens the pools for `url`, creating the SQLite file when it does not exist yet.
    pub async fn connect(url: &str, acquire_timeout: Duration) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let connect_error = |source| DbError::Connect {
            url: crate::config::redact_url(url),
            source,
        };
        if url.starts_with("sqlite:") {
            let url = sqlite_url_with_create(url);
            // Statements are logged at DEBUG (`RUST_LOG=sqlx=debug`); the query-count tests
            // read those events.
            let options = AnyConnectOptions::from_str(&url).map_err(connect_error)?;
            let pool = |max: u32| {
                AnyPoolOptions::new()
                    .max_connections(max)
                    .min_connections(0)
                    .acquire_timeout(acquire_timeout)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            for pragma in SQLITE_PRAGMAS {
                                sqlx::query(*pragma).execute(&mut *conn).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect_with(options.clone())
            };
            // The writer pool first: it creates the file and switches it to WAL before
            // readers open it.
            let writer = pool(2).await.map_err(connect_error)?;
            let reader = pool(8).await.map_err(connect_error)?;
            Ok(Self {
                engine: Engine::Sqlite,
                reader,
                writer,
            })
        } else {
            let options = AnyConnectOptions::from_str(url)
                .map_err(connect_error)?
                .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
            let pool = AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(acquire_timeout)
                .connect_with(options)
                .await
                .map_err(connect_error)?;
            Ok(Self {
                engine: Engine::Postgres,
                reader: pool.clone(),
                writer: pool,
            })
        }
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The pool for queries that only read.
    pub fn reader(&self) -> &AnyPool {
        &self.reader
    }

    /// The pool for single statements that write.
    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// Starts a transaction that may read and then write. On SQLite it takes the write lock
    /// up front (`BEGIN IMMEDIATE`); a plain `BEGIN` would fail with "database is locked"
    /// when it later tries to upgrade while another writer is active.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        match self.engine {
            Engine::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await,
            Engine::Postgres => self.writer.begin().await,
        }
    }

    /// Answers whether the database can run a query (readiness probe).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map(|_| ())
    }

    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// sqlx opens SQLite read-write without creating the file unless told `mode=rwc`.
fn sqlite_url_with_create(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// Whether an error is a unique-index violation (the booking invariant speaks through it).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Seconds since the Unix epoch, the only way times are stored.
pub fn unix(t: time::OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// Turns stored Unix seconds back into a UTC time.
pub fn from_unix(seconds: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// `$from, $from+1, ...` for `count` values: the placeholder list of an `IN (...)` or a
/// multi-row `VALUES`, numbered to follow the statement's other parameters.
pub fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Escapes `%`, `_` and `\` so user text matches literally inside `LIKE ... ESCAPE '\'`.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether PostgreSQL aborted a transaction only because of a race with another one
/// (deadlock or serialization failure), so running it again is safe.
pub fn is_retryable(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40P01" | "40001")))
}

/// Whether an error means the database is out of reach for a moment rather than that the
/// request was wrong: no connection in time, a connection that broke, PostgreSQL shutting
/// down or restarting (SQLSTATE class 57P, connection exceptions of class 08), or SQLite
/// busy past its timeout. The client may retry, so the answer is 503, not 500.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("57P") || code.starts_with("08") || code == "5" || code == "6"
        }),
        _ => false,
    }
}

/// What the client is told when its text holds a NUL character, whether the request edge
/// (`web::middleware::refuse_nul`) or PostgreSQL (`is_unstorable_text`) caught it.
pub const UNSTORABLE_TEXT_MESSAGE: &str = "What you sent contains a character that cannot be stored (a NUL byte). Please remove it and try again.";

/// Whether PostgreSQL refused text the client sent because it cannot store it (a NUL
/// character: SQLSTATE 22021, or 22P05 for one the encoding lacks). SQLite stores such text,
/// so only PostgreSQL says this; it is the client's mistake, not ours. The request edge
/// refuses NUL on both engines first; this stays as the backstop for any path it skips.
pub fn is_unstorable_text(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("22021" | "22P05")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_out_of_reach_is_told_apart_from_a_bad_query() {
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(is_unavailable(&sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset
        ))));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like("100%_a\\b"), "100\\%\\_a\\\\b");
    }

    #[test]
    fn sqlite_urls_create_the_file() {
        assert_eq!(
            sqlite_url_with_create("sqlite://a.db"),
            "sqlite://a.db?mode=rwc"
        );
        assert_eq!(
            sqlite_url_with_create("sqlite://a.db?cache=shared"),
            "sqlite://a.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            sqlite_url_with_create("sqlite://a.db?mode=ro"),
            "sqlite://a.db?mode=ro"
        );
    }
}
