//! `/admin/movies`: every movie (inactive ones too) with search, one movie with its poster
//! upload and the switch that hides it from the catalogue.
//!
//! Posters arrive as multipart forms; the CSRF token travels in the form action's query
//! string (`?csrf_token=...`, see `web::csrf`). The catalogue decides what an image is from
//! its bytes, never from the file name or the declared type, and stores only what decoding
//! and encoding it again produce (`domain::poster_image`).

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::movie_form::{MovieForm, certificates, movie_from_form};
use super::{
    ConfirmPage, PER_PAGE, Pager, confirmed, form_status, query_string, render, see_other,
};
use crate::domain::audit::{self, Filter, NewEntry};
use crate::domain::catalogue::{self, CatalogueError, MAX_POSTER_BYTES};
use crate::domain::catalogue_edit::{self, EditError};
use crate::domain::ids::MovieId;
use crate::domain::movie_admin::{self, MovieRow};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::state::AppState;
use crate::web::admin::audit::EntryRow;
use crate::web::auth::StaffUser;
use crate::web::extract::IdPath;
use crate::web::page::{Level, Page, flash};
use crate::web::pages::account::FormErrors;

/// Room for the multipart framing around the largest poster we accept, so that a slightly
/// too large image gets the clear "at most 2 MB" message rather than a bare 413.
pub const POSTER_BODY_LIMIT: usize = MAX_POSTER_BYTES + 256 * 1024;

#[derive(Debug, Deserialize, Default)]
pub struct MovieQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/movies.html")]
struct MoviesPage {
    page: Page,
    q: String,
    movies: Vec<MovieRow>,
    pager: Pager,
}

pub async fn list(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<MovieQuery>,
) -> AppResult<Response> {
    let number = super::PageNumber {
        page: q.page.clone(),
    };
    let text = q.q.trim().to_owned();
    let mut movies = movie_admin::list(&state.db, &text, PER_PAGE + 1, number.offset()).await?;
    let pager = Pager::new(
        &mut movies,
        number.number(),
        "/admin/movies",
        &query_string(&[("q", &text)]),
    );
    render(MoviesPage {
        page,
        q: text,
        movies,
        pager,
    })
}

#[derive(Template)]
#[template(path = "admin/movie.html")]
struct MoviePage {
    page: Page,
    movie: MovieRow,
    form: MovieForm,
    certificates: Vec<&'static str>,
    errors: FormErrors,
    audit: Vec<EntryRow>,
}

/// A movie's admin page; `form` is what staff typed when an edit is refused, otherwise the
/// edit form shows the stored movie.
pub(super) async fn movie_page(
    state: &AppState,
    page: Page,
    id: MovieId,
    form: Option<MovieForm>,
    errors: FieldErrors,
) -> AppResult<Response> {
    let movie = movie_admin::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = match form {
        Some(form) => form,
        None => catalogue_edit::find_movie_fields(&state.db, id)
            .await?
            .map(|m| MovieForm::from_movie(&m))
            .unwrap_or_default(),
    };
    let filter = Filter {
        target_type: "movie".into(),
        target_id: id.to_string(),
        ..Filter::default()
    };
    let audit = super::audit::rows(audit::list(&state.db, &filter, 50, 0).await?);
    let status = form_status(&errors);
    let html = render(MoviePage {
        page,
        movie,
        form,
        certificates: certificates(),
        errors: errors.into(),
        audit,
    })?;
    Ok((status, html).into_response())
}

pub async fn detail(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
    IdPath(id): IdPath<MovieId>,
) -> AppResult<Response> {
    movie_page(&state, page, id, None, FieldErrors::new()).await
}

/// `POST /admin/movies/{id}`: saves the edit form of a movie's page.
pub async fn update(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    IdPath(id): IdPath<MovieId>,
    Form(form): Form<MovieForm>,
) -> AppResult<Response> {
    let (movie, errors) = movie_from_form(&form);
    if !errors.is_empty() {
        return movie_page(&state, page, id, Some(form), errors).await;
    }
    let now = state.clock.now();
    match catalogue_edit::update_movie(&state.db, me.id, id, &movie, now).await {
        Ok(()) => {
            flash(
                &session,
                Level::Success,
                format!("{} is saved.", movie.title),
            )
            .await;
            Ok(see_other(&format!("/admin/movies/{id}")))
        }
        Err(EditError::Invalid(errors)) => movie_page(&state, page, id, Some(form), errors).await,
        Err(EditError::NotFound) => Err(AppError::NotFound),
        Err(EditError::Database(e)) => Err(e.into()),
    }
}

fn poster_error(message: &str) -> FieldErrors {
    FieldErrors::from([("poster".to_owned(), message.to_owned())])
}

