//! JSON API for paying: open the order for Checkout, verify Checkout's success.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::bookings::PublicId;
use crate::error::{AppError, AppResult};
use crate::payments::flow;
use crate::state::AppState;
use crate::web::api::bookings::booking_object;
use crate::web::auth::CurrentUser;
use crate::web::extract::IdPath;
use crate::web::rate_limit;

/// `POST /api/v1/bookings/{id}/payment`.
pub async fn start(
    State(state): State<AppState>,
    IdPath(public_id): IdPath<PublicId>,
    user: CurrentUser,
) -> AppResult<Json<flow::CheckoutOrder>> {
    state
        .limiter
        .check(rate_limit::Limit::Payment, &format!("user:{}", user.0.id))?;
    let booking = user.booking(&state, &public_id).await?;
    Ok(Json(state.payment_flow().start(&booking).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verify {
    razorpay_order_id: String,
    razorpay_payment_id: String,
    razorpay_signature: String,
}

/// `POST /api/v1/bookings/{id}/payment/verify`.
pub async fn verify(
    State(state): State<AppState>,
    IdPath(public_id): IdPath<PublicId>,
    user: CurrentUser,
    Json(body): Json<Verify>,
) -> AppResult<Json<Value>> {
    let booking = user.booking(&state, &public_id).await?;
    if booking.razorpay_order_id.as_deref() != Some(body.razorpay_order_id.as_str()) {
        return Err(AppError::bad_request(
            "The payment details could not be verified.",
        ));
    }
    let booking = state
        .payment_flow()
        .complete_checkout(
            &body.razorpay_order_id,
            &body.razorpay_payment_id,
            &body.razorpay_signature,
        )
        .await?;
    Ok(Json(
        json!({ "booking": booking_object(&state, &booking).await? }),
    ))
}
