//! Staff editing screens and showtimes: a screen's seats change only while nothing is booked
//! on it (a rename always works), a new seat category waits until no scheduled showtime
//! would lack its price, and a showtime is edited with the checks of scheduling (not
//! clashing with itself) until its first booking.

use crate::common::admin::{audit_count, follow, scalar, world};
use crate::common::booking::{another_showtime, hold, logged_in_visitors};
use crate::common::catalogue::{SMALL_LAYOUT, seed_small_showtime};
use reqwest::StatusCode;
use time::Duration;

/// The `datetime-local` value of a UTC time in Kolkata (every fixture theatre's zone).
fn kolkata(at: time::OffsetDateTime) -> String {
    let local = at.to_offset(time::UtcOffset::from_hms(5, 30, 0).unwrap());
    format!("{}T{:02}:{:02}", local.date(), local.hour(), local.minute())
}

async fn seat_count(w: &crate::common::admin::World, screen_id: i64) -> i64 {
    scalar(
        &w.app,
        "SELECT COUNT(*) FROM seats WHERE screen_id = CAST($1 AS INTEGER)",
        &screen_id.to_string(),
    )
    .await
}

async fn last_summary(w: &crate::common::admin::World, action: &str) -> String {
    sqlx::query_scalar("SELECT summary FROM audit_log WHERE action = $1 ORDER BY id DESC LIMIT 1")
        .bind(action)
        .fetch_one(w.app.db.reader())
        .await
        .unwrap()
}

const CATEGORIES: &str = "C Classic\nP Prime";

/// Submits the screen edit form with `intent=save`.
async fn save_screen(
    w: &crate::common::admin::World,
    path: &str,
    name: &str,
    categories: &str,
    layout: &str,
) -> reqwest::Response {
    let fields = [
        ("name", name),
        ("categories", categories),
        ("layout", layout),
        ("intent", "save"),
    ];
    w.staff.post_form(path, &fields).await
}

#[tokio::test]
async fn a_screen_is_renamed_and_its_seats_replaced_while_nothing_is_booked() {
    let w = world().await;
    let show = seed_small_showtime(&w.app).await;
    let path = format!("/admin/screens/{}", show.screen_id);

    let (status, list) = w.staff.get_text("/admin/screens").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(&format!("href=\"{path}\"")), "{list}");
    assert!(list.contains("<td>30</td>"), "{list}");
    let (status, page) = w.staff.get_text(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("value=\"Screen 1\"") && page.contains("C: P P P P P"));
    assert!(page.contains("Preview: 30 seats"), "{page}");
    for missing in ["/admin/screens/abc", "/admin/screens/999999"] {
        assert_eq!(w.staff.get(missing).await.status(), StatusCode::NOT_FOUND);
        let response = w.staff.post_form(missing, &[("intent", "save")]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
    }

    // Preview draws the new map and stores nothing.
    let layout = "A: C C C _ C C\nB: P Pw P";
    let form = |intent: &'static str| {
        [
            ("name", "Audi Renamed"),
            ("categories", CATEGORIES),
            ("layout", layout),
            ("intent", intent),
        ]
    };
    let response = w.staff.post_form(&path, &form("preview")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await.unwrap();
    assert!(body.contains("Preview: 8 seats"), "{body}");
    assert!(body.contains("seat seat-available cat-1 seat-wheelchair"));
    assert_eq!(seat_count(&w, show.screen_id).await, 30);

    let response = w.staff.post_form(&path, &form("save")).await;
    let page = follow(&w.staff, response).await;
    assert!(page.contains("Screen Audi Renamed is saved"), "{page}");
    assert!(page.contains("Preview: 8 seats"), "{page}");
    assert_eq!(seat_count(&w, show.screen_id).await, 8);
    let labels: Vec<String> = sqlx::query_scalar(
        "SELECT label FROM seats WHERE screen_id = $1 ORDER BY row_index, number",
    )
    .bind(show.screen_id)
    .fetch_all(w.app.db.reader())
    .await
    .unwrap();
    assert_eq!(labels, ["A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3"]);
    assert_eq!(audit_count(&w.app, "screen.update").await, 1);
    let summary = last_summary(&w, "screen.update").await;
    assert!(
        summary.contains("name: Screen 1 -> Audi Renamed"),
        "{summary}"
    );
    assert!(summary.contains("seats: 30 -> 8"), "{summary}");

    // The scheduled showtime sells the new seats at its old prices.
    let (status, seats) = w
        .staff
        .get_json(&format!("/api/v1/showtimes/{}/seats", show.showtime_id))
        .await;
    assert_eq!(status, StatusCode::OK);
    let seats = seats["seats"].as_array().unwrap();
    assert_eq!(seats.len(), 8);
    assert!(
        seats
            .iter()
            .any(|s| s["label"] == "B2" && s["price_paise"] == 25_000)
    );
}

