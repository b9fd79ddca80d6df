//! Helpers for booking tests: many logged-in visitors at once, holds through the API, and
//! an independent check of the booking invariant over the whole database.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Browser, TestApp};

/// `count` new verified users, each logged in through the JSON API in its own browser.
pub async fn logged_in_visitors(app: &TestApp, count: usize) -> Vec<Browser> {
    let mut visitors = Vec::with_capacity(count);
    for i in 0..count {
        let email = format!("racer{i}-{}@example.com", moviebooking::domain::tokens::random_token(6).to_lowercase());
        let password = "correct horse battery staple";
        super::accounts::create_user(app, &email, password, false).await;
        let browser = app.browser();
        let response = browser
            .post_json("/api/v1/auth/login", &json!({ "email": email, "password": password }))
            .await;
        assert_eq!(response.status(), StatusCode::OK, "login of {email}");
        visitors.push(browser);
    }
    visitors
}

/// Holds seats through the API; returns the status and body.
pub async fn hold(browser: &Browser, showtime_id: i64, seat_ids: &[i64]) -> (StatusCode, Value) {
    let response = browser
        .post_json(
            &format!("/api/v1/showtimes/{showtime_id}/holds"),
            &json!({ "seat_ids": seat_ids }),
        )
        .await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every (showtime, seat) that belongs to more than one live booking right now, read from
/// the bookings themselves (not from the claims table that is supposed to prevent it).
pub async fn double_booked_seats(app: &TestApp) -> Vec<(i64, i64, i64)> {
    let now = app.state.clock.unix_now();
    sqlx::query_as(
        "SELECT b.showtime_id, bs.seat_id, COUNT(*) FROM booking_seats bs \
         JOIN bookings b ON b.id = bs.booking_id \
         WHERE b.status = 'confirmed' OR (b.status = 'pending' AND b.hold_expires_at > $1) \
         GROUP BY b.showtime_id, bs.seat_id HAVING COUNT(*) > 1",
    )
    .bind(now)
    .fetch_all(app.db.reader())
    .await
    .expect("invariant query")
}

/// The status of one booking by public id.
pub async fn booking_status(app: &TestApp, public_id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM bookings WHERE public_id = $1")
        .bind(public_id)
        .fetch_one(app.db.reader())
        .await
        .expect("booking exists")
}
