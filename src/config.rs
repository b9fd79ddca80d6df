//! Typed configuration, read once at start from the environment (and an optional `.env`).
//!
//! Every setting is parsed and validated here so that the rest of the program works with
//! values it can trust. A bad value stops the program with a message that names the
//! variable and what was expected, instead of failing later in some request.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

/// Which kind of deployment this is. Production turns on every secure default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// Where outgoing email goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailBackend {
    /// Real delivery through an SMTP server (`SMTP_URL`).
    Smtp { url: String },
    /// One `.eml` file per message in a folder; the development default.
    File { dir: PathBuf },
    /// Messages are only logged (subject and recipient, never the body).
    Log,
}

/// Razorpay credentials; absent in development, where the local gateway stands in.
#[derive(Clone, PartialEq, Eq)]
pub struct RazorpayKeys {
    pub key_id: String,
    pub key_secret: String,
    pub webhook_secret: String,
}

impl std::fmt::Debug for RazorpayKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never reach a log line, even through `{:?}` of the whole config.
        f.debug_struct("RazorpayKeys")
            .field("key_id", &self.key_id)
            .field("key_secret", &"[redacted]")
            .field("webhook_secret", &"[redacted]")
            .finish()
    }
}

/// Rules of the booking business that operators may tune.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRules {
    pub hold_ttl: Duration,
    pub max_seats_per_booking: u32,
    pub booking_cutoff_minutes: i64,
    pub convenience_fee_paise: i64,
    pub fee_gst_percent: i64,
    pub payment_window: Duration,
    pub cancellation_cutoff_hours: i64,
    /// How many live holds (pending bookings) one account may have across showtimes.
    pub max_live_holds_per_user: i64,
    /// After a hold runs out unpaid, how long its account must wait before holding those
    /// seats again (other customers may take them at once).
    pub rehold_cooldown: Duration,
}

/// Rules of the door (ticket check-in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinRules {
    /// How long before the start a ticket may be admitted.
    pub opens_before: Duration,
    /// How long after an admission its staff member (or a manager) may undo it.
    pub undo_window: Duration,
}

/// The whole configuration of one process.
#[derive(Debug, Clone)]
pub struct Config {
    pub app_env: AppEnv,
    pub database_url: String,
    pub bind_addr: IpAddr,
    pub port: u16,
    pub base_url: Url,
    pub secret_key: Secret,
    pub allowed_hosts: Vec<String>,
    pub email_backend: EmailBackend,
    pub email_from: String,
    pub razorpay: Option<RazorpayKeys>,
    pub razorpay_api_base: Url,
    /// Total time allowed for one call to Razorpay (connecting takes at most 3 s of it).
    pub razorpay_timeout: Duration,
    pub booking: BookingRules,
    pub checkin: CheckinRules,
    pub hsts_seconds: u64,
    pub cors_allowed_origins: Vec<String>,
    pub metrics_token: Option<Secret>,
    pub sentry_dsn: Option<String>,
    /// How many proxies stand in front of the app and append to `X-Forwarded-For`; also
    /// whether a proxy's `X-Request-Id` is trusted (only when above 0).
    pub trusted_proxy_hops: usize,
    /// Operators must say so explicitly to run production on SQLite.
    pub allow_sqlite_in_production: bool,
    pub request_timeout: Duration,
    pub body_limit_bytes: usize,
    pub db_acquire_timeout: Duration,
    /// Per-process rate limits (on unless `RATE_LIMITS=off`, which load tests use).
    pub rate_limits: bool,
}

/// A value that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A setting that could not be used, with the variable's name and what it should be.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {name}={value:?}: expected {expected}")]
pub struct ConfigError {
    pub name: &'static str,
    pub value: String,
    pub expected: String,
}

impl ConfigError {
    fn new(name: &'static str, value: &str, expected: impl Into<String>) -> Self {
        Self {
            name,
            value: value.to_owned(),
            expected: expected.into(),
        }
    }
}

/// The development secret key lives here (git-ignored) so sessions survive restarts.
pub const DEV_SECRET_FILE: &str = ".dev-secret-key";

