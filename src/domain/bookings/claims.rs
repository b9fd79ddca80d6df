//! `seat_claims`: the table that keeps the booking invariant, and every statement on it.
//!
//! A seat of a showtime belongs to at most one live booking. A hold inserts one claim per
//! seat and the unique index over (showtime, seat) lets exactly one of any number of racing
//! transactions win; nothing here checks first and inserts after. A claim is live while its
//! booking is confirmed (`expires_at` NULL) or pending with `expires_at` in the future.
//! Claims of bookings that end are deleted in the same transaction as the transition, and
//! expired ones are released lazily by the next claim on the seat and by the background
//! job. Keeping every statement in this one module is what makes that reviewable.

use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::AssertSqlSafe;
use strum::{Display, IntoStaticStr};
use time::OffsetDateTime;

use crate::db::decode::MaybeUnixSeconds;
use crate::db::{Db, Tx, is_unique_violation, placeholders, unix};
use crate::domain::ids::{BookingId, SeatId, ShowtimeId};
use crate::domain::screens::SeatKind;
use crate::domain::showtimes::ShowtimeDetail;

/// Inserts one claim per seat for `booking`, live until `expires_at` (None: for good).
/// A seat someone else holds makes the whole statement fail with a unique violation.
pub async fn insert(
    conn: &mut AnyConnection,
    showtime_id: ShowtimeId,
    booking_id: BookingId,
    seat_ids: &[SeatId],
    expires_at: Option<OffsetDateTime>,
) -> Result<(), sqlx::Error> {
    let values = (0..seat_ids.len())
        .map(|i| format!("($1, ${}, $2, $3)", 4 + i))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO seat_claims (showtime_id, seat_id, booking_id, expires_at) VALUES {values}"
    );
    let mut insert = sqlx::query(AssertSqlSafe(sql))
        .bind(showtime_id)
        .bind(booking_id)
        .bind(expires_at.map(unix));
    for id in seat_ids {
        insert = insert.bind(*id);
    }
    insert.execute(conn).await?;
    Ok(())
}

