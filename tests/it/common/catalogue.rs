//! Catalogue fixtures for any test that needs something to book: a small showtime with a
//! known seat layout, or the whole demo catalogue.

use std::sync::atomic::{AtomicUsize, Ordering};

use moviebooking::domain::catalogue::{self, Certificate, NewMovie};
use moviebooking::domain::screens::{self, CategoryDef};
use moviebooking::domain::showtimes::{self, Format, NewPrice, NewShowtime};
use moviebooking::seed::SeedReport;
use time::{Duration, OffsetDateTime};

use super::TestApp;

/// The layout of the fixture screen: 3 rows of 10 seats with an aisle after seat 5;
/// rows A and B are Classic, row C is Prime.
pub const SMALL_LAYOUT: &str = "A: C C C C C _ C C C C C\n\
                                B: C C C C C _ C C C C C\n\
                                C: P P P P P _ P P P P P";

/// Prices of the fixture showtime, in paise.
pub const CLASSIC_PAISE: i64 = 15_000;
pub const PRIME_PAISE: i64 = 25_000;

/// What `seed_small_showtime` created.
#[derive(Debug, Clone)]
pub struct ShowtimeFixture {
    pub city_id: i64,
    pub city_slug: String,
    pub theatre_id: i64,
    pub screen_id: i64,
    pub movie_id: i64,
    pub movie_slug: String,
    pub showtime_id: i64,
    /// UTC.
    pub starts_at: OffsetDateTime,
    pub classic_category_id: i64,
    pub prime_category_id: i64,
    /// All 30 seat ids, row by row, left to right (A1..A10, B1..B10, C1..C10).
    pub seat_ids: Vec<i64>,
    /// The labels of `seat_ids`, in the same order.
    pub seat_labels: Vec<String>,
}

impl ShowtimeFixture {
    /// The id of the seat with this label (`"B7"`).
    pub fn seat(&self, label: &str) -> i64 {
        let i = self
            .seat_labels
            .iter()
            .position(|l| l == label)
            .unwrap_or_else(|| panic!("no seat {label} in the fixture"));
        self.seat_ids[i]
    }
}

static FIXTURES: AtomicUsize = AtomicUsize::new(0);

/// A unique suffix so that several fixtures can live in one database.
fn next_suffix() -> usize {
    FIXTURES.fetch_add(1, Ordering::Relaxed) + 1
}

/// Creates a city, a theatre (Asia/Kolkata), a 30-seat screen (`SMALL_LAYOUT`), a movie in
/// Hindi and English and one 2D Hindi showtime starting two days from the app's clock, with
/// Classic at `CLASSIC_PAISE` and Prime at `PRIME_PAISE`. Call it as often as you like.
pub async fn seed_small_showtime(app: &TestApp) -> ShowtimeFixture {
    let n = next_suffix();
    let db = &app.db;
    let now = app.state.clock.now();
    let city_slug = format!("fixture-city-{n}");
    let city = catalogue::create_city(db, &format!("Fixture City {n}"), &city_slug)
        .await
        .expect("create city");
    let theatre_id = catalogue::create_theatre(
        db,
        city.id,
        &format!("Fixture Talkies {n}"),
        "1 Main Road",
        "Asia/Kolkata",
    )
    .await
    .expect("create theatre");
    let screen = screens::create_screen(
        db,
        theatre_id,
        "Screen 1",
        &[
            CategoryDef::new('C', "Classic", 0),
            CategoryDef::new('P', "Prime", 1),
        ],
        SMALL_LAYOUT,
    )
    .await
    .expect("create screen");
    let movie = catalogue::create_movie(
        db,
        &NewMovie {
            title: format!("Fixture Movie {n}"),
            synopsis: "A movie made for tests.".into(),
            runtime_minutes: 120,
            certificate: Certificate::UA,
            release_date: (now - Duration::days(7)).date(),
            genres: vec!["Drama".into()],
            languages: vec!["Hindi".into(), "English".into()],
            trailer_url: None,
        },
        now,
    )
    .await
    .expect("create movie");
    let classic = screen.category_id('C').expect("classic");
    let prime = screen.category_id('P').expect("prime");
    let starts_at = (now + Duration::days(2))
        .replace_second(0)
        .and_then(|t| t.replace_nanosecond(0))
        .expect("whole minute");
    let showtime_id = showtimes::create_showtime(
        db,
        &NewShowtime {
            movie_id: movie.id,
            screen_id: screen.id,
            starts_at,
            language: "Hindi".into(),
            format: Format::TwoD,
            prices: vec![
                NewPrice {
                    category_id: classic,
                    price_paise: CLASSIC_PAISE,
                },
                NewPrice {
                    category_id: prime,
                    price_paise: PRIME_PAISE,
                },
            ],
        },
        now,
    )
    .await
    .expect("create showtime");
    let seats: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, label FROM seats WHERE screen_id = $1 ORDER BY row_index, number",
    )
    .bind(screen.id)
    .fetch_all(db.reader())
    .await
    .expect("load seats");
    ShowtimeFixture {
        city_id: city.id.0,
        city_slug,
        theatre_id: theatre_id.0,
        screen_id: screen.id.0,
        movie_id: movie.id.0,
        movie_slug: movie.slug,
        showtime_id: showtime_id.0,
        starts_at,
        classic_category_id: classic.0,
        prime_category_id: prime.0,
        seat_ids: seats.iter().map(|(id, _)| *id).collect(),
        seat_labels: seats.into_iter().map(|(_, label)| label).collect(),
    }
}

/// Loads the demo catalogue (as `moviebooking seed-demo` does) at the app's "now".
pub async fn seed_demo(app: &TestApp) -> SeedReport {
    moviebooking::seed::seed_demo(&app.db, app.state.clock.now())
        .await
        .expect("seed the demo catalogue")
}
