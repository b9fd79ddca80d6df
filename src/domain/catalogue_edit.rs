//! Changing what is already in the catalogue: a city, a theatre or a movie. Creating them is
//! `catalogue`'s job and its field rules are reused here; what editing adds are the rules
//! that keep scheduled showtimes true. A theatre's timezone and a movie's runtime cannot
//! change while showtimes are still to run (their local start times and their screens'
//! timetables were worked out from them), and a language cannot be removed from a movie
//! while showtimes in that language are still to run.
//!
//! Each change is checked and stored in one write transaction together with its audit entry,
//! whose summary lists every field that changed as `field: before -> after`.

use sqlx::AnyConnection;
use time::{Date, OffsetDateTime};

use crate::db::{Db, is_unique_violation, unix};
use crate::domain::audit::{self, NewEntry, describe_changes};
use crate::domain::catalogue::{
    self, CatalogueError, Certificate, City, NewMovie, check_city, check_theatre, clean_list,
};
use crate::domain::ids::{CityId, MovieId, TheatreId, UserId};
use crate::domain::validation::FieldErrors;

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("there is no such record")]
    NotFound,
    #[error("please correct the highlighted fields")]
    Invalid(FieldErrors),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<CatalogueError> for EditError {
    fn from(error: CatalogueError) -> Self {
        match error {
            CatalogueError::Invalid(fields) => Self::Invalid(fields),
            CatalogueError::Database(e) => Self::Database(e),
            CatalogueError::UnknownCity => Self::Invalid(FieldErrors::from([(
                "city_id".to_owned(),
                "Choose a city.".to_owned(),
            )])),
            CatalogueError::UnknownMovie => Self::NotFound,
        }
    }
}

fn refused(field: &str, message: String) -> EditError {
    EditError::Invalid(FieldErrors::from([(field.to_owned(), message)]))
}

// ---------------------------------------------------------------------------------------
// Cities

/// One city by id.
pub async fn find_city(db: &Db, id: CityId) -> Result<Option<City>, sqlx::Error> {
    sqlx::query_as("SELECT id, name, slug FROM cities WHERE id = $1")
        .bind(id)
        .fetch_optional(db.reader())
        .await
}

/// Renames a city or changes its slug (which must stay unique: it is the city's address in
/// links such as `/movies?city=pune`).
pub async fn update_city(
    db: &Db,
    actor_user_id: UserId,
    id: CityId,
    name: &str,
    slug: &str,
    now: OffsetDateTime,
) -> Result<City, EditError> {
    let (name, slug) = (name.trim(), slug.trim());
    check_city(name, slug)?;
    let mut tx = db.begin_write().await?;
    let before: Option<(String, String)> =
        sqlx::query_as("SELECT name, slug FROM cities WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((old_name, old_slug)) = before else {
        return Err(EditError::NotFound);
    };
    let taken_message = "Another city already uses this address.";
    let taken: Option<CityId> =
        sqlx::query_scalar("SELECT id FROM cities WHERE slug = $1 AND id <> $2")
            .bind(slug)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    if taken.is_some() {
        return Err(refused("slug", taken_message.into()));
    }
    let updated = sqlx::query("UPDATE cities SET name = $1, slug = $2 WHERE id = $3")
        .bind(name)
        .bind(slug)
        .bind(id)
        .execute(&mut *tx)
        .await;
    match updated {
        Err(e) if is_unique_violation(&e) => return Err(refused("slug", taken_message.into())),
        other => other?,
    };
    let summary = describe_changes(&[
        ("name", old_name, name.to_owned()),
        ("slug", old_slug, slug.to_owned()),
    ]);
    record(
        &mut tx,
        actor_user_id,
        "city.update",
        "city",
        id,
        summary,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(City {
        id,
        name: name.to_owned(),
        slug: slug.to_owned(),
    })
}

// ---------------------------------------------------------------------------------------
// Theatres

/// A theatre's editable fields.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TheatreFields {
    pub city_id: CityId,
    pub name: String,
    pub address: String,
    pub timezone: String,
}

/// One theatre by id.
pub async fn find_theatre(db: &Db, id: TheatreId) -> Result<Option<TheatreFields>, sqlx::Error> {
    let mut conn = db.reader().acquire().await?;
    load_theatre(&mut conn, id).await
}

