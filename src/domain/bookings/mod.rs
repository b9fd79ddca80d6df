//! Bookings: what a booking is, the rules it follows, and how it is read.
//!
//! The booking lifecycle (holding seats, every status transition) lives in `lifecycle`, and
//! every statement on `seat_claims` in `claims`; this module holds the types and the reads.
//! A booking's status is always read through `Booking::status_at`: a pending booking whose
//! hold ran out is expired from that instant, whether or not the stored status has caught
//! up yet.

pub mod claims;
pub mod lifecycle;
pub mod reference;

use serde::Serialize;
use sqlx::AssertSqlSafe;
use strum::{Display, EnumString, IntoStaticStr, VariantNames};
use time::OffsetDateTime;

use crate::config::BookingRules;
use crate::db::decode::{IntBool, MaybeUnixSeconds, UnixSeconds};
use crate::db::{Db, Tx, placeholders, unix};
use crate::domain::ids::{BookingId, SeatId, ShowtimeId, UserId};
use crate::domain::pricing::Amount;
use crate::domain::showtimes::ShowtimeDetail;

pub use claims::{MapSeat, SeatStatus, seat_map};
pub use lifecycle::{cancel_pending, expire_holds, hold, transition};
pub use reference::{BookingCode, PublicId};

/// Where a booking is in its life.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, EnumString, IntoStaticStr, Display, VariantNames,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Status {
    Pending,
    Confirmed,
    Expired,
    Cancelled,
    Refunded,
}

crate::text_enum!(Status);

impl Status {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// A stored or submitted word, if it is a status.
    pub fn parse(value: &str) -> Option<Self> {
        value.parse().ok()
    }

    /// How the status reads to a moviegoer.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pending => "Awaiting payment",
            Status::Confirmed => "Confirmed",
            Status::Expired => "Expired",
            Status::Cancelled => "Cancelled",
            Status::Refunded => "Refunded",
        }
    }

    /// The booking state machine: `pending` -> `confirmed` | `expired` | `cancelled`;
    /// `confirmed` -> `refunded`; and a late payment may still confirm an `expired` booking
    /// whose seats are free.
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        matches!(
            (self, to),
            (Pending, Confirmed | Expired | Cancelled)
                | (Expired, Confirmed)
                | (Confirmed, Refunded)
        )
    }
}

/// One seat on a booking, with the price it had when it was held.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct BookingSeat {
    pub seat_id: SeatId,
    pub label: String,
    #[sqlx(rename = "category_name")]
    pub category: String,
    pub price_paise: i64,
}

/// A booking with the showtime facts needed to show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Booking {
    pub id: BookingId,
    /// The unguessable reference used in URLs.
    pub public_id: PublicId,
    /// The short code printed on the ticket (e.g. `MB7K2Q9X`).
    pub code: BookingCode,
    pub user_id: UserId,
    pub showtime_id: ShowtimeId,
    /// The stored status; read it through `status_at`.
    #[sqlx(try_from = "String")]
    pub status: Status,
    #[sqlx(try_from = "UnixSeconds")]
    pub hold_expires_at: OffsetDateTime,
    #[sqlx(try_from = "IntBool")]
    pub hold_extended: bool,
    #[sqlx(flatten)]
    pub amount: Amount,
    pub razorpay_order_id: Option<String>,
    #[sqlx(try_from = "UnixSeconds")]
    pub created_at: OffsetDateTime,
    #[sqlx(try_from = "MaybeUnixSeconds")]
    pub confirmed_at: Option<OffsetDateTime>,
    #[sqlx(skip)]
    pub seats: Vec<BookingSeat>,
    #[sqlx(rename = "title")]
    pub movie_title: String,
    #[sqlx(rename = "slug")]
    pub movie_slug: String,
    pub theatre_name: String,
    pub screen_name: String,
    pub city_name: String,
    pub timezone: String,
    #[sqlx(try_from = "UnixSeconds")]
    pub starts_at: OffsetDateTime,
    #[sqlx(try_from = "UnixSeconds")]
    pub ends_at: OffsetDateTime,
    /// Where the booking's emails go.
    pub owner_email: String,
}

impl Booking {
    /// The status as it is at `now`: a pending booking whose hold ran out is expired,
    /// whether or not the background job has caught up with the stored status.
    pub fn status_at(&self, now: OffsetDateTime) -> Status {
        if self.status == Status::Pending && self.hold_expires_at <= now {
            Status::Expired
        } else {
            self.status
        }
    }

    /// Whether the seats are still held for payment at `now`.
    pub fn hold_is_live(&self, now: OffsetDateTime) -> bool {
        self.status_at(now) == Status::Pending
    }

    /// Seconds of hold left at `now` (0 once it ran out).
    pub fn seconds_left(&self, now: OffsetDateTime) -> i64 {
        if self.status == Status::Pending {
            (self.hold_expires_at - now).whole_seconds().max(0)
        } else {
            0
        }
    }

    /// Whether a moviegoer's own cancellation of this confirmed booking is still in time
    /// for a refund: strictly before `cutoff_hours` before the show.
    pub fn refund_window_open(&self, now: OffsetDateTime, cutoff_hours: i64) -> bool {
        now < self.starts_at - time::Duration::hours(cutoff_hours)
    }

