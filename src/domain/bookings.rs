//! Bookings: holding seats, the booking state machine, and the booking invariant.
//!
//! A seat of a showtime belongs to at most one live booking. The database enforces it: a
//! hold inserts one `seat_claims` row per seat, and a unique index over (showtime, seat)
//! lets exactly one of any number of racing transactions win. Application code never checks
//! first and inserts after. A claim is live while its booking is confirmed (`expires_at`
//! NULL) or pending with `expires_at` in the future; claims of bookings that end are deleted
//! in the same transaction, and expired ones are released lazily by the next claim on the
//! seat and by the background job.
//!
//! Every state change is one conditional UPDATE (`... WHERE status = 'pending'`), so two
//! racers can never both win a transition.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use time::OffsetDateTime;

use crate::config::BookingRules;
use crate::db::{Db, Tx, from_unix, is_retryable, is_unique_violation, placeholders, unix};
use crate::domain::pricing::{self, Amount};
use crate::domain::showtimes::{self, ShowtimeDetail};
use crate::domain::tokens::{is_token_shaped, random_token};

/// Where a booking is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Confirmed,
    Expired,
    Cancelled,
    Refunded,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Confirmed => "confirmed",
            Status::Expired => "expired",
            Status::Cancelled => "cancelled",
            Status::Refunded => "refunded",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "pending" => Status::Pending,
            "confirmed" => Status::Confirmed,
            "expired" => Status::Expired,
            "cancelled" => Status::Cancelled,
            "refunded" => Status::Refunded,
            _ => return None,
        })
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
}

/// One seat on a booking, with the price it had when it was held.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BookingSeat {
    pub seat_id: i64,
    pub label: String,
    pub category: String,
    pub price_paise: i64,
}

/// A booking with the showtime facts needed to show it.
#[derive(Debug, Clone)]
pub struct Booking {
    pub id: i64,
    /// The unguessable reference used in URLs.
    pub public_id: String,
    /// The short code printed on the ticket (e.g. `MB7K2Q9X`).
    pub code: String,
    pub user_id: i64,
    pub showtime_id: i64,
    pub status: Status,
    pub hold_expires_at: OffsetDateTime,
    pub hold_extended: bool,
    pub amount: Amount,
    pub razorpay_order_id: Option<String>,
    pub created_at: OffsetDateTime,
    pub confirmed_at: Option<OffsetDateTime>,
    pub seats: Vec<BookingSeat>,
    pub movie_title: String,
    pub movie_slug: String,
    pub theatre_name: String,
    pub screen_name: String,
    pub city_name: String,
    pub timezone: String,
    pub starts_at: OffsetDateTime,
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
        self.status == Status::Pending && self.hold_expires_at > now
    }

    /// Seconds of hold left at `now` (0 once it ran out).
    pub fn seconds_left(&self, now: OffsetDateTime) -> i64 {
        if self.status == Status::Pending {
            (self.hold_expires_at - now).whole_seconds().max(0)
        } else {
            0
        }
    }

    pub fn seat_labels(&self) -> String {
        self.seats
            .iter()
            .map(|s| s.label.as_str())
            .collect::<Vec<_>>()
            .join(", ")
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
    UnknownSeats(Vec<i64>),
    #[error("Some of the chosen seats cannot be booked.")]
    BlockedSeats(Vec<i64>),
    #[error("That showtime does not exist.")]
    ShowtimeNotFound,
    #[error("{0}")]
    ShowtimeClosed(String),
    #[error("Sorry, some of those seats were just taken by someone else. Please choose again.")]
    SeatsUnavailable(Vec<i64>),
    #[error("You already hold seats for {max} other shows. Pay for or cancel one of them first.")]
    TooManyHolds { max: i64 },
    #[error("Another request for your seats is in progress. Please try again.")]
    Busy,
    #[error(
        "Your hold on some of these seats ran out a moment ago. You can hold them again in {seconds} seconds; any other free seat can be held now."
    )]
    CoolingDown { seat_ids: Vec<i64>, seconds: i64 },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
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

