//! Stylesheets, scripts and images, compiled into the binary so a deploy is one file.
//!
//! URLs carry a content hash (`/static/css/app.css?v=…`), so browsers may cache them for a
//! year and still see a new version at once after a deploy; every answer also has an ETag.

use std::sync::LazyLock;

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::AppError;

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $type:literal) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/static/", $path)),
        }
    };
}

static ASSETS: &[Asset] = &[
    asset!("css/app.css", "text/css; charset=utf-8"),
    asset!("js/app.js", "text/javascript; charset=utf-8"),
    asset!("js/seatmap.js", "text/javascript; charset=utf-8"),
    asset!("js/razorpay.js", "text/javascript; charset=utf-8"),
    asset!("js/door.js", "text/javascript; charset=utf-8"),
    asset!("js/vendor/jsQR.js", "text/javascript; charset=utf-8"),
    asset!("img/poster-placeholder.svg", "image/svg+xml"),
    asset!("img/favicon.svg", "image/svg+xml"),
];

/// The hash of each asset, computed once.
static HASHES: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| hex::encode(&Sha256::digest(a.body)[..8]))
        .collect()
});

/// The cache-busting URL of a static file, for templates.
pub fn url(path: &str) -> String {
    match ASSETS.iter().position(|a| a.path == path) {
        Some(i) => format!("/static/{path}?v={}", HASHES[i]),
        None => format!("/static/{path}"),
    }
}

#[derive(serde::Deserialize)]
pub struct Version {
    v: Option<String>,
}

/// `GET /static/{*path}`.
pub async fn serve(
    Path(path): Path<String>,
    Query(version): Query<Version>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let index = ASSETS
        .iter()
        .position(|a| a.path == path)
        .ok_or(AppError::NotFound)?;
    let asset = &ASSETS[index];
    let etag = format!("\"{}\"", HASHES[index]);
    let cache = if version.v.as_deref() == Some(HASHES[index].as_str()) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    Ok(response)
}
