//! The catalogue: cities, theatres and movies.

use serde::Serialize;

use crate::db::Db;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct City {
    pub id: i64,
    pub name: String,
    pub slug: String,
}

pub async fn find_city_by_slug(db: &Db, slug: &str) -> Result<Option<City>, sqlx::Error> {
    let row: Option<(i64, String, String)> =
        sqlx::query_as("SELECT id, name, slug FROM cities WHERE slug = $1")
            .bind(slug)
            .fetch_optional(db.reader())
            .await?;
    Ok(row.map(|(id, name, slug)| City { id, name, slug }))
}
