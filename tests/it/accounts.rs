//! Accounts and email, end to end on a real database (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`): registration with an emailed verification link, login and logout,
//! password reset and change, throttling, CSRF, and mail through the outbox over the file
//! backend and a real SMTP conversation on loopback.

use crate::common::accounts::{PASSWORD, hours, minutes, register_form};
use crate::common::accounts::{
    create_user, decode_mail, header, link_in_mail, login, set_cookie, wait_for_mails,
};
use crate::common::{Browser, TestApp, extract_input, location};
use reqwest::StatusCode;
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "front row at midnight";

/// A page without its per-render CSRF tokens, to compare two answers.
fn without_csrf(html: &str) -> String {
    html.lines()
        .filter(|line| !line.contains("csrf"))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn me(browser: &Browser) -> (StatusCode, Value) {
    browser.get_json("/api/v1/me").await
}

async fn api_login(browser: &Browser, email: &str, password: &str) -> reqwest::Response {
    browser
        .post_json(
            "/api/v1/auth/login",
            &json!({ "email": email, "password": password }),
        )
        .await
}

#[tokio::test]
async fn register_verify_login_me_and_logout_through_the_pages() {
    let app = TestApp::spawn().await;
    let browser = app.browser();

    let (status, form) = browser.get_text("/accounts/register").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("action=\"/accounts/register\"") && form.contains("csrf_token"));

    let response = register_form(&browser, "Ann Lee", "  Ann@Example.com ").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/accounts/verify/sent");
    let (_, sent) = browser.get_text("/accounts/verify/sent").await;
    assert!(sent.contains("Check your inbox"));

    let verified_at: Option<i64> =
        sqlx::query_scalar("SELECT email_verified_at FROM users WHERE email = 'ann@example.com'")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_eq!(verified_at, None, "inactive until verified");

    let mails = wait_for_mails(&app, 1).await;
    assert_eq!(mails.len(), 1, "one verification email");
    assert!(
        header(&mails[0], "To")
            .unwrap()
            .contains("<ann@example.com>")
    );
    assert_eq!(
        header(&mails[0], "Subject").unwrap(),
        "Confirm your email address"
    );
    let text = decode_mail(&mails[0]);
    assert!(text.contains("Hi Ann Lee") && text.contains("text/html"));
    let link = link_in_mail(&mails[0], "/accounts/verify", &app.base_url);

    // Not yet: the right password on an unverified address asks to verify first.
    let response = browser
        .post_form(
            "/accounts/login",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Please confirm your email address first")
    );

    let (status, page) = browser.get_text(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Email confirmed") && page.contains("ann@example.com"));
    let (_, again) = browser.get_text(&link).await;
    assert!(again.contains("already confirmed"), "a used link says so");

    login(&browser, "ann@example.com", PASSWORD).await;
    let (status, body) = me(&browser).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"]["email"], "ann@example.com");
    assert_eq!(body["user"]["name"], "Ann Lee");
    assert_eq!(body["user"]["is_staff"], false);
    let (_, home) = browser.get_text("/").await;
    assert!(home.contains("Welcome back, Ann Lee."));

    let response = browser.post_form("/accounts/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/");
    let (status, body) = me(&browser).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "unauthorized");
}

