//! The door (issue #16): admitting tickets exactly once through `POST /api/v1/checkin`,
//! from staff sessions and scanner devices, the rules that refuse a ticket, undo, offline
//! sync, and what admission changes for the moviegoer.

use std::sync::Arc;

use futures::future::join_all;
use moviebooking::domain::roles::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::Duration;
use tokio::sync::Barrier;

use crate::common::accounts::{create_user_with_role, login};
use crate::common::admin::{
    PASSWORD, World, confirmed_booking, confirmed_booking_on, world, world_with,
};
use crate::common::booking::{booking_status, hold, logged_in_visitors};
use crate::common::catalogue::seed_small_showtime;
use crate::common::{Browser, TestApp};

/// A logged-in staff member with `role`.
async fn staff(app: &TestApp, role: Role) -> Browser {
    let email = format!(
        "{}-{}@example.com",
        role.as_str(),
        moviebooking::domain::tokens::random_token(6).to_lowercase()
    );
    create_user_with_role(app, &email, PASSWORD, role).await;
    let browser = app.browser();
    login(&browser, &email, PASSWORD).await;
    browser
}

/// Moves a showtime so that it starts in `minutes` (real time), as the door sees it.
async fn starts_in(app: &TestApp, showtime_id: i64, minutes: i64) {
    let starts = app.state.clock.unix_now() + minutes * 60;
    sqlx::query("UPDATE showtimes SET starts_at = $1, ends_at = $2 WHERE id = $3")
        .bind(starts)
        .bind(starts + 3 * 3600)
        .bind(showtime_id)
        .execute(app.db.writer())
        .await
        .unwrap();
}

async fn showtime_of(app: &TestApp, public_id: &str) -> i64 {
    sqlx::query_scalar("SELECT showtime_id FROM bookings WHERE public_id = $1")
        .bind(public_id)
        .fetch_one(app.db.reader())
        .await
        .unwrap()
}