/// A seat of the screen with its price for one showtime.
struct PricedSeat {
    id: i64,
    label: String,
    category: String,
    kind: String,
    price_paise: Option<i64>,
}

/// Public references are `random_token(22)`; anything longer is not one of ours.
const PUBLIC_ID_MAX_LEN: usize = 64;

const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// An 8-character code without look-alike characters (no I, O, 0, 1).
pub fn new_booking_code() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..8)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

/// Holds `seat_ids` of a showtime for `user_id` until `now + rules.hold_ttl`: all of them or
/// none. An earlier pending booking of the same user for the same showtime is replaced.
pub async fn hold(
    db: &Db,
    rules: &BookingRules,
    now: OffsetDateTime,
    user_id: i64,
    showtime_id: i64,
    seat_ids: &[i64],
) -> Result<Booking, HoldError> {
    if seat_ids.is_empty() {
        return Err(HoldError::NoSeats);
    }
    if seat_ids.len() > rules.max_seats_per_booking as usize {
        return Err(HoldError::TooManySeats {
            max: rules.max_seats_per_booking,
        });
    }
    let mut seat_ids = seat_ids.to_vec();
    // One order for every transaction, so concurrent multi-seat holds cannot deadlock.
    seat_ids.sort_unstable();
    if seat_ids.windows(2).any(|w| w[0] == w[1]) {
        return Err(HoldError::DuplicateSeats);
    }
    let showtime = showtimes::find_showtime(db, crate::domain::ids::ShowtimeId(showtime_id))
        .await?
        .ok_or(HoldError::ShowtimeNotFound)?;
    check_bookable(&showtime, rules, now)?;

    let seats = load_priced_seats(db, showtime.id.0, showtime.screen_id.0, &seat_ids).await?;
    let unknown: Vec<i64> = seat_ids
        .iter()
        .copied()
        .filter(|id| !seats.iter().any(|s| s.id == *id))
        .collect();
    if !unknown.is_empty() {
        return Err(HoldError::UnknownSeats(unknown));
    }
    let blocked: Vec<i64> = seats
        .iter()
        .filter(|s| s.kind == "blocked" || s.price_paise.is_none())
        .map(|s| s.id)
        .collect();
    if !blocked.is_empty() {
        return Err(HoldError::BlockedSeats(blocked));
    }
    let prices: Vec<i64> = seats.iter().filter_map(|s| s.price_paise).collect();
    let request = ClaimRequest {
        user_id,
        showtime: &showtime,
        seats: &seats,
        amount: pricing::price(&prices, rules.convenience_fee_paise, rules.fee_gst_percent),
    };

    let mut attempt = 0;
    let booking_id = loop {
        attempt += 1;
        match claim(db, rules, now, &request).await {
            Err(HoldError::Database(error)) if is_retryable(&error) && attempt < 4 => continue,
            other => break other?,
        }
    };
    find_by_id(db, booking_id)
        .await?
        .ok_or(HoldError::ShowtimeNotFound)
}

/// What one hold asks for, priced and checked against the screen.
struct ClaimRequest<'a> {
    user_id: i64,
    showtime: &'a ShowtimeDetail,
    seats: &'a [PricedSeat],
    amount: Amount,
}

