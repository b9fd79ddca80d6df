//! The staff pages for payment incidents, and the dashboard's days on the theatres' local
//! clock: an incident recorded by the payment flow is listed, resolved once with a note and
//! an audit entry, and a booking confirmed after midnight in India counts as that Indian day.

use crate::common::admin::{audit_count, confirmed_booking, follow, scalar, world};
use crate::common::booking::{booking_status, hold, logged_in_visitors};
use crate::common::catalogue::seed_small_showtime;
use crate::common::razorpay::FakeRazorpay;
use crate::common::{Browser, TestApp};
use moviebooking::domain::ids::{IncidentId, UserId};
use moviebooking::domain::pricing::format_rupees;
use moviebooking::web::admin::PER_PAGE;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A held booking paid short (₹1 instead of its total), told to the app by the signed
/// webhook as Razorpay would: the payment flow records an `amount_mismatch` incident.
/// Returns the booking's public id and its owner's email.
async fn short_payment(app: &TestApp, fake: &FakeRazorpay) -> (String, String) {
    let show = seed_small_showtime(app).await;
    let visitor = logged_in_visitors(app, 1).await.remove(0);
    let (status, body) = hold(&visitor, show.showtime_id, &show.seat_ids[0..1]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let booking = body["booking"]["id"].as_str().unwrap().to_owned();
    let order: Value = visitor
        .post_json(&format!("/api/v1/bookings/{booking}/payment"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let order_id = order["order_id"].as_str().unwrap();
    let payment = fake.pay_amount(order_id, 100, "captured");
    let (body, signature) = fake.webhook("payment.captured", &payment);
    let status = app
        .browser()
        .client
        .post(app.browser().url("/payments/razorpay/webhook"))
        .header("content-type", "application/json")
        .header("x-razorpay-event-id", format!("evt_{payment}"))
        .header("x-razorpay-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(booking_status(app, &booking).await, "pending");
    let email: String = sqlx::query_scalar(
        "SELECT u.email FROM bookings b JOIN users u ON u.id = b.user_id WHERE b.public_id = $1",
    )
    .bind(&booking)
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    (booking, email)
}

/// The id of the one incident about `booking`.
async fn incident_of(app: &TestApp, booking: &str) -> i64 {
    scalar(
        app,
        "SELECT i.id FROM payment_incidents i JOIN bookings b ON b.id = i.booking_id \
         WHERE b.public_id = $1",
        booking,
    )
    .await
}

/// (resolved_at, resolved_by_user_id, resolution) of an incident.
async fn resolution_of(app: &TestApp, id: i64) -> (Option<i64>, Option<i64>, Option<String>) {
    sqlx::query_as(
        "SELECT resolved_at, resolved_by_user_id, resolution FROM payment_incidents WHERE id = $1",
    )
    .bind(id)
    .fetch_one(app.db.writer())
    .await
    .unwrap()
}

async fn resolve(staff: &Browser, id: i64, note: &str) -> reqwest::Response {
    staff
        .post_form(
            &format!("/admin/incidents/{id}/resolve"),
            &[("resolution", note), ("status", "open")],
        )
        .await
}

/// An incident without a booking (a payment for an order we never made), as the webhook
/// handler records it.
async fn unknown_order_incident(app: &TestApp, n: usize) {
    let mut conn = app.db.writer().acquire().await.unwrap();
    moviebooking::domain::payments::record_incident(
        &mut conn,
        None,
        Some(&format!("order_stray{n}")),
        Some(&format!("pay_stray{n}")),
        moviebooking::domain::payments::IncidentKind::UnknownOrder,
        &format!("payment pay_stray{n} for unknown order order_stray{n}"),
        app.state.clock.now(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn an_amount_mismatch_is_listed_then_resolved_with_a_note_and_an_audit_entry() {
    let w = world().await;
    let (booking, email) = short_payment(&w.app, &w.fake).await;
    let id = incident_of(&w.app, &booking).await;

    let (_, dashboard) = w.staff.get_text("/admin").await;
    assert!(
        dashboard.contains("id=\"stat-incidents\">1<"),
        "{dashboard}"
    );
    assert!(dashboard.contains("href=\"/admin/incidents\""));

    let (status, list) = w.staff.get_text("/admin/incidents").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(&format!("id=\"incident-{id}\"")), "{list}");
    assert!(list.contains("amount_mismatch"));
    assert!(list.contains("does not match booking total"));
    assert!(list.contains(&format!("href=\"/admin/bookings/{booking}\"")));
    assert!(list.contains(&email));
    assert!(list.contains(&format!("action=\"/admin/incidents/{id}/resolve\"")));

    // The booking's own page shows it too.
    let (_, detail) = w
        .staff
        .get_text(&format!("/admin/bookings/{booking}"))
        .await;
    assert!(
        detail.contains(&format!("id=\"incident-{id}\"")),
        "{detail}"
    );
    assert!(detail.contains("amount_mismatch"));

    let note = "Refunded the ₹1 in the Razorpay dashboard; the hold expired.";
    let response = resolve(&w.staff, id, &format!("  {note}\n")).await;
    let page = follow(&w.staff, response).await;
    assert!(
        page.contains(&format!("Incident #{id} (amount_mismatch) is resolved.")),
        "{page}"
    );
    let (resolved_at, by, resolution) = resolution_of(&w.app, id).await;
    assert!(resolved_at.is_some());
    assert_eq!(by, Some(w.staff_id));
    assert_eq!(resolution.as_deref(), Some(note));
    assert_eq!(audit_count(&w.app, "incident.resolve").await, 1);
    let summary = scalar(
        &w.app,
        "SELECT COUNT(*) FROM audit_log WHERE target_type = 'payment_incident' \
         AND target_id = $1 AND summary LIKE '%open -> resolved%'",
        &id.to_string(),
    )
    .await;
    assert_eq!(summary, 1);

    let (_, dashboard) = w.staff.get_text("/admin").await;
    assert!(
        dashboard.contains("id=\"stat-incidents\">0<"),
        "{dashboard}"
    );
    let (_, detail) = w
        .staff
        .get_text(&format!("/admin/bookings/{booking}"))
        .await;
    assert!(detail.contains(note));
    assert!(detail.contains("by boss@example.com"));
}

#[tokio::test]
async fn a_note_is_required_and_kept_with_its_error_when_refused() {
    let w = world().await;
    let (booking, _) = short_payment(&w.app, &w.fake).await;
    let id = incident_of(&w.app, &booking).await;

    for (typed, error) in [
        ("", "Say what was done about this incident"),
        ("   \n ", "Say what was done about this incident"),
        (&"x".repeat(501), "Use at most 500 characters."),
    ] {
        let response = resolve(&w.staff, id, typed).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = response.text().await.unwrap();
        assert!(page.contains(error), "{page}");
        assert!(page.contains(&format!("id=\"resolution-{id}-error\"")));
        assert!(page.contains("aria-invalid=\"true\""));
        // The typed text is back in the field (the long one whole, not cut to 500).
        if typed.len() > 10 {
            assert!(page.contains(&format!(">{typed}</textarea>")));
        }
    }
    assert_eq!(resolution_of(&w.app, id).await, (None, None, None));
    assert_eq!(audit_count(&w.app, "incident.resolve").await, 0);
}

#[tokio::test]
async fn an_incident_is_resolved_once_even_when_two_staff_try() {
    let w = world().await;
    let (booking, _) = short_payment(&w.app, &w.fake).await;
    let id = incident_of(&w.app, &booking).await;

    let response = resolve(
        &w.staff,
        id,
        "Customer paid again; refunded the first payment.",
    )
    .await;
    follow(&w.staff, response).await;
    let response = resolve(
        &w.staff,
        id,
        "A second note that must not replace the first.",
    )
    .await;
    let page = follow(&w.staff, response).await;
    assert!(
        page.contains(&format!("Incident #{id} was already resolved.")),
        "{page}"
    );
    assert_eq!(
        resolution_of(&w.app, id).await.2.as_deref(),
        Some("Customer paid again; refunded the first payment.")
    );
    assert_eq!(audit_count(&w.app, "incident.resolve").await, 1);

    // Two staff at the same moment on another incident: one UPDATE matches, one entry.
    unknown_order_incident(&w.app, 1).await;
    let other: i64 = sqlx::query_scalar(
        "SELECT id FROM payment_incidents WHERE kind = 'unknown_order' ORDER BY id DESC",
    )
    .fetch_one(w.app.db.reader())
    .await
    .unwrap();
    let (a, b) = futures::join!(
        moviebooking::domain::incidents::resolve(
            &w.app.db,
            UserId(w.staff_id),
            IncidentId(other),
            "first",
            1
        ),
        moviebooking::domain::incidents::resolve(
            &w.app.db,
            UserId(w.staff_id),
            IncidentId(other),
            "second",
            1
        ),
    );
    let outcomes = [a.is_ok(), b.is_ok()];
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{outcomes:?}");
    let refused = if outcomes[0] { b } else { a };
    assert!(matches!(
        refused,
        Err(moviebooking::domain::incidents::ResolveError::AlreadyResolved(_))
    ));
    assert_eq!(audit_count(&w.app, "incident.resolve").await, 2);

    let response = resolve(&w.staff, 999_999, "nothing there").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn incidents_are_filtered_by_status_and_paginated() {
    let w = world().await;
    let (booking, _) = short_payment(&w.app, &w.fake).await;
    let mismatch = incident_of(&w.app, &booking).await;
    for n in 0..PER_PAGE as usize {
        unknown_order_incident(&w.app, n).await;
    }
    let response = resolve(&w.staff, mismatch, "Refunded by hand.").await;
    follow(&w.staff, response).await;
    let row = format!("id=\"incident-{mismatch}\"");

    // Open (the default): the 25 stray payments, no booking to link, one page.
    for path in ["/admin/incidents", "/admin/incidents?status=nonsense"] {
        let (status, page) = w.staff.get_text(path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!page.contains(&row), "{path}");
        assert_eq!(
            page.matches("badge-pending\">open").count(),
            PER_PAGE as usize
        );
        assert!(page.contains("order_stray0") && page.contains("<span class=\"muted\">none"));
        assert!(!page.contains("rel=\"next\""));
    }
    let (_, resolved) = w.staff.get_text("/admin/incidents?status=resolved").await;
    assert!(resolved.contains(&row));
    assert!(resolved.contains("Refunded by hand."));
    assert!(!resolved.contains("order_stray"));
    assert!(!resolved.contains("Mark resolved"));

    // All 26: newest first, so the mismatch (recorded first) is alone on page 2.
    let (_, first) = w.staff.get_text("/admin/incidents?status=all").await;
    assert!(!first.contains(&row));
    assert!(
        first.contains("rel=\"next\"") && first.contains("page=2"),
        "{first}"
    );
    let (_, second) = w.staff.get_text("/admin/incidents?status=all&page=2").await;
    assert!(second.contains(&row), "{second}");
    assert_eq!(second.matches("<tr id=\"incident-").count(), 1);
}

/// Moves the app's clock to the next 10:00 in India (UTC+05:30) and returns that instant.
fn ten_am_in_india(app: &TestApp) -> time::OffsetDateTime {
    let now = app.state.clock.now();
    let ist = time::UtcOffset::from_hms(5, 30, 0).unwrap();
    let local = now.to_offset(ist);
    let mut target = local.replace_time(time::macros::time!(10:00));
    if target <= local {
        target += time::Duration::days(1);
    }
    app.state.clock.advance(target - now);
    target.to_offset(time::UtcOffset::UTC)
}

async fn confirm_at(app: &TestApp, booking: &str, at: time::OffsetDateTime) {
    sqlx::query("UPDATE bookings SET confirmed_at = $1 WHERE public_id = $2")
        .bind(at.unix_timestamp())
        .bind(booking)
        .execute(app.db.writer())
        .await
        .unwrap();
}

#[tokio::test]
async fn the_dashboard_counts_sales_on_the_theatres_local_day() {
    let w = world().await;
    let ten_am = ten_am_in_india(&w.app);
    // Both are 19:00 and 18:00 UTC the day before: the same UTC day, different Indian days.
    let (_, after_midnight) = confirmed_booking(&w).await;
    confirm_at(
        &w.app,
        &after_midnight,
        ten_am - time::Duration::minutes(9 * 60 + 30),
    )
    .await;
    let (_, before_midnight) = confirmed_booking(&w).await;
    confirm_at(
        &w.app,
        &before_midnight,
        ten_am - time::Duration::minutes(10 * 60 + 30),
    )
    .await;
    let total = scalar(
        &w.app,
        "SELECT total_paise FROM bookings WHERE public_id = $1",
        &after_midnight,
    )
    .await;

    let (status, body) = w.staff.get_text("/admin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Today (theatres' local time)"), "{body}");
    assert!(
        body.contains("id=\"stat-today-bookings\">1 bookings"),
        "{body}"
    );
    assert!(body.contains(&format!(
        "id=\"stat-today-revenue\">{}",
        format_rupees(total)
    )));
    assert!(body.contains("id=\"stat-week-bookings\">2 bookings"));
    assert!(body.contains("per local day (Asia/Kolkata)"));
    // The chart's last two days are the Indian dates, one booking each.
    let label = time::macros::format_description!("[day padding:none] [month repr:short]");
    let today = ten_am
        .to_offset(time::UtcOffset::from_hms(5, 30, 0).unwrap())
        .date();
    for day in [today, today.previous_day().unwrap()] {
        let cell = format!("<tr><td>{}</td><td>1</td>", day.format(&label).unwrap());
        assert!(body.contains(&cell), "{cell} in {body}");
    }
    assert_eq!(body.matches("<rect ").count(), 14);
}
