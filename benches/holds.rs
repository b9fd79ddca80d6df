//! Hold throughput: 64 logged-in clients competing for the seats of one 300-seat showtime,
//! each repeatedly holding 1-4 random seats over real HTTP. Reports holds per second
//! (granted and refused) and latency percentiles. Run:
//!
//!     cargo bench --bench holds                                   # SQLite
//!     BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/test cargo bench --bench holds

mod support;

use std::time::Instant;

use rand::Rng;
use serde_json::json;

const CLIENTS: usize = 64;

#[tokio::main]
async fn main() {
    let app = support::start(&[
        ("HOLD_TTL_SECONDS", "3600"),
        ("MAX_LIVE_HOLDS_PER_USER", "1000"),
    ])
    .await;
    let db = &app.state.db;
    // The demo's largest screen has 300 seats; pick its first upcoming showtime.
    let (showtime_id, screen_id): (i64, i64) = sqlx::query_as(
        "SELECT st.id, st.screen_id FROM showtimes st WHERE st.starts_at > $1 AND st.is_cancelled = 0 \
         AND st.screen_id = (SELECT screen_id FROM seats GROUP BY screen_id ORDER BY COUNT(*) DESC LIMIT 1) \
         ORDER BY st.starts_at LIMIT 1",
    )
    .bind(app.state.clock.unix_now() + 3600)
    .fetch_one(db.reader())
    .await
    .expect("a showtime on the largest screen");
    let seat_ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM seats WHERE screen_id = $1 AND kind <> 'blocked' ORDER BY id",
    )
    .bind(screen_id)
    .fetch_all(db.reader())
    .await
    .expect("seats");

    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        let email = format!("bench{i}@example.com");
        let password = "correct horse battery staple";
        let new = moviebooking::domain::users::NewUser {
            email: moviebooking::domain::users::Email::parse(&email).expect("email"),
            name: format!("Bench {i}"),
            password: password.into(),
            role: moviebooking::domain::roles::Role::Customer,
            email_verified: true,
        };
        moviebooking::domain::users::create_user(db, new, app.state.clock.unix_now())
            .await
            .expect("user");
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        let response = client
            .post(format!("{}/api/v1/auth/login", app.base_url))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("login");
        assert!(
            response.status().is_success(),
            "login {}",
            response.status()
        );
        clients.push(client);
    }

    let duration = support::duration();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in clients {
        let url = format!("{}/api/v1/showtimes/{showtime_id}/holds", app.base_url);
        let seat_ids = seat_ids.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let (mut granted, mut refused, mut errors) = (0u64, 0u64, 0u64);
            while started.elapsed() < duration {
                let wanted: Vec<i64> = {
                    let mut rng = rand::rng();
                    let n = rng.random_range(1..=4);
                    let start = rng.random_range(0..seat_ids.len() - n);
                    seat_ids[start..start + n].to_vec()
                };
                let t = Instant::now();
                let status = client
                    .post(&url)
                    .json(&json!({ "seat_ids": wanted }))
                    .send()
                    .await
                    .map(|r| r.status().as_u16());
                samples.push(t.elapsed());
                match status {
                    Ok(201) => granted += 1,
                    Ok(409) => refused += 1,
                    _ => errors += 1,
                }
            }
            (samples, granted, refused, errors)
        }));
    }
    let mut samples = Vec::new();
    let (mut granted, mut refused, mut errors) = (0, 0, 0);
    for task in tasks {
        let (s, g, r, e) = task.await.expect("client");
        samples.extend(s);
        granted += g;
        refused += r;
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let stats = support::stats(samples);
    let doubled: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT bs.seat_id FROM booking_seats bs JOIN bookings b ON b.id = bs.booking_id \
         WHERE b.showtime_id = $1 AND b.status = 'pending' GROUP BY bs.seat_id HAVING COUNT(*) > 1) AS d",
    )
    .bind(showtime_id)
    .fetch_one(db.reader())
    .await
    .expect("invariant");
    println!(
        "holds on {} ({} seats, {CLIENTS} clients, {:.0} s): {:.0} holds/s ({granted} granted, {refused} refused with 409, {errors} errors); \
         latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms; seats in two live holds: {doubled}",
        app.engine,
        seat_ids.len(),
        elapsed,
        stats.count as f64 / elapsed,
        stats.p50_ms,
        stats.p95_ms,
        stats.p99_ms,
        stats.max_ms,
    );
}