/// The transaction of a hold. Returns the new booking's id.
///
/// Holding again is how a moviegoer changes seats, so it replaces their earlier hold for
/// the showtime; but it never restarts the clock. The new hold keeps the expiry (and the
/// one payment extension) of the live hold it replaces, or of one they cancelled whose
/// time has not run out, so no account can keep seats off sale by holding them again and
/// again. Once a hold has run out unpaid, the same account must wait
/// `rules.rehold_cooldown` before holding any of its seats again; everyone else may take
/// them at once.
async fn claim(
    db: &Db,
    rules: &BookingRules,
    now: OffsetDateTime,
    request: &ClaimRequest<'_>,
) -> Result<i64, HoldError> {
    let ClaimRequest {
        user_id,
        showtime,
        seats,
        amount,
    } = *request;
    let now_s = unix(now);
    let mut tx = db.begin_write().await?;

    let other_holds: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM bookings WHERE user_id = $1 AND status = 'pending' \
         AND hold_expires_at > $2 AND showtime_id <> $3",
    )
    .bind(user_id)
    .bind(now_s)
    .bind(showtime.id)
    .fetch_one(&mut *tx)
    .await?;
    if other_holds >= rules.max_live_holds_per_user {
        return Err(HoldError::TooManyHolds {
            max: rules.max_live_holds_per_user,
        });
    }

    let cooldown = rules.rehold_cooldown.as_secs() as i64;
    if cooldown > 0 {
        let sql = format!(
            "SELECT bs.seat_id, MAX(b.hold_expires_at) FROM bookings b \
             JOIN booking_seats bs ON bs.booking_id = b.id \
             WHERE b.user_id = $1 AND b.showtime_id = $2 AND b.confirmed_at IS NULL \
             AND b.status IN ('pending', 'expired', 'cancelled') \
             AND b.hold_expires_at <= $3 AND b.hold_expires_at > $4 \
             AND bs.seat_id IN ({}) GROUP BY bs.seat_id ORDER BY bs.seat_id",
            placeholders(5, seats.len())
        );
        let mut query = sqlx::query_as::<_, (i64, i64)>(AssertSqlSafe(sql))
            .bind(user_id)
            .bind(showtime.id)
            .bind(now_s)
            .bind(now_s - cooldown);
        for seat in seats {
            query = query.bind(seat.id);
        }
        let cooling: Vec<(i64, i64)> = query.fetch_all(&mut *tx).await?;
        if let Some(latest) = cooling.iter().map(|(_, ran_out)| *ran_out).max() {
            return Err(HoldError::CoolingDown {
                seat_ids: cooling.iter().map(|(id, _)| *id).collect(),
                seconds: (latest + cooldown - now_s).max(1),
            });
        }
    }

    // The clock this hold inherits, if any (see above).
    let inherited: Option<(i64, i64)> = sqlx::query_as(
        "SELECT hold_expires_at, hold_extended FROM bookings \
         WHERE user_id = $1 AND showtime_id = $2 AND confirmed_at IS NULL \
         AND status IN ('pending', 'cancelled') AND hold_expires_at > $3 \
         ORDER BY hold_expires_at DESC LIMIT 1",
    )
    .bind(user_id)
    .bind(showtime.id)
    .bind(now_s)
    .fetch_optional(&mut *tx)
    .await?;
    let (expires_at, extended) = match inherited {
        Some((expires_at, extended)) => (expires_at, extended != 0),
        None => (unix(now + rules.hold_ttl), false),
    };

    // Holding again replaces the earlier hold for this showtime instead of piling up.
    let replaced: Vec<i64> = sqlx::query_scalar(
        "UPDATE bookings SET status = 'cancelled', closed_at = $1, updated_at = $1 \
         WHERE user_id = $2 AND showtime_id = $3 AND status = 'pending' RETURNING id",
    )
    .bind(now_s)
    .bind(user_id)
    .bind(showtime.id)
    .fetch_all(&mut *tx)
    .await?;
    for id in replaced {
        release_claims(&mut tx, id).await?;
    }

    // Claims whose hold ran out are free again at once.
    let seat_list = placeholders(3, seats.len());
    let sql = format!(
        "DELETE FROM seat_claims WHERE showtime_id = $1 AND expires_at IS NOT NULL \
         AND expires_at <= $2 AND seat_id IN ({seat_list})"
    );
    let mut release = sqlx::query(AssertSqlSafe(sql))
        .bind(showtime.id)
        .bind(now_s);
    for seat in seats {
        release = release.bind(seat.id);
    }
    release.execute(&mut *tx).await?;

    let booking_id = insert_booking(
        &mut tx,
        NewBooking {
            now: now_s,
            expires_at,
            extended,
            user_id,
            showtime_id: showtime.id.0,
            amount,
        },
    )
    .await?;

    // The booking invariant: the unique index on (showtime_id, seat_id) admits one claim.
    let values = (0..seats.len())
        .map(|i| {
            let base = 4 + i;
            format!("($1, ${base}, $2, $3)")
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO seat_claims (showtime_id, seat_id, booking_id, expires_at) VALUES {values}"
    );
    let mut insert = sqlx::query(AssertSqlSafe(sql))
        .bind(showtime.id)
        .bind(booking_id)
        .bind(expires_at);
    for seat in seats {
        insert = insert.bind(seat.id);
    }
    if let Err(error) = insert.execute(&mut *tx).await {
        if !is_unique_violation(&error) {
            return Err(error.into());
        }
        tx.rollback().await?;
        let ids: Vec<i64> = seats.iter().map(|s| s.id).collect();
        let mut taken = live_claimed_seats(db, showtime.id.0, &ids, now).await?;
        if taken.is_empty() {
            taken = ids;
        }
        return Err(HoldError::SeatsUnavailable(taken));
    }

    let values = (0..seats.len())
        .map(|i| {
            let base = 2 + i * 4;
            format!(
                "($1, ${}, ${}, ${}, ${})",
                base,
                base + 1,
                base + 2,
                base + 3
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO booking_seats (booking_id, seat_id, label, category_name, price_paise) VALUES {values}"
    );
    let mut insert = sqlx::query(AssertSqlSafe(sql)).bind(booking_id);
    for seat in seats {
        insert = insert
            .bind(seat.id)
            .bind(seat.label.clone())
            .bind(seat.category.clone())
            .bind(seat.price_paise.unwrap_or(0));
    }
    insert.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(booking_id)
}

/// The row of a new pending booking.
struct NewBooking {
    now: i64,
    expires_at: i64,
    extended: bool,
    user_id: i64,
    showtime_id: i64,
    amount: Amount,
}

async fn insert_booking(tx: &mut Tx, new: NewBooking) -> Result<i64, HoldError> {
    let NewBooking {
        now,
        expires_at,
        extended,
        user_id,
        showtime_id,
        amount,
    } = new;
    // A code collision is astronomically rare; pick another rather than fail.
    for _ in 0..5 {
        let inserted: Result<Option<i64>, sqlx::Error> = sqlx::query_scalar(
            "INSERT INTO bookings (public_id, code, user_id, showtime_id, status, hold_expires_at, \
             hold_extended, seats_paise, fee_paise, tax_paise, total_paise, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $11, $6, $7, $8, $9, $10, $10) \
             ON CONFLICT (code) DO NOTHING RETURNING id",
        )
        .bind(random_token(22))
        .bind(new_booking_code())
        .bind(user_id)
        .bind(showtime_id)
        .bind(expires_at)
        .bind(amount.seats_paise)
        .bind(amount.fee_paise)
        .bind(amount.tax_paise)
        .bind(amount.total_paise)
        .bind(now)
        .bind(i64::from(extended))
        .fetch_optional(&mut **tx)
        .await;
        match inserted {
            Ok(Some(id)) => return Ok(id),
            Ok(None) => continue,
            // The same user holding the same showtime in two tabs at the same instant.
            Err(error) if is_unique_violation(&error) => return Err(HoldError::Busy),
            Err(error) => return Err(error.into()),
        }
    }
    Err(HoldError::Busy)
}

/// Deletes a booking's seat claims (its seats are free again).
pub async fn release_claims(tx: &mut Tx, booking_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM seat_claims WHERE booking_id = $1")
        .bind(booking_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn load_priced_seats(
    db: &Db,
    showtime_id: i64,
    screen_id: i64,
    seat_ids: &[i64],
) -> Result<Vec<PricedSeat>, sqlx::Error> {
    let sql = format!(
        "SELECT s.id, s.label, s.kind, c.name AS category, p.price_paise \
         FROM seats s JOIN seat_categories c ON c.id = s.category_id \
         LEFT JOIN showtime_prices p ON p.showtime_id = $1 AND p.category_id = s.category_id \
         WHERE s.screen_id = $2 AND s.id IN ({}) ORDER BY s.id",
        placeholders(3, seat_ids.len())
    );
    let mut query = sqlx::query(AssertSqlSafe(sql))
        .bind(showtime_id)
        .bind(screen_id);
    for id in seat_ids {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(db.reader()).await?;
    rows.iter()
        .map(|r| {
            Ok(PricedSeat {
                id: r.try_get("id")?,
                label: r.try_get("label")?,
                category: r.try_get("category")?,
                kind: r.try_get("kind")?,
                price_paise: r.try_get("price_paise")?,
            })
        })
        .collect()
}

/// Which of `seat_ids` have a live claim at `now`.
async fn live_claimed_seats(
    db: &Db,
    showtime_id: i64,
    seat_ids: &[i64],
    now: OffsetDateTime,
) -> Result<Vec<i64>, sqlx::Error> {
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

const BOOKING_SELECT: &str = "SELECT b.id, b.public_id, b.code, b.user_id, b.showtime_id, b.status, \
     b.hold_expires_at, b.hold_extended, b.seats_paise, b.fee_paise, b.tax_paise, b.total_paise, \
     b.razorpay_order_id, b.created_at, b.confirmed_at, m.title, m.slug, t.name AS theatre_name, \
     sc.name AS screen_name, c.name AS city_name, t.timezone, st.starts_at, st.ends_at, \
     u.email AS owner_email \
     FROM bookings b JOIN users u ON u.id = b.user_id JOIN showtimes st ON st.id = b.showtime_id \
     JOIN movies m ON m.id = st.movie_id JOIN screens sc ON sc.id = st.screen_id \
     JOIN theatres t ON t.id = sc.theatre_id JOIN cities c ON c.id = t.city_id";

fn booking_from_row(r: &AnyRow) -> Result<Booking, sqlx::Error> {
    let status: String = r.try_get("status")?;
    Ok(Booking {
        id: r.try_get("id")?,
        public_id: r.try_get("public_id")?,
        code: r.try_get("code")?,
        user_id: r.try_get("user_id")?,
        showtime_id: r.try_get("showtime_id")?,
        status: Status::parse(&status).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown booking status {status:?}").into())
        })?,
        hold_expires_at: from_unix(r.try_get("hold_expires_at")?),
        hold_extended: r.try_get::<i64, _>("hold_extended")? != 0,
        amount: Amount {
            seats_paise: r.try_get("seats_paise")?,
            fee_paise: r.try_get("fee_paise")?,
            tax_paise: r.try_get("tax_paise")?,
            total_paise: r.try_get("total_paise")?,
        },
        razorpay_order_id: r.try_get("razorpay_order_id")?,
        created_at: from_unix(r.try_get("created_at")?),
        confirmed_at: r.try_get::<Option<i64>, _>("confirmed_at")?.map(from_unix),
        seats: Vec::new(),
        movie_title: r.try_get("title")?,
        movie_slug: r.try_get("slug")?,
        theatre_name: r.try_get("theatre_name")?,
        screen_name: r.try_get("screen_name")?,
        city_name: r.try_get("city_name")?,
        timezone: r.try_get("timezone")?,
        starts_at: from_unix(r.try_get("starts_at")?),
        ends_at: from_unix(r.try_get("ends_at")?),
        owner_email: r.try_get("owner_email")?,
    })
}

/// Fills in the seats of several bookings with one query.
async fn attach_seats(db: &Db, bookings: &mut [Booking]) -> Result<(), sqlx::Error> {
    if bookings.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT booking_id, seat_id, label, category_name, price_paise FROM booking_seats \
         WHERE booking_id IN ({}) ORDER BY booking_id, id",
        placeholders(1, bookings.len())
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for b in bookings.iter() {
        query = query.bind(b.id);
    }
    for row in query.fetch_all(db.reader()).await? {
        let booking_id: i64 = row.try_get("booking_id")?;
        if let Some(b) = bookings.iter_mut().find(|b| b.id == booking_id) {
            b.seats.push(BookingSeat {
                seat_id: row.try_get("seat_id")?,
                label: row.try_get("label")?,
                category: row.try_get("category_name")?,
                price_paise: row.try_get("price_paise")?,
            });
        }
    }
    Ok(())
}

/// A booking by its internal id (for code that already checked access).
pub async fn find_by_id(db: &Db, id: i64) -> Result<Option<Booking>, sqlx::Error> {
    let sql = format!("{BOOKING_SELECT} WHERE b.id = $1");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db.writer())
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut bookings = vec![booking_from_row(&row)?];
    attach_seats(db, &mut bookings).await?;
    Ok(bookings.pop())
}

/// A booking by id, read inside a transaction (it sees the transaction's own changes).
pub async fn find_by_id_in(tx: &mut Tx, id: i64) -> Result<Option<Booking>, sqlx::Error> {
    let sql = format!("{BOOKING_SELECT} WHERE b.id = $1");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut booking = booking_from_row(&row)?;
    let seats = sqlx::query(
        "SELECT seat_id, label, category_name, price_paise FROM booking_seats WHERE booking_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    for seat in seats {
        booking.seats.push(BookingSeat {
            seat_id: seat.try_get("seat_id")?,
            label: seat.try_get("label")?,
            category: seat.try_get("category_name")?,
            price_paise: seat.try_get("price_paise")?,
        });
    }
    Ok(Some(booking))
}

/// A booking by the provider order it is paid through.
pub async fn find_by_order(db: &Db, order_id: &str) -> Result<Option<Booking>, sqlx::Error> {
    let id: Option<i64> =
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
    public_id: &str,
    owner: i64,
) -> Result<Option<Booking>, sqlx::Error> {
    find_where(
        db,
        "b.public_id = $1 AND b.user_id = $2",
        public_id,
        Some(owner),
    )
    .await
}

/// The booking with this public reference, whoever owns it (the admin pages).
pub async fn find_by_public_id(db: &Db, public_id: &str) -> Result<Option<Booking>, sqlx::Error> {
    find_where(db, "b.public_id = $1", public_id, None).await
}

/// The booking with this 8-character code (as printed on the ticket; any case, spaces
/// around it ignored), whoever owns it (the door).
pub async fn find_by_code(db: &Db, code: &str) -> Result<Option<Booking>, sqlx::Error> {
    let code = code.trim().to_ascii_uppercase();
    if code.len() != 8 || !code.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
        return Ok(None);
    }
    find_where(db, "b.code = $1", &code, None).await
}

async fn find_where(
    db: &Db,
    condition: &'static str,
    reference: &str,
    owner: Option<i64>,
) -> Result<Option<Booking>, sqlx::Error> {
    // A malformed reference (`x%00`, CR LF...) is one that does not exist.
    if !is_token_shaped(reference, PUBLIC_ID_MAX_LEN) {
        return Ok(None);
    }
    let sql = format!("{BOOKING_SELECT} WHERE {condition}");
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(reference);
    if let Some(owner) = owner {
        query = query.bind(owner);
    }
    let Some(row) = query.fetch_optional(db.reader()).await? else {
        return Ok(None);
    };
    let mut bookings = vec![booking_from_row(&row)?];
    attach_seats(db, &mut bookings).await?;
    Ok(bookings.pop())
}

/// A user's bookings: upcoming shows first (soonest first), then past ones (latest first).
pub async fn list_for_user(
    db: &Db,
    user_id: i64,
    now: OffsetDateTime,
) -> Result<Vec<Booking>, sqlx::Error> {
    let sql = format!(
        "{BOOKING_SELECT} WHERE b.user_id = $1 \
         ORDER BY CASE WHEN st.starts_at >= $2 THEN 0 ELSE 1 END, \
         CASE WHEN st.starts_at >= $2 THEN st.starts_at ELSE -st.starts_at END, b.id DESC \
         LIMIT 200"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(user_id)
        .bind(unix(now))
        .fetch_all(db.reader())
        .await?;
    let mut bookings = rows
        .iter()
        .map(booking_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    attach_seats(db, &mut bookings).await?;
    Ok(bookings)
}

/// The user's pending booking for a showtime, if any (its seats show as theirs on the map).
pub async fn pending_for(
    db: &Db,
    user_id: i64,
    showtime_id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM bookings WHERE user_id = $1 AND showtime_id = $2 AND status = 'pending'",
    )
    .bind(user_id)
    .bind(showtime_id)
    .fetch_optional(db.reader())
    .await
}

/// Why a cancellation was refused.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("This booking can no longer be cancelled.")]
    NotCancellable,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Cancels its owner's pending booking and frees its seats at once. Returns false when it
/// was no longer pending (someone or something else moved it first) or is not `owner`'s:
/// a moviegoer's cancel acts on their own bookings only, whoever they are.
pub async fn cancel_pending(
    db: &Db,
    booking_id: i64,
    owner: i64,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE bookings SET status = 'cancelled', closed_at = $1, updated_at = $1 \
         WHERE id = $2 AND user_id = $3 AND status = 'pending'",
    )
    .bind(unix(now))
    .bind(booking_id)
    .bind(owner)
    .execute(&mut *tx)
    .await?;
    let cancelled = done.rows_affected() == 1;
    if cancelled {
        release_claims(&mut tx, booking_id).await?;
    }
    tx.commit().await?;
    Ok(cancelled)
}

/// Marks pending bookings whose hold ran out as expired and frees their seats. Safe to run
/// in several processes at once: each row changes state once, by one conditional UPDATE.
pub async fn expire_holds(db: &Db, now: OffsetDateTime) -> Result<u64, sqlx::Error> {
    let now_s = unix(now);
    let mut tx = db.begin_write().await?;
    let expired = sqlx::query(
        "UPDATE bookings SET status = 'expired', closed_at = $1, updated_at = $1 \
         WHERE status = 'pending' AND hold_expires_at <= $1",
    )
    .bind(now_s)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM seat_claims WHERE expires_at IS NOT NULL AND expires_at <= $1")
        .bind(now_s)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(expired)
}

/// What a seat looks like to someone choosing seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeatStatus {
    Available,
    Held,
    Booked,
    Unavailable,
}

impl SeatStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SeatStatus::Available => "available",
            SeatStatus::Held => "held",
            SeatStatus::Booked => "booked",
            SeatStatus::Unavailable => "unavailable",
        }
    }
}

