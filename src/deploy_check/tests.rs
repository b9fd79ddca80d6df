//! The audit's rules, one test per concern, over a production configuration that passes.

use super::*;
use crate::config::Config;

/// A production configuration with nothing to complain about.
fn good() -> HashMap<String, String> {
    [
        ("APP_ENV", "production"),
        (
            "DATABASE_URL",
            "postgres://app:pw@db.internal:5432/moviebooking?sslmode=require",
        ),
        ("BASE_URL", "https://tickets.example.com"),
        ("ALLOWED_HOSTS", "tickets.example.com"),
        (
            "SECRET_KEY",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        ),
        ("EMAIL_BACKEND", "smtp"),
        ("SMTP_URL", "smtps://mailer:pw@smtp.example.com:465"),
        ("EMAIL_FROM", "Moviebooking <tickets@example.com>"),
        ("RAZORPAY_KEY_ID", "rzp_live_AbCdEfGh123456"),
        ("RAZORPAY_KEY_SECRET", "live-key-secret-0123456789"),
        ("RAZORPAY_WEBHOOK_SECRET", "webhook-secret-9876543210"),
        ("HSTS_SECONDS", "31536000"),
        ("SENTRY_DSN", "https://abc123@o1.ingest.sentry.io/42"),
        ("TRUSTED_PROXY_HOPS", "1"),
        (
            "METRICS_TOKEN",
            "3c9a1f0e5b7d2c4a6e8f0a1b3c5d7e9f0a2b4c6d8e0f1a3b",
        ),
        ("CORS_ALLOWED_ORIGINS", "https://app.example.com"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn with(changes: &[(&str, Option<&str>)]) -> Report {
    let mut vars = good();
    for (k, v) in changes {
        match v {
            Some(v) => vars.insert(k.to_string(), v.to_string()),
            None => vars.remove(*k),
        };
    }
    audit(&vars)
}

fn assert_finds(changes: &[(&str, Option<&str>)], id: &str) {
    let report = with(changes);
    assert!(
        report.ids().contains(&id),
        "{changes:?} should produce {id}; got:\n{report}"
    );
}

#[test]
fn a_good_production_configuration_passes_without_findings() {
    let vars = good();
    assert!(Config::from_vars(&vars, Path::new(".")).is_ok());
    let report = audit(&vars);
    assert!(report.findings.is_empty(), "{report}");
    assert!(!report.has_errors());
    assert!(report.to_string().contains("no problems found"));
}

#[test]
fn development_mode_is_an_error() {
    assert_finds(&[("APP_ENV", None)], "MB-E001");
    assert_finds(&[("APP_ENV", Some("development"))], "MB-E001");
    assert_finds(&[("APP_ENV", Some("staging"))], "MB-E001");
}

#[test]
fn a_patterned_secret_key_is_caught_by_its_estimated_entropy() {
    let patterned = "0123456789abcdef".repeat(4);
    assert!(estimated_entropy_bits(&patterned) < 20.0);
    assert_finds(&[("SECRET_KEY", Some(&patterned))], "MB-E006");
    assert_finds(&[("SECRET_KEY", Some(&"a1b2c3d4e5".repeat(7)))], "MB-E006");
    assert_finds(
        &[("SECRET_KEY", Some(&"abcdefghijklmnopqrstuvwxyz".repeat(3)))],
        "MB-E006",
    );
    // Random keys as the fix suggests (openssl rand -hex 32) pass with room to spare.
    for random in [
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
    ] {
        let bits = estimated_entropy_bits(random);
        assert!(bits > 160.0, "{random}: {bits}");
        assert!(
            !with(&[("SECRET_KEY", Some(random))])
                .ids()
                .contains(&"MB-E006")
        );
    }
    // One repeated character is already MB-E004; it is not reported twice.
    let report = with(&[("SECRET_KEY", Some(&"x".repeat(80)))]);
    assert!(report.ids().contains(&"MB-E004") && !report.ids().contains(&"MB-E006"));
}

#[test]
fn only_razorpay_itself_may_be_the_payment_api() {
    assert!(
        with(&[("RAZORPAY_API_BASE", Some("https://api.razorpay.com/v1"))])
            .findings
            .is_empty()
    );
    for base in [
        "http://api.razorpay.com/v1",
        "https://api.razorpay.com.evil.example/v1",
        "https://127.0.0.1:9000/v1",
        "https://api.razorpay.com:8443/v1",
        "https://user@api.razorpay.com/v1",
    ] {
        assert_finds(&[("RAZORPAY_API_BASE", Some(base))], "MB-E034");
    }
}

#[test]
fn a_body_limit_beyond_ten_megabytes_is_an_error() {
    assert!(
        with(&[("BODY_LIMIT_BYTES", Some("10485760"))])
            .findings
            .is_empty()
    );
    assert_finds(&[("BODY_LIMIT_BYTES", Some("10485761"))], "MB-E081");
}

#[test]
fn trusted_proxy_hops_must_be_said_explicitly() {
    let report = with(&[("TRUSTED_PROXY_HOPS", None)]);
    assert!(report.has_errors());
    assert_finds(&[("TRUSTED_PROXY_HOPS", None)], "MB-E070");
    let finding = report.findings.iter().find(|f| f.id == "MB-E070").unwrap();
    assert!(finding.fix.contains("Heroku") && finding.fix.contains("TRUSTED_PROXY_HOPS=0"));
    let direct = with(&[("TRUSTED_PROXY_HOPS", Some("0"))]);
    assert!(!direct.has_errors(), "0 is a valid answer: {direct}");
    assert_eq!(direct.ids(), ["MB-W070"]);
}

#[test]
fn waived_ids_are_listed_and_warned_about() {
    let mut vars = good();
    vars.insert(WAIVE_VARIABLE.into(), " mb-e012, MB-E020 ,".into());
    assert_eq!(
        waived_ids(&vars).into_iter().collect::<Vec<_>>(),
        ["MB-E012", "MB-E020"]
    );
    assert_eq!(audit(&vars).ids(), ["MB-W110"]);
}

#[test]
fn weak_secret_keys_are_errors() {
    assert_finds(&[("SECRET_KEY", None)], "MB-E002");
    assert_finds(&[("SECRET_KEY", Some("short-but-random-Zx81"))], "MB-E003");
    assert_finds(&[("SECRET_KEY", Some(&"ab".repeat(40)))], "MB-E004");
    assert_finds(&[("SECRET_KEY", Some("changeme"))], "MB-E005");
    assert_finds(&[("SECRET_KEY", Some("secret"))], "MB-E005");
    // A placeholder in front of an otherwise random tail is still only a placeholder.
    let long_placeholder =
        "changeme-2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
    let report = with(&[("SECRET_KEY", Some(long_placeholder))]);
    assert_eq!(report.ids(), ["MB-E005"], "{report}");
}

#[test]
fn the_env_example_secret_key_is_recognised_as_a_placeholder() {
    let example = include_str!("../../.env.example");
    let value = example
        .lines()
        .find_map(|line| {
            line.trim_start_matches(['#', ' '])
                .strip_prefix("SECRET_KEY=")
        })
        .filter(|v| !v.is_empty())
        .expect(".env.example shows a SECRET_KEY line with a value");
    assert_finds(&[("SECRET_KEY", Some(value))], "MB-E005");
}

#[test]
fn env_example_documents_every_setting_config_reads() {
    let example = include_str!("../../.env.example");
    let names: BTreeSet<&str> = crate::config::variables().collect();
    assert!(names.len() > 25, "{names:?}");
    for name in names {
        assert!(
            example.contains(&format!("{name}=")),
            ".env.example lacks {name}"
        );
    }
}

#[test]
fn host_settings() {
    assert_finds(&[("ALLOWED_HOSTS", None)], "MB-E010");
    assert_finds(&[("ALLOWED_HOSTS", Some("*"))], "MB-E011");
    assert_finds(
        &[("BASE_URL", Some("http://tickets.example.com"))],
        "MB-E012",
    );
    assert_finds(&[("BASE_URL", None)], "MB-E012");
    assert_finds(&[("ALLOWED_HOSTS", Some("other.example.com"))], "MB-E013");
    let subdomains = with(&[("ALLOWED_HOSTS", Some(".example.com"))]);
    assert!(subdomains.findings.is_empty(), "{subdomains}");
}

#[test]
fn hsts_settings() {
    assert_finds(&[("HSTS_SECONDS", Some("0"))], "MB-E020");
    assert_finds(&[("HSTS_SECONDS", Some("3600"))], "MB-W021");
    assert!(with(&[("HSTS_SECONDS", None)]).findings.is_empty());
}

#[test]
fn razorpay_settings() {
    assert_finds(&[("RAZORPAY_KEY_ID", None)], "MB-E030");
    assert_finds(
        &[("RAZORPAY_KEY_ID", None), ("RAZORPAY_KEY_SECRET", None)],
        "MB-E030",
    );
    assert_finds(&[("RAZORPAY_KEY_ID", Some("rzp_test_abc"))], "MB-E031");
    assert_finds(&[("RAZORPAY_WEBHOOK_SECRET", None)], "MB-E032");
    assert_finds(
        &[(
            "RAZORPAY_WEBHOOK_SECRET",
            Some("live-key-secret-0123456789"),
        )],
        "MB-E033",
    );
}

#[test]
fn database_settings() {
    assert_finds(&[("DATABASE_URL", None)], "MB-E040");
    assert_finds(
        &[("DATABASE_URL", Some("sqlite:///data/app.db"))],
        "MB-E040",
    );
    let allowed = with(&[
        ("DATABASE_URL", Some("sqlite:///data/app.db")),
        ("ALLOW_SQLITE_IN_PRODUCTION", Some("true")),
    ]);
    assert_eq!(allowed.ids(), ["MB-W041"], "{allowed}");
    assert!(!allowed.has_errors());
    assert_finds(
        &[("DATABASE_URL", Some("postgres://u:pw@db/app"))],
        "MB-E042",
    );
    assert_finds(
        &[(
            "DATABASE_URL",
            Some("postgres://u:pw@db/app?sslmode=prefer"),
        )],
        "MB-E042",
    );
    let by_env = with(&[
        ("DATABASE_URL", Some("postgres://u:pw@db/app")),
        ("PGSSLMODE", Some("require")),
    ]);
    assert!(by_env.findings.is_empty(), "{by_env}");
}

#[test]
fn email_settings() {
    assert_finds(&[("EMAIL_BACKEND", Some("log"))], "MB-E050");
    assert_finds(&[("EMAIL_BACKEND", Some("file"))], "MB-E050");
    assert_finds(&[("SMTP_URL", None)], "MB-E051");
    assert_finds(&[("EMAIL_BACKEND", None), ("SMTP_URL", None)], "MB-E051");
    assert_finds(
        &[("SMTP_URL", Some("smtp://u:pw@smtp.example.com:587"))],
        "MB-E052",
    );
    let starttls = with(&[(
        "SMTP_URL",
        Some("smtp://u:pw@smtp.example.com:587?tls=required"),
    )]);
    assert!(starttls.findings.is_empty(), "{starttls}");
}

#[test]
fn observability_and_proxy_settings_are_warnings() {
    assert_finds(&[("SENTRY_DSN", None)], "MB-W060");
    // Unset is an error since issue #15 (`trusted_proxy_hops_must_be_said_explicitly`).
    assert_finds(&[("TRUSTED_PROXY_HOPS", Some("0"))], "MB-W070");
    assert_finds(&[("METRICS_TOKEN", None)], "MB-W090");
    assert_finds(&[("METRICS_TOKEN", Some("abc123"))], "MB-W091");
    let report = with(&[("SENTRY_DSN", None), ("METRICS_TOKEN", None)]);
    assert!(!report.has_errors(), "warnings alone pass: {report}");
    assert_eq!(report.count(Severity::Warning), 2);
}

#[test]
fn rate_limits_off_is_an_error() {
    assert_finds(&[("RATE_LIMITS", Some("off"))], "MB-E080");
    assert_finds(&[("RATE_LIMITS", Some("FALSE"))], "MB-E080");
}

#[test]
fn cors_settings() {
    assert_finds(&[("CORS_ALLOWED_ORIGINS", Some("*"))], "MB-E100");
    assert_finds(
        &[("CORS_ALLOWED_ORIGINS", Some("https://app.example.com, *"))],
        "MB-E100",
    );
    assert_finds(
        &[("CORS_ALLOWED_ORIGINS", Some("http://app.example.com"))],
        "MB-W101",
    );
    assert_finds(
        &[("CORS_ALLOWED_ORIGINS", Some("https://app.example.com/"))],
        "MB-W101",
    );
}

#[test]
fn settings_the_application_refuses_are_all_reported_not_just_the_first() {
    let report = with(&[
        ("PORT", Some("eighty")),
        ("REQUEST_TIMEOUT_SECONDS", Some("soon")),
        ("SECRET_KEY", Some("tiny")),
        ("BASE_URL", Some("not a url")),
        ("SENTRY_DSN", Some("not-a-dsn")),
    ]);
    let refused: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.id == "MB-E000")
        .map(|f| f.setting)
        .collect();
    assert!(refused.contains(&"PORT"), "{report}");
    assert!(refused.contains(&"REQUEST_TIMEOUT_SECONDS"), "{report}");
    assert!(refused.contains(&"SENTRY_DSN"), "{report}");
    // Settings with a specific check are reported once, by that check.
    assert!(!refused.contains(&"SECRET_KEY") && !refused.contains(&"BASE_URL"));
    assert!(report.ids().contains(&"MB-E003") && report.ids().contains(&"MB-E012"));
}

#[test]
fn an_empty_environment_reports_every_missing_piece() {
    let report = audit(&HashMap::new());
    for id in [
        "MB-E001", "MB-E002", "MB-E010", "MB-E012", "MB-E030", "MB-E032", "MB-E040", "MB-E051",
        "MB-W060", "MB-E070", "MB-W090",
    ] {
        assert!(report.ids().contains(&id), "{id} missing from:\n{report}");
    }
    assert!(report.has_errors());
}

#[test]
fn every_finding_has_a_documented_id_and_no_secret_is_printed() {
    let mut vars = good();
    vars.insert("SECRET_KEY".into(), "hunter2hunter2".into());
    vars.insert(
        "RAZORPAY_WEBHOOK_SECRET".into(),
        "live-key-secret-0123456789".into(),
    );
    vars.insert("METRICS_TOKEN".into(), "tok-42".into());
    vars.insert(
        "SMTP_URL".into(),
        "smtp://u:smtp-password@smtp.example.com".into(),
    );
    let report = audit(&vars);
    for finding in &report.findings {
        assert!(
            CHECKS
                .iter()
                .any(|(id, severity, _)| *id == finding.id && *severity == finding.severity)
        );
    }
    let printed = report.to_string();
    for secret in ["hunter2", "live-key-secret", "tok-42", "smtp-password"] {
        assert!(!printed.contains(secret), "{secret} leaked:\n{printed}");
    }
    let ids: BTreeSet<&str> = CHECKS.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(ids.len(), CHECKS.len(), "ids are unique");
}
