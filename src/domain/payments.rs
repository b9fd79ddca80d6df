//! Money moving: the one transition from a held booking to a paid one, late payments,
//! refunds, and the record of payment problems for staff.
//!
//! The browser's callback, the webhook and the reconciliation job all call `settle`, which
//! moves a booking from `pending` to `confirmed` with one conditional UPDATE, records the
//! payment under its unique Razorpay id and queues the confirmation email (deduplicated by
//! booking) in the same transaction. Whichever arrives second finds the work done.

use sqlx::Row;
use time::OffsetDateTime;

use crate::db::{Db, Tx, from_unix, is_unique_violation, placeholders, unix};
use crate::domain::bookings::{self, Booking};
use crate::domain::outbox::NewEmail;
use crate::payments::{CURRENCY, ProviderPayment};

/// What `settle` did with a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// The booking is now confirmed; `email` is the queued confirmation to deliver.
    Confirmed { booking_id: i64, email: Option<i64> },
    /// It was confirmed before (by the other path): nothing changed.
    AlreadyConfirmed { booking_id: i64 },
    /// The money arrived but the booking cannot have it (seats gone, booking cancelled, a
    /// second payment): a refund was queued; `refund_id` is to be processed now.
    Refunding {
        booking_id: i64,
        refund_id: i64,
        email: Option<i64>,
    },
    /// Amount, currency or order did not match: nothing confirmed, an incident recorded.
    Mismatch { detail: String },
}

