//! Showtimes: a movie on a screen at a time, with a price per seat category.
//!
//! Times are stored as UTC Unix seconds and shown in the theatre's own timezone. The one
//! rule of scheduling, that two running showtimes never overlap on one screen (the film
//! plus the cleaning buffer after it), is checked inside the creating transaction after
//! the screen's row is locked, so two staff members scheduling at once cannot both win.
//! Editing a showtime (`update_showtime`) runs the same checks, and is allowed only until
//! the first booking is made.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use strum::{Display, EnumString, IntoStaticStr};

use serde::Serialize;
use sqlx::AnyConnection;
use time::{Date, OffsetDateTime};
use time_tz::OffsetDateTimeExt;

use crate::db::decode::{IntBool, UnixSeconds};
use crate::db::{Db, Engine, unix};
use crate::domain::audit::{self, NewEntry};
use crate::domain::catalogue::DEFAULT_TIMEZONE;
use crate::domain::ids::{MovieId, ScreenId, SeatCategoryId, ShowtimeId, TheatreId, UserId};
use crate::domain::pricing::format_rupees;
use crate::domain::validation::FieldErrors;

/// Minutes kept free after every showtime to clean the auditorium.
pub const CLEANING_BUFFER_MINUTES: i64 = 20;

/// The highest price of one seat we accept (₹10,000), to catch a misplaced zero.
pub const MAX_PRICE_PAISE: i64 = 1_000_000;

/// How a showtime is projected, stored as its name (`showtimes.format`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, EnumString, IntoStaticStr, Display,
)]
#[strum(ascii_case_insensitive)]
pub enum Format {
    #[serde(rename = "2D")]
    #[strum(serialize = "2D")]
    TwoD,
    #[serde(rename = "3D")]
    #[strum(serialize = "3D")]
    ThreeD,
    #[serde(rename = "IMAX")]
    #[strum(serialize = "IMAX")]
    Imax,
    #[serde(rename = "4DX")]
    #[strum(serialize = "4DX")]
    FourDx,
}

impl Format {
    pub const ALL: [Format; 4] = [Self::TwoD, Self::ThreeD, Self::Imax, Self::FourDx];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// A format as typed or chosen in a form (any case, spaces around ignored).
    pub fn parse(value: &str) -> Option<Self> {
        value.trim().parse().ok()
    }
}

/// Reads a stored format; anything unknown is shown as 2D (a showtime stays listed).
impl From<String> for Format {
    fn from(stored: String) -> Self {
        Self::parse(&stored).unwrap_or(Self::TwoD)
    }
}

/// The price of one seat category for a showtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewPrice {
    pub category_id: SeatCategoryId,
    pub price_paise: i64,
}

/// A showtime to schedule. Every seat category of the screen needs a price.
#[derive(Debug, Clone)]
pub struct NewShowtime {
    pub movie_id: MovieId,
    pub screen_id: ScreenId,
    pub starts_at: OffsetDateTime,
    pub language: String,
    pub format: Format,
    pub prices: Vec<NewPrice>,
}

/// The running showtime a new one would overlap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    pub showtime_id: ShowtimeId,
    pub movie_title: String,
    pub screen_name: String,
    /// In the theatre's timezone.
    pub starts_at: OffsetDateTime,
    /// In the theatre's timezone; includes the cleaning buffer.
    pub ends_at: OffsetDateTime,
}

impl fmt::Display for Clash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is already showing \u{201c}{}\u{201d} from {} until {} (showtime {}, including cleaning)",
            self.screen_name,
            self.movie_title,
            format_local(self.starts_at),
            format_time(self.ends_at),
            self.showtime_id
        )
    }
}

