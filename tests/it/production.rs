//! Production readiness: the secure defaults of `APP_ENV=production` over real HTTP, the
//! failure modes an operator meets (slow handlers, panics, an exhausted or unreachable
//! database, shutdown), observability (request ids in JSON logs, no secrets in logs,
//! `/metrics`), backups, and the `check --deploy` and `backup` commands of the real binary.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::production::{
    PUBLIC_HOST, SECRET_KEY, client, cookie_pair, header, production, production_env,
    production_with, run_binary, set_cookies,
};
use crate::common::sessions::{create_verified_user, logged_in};
use crate::common::{TestApp, extract_meta, location, on_postgres};
use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Serves `routes` behind the application's real middleware stack over `app`'s state.
async fn spawn_routes(app: &TestApp, routes: Router<moviebooking::AppState>) -> String {
    let router = moviebooking::web::with_middleware(routes, app.state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    format!("http://{addr}")
}

// ---------------------------------------------------------------------------------------
// Secure by default
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn plain_http_behind_the_proxy_is_redirected_to_the_https_base_url() {
    let app = TestApp::spawn_with(&production()).await;
    let response = client()
        .get(format!("{}/bookings?page=2&sort=new", app.base_url))
        .header("x-forwarded-proto", "http")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        location(&response),
        "https://tickets.example.com/bookings?page=2&sort=new"
    );

    let secure = client()
        .get(format!("{}/", app.base_url))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(secure.status(), StatusCode::OK);

    // The platform's health checks may come over plain HTTP from inside.
    let probe = client()
        .get(format!("{}/healthz", app.base_url))
        .header("x-forwarded-proto", "http")
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_production_response_carries_hsts_and_the_security_headers() {
    let app = TestApp::spawn_with(&production()).await;
    let client = client();
    let requests = [
        client.get(format!("{}/", app.base_url)),
        client.get(format!("{}/no/such/page", app.base_url)),
        client.get(format!("{}/api/v1/nothing", app.base_url)),
        client.get(format!("{}/healthz", app.base_url)),
        client.post(format!("{}/city", app.base_url)),
        client
            .get(format!("{}/", app.base_url))
            .header("host", "evil.example"),
        client
            .get(format!("{}/movies", app.base_url))
            .header("x-forwarded-proto", "http"),
    ];
    for request in requests {
        let response = request.send().await.unwrap();
        let what = format!("{} {}", response.status(), response.url());
        let headers = response.headers();
        assert_eq!(
            header(headers, "strict-transport-security"),
            "max-age=31536000; includeSubDomains",
            "{what}"
        );
        assert_eq!(
            header(headers, "x-content-type-options"),
            "nosniff",
            "{what}"
        );
        assert_eq!(header(headers, "x-frame-options"), "DENY", "{what}");
        assert_eq!(
            header(headers, "referrer-policy"),
            "strict-origin-when-cross-origin",
            "{what}"
        );
        assert_eq!(
            header(headers, "cross-origin-opener-policy"),
            "same-origin-allow-popups",
            "{what}"
        );
        let csp = header(headers, "content-security-policy");
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{what}: {csp}"
        );
        assert!(!headers.contains_key("server"), "{what}");
        assert_eq!(header(headers, "x-request-id").len(), 32, "{what}");
    }
}

#[tokio::test]
async fn a_host_that_is_not_allowed_gets_400() {
    let app = TestApp::spawn_with(&production()).await;
    let client = client();
    let refused = client
        .get(format!("{}/", app.base_url))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("not served at that address")
    );

    let served = client
        .get(format!("{}/", app.base_url))
        .header("host", PUBLIC_HOST)
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), StatusCode::OK);
}

