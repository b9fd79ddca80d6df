//! Money moving: the one transition from a held booking to a paid one, late payments,
//! refunds, and the record of payment problems for staff.
//!
//! The browser's callback, the webhook and the reconciliation job all call `settle`, which
//! confirms the booking through the booking lifecycle (one conditional UPDATE), records the
//! payment under its unique Razorpay id and queues the confirmation email (deduplicated by
//! booking) in the same transaction. Whichever arrives second finds the work done.
//!
//! The facts stored here (currency, payment and refund statuses) are the domain's own; the
//! gateway (`src/payments`) maps what the provider answers onto them.

use serde::Deserialize;
use strum::{Display, EnumString, IntoStaticStr};
use time::OffsetDateTime;

use crate::db::decode::UnixSeconds;
use crate::db::{Db, Tx, unix};
use crate::domain::bookings::lifecycle::{self, Confirmation, PaidBooking};
use crate::domain::bookings::{self, Booking, Status};
use crate::domain::ids::{BookingId, OutboxId, PaymentId, RefundId};
use crate::domain::outbox::{self, NewEmail};

/// The currency of every order and payment.
pub const CURRENCY: &str = "INR";

/// Where a payment is, as the provider reports it and as `payments.status` stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, EnumString, IntoStaticStr, Display)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum PaymentStatus {
    Created,
    Authorized,
    Captured,
    Refunded,
    Failed,
}

crate::text_enum!(PaymentStatus);

/// Where a refund is (`refunds.status`, and the provider's word on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, EnumString, IntoStaticStr, Display)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum RefundStatus {
    Pending,
    Processed,
    Failed,
}

crate::text_enum!(RefundStatus);

/// What kind of payment problem an incident records (`payment_incidents.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, Display)]
#[strum(serialize_all = "snake_case")]
pub enum IncidentKind {
    /// A payment for an order we never made.
    UnknownOrder,
    /// A payment whose amount or currency is not the booking's.
    AmountMismatch,
    /// A Checkout callback whose payment belongs to another order.
    OrderMismatch,
    /// The provider could not carry out a refund.
    RefundFailed,
}

/// A payment as the provider reports it, in the domain's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderPayment {
    pub id: String,
    pub order_id: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub status: PaymentStatus,
}

/// What `settle` did with a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// The booking is now confirmed; `email` is the queued confirmation to deliver.
    Confirmed {
        booking_id: BookingId,
        email: Option<OutboxId>,
    },
    /// It was confirmed before (by the other path): nothing changed.
    AlreadyConfirmed { booking_id: BookingId },
    /// The money arrived but the booking cannot have it (seats gone, booking cancelled, a
    /// second payment): a refund was queued; `refund_id` is to be processed now.
    Refunding {
        booking_id: BookingId,
        refund_id: RefundId,
        email: Option<OutboxId>,
    },
    /// Amount, currency or order did not match: nothing confirmed, an incident recorded.
    Mismatch { detail: String },
}

