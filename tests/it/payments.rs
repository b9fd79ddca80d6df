//! Razorpay payments against a fake Razorpay on loopback: checkout, signatures, webhooks in
//! every order, late payments, refunds that happen once, and outages.

use std::sync::Arc;

use crate::common::booking::{booking_status, double_booked_seats, hold, logged_in_visitors};
use crate::common::catalogue::seed_small_showtime;
use crate::common::razorpay::{FakeRazorpay, KEY_SECRET};
use crate::common::{Browser, TestApp, location};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct World {
    app: TestApp,
    fake: FakeRazorpay,
    showtime_id: i64,
    seat_ids: Vec<i64>,
}

async fn world(extra: &[(&str, &str)]) -> World {
    let fake = FakeRazorpay::start().await;
    let mut settings = fake.settings();
    settings.push(("RATE_LIMITS".into(), "off".into()));
    for (k, v) in extra {
        settings.push(((*k).into(), (*v).into()));
    }
    let app = TestApp::spawn_with_owned(settings).await;
    let show = seed_small_showtime(&app).await;
    World {
        app,
        fake,
        showtime_id: show.showtime_id,
        seat_ids: show.seat_ids,
    }
}

/// A visitor holding `seats` and the booking's public id.
async fn held_booking(w: &World, seats: &[i64]) -> (Browser, String) {
    let visitor = logged_in_visitors(&w.app, 1).await.remove(0);
    let (status, body) = hold(&visitor, w.showtime_id, seats).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (visitor, body["booking"]["id"].as_str().unwrap().to_owned())
}

