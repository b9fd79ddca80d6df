//! Staff work on movies that the public catalogue does not do: list every movie (inactive
//! ones too) and switch a movie on or off. Creating movies and storing posters are the
//! catalogue's (`catalogue::create_movie`, `catalogue::set_poster`).

use crate::db::Db;
use crate::db::decode::IntBool;
use crate::db::escape_like;
use crate::domain::audit::{self, NewEntry};
use crate::domain::ids::{MovieId, UserId};

/// A movie as staff list it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MovieRow {
    pub id: MovieId,
    pub title: String,
    pub slug: String,
    pub release_date: String,
    #[sqlx(try_from = "IntBool")]
    pub is_active: bool,
    #[sqlx(try_from = "IntBool")]
    pub has_poster: bool,
}

const SELECT: &str = "SELECT id, title, slug, release_date, is_active, \
     CASE WHEN poster_id IS NULL THEN 0 ELSE 1 END AS has_poster FROM movies";

/// Movies whose title contains `q` (all when empty), newest release first.
pub async fn list(db: &Db, q: &str, limit: i64, offset: i64) -> Result<Vec<MovieRow>, sqlx::Error> {
    let sql = format!(
        "{SELECT} WHERE LOWER(title) LIKE $1 ESCAPE '\\' ORDER BY release_date DESC, id DESC LIMIT $2 OFFSET $3"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(format!("%{}%", escape_like(&q.trim().to_lowercase())))
        .bind(limit)
        .bind(offset)
        .fetch_all(db.reader())
        .await
}

/// One movie, active or not.
pub async fn find(db: &Db, id: MovieId) -> Result<Option<MovieRow>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db.writer())
        .await
}

/// Shows or hides a movie in the catalogue, with an audit entry in the same transaction.
/// Returns false when there is no such movie.
pub async fn set_active(
    db: &Db,
    actor_id: UserId,
    id: MovieId,
    on: bool,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let before: Option<(String, i64)> =
        sqlx::query_as("SELECT title, is_active FROM movies WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((title, was)) = before else {
        return Ok(false);
    };
    if (was != 0) == on {
        return Ok(true);
    }
    sqlx::query("UPDATE movies SET is_active = $1, updated_at = $2 WHERE id = $3")
        .bind(i64::from(on))
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    audit::record(
        &mut tx,
        &NewEntry::new(
            Some(actor_id),
            if on {
                "movie.activate"
            } else {
                "movie.deactivate"
            },
            "movie",
            id,
            format!(
                "{title} (is_active: {} -> {})",
                yes_no(was != 0),
                yes_no(on)
            ),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
