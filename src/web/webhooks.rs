//! `POST /payments/razorpay/webhook`: Razorpay telling us what happened, for when the
//! browser never came back. Authenticated by `X-Razorpay-Signature` over the raw body
//! (checked before parsing), deduplicated by `X-Razorpay-Event-Id`, answered quickly.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;

use crate::domain::payments::{self, PaymentStatus, RefundStatus};
use crate::error::{AppError, AppResult};
use crate::payments::{RazorpayPayment, WebhookEvent};
use crate::state::AppState;

#[derive(Deserialize)]
struct Event {
    event: String,
    #[serde(default)]
    payload: Payload,
}

#[derive(Deserialize, Default)]
struct Payload {
    payment: Option<Entity<RazorpayPayment>>,
    refund: Option<Entity<RefundEntity>>,
}

#[derive(Deserialize)]
struct Entity<T> {
    entity: T,
}

#[derive(Deserialize)]
struct RefundEntity {
    id: String,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

pub async fn razorpay(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<impl IntoResponse> {
    let signature = header(&headers, "x-razorpay-signature")
        .ok_or_else(|| AppError::bad_request("missing signature"))?;
    if !state.payments.verify_webhook(&body, signature) {
        tracing::warn!("webhook with a bad signature refused");
        return Err(AppError::bad_request("bad signature"));
    }
    let event_id = header(&headers, "x-razorpay-event-id")
        .ok_or_else(|| AppError::bad_request("missing event id"))?
        .to_owned();
    if payments::seen_delivery(&state.db, &event_id).await? {
        return Ok(StatusCode::OK);
    }
    let event: Event =
        serde_json::from_slice(&body).map_err(|_| AppError::bad_request("unreadable event"))?;
    tracing::info!(event = %event.event, %event_id, "webhook received");
    let now = state.clock.now();
    match event.event.parse::<WebhookEvent>() {
        Ok(WebhookEvent::PaymentCaptured | WebhookEvent::OrderPaid) => {
            if let Some(payment) = event
                .payload
                .payment
                .and_then(|Entity { entity }| entity.into_payment())
                && payment.status == PaymentStatus::Captured
            {
                // Razorpay wants an answer within a second: record the settlement now, and
                // send the email or refund that follows without keeping the webhook waiting
                // (both are queued in the database, so nothing is lost if this stops).
                let flow = state.payment_flow();
                let outcome = flow.record_settlement(&payment).await?;
                tokio::spawn(async move { flow.follow_up(&outcome).await });
            }
        }
        Ok(WebhookEvent::PaymentFailed) => {
            if let Some(Entity { entity: payment }) = event.payload.payment {
                tracing::warn!(payment_id = %payment.id, order_id = ?payment.order_id, "payment failed");
                crate::metrics::record_payment_failure("failed");
            }
        }
        Ok(outcome @ (WebhookEvent::RefundProcessed | WebhookEvent::RefundFailed)) => {
            if let Some(Entity { entity: refund }) = event.payload.refund {
                let status = if outcome == WebhookEvent::RefundProcessed {
                    RefundStatus::Processed
                } else {
                    RefundStatus::Failed
                };
                payments::refund_outcome(&state.db, &refund.id, status, now).await?;
            }
        }
        // payment.authorized and everything else: never confirms anything.
        Ok(WebhookEvent::PaymentAuthorized) | Err(_) => {}
    }
    payments::first_delivery(&state.db, &event_id, &event.event, now).await?;
    Ok(StatusCode::OK)
}
