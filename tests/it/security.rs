//! Regressions for what an outside security review found (issue #15), one test per finding,
//! each failing on the code before the fix. They run on SQLite and, with
//! `TEST_DATABASE_URL`, on PostgreSQL.

use std::collections::HashMap;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use time::Duration;

use crate::common::accounts::create_user;
use crate::common::admin::{confirmed_booking, world};
use crate::common::booking::{booking_status, hold, logged_in_visitors};
use crate::common::catalogue::seed_small_showtime;
use crate::common::production::{
    client, header, production, production_env, production_with, run_binary,
};
use crate::common::{Browser, TestApp, location};

const PASSWORD: &str = "correct horse battery staple";

async fn outbox_count(app: &TestApp, to_like: &str, kind: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM email_outbox WHERE recipient LIKE $1 AND kind = $2")
        .bind(to_like)
        .bind(kind)
        .fetch_one(app.db.reader())
        .await
        .expect("count the outbox")
}

// ---------------------------------------------------------------------------------------
// 1. Client address spoofing
// ---------------------------------------------------------------------------------------

#[test]
fn production_refuses_to_serve_until_trusted_proxy_hops_is_said_explicitly() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_binary(
        dir.path(),
        &production_env(&[("TRUSTED_PROXY_HOPS", "")]),
        &["serve"],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("MB-E070"), "{stderr}");
    assert!(
        stderr.contains("TRUSTED_PROXY_HOPS=1 on Heroku and Railway"),
        "{stderr}"
    );
    assert!(
        stderr.contains("TRUSTED_PROXY_HOPS=0 when clients connect straight"),
        "{stderr}"
    );

    let check = run_binary(
        dir.path(),
        &production_env(&[("TRUSTED_PROXY_HOPS", "")]),
        &["check", "--deploy"],
    );
    assert!(!check.status.success());
    assert!(String::from_utf8_lossy(&check.stdout).contains("MB-E070"));
}

