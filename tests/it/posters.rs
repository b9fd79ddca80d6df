//! Poster uploads keep only pixels: every upload is decoded and encoded again, so a file
//! that starts like an image and carries HTML (a "polyglot") is either refused or stored
//! without its payload; what does not decode is refused with a message on the field; a
//! decompression bomb is refused before it is decoded; and list pages get a card rendition
//! 342 pixels wide, cached like the full poster.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, GrayImage, ImageFormat, Luma, Rgb, RgbImage};
use moviebooking::domain::catalogue;
use moviebooking::domain::ids::MovieId;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

use crate::common::admin::{audit_count, follow, upload_poster, world};
use crate::common::catalogue::{seed_demo, seed_small_showtime};
use crate::common::{Browser, TestApp, location};

fn gradient(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 90])
    })
}

fn png_of(image: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

fn jpeg_of(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(image)
        .unwrap();
    out
}

fn webp_of(image: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_with_encoder(WebPEncoder::new_lossless(&mut out))
        .unwrap();
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

const PAYLOAD: &[u8] = b"<html><body><script>alert(document.cookie)</script></body></html>";

/// No trace of markup in served bytes.
fn assert_no_html(bytes: &[u8], what: &str) {
    for needle in [&b"<html"[..], b"<script", b"<body", b"alert("] {
        assert!(
            !contains(bytes, needle),
            "{what} contains {:?}",
            String::from_utf8_lossy(needle)
        );
    }
}

async fn get_bytes(browser: &Browser, path: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let response = browser.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let headers = response.headers().clone();
    (headers, response.bytes().await.unwrap().to_vec())
}

/// The image format a `content-type` header names.
fn format_of(content_type: &str) -> ImageFormat {
    ImageFormat::from_mime_type(content_type)
        .unwrap_or_else(|| panic!("not an image type: {content_type}"))
}

#[tokio::test]
async fn a_png_signature_followed_by_html_is_refused() {
    let w = world().await;
    let movie = seed_small_showtime(&w.app).await.movie_id;
    let mut polyglot = b"\x89PNG\r\n\x1a\n".to_vec();
    polyglot.extend_from_slice(PAYLOAD);
    let response = upload_poster(&w.staff, movie, "poster.png", "image/png", &polyglot).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(body.contains("id=\"poster-error\""), "{body}");
    assert!(
        body.contains("could not be read as a PNG, JPEG or WebP image"),
        "{body}"
    );
    // Nothing was stored or audited: the movie still shows the placeholder.
    let response = w.staff.get(&format!("/media/posters/{movie}")).await;
    assert!(response.status().is_redirection());
    assert!(location(&response).starts_with("/static/img/poster-placeholder.svg"));
    assert_eq!(audit_count(&w.app, "movie.poster").await, 0);
}

#[tokio::test]
async fn a_real_png_with_html_after_its_end_is_stored_without_it() {
    let w = world().await;
    let movie = seed_small_showtime(&w.app).await.movie_id;
    let original = DynamicImage::ImageRgb8(gradient(300, 450));
    let clean = png_of(&original);
    let mut polyglot = clean.clone();
    polyglot.extend_from_slice(PAYLOAD);
    // It really is a polyglot: an image decoder reads it, and the HTML is in it.
    image::load_from_memory(&polyglot).unwrap();
    assert!(contains(&polyglot, b"<script"));

    let response = upload_poster(&w.staff, movie, "poster.png", "image/png", &polyglot).await;
    let page = follow(&w.staff, response).await;
    assert!(page.contains("The poster is updated"), "{page}");

    let (headers, full) = get_bytes(&w.staff, &format!("/media/posters/{movie}")).await;
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_no_html(&full, "the full poster");
    assert_ne!(full, polyglot, "stored re-encoded, not as uploaded");
    let decoded = image::load_from_memory_with_format(&full, ImageFormat::Png).unwrap();
    assert_eq!(decoded.to_rgb8(), original.to_rgb8(), "the pixels are kept");

    let (headers, card) = get_bytes(&w.staff, &format!("/media/posters/{movie}/card")).await;
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_no_html(&card, "the card");
    image::load_from_memory_with_format(&card, ImageFormat::Jpeg).unwrap();

    // The same holds for HTML hidden inside a JPEG (after its end marker).
    let mut jpeg = jpeg_of(&gradient(200, 300));
    jpeg.extend_from_slice(PAYLOAD);
    let response = upload_poster(&w.staff, movie, "poster.jpg", "image/jpeg", &jpeg).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, full) = get_bytes(&w.staff, &format!("/media/posters/{movie}")).await;
    assert_no_html(&full, "the full JPEG poster");
    assert_ne!(full, jpeg);
    assert_eq!(audit_count(&w.app, "movie.poster").await, 2);
}

#[tokio::test]
async fn files_that_do_not_decode_get_422_with_a_clear_message_on_the_field() {
    let w = world().await;
    let movie = seed_small_showtime(&w.app).await.movie_id;
    let good = png_of(&DynamicImage::ImageRgb8(gradient(120, 180)));
    let truncated = good[..good.len() / 2].to_vec();
    let mut jpeg_garbage = vec![0xFF, 0xD8, 0xFF, 0xE0];
    jpeg_garbage.extend_from_slice(PAYLOAD);
    let mut webp_garbage = b"RIFF\x40\0\0\0WEBPVP8 ".to_vec();
    webp_garbage.extend_from_slice(PAYLOAD);
    let unreadable = "could not be read as a PNG, JPEG or WebP image";
    let not_an_image = "The poster must be a PNG, JPEG or WebP image.";
    for (name, bytes, message) in [
        (
            "notes.txt",
            b"just some text, not a picture".to_vec(),
            not_an_image,
        ),
        ("page.html", PAYLOAD.to_vec(), not_an_image),
        (
            "doc.pdf",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec(),
            not_an_image,
        ),
        ("half.png", truncated, unreadable),
        ("fake.jpg", jpeg_garbage, unreadable),
        ("fake.webp", webp_garbage, unreadable),
    ] {
        let response = upload_poster(&w.staff, movie, name, "image/png", &bytes).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}"
        );
        let body = response.text().await.unwrap();
        assert!(body.contains("id=\"poster-error\""), "{name}: {body}");
        assert!(body.contains(message), "{name}: {body}");
    }
    assert_eq!(audit_count(&w.app, "movie.poster").await, 0);
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_not_decoded() {
    let w = world().await;
    let movie = seed_small_showtime(&w.app).await.movie_id;
    // Some 130 kB on the wire (well under the 2 MB limit), 25 million pixels once decoded.
    let bomb = png_of(&DynamicImage::ImageLuma8(GrayImage::from_pixel(
        5000,
        5000,
        Luma([7]),
    )));
    assert!(bomb.len() < 200_000, "{} bytes", bomb.len());
    let response = upload_poster(&w.staff, movie, "bomb.png", "image/png", &bomb).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(body.contains("id=\"poster-error\""), "{body}");
    assert!(
        body.contains("The poster must be at most 4096 × 6144 pixels."),
        "{body}"
    );
    assert_eq!(audit_count(&w.app, "movie.poster").await, 0);
}

