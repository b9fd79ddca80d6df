//! tower-sessions store over our own pool, so sessions live in the database and work across
//! any number of web processes. (The published sqlx store does not build with sqlx 0.9.)
//!
//! The logged-in user's id is copied into its own column so that every session of a user can
//! be ended at once (password change, deactivation).

use std::collections::HashMap;

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::{Db, from_unix, unix};

/// The session key under which the logged-in user's id is kept.
pub const USER_ID_KEY: &str = "user_id";

#[derive(Debug, Clone)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Deletes sessions whose expiry has passed; the background job calls this.
    pub async fn delete_expired(&self, now: time::OffsetDateTime) -> Result<u64, sqlx::Error> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(unix(now))
            .execute(self.db.writer())
            .await?;
        Ok(done.rows_affected())
    }
}

/// Ends every session of a user, or every one but `except` (the session that made the
/// change). Used when the password changes, so that a thief's session does not survive it.
pub async fn delete_user_sessions(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
    except: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let done = match except {
        Some(keep) => {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
                .bind(user_id)
                .bind(keep)
                .execute(conn)
                .await?
        }
        None => {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(conn)
                .await?
        }
    };
    Ok(done.rows_affected())
}

/// How far a session's stored expiry may lag behind the one tower-sessions asks for before
/// it is written again. Sessions expire after days of inactivity, so an hour is nothing.
const EXPIRY_REFRESH_SECONDS: i64 = 3600;

impl DbSessionStore {
    /// Whether `record` is already stored as it is, apart from an expiry less than
    /// `EXPIRY_REFRESH_SECONDS` older. Expiry on inactivity makes tower-sessions save the
    /// session after every request; without this check every page a logged-in person
    /// opens would be a database write, which on SQLite queues behind the bookings.
    /// A session that is no longer stored (ended elsewhere) is not "unchanged": the write
    /// goes ahead as before.
    async fn save_would_change_nothing(&self, record: &Record) -> session_store::Result<bool> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT data, expires_at FROM sessions WHERE id = $1")
                .bind(record.id.to_string())
                .fetch_optional(self.db.reader())
                .await
                .map_err(backend)?;
        let Some((data, expires_at)) = row else {
            return Ok(false);
        };
        let lag = unix(record.expiry_date) - expires_at;
        if !(0..EXPIRY_REFRESH_SECONDS).contains(&lag) {
            return Ok(false);
        }
        let stored: Option<HashMap<String, serde_json::Value>> = serde_json::from_str(&data).ok();
        Ok(stored.as_ref() == Some(&record.data))
    }
}

fn backend(error: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

fn user_id_of(record: &Record) -> Option<i64> {
    record.data.get(USER_ID_KEY).and_then(|v| v.as_i64())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        // A fresh random id collides with an existing one essentially never, but if it does,
        // pick another instead of overwriting someone else's session.
        for _ in 0..5 {
            let inserted = sqlx::query(
                "INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(record.id.to_string())
            .bind(user_id_of(record))
            .bind(&data)
            .bind(unix(record.expiry_date))
            .execute(self.db.writer())
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
        Err(backend("could not allocate a session id"))
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        if self.save_would_change_nothing(record).await? {
            return Ok(());
        }
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        sqlx::query(
            "INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, \
             expires_at = excluded.expires_at",
        )
        .bind(record.id.to_string())
        .bind(user_id_of(record))
        .bind(&data)
        .bind(unix(record.expiry_date))
        .execute(self.db.writer())
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT data, expires_at FROM sessions WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(self.db.reader())
                .await
                .map_err(backend)?;
        let Some((data, expires_at)) = row else {
            return Ok(None);
        };
        let expiry_date = from_unix(expires_at);
        if expiry_date < time::OffsetDateTime::now_utc() {
            return Ok(None);
        }
        let data =
            serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(self.db.writer())
            .await
            .map_err(backend)?;
        Ok(())
    }
}
