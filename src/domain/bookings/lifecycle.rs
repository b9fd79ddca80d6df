//! The booking lifecycle: holding seats, and every change of a booking's status.
//!
//! `transition` is the only statement in the code that changes `bookings.status`. It is one
//! conditional UPDATE (`... WHERE status IN (<from>)`), so of two racers (the browser's
//! callback and the webhook, a cancel and a payment, two background jobs) exactly one wins
//! and the other sees `false`. Whoever wins does the rest of the change (releasing or
//! keeping the seats) in the same transaction.

use sqlx::AssertSqlSafe;
use time::OffsetDateTime;

use super::claims;
use super::{Booking, BookingCode, HoldError, PublicId, Status, check_bookable, find_by_id};
use crate::config::BookingRules;
use crate::db::{Db, Tx, is_retryable, is_unique_violation, placeholders, unix};
use crate::domain::ids::{BookingId, SeatId, ShowtimeId, UserId};
use crate::domain::pricing::{self, Amount};
use crate::domain::screens::SeatKind;
use crate::domain::showtimes::{self, ShowtimeDetail};

/// Moves booking `id` from any of `from` to `to` at `now`, stamping `confirmed_at` or
/// `closed_at` as the new status asks. False when the booking was in none of `from` (someone
/// else moved it first): the caller then changes nothing else.
pub async fn transition(
    tx: &mut Tx,
    id: BookingId,
    from: &[Status],
    to: Status,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    debug_assert!(from.iter().all(|f| f.can_become(to)), "{from:?} -> {to:?}");
    if from.is_empty() {
        return Ok(false);
    }
    let stamp = match to {
        Status::Pending => "",
        Status::Confirmed => ", confirmed_at = $2",
        Status::Expired | Status::Cancelled | Status::Refunded => ", closed_at = $2",
    };
    let sql = format!(
        "UPDATE bookings SET status = $1, updated_at = $2{stamp} WHERE id = $3 AND status IN ({})",
        placeholders(4, from.len())
    );
    let mut update = sqlx::query(AssertSqlSafe(sql))
        .bind(to.as_str())
        .bind(unix(now))
        .bind(id);
    for status in from {
        update = update.bind(status.as_str());
    }
    Ok(update.execute(&mut **tx).await?.rows_affected() == 1)
}

/// Ends a pending booking (`to` is expired or cancelled) and frees its seats, in `tx`.
/// False when it was no longer pending.
pub async fn end_hold(
    tx: &mut Tx,
    id: BookingId,
    to: Status,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let ended = transition(tx, id, &[Status::Pending], to, now).await?;
    if ended {
        claims::release(tx, id).await?;
    }
    Ok(ended)
}

/// Cancels its owner's pending booking and frees its seats at once. Returns false when it
/// was no longer pending (someone or something else moved it first), its hold had run out,
/// or it is not `owner`'s: a moviegoer's cancel acts on their own bookings only.
pub async fn cancel_pending(
    db: &Db,
    booking: &Booking,
    owner: UserId,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    if booking.user_id != owner || booking.status_at(now) != Status::Pending {
        return Ok(false);
    }
    let mut tx = db.begin_write().await?;
    let cancelled = end_hold(&mut tx, booking.id, Status::Cancelled, now).await?;
    tx.commit().await?;
    Ok(cancelled)
}

/// Marks pending bookings whose hold ran out as expired and frees their seats. Safe to run
/// in several processes at once: each booking changes state once, by one conditional UPDATE.
pub async fn expire_holds(db: &Db, now: OffsetDateTime) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let due: Vec<BookingId> = sqlx::query_scalar(
        "SELECT id FROM bookings WHERE status = 'pending' AND hold_expires_at <= $1 ORDER BY id",
    )
    .bind(unix(now))
    .fetch_all(&mut *tx)
    .await?;
    let mut expired = 0;
    for id in due {
        if transition(&mut tx, id, &[Status::Pending], Status::Expired, now).await? {
            expired += 1;
        }
    }
    claims::release_all_expired(&mut tx, now).await?;
    tx.commit().await?;
    Ok(expired)
}

/// Extends a pending hold to `until`, once per booking, so that nobody loses seats halfway
/// through paying (and nobody can hold seats forever by retrying). True when extended.
pub async fn extend_hold_once(
    db: &Db,
    booking_id: BookingId,
    until: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let extended = sqlx::query(
        "UPDATE bookings SET hold_expires_at = $1, hold_extended = 1, updated_at = $2 \
         WHERE id = $3 AND status = 'pending' AND hold_extended = 0 AND hold_expires_at > $2 AND hold_expires_at < $1",
    )
    .bind(unix(until))
    .bind(unix(now))
    .bind(booking_id)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if extended {
        claims::extend(&mut tx, booking_id, until).await?;
    }
    tx.commit().await?;
    Ok(extended)
}

