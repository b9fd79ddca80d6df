//! Posters: an upload is checked and turned into the renditions we keep
//! (`poster_image::process`) before any transaction opens, then stored in the database
//! (dynos have ephemeral disks) and served by `find_poster` with its hash as the ETag.

use sqlx::AnyConnection;
use time::OffsetDateTime;

use super::{CatalogueError, invalid};
use crate::db::{Db, unix};
use crate::domain::ids::{MovieId, PosterId};
use crate::domain::poster_image::{self, PosterImageError, PosterImages};

/// The largest poster we store (they are shown at most a few hundred pixels wide).
pub const MAX_POSTER_BYTES: usize = 2 * 1024 * 1024;

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
    movie_id: MovieId,
    bytes: &[u8],
    now: OffsetDateTime,
) -> Result<String, CatalogueError> {
    let images = prepare_poster(bytes.to_vec()).await?;
    store_poster(db, movie_id, &images, now).await
}

/// Stores renditions made by `prepare_poster` as the movie's poster.
pub async fn store_poster(
    db: &Db,
    movie_id: MovieId,
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
    movie_id: MovieId,
    images: &PosterImages,
    now: OffsetDateTime,
) -> Result<String, CatalogueError> {
    let exists: Option<MovieId> = sqlx::query_scalar("SELECT id FROM movies WHERE id = $1")
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
    let poster_id: PosterId = sqlx::query_scalar(
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
    movie_id: MovieId,
    size: PosterSize,
) -> Result<PosterLookup, sqlx::Error> {
    type PosterRow = (
        MovieId,
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