#[tokio::test]
async fn a_held_seat_fixes_the_layout_but_the_screen_can_still_be_renamed() {
    let w = world().await;
    let show = seed_small_showtime(&w.app).await;
    let visitor = logged_in_visitors(&w.app, 1).await.remove(0);
    let (status, body) = hold(&visitor, show.showtime_id, &show.seat_ids[0..1]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let path = format!("/admin/screens/{}", show.screen_id);
    let (_, page) = w.staff.get_text(&path).await;
    assert!(page.contains("id=\"layout-locked\""), "{page}");

    let changed = format!("{SMALL_LAYOUT}\nD: C C");
    let response = save_screen(&w, &path, "Screen 1", CATEGORIES, &changed).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("id=\"layout-error\">The layout and seat categories cannot change"),
        "{body}"
    );
    assert!(body.contains("D: C C"), "the typed layout is kept");
    // Renaming a category is a change of categories too.
    let response = save_screen(&w, &path, "Screen 1", "C Classic\nP Premium", SMALL_LAYOUT).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(seat_count(&w, show.screen_id).await, 30);

    let response = save_screen(&w, &path, "Gold Class", CATEGORIES, SMALL_LAYOUT).await;
    let page = follow(&w.staff, response).await;
    assert!(page.contains("Screen Gold Class is saved"), "{page}");
    let same_seats = scalar(
        &w.app,
        "SELECT COUNT(*) FROM seats WHERE id = CAST($1 AS INTEGER)",
        &show.seat_ids[0].to_string(),
    )
    .await;
    assert_eq!(same_seats, 1, "the held seat is untouched");
    assert_eq!(
        last_summary(&w, "screen.update").await,
        "name: Screen 1 -> Gold Class"
    );
}

