//! `moviebooking check --deploy`: an audit of the settings a production process would run
//! with, in the spirit of Django's `check --deploy`.
//!
//! `audit` is a pure function over the variables (the same map `Config::from_vars` reads), so
//! every rule is tested without touching the process environment; `main.rs` only prints the
//! report. The audit never stops at the first problem: `Config::from_vars` refuses some
//! settings outright, so a refused setting is reported as a finding and replaced by a harmless
//! stand-in, and parsing goes on to find the next one. Every finding has a stable id that
//! operators can search for in `DEPLOYMENT_CHECKLIST.md`. Secrets are never printed.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::Path;

use url::Url;

use crate::config::{Config, redact_url};

/// How bad a finding is: errors fail the check, warnings are printed but pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem: its id, the setting it is about, what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub id: &'static str,
    pub severity: Severity,
    pub setting: &'static str,
    pub problem: String,
    pub fix: String,
}

/// Every check this audit runs: id, severity and what it is about. The ids are stable;
/// `DEPLOYMENT_CHECKLIST.md` lists the same table.
pub const CHECKS: &[(&str, Severity, &str)] = &[
    (
        "MB-E000",
        Severity::Error,
        "a setting the application refuses to start with",
    ),
    ("MB-E001", Severity::Error, "APP_ENV is not production"),
    ("MB-E002", Severity::Error, "SECRET_KEY is missing"),
    (
        "MB-E003",
        Severity::Error,
        "SECRET_KEY is shorter than 64 characters",
    ),
    (
        "MB-E004",
        Severity::Error,
        "SECRET_KEY has fewer than 5 distinct characters",
    ),
    (
        "MB-E005",
        Severity::Error,
        "SECRET_KEY is a known placeholder",
    ),
    (
        "MB-E006",
        Severity::Error,
        "SECRET_KEY is predictable (repeats, runs: low estimated entropy)",
    ),
    ("MB-E010", Severity::Error, "ALLOWED_HOSTS is empty"),
    ("MB-E011", Severity::Error, "ALLOWED_HOSTS contains `*`"),
    (
        "MB-E012",
        Severity::Error,
        "BASE_URL is missing or not https",
    ),
    (
        "MB-E013",
        Severity::Error,
        "the host of BASE_URL is not in ALLOWED_HOSTS",
    ),
    ("MB-E020", Severity::Error, "HSTS is off (HSTS_SECONDS=0)"),
    ("MB-W021", Severity::Warning, "HSTS lasts less than one day"),
    (
        "MB-E030",
        Severity::Error,
        "Razorpay API keys are missing (RAZORPAY_KEY_ID / RAZORPAY_KEY_SECRET)",
    ),
    (
        "MB-E031",
        Severity::Error,
        "Razorpay test keys (rzp_test_) in production",
    ),
    (
        "MB-E032",
        Severity::Error,
        "RAZORPAY_WEBHOOK_SECRET is missing",
    ),
    (
        "MB-E033",
        Severity::Error,
        "RAZORPAY_WEBHOOK_SECRET equals RAZORPAY_KEY_SECRET",
    ),
    (
        "MB-E034",
        Severity::Error,
        "RAZORPAY_API_BASE is not https://api.razorpay.com",
    ),
    (
        "MB-E040",
        Severity::Error,
        "SQLite in production without ALLOW_SQLITE_IN_PRODUCTION",
    ),
    (
        "MB-W041",
        Severity::Warning,
        "SQLite in production (allowed): one process, a persistent disk and backups needed",
    ),
    (
        "MB-E042",
        Severity::Error,
        "PostgreSQL connection without required TLS (sslmode)",
    ),
    ("MB-E050", Severity::Error, "EMAIL_BACKEND is not smtp"),
    ("MB-E051", Severity::Error, "SMTP_URL is missing"),
    ("MB-E052", Severity::Error, "SMTP connection without TLS"),
    (
        "MB-W060",
        Severity::Warning,
        "SENTRY_DSN is not set (errors are only logged)",
    ),
    (
        "MB-E070",
        Severity::Error,
        "TRUSTED_PROXY_HOPS is not set explicitly",
    ),
    (
        "MB-W070",
        Severity::Warning,
        "TRUSTED_PROXY_HOPS is 0 (right only when clients connect directly)",
    ),
    (
        "MB-E080",
        Severity::Error,
        "rate limits are off (RATE_LIMITS)",
    ),
    (
        "MB-E081",
        Severity::Error,
        "BODY_LIMIT_BYTES is above 10 MB",
    ),
    ("MB-W090", Severity::Warning, "METRICS_TOKEN is not set"),
    (
        "MB-W091",
        Severity::Warning,
        "METRICS_TOKEN is shorter than 32 characters",
    ),
    (
        "MB-E100",
        Severity::Error,
        "CORS_ALLOWED_ORIGINS contains `*`",
    ),
    (
        "MB-W101",
        Severity::Warning,
        "a CORS origin is not an https origin",
    ),
    (
        "MB-W110",
        Severity::Warning,
        "DEPLOY_CHECK_WAIVE lets serve start despite errors",
    ),
];

