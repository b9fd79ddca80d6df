//! The catalogue: cities, theatres and movies (with their genres, languages and posters),
//! and the searches that browse them.
//!
//! Every listing here is a fixed, small number of statements whatever the page size: one
//! query for the rows, one for the total, and one that loads the genres and languages of all
//! the listed movies together (`load_tags`), never one query per movie.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::any::AnyArguments;
use sqlx::{AnyConnection, Row};
use time::{Date, OffsetDateTime};
use time_tz::{OffsetDateTimeExt, PrimitiveDateTimeExt};

use crate::db::{Db, escape_like, unix};
use crate::domain::poster_image::{self, PosterImageError, PosterImages};
use crate::domain::validation::FieldErrors;

/// The timezone of theatres that do not say otherwise, and of "today" for release dates.
pub const DEFAULT_TIMEZONE: &str = "Asia/Kolkata";

/// The largest poster we store (they are shown at most a few hundred pixels wide).
pub const MAX_POSTER_BYTES: usize = 2 * 1024 * 1024;

/// Search text longer than this is cut (no title is that long).
const MAX_QUERY_CHARS: usize = 100;

/// Text from a URL as a value to look up: NUL characters removed (PostgreSQL refuses them
/// in text, and no name or slug contains one).
pub(crate) fn lookup_text(text: &str) -> String {
    text.replace('\0', "")
}

// ---------------------------------------------------------------------------------------
// Cities and theatres

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct City {
    pub id: i64,
    pub name: String,
    pub slug: String,
}

pub async fn find_city_by_slug(db: &Db, slug: &str) -> Result<Option<City>, sqlx::Error> {
    let row: Option<(i64, String, String)> =
        sqlx::query_as("SELECT id, name, slug FROM cities WHERE slug = $1")
            .bind(lookup_text(slug))
            .fetch_optional(db.reader())
            .await?;
    Ok(row.map(|(id, name, slug)| City { id, name, slug }))
}

/// Every city, by name.
pub async fn list_cities(db: &Db) -> Result<Vec<City>, sqlx::Error> {
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, name, slug FROM cities ORDER BY name, id")
            .fetch_all(db.reader())
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, slug)| City { id, name, slug })
        .collect())
}

/// Why a catalogue change was refused.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("please correct the highlighted fields")]
    Invalid(FieldErrors),
    #[error("there is no such movie")]
    UnknownMovie,
    #[error("there is no such city")]
    UnknownCity,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

fn invalid(field: &str, message: &str) -> CatalogueError {
    CatalogueError::Invalid(FieldErrors::from([(field.to_owned(), message.to_owned())]))
}

/// Creates a city, or returns the existing one with that slug.
pub async fn create_city(db: &Db, name: &str, slug: &str) -> Result<City, CatalogueError> {
    let mut conn = db.writer().acquire().await?;
    create_city_in(&mut conn, name, slug).await
}

pub(crate) async fn create_city_in(
    conn: &mut AnyConnection,
    name: &str,
    slug: &str,
) -> Result<City, CatalogueError> {
    let name = name.trim();
    check_city(name, slug)?;
    sqlx::query("INSERT INTO cities (name, slug) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING")
        .bind(name)
        .bind(slug)
        .execute(&mut *conn)
        .await?;
    let (id, name, slug): (i64, String, String) =
        sqlx::query_as("SELECT id, name, slug FROM cities WHERE slug = $1")
            .bind(slug)
            .fetch_one(&mut *conn)
            .await?;
    Ok(City { id, name, slug })
}

/// The rules for a city's name and its slug (the slug appears in links, so it stays plain).
pub(crate) fn check_city(name: &str, slug: &str) -> Result<(), CatalogueError> {
    if name.is_empty() || name.chars().count() > 80 {
        return Err(invalid(
            "name",
            "Give the city a name of at most 80 characters.",
        ));
    }
    if slug.is_empty() || slugify(slug) != slug {
        return Err(invalid(
            "slug",
            "Use lower-case letters, digits and dashes (e.g. new-delhi).",
        ));
    }
    Ok(())
}

