//! Staff work on bookings: search by code, email, movie, date and status; the refunds of a
//! booking; and queueing a fresh copy of a confirmation email. Refunds themselves go through
//! `payments::flow::refund`, the same path as a moviegoer's cancellation.

use sqlx::AssertSqlSafe;
use time::OffsetDateTime;

use crate::db::decode::{IntBool, UnixSeconds};
use crate::db::escape_like;
use crate::db::{Db, unix};
use crate::domain::audit::{self, NewEntry};
use crate::domain::bookings::{Booking, BookingCode, PublicId, Status};
use crate::domain::ids::{BookingId, OutboxId, ShowtimeId, UserId};
use crate::domain::outbox::{self, NewEmail};
use crate::domain::payments::RefundStatus;

/// What staff search bookings by; empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// The ticket code, exactly (case does not matter).
    pub code: String,
    /// Part of the owner's email.
    pub email: String,
    /// Part of the movie title.
    pub title: String,
    /// Shows starting on this UTC day.
    pub date: Option<time::Date>,
    /// The status as it reads now (a pending booking whose hold ran out is expired).
    pub status: Option<Status>,
}

/// A booking as listed for staff.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BookingRow {
    pub public_id: PublicId,
    pub code: BookingCode,
    pub email: String,
    #[sqlx(rename = "title")]
    pub movie_title: String,
    pub theatre_name: String,
    pub timezone: String,
    #[sqlx(try_from = "UnixSeconds")]
    pub starts_at: OffsetDateTime,
    /// The stored status; read it through `status_at`.
    #[sqlx(try_from = "String")]
    pub status: Status,
    #[sqlx(try_from = "UnixSeconds")]
    pub hold_expires_at: OffsetDateTime,
    pub total_paise: i64,
    #[sqlx(try_from = "UnixSeconds")]
    pub created_at: OffsetDateTime,
}

impl BookingRow {
    /// The status at `now`, by the same rule as `Booking::status_at`.
    pub fn status_at(&self, now: OffsetDateTime) -> Status {
        if self.status == Status::Pending && self.hold_expires_at <= now {
            Status::Expired
        } else {
            self.status
        }
    }
}

/// One bound value of the search statement.
enum Arg {
    Text(String),
    Number(i64),
}

/// Adds `arg` to the statement's values; returns its placeholder.
fn arg(args: &mut Vec<Arg>, arg: Arg) -> String {
    args.push(arg);
    format!("${}", args.len())
}

/// Bookings matching `search` at `now`, newest first; one query.
pub async fn search(
    db: &Db,
    search: &Search,
    now: OffsetDateTime,
    limit: i64,
    offset: i64,
) -> Result<Vec<BookingRow>, sqlx::Error> {
    let mut conditions: Vec<String> = Vec::new();
    let mut args: Vec<Arg> = Vec::new();
    if !search.code.trim().is_empty() {
        let code = arg(&mut args, Arg::Text(search.code.trim().to_uppercase()));
        conditions.push(format!("b.code = {code}"));
    }
    if !search.email.trim().is_empty() {
        let pattern = format!("%{}%", escape_like(&search.email.trim().to_lowercase()));
        let email = arg(&mut args, Arg::Text(pattern));
        conditions.push(format!("u.email LIKE {email} ESCAPE '\\'"));
    }
    if !search.title.trim().is_empty() {
        let pattern = format!("%{}%", escape_like(&search.title.trim().to_lowercase()));
        let title = arg(&mut args, Arg::Text(pattern));
        conditions.push(format!("LOWER(m.title) LIKE {title} ESCAPE '\\'"));
    }
    if let Some(status) = search.status {
        let word = arg(&mut args, Arg::Text(status.as_str().to_owned()));
        // Filter by the status as it reads now, not as it is stored: a lapsed hold is
        // expired before the background job has caught up with it.
        let condition = match status {
            Status::Pending => {
                let now = arg(&mut args, Arg::Number(unix(now)));
                format!("b.status = {word} AND b.hold_expires_at > {now}")
            }
            Status::Expired => {
                let pending = arg(&mut args, Arg::Text(Status::Pending.as_str().to_owned()));
                let now = arg(&mut args, Arg::Number(unix(now)));
                format!(
                    "(b.status = {word} OR (b.status = {pending} AND b.hold_expires_at <= {now}))"
                )
            }
            Status::Confirmed | Status::Cancelled | Status::Refunded => {
                format!("b.status = {word}")
            }
        };
        conditions.push(condition);
    }
    if let Some(date) = search.date {
        let start = unix(date.midnight().assume_utc());
        let from = arg(&mut args, Arg::Number(start));
        let until = arg(&mut args, Arg::Number(start + 86_400));
        conditions.push(format!("st.starts_at >= {from} AND st.starts_at < {until}"));
    }
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let limit_at = arg(&mut args, Arg::Number(limit));
    let offset_at = arg(&mut args, Arg::Number(offset));
    let sql = format!(
        "SELECT b.public_id, b.code, u.email, m.title, t.name AS theatre_name, t.timezone, \
         st.starts_at, b.status, b.hold_expires_at, b.total_paise, b.created_at FROM bookings b \
         JOIN users u ON u.id = b.user_id JOIN showtimes st ON st.id = b.showtime_id \
         JOIN movies m ON m.id = st.movie_id JOIN screens sc ON sc.id = st.screen_id \
         JOIN theatres t ON t.id = sc.theatre_id {where_clause} \
         ORDER BY b.created_at DESC, b.id DESC LIMIT {limit_at} OFFSET {offset_at}"
    );
    let mut query = sqlx::query_as::<_, BookingRow>(AssertSqlSafe(sql));
    for value in args {
        query = match value {
            Arg::Text(text) => query.bind(text),
            Arg::Number(number) => query.bind(number),
        };
    }
    query.fetch_all(db.reader()).await
}