/// Why a showtime could not be scheduled or changed.
#[derive(Debug, thiserror::Error)]
pub enum ShowtimeError {
    #[error("please correct the highlighted fields")]
    Invalid(FieldErrors),
    #[error("there is no such movie")]
    UnknownMovie,
    #[error("there is no such screen")]
    UnknownScreen,
    #[error("there is no such showtime")]
    UnknownShowtime,
    /// Editing is refused (cancelled, started or booked); says why.
    #[error("{0}")]
    NotEditable(String),
    #[error("{0}")]
    Overlap(Clash),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

fn invalid(field: &str, message: impl Into<String>) -> ShowtimeError {
    ShowtimeError::Invalid(FieldErrors::from([(field.to_owned(), message.into())]))
}

/// Schedules a showtime: ends at start + runtime + cleaning buffer, must start after `now`,
/// must not overlap a running showtime on the same screen, and needs a price for every
/// seat category of the screen. Returns the new showtime's id.
pub async fn create_showtime(
    db: &Db,
    new: &NewShowtime,
    now: OffsetDateTime,
) -> Result<ShowtimeId, ShowtimeError> {
    let mut tx = db.begin_write().await?;
    let id = create_showtime_in(&mut tx, new, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// `create_showtime` inside a transaction the caller owns (started with `begin_write`).
pub(crate) async fn create_showtime_in(
    conn: &mut AnyConnection,
    new: &NewShowtime,
    now: OffsetDateTime,
) -> Result<ShowtimeId, ShowtimeError> {
    let language = check_fields(new, now)?;
    let slot = check_schedule(conn, new, language, now, None).await?;
    let id: ShowtimeId = sqlx::query_scalar(
        "INSERT INTO showtimes (movie_id, screen_id, starts_at, ends_at, language, format, \
         is_cancelled, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7) RETURNING id",
    )
    .bind(new.movie_id)
    .bind(new.screen_id)
    .bind(slot.starts)
    .bind(slot.ends)
    .bind(language)
    .bind(new.format.as_str())
    .bind(unix(now))
    .fetch_one(&mut *conn)
    .await?;
    insert_prices(conn, id, &new.prices).await?;
    Ok(id)
}

/// The checks that need no database: a start after `now`, a language, and each price in
/// range and given once. Returns the trimmed language.
fn check_fields(new: &NewShowtime, now: OffsetDateTime) -> Result<&str, ShowtimeError> {
    if new.starts_at <= now {
        return Err(invalid(
            "starts_at",
            "The showtime must start in the future.",
        ));
    }
    let language = new.language.trim();
    if language.is_empty() {
        return Err(invalid("language", "Choose the language of this showtime."));
    }
    let mut seen = HashSet::new();
    for price in &new.prices {
        if !(1..=MAX_PRICE_PAISE).contains(&price.price_paise) {
            return Err(invalid(
                "prices",
                "Each price must be between ₹0.01 and ₹10,000.",
            ));
        }
        if !seen.insert(price.category_id) {
            return Err(invalid("prices", "A seat category is priced twice."));
        }
    }
    Ok(language)
}

/// Where a checked showtime sits, in Unix seconds (the end includes the cleaning buffer).
struct Slot {
    starts: i64,
    ends: i64,
}

/// The checks against the database that creating and editing share: the screen exists (its
/// row is locked), the movie exists and is shown in `language`, every seat category of the
/// screen has exactly one price, and no running showtime other than `except` overlaps.
async fn check_schedule(
    conn: &mut AnyConnection,
    new: &NewShowtime,
    language: &str,
    now: OffsetDateTime,
    except: Option<ShowtimeId>,
) -> Result<Slot, ShowtimeError> {
    // Lock the screen's row first: on PostgreSQL a second creation for this screen waits
    // here until the first commits, then sees its showtime in the overlap check. (SQLite's
    // BEGIN IMMEDIATE has already serialised all writers.)
    let locked = sqlx::query("UPDATE screens SET updated_at = $1 WHERE id = $2")
        .bind(unix(now))
        .bind(new.screen_id)
        .execute(&mut *conn)
        .await?;
    if locked.rows_affected() == 0 {
        return Err(ShowtimeError::UnknownScreen);
    }

    let runtime: Option<i64> =
        sqlx::query_scalar("SELECT runtime_minutes FROM movies WHERE id = $1")
            .bind(new.movie_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(runtime) = runtime else {
        return Err(ShowtimeError::UnknownMovie);
    };
    let speaks: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM movie_languages WHERE movie_id = $1 AND language = $2")
            .bind(new.movie_id)
            .bind(language)
            .fetch_optional(&mut *conn)
            .await?;
    if speaks.is_none() {
        return Err(invalid(
            "language",
            format!("The movie is not available in {language}."),
        ));
    }

    let categories: Vec<SeatCategoryId> =
        sqlx::query_scalar("SELECT id FROM seat_categories WHERE screen_id = $1")
            .bind(new.screen_id)
            .fetch_all(&mut *conn)
            .await?;
    let priced: HashSet<SeatCategoryId> = new.prices.iter().map(|p| p.category_id).collect();
    let expected: HashSet<SeatCategoryId> = categories.into_iter().collect();
    if priced != expected {
        return Err(invalid(
            "prices",
            "Give exactly one price for every seat category of the screen.",
        ));
    }

    let starts = unix(new.starts_at);
    let ends = starts + (runtime + CLEANING_BUFFER_MINUTES) * 60;
    // Ids start at 1, so 0 excludes nothing when creating.
    let clash: Option<ClashRow> = sqlx::query_as(
        "SELECT s.id, s.starts_at, s.ends_at, m.title, sc.name AS screen_name, t.timezone \
         FROM showtimes s \
         JOIN movies m ON m.id = s.movie_id \
         JOIN screens sc ON sc.id = s.screen_id \
         JOIN theatres t ON t.id = sc.theatre_id \
         WHERE s.screen_id = $1 AND s.is_cancelled = 0 AND s.starts_at < $3 AND s.ends_at > $2 \
         AND s.id <> $4 \
         ORDER BY s.starts_at LIMIT 1",
    )
    .bind(new.screen_id)
    .bind(starts)
    .bind(ends)
    .bind(except.map_or(0, |id| id.0))
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = clash {
        return Err(ShowtimeError::Overlap(Clash {
            showtime_id: row.id,
            movie_title: row.title,
            screen_name: row.screen_name,
            starts_at: local_time(row.starts_at, &row.timezone),
            ends_at: local_time(row.ends_at, &row.timezone),
        }));
    }
    Ok(Slot { starts, ends })
}

/// The running showtime found in the way of a new one.
#[derive(sqlx::FromRow)]
struct ClashRow {
    id: ShowtimeId,
    #[sqlx(try_from = "UnixSeconds")]
    starts_at: OffsetDateTime,
    #[sqlx(try_from = "UnixSeconds")]
    ends_at: OffsetDateTime,
    title: String,
    screen_name: String,
    timezone: String,
}

async fn insert_prices(
    conn: &mut AnyConnection,
    showtime_id: ShowtimeId,
    prices: &[NewPrice],
) -> Result<(), sqlx::Error> {
    for price in prices {
        sqlx::query(
            "INSERT INTO showtime_prices (showtime_id, category_id, price_paise) VALUES ($1, $2, $3)",
        )
        .bind(showtime_id)
        .bind(price.category_id)
        .bind(price.price_paise)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// `C ₹150.00, P ₹250.00`: a showtime's prices by category code, cheapest first.
async fn price_summary(conn: &mut AnyConnection, id: ShowtimeId) -> Result<String, sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT c.code, p.price_paise FROM showtime_prices p \
         JOIN seat_categories c ON c.id = p.category_id \
         WHERE p.showtime_id = $1 ORDER BY c.rank, c.code",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|(code, paise)| format!("{code} {}", format_rupees(*paise)))
        .collect::<Vec<_>>()
        .join(", "))
}

/// Why a showtime cannot be edited, or `None` when it can: it must be running, not yet
/// started, and have no booking other than expired holds (a booking was priced and seated
/// by what the showtime said when it was made). `lock` takes the showtime's row for the
/// rest of the transaction on PostgreSQL, so a hold (whose booking row references it) waits
/// until an edit commits; SQLite's `BEGIN IMMEDIATE` serialises writers already.
pub async fn why_not_editable(
    conn: &mut AnyConnection,
    engine: Engine,
    id: ShowtimeId,
    now: OffsetDateTime,
    lock: bool,
) -> Result<Option<String>, ShowtimeError> {
    let sql = if lock && engine == Engine::Postgres {
        "SELECT starts_at, is_cancelled FROM showtimes WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT starts_at, is_cancelled FROM showtimes WHERE id = $1"
    };
    let row: Option<(i64, i64)> = sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some((starts_at, is_cancelled)) = row else {
        return Err(ShowtimeError::UnknownShowtime);
    };
    if is_cancelled != 0 {
        return Ok(Some(
            "This showtime is cancelled, so it can no longer be edited.".into(),
        ));
    }
    if starts_at <= unix(now) {
        return Ok(Some(
            "This showtime has started, so it can no longer be edited.".into(),
        ));
    }
    let bookings: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM bookings WHERE showtime_id = $1 AND status <> 'expired'",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    if bookings > 0 {
        return Ok(Some(format!(
            "This showtime has {bookings} booking(s) (held, paid or refunded), so its movie, \
             time and prices can no longer change. Cancel it instead if it cannot go ahead."
        )));
    }
    Ok(None)
}

/// Changes a showtime's movie, start, language, format and prices (`new.screen_id` must be
/// its own screen: the prices are per category of that screen). Runs the same checks as
/// `create_showtime`, the overlap ignoring the showtime itself, while `why_not_editable`
/// has nothing to say, and records `showtime.update` by `actor_user_id` with what changed,
/// in one transaction. Returns the audit summary.
pub async fn update_showtime(
    db: &Db,
    id: ShowtimeId,
    new: &NewShowtime,
    actor_user_id: Option<UserId>,
    now: OffsetDateTime,
) -> Result<String, ShowtimeError> {
    let language = check_fields(new, now)?;
    let mut tx = db.begin_write().await?;
    if let Some(reason) = why_not_editable(&mut tx, db.engine(), id, now, true).await? {
        return Err(ShowtimeError::NotEditable(reason));
    }
    let before: ShowtimeBefore = sqlx::query_as(
        "SELECT s.screen_id, s.starts_at, s.language, s.format, m.title, t.timezone \
         FROM showtimes s JOIN movies m ON m.id = s.movie_id \
         JOIN screens sc ON sc.id = s.screen_id JOIN theatres t ON t.id = sc.theatre_id \
         WHERE s.id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    if before.screen_id != new.screen_id {
        return Err(invalid(
            "screen_id",
            "A showtime stays on its screen; cancel it and schedule a new one instead.",
        ));
    }
    let old_prices = price_summary(&mut tx, id).await?;

    let slot = check_schedule(&mut tx, new, language, now, Some(id)).await?;
    let title: String = sqlx::query_scalar("SELECT title FROM movies WHERE id = $1")
        .bind(new.movie_id)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE showtimes SET movie_id = $1, starts_at = $2, ends_at = $3, language = $4, \
         format = $5 WHERE id = $6",
    )
    .bind(new.movie_id)
    .bind(slot.starts)
    .bind(slot.ends)
    .bind(language)
    .bind(new.format.as_str())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM showtime_prices WHERE showtime_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    insert_prices(&mut tx, id, &new.prices).await?;
    let new_prices = price_summary(&mut tx, id).await?;

    let timezone = &before.timezone;
    let summary = audit::describe_changes(&[
        ("movie", before.title, title),
        (
            "starts",
            format_in_zone(before.starts_at, timezone),
            format_in_zone(new.starts_at, timezone),
        ),
        ("language", before.language, language.to_owned()),
        ("format", before.format, new.format.as_str().to_owned()),
        ("prices", old_prices, new_prices),
    ]);
    audit::record(
        &mut tx,
        &NewEntry::new(actor_user_id, "showtime.update", "showtime", id, &summary),
        unix(now),
    )
    .await?;
    tx.commit().await?;
    Ok(summary)
}

/// A showtime as it was before an edit, for the audit summary.
#[derive(sqlx::FromRow)]
struct ShowtimeBefore {
    screen_id: ScreenId,
    #[sqlx(try_from = "UnixSeconds")]
    starts_at: OffsetDateTime,
    language: String,
    /// As stored, so the summary shows exactly what changed.
    format: String,
    title: String,
    timezone: String,
}

/// Marks a showtime cancelled (its slot becomes free). Returns whether it was running.
pub async fn cancel_showtime(db: &Db, id: ShowtimeId) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE showtimes SET is_cancelled = 1 WHERE id = $1 AND is_cancelled = 0")
            .bind(id)
            .execute(db.writer())
            .await?;
    Ok(done.rows_affected() == 1)
}

/// One showtime with where and what it is, for the seat map, booking and tickets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ShowtimeDetail {
    pub id: ShowtimeId,
    pub movie_id: MovieId,
    pub movie_title: String,
    pub movie_slug: String,
    pub screen_id: ScreenId,
    pub screen_name: String,
    pub theatre_id: TheatreId,
    pub theatre_name: String,
    pub city_name: String,
    /// The theatre's IANA timezone.
    pub timezone: String,
    /// UTC; `local_starts_at()` gives the theatre's local time.
    #[serde(with = "time::serde::rfc3339")]
    #[sqlx(try_from = "UnixSeconds")]
    pub starts_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[sqlx(try_from = "UnixSeconds")]
    pub ends_at: OffsetDateTime,
    pub language: String,
    #[sqlx(try_from = "String")]
    pub format: Format,
    #[sqlx(try_from = "IntBool")]
    pub is_cancelled: bool,
}

