//! Seat selection and booking: holds that expire, correct prices, and never a double-booked
//! seat, whatever the timing, over real HTTP on loopback.

use std::sync::Arc;

use crate::common::booking::{booking_status, double_booked_seats, hold, logged_in_visitors};
use crate::common::catalogue::seed_small_showtime;
use crate::common::{TestApp, extract_input, location};
use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Barrier;

/// Settings for tests that send many requests from one loopback address.
const NO_RATE_LIMITS: (&str, &str) = ("RATE_LIMITS", "off");

#[tokio::test]
async fn fifty_racers_for_one_seat_make_exactly_one_booking() {
    let app = TestApp::spawn_with(&[NO_RATE_LIMITS]).await;
    let show = seed_small_showtime(&app).await;
    let seat = show.seat_ids[0];
    let racers = logged_in_visitors(&app, 50).await;
    let barrier = Arc::new(Barrier::new(racers.len()));
    let mut tasks = Vec::new();
    for racer in racers {
        let barrier = barrier.clone();
        let showtime = show.showtime_id;
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            hold(&racer, showtime, &[seat]).await
        }));
    }
    let mut created = 0;
    let mut conflicts = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {
                assert_eq!(body["error"], "seats_unavailable");
                assert_eq!(body["seat_ids"], json!([seat]));
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((created, conflicts), (1, 49));
    assert!(double_booked_seats(&app).await.is_empty());
}

#[tokio::test]
async fn overlapping_multi_seat_races_never_split_or_share_seats() {
    let app = TestApp::spawn_with(&[NO_RATE_LIMITS]).await;
    let show = seed_small_showtime(&app).await;
    let seats = show.seat_ids.clone();
    let racers = logged_in_visitors(&app, 20).await;
    let barrier = Arc::new(Barrier::new(racers.len()));
    let mut tasks = Vec::new();
    for (i, racer) in racers.into_iter().enumerate() {
        // Windows of three adjacent seats, each overlapping its neighbours'.
        let wanted: Vec<i64> = seats[i % 8..i % 8 + 3].to_vec();
        let barrier = barrier.clone();
        let showtime = show.showtime_id;
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            (wanted.clone(), hold(&racer, showtime, &wanted).await)
        }));
    }
    let mut winners = 0;
    for task in tasks {
        let (wanted, (status, body)) = task.await.unwrap();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::CONFLICT,
            "{status}: {body}"
        );
        if status == StatusCode::CREATED {
            winners += 1;
            let got: Vec<i64> = body["booking"]["seats"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_i64().unwrap())
                .collect();
            assert_eq!(got, wanted, "a winner gets every seat it asked for");
        }
    }
    assert!(winners >= 1);
    assert!(double_booked_seats(&app).await.is_empty());
}

#[tokio::test]
async fn the_race_harness_detects_a_double_booking_when_the_unique_index_is_missing() {
    let app = TestApp::spawn_with(&[NO_RATE_LIMITS]).await;
    let show = seed_small_showtime(&app).await;
    // Sabotage the invariant on purpose: without the index, nothing stops a second claim.
    sqlx::query("DROP INDEX seat_claims_one_per_seat")
        .execute(app.db.writer())
        .await
        .unwrap();
    let racers = logged_in_visitors(&app, 5).await;
    let mut tasks = Vec::new();
    for racer in racers {
        let showtime = show.showtime_id;
        let seat = show.seat_ids[0];
        tasks.push(tokio::spawn(async move {
            hold(&racer, showtime, &[seat]).await.0
        }));
    }
    let mut created = 0;
    for task in tasks {
        if task.await.unwrap() == StatusCode::CREATED {
            created += 1;
        }
    }
    assert!(created > 1, "without the index several holds win");
    assert!(
        !double_booked_seats(&app).await.is_empty(),
        "and the checker sees it"
    );
}

