//! `/admin/venues`: the cities and theatres, and forms to add either (the catalogue's
//! `create_city` and `create_theatre` check them). Both forms share one page, so their
//! fields carry a `city_` or `theatre_` prefix.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::{form_status, render, see_other};
use crate::domain::audit::{self, NewEntry};
use crate::domain::catalogue::{self, CatalogueError, City};
use crate::domain::ids::{CityId, TheatreId};
use crate::domain::venue_admin;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::state::AppState;
use crate::web::auth::StaffUser;
use crate::web::page::{Level, Page, flash};
use crate::web::pages::account::FormErrors;

#[derive(Debug, Deserialize, Default)]
pub struct VenueForm {
    #[serde(default)]
    city_name: String,
    #[serde(default)]
    city_slug: String,
    #[serde(default)]
    theatre_city_id: String,
    #[serde(default)]
    theatre_name: String,
    #[serde(default)]
    theatre_address: String,
    #[serde(default)]
    theatre_timezone: String,
}

#[derive(Template)]
#[template(path = "admin/venues.html")]
struct VenuesPage {
    page: Page,
    cities: Vec<City>,
    theatres: Vec<(TheatreId, String)>,
    form: VenueForm,
    errors: FormErrors,
}

async fn venues_page(
    state: &AppState,
    page: Page,
    form: VenueForm,
    errors: FieldErrors,
) -> AppResult<Response> {
    let status = form_status(&errors);
    let html = render(VenuesPage {
        page,
        cities: catalogue::list_cities(&state.db).await?,
        theatres: venue_admin::theatre_choices(&state.db).await?,
        form,
        errors: errors.into(),
    })?;
    Ok((status, html).into_response())
}

pub async fn show(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
) -> AppResult<Response> {
    let form = VenueForm {
        theatre_timezone: "Asia/Kolkata".into(),
        ..VenueForm::default()
    };
    venues_page(&state, page, form, FieldErrors::new()).await
}

/// The catalogue's field errors, renamed to this page's prefixed fields.
fn prefixed(prefix: &str, errors: FieldErrors) -> FieldErrors {
    errors
        .into_iter()
        .map(|(field, message)| (format!("{prefix}_{field}"), message))
        .collect()
}

pub async fn create_city(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    Form(form): Form<VenueForm>,
) -> AppResult<Response> {
    let slug = form.city_slug.trim().to_owned();
    match catalogue::create_city(&state.db, &form.city_name, &slug).await {
        Ok(city) => {
            audit::record_now(
                &state.db,
                &NewEntry::new(
                    Some(me.id),
                    "city.create",
                    "city",
                    city.id,
                    format!("{} ({})", city.name, city.slug),
                ),
                state.clock.unix_now(),
            )
            .await?;
            flash(&session, Level::Success, format!("{} is saved.", city.name)).await;
            Ok(see_other("/admin/venues"))
        }
        Err(CatalogueError::Invalid(errors)) => {
            venues_page(&state, page, form, prefixed("city", errors)).await
        }
        Err(CatalogueError::Database(e)) => Err(e.into()),
        Err(_) => Err(AppError::NotFound),
    }
}

/// The theatre form's city is missing or unknown: the same answer either way.
fn choose_a_city() -> FieldErrors {
    FieldErrors::from([("theatre_city_id".to_owned(), "Choose a city.".to_owned())])
}

pub async fn create_theatre(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    Form(form): Form<VenueForm>,
) -> AppResult<Response> {
    let Ok(city_id) = form.theatre_city_id.trim().parse::<CityId>() else {
        return venues_page(&state, page, form, choose_a_city()).await;
    };
    let timezone = form.theatre_timezone.trim().to_owned();
    match catalogue::create_theatre(
        &state.db,
        city_id,
        &form.theatre_name,
        form.theatre_address.trim(),
        &timezone,
    )
    .await
    {
        Ok(id) => {
            audit::record_now(
                &state.db,
                &NewEntry::new(
                    Some(me.id),
                    "theatre.create",
                    "theatre",
                    id,
                    format!(
                        "{} in city #{city_id} ({timezone})",
                        form.theatre_name.trim()
                    ),
                ),
                state.clock.unix_now(),
            )
            .await?;
            flash(
                &session,
                Level::Success,
                format!("{} is saved.", form.theatre_name.trim()),
            )
            .await;
            Ok(see_other("/admin/venues"))
        }
        Err(CatalogueError::Invalid(errors)) => {
            venues_page(&state, page, form, prefixed("theatre", errors)).await
        }
        Err(CatalogueError::UnknownCity) => venues_page(&state, page, form, choose_a_city()).await,
        Err(CatalogueError::Database(e)) => Err(e.into()),
        Err(CatalogueError::UnknownMovie) => Err(AppError::NotFound),
    }
}
