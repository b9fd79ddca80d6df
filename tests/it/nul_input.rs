//! A NUL character in what a client sends is refused where the request is parsed, with the
//! same 400 and message on SQLite and PostgreSQL. PostgreSQL cannot store NUL in text and
//! SQLite can, so before the check at the edge one engine refused such input and the other
//! saved it. Run with `TEST_DATABASE_URL` to see the PostgreSQL side give the same answers.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::common::admin::{scalar, world};
use crate::common::catalogue::seed_small_showtime;

/// What the client is told, on either engine, wherever the NUL was.
const MESSAGE: &str = "What you sent contains a character that cannot be stored (a NUL byte). Please remove it and try again.";

async fn json_refusal(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "bad_request", "{body}");
    assert_eq!(body["message"], MESSAGE, "{body}");
}

async fn page_refusal(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("a character that cannot be stored (a NUL byte)"),
        "{page}"
    );
}

#[tokio::test]
async fn a_nul_in_a_form_field_is_refused_and_nothing_is_saved() {
    let w = world().await;
    let show = seed_small_showtime(&w.app).await;
    let response = w
        .staff
        .post_form(
            &format!("/admin/cities/{}", show.city_id),
            &[("name", "Pu\0ne"), ("slug", "pune")],
        )
        .await;
    page_refusal(response).await;
    assert_eq!(
        scalar(
            &w.app,
            "SELECT COUNT(*) FROM cities WHERE slug = $1",
            &show.city_slug
        )
        .await,
        1,
        "the city is as it was"
    );
}

#[tokio::test]
async fn a_nul_in_a_json_field_is_refused_and_nothing_is_saved() {
    let app = TestApp::spawn().await;
    let response = app
        .browser()
        .post_json(
            "/api/v1/auth/register",
            &json!({ "name": "Ada\u{0}", "email": "ada@example.com", "password": "correct horse battery" }),
        )
        .await;
    json_refusal(response).await;
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM users WHERE email = $1",
            "ada@example.com"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_nul_in_a_query_string_is_refused_on_the_api_and_the_pages() {
    let app = TestApp::spawn().await;
    seed_small_showtime(&app).await;
    let browser = app.browser();
    json_refusal(browser.get("/api/v1/movies?q=%00").await).await;
    json_refusal(browser.get("/api/v1/movies?city=pu%00ne").await).await;
    page_refusal(browser.get("/movies?q=a%00b").await).await;
    // The same searches without the NUL still work.
    assert_eq!(
        browser.get("/api/v1/movies?q=a").await.status(),
        StatusCode::OK
    );
    assert_eq!(browser.get("/movies?q=a").await.status(), StatusCode::OK);
}