#[tokio::test]
async fn a_new_category_waits_until_no_scheduled_showtime_would_lack_its_price() {
    let w = world().await;
    let show = seed_small_showtime(&w.app).await;
    let path = format!("/admin/screens/{}", show.screen_id);
    let with_recliners = format!("{SMALL_LAYOUT}\nD: R R R");
    let form = [
        ("name", "Screen 1"),
        ("categories", "C Classic\nP Prime\nR Recliner"),
        ("layout", with_recliners.as_str()),
        ("intent", "save"),
    ];
    let response = w.staff.post_form(&path, &form).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(
        body.contains(&format!(
            "id=\"categories-error\">Showtimes {} have no price for category R (Recliner)",
            show.showtime_id
        )),
        "{body}"
    );
    assert_eq!(seat_count(&w, show.screen_id).await, 30);

    // Once the showtime is cancelled the recliners can be added.
    let cancel = format!("/admin/showtimes/{}/cancel", show.showtime_id);
    let response = w.staff.post_form(&cancel, &[("confirm", "yes")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = w.staff.post_form(&path, &form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(seat_count(&w, show.screen_id).await, 33);

    // A removed category leaves with its prices.
    let response = save_screen(
        &w,
        &path,
        "Screen 1",
        "C Classic\nR Recliner",
        "A: C C C\nB: R R",
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let prime = show.prime_category_id.to_string();
    for sql in [
        "SELECT COUNT(*) FROM seat_categories WHERE id = CAST($1 AS INTEGER)",
        "SELECT COUNT(*) FROM showtime_prices WHERE category_id = CAST($1 AS INTEGER)",
    ] {
        assert_eq!(scalar(&w.app, sql, &prime).await, 0, "{sql}");
    }
    let summary = last_summary(&w, "screen.update").await;
    assert!(
        summary.contains("categories: C Classic, P Prime, R Recliner -> C Classic, R Recliner"),
        "{summary}"
    );
    assert_eq!(audit_count(&w.app, "screen.update").await, 2);
}

#[tokio::test]
async fn a_bad_layout_line_is_shown_next_to_the_field_with_the_text_kept() {
    let w = world().await;
    let show = seed_small_showtime(&w.app).await;
    let response = w
        .staff
        .post_form(
            &format!("/admin/screens/{}", show.screen_id),
            &[
                ("name", ""),
                ("categories", CATEGORIES),
                ("layout", "A: C C\nB: C Z"),
                ("intent", "save"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("id=\"layout-error\">line 2: `Z` is not a declared seat category"),
        "{body}"
    );
    assert!(body.contains("id=\"name-error\""), "{body}");
    assert!(body.contains("B: C Z"));
    assert!(body.contains("name=\"csrf_token\""));
    assert_eq!(seat_count(&w, show.screen_id).await, 30);
    assert_eq!(audit_count(&w.app, "screen.update").await, 0);
}

/// The fields of the showtime edit form.
fn showtime_form(
    show: &crate::common::catalogue::ShowtimeFixture,
    starts: &str,
    classic: &str,
) -> Vec<(String, String)> {
    vec![
        ("movie_id".into(), show.movie_id.to_string()),
        ("starts_at".into(), starts.into()),
        ("language".into(), "English".into()),
        ("format".into(), "3D".into()),
        (
            format!("price_{}", show.classic_category_id),
            classic.into(),
        ),
        (format!("price_{}", show.prime_category_id), "300".into()),
    ]
}

async fn post_showtime(
    w: &crate::common::admin::World,
    id: i64,
    fields: &[(String, String)],
) -> reqwest::Response {
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    w.staff
        .post_form(&format!("/admin/showtimes/{id}"), &borrowed)
        .await
}

async fn starts_at(w: &crate::common::admin::World, id: i64) -> i64 {
    scalar(
        &w.app,
        "SELECT starts_at FROM showtimes WHERE id = CAST($1 AS INTEGER)",
        &id.to_string(),
    )
    .await
}

#[tokio::test]
async fn a_showtime_is_moved_and_repriced_and_the_public_seat_map_follows() {
    let w = world().await;
    let show = seed_small_showtime(&w.app).await;
    let path = format!("/admin/showtimes/{}", show.showtime_id);
    let day = show.starts_at.date();
    let (_, list) = w
        .staff
        .get_text(&format!("/admin/showtimes?date={day}&theatre=fixture"))
        .await;
    assert!(list.contains(&format!("href=\"{path}\"")), "{list}");
    let (status, page) = w.staff.get_text(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!("value=\"{}\"", kolkata(show.starts_at))),
        "{page}"
    );
    assert!(page.contains("value=\"150\"") && page.contains("value=\"250\""));
    for missing in ["/admin/showtimes/abc", "/admin/showtimes/999999"] {
        assert_eq!(w.staff.get(missing).await.status(), StatusCode::NOT_FOUND);
        let response = w.staff.post_form(missing, &[("movie_id", "1")]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
    }

    // A bad price stays next to its field, with what was typed.
    let later = show.starts_at + Duration::hours(3);
    let response = post_showtime(
        &w,
        show.showtime_id,
        &showtime_form(&show, &kolkata(later), "cheap"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(
        body.contains(&format!("id=\"price_{}-error\"", show.classic_category_id)),
        "{body}"
    );
    assert!(body.contains("value=\"cheap\""));

    let response = post_showtime(
        &w,
        show.showtime_id,
        &showtime_form(&show, &kolkata(later), "180.50"),
    )
    .await;
    let page = follow(&w.staff, response).await;
    assert!(
        page.contains(&format!("Showtime {} is saved", show.showtime_id)),
        "{page}"
    );
    assert!(page.contains("value=\"180.50\""), "{page}");
    assert_eq!(
        starts_at(&w, show.showtime_id).await,
        later.unix_timestamp()
    );
    let ends = scalar(
        &w.app,
        "SELECT ends_at FROM showtimes WHERE id = CAST($1 AS INTEGER)",
        &show.showtime_id.to_string(),
    )
    .await;
    assert_eq!(ends, later.unix_timestamp() + (120 + 20) * 60);

    let (_, seats) = w
        .staff
        .get_json(&format!("/api/v1/showtimes/{}/seats", show.showtime_id))
        .await;
    assert_eq!(
        seats["showtime"]["starts_at"],
        later
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    );
    let a1 = seats["seats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["label"] == "A1")
        .unwrap()
        .clone();
    assert_eq!(a1["price_paise"], 18_050);
    let c1 = seats["seats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["label"] == "C1")
        .unwrap()
        .clone();
    assert_eq!(c1["price_paise"], 30_000);

    assert_eq!(audit_count(&w.app, "showtime.update").await, 1);
    let summary = last_summary(&w, "showtime.update").await;
    for change in [
        "starts: ",
        "language: Hindi -> English",
        "format: 2D -> 3D",
        "prices: C ₹150.00, P ₹250.00 -> C ₹180.50, P ₹300.00",
    ] {
        assert!(summary.contains(change), "{change} in {summary}");
    }
}

#[tokio::test]
async fn an_edit_may_overlap_its_own_old_slot_but_not_another_showtime() {
    let w = world().await;
    let show = seed_small_showtime(&w.app).await;
    let next_day = another_showtime(&w.app, show.showtime_id).await;

    let clash = show.starts_at + Duration::days(1) + Duration::minutes(30);
    let response = post_showtime(
        &w,
        show.showtime_id,
        &showtime_form(&show, &kolkata(clash), "150"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(body.contains("id=\"starts_at-error\""), "{body}");
    assert!(body.contains(&format!("(showtime {next_day}")), "{body}");
    assert_eq!(
        starts_at(&w, show.showtime_id).await,
        show.starts_at.unix_timestamp()
    );

    let nudged = show.starts_at + Duration::minutes(30);
    let response = post_showtime(
        &w,
        show.showtime_id,
        &showtime_form(&show, &kolkata(nudged), "150"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        starts_at(&w, show.showtime_id).await,
        nudged.unix_timestamp()
    );
}

#[tokio::test]
async fn a_held_or_cancelled_showtime_is_shown_read_only_and_not_changed() {
    let w = world().await;
    let show = seed_small_showtime(&w.app).await;
    let visitor = logged_in_visitors(&w.app, 1).await.remove(0);
    let (status, body) = hold(&visitor, show.showtime_id, &show.seat_ids[0..1]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let path = format!("/admin/showtimes/{}", show.showtime_id);
    let (status, page) = w.staff.get_text(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("id=\"showtime-locked\"") && page.contains("1 booking(s)"),
        "{page}"
    );
    assert!(
        !page.contains(&format!("action=\"{path}\"")),
        "no form: {page}"
    );
    assert!(page.contains("₹150.00"), "the values are shown: {page}");

    let later = show.starts_at + Duration::hours(3);
    let response = post_showtime(
        &w,
        show.showtime_id,
        &showtime_form(&show, &kolkata(later), "99"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(
        starts_at(&w, show.showtime_id).await,
        show.starts_at.unix_timestamp()
    );
    assert_eq!(audit_count(&w.app, "showtime.update").await, 0);

    let other = seed_small_showtime(&w.app).await;
    let cancel = format!("/admin/showtimes/{}/cancel", other.showtime_id);
    let response = w.staff.post_form(&cancel, &[("confirm", "yes")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let other_path = format!("/admin/showtimes/{}", other.showtime_id);
    let (_, list) = w
        .staff
        .get_text(&format!("/admin/showtimes?date={}", other.starts_at.date()))
        .await;
    assert!(!list.contains(&format!("href=\"{other_path}\"")), "{list}");
    assert!(list.contains(&format!("href=\"{path}\"")), "{list}");
    let (_, page) = w.staff.get_text(&other_path).await;
    assert!(
        page.contains("is cancelled, so it can no longer be edited"),
        "{page}"
    );
    let response = post_showtime(
        &w,
        other.showtime_id,
        &showtime_form(&other, &kolkata(later), "99"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}