/// The rules for a theatre's name and timezone.
pub(crate) fn check_theatre(name: &str, timezone: &str) -> Result<(), CatalogueError> {
    if name.is_empty() || name.chars().count() > 120 {
        return Err(invalid(
            "name",
            "Give the theatre a name of at most 120 characters.",
        ));
    }
    if !is_known_timezone(timezone) {
        return Err(invalid(
            "timezone",
            "Use an IANA timezone name such as Asia/Kolkata.",
        ));
    }
    Ok(())
}

/// Whether `name` is an IANA timezone we can convert times into.
pub fn is_known_timezone(name: &str) -> bool {
    time_tz::timezones::get_by_name(name).is_some()
}

/// Creates a theatre in a city. `timezone` is an IANA name such as `Asia/Kolkata`.
pub async fn create_theatre(
    db: &Db,
    city_id: i64,
    name: &str,
    address: &str,
    timezone: &str,
) -> Result<i64, CatalogueError> {
    let mut conn = db.writer().acquire().await?;
    create_theatre_in(&mut conn, city_id, name, address, timezone).await
}

pub(crate) async fn create_theatre_in(
    conn: &mut AnyConnection,
    city_id: i64,
    name: &str,
    address: &str,
    timezone: &str,
) -> Result<i64, CatalogueError> {
    let name = name.trim();
    check_theatre(name, timezone)?;
    let city: Option<i64> = sqlx::query_scalar("SELECT id FROM cities WHERE id = $1")
        .bind(city_id)
        .fetch_optional(&mut *conn)
        .await?;
    if city.is_none() {
        return Err(CatalogueError::UnknownCity);
    }
    let id = sqlx::query_scalar(
        "INSERT INTO theatres (city_id, name, address, timezone) VALUES ($1, $2, $3, $4) \
         RETURNING id",
    )
    .bind(city_id)
    .bind(name)
    .bind(address.trim())
    .bind(timezone)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

// ---------------------------------------------------------------------------------------
// Movies

/// Indian film certificates (CBFC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Certificate {
    /// Unrestricted public exhibition.
    U,
    /// Parental guidance for children under 12.
    UA,
    /// Adults only.
    A,
    /// Restricted to specialised audiences.
    S,
}

impl Certificate {
    pub const ALL: [Certificate; 4] = [Self::U, Self::UA, Self::A, Self::S];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::U => "U",
            Self::UA => "UA",
            Self::A => "A",
            Self::S => "S",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(value.trim()))
    }
}

/// A movie to add to the catalogue.
#[derive(Debug, Clone)]
pub struct NewMovie {
    pub title: String,
    pub synopsis: String,
    pub runtime_minutes: i64,
    pub certificate: Certificate,
    pub release_date: Date,
    pub genres: Vec<String>,
    pub languages: Vec<String>,
    pub trailer_url: Option<String>,
}

/// A movie's address: its id and its URL slug.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MovieRef {
    pub id: i64,
    pub slug: String,
}

/// A URL slug from a title: lower-case ASCII letters and digits separated by single dashes
/// (accents dropped where they map to ASCII, other characters become separators).
pub fn slugify(title: &str) -> String {
    let mut slug = String::with_capacity(title.len());
    let mut dash = false;
    for c in title.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' | 'ā' => 'a',
            'è' | 'é' | 'ê' | 'ë' | 'ē' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' | 'ō' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'ū' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            if dash && !slug.is_empty() {
                slug.push('-');
            }
            dash = false;
            slug.push(c);
        } else if c != '\'' && c != '’' {
            dash = true;
        }
        if slug.len() >= 80 {
            break;
        }
    }
    slug
}

/// Whether a trailer link is an absolute http(s) URL (anything else could run script when
/// clicked, e.g. `javascript:`).
pub fn valid_trailer_url(raw: &str) -> bool {
    match url::Url::parse(raw.trim()) {
        Ok(url) => matches!(url.scheme(), "http" | "https") && url.host_str().is_some(),
        Err(_) => false,
    }
}

pub(crate) fn clean_list(values: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let v = v.trim();
        if !v.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(v)) {
            out.push(v.to_owned());
        }
    }
    out
}