impl Config {
    /// Reads the process environment, after loading `.env` when one exists.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&environment(), Path::new("."))
    }

    /// Builds the configuration from a map of variables; `workdir` is where the development
    /// secret key file is kept. Tests call this directly with the settings they need.
    pub fn from_vars(vars: &HashMap<String, String>, workdir: &Path) -> Result<Self, ConfigError> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());

        let app_env = match get("APP_ENV").unwrap_or("development") {
            "development" | "dev" => AppEnv::Development,
            "production" | "prod" => AppEnv::Production,
            other => {
                return Err(ConfigError::new(
                    "APP_ENV",
                    other,
                    "`development` or `production`",
                ));
            }
        };
        let production = app_env == AppEnv::Production;

        let database_url = get("DATABASE_URL")
            .unwrap_or("sqlite://moviebooking.db")
            .to_owned();
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::new(
                "DATABASE_URL",
                &redact_url(&database_url),
                "a `sqlite://FILE` or `postgres://USER@HOST/DB` URL",
            ));
        }

        let port = parse_or(
            "PORT",
            get("PORT"),
            8000u16,
            "a TCP port number from 1 to 65535",
        )?;
        if port == 0 {
            return Err(ConfigError::new(
                "PORT",
                "0",
                "a TCP port number from 1 to 65535",
            ));
        }
        let default_bind = if production { "0.0.0.0" } else { "127.0.0.1" };
        let bind_addr: IpAddr = parse_or(
            "BIND_ADDR",
            get("BIND_ADDR"),
            default_bind.parse().expect("literal address"),
            "an IP address such as 0.0.0.0 or 127.0.0.1",
        )?;

        let base_url = match get("BASE_URL") {
            Some(raw) => Url::parse(raw)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                .ok_or_else(|| {
                    ConfigError::new(
                        "BASE_URL",
                        raw,
                        "an absolute http(s) URL such as https://tickets.example.com",
                    )
                })?,
            None if production => {
                return Err(ConfigError::new(
                    "BASE_URL",
                    "",
                    "the public https URL of the site (required in production)",
                ));
            }
            None => Url::parse(&format!("http://localhost:{port}")).expect("valid URL"),
        };

        let secret_key = match get("SECRET_KEY") {
            Some(key) if key.len() >= 32 => Secret::new(key),
            Some(key) => {
                return Err(ConfigError::new(
                    "SECRET_KEY",
                    &"*".repeat(key.len().min(8)),
                    "at least 32 characters (64 random characters in production)",
                ));
            }
            None if production => {
                return Err(ConfigError::new(
                    "SECRET_KEY",
                    "",
                    "a random key of at least 64 characters (required in production)",
                ));
            }
            None => development_secret(workdir),
        };

        let allowed_hosts = match get("ALLOWED_HOSTS") {
            Some(list) => split_list(list),
            None if production => Vec::new(),
            None => vec![
                "localhost".into(),
                "127.0.0.1".into(),
                "[::1]".into(),
                base_url.host_str().unwrap_or("localhost").to_owned(),
            ],
        };

        let email_backend = match get("EMAIL_BACKEND").unwrap_or(if production {
            "smtp"
        } else {
            "file"
        }) {
            "smtp" => {
                let url = get("SMTP_URL").ok_or_else(|| {
                    ConfigError::new(
                        "SMTP_URL",
                        "",
                        "an SMTP URL such as smtps://user:pass@host:465 (needed by EMAIL_BACKEND=smtp)",
                    )
                })?;
                if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                    return Err(ConfigError::new(
                        "SMTP_URL",
                        &redact_url(url),
                        "an smtp:// or smtps:// URL",
                    ));
                }
                EmailBackend::Smtp {
                    url: url.to_owned(),
                }
            }
            "file" => EmailBackend::File {
                dir: PathBuf::from(get("EMAIL_FILE_DIR").unwrap_or("./mail")),
            },
            "log" => EmailBackend::Log,
            other => {
                return Err(ConfigError::new(
                    "EMAIL_BACKEND",
                    other,
                    "`smtp`, `file` or `log`",
                ));
            }
        };
        let email_from = get("EMAIL_FROM")
            .unwrap_or("moviebooking <tickets@localhost>")
            .to_owned();
        if email_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::new(
                "EMAIL_FROM",
                &email_from,
                "a mailbox such as `Moviebooking <tickets@example.com>`",
            ));
        }

        let razorpay = match (
            get("RAZORPAY_KEY_ID"),
            get("RAZORPAY_KEY_SECRET"),
            get("RAZORPAY_WEBHOOK_SECRET"),
        ) {
            (Some(id), Some(secret), Some(webhook)) => Some(RazorpayKeys {
                key_id: id.to_owned(),
                key_secret: secret.to_owned(),
                webhook_secret: webhook.to_owned(),
            }),
            (None, None, None) if !production => None,
            (None, None, None) => {
                return Err(ConfigError::new(
                    "RAZORPAY_KEY_ID",
                    "",
                    "Razorpay keys (RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET, RAZORPAY_WEBHOOK_SECRET) in production",
                ));
            }
            (id, secret, _) => {
                let missing = if id.is_none() {
                    "RAZORPAY_KEY_ID"
                } else if secret.is_none() {
                    "RAZORPAY_KEY_SECRET"
                } else {
                    "RAZORPAY_WEBHOOK_SECRET"
                };
                return Err(ConfigError::new(
                    "RAZORPAY_KEY_ID",
                    missing,
                    format!("all three Razorpay settings together; {missing} is missing"),
                ));
            }
        };
        let razorpay_api_base = {
            let raw = get("RAZORPAY_API_BASE").unwrap_or("https://api.razorpay.com/v1");
            Url::parse(raw.trim_end_matches('/'))
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| ConfigError::new("RAZORPAY_API_BASE", raw, "an http(s) URL"))?
        };

        let razorpay_timeout = Duration::from_secs(parse_or(
            "RAZORPAY_TIMEOUT_SECONDS",
            get("RAZORPAY_TIMEOUT_SECONDS"),
            10u64,
            "a number of seconds",
        )?);

        let booking = BookingRules {
            hold_ttl: Duration::from_secs(parse_or(
                "HOLD_TTL_SECONDS",
                get("HOLD_TTL_SECONDS"),
                600u64,
                "a number of seconds",
            )?),
            max_seats_per_booking: parse_or(
                "MAX_SEATS_PER_BOOKING",
                get("MAX_SEATS_PER_BOOKING"),
                10u32,
                "a whole number of seats",
            )?,
            booking_cutoff_minutes: parse_or(
                "BOOKING_CUTOFF_MINUTES",
                get("BOOKING_CUTOFF_MINUTES"),
                0i64,
                "a whole number of minutes",
            )?,
            convenience_fee_paise: parse_or(
                "CONVENIENCE_FEE_PAISE",
                get("CONVENIENCE_FEE_PAISE"),
                3000i64,
                "an amount in paise",
            )?,
            fee_gst_percent: parse_or(
                "FEE_GST_PERCENT",
                get("FEE_GST_PERCENT"),
                18i64,
                "a whole percentage",
            )?,
            payment_window: Duration::from_secs(parse_or(
                "PAYMENT_WINDOW_SECONDS",
                get("PAYMENT_WINDOW_SECONDS"),
                300u64,
                "a number of seconds",
            )?),
            cancellation_cutoff_hours: parse_or(
                "CANCELLATION_CUTOFF_HOURS",
                get("CANCELLATION_CUTOFF_HOURS"),
                2i64,
                "a whole number of hours",
            )?,
            max_live_holds_per_user: parse_or(
                "MAX_LIVE_HOLDS_PER_USER",
                get("MAX_LIVE_HOLDS_PER_USER"),
                3i64,
                "a whole number of holds",
            )?,
            rehold_cooldown: Duration::from_secs(parse_or(
                "REHOLD_COOLDOWN_SECONDS",
                get("REHOLD_COOLDOWN_SECONDS"),
                120u64,
                "a number of seconds (0 turns the cool-down off)",
            )?),
        };
        let checkin = CheckinRules {
            opens_before: Duration::from_secs(
                60 * parse_or(
                    "CHECKIN_OPENS_MINUTES",
                    get("CHECKIN_OPENS_MINUTES"),
                    60u64,
                    "a whole number of minutes",
                )?,
            ),
            undo_window: Duration::from_secs(
                60 * parse_or(
                    "CHECKIN_UNDO_MINUTES",
                    get("CHECKIN_UNDO_MINUTES"),
                    10u64,
                    "a whole number of minutes",
                )?,
            ),
        };
        if booking.max_seats_per_booking == 0 {
            return Err(ConfigError::new("MAX_SEATS_PER_BOOKING", "0", "at least 1"));
        }

        Ok(Self {
            app_env,
            database_url,
            bind_addr,
            port,
            base_url,
            secret_key,
            allowed_hosts,
            email_backend,
            email_from,
            razorpay,
            razorpay_api_base,
            razorpay_timeout,
            booking,
            checkin,
            hsts_seconds: parse_or(
                "HSTS_SECONDS",
                get("HSTS_SECONDS"),
                31_536_000u64,
                "a number of seconds (0 turns HSTS off)",
            )?,
            cors_allowed_origins: get("CORS_ALLOWED_ORIGINS")
                .map(split_list)
                .unwrap_or_default(),
            metrics_token: get("METRICS_TOKEN").map(Secret::new),
            sentry_dsn: match get("SENTRY_DSN") {
                // Checked here because the Sentry client panics on a malformed DSN.
                Some(dsn) if dsn.parse::<sentry::types::Dsn>().is_err() => {
                    return Err(ConfigError::new(
                        "SENTRY_DSN",
                        &redact_url(dsn),
                        "a Sentry DSN such as https://KEY@o0.ingest.sentry.io/0",
                    ));
                }
                dsn => dsn.map(str::to_owned),
            },
            // Unset trusts no proxy: the peer address is the client. Production refuses to
            // serve until it is set explicitly (`check --deploy`, MB-E070).
            trusted_proxy_hops: parse_or(
                "TRUSTED_PROXY_HOPS",
                get("TRUSTED_PROXY_HOPS"),
                0usize,
                "the number of proxies in front of the app (0 when none)",
            )?,
            allow_sqlite_in_production: parse_bool(
                "ALLOW_SQLITE_IN_PRODUCTION",
                get("ALLOW_SQLITE_IN_PRODUCTION"),
            )?,
            request_timeout: Duration::from_secs(parse_or(
                "REQUEST_TIMEOUT_SECONDS",
                get("REQUEST_TIMEOUT_SECONDS"),
                30u64,
                "a number of seconds",
            )?),
            body_limit_bytes: parse_or(
                "BODY_LIMIT_BYTES",
                get("BODY_LIMIT_BYTES"),
                3 * 1024 * 1024usize,
                "a number of bytes",
            )?,
            rate_limits: !matches!(
                get("RATE_LIMITS").map(str::to_ascii_lowercase).as_deref(),
                Some("off" | "false" | "0")
            ),
            db_acquire_timeout: Duration::from_secs(parse_or(
                "DB_ACQUIRE_TIMEOUT_SECONDS",
                get("DB_ACQUIRE_TIMEOUT_SECONDS"),
                5u64,
                "a number of seconds",
            )?),
        })
    }

    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }

    /// The address the HTTP server listens on.
    pub fn listen_addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::new(self.bind_addr, self.port)
    }

    /// An absolute URL on this site, built from `BASE_URL` (never from a request's Host).
    pub fn absolute_url(&self, path_and_query: &str) -> String {
        let base = self.base_url.as_str().trim_end_matches('/');
        format!("{base}{path_and_query}")
    }

    /// The origin (`scheme://host[:port]`) that our own pages are served from.
    pub fn origin(&self) -> String {
        self.base_url.origin().ascii_serialization()
    }

    /// Whether the session cookie must be `Secure` (and carry the `__Host-` prefix).
    pub fn secure_cookies(&self) -> bool {
        self.is_production()
    }
}