/// Deletes a booking's claims: its seats are free again.
pub async fn release(conn: &mut AnyConnection, booking_id: BookingId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM seat_claims WHERE booking_id = $1")
        .bind(booking_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Frees the claims on `seat_ids` whose hold ran out, so that they can be claimed at once.
pub async fn release_expired_seats(
    conn: &mut AnyConnection,
    showtime_id: ShowtimeId,
    seat_ids: &[SeatId],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "DELETE FROM seat_claims WHERE showtime_id = $1 AND expires_at IS NOT NULL \
         AND expires_at <= $2 AND seat_id IN ({})",
        placeholders(3, seat_ids.len())
    );
    let mut release = sqlx::query(AssertSqlSafe(sql))
        .bind(showtime_id)
        .bind(unix(now));
    for id in seat_ids {
        release = release.bind(*id);
    }
    release.execute(conn).await?;
    Ok(())
}

/// Frees every claim whose hold ran out (the background job).
pub async fn release_all_expired(
    conn: &mut AnyConnection,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM seat_claims WHERE expires_at IS NOT NULL AND expires_at <= $1")
        .bind(unix(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// A paid booking keeps its seats for good.
pub async fn make_permanent(
    conn: &mut AnyConnection,
    booking_id: BookingId,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE seat_claims SET expires_at = NULL WHERE booking_id = $1")
        .bind(booking_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves the expiry of a pending booking's claims to `until` (the payment extension).
pub async fn extend(
    conn: &mut AnyConnection,
    booking_id: BookingId,
    until: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE seat_claims SET expires_at = $1 WHERE booking_id = $2 AND expires_at IS NOT NULL",
    )
    .bind(unix(until))
    .bind(booking_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Claims a late-paid booking's seats again, for good. False when any seat now belongs to
/// someone else; nothing is changed then.
pub async fn claim_again_for_good(
    tx: &mut Tx,
    showtime_id: ShowtimeId,
    booking_id: BookingId,
    seat_ids: &[SeatId],
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    if seat_ids.is_empty() {
        return Ok(false);
    }
    release(tx, booking_id).await?;
    release_expired_seats(tx, showtime_id, seat_ids, now).await?;
    // A savepoint, so that losing the race undoes only this attempt (PostgreSQL aborts the
    // whole transaction on a unique violation otherwise).
    let mut attempt = sqlx::Connection::begin(&mut **tx).await?;
    match insert(&mut attempt, showtime_id, booking_id, seat_ids, None).await {
        Ok(()) => {
            attempt.commit().await?;
            Ok(true)
        }
        Err(error) if is_unique_violation(&error) => {
            attempt.rollback().await?;
            Ok(false)
        }
        Err(error) => Err(error),
    }
}

/// Which of `seat_ids` have a live claim at `now` (read after losing a race, to say which).
pub async fn live_claimed_seats(
    db: &Db,
    showtime_id: ShowtimeId,
    seat_ids: &[SeatId],
    now: OffsetDateTime,
) -> Result<Vec<SeatId>, sqlx::Error> {
    let sql = format!(
        "SELECT seat_id FROM seat_claims WHERE showtime_id = $1 \
         AND (expires_at IS NULL OR expires_at > $2) AND seat_id IN ({}) ORDER BY seat_id",
        placeholders(3, seat_ids.len())
    );
    let mut query = sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(showtime_id)
        .bind(unix(now));
    for id in seat_ids {
        query = query.bind(*id);
    }
    query.fetch_all(db.writer()).await
}

/// What a seat looks like to someone choosing seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, IntoStaticStr, Display)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum SeatStatus {
    Available,
    Held,
    Booked,
    Unavailable,
}

impl SeatStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One seat of a showtime's map.
#[derive(Debug, Clone, Serialize)]
pub struct MapSeat {
    pub id: SeatId,
    pub label: String,
    pub row: String,
    pub row_index: i64,
    pub column: i64,
    pub number: i64,
    pub category: String,
    pub category_rank: i64,
    pub kind: SeatKind,
    pub price_paise: Option<i64>,
    pub status: SeatStatus,
    /// Held by the viewer's own pending booking (shown as selected, not as taken).
    pub mine: bool,
}

#[derive(sqlx::FromRow)]
struct MapRow {
    id: SeatId,
    label: String,
    row_label: String,
    row_index: i64,
    col_index: i64,
    number: i64,
    #[sqlx(try_from = "String")]
    kind: SeatKind,
    category: String,
    rank: i64,
    price_paise: Option<i64>,
    booking_id: Option<BookingId>,
    #[sqlx(try_from = "MaybeUnixSeconds")]
    expires_at: Option<OffsetDateTime>,
}

impl MapRow {
    fn into_seat(self, viewer_booking: Option<BookingId>) -> MapSeat {
        let kind = self.kind;
        let mine = self.booking_id.is_some() && self.booking_id == viewer_booking;
        let status = match (self.booking_id, self.expires_at) {
            _ if kind == SeatKind::Blocked || self.price_paise.is_none() => SeatStatus::Unavailable,
            (Some(_), _) if mine => SeatStatus::Available,
            (Some(_), None) => SeatStatus::Booked,
            (Some(_), Some(_)) => SeatStatus::Held,
            (None, _) => SeatStatus::Available,
        };
        MapSeat {
            id: self.id,
            label: self.label,
            row: self.row_label,
            row_index: self.row_index,
            column: self.col_index,
            number: self.number,
            category: self.category,
            category_rank: self.rank,
            kind,
            price_paise: self.price_paise,
            status,
            mine,
        }
    }
}

/// Every seat of a showtime's screen with its status at `now`, in row and column order.
/// `viewer_booking` is the viewer's pending booking for this showtime, if any.
pub async fn seat_map(
    db: &Db,
    showtime: &ShowtimeDetail,
    now: OffsetDateTime,
    viewer_booking: Option<BookingId>,
) -> Result<Vec<MapSeat>, sqlx::Error> {
    let rows: Vec<MapRow> = sqlx::query_as(
        "SELECT s.id, s.label, s.row_label, s.row_index, s.col_index, s.number, s.kind, \
         c.name AS category, c.rank, p.price_paise, sc.booking_id, sc.expires_at \
         FROM seats s JOIN seat_categories c ON c.id = s.category_id \
         LEFT JOIN showtime_prices p ON p.showtime_id = $1 AND p.category_id = s.category_id \
         LEFT JOIN seat_claims sc ON sc.showtime_id = $1 AND sc.seat_id = s.id \
              AND (sc.expires_at IS NULL OR sc.expires_at > $2) \
         WHERE s.screen_id = $3 ORDER BY s.row_index, s.col_index",
    )
    .bind(showtime.id)
    .bind(unix(now))
    .bind(showtime.screen_id)
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| row.into_seat(viewer_booking))
        .collect())
}