#[tokio::test]
async fn register_verify_login_me_and_logout_through_the_api() {
    let app = TestApp::spawn().await;
    let client = app.browser();

    let response = client
        .post_json(
            "/api/v1/auth/register",
            &json!({ "email": "Bo@Example.com", "password": PASSWORD, "name": "Bo" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "status": "verification_sent" })
    );

    // A wrong password on an unverified account is just wrong; 403 only for the right one.
    let response = api_login(&client, "bo@example.com", "not my password").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = api_login(&client, "bo@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "email_not_verified"
    );

    let link = link_in_mail(
        &wait_for_mails(&app, 1).await[0],
        "/accounts/verify",
        &app.base_url,
    );
    assert_eq!(client.get(&link).await.status(), StatusCode::OK);

    let response = api_login(&client, "BO@example.com ", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(set_cookie(&response, "session").is_some());
    let body: Value = response.json().await.unwrap();
    let user = &body["user"];
    assert_eq!(user["email"], "bo@example.com");
    assert_eq!(user["name"], "Bo");
    assert_eq!(user["is_staff"], false);
    assert!(user["id"].as_i64().unwrap() > 0);
    assert!(user.get("password_hash").is_none());

    let (status, body) = me(&client).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"], *user);

    let response = client
        .client
        .post(client.url("/api/v1/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(&client).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_answer_identically() {
    let app = TestApp::spawn().await;
    create_user(&app, "cy@example.com", PASSWORD, false).await;
    let client = app.browser();

    let wrong = api_login(&client, "cy@example.com", "not the password").await;
    let unknown = api_login(&client, "nobody@example.com", "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.status(), unknown.status());
    let wrong: Value = wrong.json().await.unwrap();
    let unknown: Value = unknown.json().await.unwrap();
    assert_eq!(wrong, unknown);
    assert_eq!(wrong["error"], "invalid_credentials");

    let wrong = client
        .post_form(
            "/accounts/login",
            &[
                ("email", "cy@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    let unknown = client
        .post_form(
            "/accounts/login",
            &[
                ("email", "nobody@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), unknown.status());
    let wrong = wrong.text().await.unwrap();
    let unknown = unknown.text().await.unwrap();
    assert!(wrong.contains("The email or password is not right."));
    assert_eq!(
        without_csrf(&wrong).replace("cy@example.com", "EMAIL"),
        without_csrf(&unknown).replace("nobody@example.com", "EMAIL")
    );
    assert!(
        !wrong.contains("not the password"),
        "the password is never echoed"
    );
}

#[tokio::test]
async fn a_taken_email_answers_like_a_fresh_one_and_mails_the_owner() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let fresh = register_form(&browser, "Dee", "dee@example.com").await;
    let taken = register_form(&browser, "Mallory", "  DEE@example.com").await;
    assert_eq!(fresh.status(), taken.status());
    assert_eq!(location(&fresh), location(&taken));

    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(users, 1);
    let name: String = sqlx::query_scalar("SELECT name FROM users")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(name, "Dee", "the account is untouched");

    let mails = wait_for_mails(&app, 2).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(
        header(&mails[1], "Subject").unwrap(),
        "Someone tried to sign up with your email"
    );
    assert!(header(&mails[1], "To").unwrap().contains("dee@example.com"));
    let notice = decode_mail(&mails[1]);
    assert!(notice.contains(&format!("{}/accounts/password-reset", app.base_url)));
    assert!(notice.contains("Hi Dee") && !notice.contains("Mallory"));

    let response = browser
        .post_json(
            "/api/v1/auth/register",
            &json!({ "email": "dee@example.com", "password": PASSWORD, "name": "X" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "status": "verification_sent" })
    );
    assert_eq!(wait_for_mails(&app, 3).await.len(), 3);
}

#[tokio::test]
async fn bad_registrations_come_back_with_values_kept_and_field_errors() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let response = browser
        .post_form(
            "/accounts/register",
            &[
                ("name", ""),
                ("email", "not-an-email"),
                ("password", "short"),
                ("password_confirm", "shorter"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("value=\"not-an-email\""), "the email is kept");
    assert!(
        !page.contains("value=\"short\""),
        "passwords are never kept"
    );
    assert!(page.contains("Enter your name."));
    assert!(page.contains("Enter a valid email address"));
    assert!(page.contains("Use at least 8 characters"));
    assert!(page.contains("The two passwords do not match."));
    assert!(page.contains("class=\"field-error\" id=\"email-error\""));
    assert!(page.contains("aria-invalid=\"true\" aria-describedby=\"email-error\""));

    let response = browser
        .post_form(
            "/accounts/register",
            &[
                ("name", "Eve <script>"),
                ("email", "eve@example.com"),
                ("password", "Password123"),
                ("password_confirm", "Password123"),
            ],
        )
        .await;
    let page = response.text().await.unwrap();
    assert!(page.contains("too common"));
    assert!(page.contains("Eve &#60;script&#62;") || page.contains("Eve &lt;script&gt;"));
    assert!(!page.contains("Eve <script>"));

    let response = browser
        .post_json(
            "/api/v1/auth/register",
            &json!({ "email": "x", "password": "12345678", "name": "" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "validation_failed");
    for field in ["email", "password", "name"] {
        assert!(body["fields"][field].is_string(), "{field}: {body}");
    }
    assert_eq!(app.mails().len(), 0);
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(users, 0);
}

#[tokio::test]
async fn the_api_refuses_unknown_fields_and_broken_bodies_with_4xx() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let url = client.url("/api/v1/auth/login");

    let unknown_field = client
        .post_json(
            "/api/v1/auth/login",
            &json!({ "email": "a@example.com", "password": PASSWORD, "is_staff": true }),
        )
        .await;
    let malformed = client
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    let bad_encoding = client
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(vec![b'{', b'"', 0xff, 0xfe, b'"', b'}'])
        .send()
        .await
        .unwrap();
    let wrong_type = client
        .post_json(
            "/api/v1/auth/register",
            &json!({ "email": 5, "password": [], "name": null }),
        )
        .await;
    let not_json = client
        .client
        .post(&url)
        .header("content-type", "text/plain")
        .body("email=a")
        .send()
        .await
        .unwrap();
    let oversized = client
        .post_json(
            "/api/v1/auth/login",
            &json!({ "email": "a@example.com", "password": "x".repeat(100_000) }),
        )
        .await;
    for (what, response) in [
        ("unknown field", unknown_field),
        ("malformed", malformed),
        ("bad encoding", bad_encoding),
        ("wrong type", wrong_type),
        ("not JSON", not_json),
        ("oversized", oversized),
    ] {
        let status = response.status();
        assert!(status.is_client_error(), "{what}: {status}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].is_string(), "{what}: {body}");
        assert!(body["message"].is_string(), "{what}: {body}");
    }
}

#[tokio::test]
async fn a_cross_site_post_to_login_is_refused() {
    let app = TestApp::spawn().await;
    create_user(&app, "di@example.com", PASSWORD, false).await;
    let browser = app.browser();
    let token = browser.csrf_token().await;

    let forged = browser
        .client
        .post(browser.url("/accounts/login"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("email", "di@example.com"),
            ("password", PASSWORD),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&forged, "session").is_none());

    let tokenless = browser
        .client
        .post(browser.url("/accounts/login"))
        .form(&[("email", "di@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(tokenless.status(), StatusCode::FORBIDDEN);
    assert_eq!(me(&browser).await.0, StatusCode::UNAUTHORIZED);

    let forged_api = browser
        .client
        .post(browser.url("/api/v1/auth/login"))
        .header("origin", "https://evil.example")
        .json(&json!({ "email": "di@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(forged_api.status(), StatusCode::FORBIDDEN);
    assert_eq!(me(&browser).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_session_id_changes_at_login_and_the_old_cookie_dies_at_logout() {
    let app = TestApp::spawn().await;
    create_user(&app, "ed@example.com", PASSWORD, false).await;
    let browser = app.browser();

    // An anonymous session first (the city switcher's message creates one).
    let response = browser.post_form("/city", &[("city", "atlantis")]).await;
    let before = set_cookie(&response, "session").expect("an anonymous session");

    let response = browser
        .post_form(
            "/accounts/login",
            &[("email", "ed@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let after = set_cookie(&response, "session").expect("a session cookie at login");
    assert_ne!(before, after, "login issues a new session id");

    let replay = |cookie: String| {
        let url = browser.url("/api/v1/me");
        async move {
            reqwest::Client::new()
                .get(url)
                .header("cookie", format!("session={cookie}"))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        replay(before.clone()).await,
        StatusCode::UNAUTHORIZED,
        "the id from before login is worthless"
    );
    assert_eq!(replay(after.clone()).await, StatusCode::OK);

    let response = browser.post_form("/accounts/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        replay(after.clone()).await,
        StatusCode::UNAUTHORIZED,
        "the old cookie is dead after logout"
    );
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE id = $1")
        .bind(&after)
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(left, 0, "logout deletes the session on the server");
}

#[tokio::test]
async fn next_only_redirects_to_local_paths() {
    let app = TestApp::spawn().await;
    create_user(&app, "fay@example.com", PASSWORD, false).await;
    for (next, expected) in [
        ("/accounts/profile", "/accounts/profile"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ] {
        let browser = app.browser();
        let response = browser
            .post_form(
                "/accounts/login",
                &[
                    ("email", "fay@example.com"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(location(&response), expected, "{next}");
    }

    let browser = app.browser();
    let response = browser.get("/accounts/profile").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = location(&response);
    assert_eq!(to, "/accounts/login?next=%2Faccounts%2Fprofile");
    let (_, page) = browser.get_text(&to).await;
    assert_eq!(extract_input(&page, "next").unwrap(), "/accounts/profile");
    let (_, page) = browser
        .get_text("/accounts/login?next=//evil.example")
        .await;
    assert_eq!(extract_input(&page, "next").unwrap(), "/");
}

#[tokio::test]
async fn password_reset_links_work_once_and_expire_after_an_hour() {
    let app = TestApp::spawn().await;
    create_user(&app, "gus@example.com", PASSWORD, false).await;
    let logged_in = app.browser();
    login(&logged_in, "gus@example.com", PASSWORD).await;

    let browser = app.browser();
    let (status, form) = browser.get_text("/accounts/password-reset").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("action=\"/accounts/password-reset\""));
    let known = browser
        .post_form("/accounts/password-reset", &[("email", "GUS@example.com")])
        .await;
    let unknown = browser
        .post_form(
            "/accounts/password-reset",
            &[("email", "nobody@example.com")],
        )
        .await;
    assert_eq!(known.status(), StatusCode::SEE_OTHER);
    assert_eq!(known.status(), unknown.status());
    assert_eq!(location(&known), "/accounts/password-reset/sent");
    assert_eq!(location(&known), location(&unknown));

    let mails = wait_for_mails(&app, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(app.mails().len(), 1, "no mail for an unknown address");
    assert_eq!(header(&mails[0], "Subject").unwrap(), "Reset your password");
    let link = link_in_mail(&mails[0], "/accounts/password-reset/confirm", &app.base_url);

    let (status, page) = browser.get_text(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Choose a new password"));
    let token = extract_input(&page, "token").expect("the token travels in the form");

    let mismatch = browser
        .post_form(
            "/accounts/password-reset/confirm",
            &[
                ("token", token.as_str()),
                ("password", NEW_PASSWORD),
                ("password_confirm", "something else"),
            ],
        )
        .await;
    assert!(
        mismatch
            .text()
            .await
            .unwrap()
            .contains("The two passwords do not match.")
    );
    let common = browser
        .post_form(
            "/accounts/password-reset/confirm",
            &[
                ("token", token.as_str()),
                ("password", "iloveyou"),
                ("password_confirm", "iloveyou"),
            ],
        )
        .await;
    assert!(common.text().await.unwrap().contains("too common"));

    let done = browser
        .post_form(
            "/accounts/password-reset/confirm",
            &[
                ("token", token.as_str()),
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/accounts/login");
    assert_eq!(
        me(&logged_in).await.0,
        StatusCode::UNAUTHORIZED,
        "a reset ends every session of the user"
    );

    // Single use.
    let reused = browser
        .post_form(
            "/accounts/password-reset/confirm",
            &[
                ("token", token.as_str()),
                ("password", "another fine password"),
                ("password_confirm", "another fine password"),
            ],
        )
        .await;
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reused
            .text()
            .await
            .unwrap()
            .contains("expired or was already used")
    );
    let (_, page) = browser.get_text(&link).await;
    assert!(page.contains("expired or was already used"));

    let fresh = app.browser();
    assert_eq!(
        api_login(&fresh, "gus@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api_login(&fresh, "gus@example.com", NEW_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );

    // Expiry: a second link, an hour and a minute later.
    browser
        .post_form("/accounts/password-reset", &[("email", "gus@example.com")])
        .await;
    let mails = wait_for_mails(&app, 2).await;
    let late_link = link_in_mail(&mails[1], "/accounts/password-reset/confirm", &app.base_url);
    assert_ne!(late_link, link);
    app.state.clock.advance(minutes(61));
    let (_, page) = browser.get_text(&late_link).await;
    assert!(page.contains("This link has expired"));
    let late_token = late_link.split("token=").nth(1).unwrap();
    let late = browser
        .post_form(
            "/accounts/password-reset/confirm",
            &[
                ("token", late_token),
                ("password", "too late a password"),
                ("password_confirm", "too late a password"),
            ],
        )
        .await;
    assert!(
        late.text()
            .await
            .unwrap()
            .contains("expired or was already used")
    );
    assert_eq!(
        api_login(&app.browser(), "gus@example.com", NEW_PASSWORD)
            .await
            .status(),
        StatusCode::OK,
        "the expired link changed nothing"
    );
}

#[tokio::test]
async fn an_expired_verification_link_offers_a_new_one() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    register_form(&browser, "Hal", "hal@example.com").await;
    let link = link_in_mail(
        &wait_for_mails(&app, 1).await[0],
        "/accounts/verify",
        &app.base_url,
    );

    app.state.clock.advance(hours(49));
    let (status, page) = browser.get_text(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("This link has expired"));
    assert!(page.contains("action=\"/accounts/verify/resend\""));
    let (_, page) = browser.get_text("/accounts/verify").await;
    assert!(page.contains("This link has expired"), "no token at all");

    let known = browser
        .post_form("/accounts/verify/resend", &[("email", "hal@example.com")])
        .await;
    let unknown = browser
        .post_form(
            "/accounts/verify/resend",
            &[("email", "nobody@example.com")],
        )
        .await;
    assert_eq!(known.status(), StatusCode::SEE_OTHER);
    assert_eq!(known.status(), unknown.status());
    assert_eq!(location(&known), location(&unknown));

    let mails = wait_for_mails(&app, 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(app.mails().len(), 2, "no mail for an unknown address");
    let new_link = link_in_mail(&mails[1], "/accounts/verify", &app.base_url);
    let (_, page) = browser.get_text(&new_link).await;
    assert!(page.contains("Email confirmed"));
    login(&browser, "hal@example.com", PASSWORD).await;
}

#[tokio::test]
async fn repeated_failures_lock_the_account_with_retry_after() {
    let app = TestApp::spawn().await;
    create_user(&app, "ivy@example.com", PASSWORD, false).await;
    let client = app.browser();
    for _ in 0..10 {
        let response = api_login(&client, "ivy@example.com", "guessing wrong").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    // Locked now, even with the right password.
    let response = api_login(&client, "ivy@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: i64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "account_locked");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("wait") && message.contains("reset your password"));

    let page = client
        .post_form(
            "/accounts/login",
            &[("email", "ivy@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(page.headers().contains_key("retry-after"));
    assert!(page.text().await.unwrap().contains("reset your password"));

    // An unknown email locks the same way, so the lock reveals nothing either.
    app.state.limiter.reset();
    for _ in 0..10 {
        api_login(&client, "nobody@example.com", "guessing wrong").await;
    }
    let response = api_login(&client, "nobody@example.com", "guessing wrong").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "account_locked"
    );

    // Fifteen minutes later the account opens again.
    app.state.clock.advance(minutes(15));
    app.state.limiter.reset();
    let response = api_login(&client, "ivy@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn too_many_logins_from_one_address_are_refused() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let mut last = None;
    for i in 0..21 {
        let response = api_login(&client, &format!("visitor{i}@example.com"), "guessing").await;
        last = Some(response);
    }
    let response = last.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "rate_limited"
    );
}

#[tokio::test]
async fn changing_the_password_keeps_this_session_and_ends_the_others() {
    let app = TestApp::spawn().await;
    let user_id = create_user(&app, "jo@example.com", PASSWORD, false).await;
    let here = app.browser();
    let response = here
        .post_form(
            "/accounts/login",
            &[("email", "jo@example.com"), ("password", PASSWORD)],
        )
        .await;
    let here_before = set_cookie(&response, "session").unwrap();
    let elsewhere = app.browser();
    login(&elsewhere, "jo@example.com", PASSWORD).await;

    let (status, profile) = here.get_text("/accounts/profile").await;
    assert_eq!(status, StatusCode::OK);
    assert!(profile.contains("jo@example.com") && profile.contains("Change password"));
    assert!(profile.contains("id=\"booking-history\""));

    let change = |current: &'static str, new: &'static str, confirm: &'static str| {
        let here = here.clone();
        async move {
            here.post_form(
                "/accounts/profile/password",
                &[
                    ("current_password", current),
                    ("new_password", new),
                    ("new_password_confirm", confirm),
                ],
            )
            .await
        }
    };
    let wrong = change("not my password", NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("That is not your current password.")
    );
    let weak = change(PASSWORD, "qwerty123", "qwerty123").await;
    assert!(weak.text().await.unwrap().contains("too common"));
    let mismatch = change(PASSWORD, NEW_PASSWORD, "typo").await;
    assert!(
        mismatch
            .text()
            .await
            .unwrap()
            .contains("The two passwords do not match.")
    );
    assert_eq!(
        me(&elsewhere).await.0,
        StatusCode::OK,
        "nothing changed yet"
    );

    let done = change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/accounts/profile");
    let here_after = set_cookie(&done, "session").expect("a new session id");
    assert_ne!(here_before, here_after);

    assert_eq!(me(&here).await.0, StatusCode::OK, "still logged in here");
    assert_eq!(
        me(&elsewhere).await.0,
        StatusCode::UNAUTHORIZED,
        "logged out elsewhere"
    );
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(sessions, 1);
    let (_, profile) = here.get_text("/accounts/profile").await;
    assert!(profile.contains("Your password has been changed"));

    let fresh = app.browser();
    assert_eq!(
        api_login(&fresh, "jo@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api_login(&fresh, "jo@example.com", NEW_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn created_users_can_log_in_and_staff_is_reported() {
    let app = TestApp::spawn().await;
    let id = create_user(&app, "Kim@Example.com", PASSWORD, true).await;
    let browser = app.browser();
    login(&browser, "kim@example.com", PASSWORD).await;
    let (_, body) = me(&browser).await;
    assert_eq!(body["user"]["id"], id);
    assert_eq!(body["user"]["is_staff"], true);

    let again = moviebooking::domain::users::create_user(
        &app.db,
        moviebooking::domain::users::NewUser {
            email: moviebooking::domain::users::Email::parse("kim@example.com").unwrap(),
            name: "Kim".into(),
            password: PASSWORD.into(),
            role: moviebooking::domain::roles::Role::Customer,
            email_verified: true,
        },
        app.state.clock.unix_now(),
    )
    .await;
    assert!(matches!(
        again,
        Err(moviebooking::domain::users::CreateUserError::EmailTaken)
    ));
}