    /// Whether its owner may cancel it at `now`: a live hold always, a confirmed booking
    /// while the refund window is open. (A ticket used at the door is refused separately.)
    pub fn customer_can_cancel(&self, now: OffsetDateTime, rules: &BookingRules) -> bool {
        match self.status_at(now) {
            Status::Pending => true,
            Status::Confirmed => self.refund_window_open(now, rules.cancellation_cutoff_hours),
            _ => false,
        }
    }

    pub fn seat_labels(&self) -> String {
        self.seats
            .iter()
            .map(|s| s.label.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn seat_ids(&self) -> Vec<SeatId> {
        self.seats.iter().map(|s| s.seat_id).collect()
    }
}

/// Why a hold was refused.
#[derive(Debug, thiserror::Error)]
pub enum HoldError {
    #[error("Please choose at least one seat.")]
    NoSeats,
    #[error("You can book at most {max} seats at a time.")]
    TooManySeats { max: u32 },
    #[error("The same seat was chosen twice.")]
    DuplicateSeats,
    #[error("Some of the chosen seats are not in this screen.")]
    UnknownSeats(Vec<SeatId>),
    #[error("Some of the chosen seats cannot be booked.")]
    BlockedSeats(Vec<SeatId>),
    #[error("That showtime does not exist.")]
    ShowtimeNotFound,
    #[error("{0}")]
    ShowtimeClosed(String),
    #[error("Sorry, some of those seats were just taken by someone else. Please choose again.")]
    SeatsUnavailable(Vec<SeatId>),
    #[error("You already hold seats for {max} other shows. Pay for or cancel one of them first.")]
    TooManyHolds { max: i64 },
    #[error("Another request for your seats is in progress. Please try again.")]
    Busy,
    #[error(
        "Your hold on some of these seats ran out a moment ago. You can hold them again in {seconds} seconds; any other free seat can be held now."
    )]
    CoolingDown { seat_ids: Vec<SeatId>, seconds: i64 },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl HoldError {
    /// The seats the hold was refused for because someone (or the cooldown) has them: the
    /// rest of a selection can be kept for another try.
    pub fn taken_seats(&self) -> &[SeatId] {
        match self {
            HoldError::SeatsUnavailable(taken)
            | HoldError::CoolingDown {
                seat_ids: taken, ..
            } => taken,
            _ => &[],
        }
    }
}

/// Refuses showtimes that are cancelled, have started, or are past the booking cut-off.
pub fn check_bookable(
    showtime: &ShowtimeDetail,
    rules: &BookingRules,
    now: OffsetDateTime,
) -> Result<(), HoldError> {
    if showtime.is_cancelled {
        return Err(HoldError::ShowtimeClosed(
            "This showtime has been cancelled.".into(),
        ));
    }
    let cutoff = showtime.starts_at - time::Duration::minutes(rules.booking_cutoff_minutes);
    if now >= showtime.starts_at {
        return Err(HoldError::ShowtimeClosed(
            "This showtime has already started.".into(),
        ));
    }
    if now >= cutoff {
        return Err(HoldError::ShowtimeClosed(format!(
            "Bookings for this showtime closed {} minutes before the start.",
            rules.booking_cutoff_minutes
        )));
    }
    Ok(())
}

const BOOKING_SELECT: &str = "SELECT b.id, b.public_id, b.code, b.user_id, b.showtime_id, b.status, \
     b.hold_expires_at, b.hold_extended, b.seats_paise, b.fee_paise, b.tax_paise, b.total_paise, \
     b.razorpay_order_id, b.created_at, b.confirmed_at, m.title, m.slug, t.name AS theatre_name, \
     sc.name AS screen_name, c.name AS city_name, t.timezone, st.starts_at, st.ends_at, \
     u.email AS owner_email \
     FROM bookings b JOIN users u ON u.id = b.user_id JOIN showtimes st ON st.id = b.showtime_id \
     JOIN movies m ON m.id = st.movie_id JOIN screens sc ON sc.id = st.screen_id \
     JOIN theatres t ON t.id = sc.theatre_id JOIN cities c ON c.id = t.city_id";

const SEAT_SELECT: &str =
    "SELECT booking_id, seat_id, label, category_name, price_paise FROM booking_seats";

/// A seat row with the booking it belongs to (several bookings' seats in one query).
#[derive(sqlx::FromRow)]
struct SeatOfBooking {
    booking_id: BookingId,
    #[sqlx(flatten)]
    seat: BookingSeat,
}

/// Fills in the seats of several bookings with one query.
async fn attach_seats(db: &Db, bookings: &mut [Booking]) -> Result<(), sqlx::Error> {
    if bookings.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "{SEAT_SELECT} WHERE booking_id IN ({}) ORDER BY booking_id, id",
        placeholders(1, bookings.len())
    );
    let mut query = sqlx::query_as::<_, SeatOfBooking>(AssertSqlSafe(sql));
    for b in bookings.iter() {
        query = query.bind(b.id);
    }
    for row in query.fetch_all(db.reader()).await? {
        if let Some(b) = bookings.iter_mut().find(|b| b.id == row.booking_id) {
            b.seats.push(row.seat);
        }
    }
    Ok(())
}

