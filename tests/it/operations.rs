//! Operations: backups taken while serving, and the real binary's `check --deploy`, `backup`,
//! `send-test-email` commands and the Procfile.

use std::collections::HashMap;
use std::time::Duration;

use crate::common::production::get_json;
use crate::common::production::{SECRET_KEY, client, production_env, run_binary};
use crate::common::sessions::create_verified_user;
use crate::common::{TestApp, on_postgres};
use reqwest::StatusCode;

// ---------------------------------------------------------------------------------------
// Backups
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_backup_taken_while_serving_holds_the_data_and_restores() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("backup.db");
    if on_postgres() {
        let error = moviebooking::db::backup::sqlite_backup(&app.db, &output)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("pg_dump"), "{error}");
        assert!(!output.exists());
        return;
    }

    create_verified_user(&app, "kept@example.com").await;
    for (name, slug) in [("Pune", "pune"), ("Kochi", "kochi")] {
        sqlx::query("INSERT INTO cities (name, slug) VALUES ($1, $2)")
            .bind(name)
            .bind(slug)
            .execute(app.db.writer())
            .await
            .unwrap();
    }
    // Traffic while the copy is made: writes through the pool and requests to the server.
    let writer = {
        let db = app.db.clone();
        tokio::spawn(async move {
            for i in 0..200 {
                sqlx::query("INSERT INTO cities (name, slug) VALUES ($1, $2)")
                    .bind(format!("Town {i}"))
                    .bind(format!("town-{i}"))
                    .execute(db.writer())
                    .await
                    .unwrap();
            }
        })
    };
    let readers = {
        let url = format!("{}/healthz", app.base_url);
        tokio::spawn(async move {
            for _ in 0..50 {
                assert!(
                    client()
                        .get(&url)
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .is_success()
                );
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let bytes = moviebooking::db::backup::sqlite_backup(&app.db, &output)
        .await
        .unwrap();
    assert!(bytes > 0);
    writer.await.unwrap();
    readers.await.unwrap();

    // Never over an existing file.
    let again = moviebooking::db::backup::sqlite_backup(&app.db, &output).await;
    assert!(matches!(
        again,
        Err(moviebooking::db::backup::BackupError::Exists(_))
    ));

    // Restore: a fresh app on the copy finds the data and is ready.
    let restored = moviebooking::db::Db::connect(
        &format!("sqlite://{}", output.display()),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(restored.reader())
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
    assert_eq!(
        moviebooking::db::migrate::status(&restored).await.unwrap(),
        moviebooking::db::migrate::SchemaStatus::Current
    );
    let user: String =
        sqlx::query_scalar("SELECT email FROM users WHERE email = 'kept@example.com'")
            .fetch_one(restored.reader())
            .await
            .unwrap();
    assert_eq!(user, "kept@example.com");
    let cities: Vec<String> =
        sqlx::query_scalar("SELECT slug FROM cities WHERE slug IN ('pune', 'kochi') ORDER BY slug")
            .fetch_all(restored.reader())
            .await
            .unwrap();
    assert_eq!(cities, ["kochi", "pune"]);

    let vars: HashMap<String, String> = [
        ("DATABASE_URL", format!("sqlite://{}", output.display())),
        ("SECRET_KEY", SECRET_KEY.to_owned()),
        ("EMAIL_BACKEND", "log".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = moviebooking::config::Config::from_vars(&vars, dir.path()).unwrap();
    let state = moviebooking::AppState::new(config, restored, moviebooking::clock::Clock::system())
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/readyz", listener.local_addr().unwrap());
    tokio::spawn(moviebooking::server::serve(
        state,
        listener,
        std::future::pending::<()>(),
    ));
    let (status, body) = get_json(&url).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

// ---------------------------------------------------------------------------------------
// The real binary
// ---------------------------------------------------------------------------------------

#[test]
fn check_deploy_lists_every_problem_and_fails_on_a_bad_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_binary(
        dir.path(),
        &[
            ("APP_ENV", "production"),
            ("SECRET_KEY", "changeme"),
            ("ALLOWED_HOSTS", "*"),
            ("BASE_URL", "http://tickets.example.com"),
            ("RATE_LIMITS", "off"),
            ("HSTS_SECONDS", "0"),
            ("CORS_ALLOWED_ORIGINS", "*"),
            ("RAZORPAY_KEY_ID", "rzp_test_abc"),
            ("RAZORPAY_KEY_SECRET", "same-secret"),
            ("RAZORPAY_WEBHOOK_SECRET", "same-secret"),
            ("EMAIL_BACKEND", "log"),
            ("PORT", "eighty"),
        ],
        &["check", "--deploy"],
    );
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    for id in [
        "MB-E003", "MB-E005", "MB-E011", "MB-E012", "MB-E020", "MB-E031", "MB-E033", "MB-E040",
        "MB-E050", "MB-E080", "MB-E100", "MB-W060", "MB-W090", "MB-E000",
    ] {
        assert!(stdout.contains(id), "{id} missing:\n{stdout}");
    }
    assert!(stdout.contains("fix:"));
    assert!(!stdout.contains("same-secret"), "no secret is printed");
    assert!(
        !dir.path().join(".dev-secret-key").exists(),
        "nothing written"
    );
}

#[test]
fn check_deploy_passes_a_good_configuration_and_still_prints_its_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_binary(
        dir.path(),
        &production_env(&[("METRICS_TOKEN", "0123456789abcdef0123456789abcdef")]),
        &["check", "--deploy"],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("MB-W060"),
        "the missing Sentry DSN is a warning:\n{stdout}"
    );
    assert!(stdout.contains("0 error(s), 1 warning(s)"), "{stdout}");
}

#[test]
fn production_refuses_to_serve_from_sqlite_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("prod.db").display());
    let output = run_binary(
        dir.path(),
        &[
            ("APP_ENV", "production"),
            ("DATABASE_URL", &db),
            ("PORT", "18931"),
            ("BASE_URL", "https://tickets.example.com"),
            ("ALLOWED_HOSTS", "tickets.example.com"),
            ("SECRET_KEY", SECRET_KEY),
            ("EMAIL_BACKEND", "log"),
            ("RAZORPAY_KEY_ID", "rzp_live_abc"),
            ("RAZORPAY_KEY_SECRET", "key-secret"),
            ("RAZORPAY_WEBHOOK_SECRET", "webhook-secret"),
        ],
        &["serve"],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ALLOW_SQLITE_IN_PRODUCTION"), "{stderr}");
}

#[test]
fn the_backup_command_copies_sqlite_never_overwrites_and_points_postgres_to_pg_dump() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("app.db").display());
    let env = [("DATABASE_URL", db.as_str())];
    assert!(run_binary(dir.path(), &env, &["migrate"]).status.success());

    let first = run_binary(dir.path(), &env, &["backup", "--output", "copy.db"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("backup written"));
    assert!(dir.path().join("copy.db").metadata().unwrap().len() > 0);

    let second = run_binary(dir.path(), &env, &["backup", "--output", "copy.db"]);
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("already exists"));

    let postgres = run_binary(
        dir.path(),
        &[("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")],
        &["backup", "--output", "pg.db"],
    );
    assert!(!postgres.status.success());
    assert!(String::from_utf8_lossy(&postgres.stderr).contains("pg_dump"));
    assert!(!dir.path().join("pg.db").exists());
}

#[test]
fn the_procfile_starts_commands_the_binary_has() {
    let procfile = include_str!("../../Procfile");
    let dir = tempfile::tempdir().unwrap();
    let mut kinds = Vec::new();
    for line in procfile.lines().filter(|l| !l.trim().is_empty()) {
        let (kind, command) = line.split_once(':').unwrap();
        let mut words = command.split_whitespace();
        assert_eq!(
            words.next(),
            Some("./target/release/moviebooking"),
            "the buildpack's release binary: {line}"
        );
        let mut args: Vec<&str> = words.collect();
        args.push("--help");
        let output = run_binary(dir.path(), &[], &args);
        assert!(output.status.success(), "{line}: {output:?}");
        kinds.push(kind.trim());
    }
    assert_eq!(kinds, ["release", "web"]);
}

#[test]
fn send_test_email_delivers_through_the_outbox_and_names_a_bad_address() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("mail.db").display());
    let mail_dir = dir.path().join("mail");
    let mail_dir_text = mail_dir.display().to_string();
    let env = [
        ("DATABASE_URL", database.as_str()),
        ("EMAIL_BACKEND", "file"),
        ("EMAIL_FILE_DIR", mail_dir_text.as_str()),
    ];
    assert!(run_binary(dir.path(), &env, &["migrate"]).status.success());

    let output = run_binary(dir.path(), &env, &["send-test-email", "ops@example.com"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("sent a test email to ops@example.com"),
        "{stdout}"
    );
    let mails: Vec<String> = std::fs::read_dir(&mail_dir)
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .collect();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("ops@example.com") && mails[0].contains("moviebooking test email"));

    let output = run_binary(dir.path(), &env, &["send-test-email", "not an address"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not an email address"));
}
