//! The load benchmark (issue #10, "Load and faults"): the release binary serving a fresh,
//! demo-seeded database (SQLite, or PostgreSQL from `BENCH_DATABASE_URL`) to 64 logged-in
//! clients for 60 seconds. The mix is 80% browsing (home, movie list, movie page, seat
//! map), 15% seat holds and 5% purchases through a fake Razorpay and a real SMTP
//! conversation with a local sink. It reports throughput, latency percentiles per route,
//! answers by status, the server's peak memory, and then checks the booking invariants
//! over the whole database. Optionally a fault is injected during the window.
//!
//! Run it through `bench/load` (see `docs/PERFORMANCE.md`), or directly:
//!
//!     cargo bench --bench load                                      # SQLite
//!     BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/postgres cargo bench --bench load
//!     LOAD_FAULT=pg-restart|smtp-down|razorpay LOAD_SECONDS=60 LOAD_CLIENTS=64 ...
//!
//! It exits non-zero when an invariant is broken; performance targets are reported, not
//! enforced.

#[path = "load/driver.rs"]
mod driver;
#[path = "load/faults.rs"]
mod faults;
#[allow(dead_code)]
#[path = "../tests/it/common/razorpay.rs"]
mod razorpay;
#[path = "load/report.rs"]
mod report;
#[path = "load/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "../tests/it/common/smtp_sink.rs"]
mod smtp_sink;
mod support;

use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use driver::{Catalogue, Route, Show};
use faults::Fault;
use moviebooking::db::Db;
use razorpay::FakeRazorpay;
use server::{Database, Environment, Server};
use smtp_sink::SmtpSink;

/// The targets of issue #10.
const TARGET_P99_MS: f64 = 50.0;
const TARGET_RSS_MB: f64 = 150.0;
const PASSWORD: &str = "correct horse battery staple";

struct Settings {
    clients: usize,
    duration: Duration,
    fault: Fault,
    admin_url: Option<String>,
    pg_cluster: String,
}

impl Settings {
    /// From `LOAD_*` variables, overridden by `--clients N`, `--seconds N`, `--fault F`
    /// (cargo adds `--bench`, which is ignored).
    fn read() -> Settings {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let mut clients = var("LOAD_CLIENTS").unwrap_or_else(|| "64".into());
        let mut seconds = var("LOAD_SECONDS").unwrap_or_else(|| "60".into());
        let mut fault = var("LOAD_FAULT").unwrap_or_default();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--clients" => clients = args.next().unwrap_or_default(),
                "--seconds" => seconds = args.next().unwrap_or_default(),
                "--fault" => fault = args.next().unwrap_or_default(),
                _ => {}
            }
        }
        let settings = Settings {
            clients: clients.parse().expect("LOAD_CLIENTS is a number"),
            duration: Duration::from_secs(seconds.parse().expect("LOAD_SECONDS is a number")),
            fault: Fault::parse(&fault)
                .expect("LOAD_FAULT is one of none, pg-restart, smtp-down, razorpay"),
            admin_url: var("BENCH_DATABASE_URL").filter(|url| url.starts_with("postgres")),
            pg_cluster: var("LOAD_PG_CLUSTER").unwrap_or_else(|| "15 main".into()),
        };
        assert!(
            settings.fault != Fault::PgRestart || settings.admin_url.is_some(),
            "the pg-restart fault needs PostgreSQL: set BENCH_DATABASE_URL"
        );
        assert!(settings.clients > 0, "at least one client");
        settings
    }
}

/// The machine, for the report: the benchmark shares it with whatever else runs.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("unknown")
        .trim()
        .to_owned();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let total_kb: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    format!(
        "{} CPUs ({model}), {:.1} GiB RAM",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        total_kb as f64 / 1024.0 / 1024.0
    )
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The verified customers, made directly in the database before the server starts (so
/// the timed window measures booking, not sign-up).
async fn create_customers(db: &Db, count: usize) -> Vec<String> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut emails = Vec::with_capacity(count);
    for i in 0..count {
        let email = format!("load{i}@example.com");
        let new = moviebooking::domain::users::NewUser {
            email: moviebooking::domain::users::Email::parse(&email).expect("email"),
            name: format!("Load Customer {i}"),
            password: PASSWORD.into(),
            role: moviebooking::domain::roles::Role::Customer,
            email_verified: true,
        };
        moviebooking::domain::users::create_user(db, new, now)
            .await
            .expect("create a customer");
        emails.push(email);
    }
    emails
}

