//! HTTP only: the router, its middleware stack, extractors and handlers grouped by area.
//! Handlers parse input, call `domain`, and render; they never build SQL.

pub mod api;
pub mod auth;
pub mod booking_routes;
pub mod csrf;
pub mod health;
pub mod middleware;
pub mod page;
pub mod pages;
pub mod rate_limit;
pub mod static_files;
pub mod templates;
pub mod webhooks;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, StatusCode};
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::db::session_store::DbSessionStore;
use crate::state::AppState;

/// How long a session lives without activity.
pub const SESSION_IDLE_DAYS: i64 = 14;

/// The session cookie's name; `__Host-` pins it to our exact origin over HTTPS.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-session" } else { "session" }
}

/// The whole application: routes plus the middleware stack.
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let request_id = HeaderName::from_static("x-request-id");

    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(session_cookie_name(config.secure_cookies()))
        .with_secure(config.secure_cookies())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::days(
            SESSION_IDLE_DAYS,
        )));

    let routes = Router::new()
        .route("/", get(pages::home::show))
        .route("/city", axum::routing::post(pages::home::choose_city))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/static/{*path}", get(static_files::serve))
        .merge(booking_routes::routes())
        .merge(pages::account::routes())
        .merge(api::auth::routes())
        .fallback(|| async { crate::error::AppError::NotFound });

    // Layers listed outermost first: the request id exists before anything logs, errors are
    // rendered after every inner layer had its say, and sessions wrap the handlers only.
    routes
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::load_user))
        .layer(axum::middleware::from_fn_with_state(state.clone(), csrf::protect))
        .layer(sessions)
        .layer(DefaultBodyLimit::max(config.body_limit_bytes))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(
                    request_id.clone(),
                    middleware::MakeHexRequestId,
                ))
                .layer(TraceLayer::new_for_http().make_span_with(
                    |request: &axum::http::Request<axum::body::Body>| {
                        let id = request
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
                    },
                ))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    middleware::host_and_https,
                ))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    middleware::security_headers,
                ))
                .layer(CompressionLayer::new())
                .layer(axum::middleware::from_fn(middleware::error_pages))
                .layer(CatchPanicLayer::custom(middleware::panic_response))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    config.request_timeout.max(Duration::from_secs(1)),
                )),
        )
        .with_state(state)
}