/// The process environment, after loading `.env` when one exists (it never overrides a
/// variable that is already set).
pub fn environment() -> HashMap<String, String> {
    let _ = dotenvy::dotenv();
    std::env::vars().collect()
}

fn parse_or<T: std::str::FromStr>(
    name: &'static str,
    raw: Option<&str>,
    default: T,
    expected: &str,
) -> Result<T, ConfigError> {
    match raw {
        None => Ok(default),
        Some(raw) => raw
            .parse()
            .map_err(|_| ConfigError::new(name, raw, expected)),
    }
}

fn parse_bool(name: &'static str, raw: Option<&str>) -> Result<bool, ConfigError> {
    match raw.map(str::to_ascii_lowercase).as_deref() {
        None | Some("0" | "false" | "no" | "off") => Ok(false),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some(other) => Err(ConfigError::new(name, other, "true or false")),
    }
}

fn split_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A URL with its password replaced, safe to show in an error message.
pub fn redact_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_owned(),
    }
}

/// Reads the development key from its file, or makes one and keeps it there, so that
/// sessions survive a restart of `cargo run` without anyone setting `SECRET_KEY`.
fn development_secret(workdir: &Path) -> Secret {
    let path = workdir.join(DEV_SECRET_FILE);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Secret::new(existing);
        }
    }
    let key = crate::domain::tokens::random_token(48);
    if let Err(error) = std::fs::write(&path, &key) {
        tracing::warn!(%error, path = %path.display(), "could not keep the development secret key; sessions will end at restart");
    }
    Secret::new(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn development_defaults_need_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::from_vars(&HashMap::new(), dir.path()).unwrap();
        assert_eq!(config.app_env, AppEnv::Development);
        assert_eq!(config.port, 8000);
        assert_eq!(config.database_url, "sqlite://moviebooking.db");
        assert!(config.razorpay.is_none());
        assert!(dir.path().join(DEV_SECRET_FILE).exists());
        let again = Config::from_vars(&HashMap::new(), dir.path()).unwrap();
        assert_eq!(
            config.secret_key, again.secret_key,
            "the development key is kept"
        );
    }

    #[test]
    fn a_bad_port_names_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let error = Config::from_vars(&vars(&[("PORT", "eighty")]), dir.path()).unwrap_err();
        assert_eq!(error.name, "PORT");
        assert!(error.to_string().contains("TCP port"));
    }

    #[test]
    fn production_requires_its_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let error = Config::from_vars(&vars(&[("APP_ENV", "production")]), dir.path()).unwrap_err();
        assert_eq!(error.name, "BASE_URL");
    }

    #[test]
    fn secrets_are_not_printed() {
        let printed = format!("{:?}", Secret::new("hunter2-hunter2"));
        assert!(!printed.contains("hunter2"));
        assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
    }
}