/// Movies and the showtimes that can still be booked (starting in more than an hour).
async fn read_catalogue(db: &Db) -> Catalogue {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let movie_slugs: Vec<String> =
        sqlx::query_scalar("SELECT slug FROM movies WHERE is_active = 1 ORDER BY id")
            .fetch_all(db.reader())
            .await
            .expect("movies");
    let showtimes: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, screen_id FROM showtimes WHERE is_cancelled = 0 AND starts_at > $1 ORDER BY id",
    )
    .bind(now + 3600)
    .fetch_all(db.reader())
    .await
    .expect("showtimes");
    let seats: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT screen_id, id FROM seats WHERE kind <> 'blocked' ORDER BY screen_id, id",
    )
    .fetch_all(db.reader())
    .await
    .expect("seats");
    let mut by_screen: HashMap<i64, Vec<i64>> = HashMap::new();
    for (screen, seat) in seats {
        by_screen.entry(screen).or_default().push(seat);
    }
    let shows = showtimes
        .into_iter()
        .filter_map(|(id, screen)| {
            let seat_ids = by_screen.get(&screen)?.clone();
            (!seat_ids.is_empty()).then_some(Show { id, seat_ids })
        })
        .collect::<Vec<_>>();
    assert!(
        !movie_slugs.is_empty() && !shows.is_empty(),
        "the demo catalogue is loaded"
    );
    Catalogue { movie_slugs, shows }
}

/// A count over the whole database; `$1`, when the query has it, is the current time.
async fn count(db: &Db, sql: &'static str, now: Option<i64>) -> i64 {
    let query = sqlx::query_scalar(sql);
    let query = match now {
        Some(now) => query.bind(now),
        None => query,
    };
    query.fetch_one(db.reader()).await.expect("invariant query")
}

