//! Logged-in visitors without the accounts feature: a verified user row and a session row
//! written straight into the database, and the session cookie a browser would send.
//! Production cookies are `Secure`, which an HTTP test client does not send by itself, so
//! tests pass the returned `Cookie` header value explicitly.

use moviebooking::db::session_store::{DbSessionStore, USER_ID_KEY};
use tower_sessions::SessionStore;
use tower_sessions::session::{Id, Record};

use super::TestApp;

/// Inserts an active, verified user and returns its id.
pub async fn create_verified_user(app: &TestApp, email: &str) -> i64 {
    let now = app.state.clock.unix_now();
    sqlx::query_scalar(
        "INSERT INTO users (email, name, password_hash, is_active, email_verified_at, created_at, updated_at) \
         VALUES ($1, $2, 'not-a-real-hash', 1, $3, $3, $3) RETURNING id",
    )
    .bind(email)
    .bind("Test Visitor")
    .bind(now)
    .fetch_one(app.db.writer())
    .await
    .expect("insert user")
}

/// A session logged in as `user_id`; returns the `Cookie` header value (`name=id`).
pub async fn session_cookie(app: &TestApp, user_id: i64) -> String {
    let mut record = Record {
        id: Id::default(),
        data: [(USER_ID_KEY.to_owned(), serde_json::json!(user_id))]
            .into_iter()
            .collect(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::days(1),
    };
    DbSessionStore::new(app.db.clone())
        .create(&mut record)
        .await
        .expect("store session");
    let name = moviebooking::web::session_cookie_name(app.state.config.secure_cookies());
    format!("{name}={}", record.id)
}

/// A new verified user with a logged-in session: (user id, `Cookie` header value).
pub async fn logged_in(app: &TestApp) -> (i64, String) {
    let email = format!(
        "visitor-{}@example.com",
        moviebooking::domain::tokens::random_token(8).to_lowercase()
    );
    let id = create_verified_user(app, &email).await;
    (id, session_cookie(app, id).await)
}
