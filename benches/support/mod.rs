//! Shared set-up for the benchmarks: the real application served on loopback over a fresh
//! database (a temporary SQLite file, or a fresh PostgreSQL database created from
//! `BENCH_DATABASE_URL`), seeded with the demo catalogue, and latency statistics.
//!
//! Benchmarks are not tests: they report figures and assert nothing.

#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;

use moviebooking::clock::Clock;
use moviebooking::config::Config;
use moviebooking::db::Db;
use moviebooking::state::AppState;

/// A running app for a benchmark.
pub struct BenchApp {
    pub base_url: String,
    pub state: AppState,
    pub engine: &'static str,
    _dir: tempfile::TempDir,
}

/// Starts the app with rate limits off and the demo catalogue loaded.
pub async fn start(extra: &[(&str, &str)]) -> BenchApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, engine) = match std::env::var("BENCH_DATABASE_URL") {
        Ok(admin) if admin.starts_with("postgres") => {
            use sqlx::Connection;
            let name = format!("mb_bench_{}", std::process::id());
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("BENCH_DATABASE_URL");
            let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            sqlx::query(sqlx::AssertSqlSafe(drop))
                .execute(&mut conn)
                .await
                .expect("drop old bench db");
            let create = format!("CREATE DATABASE \"{name}\"");
            sqlx::query(sqlx::AssertSqlSafe(create))
                .execute(&mut conn)
                .await
                .expect("create bench db");
            let mut url = url::Url::parse(&admin).expect("URL");
            url.set_path(&format!("/{name}"));
            (url.to_string(), "PostgreSQL")
        }
        _ => (
            format!("sqlite://{}", dir.path().join("bench.db").display()),
            "SQLite",
        ),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let base_url = format!("http://127.0.0.1:{port}");
    let mut vars: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), url),
        ("BASE_URL".into(), base_url.clone()),
        ("PORT".into(), port.to_string()),
        (
            "SECRET_KEY".into(),
            "bench-secret-key-that-is-long-enough-0123456789".into(),
        ),
        ("EMAIL_BACKEND".into(), "log".into()),
        ("RATE_LIMITS".into(), "off".into()),
        ("RUST_LOG".into(), "warn".into()),
    ]);
    for (k, v) in extra {
        vars.insert((*k).into(), (*v).into());
    }
    let config = Config::from_vars(&vars, dir.path()).expect("bench config");
    let db = Db::connect(&config.database_url, Duration::from_secs(10))
        .await
        .expect("db");
    moviebooking::db::migrate::run(&db).await.expect("migrate");
    let clock = Clock::system();
    moviebooking::seed::seed_demo(&db, clock.now())
        .await
        .expect("seed demo");
    let state = AppState::new(config, db, clock).expect("state");
    let server_state = state.clone();
    tokio::spawn(async move {
        let _ = moviebooking::server::serve(server_state, listener, std::future::pending()).await;
    });
    BenchApp {
        base_url,
        state,
        engine,
        _dir: dir,
    }
}

/// Latency figures of one series of requests.
pub struct Stats {
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

pub fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| {
        if samples.is_empty() {
            0.0
        } else {
            let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples[i].as_secs_f64() * 1000.0
        }
    };
    Stats {
        count: samples.len(),
        p50_ms: at(0.50),
        p95_ms: at(0.95),
        p99_ms: at(0.99),
        max_ms: at(1.0),
    }
}

/// How long each benchmark runs (`BENCH_SECONDS`, default 20).
pub fn duration() -> Duration {
    Duration::from_secs(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(20),
    )
}