#[tokio::test]
async fn an_expired_hold_frees_the_seat_for_someone_else() {
    let app = TestApp::spawn_with(&[("HOLD_TTL_SECONDS", "60")]).await;
    let show = seed_small_showtime(&app).await;
    let visitors = logged_in_visitors(&app, 2).await;
    let seat = show.seat_ids[3];
    let (status, first) = hold(&visitors[0], show.showtime_id, &[seat]).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = hold(&visitors[1], show.showtime_id, &[seat]).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "held seats are taken while the hold lasts"
    );

    app.state.clock.advance(time::Duration::seconds(61));
    let (status, second) = hold(&visitors[1], show.showtime_id, &[seat]).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    // The background job then marks the first booking expired.
    app.run_jobs().await;
    assert_eq!(
        booking_status(&app, first["booking"]["id"].as_str().unwrap()).await,
        "expired"
    );
    assert_eq!(
        booking_status(&app, second["booking"]["id"].as_str().unwrap()).await,
        "pending"
    );
    assert!(double_booked_seats(&app).await.is_empty());
}

#[tokio::test]
async fn expiry_racing_with_new_claims_never_leaves_a_seat_in_two_live_bookings() {
    let app = TestApp::spawn_with(&[("HOLD_TTL_SECONDS", "30"), NO_RATE_LIMITS]).await;
    let show = seed_small_showtime(&app).await;
    let visitors = logged_in_visitors(&app, 4).await;
    for round in 0..8 {
        let seat = show.seat_ids[round % show.seat_ids.len()];
        let (status, _) = hold(&visitors[0], show.showtime_id, &[seat]).await;
        assert_eq!(status, StatusCode::CREATED, "round {round}");
        app.state.clock.advance(time::Duration::seconds(31));
        let barrier = Arc::new(Barrier::new(4));
        let mut claims = Vec::new();
        for visitor in &visitors[1..] {
            let visitor = visitor.clone();
            let barrier = barrier.clone();
            let showtime = show.showtime_id;
            claims.push(tokio::spawn(async move {
                barrier.wait().await;
                hold(&visitor, showtime, &[seat]).await.0
            }));
        }
        let state = app.state.clone();
        let expiry = tokio::spawn(async move {
            barrier.wait().await;
            moviebooking::jobs::run_once(&state).await;
        });
        let mut winners = 0;
        for claim in claims {
            match claim.await.unwrap() {
                StatusCode::CREATED => winners += 1,
                StatusCode::CONFLICT => {}
                other => panic!("round {round}: unexpected {other}"),
            }
        }
        expiry.await.unwrap();
        assert_eq!(winners, 1, "round {round}: exactly one new holder");
        assert!(double_booked_seats(&app).await.is_empty(), "round {round}");
        // Let this round's winner lapse too before the next round.
        app.state.clock.advance(time::Duration::seconds(31));
        app.run_jobs().await;
    }
}

#[tokio::test]
async fn two_app_processes_on_one_database_still_sell_a_seat_once() {
    let app = TestApp::spawn_with(&[NO_RATE_LIMITS]).await;
    let other = app.another_instance().await;
    let show = seed_small_showtime(&app).await;
    let visitors = logged_in_visitors(&app, 10).await;
    let barrier = Arc::new(Barrier::new(visitors.len()));
    let mut tasks = Vec::new();
    for (i, visitor) in visitors.into_iter().enumerate() {
        // Half the visitors reach the first process, half the second.
        let visitor = if i % 2 == 0 {
            visitor
        } else {
            crate::common::Browser {
                base_url: other.base_url.clone(),
                client: visitor.client.clone(),
            }
        };
        let barrier = barrier.clone();
        let (showtime, seat) = (show.showtime_id, show.seat_ids[5]);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            hold(&visitor, showtime, &[seat]).await.0
        }));
    }
    let mut created = 0;
    for task in tasks {
        let status = task.await.unwrap();
        assert!(status == StatusCode::CREATED || status == StatusCode::CONFLICT);
        created += usize::from(status == StatusCode::CREATED);
    }
    assert_eq!(created, 1);
    assert!(double_booked_seats(&app).await.is_empty());
}