impl ShowtimeDetail {
    pub fn local_starts_at(&self) -> OffsetDateTime {
        local_time(self.starts_at, &self.timezone)
    }

    /// `Sat 28 Nov, 7:30 PM` in the theatre's timezone.
    pub fn starts_display(&self) -> String {
        format_local(self.local_starts_at())
    }
}

/// The showtime with this id, cancelled or not.
pub async fn find_showtime(db: &Db, id: ShowtimeId) -> Result<Option<ShowtimeDetail>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id, s.movie_id, m.title AS movie_title, m.slug AS movie_slug, \
         s.screen_id, sc.name AS screen_name, t.id AS theatre_id, t.name AS theatre_name, \
         c.name AS city_name, t.timezone, s.starts_at, s.ends_at, s.language, s.format, \
         s.is_cancelled \
         FROM showtimes s \
         JOIN movies m ON m.id = s.movie_id \
         JOIN screens sc ON sc.id = s.screen_id \
         JOIN theatres t ON t.id = sc.theatre_id \
         JOIN cities c ON c.id = t.city_id \
         WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(db.reader())
    .await
}

/// The price of one seat category of a showtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CategoryPrice {
    pub category_id: SeatCategoryId,
    pub code: String,
    pub name: String,
    pub rank: i64,
    pub price_paise: i64,
}