/// Reads the `poster` field, refusing more than `MAX_POSTER_BYTES` + 1 bytes (enough to
/// tell "too large" apart without holding an unbounded body).
async fn read_poster(multipart: &mut Multipart) -> Result<Option<Vec<u8>>, String> {
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| format!("The upload could not be read: {}", e.body_text()))?
    {
        if field.name() != Some("poster") {
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| format!("The upload could not be read: {}", e.body_text()))?
        {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > MAX_POSTER_BYTES {
                return Err("The poster must be at most 2 MB.".into());
            }
        }
        return Ok(Some(bytes));
    }
    Ok(None)
}

pub async fn poster(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    IdPath(id): IdPath<MovieId>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let bytes = match read_poster(&mut multipart).await {
        Ok(Some(bytes)) if !bytes.is_empty() => bytes,
        Ok(_) => {
            return movie_page(
                &state,
                page,
                id,
                None,
                poster_error("Choose an image file."),
            )
            .await;
        }
        Err(message) => return movie_page(&state, page, id, None, poster_error(&message)).await,
    };
    let uploaded = bytes.len();
    // Decoding and encoding first (off the runtime, outside any transaction), then a short
    // transaction to store what came out.
    let stored = match catalogue::prepare_poster(bytes).await {
        Ok(images) => catalogue::store_poster(&state.db, id, &images, state.clock.now())
            .await
            .map(|sha| (images, sha)),
        Err(e) => Err(e),
    };
    match stored {
        Ok((images, sha)) => {
            audit::record_now(
                &state.db,
                &NewEntry::new(
                    Some(me.id),
                    "movie.poster",
                    "movie",
                    id,
                    format!(
                        "new poster: {} upload of {uploaded} bytes stored as {} {}×{}, {} bytes, sha256 {sha}",
                        images.source.content_type(),
                        images.full.content_type,
                        images.full.width,
                        images.full.height,
                        images.full.bytes.len(),
                    ),
                ),
                state.clock.unix_now(),
            )
            .await?;
            flash(&session, Level::Success, "The poster is updated.").await;
            Ok(see_other(&format!("/admin/movies/{id}")))
        }
        Err(CatalogueError::Invalid(errors)) => movie_page(&state, page, id, None, errors).await,
        Err(CatalogueError::UnknownMovie) => Err(AppError::NotFound),
        Err(CatalogueError::UnknownCity) => Err(AppError::NotFound),
        Err(CatalogueError::Database(e)) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    value: String,
    #[serde(default)]
    confirm: Option<String>,
}

pub async fn set_active(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    IdPath(id): IdPath<MovieId>,
    Form(form): Form<ActiveForm>,
) -> AppResult<Response> {
    let on = match form.value.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(AppError::bad_request("Choose on or off.")),
    };
    let movie = movie_admin::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let back = format!("/admin/movies/{id}");
    if !on && !confirmed(&form.confirm) {
        return render(ConfirmPage {
            page,
            title: format!("Deactivate {}?", movie.title),
            message: "The movie disappears from the catalogue and search; its showtimes and bookings stay.".into(),
            action: format!("{back}/active"),
            fields: vec![("value".into(), "off".into())],
            button: format!("Deactivate {}", movie.title),
            cancel: back,
        });
    }
    movie_admin::set_active(&state.db, me.id, id, on, state.clock.unix_now()).await?;
    let text = if on {
        "is back in the catalogue"
    } else {
        "is hidden from the catalogue"
    };
    flash(&session, Level::Success, format!("{} {text}.", movie.title)).await;
    Ok(see_other(&back))
}

#[derive(Template)]
#[template(path = "admin/movie_new.html")]
struct NewMoviePage {
    page: Page,
    form: MovieForm,
    certificates: Vec<&'static str>,
    errors: FormErrors,
}

pub async fn new_page(StaffUser(_): StaffUser, page: Page) -> AppResult<Response> {
    render(NewMoviePage {
        page,
        form: MovieForm {
            certificate: "UA".into(),
            ..MovieForm::default()
        },
        certificates: certificates(),
        errors: FormErrors::default(),
    })
}

pub async fn create(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    Form(form): Form<MovieForm>,
) -> AppResult<Response> {
    let (new, mut errors) = movie_from_form(&form);
    if errors.is_empty() {
        match catalogue::create_movie(&state.db, &new, state.clock.now()).await {
            Ok(movie) => {
                audit::record_now(
                    &state.db,
                    &NewEntry::new(
                        Some(me.id),
                        "movie.create",
                        "movie",
                        movie.id,
                        format!(
                            "{} ({} min, {})",
                            new.title,
                            new.runtime_minutes,
                            new.certificate.as_str()
                        ),
                    ),
                    state.clock.unix_now(),
                )
                .await?;
                flash(&session, Level::Success, format!("{} is added.", new.title)).await;
                return Ok(see_other(&format!("/admin/movies/{}", movie.id)));
            }
            Err(CatalogueError::Invalid(more)) => errors.extend(more),
            Err(CatalogueError::Database(e)) => return Err(e.into()),
            Err(_) => return Err(AppError::NotFound),
        }
    }
    let html = render(NewMoviePage {
        page,
        form,
        certificates: certificates(),
        errors: errors.into(),
    })?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
}
