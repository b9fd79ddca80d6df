//! Catalogue load benchmark (not a test: it reports figures, it asserts nothing).
//!
//! Starts the real application on a fresh database (a temporary SQLite file, or a new
//! PostgreSQL database when `BENCH_DATABASE_URL=postgres://...` is set), loads the demo
//! catalogue, then drives `BENCH_CONNECTIONS` (default 32) concurrent keep-alive
//! connections for `BENCH_SECONDS` (default 10) per route and prints requests per second
//! and latency percentiles:
//!
//! ```sh
//! cargo bench --bench catalogue
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench catalogue
//! ```
//!
//! `BENCH_ROUTE=slug` runs only the routes whose name contains that text.
//!
//! The client runs in the same process and on the same cores as the server, so the
//! figures are a floor for what the server alone could do.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use moviebooking::clock::Clock;
use moviebooking::config::Config;
use moviebooking::db::Db;
use moviebooking::state::AppState;
use tokio::sync::oneshot;

struct Route {
    name: &'static str,
    paths: Vec<String>,
}

struct Outcome {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Runs `connections` workers against the route's paths (round robin) for `duration`.
async fn drive(
    client: &reqwest::Client,
    base: &str,
    route: &Route,
    connections: usize,
    duration: Duration,
) -> Outcome {
    let paths = Arc::new(route.paths.clone());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let client = client.clone();
            let paths = paths.clone();
            let next = next.clone();
            let base = base.to_owned();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0usize;
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed) % paths.len();
                    let url = format!("{base}{}", paths[i]);
                    let sent = Instant::now();
                    match client.get(&url).send().await {
                        Ok(response) => {
                            let ok = response.status().is_success();
                            let body = response.bytes().await;
                            if !ok || body.is_err() {
                                errors += 1;
                            }
                        }
                        Err(_) => errors += 1,
                    }
                    latencies.push(sent.elapsed());
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        if let Ok((l, e)) = worker.await {
            latencies.extend(l);
            errors += e;
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Outcome {
        requests: latencies.len(),
        errors,
        elapsed,
        latencies,
    }
}

/// A fresh database URL, and the admin URL plus name to drop it with afterwards.
async fn fresh_database(dir: &std::path::Path) -> (String, Option<(String, String)>) {
    match std::env::var("BENCH_DATABASE_URL") {
        Ok(admin) if admin.starts_with("postgres") => {
            use sqlx::Connection;
            let name = format!(
                "mb_bench_{}",
                moviebooking::domain::tokens::random_token(10)
                    .to_lowercase()
                    .replace(['-', '_'], "x")
            );
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect to BENCH_DATABASE_URL");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .execute(&mut conn)
                .await
                .expect("create the benchmark database");
            let mut url = url::Url::parse(&admin).expect("BENCH_DATABASE_URL is a URL");
            url.set_path(&format!("/{name}"));
            (url.to_string(), Some((admin, name)))
        }
        _ => (format!("sqlite://{}", dir.join("bench.db").display()), None),
    }
}

#[tokio::main]
async fn main() {
    let seconds = env_number("BENCH_SECONDS", 10);
    let connections = env_number("BENCH_CONNECTIONS", 32) as usize;
    let dir = tempfile::tempdir().expect("temp dir");
    let (database_url, cleanup) = fresh_database(dir.path()).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    let base = format!("http://127.0.0.1:{port}");
    let vars = std::collections::HashMap::from([
        ("DATABASE_URL".to_owned(), database_url.clone()),
        ("BASE_URL".to_owned(), base.clone()),
        ("PORT".to_owned(), port.to_string()),
        (
            "SECRET_KEY".to_owned(),
            "bench-secret-key-that-is-long-enough-0123456789".to_owned(),
        ),
        ("EMAIL_BACKEND".to_owned(), "file".to_owned()),
        (
            "EMAIL_FILE_DIR".to_owned(),
            dir.path().join("mail").display().to_string(),
        ),
    ]);
    let config = Config::from_vars(&vars, dir.path()).expect("configuration");
    let db = Db::connect(&config.database_url, config.db_acquire_timeout)
        .await
        .expect("open the database");
    moviebooking::db::migrate::run(&db).await.expect("migrate");
    let clock = Clock::system();
    let seeded = Instant::now();
    let report = moviebooking::seed::seed_demo(&db, clock.now())
        .await
        .expect("seed the demo catalogue");
    let engine = match db.engine() {
        moviebooking::db::Engine::Sqlite => "SQLite",
        moviebooking::db::Engine::Postgres => "PostgreSQL",
    };
    println!(
        "engine: {engine}; {report} (in {:.1} s)",
        seeded.elapsed().as_secs_f64()
    );

    let slugs: Vec<String> = sqlx::query_scalar("SELECT slug FROM movies ORDER BY id")
        .fetch_all(db.reader())
        .await
        .expect("slugs");
    let showtimes: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM showtimes WHERE starts_at > $1 ORDER BY starts_at LIMIT 200",
    )
    .bind(clock.unix_now())
    .fetch_all(db.reader())
    .await
    .expect("showtimes");
    let tomorrow = moviebooking::domain::catalogue::today(clock.now()) + time::Duration::days(1);

