//! A small world to browse: cities, theatres with one small screen, movies and showtimes
//! made through the domain, for the catalogue, scheduling and API tests.

use crate::common::catalogue::SMALL_LAYOUT;
use crate::common::{Browser, TestApp};
use moviebooking::domain::catalogue::{self, Certificate, MovieRef, NewMovie, Slug};
use moviebooking::domain::ids::{MovieId, ShowtimeId};
use moviebooking::domain::screens::{self, CategoryDef, CreatedScreen};
use moviebooking::domain::showtimes::{self, Format, NewPrice, NewShowtime};
use reqwest::StatusCode;
use time::{Date, Duration, OffsetDateTime};

pub struct Place {
    pub screen: CreatedScreen,
}

pub async fn place(app: &TestApp, city: &str, slug: &str, theatre: &str) -> Place {
    let city = match catalogue::find_city_by_slug(&app.db, &Slug::parse(slug).unwrap())
        .await
        .unwrap()
    {
        Some(city) => city,
        None => catalogue::create_city(&app.db, city, slug).await.unwrap(),
    };
    let theatre_id =
        catalogue::create_theatre(&app.db, city.id, theatre, "Somewhere", "Asia/Kolkata")
            .await
            .unwrap();
    let screen = screens::create_screen(
        &app.db,
        theatre_id,
        "Screen 1",
        &[
            CategoryDef::new('C', "Classic", 0),
            CategoryDef::new('P', "Prime", 1),
        ],
        SMALL_LAYOUT,
    )
    .await
    .unwrap();
    Place { screen }
}

pub fn new_movie(title: &str, genres: &[&str], languages: &[&str], release: Date) -> NewMovie {
    NewMovie {
        title: title.into(),
        synopsis: format!("All about {title}."),
        runtime_minutes: 120,
        certificate: Certificate::UA,
        release_date: release,
        genres: genres.iter().map(|g| (*g).to_owned()).collect(),
        languages: languages.iter().map(|l| (*l).to_owned()).collect(),
        trailer_url: Some("https://www.example.com/trailer".into()),
    }
}

pub async fn add_movie(
    app: &TestApp,
    title: &str,
    genres: &[&str],
    languages: &[&str],
) -> MovieRef {
    let now = app.state.clock.now();
    catalogue::create_movie(
        &app.db,
        &new_movie(title, genres, languages, (now - Duration::days(10)).date()),
        now,
    )
    .await
    .unwrap()
}

pub fn prices(place: &Place) -> Vec<NewPrice> {
    place
        .screen
        .categories
        .iter()
        .map(|c| NewPrice {
            category_id: c.id,
            price_paise: if c.code == "C" { 15_000 } else { 25_000 },
        })
        .collect()
}

pub fn new_showtime(
    movie_id: MovieId,
    place: &Place,
    starts_at: OffsetDateTime,
    language: &str,
) -> NewShowtime {
    NewShowtime {
        movie_id,
        screen_id: place.screen.id,
        starts_at,
        language: language.into(),
        format: Format::TwoD,
        prices: prices(place),
    }
}

pub async fn add_showtime(
    app: &TestApp,
    movie_id: MovieId,
    place: &Place,
    starts_at: OffsetDateTime,
    language: &str,
) -> ShowtimeId {
    showtimes::create_showtime(
        &app.db,
        &new_showtime(movie_id, place, starts_at, language),
        app.state.clock.now(),
    )
    .await
    .unwrap()
}

/// A UTC time on a date.
pub fn at(day: Date, hour: u8, minute: u8) -> OffsetDateTime {
    day.with_hms(hour, minute, 0).unwrap().assume_utc()
}

/// A day far enough ahead that every time on it is in the future.
pub fn test_day(app: &TestApp) -> Date {
    (app.state.clock.now() + Duration::days(3)).date()
}

/// The titles listed on an HTML movie listing, in order.
pub fn html_titles(html: &str) -> Vec<String> {
    html.split("<h3><a href=\"/movies/")
        .skip(1)
        .filter_map(|part| {
            let start = part.find("\">")? + 2;
            let end = part.find("</a></h3>")?;
            Some(part[start..end].to_owned())
        })
        .collect()
}

/// The titles the API lists for a query string (all on one page).
pub async fn api_titles(browser: &Browser, query: &str) -> Vec<String> {
    let (status, body) = browser
        .get_json(&format!("/api/v1/movies?per_page=100&{query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    let mut titles: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["title"].as_str().unwrap().to_owned())
        .collect();
    titles.sort();
    titles
}
