//! HTTP only: the router, its middleware stack, extractors and handlers grouped by area.
//! Handlers parse input, call `domain`, and render; they never build SQL.

pub mod admin;
pub mod api;
pub mod auth;
pub mod booking_routes;
pub mod cors;
pub mod csrf;
pub mod extract;
pub mod health;
pub mod media;
pub mod metrics;
pub mod middleware;
pub mod origin;
pub mod page;
pub mod pages;
pub mod rate_limit;
pub mod static_files;
pub mod templates;
pub mod webhooks;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, StatusCode, header};
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::{
    SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeadersLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
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

/// Headers whose values must never reach a log line or an error report.
pub const SENSITIVE_HEADERS: [HeaderName; 5] = [
    header::AUTHORIZATION,
    header::COOKIE,
    header::SET_COOKIE,
    header::PROXY_AUTHORIZATION,
    HeaderName::from_static("x-razorpay-signature"),
];

/// The whole application: routes plus the middleware stack.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/", get(pages::home::show))
        .route("/city", axum::routing::post(pages::home::choose_city))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::scrape))
        .route("/static/{*path}", get(static_files::serve))
        .merge(booking_routes::routes())
        .merge(pages::account::routes())
        .merge(api::auth::routes())
        .merge(pages::movies::routes())
        .merge(media::routes())
        .merge(api::catalogue::routes())
        .merge(api::checkin_keys::routes())
        .merge(api::checkin::routes())
        .merge(admin::routes())
        .fallback(|| async { crate::error::AppError::NotFound });
    with_middleware(routes, state)
}

/// Puts `routes` behind the application's whole middleware stack. `router` uses it for the
/// real routes; tests use it to put routes of their own (a slow one, a panicking one) behind
/// exactly the same layers.
pub fn with_middleware(routes: Router<AppState>, state: AppState) -> Router {
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
    let cors = cors::layer(&config.cors_allowed_origins);

    // Layers listed outermost first: sensitive headers are marked before anything can log
    // them, the request id exists before anything logs, metrics see the final status, errors
    // are rendered after every inner layer had its say, and sessions wrap the handlers only.
    let app = routes
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::load_user))
        // Inside the CSRF check, so that a forged request is refused as such first.
        .layer(axum::middleware::from_fn(middleware::refuse_nul))
        .layer(axum::middleware::from_fn_with_state(state.clone(), csrf::protect))
        .layer(sessions)
        .layer(DefaultBodyLimit::max(config.body_limit_bytes))
        .layer(
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new(SENSITIVE_HEADERS))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    middleware::untrusted_request_id,
                ))
                .layer(SetRequestIdLayer::new(
                    request_id.clone(),
                    middleware::MakeHexRequestId,
                ))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &axum::http::Request<axum::body::Body>| {
                            let id = request
                                .headers()
                                .get("x-request-id")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("");
                            // The path only: query strings may carry tokens.
                            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
                        })
                        // One access-log line per request, with status and latency.
                        .on_response(
                            DefaultOnResponse::new()
                                .level(tracing::Level::INFO)
                                .latency_unit(LatencyUnit::Millis),
                        ),
                )
                .layer(SetSensitiveResponseHeadersLayer::new(SENSITIVE_HEADERS))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    metrics::track,
                ))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    middleware::security_headers,
                ))
                .layer(CompressionLayer::new())
                .layer(axum::middleware::from_fn(middleware::error_pages))
                // Inside the headers and error pages: a refused host or an HTTPS redirect
                // is answered with the security headers and a proper error page too.
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    middleware::host_and_https,
                ))
                .layer(axum::middleware::from_fn_with_state(cors, cors::api_only))
                .layer(CatchPanicLayer::custom(middleware::panic_response))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    config.request_timeout.max(Duration::from_secs(1)),
                )),
        )
        .with_state(state);

    if config.sentry_dsn.is_some() {
        // Outermost, so that each request gets its own Sentry hub (breadcrumbs do not mix
        // between requests) carrying the request's details, minus sensitive headers.
        app.layer(sentry_tower::SentryHttpLayer::new())
            .layer(sentry_tower::NewSentryLayer::<axum::extract::Request>::new_from_top())
    } else {
        app
    }
}
