//! Payment incidents as staff work through them. `payments::record_incident` writes one
//! whenever money and a booking disagree (an amount or order mismatch, a payment for an
//! unknown order, a refund the provider refused); nothing settles them automatically, so a
//! person reads each one, does what it needs in Razorpay or on the booking, and marks it
//! resolved with a note saying what was done.

use sqlx::AssertSqlSafe;
use strum::{EnumString, IntoStaticStr};
use time::OffsetDateTime;

use crate::db::Db;
use crate::db::decode::{MaybeUnixSeconds, UnixSeconds};
use crate::domain::audit::{self, NewEntry};
use crate::domain::ids::{BookingId, IncidentId, UserId};

/// The longest resolution note kept.
pub const RESOLUTION_MAX: usize = 500;

/// Which incidents a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, EnumString, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum StatusFilter {
    /// Not resolved yet: what needs a person (the default).
    #[default]
    Open,
    Resolved,
    All,
}

impl StatusFilter {
    pub const ALL: [StatusFilter; 3] = [Self::Open, Self::Resolved, Self::All];

    /// The filter named in a URL; `None` for anything else.
    pub fn parse(value: &str) -> Option<Self> {
        value.parse().ok()
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn condition(self) -> &'static str {
        match self {
            Self::Open => "WHERE i.resolved_at IS NULL",
            Self::Resolved => "WHERE i.resolved_at IS NOT NULL",
            Self::All => "",
        }
    }
}

/// One incident with what staff need to act on it: the booking's public id, code and owner
/// when it concerns a booking, and who resolved it how.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Incident {
    pub id: IncidentId,
    pub booking_id: Option<BookingId>,
    #[sqlx(rename = "public_id")]
    pub booking_public_id: Option<String>,
    #[sqlx(rename = "code")]
    pub booking_code: Option<String>,
    pub customer_email: Option<String>,
    pub razorpay_order_id: Option<String>,
    pub razorpay_payment_id: Option<String>,
    /// What went wrong, in the words of `payments::record_incident`.
    pub kind: String,
    pub detail: String,
    #[sqlx(try_from = "UnixSeconds")]
    pub created_at: OffsetDateTime,
    #[sqlx(try_from = "MaybeUnixSeconds")]
    pub resolved_at: Option<OffsetDateTime>,
    #[sqlx(rename = "resolver_email")]
    pub resolved_by_email: Option<String>,
    pub resolution: Option<String>,
}

impl Incident {
    pub fn is_open(&self) -> bool {
        self.resolved_at.is_none()
    }
}

const SELECT: &str = "SELECT i.id, i.booking_id, b.public_id, b.code, u.email AS customer_email, \
     i.razorpay_order_id, i.razorpay_payment_id, i.kind, i.detail, i.created_at, i.resolved_at, \
     r.email AS resolver_email, i.resolution FROM payment_incidents i \
     LEFT JOIN bookings b ON b.id = i.booking_id LEFT JOIN users u ON u.id = b.user_id \
     LEFT JOIN users r ON r.id = i.resolved_by_user_id";

/// Incidents matching `filter`, newest first; one query.
pub async fn list(
    db: &Db,
    filter: StatusFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<Incident>, sqlx::Error> {
    let sql = format!(
        "{SELECT} {} ORDER BY i.created_at DESC, i.id DESC LIMIT $1 OFFSET $2",
        filter.condition()
    );
    sqlx::query_as(AssertSqlSafe(sql))
        .bind(limit)
        .bind(offset)
        .fetch_all(db.reader())
        .await
}

/// The incidents about one booking, newest first.
pub async fn for_booking(db: &Db, booking_id: BookingId) -> Result<Vec<Incident>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE i.booking_id = $1 ORDER BY i.created_at DESC, i.id DESC");
    sqlx::query_as(AssertSqlSafe(sql))
        .bind(booking_id)
        .fetch_all(db.reader())
        .await
}

/// One incident. Read from the writer so that a page shown right after a resolution sees it.
pub async fn find(db: &Db, id: IncidentId) -> Result<Option<Incident>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE i.id = $1");
    sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db.writer())
        .await
}

/// Why a resolution note (already trimmed) is not acceptable.
pub fn resolution_error(note: &str) -> Option<&'static str> {
    if note.is_empty() {
        Some("Say what was done about this incident; the note is kept with it.")
    } else if note.chars().count() > RESOLUTION_MAX {
        Some("Use at most 500 characters.")
    } else if note
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        Some("The note cannot contain control characters.")
    } else {
        None
    }
}

/// Why an incident was not resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("No such incident.")]
    NotFound,
    #[error("Incident #{0} was already resolved.")]
    AlreadyResolved(IncidentId),
    #[error("{0}")]
    Invalid(&'static str),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Marks an open incident resolved by `actor_id` with `note` (trimmed here), with an audit
/// entry in the same transaction. The UPDATE only matches an open incident, so when two
/// staff resolve the same one at once exactly one succeeds and the other is told it was
/// already resolved; the note of the first is kept.
pub async fn resolve(
    db: &Db,
    actor_id: UserId,
    id: IncidentId,
    note: &str,
    now: i64,
) -> Result<Incident, ResolveError> {
    let note = note.trim();
    if let Some(error) = resolution_error(note) {
        return Err(ResolveError::Invalid(error));
    }
    let mut tx = db.begin_write().await?;
    let kind: Option<String> = sqlx::query_scalar(
        "UPDATE payment_incidents SET resolved_at = $1, resolved_by_user_id = $2, resolution = $3 \
         WHERE id = $4 AND resolved_at IS NULL RETURNING kind",
    )
    .bind(now)
    .bind(actor_id)
    .bind(note)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(kind) = kind else {
        let exists: Option<IncidentId> =
            sqlx::query_scalar("SELECT id FROM payment_incidents WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        return Err(match exists {
            Some(_) => ResolveError::AlreadyResolved(id),
            None => ResolveError::NotFound,
        });
    };
    audit::record(
        &mut tx,
        &NewEntry::new(
            Some(actor_id),
            "incident.resolve",
            "payment_incident",
            id,
            format!("{kind}: open -> resolved; resolution: {note}"),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    find(db, id).await?.ok_or(ResolveError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_required_short_and_printable() {
        assert!(resolution_error("").is_some());
        assert!(resolution_error("Refunded the extra ₹10 in the Razorpay dashboard").is_none());
        assert!(resolution_error(&"x".repeat(RESOLUTION_MAX)).is_none());
        // Characters, not bytes: 500 rupee signs are fine, 501 are not.
        assert!(resolution_error(&"₹".repeat(RESOLUTION_MAX)).is_none());
        assert!(resolution_error(&"₹".repeat(RESOLUTION_MAX + 1)).is_some());
        assert!(resolution_error("line one\nline two").is_none());
        assert!(resolution_error("bell\u{7}").is_some());
    }

    #[test]
    fn filters_round_trip_through_their_url_names() {
        for filter in StatusFilter::ALL {
            assert_eq!(StatusFilter::parse(filter.as_str()), Some(filter));
        }
        assert_eq!(StatusFilter::parse("closed"), None);
        assert_eq!(StatusFilter::default(), StatusFilter::Open);
    }
}