/// One seat of a showtime's map.
#[derive(Debug, Clone, Serialize)]
pub struct MapSeat {
    pub id: i64,
    pub label: String,
    pub row: String,
    pub row_index: i64,
    pub column: i64,
    pub number: i64,
    pub category: String,
    pub category_rank: i64,
    pub kind: String,
    pub price_paise: Option<i64>,
    pub status: SeatStatus,
    /// Held by the viewer's own pending booking (shown as selected, not as taken).
    pub mine: bool,
}

/// Every seat of a showtime's screen with its status at `now`, in row and column order.
/// `viewer_booking` is the viewer's pending booking for this showtime, if any.
pub async fn seat_map(
    db: &Db,
    showtime: &ShowtimeDetail,
    now: OffsetDateTime,
    viewer_booking: Option<i64>,
) -> Result<Vec<MapSeat>, sqlx::Error> {
    let rows = sqlx::query(
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
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            let price: Option<i64> = r.try_get("price_paise")?;
            let claim: Option<i64> = r.try_get("booking_id")?;
            let claim_expiry: Option<i64> = r.try_get("expires_at")?;
            let mine = claim.is_some() && claim == viewer_booking;
            let status = match (claim, claim_expiry) {
                _ if kind == "blocked" || price.is_none() => SeatStatus::Unavailable,
                (Some(_), _) if mine => SeatStatus::Available,
                (Some(_), None) => SeatStatus::Booked,
                (Some(_), Some(_)) => SeatStatus::Held,
                (None, _) => SeatStatus::Available,
            };
            Ok(MapSeat {
                id: r.try_get("id")?,
                label: r.try_get("label")?,
                row: r.try_get("row_label")?,
                row_index: r.try_get("row_index")?,
                column: r.try_get("col_index")?,
                number: r.try_get("number")?,
                category: r.try_get("category")?,
                category_rank: r.try_get("rank")?,
                kind,
                price_paise: price,
                status,
                mine,
            })
        })
        .collect()
}
