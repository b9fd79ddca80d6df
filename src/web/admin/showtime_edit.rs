//! `/admin/showtimes/{id}`: change a showtime's movie, local start, language, format and
//! prices with the fields and checks of the new-showtime page (`super::showtime_new`), as
//! long as it is running, has not started and nobody has booked it; otherwise the page says
//! why and shows the values read-only. The rules are `domain::showtimes::update_showtime`'s.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use super::showtime_new::{ShowtimeFields, field_error};
use super::{render, see_other};
use crate::domain::ids::ShowtimeId;
use crate::domain::showtimes::{
    self, CategoryPrice, ShowtimeDetail, ShowtimeError, local_time, prices_of,
};
use crate::domain::venue_admin::ScreenChoice;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::state::AppState;
use crate::web::auth::StaffUser;
use crate::web::extract::IdPath;
use crate::web::page::{Level, Page, flash};

#[derive(Template)]
#[template(path = "admin/showtime_edit.html")]
struct EditPage {
    page: Page,
    show: ShowtimeDetail,
    screen: ScreenChoice,
    timezone: String,
    /// Why the showtime cannot be edited; the values are then shown read-only.
    locked: Option<String>,
    prices: Vec<CategoryPrice>,
    fields: ShowtimeFields,
}

/// `25000` paise as the rupees a staff member would type: `250`, or `250.50`.
fn rupees_input(paise: i64) -> String {
    if paise % 100 == 0 {
        (paise / 100).to_string()
    } else {
        format!("{}.{:02}", paise / 100, paise % 100)
    }
}

/// The edit page of a showtime (an unknown id is a 404), its fields holding `values` or,
/// when `None`, what is stored.
async fn page_for(
    state: &AppState,
    page: Page,
    id: ShowtimeId,
    values: Option<HashMap<String, String>>,
) -> AppResult<EditPage> {
    let show = showtimes::find_showtime(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let prices = prices_of(&state.db, id).await?;
    let locked = {
        let mut conn = state.db.reader().acquire().await?;
        match showtimes::why_not_editable(
            &mut conn,
            state.db.engine(),
            id,
            state.clock.now(),
            false,
        )
        .await
        {
            Ok(reason) => reason,
            Err(ShowtimeError::Database(e)) => return Err(e.into()),
            Err(_) => return Err(AppError::NotFound),
        }
    };
    let values = values.unwrap_or_else(|| {
        let local = local_time(show.starts_at, &show.timezone);
        let starts = local
            .format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]"
            ))
            .unwrap_or_default();
        let mut values = HashMap::from([
            ("movie_id".to_owned(), show.movie_id.to_string()),
            ("starts_at".to_owned(), starts),
            ("language".to_owned(), show.language.clone()),
            ("format".to_owned(), show.format.as_str().to_owned()),
        ]);
        for p in &prices {
            values.insert(
                format!("price_{}", p.category_id),
                rupees_input(p.price_paise),
            );
        }
        values
    });
    let mut fields = ShowtimeFields::load(state, Some(show.screen_id), values).await?;
    // A movie taken out of the catalogue stays choosable for a showtime that already has it.
    if !fields.movies.iter().any(|(id, _)| *id == show.movie_id) {
        fields
            .movies
            .insert(0, (show.movie_id, show.movie_title.clone()));
    }
    Ok(EditPage {
        page,
        screen: ScreenChoice {
            id: show.screen_id,
            label: format!(
                "{}, {} · {}",
                show.theatre_name, show.city_name, show.screen_name
            ),
            timezone: show.timezone.clone(),
        },
        timezone: show.timezone.clone(),
        show,
        locked,
        prices,
        fields,
    })
}

pub async fn edit_page(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
    IdPath(id): IdPath<ShowtimeId>,
) -> AppResult<Response> {
    render(page_for(&state, page, id, None).await?)
}

pub async fn save(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    IdPath(id): IdPath<ShowtimeId>,
    Form(values): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    let mut template = page_for(&state, page, id, Some(values)).await?;
    if template.locked.is_some() {
        return rerender(template, FieldErrors::new(), StatusCode::CONFLICT);
    }
    let mut errors = FieldErrors::new();
    let Some(new) = template.fields.read(&template.screen, &mut errors) else {
        return rerender(template, errors, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let id = template.show.id;
    let actor = Some(me.id);
    match showtimes::update_showtime(&state.db, id, &new, actor, state.clock.now()).await {
        Ok(summary) => {
            flash(
                &session,
                Level::Success,
                format!("Showtime {id} is saved ({summary})."),
            )
            .await;
            Ok(see_other(&format!("/admin/showtimes/{id}")))
        }
        // Booked, cancelled or started since the page was drawn.
        Err(ShowtimeError::NotEditable(reason)) => {
            template.locked = Some(reason);
            rerender(template, errors, StatusCode::CONFLICT)
        }
        Err(error) => {
            field_error(error, &mut errors)?;
            rerender(template, errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

fn rerender(
    mut template: EditPage,
    errors: FieldErrors,
    status: StatusCode,
) -> AppResult<Response> {
    template.fields.errors = errors.into();
    let html = render(template)?;
    Ok((status, html).into_response())
}