/// The prices of a showtime, cheapest category first.
pub async fn prices_of(
    db: &Db,
    showtime_id: ShowtimeId,
) -> Result<Vec<CategoryPrice>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id AS category_id, c.code, c.name, c.rank, p.price_paise \
         FROM showtime_prices p JOIN seat_categories c ON c.id = p.category_id \
         WHERE p.showtime_id = $1 ORDER BY c.rank, c.code",
    )
    .bind(showtime_id)
    .fetch_all(db.reader())
    .await
}

/// A UTC time as the wall clock in `timezone` shows it (an unknown zone counts as
/// `DEFAULT_TIMEZONE`, the zone every theatre has unless set otherwise).
pub fn local_time(starts_at: OffsetDateTime, timezone: &str) -> OffsetDateTime {
    match time_tz::timezones::get_by_name(timezone)
        .or_else(|| time_tz::timezones::get_by_name(DEFAULT_TIMEZONE))
    {
        Some(tz) => starts_at.to_timezone(tz),
        None => starts_at,
    }
}

/// `Sat 28 Nov, 7:30 PM` (of a time already in local time).
pub fn format_local(t: OffsetDateTime) -> String {
    format!("{}, {}", format_day(t), format_time(t))
}

/// `Sat 28 Nov, 7:30 PM` for a UTC time, on the wall clock of `timezone`.
pub fn format_in_zone(at: OffsetDateTime, timezone: &str) -> String {
    format_local(local_time(at, timezone))
}

