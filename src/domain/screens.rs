//! Screens and their seats. A screen's seats are written as a small text layout (one line per
//! row) so that staff can type or paste a floor plan; `parse_layout` turns that text into
//! seats and `create_screen` stores a screen with its categories and seats at once;
//! `update_screen` renames a screen or replaces its seats while no booking depends on them.
//!
//! # Layout text
//!
//! ```text
//! # Lines starting with '#' and blank lines are ignored.
//! A: C  C  C  _  C  C  C
//! B: Cw Cc C  _  C  C  Cx
//! C: P  P  P  _  P  P  P
//! ```
//!
//! - Each line is `ROW: SEAT SEAT ...`. The row label is 1 to 3 capital letters or digits
//!   and starts with a letter; rows are numbered top to bottom from 0 (`row_index`).
//! - A seat is a category code (one capital letter declared by the caller, e.g. `C` =
//!   Classic), optionally followed by one lower-case kind letter: `w` wheelchair space,
//!   `c` companion seat (next to a wheelchair space), `x` blocked (never sold).
//! - `_` is an aisle gap: it takes a column but is not a seat.
//! - Seat numbers count seats only, from 1 at the left; gaps are not counted. The seat
//!   label is row + number (`C7`). `col_index` is the position in the row counting gaps,
//!   so a seat map can draw aisles where they are.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Serialize;
use sqlx::AnyConnection;
use time::OffsetDateTime;

use crate::db::{Db, unix};
use crate::domain::audit::{self, NewEntry};

/// The most seats one screen may have (the largest auditoriums in India have about 900).
pub const MAX_SEATS: usize = 1000;
/// The most columns (seats plus gaps) of one row.
pub const MAX_COLUMNS: usize = 80;
/// The most rows of one screen.
pub const MAX_ROWS: usize = 60;

/// A seat category the caller declares for a screen, such as `C` = Classic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryDef {
    /// One capital letter, used in the layout text.
    pub code: char,
    pub name: String,
    /// Ordering from cheapest (0) upwards; the seat map colours categories by rank.
    pub rank: i64,
}

impl CategoryDef {
    pub fn new(code: char, name: &str, rank: i64) -> Self {
        Self {
            code,
            name: name.to_owned(),
            rank,
        }
    }
}

/// What a seat is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeatKind {
    Standard,
    Wheelchair,
    Companion,
    /// Never sold (broken, reserved for the projectionist, social distancing, ...).
    Blocked,
}

impl SeatKind {
    /// The value stored in `seats.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Wheelchair => "wheelchair",
            Self::Companion => "companion",
            Self::Blocked => "blocked",
        }
    }

    /// Reads a stored `seats.kind`; unknown values are treated as standard seats.
    pub fn from_db(value: &str) -> Self {
        match value {
            "wheelchair" => Self::Wheelchair,
            "companion" => Self::Companion,
            "blocked" => Self::Blocked,
            _ => Self::Standard,
        }
    }

    fn from_suffix(suffix: char) -> Option<Self> {
        match suffix {
            'w' => Some(Self::Wheelchair),
            'c' => Some(Self::Companion),
            'x' => Some(Self::Blocked),
            _ => None,
        }
    }
}

/// One seat as described by a layout, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatSpec {
    pub label: String,
    pub row_label: String,
    pub row_index: i64,
    pub col_index: i64,
    pub number: i64,
    /// The category code (as declared).
    pub category: char,
    pub kind: SeatKind,
}

/// Why a layout was refused. `line` is the 1-based line of the text, when one line is at
/// fault, so an editor can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutError {
    pub line: Option<usize>,
    pub message: String,
}

impl LayoutError {
    fn at(line: usize, message: impl Into<String>) -> Self {
        Self {
            line: Some(line),
            message: message.into(),
        }
    }

