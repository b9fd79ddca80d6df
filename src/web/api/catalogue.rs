//! The read-only catalogue API: cities, the movie search and a movie with its upcoming
//! showtimes. No login needed. It takes the same filters as the `/movies` page.
//!
//! `per_page` is 1 to 100 (default 12); anything else is a 400 rather than a silent clamp,
//! so a client learns about its mistake. `page` past the end returns the last page (the
//! response says which page it is).

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;

use crate::domain::catalogue::{self, Certificate, City, MovieCard};
use crate::domain::ids::{MovieId, ScreenId, ShowtimeId, TheatreId};
use crate::domain::showtimes::{self, Format, ShowtimeSummary};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::extract::IdPath;
use crate::web::pages::movies::{MovieQuery, PAGE_SIZE};

/// The largest `per_page` accepted.
pub const MAX_PER_PAGE: u64 = 100;

/// The most showtimes one movie lists.
const MAX_SHOWTIMES: i64 = 1000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/cities", get(cities))
        .route("/api/v1/movies", get(movies))
        .route("/api/v1/movies/{id}", get(movie))
}

/// `GET /api/v1/cities`.
pub async fn cities(State(state): State<AppState>) -> AppResult<Json<Vec<City>>> {
    Ok(Json(catalogue::list_cities(&state.db).await?))
}

#[derive(Serialize)]
pub struct MovieItem {
    id: MovieId,
    slug: String,
    title: String,
    genres: Vec<String>,
    languages: Vec<String>,
    runtime_minutes: i64,
    certificate: Certificate,
    release_date: String,
    poster_url: String,
}

impl MovieItem {
    fn new(state: &AppState, card: MovieCard) -> Self {
        Self {
            poster_url: state.config.absolute_url(&crate::web::media::poster_url(
                card.id,
                card.poster_sha.as_deref(),
            )),
            id: card.id,
            slug: card.slug,
            title: card.title,
            genres: card.genres,
            languages: card.languages,
            runtime_minutes: card.runtime_minutes,
            certificate: card.certificate,
            release_date: card.release_date,
        }
    }
}

/// `per_page`: absent means `PAGE_SIZE`; otherwise a whole number from 1 to `MAX_PER_PAGE`.
fn per_page(raw: Option<&str>) -> AppResult<u64> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(PAGE_SIZE);
    };
    match text.parse::<u64>() {
        Ok(n) if (1..=MAX_PER_PAGE).contains(&n) => Ok(n),
        _ => Err(AppError::bad_request(format!(
            "`per_page` must be a whole number from 1 to {MAX_PER_PAGE}."
        ))),
    }
}

#[derive(Serialize)]
pub struct MovieList {
    items: Vec<MovieItem>,
    page: u64,
    per_page: u64,
    total: u64,
}

/// `GET /api/v1/movies?q=&city=&date=&genre=&language=&page=&per_page=`.
pub async fn movies(
    State(state): State<AppState>,
    Query(query): Query<MovieQuery>,
) -> AppResult<Json<MovieList>> {
    let filter = query.filter()?;
    let page = query.page()?;
    let per_page = per_page(query.per_page.as_deref())?;
    let results =
        catalogue::search_movies(&state.db, &filter, page, per_page, state.clock.now()).await?;
    Ok(Json(MovieList {
        items: results
            .items
            .into_iter()
            .map(|card| MovieItem::new(&state, card))
            .collect(),
        page: results.page,
        per_page: results.per_page,
        total: results.total,
    }))
}

#[derive(Serialize)]
pub struct TheatreRef {
    id: TheatreId,
    name: String,
    city: String,
}

#[derive(Serialize)]
pub struct ScreenRef {
    id: ScreenId,
    name: String,
}

#[derive(Serialize)]
pub struct ShowtimeItem {
    id: ShowtimeId,
    /// RFC 3339 in the theatre's local offset.
    starts_at: String,
    ends_at: String,
    language: String,
    format: Format,
    theatre: TheatreRef,
    screen: ScreenRef,
    available_seats: i64,
    min_price_paise: Option<i64>,
}

impl ShowtimeItem {
    fn new(s: ShowtimeSummary) -> Self {
        Self {
            id: s.id,
            starts_at: s.starts_at.format(&Rfc3339).unwrap_or_default(),
            ends_at: s.ends_at.format(&Rfc3339).unwrap_or_default(),
            language: s.language,
            format: s.format,
            theatre: TheatreRef {
                id: s.theatre_id,
                name: s.theatre_name,
                city: s.city_name,
            },
            screen: ScreenRef {
                id: s.screen_id,
                name: s.screen_name,
            },
            available_seats: s.available_seats,
            min_price_paise: s.min_price_paise,
        }
    }
}

#[derive(Serialize)]
pub struct MovieBody {
    #[serde(flatten)]
    movie: MovieItem,
    synopsis: String,
    trailer_url: Option<String>,
    showtimes: Vec<ShowtimeItem>,
}

#[derive(Deserialize)]
pub struct MovieShowtimesQuery {
    /// Only showtimes in this city (slug).
    city: Option<String>,
}

/// `GET /api/v1/movies/{id}[?city=slug]`.
pub async fn movie(
    State(state): State<AppState>,
    IdPath(id): IdPath<MovieId>,
    Query(query): Query<MovieShowtimesQuery>,
) -> AppResult<Json<MovieBody>> {
    let movie = catalogue::find_movie(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let city = query
        .city
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let list = showtimes::upcoming_for_movie(&state.db, id, city, state.clock.now(), MAX_SHOWTIMES)
        .await?;
    Ok(Json(MovieBody {
        movie: MovieItem::new(&state, movie.card),
        synopsis: movie.synopsis,
        trailer_url: movie.trailer_url,
        showtimes: list.into_iter().map(ShowtimeItem::new).collect(),
    }))
}