/// A seat of the screen with its price for one showtime.
#[derive(sqlx::FromRow)]
struct PricedSeat {
    id: SeatId,
    label: String,
    category: String,
    #[sqlx(try_from = "String")]
    kind: SeatKind,
    price_paise: Option<i64>,
}

impl PricedSeat {
    fn is_for_sale(&self) -> bool {
        self.kind != SeatKind::Blocked && self.price_paise.is_some()
    }
}

/// Holds `seat_ids` of a showtime for `user_id` until `now + rules.hold_ttl`: all of them or
/// none. An earlier pending booking of the same user for the same showtime is replaced.
pub async fn hold(
    db: &Db,
    rules: &BookingRules,
    now: OffsetDateTime,
    user_id: UserId,
    showtime_id: ShowtimeId,
    seat_ids: &[SeatId],
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
    let showtime = showtimes::find_showtime(db, showtime_id)
        .await?
        .ok_or(HoldError::ShowtimeNotFound)?;
    check_bookable(&showtime, rules, now)?;

    let seats = load_priced_seats(db, &showtime, &seat_ids).await?;
    let unknown: Vec<SeatId> = seat_ids
        .iter()
        .copied()
        .filter(|id| !seats.iter().any(|s| s.id == *id))
        .collect();
    if !unknown.is_empty() {
        return Err(HoldError::UnknownSeats(unknown));
    }
    let blocked: Vec<SeatId> = seats
        .iter()
        .filter(|s| !s.is_for_sale())
        .map(|s| s.id)
        .collect();
    if !blocked.is_empty() {
        return Err(HoldError::BlockedSeats(blocked));
    }
    let prices: Vec<i64> = seats.iter().filter_map(|s| s.price_paise).collect();
    let request = ClaimRequest {
        user_id,
        showtime_id,
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
    user_id: UserId,
    showtime_id: ShowtimeId,
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
) -> Result<BookingId, HoldError> {
    let ClaimRequest {
        user_id,
        showtime_id,
        seats,
        amount,
    } = *request;
    let seat_ids: Vec<SeatId> = seats.iter().map(|s| s.id).collect();
    let now_s = unix(now);
    let mut tx = db.begin_write().await?;

    let other_holds: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM bookings WHERE user_id = $1 AND status = 'pending' \
         AND hold_expires_at > $2 AND showtime_id <> $3",
    )
    .bind(user_id)
    .bind(now_s)
    .bind(showtime_id)
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
            placeholders(5, seat_ids.len())
        );
        let mut query = sqlx::query_as::<_, (SeatId, i64)>(AssertSqlSafe(sql))
            .bind(user_id)
            .bind(showtime_id)
            .bind(now_s)
            .bind(now_s - cooldown);
        for id in &seat_ids {
            query = query.bind(*id);
        }
        let cooling: Vec<(SeatId, i64)> = query.fetch_all(&mut *tx).await?;
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
    .bind(showtime_id)
    .bind(now_s)
    .fetch_optional(&mut *tx)
    .await?;
    let (expires_at, extended) = match inherited {
        Some((expires_at, extended)) => (crate::db::from_unix(expires_at), extended != 0),
        None => (now + rules.hold_ttl, false),
    };

    // Holding again replaces the earlier hold for this showtime instead of piling up.
    let replaced: Vec<BookingId> = sqlx::query_scalar(
        "SELECT id FROM bookings WHERE user_id = $1 AND showtime_id = $2 AND status = 'pending'",
    )
    .bind(user_id)
    .bind(showtime_id)
    .fetch_all(&mut *tx)
    .await?;
    for id in replaced {
        end_hold(&mut tx, id, Status::Cancelled, now).await?;
    }

    // Claims whose hold ran out are free again at once.
    claims::release_expired_seats(&mut tx, showtime_id, &seat_ids, now).await?;

    let booking_id = insert_booking(
        &mut tx,
        NewBooking {
            now,
            expires_at,
            extended,
            user_id,
            showtime_id,
            amount,
        },
    )
    .await?;

    // The booking invariant: the unique index on (showtime_id, seat_id) admits one claim.
    if let Err(error) = claims::insert(
        &mut tx,
        showtime_id,
        booking_id,
        &seat_ids,
        Some(expires_at),
    )
    .await
    {
        if !is_unique_violation(&error) {
            return Err(error.into());
        }
        tx.rollback().await?;
        let mut taken = claims::live_claimed_seats(db, showtime_id, &seat_ids, now).await?;
        if taken.is_empty() {
            taken = seat_ids;
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
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
    extended: bool,
    user_id: UserId,
    showtime_id: ShowtimeId,
    amount: Amount,
}

async fn insert_booking(tx: &mut Tx, new: NewBooking) -> Result<BookingId, HoldError> {
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
        let inserted: Result<Option<BookingId>, sqlx::Error> = sqlx::query_scalar(
            "INSERT INTO bookings (public_id, code, user_id, showtime_id, status, hold_expires_at, \
             hold_extended, seats_paise, fee_paise, tax_paise, total_paise, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $11, $6, $7, $8, $9, $10, $10) \
             ON CONFLICT (code) DO NOTHING RETURNING id",
        )
        .bind(PublicId::random())
        .bind(BookingCode::random())
        .bind(user_id)
        .bind(showtime_id)
        .bind(unix(expires_at))
        .bind(amount.seats_paise)
        .bind(amount.fee_paise)
        .bind(amount.tax_paise)
        .bind(amount.total_paise)
        .bind(unix(now))
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

async fn load_priced_seats(
    db: &Db,
    showtime: &ShowtimeDetail,
    seat_ids: &[SeatId],
) -> Result<Vec<PricedSeat>, sqlx::Error> {
    let sql = format!(
        "SELECT s.id, s.label, s.kind, c.name AS category, p.price_paise \
         FROM seats s JOIN seat_categories c ON c.id = s.category_id \
         LEFT JOIN showtime_prices p ON p.showtime_id = $1 AND p.category_id = s.category_id \
         WHERE s.screen_id = $2 AND s.id IN ({}) ORDER BY s.id",
        placeholders(3, seat_ids.len())
    );
    let mut query = sqlx::query_as::<_, PricedSeat>(AssertSqlSafe(sql))
        .bind(showtime.id)
        .bind(showtime.screen_id);
    for id in seat_ids {
        query = query.bind(*id);
    }
    query.fetch_all(db.reader()).await
}

/// A booking as a payment for it finds it (read inside the settling transaction).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaidBooking {
    pub id: BookingId,
    #[sqlx(try_from = "String")]
    pub status: Status,
    pub total_paise: i64,
    #[sqlx(try_from = "crate::db::decode::UnixSeconds")]
    pub hold_expires_at: OffsetDateTime,
    pub showtime_id: ShowtimeId,
}

/// What confirming a paid booking came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// Confirmed now; its seats are claimed for good.
    Confirmed,
    /// Someone else moved it first (the other payment path): nothing changed.
    AlreadyMoved,
    /// It cannot have the money: cancelled, or its hold ran out and its seats are taken.
    SeatsGone,
}