/// A booking by its internal id (for code that already checked access).
pub async fn find_by_id(db: &Db, id: BookingId) -> Result<Option<Booking>, sqlx::Error> {
    let sql = format!("{BOOKING_SELECT} WHERE b.id = $1");
    let booking = sqlx::query_as::<_, Booking>(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db.writer())
        .await?;
    let Some(booking) = booking else {
        return Ok(None);
    };
    let mut bookings = vec![booking];
    attach_seats(db, &mut bookings).await?;
    Ok(bookings.pop())
}

/// A booking by id, read inside a transaction (it sees the transaction's own changes).
pub async fn find_by_id_in(tx: &mut Tx, id: BookingId) -> Result<Option<Booking>, sqlx::Error> {
    let sql = format!("{BOOKING_SELECT} WHERE b.id = $1");
    let booking = sqlx::query_as::<_, Booking>(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(mut booking) = booking else {
        return Ok(None);
    };
    let sql = format!("{SEAT_SELECT} WHERE booking_id = $1 ORDER BY id");
    booking.seats = sqlx::query_as::<_, SeatOfBooking>(AssertSqlSafe(sql))
        .bind(id)
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|row| row.seat)
        .collect();
    Ok(Some(booking))
}

/// A booking by the provider order it is paid through.
pub async fn find_by_order(db: &Db, order_id: &str) -> Result<Option<Booking>, sqlx::Error> {
    let id: Option<BookingId> =
        sqlx::query_scalar("SELECT id FROM bookings WHERE razorpay_order_id = $1")
            .bind(order_id)
            .fetch_optional(db.writer())
            .await?;
    match id {
        Some(id) => find_by_id(db, id).await,
        None => Ok(None),
    }
}

/// The booking with this public reference if it is `owner`'s. Anyone else's booking is
/// simply not found, so references cannot be probed; this holds for staff accounts too,
/// who reach other people's bookings through the admin pages only.
pub async fn find_owned(
    db: &Db,
    public_id: &PublicId,
    owner: UserId,
) -> Result<Option<Booking>, sqlx::Error> {
    let sql = format!("{BOOKING_SELECT} WHERE b.public_id = $1 AND b.user_id = $2");
    let query = sqlx::query_as::<_, Booking>(AssertSqlSafe(sql))
        .bind(public_id)
        .bind(owner);
    one_with_seats(db, query.fetch_optional(db.reader()).await?).await
}

/// The booking with this public reference, whoever owns it (the admin pages, the door).
pub async fn find_by_public_id(
    db: &Db,
    public_id: &PublicId,
) -> Result<Option<Booking>, sqlx::Error> {
    let sql = format!("{BOOKING_SELECT} WHERE b.public_id = $1");
    let query = sqlx::query_as::<_, Booking>(AssertSqlSafe(sql)).bind(public_id);
    one_with_seats(db, query.fetch_optional(db.reader()).await?).await
}

/// The booking with this code, whoever owns it (the door).
pub async fn find_by_code(db: &Db, code: &BookingCode) -> Result<Option<Booking>, sqlx::Error> {
    let sql = format!("{BOOKING_SELECT} WHERE b.code = $1");
    let query = sqlx::query_as::<_, Booking>(AssertSqlSafe(sql)).bind(code);
    one_with_seats(db, query.fetch_optional(db.reader()).await?).await
}

async fn one_with_seats(db: &Db, booking: Option<Booking>) -> Result<Option<Booking>, sqlx::Error> {
    let Some(booking) = booking else {
        return Ok(None);
    };
    let mut bookings = vec![booking];
    attach_seats(db, &mut bookings).await?;
    Ok(bookings.pop())
}

/// A user's bookings: upcoming shows first (soonest first), then past ones (latest first).
pub async fn list_for_user(
    db: &Db,
    user_id: UserId,
    now: OffsetDateTime,
) -> Result<Vec<Booking>, sqlx::Error> {
    let sql = format!(
        "{BOOKING_SELECT} WHERE b.user_id = $1 \
         ORDER BY CASE WHEN st.starts_at >= $2 THEN 0 ELSE 1 END, \
         CASE WHEN st.starts_at >= $2 THEN st.starts_at ELSE -st.starts_at END, b.id DESC \
         LIMIT 200"
    );
    let mut bookings = sqlx::query_as::<_, Booking>(AssertSqlSafe(sql))
        .bind(user_id)
        .bind(unix(now))
        .fetch_all(db.reader())
        .await?;
    attach_seats(db, &mut bookings).await?;
    Ok(bookings)
}

/// The user's pending booking for a showtime, if any (its seats show as theirs on the map).
pub async fn pending_for(
    db: &Db,
    user_id: UserId,
    showtime_id: ShowtimeId,
) -> Result<Option<BookingId>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM bookings WHERE user_id = $1 AND showtime_id = $2 AND status = 'pending'",
    )
    .bind(user_id)
    .bind(showtime_id)
    .fetch_optional(db.reader())
    .await
}
