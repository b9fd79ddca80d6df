//! `/admin/screens/new`: add a screen to a theatre with its seat layout typed as text. The
//! layout is parsed by `domain::screens::parse_layout` (the one parser), its mistakes are
//! shown next to the field with their line, and "Preview" draws the seat map with the same
//! markup classes as the booking page before anything is stored.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::{render, see_other};
use crate::domain::audit::{self, NewEntry};
use crate::domain::ids::TheatreId;
use crate::domain::screens::{self, CategoryDef, ScreenError, SeatKind, SeatSpec};
use crate::domain::venue_admin;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::state::AppState;
use crate::web::auth::StaffUser;
use crate::web::page::{Level, Page, flash};
use crate::web::pages::account::FormErrors;

const DEFAULT_CATEGORIES: &str = "C Classic\nP Prime";

#[derive(Debug, Deserialize, Default)]
pub struct ScreenForm {
    #[serde(default)]
    pub theatre_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub categories: String,
    #[serde(default)]
    pub layout: String,
    /// `preview`, or `create` (new screen) / `save` (edit).
    #[serde(default)]
    pub intent: String,
}

/// One cell of a previewed row.
pub enum PreviewCell {
    Gap,
    Seat {
        number: i64,
        classes: String,
        title: String,
    },
}

pub struct PreviewRow {
    pub label: String,
    pub cells: Vec<PreviewCell>,
}

/// What the create and edit pages draw of a screen form (`admin/_screen_fields.html` and
/// `admin/_seat_preview.html`): the values as typed, their errors and the seat map.
pub struct ScreenFields {
    pub name: String,
    pub categories: String,
    pub layout: String,
    pub errors: FormErrors,
    pub preview: Vec<PreviewRow>,
    pub seat_count: usize,
}

impl ScreenFields {
    /// A form with no errors showing the map of `seats`.
    pub fn new(name: String, categories: String, layout: String) -> Self {
        Self {
            name,
            categories,
            layout,
            errors: FormErrors::default(),
            preview: Vec::new(),
            seat_count: 0,
        }
    }

    /// `form` drawn again: with `errors`, 422 and no map; otherwise 200 and the map of
    /// `seats`.
    pub fn redrawn(
        form: ScreenForm,
        errors: FieldErrors,
        seats: &[SeatSpec],
        categories: &[CategoryDef],
    ) -> (StatusCode, Self) {
        let mut fields = Self::new(form.name, form.categories, form.layout);
        if errors.is_empty() {
            fields.preview = preview(seats, categories);
            fields.seat_count = seats.len();
            (StatusCode::OK, fields)
        } else {
            fields.errors = errors.into();
            (StatusCode::UNPROCESSABLE_ENTITY, fields)
        }
    }
}

#[derive(Template)]
#[template(path = "admin/screen_new.html")]
struct ScreenPage {
    page: Page,
    theatres: Vec<(TheatreId, String)>,
    theatre_id: String,
    fields: ScreenFields,
}

