//! Cities: the first choice a moviegoer makes, and the part of a theatre's address that
//! appears in links (`/movies?city=new-delhi`).

use serde::Serialize;
use sqlx::AnyConnection;

use super::{CatalogueError, Slug, invalid, slugify};
use crate::db::Db;
use crate::domain::ids::CityId;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct City {
    pub id: CityId,
    pub name: String,
    pub slug: String,
}

pub async fn find_city_by_slug(db: &Db, slug: &Slug) -> Result<Option<City>, sqlx::Error> {
    sqlx::query_as("SELECT id, name, slug FROM cities WHERE slug = $1")
        .bind(slug.as_str())
        .fetch_optional(db.reader())
        .await
}

/// Every city, by name.
pub async fn list_cities(db: &Db) -> Result<Vec<City>, sqlx::Error> {
    sqlx::query_as("SELECT id, name, slug FROM cities ORDER BY name, id")
        .fetch_all(db.reader())
        .await
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
    let city = sqlx::query_as("SELECT id, name, slug FROM cities WHERE slug = $1")
        .bind(slug)
        .fetch_one(&mut *conn)
        .await?;
    Ok(city)
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
