//! Screens and their seats, as stored: `create_screen` stores a screen with its categories
//! and the seats its layout text describes (parsed by `layout`, which needs no database),
//! and `update_screen` renames a screen or replaces its seats while no booking depends on
//! them.

mod layout;

pub use layout::{
    CategoryDef, LayoutError, MAX_COLUMNS, MAX_ROWS, MAX_SEATS, SeatKind, SeatSpec, parse_layout,
    validate_categories,
};

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::AnyConnection;
use time::OffsetDateTime;

use crate::db::{Db, unix};
use crate::domain::audit::{self, NewEntry};
use crate::domain::ids::{ScreenId, SeatCategoryId, ShowtimeId, TheatreId, UserId};

/// A stored seat category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SeatCategory {
    pub id: SeatCategoryId,
    pub code: String,
    pub name: String,
    pub rank: i64,
}

/// What `create_screen` stored.
#[derive(Debug, Clone)]
pub struct CreatedScreen {
    pub id: ScreenId,
    pub categories: Vec<SeatCategory>,
    /// Seats per category code.
    pub seats_per_category: BTreeMap<String, usize>,
    pub seat_count: usize,
}

impl CreatedScreen {
    /// The stored id of the category with this code.
    pub fn category_id(&self, code: char) -> Option<SeatCategoryId> {
        let code = code.to_string();
        self.categories
            .iter()
            .find(|c| c.code == code)
            .map(|c| c.id)
    }
}

/// Why a screen could not be created or changed.
#[derive(Debug, thiserror::Error)]
pub enum ScreenError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Layout(#[from] LayoutError),
    #[error("there is no theatre with that id")]
    UnknownTheatre,
    #[error("there is no screen with that id")]
    UnknownScreen,
    /// The seats or categories would change but showtimes of the screen have bookings,
    /// whose seats must keep meaning what they meant when they were sold.
    #[error("{0}")]
    LayoutLocked(String),
    /// A new category would leave seats of scheduled showtimes without a price.
    #[error("{0}")]
    Unpriced(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// A screen's name, trimmed, when it is one (1 to 60 characters).
fn checked_name(name: &str) -> Result<&str, ScreenError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ScreenError::Invalid(
            "a screen needs a name of at most 60 characters".into(),
        ));
    }
    Ok(name)
}

/// Seats are inserted this many to a statement (8 parameters each stays well under both
/// engines' parameter limits).
const SEAT_BATCH: usize = 100;

/// Creates a screen with its categories and seats in one transaction.
pub async fn create_screen(
    db: &Db,
    theatre_id: TheatreId,
    name: &str,
    categories: &[CategoryDef],
    layout_text: &str,
) -> Result<CreatedScreen, ScreenError> {
    let mut tx = db.begin_write().await?;
    let created = create_screen_in(&mut tx, theatre_id, name, categories, layout_text).await?;
    tx.commit().await?;
    Ok(created)
}