async fn open_order(visitor: &Browser, booking: &str) -> (StatusCode, Value) {
    let response = visitor
        .post_json(&format!("/api/v1/bookings/{booking}/payment"), &json!({}))
        .await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn verify(
    visitor: &Browser,
    booking: &str,
    order: &str,
    payment: &str,
    signature: &str,
) -> (StatusCode, Value) {
    let response = visitor
        .post_json(
            &format!("/api/v1/bookings/{booking}/payment/verify"),
            &json!({ "razorpay_order_id": order, "razorpay_payment_id": payment, "razorpay_signature": signature }),
        )
        .await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn deliver_webhook(app: &TestApp, event_id: &str, body: &str, signature: &str) -> StatusCode {
    app.browser()
        .client
        .post(app.browser().url("/payments/razorpay/webhook"))
        .header("content-type", "application/json")
        .header("x-razorpay-event-id", event_id)
        .header("x-razorpay-signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
}

async fn count(app: &TestApp, sql: &'static str, booking: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(booking)
        .fetch_one(app.db.reader())
        .await
        .unwrap()
}

async fn confirmation_emails(app: &TestApp, booking: &str) -> i64 {
    count(
        app,
        "SELECT COUNT(*) FROM email_outbox o JOIN bookings b ON b.id = o.booking_id WHERE b.public_id = $1 AND o.kind = 'booking_confirmed'",
        booking,
    )
    .await
}

async fn payment_rows(app: &TestApp, booking: &str) -> i64 {
    count(app, "SELECT COUNT(*) FROM payments p JOIN bookings b ON b.id = p.booking_id WHERE b.public_id = $1", booking).await
}

#[tokio::test]
async fn hold_order_verify_confirms_with_exactly_one_email() {
    let w = world(&[]).await;
    let (visitor, booking) = held_booking(&w, &w.seat_ids[0..2]).await;
    let (status, order) = open_order(&visitor, &booking).await;
    assert_eq!(status, StatusCode::OK, "{order}");
    assert_eq!(order["provider"], "razorpay");
    assert_eq!(order["key_id"], crate::common::razorpay::KEY_ID);
    assert_eq!(order["currency"], "INR");
    let order_id = order["order_id"].as_str().unwrap();
    let created = &w.fake.orders()[0];
    assert_eq!(created.id, order_id);
    assert_eq!(
        created.amount,
        order["amount_paise"].as_i64().unwrap(),
        "the server-side total"
    );
    assert_eq!(created.receipt, order["booking_code"].as_str().unwrap());
    assert_eq!(created.payment_capture, 1);
    assert!(created.notes["booking_id"].is_string());

    let payment = w.fake.pay(order_id);
    let signature = FakeRazorpay::checkout_signature(order_id, &payment);
    let (status, body) = verify(&visitor, &booking, order_id, &payment, &signature).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["booking"]["status"], "confirmed");
    assert_eq!(body["booking"]["expires_at"], Value::Null);
    assert_eq!(confirmation_emails(&w.app, &booking).await, 1);
    assert_eq!(payment_rows(&w.app, &booking).await, 1);
    let mails = w.app.mails();
    let mail = mails
        .iter()
        .find(|m| m.contains("Your tickets for"))
        .expect("the confirmation was sent");
    assert!(
        mail.contains("ticket-") && mail.contains(".ics"),
        "QR code and calendar attached"
    );

    // Verifying again (a double-submitted form) changes nothing.
    let (status, _) = verify(&visitor, &booking, order_id, &payment, &signature).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(confirmation_emails(&w.app, &booking).await, 1);
    assert!(double_booked_seats(&w.app).await.is_empty());
}

#[tokio::test]
async fn the_order_is_created_once_per_booking() {
    let w = world(&[]).await;
    let (visitor, booking) = held_booking(&w, &w.seat_ids[0..1]).await;
    let (_, first) = open_order(&visitor, &booking).await;
    let (_, second) = open_order(&visitor, &booking).await;
    assert_eq!(first["order_id"], second["order_id"]);
    assert_eq!(w.fake.orders().len(), 1);
    // Only the owner may open it.
    let stranger = logged_in_visitors(&w.app, 1).await.remove(0);
    assert_eq!(
        open_order(&stranger, &booking).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_missing_or_wrong_key_signatures_change_nothing() {
    let w = world(&[]).await;
    let (visitor, booking) = held_booking(&w, &w.seat_ids[0..1]).await;
    let (_, order) = open_order(&visitor, &booking).await;
    let order_id = order["order_id"].as_str().unwrap();
    let payment = w.fake.pay(order_id);
    let wrong_key = moviebooking::payments::signature::sign(
        "not-the-secret",
        format!("{order_id}|{payment}").as_bytes(),
    );
    let other_payment = FakeRazorpay::checkout_signature(order_id, "pay_someone_else");
    for signature in [wrong_key.as_str(), other_payment.as_str(), "", "zz"] {
        let (status, body) = verify(&visitor, &booking, order_id, &payment, signature).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{signature}: {body}");
    }
    // The HTML callback too, and without any cookie (it may arrive cross-site).
    let response = reqwest::Client::new()
        .post(w.app.browser().url("/payments/razorpay/callback"))
        .form(&[
            ("razorpay_order_id", order_id),
            ("razorpay_payment_id", payment.as_str()),
            ("razorpay_signature", wrong_key.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(booking_status(&w.app, &booking).await, "pending");
    assert_eq!(payment_rows(&w.app, &booking).await, 0);

    // A webhook with a missing or wrong signature is refused before it is read.
    let (body, _) = w.fake.webhook("payment.captured", &payment);
    assert_eq!(
        deliver_webhook(&w.app, "evt_1", &body, "").await,
        StatusCode::BAD_REQUEST
    );
    let forged = moviebooking::payments::signature::sign(KEY_SECRET, body.as_bytes());
    assert_eq!(
        deliver_webhook(&w.app, "evt_2", &body, &forged).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(booking_status(&w.app, &booking).await, "pending");
}

#[tokio::test]
async fn the_html_callback_confirms_without_a_session_and_redirects_to_the_booking() {
    let w = world(&[]).await;
    let (visitor, booking) = held_booking(&w, &w.seat_ids[0..1]).await;
    let (_, order) = open_order(&visitor, &booking).await;
    let order_id = order["order_id"].as_str().unwrap();
    let payment = w.fake.pay(order_id);
    let signature = FakeRazorpay::checkout_signature(order_id, &payment);
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(w.app.browser().url("/payments/razorpay/callback"))
        .header("origin", "https://api.razorpay.com")
        .form(&[
            ("razorpay_order_id", order_id),
            ("razorpay_payment_id", payment.as_str()),
            ("razorpay_signature", signature.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), format!("/bookings/{booking}"));
    assert_eq!(booking_status(&w.app, &booking).await, "confirmed");
    let (status, page) = visitor.get_text(&format!("/bookings/{booking}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("qr.svg") && page.contains("calendar.ics"),
        "the ticket shows"
    );
}

#[tokio::test]
async fn webhook_then_callback_and_callback_then_webhook_confirm_once() {
    let w = world(&[]).await;
    for webhook_first in [true, false] {
        let (visitor, booking) =
            held_booking(&w, &w.seat_ids[if webhook_first { 0..1 } else { 1..2 }]).await;
        let (_, order) = open_order(&visitor, &booking).await;
        let order_id = order["order_id"].as_str().unwrap().to_owned();
        let payment = w.fake.pay(&order_id);
        let signature = FakeRazorpay::checkout_signature(&order_id, &payment);
        let (body, webhook_signature) = w.fake.webhook("payment.captured", &payment);
        let event_id = format!("evt_{payment}");
        if webhook_first {
            assert_eq!(
                deliver_webhook(&w.app, &event_id, &body, &webhook_signature).await,
                StatusCode::OK
            );
            assert_eq!(booking_status(&w.app, &booking).await, "confirmed");
            assert_eq!(
                verify(&visitor, &booking, &order_id, &payment, &signature)
                    .await
                    .0,
                StatusCode::OK
            );
        } else {
            assert_eq!(
                verify(&visitor, &booking, &order_id, &payment, &signature)
                    .await
                    .0,
                StatusCode::OK
            );
            assert_eq!(
                deliver_webhook(&w.app, &event_id, &body, &webhook_signature).await,
                StatusCode::OK
            );
        }
        assert_eq!(booking_status(&w.app, &booking).await, "confirmed");
        assert_eq!(confirmation_emails(&w.app, &booking).await, 1);
        assert_eq!(payment_rows(&w.app, &booking).await, 1);
    }
}

#[tokio::test]
async fn webhook_and_callback_racing_confirm_once() {
    let w = world(&[]).await;
    for round in 0..5 {
        let (visitor, booking) = held_booking(&w, &w.seat_ids[round..round + 1]).await;
        let (_, order) = open_order(&visitor, &booking).await;
        let order_id = order["order_id"].as_str().unwrap().to_owned();
        let payment = w.fake.pay(&order_id);
        let signature = FakeRazorpay::checkout_signature(&order_id, &payment);
        let (body, webhook_signature) = w.fake.webhook("order.paid", &payment);
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let app_url = w.app.base_url.clone();
        let b2 = barrier.clone();
        let (body2, sig2, pay2) = (body.clone(), webhook_signature.clone(), payment.clone());
        let webhook = tokio::spawn(async move {
            b2.wait().await;
            reqwest::Client::new()
                .post(format!("{app_url}/payments/razorpay/webhook"))
                .header("x-razorpay-event-id", format!("evt_{pay2}"))
                .header("x-razorpay-signature", sig2)
                .body(body2)
                .send()
                .await
                .unwrap()
                .status()
        });
        let booking2 = booking.clone();
        let callback = tokio::spawn(async move {
            barrier.wait().await;
            verify(&visitor, &booking2, &order_id, &payment, &signature)
                .await
                .0
        });
        assert_eq!(webhook.await.unwrap(), StatusCode::OK);
        assert_eq!(callback.await.unwrap(), StatusCode::OK);
        assert_eq!(
            booking_status(&w.app, &booking).await,
            "confirmed",
            "round {round}"
        );
        assert_eq!(
            confirmation_emails(&w.app, &booking).await,
            1,
            "round {round}"
        );
        assert_eq!(payment_rows(&w.app, &booking).await, 1, "round {round}");
    }
}

#[tokio::test]
async fn the_same_event_delivered_three_times_is_processed_once() {
    let w = world(&[]).await;
    let (visitor, booking) = held_booking(&w, &w.seat_ids[0..1]).await;
    let (_, order) = open_order(&visitor, &booking).await;
    let payment = w.fake.pay(order["order_id"].as_str().unwrap());
    let (body, signature) = w.fake.webhook("payment.captured", &payment);
    for _ in 0..3 {
        assert_eq!(
            deliver_webhook(&w.app, "evt_same", &body, &signature).await,
            StatusCode::OK
        );
    }
    let events: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE event_id = 'evt_same'")
            .fetch_one(w.app.db.reader())
            .await
            .unwrap();
    assert_eq!(events, 1);
    assert_eq!(confirmation_emails(&w.app, &booking).await, 1);
    assert_eq!(payment_rows(&w.app, &booking).await, 1);
}

#[tokio::test]
async fn an_authorized_payment_alone_never_confirms_but_the_callback_captures_it() {
    let w = world(&[]).await;
    let (visitor, booking) = held_booking(&w, &w.seat_ids[0..1]).await;
    let (_, order) = open_order(&visitor, &booking).await;
    let order_id = order["order_id"].as_str().unwrap();
    let amount = order["amount_paise"].as_i64().unwrap();
    let payment = w.fake.pay_amount(order_id, amount, "authorized");
    let (body, signature) = w.fake.webhook("payment.authorized", &payment);
    assert_eq!(
        deliver_webhook(&w.app, "evt_auth", &body, &signature).await,
        StatusCode::OK
    );
    assert_eq!(booking_status(&w.app, &booking).await, "pending");

    let (status, _) = verify(
        &visitor,
        &booking,
        order_id,
        &payment,
        &FakeRazorpay::checkout_signature(order_id, &payment),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(w.fake.payment(&payment).unwrap().status, "captured");
    assert_eq!(booking_status(&w.app, &booking).await, "confirmed");
}

#[tokio::test]
async fn an_amount_mismatch_never_confirms_and_is_recorded_for_staff() {
    let w = world(&[]).await;
    let (visitor, booking) = held_booking(&w, &w.seat_ids[0..1]).await;
    let (_, order) = open_order(&visitor, &booking).await;
    let order_id = order["order_id"].as_str().unwrap();
    let payment = w.fake.pay_amount(order_id, 100, "captured");
    let (body, signature) = w.fake.webhook("payment.captured", &payment);
    assert_eq!(
        deliver_webhook(&w.app, "evt_short", &body, &signature).await,
        StatusCode::OK
    );
    assert_eq!(booking_status(&w.app, &booking).await, "pending");
    let incidents: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM payment_incidents WHERE kind = 'amount_mismatch'")
            .fetch_one(w.app.db.reader())
            .await
            .unwrap();
    assert_eq!(incidents, 1);
    assert_eq!(confirmation_emails(&w.app, &booking).await, 0);
}

#[tokio::test]
async fn a_late_payment_confirms_when_the_seats_are_still_free() {
    let w = world(&[
        ("HOLD_TTL_SECONDS", "600"),
        ("PAYMENT_WINDOW_SECONDS", "300"),
    ])
    .await;
    let (visitor, booking) = held_booking(&w, &w.seat_ids[0..2]).await;
    let (_, order) = open_order(&visitor, &booking).await;
    let order_id = order["order_id"].as_str().unwrap();
    w.app.state.clock.advance(time::Duration::seconds(601));
    w.app.run_jobs().await;
    assert_eq!(booking_status(&w.app, &booking).await, "expired");

    let payment = w.fake.pay(order_id);
    let (body, signature) = w.fake.webhook("payment.captured", &payment);
    assert_eq!(
        deliver_webhook(&w.app, "evt_late", &body, &signature).await,
        StatusCode::OK
    );
    assert_eq!(booking_status(&w.app, &booking).await, "confirmed");
    assert!(w.fake.refunds().is_empty());
    assert_eq!(confirmation_emails(&w.app, &booking).await, 1);
    assert!(double_booked_seats(&w.app).await.is_empty());
}

#[tokio::test]
async fn a_late_payment_for_seats_taken_meanwhile_is_refunded_once() {
    let w = world(&[("HOLD_TTL_SECONDS", "600")]).await;
    let (visitor, booking) = held_booking(&w, &w.seat_ids[0..2]).await;
    let (_, order) = open_order(&visitor, &booking).await;
    let order_id = order["order_id"].as_str().unwrap();
    w.app.state.clock.advance(time::Duration::seconds(601));
    // Someone else takes one of the seats after the hold ran out.
    let (rival, _) = held_booking(&w, &w.seat_ids[1..2]).await;
    drop(rival);

    let payment = w.fake.pay(order_id);
    let (body, signature) = w.fake.webhook("payment.captured", &payment);
    for event in ["evt_a", "evt_b"] {
        assert_eq!(
            deliver_webhook(&w.app, event, &body, &signature).await,
            StatusCode::OK
        );
    }
    let (status, _) = verify(
        &visitor,
        &booking,
        order_id,
        &payment,
        &FakeRazorpay::checkout_signature(order_id, &payment),
    )
    .await;
    assert!(status.is_success(), "{status}");
    assert_eq!(booking_status(&w.app, &booking).await, "expired");
    // The webhook sends its refund in the background: give it a moment, then make sure a
    // second one never follows.
    for _ in 0..50 {
        if !w.fake.refunds().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let refunds = w.fake.refunds();
    assert_eq!(refunds.len(), 1, "refunded exactly once");
    assert_eq!(refunds[0].payment_id, payment);
    assert_eq!(
        refunds[0].amount,
        w.fake.payment(&payment).unwrap().amount,
        "in full"
    );
    let refund_mails = count(
        &w.app,
        "SELECT COUNT(*) FROM email_outbox o JOIN bookings b ON b.id = o.booking_id WHERE b.public_id = $1 AND o.kind = 'booking_refunded'",
        &booking,
    )
    .await;
    assert_eq!(refund_mails, 1);
    assert!(double_booked_seats(&w.app).await.is_empty());
}

async fn confirmed_booking(w: &World, seats: &[i64]) -> (Browser, String, String) {
    let (visitor, booking) = held_booking(w, seats).await;
    let (_, order) = open_order(&visitor, &booking).await;
    let order_id = order["order_id"].as_str().unwrap();
    let payment = w.fake.pay(order_id);
    let (status, _) = verify(
        &visitor,
        &booking,
        order_id,
        &payment,
        &FakeRazorpay::checkout_signature(order_id, &payment),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    (visitor, booking, payment)
}

#[tokio::test]
async fn cancelling_a_confirmed_booking_refunds_the_seats_once_even_when_razorpay_answers_409() {
    let w = world(&[]).await;
    let (visitor, booking, payment) = confirmed_booking(&w, &w.seat_ids[0..2]).await;
    w.fake.conflict_next_refunds(1);
    let response = visitor
        .post_json(&format!("/api/v1/bookings/{booking}/cancel"), &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "refunded");
    assert!(w.fake.refunds().is_empty(), "the 409 refunded nothing yet");

    // The retry job sends it again with the same idempotency key.
    w.app.state.clock.advance(time::Duration::seconds(61));
    w.app.run_jobs().await;
    w.app.run_jobs().await;
    let refunds = w.fake.refunds();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].payment_id, payment);
    assert_eq!(
        refunds[0].amount,
        body["amount"]["seats_paise"].as_i64().unwrap(),
        "the fee is kept"
    );
    let status: String = sqlx::query_scalar("SELECT r.status FROM refunds r JOIN bookings b ON b.id = r.booking_id WHERE b.public_id = $1")
        .bind(&booking)
        .fetch_one(w.app.db.reader())
        .await
        .unwrap();
    assert_eq!(status, "processed");
    // The seats are free again.
    let other = logged_in_visitors(&w.app, 1).await.remove(0);
    assert_eq!(
        hold(&other, w.showtime_id, &w.seat_ids[0..2]).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_refund_that_times_out_is_retried_with_the_same_key_and_happens_once() {
    let w = world(&[]).await;
    let (visitor, booking, _) = confirmed_booking(&w, &w.seat_ids[0..1]).await;
    w.fake.slow_next_refunds(1);
    let response = visitor
        .post_json(&format!("/api/v1/bookings/{booking}/cancel"), &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    for _ in 0..3 {
        w.app.state.clock.advance(time::Duration::seconds(61));
        w.app.run_jobs().await;
    }
    assert_eq!(w.fake.refunds().len(), 1);
    // Cancelling again is refused and refunds nothing more.
    let response = visitor
        .post_json(&format!("/api/v1/bookings/{booking}/cancel"), &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(w.fake.refunds().len(), 1);
}

#[tokio::test]
async fn cancellation_closes_before_the_show() {
    let w = world(&[("CANCELLATION_CUTOFF_HOURS", "2")]).await;
    let (visitor, booking, _) = confirmed_booking(&w, &w.seat_ids[0..1]).await;
    let starts_at: i64 = sqlx::query_scalar("SELECT starts_at FROM showtimes WHERE id = $1")
        .bind(w.showtime_id)
        .fetch_one(w.app.db.reader())
        .await
        .unwrap();
    w.app.state.clock.advance(time::Duration::seconds(
        starts_at - w.app.state.clock.unix_now() - 3600,
    ));
    let response = visitor
        .post_json(&format!("/api/v1/bookings/{booking}/cancel"), &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("2 hours"));
    assert_eq!(booking_status(&w.app, &booking).await, "confirmed");
}

#[tokio::test]
async fn razorpay_down_at_order_time_keeps_the_hold_and_says_try_again() {
    let w = world(&[]).await;
    let (visitor, booking) = held_booking(&w, &w.seat_ids[0..1]).await;
    w.fake.fail_orders_with(Some(503));
    let (status, body) = open_order(&visitor, &booking).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body["message"].as_str().unwrap().contains("try again"));
    let token = visitor.csrf_token().await;
    let response = visitor
        .client
        .post(visitor.url(&format!("/bookings/{booking}/pay")))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.text().await.unwrap().contains("try again"));
    assert_eq!(booking_status(&w.app, &booking).await, "pending");

    w.fake.fail_orders_with(None);
    assert_eq!(open_order(&visitor, &booking).await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_hold_is_extended_once_to_fit_the_payment_window() {
    let w = world(&[
        ("HOLD_TTL_SECONDS", "120"),
        ("PAYMENT_WINDOW_SECONDS", "300"),
    ])
    .await;
    let (visitor, booking) = held_booking(&w, &w.seat_ids[0..1]).await;
    let expiry = || async {
        sqlx::query_scalar::<_, i64>("SELECT hold_expires_at FROM bookings WHERE public_id = $1")
            .bind(&booking)
            .fetch_one(w.app.db.reader())
            .await
            .unwrap()
    };
    let before = expiry().await;
    open_order(&visitor, &booking).await;
    let extended = expiry().await;
    assert!(extended >= w.app.state.clock.unix_now() + 299 && extended > before);
    w.app.state.clock.advance(time::Duration::seconds(200));
    open_order(&visitor, &booking).await;
    assert_eq!(expiry().await, extended, "never extended twice");
}

#[tokio::test]
async fn reconciliation_confirms_a_paid_order_whose_browser_and_webhook_never_came() {
    let w = world(&[]).await;
    let (visitor, booking) = held_booking(&w, &w.seat_ids[0..1]).await;
    let (_, order) = open_order(&visitor, &booking).await;
    w.fake.pay(order["order_id"].as_str().unwrap());
    w.app.state.clock.advance(time::Duration::seconds(31));
    w.app.run_jobs().await;
    assert_eq!(booking_status(&w.app, &booking).await, "confirmed");
    assert_eq!(confirmation_emails(&w.app, &booking).await, 1);
}

#[tokio::test]
async fn the_development_gateway_pays_through_the_same_verification() {
    let app = TestApp::spawn().await;
    let show = seed_small_showtime(&app).await;
    crate::common::accounts::create_user(
        &app,
        "dev@example.com",
        "correct horse battery staple",
        false,
    )
    .await;
    let browser = app.browser();
    crate::common::accounts::login(&browser, "dev@example.com", "correct horse battery staple")
        .await;
    let (status, body) = hold(&browser, show.showtime_id, &show.seat_ids[0..1]).await;
    assert_eq!(status, StatusCode::CREATED);
    let booking = body["booking"]["id"].as_str().unwrap();
    let response = browser
        .post_form(&format!("/bookings/{booking}/pay"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("Development payment gateway"));
    assert!(
        !page.contains("checkout.razorpay.com"),
        "no third-party script in development"
    );
    let field = |name: &str| crate::common::extract_input(&page, name).unwrap();
    let (order, payment, signature) = (
        field("razorpay_order_id"),
        field("razorpay_payment_id"),
        field("razorpay_signature"),
    );

    // A tampered signature is refused by the same check as Razorpay's.
    let tampered = browser
        .client
        .post(browser.url("/payments/razorpay/callback"))
        .form(&[
            ("razorpay_order_id", order.as_str()),
            ("razorpay_payment_id", "pay_dev_other"),
            ("razorpay_signature", signature.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), StatusCode::BAD_REQUEST);

    let response = browser
        .client
        .post(browser.url("/payments/razorpay/callback"))
        .form(&[
            ("razorpay_order_id", order.as_str()),
            ("razorpay_payment_id", payment.as_str()),
            ("razorpay_signature", signature.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(booking_status(&app, booking).await, "confirmed");
    let (_, page) = browser.get_text(&format!("/bookings/{booking}")).await;
    assert!(page.contains("Payment received"));
}

/// A mail server that accepts connections and then never says a word.
async fn silent_smtp_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("smtp://127.0.0.1:{port}")
}

#[tokio::test]
async fn a_mail_server_that_hangs_does_not_hold_the_customer_coming_back_from_checkout() {
    let smtp = silent_smtp_server().await;
    let w = world(&[("EMAIL_BACKEND", "smtp"), ("SMTP_URL", &smtp)]).await;
    let (visitor, booking) = held_booking(&w, &w.seat_ids[0..1]).await;
    let (_, order) = open_order(&visitor, &booking).await;
    let order_id = order["order_id"].as_str().unwrap();
    let payment = w.fake.pay(order_id);
    let signature = FakeRazorpay::checkout_signature(order_id, &payment);

    let started = std::time::Instant::now();
    let (status, body) = verify(&visitor, &booking, order_id, &payment, &signature).await;
    let waited = started.elapsed();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["booking"]["status"], "confirmed");
    assert!(
        waited < std::time::Duration::from_secs(6),
        "the answer waited {waited:?} for the mail server"
    );
    // The confirmation is still queued for the outbox to retry, not lost.
    assert_eq!(confirmation_emails(&w.app, &booking).await, 1);
    let status: String = sqlx::query_scalar(
        "SELECT o.status FROM email_outbox o JOIN bookings b ON b.id = o.booking_id \
         WHERE b.public_id = $1 AND o.kind = 'booking_confirmed'",
    )
    .bind(&booking)
    .fetch_one(w.app.db.reader())
    .await
    .unwrap();
    assert_ne!(status, "sent");
}