/// Waits until the outbox has nothing left to send, or `limit` passes; how long it took.
async fn drain_outbox(db: &Db, limit: Duration) -> Option<Duration> {
    let begun = Instant::now();
    while begun.elapsed() < limit {
        let queued: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM email_outbox WHERE status = 'queued'")
                .fetch_one(db.reader())
                .await
                .unwrap_or(i64::MAX);
        if queued == 0 {
            return Some(begun.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    None
}

/// The booking codes found in one message: its attachments are named `ticket-CODE.png`.
fn ticket_codes(data: &str) -> HashSet<String> {
    data.match_indices("ticket-")
        .filter_map(|(i, _)| {
            let rest = &data[i + "ticket-".len()..];
            let end = rest.find(".png")?;
            let code = &rest[..end];
            (!code.is_empty() && code.chars().all(|c| c.is_ascii_alphanumeric()))
                .then(|| code.to_owned())
        })
        .collect()
}

#[tokio::main]
async fn main() -> ExitCode {
    let settings = Settings::read();
    let load_before = load_average();
    let database = Database::fresh(settings.admin_url.as_deref()).await;
    let engine = database.engine;
    eprintln!(
        "load: {} clients for {} s on {}, fault: {}",
        settings.clients,
        settings.duration.as_secs(),
        engine.name(),
        settings.fault.name()
    );

    let fake = FakeRazorpay::start().await;
    let sink = Arc::new(SmtpSink::start().await);
    let port = server::free_port();
    let base_url = format!("http://127.0.0.1:{port}");
    let mut vars: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), database.url.clone()),
        ("BASE_URL".into(), base_url.clone()),
        ("BIND_ADDR".into(), "127.0.0.1".into()),
        ("PORT".into(), port.to_string()),
        (
            "SECRET_KEY".into(),
            "load-benchmark-secret-key-long-enough-0123456789".into(),
        ),
        ("EMAIL_BACKEND".into(), "smtp".into()),
        ("SMTP_URL".into(), sink.url()),
        ("RATE_LIMITS".into(), "off".into()),
        // Customers hold across many showtimes; the per-account cap of live holds would
        // otherwise turn most holds into 409 too_many_holds.
        ("MAX_LIVE_HOLDS_PER_USER".into(), "1000000".into()),
    ];
    vars.extend(fake.settings());
    if let Ok(filter) = std::env::var("LOAD_RUST_LOG") {
        vars.push(("RUST_LOG".into(), filter));
    }
    let env = Environment {
        vars,
        workdir: database.dir.path().to_owned(),
    };
    env.run(&["migrate"]).await;
    env.run(&["seed-demo"]).await;

    let db = Db::connect(&database.url, Duration::from_secs(10))
        .await
        .expect("connect to the benchmark database");
    let emails = create_customers(&db, settings.clients).await;
    let catalogue = read_catalogue(&db).await;
    let shows = catalogue.shows.len();
    db.close().await;

    let reports = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/load-reports");
    std::fs::create_dir_all(&reports).expect("report directory");
    let stamp = format!(
        "{}-{}-{}",
        time::OffsetDateTime::now_utc().unix_timestamp(),
        engine.name().to_lowercase(),
        settings.fault.name()
    );
    let log_path = reports.join(format!("{stamp}.server.log"));
    let server = Server::start(&env, &base_url, &log_path).await;
    let rss_idle_kb = server.memory_kb("VmRSS").unwrap_or(0);

    let mut browsers = Vec::with_capacity(emails.len());
    for email in &emails {
        let browser = driver::browser();
        driver::log_in(&browser, &base_url, email, PASSWORD).await;
        browsers.push(browser);
    }

    let cpu_before = server.cpu_time().unwrap_or_default();
    let started = Instant::now();
    // Resident memory every 5 s, to tell steady growth from a plateau.
    let rss_series = {
        let pid = server.pid;
        let duration = settings.duration;
        tokio::spawn(async move {
            let mut series = Vec::new();
            let mut ticker = tokio::time::interval(Duration::from_secs(5));
            while started.elapsed() <= duration {
                ticker.tick().await;
                let status =
                    std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
                let kb: u64 = status
                    .lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                series.push(kb as f64 / 1024.0);
            }
            series
        })
    };
    let shared = Arc::new(driver::Shared {
        base_url: base_url.clone(),
        catalogue,
        fake: fake.clone(),
        callback_client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .expect("HTTP client"),
        started,
        duration: settings.duration,
    });
    let injector = tokio::spawn(faults::inject(
        settings.fault,
        faults::Targets {
            fake: fake.clone(),
            sink: sink.clone(),
            pg_cluster: settings.pg_cluster.clone(),
            started,
            duration: settings.duration,
        },
    ));
    let clients: Vec<_> = browsers
        .into_iter()
        .enumerate()
        .map(|(i, browser)| tokio::spawn(driver::run_client(browser, shared.clone(), i as u64)))
        .collect();
    let mut outcome = driver::Outcome::default();
    for client in clients {
        let one = client.await.expect("client task");
        outcome.samples.extend(one.samples);
        outcome.paid.extend(one.paid);
        outcome.order_failed.extend(one.order_failed);
        outcome.quoted.extend(one.quoted);
    }
    let elapsed = started.elapsed();
    let events = injector.await.expect("fault injector");
    let rss_end_kb = server.memory_kb("VmRSS").unwrap_or(0);
    let server_cpu = server
        .cpu_time()
        .unwrap_or_default()
        .saturating_sub(cpu_before);
    let rss_series = rss_series.await.unwrap_or_default();
    let load_after = load_average();

    // The outbox may still be retrying (after an SMTP outage, the first retry comes a
    // minute after the failure), so the checks wait for it with the server still running.
    let db = Db::connect(&database.url, Duration::from_secs(10))
        .await
        .expect("reconnect to the benchmark database");
    let drain_limit = match settings.fault {
        Fault::SmtpDown => Duration::from_secs(300),
        _ => Duration::from_secs(60),
    };
    eprintln!("load: window over; waiting for the email outbox to drain");
    let drained = drain_outbox(&db, drain_limit).await;
    let peak_kb = server.memory_kb("VmHWM").unwrap_or(0);

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let doubled = count(
        &db,
        "SELECT COUNT(*) FROM (SELECT b.showtime_id, bs.seat_id FROM booking_seats bs \
         JOIN bookings b ON b.id = bs.booking_id \
         WHERE b.status = 'confirmed' OR (b.status = 'pending' AND b.hold_expires_at > $1) \
         GROUP BY b.showtime_id, bs.seat_id HAVING COUNT(*) > 1) AS d",
        Some(now),
    )
    .await;
    let claims_doubled = count(
        &db,
        "SELECT COUNT(*) FROM (SELECT showtime_id, seat_id FROM seat_claims \
         WHERE expires_at IS NULL OR expires_at > $1 GROUP BY showtime_id, seat_id HAVING COUNT(*) > 1) AS d",
        Some(now),
    )
    .await;
    let without_one_payment = count(
        &db,
        "SELECT COUNT(*) FROM bookings b WHERE b.status = 'confirmed' AND \
         (SELECT COUNT(*) FROM payments p WHERE p.booking_id = b.id AND p.status = 'captured') <> 1",
        None,
    )
    .await;
    let without_one_email = count(
        &db,
        "SELECT COUNT(*) FROM bookings b WHERE b.status = 'confirmed' AND \
         (SELECT COUNT(*) FROM email_outbox o WHERE o.booking_id = b.id AND o.kind = 'booking_confirmed') <> 1",
        None,
    )
    .await;
    let bookings: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM bookings GROUP BY status ORDER BY status")
            .fetch_all(db.reader())
            .await
            .expect("bookings by status");
    let outbox: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, COUNT(*) FROM email_outbox WHERE kind = 'booking_confirmed' GROUP BY status ORDER BY status",
    )
    .fetch_all(db.reader())
    .await
    .expect("outbox by status");
    // (public id → status, customer, showtime, id) of every booking.
    let all_bookings: HashMap<String, (String, i64, i64, i64)> =
        sqlx::query_as::<_, (String, String, i64, i64, i64)>(
            "SELECT public_id, status, user_id, showtime_id, id FROM bookings",
        )
        .fetch_all(db.reader())
        .await
        .expect("booking statuses")
        .into_iter()
        .map(|(public_id, status, user, show, id)| (public_id, (status, user, show, id)))
        .collect();
    let statuses: HashMap<String, String> = all_bookings
        .iter()
        .map(|(public_id, (status, ..))| (public_id.clone(), status.clone()))
        .collect();
    // A hold whose order failed may since have been replaced by the same customer's later
    // hold for the same showtime (holding again cancels the earlier hold, by design).
    let replaced_later = |public_id: &String| {
        all_bookings
            .get(public_id)
            .is_some_and(|(_, user, show, id)| {
                all_bookings
                    .values()
                    .any(|(_, u, s, later)| u == user && s == show && later > id)
            })
    };
    let confirmed_codes: Vec<String> =
        sqlx::query_scalar("SELECT code FROM bookings WHERE status = 'confirmed'")
            .fetch_all(db.reader())
            .await
            .expect("confirmed codes");
    db.close().await;
    server.stop().await;
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    database.remove().await;

    // Emails that reached the SMTP server, per confirmed booking.
    let mut delivered: HashMap<String, usize> = HashMap::new();
    for message in sink.messages() {
        for code in ticket_codes(&message.data) {
            *delivered.entry(code).or_default() += 1;
        }
    }
    let never_delivered = confirmed_codes
        .iter()
        .filter(|c| !delivered.contains_key(*c))
        .count();
    let delivered_twice = delivered.values().filter(|n| **n > 1).count();
    let paid_not_confirmed = outcome
        .paid
        .iter()
        .filter(|id| statuses.get(*id).map(String::as_str) != Some("confirmed"))
        .count();
    let failed_order_not_held = outcome
        .order_failed
        .iter()
        .filter(|id| statuses.get(*id).map(String::as_str) != Some("pending"))
        .count();
    let failed_order_lost = outcome
        .order_failed
        .iter()
        .filter(|id| statuses.get(*id).map(String::as_str) != Some("pending"))
        .filter(|id| !replaced_later(id))
        .count();

    // The report.
    let seconds = elapsed.as_secs_f64();
    let samples = &outcome.samples;
    let overall = report::overall(samples);
    let five_xx = samples.iter().filter(|s| s.status >= 500).count();
    let documented_503 = samples
        .iter()
        .filter(|s| settings.fault.documents(s))
        .count();
    let unexpected = report::unexpected(samples);
    let refused = samples
        .iter()
        .filter(|s| s.route == Route::Hold && s.status == 409)
        .count();
    let holds = samples.iter().filter(|s| s.route == Route::Hold).count();
    let (warns, errors, log_lines) = report::log_problems(&log);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## {} — {} clients, {:.1} s, fault: {}\n",
        engine.name(),
        settings.clients,
        seconds,
        settings.fault.name()
    );
    let _ = writeln!(
        out,
        "- machine: {}; load average before {load_before}, after {load_after}",
        machine()
    );
    let _ = writeln!(
        out,
        "- catalogue: {} movies, {shows} bookable showtimes; server log: {}",
        shared.catalogue.movie_slugs.len(),
        log_path.display()
    );
    let _ = writeln!(
        out,
        "- throughput: **{:.0} requests/s** ({} requests); overall p50 {:.1} ms, p95 {:.1} ms, **p99 {:.1} ms**, max {:.1} ms",
        samples.len() as f64 / seconds,
        samples.len(),
        overall.p50_ms,
        overall.p95_ms,
        overall.p99_ms,
        overall.max_ms
    );
    let _ = writeln!(
        out,
        "- holds: {holds} ({refused} refused with 409 = {:.1}%); purchases confirmed by callback: {}",
        100.0 * refused as f64 / holds.max(1) as f64,
        outcome.paid.len()
    );
    let _ = writeln!(
        out,
        "- server memory: {:.1} MB resident after start-up, {:.1} MB at the end of the window, **peak (VmHWM) {:.1} MB**",
        rss_idle_kb as f64 / 1024.0,
        rss_end_kb as f64 / 1024.0,
        peak_kb as f64 / 1024.0
    );
    let _ = writeln!(
        out,
        "- resident memory every 5 s (MB): {}",
        rss_series
            .iter()
            .map(|mb| format!("{mb:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "- server CPU time during the window: {:.1} s of {:.1} s wall-clock ({:.0}% of one core; 2 cores shared with the driver and other work)\n",
        server_cpu.as_secs_f64(),
        seconds,
        100.0 * server_cpu.as_secs_f64() / seconds
    );
    out.push_str(&report::route_table(samples, seconds));
    let _ = writeln!(
        out,
        "\nErrors (no answer, 5xx, or a status the route should not give): {}{}",
        unexpected.len(),
        if unexpected.is_empty() {
            String::new()
        } else {
            format!(" — {}", report::statuses(unexpected.iter().copied()))
        }
    );
    for quoted in &outcome.quoted {
        let _ = writeln!(
            out,
            "- {} → {} at {:.1} s after {:.0} ms, x-request-id {}: `{}`",
            quoted.route.label(),
            quoted.status,
            quoted.at.as_secs_f64(),
            quoted.latency.as_secs_f64() * 1000.0,
            if quoted.request_id.is_empty() {
                "-"
            } else {
                &quoted.request_id
            },
            quoted.body.replace('\n', " ")
        );
    }

    let _ = writeln!(out, "\n### Invariants (whole database, after the run)\n");
    let mut broken = 0;
    let mut check = |out: &mut String, ok: bool, text: String| {
        if !ok {
            broken += 1;
        }
        let _ = writeln!(out, "- {} {text}", if ok { "OK" } else { "VIOLATED:" });
    };
    check(
        &mut out,
        doubled == 0,
        format!("seats in two live bookings (from booking_seats): {doubled}"),
    );
    check(
        &mut out,
        claims_doubled == 0,
        format!("seats with two live claims: {claims_doubled}"),
    );
    check(
        &mut out,
        without_one_payment == 0,
        format!("confirmed bookings without exactly one captured payment: {without_one_payment}"),
    );
    check(
        &mut out,
        without_one_email == 0,
        format!(
            "confirmed bookings without exactly one confirmation email in the outbox: {without_one_email}"
        ),
    );
    check(
        &mut out,
        paid_not_confirmed == 0,
        format!("bookings whose callback answered 303 but are not confirmed: {paid_not_confirmed}"),
    );
    check(
        &mut out,
        failed_order_lost == 0,
        format!(
            "holds whose order request failed and that were lost (neither pending nor replaced by the customer): {failed_order_lost} of {}",
            outcome.order_failed.len()
        ),
    );
    check(
        &mut out,
        drained.is_some(),
        match drained {
            Some(took) => format!(
                "outbox drained {:.1} s after the window",
                took.as_secs_f64()
            ),
            None => format!(
                "outbox still has queued mail {} s after the window",
                drain_limit.as_secs()
            ),
        },
    );
    check(
        &mut out,
        never_delivered == 0 && delivered_twice == 0,
        format!(
            "confirmation emails at the SMTP server: {} confirmed bookings, {never_delivered} never delivered, {delivered_twice} delivered more than once",
            confirmed_codes.len()
        ),
    );
    let _ = writeln!(
        out,
        "- bookings by status: {}; confirmation emails by outbox status: {}",
        bookings
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        outbox
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    if settings.fault != Fault::None {
        let _ = writeln!(out, "\n### Fault: {}\n", settings.fault.name());
        for event in &events {
            let _ = writeln!(out, "- {:.1} s: {}", event.at.as_secs_f64(), event.what);
        }
        match settings.fault {
            Fault::PgRestart if events.len() == 2 => {
                let (down, up) = (events[0].at, events[1].at);
                let _ = writeln!(
                    out,
                    "- during the restart: {}",
                    report::window(samples, down, up)
                );
                let _ = writeln!(
                    out,
                    "- first 5 s after: {}",
                    report::window(samples, up, up + Duration::from_secs(5))
                );
                let _ = writeln!(
                    out,
                    "- rest of the window: {}",
                    report::window(samples, up + Duration::from_secs(5), elapsed)
                );
                let recovered = samples
                    .iter()
                    .filter(|s| s.at >= up && (s.status >= 500 || s.status == 0))
                    .map(|s| s.at + s.latency)
                    .max();
                let _ = writeln!(
                    out,
                    "- last failed answer ended {}",
                    recovered.map_or("— none".into(), |t| format!(
                        "at {:.1} s ({:.1} s after the restart finished)",
                        t.as_secs_f64(),
                        t.saturating_sub(up).as_secs_f64()
                    ))
                );
            }
            Fault::SmtpDown if events.len() == 2 => {
                let (down, up) = (events[0].at, events[1].at);
                let confirmed_while_down = samples
                    .iter()
                    .filter(|s| {
                        s.route == Route::Callback && s.status == 303 && s.at >= down && s.at < up
                    })
                    .count();
                let _ = writeln!(
                    out,
                    "- purchases confirmed while SMTP was down: {confirmed_while_down}; while down: {}",
                    report::window(samples, down, up)
                );
            }
            Fault::Razorpay if events.len() == 4 => {
                let orders: Vec<driver::Sample> = samples
                    .iter()
                    .filter(|s| s.route == Route::Order)
                    .copied()
                    .collect();
                let _ = writeln!(
                    out,
                    "- order requests while Razorpay answered 500: {}",
                    report::window(&orders, events[0].at, events[1].at)
                );
                let _ = writeln!(
                    out,
                    "- order requests while Razorpay was slow: {}",
                    report::window(&orders, events[2].at, events[3].at)
                );
                let _ = writeln!(
                    out,
                    "- order requests otherwise: {}",
                    report::statuses(orders.iter().filter(|s| {
                        !(s.at >= events[0].at && s.at < events[1].at
                            || s.at >= events[2].at && s.at < events[3].at)
                    }))
                );
                let _ = writeln!(
                    out,
                    "- bookings whose order failed: {}, of which no longer pending: {failed_order_not_held} \
                     (of those, replaced by the same customer's later hold for the same showtime: {}; \
                     otherwise lost: **{failed_order_lost}**)",
                    outcome.order_failed.len(),
                    failed_order_not_held - failed_order_lost
                );
            }
            _ => {}
        }
        let _ = writeln!(out, "\nTimeline (by request start):\n");
        out.push_str(&report::timeline(samples, elapsed.as_secs() + 1));
    }

    let _ = writeln!(
        out,
        "\n### Server log\n\n{warns} WARN and {errors} ERROR lines; first of each kind:\n"
    );
    for line in &log_lines {
        let _ = writeln!(out, "    {line}");
    }

    let _ = writeln!(out, "\n### Targets\n");
    let _ = writeln!(
        out,
        "- p99 < {TARGET_P99_MS} ms overall: {} ({:.1} ms)",
        if overall.p99_ms < TARGET_P99_MS {
            "met"
        } else {
            "MISSED"
        },
        overall.p99_ms
    );
    let _ = writeln!(
        out,
        "- zero 5xx: {} ({five_xx} answers 5xx{})",
        if five_xx == documented_503 {
            "met"
        } else {
            "MISSED"
        },
        if settings.fault == Fault::None {
            String::new()
        } else {
            format!(", of which {documented_503} the documented 503")
        }
    );
    let _ = writeln!(
        out,
        "- peak RSS < {TARGET_RSS_MB} MB: {} ({:.1} MB)",
        if (peak_kb as f64 / 1024.0) < TARGET_RSS_MB {
            "met"
        } else {
            "MISSED"
        },
        peak_kb as f64 / 1024.0
    );
    let _ = writeln!(
        out,
        "- invariants: {}",
        if broken == 0 { "all hold" } else { "BROKEN" }
    );

    println!("{out}");
    let report_path = reports.join(format!("{stamp}.md"));
    if std::fs::write(&report_path, &out).is_ok() {
        eprintln!("load: report written to {}", report_path.display());
    }
    if broken == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