/// Reads `CODE Name` lines (cheapest first) into category definitions.
pub fn parse_categories(text: &str) -> Result<Vec<CategoryDef>, String> {
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let (code, name) = line.split_once(char::is_whitespace).ok_or_else(|| {
            format!(
                "Line {}: write a code and a name, like \"C Classic\".",
                i + 1
            )
        })?;
        let mut chars = code.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else {
            return Err(format!(
                "Line {}: the code must be one capital letter.",
                i + 1
            ));
        };
        out.push(CategoryDef::new(c, name.trim(), i as i64));
    }
    screens::validate_categories(&out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// What the create and edit forms share: the name, categories and layout checked, with each
/// mistake under its field (the layout is only parsed once the categories are sound).
pub struct CheckedScreen {
    pub name: String,
    pub categories: Vec<CategoryDef>,
    pub seats: Vec<SeatSpec>,
    pub errors: FieldErrors,
}

pub fn check_form(name: &str, categories: &str, layout: &str) -> CheckedScreen {
    let mut errors = FieldErrors::new();
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 60 {
        errors.insert(
            "name".into(),
            "Enter a name of at most 60 characters.".into(),
        );
    }
    let categories = match parse_categories(categories) {
        Ok(c) => c,
        Err(message) => {
            errors.insert("categories".into(), message);
            Vec::new()
        }
    };
    let mut seats = Vec::new();
    if !categories.is_empty() {
        match screens::parse_layout(layout, &categories) {
            Ok(parsed) => seats = parsed,
            Err(error) => {
                errors.insert("layout".into(), error.to_string());
            }
        }
    }
    CheckedScreen {
        name,
        categories,
        seats,
        errors,
    }
}

/// Puts a refusal of `create_screen` or `update_screen` next to the field it is about.
pub fn field_error(error: ScreenError, errors: &mut FieldErrors) -> AppResult<()> {
    let (field, message) = match error {
        ScreenError::Database(e) => return Err(e.into()),
        ScreenError::UnknownScreen => return Err(AppError::NotFound),
        ScreenError::UnknownTheatre => ("theatre_id", "Choose a theatre.".to_owned()),
        ScreenError::Invalid(message) => ("name", message),
        ScreenError::Unpriced(message) => ("categories", message),
        ScreenError::LayoutLocked(message) => ("layout", message),
        ScreenError::Layout(error) => ("layout", error.to_string()),
    };
    errors.insert(field.into(), message);
    Ok(())
}

/// Rows of the seat map drawn from parsed seats, gaps where the layout has them.
pub fn preview(seats: &[SeatSpec], categories: &[CategoryDef]) -> Vec<PreviewRow> {
    let mut rows: Vec<PreviewRow> = Vec::new();
    let mut current: Option<i64> = None;
    let mut next_col = 0;
    for seat in seats {
        if current != Some(seat.row_index) {
            rows.push(PreviewRow {
                label: seat.row_label.clone(),
                cells: Vec::new(),
            });
            current = Some(seat.row_index);
            next_col = 0;
        }
        let Some(row) = rows.last_mut() else { continue };
        while next_col < seat.col_index {
            row.cells.push(PreviewCell::Gap);
            next_col += 1;
        }
        let rank = categories
            .iter()
            .find(|c| c.code == seat.category)
            .map(|c| c.rank.min(2))
            .unwrap_or(0);
        let (state, extra) = match seat.kind {
            SeatKind::Blocked => ("seat-unavailable", ""),
            SeatKind::Wheelchair => ("seat-available", " seat-wheelchair"),
            _ => ("seat-available", ""),
        };
        let category = categories
            .iter()
            .find(|c| c.code == seat.category)
            .map(|c| c.name.clone())
            .unwrap_or_default();
        row.cells.push(PreviewCell::Seat {
            number: seat.number,
            classes: format!("seat {state} cat-{rank}{extra}"),
            title: format!("{} · {category} · {}", seat.label, seat.kind.as_str()),
        });
        next_col += 1;
    }
    rows
}

pub async fn new_page(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
) -> AppResult<Response> {
    render(ScreenPage {
        page,
        theatres: venue_admin::theatre_choices(&state.db).await?,
        theatre_id: String::new(),
        fields: ScreenFields::new(String::new(), DEFAULT_CATEGORIES.into(), String::new()),
    })
}

pub async fn create(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    Form(form): Form<ScreenForm>,
) -> AppResult<Response> {
    let CheckedScreen {
        name,
        categories,
        seats,
        mut errors,
    } = check_form(&form.name, &form.categories, &form.layout);
    let theatre_id = form.theatre_id.trim().parse::<TheatreId>().ok();
    if theatre_id.is_none() {
        errors.insert("theatre_id".into(), "Choose a theatre.".into());
    }
    if errors.is_empty()
        && form.intent == "create"
        && let Some(theatre_id) = theatre_id
    {
        match screens::create_screen(&state.db, theatre_id, &name, &categories, &form.layout).await
        {
            Ok(created) => {
                audit::record_now(
                    &state.db,
                    &NewEntry::new(
                        Some(me.id),
                        "screen.create",
                        "screen",
                        created.id,
                        format!(
                            "{name} in theatre #{theatre_id}: {} seats",
                            created.seat_count
                        ),
                    ),
                    state.clock.unix_now(),
                )
                .await?;
                flash(
                    &session,
                    Level::Success,
                    format!(
                        "Screen {name} is created with {} seats.",
                        created.seat_count
                    ),
                )
                .await;
                return Ok(see_other("/admin/screens/new"));
            }
            Err(error) => field_error(error, &mut errors)?,
        }
    }
    let theatre_id = form.theatre_id.clone();
    let (status, fields) = ScreenFields::redrawn(form, errors, &seats, &categories);
    let html = render(ScreenPage {
        page,
        theatres: venue_admin::theatre_choices(&state.db).await?,
        theatre_id,
        fields,
    })?;
    Ok((status, html).into_response())
}
