//! `GET /metrics` for Prometheus, and the middleware that records every request into the
//! app's registry (`crate::metrics`).
//!
//! The endpoint is off (404) unless `METRICS_TOKEN` is set, and then answers only to
//! `Authorization: Bearer <token>`, compared in constant time: the figures (bookings, traffic)
//! are business information, and the site is public.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::AppError;
use crate::state::AppState;

/// `GET /metrics`.
pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = &state.config.metrics_token else {
        return AppError::NotFound.into_response();
    };
    if !bearer_matches(&headers, token.expose()) {
        let mut response = AppError::Unauthorized.into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"metrics\""),
        );
        return response;
    }
    let figures = match crate::domain::stats::figures(&state.db).await {
        Ok(figures) => Some(figures),
        Err(error) => {
            tracing::warn!(%error, "metrics: the database did not answer");
            None
        }
    };
    (
        [
            (header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        state.metrics.render(figures.as_ref()),
    )
        .into_response()
}

/// Whether the request carries `Authorization: Bearer <expected>`. Both sides are hashed
/// first so that the comparison takes the same time whatever the length of the guess.
fn bearer_matches(headers: &HeaderMap, expected: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let given = Sha256::digest(given.trim().as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    given.as_slice().ct_eq(expected.as_slice()).into()
}

/// Records the method, matched route, status and duration of every request. Requests that
/// matched no route are counted under one `unmatched` label, so that scanners probing random
/// paths cannot create unbounded series.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = match *request.method() {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let response = next.run(request).await;
    state.metrics.observe_request(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_matches() {
        let mut headers = HeaderMap::new();
        assert!(!bearer_matches(&headers, "s3cret-token"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer s3cret-token"),
        );
        assert!(bearer_matches(&headers, "s3cret-token"));
        assert!(!bearer_matches(&headers, "s3cret-token2"));
        assert!(!bearer_matches(&headers, "s3cret"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic s3cret-token"),
        );
        assert!(!bearer_matches(&headers, "s3cret-token"));
    }
}
