//! A pending booking whose hold ran out reads as expired everywhere at once (the customer's
//! pages, the JSON API and the staff pages), before the background job has changed the
//! stored status, and stays so after someone else takes its seats.

use reqwest::StatusCode;

use crate::common::admin::{World, world_with};
use crate::common::booking::{booking_status, hold, logged_in_visitors};
use crate::common::catalogue::seed_small_showtime;
use crate::common::{Browser, location};

/// What the owner and staff see of one booking, asserted as expired.
async fn assert_reads_as_expired(w: &World, owner: &Browser, booking: &str, code: &str) {
    let (status, page) = owner.get_text(&format!("/bookings/{booking}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("badge-expired"), "booking page: {page}");
    assert!(page.contains(">Expired<"), "booking page label");
    assert!(
        !page.contains("Continue to payment"),
        "no way to pay for an expired booking"
    );
    assert!(
        !page.contains("Cancel booking"),
        "nothing to cancel on an expired booking"
    );
    let response = owner.get(&format!("/bookings/{booking}/checkout")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), format!("/bookings/{booking}"));

    let (status, body) = owner.get_json(&format!("/api/v1/bookings/{booking}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "expired", "{body}");
    assert!(body["expires_at"].is_null(), "{body}");
    let (_, list) = owner.get_json("/api/v1/bookings").await;
    assert_eq!(list["items"][0]["status"], "expired", "{list}");

    let (status, page) = w
        .staff
        .get_text(&format!("/admin/bookings/{booking}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("badge-expired"), "admin booking page");
    assert!(
        !page.contains("badge-pending\">pending"),
        "admin booking page"
    );
    let (_, list) = w.staff.get_text("/admin/bookings?status=expired").await;
    assert!(list.contains(code), "the expired filter finds it");
    let (_, list) = w.staff.get_text("/admin/bookings?status=pending").await;
    assert!(!list.contains(code), "the pending filter does not");
}

#[tokio::test]
async fn a_lapsed_hold_is_expired_wherever_it_is_read_before_the_job_runs() {
    let w = world_with(&[("HOLD_TTL_SECONDS", "60")]).await;
    let show = seed_small_showtime(&w.app).await;
    let mut visitors = logged_in_visitors(&w.app, 2).await;
    let other = visitors.pop().unwrap();
    let owner = visitors.pop().unwrap();
    let seats = &show.seat_ids[0..2];
    let (status, held) = hold(&owner, show.showtime_id, seats).await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    let booking = held["booking"]["id"].as_str().unwrap().to_owned();
    let code = held["booking"]["code"].as_str().unwrap().to_owned();
    let (_, page) = owner.get_text(&format!("/bookings/{booking}")).await;
    assert!(
        page.contains("Continue to payment"),
        "a live hold can be paid"
    );

    w.app.state.clock.advance(time::Duration::seconds(61));
    assert_reads_as_expired(&w, &owner, &booking, &code).await;

    // Someone else takes the seats: the first booking does not come back to life.
    let (status, taken) = hold(&other, show.showtime_id, seats).await;
    assert_eq!(status, StatusCode::CREATED, "{taken}");
    assert_reads_as_expired(&w, &owner, &booking, &code).await;

    // No background job ran: the stored status has not caught up yet, and that is fine.
    assert_eq!(booking_status(&w.app, &booking).await, "pending");
}