async fn load_theatre(
    conn: &mut AnyConnection,
    id: TheatreId,
) -> Result<Option<TheatreFields>, sqlx::Error> {
    sqlx::query_as("SELECT city_id, name, address, timezone FROM theatres WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
}

/// Showtimes of a theatre that have not finished and are not cancelled.
async fn running_showtimes_at(
    conn: &mut AnyConnection,
    theatre_id: TheatreId,
    now: OffsetDateTime,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM showtimes st JOIN screens sc ON sc.id = st.screen_id \
         WHERE sc.theatre_id = $1 AND st.is_cancelled = 0 AND st.ends_at > $2",
    )
    .bind(theatre_id)
    .bind(unix(now))
    .fetch_one(&mut *conn)
    .await
}

/// Changes a theatre's city, name, address or timezone.
pub async fn update_theatre(
    db: &Db,
    actor_user_id: UserId,
    id: TheatreId,
    new: &TheatreFields,
    now: OffsetDateTime,
) -> Result<(), EditError> {
    let name = new.name.trim();
    let timezone = new.timezone.trim();
    check_theatre(name, timezone)?;
    let mut tx = db.begin_write().await?;
    let Some(old) = load_theatre(&mut tx, id).await? else {
        return Err(EditError::NotFound);
    };
    let city: Option<String> = sqlx::query_scalar("SELECT name FROM cities WHERE id = $1")
        .bind(new.city_id)
        .fetch_optional(&mut *tx)
        .await?;
    if city.is_none() {
        return Err(CatalogueError::UnknownCity.into());
    }
    if timezone != old.timezone {
        let running = running_showtimes_at(&mut tx, id, now).await?;
        if running > 0 {
            return Err(refused(
                "timezone",
                format!(
                    "The timezone cannot change while {running} showtime(s) here are still to run: \
                     their local start times would shift. Cancel them or wait until they have run."
                ),
            ));
        }
    }
    sqlx::query(
        "UPDATE theatres SET city_id = $1, name = $2, address = $3, timezone = $4 WHERE id = $5",
    )
    .bind(new.city_id)
    .bind(name)
    .bind(new.address.trim())
    .bind(timezone)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let summary = describe_changes(&[
        (
            "city",
            format!("#{}", old.city_id),
            format!("#{}", new.city_id),
        ),
        ("name", old.name, name.to_owned()),
        ("address", old.address, new.address.trim().to_owned()),
        ("timezone", old.timezone, timezone.to_owned()),
    ]);
    record(
        &mut tx,
        actor_user_id,
        "theatre.update",
        "theatre",
        id,
        summary,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Movies

/// A movie's editable fields as stored (active or not), in the shape used to create one.
pub async fn find_movie_fields(db: &Db, id: MovieId) -> Result<Option<NewMovie>, sqlx::Error> {
    let mut conn = db.reader().acquire().await?;
    load_movie(&mut conn, id).await
}

async fn load_movie(
    conn: &mut AnyConnection,
    id: MovieId,
) -> Result<Option<NewMovie>, sqlx::Error> {
    type MovieRow = (String, String, i64, String, String, Option<String>);
    let row: Option<MovieRow> = sqlx::query_as(
        "SELECT title, synopsis, runtime_minutes, certificate, release_date, trailer_url \
         FROM movies WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((title, synopsis, runtime_minutes, certificate, release_date, trailer_url)) = row
    else {
        return Ok(None);
    };
    let genres: Vec<String> =
        sqlx::query_scalar("SELECT genre FROM movie_genres WHERE movie_id = $1 ORDER BY genre")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    let languages: Vec<String> = sqlx::query_scalar(
        "SELECT language FROM movie_languages WHERE movie_id = $1 ORDER BY language",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(NewMovie {
        title,
        synopsis,
        runtime_minutes,
        certificate: Certificate::parse(&certificate).unwrap_or(Certificate::UA),
        release_date: catalogue::parse_date(&release_date).unwrap_or(Date::MIN),
        genres,
        languages,
        trailer_url,
    }))
}

/// Changes a movie's details. Its slug stays, so links already shared keep working.
pub async fn update_movie(
    db: &Db,
    actor_user_id: UserId,
    id: MovieId,
    new: &NewMovie,
    now: OffsetDateTime,
) -> Result<(), EditError> {
    new.validate().map_err(EditError::Invalid)?;
    let mut tx = db.begin_write().await?;
    let Some(old) = load_movie(&mut tx, id).await? else {
        return Err(EditError::NotFound);
    };
    let languages = clean_list(&new.languages);
    let genres = clean_list(&new.genres);
    let mut errors = FieldErrors::new();
    if new.runtime_minutes != old.runtime_minutes {
        let running: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM showtimes WHERE movie_id = $1 AND is_cancelled = 0 AND ends_at > $2",
        )
        .bind(id)
        .bind(unix(now))
        .fetch_one(&mut *tx)
        .await?;
        if running > 0 {
            errors.insert(
                "runtime_minutes".into(),
                format!(
                    "The runtime cannot change while {running} showtime(s) of this movie are still \
                     to run: their screens' timetables were planned around it."
                ),
            );
        }
    }
    let in_use: Vec<(String, i64)> = sqlx::query_as(
        "SELECT language, COUNT(*) FROM showtimes WHERE movie_id = $1 AND is_cancelled = 0 \
         AND ends_at > $2 GROUP BY language ORDER BY language",
    )
    .bind(id)
    .bind(unix(now))
    .fetch_all(&mut *tx)
    .await?;
    let dropped: Vec<String> = in_use
        .iter()
        .filter(|(language, _)| !languages.iter().any(|l| l == language))
        .map(|(language, n)| format!("{language} ({n} showtime(s))"))
        .collect();
    if !dropped.is_empty() {
        errors.insert(
            "languages".into(),
            format!(
                "Keep {}: showtimes still to run are in that language.",
                dropped.join(", ")
            ),
        );
    }
    if !errors.is_empty() {
        return Err(EditError::Invalid(errors));
    }

    let title = new.title.trim();
    let trailer = new
        .trailer_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    sqlx::query(
        "UPDATE movies SET title = $1, search_title = $2, synopsis = $3, runtime_minutes = $4, \
         certificate = $5, release_date = $6, trailer_url = $7, updated_at = $8 WHERE id = $9",
    )
    .bind(title)
    .bind(title.to_lowercase())
    .bind(new.synopsis.trim())
    .bind(new.runtime_minutes)
    .bind(new.certificate.as_str())
    .bind(new.release_date.to_string())
    .bind(trailer)
    .bind(unix(now))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    replace_tags(&mut tx, Tags::Genres, id, &genres).await?;
    replace_tags(&mut tx, Tags::Languages, id, &languages).await?;
    let synopsis_note = |text: &str| format!("{} characters", text.chars().count());
    let summary = describe_changes(&[
        ("title", old.title, title.to_owned()),
        (
            "synopsis",
            if old.synopsis == new.synopsis.trim() {
                String::new()
            } else {
                synopsis_note(&old.synopsis)
            },
            if old.synopsis == new.synopsis.trim() {
                String::new()
            } else {
                synopsis_note(new.synopsis.trim())
            },
        ),
        (
            "runtime",
            old.runtime_minutes.to_string(),
            new.runtime_minutes.to_string(),
        ),
        (
            "certificate",
            old.certificate.as_str().to_owned(),
            new.certificate.as_str().to_owned(),
        ),
        (
            "release date",
            old.release_date.to_string(),
            new.release_date.to_string(),
        ),
        ("genres", sorted_list(&old.genres), sorted_list(&genres)),
        (
            "languages",
            sorted_list(&old.languages),
            sorted_list(&languages),
        ),
        (
            "trailer",
            old.trailer_url.unwrap_or_default(),
            trailer.unwrap_or_default().to_owned(),
        ),
    ]);
    record(
        &mut tx,
        actor_user_id,
        "movie.update",
        "movie",
        id,
        summary,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The two tag lists of a movie.
#[derive(Clone, Copy)]
enum Tags {
    Genres,
    Languages,
}

/// Replaces a movie's genres or languages with `values`.
async fn replace_tags(
    conn: &mut AnyConnection,
    tags: Tags,
    movie_id: MovieId,
    values: &[String],
) -> Result<(), sqlx::Error> {
    let (delete, insert) = match tags {
        Tags::Genres => (
            "DELETE FROM movie_genres WHERE movie_id = $1",
            "INSERT INTO movie_genres (movie_id, genre) VALUES ($1, $2)",
        ),
        Tags::Languages => (
            "DELETE FROM movie_languages WHERE movie_id = $1",
            "INSERT INTO movie_languages (movie_id, language) VALUES ($1, $2)",
        ),
    };
    sqlx::query(delete)
        .bind(movie_id)
        .execute(&mut *conn)
        .await?;
    for value in values {
        sqlx::query(insert)
            .bind(movie_id)
            .bind(value)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

fn sorted_list(values: &[String]) -> String {
    let mut values = values.to_vec();
    values.sort();
    values.join(", ")
}

async fn record(
    conn: &mut AnyConnection,
    actor_user_id: UserId,
    action: &str,
    target_type: &str,
    id: impl ToString,
    summary: String,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    audit::record(
        conn,
        &NewEntry::new(Some(actor_user_id), action, target_type, id, summary),
        unix(now),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_city_is_a_field_error_not_a_missing_page() {
        match EditError::from(CatalogueError::UnknownCity) {
            EditError::Invalid(fields) => assert!(fields.contains_key("city_id")),
            other => panic!("unexpected {other:?}"),
        }
    }
}