/// Records a payment problem for staff to look at.
pub async fn record_incident(
    conn: &mut sqlx::AnyConnection,
    booking_id: Option<i64>,
    order_id: Option<&str>,
    payment_id: Option<&str>,
    kind: &str,
    detail: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    tracing::error!(
        kind,
        detail,
        ?booking_id,
        order_id,
        payment_id,
        "payment incident"
    );
    sqlx::query(
        "INSERT INTO payment_incidents (booking_id, razorpay_order_id, razorpay_payment_id, kind, detail, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(booking_id)
    .bind(order_id)
    .bind(payment_id)
    .bind(kind)
    .bind(detail)
    .bind(unix(now))
    .execute(conn)
    .await?;
    Ok(())
}

struct OrderBooking {
    id: i64,
    status: String,
    total_paise: i64,
    hold_expires_at: i64,
    showtime_id: i64,
}

/// Applies a captured payment to the booking that owns its order. Idempotent: the same
/// payment settled twice (callback + webhook, duplicated webhook, reconciliation) changes
/// the database once. `confirmation` and `refund_notice` build the emails to queue.
pub async fn settle(
    db: &Db,
    payment: &ProviderPayment,
    now: OffsetDateTime,
    confirmation: impl Fn(&Booking) -> NewEmail,
    refund_notice: impl Fn(&Booking, i64) -> NewEmail,
) -> Result<Settlement, sqlx::Error> {
    let Some(order_id) = payment.order_id.clone() else {
        return Ok(Settlement::Mismatch {
            detail: "payment has no order".into(),
        });
    };
    let now_s = unix(now);
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "SELECT id, status, total_paise, hold_expires_at, showtime_id FROM bookings WHERE razorpay_order_id = $1",
    )
    .bind(&order_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        let detail = format!("payment {} for unknown order {order_id}", payment.id);
        record_incident(
            &mut tx,
            None,
            Some(&order_id),
            Some(&payment.id),
            "unknown_order",
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        return Ok(Settlement::Mismatch { detail });
    };
    let booking = OrderBooking {
        id: row.try_get("id")?,
        status: row.try_get("status")?,
        total_paise: row.try_get("total_paise")?,
        hold_expires_at: row.try_get("hold_expires_at")?,
        showtime_id: row.try_get("showtime_id")?,
    };
    if payment.amount != booking.total_paise || payment.currency != CURRENCY {
        let detail = format!(
            "payment {} of {} {} does not match booking total {} {CURRENCY}",
            payment.id, payment.amount, payment.currency, booking.total_paise
        );
        record_incident(
            &mut tx,
            Some(booking.id),
            Some(&order_id),
            Some(&payment.id),
            "amount_mismatch",
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        return Ok(Settlement::Mismatch { detail });
    }

    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO payments (booking_id, razorpay_payment_id, razorpay_order_id, amount_paise, currency, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'captured', $6) ON CONFLICT (razorpay_payment_id) DO NOTHING RETURNING id",
    )
    .bind(booking.id)
    .bind(&payment.id)
    .bind(&order_id)
    .bind(payment.amount)
    .bind(&payment.currency)
    .bind(now_s)
    .fetch_optional(&mut *tx)
    .await?;
    let payment_row_id: i64 = match inserted {
        Some(id) => id,
        None => {
            sqlx::query_scalar("SELECT id FROM payments WHERE razorpay_payment_id = $1")
                .bind(&payment.id)
                .fetch_one(&mut *tx)
                .await?
        }
    };

    // Confirmed already: by this payment (a no-op), or by another one (refund this one).
    if booking.status == "confirmed" {
        let confirmed_by: Option<i64> =
            sqlx::query_scalar("SELECT MIN(id) FROM payments WHERE booking_id = $1")
                .bind(booking.id)
                .fetch_one(&mut *tx)
                .await?;
        if confirmed_by == Some(payment_row_id) {
            tx.commit().await?;
            return Ok(Settlement::AlreadyConfirmed {
                booking_id: booking.id,
            });
        }
        return refund_in(
            tx,
            booking.id,
            payment_row_id,
            payment.amount,
            "second payment for one booking",
            now,
            &refund_notice,
        )
        .await;
    }
    if booking.status == "refunded" {
        // A refund for this payment may exist already (duplicate delivery after a refund).
        return refund_in(
            tx,
            booking.id,
            payment_row_id,
            payment.amount,
            "booking already refunded",
            now,
            &refund_notice,
        )
        .await;
    }

    let hold_live = booking.status == "pending" && booking.hold_expires_at > now_s;
    let reclaimed = if hold_live {
        true
    } else if booking.status == "pending" || booking.status == "expired" {
        // Late payment: the seats are the booking's again if nobody took them meanwhile.
        reclaim_seats(&mut tx, booking.id, booking.showtime_id, now).await?
    } else {
        false
    };
    if !reclaimed {
        let reason = if booking.status == "cancelled" {
            "booking was cancelled before the payment arrived"
        } else {
            "seats were taken after the hold expired"
        };
        if booking.status == "pending" {
            sqlx::query("UPDATE bookings SET status = 'expired', closed_at = $1, updated_at = $1 WHERE id = $2 AND status = 'pending'")
                .bind(now_s)
                .bind(booking.id)
                .execute(&mut *tx)
                .await?;
            bookings::release_claims(&mut tx, booking.id).await?;
        }
        return refund_in(
            tx,
            booking.id,
            payment_row_id,
            payment.amount,
            reason,
            now,
            &refund_notice,
        )
        .await;
    }

    let confirmed = sqlx::query(
        "UPDATE bookings SET status = 'confirmed', confirmed_at = $1, updated_at = $1 \
         WHERE id = $2 AND status IN ('pending', 'expired')",
    )
    .bind(now_s)
    .bind(booking.id)
    .execute(&mut *tx)
    .await?;
    if confirmed.rows_affected() != 1 {
        tx.commit().await?;
        return Ok(Settlement::AlreadyConfirmed {
            booking_id: booking.id,
        });
    }
    sqlx::query("UPDATE seat_claims SET expires_at = NULL WHERE booking_id = $1")
        .bind(booking.id)
        .execute(&mut *tx)
        .await?;
    let full = load_in(&mut tx, booking.id).await?;
    let email = crate::domain::outbox::enqueue(&mut tx, &confirmation(&full), now_s).await?;
    tx.commit().await?;
    tracing::info!(booking_id = booking.id, payment_id = %payment.id, "booking confirmed");
    Ok(Settlement::Confirmed {
        booking_id: booking.id,
        email: email.map(Into::into),
    })
}

/// Loads a booking inside a transaction (so it sees the transaction's own changes).
async fn load_in(tx: &mut Tx, booking_id: i64) -> Result<Booking, sqlx::Error> {
    bookings::find_by_id_in(tx, booking_id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// Claims a late-paid booking's seats again, as confirmed. False when any seat now belongs
/// to someone else (nothing is changed then).
async fn reclaim_seats(
    tx: &mut Tx,
    booking_id: i64,
    showtime_id: i64,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let seat_ids: Vec<i64> = sqlx::query_scalar(
        "SELECT seat_id FROM booking_seats WHERE booking_id = $1 ORDER BY seat_id",
    )
    .bind(booking_id)
    .fetch_all(&mut **tx)
    .await?;
    if seat_ids.is_empty() {
        return Ok(false);
    }
    bookings::release_claims(tx, booking_id).await?;
    let list = placeholders(3, seat_ids.len());
    let sql = format!(
        "DELETE FROM seat_claims WHERE showtime_id = $1 AND expires_at IS NOT NULL AND expires_at <= $2 AND seat_id IN ({list})"
    );
    let mut release = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(showtime_id)
        .bind(unix(now));
    for id in &seat_ids {
        release = release.bind(*id);
    }
    release.execute(&mut **tx).await?;

    // A savepoint, so that losing the race undoes only this attempt (PostgreSQL aborts the
    // whole transaction on a unique violation otherwise).
    let mut attempt = sqlx::Connection::begin(&mut **tx).await?;
    let values = (0..seat_ids.len())
        .map(|i| format!("($1, ${}, $2, NULL)", 3 + i))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO seat_claims (showtime_id, seat_id, booking_id, expires_at) VALUES {values}"
    );
    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(showtime_id)
        .bind(booking_id);
    for id in &seat_ids {
        insert = insert.bind(*id);
    }
    match insert.execute(&mut *attempt).await {
        Ok(_) => {
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

/// Queues a refund of `amount` for a payment inside `tx`, with its notice, and commits.
async fn refund_in(
    mut tx: Tx,
    booking_id: i64,
    payment_row_id: i64,
    amount: i64,
    reason: &str,
    now: OffsetDateTime,
    refund_notice: &impl Fn(&Booking, i64) -> NewEmail,
) -> Result<Settlement, sqlx::Error> {
    let (refund_id, created) =
        queue_refund(&mut tx, booking_id, payment_row_id, amount, reason, now).await?;
    let email = if created {
        let full = load_in(&mut tx, booking_id).await?;
        crate::domain::outbox::enqueue(&mut tx, &refund_notice(&full, amount), unix(now)).await?
    } else {
        None
    };
    tx.commit().await?;
    tracing::warn!(booking_id, reason, "payment will be refunded");
    Ok(Settlement::Refunding {
        booking_id,
        refund_id,
        email: email.map(Into::into),
    })
}

/// Inserts the refund row of a payment (at most one per payment, ever). Returns its id and
/// whether it was created now.
async fn queue_refund(
    tx: &mut Tx,
    booking_id: i64,
    payment_row_id: i64,
    amount: i64,
    reason: &str,
    now: OffsetDateTime,
) -> Result<(i64, bool), sqlx::Error> {
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO refunds (booking_id, payment_id, amount_paise, reason, idempotency_key, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6) ON CONFLICT (payment_id) DO NOTHING RETURNING id",
    )
    .bind(booking_id)
    .bind(payment_row_id)
    .bind(amount)
    .bind(reason)
    .bind(format!("refund-{payment_row_id}-{}", crate::domain::tokens::random_token(12)))
    .bind(unix(now))
    .fetch_optional(&mut **tx)
    .await?;
    match inserted {
        Some(id) => Ok((id, true)),
        None => {
            let id = sqlx::query_scalar("SELECT id FROM refunds WHERE payment_id = $1")
                .bind(payment_row_id)
                .fetch_one(&mut **tx)
                .await?;
            Ok((id, false))
        }
    }
}

/// Why a confirmed booking could not be refunded.
#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("Only confirmed bookings can be refunded.")]
    NotConfirmed,
    #[error("Bookings can be cancelled up to {hours} hours before the show.")]
    TooLate { hours: i64 },
    #[error("This booking has no captured payment to refund.")]
    NoPayment,
    /// A moviegoer's cancellation of a booking that is not theirs.
    #[error("That booking is not yours.")]
    NotOwner,
    /// A moviegoer's cancellation of a ticket already used at the door.
    #[error("This ticket was used at the door, so it can no longer be cancelled.")]
    Admitted,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// How much of a booking goes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundPolicy {
    /// A moviegoer's own cancellation: the seats' price; the convenience fee and its GST are
    /// kept. Only until `cutoff_hours` before the show, and only by the booking's owner
    /// (`by_user`), whatever their role: staff refund through the admin pages.
    Customer { cutoff_hours: i64, by_user: i64 },
    /// Staff or a cancelled show: everything.
    Full,
}

/// Cancels a confirmed booking for a refund: frees its seats, queues the refund (sent by
/// `process_refund`) and its notice, all at once. Returns (refund id, notice email id).
pub async fn refund_booking(
    db: &Db,
    booking: &Booking,
    policy: RefundPolicy,
    reason: &str,
    now: OffsetDateTime,
    refund_notice: impl Fn(&Booking, i64) -> NewEmail,
) -> Result<(i64, Option<i64>), RefundError> {
    if booking.status != bookings::Status::Confirmed {
        return Err(RefundError::NotConfirmed);
    }
    let amount = match policy {
        RefundPolicy::Customer {
            cutoff_hours,
            by_user,
        } => {
            if booking.user_id != by_user {
                return Err(RefundError::NotOwner);
            }
            if now > booking.starts_at - time::Duration::hours(cutoff_hours) {
                return Err(RefundError::TooLate {
                    hours: cutoff_hours,
                });
            }
            booking.amount.seats_paise
        }
        RefundPolicy::Full => booking.amount.total_paise,
    };
    let mut tx = db.begin_write().await?;
    if matches!(policy, RefundPolicy::Customer { .. })
        && crate::domain::checkin::is_admitted_in(
            &mut tx,
            crate::domain::ids::BookingId(booking.id),
        )
        .await?
    {
        return Err(RefundError::Admitted);
    }
    let payment_row_id: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(id) FROM payments WHERE booking_id = $1 AND status = 'captured'",
    )
    .bind(booking.id)
    .fetch_one(&mut *tx)
    .await?;
    let Some(payment_row_id) = payment_row_id else {
        return Err(RefundError::NoPayment);
    };
    let changed = sqlx::query(
        "UPDATE bookings SET status = 'refunded', closed_at = $1, updated_at = $1 WHERE id = $2 AND status = 'confirmed'",
    )
    .bind(unix(now))
    .bind(booking.id)
    .execute(&mut *tx)
    .await?;
    if changed.rows_affected() != 1 {
        return Err(RefundError::NotConfirmed);
    }
    bookings::release_claims(&mut tx, booking.id).await?;
    let (refund_id, created) =
        queue_refund(&mut tx, booking.id, payment_row_id, amount, reason, now).await?;
    let email = if created {
        let full = load_in(&mut tx, booking.id).await?;
        crate::domain::outbox::enqueue(&mut tx, &refund_notice(&full, amount), unix(now)).await?
    } else {
        None
    };
    tx.commit().await?;
    Ok((refund_id, email.map(Into::into)))
}

/// A refund waiting to be sent to the provider.
#[derive(Debug, Clone)]
pub struct PendingRefund {
    pub id: i64,
    pub razorpay_payment_id: String,
    pub amount_paise: i64,
    pub idempotency_key: String,
}

/// Takes the lease on a pending refund so that only this process sends it for the next
/// minute. None when it is done or another process holds it.
pub async fn claim_refund(
    db: &Db,
    refund_id: i64,
    now: OffsetDateTime,
) -> Result<Option<PendingRefund>, sqlx::Error> {
    let now_s = unix(now);
    let claimed = sqlx::query(
        "UPDATE refunds SET claimed_until = $1, attempts = attempts + 1, updated_at = $2 \
         WHERE id = $3 AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < $2)",
    )
    .bind(now_s + 60)
    .bind(now_s)
    .bind(refund_id)
    .execute(db.writer())
    .await?;
    if claimed.rows_affected() != 1 {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT r.id, p.razorpay_payment_id, r.amount_paise, r.idempotency_key FROM refunds r \
         JOIN payments p ON p.id = r.payment_id WHERE r.id = $1",
    )
    .bind(refund_id)
    .fetch_one(db.writer())
    .await?;
    Ok(Some(PendingRefund {
        id: row.try_get("id")?,
        razorpay_payment_id: row.try_get("razorpay_payment_id")?,
        amount_paise: row.try_get("amount_paise")?,
        idempotency_key: row.try_get("idempotency_key")?,
    }))
}

/// Records the provider's acceptance of a refund.
pub async fn refund_sent(
    db: &Db,
    refund_id: i64,
    provider_refund_id: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE refunds SET status = 'processed', razorpay_refund_id = $1, claimed_until = NULL, last_error = NULL, updated_at = $2 \
         WHERE id = $3",
    )
    .bind(provider_refund_id)
    .bind(unix(now))
    .bind(refund_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE payments SET status = 'refunded' WHERE id = (SELECT payment_id FROM refunds WHERE id = $1)")
        .bind(refund_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Records a failed attempt; the lease is shortened to the retry delay.
pub async fn refund_attempt_failed(
    db: &Db,
    refund_id: i64,
    error: &str,
    retry_in_seconds: i64,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE refunds SET last_error = $1, claimed_until = $2, updated_at = $3 WHERE id = $4 AND status = 'pending'")
        .bind(error)
        .bind(unix(now) + retry_in_seconds)
        .bind(unix(now))
        .bind(refund_id)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// Pending refunds whose lease is free (the retry job's work list).
pub async fn due_refunds(db: &Db, now: OffsetDateTime) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM refunds WHERE status = 'pending' AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY id LIMIT 50",
    )
    .bind(unix(now))
    .fetch_all(db.reader())
    .await
}

/// A webhook's refund outcome (`refund.processed` / `refund.failed`).
pub async fn refund_outcome(
    db: &Db,
    provider_refund_id: &str,
    processed: bool,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let status = if processed { "processed" } else { "failed" };
    let mut tx = db.begin_write().await?;
    let booking: Option<i64> = sqlx::query_scalar(
        "UPDATE refunds SET status = $1, updated_at = $2 WHERE razorpay_refund_id = $3 RETURNING booking_id",
    )
    .bind(status)
    .bind(unix(now))
    .bind(provider_refund_id)
    .fetch_optional(&mut *tx)
    .await?;
    if !processed {
        record_incident(
            &mut tx,
            booking,
            None,
            None,
            "refund_failed",
            &format!("refund {provider_refund_id} failed at the provider"),
            now,
        )
        .await?;
    }
    tx.commit().await
}

/// Remembers a webhook delivery; false when this event id was handled before.
pub async fn first_delivery(
    db: &Db,
    event_id: &str,
    event_type: &str,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO webhook_events (event_id, event_type, received_at) VALUES ($1, $2, $3) \
         ON CONFLICT (event_id) DO NOTHING RETURNING id",
    )
    .bind(event_id)
    .bind(event_type)
    .bind(unix(now))
    .fetch_optional(db.writer())
    .await?;
    Ok(inserted.is_some())
}

/// Whether a webhook event id was handled already.
pub async fn seen_delivery(db: &Db, event_id: &str) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM webhook_events WHERE event_id = $1")
            .bind(event_id)
            .fetch_optional(db.reader())
            .await?;
    Ok(found.is_some())
}

/// Stores the provider order of a booking unless it has one; returns the order id in force.
pub async fn attach_order(db: &Db, booking_id: i64, order_id: &str) -> Result<String, sqlx::Error> {
    sqlx::query(
        "UPDATE bookings SET razorpay_order_id = $1 WHERE id = $2 AND razorpay_order_id IS NULL",
    )
    .bind(order_id)
    .bind(booking_id)
    .execute(db.writer())
    .await?;
    sqlx::query_scalar::<_, Option<String>>("SELECT razorpay_order_id FROM bookings WHERE id = $1")
        .bind(booking_id)
        .fetch_one(db.writer())
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// Extends a pending hold to `until`, once per booking, so that nobody loses seats halfway
/// through paying (and nobody can hold seats forever by retrying). True when extended.
pub async fn extend_hold_once(
    db: &Db,
    booking_id: i64,
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
        sqlx::query("UPDATE seat_claims SET expires_at = $1 WHERE booking_id = $2 AND expires_at IS NOT NULL")
            .bind(unix(until))
            .bind(booking_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(extended)
}

/// A pending booking with an order that the reconciliation job should ask about.
#[derive(Debug, Clone)]
pub struct OpenOrder {
    pub booking_id: i64,
    pub order_id: String,
    pub total_paise: i64,
}

/// Claims up to `limit` pending bookings with an order whose hold is recent (or expired
/// within the last hour), one lease each, for the reconciliation job.
pub async fn claim_open_orders(
    db: &Db,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<OpenOrder>, sqlx::Error> {
    let now_s = unix(now);
    let candidates: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT id, razorpay_order_id, total_paise FROM bookings WHERE razorpay_order_id IS NOT NULL \
         AND status IN ('pending', 'expired') AND hold_expires_at > $1 AND created_at < $2 \
         AND (reconcile_claimed_until IS NULL OR reconcile_claimed_until < $3) ORDER BY id LIMIT $4",
    )
    .bind(now_s - 3600)
    .bind(now_s - 30)
    .bind(now_s)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    let mut claimed = Vec::new();
    for (booking_id, order_id, total_paise) in candidates {
        let taken = sqlx::query(
            "UPDATE bookings SET reconcile_claimed_until = $1 WHERE id = $2 \
             AND (reconcile_claimed_until IS NULL OR reconcile_claimed_until < $3)",
        )
        .bind(now_s + 60)
        .bind(booking_id)
        .bind(now_s)
        .execute(db.writer())
        .await?;
        if taken.rows_affected() == 1 {
            claimed.push(OpenOrder {
                booking_id,
                order_id,
                total_paise,
            });
        }
    }
    Ok(claimed)
}

/// Payments of a booking for staff and tests: (provider id, amount, status, time).
pub async fn payments_of(
    db: &Db,
    booking_id: i64,
) -> Result<Vec<(String, i64, String, OffsetDateTime)>, sqlx::Error> {
    let rows: Vec<(String, i64, String, i64)> = sqlx::query_as(
        "SELECT razorpay_payment_id, amount_paise, status, created_at FROM payments WHERE booking_id = $1 ORDER BY id",
    )
    .bind(booking_id)
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(a, b, c, d)| (a, b, c, from_unix(d)))
        .collect())
}
