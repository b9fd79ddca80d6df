//! Images stored in the database (posters), served with validators and cache headers.
//!
//! A poster's URL carries the first characters of its SHA-256 (`?v=`), so a page always
//! links to the exact version it knows about; such URLs are cached for a year. Without
//! `?v=`, or with an older version, the answer may only be cached briefly.
//!
//! Each poster has two renditions (see `domain::poster_image`): the full one at
//! `/media/posters/{movie_id}` for the movie page and a card 342 pixels wide at
//! `/media/posters/{movie_id}/card` for list pages. Both carry the same version (the hash of
//! the full poster) in their URLs; each has the ETag of its own bytes. A poster stored
//! before card renditions existed answers the card URL with the full poster.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::domain::catalogue::{self, PosterLookup, PosterSize};
use crate::domain::ids::MovieId;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::extract::IdPath;

/// How many hex digits of the hash go into poster URLs.
const VERSION_CHARS: usize = 12;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/media/posters/{movie_id}", get(poster))
        .route("/media/posters/{movie_id}/card", get(poster_card))
}

/// The URL of a movie's poster (versioned by its hash), or of the placeholder image when it
/// has none. Templates and the API use this, so every link is cacheable. (`movie_id` is a
/// `Borrow` so templates, which pass references, can call it directly.)
pub fn poster_url(movie_id: impl std::borrow::Borrow<MovieId>, poster_sha: Option<&str>) -> String {
    let movie_id = *movie_id.borrow();
    match poster_sha {
        Some(sha) => format!(
            "/media/posters/{movie_id}?v={}",
            &sha[..sha.len().min(VERSION_CHARS)]
        ),
        None => crate::web::static_files::url("img/poster-placeholder.svg"),
    }
}

/// The URL of the card rendition of a movie's poster (list pages), versioned like
/// `poster_url`, or of the placeholder image when it has none.
pub fn poster_card_url(
    movie_id: impl std::borrow::Borrow<MovieId>,
    poster_sha: Option<&str>,
) -> String {
    let movie_id = *movie_id.borrow();
    match poster_sha {
        Some(sha) => format!(
            "/media/posters/{movie_id}/card?v={}",
            &sha[..sha.len().min(VERSION_CHARS)]
        ),
        None => crate::web::static_files::url("img/poster-placeholder.svg"),
    }
}

#[derive(Deserialize)]
pub struct Version {
    v: Option<String>,
}

/// `GET /media/posters/{movie_id}`.
pub async fn poster(
    State(state): State<AppState>,
    IdPath(movie_id): IdPath<MovieId>,
    Query(version): Query<Version>,
    headers: HeaderMap,
) -> AppResult<Response> {
    serve(&state, movie_id, PosterSize::Full, version, &headers).await
}

/// `GET /media/posters/{movie_id}/card`.
pub async fn poster_card(
    State(state): State<AppState>,
    IdPath(movie_id): IdPath<MovieId>,
    Query(version): Query<Version>,
    headers: HeaderMap,
) -> AppResult<Response> {
    serve(&state, movie_id, PosterSize::Card, version, &headers).await
}

async fn serve(
    state: &AppState,
    movie_id: MovieId,
    size: PosterSize,
    version: Version,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let poster = match catalogue::find_poster(&state.db, movie_id, size).await? {
        PosterLookup::UnknownMovie => return Err(AppError::NotFound),
        PosterLookup::NoPoster => {
            return Ok(Redirect::to(&poster_url(movie_id, None)).into_response());
        }
        PosterLookup::Poster(poster) => poster,
    };
    let etag = format!("\"{}\"", poster.sha256);
    let current = version
        .v
        .as_deref()
        .is_some_and(|v| v.len() >= 8 && poster.version.starts_with(v));
    let cache = if current {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        });
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let content_type = HeaderValue::from_str(&poster.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream"));
        ([(header::CONTENT_TYPE, content_type)], poster.data).into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    Ok(response)
}
