//! Staff roles (issue #16): every admin and check-in route, walked as every role. Below a
//! route's role the answer is exactly the customer's 404, on GET and POST; at or above it,
//! the route answers (with real ids, so a 404 could only come from the guard).

use moviebooking::domain::roles::Role;
use moviebooking::web::admin::ADMIN_ROUTES;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::Browser;
use crate::common::accounts::{create_user, create_user_with_role, login};
use crate::common::admin::{PASSWORD, confirmed_booking, world};
use crate::common::catalogue::seed_small_showtime;

/// The check-in API routes and the least role each needs (a device token works too).
const CHECKIN_ROUTES: &[(&str, &str, Role)] = &[
    ("POST", "/api/v1/checkin", Role::Usher),
    ("POST", "/api/v1/checkin/{id}/undo", Role::Usher),
    ("GET", "/api/v1/checkin/showtimes/{id}/tickets", Role::Usher),
    ("POST", "/api/v1/checkin/sync", Role::Usher),
];

#[tokio::test]
async fn every_admin_and_check_in_route_answers_each_role_as_its_role_allows() {
    let w = world().await;
    let show = seed_small_showtime(&w.app).await;
    let (_, booking) = confirmed_booking(&w).await;
    let target = create_user(&w.app, "target@example.com", PASSWORD, false).await;
    let email_id: i64 = sqlx::query_scalar("SELECT MIN(id) FROM email_outbox")
        .fetch_one(w.app.db.reader())
        .await
        .unwrap();
    let incident_id: i64 = sqlx::query_scalar(
        "INSERT INTO payment_incidents (kind, detail, created_at) VALUES ('test', 'a test incident', 0) RETURNING id",
    )
    .fetch_one(w.app.db.writer())
    .await
    .unwrap();
    let device_id: i64 = sqlx::query_scalar(
        "INSERT INTO checkin_devices (theatre_id, name, token_hash, created_at) VALUES ($1, 'Door', 'not-a-hash', 0) RETURNING id",
    )
    .bind(show.theatre_id)
    .fetch_one(w.app.db.writer())
    .await
    .unwrap();
    let admission_id: i64 = sqlx::query_scalar(
        "INSERT INTO admissions (booking_id, showtime_id, admitted_at, recorded_at, by_name) \
         SELECT id, showtime_id, 0, 0, 'Door' FROM bookings WHERE public_id = $1 RETURNING id",
    )
    .bind(&booking)
    .fetch_one(w.app.db.writer())
    .await
    .unwrap();
    let concrete = |path: &str| {
        let id = if path.ends_with("/undo") {
            admission_id
        } else if path.starts_with("/admin/users/") {
            target
        } else if path.starts_with("/admin/emails/") {
            email_id
        } else if path.starts_with("/admin/incidents/") {
            incident_id
        } else if path.starts_with("/admin/movies/") {
            show.movie_id
        } else if path.starts_with("/admin/cities/") {
            show.city_id
        } else if path.starts_with("/admin/theatres/") {
            show.theatre_id
        } else if path.starts_with("/admin/screens/") {
            show.screen_id
        } else if path.starts_with("/admin/checkin/devices/") {
            device_id
        } else {
            show.showtime_id
        };
        path.replace("{public_id}", &booking)
            .replace("{id}", &id.to_string())
    };

    let mut visitors: Vec<(String, Option<Role>, Browser)> =
        vec![("anonymous".into(), None, w.app.browser())];
    for role in Role::ALL {
        let email = format!("{}@example.com", role.as_str());
        create_user_with_role(&w.app, &email, PASSWORD, role).await;
        let browser = w.app.browser();
        login(&browser, &email, PASSWORD).await;
        visitors.push((role.as_str().into(), Some(role), browser));
    }

    let routes = ADMIN_ROUTES.iter().chain(CHECKIN_ROUTES);
    for (method, pattern, least) in routes {
        let path = concrete(pattern);
        for (who, role, browser) in &visitors {
            let allowed = role.is_some_and(|r| r.includes(*least));
            let status = match *method {
                "GET" => browser.get(&path).await.status(),
                _ if path.starts_with("/api/") => {
                    browser.post_json(&path, &json!({})).await.status()
                }
                _ => browser.post_form(&path, &[]).await.status(),
            };
            if allowed {
                assert_ne!(status, StatusCode::NOT_FOUND, "{method} {path} as {who}");
                if *method == "GET" {
                    assert_eq!(status, StatusCode::OK, "{method} {path} as {who}");
                }
            } else {
                assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path} as {who}");
            }
        }
    }
}

#[tokio::test]
async fn the_staff_header_shows_only_what_the_role_reaches() {
    let w = world().await;
    let mut pages = Vec::new();
    for role in [Role::Usher, Role::BoxOffice, Role::Manager, Role::Admin] {
        let email = format!("{}@example.com", role.as_str());
        create_user_with_role(&w.app, &email, PASSWORD, role).await;
        let browser = w.app.browser();
        login(&browser, &email, PASSWORD).await;
        let (status, page) = browser.get_text("/admin").await;
        assert_eq!(status, StatusCode::OK);
        pages.push((role, page));
    }
    for (role, page) in &pages {
        let has = |link: &str| page.contains(&format!("href=\"{link}\""));
        assert!(has("/admin/checkin"), "{role}: the door");
        assert_eq!(
            has("/admin/bookings"),
            role.includes(Role::BoxOffice),
            "{role}"
        );
        assert_eq!(has("/admin/movies"), role.includes(Role::Manager), "{role}");
        assert_eq!(
            has("/admin/checkin/devices"),
            role.includes(Role::Manager),
            "{role}"
        );
        assert_eq!(has("/admin/users"), *role == Role::Admin, "{role}");
        // The sales dashboard is for managers; ushers and the box office get their start page.
        assert_eq!(
            page.contains("stat-today-bookings"),
            role.includes(Role::Manager),
            "{role}"
        );
    }
}

#[tokio::test]
async fn the_box_office_looks_bookings_up_but_cannot_refund_them() {
    let w = world().await;
    let (_, booking) = confirmed_booking(&w).await;
    create_user_with_role(&w.app, "counter@example.com", PASSWORD, Role::BoxOffice).await;
    let counter = w.app.browser();
    login(&counter, "counter@example.com", PASSWORD).await;
    let (status, page) = counter
        .get_text(&format!("/admin/bookings/{booking}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !page.contains("/refund\""),
        "no refund form for the box office"
    );
    assert!(page.contains("for managers"));
    let refund = counter
        .post_form(
            &format!("/admin/bookings/{booking}/refund"),
            &[("reason", "Because"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(refund.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_domain_refuses_role_changes_by_anyone_but_an_admin() {
    use moviebooking::domain::user_admin::{self, UserAdminError};
    let w = world().await;
    let manager_id = create_user_with_role(&w.app, "m@example.com", PASSWORD, Role::Manager).await;
    let target = create_user(&w.app, "t@example.com", PASSWORD, false).await;
    let manager = moviebooking::domain::users::find_active(
        &w.app.db,
        moviebooking::domain::ids::UserId(manager_id),
    )
    .await
    .unwrap()
    .unwrap();
    let refused = user_admin::set_role(
        &w.app.db,
        &manager,
        moviebooking::domain::ids::UserId(target),
        Role::Admin,
        0,
    )
    .await;
    assert!(matches!(refused, Err(UserAdminError::NotAllowed)));
}
