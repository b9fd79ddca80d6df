//! The staff pages under `/admin`, in groups by the least role they need (usher, box office,
//! manager, admin). Each group carries one guard (`auth::require`) as a route layer, so an
//! account beyond its role gets the same 404 as for a page that does not exist, on GET and
//! POST alike, and no handler checks a role itself. Destructive actions take two steps:
//! the first POST shows what will happen, and only the confirmed POST (`confirm=yes`) does
//! it. Each action leaves an audit entry.

pub mod audit;
pub mod bookings;
pub mod checkin;
pub mod dashboard;
pub mod emails;
pub mod incidents;
pub mod movie_form;
pub mod movies;
pub mod screen_edit;
pub mod screens;
pub mod showtime_edit;
pub mod showtime_new;
pub mod showtimes;
pub mod users;
pub mod venue_edit;
pub mod venues;

use askama::Template;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::domain::roles::Role;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::auth::require;
use crate::web::page::Page;

/// Admin forms are small.
pub const BODY_LIMIT: usize = 16 * 1024;

/// Rows per page of every admin list.
pub const PER_PAGE: i64 = 25;

/// Every admin route as (method, path, the least role that reaches it). The role matrix
/// test visits each one as every role; a unit test below checks the list matches what
/// `routes` registers.
pub const ADMIN_ROUTES: &[(&str, &str, Role)] = &[
    ("GET", "/admin", Role::Usher),
    ("GET", "/admin/checkin", Role::Usher),
    ("POST", "/admin/checkin", Role::Usher),
    ("POST", "/admin/checkin/admissions/{id}/undo", Role::Usher),
    ("GET", "/admin/checkin/devices", Role::Manager),
    ("POST", "/admin/checkin/devices", Role::Manager),
    ("POST", "/admin/checkin/devices/{id}/revoke", Role::Manager),
    ("GET", "/admin/bookings", Role::BoxOffice),
    ("GET", "/admin/bookings/{public_id}", Role::BoxOffice),
    ("POST", "/admin/bookings/{public_id}/refund", Role::Manager),
    ("POST", "/admin/bookings/{public_id}/resend", Role::Manager),
    ("GET", "/admin/audit", Role::Manager),
    ("GET", "/admin/emails", Role::Manager),
    ("POST", "/admin/emails/{id}/retry", Role::Manager),
    ("GET", "/admin/incidents", Role::Manager),
    ("POST", "/admin/incidents/{id}/resolve", Role::Manager),
    ("GET", "/admin/movies", Role::Manager),
    ("GET", "/admin/movies/new", Role::Manager),
    ("POST", "/admin/movies/new", Role::Manager),
    ("GET", "/admin/movies/{id}", Role::Manager),
    ("POST", "/admin/movies/{id}", Role::Manager),
    ("POST", "/admin/movies/{id}/poster", Role::Manager),
    ("POST", "/admin/movies/{id}/active", Role::Manager),
    ("GET", "/admin/venues", Role::Manager),
    ("POST", "/admin/cities", Role::Manager),
    ("GET", "/admin/cities/{id}", Role::Manager),
    ("POST", "/admin/cities/{id}", Role::Manager),
    ("POST", "/admin/theatres", Role::Manager),
    ("GET", "/admin/theatres/{id}", Role::Manager),
    ("POST", "/admin/theatres/{id}", Role::Manager),
    ("GET", "/admin/screens/new", Role::Manager),
    ("POST", "/admin/screens", Role::Manager),
    ("GET", "/admin/screens", Role::Manager),
    ("GET", "/admin/screens/{id}", Role::Manager),
    ("POST", "/admin/screens/{id}", Role::Manager),
    ("GET", "/admin/showtimes", Role::Manager),
    ("GET", "/admin/showtimes/new", Role::Manager),
    ("POST", "/admin/showtimes/new", Role::Manager),
    ("POST", "/admin/showtimes/{id}/cancel", Role::Manager),
    ("GET", "/admin/showtimes/{id}", Role::Manager),
    ("POST", "/admin/showtimes/{id}", Role::Manager),
    ("GET", "/admin/users", Role::Admin),
    ("GET", "/admin/users/{id}", Role::Admin),
    ("POST", "/admin/users/{id}/active", Role::Admin),
    ("POST", "/admin/users/{id}/role", Role::Admin),
];

