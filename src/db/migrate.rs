//! Embedded schema migrations, one folder per engine with the same tables and columns.
//!
//! Production applies them once in the release phase (`moviebooking migrate`); `serve`
//! refuses to start on a schema older than the binary, except in development where it
//! migrates by itself so `cargo run` needs no set-up.

use sqlx::migrate::Migrator;

use super::{Db, Engine};

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

fn migrator(engine: Engine) -> &'static Migrator {
    match engine {
        Engine::Sqlite => &SQLITE,
        Engine::Postgres => &POSTGRES,
    }
}

/// One migration that `run` applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub version: i64,
    pub description: String,
}

impl std::fmt::Display for Applied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04} {}", self.version, self.description)
    }
}

/// Applies every pending migration and says which ones it applied, in order, so that the
/// release phase's log shows what ran.
pub async fn run(db: &Db) -> Result<Vec<Applied>, sqlx::migrate::MigrateError> {
    let pending = match status(db).await? {
        SchemaStatus::Current => Vec::new(),
        SchemaStatus::Behind { pending } => pending,
    };
    let migrator = migrator(db.engine());
    migrator.run(db.writer()).await?;
    Ok(migrator
        .iter()
        .filter(|m| pending.contains(&m.version) && !m.migration_type.is_down_migration())
        .map(|m| Applied {
            version: m.version,
            description: m.description.to_string(),
        })
        .collect())
}

/// How the database's schema compares with the migrations built into this binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaStatus {
    Current,
    /// These migration versions are not applied yet.
    Behind {
        pending: Vec<i64>,
    },
}

/// Compares the applied migrations with the embedded ones.
pub async fn status(db: &Db) -> Result<SchemaStatus, sqlx::Error> {
    let applied: Vec<i64> = match sqlx::query_scalar::<_, i64>(
        "SELECT version FROM _sqlx_migrations WHERE success = TRUE ORDER BY version",
    )
    .fetch_all(db.reader())
    .await
    {
        Ok(versions) => versions,
        // No migrations table yet: nothing is applied.
        Err(sqlx::Error::Database(_)) => Vec::new(),
        Err(other) => return Err(other),
    };
    let pending: Vec<i64> = migrator(db.engine())
        .iter()
        .filter(|m| m.migration_type.is_up_migration() || !m.migration_type.is_down_migration())
        .map(|m| m.version)
        .filter(|v| !applied.contains(v))
        .collect();
    Ok(if pending.is_empty() {
        SchemaStatus::Current
    } else {
        SchemaStatus::Behind { pending }
    })
}