/// `7:30 PM`.
pub fn format_time(t: OffsetDateTime) -> String {
    t.format(time::macros::format_description!(
        "[hour repr:12 padding:none]:[minute] [period]"
    ))
    .unwrap_or_default()
}

/// `Sat 28 Nov`.
pub fn format_day(t: OffsetDateTime) -> String {
    format_date(t.date())
}

/// `Sat 28 Nov`.
pub fn format_date(d: Date) -> String {
    d.format(time::macros::format_description!(
        "[weekday repr:short] [day padding:none] [month repr:short]"
    ))
    .unwrap_or_default()
}

/// An upcoming showtime as the movie page and the API list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowtimeSummary {
    pub id: ShowtimeId,
    /// In the theatre's timezone.
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub language: String,
    pub format: Format,
    pub theatre_id: TheatreId,
    pub theatre_name: String,
    pub city_name: String,
    pub city_slug: String,
    pub screen_id: ScreenId,
    pub screen_name: String,
    /// Sellable seats (not blocked) minus live claims.
    pub available_seats: i64,
    /// The cheapest category's price.
    pub min_price_paise: Option<i64>,
}

impl ShowtimeSummary {
    /// `7:30 PM`.
    pub fn time_display(&self) -> String {
        format_time(self.starts_at)
    }

