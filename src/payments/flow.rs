//! The payment flow as the web layer and the jobs use it: open an order for a held booking,
//! verify what Checkout or a webhook reports, settle it in the database, send the emails and
//! refunds that follow. Glue between the provider (`payments`), the rules (`domain`) and the
//! mailer; no SQL and no HTTP types here.
//!
//! `PaymentFlow` carries exactly what that needs (database, gateway, mailer, clock and the
//! two settings it reads), not the whole application state, so the dependencies stay
//! one-way: web builds it, this module uses the domain and the gateway.

use std::time::Duration;

use time::OffsetDateTime;
use url::Url;

use crate::clock::Clock;
use crate::db::Db;
use crate::domain::bookings::{self, Booking, Status, lifecycle};
use crate::domain::ids::{OutboxId, RefundId};
use crate::domain::payments::{
    self, CURRENCY, IncidentKind, PaymentStatus, ProviderPayment, RefundPolicy, Settlement,
};
use crate::domain::ticket_keys;
use crate::email::{Mailer, tickets};
use crate::payments::{Gateway, GatewayError};

/// What the payment flow works with. Cheap to clone (everything inside is shared).
#[derive(Clone)]
pub struct PaymentFlow {
    pub db: Db,
    pub gateway: Gateway,
    pub mailer: Mailer,
    pub clock: Clock,
    /// How long a customer has to pay once Checkout opens (the hold is extended once to it).
    pub payment_window: Duration,
    /// Where links in emails point.
    pub base_url: Url,
}

/// What Checkout needs to take a payment.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckoutOrder {
    pub provider: &'static str,
    pub key_id: String,
    pub order_id: String,
    pub amount_paise: i64,
    pub currency: &'static str,
    pub booking_code: String,
    /// Seconds left on the hold: Checkout's own timeout, so payment fits inside the hold.
    #[serde(skip)]
    pub timeout_seconds: i64,
    #[serde(skip)]
    pub development: bool,
}

