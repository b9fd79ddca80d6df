//! Observability that must hold in production: every JSON log line of a request carries its
//! request id, and no password, cookie, token or signature ever reaches the logs.
//!
//! These tests install a thread-local log subscriber, so they live in a test binary of their
//! own: tracing caches which call sites are enabled per process, and call sites first hit by
//! other tests running without a subscriber would stay silent here.

#[path = "it/common/mod.rs"]
#[allow(dead_code)]
mod common;

use std::sync::{Arc, Mutex};

use common::TestApp;
use common::production::{
    SECRET_KEY, client, cookie_pair, header, production, production_with, set_cookies,
};
use common::sessions::logged_in;
use serde_json::{Value, json};

/// Log output captured in memory.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn every_json_log_line_of_a_request_carries_its_request_id() {
    use tracing_subscriber::layer::SubscriberExt;
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::registry()
        .with(moviebooking::telemetry::env_filter(
            moviebooking::telemetry::DEFAULT_FILTER,
        ))
        .with(moviebooking::telemetry::json_layer(move || writer.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = TestApp::spawn_with(&production()).await;
    let client = client();
    let mut ids = Vec::new();
    for request in [
        client.get(format!("{}/", app.base_url)),
        client.get(format!("{}/api/v1/showtimes/1/seats", app.base_url)),
        // Refused as cross-site: logs a warning of its own.
        client
            .post(format!("{}/city", app.base_url))
            .header("origin", "https://evil.example")
            .form(&[("city", "x")]),
    ] {
        let response = request.send().await.unwrap();
        ids.push(header(response.headers(), "x-request-id"));
    }

    let text = capture.text();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let request_lines: Vec<&Value> = lines
        .iter()
        .filter(|line| {
            let target = line["target"].as_str().unwrap_or("");
            !target.starts_with("moviebooking::jobs") && !target.starts_with("moviebooking::server")
        })
        .collect();
    assert!(request_lines.len() >= 4, "{text}");
    let mut seen = std::collections::HashSet::new();
    for line in request_lines {
        let id = line["spans"]
            .as_array()
            .and_then(|spans| spans.iter().find_map(|s| s["request_id"].as_str()))
            .unwrap_or_else(|| panic!("a log line without request id: {line}"));
        seen.insert(id.to_owned());
    }
    for id in &ids {
        assert!(seen.contains(id), "no log line for request {id}: {text}");
    }
    assert!(
        text.contains("refused a cross-site request"),
        "the warning is logged too"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn no_password_cookie_token_or_signature_reaches_the_logs() {
    use tracing_subscriber::layer::SubscriberExt;
    let capture = Capture::default();
    let (json_writer, text_writer) = (capture.clone(), capture.clone());
    // Everything, at every level, in both formats.
    let subscriber = tracing_subscriber::registry()
        .with(moviebooking::telemetry::env_filter("trace"))
        .with(moviebooking::telemetry::json_layer(move || {
            json_writer.clone()
        }))
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || text_writer.clone()),
        );
    let _guard = tracing::subscriber::set_default(subscriber);

    let metrics_token = "metrics-token-9b1c7e3a5d2f4b6c8e0a1d3f5b7c9e1a";
    let app = TestApp::spawn_with(&production_with(&[("METRICS_TOKEN", metrics_token)])).await;
    let (_, session) = logged_in(&app).await;
    let client = client();
    let page = client
        .get(format!("{}/", app.base_url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    let csrf = cookie_pair(&set_cookies(page.headers()), "__Host-csrftoken").unwrap();
    let cookies = format!("{session}; {csrf}");
    let password = "pw-correct-horse-7f3a9b";
    let bearer = "bearer-token-51c4e2d0a9";
    let signature = "sig-4be1a0f9c8d7e6b5a4f3e2d1c0b9a8f7e6d5c4b3";

    let requests = [
        client
            .post(format!("{}/api/v1/auth/login", app.base_url))
            .header("cookie", &cookies)
            .json(&json!({ "email": "a@example.com", "password": password })),
        client
            .post(format!("{}/api/v1/showtimes/1/holds", app.base_url))
            .header("cookie", &cookies)
            .header("authorization", format!("Bearer {bearer}"))
            .json(&json!({ "seat_ids": [1], "password": password })),
        // A value of the wrong type is quoted in the rejection message.
        client
            .post(format!("{}/api/v1/showtimes/1/holds", app.base_url))
            .header("cookie", &cookies)
            .json(&json!({ "seat_ids": password })),
        client
            .post(format!("{}/city", app.base_url))
            .header("cookie", &cookies)
            .form(&[("city", "x"), ("password", password)]),
        client
            .post(format!("{}/payments/razorpay/webhook", app.base_url))
            .header("x-razorpay-signature", signature)
            .json(&json!({ "event": "payment.captured", "password": password })),
        client
            .get(format!("{}/metrics", app.base_url))
            .header("authorization", format!("Bearer {metrics_token}")),
        client
            .get(format!("{}/metrics", app.base_url))
            .header("authorization", format!("Bearer {bearer}")),
        client
            .get(format!("{}/bookings", app.base_url))
            .header("cookie", &cookies)
            .header("authorization", format!("Basic {bearer}")),
    ];
    let mut ids = Vec::new();
    for request in requests {
        let response = request.send().await.unwrap();
        ids.push(header(response.headers(), "x-request-id"));
    }

    let logs = capture.text();
    assert!(
        ids.iter().all(|id| logs.contains(id.as_str())),
        "the capture saw the requests"
    );
    let session_id = session.split_once('=').unwrap().1;
    let csrf_secret = csrf.split_once('=').unwrap().1;
    for (what, secret) in [
        ("password", password),
        ("session cookie", session_id),
        ("csrf cookie", csrf_secret),
        ("bearer token", bearer),
        ("metrics token", metrics_token),
        ("razorpay signature", signature),
        ("secret key", SECRET_KEY),
        ("razorpay key secret", "razorpay-key-secret-for-tests"),
        (
            "razorpay webhook secret",
            "razorpay-webhook-secret-for-tests",
        ),
    ] {
        assert!(!logs.contains(secret), "the {what} was logged");
    }
}
