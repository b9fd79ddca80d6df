//! The door at opening time: 4 doors admitting the 300 tickets of a full 300-seat showtime
//! at once, over real HTTP (`POST /api/v1/checkin` with each ticket's signed token, as the
//! door page's camera sends it). Every door is handed every ticket, in its own order, so
//! each ticket is raced by 4 doors: 300 must be admitted and 900 answered "already
//! admitted". Reports admissions per second, scans per second, latency percentiles and the
//! bookings with more than one live admission (must be 0). Run:
//!
//!     cargo bench --bench checkin                                   # SQLite
//!     BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/test cargo bench --bench checkin

mod support;

use std::sync::Arc;
use std::time::Instant;

use moviebooking::domain::roles::Role;
use moviebooking::domain::users::{self, NewUser};
use moviebooking::domain::{bookings, ticket_keys};
use rand::seq::SliceRandom;
use serde_json::json;
use tokio::sync::Barrier;

const DOORS: usize = 4;

#[tokio::main]
async fn main() {
    // Doors open long before the demo's showtimes, so any of them can be admitted now.
    let app = support::start(&[("CHECKIN_OPENS_MINUTES", "100000")]).await;
    let db = &app.state.db;
    let now = app.state.clock.unix_now();
    let (showtime_id, screen_id): (i64, i64) = sqlx::query_as(
        "SELECT st.id, st.screen_id FROM showtimes st WHERE st.starts_at > $1 AND st.is_cancelled = 0 \
         AND st.screen_id = (SELECT screen_id FROM seats GROUP BY screen_id ORDER BY COUNT(*) DESC LIMIT 1) \
         ORDER BY st.starts_at LIMIT 1",
    )
    .bind(now + 3600)
    .fetch_one(db.reader())
    .await
    .expect("a showtime on the largest screen");
    let seats: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, label FROM seats WHERE screen_id = $1 AND kind <> 'blocked' ORDER BY id",
    )
    .bind(screen_id)
    .fetch_all(db.reader())
    .await
    .expect("seats");

    // A full house: one confirmed booking per seat, written straight into the database
    // (selling is the holds benchmark's job), then each ticket's token as its owner sees it.
    let owner = users::create_user(
        db,
        NewUser {
            email: users::Email::parse("audience@example.com").expect("email"),
            name: "Audience".into(),
            password: "correct horse battery staple".into(),
            role: Role::Customer,
            email_verified: true,
        },
        now,
    )
    .await
    .expect("owner");
    let mut tokens = Vec::with_capacity(seats.len());
    for (i, (seat_id, label)) in seats.iter().enumerate() {
        let public_id = format!("bench-booking-{i:04}");
        let code = format!("BN{:06}", i).replace('0', "A").replace('1', "B");
        let booking_id: i64 = sqlx::query_scalar(
            "INSERT INTO bookings (public_id, code, user_id, showtime_id, status, hold_expires_at, \
             seats_paise, fee_paise, tax_paise, total_paise, created_at, updated_at, confirmed_at) \
             VALUES ($1, $2, $3, $4, 'confirmed', $5, 20000, 3000, 540, 23540, $5, $5, $5) RETURNING id",
        )
        .bind(&public_id)
        .bind(&code)
        .bind(owner.id)
        .bind(showtime_id)
        .bind(now)
        .fetch_one(db.writer())
        .await
        .expect("booking");
        sqlx::query(
            "INSERT INTO booking_seats (booking_id, seat_id, label, category_name, price_paise) \
             VALUES ($1, $2, $3, 'Classic', 20000)",
        )
        .bind(booking_id)
        .bind(seat_id)
        .bind(label)
        .execute(db.writer())
        .await
        .expect("booking seat");
        sqlx::query(
            "INSERT INTO seat_claims (showtime_id, seat_id, booking_id, expires_at) VALUES ($1, $2, $3, NULL)",
        )
        .bind(showtime_id)
        .bind(seat_id)
        .bind(booking_id)
        .execute(db.writer())
        .await
        .expect("claim");
        let booking = bookings::find_by_public_id(
            db,
            &bookings::PublicId::parse(&public_id).expect("public id"),
        )
        .await
        .expect("load")
        .expect("booking exists");
        tokens.push(
            ticket_keys::ticket_token(db, &booking)
                .await
                .expect("token")
                .expect("a confirmed booking has a token"),
        );
    }

    let mut doors = Vec::new();
    for i in 0..DOORS {
        let email = format!("door{i}@example.com");
        let password = "correct horse battery staple";
        users::create_user(
            db,
            NewUser {
                email: users::Email::parse(&email).expect("email"),
                name: format!("Door {i}"),
                password: password.into(),
                role: Role::Usher,
                email_verified: true,
            },
            now,
        )
        .await
        .expect("usher");
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        let login = client
            .post(format!("{}/api/v1/auth/login", app.base_url))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("login");
        assert!(login.status().is_success(), "login {}", login.status());
        let mut queue = tokens.clone();
        queue.shuffle(&mut rand::rng());
        doors.push((client, queue));
    }

    let barrier = Arc::new(Barrier::new(DOORS));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (client, queue) in doors {
        let url = format!("{}/api/v1/checkin", app.base_url);
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut samples = Vec::with_capacity(queue.len());
            let (mut admitted, mut already, mut errors) = (0u64, 0u64, 0u64);
            for token in queue {
                let t = Instant::now();
                let status = client
                    .post(&url)
                    .json(&json!({ "token": token, "showtime_id": showtime_id }))
                    .send()
                    .await
                    .map(|r| r.status().as_u16());
                samples.push(t.elapsed());
                match status {
                    Ok(200) => admitted += 1,
                    Ok(409) => already += 1,
                    _ => errors += 1,
                }
            }
            (samples, admitted, already, errors)
        }));
    }
    let mut samples = Vec::new();
    let (mut admitted, mut already, mut errors) = (0, 0, 0);
    for task in tasks {
        let (s, a, r, e) = task.await.expect("door");
        samples.extend(s);
        admitted += a;
        already += r;
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let stats = support::stats(samples);
    let doubled: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT booking_id FROM admissions WHERE undone_at IS NULL \
         GROUP BY booking_id HAVING COUNT(*) > 1) AS d",
    )
    .fetch_one(db.reader())
    .await
    .expect("invariant");
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admissions")
        .fetch_one(db.reader())
        .await
        .expect("count");
    println!(
        "check-in on {} ({} tickets, {DOORS} doors, every door scanning every ticket): {:.1} s, \
         {:.0} admissions/s, {:.0} scans/s ({admitted} admitted, {already} already admitted, {errors} errors); \
         latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms; admission rows {rows}, double admissions: {doubled}",
        app.engine,
        tokens.len(),
        elapsed,
        admitted as f64 / elapsed,
        stats.count as f64 / elapsed,
        stats.p50_ms,
        stats.p95_ms,
        stats.p99_ms,
        stats.max_ms,
    );
}
