//! What the staff screen pages need beyond the catalogue's own functions: the theatres to
//! choose from. Screens are created and their layouts parsed by `domain::screens`.

use crate::db::Db;
use crate::domain::ids::{ScreenId, TheatreId};

/// Every theatre as (id, "Theatre, City"), by city then name.
pub async fn theatre_choices(db: &Db) -> Result<Vec<(TheatreId, String)>, sqlx::Error> {
    let rows: Vec<(TheatreId, String, String)> = sqlx::query_as(
        "SELECT t.id, t.name, c.name FROM theatres t JOIN cities c ON c.id = t.city_id \
         ORDER BY c.name, t.name",
    )
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, theatre, city)| (id, format!("{theatre}, {city}")))
        .collect())
}

/// A screen to schedule on, with its theatre's timezone.
#[derive(Debug, Clone)]
pub struct ScreenChoice {
    pub id: ScreenId,
    pub label: String,
    pub timezone: String,
}

/// Every screen as "Theatre, City · Screen", by city, theatre and name.
pub async fn screen_choices(db: &Db) -> Result<Vec<ScreenChoice>, sqlx::Error> {
    let rows: Vec<(ScreenId, String, String, String, String)> = sqlx::query_as(
        "SELECT sc.id, sc.name, t.name, c.name, t.timezone FROM screens sc \
         JOIN theatres t ON t.id = sc.theatre_id JOIN cities c ON c.id = t.city_id \
         ORDER BY c.name, t.name, sc.name",
    )
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, screen, theatre, city, timezone)| ScreenChoice {
            id,
            label: format!("{theatre}, {city} · {screen}"),
            timezone,
        })
        .collect())
}
