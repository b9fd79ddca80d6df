//! The platform every feature stands on: probes, error pages, security headers, CSRF,
//! sessions in the database, configuration errors, SQLite pragmas and migrations.

use crate::common::{Browser, TestApp, TestDatabase, on_postgres};
use reqwest::StatusCode;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let (status, body) = browser.get_json("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    let (status, body) = browser.get_json("/readyz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn readiness_fails_when_the_schema_is_behind() {
    let database = TestDatabase::create().await;
    let db = moviebooking::db::Db::connect(&database.url, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    // No migrations applied: the app must say it is not ready rather than serve errors.
    let status = moviebooking::db::migrate::status(&db).await.unwrap();
    assert!(matches!(
        status,
        moviebooking::db::migrate::SchemaStatus::Behind { .. }
    ));
}

#[tokio::test]
async fn unknown_pages_get_a_404_page_and_the_api_gets_json() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let response = browser.get("/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let body = response.text().await.unwrap();
    assert!(body.contains("Page not found"), "{body}");
    assert!(
        body.contains("<html"),
        "the 404 is a whole page in the site's layout"
    );

    let (status, json) = browser.get_json("/api/v1/no-such-thing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json["error"], "not_found");
    assert!(json["message"].as_str().unwrap().len() > 5);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/", "/no/such/page", "/api/v1/nothing", "/healthz"] {
        let response = app.browser().get(path).await;
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(
            headers["referrer-policy"], "strict-origin-when-cross-origin",
            "{path}"
        );
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert!(headers.contains_key("x-request-id"), "{path}");
        assert!(!headers.contains_key("server"), "{path}");
    }
}

#[tokio::test]
async fn a_cross_site_post_is_refused() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let token = browser.csrf_token().await;

    // A page on another site submitting a form to us, token or not.
    let forged = browser
        .client
        .post(browser.url("/city"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[("city", "x"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // Same origin but without the form's token (e.g. an old browser without fetch metadata).
    let tokenless = browser
        .client
        .post(browser.url("/city"))
        .form(&[("city", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(tokenless.status(), StatusCode::FORBIDDEN);
    assert!(tokenless.text().await.unwrap().contains("expired"));

    // Another visitor's token does not work with this visitor's cookie.
    let stranger_token = app.browser().csrf_token().await;
    let stolen = browser
        .client
        .post(browser.url("/city"))
        .form(&[("city", "x"), ("csrf_token", &stranger_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status(), StatusCode::FORBIDDEN);

    // The real form goes through.
    let genuine = browser.post_form("/city", &[("city", "x")]).await;
    assert_ne!(genuine.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_session_survives_across_requests_and_lives_in_the_database() {
    let app = TestApp::spawn().await;
    sqlx::query("INSERT INTO cities (name, slug) VALUES ('Pune', 'pune')")
        .execute(app.db.writer())
        .await
        .unwrap();
    let browser = app.browser();
    let response = browser.post_form("/city", &[("city", "pune")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(stored, 1, "the session is a row in the database");

    // A second process on the same database sees the same session.
    let other = app.another_instance().await;
    let same_visitor = Browser {
        base_url: other.base_url.clone(),
        client: browser.client.clone(),
    };
    let (_, page) = same_visitor.get_text("/").await;
    assert!(
        page.contains("name=\"city\" value=\"pune\""),
        "the chosen city is remembered"
    );
}

#[tokio::test]
async fn sqlite_pragmas_hold_on_every_connection() {
    if on_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    for pool in [app.db.reader(), app.db.writer()] {
        // Hold several connections at once so that each is a different one.
        let mut held = Vec::new();
        for _ in 0..2 {
            let mut conn = pool.acquire().await.unwrap();
            let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            let fks: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            assert_eq!(journal, "wal");
            assert_eq!(synchronous, 1, "NORMAL");
            assert_eq!(busy, 20000);
            assert_eq!(fks, 1);
            held.push(conn);
        }
    }
}

/// Table -> sorted column names, read from the engine's own catalogue.
async fn schema_shape(
    db: &moviebooking::db::Db,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let sql = match db.engine() {
        moviebooking::db::Engine::Sqlite => {
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'"
        }
        moviebooking::db::Engine::Postgres => {
            "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'"
        }
    };
    let rows: Vec<(String, String)> = sqlx::query_as(sql).fetch_all(db.reader()).await.unwrap();
    let mut shape = std::collections::BTreeMap::<String, Vec<String>>::new();
    for (table, column) in rows {
        shape.entry(table).or_default().push(column);
    }
    for columns in shape.values_mut() {
        columns.sort();
    }
    shape
}

#[tokio::test]
async fn both_engines_migrate_to_the_same_tables_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = moviebooking::db::Db::connect(
        &format!("sqlite://{}", dir.path().join("shape.db").display()),
        std::time::Duration::from_secs(5),
    )
    .await
    .unwrap();
    moviebooking::db::migrate::run(&sqlite).await.unwrap();
    let sqlite_shape = schema_shape(&sqlite).await;
    assert!(sqlite_shape.contains_key("sessions") && sqlite_shape.contains_key("seat_claims"));

    if !on_postgres() {
        eprintln!("TEST_DATABASE_URL is not set: compared SQLite only; CI compares both engines");
        return;
    }
    let app = TestApp::spawn().await;
    let postgres_shape = schema_shape(&app.db).await;
    assert_eq!(sqlite_shape, postgres_shape);
}

fn run_binary(env: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_moviebooking"));
    command
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        command.env(k, v);
    }
    command.arg("migrate").output().unwrap()
}

#[test]
fn a_bad_port_stops_the_program_with_a_clear_message() {
    let output = run_binary(&[("PORT", "eighty")]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("PORT") && stderr.contains("TCP port"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_bad_database_url_stops_the_program_with_a_clear_message() {
    let output = run_binary(&[("DATABASE_URL", "mysql://nope")]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");

    // Well-formed but unreachable: a one-line error, not a panic.
    let output = run_binary(&[
        ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none"),
        ("DB_ACQUIRE_TIMEOUT_SECONDS", "2"),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("could not open the database"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn production_refuses_to_serve_on_a_schema_older_than_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!(
        "sqlite://{}",
        dir.path().join("never-migrated.db").display()
    );
    let secret_key = crate::common::production::SECRET_KEY;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_moviebooking"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs([
            ("APP_ENV", "production"),
            ("DATABASE_URL", database.as_str()),
            ("BASE_URL", "https://tickets.example.com"),
            ("SECRET_KEY", secret_key),
            ("RAZORPAY_KEY_ID", "rzp_live_x"),
            ("RAZORPAY_KEY_SECRET", "secret-one"),
            ("RAZORPAY_WEBHOOK_SECRET", "secret-two"),
            // Settings that pass the deploy audit: this test is about the schema.
            ("ALLOWED_HOSTS", "tickets.example.com"),
            ("SMTP_URL", "smtps://mailer:pw@smtp.example.com:465"),
            ("TRUSTED_PROXY_HOPS", "1"),
            ("BIND_ADDR", "127.0.0.1"),
            ("ALLOW_SQLITE_IN_PRODUCTION", "true"),
        ])
        .arg("serve")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("schema is behind") && stderr.contains("moviebooking migrate"),
        "{stderr}"
    );
}

/// The stored expiry of `user_id`'s only session.
async fn session_expiry(app: &TestApp, user_id: i64) -> i64 {
    sqlx::query_scalar("SELECT expires_at FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(app.db.reader())
        .await
        .unwrap()
}

#[tokio::test]
async fn browsing_while_logged_in_does_not_rewrite_the_session_until_its_expiry_is_an_hour_stale() {
    let app = TestApp::spawn().await;
    let user = crate::common::accounts::create_user(
        &app,
        "reader@example.com",
        "a long enough pass",
        false,
    )
    .await;
    let browser = app.browser();
    crate::common::accounts::login(&browser, "reader@example.com", "a long enough pass").await;
    let set_expiry_back = |seconds: i64| {
        let db = app.db.clone();
        async move {
            sqlx::query("UPDATE sessions SET expires_at = expires_at - $1 WHERE user_id = $2")
                .bind(seconds)
                .bind(user)
                .execute(db.writer())
                .await
                .unwrap();
        }
    };

    // The first page shows (and so removes) the welcome message: a real change, written.
    assert_eq!(browser.get("/").await.status(), StatusCode::OK);
    // A few seconds behind: pages load, nothing is written.
    set_expiry_back(10).await;
    let before = session_expiry(&app, user).await;
    for path in ["/", "/movies", "/accounts/profile"] {
        assert_eq!(browser.get(path).await.status(), StatusCode::OK, "{path}");
    }
    assert_eq!(session_expiry(&app, user).await, before);

    // Two hours behind: the next page pushes the expiry forward again.
    set_expiry_back(7200).await;
    let stale = session_expiry(&app, user).await;
    assert_eq!(browser.get("/").await.status(), StatusCode::OK);
    assert!(session_expiry(&app, user).await >= stale + 7200);
}