/// Why a payment could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("The hold on these seats has ended. Please choose your seats again.")]
    HoldEnded,
    #[error("The payment details could not be verified.")]
    BadSignature,
    #[error(
        "Payments are briefly unavailable. Your seats are still held; please try again in a moment."
    )]
    ProviderDown(#[source] GatewayError),
    #[error("Your payment is being processed. We will email you as soon as it is confirmed.")]
    Processing,
    #[error(
        "The payment did not match this booking and was not applied. Our staff have been alerted."
    )]
    Mismatch,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl PaymentFlow {
    async fn deliver(&self, email: OutboxId) {
        self.mailer.deliver(email).await;
    }

    /// Opens (or reuses) the provider order of a pending booking. The hold is extended once
    /// to the payment window when less than that is left.
    pub async fn start(&self, booking: &Booking) -> Result<CheckoutOrder, PaymentError> {
        let now = self.clock.now();
        if !booking.hold_is_live(now) {
            return Err(PaymentError::HoldEnded);
        }
        let mut hold_until = booking.hold_expires_at;
        if booking.hold_expires_at - now < self.payment_window && !booking.hold_extended {
            let until = now + self.payment_window;
            if lifecycle::extend_hold_once(&self.db, booking.id, until, now).await? {
                hold_until = until;
            }
        }
        let order_id = match &booking.razorpay_order_id {
            Some(existing) => existing.clone(),
            None => {
                let order = self
                    .gateway
                    .create_order(booking.amount.total_paise, booking.code.as_str(), booking.id)
                    .await
                    .map_err(|error| {
                        tracing::warn!(booking_id = %booking.id, %error, "could not create a payment order");
                        PaymentError::ProviderDown(error)
                    })?;
                tracing::info!(booking_id = %booking.id, order_id = %order.id, "payment order created");
                payments::attach_order(&self.db, booking.id, &order.id).await?
            }
        };
        Ok(CheckoutOrder {
            provider: "razorpay",
            key_id: self.gateway.key_id().to_owned(),
            order_id,
            amount_paise: booking.amount.total_paise,
            currency: CURRENCY,
            booking_code: booking.code.to_string(),
            timeout_seconds: (hold_until - now).whole_seconds().max(60),
            development: self.gateway.is_development(),
        })
    }

    /// Handles what Checkout posts back on success: the signature over the stored order id
    /// and the payment id must be ours, then the provider's word on the payment decides.
    pub async fn complete_checkout(
        &self,
        order_id: &str,
        payment_id: &str,
        signature: &str,
    ) -> Result<Booking, PaymentError> {
        let booking = bookings::find_by_order(&self.db, order_id)
            .await?
            .ok_or(PaymentError::BadSignature)?;
        let stored_order = booking.razorpay_order_id.as_deref().unwrap_or_default();
        if !self
            .gateway
            .verify_checkout(stored_order, payment_id, signature)
        {
            tracing::warn!(
                booking_id = %booking.id,
                "checkout callback with a bad signature"
            );
            return Err(PaymentError::BadSignature);
        }
        if booking.status == Status::Confirmed {
            return Ok(booking);
        }
        let mut payment = self
            .gateway
            .fetch_payment(payment_id, stored_order, booking.amount.total_paise)
            .await
            .map_err(|_| PaymentError::Processing)?;
        if payment.order_id.as_deref() != Some(stored_order) {
            let mut conn = self.db.writer().acquire().await?;
            payments::record_incident(
                &mut conn,
                Some(booking.id),
                Some(stored_order),
                Some(payment_id),
                IncidentKind::OrderMismatch,
                "the payment belongs to another order",
                self.clock.now(),
            )
            .await?;
            return Err(PaymentError::Mismatch);
        }
        if payment.status == PaymentStatus::Authorized {
            payment = self
                .gateway
                .capture(payment_id, booking.amount.total_paise)
                .await
                .map_err(|_| PaymentError::Processing)?;
        }
        if payment.status != PaymentStatus::Captured {
            return Err(PaymentError::Processing);
        }
        let outcome = self.record_settlement(&payment).await?;
        self.follow_up_briefly(&outcome).await;
        match outcome {
            Settlement::Mismatch { .. } => Err(PaymentError::Mismatch),
            _ => bookings::find_by_id(&self.db, booking.id)
                .await?
                .ok_or(PaymentError::Mismatch),
        }
    }

    /// `follow_up` in a task of its own, waited for at most `FOLLOW_UP_WAIT`. Past that the
    /// task carries on; the email and refund are queued in the database either way.
    async fn follow_up_briefly(&self, outcome: &Settlement) {
        let background = self.clone();
        let outcome = outcome.clone();
        let task = tokio::spawn(async move { background.follow_up(&outcome).await });
        if tokio::time::timeout(FOLLOW_UP_WAIT, task).await.is_err() {
            tracing::warn!(
                wait_seconds = FOLLOW_UP_WAIT.as_secs(),
                "the email after a payment is still being sent; the customer was not kept waiting"
            );
        }
    }

    /// Settles a captured payment and then does what follows outside the transaction:
    /// sends the confirmation email, or sends the refund and its notice.
    pub async fn settle(&self, payment: &ProviderPayment) -> Result<Settlement, sqlx::Error> {
        let outcome = self.record_settlement(payment).await?;
        self.follow_up(&outcome).await;
        Ok(outcome)
    }

    /// Settles a payment in the database only; `follow_up` does what must happen next.
    pub async fn record_settlement(
        &self,
        payment: &ProviderPayment,
    ) -> Result<Settlement, sqlx::Error> {
        let now = self.clock.now();
        let base_url = &self.base_url;
        // The key is read before the write transaction (from memory after the first time),
        // so the confirmation email can sign the ticket without another query inside it.
        let (_, ticket_key) = ticket_keys::signing_key(&self.db, crate::db::unix(now)).await?;
        let outcome = payments::settle(
            &self.db,
            payment,
            now,
            |b| {
                // `b` was just confirmed in the transaction, so it always has a token.
                let token = ticket_keys::sign_booking(b, &ticket_key).unwrap_or_default();
                tickets::confirmation(b, &token, base_url, now)
            },
            |b, amount| tickets::refund_notice(b, amount, base_url),
        )
        .await?;
        if let Settlement::Mismatch { .. } = outcome {
            crate::metrics::record_payment_failure("mismatch");
        }
        Ok(outcome)
    }

    /// After a settlement committed: send the confirmation, or the refund and its notice.
    /// Both are already queued in the database, so if this process dies here the outbox and
    /// refund jobs finish the work.
    pub async fn follow_up(&self, outcome: &Settlement) {
        match outcome {
            Settlement::Confirmed {
                email: Some(id), ..
            } => self.deliver(*id).await,
            Settlement::Refunding {
                refund_id, email, ..
            } => {
                self.send_refund(*refund_id).await;
                if let Some(id) = email {
                    self.deliver(*id).await;
                }
            }
            _ => {}
        }
    }

    /// Cancels a confirmed booking with a refund under `policy`.
    pub async fn refund(
        &self,
        booking: &Booking,
        policy: RefundPolicy,
        reason: &str,
    ) -> Result<(), payments::RefundError> {
        let now = self.clock.now();
        let base_url = &self.base_url;
        let (refund_id, email) =
            payments::refund_booking(&self.db, booking, policy, reason, now, |b, amount| {
                tickets::refund_notice(b, amount, base_url)
            })
            .await?;
        self.send_refund(refund_id).await;
        if let Some(id) = email {
            self.deliver(id).await;
        }
        Ok(())
    }

    /// Sends one queued refund to the provider if this process can take its lease. Failures
    /// stay queued for the retry job; the idempotency key makes a resend refund once.
    pub async fn send_refund(&self, refund_id: RefundId) {
        let now = self.clock.now();
        let claimed = match payments::claim_refund(&self.db, refund_id, now).await {
            Ok(Some(refund)) => refund,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(%refund_id, %error, "could not claim a refund");
                return;
            }
        };
        let result = self
            .gateway
            .refund(
                &claimed.razorpay_payment_id,
                claimed.amount_paise,
                &claimed.idempotency_key,
            )
            .await;
        let recorded = match result {
            Ok(provider_refund) => {
                tracing::info!(%refund_id, provider_refund_id = %provider_refund.id, "refund sent");
                payments::refund_sent(&self.db, refund_id, &provider_refund.id, now).await
            }
            Err(error) => {
                tracing::warn!(%refund_id, %error, "refund not sent yet; will retry");
                payments::refund_attempt_failed(&self.db, refund_id, &error.to_string(), 30, now)
                    .await
            }
        };
        if let Err(error) = recorded {
            tracing::error!(%refund_id, %error, "could not record a refund attempt");
        }
    }

    /// Background job: retries refunds that are due, and asks the provider about recent open
    /// orders so that a closed tab plus a lost webhook still ends confirmed.
    pub async fn run_jobs(&self, now: OffsetDateTime) {
        match payments::due_refunds(&self.db, now).await {
            Ok(ids) => {
                for id in ids {
                    self.send_refund(id).await;
                }
            }
            Err(error) => tracing::warn!(%error, "could not list due refunds"),
        }
        if self.gateway.is_development() {
            return;
        }
        let open = match payments::claim_open_orders(&self.db, now, 20).await {
            Ok(open) => open,
            Err(error) => {
                tracing::warn!(%error, "could not claim open orders");
                return;
            }
        };
        for order in open {
            let found = match self.gateway.order_payments(&order.order_id).await {
                Ok(found) => found,
                Err(error) => {
                    tracing::warn!(booking_id = %order.booking_id, %error, "reconciliation could not reach the provider");
                    continue;
                }
            };
            for mut payment in found {
                if payment.status == PaymentStatus::Authorized {
                    match self.gateway.capture(&payment.id, order.total_paise).await {
                        Ok(captured) => payment = captured,
                        Err(_) => continue,
                    }
                }
                if payment.status == PaymentStatus::Captured {
                    if payment.order_id.is_none() {
                        payment.order_id = Some(order.order_id.clone());
                    }
                    if let Err(error) = self.settle(&payment).await {
                        tracing::warn!(booking_id = %order.booking_id, %error, "reconciliation could not settle");
                    }
                }
            }
        }
    }
}

/// How long the customer coming back from Checkout waits for the email (or refund) that
/// follows their payment. A healthy mail server answers well within it; a slow one finishes
/// in the background rather than holding the customer's redirect for its whole timeout.
const FOLLOW_UP_WAIT: Duration = Duration::from_secs(2);