    /// RFC 3339 with the local offset, for `<time datetime>` and the API.
    pub fn starts_rfc3339(&self) -> String {
        self.starts_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }
}

/// Upcoming running showtimes of a movie (in one city, when given), soonest first, with
/// free seats and the lowest price, in one statement.
pub async fn upcoming_for_movie(
    db: &Db,
    movie_id: MovieId,
    city_slug: Option<&str>,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<ShowtimeSummary>, sqlx::Error> {
    let city_condition = if city_slug.is_some() {
        " AND c.slug = $3"
    } else {
        ""
    };
    // The showtimes and the capacity of their screens are computed once each, as
    // materialised steps: without statistics (a fresh database) PostgreSQL otherwise
    // re-counts the seats for every showtime row.
    let sql = format!(
        "WITH upcoming AS MATERIALIZED ( \
             SELECT s.id, s.screen_id, s.starts_at, s.ends_at, s.language, s.format \
             FROM showtimes s \
             WHERE s.movie_id = $1 AND s.is_cancelled = 0 AND s.starts_at > $2 \
         ), capacity AS MATERIALIZED ( \
             SELECT se.screen_id, COUNT(*) AS n FROM seats se \
             WHERE se.kind <> 'blocked' AND se.screen_id IN (SELECT screen_id FROM upcoming) \
             GROUP BY se.screen_id \
         ) \
         SELECT u.id, u.starts_at, u.ends_at, u.language, u.format, \
         t.id AS theatre_id, t.name AS theatre_name, t.timezone, \
         c.name AS city_name, c.slug AS city_slug, sc.id AS screen_id, sc.name AS screen_name, \
         cap.n - (SELECT COUNT(*) FROM seat_claims cl WHERE cl.showtime_id = u.id \
                  AND (cl.expires_at IS NULL OR cl.expires_at > $2)) AS available_seats, \
         (SELECT MIN(pr.price_paise) FROM showtime_prices pr WHERE pr.showtime_id = u.id) \
             AS min_price_paise \
         FROM upcoming u \
         JOIN screens sc ON sc.id = u.screen_id \
         JOIN theatres t ON t.id = sc.theatre_id \
         JOIN cities c ON c.id = t.city_id \
         JOIN capacity cap ON cap.screen_id = u.screen_id \
         WHERE 1 = 1{city_condition} \
         ORDER BY u.starts_at, t.name, u.id LIMIT {limit}",
        limit = limit.clamp(1, 2000)
    );
    let mut query = sqlx::query_as::<_, SummaryRow>(sqlx::AssertSqlSafe(sql))
        .bind(movie_id)
        .bind(unix(now));
    if let Some(city) = city_slug {
        query = query.bind(crate::domain::catalogue::lookup_text(city));
    }
    let rows = query.fetch_all(db.reader()).await?;
    Ok(rows.into_iter().map(SummaryRow::into_summary).collect())
}

/// A row of `upcoming_for_movie`: times in UTC until the theatre's timezone is applied.
#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: ShowtimeId,
    #[sqlx(try_from = "UnixSeconds")]
    starts_at: OffsetDateTime,
    #[sqlx(try_from = "UnixSeconds")]
    ends_at: OffsetDateTime,
    language: String,
    #[sqlx(try_from = "String")]
    format: Format,
    theatre_id: TheatreId,
    theatre_name: String,
    timezone: String,
    city_name: String,
    city_slug: String,
    screen_id: ScreenId,
    screen_name: String,
    available_seats: i64,
    min_price_paise: Option<i64>,
}

impl SummaryRow {
    fn into_summary(self) -> ShowtimeSummary {
        ShowtimeSummary {
            id: self.id,
            starts_at: local_time(self.starts_at, &self.timezone),
            ends_at: local_time(self.ends_at, &self.timezone),
            language: self.language,
            format: self.format,
            theatre_id: self.theatre_id,
            theatre_name: self.theatre_name,
            city_name: self.city_name,
            city_slug: self.city_slug,
            screen_id: self.screen_id,
            screen_name: self.screen_name,
            available_seats: self.available_seats.max(0),
            min_price_paise: self.min_price_paise,
        }
    }
}

