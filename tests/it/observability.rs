//! Observability in production mode: readiness that follows the database, `/metrics` behind its
//! token, and shutdown that lets in-flight requests finish.

use std::sync::Arc;
use std::time::Duration;

use crate::common::production::get_json;
use crate::common::production::{client, header, production, production_with};
use crate::common::sessions::create_verified_user;
use crate::common::{TestApp, on_postgres};
use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;

// ---------------------------------------------------------------------------------------
// Observability
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn readiness_reports_a_database_that_does_not_answer_and_recovers() {
    let app = TestApp::spawn_with(&[("DB_ACQUIRE_TIMEOUT_SECONDS", "1")]).await;
    let readyz = format!("{}/readyz", app.base_url);
    let (status, _) = get_json(&readyz).await;
    assert_eq!(status, StatusCode::OK);

    if on_postgres() {
        // A real outage: the database refuses connections and the open ones are cut.
        let name = url::Url::parse(&app.state.config.database_url)
            .unwrap()
            .path()
            .trim_start_matches('/')
            .to_owned();
        allow_connections(&name, false).await;
        let (status, body) = get_json(&readyz).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["status"], "unavailable");
        allow_connections(&name, true).await;
    } else {
        // A local file cannot go away while open; what SQLite can do is stop answering:
        // every connection busy, so the probe's query waits out the acquire timeout.
        let pool = app.db.reader();
        let mut held = Vec::new();
        for _ in 0..pool.options().get_max_connections() {
            held.push(pool.acquire().await.unwrap());
        }
        let (status, body) = get_json(&readyz).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["status"], "unavailable");
        drop(held);
    }
    assert!(
        eventually_ready(&readyz).await,
        "ready again once the database answers"
    );

    // A schema older than the release is another reason not to take traffic.
    let latest: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let set_success = |value: bool| {
        sqlx::query(if value {
            "UPDATE _sqlx_migrations SET success = TRUE WHERE version = $1"
        } else {
            "UPDATE _sqlx_migrations SET success = FALSE WHERE version = $1"
        })
        .bind(latest)
        .execute(app.db.writer())
    };
    set_success(false).await.unwrap();
    let (status, body) = get_json(&readyz).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body["reason"].as_str().unwrap().contains("behind"),
        "{body}"
    );
    set_success(true).await.unwrap();
    assert!(eventually_ready(&readyz).await);
}

