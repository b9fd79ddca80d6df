//! Staff work on movies that the public catalogue does not do: list every movie (inactive
//! ones too) and switch a movie on or off. Creating movies and storing posters are the
//! catalogue's (`catalogue::create_movie`, `catalogue::set_poster`).

use sqlx::Row;

use crate::db::Db;
use crate::db::escape_like;
use crate::domain::audit::{self, NewEntry};

/// A movie as staff list it.
#[derive(Debug, Clone)]
pub struct MovieRow {
    pub id: i64,
    pub title: String,
    pub slug: String,
    pub release_date: String,
    pub is_active: bool,
    pub has_poster: bool,
}

const SELECT: &str = "SELECT id, title, slug, release_date, is_active, poster_id FROM movies";

fn from_row(r: &sqlx::any::AnyRow) -> Result<MovieRow, sqlx::Error> {
    Ok(MovieRow {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        slug: r.try_get("slug")?,
        release_date: r.try_get("release_date")?,
        is_active: r.try_get::<i64, _>("is_active")? != 0,
        has_poster: r.try_get::<Option<i64>, _>("poster_id")?.is_some(),
    })
}

/// Movies whose title contains `q` (all when empty), newest release first.
pub async fn list(db: &Db, q: &str, limit: i64, offset: i64) -> Result<Vec<MovieRow>, sqlx::Error> {
    let sql = format!(
        "{SELECT} WHERE LOWER(title) LIKE $1 ESCAPE '\\' ORDER BY release_date DESC, id DESC LIMIT $2 OFFSET $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(format!("%{}%", escape_like(&q.trim().to_lowercase())))
        .bind(limit)
        .bind(offset)
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(from_row).collect()
}

/// One movie, active or not.
pub async fn find(db: &Db, id: i64) -> Result<Option<MovieRow>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db.writer())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Shows or hides a movie in the catalogue, with an audit entry in the same transaction.
/// Returns false when there is no such movie.
pub async fn set_active(
    db: &Db,
    actor_id: i64,
    id: i64,
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
            Some(crate::domain::ids::UserId(actor_id)),
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
