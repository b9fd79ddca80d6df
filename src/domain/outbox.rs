//! The email outbox: every outgoing message is first a row in `email_outbox`, written in the
//! same transaction as the change it reports, so a message can never be lost between a
//! commit and a crash, and is sent at most once per `dedupe_key`.
//!
//! Sending is the mailer's job (the `Mailer` in `src/email`); this module holds the SQL of the
//! message's life: enqueue, claim (a lease, so two processes never send the same row),
//! mark sent, record a failure with exponential backoff, and give up after `MAX_ATTEMPTS`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use strum::{Display, EnumIter, EnumString, IntoStaticStr};

use crate::db::Db;
use crate::domain::ids::{BookingId, OutboxId, UserId};

/// Where a message stands, as stored in `email_outbox.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, Display, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting to be sent (now or after a backoff).
    Queued,
    Sent,
    /// Given up on after `MAX_ATTEMPTS`, or refused for good.
    Failed,
}

crate::text_enum!(OutboxStatus);

impl OutboxStatus {
    /// Every status, in the order the outbox filter lists them.
    pub const ALL: [OutboxStatus; 3] = [Self::Queued, Self::Sent, Self::Failed];

    /// The text stored in `email_outbox.status`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What a message is, as stored in `email_outbox.kind` (for the log and the staff list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, Display)]
#[strum(serialize_all = "snake_case")]
pub enum EmailKind {
    /// "Confirm your email address".
    VerifyEmail,
    /// "Reset your password".
    PasswordReset,
    /// "Someone tried to sign up with your email".
    DuplicateRegistration,
    /// The ticket.
    BookingConfirmed,
    /// The refund notice.
    BookingRefunded,
    /// `moviebooking send-test-email` and tests.
    Test,
}

crate::text_enum!(EmailKind);

impl EmailKind {
    /// The text stored in `email_outbox.kind`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A file attached to a message (a ticket PDF, a calendar entry...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEmail {
    /// The recipient: an address, or a mailbox `Name <address>` (see `email::mailbox`).
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// What kind of message this is, for the log.
    pub kind: EmailKind,
    /// A message with a key is stored (and so sent) once, ever.
    pub dedupe_key: Option<String>,
    pub user_id: Option<UserId>,
    pub booking_id: Option<BookingId>,
    pub attachments: Vec<Attachment>,
}

/// How long a claim lasts; a process that crashed mid-send loses its claim after this.
pub const LEASE_SECONDS: i64 = 60;
/// After this many failed sends a message is marked `failed` and no longer retried.
pub const MAX_ATTEMPTS: i64 = 8;
/// The first retry waits this long; each further one waits twice as long as the last...
pub const BACKOFF_BASE_SECONDS: i64 = 60;
/// ...up to this.
pub const BACKOFF_CAP_SECONDS: i64 = 3600;
/// How many due messages one round of the background job handles.
pub const BATCH: i64 = 50;

/// How attachments are kept in the `attachments` JSON column.
#[derive(Serialize, Deserialize)]
struct StoredAttachment {
    filename: String,
    content_type: String,
    /// Standard base64.
    data: String,
}

fn encode_attachments(attachments: &[Attachment]) -> String {
    let stored: Vec<StoredAttachment> = attachments
        .iter()
        .map(|a| StoredAttachment {
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            data: BASE64.encode(&a.data),
        })
        .collect();
    serde_json::to_string(&stored).unwrap_or_else(|_| "[]".into())
}

fn decode_attachments(json: &str) -> Result<Vec<Attachment>, String> {
    let stored: Vec<StoredAttachment> =
        serde_json::from_str(json).map_err(|e| format!("unreadable attachments: {e}"))?;
    stored
        .into_iter()
        .map(|a| {
            Ok(Attachment {
                data: BASE64
                    .decode(a.data.as_bytes())
                    .map_err(|e| format!("unreadable attachment {}: {e}", a.filename))?,
                filename: a.filename,
                content_type: a.content_type,
            })
        })
        .collect()
}

/// Inserts into the outbox on any executor/transaction; Ok(None) when `dedupe_key` already
/// exists (sent once, ever). The message is due at once.
pub async fn enqueue(
    conn: &mut AnyConnection,
    email: &NewEmail,
    now: i64,
) -> Result<Option<OutboxId>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO email_outbox (recipient, subject, body_text, body_html, attachments, kind, \
         dedupe_key, user_id, booking_id, status, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', 0, $10, $10) \
         ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(&email.to)
    .bind(&email.subject)
    .bind(&email.text)
    .bind(&email.html)
    .bind(encode_attachments(&email.attachments))
    .bind(email.kind.as_str())
    .bind(&email.dedupe_key)
    .bind(email.user_id)
    .bind(email.booking_id)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Where a message stands.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Standing {
    #[sqlx(try_from = "String")]
    pub status: OutboxStatus,
    pub last_error: Option<String>,
}

/// Where a message stands: its status and its last error.
pub async fn status_of(db: &Db, id: OutboxId) -> Result<Option<Standing>, sqlx::Error> {
    sqlx::query_as("SELECT status, last_error FROM email_outbox WHERE id = $1")
        .bind(id)
        .fetch_optional(db.writer())
        .await
}

/// A queued message as loaded for sending.
#[derive(Debug, Clone)]
pub struct Queued {
    pub id: OutboxId,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub kind: EmailKind,
    pub attempts: i64,
    /// The attachments, or why they could not be read back.
    pub attachments: Result<Vec<Attachment>, String>,
}

/// A queued message as stored: its attachments are JSON until `load` reads them.
#[derive(sqlx::FromRow)]
struct QueuedRow {
    id: OutboxId,
    #[sqlx(rename = "recipient")]
    to: String,
    subject: String,
    #[sqlx(rename = "body_text")]
    text: String,
    #[sqlx(rename = "body_html")]
    html: String,
    #[sqlx(try_from = "String")]
    kind: EmailKind,
    attempts: i64,
    attachments: String,
}

/// Takes the lease on a queued message that is due. Only the caller that gets `true` may
/// send it. A message waiting out its backoff is not due, so a send that just failed is not
/// tried again at once by another caller.
pub async fn claim(db: &Db, id: OutboxId, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE email_outbox SET claimed_until = $2 \
         WHERE id = $1 AND status = 'queued' AND next_attempt_at <= $3 \
         AND (claimed_until IS NULL OR claimed_until < $3)",
    )
    .bind(id)
    .bind(now + LEASE_SECONDS)
    .bind(now)
    .execute(db.writer())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Loads a message (after claiming it).
pub async fn load(db: &Db, id: OutboxId) -> Result<Option<Queued>, sqlx::Error> {
    let row: Option<QueuedRow> = sqlx::query_as(
        "SELECT id, recipient, subject, body_text, body_html, kind, attempts, attachments \
         FROM email_outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    Ok(row.map(|row| Queued {
        id: row.id,
        to: row.to,
        subject: row.subject,
        text: row.text,
        html: row.html,
        kind: row.kind,
        attempts: row.attempts,
        attachments: decode_attachments(&row.attachments),
    }))
}

