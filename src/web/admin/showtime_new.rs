//! `/admin/showtimes/new`: schedule a showtime in two steps that work without JavaScript:
//! pick the screen (its seat categories decide which prices are asked for), then the movie,
//! the local start time, language, format and a price per category. The overlap rule and
//! every other check are `domain::showtimes::create_showtime`'s.

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
use crate::domain::movie_admin;
use crate::domain::screens::{self, SeatCategory};
use crate::domain::showtimes::{self, Format, NewPrice, NewShowtime, ShowtimeError};
use crate::domain::venue_admin::{self, ScreenChoice};
use crate::error::{AppResult, FieldErrors};
use crate::state::AppState;
use crate::web::auth::StaffUser;
use crate::web::page::{Page, flash};
use crate::web::pages::account::FormErrors;

#[derive(Template)]
#[template(path = "admin/showtime_new.html")]
struct NewShowtimePage {
    page: Page,
    screens: Vec<ScreenChoice>,
    screen: Option<ScreenChoice>,
    movies: Vec<(i64, String)>,
    categories: Vec<SeatCategory>,
    values: HashMap<String, String>,
    errors: FormErrors,
}

impl NewShowtimePage {
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    fn price_field(&self, category_id: &i64) -> String {
        format!("price_{category_id}")
    }
}

async fn page_for(
    state: &AppState,
    page: Page,
    values: HashMap<String, String>,
    errors: FieldErrors,
) -> AppResult<NewShowtimePage> {
    let screens = venue_admin::screen_choices(&state.db).await?;
    let screen_id = values
        .get("screen_id")
        .and_then(|v| v.trim().parse::<i64>().ok());
    let screen = screens.iter().find(|s| Some(s.id) == screen_id).cloned();
    let categories = match &screen {
        Some(s) => screens::categories_of(&state.db, s.id).await?,
        None => Vec::new(),
    };
    let movies = movie_admin::list(&state.db, "", 500, 0)
        .await?
        .into_iter()
        .filter(|m| m.is_active)
        .map(|m| (m.id, m.title))
        .collect();
    Ok(NewShowtimePage {
        page,
        screens,
        screen,
        movies,
        categories,
        values,
        errors: errors.into(),
    })
}

pub async fn new_page(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
    Query(values): Query<HashMap<String, String>>,
) -> AppResult<Response> {
    render(page_for(&state, page, values, FieldErrors::new()).await?)
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
    let template = page_for(&state, page, values.clone(), FieldErrors::new()).await?;
    let mut errors = FieldErrors::new();
    let Some(screen) = template.screen.clone() else {
        errors.insert("screen_id".into(), "Choose a screen.".into());
        return rerender(template, errors);
    };
    let movie_id = template.value("movie_id").trim().parse::<i64>().ok();
    if movie_id.is_none() {
        errors.insert("movie_id".into(), "Choose a movie.".into());
    }
    let format = Format::parse(template.value("format"));
    if format.is_none() {
        errors.insert("format".into(), "Choose a format.".into());
    }
    let starts_at = parse_local(template.value("starts_at"), &screen.timezone);
    if starts_at.is_none() {
        errors.insert(
            "starts_at".into(),
            "Enter the local start like 2026-11-25T19:30.".into(),
        );
    }
    let mut prices = Vec::new();
    for category in &template.categories {
        let field = format!("price_{}", category.id);
        match parse_rupees(template.value(&field)) {
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
        return rerender(template, errors);
    };
    let new = NewShowtime {
        movie_id,
        screen_id: screen.id,
        starts_at,
        language: template.value("language").trim().to_owned(),
        format,
        prices,
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
                        "movie #{movie_id} on {} at {} ({}, {})",
                        screen.label,
                        showtimes::format_in_zone(starts_at, &screen.timezone),
                        new.language,
                        format.as_str()
                    ),
                ),
                state.clock.unix_now(),
            )
            .await?;
            flash(&session, "success", "The showtime is scheduled.").await;
            Ok(see_other("/admin/showtimes"))
        }
        Err(ShowtimeError::Invalid(more)) => {
            errors.extend(more);
            rerender(template, errors)
        }
        Err(ShowtimeError::Overlap(clash)) => {
            errors.insert("starts_at".into(), format!("{clash}."));
            rerender(template, errors)
        }
        Err(ShowtimeError::UnknownMovie) => {
            errors.insert("movie_id".into(), "Choose a movie.".into());
            rerender(template, errors)
        }
        Err(ShowtimeError::UnknownScreen) => {
            errors.insert("screen_id".into(), "Choose a screen.".into());
            rerender(template, errors)
        }
        Err(ShowtimeError::Database(e)) => Err(e.into()),
    }
}

fn rerender(mut template: NewShowtimePage, errors: FieldErrors) -> AppResult<Response> {
    template.errors = errors.into();
    let html = render(template)?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
}

/// `2026-11-25T19:30` on the wall clock of `timezone`, as a UTC time.
fn parse_local(text: &str, timezone: &str) -> Option<time::OffsetDateTime> {
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
