//! `/admin/screens` and `/admin/screens/{id}`: every screen listed so staff can reach it,
//! and one screen edited with the same fields, checks and Preview as the create page
//! (`super::screens`). Renaming is always possible; the seats and categories change only
//! while no booking depends on them, a rule `domain::screens::update_screen` enforces.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use super::screens::{
    CheckedScreen, PreviewCell, ScreenFields, ScreenForm, check_form, field_error, preview,
};
use super::{render, see_other};
use crate::domain::ids::ScreenId;
use crate::domain::screens::{self, CategoryDef, ScreenDetail, ScreenListRow};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::auth::StaffUser;
use crate::web::extract::IdPath;
use crate::web::page::{Level, Page, flash};

#[derive(Template)]
#[template(path = "admin/screens.html")]
struct ScreensPage {
    page: Page,
    screens: Vec<ScreenListRow>,
}

pub async fn list(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
) -> AppResult<Response> {
    render(ScreensPage {
        page,
        screens: screens::list_screens(&state.db).await?,
    })
}

#[derive(Template)]
#[template(path = "admin/screen_edit.html")]
struct EditPage {
    page: Page,
    screen: ScreenDetail,
    fields: ScreenFields,
}

/// The screen of a path id; an unknown id is a 404.
async fn load(state: &AppState, id: ScreenId) -> AppResult<ScreenDetail> {
    screens::find_screen(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn edit_page(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
    IdPath(id): IdPath<ScreenId>,
) -> AppResult<Response> {
    let screen = load(&state, id).await?;
    let categories = screen
        .categories
        .iter()
        .map(|c| format!("{} {}", c.code, c.name))
        .collect::<Vec<_>>()
        .join("\n");
    let defs: Vec<CategoryDef> = screen
        .categories
        .iter()
        .filter_map(|c| Some(CategoryDef::new(c.code.chars().next()?, &c.name, c.rank)))
        .collect();
    // The stored layout was checked when it was written; a map is drawn only if it still
    // parses, so an old or hand-edited row never breaks the page.
    let seats = screens::parse_layout(&screen.layout_text, &defs).unwrap_or_default();
    let mut fields = ScreenFields::new(screen.name.clone(), categories, screen.layout_text.clone());
    fields.preview = preview(&seats, &defs);
    fields.seat_count = seats.len();
    render(EditPage {
        page,
        screen,
        fields,
    })
}

pub async fn save(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    IdPath(id): IdPath<ScreenId>,
    Form(form): Form<ScreenForm>,
) -> AppResult<Response> {
    let screen = load(&state, id).await?;
    let CheckedScreen {
        name,
        categories,
        seats,
        mut errors,
    } = check_form(&form.name, &form.categories, &form.layout);
    if errors.is_empty() && form.intent == "save" {
        match screens::update_screen(
            &state.db,
            screen.id,
            &name,
            &categories,
            &form.layout,
            Some(me.id),
            state.clock.now(),
        )
        .await
        {
            Ok(updated) => {
                flash(
                    &session,
                    Level::Success,
                    format!("Screen {name} is saved ({}).", updated.summary),
                )
                .await;
                return Ok(see_other(&format!("/admin/screens/{}", screen.id)));
            }
            Err(error) => field_error(error, &mut errors)?,
        }
    }
    let (status, fields) = ScreenFields::redrawn(form, errors, &seats, &categories);
    let html = render(EditPage {
        page,
        screen,
        fields,
    })?;
    Ok((status, html).into_response())
}