/// The result of an audit.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// The ids found, in report order (tests and scripts).
    pub fn ids(&self) -> Vec<&'static str> {
        self.findings.iter().map(|f| f.id).collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            writeln!(
                f,
                "{} [{}] {}: {}",
                finding.id,
                finding.severity.label(),
                finding.setting,
                finding.problem
            )?;
            writeln!(f, "        fix: {}", finding.fix)?;
        }
        let (errors, warnings) = (self.count(Severity::Error), self.count(Severity::Warning));
        if errors == 0 && warnings == 0 {
            writeln!(f, "check --deploy: no problems found")
        } else {
            writeln!(
                f,
                "check --deploy: {errors} error(s), {warnings} warning(s){}",
                if errors > 0 {
                    " — not ready for production"
                } else {
                    ""
                }
            )
        }
    }
}

/// Collects findings; one place decides the severity of an id.
struct Findings(Vec<Finding>);

impl Findings {
    fn add(&mut self, id: &'static str, setting: &'static str, problem: String, fix: &str) {
        let severity = CHECKS
            .iter()
            .find(|(known, _, _)| *known == id)
            .map(|(_, severity, _)| *severity)
            .unwrap_or(Severity::Error);
        self.0.push(Finding {
            id,
            severity,
            setting,
            problem,
            fix: fix.to_owned(),
        });
    }

    fn mentions(&self, setting: &str) -> bool {
        self.0.iter().any(|f| f.setting == setting)
    }
}

/// Placeholders people leave in `SECRET_KEY` (lower-case substrings).
const PLACEHOLDERS: &[&str] = &[
    "changeme",
    "change-me",
    "change_me",
    "changethis",
    "replace-with",
    "replace_me",
    "placeholder",
    "insecure",
    "example",
    "secret-key",
    "secretkey",
    "your-secret",
    "not-a-secret",
];

const ONE_DAY: u64 = 86_400;
/// The largest request body production should accept.
const BODY_LIMIT_MAX: u64 = 10 * 1024 * 1024;
/// The least estimated entropy of a production SECRET_KEY, in bits.
const SECRET_MIN_BITS: f64 = 128.0;
/// The variable that lists deploy-check errors `serve` starts despite.
pub const WAIVE_VARIABLE: &str = "DEPLOY_CHECK_WAIVE";