/// Confirms a paid booking in `tx`. A live hold keeps its seats for good; a hold that ran
/// out (stored as pending or already expired) gets its seats back if nobody took them
/// meanwhile, and is expired for good otherwise.
pub async fn confirm_paid(
    tx: &mut Tx,
    paid: &PaidBooking,
    now: OffsetDateTime,
) -> Result<Confirmation, sqlx::Error> {
    let hold_live = paid.status == Status::Pending && paid.hold_expires_at > now;
    let has_seats = if hold_live {
        true
    } else if matches!(paid.status, Status::Pending | Status::Expired) {
        let seat_ids: Vec<SeatId> = sqlx::query_scalar(
            "SELECT seat_id FROM booking_seats WHERE booking_id = $1 ORDER BY seat_id",
        )
        .bind(paid.id)
        .fetch_all(&mut **tx)
        .await?;
        claims::claim_again_for_good(tx, paid.showtime_id, paid.id, &seat_ids, now).await?
    } else {
        false
    };
    if !has_seats {
        if paid.status == Status::Pending {
            end_hold(tx, paid.id, Status::Expired, now).await?;
        }
        return Ok(Confirmation::SeatsGone);
    }
    let from = [Status::Pending, Status::Expired];
    if !transition(tx, paid.id, &from, Status::Confirmed, now).await? {
        return Ok(Confirmation::AlreadyMoved);
    }
    claims::make_permanent(tx, paid.id).await?;
    Ok(Confirmation::Confirmed)
}

/// Refunds a confirmed booking in `tx` and frees its seats. False when it was no longer
/// confirmed.
pub async fn refund_confirmed(
    tx: &mut Tx,
    id: BookingId,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let refunded = transition(tx, id, &[Status::Confirmed], Status::Refunded, now).await?;
    if refunded {
        claims::release(tx, id).await?;
    }
    Ok(refunded)
}