/// A refund of a booking as staff see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefundRow {
    pub amount_paise: i64,
    pub reason: String,
    #[sqlx(try_from = "String")]
    pub status: RefundStatus,
    #[sqlx(rename = "razorpay_refund_id")]
    pub provider_refund_id: Option<String>,
    pub last_error: Option<String>,
    #[sqlx(try_from = "UnixSeconds")]
    pub created_at: OffsetDateTime,
}

/// The refunds of a booking, oldest first.
pub async fn refunds_of(db: &Db, booking_id: BookingId) -> Result<Vec<RefundRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT amount_paise, reason, status, razorpay_refund_id, last_error, created_at \
         FROM refunds WHERE booking_id = $1 ORDER BY id",
    )
    .bind(booking_id)
    .fetch_all(db.writer())
    .await
}

/// Why a confirmation cannot be sent again.
#[derive(Debug, thiserror::Error)]
pub enum ResendError {
    #[error("Only a confirmed booking has a confirmation to resend.")]
    NotConfirmed,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Queues `email` (a confirmation built for `booking`, with a fresh dedupe key) with an audit
/// entry in the same transaction; returns the outbox id for the caller to deliver.
pub async fn queue_resend(
    db: &Db,
    actor_id: UserId,
    booking: &Booking,
    email: &NewEmail,
    now: i64,
) -> Result<OutboxId, ResendError> {
    if booking.status != Status::Confirmed {
        return Err(ResendError::NotConfirmed);
    }
    let mut tx = db.begin_write().await?;
    let id = outbox::enqueue(&mut tx, email, now)
        .await?
        .ok_or_else(|| sqlx::Error::Protocol("the resend's dedupe key was already used".into()))?;
    audit::record(
        &mut tx,
        &NewEntry::new(
            Some(actor_id),
            "booking.resend_confirmation",
            "booking",
            &booking.public_id,
            format!(
                "{}: confirmation sent again to {} (email #{id})",
                booking.code, booking.owner_email
            ),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A showtime as staff list it, with how many confirmed bookings it has.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShowtimeRow {
    pub id: ShowtimeId,
    #[sqlx(try_from = "UnixSeconds")]
    pub starts_at: OffsetDateTime,
    pub timezone: String,
    #[sqlx(rename = "title")]
    pub movie_title: String,
    pub theatre_name: String,
    pub screen_name: String,
    #[sqlx(try_from = "IntBool")]
    pub is_cancelled: bool,
    pub confirmed_bookings: i64,
    /// Of those, how many were admitted at the door.
    pub admitted_bookings: i64,
}

/// Showtimes starting on the UTC day `date` (and the six days after it), at theatres whose
/// name contains `theatre` (all when empty); one query.
pub async fn showtimes_from(
    db: &Db,
    date: time::Date,
    theatre: &str,
) -> Result<Vec<ShowtimeRow>, sqlx::Error> {
    let start = unix(date.midnight().assume_utc());
    sqlx::query_as(
        "SELECT st.id, st.starts_at, st.is_cancelled, t.timezone, m.title, t.name AS theatre_name, \
         sc.name AS screen_name, \
         (SELECT COUNT(*) FROM bookings b WHERE b.showtime_id = st.id AND b.status = 'confirmed') \
           AS confirmed_bookings, \
         (SELECT COUNT(*) FROM bookings b JOIN admissions a ON a.booking_id = b.id \
            AND a.undone_at IS NULL WHERE b.showtime_id = st.id AND b.status = 'confirmed') \
           AS admitted_bookings \
         FROM showtimes st JOIN movies m ON m.id = st.movie_id \
         JOIN screens sc ON sc.id = st.screen_id JOIN theatres t ON t.id = sc.theatre_id \
         WHERE st.starts_at >= $1 AND st.starts_at < $2 AND LOWER(t.name) LIKE $3 ESCAPE '\\' \
         ORDER BY st.starts_at, t.name, sc.name LIMIT 500",
    )
    .bind(start)
    .bind(start + 7 * 86_400)
    .bind(format!("%{}%", escape_like(&theatre.trim().to_lowercase())))
    .fetch_all(db.reader())
    .await
}

/// Ids of the confirmed bookings of a showtime (to refund when it is cancelled).
pub async fn confirmed_bookings_of(
    db: &Db,
    showtime_id: ShowtimeId,
) -> Result<Vec<BookingId>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM bookings WHERE showtime_id = $1 AND status = 'confirmed' ORDER BY id",
    )
    .bind(showtime_id)
    .fetch_all(db.writer())
    .await
}
