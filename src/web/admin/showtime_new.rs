//! `/admin/showtimes/new`: schedule a showtime in two steps that work without JavaScript:
//! pick the screen (its seat categories decide which prices are asked for), then the movie,
//! the local start time, language, format and a price per category. The overlap rule and
//! every other check are `domain::showtimes::create_showtime`'s. The fields and their
//! reading are shared with the edit page (`super::showtime_edit`).

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use super::{render, see_other};
use crate::domain::audit::{self, NewEntry};
use crate::domain::catalogue;
use crate::domain::ids::{MovieId, ScreenId, SeatCategoryId};
use crate::domain::movie_admin;
use crate::domain::screens::{self, SeatCategory};
use crate::domain::showtimes::{self, Format, NewPrice, NewShowtime, ShowtimeError};
use crate::domain::venue_admin::{self, ScreenChoice};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::state::AppState;
use crate::web::auth::StaffUser;
use crate::web::page::{Level, Page, flash};
use crate::web::pages::account::FormErrors;

/// The form fields the new and edit pages share (movie, start, language, format, a price
/// per seat category), as typed, with their errors; `admin/_showtime_fields.html` draws them.
pub struct ShowtimeFields {
    pub movies: Vec<(MovieId, String)>,
    pub categories: Vec<SeatCategory>,
    pub values: HashMap<String, String>,
    pub errors: FormErrors,
}

impl ShowtimeFields {
    /// The active movies to choose from, the seat categories of `screen_id` and `values`.
    pub async fn load(
        state: &AppState,
        screen_id: Option<ScreenId>,
        values: HashMap<String, String>,
    ) -> AppResult<Self> {
        let categories = match screen_id {
            Some(id) => screens::categories_of(&state.db, id).await?,
            None => Vec::new(),
        };
        let movies = movie_admin::list(&state.db, "", 500, 0)
            .await?
            .into_iter()
            .filter(|m| m.is_active)
            .map(|m| (m.id, m.title))
            .collect();
        Ok(Self {
            movies,
            categories,
            values,
            errors: FormErrors::default(),
        })
    }

