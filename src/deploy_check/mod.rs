//! `moviebooking check --deploy`: an audit of the settings a production process would run
//! with, in the spirit of Django's `check --deploy`.
//!
//! `audit` is a pure function over the variables (the same map `Config::from_vars` reads), so
//! every rule is tested without touching the process environment; `main.rs` only prints the
//! report. The audit reads the settings once, through the configuration's own parsers as a
//! production process would, and never stops at the first problem: the parsers report every
//! setting they refuse, and each one without a more specific finding becomes MB-E000. Rules
//! about how a value is written (the strength of a key, https where http would parse) read
//! the variable itself, by the name its concern declares. The rules are grouped by concern,
//! one module each. Every finding has a stable id that operators can search for in
//! `DEPLOYMENT_CHECKLIST.md`. Secrets are never printed.

mod database;
mod email;
mod operations;
mod payments;
mod secret;
mod site;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::Path;

use crate::config::database::PGSSLMODE;
use crate::config::email::{EMAIL_BACKEND, SMTP_URL};
use crate::config::observability::SENTRY_DSN;
use crate::config::payments::{
    RAZORPAY_API_BASE, RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET, RAZORPAY_WEBHOOK_SECRET,
};
use crate::config::security::{SECRET_KEY, TRUSTED_PROXY_HOPS};
use crate::config::server::BASE_URL;
use crate::config::{APP_ENV, Environment, Settings, Vars};

pub use secret::estimated_entropy_bits;

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

/// Audits `vars` as a production process would read them.
pub fn audit(vars: &HashMap<String, String>) -> Report {
    let vars = Vars::new(vars);
    // Production never writes the development key file, so the working directory is not
    // touched.
    let (settings, refused) = Settings::parse(vars, Environment::Production, Path::new("."));
    let is_refused = |name: &str| refused.iter().any(|e| e.name == name);
    let mut out = Findings(Vec::new());

    if !matches!(Environment::parse(vars), Ok(Environment::Production)) {
        out.add(
            "MB-E001",
            APP_ENV,
            format!(
                "APP_ENV is {}: development mode has insecure cookies, no HSTS, no HTTPS redirect and a local payment gateway.",
                vars.get(APP_ENV).map_or_else(|| "not set".to_owned(), |v| format!("{v:?}"))
            ),
            "Set APP_ENV=production on the production app.",
        );
    }

    secret::check_secret_key(vars.get(SECRET_KEY), &mut out);
    site::check_hosts(
        vars.get(BASE_URL),
        &settings.security.allowed_hosts,
        &mut out,
    );
    site::check_hsts(settings.security.hsts_seconds, &mut out);
    payments::check_keys(
        vars.get(RAZORPAY_KEY_ID),
        vars.get(RAZORPAY_KEY_SECRET),
        vars.get(RAZORPAY_WEBHOOK_SECRET),
        &mut out,
    );
    payments::check_api_base(vars.get(RAZORPAY_API_BASE), &mut out);
    database::check_database(&settings.database, vars.get(PGSSLMODE), &mut out);
    email::check_email(vars.get(EMAIL_BACKEND), vars.get(SMTP_URL), &mut out);
    operations::check_sentry(&settings.observability, is_refused(SENTRY_DSN), &mut out);
    if !is_refused(TRUSTED_PROXY_HOPS) {
        site::check_proxies(settings.security.trusted_proxy_hops, &mut out);
    }
    operations::check_rate_limits(&settings.limits, &mut out);
    operations::check_metrics(&settings.observability, &mut out);
    site::check_cors(&settings.security.cors_allowed_origins, &mut out);
    operations::check_body_limit(&settings.limits, &mut out);

    if let Some(ids) = vars.get(WAIVE_VARIABLE) {
        out.add(
            "MB-W110",
            WAIVE_VARIABLE,
            format!("{WAIVE_VARIABLE}={ids}: `serve` starts in production despite these errors."),
            "Fix the waived settings and unset DEPLOY_CHECK_WAIVE; it is meant for a staging copy, never for the live site.",
        );
    }

    // Whatever else the application refuses, one finding per refused setting.
    for error in refused {
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
