//! Helpers for booking tests: many logged-in visitors at once, holds through the API, and
//! an independent check of the booking invariant over the whole database.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Browser, TestApp};

/// `count` new verified users, each logged in through the JSON API in its own browser.
pub async fn logged_in_visitors(app: &TestApp, count: usize) -> Vec<Browser> {
    let mut visitors = Vec::with_capacity(count);
    for i in 0..count {
        let email = format!(
            "racer{i}-{}@example.com",
            moviebooking::domain::tokens::random_token(6).to_lowercase()
        );
        let password = "correct horse battery staple";
        super::accounts::create_user(app, &email, password, false).await;
        let browser = app.browser();
        let response = browser
            .post_json(
                "/api/v1/auth/login",
                &json!({ "email": email, "password": password }),
            )
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

/// A copy of a showtime one day later on the same screen, with the same prices.
pub async fn another_showtime(app: &TestApp, showtime_id: i64) -> i64 {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO showtimes (movie_id, screen_id, starts_at, ends_at, language, format, is_cancelled, created_at) \
         SELECT movie_id, screen_id, starts_at + 86400, ends_at + 86400, language, format, 0, created_at \
         FROM showtimes WHERE id = $1 RETURNING id",
    )
    .bind(showtime_id)
    .fetch_one(app.db.writer())
    .await
    .expect("copy showtime");
    sqlx::query(
        "INSERT INTO showtime_prices (showtime_id, category_id, price_paise) \
         SELECT $1, category_id, price_paise FROM showtime_prices WHERE showtime_id = $2",
    )
    .bind(id)
    .bind(showtime_id)
    .execute(app.db.writer())
    .await
    .expect("copy prices");
    id
}
