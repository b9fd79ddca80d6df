//! The catalogue as API clients and caches see it: posters with their type, ETag and caching,
//! the JSON API's shape and its answers to bad input, listings that cost the same few queries
//! whatever the catalogue's size, and an idempotent, realistic demo seed.

use crate::common::catalogue::{CLASSIC_PAISE, seed_demo, seed_small_showtime};
use crate::common::query_count::statements_of_get;
use crate::common::world::{
    Place, add_movie, add_showtime, api_titles, at, html_titles, place, test_day,
};
use crate::common::{TestApp, location};
use moviebooking::domain::catalogue::{self, CatalogueError, MovieRef};
use reqwest::StatusCode;
use time::{Duration, OffsetDateTime};

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