#[tokio::test]
async fn a_client_reaching_the_app_directly_cannot_escape_the_login_limit_with_forwarded_headers() {
    // TRUSTED_PROXY_HOPS unset trusts no proxy: the peer address is the client's.
    let app = TestApp::spawn_with(&production()).await;
    let client = client();
    let mut statuses = Vec::new();
    for n in 0..25u32 {
        let response = client
            .post(format!("{}/api/v1/auth/login", app.base_url))
            .header("x-forwarded-for", format!("198.51.100.{n}"))
            .json(&json!({ "email": "victim@example.com", "password": "wrong password" }))
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "rotating X-Forwarded-For must not reset the per-address limit: {statuses:?}"
    );
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn one_address_gets_at_most_three_account_emails_an_hour_however_they_are_asked_for() {
    let app = TestApp::spawn_with(&[("RATE_LIMITS", "off")]).await;
    create_user(&app, "ida@example.com", PASSWORD, false).await;
    let browser = app.browser();
    // Ten resets at once, as if from ten addresses: the budget is taken by one conditional
    // write per message, so exactly three go.
    let requests = (0..10).map(|_| {
        let browser = browser.clone();
        async move {
            browser
                .post_form("/accounts/password-reset", &[("email", "ida@example.com")])
                .await
                .status()
        }
    });
    for status in join_all(requests).await {
        assert_eq!(status, StatusCode::SEE_OTHER, "the answer never changes");
    }
    assert_eq!(
        outbox_count(&app, "%ida@example.com%", "password_reset").await,
        3
    );

    // Registering with the same address again ("someone tried to sign up") shares the budget.
    let response = browser
        .post_form(
            "/accounts/register",
            &[
                ("name", "Not Ida"),
                ("email", "ida@example.com"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let all: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM email_outbox WHERE recipient LIKE $1")
        .bind("%ida@example.com%")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(all, 3);

    // Another address is unaffected, and the next hour has a fresh budget.
    create_user(&app, "jo@example.com", PASSWORD, false).await;
    browser
        .post_form("/accounts/password-reset", &[("email", "jo@example.com")])
        .await;
    assert_eq!(
        outbox_count(&app, "%jo@example.com%", "password_reset").await,
        1
    );
    app.state.clock.advance(Duration::hours(1));
    browser
        .post_form("/accounts/password-reset", &[("email", "ida@example.com")])
        .await;
    assert_eq!(
        outbox_count(&app, "%ida@example.com%", "password_reset").await,
        4
    );
}

#[tokio::test]
async fn the_per_recipient_budget_holds_across_two_processes() {
    let app = TestApp::spawn_with(&[("RATE_LIMITS", "off")]).await;
    let other = app.another_instance().await;
    create_user(&app, "kay@example.com", PASSWORD, false).await;
    let requests = (0..8).map(|i| {
        let browser = if i % 2 == 0 {
            app.browser()
        } else {
            other.browser()
        };
        async move {
            browser
                .post_form("/accounts/password-reset", &[("email", "kay@example.com")])
                .await
                .status()
        }
    });
    join_all(requests).await;
    assert_eq!(
        outbox_count(&app, "%kay@example.com%", "password_reset").await,
        3
    );
}

// ---------------------------------------------------------------------------------------
// 2. Staff refunds through customer endpoints
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn staff_cannot_cancel_or_even_see_a_customers_booking_through_customer_routes() {
    let w = world().await;
    let (_owner, booking) = confirmed_booking(&w).await;

    let api = w
        .staff
        .post_json(&format!("/api/v1/bookings/{booking}/cancel"), &json!({}))
        .await;
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    let page = w
        .staff
        .post_form(&format!("/bookings/{booking}/cancel"), &[])
        .await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    for path in [
        format!("/bookings/{booking}"),
        format!("/bookings/{booking}/qr.svg"),
        format!("/bookings/{booking}/calendar.ics"),
        format!("/api/v1/bookings/{booking}"),
    ] {
        assert_eq!(
            w.staff.get(&path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(booking_status(&w.app, &booking).await, "confirmed");
    assert!(w.fake.refunds().is_empty(), "no money moved");

    // The admin page is where staff refund, with a reason and an audit entry.
    let (status, _) = w
        .staff
        .get_text(&format!("/admin/bookings/{booking}"))
        .await;
    assert_eq!(status, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------
// 3. The CSRF token is required on form routes whatever the content type
// ---------------------------------------------------------------------------------------

/// A POST a forger's page could make: JSON content type, a form-encoded body, no token.
async fn json_typed_post(browser: &Browser, path: &str, body: &str) -> reqwest::Response {
    browser
        .client
        .post(browser.url(path))
        .header("origin", &browser.base_url)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn form_routes_refuse_a_json_typed_body_without_the_form_token() {
    let w = world().await;
    let show = seed_small_showtime(&w.app).await;
    let (owner, booking) = confirmed_booking(&w).await;
    let visitor = logged_in_visitors(&w.app, 1).await.remove(0);

    let seat = show.seat_ids[5].to_string();
    let response = json_typed_post(
        &visitor,
        &format!("/showtimes/{}/hold", show.showtime_id),
        &format!("seat_ids={seat}"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM seat_claims WHERE showtime_id = $1")
        .bind(show.showtime_id)
        .fetch_one(w.app.db.reader())
        .await
        .unwrap();
    assert_eq!(held, 0, "nothing was held");

    let cancel = json_typed_post(&owner, &format!("/bookings/{booking}/cancel"), "x=1").await;
    assert_eq!(cancel.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let pay = json_typed_post(&owner, &format!("/bookings/{booking}/pay"), "x=1").await;
    assert_eq!(pay.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(booking_status(&w.app, &booking).await, "confirmed");

    let email_id: i64 = sqlx::query_scalar("SELECT MIN(id) FROM email_outbox")
        .fetch_one(w.app.db.reader())
        .await
        .unwrap();
    for path in [
        format!("/admin/bookings/{booking}/resend"),
        format!("/admin/emails/{email_id}/retry"),
    ] {
        let response = json_typed_post(&w.staff, &path, "{}").await;
        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{path}"
        );
    }

    let logout = json_typed_post(&visitor, "/accounts/logout", "").await;
    assert_eq!(logout.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _) = visitor.get_json("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "still logged in");

    // Other bodies that are not forms are refused the same way, and say why.
    let text = visitor
        .client
        .post(visitor.url("/accounts/logout"))
        .header("origin", &visitor.base_url)
        .header("content-type", "text/plain")
        .body("csrf_token=x")
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(text.text().await.unwrap().contains("takes a form"));

    // The JSON API still takes JSON without a form token.
    let (status, _) = hold(&visitor, show.showtime_id, &[show.seat_ids[6]]).await;
    assert_eq!(status, StatusCode::CREATED);
}

// ---------------------------------------------------------------------------------------
// 4 and 5. Production starts only on settings that pass `check --deploy`
// ---------------------------------------------------------------------------------------

#[test]
fn production_refuses_to_serve_on_any_deploy_check_error_and_names_each_one() {
    let dir = tempfile::tempdir().unwrap();
    let repeated = "x".repeat(40);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("BASE_URL", "http://tickets.example.com")], "MB-E012"),
        (vec![("ALLOWED_HOSTS", "*")], "MB-E011"),
        (vec![("RATE_LIMITS", "off")], "MB-E080"),
        (vec![("HSTS_SECONDS", "0")], "MB-E020"),
        (vec![("EMAIL_BACKEND", "file")], "MB-E050"),
        (vec![("SECRET_KEY", &repeated)], "MB-E004"),
    ];
    for (change, id) in cases {
        let mut env = production_env(&[]);
        for (name, value) in change {
            env.retain(|(n, _)| *n != name);
            env.push((name, value));
        }
        let output = run_binary(dir.path(), &env, &["serve"]);
        assert!(!output.status.success(), "{id}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("refusing to serve in production"),
            "{stderr}"
        );
        assert!(
            stderr.contains(id) && stderr.contains("fix:"),
            "{id}: {stderr}"
        );
    }
    // An empty ALLOWED_HOSTS too.
    let output = run_binary(
        dir.path(),
        &production_env(&[("ALLOWED_HOSTS", "")]),
        &["serve"],
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("MB-E010"));
}

#[test]
fn a_waived_error_lets_serve_go_on_to_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_binary(
        dir.path(),
        &production_env(&[("HSTS_SECONDS", "0"), ("DEPLOY_CHECK_WAIVE", "MB-E020")]),
        &["serve"],
    );
    // It gets past the audit and fails only at the (unreachable) database.
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("refusing to serve in production"),
        "{stderr}"
    );
    let check = run_binary(
        dir.path(),
        &production_env(&[("HSTS_SECONDS", "0"), ("DEPLOY_CHECK_WAIVE", "MB-E020")]),
        &["check", "--deploy"],
    );
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(!check.status.success(), "the audit still reports it");
    assert!(
        stdout.contains("MB-E020") && stdout.contains("MB-W110"),
        "{stdout}"
    );
}

#[test]
fn check_deploy_catches_a_patterned_key_a_foreign_payment_api_and_a_huge_body_limit() {
    let dir = tempfile::tempdir().unwrap();
    let patterned = "0123456789abcdef".repeat(4);
    let output = run_binary(
        dir.path(),
        &production_env(&[
            ("SECRET_KEY", &patterned),
            ("RAZORPAY_API_BASE", "http://127.0.0.1:9999/v1"),
            ("BODY_LIMIT_BYTES", "104857600"),
        ]),
        &["check", "--deploy"],
    );
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    for id in ["MB-E006", "MB-E034", "MB-E081"] {
        assert!(stdout.contains(id), "{id} missing:\n{stdout}");
    }
    assert!(!stdout.contains(&patterned), "the key is never printed");
}

// ---------------------------------------------------------------------------------------
// 6. The origin check compares scheme and port
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn an_origin_on_the_right_host_but_plain_http_is_refused_in_production() {
    let app = TestApp::spawn_with(&production()).await;
    let post = |origin: &'static str| {
        client()
            .post(format!("{}/api/v1/auth/login", app.base_url))
            .header("host", "tickets.example.com")
            .header("origin", origin)
            .json(&json!({ "email": "a@example.com", "password": "x" }))
            .send()
    };
    let refused = post("http://tickets.example.com").await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let other_port = post("https://tickets.example.com:8443").await.unwrap();
    assert_eq!(other_port.status(), StatusCode::FORBIDDEN);
    let ours = post("https://tickets.example.com").await.unwrap();
    assert_eq!(
        ours.status(),
        StatusCode::UNAUTHORIZED,
        "past the origin check"
    );
}

// ---------------------------------------------------------------------------------------
// 7. The development gateway's fail route
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_development_fail_route_checks_the_owner_and_any_malformed_id_is_404() {
    let app = TestApp::spawn_with(&[("RATE_LIMITS", "off")]).await;
    let show = seed_small_showtime(&app).await;
    let mut visitors = logged_in_visitors(&app, 2).await;
    let (owner, stranger) = (visitors.remove(0), visitors.remove(0));
    let (status, body) = hold(&owner, show.showtime_id, &[show.seat_ids[0]]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let booking = body["booking"]["id"].as_str().unwrap().to_owned();

    let theirs = stranger
        .post_form(&format!("/bookings/{booking}/pay/fail"), &[])
        .await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    for id in ["x%00", "%0D%0A", "nosuchbooking", "%E2%80%AE"] {
        let response = owner
            .post_form(&format!("/bookings/{id}/pay/fail"), &[])
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{id}");
    }
    let mine = owner
        .post_form(&format!("/bookings/{booking}/pay/fail"), &[])
        .await;
    assert_eq!(mine.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&mine), format!("/bookings/{booking}/checkout"));
    // Every booking route answers a malformed id the same way.
    for path in [
        "/bookings/x%00",
        "/bookings/%0D%0A/checkout",
        "/api/v1/bookings/x%00",
    ] {
        assert_eq!(
            owner.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 8. X-Request-Id from a client is not trusted
// ---------------------------------------------------------------------------------------

async fn request_id_answered(app: &TestApp, sent: &str) -> String {
    let response = client()
        .get(format!("{}/no-such-page", app.base_url))
        .header("host", "tickets.example.com")
        .header("x-request-id", sent)
        .send()
        .await
        .unwrap();
    let id = header(response.headers(), "x-request-id");
    let page = response.text().await.unwrap();
    assert!(!page.contains("forged"), "the error page shows the real id");
    id
}

#[tokio::test]
async fn a_request_id_is_kept_only_from_a_trusted_proxy_and_only_of_a_safe_shape() {
    let direct = TestApp::spawn_with(&production_with(&[("TRUSTED_PROXY_HOPS", "0")])).await;
    let id = request_id_answered(&direct, "forged-by-client").await;
    assert_ne!(id, "forged-by-client");
    assert_eq!(id.len(), 32, "a generated id: {id}");

    let proxied = TestApp::spawn_with(&production_with(&[("TRUSTED_PROXY_HOPS", "1")])).await;
    assert_eq!(
        request_id_answered(&proxied, "3f2a9c1e-router.id_1").await,
        "3f2a9c1e-router.id_1"
    );
    for unsafe_id in ["forged <script>", &"a".repeat(65), "forged\"quote"] {
        let id = request_id_answered(&proxied, unsafe_id).await;
        assert_ne!(id, unsafe_id);
        assert_eq!(id.len(), 32, "{unsafe_id:?} replaced by a generated id");
    }
}

// ---------------------------------------------------------------------------------------
// 9. Seats cannot be held forever
// ---------------------------------------------------------------------------------------

async fn expiry_of(app: &TestApp, public_id: &str) -> i64 {
    sqlx::query_scalar("SELECT hold_expires_at FROM bookings WHERE public_id = $1")
        .bind(public_id)
        .fetch_one(app.db.reader())
        .await
        .unwrap()
}

#[tokio::test]
async fn holding_the_same_seats_again_keeps_the_first_expiry_and_a_run_out_hold_cools_down() {
    let app = TestApp::spawn_with(&[("RATE_LIMITS", "off"), ("HOLD_TTL_SECONDS", "600")]).await;
    let show = seed_small_showtime(&app).await;
    let mut visitors = logged_in_visitors(&app, 2).await;
    let (hoarder, other) = (visitors.remove(0), visitors.remove(0));
    let seats = &show.seat_ids[0..3];

    let (status, first) = hold(&hoarder, show.showtime_id, seats).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let first_id = first["booking"]["id"].as_str().unwrap().to_owned();
    let expires = expiry_of(&app, &first_id).await;

    // Again and again, with the same seats or other ones, and after cancelling: the clock
    // never restarts.
    for (minutes, chosen) in [(4, seats), (3, &show.seat_ids[3..6]), (2, seats)] {
        app.state.clock.advance(Duration::minutes(minutes));
        let (status, again) = hold(&hoarder, show.showtime_id, chosen).await;
        assert_eq!(status, StatusCode::CREATED, "{again}");
        let id = again["booking"]["id"].as_str().unwrap();
        assert_eq!(
            expiry_of(&app, id).await,
            expires,
            "the first expiry is kept"
        );
    }
    let (_, current) = hold(&hoarder, show.showtime_id, seats).await;
    let current = current["booking"]["id"].as_str().unwrap().to_owned();
    let cancel = hoarder
        .post_json(&format!("/api/v1/bookings/{current}/cancel"), &json!({}))
        .await;
    assert_eq!(cancel.status(), StatusCode::OK);
    let (_, after_cancel) = hold(&hoarder, show.showtime_id, seats).await;
    let after_cancel = after_cancel["booking"]["id"].as_str().unwrap().to_owned();
    assert_eq!(expiry_of(&app, &after_cancel).await, expires);

    // The hold runs out: nobody waits for the background job to see it.
    app.state.clock.advance(Duration::minutes(2));
    let (status, refused) = hold(&hoarder, show.showtime_id, seats).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["error"], "rehold_cooldown");
    let wait = refused["retry_after_seconds"].as_i64().unwrap();
    assert!((1..=120).contains(&wait), "{refused}");
    // The seats another hold of theirs had swapped out cool down as well.
    let (status, _) = hold(&hoarder, show.showtime_id, &show.seat_ids[3..6]).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Everyone else may take them at once.
    let (status, taken) = hold(&other, show.showtime_id, &seats[..1]).await;
    assert_eq!(status, StatusCode::CREATED, "{taken}");

    // After the cool-down the hoarder may hold the free ones again, with a fresh clock.
    app.state.clock.advance(Duration::seconds(121));
    let (status, later) = hold(&hoarder, show.showtime_id, &seats[1..]).await;
    assert_eq!(status, StatusCode::CREATED, "{later}");
    let later = later["booking"]["id"].as_str().unwrap();
    assert!(expiry_of(&app, later).await > expires);
}

#[tokio::test]
async fn the_seat_page_says_why_a_rehold_is_refused_and_keeps_the_other_seats() {
    let app = TestApp::spawn_with(&[("RATE_LIMITS", "off"), ("HOLD_TTL_SECONDS", "60")]).await;
    let show = seed_small_showtime(&app).await;
    let visitor = logged_in_visitors(&app, 1).await.remove(0);
    let (status, _) = hold(&visitor, show.showtime_id, &show.seat_ids[0..1]).await;
    assert_eq!(status, StatusCode::CREATED);
    app.state.clock.advance(Duration::seconds(61));
    let first = show.seat_ids[0].to_string();
    let second = show.seat_ids[1].to_string();
    let response = visitor
        .post_form(
            &format!("/showtimes/{}/hold", show.showtime_id),
            &[("seat_ids", &first), ("seat_ids", &second)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let page = response.text().await.unwrap();
    assert!(page.contains("ran out a moment ago"), "{page}");
}

// ---------------------------------------------------------------------------------------
// 11. The host check parses IPv6 hosts strictly
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_bracketed_ipv6_host_with_anything_after_it_is_refused() {
    let app = TestApp::spawn().await;
    let get = |host: &'static str| {
        client()
            .get(format!("{}/movies", app.base_url))
            .header("host", host)
            .send()
    };
    for forged in [
        "[::1].evil.com",
        "[::1]evil.com",
        "[::1]:80.evil.com",
        "localhost:80:80",
    ] {
        assert_eq!(
            get(forged).await.unwrap().status(),
            StatusCode::BAD_REQUEST,
            "{forged}"
        );
    }
    assert_eq!(get("[::1]:8000").await.unwrap().status(), StatusCode::OK);
}

// ---------------------------------------------------------------------------------------
// 12. Every message carries Message-ID, Date and Auto-Submitted
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn every_kind_of_outgoing_message_parses_with_the_headers_rfc_5322_asks_for() {
    let w = world().await;
    // Verification, the duplicate-registration notice, a reset, a confirmation with its
    // ticket attachment, and a refund notice.
    let visitor = w.app.browser();
    let register = |email: &'static str| {
        let visitor = visitor.clone();
        async move {
            visitor
                .post_form(
                    "/accounts/register",
                    &[
                        ("name", "Lena"),
                        ("email", email),
                        ("password", PASSWORD),
                        ("password_confirm", PASSWORD),
                    ],
                )
                .await
        }
    };
    register("lena@example.com").await;
    register("lena@example.com").await;
    visitor
        .post_form("/accounts/password-reset", &[("email", "boss@example.com")])
        .await;
    let (owner, booking) = confirmed_booking(&w).await;
    let cancel = owner
        .post_json(&format!("/api/v1/bookings/{booking}/cancel"), &json!({}))
        .await;
    assert_eq!(cancel.status(), StatusCode::OK);

    // Verification, duplicate notice, reset, confirmation, refund notice.
    let kinds = 5;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut message_ids = Vec::new();
    for _ in 0..50 {
        if w.app.mails().len() >= kinds {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for raw in w.app.mails() {
        let message = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .expect("a MIME message");
        let subject = message.subject().unwrap_or_default().to_owned();
        let id = message.message_id().expect("Message-ID").to_owned();
        assert!(
            id.starts_with("outbox.") && id.ends_with("@localhost"),
            "{subject}: {id}"
        );
        assert!(message.date().is_some(), "{subject}: Date");
        assert!(
            message.from().and_then(|f| f.first()).is_some(),
            "{subject}: From"
        );
        assert!(
            message.to().and_then(|t| t.first()).is_some(),
            "{subject}: To"
        );
        assert!(!subject.is_empty(), "Subject");
        assert_eq!(
            message.header_raw("MIME-Version").map(str::trim),
            Some("1.0"),
            "{subject}"
        );
        assert_eq!(
            message.header_raw("Auto-Submitted").map(str::trim),
            Some("auto-generated"),
            "{subject}"
        );
        assert!(message.body_text(0).is_some(), "{subject}: a text part");
        assert!(message.body_html(0).is_some(), "{subject}: an HTML part");
        message_ids.push(id);
        *seen.entry(subject).or_default() += 1;
    }
    assert!(w.app.mails().len() >= kinds, "{seen:?}");
    let unique: std::collections::BTreeSet<_> = message_ids.iter().collect();
    assert_eq!(unique.len(), message_ids.len(), "one id per message");

    // The confirmation's ticket is an attachment that parses too.
    let confirmation = w
        .app
        .mails()
        .into_iter()
        .find(|raw| raw.contains("image/png"))
        .expect("a confirmation with its ticket");
    let message = mail_parser::MessageParser::default()
        .parse(confirmation.as_bytes())
        .unwrap();
    assert!(message.attachment_count() >= 1);
}

// ---------------------------------------------------------------------------------------
// 13. The release log says which migrations ran
// ---------------------------------------------------------------------------------------

#[test]
fn migrate_prints_each_migration_it_applies_then_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let env = [("DATABASE_URL", database.as_str())];
    let first = run_binary(dir.path(), &env, &["migrate"]);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{stdout}");
    let applied: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("applied migration "))
        .collect();
    assert!(applied.len() >= 10, "{stdout}");
    assert_eq!(applied[0], "applied migration 0001 sessions");
    assert!(
        applied.contains(&"applied migration 0011 mail quota"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("({} migration(s) applied)", applied.len())),
        "{stdout}"
    );

    let second = run_binary(dir.path(), &env, &["migrate"]);
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(!stdout.contains("applied migration "), "{stdout}");
    assert!(stdout.contains("no migration pending"), "{stdout}");
}

#[tokio::test]
async fn migrate_reports_what_it_applied_on_this_engine() {
    let database = crate::common::TestDatabase::create().await;
    let db = moviebooking::db::Db::connect(&database.url, std::time::Duration::from_secs(10))
        .await
        .unwrap();
    let applied = moviebooking::db::migrate::run(&db).await.unwrap();
    assert_eq!(applied[0].to_string(), "0001 sessions");
    assert!(applied.iter().any(|m| m.version == 11));
    assert!(
        moviebooking::db::migrate::run(&db)
            .await
            .unwrap()
            .is_empty()
    );
    db.close().await;
}
