//! Shared set-up of the staff admin tests: an app with a fake Razorpay and a logged-in staff
//! member, paid bookings made the way a moviegoer makes them, and audit counts.

#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::accounts::{create_user, login};
use super::booking::{booking_status, hold, logged_in_visitors};
use super::catalogue::seed_small_showtime;
use super::razorpay::FakeRazorpay;
use super::{Browser, TestApp, location};

pub const PASSWORD: &str = "tickets-for-two";

pub struct World {
    pub app: TestApp,
    pub fake: FakeRazorpay,
    pub staff: Browser,
    pub staff_id: i64,
}

pub async fn world() -> World {
    world_with(&[]).await
}

/// `world` with extra settings (`("CANCELLATION_CUTOFF_HOURS", "0")`, ...).
pub async fn world_with(extra: &[(&str, &str)]) -> World {
    let fake = FakeRazorpay::start().await;
    let mut settings = fake.settings();
    settings.push(("RATE_LIMITS".into(), "off".into()));
    settings.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let app = TestApp::spawn_with_owned(settings).await;
    let staff_id = create_user(&app, "boss@example.com", PASSWORD, true).await;
    let staff = app.browser();
    login(&staff, "boss@example.com", PASSWORD).await;
    World {
        app,
        fake,
        staff,
        staff_id,
    }
}

/// A confirmed, paid booking of a fresh showtime: (owner's browser, public id).
pub async fn confirmed_booking(w: &World) -> (Browser, String) {
    let show = seed_small_showtime(&w.app).await;
    confirmed_booking_on(w, show.showtime_id, &show.seat_ids[0..2]).await
}

/// A confirmed, paid booking of `seats` of a showtime.
pub async fn confirmed_booking_on(w: &World, showtime_id: i64, seats: &[i64]) -> (Browser, String) {
    let visitor = logged_in_visitors(&w.app, 1).await.remove(0);
    let (status, body) = hold(&visitor, showtime_id, seats).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let booking = body["booking"]["id"].as_str().unwrap().to_owned();
    let response = visitor
        .post_json(&format!("/api/v1/bookings/{booking}/payment"), &json!({}))
        .await;
    let order: Value = response.json().await.unwrap();
    let order_id = order["order_id"].as_str().unwrap();
    let payment = w.fake.pay(order_id);
    let signature = FakeRazorpay::checkout_signature(order_id, &payment);
    let response = visitor
        .post_json(
            &format!("/api/v1/bookings/{booking}/payment/verify"),
            &json!({ "razorpay_order_id": order_id, "razorpay_payment_id": payment, "razorpay_signature": signature }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(booking_status(&w.app, &booking).await, "confirmed");
    (visitor, booking)
}

pub async fn scalar(app: &TestApp, sql: &'static str, arg: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(arg)
        .fetch_one(app.db.reader())
        .await
        .unwrap()
}

pub async fn audit_count(app: &TestApp, action: &str) -> i64 {
    scalar(
        app,
        "SELECT COUNT(*) FROM audit_log WHERE action = $1",
        action,
    )
    .await
}

/// The page a redirect points to, as the browser would load it next.
pub async fn follow(browser: &Browser, response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    browser.get_text(&location(&response)).await.1
}

/// Uploads `bytes` as the poster file `filename` declared as `content_type`, the way the
/// admin form does (multipart, CSRF token in the query string).
pub async fn upload_poster(
    browser: &Browser,
    movie_id: i64,
    filename: &str,
    content_type: &str,
    bytes: &[u8],
) -> reqwest::Response {
    let token = browser.csrf_token().await;
    let boundary = "----admin-test-boundary-7d1c";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"poster\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf_token", &token)
        .finish();
    browser
        .client
        .post(browser.url(&format!("/admin/movies/{movie_id}/poster?{query}")))
        .header("origin", &browser.base_url)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}
