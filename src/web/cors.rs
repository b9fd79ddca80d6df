//! Cross-origin access to the JSON API, for front-ends of our own on other origins (a mobile
//! web app on `app.example.com`, say).
//!
//! Off unless `CORS_ALLOWED_ORIGINS` lists origins; then only `/api/` answers CORS, only to
//! those exact origins, and credentials (the session cookie) are allowed only for them. The
//! pages never answer CORS. `*` is never honoured, even if configured (`check --deploy`
//! reports it): with credentials it would hand every web site the visitor's session.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use tower::{Layer, ServiceExt};
use tower_http::cors::{AllowCredentials, AllowOrigin, CorsLayer};

/// The CORS policy for the configured origins, or None when CORS is off.
pub fn layer(origins: &[String]) -> Option<CorsLayer> {
    let allowed: Vec<HeaderValue> = crate::web::origin::allowed_api_origins(origins)
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if allowed.is_empty() {
        return None;
    }
    let for_credentials = allowed.clone();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(allowed))
            .allow_credentials(AllowCredentials::predicate(move |origin, _| {
                for_credentials.contains(origin)
            }))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::CONTENT_TYPE,
                header::ACCEPT,
                HeaderName::from_static(crate::web::csrf::HEADER),
                HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Applies the CORS policy (when there is one) to `/api/` requests only.
pub async fn api_only(
    State(cors): State<Option<CorsLayer>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(cors) = cors.filter(|_| request.uri().path().starts_with("/api/")) else {
        return next.run(request).await;
    };
    match cors.layer(next).oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}
