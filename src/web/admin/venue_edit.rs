//! `/admin/cities/{id}` and `/admin/theatres/{id}`: change a city's name or slug, or a
//! theatre's city, name, address or timezone. The rules (and the audit entry) are
//! `domain::catalogue_edit`'s; a refused form comes back with the errors next to its fields
//! and what staff typed kept.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::{form_status, render, see_other};
use crate::domain::catalogue::{self, City};
use crate::domain::catalogue_edit::{self, EditError, TheatreFields};
use crate::domain::ids::{CityId, TheatreId};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::state::AppState;
use crate::web::auth::StaffUser;
use crate::web::extract::IdPath;
use crate::web::page::{Level, Page, flash};
use crate::web::pages::account::FormErrors;

// ---------------------------------------------------------------------------------------
// Cities

#[derive(Debug, Deserialize, Default)]
pub struct CityForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
}

#[derive(Template)]
#[template(path = "admin/city.html")]
struct CityPage {
    page: Page,
    city: City,
    form: CityForm,
    errors: FormErrors,
}

async fn city_page(
    state: &AppState,
    page: Page,
    id: CityId,
    form: Option<CityForm>,
    errors: FieldErrors,
) -> AppResult<Response> {
    let city = catalogue_edit::find_city(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = form.unwrap_or_else(|| CityForm {
        name: city.name.clone(),
        slug: city.slug.clone(),
    });
    let status = form_status(&errors);
    let html = render(CityPage {
        page,
        city,
        form,
        errors: errors.into(),
    })?;
    Ok((status, html).into_response())
}

pub async fn city(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
    IdPath(id): IdPath<CityId>,
) -> AppResult<Response> {
    city_page(&state, page, id, None, FieldErrors::new()).await
}

pub async fn update_city(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    IdPath(id): IdPath<CityId>,
    Form(form): Form<CityForm>,
) -> AppResult<Response> {
    let saved = catalogue_edit::update_city(
        &state.db,
        me.id,
        id,
        &form.name,
        &form.slug,
        state.clock.now(),
    )
    .await;
    match saved {
        Ok(city) => {
            flash(&session, Level::Success, format!("{} is saved.", city.name)).await;
            Ok(see_other("/admin/venues"))
        }
        Err(EditError::Invalid(errors)) => city_page(&state, page, id, Some(form), errors).await,
        Err(EditError::NotFound) => Err(AppError::NotFound),
        Err(EditError::Database(e)) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------
// Theatres

#[derive(Debug, Deserialize, Default)]
pub struct TheatreForm {
    #[serde(default)]
    city_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    timezone: String,
}

#[derive(Template)]
#[template(path = "admin/theatre.html")]
struct TheatrePage {
    page: Page,
    id: TheatreId,
    title: String,
    cities: Vec<City>,
    form: TheatreForm,
    errors: FormErrors,
}

async fn theatre_page(
    state: &AppState,
    page: Page,
    id: TheatreId,
    form: Option<TheatreForm>,
    errors: FieldErrors,
) -> AppResult<Response> {
    let theatre = catalogue_edit::find_theatre(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = form.unwrap_or_else(|| TheatreForm {
        city_id: theatre.city_id.to_string(),
        name: theatre.name.clone(),
        address: theatre.address.clone(),
        timezone: theatre.timezone.clone(),
    });
    let status = form_status(&errors);
    let html = render(TheatrePage {
        page,
        id,
        title: theatre.name,
        cities: catalogue::list_cities(&state.db).await?,
        form,
        errors: errors.into(),
    })?;
    Ok((status, html).into_response())
}

pub async fn theatre(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
    IdPath(id): IdPath<TheatreId>,
) -> AppResult<Response> {
    theatre_page(&state, page, id, None, FieldErrors::new()).await
}

pub async fn update_theatre(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    IdPath(id): IdPath<TheatreId>,
    Form(form): Form<TheatreForm>,
) -> AppResult<Response> {
    let Ok(city_id) = form.city_id.trim().parse::<CityId>() else {
        let errors = FieldErrors::from([("city_id".to_owned(), "Choose a city.".to_owned())]);
        return theatre_page(&state, page, id, Some(form), errors).await;
    };
    let fields = TheatreFields {
        city_id,
        name: form.name.clone(),
        address: form.address.clone(),
        timezone: form.timezone.clone(),
    };
    match catalogue_edit::update_theatre(&state.db, me.id, id, &fields, state.clock.now()).await {
        Ok(()) => {
            flash(
                &session,
                Level::Success,
                format!("{} is saved.", fields.name.trim()),
            )
            .await;
            Ok(see_other("/admin/venues"))
        }
        Err(EditError::Invalid(errors)) => theatre_page(&state, page, id, Some(form), errors).await,
        Err(EditError::NotFound) => Err(AppError::NotFound),
        Err(EditError::Database(e)) => Err(e.into()),
    }
}
