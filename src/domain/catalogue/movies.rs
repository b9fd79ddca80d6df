//! Movies: what is added to the catalogue (`NewMovie` and its rules), and how a movie is
//! read back for a card or its own page, with its genres and languages loaded for a whole
//! list at once.

use std::collections::HashMap;
use strum::{Display, EnumString, IntoStaticStr};

use serde::Serialize;
use sqlx::AnyConnection;
use time::{Date, OffsetDateTime};

use super::query::Arg;
use super::{CatalogueError, Slug, invalid, parse_date, slugify};
use crate::db::{Db, unix};
use crate::domain::ids::MovieId;
use crate::domain::validation::FieldErrors;

/// Indian film certificates (CBFC), stored as their letters (`movies.certificate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, EnumString, IntoStaticStr, Display)]
#[strum(ascii_case_insensitive)]
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

crate::text_enum!(Certificate);

impl Certificate {
    pub const ALL: [Certificate; 4] = [Self::U, Self::UA, Self::A, Self::S];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// A certificate as typed or chosen in a form (any case, spaces around ignored).
    pub fn parse(value: &str) -> Option<Self> {
        value.trim().parse().ok()
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
    pub id: MovieId,
    pub slug: String,
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
        let id: Option<MovieId> = sqlx::query_scalar(
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

/// A movie as listed on a card: enough for the listing, nothing more.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MovieCard {
    pub id: MovieId,
    pub slug: String,
    pub title: String,
    pub runtime_minutes: i64,
    #[sqlx(try_from = "String")]
    pub certificate: Certificate,
    /// `YYYY-MM-DD`.
    pub release_date: String,
    /// SHA-256 of the poster (its version), if the movie has one.
    pub poster_sha: Option<String>,
    /// Filled in by `load_tags`, for a whole list at once.
    #[sqlx(skip)]
    pub genres: Vec<String>,
    #[sqlx(skip)]
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

/// Everything the movie page shows about a movie (its showtimes come from `showtimes`).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MovieDetail {
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub card: MovieCard,
    pub synopsis: String,
    pub trailer_url: Option<String>,
}

/// The columns of a `MovieCard`, from `movies m LEFT JOIN posters p`.
pub(super) const CARD_COLUMNS: &str = "m.id, m.slug, m.title, m.runtime_minutes, m.certificate, \
     m.release_date, p.sha256 AS poster_sha";

/// Fills in the genres and languages of all these movies with one query.
pub(super) async fn load_tags(db: &Db, cards: &mut [MovieCard]) -> Result<(), sqlx::Error> {
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
    let mut query = sqlx::query_as::<_, (MovieId, String, String)>(sqlx::AssertSqlSafe(sql));
    for card in cards.iter() {
        query = query.bind(card.id);
    }
    let rows = query.fetch_all(db.reader()).await?;
    let index: HashMap<MovieId, usize> = cards.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
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
pub async fn find_movie_by_slug(db: &Db, slug: &Slug) -> Result<Option<MovieDetail>, sqlx::Error> {
    find_movie_where(db, "m.slug", Arg::Text(slug.as_str().to_owned())).await
}

/// The active movie with this id.
pub async fn find_movie(db: &Db, id: MovieId) -> Result<Option<MovieDetail>, sqlx::Error> {
    find_movie_where(db, "m.id", Arg::Int(id.0)).await
}

async fn find_movie_where(
    db: &Db,
    column: &'static str,
    arg: Arg,
) -> Result<Option<MovieDetail>, sqlx::Error> {
    let sql = format!(
        "SELECT {CARD_COLUMNS}, m.synopsis, m.trailer_url FROM movies m \
         LEFT JOIN posters p ON p.id = m.poster_id WHERE {column} = $1 AND m.is_active = 1"
    );
    let query = arg.bind_as(sqlx::query_as::<_, MovieDetail>(sqlx::AssertSqlSafe(sql)));
    let Some(mut movie) = query.fetch_optional(db.reader()).await? else {
        return Ok(None);
    };
    load_tags(db, std::slice::from_mut(&mut movie.card)).await?;
    Ok(Some(movie))
}

/// How many movies exist (active or not); the development server seeds when there are none.
pub async fn count_movies(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM movies")
        .fetch_one(db.reader())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

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