/// `create_screen` inside a transaction the caller owns (the demo seed uses one for all).
pub(crate) async fn create_screen_in(
    conn: &mut AnyConnection,
    theatre_id: TheatreId,
    name: &str,
    categories: &[CategoryDef],
    layout_text: &str,
) -> Result<CreatedScreen, ScreenError> {
    let name = checked_name(name)?;
    let specs = parse_layout(layout_text, categories)?;
    let theatre: Option<TheatreId> = sqlx::query_scalar("SELECT id FROM theatres WHERE id = $1")
        .bind(theatre_id)
        .fetch_optional(&mut *conn)
        .await?;
    if theatre.is_none() {
        return Err(ScreenError::UnknownTheatre);
    }
    let screen_id: ScreenId = sqlx::query_scalar(
        "INSERT INTO screens (theatre_id, name, layout_text) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(theatre_id)
    .bind(name)
    .bind(layout_text)
    .fetch_one(&mut *conn)
    .await?;

    let mut stored = Vec::with_capacity(categories.len());
    for category in categories {
        let id: SeatCategoryId = sqlx::query_scalar(
            "INSERT INTO seat_categories (screen_id, code, name, rank) VALUES ($1, $2, $3, $4) \
             RETURNING id",
        )
        .bind(screen_id)
        .bind(category.code.to_string())
        .bind(category.name.trim())
        .bind(category.rank)
        .fetch_one(&mut *conn)
        .await?;
        stored.push(SeatCategory {
            id,
            code: category.code.to_string(),
            name: category.name.trim().to_owned(),
            rank: category.rank,
        });
    }

    let per_category = insert_seats(conn, screen_id, &stored, &specs).await?;
    Ok(CreatedScreen {
        id: screen_id,
        categories: stored,
        seats_per_category: per_category,
        seat_count: specs.len(),
    })
}

/// Inserts the seats of a parsed layout for a screen whose categories are `stored`; returns
/// the number of seats per category code.
async fn insert_seats(
    conn: &mut AnyConnection,
    screen_id: ScreenId,
    stored: &[SeatCategory],
    specs: &[SeatSpec],
) -> Result<BTreeMap<String, usize>, ScreenError> {
    let mut per_category: BTreeMap<String, usize> = BTreeMap::new();
    for chunk in specs.chunks(SEAT_BATCH) {
        let mut sql = String::from(
            "INSERT INTO seats (screen_id, category_id, label, row_label, row_index, col_index, \
             number, kind) VALUES ",
        );
        for i in 0..chunk.len() {
            let p = 2 + i * 7;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "($1, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                p,
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6
            ));
        }
        // Only numbered placeholders are interpolated; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(screen_id);
        for seat in chunk {
            let code = seat.category.to_string();
            let category_id = stored
                .iter()
                .find(|c| c.code == code)
                .map(|c| c.id)
                .ok_or_else(|| ScreenError::Invalid(format!("unknown category {code}")))?;
            *per_category.entry(code).or_default() += 1;
            query = query
                .bind(category_id)
                .bind(seat.label.clone())
                .bind(seat.row_label.clone())
                .bind(seat.row_index)
                .bind(seat.col_index)
                .bind(seat.number)
                .bind(seat.kind.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(per_category)
}

/// What `update_screen` did.
#[derive(Debug, Clone)]
pub struct UpdatedScreen {
    pub seat_count: usize,
    /// Whether the seats were deleted and written anew (their ids changed).
    pub seats_replaced: bool,
    /// `name: A -> B; seats: 120 -> 130`, as recorded in the audit log.
    pub summary: String,
}

/// `code name` of each category, cheapest first, for summaries and comparisons.
fn category_list(categories: &[(String, String, i64)]) -> String {
    let mut sorted = categories.to_vec();
    sorted.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
    sorted
        .iter()
        .map(|(code, name, _)| format!("{code} {name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Renames a screen and, when its seat categories or seats differ from what is stored,
/// replaces them: categories whose code stays are updated in place, new ones are added and
/// removed ones are deleted together with their prices. The seats are replaced only when
/// no booking of any showtime of the screen exists (a sold seat must keep its place and
/// category), and a new category is refused while showtimes that have not ended could not
/// price it. Everything, and the `screen.update` audit entry by `actor_user_id`, happens in
/// one transaction, after the screen's row is locked (the lock showtime scheduling takes).
pub async fn update_screen(
    db: &Db,
    id: ScreenId,
    name: &str,
    categories: &[CategoryDef],
    layout_text: &str,
    actor_user_id: Option<UserId>,
    now: OffsetDateTime,
) -> Result<UpdatedScreen, ScreenError> {
    let name = checked_name(name)?;
    let specs = parse_layout(layout_text, categories)?;
    let mut tx = db.begin_write().await?;
    let updated = match update_screen_in(&mut tx, id, name, categories, layout_text, &specs, now)
        .await
    {
        // A hold that slipped in before the seats were deleted still references them.
        Err(ScreenError::Database(sqlx::Error::Database(e))) if e.is_foreign_key_violation() => {
            return Err(ScreenError::LayoutLocked(
                "The layout cannot change: a booking was just made on this screen.".into(),
            ));
        }
        other => other?,
    };
    audit::record(
        &mut tx,
        &NewEntry::new(
            actor_user_id,
            "screen.update",
            "screen",
            id,
            updated.summary.clone(),
        ),
        unix(now),
    )
    .await?;
    tx.commit().await?;
    Ok(updated)
}

async fn update_screen_in(
    conn: &mut AnyConnection,
    id: ScreenId,
    name: &str,
    categories: &[CategoryDef],
    layout_text: &str,
    specs: &[SeatSpec],
    now: OffsetDateTime,
) -> Result<UpdatedScreen, ScreenError> {
    let before: Option<(String,)> =
        sqlx::query_as("UPDATE screens SET updated_at = $1 WHERE id = $2 RETURNING name")
            .bind(unix(now))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((old_name,)) = before else {
        return Err(ScreenError::UnknownScreen);
    };
    let stored: Vec<SeatCategory> =
        sqlx::query_as("SELECT id, code, name, rank FROM seat_categories WHERE screen_id = $1")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    let seat_rows: Vec<StoredSeat> = sqlx::query_as(
        "SELECT s.label, s.row_label, s.row_index, s.col_index, s.number, c.code, s.kind \
         FROM seats s JOIN seat_categories c ON c.id = s.category_id \
         WHERE s.screen_id = $1 ORDER BY s.row_index, s.col_index",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let stored_seats: Vec<SeatSpec> = seat_rows.into_iter().map(StoredSeat::into_spec).collect();

    let old_categories: Vec<(String, String, i64)> = stored
        .iter()
        .map(|c| (c.code.clone(), c.name.clone(), c.rank))
        .collect();
    let new_categories: Vec<(String, String, i64)> = categories
        .iter()
        .map(|c| (c.code.to_string(), c.name.trim().to_owned(), c.rank))
        .collect();
    let seats_changed = stored_seats.as_slice() != specs;
    let categories_changed = category_list(&old_categories) != category_list(&new_categories);

    if seats_changed || categories_changed {
        let bookings: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM bookings b JOIN showtimes s ON s.id = b.showtime_id \
             WHERE s.screen_id = $1",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
        if bookings > 0 {
            return Err(ScreenError::LayoutLocked(format!(
                "The layout and seat categories cannot change: showtimes of this screen have \
                 {bookings} booking(s). Renaming the screen is still possible."
            )));
        }
        let added: Vec<&CategoryDef> = categories
            .iter()
            .filter(|c| {
                !stored
                    .iter()
                    .any(|stored| stored.code == c.code.to_string())
            })
            .collect();
        if !added.is_empty() {
            let scheduled: Vec<ShowtimeId> = sqlx::query_scalar(
                "SELECT id FROM showtimes WHERE screen_id = $1 AND is_cancelled = 0 \
                 AND ends_at > $2 ORDER BY starts_at, id",
            )
            .bind(id)
            .bind(unix(now))
            .fetch_all(&mut *conn)
            .await?;
            if !scheduled.is_empty() {
                let ids = scheduled
                    .iter()
                    .map(ShowtimeId::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                let codes = added
                    .iter()
                    .map(|c| format!("{} ({})", c.code, c.name.trim()))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(ScreenError::Unpriced(format!(
                    "Showtimes {ids} have no price for category {codes}; cancel them or keep \
                     the categories."
                )));
            }
        }
    }

    sqlx::query("UPDATE screens SET name = $1, layout_text = $2 WHERE id = $3")
        .bind(name)
        .bind(layout_text)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let mut kept = Vec::with_capacity(categories.len());
    for category in categories {
        let code = category.code.to_string();
        let existing = stored.iter().find(|c| c.code == code).map(|c| c.id);
        let category_id = match existing {
            Some(category_id) => {
                sqlx::query("UPDATE seat_categories SET name = $1, rank = $2 WHERE id = $3")
                    .bind(category.name.trim())
                    .bind(category.rank)
                    .bind(category_id)
                    .execute(&mut *conn)
                    .await?;
                category_id
            }
            None => {
                sqlx::query_scalar(
                    "INSERT INTO seat_categories (screen_id, code, name, rank) \
                     VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(id)
                .bind(&code)
                .bind(category.name.trim())
                .bind(category.rank)
                .fetch_one(&mut *conn)
                .await?
            }
        };
        kept.push(SeatCategory {
            id: category_id,
            code,
            name: category.name.trim().to_owned(),
            rank: category.rank,
        });
    }
    if seats_changed {
        sqlx::query("DELETE FROM seats WHERE screen_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        insert_seats(conn, id, &kept, specs).await?;
    }
    // Seats of a removed category were replaced above: its code cannot be in the new layout.
    for SeatCategory {
        id: category_id,
        code,
        ..
    } in &stored
    {
        if kept.iter().any(|k| k.code == *code) {
            continue;
        }
        sqlx::query("DELETE FROM showtime_prices WHERE category_id = $1")
            .bind(category_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM seat_categories WHERE id = $1")
            .bind(category_id)
            .execute(&mut *conn)
            .await?;
    }

    let mut changes = Vec::new();
    if old_name != name {
        changes.push(format!("name: {old_name} -> {name}"));
    }
    if categories_changed {
        changes.push(format!(
            "categories: {} -> {}",
            category_list(&old_categories),
            category_list(&new_categories)
        ));
    }
    if seats_changed {
        changes.push(format!("seats: {} -> {}", stored_seats.len(), specs.len()));
    }
    if changes.is_empty() {
        changes.push("no change".into());
    }
    Ok(UpdatedScreen {
        seat_count: specs.len(),
        seats_replaced: seats_changed,
        summary: changes.join("; "),
    })
}

/// A seat of a screen as stored, compared with a newly parsed layout.
#[derive(sqlx::FromRow)]
struct StoredSeat {
    label: String,
    row_label: String,
    row_index: i64,
    col_index: i64,
    number: i64,
    code: String,
    #[sqlx(try_from = "String")]
    kind: SeatKind,
}

impl StoredSeat {
    fn into_spec(self) -> SeatSpec {
        SeatSpec {
            label: self.label,
            row_label: self.row_label,
            row_index: self.row_index,
            col_index: self.col_index,
            number: self.number,
            category: self.code.chars().next().unwrap_or('?'),
            kind: self.kind,
        }
    }
}

/// A screen as the admin list shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScreenListRow {
    pub id: ScreenId,
    pub name: String,
    pub theatre_name: String,
    pub city_name: String,
    pub seat_count: i64,
}

/// Every screen with its theatre, city and number of seats, by city, theatre and name; one
/// query.
pub async fn list_screens(db: &Db) -> Result<Vec<ScreenListRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT sc.id, sc.name, t.name AS theatre_name, c.name AS city_name, \
         (SELECT COUNT(*) FROM seats se WHERE se.screen_id = sc.id) AS seat_count \
         FROM screens sc JOIN theatres t ON t.id = sc.theatre_id \
         JOIN cities c ON c.id = t.city_id ORDER BY c.name, t.name, sc.name, sc.id",
    )
    .fetch_all(db.reader())
    .await
}

/// One screen as its edit page starts from.
#[derive(Debug, Clone)]
pub struct ScreenDetail {
    pub id: ScreenId,
    pub name: String,
    /// "Theatre, City".
    pub place: String,
    pub layout_text: String,
    pub categories: Vec<SeatCategory>,
    /// Bookings (any status) of the screen's showtimes: while there are any, the layout is
    /// fixed.
    pub bookings: i64,
}

/// The screen with this id.
pub async fn find_screen(db: &Db, id: ScreenId) -> Result<Option<ScreenDetail>, sqlx::Error> {
    let row: Option<(ScreenId, String, String, String, String, i64)> = sqlx::query_as(
        "SELECT sc.id, sc.name, t.name, c.name, sc.layout_text, \
         (SELECT COUNT(*) FROM bookings b JOIN showtimes s ON s.id = b.showtime_id \
          WHERE s.screen_id = sc.id) \
         FROM screens sc JOIN theatres t ON t.id = sc.theatre_id \
         JOIN cities c ON c.id = t.city_id WHERE sc.id = $1",
    )
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    let Some((id, name, theatre, city, layout_text, bookings)) = row else {
        return Ok(None);
    };
    Ok(Some(ScreenDetail {
        id,
        name,
        place: format!("{theatre}, {city}"),
        layout_text,
        categories: categories_of(db, id).await?,
        bookings,
    }))
}

/// The categories of a screen, cheapest first.
pub async fn categories_of(db: &Db, screen_id: ScreenId) -> Result<Vec<SeatCategory>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, code, name, rank FROM seat_categories WHERE screen_id = $1 ORDER BY rank, code",
    )
    .bind(screen_id)
    .fetch_all(db.reader())
    .await
}