/// Ids of queued messages that are due and not claimed by anyone, oldest first.
pub async fn due(db: &Db, now: i64) -> Result<Vec<OutboxId>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM email_outbox WHERE status = 'queued' AND next_attempt_at <= $1 \
         AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY next_attempt_at, id LIMIT $2",
    )
    .bind(now)
    .bind(BATCH)
    .fetch_all(db.reader())
    .await
}

/// Records a successful send and releases the claim.
pub async fn mark_sent(db: &Db, id: OutboxId, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE email_outbox SET status = $3, sent_at = $2, attempts = attempts + 1, \
         last_error = NULL, claimed_until = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(OutboxStatus::Sent.as_str())
    .execute(db.writer())
    .await?;
    Ok(())
}

/// What became of a failed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// It will be tried again at this time.
    RetryAt(i64),
    /// It will not be tried again.
    GaveUp,
}

/// The wait before the next attempt, after `attempts` failed ones: 1, 2, 4... minutes, capped.
pub fn backoff_seconds(attempts: i64) -> i64 {
    let doublings = attempts.saturating_sub(1).clamp(0, 30) as u32;
    BACKOFF_BASE_SECONDS
        .saturating_mul(1i64 << doublings)
        .min(BACKOFF_CAP_SECONDS)
}

/// Records a failed attempt: schedules a retry with backoff, or marks the message `failed`
/// once it has had `MAX_ATTEMPTS` (or at once when `permanent`). Releases the claim.
pub async fn mark_failed(
    db: &Db,
    message: &Queued,
    error: &str,
    permanent: bool,
    now: i64,
) -> Result<AfterFailure, sqlx::Error> {
    let attempts = message.attempts + 1;
    let error: String = error.chars().take(1000).collect();
    let outcome = if permanent || attempts >= MAX_ATTEMPTS {
        AfterFailure::GaveUp
    } else {
        AfterFailure::RetryAt(now + backoff_seconds(attempts))
    };
    let (status, next) = match outcome {
        AfterFailure::GaveUp => (OutboxStatus::Failed, now),
        AfterFailure::RetryAt(at) => (OutboxStatus::Queued, at),
    };
    sqlx::query(
        "UPDATE email_outbox SET status = $2, attempts = $3, last_error = $4, \
         next_attempt_at = $5, claimed_until = NULL WHERE id = $1",
    )
    .bind(message.id)
    .bind(status.as_str())
    .bind(attempts)
    .bind(error)
    .bind(next)
    .execute(db.writer())
    .await?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_minute_and_is_capped() {
        assert_eq!(backoff_seconds(1), 60);
        assert_eq!(backoff_seconds(2), 120);
        assert_eq!(backoff_seconds(3), 240);
        assert_eq!(backoff_seconds(7), 3600);
        assert_eq!(backoff_seconds(1000), 3600);
    }

    #[test]
    fn attachments_round_trip_through_base64_json() {
        let attachments = vec![Attachment {
            filename: "ticket.pdf".into(),
            content_type: "application/pdf".into(),
            data: vec![0, 1, 2, 255],
        }];
        let json = encode_attachments(&attachments);
        assert!(json.contains("AAEC/w=="), "{json}");
        assert_eq!(decode_attachments(&json).unwrap(), attachments);
        assert!(decode_attachments("nonsense").is_err());
    }
}
