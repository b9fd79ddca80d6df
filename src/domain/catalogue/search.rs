//! Browsing the catalogue: the movie search with its filters, the home page's shelves, and
//! the values the filter bar offers.

use serde::Serialize;
use time::{Date, OffsetDateTime};

use super::movies::{CARD_COLUMNS, MovieCard, load_tags};
use super::query::{Arg, Conditions};
use super::{City, local_day_bounds, lookup_text, today};
use crate::db::{Db, escape_like, unix};
use crate::domain::ids::CityId;

/// Search text longer than this is cut (no title is that long).
const MAX_QUERY_CHARS: usize = 100;

/// Filters of the movie search. Empty strings mean "no filter"; every filter narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MovieFilter {
    /// Part of the title, any case.
    pub q: Option<String>,
    /// City slug: movies with an upcoming showtime in that city.
    pub city: Option<String>,
    /// Movies with an upcoming showtime on that local date (in the theatre's timezone).
    pub date: Option<Date>,
    pub genre: Option<String>,
    pub language: Option<String>,
}

/// One page of a listing.
#[derive(Debug, Clone, Serialize)]
pub struct MoviePage {
    pub items: Vec<MovieCard>,
    /// The page shown, after clamping to the pages that exist.
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
}

impl MoviePage {
    pub fn last_page(&self) -> u64 {
        self.total.div_ceil(self.per_page.max(1)).max(1)
    }
}

/// Builds the WHERE conditions of a movie search; `timezones` are the theatres' distinct
/// timezones (only needed for a date filter).
fn search_conditions(
    filter: &MovieFilter,
    now: OffsetDateTime,
    timezones: &[String],
) -> Conditions {
    let mut c = Conditions::new("m.is_active = 1");
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let q: String = lookup_text(q).chars().take(MAX_QUERY_CHARS).collect();
        let p = c.bind(Arg::Text(format!("%{}%", escape_like(&q.to_lowercase()))));
        c.and(&format!("m.search_title LIKE {p} ESCAPE '\\'"));
    }
    if let Some(genre) = filter.genre.as_deref().filter(|g| !g.is_empty()) {
        let p = c.bind(Arg::Text(lookup_text(genre)));
        c.and(&format!(
            "EXISTS (SELECT 1 FROM movie_genres g WHERE g.movie_id = m.id AND g.genre = {p})"
        ));
    }
    if let Some(language) = filter.language.as_deref().filter(|l| !l.is_empty()) {
        let p = c.bind(Arg::Text(lookup_text(language)));
        c.and(&format!(
            "EXISTS (SELECT 1 FROM movie_languages l WHERE l.movie_id = m.id AND l.language = {p})"
        ));
    }
    let city = filter.city.as_deref().filter(|c| !c.is_empty());
    if city.is_some() || filter.date.is_some() {
        // One showtime must satisfy the city and the date together.
        let now_p = c.bind(Arg::Int(unix(now)));
        let mut sub = format!(
            "EXISTS (SELECT 1 FROM showtimes s \
             JOIN screens sc ON sc.id = s.screen_id \
             JOIN theatres t ON t.id = sc.theatre_id \
             WHERE s.movie_id = m.id AND s.is_cancelled = 0 AND s.starts_at >= {now_p}"
        );
        if let Some(city) = city {
            let p = c.bind(Arg::Text(lookup_text(city)));
            sub.push_str(&format!(
                " AND t.city_id = (SELECT id FROM cities WHERE slug = {p})"
            ));
        }
        if let Some(date) = filter.date {
            let mut ranges = Vec::new();
            for tz in timezones {
                let (start, end) = local_day_bounds(date, tz);
                let tz_p = c.bind(Arg::Text(tz.clone()));
                let start_p = c.bind(Arg::Int(start));
                let end_p = c.bind(Arg::Int(end));
                ranges.push(format!(
                    "(t.timezone = {tz_p} AND s.starts_at >= {start_p} AND s.starts_at < {end_p})"
                ));
            }
            if ranges.is_empty() {
                sub.push_str(" AND 1 = 0");
            } else {
                sub.push_str(&format!(" AND ({})", ranges.join(" OR ")));
            }
        }
        sub.push(')');
        c.and(&sub);
    }
    c
}

/// The timezones theatres use (a handful; needed to turn a local date into UTC ranges).
async fn theatre_timezones(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT DISTINCT timezone FROM theatres ORDER BY timezone")
        .fetch_all(db.reader())
        .await
}

/// A card of a search page with the number of matches (a window count).
#[derive(sqlx::FromRow)]
struct CardWithTotal {
    #[sqlx(flatten)]
    card: MovieCard,
    total: i64,
}

