//! The catalogue as moviegoers and API clients see it: search and filters, paging, movie
//! pages with showtimes in local time, posters, the JSON API, and the rules behind them
//! (no overlapping showtimes, screen layouts, an idempotent demo seed, and listings that
//! cost a fixed number of queries).

use crate::common::catalogue::seed_small_showtime;
use crate::common::world::{
    add_movie, add_showtime, api_titles, at, html_titles, new_movie, place, test_day,
};
use crate::common::{TestApp, location};
use moviebooking::domain::catalogue::{self};
use moviebooking::domain::showtimes::{self};
use reqwest::StatusCode;
use time::{Date, Duration};

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
