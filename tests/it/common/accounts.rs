//! Account helpers for any test: create a ready-to-use user, log a browser in, and read the
//! links and cookies that the account flows hand out.

use std::time::Duration;

use moviebooking::domain::roles::Role;
use moviebooking::domain::users::{self, NewUser};
use reqwest::StatusCode;

use super::{Browser, TestApp, location};

/// Creates a verified, active user through the domain (the same rules as registration, so
/// the password must be 8+ characters and not a common one, e.g. "tickets-for-two").
/// Returns the user's id. The name is taken from the email's local part. Staff are admins.
pub async fn create_user(app: &TestApp, email: &str, password: &str, staff: bool) -> i64 {
    let role = if staff { Role::Admin } else { Role::Customer };
    create_user_with_role(app, email, password, role).await
}

/// `create_user` with a given role.
pub async fn create_user_with_role(app: &TestApp, email: &str, password: &str, role: Role) -> i64 {
    let name = email.split('@').next().unwrap_or("Test user").to_owned();
    let user = users::create_user(
        &app.db,
        NewUser {
            email: users::Email::parse(email)
                .unwrap_or_else(|error| panic!("create_user({email}): {error}")),
            name,
            password: password.to_owned(),
            role,
            email_verified: true,
        },
        app.state.clock.unix_now(),
    )
    .await
    .unwrap_or_else(|error| panic!("create_user({email}): {error}"));
    user.id.0
}

/// Logs `browser` in through the login form and checks it was sent on to the home page.
pub async fn login(browser: &Browser, email: &str, password: &str) {
    let response = browser
        .post_form(
            "/accounts/login",
            &[("email", email), ("password", password)],
        )
        .await;
    let status = response.status();
    let to = location(&response);
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "login as {email} should redirect; got {status}: {}",
        response.text().await.unwrap_or_default()
    );
    assert_eq!(to, "/", "login as {email} should go to the home page");
}

/// The value a response sets for cookie `name`, if it sets one.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|cookie| cookie.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.to_owned())
}

/// The raw message with quoted-printable soft line breaks and `=XX` escapes undone, which is
/// how lettre encodes our long lines; enough to read links and text in a test.
pub fn decode_mail(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
            out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first `PATH?token=...` link in a mail, as a path with its query (to GET from the
/// app), after checking that the mail carries it as an absolute URL on `base_url`.
pub fn link_in_mail(raw: &str, path: &str, base_url: &str) -> String {
    let text = decode_mail(raw);
    let marker = format!("{path}?token=");
    let start = text
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker} link in the mail:\n{text}"));
    let token: String = text[start + marker.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert!(token.len() >= 32, "a long random token: {token}");
    let link = format!("{marker}{token}");
    assert!(
        text.contains(&format!("{base_url}{link}")),
        "the link is absolute on BASE_URL {base_url}:\n{text}"
    );
    link
}

/// Waits until the outbox has recorded at least `count` sent messages (for deliveries
/// that run in the background, or that a background job picked up first).
pub async fn wait_for_sent(app: &TestApp, count: usize) {
    for _ in 0..100 {
        let sent: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM email_outbox WHERE status = 'sent'")
                .fetch_one(app.db.reader())
                .await
                .unwrap_or(0);
        if sent as usize >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until at least `count` mails are completely written by the file backend, and
/// returns them all. A file can exist before it is fully written, so this waits for the
/// outbox to record the sends.
pub async fn wait_for_mails(app: &TestApp, count: usize) -> Vec<String> {
    wait_for_sent(app, count).await;
    app.mails()
}

/// The header of a raw message, e.g. `header(mail, "Subject")`.
pub fn header(raw: &str, name: &str) -> Option<String> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    raw.split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .lines()
        .find(|line| line.to_ascii_lowercase().starts_with(&prefix))
        .map(|line| line[prefix.len()..].trim().to_owned())
}

/// The password of the accounts these tests register.
pub const PASSWORD: &str = "popcorn and a window seat";

pub fn hours(n: i64) -> time::Duration {
    time::Duration::hours(n)
}

pub fn minutes(n: i64) -> time::Duration {
    time::Duration::minutes(n)
}

/// Registers through the page form with `PASSWORD`.
pub async fn register_form(browser: &Browser, name: &str, email: &str) -> reqwest::Response {
    browser
        .post_form(
            "/accounts/register",
            &[
                ("name", name),
                ("email", email),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await
}

/// Every outbox row: status, attempts, last error and kind, oldest first.
pub async fn outbox_rows(app: &TestApp) -> Vec<(String, i64, Option<String>, String)> {
    sqlx::query_as("SELECT status, attempts, last_error, kind FROM email_outbox ORDER BY id")
        .fetch_all(app.db.reader())
        .await
        .unwrap()
}