/// The admin router: one group per least role, each behind its guard.
pub fn routes() -> Router<AppState> {
    let usher = Router::new()
        .route("/admin", get(dashboard::show))
        .route("/admin/checkin", get(checkin::show).post(checkin::admit))
        .route("/admin/checkin/admissions/{id}/undo", post(checkin::undo))
        .route_layer(from_fn(require(Role::Usher)));
    let box_office = Router::new()
        .route("/admin/bookings", get(bookings::list))
        .route("/admin/bookings/{public_id}", get(bookings::detail))
        .route_layer(from_fn(require(Role::BoxOffice)));
    let manager = Router::new()
        .route(
            "/admin/checkin/devices",
            get(checkin::devices).post(checkin::create_device),
        )
        .route(
            "/admin/checkin/devices/{id}/revoke",
            post(checkin::revoke_device),
        )
        .route("/admin/bookings/{public_id}/refund", post(bookings::refund))
        .route("/admin/bookings/{public_id}/resend", post(bookings::resend))
        .route("/admin/audit", get(audit::list))
        .route("/admin/emails", get(emails::list))
        .route("/admin/emails/{id}/retry", post(emails::retry))
        .route("/admin/incidents", get(incidents::list))
        .route("/admin/incidents/{id}/resolve", post(incidents::resolve))
        .route("/admin/movies", get(movies::list))
        .route(
            "/admin/movies/new",
            get(movies::new_page).post(movies::create),
        )
        .route(
            "/admin/movies/{id}",
            get(movies::detail).post(movies::update),
        )
        .route(
            "/admin/movies/{id}/poster",
            post(movies::poster).layer(DefaultBodyLimit::max(movies::POSTER_BODY_LIMIT)),
        )
        .route("/admin/movies/{id}/active", post(movies::set_active))
        .route("/admin/venues", get(venues::show))
        .route("/admin/cities", post(venues::create_city))
        .route(
            "/admin/cities/{id}",
            get(venue_edit::city).post(venue_edit::update_city),
        )
        .route("/admin/theatres", post(venues::create_theatre))
        .route(
            "/admin/theatres/{id}",
            get(venue_edit::theatre).post(venue_edit::update_theatre),
        )
        .route("/admin/screens/new", get(screens::new_page))
        .route(
            "/admin/screens",
            get(screen_edit::list).post(screens::create),
        )
        .route(
            "/admin/screens/{id}",
            get(screen_edit::edit_page).post(screen_edit::save),
        )
        .route("/admin/showtimes", get(showtimes::list))
        .route(
            "/admin/showtimes/new",
            get(showtime_new::new_page).post(showtime_new::create),
        )
        .route("/admin/showtimes/{id}/cancel", post(showtimes::cancel))
        .route(
            "/admin/showtimes/{id}",
            get(showtime_edit::edit_page).post(showtime_edit::save),
        )
        .route_layer(from_fn(require(Role::Manager)));
    let admin = Router::new()
        .route("/admin/users", get(users::list))
        .route("/admin/users/{id}", get(users::detail))
        .route("/admin/users/{id}/active", post(users::set_active))
        .route("/admin/users/{id}/role", post(users::set_role))
        .route_layer(from_fn(require(Role::Admin)));
    usher
        .merge(box_office)
        .merge(manager)
        .merge(admin)
        // A wrong method would otherwise answer 405 and admit that the path exists.
        .method_not_allowed_fallback(|| async { crate::error::AppError::NotFound })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

fn render(template: impl Template) -> AppResult<Response> {
    Ok(Html(template.render()?).into_response())
}

/// 200 for a fresh form, 422 for one sent back with errors.
fn form_status(errors: &crate::error::FieldErrors) -> axum::http::StatusCode {
    if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// A 303 after an action, so that a refresh does not repeat it.
fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// `?page=N` of a list (1 when absent or nonsense).
#[derive(Debug, Deserialize, Default)]
pub struct PageNumber {
    #[serde(default)]
    pub page: Option<String>,
}

impl PageNumber {
    pub fn number(&self) -> i64 {
        self.page
            .as_deref()
            .and_then(|p| p.parse::<i64>().ok())
            .filter(|p| (1..=100_000).contains(p))
            .unwrap_or(1)
    }

    pub fn offset(&self) -> i64 {
        (self.number() - 1) * PER_PAGE
    }
}

/// Links to the previous and next page of a list whose query string (without `page`) is
/// `query`.
#[derive(Debug, Clone, Default)]
pub struct Pager {
    pub current: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `fetched` rows were read with a limit of `PER_PAGE + 1`; drops the extra one.
    pub fn new<T>(rows: &mut Vec<T>, page: i64, base: &str, query: &str) -> Self {
        let has_next = rows.len() as i64 > PER_PAGE;
        rows.truncate(PER_PAGE as usize);
        let link = |n: i64| {
            if query.is_empty() {
                format!("{base}?page={n}")
            } else {
                format!("{base}?{query}&page={n}")
            }
        };
        Self {
            current: page,
            prev: (page > 1).then(|| link(page - 1)),
            next: has_next.then(|| link(page + 1)),
        }
    }
}

/// A URL query string of the non-empty `pairs`.
fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !v.is_empty() {
            out.append_pair(k, v);
        }
    }
    out.finish()
}

/// A UTC time for staff, e.g. `2026-11-25 18:30 UTC`.
pub fn utc(at: &OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.format(&format).unwrap_or_default()
}

/// The second step of a destructive action: what will happen and a button that repeats the
/// POST with `confirm=yes`.
#[derive(Template)]
#[template(path = "admin/confirm.html")]
pub struct ConfirmPage {
    pub page: Page,
    pub title: String,
    pub message: String,
    pub action: String,
    pub fields: Vec<(String, String)>,
    pub button: String,
    pub cancel: String,
}

/// Whether a form carries the confirmation of its second step.
fn confirmed(value: &Option<String>) -> bool {
    value.as_deref() == Some("yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paths `routes` registers, read back from the source of `routes` itself so that a
    /// route added there but not to `ADMIN_ROUTES` (and so skipped by the 404 walk) fails.
    #[test]
    fn admin_routes_lists_every_registered_route() {
        let source = include_str!("mod.rs");
        let body = source
            .split("pub fn routes()")
            .nth(1)
            .and_then(|rest| rest.split("\n}\n").next())
            .unwrap_or_default();
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let mut registered = Vec::new();
        for piece in compact.split(".route(").skip(1) {
            let path = piece.split('"').nth(1).unwrap_or_default();
            for (method, marker) in [("GET", "get("), ("POST", "post(")] {
                if piece.contains(marker) {
                    registered.push((method, path));
                }
            }
        }
        let mut listed: Vec<(&str, &str)> = ADMIN_ROUTES.iter().map(|(m, p, _)| (*m, *p)).collect();
        listed.sort();
        registered.sort();
        assert_eq!(listed, registered);
        assert!(registered.iter().all(|(_, p)| p.starts_with("/admin")));
        // The router builds: no duplicate or malformed route.
        let _ = routes();
    }
}