    let state = AppState::new(config, db.clone(), clock).expect("app state");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(moviebooking::server::serve(state, listener, async {
        let _ = stopped.await;
    }));

    // A cookie jar, like a returning visitor's browser: the CSRF cookie issued on the first
    // answer is sent back, so the server does not mint a new one for every request.
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .pool_max_idle_per_host(connections)
        .build()
        .expect("client");
    let routes = [
        Route {
            name: "GET /movies",
            paths: vec![
                "/movies".into(),
                "/movies?city=mumbai".into(),
                "/movies?q=the".into(),
                format!("/movies?city=bengaluru&date={tomorrow}&language=Hindi"),
            ],
        },
        Route {
            name: "GET /movies/{slug}",
            paths: slugs.iter().map(|s| format!("/movies/{s}")).collect(),
        },
        Route {
            name: "GET /api/v1/showtimes/{id}/seats",
            paths: showtimes
                .iter()
                .map(|id| format!("/api/v1/showtimes/{id}/seats"))
                .collect(),
        },
    ];

    println!("{connections} connections, {seconds} s per route (after a 1 s warm-up)\n");
    println!(
        "{:<34} {:>9} {:>8} {:>9} {:>9} {:>9}",
        "route", "req/s", "errors", "p50 ms", "p99 ms", "max ms"
    );
    let only = std::env::var("BENCH_ROUTE").unwrap_or_default();
    for route in routes.iter().filter(|r| r.name.contains(&only)) {
        if route.paths.is_empty() {
            println!("{:<34} no data to request", route.name);
            continue;
        }
        let probe = client
            .get(format!("{base}{}", route.paths[0]))
            .send()
            .await
            .map(|r| r.status());
        match probe {
            Ok(status) if status == reqwest::StatusCode::NOT_FOUND => {
                println!(
                    "{:<34} MISSING: answers 404 (the route is not on this branch yet)",
                    route.name
                );
                continue;
            }
            Ok(status) if !status.is_success() => {
                println!("{:<34} answers {status}; skipped", route.name);
                continue;
            }
            Err(error) => {
                println!("{:<34} failed: {error}", route.name);
                continue;
            }
            Ok(_) => {}
        }
        drive(&client, &base, route, connections, Duration::from_secs(1)).await;
        let outcome = drive(
            &client,
            &base,
            route,
            connections,
            Duration::from_secs(seconds),
        )
        .await;
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{:<34} {:>9.0} {:>8} {:>9.2} {:>9.2} {:>9.2}",
            route.name,
            outcome.requests as f64 / outcome.elapsed.as_secs_f64(),
            outcome.errors,
            ms(percentile(&outcome.latencies, 50.0)),
            ms(percentile(&outcome.latencies, 99.0)),
            ms(outcome.latencies.last().copied().unwrap_or_default()),
        );
    }

    let _ = stop.send(());
    let _ = server.await;
    db.close().await;
    if let Some((admin, name)) = cleanup {
        use sqlx::Connection;
        if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        }
    }
}
