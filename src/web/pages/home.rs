//! The home page (what is on in the visitor's city, what is coming) and the city switcher.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect};
use serde::Deserialize;
use tower_sessions::Session;

use crate::domain::catalogue::{self, City, Shelves, Slug};
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::page::{CITY_KEY, Level, Page, flash};

/// Movies per shelf on the home page.
const SHELF_SIZE: u64 = 12;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    page: Page,
    cities: Vec<City>,
    /// The visitor's city, if they chose one that still exists.
    city: Option<City>,
    shelves: Shelves,
}

/// `GET /`.
pub async fn show(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let cities = catalogue::list_cities(&state.db).await?;
    let city = page
        .city
        .as_ref()
        .and_then(|slug| cities.iter().find(|c| &c.slug == slug).cloned());
    let shelves = catalogue::shelves(
        &state.db,
        city.as_ref().map(|c| c.slug.as_str()),
        state.clock.now(),
        SHELF_SIZE,
    )
    .await?;
    let template = HomePage {
        page,
        cities,
        city,
        shelves,
    };
    Ok(Html(template.render()?))
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
    let city = match Slug::parse(choice.city.trim()) {
        Some(slug) => catalogue::find_city_by_slug(&state.db, &slug).await?,
        None => None,
    };
    match city {
        Some(city) => {
            session.insert(CITY_KEY, &city.slug).await?;
        }
        None => flash(&session, Level::Error, "We do not know that city yet.").await,
    }
    Ok(Redirect::to("/"))
}