    pub fn value(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn price_field(&self, category_id: &SeatCategoryId) -> String {
        format!("price_{category_id}")
    }

    /// The showtime the fields describe on `screen`, or `None` with every mistake in
    /// `errors` under its field.
    pub fn read(&self, screen: &ScreenChoice, errors: &mut FieldErrors) -> Option<NewShowtime> {
        let movie_id = self.value("movie_id").trim().parse::<MovieId>().ok();
        if movie_id.is_none() {
            errors.insert("movie_id".into(), "Choose a movie.".into());
        }
        let format = Format::parse(self.value("format"));
        if format.is_none() {
            errors.insert("format".into(), "Choose a format.".into());
        }
        let starts_at = parse_local(self.value("starts_at"), &screen.timezone);
        if starts_at.is_none() {
            errors.insert(
                "starts_at".into(),
                "Enter the local start like 2026-11-25T19:30.".into(),
            );
        }
        let mut prices = Vec::new();
        for category in &self.categories {
            let field = self.price_field(&category.id);
            match parse_rupees(self.value(&field)) {
                Some(paise) => prices.push(NewPrice {
                    category_id: category.id,
                    price_paise: paise,
                }),
                None => {
                    errors.insert(
                        field,
                        format!("Enter the {} price in rupees, like 250.", category.name),
                    );
                }
            }
        }
        let (Some(movie_id), Some(format), Some(starts_at), true) =
            (movie_id, format, starts_at, errors.is_empty())
        else {
            return None;
        };
        Some(NewShowtime {
            movie_id,
            screen_id: screen.id,
            starts_at,
            language: self.value("language").trim().to_owned(),
            format,
            prices,
        })
    }
}

/// Puts a refusal of `create_showtime` or `update_showtime` next to the field it is about
/// (an unknown showtime is a 404).
pub fn field_error(error: ShowtimeError, errors: &mut FieldErrors) -> AppResult<()> {
    match error {
        ShowtimeError::Invalid(more) => errors.extend(more),
        ShowtimeError::Overlap(clash) => {
            errors.insert("starts_at".into(), format!("{clash}."));
        }
        ShowtimeError::UnknownMovie => {
            errors.insert("movie_id".into(), "Choose a movie.".into());
        }
        ShowtimeError::UnknownScreen => {
            errors.insert("screen_id".into(), "Choose a screen.".into());
        }
        ShowtimeError::NotEditable(reason) => {
            errors.insert("showtime".into(), reason);
        }
        ShowtimeError::UnknownShowtime => return Err(AppError::NotFound),
        ShowtimeError::Database(e) => return Err(e.into()),
    }
    Ok(())
}

#[derive(Template)]
#[template(path = "admin/showtime_new.html")]
struct NewShowtimePage {
    page: Page,
    screens: Vec<ScreenChoice>,
    screen: Option<ScreenChoice>,
    fields: ShowtimeFields,
}

async fn page_for(
    state: &AppState,
    page: Page,
    values: HashMap<String, String>,
) -> AppResult<NewShowtimePage> {
    let screens = venue_admin::screen_choices(&state.db).await?;
    let screen_id = values
        .get("screen_id")
        .and_then(|v| v.trim().parse::<ScreenId>().ok());
    let screen = screens.iter().find(|s| Some(s.id) == screen_id).cloned();
    let fields = ShowtimeFields::load(state, screen.as_ref().map(|s| s.id), values).await?;
    Ok(NewShowtimePage {
        page,
        screens,
        screen,
        fields,
    })
}

pub async fn new_page(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
    Query(values): Query<HashMap<String, String>>,
) -> AppResult<Response> {
    render(page_for(&state, page, values).await?)
}

/// A rupee amount like `250` or `250.50` in paise.
pub fn parse_rupees(text: &str) -> Option<i64> {
    let text = text.trim().trim_start_matches('₹').replace(',', "");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty()
        || fraction.len() > 2
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let rupees: i64 = whole.parse().ok()?;
    let paise: i64 = format!("{fraction:0<2}").parse().ok()?;
    rupees.checked_mul(100)?.checked_add(paise)
}

pub async fn create(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    Form(values): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    let template = page_for(&state, page, values).await?;
    let mut errors = FieldErrors::new();
    let Some(screen) = template.screen.clone() else {
        errors.insert("screen_id".into(), "Choose a screen.".into());
        return rerender(template, errors);
    };
    let Some(new) = template.fields.read(&screen, &mut errors) else {
        return rerender(template, errors);
    };
    match showtimes::create_showtime(&state.db, &new, state.clock.now()).await {
        Ok(id) => {
            audit::record_now(
                &state.db,
                &NewEntry::new(
                    Some(me.id),
                    "showtime.create",
                    "showtime",
                    id,
                    format!(
                        "movie #{} on {} at {} ({}, {})",
                        new.movie_id,
                        screen.label,
                        showtimes::format_in_zone(new.starts_at, &screen.timezone),
                        new.language,
                        new.format.as_str()
                    ),
                ),
                state.clock.unix_now(),
            )
            .await?;
            flash(&session, Level::Success, "The showtime is scheduled.").await;
            Ok(see_other("/admin/showtimes"))
        }
        Err(error) => {
            field_error(error, &mut errors)?;
            rerender(template, errors)
        }
    }
}

fn rerender(mut template: NewShowtimePage, errors: FieldErrors) -> AppResult<Response> {
    template.fields.errors = errors.into();
    let html = render(template)?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
}

/// `2026-11-25T19:30` on the wall clock of `timezone`, as a UTC time.
pub fn parse_local(text: &str, timezone: &str) -> Option<time::OffsetDateTime> {
    let (date, clock) = text.trim().split_once('T')?;
    let date = catalogue::parse_date(date)?;
    let (hour, minute) = clock.split_once(':')?;
    let (hour, minute): (i64, i64) = (hour.parse().ok()?, minute.get(..2)?.parse().ok()?);
    if !(0..24).contains(&hour) || !(0..60).contains(&minute) {
        return None;
    }
    let (midnight, _) = catalogue::local_day_bounds(date, timezone);
    time::OffsetDateTime::from_unix_timestamp(midnight + hour * 3600 + minute * 60).ok()
}