impl NewMovie {
    /// Checks every field; the errors are keyed by field name for a form.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            errors.insert(
                "title".into(),
                "Enter a title of at most 200 characters.".into(),
            );
        } else if slugify(title).is_empty() {
            errors.insert(
                "title".into(),
                "The title needs at least one letter or digit.".into(),
            );
        }
        if !(1..=600).contains(&self.runtime_minutes) {
            errors.insert(
                "runtime_minutes".into(),
                "Runtime must be between 1 and 600 minutes.".into(),
            );
        }
        if self.synopsis.chars().count() > 5000 {
            errors.insert(
                "synopsis".into(),
                "Keep the synopsis under 5000 characters.".into(),
            );
        }
        if let Some(url) = &self.trailer_url
            && !url.trim().is_empty()
            && !valid_trailer_url(url)
        {
            errors.insert(
                "trailer_url".into(),
                "The trailer link must start with http:// or https://.".into(),
            );
        }
        if clean_list(&self.languages).is_empty() {
            errors.insert("languages".into(), "Give at least one language.".into());
        }
        for (field, list) in [("genres", &self.genres), ("languages", &self.languages)] {
            if list.iter().any(|v| v.trim().chars().count() > 40) {
                errors.insert(
                    field.into(),
                    "Each entry may have at most 40 characters.".into(),
                );
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Adds a movie with a unique slug derived from its title (`title`, `title-2`, ...).
pub async fn create_movie(
    db: &Db,
    movie: &NewMovie,
    now: OffsetDateTime,
) -> Result<MovieRef, CatalogueError> {
    let mut tx = db.begin_write().await?;
    let created = create_movie_in(&mut tx, movie, now).await?;
    tx.commit().await?;
    Ok(created)
}

pub(crate) async fn create_movie_in(
    conn: &mut AnyConnection,
    movie: &NewMovie,
    now: OffsetDateTime,
) -> Result<MovieRef, CatalogueError> {
    movie.validate().map_err(CatalogueError::Invalid)?;
    let title = movie.title.trim();
    let base = slugify(title);
    let trailer = movie
        .trailer_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    let release = movie.release_date.to_string();
    // The free slug is chosen from those taken; ON CONFLICT covers a racing insert, after
    // which the next round sees the winner's slug as taken.
    for _ in 0..5 {
        let taken: Vec<String> =
            sqlx::query_scalar("SELECT slug FROM movies WHERE slug = $1 OR slug LIKE $2")
                .bind(&base)
                .bind(format!("{base}-%"))
                .fetch_all(&mut *conn)
                .await?;
        let slug = (1..)
            .map(|n| {
                if n == 1 {
                    base.clone()
                } else {
                    format!("{base}-{n}")
                }
            })
            .find(|candidate| !taken.contains(candidate))
            .unwrap_or_else(|| base.clone());
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO movies (slug, title, search_title, synopsis, runtime_minutes, \
             certificate, release_date, trailer_url, is_active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9) \
             ON CONFLICT (slug) DO NOTHING RETURNING id",
        )
        .bind(&slug)
        .bind(title)
        .bind(title.to_lowercase())
        .bind(movie.synopsis.trim())
        .bind(movie.runtime_minutes)
        .bind(movie.certificate.as_str())
        .bind(&release)
        .bind(trailer)
        .bind(unix(now))
        .fetch_optional(&mut *conn)
        .await?;
        let Some(id) = id else { continue };
        for genre in clean_list(&movie.genres) {
            sqlx::query("INSERT INTO movie_genres (movie_id, genre) VALUES ($1, $2)")
                .bind(id)
                .bind(genre)
                .execute(&mut *conn)
                .await?;
        }
        for language in clean_list(&movie.languages) {
            sqlx::query("INSERT INTO movie_languages (movie_id, language) VALUES ($1, $2)")
                .bind(id)
                .bind(language)
                .execute(&mut *conn)
                .await?;
        }
        return Ok(MovieRef { id, slug });
    }
    Err(invalid(
        "title",
        "Another movie with this title is being added right now; try again.",
    ))
}

/// Checks an upload's size and turns it into the renditions we store
/// (`poster_image::process`: decoded, limited, encoded again), on a blocking thread: it is
/// CPU work, and it happens before any transaction is opened.
pub async fn prepare_poster(bytes: Vec<u8>) -> Result<PosterImages, CatalogueError> {
    if bytes.len() > MAX_POSTER_BYTES {
        return Err(invalid("poster", "The poster must be at most 2 MB."));
    }
    match tokio::task::spawn_blocking(move || poster_image::process(&bytes)).await {
        Ok(Ok(images)) => Ok(images),
        Ok(Err(error)) if error.is_upload_error() => Err(invalid("poster", &error.to_string())),
        Ok(Err(error)) => {
            tracing::error!(%error, "a decoded poster could not be encoded");
            Err(invalid(
                "poster",
                "The poster could not be processed; try saving it again as PNG or JPEG.",
            ))
        }
        // A decoder that panics on a malformed file: the file is what is wrong.
        Err(error) => {
            tracing::warn!(%error, "decoding a poster upload panicked");
            Err(invalid(
                "poster",
                &PosterImageError::Undecodable.to_string(),
            ))
        }
    }
}

/// Stores an uploaded poster (PNG, JPEG or WebP, at most `MAX_POSTER_BYTES`) as the
/// movie's poster, replacing any earlier one: the upload is decoded and encoded again first
/// (`prepare_poster`), then stored in one short transaction. Returns the stored poster's
/// SHA-256 (hex), which is also its ETag and version.
pub async fn set_poster(
    db: &Db,
    movie_id: i64,
    bytes: &[u8],
    now: OffsetDateTime,
) -> Result<String, CatalogueError> {
    let images = prepare_poster(bytes.to_vec()).await?;
    store_poster(db, movie_id, &images, now).await
}

/// Stores renditions made by `prepare_poster` as the movie's poster.
pub async fn store_poster(
    db: &Db,
    movie_id: i64,
    images: &PosterImages,
    now: OffsetDateTime,
) -> Result<String, CatalogueError> {
    let mut tx = db.begin_write().await?;
    let sha = set_poster_in(&mut tx, movie_id, images, now).await?;
    tx.commit().await?;
    Ok(sha)
}

/// Stores prepared renditions inside the caller's transaction (the demo seed prepares its
/// posters before opening its own). Returns the full poster's SHA-256 (hex).
pub(crate) async fn set_poster_in(
    conn: &mut AnyConnection,
    movie_id: i64,
    images: &PosterImages,
    now: OffsetDateTime,
) -> Result<String, CatalogueError> {
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM movies WHERE id = $1")
        .bind(movie_id)
        .fetch_optional(&mut *conn)
        .await?;
    if exists.is_none() {
        return Err(CatalogueError::UnknownMovie);
    }
    let sha = &images.full.sha256;
    sqlx::query("UPDATE movies SET poster_id = NULL WHERE id = $1")
        .bind(movie_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM posters WHERE movie_id = $1")
        .bind(movie_id)
        .execute(&mut *conn)
        .await?;
    let poster_id: i64 = sqlx::query_scalar(
        "INSERT INTO posters (movie_id, name, content_type, data, sha256, created_at, \
         card_content_type, card_data, card_sha256) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(movie_id)
    .bind(format!("movie-{movie_id}-{}", &sha[..16]))
    .bind(images.full.content_type)
    .bind(images.full.bytes.clone())
    .bind(sha)
    .bind(unix(now))
    .bind(images.card.content_type)
    .bind(images.card.bytes.clone())
    .bind(&images.card.sha256)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("UPDATE movies SET poster_id = $1, updated_at = $2 WHERE id = $3")
        .bind(poster_id)
        .bind(unix(now))
        .bind(movie_id)
        .execute(&mut *conn)
        .await?;
    Ok(sha.clone())
}

/// A movie as listed on a card: enough for the listing, nothing more.
#[derive(Debug, Clone, Serialize)]
pub struct MovieCard {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub runtime_minutes: i64,
    pub certificate: String,
    /// `YYYY-MM-DD`.
    pub release_date: String,
    /// SHA-256 of the poster (its version), if the movie has one.
    pub poster_sha: Option<String>,
    pub genres: Vec<String>,
    pub languages: Vec<String>,
}

impl MovieCard {
    /// `2h 28m`.
    pub fn runtime_display(&self) -> String {
        runtime_display(self.runtime_minutes)
    }

    /// `Fri 12 Dec 2026`, or the raw text if it is not a date.
    pub fn release_display(&self) -> String {
        parse_date(&self.release_date)
            .and_then(|d| {
                d.format(time::macros::format_description!(
                    "[weekday repr:short] [day padding:none] [month repr:short] [year]"
                ))
                .ok()
            })
            .unwrap_or_else(|| self.release_date.clone())
    }
}

/// `148` -> `2h 28m`.
pub fn runtime_display(minutes: i64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m}m"),
    }
}

/// A `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> Option<Date> {
    Date::parse(
        text.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// Everything the movie page shows about a movie (its showtimes come from `showtimes`).
#[derive(Debug, Clone, Serialize)]
pub struct MovieDetail {
    #[serde(flatten)]
    pub card: MovieCard,
    pub synopsis: String,
    pub trailer_url: Option<String>,
}

const CARD_COLUMNS: &str = "m.id, m.slug, m.title, m.runtime_minutes, m.certificate, \
     m.release_date, p.sha256 AS poster_sha";

fn card_from_row(row: &sqlx::any::AnyRow) -> Result<MovieCard, sqlx::Error> {
    Ok(MovieCard {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        title: row.try_get("title")?,
        runtime_minutes: row.try_get("runtime_minutes")?,
        certificate: row.try_get("certificate")?,
        release_date: row.try_get("release_date")?,
        poster_sha: row.try_get("poster_sha")?,
        genres: Vec::new(),
        languages: Vec::new(),
    })
}

/// Fills in the genres and languages of all these movies with one query.
async fn load_tags(db: &Db, cards: &mut [MovieCard]) -> Result<(), sqlx::Error> {
    if cards.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (1..=cards.len()).map(|i| format!("${i}")).collect();
    let list = placeholders.join(", ");
    let sql = format!(
        "SELECT movie_id, 'g' AS kind, genre AS value FROM movie_genres WHERE movie_id IN ({list}) \
         UNION ALL \
         SELECT movie_id, 'l' AS kind, language AS value FROM movie_languages WHERE movie_id IN ({list}) \
         ORDER BY 1, 2, 3"
    );
    let mut query = sqlx::query_as::<_, (i64, String, String)>(sqlx::AssertSqlSafe(sql));
    for card in cards.iter() {
        query = query.bind(card.id);
    }
    let rows = query.fetch_all(db.reader()).await?;
    let index: HashMap<i64, usize> = cards.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    for (movie_id, kind, value) in rows {
        if let Some(&i) = index.get(&movie_id) {
            if kind == "g" {
                cards[i].genres.push(value);
            } else {
                cards[i].languages.push(value);
            }
        }
    }
    Ok(())
}

/// The active movie with this slug.
pub async fn find_movie_by_slug(db: &Db, slug: &str) -> Result<Option<MovieDetail>, sqlx::Error> {
    find_movie_where(db, "m.slug = $1", Arg::Text(lookup_text(slug))).await
}

/// The active movie with this id.
pub async fn find_movie(db: &Db, id: i64) -> Result<Option<MovieDetail>, sqlx::Error> {
    find_movie_where(db, "m.id = $1", Arg::Int(id)).await
}

async fn find_movie_where(
    db: &Db,
    condition: &'static str,
    arg: Arg,
) -> Result<Option<MovieDetail>, sqlx::Error> {
    let sql = format!(
        "SELECT {CARD_COLUMNS}, m.synopsis, m.trailer_url FROM movies m \
         LEFT JOIN posters p ON p.id = m.poster_id WHERE {condition} AND m.is_active = 1"
    );
    let row = arg
        .bind_to(sqlx::query(sqlx::AssertSqlSafe(sql)))
        .fetch_optional(db.reader())
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut cards = [card_from_row(&row)?];
    load_tags(db, &mut cards).await?;
    let [card] = cards;
    Ok(Some(MovieDetail {
        card,
        synopsis: row.try_get("synopsis")?,
        trailer_url: row.try_get("trailer_url")?,
    }))
}

/// How many movies exist (active or not); the development server seeds when there are none.
pub async fn count_movies(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM movies")
        .fetch_one(db.reader())
        .await
}

// ---------------------------------------------------------------------------------------
// Search

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

/// A bound value of a dynamically assembled statement.
#[derive(Debug, Clone)]
enum Arg {
    Int(i64),
    Text(String),
}

impl Arg {
    fn bind_to<'q>(
        self,
        query: sqlx::query::Query<'q, sqlx::Any, AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, AnyArguments> {
        match self {
            Arg::Int(v) => query.bind(v),
            Arg::Text(v) => query.bind(v),
        }
    }
}

/// A WHERE clause with numbered placeholders and their values, built piece by piece. Only
/// fixed SQL fragments and `$N` placeholders go into the text; every value is bound.
#[derive(Debug, Default)]
struct Conditions {
    sql: String,
    args: Vec<Arg>,
}

impl Conditions {
    fn bind(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    fn and(&mut self, fragment: &str) {
        self.sql.push_str(" AND ");
        self.sql.push_str(fragment);
    }

    fn query(&self, sql: String) -> sqlx::query::Query<'static, sqlx::Any, AnyArguments> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for arg in &self.args {
            query = arg.clone().bind_to(query);
        }
        query
    }
}