    fn whole(message: impl Into<String>) -> Self {
        Self {
            line: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for LayoutError {}

/// Checks the declared categories: at least one, each a distinct capital letter with a name.
pub fn validate_categories(categories: &[CategoryDef]) -> Result<(), LayoutError> {
    if categories.is_empty() {
        return Err(LayoutError::whole(
            "declare at least one seat category (e.g. C = Classic)",
        ));
    }
    let mut seen = Vec::new();
    for category in categories {
        if !category.code.is_ascii_uppercase() {
            return Err(LayoutError::whole(format!(
                "seat category code `{}` must be one capital letter (A to Z)",
                category.code
            )));
        }
        if category.name.trim().is_empty() {
            return Err(LayoutError::whole(format!(
                "seat category `{}` needs a name",
                category.code
            )));
        }
        if seen.contains(&category.code) {
            return Err(LayoutError::whole(format!(
                "seat category `{}` is declared twice",
                category.code
            )));
        }
        seen.push(category.code);
    }
    Ok(())
}

fn valid_row_label(label: &str) -> bool {
    let mut chars = label.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && label.len() <= 3
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Parses a layout text (see the module documentation for the format) against the
/// declared categories. Pure: no database, so editors can preview a layout.
pub fn parse_layout(text: &str, categories: &[CategoryDef]) -> Result<Vec<SeatSpec>, LayoutError> {
    validate_categories(categories)?;
    let declared: String = categories
        .iter()
        .map(|c| c.code.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut seats = Vec::new();
    let mut rows_seen: HashMap<String, usize> = HashMap::new();
    let mut row_index = 0i64;

    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((label, rest)) = line.split_once(':') else {
            return Err(LayoutError::at(
                line_no,
                "expected `ROW: SEATS`, for example `A: C C C _ C C C`",
            ));
        };
        let label = label.trim();
        if !valid_row_label(label) {
            return Err(LayoutError::at(
                line_no,
                format!(
                    "row label `{label}` must be 1 to 3 capital letters or digits, starting with a letter (e.g. `A` or `AA`)"
                ),
            ));
        }
        if let Some(first) = rows_seen.get(label) {
            return Err(LayoutError::at(
                line_no,
                format!("row `{label}` is already defined on line {first}"),
            ));
        }
        rows_seen.insert(label.to_owned(), line_no);
        if rows_seen.len() > MAX_ROWS {
            return Err(LayoutError::at(
                line_no,
                format!("a screen may have at most {MAX_ROWS} rows"),
            ));
        }

        let tokens: Vec<&str> = rest.split_whitespace().collect();
        if tokens.len() > MAX_COLUMNS {
            return Err(LayoutError::at(
                line_no,
                format!(
                    "row `{label}` has {} columns; at most {MAX_COLUMNS} are allowed",
                    tokens.len()
                ),
            ));
        }
        let mut number = 0i64;
        for (col, token) in tokens.iter().enumerate() {
            if *token == "_" {
                continue;
            }
            let mut chars = token.chars();
            let code = chars.next().unwrap_or('_');
            let suffix = chars.next();
            if chars.next().is_some() {
                return Err(LayoutError::at(
                    line_no,
                    format!(
                        "`{token}` is not a seat: write a category letter, optionally followed by w (wheelchair), c (companion) or x (blocked), or `_` for an aisle"
                    ),
                ));
            }
            if !categories.iter().any(|c| c.code == code) {
                let hint = if code.is_ascii_lowercase()
                    && categories
                        .iter()
                        .any(|c| c.code == code.to_ascii_uppercase())
                {
                    format!(
                        " (category codes are capital letters: did you mean `{}`?)",
                        code.to_ascii_uppercase()
                    )
                } else {
                    String::new()
                };
                return Err(LayoutError::at(
                    line_no,
                    format!(
                        "`{code}` is not a declared seat category (declared: {declared}){hint}"
                    ),
                ));
            }
            let kind = match suffix {
                None => SeatKind::Standard,
                Some(s) => SeatKind::from_suffix(s).ok_or_else(|| {
                    LayoutError::at(
                        line_no,
                        format!(
                            "`{token}` has an unknown seat kind `{s}`: use w (wheelchair), c (companion) or x (blocked)"
                        ),
                    )
                })?,
            };
            number += 1;
            seats.push(SeatSpec {
                label: format!("{label}{number}"),
                row_label: label.to_owned(),
                row_index,
                col_index: col as i64,
                number,
                category: code,
                kind,
            });
            if seats.len() > MAX_SEATS {
                return Err(LayoutError::at(
                    line_no,
                    format!("a screen may have at most {MAX_SEATS} seats"),
                ));
            }
        }
        if number == 0 {
            return Err(LayoutError::at(
                line_no,
                format!("row `{label}` has no seats"),
            ));
        }
        row_index += 1;
    }
    if seats.is_empty() {
        return Err(LayoutError::whole(
            "the layout has no rows; write one line per row, e.g. `A: C C C _ C C C`",
        ));
    }
    // Labels are row + number; two rows such as `A1` + seat 1 and `A` + seat 11 would collide.
    let mut labels: HashMap<&str, &str> = HashMap::new();
    for seat in &seats {
        if let Some(other_row) = labels.insert(&seat.label, &seat.row_label) {
            return Err(LayoutError::whole(format!(
                "seat label `{}` occurs in rows `{other_row}` and `{}`; rename one of the rows",
                seat.label, seat.row_label
            )));
        }
    }
    Ok(seats)
}

/// A stored seat category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeatCategory {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub rank: i64,
}

/// What `create_screen` stored.
#[derive(Debug, Clone)]
pub struct CreatedScreen {
    pub id: i64,
    pub categories: Vec<SeatCategory>,
    /// Seats per category code.
    pub seats_per_category: BTreeMap<String, usize>,
    pub seat_count: usize,
}

impl CreatedScreen {
    /// The stored id of the category with this code.
    pub fn category_id(&self, code: char) -> Option<i64> {
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
    theatre_id: i64,
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
    theatre_id: i64,
    name: &str,
    categories: &[CategoryDef],
    layout_text: &str,
) -> Result<CreatedScreen, ScreenError> {
    let name = checked_name(name)?;
    let specs = parse_layout(layout_text, categories)?;
    let theatre: Option<i64> = sqlx::query_scalar("SELECT id FROM theatres WHERE id = $1")
        .bind(theatre_id)
        .fetch_optional(&mut *conn)
        .await?;
    if theatre.is_none() {
        return Err(ScreenError::UnknownTheatre);
    }
    let screen_id: i64 = sqlx::query_scalar(
        "INSERT INTO screens (theatre_id, name, layout_text) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(theatre_id)
    .bind(name)
    .bind(layout_text)
    .fetch_one(&mut *conn)
    .await?;

    let mut stored = Vec::with_capacity(categories.len());
    for category in categories {
        let id: i64 = sqlx::query_scalar(
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
    screen_id: i64,
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
    id: i64,
    name: &str,
    categories: &[CategoryDef],
    layout_text: &str,
    actor_user_id: Option<i64>,
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
            actor_user_id.map(crate::domain::ids::UserId),
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
    id: i64,
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
    let stored: Vec<(i64, String, String, i64)> =
        sqlx::query_as("SELECT id, code, name, rank FROM seat_categories WHERE screen_id = $1")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    let seat_rows: Vec<(String, String, i64, i64, i64, String, String)> = sqlx::query_as(
        "SELECT s.label, s.row_label, s.row_index, s.col_index, s.number, c.code, s.kind \
         FROM seats s JOIN seat_categories c ON c.id = s.category_id \
         WHERE s.screen_id = $1 ORDER BY s.row_index, s.col_index",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let stored_seats: Vec<SeatSpec> = seat_rows
        .into_iter()
        .map(
            |(label, row_label, row_index, col_index, number, code, kind)| SeatSpec {
                label,
                row_label,
                row_index,
                col_index,
                number,
                category: code.chars().next().unwrap_or('?'),
                kind: SeatKind::from_db(&kind),
            },
        )
        .collect();

    let old_categories: Vec<(String, String, i64)> = stored
        .iter()
        .map(|(_, code, name, rank)| (code.clone(), name.clone(), *rank))
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
                    .any(|(_, code, _, _)| *code == c.code.to_string())
            })
            .collect();
        if !added.is_empty() {
            let scheduled: Vec<i64> = sqlx::query_scalar(
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
                    .map(i64::to_string)
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
        let existing = stored.iter().find(|(_, c, _, _)| *c == code).map(|r| r.0);
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
    for (category_id, code, _, _) in &stored {
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

/// A screen as the admin list shows it.
#[derive(Debug, Clone)]
pub struct ScreenListRow {
    pub id: i64,
    pub name: String,
    pub theatre_name: String,
    pub city_name: String,
    pub seat_count: i64,
}

/// Every screen with its theatre, city and number of seats, by city, theatre and name; one
/// query.
pub async fn list_screens(db: &Db) -> Result<Vec<ScreenListRow>, sqlx::Error> {
    let rows: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
        "SELECT sc.id, sc.name, t.name, c.name, \
         (SELECT COUNT(*) FROM seats se WHERE se.screen_id = sc.id) \
         FROM screens sc JOIN theatres t ON t.id = sc.theatre_id \
         JOIN cities c ON c.id = t.city_id ORDER BY c.name, t.name, sc.name, sc.id",
    )
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, theatre_name, city_name, seat_count)| ScreenListRow {
                id,
                name,
                theatre_name,
                city_name,
                seat_count,
            },
        )
        .collect())
}

/// One screen as its edit page starts from.
#[derive(Debug, Clone)]
pub struct ScreenDetail {
    pub id: i64,
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
pub async fn find_screen(db: &Db, id: i64) -> Result<Option<ScreenDetail>, sqlx::Error> {
    let row: Option<(i64, String, String, String, String, i64)> = sqlx::query_as(
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
pub async fn categories_of(db: &Db, screen_id: i64) -> Result<Vec<SeatCategory>, sqlx::Error> {
    let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
        "SELECT id, code, name, rank FROM seat_categories WHERE screen_id = $1 ORDER BY rank, code",
    )
    .bind(screen_id)
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, code, name, rank)| SeatCategory {
            id,
            code,
            name,
            rank,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cats() -> Vec<CategoryDef> {
        vec![
            CategoryDef::new('C', "Classic", 0),
            CategoryDef::new('P', "Prime", 1),
        ]
    }

    #[test]
    fn a_row_with_an_aisle_numbers_seats_and_keeps_gap_columns() {
        let seats = parse_layout("A: C C C _ C C C", &cats()).unwrap();
        assert_eq!(seats.len(), 6);
        let labels: Vec<_> = seats.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["A1", "A2", "A3", "A4", "A5", "A6"]);
        let cols: Vec<_> = seats.iter().map(|s| s.col_index).collect();
        assert_eq!(cols, [0, 1, 2, 4, 5, 6], "the aisle takes column 3");
        assert!(seats.iter().all(|s| s.row_label == "A" && s.row_index == 0));
        assert!(seats.iter().all(|s| s.kind == SeatKind::Standard));
    }

    #[test]
    fn kinds_and_categories_are_read_from_each_token() {
        let text = "# front\n\nA: Cw Cc C _ C Cx\nB: P P _ P P\n";
        let seats = parse_layout(text, &cats()).unwrap();
        assert_eq!(seats[0].kind, SeatKind::Wheelchair);
        assert_eq!(seats[1].kind, SeatKind::Companion);
        assert_eq!(seats[4].kind, SeatKind::Blocked);
        assert_eq!(seats[4].label, "A5");
        let b: Vec<_> = seats.iter().filter(|s| s.row_label == "B").collect();
        assert_eq!(b.len(), 4);
        assert!(b.iter().all(|s| s.category == 'P' && s.row_index == 1));
        assert_eq!(b[2].col_index, 3);
        assert_eq!(b[3].label, "B4");
    }

    #[test]
    fn leading_gaps_and_several_spaces_are_fine() {
        let seats = parse_layout("  AA:   _  C   C  ", &cats()).unwrap();
        assert_eq!(seats[0].label, "AA1");
        assert_eq!(seats[0].col_index, 1);
    }

    #[test]
    fn an_undeclared_category_names_the_line_and_the_declared_ones() {
        let err = parse_layout("A: C C\nB: C Z", &cats()).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert_eq!(
            err.to_string(),
            "line 2: `Z` is not a declared seat category (declared: C, P)"
        );
    }

    #[test]
    fn a_lower_case_category_gets_a_hint() {
        let err = parse_layout("A: c c", &cats()).unwrap_err();
        assert!(err.to_string().contains("did you mean `C`?"), "{err}");
    }

    #[test]
    fn an_unknown_kind_is_refused() {
        let err = parse_layout("\nA: C Cq", &cats()).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("unknown seat kind `q`"), "{err}");
        let err = parse_layout("A: Cwx", &cats()).unwrap_err();
        assert!(err.message.contains("`Cwx` is not a seat"), "{err}");
    }

    #[test]
    fn a_line_without_a_row_label_is_refused() {
        let err = parse_layout("A: C\nC C C", &cats()).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("expected `ROW: SEATS`"), "{err}");
        let err = parse_layout("a: C", &cats()).unwrap_err();
        assert!(err.message.contains("row label `a`"), "{err}");
        let err = parse_layout("ABCD: C", &cats()).unwrap_err();
        assert!(err.message.contains("row label `ABCD`"), "{err}");
    }

    #[test]
    fn duplicate_and_empty_rows_are_refused() {
        let err = parse_layout("A: C\nB: C\nA: C", &cats()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 3: row `A` is already defined on line 1"
        );
        let err = parse_layout("A: _ _", &cats()).unwrap_err();
        assert_eq!(err.to_string(), "line 1: row `A` has no seats");
        let err = parse_layout("A:", &cats()).unwrap_err();
        assert_eq!(err.line, Some(1));
    }

    #[test]
    fn an_empty_layout_is_refused() {
        let err = parse_layout("# nothing\n\n", &cats()).unwrap_err();
        assert_eq!(err.line, None);
        assert!(err.message.contains("no rows"), "{err}");
    }

    #[test]
    fn colliding_labels_are_refused() {
        let row_a = format!("A: {}", ["C"; 11].join(" "));
        let err = parse_layout(&format!("{row_a}\nA1: C"), &cats()).unwrap_err();
        assert!(err.message.contains("`A11`"), "{err}");
    }

    #[test]
    fn categories_must_be_sound() {
        assert!(parse_layout("A: C", &[]).is_err());
        let err = parse_layout("A: C", &[CategoryDef::new('c', "Classic", 0)]).unwrap_err();
        assert!(err.message.contains("capital letter"), "{err}");
        let twice = [
            CategoryDef::new('C', "Classic", 0),
            CategoryDef::new('C', "Club", 1),
        ];
        assert!(
            parse_layout("A: C", &twice)
                .unwrap_err()
                .message
                .contains("twice")
        );
        let unnamed = [CategoryDef::new('C', " ", 0)];
        assert!(
            parse_layout("A: C", &unnamed)
                .unwrap_err()
                .message
                .contains("needs a name")
        );
    }

    #[test]
    fn size_limits_are_enforced() {
        let wide = format!("A: {}", ["C"; MAX_COLUMNS + 1].join(" "));
        assert!(
            parse_layout(&wide, &cats())
                .unwrap_err()
                .message
                .contains("columns")
        );
        let row = ["C"; 50].join(" ");
        let many: String = (0..21)
            .map(|i| format!("R{i}: {row}\n"))
            .collect::<String>();
        let err = parse_layout(&many, &cats()).unwrap_err();
        assert!(err.message.contains("at most 1000 seats"), "{err}");
    }
}