#[tokio::test]
async fn jpeg_png_and_webp_uploads_are_stored_and_served_decodable() {
    let w = world().await;
    let movie = seed_small_showtime(&w.app).await.movie_id;
    let pixels = gradient(400, 600);
    let uploads = [
        ("poster.jpg", "image/jpeg", jpeg_of(&pixels), "image/jpeg"),
        (
            "poster.png",
            "image/png",
            png_of(&DynamicImage::ImageRgb8(pixels.clone())),
            "image/png",
        ),
        (
            "poster.webp",
            "image/webp",
            webp_of(&DynamicImage::ImageRgb8(pixels.clone())),
            "image/jpeg",
        ),
    ];
    for (count, (name, declared, bytes, stored_as)) in uploads.into_iter().enumerate() {
        let response = upload_poster(&w.staff, movie, name, declared, &bytes).await;
        let page = follow(&w.staff, response).await;
        assert!(page.contains("The poster is updated"), "{name}: {page}");
        let (headers, full) = get_bytes(&w.staff, &format!("/media/posters/{movie}")).await;
        let content_type = headers["content-type"].to_str().unwrap().to_owned();
        assert_eq!(content_type, stored_as, "{name}");
        let decoded = image::load_from_memory_with_format(&full, format_of(&content_type))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((decoded.width(), decoded.height()), (400, 600), "{name}");
        let (headers, card) = get_bytes(&w.staff, &format!("/media/posters/{movie}/card")).await;
        assert_eq!(headers["content-type"], "image/jpeg", "{name}");
        let card = image::load_from_memory_with_format(&card, ImageFormat::Jpeg).unwrap();
        assert_eq!((card.width(), card.height()), (342, 513), "{name}");
        assert_eq!(
            audit_count(&w.app, "movie.poster").await,
            count as i64 + 1,
            "{name}"
        );
    }
    let (_, audit) = w.staff.get_text("/admin/audit?target_type=movie").await;
    assert!(
        audit.contains("image/webp upload of") && audit.contains("stored as image/jpeg 400×600"),
        "{audit}"
    );
}

