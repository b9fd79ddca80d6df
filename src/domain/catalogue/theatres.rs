//! Theatres: a city's venues, each with the timezone its showtimes are shown in.

use sqlx::AnyConnection;

use super::{CatalogueError, invalid};
use crate::db::Db;
use crate::domain::ids::{CityId, TheatreId};

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
    city_id: CityId,
    name: &str,
    address: &str,
    timezone: &str,
) -> Result<TheatreId, CatalogueError> {
    let mut conn = db.writer().acquire().await?;
    create_theatre_in(&mut conn, city_id, name, address, timezone).await
}

pub(crate) async fn create_theatre_in(
    conn: &mut AnyConnection,
    city_id: CityId,
    name: &str,
    address: &str,
    timezone: &str,
) -> Result<TheatreId, CatalogueError> {
    let name = name.trim();
    check_theatre(name, timezone)?;
    let city: Option<CityId> = sqlx::query_scalar("SELECT id FROM cities WHERE id = $1")
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
