//! The catalogue as moviegoers and API clients see it: search and filters, paging, movie
//! pages with showtimes in local time, posters, the JSON API, and the rules behind them
//! (no overlapping showtimes, screen layouts, an idempotent demo seed, and listings that
//! cost a fixed number of queries).

use crate::common::catalogue::{CLASSIC_PAISE, SMALL_LAYOUT, seed_demo, seed_small_showtime};
use crate::common::query_count::statements_of_get;
use crate::common::{Browser, TestApp, location};
use moviebooking::domain::catalogue::{
    self, CatalogueError, Certificate, MovieRef, NewMovie, Slug,
};
use moviebooking::domain::ids::{CityId, MovieId, ScreenId, ShowtimeId, TheatreId};
use moviebooking::domain::screens::{self, CategoryDef, CreatedScreen, ScreenError};
use moviebooking::domain::showtimes::{self, Format, NewPrice, NewShowtime, ShowtimeError};
use reqwest::StatusCode;
use time::{Date, Duration, OffsetDateTime};

// ---------------------------------------------------------------------------------------
// A small world to browse

struct Place {
    screen: CreatedScreen,
}

async fn place(app: &TestApp, city: &str, slug: &str, theatre: &str) -> Place {
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

fn new_movie(title: &str, genres: &[&str], languages: &[&str], release: Date) -> NewMovie {
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

async fn add_movie(app: &TestApp, title: &str, genres: &[&str], languages: &[&str]) -> MovieRef {
    let now = app.state.clock.now();
    catalogue::create_movie(
        &app.db,
        &new_movie(title, genres, languages, (now - Duration::days(10)).date()),
        now,
    )
    .await
    .unwrap()
}

fn prices(place: &Place) -> Vec<NewPrice> {
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

fn new_showtime(
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

async fn add_showtime(
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
fn at(day: Date, hour: u8, minute: u8) -> OffsetDateTime {
    day.with_hms(hour, minute, 0).unwrap().assume_utc()
}

/// A day far enough ahead that every time on it is in the future.
fn test_day(app: &TestApp) -> Date {
    (app.state.clock.now() + Duration::days(3)).date()
}

/// The titles listed on an HTML movie listing, in order.
fn html_titles(html: &str) -> Vec<String> {
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
async fn api_titles(browser: &Browser, query: &str) -> Vec<String> {
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

// ---------------------------------------------------------------------------------------
// Search and filters

#[tokio::test]
async fn search_matches_any_part_of_a_title_in_any_case() {
    let app = TestApp::spawn().await;
    for title in [
        "Steel Horizon",
        "The Steel Trap",
        "Horizon Line",
        "Paper Boats",
    ] {
        add_movie(&app, title, &["Drama"], &["Hindi"]).await;
    }
    let browser = app.browser();

    let (status, html) = browser.get_text("/movies?q=steel").await;
    assert_eq!(status, StatusCode::OK);
    let mut found = html_titles(&html);
    found.sort();
    assert_eq!(found, ["Steel Horizon", "The Steel Trap"]);
    assert!(html.contains("2 movies"), "the result count is shown");
    assert!(
        html.contains("value=\"steel\""),
        "the search box keeps the text"
    );

    assert_eq!(
        api_titles(&browser, "q=HORIZ").await,
        ["Horizon Line", "Steel Horizon"]
    );
    assert_eq!(api_titles(&browser, "q=%20paper%20").await, ["Paper Boats"]);
    assert_eq!(
        api_titles(&browser, "q=").await.len(),
        4,
        "empty q is no filter"
    );
}

#[tokio::test]
async fn wildcards_quotes_and_markup_in_the_search_are_taken_literally() {
    let app = TestApp::spawn().await;
    for title in [
        "100% Love",
        "Under_score",
        "Plain Title",
        "It's Complicated",
    ] {
        add_movie(&app, title, &["Drama"], &["Hindi"]).await;
    }
    let browser = app.browser();
    assert_eq!(api_titles(&browser, "q=%25").await, ["100% Love"]);
    assert_eq!(api_titles(&browser, "q=_").await, ["Under_score"]);
    assert_eq!(api_titles(&browser, "q=it%27s").await, ["It's Complicated"]);
    assert!(
        api_titles(&browser, "q=%27%20OR%20%271%27%3D%271")
            .await
            .is_empty()
    );
    assert!(
        api_titles(&browser, "q=%5C").await.is_empty(),
        "a lone backslash"
    );

    let (status, html) = browser
        .get_text("/movies?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains("<script>alert(1)"),
        "the search text is escaped"
    );
    assert!(html.contains("&#60;script&#62;alert(1)"), "and still shown");
    assert!(html.contains("No movies match"), "an empty state is shown");
}

/// Movies A..F with showtimes that make each filter mean something.
struct FilterWorld {
    day: Date,
}

async fn filter_world(app: &TestApp) -> FilterWorld {
    let mumbai = place(app, "Mumbai", "mumbai", "Apex Mumbai").await;
    let pune = place(app, "Pune", "pune", "Apex Pune").await;
    let day = test_day(app);
    let a = add_movie(app, "Alpha", &["Action"], &["Hindi"]).await;
    let b = add_movie(app, "Bravo", &["Action"], &["English"]).await;
    let c = add_movie(app, "Charlie", &["Drama"], &["Hindi"]).await;
    add_movie(app, "Delta", &["Drama"], &["Hindi"]).await; // nothing scheduled
    let e = add_movie(app, "Echo", &["Action"], &["Hindi"]).await;
    let f = add_movie(app, "Foxtrot", &["Comedy"], &["Hindi"]).await;
    add_showtime(app, a.id, &mumbai, at(day, 14, 0), "Hindi").await;
    add_showtime(app, b.id, &pune, at(day, 14, 0), "English").await;
    add_showtime(
        app,
        c.id,
        &mumbai,
        at(day + Duration::days(1), 14, 0),
        "Hindi",
    )
    .await;
    let cancelled = add_showtime(app, e.id, &mumbai, at(day, 9, 0), "Hindi").await;
    assert!(
        showtimes::cancel_showtime(&app.db, cancelled)
            .await
            .unwrap()
    );
    // 20:00 UTC is 01:30 the next morning in India.
    add_showtime(app, f.id, &mumbai, at(day, 20, 0), "Hindi").await;
    FilterWorld { day }
}

#[tokio::test]
async fn each_filter_narrows_the_list_and_filters_combine() {
    let app = TestApp::spawn().await;
    let world = filter_world(&app).await;
    let browser = app.browser();
    let day = world.day;
    let next = day + Duration::days(1);

    assert_eq!(
        api_titles(&browser, "genre=Action").await,
        ["Alpha", "Bravo", "Echo"]
    );
    assert_eq!(
        api_titles(&browser, "language=Hindi").await,
        ["Alpha", "Charlie", "Delta", "Echo", "Foxtrot"]
    );
    assert_eq!(
        api_titles(&browser, "city=mumbai").await,
        ["Alpha", "Charlie", "Foxtrot"],
        "a cancelled showtime does not put a movie in a city"
    );
    assert_eq!(api_titles(&browser, "city=pune").await, ["Bravo"]);
    assert_eq!(
        api_titles(&browser, &format!("date={day}")).await,
        ["Alpha", "Bravo"]
    );
    assert_eq!(
        api_titles(&browser, &format!("date={next}")).await,
        ["Charlie", "Foxtrot"],
        "20:00 UTC counts on the next local date"
    );
    assert_eq!(
        api_titles(&browser, "city=mumbai&genre=Action").await,
        ["Alpha"]
    );
    assert_eq!(
        api_titles(
            &browser,
            &format!("city=mumbai&date={next}&language=Hindi&genre=Drama")
        )
        .await,
        ["Charlie"]
    );
    assert!(
        api_titles(&browser, &format!("city=pune&date={next}"))
            .await
            .is_empty()
    );
    assert!(api_titles(&browser, "genre=Western").await.is_empty());
    assert!(api_titles(&browser, "city=atlantis").await.is_empty());
    assert!(api_titles(&browser, "language=Klingon").await.is_empty());

    // The page shows the same, keeps the choices selected and offers a way back.
    let (status, html) = browser
        .get_text(&format!("/movies?city=mumbai&date={next}&genre=Drama"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html_titles(&html), ["Charlie"]);
    assert!(html.contains("1 movie"));
    assert!(html.contains("<option value=\"mumbai\" selected>Mumbai</option>"));
    assert!(html.contains("<option value=\"Drama\" selected>Drama</option>"));
    assert!(html.contains(&format!("<option value=\"{next}\" selected>")));
    assert!(html.contains("Clear filters"));

    let (status, html) = browser.get_text("/movies?city=pune&genre=Drama").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html_titles(&html).is_empty());
    assert!(html.contains("No movies match"));
}

#[tokio::test]
async fn pages_hold_twelve_keep_the_filters_and_forgive_odd_page_numbers() {
    let app = TestApp::spawn().await;
    for i in 1..=30 {
        add_movie(&app, &format!("Movie {i:02}"), &["Drama"], &["Hindi"]).await;
    }
    add_movie(&app, "Something Else", &["Drama"], &["Hindi"]).await;
    let browser = app.browser();

    let (_, html) = browser.get_text("/movies?q=movie&genre=Drama").await;
    let titles = html_titles(&html);
    assert_eq!(titles.len(), 12);
    assert_eq!(titles[0], "Movie 01", "same release date: by title");
    assert!(html.contains("30 movies"));
    assert!(html.contains("showing 1–12"));
    assert!(html.contains("href=\"/movies?q=movie&#38;genre=Drama&#38;page=2\" rel=\"next\""));
    assert!(html.contains("aria-current=\"page\">1</a>"));

    let (_, html) = browser.get_text("/movies?q=movie&genre=Drama&page=3").await;
    let titles = html_titles(&html);
    assert_eq!(
        titles,
        (25..=30).map(|i| format!("Movie {i}")).collect::<Vec<_>>()
    );
    assert!(html.contains("rel=\"prev\""));
    assert!(!html.contains("rel=\"next\""), "no page after the last");
    assert!(html.contains("aria-current=\"page\">3</a>"));

    for (page, expected_first) in [
        ("0", "Movie 01"),
        ("-2", "Movie 01"),
        ("4", "Movie 25"),
        ("99999999999999999999999", "Movie 25"),
        ("+2", "Movie 13"),
    ] {
        let (status, html) = browser
            .get_text(&format!("/movies?q=movie&page={page}"))
            .await;
        assert_eq!(status, StatusCode::OK, "page={page}");
        assert_eq!(html_titles(&html)[0], expected_first, "page={page}");
    }
    for page in ["abc", "1.5", "1e3", "-"] {
        let (status, html) = browser.get_text(&format!("/movies?page={page}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "page={page}");
        assert!(html.contains("must be a whole number"), "page={page}");
    }

    let (_, body) = browser
        .get_json("/api/v1/movies?q=movie&page=3&per_page=12")
        .await;
    assert_eq!(body["page"], 3);
    assert_eq!(body["total"], 30);
    assert_eq!(body["items"].as_array().unwrap().len(), 6);
    let (_, body) = browser.get_json("/api/v1/movies?q=movie&page=9").await;
    assert_eq!(body["page"], 3, "past the end is the last page");
}

// ---------------------------------------------------------------------------------------
// A movie's page

#[tokio::test]
async fn a_movie_page_groups_upcoming_showtimes_by_local_date_then_theatre() {
    let app = TestApp::spawn().await;
    let zenith = place(&app, "Mumbai", "mumbai", "Zenith Cinema").await;
    let apex = place(&app, "Mumbai", "mumbai", "Apex Talkies").await;
    let pune = place(&app, "Pune", "pune", "Pune Picture House").await;
    let movie = add_movie(&app, "Grouped", &["Drama", "Family"], &["Hindi", "English"]).await;
    let day = test_day(&app);
    let next = day + Duration::days(1);
    let evening = add_showtime(&app, movie.id, &zenith, at(day, 14, 0), "Hindi").await;
    let morning = add_showtime(&app, movie.id, &apex, at(day, 4, 0), "English").await;
    let tomorrow = add_showtime(&app, movie.id, &apex, at(next, 4, 30), "Hindi").await;
    let in_pune = add_showtime(&app, movie.id, &pune, at(day, 6, 0), "Hindi").await;
    let cancelled = add_showtime(&app, movie.id, &apex, at(day, 9, 0), "Hindi").await;
    showtimes::cancel_showtime(&app.db, cancelled)
        .await
        .unwrap();

    let browser = app.browser();
    let (status, html) = browser.get_text(&format!("/movies/{}", movie.slug)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Grouped</h1>"));
    assert!(html.contains("<li class=\"chip\"><a href=\"/movies?genre=Drama\">Drama</a></li>"));
    assert!(html.contains("<li class=\"chip\">English</li>"));
    assert!(html.contains("href=\"https://www.example.com/trailer\""));
    assert!(html.contains("src=\"/media/posters/") || html.contains("poster-placeholder.svg"));

    // 14:00 UTC is 7:30 PM in India; 04:00 UTC is 9:30 AM.
    let pill = format!("href=\"/showtimes/{evening}/seats\"");
    let pill_at = html.find(&pill).expect("a link to the seat map");
    assert!(html[pill_at..].find("7:30 PM").unwrap() < 200);
    assert!(html[pill_at..].contains("<span class=\"format\">2D</span>"));
    assert!(html.contains(&format!("href=\"/showtimes/{morning}/seats\"")));
    assert!(html.contains("9:30 AM"));
    assert!(
        !html.contains(&format!("/showtimes/{cancelled}/seats")),
        "cancelled showtimes are hidden"
    );

    let day_heading = html
        .find(&format!("<h3>{}</h3>", showtimes::format_date(day)))
        .unwrap();
    let next_heading = html
        .find(&format!("<h3>{}</h3>", showtimes::format_date(next)))
        .unwrap();
    let apex_first = html[day_heading..].find("Apex Talkies").unwrap();
    let zenith_first = html[day_heading..].find("Zenith Cinema").unwrap();
    assert!(day_heading < next_heading, "dates ascend");
    assert!(apex_first < zenith_first, "theatres by name within a date");
    assert!(html.find(&format!("/showtimes/{tomorrow}/seats")).unwrap() > next_heading);

    // A visitor who chose Pune sees Pune's showtimes, and can ask for all cities.
    let response = browser.post_form("/city", &[("city", "pune")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, html) = browser.get_text(&format!("/movies/{}", movie.slug)).await;
    assert!(html.contains("Showtimes in Pune"));
    assert!(html.contains(&format!("/showtimes/{in_pune}/seats")));
    assert!(!html.contains(&format!("/showtimes/{evening}/seats")));
    let (_, html) = browser
        .get_text(&format!("/movies/{}?city=all", movie.slug))
        .await;
    assert!(html.contains(&format!("/showtimes/{evening}/seats")));
    assert!(html.contains(&format!("/showtimes/{in_pune}/seats")));
}

#[tokio::test]
async fn past_showtimes_and_unknown_movies_are_not_shown() {
    let app = TestApp::spawn().await;
    let fixture = seed_small_showtime(&app).await;
    let browser = app.browser();
    let (_, html) = browser
        .get_text(&format!("/movies/{}", fixture.movie_slug))
        .await;
    assert!(html.contains(&format!("/showtimes/{}/seats", fixture.showtime_id)));

    app.state.clock.advance(Duration::days(3));
    let (_, html) = browser
        .get_text(&format!("/movies/{}", fixture.movie_slug))
        .await;
    assert!(!html.contains(&format!("/showtimes/{}/seats", fixture.showtime_id)));
    assert!(html.contains("No upcoming showtimes"));

    let (status, html) = browser.get_text("/movies/no-such-movie").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found"));
}

#[tokio::test]
async fn the_home_page_shows_the_chosen_city_and_what_is_coming() {
    let app = TestApp::spawn().await;
    let mumbai = place(&app, "Mumbai", "mumbai", "Apex Mumbai").await;
    let pune = place(&app, "Pune", "pune", "Apex Pune").await;
    let day = test_day(&app);
    let now = app.state.clock.now();
    let here = add_movie(&app, "Mumbai Story", &["Drama"], &["Hindi"]).await;
    let there = add_movie(&app, "Pune Story", &["Drama"], &["Marathi"]).await;
    add_showtime(&app, here.id, &mumbai, at(day, 14, 0), "Hindi").await;
    add_showtime(&app, there.id, &pune, at(day, 14, 0), "Marathi").await;
    catalogue::create_movie(
        &app.db,
        &new_movie(
            "Future Story",
            &["Sci-Fi"],
            &["English"],
            (now + Duration::days(20)).date(),
        ),
        now,
    )
    .await
    .unwrap();

    let browser = app.browser();
    let (_, html) = browser.get_text("/").await;
    assert!(html.contains("<form class=\"city-switcher"));
    assert!(html.contains("name=\"csrf_token\""));
    assert!(html.contains("Mumbai Story") && html.contains("Pune Story"));
    let coming = html.find("Coming soon").unwrap();
    assert!(html[coming..].contains("Future Story"));
    assert!(html[coming..].contains("In cinemas"));

    browser.post_form("/city", &[("city", "pune")]).await;
    let (_, html) = browser.get_text("/").await;
    assert!(html.contains("Now showing in Pune"));
    let coming = html.find("Coming soon").unwrap();
    assert!(html[..coming].contains("Pune Story"));
    assert!(!html[..coming].contains("Mumbai Story"));
    assert!(html.contains("<option value=\"pune\" selected>Pune</option>"));
    assert!(html.contains("href=\"/movies?city=pune\""));

    let response = browser.post_form("/city", &[("city", "atlantis")]).await;
    assert_eq!(location(&response), "/");
    let (_, html) = browser.get_text("/").await;
    assert!(html.contains("We do not know that city yet."));
    assert!(
        html.contains("Now showing in Pune"),
        "the earlier choice stays"
    );
}

// ---------------------------------------------------------------------------------------
// Scheduling rules

#[tokio::test]
async fn showtimes_on_one_screen_cannot_overlap() {
    let app = TestApp::spawn().await;
    let hall = place(&app, "Mumbai", "mumbai", "Apex").await;
    let other = place(&app, "Mumbai", "mumbai", "Zenith").await;
    let movie = add_movie(&app, "Long Film", &["Drama"], &["Hindi"]).await; // 120 min
    let day = test_day(&app);
    let now = app.state.clock.now();
    let first = add_showtime(&app, movie.id, &hall, at(day, 10, 0), "Hindi").await;

    // It runs 10:00-12:00 plus 20 minutes of cleaning.
    for start in [
        at(day, 9, 0),
        at(day, 11, 0),
        at(day, 12, 19),
        at(day, 8, 1),
    ] {
        let err = showtimes::create_showtime(
            &app.db,
            &new_showtime(movie.id, &hall, start, "Hindi"),
            now,
        )
        .await
        .unwrap_err();
        match err {
            ShowtimeError::Overlap(clash) => {
                assert_eq!(clash.showtime_id, first);
                assert!(clash.to_string().contains("Long Film"), "{clash}");
                assert!(
                    clash.to_string().contains("3:30 PM"),
                    "local start: {clash}"
                );
            }
            other => panic!("expected an overlap at {start}, got {other:?}"),
        }
    }
    // Back to back is fine, so is another screen at the same time.
    add_showtime(&app, movie.id, &hall, at(day, 12, 20), "Hindi").await;
    add_showtime(&app, movie.id, &hall, at(day, 7, 40), "Hindi").await;
    add_showtime(&app, movie.id, &other, at(day, 10, 0), "Hindi").await;

    // A cancelled showtime frees its slot.
    assert!(showtimes::cancel_showtime(&app.db, first).await.unwrap());
    assert!(
        !showtimes::cancel_showtime(&app.db, first).await.unwrap(),
        "only once"
    );
    add_showtime(&app, movie.id, &hall, at(day, 10, 0), "Hindi").await;
}

#[tokio::test]
async fn scheduling_checks_its_inputs() {
    let app = TestApp::spawn().await;
    let hall = place(&app, "Mumbai", "mumbai", "Apex").await;
    let movie = add_movie(&app, "Checked", &["Drama"], &["Hindi"]).await;
    let now = app.state.clock.now();
    let day = test_day(&app);
    let create = |new: NewShowtime| {
        let db = app.db.clone();
        async move { showtimes::create_showtime(&db, &new, now).await }
    };
    let good = new_showtime(movie.id, &hall, at(day, 10, 0), "Hindi");

    let past = NewShowtime {
        starts_at: now - Duration::hours(1),
        ..good.clone()
    };
    assert!(
        matches!(create(past).await, Err(ShowtimeError::Invalid(f)) if f.contains_key("starts_at"))
    );
    let tamil = NewShowtime {
        language: "Tamil".into(),
        ..good.clone()
    };
    assert!(
        matches!(create(tamil).await, Err(ShowtimeError::Invalid(f)) if f.contains_key("language"))
    );
    let missing_price = NewShowtime {
        prices: prices(&hall)[..1].to_vec(),
        ..good.clone()
    };
    assert!(
        matches!(create(missing_price).await, Err(ShowtimeError::Invalid(f)) if f.contains_key("prices"))
    );
    let mut zero = prices(&hall);
    zero[0].price_paise = 0;
    let free = NewShowtime {
        prices: zero,
        ..good.clone()
    };
    assert!(matches!(create(free).await, Err(ShowtimeError::Invalid(_))));
    let nowhere = NewShowtime {
        screen_id: ScreenId(999_999),
        ..good.clone()
    };
    assert!(matches!(
        create(nowhere).await,
        Err(ShowtimeError::UnknownScreen)
    ));
    let nothing = NewShowtime {
        movie_id: MovieId(999_999),
        ..good.clone()
    };
    assert!(matches!(
        create(nothing).await,
        Err(ShowtimeError::UnknownMovie)
    ));

    let id = create(good.clone()).await.unwrap();
    let (starts, ends): (i64, i64) =
        sqlx::query_as("SELECT starts_at, ends_at FROM showtimes WHERE id = $1")
            .bind(id)
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_eq!(
        ends - starts,
        (120 + showtimes::CLEANING_BUFFER_MINUTES) * 60
    );
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM showtime_prices WHERE showtime_id = $1")
            .bind(id)
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_eq!(stored, 2);
}

#[tokio::test]
async fn concurrent_overlapping_showtimes_have_exactly_one_winner() {
    let app = TestApp::spawn().await;
    let hall = place(&app, "Mumbai", "mumbai", "Apex").await;
    let movie = add_movie(&app, "Race", &["Drama"], &["Hindi"]).await;
    let now = app.state.clock.now();
    let day = test_day(&app);
    for round in 0..3u8 {
        let attempts = (0..8u8).map(|i| {
            let db = app.db.clone();
            // Different starts within the same slot: all overlap one another.
            let new = new_showtime(movie.id, &hall, at(day, 3 + round * 5, i * 5), "Hindi");
            tokio::spawn(async move { showtimes::create_showtime(&db, &new, now).await })
        });
        let results = futures::future::join_all(attempts).await;
        let mut won = 0;
        for result in results {
            match result.unwrap() {
                Ok(_) => won += 1,
                Err(ShowtimeError::Overlap(_)) => {}
                Err(other) => panic!("round {round}: unexpected {other:?}"),
            }
        }
        assert_eq!(won, 1, "round {round}: exactly one showtime per slot");
    }
    let running: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM showtimes WHERE screen_id = $1 AND is_cancelled = 0",
    )
    .bind(hall.screen.id)
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(running, 3);
}

#[tokio::test]
async fn a_screen_is_stored_with_its_categories_and_seats_or_not_at_all() {
    let app = TestApp::spawn().await;
    let city = catalogue::create_city(&app.db, "Mumbai", "mumbai")
        .await
        .unwrap();
    let theatre = catalogue::create_theatre(&app.db, city.id, "Apex", "", "Asia/Kolkata")
        .await
        .unwrap();
    let categories = [
        CategoryDef::new('C', "Classic", 0),
        CategoryDef::new('R', "Recliner", 2),
    ];
    let screen = screens::create_screen(
        &app.db,
        theatre,
        "Audi 1",
        &categories,
        "A: Cw Cc C _ C Cx\nB: R R _ R R",
    )
    .await
    .unwrap();
    assert_eq!(screen.seat_count, 9);
    let seats: Vec<(String, String, i64, i64, i64, String, String)> = sqlx::query_as(
        "SELECT s.label, s.row_label, s.row_index, s.col_index, s.number, s.kind, c.code \
         FROM seats s JOIN seat_categories c ON c.id = s.category_id \
         WHERE s.screen_id = $1 ORDER BY s.row_index, s.number",
    )
    .bind(screen.id)
    .fetch_all(app.db.reader())
    .await
    .unwrap();
    assert_eq!(
        seats[0],
        (
            "A1".into(),
            "A".into(),
            0,
            0,
            1,
            "wheelchair".into(),
            "C".into()
        )
    );
    assert_eq!(seats[1].5, "companion");
    assert_eq!(
        seats[3],
        (
            "A4".into(),
            "A".into(),
            0,
            4,
            4,
            "standard".into(),
            "C".into()
        )
    );
    assert_eq!(seats[4].5, "blocked");
    assert_eq!(
        seats[8],
        (
            "B4".into(),
            "B".into(),
            1,
            4,
            4,
            "standard".into(),
            "R".into()
        )
    );
    let categories = screens::categories_of(&app.db, screen.id).await.unwrap();
    assert_eq!(
        categories
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["Classic", "Recliner"]
    );

    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM screens")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let err = screens::create_screen(
        &app.db,
        theatre,
        "Audi 2",
        &categories_def(),
        "A: C C\nB: C Q",
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, ScreenError::Layout(e) if e.line == Some(2)),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "line 2: `Q` is not a declared seat category (declared: C)"
    );
    let err = screens::create_screen(
        &app.db,
        TheatreId(999_999),
        "Audi 2",
        &categories_def(),
        "A: C",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ScreenError::UnknownTheatre));
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM screens")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(before, after, "a refused screen leaves nothing behind");
}

fn categories_def() -> Vec<CategoryDef> {
    vec![CategoryDef::new('C', "Classic", 0)]
}

#[tokio::test]
async fn movies_get_unique_slugs_and_safe_trailer_links() {
    let app = TestApp::spawn().await;
    let now = app.state.clock.now();
    let today = now.date();
    let first = catalogue::create_movie(
        &app.db,
        &new_movie("Same Title!", &[], &["Hindi"], today),
        now,
    )
    .await
    .unwrap();
    let second = catalogue::create_movie(
        &app.db,
        &new_movie("Same  title", &[], &["Hindi"], today),
        now,
    )
    .await
    .unwrap();
    assert_eq!(first.slug, "same-title");
    assert_eq!(second.slug, "same-title-2");

    let mut bad = new_movie("Trailer", &[], &["Hindi"], today);
    bad.trailer_url = Some("javascript:alert(1)".into());
    let err = catalogue::create_movie(&app.db, &bad, now)
        .await
        .unwrap_err();
    assert!(matches!(err, CatalogueError::Invalid(f) if f.contains_key("trailer_url")));
    let no_language = new_movie("Silent", &[], &[], today);
    assert!(matches!(
        catalogue::create_movie(&app.db, &no_language, now).await,
        Err(CatalogueError::Invalid(f)) if f.contains_key("languages")
    ));
    let bad_tz = catalogue::create_theatre(&app.db, CityId(1), "X", "", "Mars/Olympus").await;
    assert!(matches!(bad_tz, Err(CatalogueError::Invalid(f)) if f.contains_key("timezone")));
}

#[tokio::test]
async fn find_showtime_describes_a_showtime_in_local_time() {
    let app = TestApp::spawn().await;
    let fixture = seed_small_showtime(&app).await;
    let detail = showtimes::find_showtime(&app.db, ShowtimeId(fixture.showtime_id))
        .await
        .unwrap()
        .expect("the showtime exists");
    assert_eq!(detail.movie_id.0, fixture.movie_id);
    assert_eq!(detail.movie_slug, fixture.movie_slug);
    assert_eq!(detail.screen_id.0, fixture.screen_id);
    assert_eq!(detail.screen_name, "Screen 1");
    assert_eq!(detail.theatre_id.0, fixture.theatre_id);
    assert!(detail.city_name.starts_with("Fixture City"));
    assert_eq!(detail.timezone, "Asia/Kolkata");
    assert_eq!(detail.starts_at, fixture.starts_at);
    assert_eq!(detail.ends_at - detail.starts_at, Duration::minutes(140));
    assert_eq!(detail.language, "Hindi");
    assert_eq!(detail.format, Format::TwoD);
    assert!(!detail.is_cancelled);
    let local = showtimes::local_time(detail.starts_at, &detail.timezone);
    assert_eq!(local.offset().whole_minutes(), 330);
    assert_eq!(detail.starts_display(), showtimes::format_local(local));
    assert_eq!(fixture.seat_ids.len(), 30);
    assert_eq!(fixture.seat_labels[10], "B1");
    let prices = showtimes::prices_of(&app.db, ShowtimeId(fixture.showtime_id))
        .await
        .unwrap();
    assert_eq!(prices[0].price_paise, CLASSIC_PAISE);
    assert_eq!(prices[0].name, "Classic");
    assert!(
        showtimes::find_showtime(&app.db, ShowtimeId(999_999))
            .await
            .unwrap()
            .is_none()
    );
}

// ---------------------------------------------------------------------------------------
// Posters

#[tokio::test]
async fn posters_are_served_with_their_type_an_etag_and_long_caching() {
    let app = TestApp::spawn().await;
    let with = add_movie(&app, "With Poster", &["Drama"], &["Hindi"]).await;
    let without = add_movie(&app, "Without Poster", &["Drama"], &["Hindi"]).await;
    let png = moviebooking::seed::poster_png("With Poster", (200.0, 260.0)).unwrap();
    let now = app.state.clock.now();
    let sha = catalogue::set_poster(&app.db, with.id, &png, now)
        .await
        .unwrap();
    let browser = app.browser();

    // Pages link to the versioned URL.
    let (_, html) = browser.get_text(&format!("/movies/{}", with.slug)).await;
    let versioned = format!("/media/posters/{}?v={}", with.id, &sha[..12]);
    assert!(html.contains(&versioned), "{html}");

    let response = browser.get(&versioned).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["etag"], format!("\"{sha}\"").as_str());
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    // The upload was decoded and encoded again: the served bytes are the ones the ETag
    // names, with the uploaded pixels.
    let served = response.bytes().await.unwrap();
    assert_eq!(
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&served)),
        sha
    );
    assert_eq!(
        image::load_from_memory_with_format(&served, image::ImageFormat::Png)
            .unwrap()
            .to_rgb8(),
        image::load_from_memory(&png).unwrap().to_rgb8()
    );

    let response = browser.get(&format!("/media/posters/{}", with.id)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");

    let response = browser
        .client
        .get(browser.url(&versioned))
        .header("if-none-match", format!("\"{sha}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(response.headers()["etag"], format!("\"{sha}\"").as_str());
    assert!(response.bytes().await.unwrap().is_empty());

    let response = browser.get(&format!("/media/posters/{}", without.id)).await;
    assert!(response.status().is_redirection());
    assert!(location(&response).starts_with("/static/img/poster-placeholder.svg"));
    let (_, html) = browser.get_text(&format!("/movies/{}", without.slug)).await;
    assert!(html.contains("/static/img/poster-placeholder.svg?v="));

    for path in [
        "/media/posters/999999",
        "/media/posters/abc",
        "/media/posters/-1",
    ] {
        assert_eq!(
            browser.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }

    // Only real images are stored; a new poster replaces the old one and its version.
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    assert!(matches!(
        catalogue::set_poster(&app.db, with.id, svg, now).await,
        Err(CatalogueError::Invalid(_))
    ));
    let other = moviebooking::seed::poster_png("Another", (10.0, 20.0)).unwrap();
    let new_sha = catalogue::set_poster(&app.db, with.id, &other, now)
        .await
        .unwrap();
    assert_ne!(new_sha, sha);
    let response = browser.get(&versioned).await;
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=300",
        "an old version is not cached for long"
    );
    assert_eq!(
        response.headers()["etag"],
        format!("\"{new_sha}\"").as_str()
    );
}

// ---------------------------------------------------------------------------------------
// The JSON API

#[tokio::test]
async fn the_api_lists_cities_and_movies_in_the_documented_shape() {
    let app = TestApp::spawn().await;
    let fixture = seed_small_showtime(&app).await;
    let browser = app.browser();

    let (status, cities) = browser.get_json("/api/v1/cities").await;
    assert_eq!(status, StatusCode::OK);
    let city = &cities.as_array().unwrap()[0];
    let mut keys: Vec<_> = city.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["id", "name", "slug"]);
    assert_eq!(city["slug"], fixture.city_slug.as_str());

    let (status, body) = browser.get_json("/api/v1/movies").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["page"], 1);
    assert_eq!(body["per_page"], 12);
    assert_eq!(body["total"], 1);
    let item = &body["items"][0];
    for key in [
        "id",
        "slug",
        "title",
        "genres",
        "languages",
        "runtime_minutes",
        "certificate",
        "poster_url",
    ] {
        assert!(item.get(key).is_some(), "items have {key}: {item}");
    }
    assert_eq!(item["id"], fixture.movie_id);
    assert_eq!(item["slug"], fixture.movie_slug.as_str());
    assert_eq!(item["genres"], serde_json::json!(["Drama"]));
    assert_eq!(item["languages"], serde_json::json!(["English", "Hindi"]));
    assert_eq!(item["runtime_minutes"], 120);
    assert_eq!(item["certificate"], "UA");
    assert!(
        item["poster_url"]
            .as_str()
            .unwrap()
            .starts_with(&app.base_url)
    );

    for bad in [
        "per_page=101",
        "per_page=0",
        "per_page=-5",
        "per_page=ten",
        "page=x",
        "date=2026-13-45",
        "date=tomorrow",
    ] {
        let (status, body) = browser.get_json(&format!("/api/v1/movies?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body["error"], "bad_request", "{bad}");
        assert!(body["message"].as_str().unwrap().len() > 10, "{bad}");
    }
    let (status, body) = browser.get_json("/api/v1/movies?per_page=100").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["per_page"], 100);
}

#[tokio::test]
async fn the_api_gives_a_movie_with_its_showtimes_and_free_seats() {
    let app = TestApp::spawn().await;
    let fixture = seed_small_showtime(&app).await;
    let browser = app.browser();
    let path = format!("/api/v1/movies/{}", fixture.movie_id);

    let (status, body) = browser.get_json(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["title"].as_str().unwrap(),
        format!(
            "Fixture Movie {}",
            &fixture.city_slug["fixture-city-".len()..]
        )
    );
    let showtime = &body["showtimes"][0];
    assert_eq!(showtime["id"], fixture.showtime_id);
    let starts = OffsetDateTime::parse(
        showtime["starts_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(starts, fixture.starts_at);
    assert!(showtime["starts_at"].as_str().unwrap().ends_with("+05:30"));
    assert_eq!(showtime["language"], "Hindi");
    assert_eq!(showtime["format"], "2D");
    assert_eq!(showtime["theatre"]["id"], fixture.theatre_id);
    assert!(
        showtime["theatre"]["name"]
            .as_str()
            .unwrap()
            .starts_with("Fixture Talkies")
    );
    assert!(
        showtime["theatre"]["city"]
            .as_str()
            .unwrap()
            .starts_with("Fixture City")
    );
    assert_eq!(showtime["screen"]["id"], fixture.screen_id);
    assert_eq!(showtime["screen"]["name"], "Screen 1");
    assert_eq!(showtime["available_seats"], 30);
    assert_eq!(showtime["min_price_paise"], CLASSIC_PAISE);

    // Live claims (confirmed, or held and not yet expired) take seats; expired ones do not.
    let now = app.state.clock.unix_now();
    let user: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, name, password_hash, created_at, updated_at) \
         VALUES ('claims@example.com', 'C', 'x', $1, $1) RETURNING id",
    )
    .bind(now)
    .fetch_one(app.db.writer())
    .await
    .unwrap();
    for (i, (seat, expires)) in [
        ("A1", None),
        ("A2", Some(now + 600)),
        ("A3", Some(now - 60)),
    ]
    .into_iter()
    .enumerate()
    {
        let booking: i64 = sqlx::query_scalar(
            "INSERT INTO bookings (public_id, code, user_id, showtime_id, status, hold_expires_at, \
             seats_paise, fee_paise, tax_paise, total_paise, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, 0, 0, 0, $7, $7) RETURNING id",
        )
        .bind(format!("pub-{i}"))
        .bind(format!("CODE{i}"))
        .bind(user)
        .bind(fixture.showtime_id)
        .bind(if expires.is_none() {
            "confirmed"
        } else {
            "cancelled"
        })
        .bind(now + 600)
        .bind(now)
        .fetch_one(app.db.writer())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO seat_claims (showtime_id, seat_id, booking_id, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(fixture.showtime_id)
        .bind(fixture.seat(seat))
        .bind(booking)
        .bind(expires)
        .execute(app.db.writer())
        .await
        .unwrap();
    }
    let (_, body) = browser.get_json(&path).await;
    assert_eq!(body["showtimes"][0]["available_seats"], 28);

    for missing in ["/api/v1/movies/999999", "/api/v1/movies/abc"] {
        let (status, body) = browser.get_json(missing).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(body["error"], "not_found");
    }
}

#[tokio::test]
async fn bad_input_gets_a_clear_answer_never_a_server_error() {
    let app = TestApp::spawn().await;
    let fixture = seed_small_showtime(&app).await;
    let browser = app.browser();
    let paths = [
        "/movies?q=%25%25%25",
        "/movies?q=%00",
        "/movies?q='%3B%20DROP%20TABLE%20movies%3B--",
        "/movies?q=%F0%9F%8E%AC",
        &format!("/movies?q={}", "x".repeat(5000)),
        "/movies?date=2026-02-30",
        "/movies?date=yesterday",
        "/movies?date=",
        "/movies?city=%27&genre=%22&language=%3C",
        "/movies?page=&city=",
        "/movies?page=-9223372036854775809",
        "/movies?page=%20",
        "/movies?q=a&q=b",
        "/movies/%27%20OR%201%3D1",
        "/movies/%3Cscript%3E",
        "/movies/%00",
        "/movies?city=%00&genre=%00&language=%00",
        "/api/v1/movies?city=%00",
        &format!("/movies/{}?city=%27", fixture.movie_slug),
        "/media/posters/99999999999999999999",
        "/api/v1/movies?per_page=99999999999999999999",
        "/api/v1/movies?date=0000-00-00",
        "/api/v1/movies/99999999999999999999",
        "/api/v1/movies/-1",
        &format!("/api/v1/movies/{}?city=nowhere", fixture.movie_id),
        &format!("/api/v1/movies/{}?city=%00", fixture.movie_id),
        &format!("/movies/{}?city=%00", fixture.movie_slug),
    ];
    for path in paths {
        let response = browser.get(path).await;
        assert!(
            response.status().is_success()
                || response.status().is_redirection()
                || response.status().is_client_error(),
            "{path}: {}",
            response.status()
        );
    }
    let (status, _) = browser.get_text("/movies?date=2026-02-30").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an impossible date is a client error"
    );
    let (status, body) = browser
        .get_json("/api/v1/movies?q=%27%3B%20DROP%20TABLE%20movies%3B--")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["total"], 0);
    let (_, body) = browser.get_json("/api/v1/movies").await;
    assert_eq!(body["total"], 1, "the catalogue is intact");
}

// ---------------------------------------------------------------------------------------
// Cost per page

/// Adds `count` movies, each with a showtime in Mumbai (and genres and languages).
async fn add_scheduled_movies(
    app: &TestApp,
    hall: &Place,
    from: usize,
    count: usize,
) -> Vec<MovieRef> {
    let start = at(test_day(app), 0, 0);
    let mut movies = Vec::new();
    for i in from..from + count {
        let movie = add_movie(
            app,
            &format!("Film {i:03}"),
            &["Drama", "Family"],
            &["Hindi", "English"],
        )
        .await;
        add_showtime(
            app,
            movie.id,
            hall,
            start + Duration::hours(3 * i as i64),
            "Hindi",
        )
        .await;
        movies.push(movie);
    }
    movies
}

#[tokio::test(flavor = "current_thread")]
async fn listing_pages_cost_the_same_few_queries_whatever_the_catalogue_size() {
    // The statement counter tags each request with its own X-Request-Id, as a platform
    // router would; the app keeps such an id only behind a trusted proxy.
    let app = TestApp::spawn_with(&[("TRUSTED_PROXY_HOPS", "1")]).await;
    let hall = place(&app, "Mumbai", "mumbai", "Apex").await;
    let mut movies = add_scheduled_movies(&app, &hall, 0, 13).await;
    let browser = app.browser();
    let paths = |movie: &MovieRef| {
        vec![
            "/".to_owned(),
            "/movies".to_owned(),
            "/movies?page=2".to_owned(),
            "/movies?city=mumbai&genre=Drama&language=Hindi&q=film".to_owned(),
            format!("/movies?date={}", test_day(&app)),
            format!("/movies/{}", movie.slug),
            "/api/v1/movies?per_page=12".to_owned(),
            format!("/api/v1/movies/{}", movie.id),
        ]
    };
    let measure = |paths: Vec<String>| {
        let browser = browser.clone();
        async move {
            let mut counts = Vec::new();
            for path in paths {
                // The first request may open a pool connection; measure the second.
                statements_of_get(&browser, &path).await;
                let (status, statements) = statements_of_get(&browser, &path).await;
                assert_eq!(status, StatusCode::OK, "{path}");
                counts.push((path, statements));
            }
            counts
        }
    };

    let small = measure(paths(&movies[0])).await;
    let (_, html) = browser.get_text("/movies").await;
    assert_eq!(html_titles(&html).len(), 12, "a full first page");

    // Thirty more movies, each with genres, languages and a showtime; and more showtimes
    // for the movie whose page is measured.
    movies.extend(add_scheduled_movies(&app, &hall, 13, 30).await);
    let start = at(test_day(&app) + Duration::days(10), 0, 0);
    for i in 0..20 {
        add_showtime(
            &app,
            movies[0].id,
            &hall,
            start + Duration::hours(3 * i),
            "Hindi",
        )
        .await;
    }
    let large = measure(paths(&movies[0])).await;

    for ((path, before), (_, after)) in small.iter().zip(&large) {
        eprintln!("{path}: {before:?} then {after:?}");
        assert!(
            !before.is_empty(),
            "{path}: statements are counted (is another subscriber installed?)"
        );
        assert_eq!(
            before.len(),
            after.len(),
            "{path}: 13 vs 43 movies: {before:?} vs {after:?}"
        );
        assert!(after.len() <= 6, "{path}: {after:?}");
    }
    eprintln!("statements per request: {large:?}");
}

// ---------------------------------------------------------------------------------------
// The demo catalogue

async fn table_counts(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "cities",
        "theatres",
        "screens",
        "seat_categories",
        "seats",
        "movies",
        "movie_genres",
        "movie_languages",
        "posters",
        "showtimes",
        "showtime_prices",
    ] {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        counts.push(
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(app.db.reader())
                .await
                .unwrap(),
        );
    }
    counts
}

#[tokio::test]
async fn the_demo_seed_is_realistic_and_running_it_twice_changes_nothing() {
    let app = TestApp::spawn().await;
    let report = seed_demo(&app).await;
    assert!(report.created);
    assert!(report.cities >= 3 && report.theatres >= 6, "{report:?}");
    assert_eq!(report.movies, 12);
    assert!(report.showtimes > 100, "{report:?}");
    let counts = table_counts(&app).await;

    let again = seed_demo(&app).await;
    assert!(!again.created);
    assert_eq!(table_counts(&app).await, counts);

    let db = app.db.reader();
    let sizes: Vec<i64> = sqlx::query_scalar("SELECT COUNT(*) FROM seats GROUP BY screen_id")
        .fetch_all(db)
        .await
        .unwrap();
    assert!(sizes.iter().all(|n| (100..=300).contains(n)), "{sizes:?}");
    assert!(sizes.contains(&300));
    let wheelchair: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM seats WHERE kind = 'wheelchair'")
            .fetch_one(db)
            .await
            .unwrap();
    assert!(wheelchair > 0);
    let without_poster: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM movies WHERE poster_id IS NULL")
            .fetch_one(db)
            .await
            .unwrap();
    assert_eq!(without_poster, 0);
    let overlaps: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM showtimes a JOIN showtimes b ON a.screen_id = b.screen_id \
         AND a.id < b.id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at",
    )
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(overlaps, 0);
    let now = app.state.clock.unix_now();
    let (first, last): (i64, i64) =
        sqlx::query_as("SELECT MIN(starts_at), MAX(starts_at) FROM showtimes")
            .fetch_one(db)
            .await
            .unwrap();
    assert!(first > now && last < now + 8 * 86_400);
    let unpriced: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM showtimes s JOIN seat_categories c ON c.screen_id = s.screen_id \
         LEFT JOIN showtime_prices p ON p.showtime_id = s.id AND p.category_id = c.id \
         WHERE p.showtime_id IS NULL",
    )
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(unpriced, 0, "every category of every showtime has a price");

    let browser = app.browser();
    let (_, html) = browser.get_text("/").await;
    assert!(html.contains("Monsoon Express"));
    assert!(html.contains("Coming soon"));
    assert!(!api_titles(&browser, "city=mumbai").await.is_empty());
    let poster = browser.get("/media/posters/1").await;
    assert_eq!(poster.headers()["content-type"], "image/png");
}
