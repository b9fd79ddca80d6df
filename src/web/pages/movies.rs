//! Browsing the catalogue: the movie search with its filters (`/movies`) and a movie's page
//! with its upcoming showtimes (`/movies/{slug}`).
//!
//! Filters live in the URL, so a search can be bookmarked, shared and paged through, and
//! every link keeps them. The parsing of those parameters is shared with the JSON API.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use axum::routing::get;
use serde::Deserialize;
use time::Duration;

use crate::domain::catalogue::{
    self, City, FilterOptions, MovieDetail, MovieFilter, MoviePage, Slug,
};
use crate::domain::showtimes::{self, DateGroup};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::page::Page;

/// Movies per page of the HTML listing.
pub const PAGE_SIZE: u64 = 12;

/// The most showtimes a movie page lists (a week of a busy city is a few hundred).
const MAX_SHOWTIMES: i64 = 600;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/movies", get(list))
        .route("/movies/{slug}", get(show))
}

/// The query string of a movie search, as typed: every value is text so that a malformed
/// one gets our own clear message rather than a generic rejection.
#[derive(Debug, Default, Deserialize)]
pub struct MovieQuery {
    pub q: Option<String>,
    pub city: Option<String>,
    pub date: Option<String>,
    pub genre: Option<String>,
    pub language: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

impl MovieQuery {
    /// The domain filter. A date that is not `YYYY-MM-DD` is a client mistake (400);
    /// unknown cities, genres and languages simply match nothing.
    pub fn filter(&self) -> AppResult<MovieFilter> {
        let date = match non_empty(&self.date) {
            None => None,
            Some(text) => Some(catalogue::parse_date(&text).ok_or_else(|| {
                AppError::bad_request("The date must look like 2026-11-28 (year-month-day).")
            })?),
        };
        Ok(MovieFilter {
            // The search uses the first 100 characters; show what was searched.
            q: non_empty(&self.q).map(|q| q.chars().take(100).collect()),
            city: non_empty(&self.city),
            date,
            genre: non_empty(&self.genre),
            language: non_empty(&self.language),
        })
    }

    /// The requested page: missing means 1, zero or negative counts as 1, and a number past
    /// the end is clamped by the search to the last page. Anything else is a 400.
    pub fn page(&self) -> AppResult<u64> {
        parse_page_number(self.page.as_deref(), 1, "page")
    }
}

/// Reads a page number or size: digits (saturating when huge), or a negative number (which
/// becomes 1). Anything that is not a whole number is refused.
pub fn parse_page_number(raw: Option<&str>, default: u64, name: &str) -> AppResult<u64> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(default);
    };
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::bad_request(format!(
            "`{name}` must be a whole number."
        )));
    }
    if negative {
        return Ok(1);
    }
    Ok(digits.parse::<u64>().unwrap_or(u64::MAX).max(1))
}

/// A link in the pager.
pub struct PageLink {
    pub number: u64,
    pub url: String,
    pub current: bool,
}

/// A choice in the date filter.
pub struct DateOption {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "movies/list.html")]
struct ListPage {
    page: Page,
    filter: MovieFilter,
    date_text: String,
    results: MoviePage,
    options: FilterOptions,
    dates: Vec<DateOption>,
    pages: Vec<PageLink>,
    prev_url: Option<String>,
    next_url: Option<String>,
    city_name: Option<String>,
}

impl ListPage {
    fn is_filtered(&self) -> bool {
        self.filter != MovieFilter::default()
    }

    fn first_item(&self) -> u64 {
        (self.results.page - 1) * self.results.per_page + 1
    }

    fn last_item(&self) -> u64 {
        self.first_item() + self.results.items.len() as u64 - 1
    }
}

/// `/movies?...` with these filters on page `page` (page 1 is left out).
fn list_url(filter: &MovieFilter, date_text: &str, page: u64) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    let fields = [
        ("q", filter.q.as_deref()),
        ("city", filter.city.as_deref()),
        ("date", Some(date_text).filter(|d| !d.is_empty())),
        ("genre", filter.genre.as_deref()),
        ("language", filter.language.as_deref()),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    if page > 1 {
        query.append_pair("page", &page.to_string());
    }
    let query = query.finish();
    if query.is_empty() {
        "/movies".to_owned()
    } else {
        format!("/movies?{query}")
    }
}

/// Page numbers to offer: all of them when few, else the first, the last and two either
/// side of the current one.
fn page_numbers(current: u64, last: u64) -> Vec<u64> {
    if last <= 9 {
        return (1..=last).collect();
    }
    let mut numbers = vec![1];
    numbers.extend(current.saturating_sub(2).max(2)..=(current + 2).min(last - 1));
    numbers.push(last);
    numbers
}

