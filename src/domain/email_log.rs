//! The email outbox as staff see it: every message with its status, attempts and last
//! error, and "retry now" for one that failed or waits out its backoff.

use sqlx::Row;
use time::OffsetDateTime;

use crate::db::{Db, from_unix};
use crate::domain::audit::{self, NewEntry};

/// One outbox row, without its bodies.
#[derive(Debug, Clone)]
pub struct LoggedEmail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub kind: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub booking_id: Option<i64>,
    pub next_attempt_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
}

const SELECT: &str = "SELECT id, recipient, subject, kind, status, attempts, last_error, \
     booking_id, next_attempt_at, created_at, sent_at FROM email_outbox";

fn from_row(r: &sqlx::any::AnyRow) -> Result<LoggedEmail, sqlx::Error> {
    Ok(LoggedEmail {
        id: r.try_get("id")?,
        recipient: r.try_get("recipient")?,
        subject: r.try_get("subject")?,
        kind: r.try_get("kind")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        booking_id: r.try_get("booking_id")?,
        next_attempt_at: from_unix(r.try_get("next_attempt_at")?),
        created_at: from_unix(r.try_get("created_at")?),
        sent_at: r.try_get::<Option<i64>, _>("sent_at")?.map(from_unix),
    })
}

/// Messages newest first, only those with `status` when it is not empty.
pub async fn list(
    db: &Db,
    status: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<LoggedEmail>, sqlx::Error> {
    let sql = format!(
        "{SELECT} WHERE ($1 = '' OR status = $1) ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(status)
        .bind(limit)
        .bind(offset)
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(from_row).collect()
}

/// The messages about one booking, oldest first.
pub async fn for_booking(db: &Db, booking_id: i64) -> Result<Vec<LoggedEmail>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE booking_id = $1 ORDER BY created_at, id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(booking_id)
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Why a message cannot be retried.
#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("No such email.")]
    NotFound,
    #[error("This email was already sent.")]
    AlreadySent,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Makes a queued or failed message due now (a failed one is queued again), with an audit
/// entry in the same transaction. The caller then delivers it.
pub async fn retry_now(db: &Db, actor_id: i64, id: i64, now: i64) -> Result<(), RetryError> {
    let mut tx = db.begin_write().await?;
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT status, recipient FROM email_outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let (status, recipient) = row.ok_or(RetryError::NotFound)?;
    if status == "sent" {
        return Err(RetryError::AlreadySent);
    }
    sqlx::query(
        "UPDATE email_outbox SET status = 'queued', next_attempt_at = $2, claimed_until = NULL \
         WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        &NewEntry::new(
            Some(actor_id),
            "email.retry",
            "email",
            id,
            format!("to {recipient} (status: {status} -> queued, due now)"),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The status of one message (tests and the page after a retry).
pub async fn status_of(db: &Db, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT status FROM email_outbox WHERE id = $1")
        .bind(id)
        .fetch_optional(db.writer())
        .await
}