/// Searches active movies, newest release first. `page` is clamped to the pages that exist
/// (so a page past the end shows the last one). Two statements (three with a date filter;
/// a page past the end costs two more).
pub async fn search_movies(
    db: &Db,
    filter: &MovieFilter,
    page: u64,
    per_page: u64,
    now: OffsetDateTime,
) -> Result<MoviePage, sqlx::Error> {
    let per_page = per_page.clamp(1, 100);
    let timezones = if filter.date.is_some() {
        theatre_timezones(db).await?
    } else {
        Vec::new()
    };
    let conditions = search_conditions(filter, now, &timezones);
    // The page and the total come together (a window count); only a page past the end
    // needs the total first, to fetch the last page instead.
    let page_query = |page: u64| {
        let offset = (page - 1).saturating_mul(per_page).min(i64::MAX as u64);
        let sql = format!(
            "SELECT {CARD_COLUMNS}, COUNT(*) OVER () AS total \
             FROM movies m LEFT JOIN posters p ON p.id = m.poster_id \
             WHERE {} ORDER BY m.release_date DESC, m.title, m.id LIMIT {per_page} OFFSET {offset}",
            conditions.sql
        );
        conditions
            .query_as::<CardWithTotal>(sql)
            .fetch_all(db.reader())
    };
    let mut page = page.max(1);
    let mut rows = page_query(page).await?;
    if rows.is_empty() && page > 1 {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM movies m WHERE {}",
            conditions.sql
        );
        let (total,) = conditions
            .query_as::<(i64,)>(sql)
            .fetch_one(db.reader())
            .await?;
        let last_page = u64::try_from(total).unwrap_or(0).div_ceil(per_page).max(1);
        if last_page < page {
            page = last_page;
            rows = page_query(page).await?;
        }
    }
    let total = rows
        .first()
        .map_or(0, |row| u64::try_from(row.total).unwrap_or(0));
    let mut items: Vec<MovieCard> = rows.into_iter().map(|row| row.card).collect();
    load_tags(db, &mut items).await?;
    Ok(MoviePage {
        items,
        page,
        per_page,
        total,
    })
}

/// The home page's two shelves.
#[derive(Debug, Clone)]
pub struct Shelves {
    /// Released movies with an upcoming showtime (in the city, when one is chosen).
    pub now_showing: Vec<MovieCard>,
    /// Movies whose release date is still ahead.
    pub coming_soon: Vec<MovieCard>,
}

/// Now showing (in `city`, or anywhere) and coming soon, in three statements.
pub async fn shelves(
    db: &Db,
    city: Option<&str>,
    now: OffsetDateTime,
    limit: u64,
) -> Result<Shelves, sqlx::Error> {
    let today = today(now).to_string();
    let mut c = Conditions::new("m.is_active = 1");
    let today_p = c.bind(Arg::Text(today.clone()));
    let now_p = c.bind(Arg::Int(unix(now)));
    c.and(&format!("m.release_date <= {today_p}"));
    let city_condition = match city {
        Some(slug) => {
            let p = c.bind(Arg::Text(lookup_text(slug)));
            format!(
                " AND sc.theatre_id IN (SELECT t.id FROM theatres t JOIN cities ci ON ci.id = t.city_id WHERE ci.slug = {p})"
            )
        }
        None => String::new(),
    };
    c.and(&format!(
        "EXISTS (SELECT 1 FROM showtimes s JOIN screens sc ON sc.id = s.screen_id \
         WHERE s.movie_id = m.id AND s.is_cancelled = 0 AND s.starts_at >= {now_p}{city_condition})"
    ));
    let sql = format!(
        "SELECT {CARD_COLUMNS} FROM movies m LEFT JOIN posters p ON p.id = m.poster_id \
         WHERE {} ORDER BY m.release_date DESC, m.title, m.id LIMIT {limit}",
        c.sql
    );
    let mut now_showing = c.query_as::<MovieCard>(sql).fetch_all(db.reader()).await?;
    let sql = format!(
        "SELECT {CARD_COLUMNS} FROM movies m LEFT JOIN posters p ON p.id = m.poster_id \
         WHERE m.is_active = 1 AND m.release_date > $1 ORDER BY m.release_date, m.title, m.id \
         LIMIT {limit}"
    );
    let mut coming_soon = sqlx::query_as::<_, MovieCard>(sqlx::AssertSqlSafe(sql))
        .bind(today)
        .fetch_all(db.reader())
        .await?;
    let split = now_showing.len();
    let mut all: Vec<MovieCard> = now_showing.drain(..).chain(coming_soon.drain(..)).collect();
    load_tags(db, &mut all).await?;
    let coming_soon = all.split_off(split);
    Ok(Shelves {
        now_showing: all,
        coming_soon,
    })
}

/// The values the filter bar offers.
#[derive(Debug, Clone, Default)]
pub struct FilterOptions {
    pub cities: Vec<City>,
    pub genres: Vec<String>,
    pub languages: Vec<String>,
}

/// Cities, genres and languages for the filter bar, in one statement.
pub async fn filter_options(db: &Db) -> Result<FilterOptions, sqlx::Error> {
    let rows: Vec<(String, i64, String, String)> = sqlx::query_as(
        "SELECT 'c' AS kind, id, name, slug FROM cities \
         UNION ALL SELECT DISTINCT 'g' AS kind, 0 AS id, genre AS name, genre AS slug FROM movie_genres \
         UNION ALL SELECT DISTINCT 'l' AS kind, 0 AS id, language AS name, language AS slug FROM movie_languages \
         ORDER BY 1, 3, 2",
    )
    .fetch_all(db.reader())
    .await?;
    let mut options = FilterOptions::default();
    for (kind, id, name, slug) in rows {
        match kind.as_str() {
            "c" => options.cities.push(City {
                id: CityId(id),
                name,
                slug,
            }),
            "g" => options.genres.push(name),
            _ => options.languages.push(name),
        }
    }
    Ok(options)
}