/// Records a payment problem for staff to look at.
pub async fn record_incident(
    conn: &mut sqlx::AnyConnection,
    booking_id: Option<BookingId>,
    order_id: Option<&str>,
    payment_id: Option<&str>,
    kind: IncidentKind,
    detail: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    tracing::error!(
        %kind,
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
    .bind(<&str>::from(kind))
    .bind(detail)
    .bind(unix(now))
    .execute(conn)
    .await?;
    Ok(())
}

async fn enqueue(
    tx: &mut Tx,
    email: &NewEmail,
    now: OffsetDateTime,
) -> Result<Option<OutboxId>, sqlx::Error> {
    outbox::enqueue(tx, email, unix(now)).await
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
    let mut tx = db.begin_write().await?;
    let booking: Option<PaidBooking> = sqlx::query_as(
        "SELECT id, status, total_paise, hold_expires_at, showtime_id FROM bookings WHERE razorpay_order_id = $1",
    )
    .bind(&order_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(booking) = booking else {
        let detail = format!("payment {} for unknown order {order_id}", payment.id);
        record_incident(
            &mut tx,
            None,
            Some(&order_id),
            Some(&payment.id),
            IncidentKind::UnknownOrder,
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        return Ok(Settlement::Mismatch { detail });
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
            IncidentKind::AmountMismatch,
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        return Ok(Settlement::Mismatch { detail });
    }

    let inserted: Option<PaymentId> = sqlx::query_scalar(
        "INSERT INTO payments (booking_id, razorpay_payment_id, razorpay_order_id, amount_paise, currency, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (razorpay_payment_id) DO NOTHING RETURNING id",
    )
    .bind(booking.id)
    .bind(&payment.id)
    .bind(&order_id)
    .bind(payment.amount)
    .bind(&payment.currency)
    .bind(PaymentStatus::Captured.to_string())
    .bind(unix(now))
    .fetch_optional(&mut *tx)
    .await?;
    let payment_row_id: PaymentId = match inserted {
        Some(id) => id,
        None => {
            sqlx::query_scalar("SELECT id FROM payments WHERE razorpay_payment_id = $1")
                .bind(&payment.id)
                .fetch_one(&mut *tx)
                .await?
        }
    };
    let refund = |reason: &'static str| QueuedRefund {
        booking_id: booking.id,
        payment_row_id,
        amount: payment.amount,
        reason,
    };

    match booking.status {
        // Confirmed already: by this payment (a no-op), or by another one (refund this one).
        Status::Confirmed => {
            let confirmed_by: Option<PaymentId> =
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
            let second = refund("second payment for one booking");
            return refund_in(tx, &second, now, &refund_notice).await;
        }
        // A refund for this payment may exist already (duplicate delivery after a refund).
        Status::Refunded => {
            let late = refund("booking already refunded");
            return refund_in(tx, &late, now, &refund_notice).await;
        }
        Status::Pending | Status::Expired | Status::Cancelled => {}
    }

    match lifecycle::confirm_paid(&mut tx, &booking, now).await? {
        Confirmation::Confirmed => {}
        Confirmation::AlreadyMoved => {
            tx.commit().await?;
            return Ok(Settlement::AlreadyConfirmed {
                booking_id: booking.id,
            });
        }
        Confirmation::SeatsGone => {
            let reason = if booking.status == Status::Cancelled {
                "booking was cancelled before the payment arrived"
            } else {
                "seats were taken after the hold expired"
            };
            return refund_in(tx, &refund(reason), now, &refund_notice).await;
        }
    }
    let full = load_in(&mut tx, booking.id).await?;
    let email = enqueue(&mut tx, &confirmation(&full), now).await?;
    tx.commit().await?;
    tracing::info!(booking_id = %booking.id, payment_id = %payment.id, "booking confirmed");
    Ok(Settlement::Confirmed {
        booking_id: booking.id,
        email,
    })
}

/// Loads a booking inside a transaction (so it sees the transaction's own changes).
async fn load_in(tx: &mut Tx, booking_id: BookingId) -> Result<Booking, sqlx::Error> {
    bookings::find_by_id_in(tx, booking_id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// A refund to queue: all of a payment that a booking cannot keep.
struct QueuedRefund {
    booking_id: BookingId,
    payment_row_id: PaymentId,
    amount: i64,
    reason: &'static str,
}

/// Queues a refund of a payment inside `tx`, with its notice, and commits.
async fn refund_in(
    mut tx: Tx,
    refund: &QueuedRefund,
    now: OffsetDateTime,
    refund_notice: &impl Fn(&Booking, i64) -> NewEmail,
) -> Result<Settlement, sqlx::Error> {
    let QueuedRefund {
        booking_id,
        payment_row_id,
        amount,
        reason,
    } = *refund;
    let (refund_id, created) =
        queue_refund(&mut tx, booking_id, payment_row_id, amount, reason, now).await?;
    let email = if created {
        let full = load_in(&mut tx, booking_id).await?;
        enqueue(&mut tx, &refund_notice(&full, amount), now).await?
    } else {
        None
    };
    tx.commit().await?;
    tracing::warn!(%booking_id, reason, "payment will be refunded");
    Ok(Settlement::Refunding {
        booking_id,
        refund_id,
        email,
    })
}

/// Inserts the refund row of a payment (at most one per payment, ever). Returns its id and
/// whether it was created now.
async fn queue_refund(
    tx: &mut Tx,
    booking_id: BookingId,
    payment_row_id: PaymentId,
    amount: i64,
    reason: &str,
    now: OffsetDateTime,
) -> Result<(RefundId, bool), sqlx::Error> {
    let inserted: Option<RefundId> = sqlx::query_scalar(
        "INSERT INTO refunds (booking_id, payment_id, amount_paise, reason, idempotency_key, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (payment_id) DO NOTHING RETURNING id",
    )
    .bind(booking_id)
    .bind(payment_row_id)
    .bind(amount)
    .bind(reason)
    .bind(format!("refund-{payment_row_id}-{}", crate::domain::tokens::random_token(12)))
    .bind(RefundStatus::Pending.to_string())
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
    /// kept. Only while `Booking::refund_window_open`, and only by the booking's owner
    /// (`by_user`), whatever their role: staff refund through the admin pages.
    Customer {
        cutoff_hours: i64,
        by_user: crate::domain::ids::UserId,
    },
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
) -> Result<(RefundId, Option<OutboxId>), RefundError> {
    if booking.status_at(now) != Status::Confirmed {
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
            if !booking.refund_window_open(now, cutoff_hours) {
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
        && crate::domain::checkin::is_admitted_in(&mut tx, booking.id).await?
    {
        return Err(RefundError::Admitted);
    }
    let payment_row_id: Option<PaymentId> = sqlx::query_scalar(
        "SELECT MIN(id) FROM payments WHERE booking_id = $1 AND status = 'captured'",
    )
    .bind(booking.id)
    .fetch_one(&mut *tx)
    .await?;
    let Some(payment_row_id) = payment_row_id else {
        return Err(RefundError::NoPayment);
    };
    if !lifecycle::refund_confirmed(&mut tx, booking.id, now).await? {
        return Err(RefundError::NotConfirmed);
    }
    let (refund_id, created) =
        queue_refund(&mut tx, booking.id, payment_row_id, amount, reason, now).await?;
    let email = if created {
        let full = load_in(&mut tx, booking.id).await?;
        enqueue(&mut tx, &refund_notice(&full, amount), now).await?
    } else {
        None
    };
    tx.commit().await?;
    Ok((refund_id, email))
}

/// A refund waiting to be sent to the provider.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingRefund {
    pub id: RefundId,
    pub razorpay_payment_id: String,
    pub amount_paise: i64,
    pub idempotency_key: String,
}

/// Takes the lease on a pending refund so that only this process sends it for the next
/// minute. None when it is done or another process holds it.
pub async fn claim_refund(
    db: &Db,
    refund_id: RefundId,
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
    sqlx::query_as(
        "SELECT r.id, p.razorpay_payment_id, r.amount_paise, r.idempotency_key FROM refunds r \
         JOIN payments p ON p.id = r.payment_id WHERE r.id = $1",
    )
    .bind(refund_id)
    .fetch_one(db.writer())
    .await
    .map(Some)
}

/// Records the provider's acceptance of a refund.
pub async fn refund_sent(
    db: &Db,
    refund_id: RefundId,
    provider_refund_id: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE refunds SET status = $1, razorpay_refund_id = $2, claimed_until = NULL, last_error = NULL, updated_at = $3 \
         WHERE id = $4",
    )
    .bind(RefundStatus::Processed.to_string())
    .bind(provider_refund_id)
    .bind(unix(now))
    .bind(refund_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE payments SET status = $1 WHERE id = (SELECT payment_id FROM refunds WHERE id = $2)",
    )
    .bind(PaymentStatus::Refunded.to_string())
    .bind(refund_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Records a failed attempt; the lease is shortened to the retry delay.
pub async fn refund_attempt_failed(
    db: &Db,
    refund_id: RefundId,
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
pub async fn due_refunds(db: &Db, now: OffsetDateTime) -> Result<Vec<RefundId>, sqlx::Error> {
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
    outcome: RefundStatus,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let booking: Option<BookingId> = sqlx::query_scalar(
        "UPDATE refunds SET status = $1, updated_at = $2 WHERE razorpay_refund_id = $3 RETURNING booking_id",
    )
    .bind(outcome.to_string())
    .bind(unix(now))
    .bind(provider_refund_id)
    .fetch_optional(&mut *tx)
    .await?;
    if outcome == RefundStatus::Failed {
        record_incident(
            &mut tx,
            booking,
            None,
            None,
            IncidentKind::RefundFailed,
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
pub async fn attach_order(
    db: &Db,
    booking_id: BookingId,
    order_id: &str,
) -> Result<String, sqlx::Error> {
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

/// A pending booking with an order that the reconciliation job should ask about.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenOrder {
    #[sqlx(rename = "id")]
    pub booking_id: BookingId,
    #[sqlx(rename = "razorpay_order_id")]
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
    let candidates: Vec<OpenOrder> = sqlx::query_as(
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
    for order in candidates {
        let taken = sqlx::query(
            "UPDATE bookings SET reconcile_claimed_until = $1 WHERE id = $2 \
             AND (reconcile_claimed_until IS NULL OR reconcile_claimed_until < $3)",
        )
        .bind(now_s + 60)
        .bind(order.booking_id)
        .bind(now_s)
        .execute(db.writer())
        .await?;
        if taken.rows_affected() == 1 {
            claimed.push(order);
        }
    }
    Ok(claimed)
}

/// A payment of a booking as staff see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaymentRecord {
    pub razorpay_payment_id: String,
    pub amount_paise: i64,
    #[sqlx(try_from = "String")]
    pub status: PaymentStatus,
    #[sqlx(try_from = "UnixSeconds")]
    pub created_at: OffsetDateTime,
}

/// Payments of a booking for staff and tests, oldest first.
pub async fn payments_of(
    db: &Db,
    booking_id: BookingId,
) -> Result<Vec<PaymentRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT razorpay_payment_id, amount_paise, status, created_at FROM payments WHERE booking_id = $1 ORDER BY id",
    )
    .bind(booking_id)
    .fetch_all(db.reader())
    .await
}