#[tokio::test]
async fn session_and_csrf_cookies_are_secure_http_only_lax_and_host_prefixed() {
    let app = TestApp::spawn_with(&production()).await;
    let client = client();
    let page = client
        .get(format!("{}/", app.base_url))
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(page.headers());
    let csrf_cookie = cookies
        .iter()
        .find(|c| c.starts_with("__Host-csrftoken="))
        .unwrap_or_else(|| panic!("a __Host- CSRF cookie: {cookies:?}"))
        .clone();
    let token = extract_meta(&page.text().await.unwrap(), "csrf-token").unwrap();

    // A form post that writes to the session (an unknown city leaves a flash message).
    let csrf_pair = cookie_pair(&cookies, "__Host-csrftoken").unwrap();
    let response = client
        .post(format!("{}/city", app.base_url))
        .header("cookie", &csrf_pair)
        .header("origin", "https://tickets.example.com")
        .form(&[("city", "atlantis"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookies = set_cookies(response.headers());
    let session_cookie = cookies
        .iter()
        .find(|c| c.starts_with("__Host-session="))
        .unwrap_or_else(|| panic!("a __Host- session cookie: {cookies:?}"))
        .clone();

    for cookie in [&csrf_cookie, &session_cookie] {
        let attributes: Vec<String> = cookie
            .split(';')
            .skip(1)
            .map(|a| a.trim().to_ascii_lowercase())
            .collect();
        for required in ["secure", "httponly", "samesite=lax", "path=/"] {
            assert!(
                attributes.iter().any(|a| a == required),
                "{required} missing in {cookie}"
            );
        }
        // `__Host-` cookies must not name a domain.
        assert!(
            !attributes.iter().any(|a| a.starts_with("domain")),
            "{cookie}"
        );
    }
}

#[tokio::test]
async fn forged_posts_are_refused_in_production() {
    let app = TestApp::spawn_with(&production()).await;
    let client = client();
    let page = client
        .get(format!("{}/", app.base_url))
        .send()
        .await
        .unwrap();
    let csrf = cookie_pair(&set_cookies(page.headers()), "__Host-csrftoken").unwrap();
    let token = extract_meta(&page.text().await.unwrap(), "csrf-token").unwrap();
    let post = |origin: &str, fields: Vec<(&'static str, String)>| {
        client
            .post(format!("{}/city", app.base_url))
            .header("cookie", &csrf)
            .header("origin", origin)
            .form(&fields)
    };

    let cross_site = post(
        "https://evil.example",
        vec![("city", "x".into()), ("csrf_token", token.clone())],
    )
    .header("sec-fetch-site", "cross-site")
    .send()
    .await
    .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);

    let without_token = post("https://tickets.example.com", vec![("city", "x".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(without_token.status(), StatusCode::FORBIDDEN);
    assert!(without_token.text().await.unwrap().contains("expired"));

    let genuine = post(
        "https://tickets.example.com",
        vec![("city", "x".into()), ("csrf_token", token)],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(genuine.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn pages_for_logged_in_users_are_never_cached() {
    let app = TestApp::spawn_with(&production()).await;
    let (_, cookie) = logged_in(&app).await;
    let client = client();
    for path in ["/", "/bookings", "/api/v1/bookings"] {
        let response = client
            .get(format!("{}{path}", app.base_url))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            header(response.headers(), "cache-control"),
            "no-store",
            "{path}"
        );
    }
    let anonymous = client
        .get(format!("{}/", app.base_url))
        .send()
        .await
        .unwrap();
    assert_ne!(header(anonymous.headers(), "cache-control"), "no-store");
}

#[tokio::test]
async fn cors_is_off_by_default() {
    let app = TestApp::spawn_with(&production()).await;
    let client = client();
    let simple = client
        .get(format!("{}/api/v1/showtimes/1/seats", app.base_url))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert!(!simple.headers().contains_key("access-control-allow-origin"));
    let preflight = client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/showtimes/1/holds", app.base_url),
        )
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        !preflight
            .headers()
            .contains_key("access-control-allow-origin")
    );
    assert!(
        !preflight
            .headers()
            .contains_key("access-control-allow-credentials")
    );
}

#[tokio::test]
async fn cors_answers_the_api_for_the_listed_origin_only() {
    let app = TestApp::spawn_with(&production_with(&[(
        "CORS_ALLOWED_ORIGINS",
        "https://app.example.com",
    )]))
    .await;
    let client = client();
    let friend = "https://app.example.com";
    let stranger = "https://evil.example";

    let preflight = |origin: &str| {
        client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/v1/showtimes/1/holds", app.base_url),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight(friend).await.unwrap();
    assert!(allowed.status().is_success());
    assert_eq!(
        header(allowed.headers(), "access-control-allow-origin"),
        friend
    );
    assert_eq!(
        header(allowed.headers(), "access-control-allow-credentials"),
        "true"
    );
    assert!(header(allowed.headers(), "access-control-allow-methods").contains("POST"));
    assert!(
        header(allowed.headers(), "access-control-allow-headers")
            .to_ascii_lowercase()
            .contains("content-type")
    );
    let refused = preflight(stranger).await.unwrap();
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-origin")
    );
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-credentials")
    );

    // A simple request from the front-end, and one with its visitor's session.
    let simple = client
        .get(format!("{}/api/v1/showtimes/999/seats", app.base_url))
        .header("origin", friend)
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(simple.headers(), "access-control-allow-origin"),
        friend
    );
    assert!(
        header(simple.headers(), "vary")
            .to_ascii_lowercase()
            .contains("origin")
    );
    let (_, cookie) = logged_in(&app).await;
    let credentialed = client
        .post(format!("{}/api/v1/showtimes/999/holds", app.base_url))
        .header("origin", friend)
        .header("sec-fetch-site", "same-site")
        .header("cookie", &cookie)
        .json(&json!({ "seat_ids": [1] }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        credentialed.status(),
        StatusCode::NOT_FOUND,
        "the listed front-end reaches the API (the showtime does not exist)"
    );
    assert_eq!(
        header(credentialed.headers(), "access-control-allow-origin"),
        friend
    );
    assert_eq!(
        header(credentialed.headers(), "access-control-allow-credentials"),
        "true"
    );

    let forged = client
        .post(format!("{}/api/v1/showtimes/999/holds", app.base_url))
        .header("origin", stranger)
        .header("sec-fetch-site", "cross-site")
        .header("cookie", &cookie)
        .json(&json!({ "seat_ids": [1] }))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(!forged.headers().contains_key("access-control-allow-origin"));

    // Pages never answer CORS.
    let page = client
        .get(format!("{}/", app.base_url))
        .header("origin", friend)
        .send()
        .await
        .unwrap();
    assert!(!page.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn an_oversized_body_gets_413_as_a_page_or_as_json() {
    let app = TestApp::spawn_with(&production_with(&[("BODY_LIMIT_BYTES", "2048")])).await;
    let client = client();
    let big = "x".repeat(10_000);

    let form = client
        .post(format!("{}/city", app.base_url))
        .header("origin", "https://tickets.example.com")
        .form(&[("city", big.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(header(form.headers(), "content-type").starts_with("text/html"));
    assert!(form.text().await.unwrap().contains("too large"));

    let (_, cookie) = logged_in(&app).await;
    let api = client
        .post(format!("{}/api/v1/showtimes/1/holds", app.base_url))
        .header("cookie", &cookie)
        .json(&json!({ "seat_ids": [1], "note": big }))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = api.json().await.unwrap();
    assert_eq!(body["error"], "payload_too_large");
}

#[tokio::test]
async fn a_request_that_runs_too_long_gets_503() {
    let app = TestApp::spawn_with(&production_with(&[("REQUEST_TIMEOUT_SECONDS", "1")])).await;
    async fn slow() -> &'static str {
        tokio::time::sleep(Duration::from_secs(20)).await;
        "too late"
    }
    let base = spawn_routes(
        &app,
        Router::new()
            .route("/slow", get(slow))
            .route("/api/v1/slow", get(slow)),
    )
    .await;
    let started = Instant::now();
    let page = client().get(format!("{base}/slow")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(page.text().await.unwrap().contains("briefly unavailable"));

    let api = client()
        .get(format!("{base}/api/v1/slow"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = api.json().await.unwrap();
    assert_eq!(body["error"], "unavailable");
}

#[tokio::test]
async fn a_panicking_handler_gets_the_generic_500_page_with_its_request_id_and_the_server_stays_up()
{
    let app = TestApp::spawn_with(&production()).await;
    async fn boom() -> &'static str {
        panic!("secret internal detail")
    }
    let base = spawn_routes(
        &app,
        Router::new()
            .route("/boom", get(boom))
            .route("/api/v1/boom", get(boom))
            .route("/fine", get(|| async { "fine" })),
    )
    .await;
    let client = client();

    let page = client.get(format!("{base}/boom")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let request_id = header(page.headers(), "x-request-id");
    assert_eq!(request_id.len(), 32);
    assert!(header(page.headers(), "content-type").starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("Something went wrong"), "{html}");
    assert!(html.contains(&request_id), "the page shows its reference");
    assert!(!html.contains("secret internal detail"));

    let api = client
        .get(format!("{base}/api/v1/boom"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = api.json().await.unwrap();
    assert_eq!(body["error"], "internal_error");
    assert!(!body.to_string().contains("secret"));

    // The process is still serving, on this router and on the app's own.
    for url in [format!("{base}/fine"), format!("{}/healthz", app.base_url)] {
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{url}");
    }
}

#[tokio::test]
async fn when_no_database_connection_is_free_requests_fail_fast_with_503() {
    let app = TestApp::spawn_with(&production_with(&[("DB_ACQUIRE_TIMEOUT_SECONDS", "1")])).await;
    let pool = app.db.reader();
    let mut held = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        held.push(pool.acquire().await.unwrap());
    }
    let started = Instant::now();
    let (status, body) = get_json(&format!("{}/api/v1/showtimes/1/seats", app.base_url)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "unavailable");
    assert!(started.elapsed() < Duration::from_secs(4));

    drop(held);
    let (status, _) = get_json(&format!("{}/api/v1/showtimes/1/seats", app.base_url)).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "served again once connections are free"
    );
}

async fn get_json(url: &str) -> (StatusCode, Value) {
    let response = client().get(url).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn rate_limits_count_the_real_client_behind_one_proxy_not_the_forged_address() {
    let app = TestApp::spawn_with(&production_with(&[("TRUSTED_PROXY_HOPS", "1")])).await;
    let client = client();
    // Holds are limited per account (30 a minute) and per address (300 a minute): eleven
    // accounts behind one address meet the address limit.
    let mut visitors = Vec::new();
    for _ in 0..11 {
        visitors.push(logged_in(&app).await.1);
    }
    let hold = |cookie: &str, forwarded_for: String| {
        client
            .post(format!("{}/api/v1/showtimes/999999/holds", app.base_url))
            .header("cookie", cookie)
            .header("x-forwarded-for", forwarded_for)
            .json(&json!({ "seat_ids": [1] }))
            .send()
    };
    let mut n = 0u32;
    for cookie in &visitors[..10] {
        for _ in 0..30 {
            n += 1;
            // The client writes whatever it likes on the left; the proxy appends the address
            // it saw on the right.
            let forged = format!("198.18.{}.{}, 203.0.113.7", n / 256, n % 256);
            let response = hold(cookie, forged).await.unwrap();
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "request {n}");
        }
    }
    let limited = hold(&visitors[10], "192.0.2.99, 203.0.113.7".into())
        .await
        .unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = header(limited.headers(), "retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited");

    // Another real client, same forged prefix: not limited.
    let other = hold(&visitors[10], "203.0.113.7, 198.51.100.23".into())
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}

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

// ---------------------------------------------------------------------------------------
// Backups
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_backup_taken_while_serving_holds_the_data_and_restores() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("backup.db");
    if on_postgres() {
        let error = moviebooking::db::backup::sqlite_backup(&app.db, &output)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("pg_dump"), "{error}");
        assert!(!output.exists());
        return;
    }

    create_verified_user(&app, "kept@example.com").await;
    for (name, slug) in [("Pune", "pune"), ("Kochi", "kochi")] {
        sqlx::query("INSERT INTO cities (name, slug) VALUES ($1, $2)")
            .bind(name)
            .bind(slug)
            .execute(app.db.writer())
            .await
            .unwrap();
    }
    // Traffic while the copy is made: writes through the pool and requests to the server.
    let writer = {
        let db = app.db.clone();
        tokio::spawn(async move {
            for i in 0..200 {
                sqlx::query("INSERT INTO cities (name, slug) VALUES ($1, $2)")
                    .bind(format!("Town {i}"))
                    .bind(format!("town-{i}"))
                    .execute(db.writer())
                    .await
                    .unwrap();
            }
        })
    };
    let readers = {
        let url = format!("{}/healthz", app.base_url);
        tokio::spawn(async move {
            for _ in 0..50 {
                assert!(
                    client()
                        .get(&url)
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .is_success()
                );
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let bytes = moviebooking::db::backup::sqlite_backup(&app.db, &output)
        .await
        .unwrap();
    assert!(bytes > 0);
    writer.await.unwrap();
    readers.await.unwrap();

    // Never over an existing file.
    let again = moviebooking::db::backup::sqlite_backup(&app.db, &output).await;
    assert!(matches!(
        again,
        Err(moviebooking::db::backup::BackupError::Exists(_))
    ));

    // Restore: a fresh app on the copy finds the data and is ready.
    let restored = moviebooking::db::Db::connect(
        &format!("sqlite://{}", output.display()),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(restored.reader())
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
    assert_eq!(
        moviebooking::db::migrate::status(&restored).await.unwrap(),
        moviebooking::db::migrate::SchemaStatus::Current
    );
    let user: String =
        sqlx::query_scalar("SELECT email FROM users WHERE email = 'kept@example.com'")
            .fetch_one(restored.reader())
            .await
            .unwrap();
    assert_eq!(user, "kept@example.com");
    let cities: Vec<String> =
        sqlx::query_scalar("SELECT slug FROM cities WHERE slug IN ('pune', 'kochi') ORDER BY slug")
            .fetch_all(restored.reader())
            .await
            .unwrap();
    assert_eq!(cities, ["kochi", "pune"]);

    let vars: HashMap<String, String> = [
        ("DATABASE_URL", format!("sqlite://{}", output.display())),
        ("SECRET_KEY", SECRET_KEY.to_owned()),
        ("EMAIL_BACKEND", "log".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = moviebooking::config::Config::from_vars(&vars, dir.path()).unwrap();
    let state = moviebooking::AppState::new(config, restored, moviebooking::clock::Clock::system())
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/readyz", listener.local_addr().unwrap());
    tokio::spawn(moviebooking::server::serve(
        state,
        listener,
        std::future::pending::<()>(),
    ));
    let (status, body) = get_json(&url).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

// ---------------------------------------------------------------------------------------
// The real binary
// ---------------------------------------------------------------------------------------

#[test]
fn check_deploy_lists_every_problem_and_fails_on_a_bad_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_binary(
        dir.path(),
        &[
            ("APP_ENV", "production"),
            ("SECRET_KEY", "changeme"),
            ("ALLOWED_HOSTS", "*"),
            ("BASE_URL", "http://tickets.example.com"),
            ("RATE_LIMITS", "off"),
            ("HSTS_SECONDS", "0"),
            ("CORS_ALLOWED_ORIGINS", "*"),
            ("RAZORPAY_KEY_ID", "rzp_test_abc"),
            ("RAZORPAY_KEY_SECRET", "same-secret"),
            ("RAZORPAY_WEBHOOK_SECRET", "same-secret"),
            ("EMAIL_BACKEND", "log"),
            ("PORT", "eighty"),
        ],
        &["check", "--deploy"],
    );
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    for id in [
        "MB-E003", "MB-E005", "MB-E011", "MB-E012", "MB-E020", "MB-E031", "MB-E033", "MB-E040",
        "MB-E050", "MB-E080", "MB-E100", "MB-W060", "MB-W090", "MB-E000",
    ] {
        assert!(stdout.contains(id), "{id} missing:\n{stdout}");
    }
    assert!(stdout.contains("fix:"));
    assert!(!stdout.contains("same-secret"), "no secret is printed");
    assert!(
        !dir.path().join(".dev-secret-key").exists(),
        "nothing written"
    );
}

#[test]
fn check_deploy_passes_a_good_configuration_and_still_prints_its_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_binary(
        dir.path(),
        &production_env(&[("METRICS_TOKEN", "0123456789abcdef0123456789abcdef")]),
        &["check", "--deploy"],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("MB-W060"),
        "the missing Sentry DSN is a warning:\n{stdout}"
    );
    assert!(stdout.contains("0 error(s), 1 warning(s)"), "{stdout}");
}

#[test]
fn production_refuses_to_serve_from_sqlite_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("prod.db").display());
    let output = run_binary(
        dir.path(),
        &[
            ("APP_ENV", "production"),
            ("DATABASE_URL", &db),
            ("PORT", "18931"),
            ("BASE_URL", "https://tickets.example.com"),
            ("ALLOWED_HOSTS", "tickets.example.com"),
            ("SECRET_KEY", SECRET_KEY),
            ("EMAIL_BACKEND", "log"),
            ("RAZORPAY_KEY_ID", "rzp_live_abc"),
            ("RAZORPAY_KEY_SECRET", "key-secret"),
            ("RAZORPAY_WEBHOOK_SECRET", "webhook-secret"),
        ],
        &["serve"],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ALLOW_SQLITE_IN_PRODUCTION"), "{stderr}");
}

#[test]
fn the_backup_command_copies_sqlite_never_overwrites_and_points_postgres_to_pg_dump() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("app.db").display());
    let env = [("DATABASE_URL", db.as_str())];
    assert!(run_binary(dir.path(), &env, &["migrate"]).status.success());

    let first = run_binary(dir.path(), &env, &["backup", "--output", "copy.db"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("backup written"));
    assert!(dir.path().join("copy.db").metadata().unwrap().len() > 0);

    let second = run_binary(dir.path(), &env, &["backup", "--output", "copy.db"]);
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("already exists"));

    let postgres = run_binary(
        dir.path(),
        &[("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")],
        &["backup", "--output", "pg.db"],
    );
    assert!(!postgres.status.success());
    assert!(String::from_utf8_lossy(&postgres.stderr).contains("pg_dump"));
    assert!(!dir.path().join("pg.db").exists());
}

#[test]
fn the_procfile_starts_commands_the_binary_has() {
    let procfile = include_str!("../../Procfile");
    let dir = tempfile::tempdir().unwrap();
    let mut kinds = Vec::new();
    for line in procfile.lines().filter(|l| !l.trim().is_empty()) {
        let (kind, command) = line.split_once(':').unwrap();
        let mut words = command.split_whitespace();
        assert_eq!(
            words.next(),
            Some("./target/release/moviebooking"),
            "the buildpack's release binary: {line}"
        );
        let mut args: Vec<&str> = words.collect();
        args.push("--help");
        let output = run_binary(dir.path(), &[], &args);
        assert!(output.status.success(), "{line}: {output:?}");
        kinds.push(kind.trim());
    }
    assert_eq!(kinds, ["release", "web"]);
}

#[test]
fn send_test_email_delivers_through_the_outbox_and_names_a_bad_address() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("mail.db").display());
    let mail_dir = dir.path().join("mail");
    let mail_dir_text = mail_dir.display().to_string();
    let env = [
        ("DATABASE_URL", database.as_str()),
        ("EMAIL_BACKEND", "file"),
        ("EMAIL_FILE_DIR", mail_dir_text.as_str()),
    ];
    assert!(run_binary(dir.path(), &env, &["migrate"]).status.success());

    let output = run_binary(dir.path(), &env, &["send-test-email", "ops@example.com"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("sent a test email to ops@example.com"),
        "{stdout}"
    );
    let mails: Vec<String> = std::fs::read_dir(&mail_dir)
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .collect();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("ops@example.com") && mails[0].contains("moviebooking test email"));

    let output = run_binary(dir.path(), &env, &["send-test-email", "not an address"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not an email address"));
}