async fn token_and_code(owner: &Browser, public_id: &str) -> (String, String) {
    let (status, body) = owner
        .get_json(&format!("/api/v1/bookings/{public_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        body["ticket_token"].as_str().unwrap().to_owned(),
        body["code"].as_str().unwrap().to_owned(),
    )
}

async fn scan(door: &Browser, body: Value) -> (StatusCode, Value) {
    let response = door.post_json("/api/v1/checkin", &body).await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every door scans `token` at the same instant; the statuses they got.
async fn race(doors: &[Browser], token: &str, showtime: i64) -> Vec<StatusCode> {
    let barrier = Arc::new(Barrier::new(doors.len()));
    let scans = doors.iter().map(|door| {
        let barrier = barrier.clone();
        async move {
            barrier.wait().await;
            scan(door, json!({ "token": token, "showtime_id": showtime }))
                .await
                .0
        }
    });
    join_all(scans).await
}

/// A world with a paid booking whose showtime starts in 30 minutes:
/// (world, owner, booking, token, code, showtime id).
async fn door_world() -> (World, Browser, String, String, String, i64) {
    let w = world().await;
    let (owner, booking) = confirmed_booking(&w).await;
    let showtime = showtime_of(&w.app, &booking).await;
    starts_in(&w.app, showtime, 30).await;
    let (token, code) = token_and_code(&owner, &booking).await;
    (w, owner, booking, token, code, showtime)
}

#[tokio::test]
async fn a_ticket_is_admitted_once_and_every_later_scan_says_by_whom() {
    let (w, _owner, booking, token, code, showtime) = door_world().await;
    let usher = staff(&w.app, Role::Usher).await;
    let (status, body) = scan(&usher, json!({ "token": token, "showtime_id": showtime })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["result"], "admitted");
    assert!(body["admission_id"].as_i64().is_some());
    assert_eq!(body["booking"]["id"], booking);
    assert_eq!(body["booking"]["code"], code);
    assert_eq!(body["booking"]["seats"].as_array().unwrap().len(), 2);
    assert!(body["booking"]["screen"].as_str().is_some());

    // The same ticket again, by token or by typed code (any case), at another door.
    let manager = staff(&w.app, Role::Manager).await;
    for again in [
        json!({ "token": token, "showtime_id": showtime }),
        json!({ "code": code.to_lowercase(), "showtime_id": showtime }),
    ] {
        let (status, body) = scan(&manager, again).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"], "already_admitted");
        assert!(body["admitted_by"].as_str().unwrap().starts_with("usher-"));
        assert!(body["admitted_at"].as_str().is_some());
    }
}

#[tokio::test]
async fn twenty_doors_scanning_one_ticket_at_once_admit_it_once() {
    let (w, _owner, _booking, token, _code, showtime) = door_world().await;
    let mut doors = Vec::new();
    for _ in 0..20 {
        doors.push(staff(&w.app, Role::Usher).await);
    }
    let statuses = race(&doors, &token, showtime).await;
    let admitted = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let already = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((admitted, already), (1, 19), "{statuses:?}");
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admissions")
        .fetch_one(w.app.db.reader())
        .await
        .unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn two_app_processes_on_one_database_admit_a_ticket_once() {
    let (w, _owner, _booking, token, _code, showtime) = door_world().await;
    let other = w.app.another_instance().await;
    let mut doors = Vec::new();
    for i in 0..20 {
        let app = if i % 2 == 0 { &w.app } else { &other };
        doors.push(staff(app, Role::Usher).await);
    }
    let statuses = race(&doors, &token, showtime).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        19
    );
}

#[tokio::test]
async fn forged_garbled_and_unknown_tickets_are_invalid() {
    let (w, _owner, _booking, token, _code, showtime) = door_world().await;
    let usher = staff(&w.app, Role::Usher).await;
    let mut tampered = token.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for body in [
        json!({ "token": tampered, "showtime_id": showtime }),
        json!({ "token": &token[..token.len() - 3], "showtime_id": showtime }),
        json!({ "token": "MB1.e30.AAAA", "showtime_id": showtime }),
        json!({ "token": "not a ticket", "showtime_id": showtime }),
        json!({ "code": "ZZZZZZZZ", "showtime_id": showtime }),
        json!({ "code": "x\u{0}", "showtime_id": showtime }),
    ] {
        let (status, answer) = scan(&usher, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["error"], "invalid_ticket", "{body}");
    }
    let (status, answer) = scan(&usher, json!({ "showtime_id": showtime })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["error"], "invalid_input");
    let (status, _) = scan(
        &usher,
        json!({ "code": "ABCDEFGH", "showtime_id": 999_999 }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_door_says_which_showtime_a_ticket_is_for_and_refuses_dead_tickets() {
    let (w, owner, booking, token, _code, showtime) = door_world().await;
    let usher = staff(&w.app, Role::Usher).await;

    // Another showtime's door.
    let other = seed_small_showtime(&w.app).await;
    starts_in(&w.app, other.showtime_id, 20).await;
    let (status, body) = scan(
        &usher,
        json!({ "token": token, "showtime_id": other.showtime_id }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"], "wrong_showtime");
    assert_eq!(body["showtime"]["id"], showtime);
    assert!(body["showtime"]["screen"].as_str().is_some());
    assert!(body["showtime"]["starts_at"].as_str().is_some());

    // A pending hold that ran out is expired at once, without waiting for the job.
    let visitor = logged_in_visitors(&w.app, 1).await.remove(0);
    let (status, held) = hold(&visitor, other.showtime_id, &other.seat_ids[5..6]).await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    let code: String = sqlx::query_scalar("SELECT code FROM bookings WHERE public_id = $1")
        .bind(held["booking"]["id"].as_str().unwrap())
        .fetch_one(w.app.db.reader())
        .await
        .unwrap();
    sqlx::query("UPDATE bookings SET hold_expires_at = $1 WHERE code = $2")
        .bind(w.app.state.clock.unix_now() - 1)
        .bind(&code)
        .execute(w.app.db.writer())
        .await
        .unwrap();
    let (status, body) = scan(
        &usher,
        json!({ "code": code, "showtime_id": other.showtime_id }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        (&body["error"], &body["status"]),
        (&json!("ticket_not_valid"), &json!("expired"))
    );

    // A refunded ticket still carries a valid signature; the door checks the booking.
    let cancel = owner
        .post_json(&format!("/api/v1/bookings/{booking}/cancel"), &json!({}))
        .await;
    assert_eq!(
        cancel.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "within 2 h of the show"
    );
    let refund = w
        .staff
        .post_form(
            &format!("/admin/bookings/{booking}/refund"),
            &[("reason", "Customer called"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(refund.status(), StatusCode::SEE_OTHER);
    assert_eq!(booking_status(&w.app, &booking).await, "refunded");
    let (status, body) = scan(&usher, json!({ "token": token, "showtime_id": showtime })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        (&body["error"], &body["status"]),
        (&json!("ticket_not_valid"), &json!("refunded"))
    );

    // A cancelled hold.
    let (status, held) = hold(&visitor, other.showtime_id, &other.seat_ids[7..8]).await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    let held_id = held["booking"]["id"].as_str().unwrap();
    visitor
        .post_json(&format!("/api/v1/bookings/{held_id}/cancel"), &json!({}))
        .await;
    let code: String = sqlx::query_scalar("SELECT code FROM bookings WHERE public_id = $1")
        .bind(held_id)
        .fetch_one(w.app.db.reader())
        .await
        .unwrap();
    let (_, body) = scan(
        &usher,
        json!({ "code": code, "showtime_id": other.showtime_id }),
    )
    .await;
    assert_eq!(
        (&body["error"], &body["status"]),
        (&json!("ticket_not_valid"), &json!("cancelled"))
    );
}

#[tokio::test]
async fn the_doors_open_an_hour_before_the_start_and_close_at_the_end() {
    let w = world().await;
    let (owner, booking) = confirmed_booking(&w).await;
    let showtime = showtime_of(&w.app, &booking).await;
    let (token, _) = token_and_code(&owner, &booking).await;
    let usher = staff(&w.app, Role::Usher).await;
    let scan_now = || scan(&usher, json!({ "token": token, "showtime_id": showtime }));

    // The fixture starts two days from now.
    let (status, body) = scan_now().await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"], "too_early");
    assert!(body["opens_at"].as_str().is_some());

    let starts: i64 = sqlx::query_scalar("SELECT starts_at FROM showtimes WHERE id = $1")
        .bind(showtime)
        .fetch_one(w.app.db.reader())
        .await
        .unwrap();
    let ends: i64 = sqlx::query_scalar("SELECT ends_at FROM showtimes WHERE id = $1")
        .bind(showtime)
        .fetch_one(w.app.db.reader())
        .await
        .unwrap();
    let now = w.app.state.clock.unix_now();
    w.app
        .state
        .clock
        .advance(Duration::seconds(ends - now + 60));
    let (status, body) = scan_now().await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"], "too_late");

    // Back to 61 minutes before the start: still too early; 59 minutes before: in.
    let now = w.app.state.clock.unix_now();
    w.app
        .state
        .clock
        .advance(Duration::seconds(starts - 61 * 60 - now));
    assert_eq!(scan_now().await.1["error"], "too_early");
    w.app.state.clock.advance(Duration::minutes(2));
    assert_eq!(scan_now().await.0, StatusCode::OK);
}

#[tokio::test]
async fn an_admission_is_undone_by_its_usher_or_a_manager_within_ten_minutes() {
    let (w, _owner, _booking, token, _code, showtime) = door_world().await;
    let usher = staff(&w.app, Role::Usher).await;
    let other_usher = staff(&w.app, Role::Usher).await;
    let manager = staff(&w.app, Role::Manager).await;
    let admit = || scan(&usher, json!({ "token": token, "showtime_id": showtime }));
    let undo = |door: &Browser, id: i64| {
        let door = door.clone();
        async move {
            door.post_json(&format!("/api/v1/checkin/{id}/undo"), &json!({}))
                .await
                .status()
        }
    };

    let (_, first) = admit().await;
    let id = first["admission_id"].as_i64().unwrap();
    assert_eq!(undo(&other_usher, id).await, StatusCode::FORBIDDEN);
    assert_eq!(undo(&usher, id).await, StatusCode::OK);
    assert_eq!(
        undo(&usher, id).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "once"
    );

    // Admitted again after the undo; a manager may undo anyone's.
    let (status, second) = admit().await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let id = second["admission_id"].as_i64().unwrap();
    assert_eq!(undo(&manager, id).await, StatusCode::OK);
    let (_, third) = admit().await;
    let id = third["admission_id"].as_i64().unwrap();
    w.app.state.clock.advance(Duration::minutes(11));
    assert_eq!(undo(&usher, id).await, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(undo(&usher, 999_999).await, StatusCode::NOT_FOUND);
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'checkin.undo'")
            .fetch_one(w.app.db.reader())
            .await
            .unwrap();
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn a_used_ticket_cannot_be_cancelled_by_the_moviegoer() {
    // With no cancellation cut-off, the only thing in the way is the admission.
    let w = world_with(&[("CANCELLATION_CUTOFF_HOURS", "0")]).await;
    let show = seed_small_showtime(&w.app).await;
    let (owner, booking) = confirmed_booking_on(&w, show.showtime_id, &show.seat_ids[0..2]).await;
    let (token, _) = token_and_code(&owner, &booking).await;
    let usher = staff(&w.app, Role::Usher).await;
    w.app
        .state
        .clock
        .advance(Duration::hours(47) + Duration::minutes(30));
    let (status, body) = scan(
        &usher,
        json!({ "token": token, "showtime_id": show.showtime_id }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cancel = owner
        .post_json(&format!("/api/v1/bookings/{booking}/cancel"), &json!({}))
        .await;
    assert_eq!(cancel.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = cancel.json().await.unwrap();
    assert_eq!(body["error"], "not_cancellable");
    let (_, page) = owner.get_text(&format!("/bookings/{booking}")).await;
    assert!(page.contains("used at the door"), "{page}");
    assert!(!page.contains("Cancel booking"));
    assert_eq!(booking_status(&w.app, &booking).await, "confirmed");
}

#[tokio::test]
async fn offline_scans_sync_once_and_a_double_admission_becomes_one_conflict() {
    let (w, _owner, _booking, token, code, showtime) = door_world().await;
    let door_one = staff(&w.app, Role::Usher).await;
    let door_two = staff(&w.app, Role::Usher).await;
    let scanned_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let sync = |door: &Browser, scans: Value| {
        let door = door.clone();
        async move {
            let response = door
                .post_json("/api/v1/checkin/sync", &json!({ "scans": scans }))
                .await;
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let first = json!([
        { "client_id": "door1-0001", "token": token, "showtime_id": showtime, "scanned_at": scanned_at },
        { "client_id": "door1-0002", "code": "ZZZZZZZZ", "showtime_id": showtime, "scanned_at": scanned_at },
    ]);
    let (status, body) = sync(&door_one, first.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[0]["client_id"], "door1-0001");
    assert_eq!(results[0]["result"], "admitted");
    assert_eq!(results[0]["status"], 200);
    assert_eq!(results[1]["error"], "invalid_ticket");

    // The other door admitted the same ticket while both were offline.
    let second = json!([
        { "client_id": "door2-0001", "code": code, "showtime_id": showtime, "scanned_at": scanned_at },
    ]);
    let (_, body) = sync(&door_two, second).await;
    assert_eq!(body["results"][0]["error"], "already_admitted");
    assert_eq!(body["results"][0]["status"], 409);

    // Replaying a batch changes nothing and answers the same.
    let (_, replay) = sync(&door_one, first).await;
    assert_eq!(replay["results"][0]["result"], "admitted");
    assert_eq!(
        replay["results"][0]["admission_id"],
        body_admission(&w.app).await
    );
    let (admissions, conflicts): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM admissions), \
         (SELECT COUNT(*) FROM checkin_scans WHERE conflict = 1)",
    )
    .fetch_one(w.app.db.reader())
    .await
    .unwrap();
    assert_eq!((admissions, conflicts), (1, 1));

    // The ticket list for offline use shows the admission.
    let (status, list) = door_two
        .get_json(&format!("/api/v1/checkin/showtimes/{showtime}/tickets"))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let ticket = &list["tickets"][0];
    assert_eq!(ticket["code"], code);
    assert_eq!(ticket["status"], "confirmed");
    assert!(ticket["admitted_at"].as_str().is_some());
    assert_eq!(ticket["seats"].as_array().unwrap().len(), 2);

    // The conflict is on the showtime's door page for staff.
    let (_, page) = door_two
        .get_text(&format!("/admin/checkin?showtime={showtime}"))
        .await;
    assert!(page.contains("Conflicts") && page.contains(&code), "{page}");
}

async fn body_admission(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT id FROM admissions")
        .fetch_one(app.db.reader())
        .await
        .unwrap()
}

/// Creates a scanner device for a theatre through the admin page; returns its token.
async fn create_device(manager: &Browser, theatre_id: i64, name: &str) -> String {
    let response = manager
        .post_form(
            "/admin/checkin/devices",
            &[("name", name), ("theatre_id", &theatre_id.to_string())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    let start = page.find("mbdev_").expect("the token is shown once");
    page[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

#[tokio::test]
async fn a_device_admits_at_its_own_theatre_only_and_is_refused_once_revoked() {
    let (w, _owner, _booking, token, _code, showtime) = door_world().await;
    let theatre: i64 = sqlx::query_scalar(
        "SELECT sc.theatre_id FROM showtimes s JOIN screens sc ON sc.id = s.screen_id WHERE s.id = $1",
    )
    .bind(showtime)
    .fetch_one(w.app.db.reader())
    .await
    .unwrap();
    let manager = staff(&w.app, Role::Manager).await;
    let device_token = create_device(&manager, theatre, "Door 1").await;
    let other = seed_small_showtime(&w.app).await;
    let elsewhere = create_device(&manager, other.theatre_id, "Other door").await;
    let client = reqwest::Client::new();
    let scan_as = |bearer: String, showtime: i64| {
        let (client, token, url) = (
            client.clone(),
            token.clone(),
            format!("{}/api/v1/checkin", w.app.base_url),
        );
        async move {
            let response = client
                .post(url)
                .bearer_auth(bearer)
                .json(&json!({ "token": token, "showtime_id": showtime }))
                .send()
                .await
                .unwrap();
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    // Another theatre's device does not even see this showtime.
    let (status, _) = scan_as(elsewhere.clone(), showtime).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = scan_as("mbdev_forged".into(), showtime).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = scan_as(device_token.clone(), showtime).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = scan_as(device_token.clone(), showtime).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["admitted_by"], "Door 1");

    let id: i64 = sqlx::query_scalar("SELECT id FROM checkin_devices WHERE name = 'Door 1'")
        .fetch_one(w.app.db.reader())
        .await
        .unwrap();
    let revoke = manager
        .post_form(
            &format!("/admin/checkin/devices/{id}/revoke"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(revoke.status(), StatusCode::SEE_OTHER);
    let (status, _) = scan_as(device_token, showtime).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM checkin_devices WHERE id = $1")
        .bind(id)
        .fetch_one(w.app.db.reader())
        .await
        .unwrap();
    assert!(!stored.starts_with("mbdev_"), "only the hash is stored");
}

#[tokio::test]
async fn customers_and_anonymous_visitors_get_404_from_the_check_in_api() {
    let (w, owner, _booking, token, _code, showtime) = door_world().await;
    let anonymous = w.app.browser();
    for door in [&owner, &anonymous] {
        let (status, _) = scan(door, json!({ "token": token, "showtime_id": showtime })).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = door
            .get_json(&format!("/api/v1/checkin/showtimes/{showtime}/tickets"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn the_door_page_admits_a_typed_code_without_javascript() {
    let (w, _owner, _booking, _token, code, showtime) = door_world().await;
    let usher = staff(&w.app, Role::Usher).await;
    let (status, page) = usher
        .get_text(&format!("/admin/checkin?showtime={showtime}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("0</span> admitted of <span id=\"door-sold\">1</span> sold"),
        "{page}"
    );
    let response = usher
        .get(&format!("/admin/checkin?showtime={showtime}"))
        .await;
    let policy = response.headers()["permissions-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("camera=(self)"), "{policy}");

    let showtime_field = showtime.to_string();
    let admit = usher
        .post_form(
            "/admin/checkin",
            &[
                ("code", &code.to_lowercase()),
                ("showtime", &showtime_field),
            ],
        )
        .await;
    assert_eq!(admit.status(), StatusCode::OK);
    let page = admit.text().await.unwrap();
    assert!(
        page.contains("door-ok") && page.contains("Admit 2"),
        "{page}"
    );
    assert!(page.contains("1</span> admitted of"), "{page}");
    assert!(
        page.contains("/undo\""),
        "the last admission has an Undo button"
    );

    let again = usher
        .post_form(
            "/admin/checkin",
            &[("code", &code), ("showtime", &showtime_field)],
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let page = again.text().await.unwrap();
    assert!(
        page.contains("door-bad") && page.contains("Already admitted"),
        "{page}"
    );

    let typo = usher
        .post_form(
            "/admin/checkin",
            &[("code", "NOPE0000"), ("showtime", &showtime_field)],
        )
        .await;
    assert_eq!(typo.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = typo.text().await.unwrap();
    assert!(
        page.contains("Not a valid ticket") && page.contains("value=\"NOPE0000\""),
        "the typed code is kept"
    );

    // Everything starting in the next hour at this theatre.
    let theatre: i64 = sqlx::query_scalar(
        "SELECT sc.theatre_id FROM showtimes s JOIN screens sc ON sc.id = s.screen_id WHERE s.id = $1",
    )
    .bind(showtime)
    .fetch_one(w.app.db.reader())
    .await
    .unwrap();
    let (status, page) = usher
        .get_text(&format!("/admin/checkin?theatre={theatre}&showtime=next"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("next hour"));
    let foyer = usher
        .post_form(
            "/admin/checkin",
            &[
                ("code", &code),
                ("theatre", &theatre.to_string()),
                ("showtime", "next"),
            ],
        )
        .await;
    assert_eq!(
        foyer.status(),
        StatusCode::CONFLICT,
        "already admitted above"
    );
}
