//! Production readiness: the secure defaults of `APP_ENV=production` over real HTTP, and the
//! failure modes an operator meets (slow handlers, panics, an exhausted database). Observability
//! is in `observability`, backups and the real binary's commands in `operations`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::common::production::{
    PUBLIC_HOST, client, cookie_pair, get_json, header, production, production_with, set_cookies,
};
use crate::common::sessions::logged_in;
use crate::common::{TestApp, extract_meta, location};
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
