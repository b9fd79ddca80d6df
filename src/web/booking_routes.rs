//! Routes of the booking area: seat maps, holds, checkout, payment and the moviegoer's
//! bookings, as pages and as JSON.

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;
use crate::web::{api, pages, webhooks};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/showtimes/{id}/seats", get(pages::seat_map::show))
        .route("/showtimes/{id}/hold", post(pages::seat_map::hold))
        .route("/bookings", get(pages::bookings::list))
        .route("/bookings/{id}", get(pages::bookings::detail))
        .route("/bookings/{id}/checkout", get(pages::bookings::checkout))
        .route("/bookings/{id}/qr.svg", get(pages::bookings::qr))
        .route(
            "/bookings/{id}/calendar.ics",
            get(pages::bookings::calendar),
        )
        .route("/bookings/{id}/cancel", post(pages::bookings::cancel))
        .route("/bookings/{id}/pay", post(pages::payments::pay))
        .route("/bookings/{id}/pay/fail", post(pages::payments::dev_fail))
        .route(
            "/payments/razorpay/callback",
            post(pages::payments::callback),
        )
        .route("/payments/razorpay/webhook", post(webhooks::razorpay))
        .route("/api/v1/bookings/{id}/payment", post(api::payments::start))
        .route(
            "/api/v1/bookings/{id}/payment/verify",
            post(api::payments::verify),
        )
        .route("/api/v1/showtimes/{id}/seats", get(api::bookings::seats))
        .route("/api/v1/showtimes/{id}/holds", post(api::bookings::hold))
        .route("/api/v1/bookings", get(api::bookings::list))
        .route("/api/v1/bookings/{id}", get(api::bookings::detail))
        .route("/api/v1/bookings/{id}/cancel", post(api::bookings::cancel))
}
