//! `moviebooking backup --output FILE`: a consistent copy of a live SQLite database.
//!
//! `VACUUM INTO` writes a transactionally consistent snapshot while the application keeps
//! serving (readers and writers are not stopped; in WAL mode the copy reads one snapshot).
//! The copy is a complete, compact database file that can be opened as it is: restoring is
//! pointing `DATABASE_URL` at it. PostgreSQL has its own tools (`pg_dump`, the platform's
//! backups), so this command refuses there and says which to use.

use std::path::{Path, PathBuf};

use super::{Db, Engine};

/// Why a backup was not made.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "backups of PostgreSQL are made with its own tools: `pg_dump -Fc \"$DATABASE_URL\" > moviebooking.dump`, or the platform's (`heroku pg:backups:capture`, Railway's volume backups)"
    )]
    Postgres,
    #[error("{0} already exists; choose a new file name (a backup never overwrites a file)")]
    Exists(PathBuf),
    #[error("the folder of {0} does not exist")]
    NoFolder(PathBuf),
    #[error("the backup failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// Writes a consistent copy of the SQLite database to `output`, which must not exist.
pub async fn sqlite_backup(db: &Db, output: &Path) -> Result<u64, BackupError> {
    if db.engine() == Engine::Postgres {
        return Err(BackupError::Postgres);
    }
    if output.exists() {
        return Err(BackupError::Exists(output.to_owned()));
    }
    if let Some(folder) = output.parent().filter(|p| !p.as_os_str().is_empty())
        && !folder.is_dir()
    {
        return Err(BackupError::NoFolder(output.to_owned()));
    }
    // On a reader connection: the copy reads one snapshot and never holds up writers. The
    // file name is a bound parameter, so no name can change the statement. SQLite itself
    // refuses to write INTO a file that exists and is not empty, which closes the race with
    // the check above.
    sqlx::query("VACUUM INTO $1")
        .bind(output.to_string_lossy().into_owned())
        .execute(db.reader())
        .await?;
    Ok(std::fs::metadata(output).map(|m| m.len()).unwrap_or(0))
}