#[tokio::test]
async fn holding_again_replaces_the_earlier_hold() {
    let app = TestApp::spawn().await;
    let show = seed_small_showtime(&app).await;
    let visitor = &logged_in_visitors(&app, 1).await[0];
    let (_, first) = hold(visitor, show.showtime_id, &show.seat_ids[0..2]).await;
    let (status, second) = hold(visitor, show.showtime_id, &show.seat_ids[2..3]).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        booking_status(&app, first["booking"]["id"].as_str().unwrap()).await,
        "cancelled"
    );
    assert_eq!(second["booking"]["status"], "pending");
    let (_, seats) = visitor
        .get_json(&format!("/api/v1/showtimes/{}/seats", show.showtime_id))
        .await;
    let status_of = |id: i64| {
        seats["seats"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(
        status_of(show.seat_ids[0]),
        "available",
        "the replaced hold's seats are free"
    );
    let other = &logged_in_visitors(&app, 1).await[0];
    let (_, seats) = other
        .get_json(&format!("/api/v1/showtimes/{}/seats", show.showtime_id))
        .await;
    let held = seats["seats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == show.seat_ids[2])
        .unwrap();
    assert_eq!(held["status"], "held", "others see the new hold");
}

#[tokio::test]
async fn one_account_cannot_hold_seats_for_too_many_shows() {
    let app = TestApp::spawn_with(&[("MAX_LIVE_HOLDS_PER_USER", "1")]).await;
    let show = seed_small_showtime(&app).await;
    let later = crate::common::booking::another_showtime(&app, show.showtime_id).await;
    let visitor = &logged_in_visitors(&app, 1).await[0];
    assert_eq!(
        hold(visitor, show.showtime_id, &show.seat_ids[0..1])
            .await
            .0,
        StatusCode::CREATED
    );
    let (status, body) = hold(visitor, later, &show.seat_ids[0..1]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"], "too_many_holds");
}

#[tokio::test]
async fn holds_refuse_bad_selections_with_clear_errors() {
    let app = TestApp::spawn_with(&[("MAX_SEATS_PER_BOOKING", "4")]).await;
    let show = seed_small_showtime(&app).await;
    let visitor = &logged_in_visitors(&app, 1).await[0];
    let id = show.showtime_id;

    let (status, body) = hold(visitor, id, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_selection"))
    );
    let (status, body) = hold(visitor, id, &show.seat_ids[0..5]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["message"].as_str().unwrap().contains("at most 4"));
    let (status, _) = hold(visitor, id, &[show.seat_ids[0], show.seat_ids[0]]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = hold(visitor, id, &[999_999]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_seats"))
    );
    sqlx::query("UPDATE seats SET kind = 'blocked' WHERE id = $1")
        .bind(show.seat_ids[9])
        .execute(app.db.writer())
        .await
        .unwrap();
    let (status, body) = hold(visitor, id, &[show.seat_ids[9]]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_seats"))
    );
    let (status, body) = hold(visitor, 987_654, &[show.seat_ids[0]]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    // Malformed bodies are the client's mistake too.
    let response = visitor
        .client
        .post(visitor.url(&format!("/api/v1/showtimes/{id}/holds")))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error());
    let response = visitor
        .post_json(
            &format!("/api/v1/showtimes/{id}/holds"),
            &json!({ "seat_ids": [1], "price": 1 }),
        )
        .await;
    assert!(
        response.status().is_client_error(),
        "unknown fields are refused"
    );

    // Nobody books a show that has started.
    app.state.clock.advance(time::Duration::days(3));
    let (status, body) = hold(visitor, id, &show.seat_ids[0..1]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("showtime_closed"))
    );

    // And only logged-in visitors hold seats.
    let (status, body) = hold(&app.browser(), id, &show.seat_ids[0..1]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    assert!(double_booked_seats(&app).await.is_empty());
}

#[tokio::test]
async fn a_cancelled_or_started_showtime_cannot_be_booked() {
    let app = TestApp::spawn_with(&[("BOOKING_CUTOFF_MINUTES", "30")]).await;
    let show = seed_small_showtime(&app).await;
    let visitor = &logged_in_visitors(&app, 1).await[0];
    sqlx::query("UPDATE showtimes SET is_cancelled = 1 WHERE id = $1")
        .bind(show.showtime_id)
        .execute(app.db.writer())
        .await
        .unwrap();
    let (status, body) = hold(visitor, show.showtime_id, &show.seat_ids[0..1]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["message"].as_str().unwrap().contains("cancelled"));
}

#[tokio::test]
async fn the_booking_cutoff_closes_sales_before_the_start() {
    let app = TestApp::spawn_with(&[("BOOKING_CUTOFF_MINUTES", "30")]).await;
    let show = seed_small_showtime(&app).await;
    let visitor = &logged_in_visitors(&app, 1).await[0];
    let starts_at: i64 = sqlx::query_scalar("SELECT starts_at FROM showtimes WHERE id = $1")
        .bind(show.showtime_id)
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let until_cutoff = starts_at - app.state.clock.unix_now() - 29 * 60;
    app.state
        .clock
        .advance(time::Duration::seconds(until_cutoff));
    let (status, body) = hold(visitor, show.showtime_id, &show.seat_ids[0..1]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["message"].as_str().unwrap().contains("30 minutes"));
}

#[tokio::test]
async fn the_price_is_the_seats_plus_fee_plus_gst_on_the_fee() {
    let app =
        TestApp::spawn_with(&[("CONVENIENCE_FEE_PAISE", "3000"), ("FEE_GST_PERCENT", "18")]).await;
    let show = seed_small_showtime(&app).await;
    let visitor = &logged_in_visitors(&app, 1).await[0];
    let chosen = [show.seat_ids[0], show.seat_ids[1]];
    let (status, body) = hold(visitor, show.showtime_id, &chosen).await;
    assert_eq!(status, StatusCode::CREATED);
    let booking = &body["booking"];
    let seats_paise: i64 = booking["seats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["price_paise"].as_i64().unwrap())
        .sum();
    assert_eq!(booking["amount"]["seats_paise"], seats_paise);
    assert_eq!(booking["amount"]["fee_paise"], 6000);
    assert_eq!(booking["amount"]["tax_paise"], 1080);
    assert_eq!(booking["amount"]["total_paise"], seats_paise + 6000 + 1080);
    assert!(booking["expires_at"].is_string());
    assert_eq!(booking["code"].as_str().unwrap().len(), 8);
}

#[tokio::test]
async fn nobody_reaches_another_users_booking() {
    let app = TestApp::spawn().await;
    let show = seed_small_showtime(&app).await;
    let visitors = logged_in_visitors(&app, 2).await;
    let (_, body) = hold(&visitors[0], show.showtime_id, &show.seat_ids[0..1]).await;
    let id = body["booking"]["id"].as_str().unwrap().to_owned();

    let (status, mine) = visitors[0]
        .get_json(&format!("/api/v1/bookings/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine["id"], id.as_str());
    for path in [
        format!("/api/v1/bookings/{id}"),
        format!("/bookings/{id}"),
        format!("/bookings/{id}/checkout"),
    ] {
        let status = visitors[1].get(&path).await.status();
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let response = visitors[1]
        .post_json(&format!("/api/v1/bookings/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let (_, list) = visitors[1].get_json("/api/v1/bookings").await;
    assert_eq!(list["items"], json!([]));
    assert_eq!(booking_status(&app, &id).await, "pending");
}

#[tokio::test]
async fn without_javascript_the_seat_map_is_a_form_that_books() {
    let app = TestApp::spawn().await;
    let show = seed_small_showtime(&app).await;
    crate::common::accounts::create_user(
        &app,
        "asha@example.com",
        "correct horse battery staple",
        false,
    )
    .await;
    let browser = app.browser();
    crate::common::accounts::login(&browser, "asha@example.com", "correct horse battery staple")
        .await;

    let (status, page) = browser
        .get_text(&format!("/showtimes/{}/seats", show.showtime_id))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("type=\"checkbox\" name=\"seat_ids\""));
    assert!(
        page.contains("aria-label=\"Row A seat 1, "),
        "each seat has an accessible name"
    );
    assert!(page.contains("available\""));
    let token = extract_input(&page, "csrf_token").unwrap();

    // Two checkboxes ticked: the form sends seat_ids twice.
    let form = format!(
        "csrf_token={token}&seat_ids={}&seat_ids={}",
        show.seat_ids[0], show.seat_ids[1]
    );
    let response = browser
        .client
        .post(browser.url(&format!("/showtimes/{}/hold", show.showtime_id)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let checkout = location(&response);
    assert!(
        checkout.starts_with("/bookings/") && checkout.ends_with("/checkout"),
        "{checkout}"
    );

    let (status, page) = browser.get_text(&checkout).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Convenience fee") && page.contains("GST on fee"));
    assert!(page.contains("₹60.00"), "two tickets' fee");
    assert!(page.contains("₹10.80"), "GST on the fee");

    let (_, list) = browser.get_text("/bookings").await;
    assert!(list.contains("Awaiting payment"));

    // The seats now show as held to everyone else.
    let (_, other_view) = app
        .browser()
        .get_text(&format!("/showtimes/{}/seats", show.showtime_id))
        .await;
    assert!(other_view.contains("held by someone else"));
}

#[tokio::test]
async fn a_taken_seat_brings_the_map_back_with_a_message_and_the_rest_of_the_selection() {
    let app = TestApp::spawn().await;
    let show = seed_small_showtime(&app).await;
    let first = &logged_in_visitors(&app, 1).await[0];
    hold(first, show.showtime_id, &show.seat_ids[0..1]).await;

    crate::common::accounts::create_user(
        &app,
        "ravi@example.com",
        "correct horse battery staple",
        false,
    )
    .await;
    let browser = app.browser();
    crate::common::accounts::login(&browser, "ravi@example.com", "correct horse battery staple")
        .await;
    let token = browser.csrf_token().await;
    let response = browser
        .client
        .post(browser.url(&format!("/showtimes/{}/hold", show.showtime_id)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf_token={token}&seat_ids={}&seat_ids={}",
            show.seat_ids[0], show.seat_ids[1]
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let page = response.text().await.unwrap();
    assert!(page.contains("just taken by someone else"));
    assert!(page.contains(&format!("value=\"{}\" data-price", show.seat_ids[1])));
    let kept = format!("value=\"{}\" data-price", show.seat_ids[1]);
    let kept_at = page.find(&kept).unwrap();
    assert!(
        page[kept_at..kept_at + 300].contains("checked"),
        "the still-free seat stays selected"
    );
}

#[tokio::test]
async fn cancelling_a_pending_booking_frees_its_seats_at_once() {
    let app = TestApp::spawn().await;
    let show = seed_small_showtime(&app).await;
    let visitors = logged_in_visitors(&app, 2).await;
    let (_, body) = hold(&visitors[0], show.showtime_id, &show.seat_ids[0..2]).await;
    let id = body["booking"]["id"].as_str().unwrap();
    let response = visitors[0]
        .post_json(&format!("/api/v1/bookings/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let cancelled: serde_json::Value = response.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["expires_at"], serde_json::Value::Null);
    let (status, _) = hold(&visitors[1], show.showtime_id, &show.seat_ids[0..2]).await;
    assert_eq!(status, StatusCode::CREATED);
    let response = visitors[0]
        .post_json(&format!("/api/v1/bookings/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "cancelling twice is refused"
    );
}

#[tokio::test]
async fn my_bookings_list_upcoming_shows_first() {
    let app = TestApp::spawn().await;
    let show = seed_small_showtime(&app).await;
    let later = crate::common::booking::another_showtime(&app, show.showtime_id).await;
    let visitor = &logged_in_visitors(&app, 1).await[0];
    let (_, later_booking) = hold(visitor, later, &show.seat_ids[0..1]).await;
    let (_, sooner_booking) = hold(visitor, show.showtime_id, &show.seat_ids[0..1]).await;
    let (status, list) = visitor.get_json("/api/v1/bookings").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            sooner_booking["booking"]["id"].as_str().unwrap(),
            later_booking["booking"]["id"].as_str().unwrap()
        ]
    );
}