#[tokio::test]
async fn list_pages_show_the_card_rendition_342_wide_with_long_caching() {
    let app = TestApp::spawn().await;
    let show = seed_small_showtime(&app).await;
    let movie = show.movie_id;
    let png = moviebooking::seed::poster_png("Card Poster", (200.0, 260.0)).unwrap();
    let sha = catalogue::set_poster(&app.db, MovieId(movie), &png, app.state.clock.now())
        .await
        .unwrap();
    let browser = app.browser();

    // The list links to the versioned card; the movie page keeps the full poster.
    let card_url = format!("/media/posters/{movie}/card?v={}", &sha[..12]);
    let full_url = format!("/media/posters/{movie}?v={}", &sha[..12]);
    let (_, list) = browser
        .get_text(&format!("/movies?city={}", show.city_slug))
        .await;
    assert!(list.contains(&card_url), "{list}");
    assert!(list.contains("width=\"342\" height=\"513\""), "{list}");
    let (_, detail) = browser
        .get_text(&format!("/movies/{}", show.movie_slug))
        .await;
    assert!(detail.contains(&full_url), "{detail}");
    assert!(!detail.contains(&card_url));

    let response = browser.get(&card_url).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let card = response.bytes().await.unwrap();
    let card_sha = hex::encode(Sha256::digest(&card));
    assert_ne!(card_sha, sha, "the card has its own ETag");
    assert_eq!(headers["etag"], format!("\"{card_sha}\"").as_str());
    let decoded = image::load_from_memory_with_format(&card, ImageFormat::Jpeg).unwrap();
    // The seed draws 240 × 360 posters: the card is 342 wide, aspect kept.
    assert_eq!((decoded.width(), decoded.height()), (342, 513));
    assert!(card.len() < 60_000, "{} bytes", card.len());

    let response = browser.get(&format!("/media/posters/{movie}/card")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    let response = browser
        .get(&format!("/media/posters/{movie}/card?v=0123456789ab"))
        .await;
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");

    let response = browser
        .client
        .get(browser.url(&card_url))
        .header("if-none-match", format!("\"{card_sha}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        response.headers()["etag"],
        format!("\"{card_sha}\"").as_str()
    );
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(response.bytes().await.unwrap().is_empty());

    // A movie without a poster, and no movie at all.
    let other = seed_small_showtime(&app).await.movie_id;
    let response = browser.get(&format!("/media/posters/{other}/card")).await;
    assert!(response.status().is_redirection());
    assert!(location(&response).starts_with("/static/img/poster-placeholder.svg"));
    for path in [
        "/media/posters/999999/card",
        "/media/posters/abc/card",
        "/media/posters/99999999999999999999/card",
    ] {
        assert_eq!(
            browser.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_poster_stored_before_renditions_is_served_for_the_card_too() {
    let app = TestApp::spawn().await;
    let movie = seed_small_showtime(&app).await.movie_id;
    // A row as 0004 to 0009 stored them: no card columns.
    let legacy = png_of(&DynamicImage::ImageRgb8(gradient(240, 360)));
    let sha = hex::encode(Sha256::digest(&legacy));
    let poster_id: i64 = sqlx::query_scalar(
        "INSERT INTO posters (movie_id, name, content_type, data, sha256, created_at) \
         VALUES ($1, $2, 'image/png', $3, $4, 0) RETURNING id",
    )
    .bind(movie)
    .bind(format!("legacy-{movie}"))
    .bind(legacy.clone())
    .bind(&sha)
    .fetch_one(app.db.writer())
    .await
    .unwrap();
    sqlx::query("UPDATE movies SET poster_id = $1 WHERE id = $2")
        .bind(poster_id)
        .bind(movie)
        .execute(app.db.writer())
        .await
        .unwrap();

    let browser = app.browser();
    let url = format!("/media/posters/{movie}/card?v={}", &sha[..12]);
    let (headers, body) = get_bytes(&browser, &url).await;
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["etag"], format!("\"{sha}\"").as_str());
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(body, legacy);
    let (_, full) = get_bytes(&browser, &format!("/media/posters/{movie}")).await;
    assert_eq!(full, legacy);
}

#[tokio::test]
async fn demo_posters_go_through_the_same_re_encoding() {
    let app = TestApp::spawn().await;
    let started = std::time::Instant::now();
    let report = seed_demo(&app).await;
    assert!(report.created);
    let elapsed = started.elapsed();
    let (posters, with_cards): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(card_data) FROM posters WHERE content_type = 'image/png'",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(posters, report.movies as i64);
    assert_eq!(with_cards, posters, "every demo poster has a card");
    // Generous: the whole seed (posters and a week of showtimes) in a debug build.
    assert!(elapsed.as_secs() < 60, "seeding took {elapsed:?}");

    let browser = app.browser();
    let (headers, card) = get_bytes(&browser, "/media/posters/1/card").await;
    assert_eq!(headers["content-type"], "image/jpeg");
    let card = image::load_from_memory_with_format(&card, ImageFormat::Jpeg).unwrap();
    assert_eq!(card.width(), 342);
}
