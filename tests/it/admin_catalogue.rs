//! Staff running the catalogue from /admin: poster uploads, movies, screen layouts, showtimes,
//! cities and theatres, added and edited with errors next to the fields, and the rules that keep
//! what is already scheduled true.

use crate::common::admin::upload_poster;
use crate::common::admin::{audit_count, follow, scalar, world};
use crate::common::catalogue::seed_small_showtime;
use reqwest::StatusCode;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

#[tokio::test]
async fn a_poster_upload_accepts_real_images_and_refuses_everything_else() {
    let w = world().await;
    let show = seed_small_showtime(&w.app).await;
    let movie = show.movie_id;

    // Uploads are decoded and encoded again: a PNG is served as a PNG with exactly the
    // uploaded pixels (`posters` tests what re-encoding removes).
    let png = moviebooking::seed::poster_png("Admin Upload", (30.0, 200.0)).unwrap();
    let response = upload_poster(&w.staff, movie, "poster.png", "image/png", &png).await;
    let page = follow(&w.staff, response).await;
    assert!(page.contains("The poster is updated"), "{page}");
    let served = w.staff.get(&format!("/media/posters/{movie}")).await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    let stored = served.bytes().await.unwrap().to_vec();
    assert_eq!(
        image::load_from_memory_with_format(&stored, image::ImageFormat::Png)
            .unwrap()
            .to_rgb8(),
        image::load_from_memory(&png).unwrap().to_rgb8(),
        "the stored poster has the uploaded pixels"
    );
    assert_eq!(audit_count(&w.app, "movie.poster").await, 1);

    let html = b"<!doctype html><script>alert(1)</script>".to_vec();
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec();
    let gif = b"GIF89a\x01\x00\x01\x00".to_vec();
    let mut huge = PNG_SIGNATURE.to_vec();
    huge.resize(2 * 1024 * 1024 + 1, 0);
    // A PNG signature alone does not make an image.
    let mut signature_only = PNG_SIGNATURE.to_vec();
    signature_only.extend_from_slice(&[0u8; 64]);
    for (name, declared, bytes, message) in [
        ("zeros.png", "image/png", signature_only, "not be read"),
        ("page.png", "image/png", html, "PNG, JPEG or WebP"),
        ("logo.png", "image/png", svg, "PNG, JPEG or WebP"),
        ("anim.gif", "image/gif", gif, "PNG, JPEG or WebP"),
        ("big.png", "image/png", huge, "at most 2 MB"),
        ("empty.png", "image/png", Vec::new(), "Choose an image file"),
    ] {
        let response = upload_poster(&w.staff, movie, name, declared, &bytes).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}"
        );
        let body = response.text().await.unwrap();
        assert!(body.contains("id=\"poster-error\""), "{name}: {body}");
        assert!(body.contains(message), "{name}: {body}");
    }
    // The earlier poster is untouched and nothing else was audited.
    let served = w.staff.get(&format!("/media/posters/{movie}")).await;
    assert_eq!(served.bytes().await.unwrap().as_ref(), stored.as_slice());
    assert_eq!(audit_count(&w.app, "movie.poster").await, 1);

    // Without the token in the query string, the upload is refused outright.
    let response = w
        .staff
        .client
        .post(w.staff.url(&format!("/admin/movies/{movie}/poster")))
        .header("origin", &w.staff.base_url)
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn movies_are_listed_with_search_and_deactivated_after_confirmation() {
    let w = world().await;
    let show = seed_small_showtime(&w.app).await;
    let movie = show.movie_id;
    let (_, list) = w.staff.get_text("/admin/movies?q=FIXTURE").await;
    assert!(list.contains(&format!("/admin/movies/{movie}")), "{list}");
    let (_, list) = w.staff.get_text("/admin/movies?q=no-such-title").await;
    assert!(!list.contains(&format!("/admin/movies/{movie}\"")));

    let path = format!("/admin/movies/{movie}/active");
    let response = w.staff.post_form(&path, &[("value", "off")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("name=\"confirm\""));
    let response = w
        .staff
        .post_form(&path, &[("value", "off"), ("confirm", "yes")])
        .await;
    let page = follow(&w.staff, response).await;
    assert!(page.contains("is hidden from the catalogue"), "{page}");
    assert!(page.contains("movie.deactivate"), "{page}");
    let active: i64 = sqlx::query_scalar("SELECT is_active FROM movies WHERE id = $1")
        .bind(movie)
        .fetch_one(w.app.db.reader())
        .await
        .unwrap();
    assert_eq!(active, 0);
    let response = w.staff.post_form(&path, &[("value", "on")]).await;
    assert!(
        follow(&w.staff, response)
            .await
            .contains("is back in the catalogue")
    );
    assert_eq!(audit_count(&w.app, "movie.activate").await, 1);
}

#[tokio::test]
async fn a_screen_layout_is_validated_previewed_and_created() {
    let w = world().await;
    let show = seed_small_showtime(&w.app).await;
    let theatre = show.theatre_id.to_string();
    let (status, page) = w.staff.get_text("/admin/screens/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!("<option value=\"{theatre}\"")),
        "{page}"
    );

    // A mistake is shown next to the layout, with its line, and every value is kept.
    let bad = "A: C C C\nB: C Q C";
    let response = w
        .staff
        .post_form(
            "/admin/screens",
            &[
                ("theatre_id", &theatre),
                ("name", "Audi 9"),
                ("categories", "C Classic"),
                ("layout", bad),
                ("intent", "create"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(body.contains("id=\"layout-error\">line 2"), "{body}");
    assert!(body.contains("B: C Q C") && body.contains("value=\"Audi 9\""));
    let response = w
        .staff
        .post_form(
            "/admin/screens",
            &[
                ("theatre_id", ""),
                ("name", ""),
                ("categories", "classic"),
                ("layout", "A: C"),
                ("intent", "preview"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    for field in ["theatre_id", "name", "categories"] {
        assert!(
            body.contains(&format!("id=\"{field}-error\"")),
            "{field}: {body}"
        );
    }

    // Preview draws the seat map and stores nothing.
    let layout = "A: C C _ C Cx\nB: P Pw _ P P";
    let fields = [
        ("theatre_id", theatre.as_str()),
        ("name", "Audi 9"),
        ("categories", "C Classic\nP Prime"),
        ("layout", layout),
        ("intent", "preview"),
    ];
    let response = w.staff.post_form("/admin/screens", &fields).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await.unwrap();
    assert!(body.contains("Preview: 8 seats"), "{body}");
    assert!(body.contains("seat-map") && body.contains("seat-gap"));
    assert!(body.contains("seat seat-unavailable cat-0"));
    assert!(body.contains("seat seat-available cat-1 seat-wheelchair"));
    let screens = scalar(
        &w.app,
        "SELECT COUNT(*) FROM screens WHERE name = $1",
        "Audi 9",
    )
    .await;
    assert_eq!(screens, 0);

    let mut create = fields.to_vec();
    create.retain(|(k, _)| *k != "intent");
    create.push(("intent", "create"));
    let response = w.staff.post_form("/admin/screens", &create).await;
    let page = follow(&w.staff, response).await;
    assert!(
        page.contains("Screen Audi 9 is created with 8 seats"),
        "{page}"
    );
    let seats = scalar(
        &w.app,
        "SELECT COUNT(*) FROM seats s JOIN screens sc ON sc.id = s.screen_id WHERE sc.name = $1",
        "Audi 9",
    )
    .await;
    assert_eq!(seats, 8);
    assert_eq!(audit_count(&w.app, "screen.create").await, 1);
}

#[tokio::test]
async fn a_movie_is_added_through_the_form_with_errors_next_to_the_fields() {
    let w = world().await;
    assert_eq!(
        w.staff.get("/admin/movies/new").await.status(),
        StatusCode::OK
    );
    let response = w
        .staff
        .post_form(
            "/admin/movies/new",
            &[
                ("title", ""),
                ("synopsis", "Kept <b>as typed</b>"),
                ("runtime_minutes", "0"),
                ("certificate", "XXX"),
                ("release_date", "soon"),
                ("genres", "Drama"),
                ("languages", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    for field in [
        "title",
        "runtime_minutes",
        "certificate",
        "release_date",
        "languages",
    ] {
        assert!(
            body.contains(&format!("id=\"{field}-error\"")),
            "{field}: {body}"
        );
    }
    assert!(
        body.contains("Kept &#60;b&#62;as typed&#60;/b&#62;")
            || body.contains("Kept &lt;b&gt;as typed"),
        "{body}"
    );
    assert!(body.contains("value=\"soon\""));

    let response = w
        .staff
        .post_form(
            "/admin/movies/new",
            &[
                ("title", "The Admin Returns"),
                ("synopsis", "Staff save the day."),
                ("runtime_minutes", "131"),
                ("certificate", "UA"),
                ("release_date", "2026-11-20"),
                ("genres", "Drama, Thriller"),
                ("languages", "Hindi, English"),
                ("trailer_url", ""),
            ],
        )
        .await;
    let page = follow(&w.staff, response).await;
    assert!(page.contains("The Admin Returns is added"), "{page}");
    assert!(page.contains("movie.create"), "{page}");
    let count = scalar(
        &w.app,
        "SELECT COUNT(*) FROM movies WHERE slug = $1 AND runtime_minutes = 131",
        "the-admin-returns",
    )
    .await;
    assert_eq!(count, 1);
}

fn kolkata_local(at: time::OffsetDateTime) -> String {
    let local = at.to_offset(time::UtcOffset::from_hms(5, 30, 0).unwrap());
    format!("{}T{:02}:{:02}", local.date(), local.hour(), local.minute())
}

#[tokio::test]
async fn a_showtime_is_scheduled_with_a_price_per_category_and_the_overlap_rule() {
    let w = world().await;
    let show = seed_small_showtime(&w.app).await;
    let (status, page) = w
        .staff
        .get_text(&format!(
            "/admin/showtimes/new?screen_id={}",
            show.screen_id
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let classic = format!("price_{}", show.classic_category_id);
    let prime = format!("price_{}", show.prime_category_id);
    assert!(
        page.contains(&format!("name=\"{classic}\""))
            && page.contains(&format!("name=\"{prime}\""))
    );

    let screen = show.screen_id.to_string();
    let movie = show.movie_id.to_string();
    let clash_start = kolkata_local(show.starts_at + time::Duration::minutes(30));
    let later = kolkata_local(show.starts_at + time::Duration::hours(6));
    let form = |start: &str, classic_price: &str| {
        vec![
            ("screen_id".to_owned(), screen.clone()),
            ("movie_id".to_owned(), movie.clone()),
            ("starts_at".to_owned(), start.to_owned()),
            ("language".to_owned(), "Hindi".to_owned()),
            ("format".to_owned(), "2D".to_owned()),
            (classic.clone(), classic_price.to_owned()),
            (prime.clone(), "300".to_owned()),
        ]
    };
    let post = |fields: Vec<(String, String)>| {
        let staff = w.staff.clone();
        async move {
            let borrowed: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            staff.post_form("/admin/showtimes/new", &borrowed).await
        }
    };

    let response = post(form(&later, "cheap")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(body.contains(&format!("id=\"{classic}-error\"")), "{body}");
    assert!(body.contains("value=\"cheap\""));

    let response = post(form(&clash_start, "150")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(body.contains("id=\"starts_at-error\""), "{body}");
    assert!(body.contains("is already showing"), "{body}");

    let response = post(form(&later, "150.50")).await;
    let page = follow(&w.staff, response).await;
    assert!(page.contains("The showtime is scheduled"), "{page}");
    let price: i64 = sqlx::query_scalar(
        "SELECT p.price_paise FROM showtime_prices p JOIN showtimes s ON s.id = p.showtime_id \
         WHERE s.screen_id = $1 AND s.id <> $2 AND p.category_id = $3",
    )
    .bind(show.screen_id)
    .bind(show.showtime_id)
    .bind(show.classic_category_id)
    .fetch_one(w.app.db.reader())
    .await
    .unwrap();
    assert_eq!(price, 15_050);
    assert_eq!(audit_count(&w.app, "showtime.create").await, 1);
}

#[tokio::test]
async fn cities_and_theatres_are_added_with_errors_next_to_the_fields() {
    let w = world().await;
    let response = w
        .staff
        .post_form(
            "/admin/cities",
            &[("city_name", "Pune"), ("city_slug", "Pune City")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(body.contains("id=\"city_slug-error\""), "{body}");
    assert!(body.contains("value=\"Pune City\""));
    let response = w
        .staff
        .post_form(
            "/admin/cities",
            &[("city_name", "Pune"), ("city_slug", "pune")],
        )
        .await;
    assert!(follow(&w.staff, response).await.contains("Pune is saved"));
    let city = scalar(&w.app, "SELECT id FROM cities WHERE slug = $1", "pune").await;

    let response = w
        .staff
        .post_form(
            "/admin/theatres",
            &[
                ("theatre_city_id", &city.to_string()),
                ("theatre_name", "Deccan Talkies"),
                ("theatre_address", "FC Road"),
                ("theatre_timezone", "Mars/Olympus"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(body.contains("id=\"theatre_timezone-error\""), "{body}");
    assert!(body.contains("value=\"Deccan Talkies\""));
    let response = w
        .staff
        .post_form(
            "/admin/theatres",
            &[
                ("theatre_city_id", &city.to_string()),
                ("theatre_name", "Deccan Talkies"),
                ("theatre_address", "FC Road"),
                ("theatre_timezone", "Asia/Kolkata"),
            ],
        )
        .await;
    let page = follow(&w.staff, response).await;
    assert!(page.contains("Deccan Talkies is saved") && page.contains("Deccan Talkies, Pune"));
    assert_eq!(audit_count(&w.app, "city.create").await, 1);
    assert_eq!(audit_count(&w.app, "theatre.create").await, 1);
}

#[tokio::test]
async fn a_city_is_renamed_and_its_slug_kept_unique() {
    let w = world().await;
    let first = seed_small_showtime(&w.app).await;
    let second = seed_small_showtime(&w.app).await;
    let page = w
        .staff
        .get_text(&format!("/admin/cities/{}", first.city_id))
        .await;
    assert_eq!(page.0, StatusCode::OK);
    assert!(page.1.contains(&format!("value=\"{}\"", first.city_slug)));

    // Another city's address is refused, next to the field, with what was typed kept.
    let response = w
        .staff
        .post_form(
            &format!("/admin/cities/{}", first.city_id),
            &[("name", "Poona"), ("slug", &second.city_slug)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(body.contains("id=\"slug-error\"") && body.contains("Another city already uses"));
    assert!(body.contains("value=\"Poona\""), "{body}");
    let response = w
        .staff
        .post_form(
            &format!("/admin/cities/{}", first.city_id),
            &[("name", "Poona"), ("slug", "Not A Slug")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let response = w
        .staff
        .post_form(
            &format!("/admin/cities/{}", first.city_id),
            &[("name", "Pune"), ("slug", "pune")],
        )
        .await;
    let page = follow(&w.staff, response).await;
    assert!(page.contains("Pune is saved"), "{page}");
    assert_eq!(
        scalar(
            &w.app,
            "SELECT COUNT(*) FROM cities WHERE slug = $1",
            "pune"
        )
        .await,
        1
    );
    let (_, movies) = w.staff.get_text("/movies?city=pune").await;
    assert!(
        movies.contains(&format!("/movies/{}", first.movie_slug)),
        "{movies}"
    );
    let summary: String = sqlx::query_scalar(
        "SELECT summary FROM audit_log WHERE action = 'city.update' AND target_id = $1",
    )
    .bind(first.city_id.to_string())
    .fetch_one(w.app.db.reader())
    .await
    .unwrap();
    assert!(
        summary.contains("slug: fixture-city-") && summary.contains("-> pune"),
        "{summary}"
    );
    assert_eq!(
        w.staff.get("/admin/cities/999999").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.staff.get("/admin/cities/pune").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_theatre_is_edited_but_keeps_its_timezone_while_showtimes_are_to_run() {
    let w = world().await;
    let show = seed_small_showtime(&w.app).await;
    let other = seed_small_showtime(&w.app).await;
    let path = format!("/admin/theatres/{}", show.theatre_id);
    let (status, page) = w.staff.get_text(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("value=\"Asia/Kolkata\""));

    let city = other.city_id.to_string();
    let edit = |timezone: &'static str| {
        vec![
            ("city_id", city.clone()),
            ("name", "Fixture Talkies Deluxe".to_owned()),
            ("address", "2 Ring Road".to_owned()),
            ("timezone", timezone.to_owned()),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let path = path.clone();
        let staff = &w.staff;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            staff.post_form(&path, &fields).await
        }
    };

    let response = post(edit("Asia/Dubai")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(body.contains("id=\"timezone-error\""), "{body}");
    assert!(
        body.contains("1 showtime(s) here are still to run"),
        "{body}"
    );
    assert!(body.contains("value=\"2 Ring Road\""));
    let response = post(edit("Nowhere/Special")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let response = post(edit("Asia/Kolkata")).await;
    let page = follow(&w.staff, response).await;
    assert!(page.contains("Fixture Talkies Deluxe is saved"), "{page}");
    let moved: i64 = sqlx::query_scalar("SELECT city_id FROM theatres WHERE id = $1")
        .bind(show.theatre_id)
        .fetch_one(w.app.db.reader())
        .await
        .unwrap();
    assert_eq!(moved, other.city_id);

    // Once its showtime is cancelled the timezone may change.
    w.staff
        .post_form(
            &format!("/admin/showtimes/{}/cancel", show.showtime_id),
            &[("confirm", "yes")],
        )
        .await;
    let response = post(edit("Asia/Dubai")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let summary: String = sqlx::query_scalar(
        "SELECT summary FROM audit_log WHERE action = 'theatre.update' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(w.app.db.reader())
    .await
    .unwrap();
    assert_eq!(summary, "timezone: Asia/Kolkata -> Asia/Dubai");
    assert_eq!(audit_count(&w.app, "theatre.update").await, 2);
}

#[tokio::test]
async fn a_movie_is_edited_keeping_its_link_but_not_under_its_scheduled_showtimes() {
    let w = world().await;
    let show = seed_small_showtime(&w.app).await;
    let path = format!("/admin/movies/{}", show.movie_id);
    let (_, page) = w.staff.get_text(&path).await;
    assert!(
        page.contains("value=\"120\"") && page.contains("value=\"Drama\""),
        "{page}"
    );

    let fields = |runtime: &'static str, languages: &'static str, title: &'static str| {
        [
            ("title", title),
            ("synopsis", "Now with <script>alert(1)</script> in it."),
            ("runtime_minutes", runtime),
            ("certificate", "A"),
            ("release_date", "2026-11-01"),
            ("genres", "Drama, Comedy"),
            ("languages", languages),
            ("trailer_url", "https://example.com/trailer"),
        ]
    };
    // Its Hindi showtime is still to run: the runtime and Hindi must stay.
    let response = w
        .staff
        .post_form(&path, &fields("150", "English", "Fixture Movie Redux"))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(body.contains("id=\"runtime_minutes-error\""), "{body}");
    assert!(body.contains("Keep Hindi (1 showtime(s))"), "{body}");
    assert!(body.contains("value=\"Fixture Movie Redux\""));
    assert!(
        !body.contains("<script>alert(1)"),
        "the synopsis is escaped"
    );
    let response = w.staff.post_form(&path, &fields("120", "Hindi", "")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("id=\"title-error\"")
    );

    let response = w
        .staff
        .post_form(&path, &fields("120", "Hindi, Tamil", "Fixture Movie Redux"))
        .await;
    let page = follow(&w.staff, response).await;
    assert!(page.contains("Fixture Movie Redux is saved"), "{page}");
    assert!(
        page.contains("movie.update"),
        "the movie's audit trail lists the edit"
    );
    let (status, public) = w
        .staff
        .get_text(&format!("/movies/{}", show.movie_slug))
        .await;
    assert_eq!(status, StatusCode::OK, "the old link still works");
    assert!(public.contains("Fixture Movie Redux") && public.contains("Comedy"));
    let summary: String = sqlx::query_scalar(
        "SELECT summary FROM audit_log WHERE action = 'movie.update' AND target_id = $1",
    )
    .bind(show.movie_id.to_string())
    .fetch_one(w.app.db.reader())
    .await
    .unwrap();
    assert!(summary.contains("title: Fixture Movie "), "{summary}");
    assert!(summary.contains("certificate: UA -> A"), "{summary}");
    assert!(
        summary.contains("languages: English, Hindi -> Hindi, Tamil"),
        "{summary}"
    );
    assert!(!summary.contains("runtime"), "{summary}");

    // After the showtime is cancelled the runtime is free to change.
    w.staff
        .post_form(
            &format!("/admin/showtimes/{}/cancel", show.showtime_id),
            &[("confirm", "yes")],
        )
        .await;
    let response = w
        .staff
        .post_form(&path, &fields("150", "English", "Fixture Movie Redux"))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        scalar(
            &w.app,
            "SELECT runtime_minutes FROM movies WHERE slug = $1",
            &show.movie_slug
        )
        .await,
        150
    );
    assert_eq!(
        w.staff
            .post_form("/admin/movies/999999", &fields("120", "Hindi", "X"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}