async fn eventually_ready(url: &str) -> bool {
    for _ in 0..40 {
        if get_json(url).await.0 == StatusCode::OK {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}

async fn allow_connections(database: &str, allow: bool) {
    use sqlx::Connection;
    let admin = std::env::var("TEST_DATABASE_URL").unwrap();
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    let sql = format!("ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS {allow}");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .unwrap();
    if !allow {
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(database)
        .execute(&mut conn)
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn metrics_are_off_without_a_token() {
    let app = TestApp::spawn_with(&production()).await;
    let response = client()
        .get(format!("{}/metrics", app.base_url))
        .header("authorization", "Bearer anything")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metrics_need_the_token_and_count_requests_by_route_and_status_and_bookings_by_state() {
    let token = "metrics-token-for-tests-0a1b2c3d4e5f6a7b";
    let app = TestApp::spawn_with(&production_with(&[("METRICS_TOKEN", token)])).await;
    let client = client();
    let metrics = |auth: Option<String>| {
        let request = client.get(format!("{}/metrics", app.base_url));
        match auth {
            Some(auth) => request.header("authorization", auth),
            None => request,
        }
        .send()
    };
    let anonymous = metrics(None).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(header(anonymous.headers(), "www-authenticate").starts_with("Bearer"));
    let wrong = metrics(Some(format!("Bearer {token}x"))).await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    for path in [
        "/healthz",
        "/healthz",
        "/api/v1/bookings/abc",
        "/no/such/page",
    ] {
        client
            .get(format!("{}{path}", app.base_url))
            .send()
            .await
            .unwrap();
    }
    insert_bookings(&app, &["confirmed", "confirmed", "pending", "cancelled"]).await;
    insert_outbox(&app, &["queued", "sent", "sent"]).await;
    moviebooking::metrics::record_payment_failure("test_declined");

    let response = metrics(Some(format!("Bearer {token}"))).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(response.headers(), "content-type"),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    for expected in [
        r#"moviebooking_http_requests_total{method="GET",route="/healthz",status="200"} 2"#,
        r#"moviebooking_http_requests_total{method="GET",route="/api/v1/bookings/{id}",status="401"} 1"#,
        r#"moviebooking_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"moviebooking_http_requests_total{method="GET",route="/metrics",status="401"} 2"#,
        r#"moviebooking_http_request_duration_seconds_bucket{method="GET",route="/healthz",status="200",le="0.5"} 2"#,
        r#"moviebooking_bookings{status="confirmed"} 2"#,
        r#"moviebooking_bookings{status="pending"} 1"#,
        r#"moviebooking_bookings{status="cancelled"} 1"#,
        r#"moviebooking_bookings{status="refunded"} 0"#,
        r#"moviebooking_email_outbox{status="queued"} 1"#,
        r#"moviebooking_email_outbox{status="sent"} 2"#,
        r#"moviebooking_payment_failures_total{kind="test_declined"}"#,
        "moviebooking_database_up 1",
    ] {
        assert!(text.contains(expected), "missing {expected} in:\n{text}");
    }
}

/// Bookings in the given states on one minimal showtime (rows written directly: the
/// metrics only count them).
async fn insert_bookings(app: &TestApp, states: &[&str]) {
    let db = app.db.writer();
    let now = app.state.clock.unix_now();
    let user = create_verified_user(app, "metrics@example.com").await;
    let city: i64 =
        sqlx::query_scalar("INSERT INTO cities (name, slug) VALUES ('Pune', 'pune') RETURNING id")
            .fetch_one(db)
            .await
            .unwrap();
    let theatre: i64 = sqlx::query_scalar(
        "INSERT INTO theatres (city_id, name) VALUES ($1, 'Royal') RETURNING id",
    )
    .bind(city)
    .fetch_one(db)
    .await
    .unwrap();
    let screen: i64 = sqlx::query_scalar(
        "INSERT INTO screens (theatre_id, name) VALUES ($1, 'One') RETURNING id",
    )
    .bind(theatre)
    .fetch_one(db)
    .await
    .unwrap();
    let movie: i64 = sqlx::query_scalar(
        "INSERT INTO movies (slug, title, search_title, runtime_minutes, certificate, release_date, created_at, updated_at) \
         VALUES ('m', 'M', 'm', 120, 'U', '2026-01-01', $1, $1) RETURNING id",
    )
    .bind(now)
    .fetch_one(db)
    .await
    .unwrap();
    let showtime: i64 = sqlx::query_scalar(
        "INSERT INTO showtimes (movie_id, screen_id, starts_at, ends_at, language, created_at) \
         VALUES ($1, $2, $3, $4, 'Hindi', $3) RETURNING id",
    )
    .bind(movie)
    .bind(screen)
    .bind(now + 86_400)
    .bind(now + 86_400 + 7_200)
    .fetch_one(db)
    .await
    .unwrap();
    for (i, state) in states.iter().enumerate() {
        sqlx::query(
            "INSERT INTO bookings (public_id, code, user_id, showtime_id, status, hold_expires_at, \
             seats_paise, fee_paise, tax_paise, total_paise, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, 0, 0, 0, $6, $6)",
        )
        .bind(format!("public-{i}"))
        .bind(format!("CODE{i}"))
        .bind(user)
        .bind(showtime)
        .bind(*state)
        .bind(now)
        .execute(db)
        .await
        .unwrap();
    }
}

async fn insert_outbox(app: &TestApp, states: &[&str]) {
    let now = app.state.clock.unix_now();
    // Not due for an hour, so the background job leaves a queued row queued while the test
    // reads the gauge.
    let next_attempt = now + 3600;
    for state in states {
        sqlx::query(
            "INSERT INTO email_outbox (recipient, subject, body_text, body_html, kind, status, next_attempt_at, created_at) \
             VALUES ('a@example.com', 'S', 't', 'h', 'test', $1, $2, $3)",
        )
        .bind(*state)
        .bind(next_attempt)
        .bind(now)
        .execute(app.db.writer())
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn an_in_flight_request_completes_when_shutdown_begins() {
    let app = TestApp::spawn().await;
    let started = Arc::new(tokio::sync::Notify::new());
    let router = moviebooking::web::with_middleware(
        Router::new().route(
            "/slow",
            get({
                let started = started.clone();
                move || async move {
                    started.notify_one();
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    "finished"
                }
            }),
        ),
        app.state.clone(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/slow", listener.local_addr().unwrap());
    let (begin_shutdown, shutdown) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(moviebooking::server::serve_router(
        app.state.clone(),
        router,
        listener,
        async {
            let _ = shutdown.await;
        },
    ));
    let in_flight = tokio::spawn({
        let url = url.clone();
        async move {
            let response = client().get(url).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    });
    // Shutdown begins while the handler is busy with the request.
    tokio::time::timeout(Duration::from_secs(10), started.notified())
        .await
        .expect("the request reached the handler");
    begin_shutdown.send(()).unwrap();

    let (status, body) = in_flight.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "finished");
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops once the request is done")
        .unwrap()
        .unwrap();
    assert!(
        client().get(&url).send().await.is_err(),
        "no new connections after shutdown"
    );
}
