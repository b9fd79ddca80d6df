//! A screen's layout text, parsed. Seats are written as a small text layout (one line per
//! row) so that staff can type or paste a floor plan; `parse_layout` turns that text into
//! seats. Pure: no database, so editors can preview a layout and the rules are unit-tested
//! here; storing the result is the parent module's job.
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

use std::collections::HashMap;
use std::fmt;
use strum::{Display, EnumString, IntoStaticStr};

use serde::Serialize;

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

/// What a seat is for, stored as its lower-case name (`seats.kind`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, EnumString, IntoStaticStr, Display,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum SeatKind {
    Standard,
    Wheelchair,
    Companion,
    /// Never sold (broken, reserved for the projectionist, social distancing, ...).
    Blocked,
}

crate::text_enum!(SeatKind);

impl SeatKind {
    /// The value stored in `seats.kind`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The kind letter that follows a category code in the layout text.
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
    fn seat_kinds_read_back_what_is_stored() {
        for kind in [
            SeatKind::Standard,
            SeatKind::Wheelchair,
            SeatKind::Companion,
            SeatKind::Blocked,
        ] {
            assert_eq!(SeatKind::try_from(kind.as_str().to_owned()), Ok(kind));
        }
        assert_eq!(SeatKind::Blocked.as_str(), "blocked");
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
