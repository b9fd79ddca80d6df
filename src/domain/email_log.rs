//! The email outbox as staff see it: every message with its status, attempts and last
//! error, and "retry now" for one that failed or waits out its backoff.

use time::OffsetDateTime;

use crate::db::Db;
use crate::db::decode::{MaybeUnixSeconds, UnixSeconds};
use crate::domain::audit::{self, NewEntry};
use crate::domain::ids::{BookingId, OutboxId, UserId};
use crate::domain::outbox::{EmailKind, OutboxStatus};

/// One outbox row, without its bodies.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoggedEmail {
    pub id: OutboxId,
    pub recipient: String,
    pub subject: String,
    #[sqlx(try_from = "String")]
    pub kind: EmailKind,
    #[sqlx(try_from = "String")]
    pub status: OutboxStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub booking_id: Option<BookingId>,
    #[sqlx(try_from = "UnixSeconds")]
    pub next_attempt_at: OffsetDateTime,
    #[sqlx(try_from = "UnixSeconds")]
    pub created_at: OffsetDateTime,
    #[sqlx(try_from = "MaybeUnixSeconds")]
    pub sent_at: Option<OffsetDateTime>,
}

const SELECT: &str = "SELECT id, recipient, subject, kind, status, attempts, last_error, \
     booking_id, next_attempt_at, created_at, sent_at FROM email_outbox";

/// Messages newest first, only those with `status` when there is one.
pub async fn list(
    db: &Db,
    status: Option<OutboxStatus>,
    limit: i64,
    offset: i64,
) -> Result<Vec<LoggedEmail>, sqlx::Error> {
    let sql = format!(
        "{SELECT} WHERE ($1 = '' OR status = $1) ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(status.map_or("", OutboxStatus::as_str))
        .bind(limit)
        .bind(offset)
        .fetch_all(db.reader())
        .await
}

/// The messages about one booking, oldest first.
pub async fn for_booking(db: &Db, booking_id: BookingId) -> Result<Vec<LoggedEmail>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE booking_id = $1 ORDER BY created_at, id");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(booking_id)
        .fetch_all(db.reader())
        .await
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
pub async fn retry_now(
    db: &Db,
    actor_id: UserId,
    id: OutboxId,
    now: i64,
) -> Result<(), RetryError> {
    #[derive(sqlx::FromRow)]
    struct Found {
        #[sqlx(try_from = "String")]
        status: OutboxStatus,
        recipient: String,
    }
    let mut tx = db.begin_write().await?;
    let found: Option<Found> =
        sqlx::query_as("SELECT status, recipient FROM email_outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Found { status, recipient } = found.ok_or(RetryError::NotFound)?;
    if status == OutboxStatus::Sent {
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
            format!(
                "to {recipient} (status: {status} -> {}, due now)",
                OutboxStatus::Queued
            ),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