/// The UTC range `[start, end)` of a local calendar date in a timezone (an unknown zone
/// counts as `DEFAULT_TIMEZONE`).
pub fn local_day_bounds(date: Date, timezone: &str) -> (i64, i64) {
    let tz = time_tz::timezones::get_by_name(timezone)
        .or_else(|| time_tz::timezones::get_by_name(DEFAULT_TIMEZONE));
    let next = date.next_day().unwrap_or(date);
    match tz {
        Some(tz) => (local_midnight(date, tz), local_midnight(next, tz)),
        None => (
            date.midnight().assume_utc().unix_timestamp(),
            next.midnight().assume_utc().unix_timestamp(),
        ),
    }
}

/// The instant a local day begins. Where a daylight-saving change skips midnight, the day
/// begins at the first local hour that exists; where midnight happens twice, at the first.
fn local_midnight(date: Date, tz: &time_tz::Tz) -> i64 {
    for hour in 0..3 {
        let Ok(local) = date.with_hms(hour, 0, 0) else {
            break;
        };
        match local.assume_timezone(tz) {
            time_tz::OffsetResult::Some(t) | time_tz::OffsetResult::Ambiguous(t, _) => {
                return t.unix_timestamp();
            }
            time_tz::OffsetResult::None => continue,
        }
    }
    date.midnight().assume_utc().unix_timestamp()
}