/// The ids listed in `DEPLOY_CHECK_WAIVE` (comma-separated, e.g. `MB-E012,MB-E020`).
pub fn waived_ids(vars: &HashMap<String, String>) -> BTreeSet<String> {
    vars.get(WAIVE_VARIABLE)
        .map(|list| {
            list.split(',')
                .map(|id| id.trim().to_ascii_uppercase())
                .filter(|id| !id.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a Razorpay API base is Razorpay's own, over HTTPS.
fn is_razorpay_api(base: &str) -> bool {
    Url::parse(base).is_ok_and(|url| {
        url.scheme() == "https"
            && url.host_str() == Some("api.razorpay.com")
            && url.port().is_none()
            && url.username().is_empty()
    })
}

/// A rough lower estimate of a key's entropy in bits, in the spirit of zxcvbn: each
/// character that a guesser could predict (it repeats the one before, continues an
/// ascending or descending run, or completes a four-character block seen earlier in the
/// key) adds nothing; every other one adds log2 of the number of distinct characters
/// used. A random 64-character hex key scores about 200 bits; `0123456789abcdef` four
/// times over scores 12.
pub fn estimated_entropy_bits(key: &str) -> f64 {
    let chars: Vec<char> = key.chars().collect();
    let distinct = chars.iter().collect::<BTreeSet<_>>().len();
    if distinct < 2 {
        return 0.0;
    }
    let per_char = (distinct as f64).log2();
    let mut blocks_seen: BTreeSet<&[char]> = BTreeSet::new();
    let mut unpredictable = 0usize;
    for i in 0..chars.len() {
        let repeat_or_run = i > 0 && (chars[i] as i64 - chars[i - 1] as i64).abs() <= 1;
        let seen_block = i >= 3 && !blocks_seen.insert(&chars[i - 3..=i]);
        if !(repeat_or_run || seen_block) {
            unpredictable += 1;
        }
    }
    unpredictable as f64 * per_char
}

const SECRET_MIN: usize = 64;
const METRICS_TOKEN_MIN: usize = 32;

/// Audits `vars` as a production process would read them.
pub fn audit(vars: &HashMap<String, String>) -> Report {
    let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut out = Findings(Vec::new());

    match get("APP_ENV") {
        Some("production" | "prod") => {}
        other => out.add(
            "MB-E001",
            "APP_ENV",
            format!(
                "APP_ENV is {}: development mode has insecure cookies, no HSTS, no HTTPS redirect and a local payment gateway.",
                other.map_or_else(|| "not set".to_owned(), |v| format!("{v:?}"))
            ),
            "Set APP_ENV=production on the production app.",
        ),
    }

    check_secret_key(get("SECRET_KEY"), &mut out);
    check_hosts(get("BASE_URL"), get("ALLOWED_HOSTS"), &mut out);

    match get("HSTS_SECONDS").map(str::parse::<u64>) {
        Some(Ok(0)) => out.add(
            "MB-E020",
            "HSTS_SECONDS",
            "HSTS is off, so a browser may reach the site over plain HTTP where it can be intercepted.".into(),
            "Unset HSTS_SECONDS (one year) or set it to at least 86400; start low while testing HTTPS, then raise it.",
        ),
        Some(Ok(seconds)) if seconds < ONE_DAY => out.add(
            "MB-W021",
            "HSTS_SECONDS",
            format!("HSTS lasts only {seconds} seconds."),
            "Raise HSTS_SECONDS to 31536000 (one year) once HTTPS works everywhere.",
        ),
        _ => {}
    }

    check_razorpay(
        get("RAZORPAY_KEY_ID"),
        get("RAZORPAY_KEY_SECRET"),
        get("RAZORPAY_WEBHOOK_SECRET"),
        &mut out,
    );
    if let Some(base) = get("RAZORPAY_API_BASE")
        && !is_razorpay_api(base)
    {
        out.add(
            "MB-E034",
            "RAZORPAY_API_BASE",
            format!("RAZORPAY_API_BASE is {:?}: the key secret would be sent to that server with every order and refund.", redact_url(base)),
            "Unset RAZORPAY_API_BASE (https://api.razorpay.com/v1); it is for tests against a fake gateway only.",
        );
    }
    check_database(
        get("DATABASE_URL").unwrap_or("sqlite://moviebooking.db"),
        get("ALLOW_SQLITE_IN_PRODUCTION"),
        get("PGSSLMODE"),
        &mut out,
    );
    check_email(get("EMAIL_BACKEND"), get("SMTP_URL"), &mut out);

    if get("SENTRY_DSN").is_none() {
        out.add(
            "MB-W060",
            "SENTRY_DSN",
            "No error reporting: panics and 5xx errors only reach the logs.".into(),
            "Create a Sentry project and set SENTRY_DSN to its DSN.",
        );
    }

    match get("TRUSTED_PROXY_HOPS").map(str::parse::<usize>) {
        None => out.add(
            "MB-E070",
            "TRUSTED_PROXY_HOPS",
            "TRUSTED_PROXY_HOPS is not set. Rate limits, login throttling and logs key on the client's address, which depends on how many proxies append to X-Forwarded-For: trusting one that is not there lets every client forge its address, trusting none behind a router gives everyone the router's.".into(),
            "Set it explicitly: TRUSTED_PROXY_HOPS=1 on Heroku and Railway (their router appends one entry; add one per CDN or load balancer in front), TRUSTED_PROXY_HOPS=0 when clients connect straight to the app.",
        ),
        Some(Ok(0)) => out.add(
            "MB-W070",
            "TRUSTED_PROXY_HOPS",
            "TRUSTED_PROXY_HOPS=0: right when clients connect straight to the app; behind a platform router every client would get the router's address, so rate limits would lock everyone out together.".into(),
            "Keep 0 only without a proxy; set TRUSTED_PROXY_HOPS=1 on Heroku and Railway (one more per CDN in front).",
        ),
        _ => {}
    }

    if matches!(
        get("RATE_LIMITS").map(str::to_ascii_lowercase).as_deref(),
        Some("off" | "false" | "0" | "no")
    ) {
        out.add(
            "MB-E080",
            "RATE_LIMITS",
            "Rate limits are off: login, registration, password reset, holds and payments can be hammered.".into(),
            "Unset RATE_LIMITS (it is meant for load tests only).",
        );
    }

    match get("METRICS_TOKEN") {
        None => out.add(
            "MB-W090",
            "METRICS_TOKEN",
            "GET /metrics is disabled (404), so nothing can scrape request and booking metrics.".into(),
            "Set METRICS_TOKEN to a random value (openssl rand -hex 32) and give it to your scraper as a Bearer token.",
        ),
        Some(token) if token.chars().count() < METRICS_TOKEN_MIN => out.add(
            "MB-W091",
            "METRICS_TOKEN",
            format!(
                "METRICS_TOKEN has {} characters; a short token can be guessed.",
                token.chars().count()
            ),
            "Use at least 32 random characters: openssl rand -hex 32.",
        ),
        Some(_) => {}
    }

    check_cors(get("CORS_ALLOWED_ORIGINS"), &mut out);

    if let Some(Ok(bytes)) = get("BODY_LIMIT_BYTES").map(str::parse::<u64>)
        && bytes > BODY_LIMIT_MAX
    {
        out.add(
            "MB-E081",
            "BODY_LIMIT_BYTES",
            format!("BODY_LIMIT_BYTES={bytes}: requests that large let a few clients exhaust memory; the largest thing anyone uploads is a 2 MB poster."),
            "Unset BODY_LIMIT_BYTES (3 MB) or keep it at most 10485760 (10 MB).",
        );
    }

    if let Some(ids) = get(WAIVE_VARIABLE) {
        out.add(
            "MB-W110",
            WAIVE_VARIABLE,
            format!("{WAIVE_VARIABLE}={ids}: `serve` starts in production despite these errors."),
            "Fix the waived settings and unset DEPLOY_CHECK_WAIVE; it is meant for a staging copy, never for the live site.",
        );
    }

    // Whatever else `Config` refuses, one finding per refused setting.
    for error in refused_settings(vars) {
        if !out.mentions(error.name) {
            out.add(
                "MB-E000",
                error.name,
                format!("the application refuses to start: {error}."),
                "Correct the value (the message says what is expected).",
            );
        }
    }

    Report { findings: out.0 }
}

fn check_secret_key(key: Option<&str>, out: &mut Findings) {
    let fix = "Generate one with `openssl rand -hex 32` (64 characters) and set SECRET_KEY to it; changing it logs everyone out.";
    let Some(key) = key else {
        out.add(
            "MB-E002",
            "SECRET_KEY",
            "SECRET_KEY is not set.".into(),
            fix,
        );
        return;
    };
    let length = key.chars().count();
    if length < SECRET_MIN {
        out.add(
            "MB-E003",
            "SECRET_KEY",
            format!("SECRET_KEY has {length} characters; production needs at least {SECRET_MIN}."),
            fix,
        );
    }
    let distinct = key.chars().collect::<BTreeSet<_>>().len();
    if distinct < 5 {
        out.add(
            "MB-E004",
            "SECRET_KEY",
            format!("SECRET_KEY uses only {distinct} distinct characters, so it is easy to guess."),
            fix,
        );
    }
    let bits = estimated_entropy_bits(key);
    if distinct >= 5 && bits < SECRET_MIN_BITS {
        out.add(
            "MB-E006",
            "SECRET_KEY",
            format!("SECRET_KEY is predictable: its repeats and runs leave an estimated {bits:.0} bits of entropy, fewer than {SECRET_MIN_BITS:.0}."),
            fix,
        );
    }
    let lower = key.to_ascii_lowercase();
    if lower == "secret" || PLACEHOLDERS.iter().any(|p| lower.contains(p)) {
        out.add(
            "MB-E005",
            "SECRET_KEY",
            "SECRET_KEY looks like a placeholder from documentation or .env.example.".into(),
            fix,
        );
    }
}

fn check_hosts(base_url: Option<&str>, hosts: Option<&str>, out: &mut Findings) {
    let allowed: Vec<String> = hosts
        .unwrap_or("")
        .split(',')
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .collect();
    if allowed.is_empty() {
        out.add(
            "MB-E010",
            "ALLOWED_HOSTS",
            "ALLOWED_HOSTS is empty, so every request would be refused with 400.".into(),
            "Set ALLOWED_HOSTS to the public host name(s), e.g. ALLOWED_HOSTS=tickets.example.com.",
        );
    }
    if allowed.iter().any(|h| h.contains('*')) {
        out.add(
            "MB-E011",
            "ALLOWED_HOSTS",
            "ALLOWED_HOSTS contains `*`: any Host header is accepted, which enables cache poisoning and forged links.".into(),
            "List the exact host names (a leading dot, `.example.com`, allows subdomains).",
        );
    }
    let parsed = base_url.and_then(|raw| Url::parse(raw).ok());
    match (&parsed, base_url) {
        (Some(url), _) if url.scheme() == "https" && url.host_str().is_some() => {}
        (_, raw) => out.add(
            "MB-E012",
            "BASE_URL",
            match raw {
                None => "BASE_URL is not set; links in emails and redirects are built from it.".into(),
                Some(raw) => format!(
                    "BASE_URL {:?} is not an https URL; HTTPS redirects and emailed links would use it.",
                    redact_url(raw)
                ),
            },
            "Set BASE_URL to the public https URL, e.g. BASE_URL=https://tickets.example.com.",
        ),
    }
    if let Some(host) = parsed.as_ref().and_then(|u| u.host_str())
        && !allowed.is_empty()
        && !crate::web::middleware::host_allowed(host, &allowed)
    {
        out.add(
            "MB-E013",
            "ALLOWED_HOSTS",
            format!("the host of BASE_URL ({host}) is not in ALLOWED_HOSTS, so the site would refuse its own address."),
            "Add the host of BASE_URL to ALLOWED_HOSTS.",
        );
    }
}

fn check_razorpay(
    key_id: Option<&str>,
    key_secret: Option<&str>,
    webhook_secret: Option<&str>,
    out: &mut Findings,
) {
    let missing: Vec<&str> = [
        ("RAZORPAY_KEY_ID", key_id),
        ("RAZORPAY_KEY_SECRET", key_secret),
    ]
    .iter()
    .filter(|(_, v)| v.is_none())
    .map(|(name, _)| *name)
    .collect();
    if !missing.is_empty() {
        out.add(
            "MB-E030",
            "RAZORPAY_KEY_ID",
            format!("{} not set: nobody can pay.", missing.join(" and ")),
            "Razorpay Dashboard (Live Mode) -> Account & Settings -> API Keys: generate a key and set RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET.",
        );
    }
    if key_id.is_some_and(|id| id.starts_with("rzp_test_")) {
        out.add(
            "MB-E031",
            "RAZORPAY_KEY_ID",
            "RAZORPAY_KEY_ID is a test key (rzp_test_…): payments would not take real money."
                .into(),
            "Use the live key pair (rzp_live_…) from the Dashboard in Live Mode.",
        );
    }
    match webhook_secret {
        None => out.add(
            "MB-E032",
            "RAZORPAY_WEBHOOK_SECRET",
            "RAZORPAY_WEBHOOK_SECRET is not set: webhooks cannot be verified, so a payment whose browser never came back is never confirmed.".into(),
            "Dashboard -> Webhooks: add https://HOST/payments/razorpay/webhook with a secret of your own, and set RAZORPAY_WEBHOOK_SECRET to it.",
        ),
        Some(secret) if Some(secret) == key_secret => out.add(
            "MB-E033",
            "RAZORPAY_WEBHOOK_SECRET",
            "RAZORPAY_WEBHOOK_SECRET is the same as RAZORPAY_KEY_SECRET; a leak of one would expose both.".into(),
            "Choose a different random webhook secret (openssl rand -hex 24) in the Dashboard and here.",
        ),
        Some(_) => {}
    }
}

fn check_database(
    url: &str,
    allow_sqlite: Option<&str>,
    pgsslmode: Option<&str>,
    out: &mut Findings,
) {
    if url.starts_with("sqlite:") {
        let allowed = matches!(
            allow_sqlite.map(str::to_ascii_lowercase).as_deref(),
            Some("1" | "true" | "yes" | "on")
        );
        if allowed {
            out.add(
                "MB-W041",
                "DATABASE_URL",
                "Production runs on SQLite: only one web process may use it, and platforms with ephemeral disks (Heroku) lose the file at every restart.".into(),
                "Keep the file on a persistent volume, run one process, and back it up: moviebooking backup --output FILE.",
            );
        } else {
            out.add(
                "MB-E040",
                "DATABASE_URL",
                "DATABASE_URL is a SQLite file (the default when unset); production expects PostgreSQL.".into(),
                "Attach PostgreSQL (its DATABASE_URL is set for you), or set ALLOW_SQLITE_IN_PRODUCTION=true for a single-process deployment on a persistent disk.",
            );
        }
        return;
    }
    let from_url = Url::parse(url).ok().and_then(|u| {
        u.query_pairs()
            .find(|(k, _)| k == "sslmode" || k == "ssl-mode")
            .map(|(_, v)| v.into_owned())
    });
    let mode = from_url.or_else(|| pgsslmode.map(str::to_owned));
    if !matches!(
        mode.as_deref(),
        Some("require" | "verify-ca" | "verify-full")
    ) {
        out.add(
            "MB-E042",
            "DATABASE_URL",
            format!(
                "the PostgreSQL connection does not require TLS (sslmode={}), so credentials and data may cross the network in clear.",
                mode.as_deref().unwrap_or("prefer, the default")
            ),
            "Add ?sslmode=require to DATABASE_URL, or set PGSSLMODE=require when the platform manages DATABASE_URL (Heroku).",
        );
    }
}

fn check_email(backend: Option<&str>, smtp_url: Option<&str>, out: &mut Findings) {
    let backend = backend.unwrap_or("smtp");
    if backend != "smtp" {
        out.add(
            "MB-E050",
            "EMAIL_BACKEND",
            format!(
                "EMAIL_BACKEND={backend:?}: confirmation emails and tickets would not be delivered."
            ),
            "Set EMAIL_BACKEND=smtp and SMTP_URL to your provider's SMTP server.",
        );
        return;
    }
    let Some(url) = smtp_url else {
        out.add(
            "MB-E051",
            "SMTP_URL",
            "SMTP_URL is not set, but EMAIL_BACKEND is smtp.".into(),
            "Set SMTP_URL=smtps://USER:PASSWORD@smtp.example.com:465 (or smtp://…:587?tls=required).",
        );
        return;
    };
    let tls_required = Url::parse(url).ok().is_some_and(|u| match u.scheme() {
        "smtps" => true,
        "smtp" => u.query_pairs().any(|(k, v)| k == "tls" && v == "required"),
        _ => false,
    });
    if !tls_required {
        out.add(
            "MB-E052",
            "SMTP_URL",
            format!(
                "SMTP_URL {:?} does not require TLS, so the SMTP password and the tickets may travel in clear.",
                redact_url(url)
            ),
            "Use smtps://…:465, or smtp://…:587?tls=required for STARTTLS.",
        );
    }
}

fn check_cors(origins: Option<&str>, out: &mut Findings) {
    let origins: Vec<&str> = origins
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .collect();
    if origins.contains(&"*") {
        out.add(
            "MB-E100",
            "CORS_ALLOWED_ORIGINS",
            "CORS_ALLOWED_ORIGINS contains `*`: any web site could call the JSON API.".into(),
            "List the exact origins of your own front-ends, e.g. https://app.example.com.",
        );
    }
    for origin in origins.iter().filter(|o| **o != "*") {
        let is_origin = Url::parse(origin).ok().is_some_and(|u| {
            u.scheme() == "https"
                && u.host_str().is_some()
                && u.path() == "/"
                && u.query().is_none()
                && !origin.ends_with('/')
        });
        if !is_origin {
            out.add(
                "MB-W101",
                "CORS_ALLOWED_ORIGINS",
                format!("{origin:?} is not an https origin (scheme://host[:port], no path), so it never matches a browser's Origin header."),
                "Write each origin exactly as the browser sends it, e.g. https://app.example.com.",
            );
        }
    }
}

/// Every setting `Config::from_vars` refuses in production, found one at a time: each refused
/// setting is replaced by a stand-in and the configuration parsed again.
fn refused_settings(vars: &HashMap<String, String>) -> Vec<crate::config::ConfigError> {
    let mut vars = vars.clone();
    // Read as production reads it. Production never writes the development key file, so the
    // working directory is not touched.
    vars.insert("APP_ENV".into(), "production".into());
    let mut errors: Vec<crate::config::ConfigError> = Vec::new();
    for _ in 0..64 {
        let error = match Config::from_vars(&vars, Path::new(".")) {
            Ok(_) => break,
            Err(error) => error,
        };
        if errors.iter().any(|e| e.name == error.name) {
            break;
        }
        for (name, stand_in) in stand_ins(error.name) {
            match stand_in {
                Some(value) => vars.insert((*name).to_owned(), (*value).to_owned()),
                None => vars.remove(*name),
            };
        }
        errors.push(error);
    }
    errors
}

/// Values that `Config` accepts, used in place of a refused setting (None: use the default).
fn stand_ins(name: &str) -> &'static [(&'static str, Option<&'static str>)] {
    match name {
        "BASE_URL" => &[("BASE_URL", Some("https://stand-in.invalid"))],
        "SECRET_KEY" => &[(
            "SECRET_KEY",
            Some("stand-in-stand-in-stand-in-stand-in-stand-in-stand-in-stand-in-0"),
        )],
        "SMTP_URL" | "EMAIL_BACKEND" => &[("EMAIL_BACKEND", Some("log"))],
        "RAZORPAY_KEY_ID" | "RAZORPAY_KEY_SECRET" | "RAZORPAY_WEBHOOK_SECRET" => &[
            ("RAZORPAY_KEY_ID", Some("rzp_live_standin")),
            ("RAZORPAY_KEY_SECRET", Some("stand-in")),
            ("RAZORPAY_WEBHOOK_SECRET", Some("stand-in-webhook")),
        ],
        "DATABASE_URL" => &[("DATABASE_URL", Some("postgres://stand-in.invalid/db"))],
        "PORT" => &[("PORT", None)],
        "BIND_ADDR" => &[("BIND_ADDR", None)],
        "EMAIL_FROM" => &[("EMAIL_FROM", None)],
        "RAZORPAY_API_BASE" => &[("RAZORPAY_API_BASE", None)],
        "HOLD_TTL_SECONDS" => &[("HOLD_TTL_SECONDS", None)],
        "MAX_SEATS_PER_BOOKING" => &[("MAX_SEATS_PER_BOOKING", None)],
        "BOOKING_CUTOFF_MINUTES" => &[("BOOKING_CUTOFF_MINUTES", None)],
        "CONVENIENCE_FEE_PAISE" => &[("CONVENIENCE_FEE_PAISE", None)],
        "FEE_GST_PERCENT" => &[("FEE_GST_PERCENT", None)],
        "PAYMENT_WINDOW_SECONDS" => &[("PAYMENT_WINDOW_SECONDS", None)],
        "CANCELLATION_CUTOFF_HOURS" => &[("CANCELLATION_CUTOFF_HOURS", None)],
        "MAX_LIVE_HOLDS_PER_USER" => &[("MAX_LIVE_HOLDS_PER_USER", None)],
        "REHOLD_COOLDOWN_SECONDS" => &[("REHOLD_COOLDOWN_SECONDS", None)],
        "CHECKIN_OPENS_MINUTES" => &[("CHECKIN_OPENS_MINUTES", None)],
        "CHECKIN_UNDO_MINUTES" => &[("CHECKIN_UNDO_MINUTES", None)],
        "HSTS_SECONDS" => &[("HSTS_SECONDS", None)],
        "SENTRY_DSN" => &[("SENTRY_DSN", None)],
        "TRUSTED_PROXY_HOPS" => &[("TRUSTED_PROXY_HOPS", None)],
        "ALLOW_SQLITE_IN_PRODUCTION" => &[("ALLOW_SQLITE_IN_PRODUCTION", None)],
        "REQUEST_TIMEOUT_SECONDS" => &[("REQUEST_TIMEOUT_SECONDS", None)],
        "BODY_LIMIT_BYTES" => &[("BODY_LIMIT_BYTES", None)],
        "DB_ACQUIRE_TIMEOUT_SECONDS" => &[("DB_ACQUIRE_TIMEOUT_SECONDS", None)],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let example = include_str!("../.env.example");
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
        let example = include_str!("../.env.example");
        let source = include_str!("config.rs");
        let names: BTreeSet<&str> = source
            .split("get(\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .filter(|name| name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            .collect();
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
}
