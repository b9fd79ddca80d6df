//! Paying for a held booking: the payment page (Razorpay Checkout, or the development
//! gateway without keys), the Checkout callback, and the development gateway's "fail".

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use crate::domain::bookings::{PublicId, Status};
use crate::domain::pricing::format_rupees;
use crate::domain::tokens::random_token;
use crate::error::{AppError, AppResult};
use crate::payments::flow::{CheckoutOrder, PaymentError};
use crate::payments::signature;
use crate::state::AppState;
use crate::web::auth::CurrentUser;
use crate::web::extract::IdPath;
use crate::web::page::{Level, Page, flash};
use crate::web::rate_limit;

#[derive(Template)]
#[template(path = "booking/pay.html")]
struct PayPage {
    page: Page,
    order: CheckoutOrder,
    public_id: String,
    movie_title: String,
    amount: String,
    prefill_name: String,
    prefill_email: String,
    /// Development gateway only: a payment id and its signature, made here as Razorpay
    /// would, and checked by the same code as a real callback.
    dev_payment_id: String,
    dev_signature: String,
    deadline_unix: i64,
}

#[derive(Template)]
#[template(path = "booking/payment_problem.html")]
struct ProblemPage {
    page: Page,
    title: String,
    message: String,
    retry_url: Option<String>,
}

fn problem(
    page: Page,
    status: StatusCode,
    title: &str,
    message: String,
    retry_url: Option<String>,
) -> AppResult<Response> {
    let html = ProblemPage {
        page,
        title: title.to_owned(),
        message,
        retry_url,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

/// `POST /bookings/{id}/pay`: opens (or reuses) the order and shows the payment page.
pub async fn pay(
    State(state): State<AppState>,
    IdPath(public_id): IdPath<PublicId>,
    user: CurrentUser,
    page: Page,
) -> AppResult<Response> {
    state
        .limiter
        .check(rate_limit::Limit::Payment, &format!("user:{}", user.0.id))?;
    let booking = user.booking(&state, &public_id).await?;
    let checkout_url = format!("/bookings/{public_id}/checkout");
    let order = match state.payment_flow().start(&booking).await {
        Ok(order) => order,
        Err(PaymentError::HoldEnded) => {
            return problem(
                page,
                StatusCode::CONFLICT,
                "Your hold has ended",
                PaymentError::HoldEnded.to_string(),
                Some(format!("/showtimes/{}/seats", booking.showtime_id)),
            );
        }
        Err(error @ PaymentError::ProviderDown(_)) => {
            return problem(
                page,
                StatusCode::SERVICE_UNAVAILABLE,
                "Please try again",
                error.to_string(),
                Some(checkout_url),
            );
        }
        Err(other) => return Err(other.into()),
    };
    let (dev_payment_id, dev_signature) = if order.development {
        let payment_id = format!("pay_dev_{}", random_token(14).replace(['-', '_'], "x"));
        let signed = signature::sign(
            state.payments.key_secret(),
            signature::checkout_message(&order.order_id, &payment_id).as_bytes(),
        );
        (payment_id, signed)
    } else {
        (String::new(), String::new())
    };
    let template = PayPage {
        deadline_unix: state.clock.unix_now() + order.timeout_seconds,
        amount: format_rupees(order.amount_paise),
        public_id: public_id.to_string(),
        movie_title: booking.movie_title.clone(),
        prefill_name: user.0.name.clone(),
        prefill_email: user.0.email.clone(),
        order,
        page,
        dev_payment_id,
        dev_signature,
    };
    Ok(Html(template.render()?).into_response())
}

#[derive(Deserialize)]
pub struct CheckoutSuccess {
    razorpay_order_id: String,
    razorpay_payment_id: String,
    razorpay_signature: String,
}

/// `POST /payments/razorpay/callback`: Checkout's success handler posts here. Exempt from
/// CSRF (it may arrive cross-site, without our cookie): the signature is the authentication.
pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    page: Page,
    Form(success): Form<CheckoutSuccess>,
) -> AppResult<Response> {
    let flow = state.payment_flow();
    match flow
        .complete_checkout(
            &success.razorpay_order_id,
            &success.razorpay_payment_id,
            &success.razorpay_signature,
        )
        .await
    {
        Ok(booking) => {
            let message = match booking.status {
                Status::Confirmed => {
                    "Payment received. Your booking is confirmed and your ticket is on its way by email."
                }
                _ => {
                    "We received your payment, but the seats were no longer available, so it will be refunded in full. We have emailed you the details."
                }
            };
            flash(
                &session,
                if booking.status == Status::Confirmed {
                    Level::Success
                } else {
                    Level::Error
                },
                message,
            )
            .await;
            Ok(Redirect::to(&format!("/bookings/{}", booking.public_id)).into_response())
        }
        Err(PaymentError::BadSignature) => Err(AppError::bad_request(
            "The payment details could not be verified. Nothing was changed.",
        )),
        Err(error @ (PaymentError::Processing | PaymentError::Mismatch)) => problem(
            page,
            StatusCode::ACCEPTED,
            "Payment is being processed",
            error.to_string(),
            Some("/bookings".into()),
        ),
        Err(other) => Err(other.into()),
    }
}

/// `POST /bookings/{id}/pay/fail`: the development gateway's "Fail" button.
pub async fn dev_fail(
    State(state): State<AppState>,
    IdPath(public_id): IdPath<PublicId>,
    user: CurrentUser,
    session: Session,
) -> AppResult<Redirect> {
    if !state.payments.is_development() {
        return Err(AppError::NotFound);
    }
    // The same owner check as every booking route: someone else's or a malformed id is 404.
    let booking = user.booking(&state, &public_id).await?;
    flash(
        &session,
        Level::Error,
        "The payment failed (development gateway). Your seats are still held; you can try again.",
    )
    .await;
    Ok(Redirect::to(&format!(
        "/bookings/{}/checkout",
        booking.public_id
    )))
}