/// Builds the WHERE conditions of a movie search; `timezones` are the theatres' distinct
/// timezones (only needed for a date filter).
fn search_conditions(
    filter: &MovieFilter,
    now: OffsetDateTime,
    timezones: &[String],
) -> Conditions {
    let mut c = Conditions {
        sql: "m.is_active = 1".into(),
        args: Vec::new(),
    };
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
        conditions.query(sql).fetch_all(db.reader())
    };
    let mut page = page.max(1);
    let mut rows = page_query(page).await?;
    if rows.is_empty() && page > 1 {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM movies m WHERE {}",
            conditions.sql
        );
        let total: i64 = conditions
            .query(sql)
            .fetch_one(db.reader())
            .await?
            .try_get("n")?;
        let last_page = u64::try_from(total).unwrap_or(0).div_ceil(per_page).max(1);
        if last_page < page {
            page = last_page;
            rows = page_query(page).await?;
        }
    }
    let total = match rows.first() {
        Some(row) => u64::try_from(row.try_get::<i64, _>("total")?).unwrap_or(0),
        None => 0,
    };
    let mut items = rows
        .iter()
        .map(card_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    load_tags(db, &mut items).await?;
    Ok(MoviePage {
        items,
        page,
        per_page,
        total,
    })
}

/// Today's date where the catalogue's audience is (release dates are local dates).
pub fn today(now: OffsetDateTime) -> Date {
    match time_tz::timezones::get_by_name(DEFAULT_TIMEZONE) {
        Some(tz) => now.to_timezone(tz).date(),
        None => now.date(),
    }
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
    let mut c = Conditions {
        sql: "m.is_active = 1".into(),
        args: Vec::new(),
    };
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
    let mut now_showing = c
        .query(sql)
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(card_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let sql = format!(
        "SELECT {CARD_COLUMNS} FROM movies m LEFT JOIN posters p ON p.id = m.poster_id \
         WHERE m.is_active = 1 AND m.release_date > $1 ORDER BY m.release_date, m.title, m.id \
         LIMIT {limit}"
    );
    let mut coming_soon = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(today)
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(card_from_row)
        .collect::<Result<Vec<_>, _>>()?;
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
            "c" => options.cities.push(City { id, name, slug }),
            "g" => options.genres.push(name),
            _ => options.languages.push(name),
        }
    }
    Ok(options)
}