/// `GET /movies`.
pub async fn list(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<MovieQuery>,
) -> AppResult<Html<String>> {
    let filter = query.filter()?;
    let requested = query.page()?;
    let now = state.clock.now();
    let results = catalogue::search_movies(&state.db, &filter, requested, PAGE_SIZE, now).await?;
    let options = catalogue::filter_options(&state.db).await?;
    let date_text = filter.date.map(|d| d.to_string()).unwrap_or_default();

    let today = catalogue::today(now);
    let mut dates: Vec<DateOption> = (0..7)
        .map(|i| {
            let d = today + Duration::days(i);
            let label = match i {
                0 => format!("Today, {}", showtimes::format_date(d)),
                1 => format!("Tomorrow, {}", showtimes::format_date(d)),
                _ => showtimes::format_date(d),
            };
            DateOption {
                value: d.to_string(),
                label,
            }
        })
        .collect();
    if let Some(d) = filter.date
        && !dates.iter().any(|o| o.value == date_text)
    {
        dates.push(DateOption {
            value: date_text.clone(),
            label: showtimes::format_date(d),
        });
    }

    let last = results.last_page();
    let pages = page_numbers(results.page, last)
        .into_iter()
        .map(|n| PageLink {
            number: n,
            url: list_url(&filter, &date_text, n),
            current: n == results.page,
        })
        .collect();
    let prev_url = (results.page > 1).then(|| list_url(&filter, &date_text, results.page - 1));
    let next_url = (results.page < last).then(|| list_url(&filter, &date_text, results.page + 1));
    let city_name = filter.city.as_ref().and_then(|slug| {
        options
            .cities
            .iter()
            .find(|c| &c.slug == slug)
            .map(|c| c.name.clone())
    });
    let page = page.with_search(filter.q.as_deref().unwrap_or(""));
    let template = ListPage {
        page,
        filter,
        date_text,
        results,
        options,
        dates,
        pages,
        prev_url,
        next_url,
        city_name,
    };
    Ok(Html(template.render()?))
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    /// A city slug, or `all`; without it the visitor's chosen city applies.
    city: Option<String>,
}

#[derive(Template)]
#[template(path = "movies/detail.html")]
struct DetailPage {
    page: Page,
    movie: MovieDetail,
    groups: Vec<DateGroup>,
    /// The city the showtimes are limited to, if any.
    city: Option<City>,
}

/// `GET /movies/{slug}`.
pub async fn show(
    State(state): State<AppState>,
    page: Page,
    Path(slug): Path<String>,
    Query(query): Query<DetailQuery>,
) -> AppResult<Html<String>> {
    let slug = Slug::parse(&slug).ok_or(AppError::NotFound)?;
    let movie = catalogue::find_movie_by_slug(&state.db, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let city_slug = match non_empty(&query.city) {
        Some(c) if c == "all" => None,
        Some(c) => Some(c),
        None => page.city.clone(),
    };
    // A city that is not slug-shaped is no city: the page lists every city's showtimes.
    let city = match city_slug.as_deref().and_then(Slug::parse) {
        Some(slug) => catalogue::find_city_by_slug(&state.db, &slug).await?,
        None => None,
    };
    let list = showtimes::upcoming_for_movie(
        &state.db,
        movie.card.id,
        city.as_ref().map(|c| c.slug.as_str()),
        state.clock.now(),
        MAX_SHOWTIMES,
    )
    .await?;
    let template = DetailPage {
        page,
        movie,
        groups: showtimes::group_by_date_and_theatre(list),
        city,
    };
    Ok(Html(template.render()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_forgiving_but_not_silent() {
        assert_eq!(parse_page_number(None, 1, "page").unwrap(), 1);
        assert_eq!(parse_page_number(Some(""), 1, "page").unwrap(), 1);
        assert_eq!(parse_page_number(Some("3"), 1, "page").unwrap(), 3);
        assert_eq!(parse_page_number(Some("0"), 1, "page").unwrap(), 1);
        assert_eq!(parse_page_number(Some("-4"), 1, "page").unwrap(), 1);
        assert_eq!(
            parse_page_number(Some("99999999999999999999999"), 1, "page").unwrap(),
            u64::MAX
        );
        assert!(parse_page_number(Some("two"), 1, "page").is_err());
        assert!(parse_page_number(Some("1.5"), 1, "page").is_err());
        assert!(parse_page_number(Some("-"), 1, "page").is_err());
    }

    #[test]
    fn the_pager_shows_a_window_around_the_current_page() {
        assert_eq!(page_numbers(1, 3), [1, 2, 3]);
        assert_eq!(page_numbers(10, 20), [1, 8, 9, 10, 11, 12, 20]);
        assert_eq!(page_numbers(1, 20), [1, 2, 3, 20]);
        assert_eq!(page_numbers(20, 20), [1, 18, 19, 20]);
    }

    #[test]
    fn links_keep_the_filters() {
        let filter = MovieFilter {
            q: Some("tiger & co".into()),
            city: Some("pune".into()),
            ..Default::default()
        };
        assert_eq!(
            list_url(&filter, "2026-11-28", 2),
            "/movies?q=tiger+%26+co&city=pune&date=2026-11-28&page=2"
        );
        assert_eq!(list_url(&MovieFilter::default(), "", 1), "/movies");
    }
}