/// Showtimes of one theatre on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TheatreGroup {
    pub theatre_id: TheatreId,
    pub theatre_name: String,
    pub city_name: String,
    pub showtimes: Vec<ShowtimeSummary>,
}

/// Showtimes of one local date, by theatre.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateGroup {
    pub date: Date,
    /// `Sat 28 Nov`.
    pub label: String,
    pub theatres: Vec<TheatreGroup>,
}

/// Groups showtimes by local date (ascending), then theatre (by name), each theatre's
/// showtimes by start time.
pub fn group_by_date_and_theatre(showtimes: Vec<ShowtimeSummary>) -> Vec<DateGroup> {
    let mut by_date: BTreeMap<Date, BTreeMap<(String, TheatreId), TheatreGroup>> = BTreeMap::new();
    for showtime in showtimes {
        let theatres = by_date.entry(showtime.starts_at.date()).or_default();
        let group = theatres
            .entry((showtime.theatre_name.clone(), showtime.theatre_id))
            .or_insert_with(|| TheatreGroup {
                theatre_id: showtime.theatre_id,
                theatre_name: showtime.theatre_name.clone(),
                city_name: showtime.city_name.clone(),
                showtimes: Vec::new(),
            });
        group.showtimes.push(showtime);
    }
    by_date
        .into_iter()
        .map(|(date, theatres)| DateGroup {
            date,
            label: format_date(date),
            theatres: theatres
                .into_values()
                .map(|mut group| {
                    group.showtimes.sort_by_key(|s| (s.starts_at, s.id));
                    group
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn fourteen_hundred_utc_is_half_past_seven_in_kolkata() {
        let local = local_time(datetime!(2026-11-28 14:00 UTC), "Asia/Kolkata");
        assert_eq!(format_time(local), "7:30 PM");
        assert_eq!(format_local(local), "Sat 28 Nov, 7:30 PM");
    }

    #[test]
    fn an_unknown_timezone_falls_back_to_india() {
        let local = local_time(datetime!(2026-11-28 03:00 UTC), "Mars/Olympus");
        assert_eq!(format_time(local), "8:30 AM");
    }

    #[test]
    fn other_zones_convert_too() {
        let local = local_time(datetime!(2026-07-01 12:00 UTC), "Europe/London");
        assert_eq!(format_time(local), "1:00 PM");
    }

    #[test]
    fn formats_parse_in_any_case() {
        assert_eq!(Format::parse("imax"), Some(Format::Imax));
        assert_eq!(Format::parse("4dx"), Some(Format::FourDx));
        assert_eq!(Format::parse("5D"), None);
    }

    fn summary(id: i64, theatre: &str, starts: OffsetDateTime) -> ShowtimeSummary {
        ShowtimeSummary {
            id: ShowtimeId(id),
            starts_at: local_time(starts, "Asia/Kolkata"),
            ends_at: local_time(starts, "Asia/Kolkata"),
            language: "Hindi".into(),
            format: Format::TwoD,
            theatre_id: TheatreId(theatre.len() as i64),
            theatre_name: theatre.into(),
            city_name: "Mumbai".into(),
            city_slug: "mumbai".into(),
            screen_id: ScreenId(1),
            screen_name: "Audi 1".into(),
            available_seats: 10,
            min_price_paise: Some(15000),
        }
    }

    #[test]
    fn grouping_uses_the_local_date_then_the_theatre() {
        let groups = group_by_date_and_theatre(vec![
            // 20:00 UTC on the 27th is already the 28th in Kolkata.
            summary(1, "Zenith", datetime!(2026-11-27 20:00 UTC)),
            summary(2, "Apex", datetime!(2026-11-28 10:00 UTC)),
            summary(3, "Apex", datetime!(2026-11-28 04:00 UTC)),
            summary(4, "Apex", datetime!(2026-11-27 10:00 UTC)),
        ]);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].label, "Fri 27 Nov");
        assert_eq!(groups[1].label, "Sat 28 Nov");
        let names: Vec<_> = groups[1].theatres.iter().map(|t| &t.theatre_name).collect();
        assert_eq!(names, ["Apex", "Zenith"]);
        let apex: Vec<_> = groups[1].theatres[0]
            .showtimes
            .iter()
            .map(|s| s.id.0)
            .collect();
        assert_eq!(apex, [3, 2], "by start time within a theatre");
    }
}
