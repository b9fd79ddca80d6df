//! Showtimes: a movie on a screen at a time.

use sqlx::Row;
use time::OffsetDateTime;

use crate::db::{Db, from_unix};

/// A showtime with what is needed to show and book it.
#[derive(Debug, Clone)]
pub struct ShowtimeDetail {
    pub id: i64,
    pub movie_id: i64,
    pub movie_title: String,
    pub movie_slug: String,
    pub screen_id: i64,
    pub screen_name: String,
    pub theatre_id: i64,
    pub theatre_name: String,
    pub city_name: String,
    pub timezone: String,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub language: String,
    pub format: String,
    pub is_cancelled: bool,
}

pub async fn find_showtime(db: &Db, id: i64) -> Result<Option<ShowtimeDetail>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT st.id, st.movie_id, m.title, m.slug, st.screen_id, sc.name AS screen_name, \
         t.id AS theatre_id, t.name AS theatre_name, c.name AS city_name, t.timezone, \
         st.starts_at, st.ends_at, st.language, st.format, st.is_cancelled \
         FROM showtimes st JOIN movies m ON m.id = st.movie_id \
         JOIN screens sc ON sc.id = st.screen_id JOIN theatres t ON t.id = sc.theatre_id \
         JOIN cities c ON c.id = t.city_id WHERE st.id = $1",
    )
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    row.map(|r| {
        Ok(ShowtimeDetail {
            id: r.try_get("id")?,
            movie_id: r.try_get("movie_id")?,
            movie_title: r.try_get("title")?,
            movie_slug: r.try_get("slug")?,
            screen_id: r.try_get("screen_id")?,
            screen_name: r.try_get("screen_name")?,
            theatre_id: r.try_get("theatre_id")?,
            theatre_name: r.try_get("theatre_name")?,
            city_name: r.try_get("city_name")?,
            timezone: r.try_get("timezone")?,
            starts_at: from_unix(r.try_get("starts_at")?),
            ends_at: from_unix(r.try_get("ends_at")?),
            language: r.try_get("language")?,
            format: r.try_get("format")?,
            is_cancelled: r.try_get::<i64, _>("is_cancelled")? != 0,
        })
    })
    .transpose()
}

/// `at` in the theatre's time zone (UTC when the zone is unknown).
pub fn local_time(at: OffsetDateTime, timezone: &str) -> OffsetDateTime {
    use time_tz::{OffsetDateTimeExt, timezones};
    match timezones::get_by_name(timezone) {
        Some(tz) => at.to_timezone(tz),
        None => at,
    }
}

/// "Sat 28 Nov, 7:30 PM" in the theatre's time zone.
pub fn format_local(at: OffsetDateTime, timezone: &str) -> String {
    let local = local_time(at, timezone);
    let format = time::macros::format_description!(
        "[weekday repr:short] [day padding:none] [month repr:short], [hour repr:12 padding:none]:[minute] [period]"
    );
    local.format(format).unwrap_or_default()
}
