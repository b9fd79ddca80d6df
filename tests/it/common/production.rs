//! Settings and helpers shared by the tests of production behaviour.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

pub const SECRET_KEY: &str = "7d0e5c3b9a8f1e2d4c6b8a0f9e7d5c3b1a2f4e6d8c0b9a7f5e3d1c2b4a6f8e0d";
pub const PUBLIC_HOST: &str = "tickets.example.com";

/// The settings a production deployment of this test would have (see `Config`).
pub fn production() -> Vec<(&'static str, &'static str)> {
    vec![
        ("APP_ENV", "production"),
        ("BASE_URL", "https://tickets.example.com"),
        ("ALLOWED_HOSTS", "tickets.example.com,127.0.0.1"),
        ("SECRET_KEY", SECRET_KEY),
        ("RAZORPAY_KEY_ID", "rzp_live_TestOnly00000001"),
        ("RAZORPAY_KEY_SECRET", "razorpay-key-secret-for-tests"),
        (
            "RAZORPAY_WEBHOOK_SECRET",
            "razorpay-webhook-secret-for-tests",
        ),
        ("EMAIL_BACKEND", "log"),
    ]
}

pub fn production_with(
    extra: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    let mut settings = production();
    settings.extend_from_slice(extra);
    settings
}

/// A client that keeps no cookies and follows no redirects: production cookies are
/// `Secure`, so tests send them explicitly.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect()
}

/// The `name=value` part of the Set-Cookie for `name`.
pub fn cookie_pair(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

/// Runs the real binary in `dir` with exactly `env` (plus PATH) and waits for it.
pub fn run_binary(
    dir: &std::path::Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_moviebooking"));
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        command.env(k, v);
    }
    command.args(args).output().unwrap()
}

/// The environment of a production process that passes `check --deploy` (its database is
/// unreachable: enough for the audit and for commands that stop before connecting), with
/// `extra` replacing or, given an empty value, removing settings.
pub fn production_env<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![
        ("APP_ENV", "production"),
        (
            "DATABASE_URL",
            "postgres://nobody@127.0.0.1:1/none?sslmode=require",
        ),
        ("BASE_URL", "https://tickets.example.com"),
        ("ALLOWED_HOSTS", "tickets.example.com"),
        ("SECRET_KEY", SECRET_KEY),
        ("SMTP_URL", "smtps://mailer:pw@smtp.example.com:465"),
        ("RAZORPAY_KEY_ID", "rzp_live_abc"),
        ("RAZORPAY_KEY_SECRET", "key-secret"),
        ("RAZORPAY_WEBHOOK_SECRET", "webhook-secret"),
        ("TRUSTED_PROXY_HOPS", "1"),
        ("PORT", "18932"),
    ];
    for (name, value) in extra {
        env.retain(|(n, _)| n != name);
        if !value.is_empty() {
            env.push((name, value));
        }
    }
    env
}

/// GETs `url` with the production test client: the status and the JSON body (`null` if none).
pub async fn get_json(url: &str) -> (StatusCode, Value) {
    let response = client().get(url).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}