// ---------------------------------------------------------------------------------------
// Posters

/// Which rendition of a poster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PosterSize {
    /// The poster as stored from the upload (the movie page).
    Full,
    /// `poster_image::CARD_WIDTH` pixels wide (list pages). Posters stored before
    /// renditions existed have none; the full poster stands in for them.
    Card,
}

/// A stored poster image.
#[derive(Debug, Clone)]
pub struct Poster {
    pub content_type: String,
    /// SHA-256 of `data` (its ETag).
    pub sha256: String,
    /// SHA-256 of the full poster: the version page URLs carry (`?v=`), the same for every
    /// rendition of one upload.
    pub version: String,
    pub data: Vec<u8>,
}

/// What `find_poster` found.
#[derive(Debug, Clone)]
pub enum PosterLookup {
    UnknownMovie,
    NoPoster,
    Poster(Poster),
}

/// One rendition of the poster of a movie, in one statement.
pub async fn find_poster(
    db: &Db,
    movie_id: i64,
    size: PosterSize,
) -> Result<PosterLookup, sqlx::Error> {
    type PosterRow = (
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<Vec<u8>>,
    );
    let sql = match size {
        PosterSize::Full => {
            "SELECT m.id, p.content_type, p.sha256, p.sha256, p.data FROM movies m \
             LEFT JOIN posters p ON p.id = m.poster_id WHERE m.id = $1"
        }
        PosterSize::Card => {
            "SELECT m.id, COALESCE(p.card_content_type, p.content_type), \
             COALESCE(p.card_sha256, p.sha256), p.sha256, COALESCE(p.card_data, p.data) \
             FROM movies m LEFT JOIN posters p ON p.id = m.poster_id WHERE m.id = $1"
        }
    };
    let row: Option<PosterRow> = sqlx::query_as(sql)
        .bind(movie_id)
        .fetch_optional(db.reader())
        .await?;
    Ok(match row {
        None => PosterLookup::UnknownMovie,
        Some((_, Some(content_type), Some(sha256), Some(version), Some(data))) => {
            PosterLookup::Poster(Poster {
                content_type,
                sha256,
                version,
                data,
            })
        }
        Some(_) => PosterLookup::NoPoster,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn slugs_are_lower_case_words_joined_by_dashes() {
        assert_eq!(slugify("The Dark Knight"), "the-dark-knight");
        assert_eq!(slugify("  K.G.F: Chapter 2!! "), "k-g-f-chapter-2");
        assert_eq!(slugify("Don't Look Up"), "dont-look-up");
        assert_eq!(slugify("Amélie"), "amelie");
        assert_eq!(slugify("बाहुबली"), "");
    }

    #[test]
    fn trailer_links_must_be_http() {
        assert!(valid_trailer_url("https://www.youtube.com/watch?v=abc"));
        assert!(valid_trailer_url("http://example.com/t"));
        assert!(!valid_trailer_url("javascript:alert(1)"));
        assert!(!valid_trailer_url("data:text/html,hi"));
        assert!(!valid_trailer_url("/relative"));
        assert!(!valid_trailer_url("ftp://example.com/t"));
    }

    #[test]
    fn a_local_day_in_kolkata_starts_at_18_30_utc_the_day_before() {
        let (start, end) = local_day_bounds(date!(2026 - 11 - 28), "Asia/Kolkata");
        assert_eq!(start, datetime!(2026-11-27 18:30 UTC).unix_timestamp());
        assert_eq!(end, datetime!(2026-11-28 18:30 UTC).unix_timestamp());
    }

    #[test]
    fn runtimes_read_naturally() {
        assert_eq!(runtime_display(148), "2h 28m");
        assert_eq!(runtime_display(120), "2h");
        assert_eq!(runtime_display(45), "45m");
    }

    #[test]
    fn certificates_parse_in_any_case() {
        assert_eq!(Certificate::parse("ua"), Some(Certificate::UA));
        assert_eq!(Certificate::parse("X"), None);
    }
}
