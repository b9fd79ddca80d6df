//! Error reporting to Sentry, against a fake Sentry ingest server on loopback. Its own test
//! binary, because the Sentry client, its panic hook and the tracing subscriber are global
//! to the process.

#[path = "it/common/mod.rs"]
#[allow(dead_code)]
mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{get, post};
use common::TestApp;
use reqwest::StatusCode;

type Received = Arc<Mutex<Vec<String>>>;

/// A stand-in for Sentry's ingest: keeps every envelope it is sent.
async fn fake_sentry() -> (u16, Received) {
    async fn envelope(State(received): State<Received>, body: Bytes) -> &'static str {
        received
            .lock()
            .unwrap()
            .push(String::from_utf8_lossy(&body).into_owned());
        "{}"
    }
    let received = Received::default();
    let router = Router::new()
        .route("/api/{project}/envelope/", post(envelope))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (port, received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_reaches_sentry_without_cookies_credentials_or_query_strings() {
    let (port, received) = fake_sentry().await;
    let dsn = format!("http://0123456789abcdef0123456789abcdef@127.0.0.1:{port}/1");
    let app = TestApp::spawn_with(&[
        ("APP_ENV", "production"),
        ("BASE_URL", "https://tickets.example.com"),
        ("ALLOWED_HOSTS", "tickets.example.com,127.0.0.1"),
        (
            "SECRET_KEY",
            "7d0e5c3b9a8f1e2d4c6b8a0f9e7d5c3b1a2f4e6d8c0b9a7f5e3d1c2b4a6f8e0d",
        ),
        ("RAZORPAY_KEY_ID", "rzp_live_TestOnly00000001"),
        ("RAZORPAY_KEY_SECRET", "razorpay-key-secret-for-tests"),
        (
            "RAZORPAY_WEBHOOK_SECRET",
            "razorpay-webhook-secret-for-tests",
        ),
        ("EMAIL_BACKEND", "log"),
        ("SENTRY_DSN", &dsn),
    ])
    .await;
    let guard = moviebooking::telemetry::init_sentry(&app.state.config);
    assert!(guard.is_some(), "a DSN starts the client");
    moviebooking::telemetry::init_with_sentry(true, true);

    // The real middleware stack (with the Sentry layers, since a DSN is set) around a
    // handler that panics.
    async fn boom() -> &'static str {
        panic!("boom for sentry")
    }
    let router = moviebooking::web::with_middleware(
        Router::new().route("/boom", get(boom)),
        app.state.clone(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });

    let (cookie, bearer, signature, query_token) = (
        "session-cookie-value-5e1f",
        "bearer-token-value-9c2d",
        "signature-value-77aa",
        "query-token-value-3b3b",
    );
    let response = reqwest::Client::new()
        .get(format!("{base}/boom?token={query_token}"))
        .header("cookie", format!("__Host-session={cookie}"))
        .header("authorization", format!("Bearer {bearer}"))
        .header("x-razorpay-signature", signature)
        .header("user-agent", "sentry-test-agent")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let client = sentry::Hub::main().client().expect("bound client");
    assert!(client.flush(Some(Duration::from_secs(10))));
    let mut envelopes = Vec::new();
    for _ in 0..50 {
        envelopes = received.lock().unwrap().clone();
        if envelopes.iter().any(|e| e.contains("boom for sentry")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all = envelopes.join("\n");
    assert!(
        all.contains("boom for sentry"),
        "the panic was reported: {all}"
    );
    assert!(all.contains(r#""environment":"production""#), "{all}");
    assert!(
        all.contains(concat!(
            r#""release":"moviebooking@"#,
            env!("CARGO_PKG_VERSION")
        )),
        "{all}"
    );
    assert!(all.contains("/boom"), "the request is attached: {all}");
    assert!(
        all.contains("sentry-test-agent"),
        "harmless headers are kept: {all}"
    );
    for (what, secret) in [
        ("cookie", cookie),
        ("bearer token", bearer),
        ("signature", signature),
        ("query string", query_token),
    ] {
        assert!(!all.contains(secret), "the {what} reached Sentry: {all}");
    }
    drop(guard);
}
