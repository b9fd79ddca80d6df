//! The home page and the city switcher.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect};
use serde::Deserialize;
use tower_sessions::Session;

use crate::domain::catalogue;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::page::{CITY_KEY, Page, flash};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    page: Page,
}

pub async fn show(page: Page) -> AppResult<Html<String>> {
    Ok(Html(HomePage { page }.render()?))
}

#[derive(Deserialize)]
pub struct CityChoice {
    city: String,
}

/// `POST /city`: remembers the visitor's city in the session.
pub async fn choose_city(
    State(state): State<AppState>,
    session: Session,
    Form(choice): Form<CityChoice>,
) -> AppResult<impl IntoResponse> {
    match catalogue::find_city_by_slug(&state.db, &choice.city).await? {
        Some(city) => {
            session.insert(CITY_KEY, &city.slug).await?;
        }
        None => flash(&session, "error", "We do not know that city yet.").await,
    }
    Ok(Redirect::to("/"))
}
