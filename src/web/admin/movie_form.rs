//! The movie form, shared by "add a movie" and the edit form on a movie's admin page, and
//! the edit action itself. The form holds exactly what staff typed, so a refused form comes
//! back unchanged; `movie_from_form` turns it into the catalogue's `NewMovie`, and the
//! catalogue's own rules (plus `catalogue_edit`'s rules about scheduled showtimes) decide.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use super::see_other;
use crate::domain::catalogue::{self, Certificate, NewMovie};
use crate::domain::catalogue_edit::{self, EditError};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::state::AppState;
use crate::web::auth::StaffUser;
use crate::web::page::{Level, Page, flash};

/// A movie as typed into the form.
#[derive(Debug, Deserialize, Default, Clone)]
pub struct MovieForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub synopsis: String,
    #[serde(default)]
    pub runtime_minutes: String,
    #[serde(default)]
    pub certificate: String,
    #[serde(default)]
    pub release_date: String,
    #[serde(default)]
    pub genres: String,
    #[serde(default)]
    pub languages: String,
    #[serde(default)]
    pub trailer_url: String,
}

impl MovieForm {
    /// The form filled with a stored movie.
    pub fn from_movie(movie: &NewMovie) -> Self {
        Self {
            title: movie.title.clone(),
            synopsis: movie.synopsis.clone(),
            runtime_minutes: movie.runtime_minutes.to_string(),
            certificate: movie.certificate.as_str().to_owned(),
            release_date: movie.release_date.to_string(),
            genres: movie.genres.join(", "),
            languages: movie.languages.join(", "),
            trailer_url: movie.trailer_url.clone().unwrap_or_default(),
        }
    }
}

/// Every certificate, for the form's select.
pub fn certificates() -> Vec<&'static str> {
    Certificate::ALL.iter().map(|c| c.as_str()).collect()
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The movie the form describes and every error found in it.
pub fn movie_from_form(form: &MovieForm) -> (NewMovie, FieldErrors) {
    let mut errors = FieldErrors::new();
    let runtime = form.runtime_minutes.trim().parse::<i64>().unwrap_or(0);
    let certificate = Certificate::parse(&form.certificate);
    if certificate.is_none() {
        errors.insert("certificate".into(), "Choose a certificate.".into());
    }
    let release_date = catalogue::parse_date(form.release_date.trim());
    if release_date.is_none() {
        errors.insert(
            "release_date".into(),
            "Enter a date like 2026-11-25.".into(),
        );
    }
    let new = NewMovie {
        title: form.title.trim().to_owned(),
        synopsis: form.synopsis.trim().to_owned(),
        runtime_minutes: runtime,
        certificate: certificate.unwrap_or(Certificate::UA),
        release_date: release_date.unwrap_or(time::Date::MIN),
        genres: split_list(&form.genres),
        languages: split_list(&form.languages),
        trailer_url: Some(form.trailer_url.trim().to_owned()).filter(|u| !u.is_empty()),
    };
    if let Err(more) = new.validate() {
        errors.extend(more);
    }
    (new, errors)
}

/// `POST /admin/movies/{id}`: saves the edit form of a movie's page.
pub async fn update(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    Path(id): Path<String>,
    Form(form): Form<MovieForm>,
) -> AppResult<Response> {
    let id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
    let (movie, errors) = movie_from_form(&form);
    if !errors.is_empty() {
        return super::movies::movie_page(&state, page, id, Some(form), errors).await;
    }
    match catalogue_edit::update_movie(&state.db, me.id.into(), id, &movie, state.clock.now()).await
    {
        Ok(()) => {
            flash(
                &session,
                Level::Success,
                format!("{} is saved.", movie.title),
            )
            .await;
            Ok(see_other(&format!("/admin/movies/{id}")))
        }
        Err(EditError::Invalid(errors)) => {
            super::movies::movie_page(&state, page, id, Some(form), errors).await
        }
        Err(EditError::NotFound) => Err(AppError::NotFound),
        Err(EditError::Database(e)) => Err(e.into()),
    }
}
