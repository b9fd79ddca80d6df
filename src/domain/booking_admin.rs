//! Staff work on bookings: search by code, email, movie, date and status; the refunds of a
//! booking; and queueing a fresh copy of a confirmation email. Refunds themselves go through
//! `payments::flow::refund`, the same path as a moviegoer's cancellation.

use sqlx::{AssertSqlSafe, Row};
use time::OffsetDateTime;

use crate::db::escape_like;
use crate::db::{Db, from_unix, unix};
use crate::domain::audit::{self, NewEntry};
use crate::domain::bookings::{Booking, Status};
use crate::domain::outbox::{self, NewEmail};

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
    pub status: Option<Status>,
}

/// A booking as listed for staff.
#[derive(Debug, Clone)]
pub struct BookingRow {
    pub public_id: String,
    pub code: String,
    pub email: String,
    pub movie_title: String,
    pub theatre_name: String,
    pub timezone: String,
    pub starts_at: OffsetDateTime,
    pub status: Status,
    pub total_paise: i64,
    pub created_at: OffsetDateTime,
}

/// Bookings matching `search`, newest first; one query.
pub async fn search(
    db: &Db,
    search: &Search,
    limit: i64,
    offset: i64,
) -> Result<Vec<BookingRow>, sqlx::Error> {
    let mut conditions: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut numbers: Vec<i64> = Vec::new();
    if !search.code.trim().is_empty() {
        texts.push(search.code.trim().to_uppercase());
        conditions.push(format!("b.code = ${}", texts.len()));
    }
    if !search.email.trim().is_empty() {
        texts.push(format!(
            "%{}%",
            escape_like(&search.email.trim().to_lowercase())
        ));
        conditions.push(format!("u.email LIKE ${} ESCAPE '\\'", texts.len()));
    }
    if !search.title.trim().is_empty() {
        texts.push(format!(
            "%{}%",
            escape_like(&search.title.trim().to_lowercase())
        ));
        conditions.push(format!("LOWER(m.title) LIKE ${} ESCAPE '\\'", texts.len()));
    }
    if let Some(status) = search.status {
        texts.push(status.as_str().to_owned());
        conditions.push(format!("b.status = ${}", texts.len()));
    }
    let base = texts.len();
    if let Some(date) = search.date {
        let start = unix(date.midnight().assume_utc());
        numbers.push(start);
        numbers.push(start + 86_400);
        conditions.push(format!(
            "st.starts_at >= ${} AND st.starts_at < ${}",
            base + 1,
            base + 2
        ));
    }
    let limit_at = base + numbers.len() + 1;
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT b.public_id, b.code, u.email, m.title, t.name AS theatre_name, t.timezone, \
         st.starts_at, b.status, b.total_paise, b.created_at FROM bookings b \
         JOIN users u ON u.id = b.user_id JOIN showtimes st ON st.id = b.showtime_id \
         JOIN movies m ON m.id = st.movie_id JOIN screens sc ON sc.id = st.screen_id \
         JOIN theatres t ON t.id = sc.theatre_id {where_clause} \
         ORDER BY b.created_at DESC, b.id DESC LIMIT ${limit_at} OFFSET ${}",
        limit_at + 1
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for text in texts {
        query = query.bind(text);
    }
    for number in numbers {
        query = query.bind(number);
    }
    let rows = query
        .bind(limit)
        .bind(offset)
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get("status")?;
            Ok(BookingRow {
                public_id: r.try_get("public_id")?,
                code: r.try_get("code")?,
                email: r.try_get("email")?,
                movie_title: r.try_get("title")?,
                theatre_name: r.try_get("theatre_name")?,
                timezone: r.try_get("timezone")?,
                starts_at: from_unix(r.try_get("starts_at")?),
                status: Status::parse(&status).ok_or_else(|| {
                    sqlx::Error::Decode(format!("unknown booking status {status:?}").into())
                })?,
                total_paise: r.try_get("total_paise")?,
                created_at: from_unix(r.try_get("created_at")?),
            })
        })
        .collect()
}

/// A refund of a booking as staff see it.
#[derive(Debug, Clone)]
pub struct RefundRow {
    pub amount_paise: i64,
    pub reason: String,
    pub status: String,
    pub provider_refund_id: Option<String>,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
}

/// The refunds of a booking, oldest first.
pub async fn refunds_of(db: &Db, booking_id: i64) -> Result<Vec<RefundRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT amount_paise, reason, status, razorpay_refund_id, last_error, created_at \
         FROM refunds WHERE booking_id = $1 ORDER BY id",
    )
    .bind(booking_id)
    .fetch_all(db.writer())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RefundRow {
                amount_paise: r.try_get("amount_paise")?,
                reason: r.try_get("reason")?,
                status: r.try_get("status")?,
                provider_refund_id: r.try_get("razorpay_refund_id")?,
                last_error: r.try_get("last_error")?,
                created_at: from_unix(r.try_get("created_at")?),
            })
        })
        .collect()
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
    actor_id: i64,
    booking: &Booking,
    email: &NewEmail,
    now: i64,
) -> Result<i64, ResendError> {
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
            Some(crate::domain::ids::UserId(actor_id)),
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
    Ok(id.into())
}

/// A showtime as staff list it, with how many confirmed bookings it has.
#[derive(Debug, Clone)]
pub struct ShowtimeRow {
    pub id: i64,
    pub starts_at: OffsetDateTime,
    pub timezone: String,
    pub movie_title: String,
    pub theatre_name: String,
    pub screen_name: String,
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
    let rows = sqlx::query(
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
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ShowtimeRow {
                id: r.try_get("id")?,
                starts_at: from_unix(r.try_get("starts_at")?),
                timezone: r.try_get("timezone")?,
                movie_title: r.try_get("title")?,
                theatre_name: r.try_get("theatre_name")?,
                screen_name: r.try_get("screen_name")?,
                is_cancelled: r.try_get::<i64, _>("is_cancelled")? != 0,
                confirmed_bookings: r.try_get("confirmed_bookings")?,
                admitted_bookings: r.try_get("admitted_bookings")?,
            })
        })
        .collect()
}

/// Ids of the confirmed bookings of a showtime (to refund when it is cancelled).
pub async fn confirmed_bookings_of(db: &Db, showtime_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM bookings WHERE showtime_id = $1 AND status = 'confirmed' ORDER BY id",
    )
    .bind(showtime_id)
    .fetch_all(db.writer())
    .await
}
