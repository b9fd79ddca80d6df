//! Scheduling rules in the domain: showtimes on one screen never overlap (also when two
//! staff race), their inputs are checked, screens are stored whole or not at all, movies get
//! unique slugs and safe trailer links, and a showtime reads in its theatre's local time.

use crate::common::TestApp;
use crate::common::catalogue::{CLASSIC_PAISE, seed_small_showtime};
use crate::common::world::{
    add_movie, add_showtime, at, new_movie, new_showtime, place, prices, test_day,
};
use moviebooking::domain::catalogue::{self, CatalogueError};
use moviebooking::domain::ids::{CityId, MovieId, ScreenId, ShowtimeId, TheatreId};
use moviebooking::domain::screens::{self, CategoryDef, ScreenError};
use moviebooking::domain::showtimes::{self, Format, NewShowtime, ShowtimeError};
use time::Duration;

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
