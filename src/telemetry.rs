//! Logging and error reporting: readable lines in development, one JSON object per line in
//! production (each line of a request carries its `request_id` through the request span),
//! filtered by `RUST_LOG`; and Sentry when `SENTRY_DSN` is set.
//!
//! Nothing secret is logged: request spans carry the method and path only (never the query
//! string or headers), sensitive headers are marked so by `web::SENSITIVE_HEADERS`, and
//! Sentry events lose cookies, authorization headers and bodies in `scrub_event`.

use sentry::protocol::Event;
use tracing::{Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, filter_fn};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::Config;

/// The log filter when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=info";

/// Installs the global subscriber without Sentry (tests and tools).
pub fn init(json: bool) {
    init_with_sentry(json, false);
}

/// Installs the global subscriber, with Sentry's layers when `sentry` is true. Call once,
/// early in `main`, after `init_sentry`.
pub fn init_with_sentry(json: bool, sentry: bool) {
    let spec = std::env::var("RUST_LOG").unwrap_or_else(|_| DEFAULT_FILTER.to_owned());
    let result = tracing_subscriber::registry()
        .with(env_filter(&spec))
        .with(json.then(|| json_layer(std::io::stdout)))
        .with((!json).then(|| tracing_subscriber::fmt::layer().compact()))
        .with(sentry.then(sentry_layers))
        .try_init();
    // Already installed (tests start several apps in one process): keep the first.
    let _ = result;
}

/// The log filter for `spec` (a `RUST_LOG` value). Whatever it says, axum's traces of
/// rejected requests stay off: they quote the rejected input, which may be a password.
pub fn env_filter(spec: &str) -> EnvFilter {
    let filter = EnvFilter::new(spec);
    match "axum::rejection=off".parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    }
}

/// The production log format: one JSON object per line, with the fields of the current span
/// and of every span around it (so the request span's `request_id` is on every line logged
/// while a request is handled, however deep the code that logs).
pub fn json_layer<S, W>(writer: W) -> impl Layer<S> + Send + Sync + 'static
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(writer)
}

/// Sentry's tracing integration: ERROR events become Sentry events, INFO and WARN events
/// become the breadcrumbs leading up to them.
fn sentry_layers<S>() -> impl Layer<S> + Send + Sync + 'static
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    use sentry::integrations::tracing::{BreadcrumbLayer, ErrorLayer};
    BreadcrumbLayer::new()
        .with_filter(filter_fn(|metadata| {
            matches!(*metadata.level(), Level::INFO | Level::WARN)
        }))
        .and_then(ErrorLayer::new().with_filter(LevelFilter::ERROR))
}

/// Starts the Sentry client when `SENTRY_DSN` is set. Keep the guard for the whole life of
/// the process: dropping it flushes and stops reporting. The panic integration is one of the
/// default integrations, so panics (also those `CatchPanicLayer` turns into 500 pages) are
/// reported.
pub fn init_sentry(config: &Config) -> Option<sentry::ClientInitGuard> {
    // `Config` has checked that the DSN parses; checked again because the client would
    // panic on a bad one.
    let dsn = config
        .sentry_dsn
        .as_deref()
        .filter(|dsn| dsn.parse::<sentry::types::Dsn>().is_ok())?;
    let options = sentry::ClientOptions::new()
        .dsn(dsn)
        .environment(if config.is_production() {
            "production"
        } else {
            "development"
        })
        .release(concat!(
            env!("CARGO_PKG_NAME"),
            "@",
            env!("CARGO_PKG_VERSION")
        ))
        .send_default_pii(false)
        .before_send(scrub_event);
    let guard = sentry::init(options);
    // `init` binds the client to the calling thread's hub; the process hub gets it too, so
    // every thread started later (the runtime's workers) reports, whichever thread called.
    sentry::Hub::main().bind_client(sentry::Hub::current().client());
    Some(guard)
}

/// Removes what must never leave the server from an event: cookies, authorization and
/// signature headers, request bodies and query strings (which may carry tokens), and any
/// user address.
pub fn scrub_event(mut event: Event<'static>) -> Option<Event<'static>> {
    if let Some(request) = event.request.as_mut() {
        request.cookies = None;
        request.data = None;
        request.query_string = None;
        if let Some(url) = request.url.as_mut() {
            url.set_query(None);
        }
        request.headers.retain(|name, _| {
            !crate::web::SENSITIVE_HEADERS
                .iter()
                .any(|sensitive| name.eq_ignore_ascii_case(sensitive.as_str()))
        });
        request.env.clear();
    }
    if let Some(user) = event.user.as_mut() {
        user.ip_address = None;
        user.email = None;
    }
    Some(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentry_events_lose_cookies_authorization_signatures_and_bodies() {
        let mut request = sentry::protocol::Request {
            url: "https://tickets.example.com/payments/razorpay/callback?token=abc"
                .parse()
                .ok(),
            method: Some("POST".into()),
            data: Some("password=hunter2".into()),
            query_string: Some("token=abc".into()),
            cookies: Some("__Host-session=s3cr3t".into()),
            ..Default::default()
        };
        for (name, value) in [
            ("Cookie", "__Host-session=s3cr3t"),
            ("authorization", "Bearer tok"),
            ("X-Razorpay-Signature", "deadbeef"),
            ("user-agent", "test"),
        ] {
            request.headers.insert(name.into(), value.into());
        }
        let event = Event {
            request: Some(request),
            ..Default::default()
        };
        let scrubbed = scrub_event(event).expect("events are kept");
        let request = scrubbed.request.expect("request details are kept");
        assert_eq!(request.cookies, None);
        assert_eq!(request.data, None);
        assert_eq!(request.query_string, None);
        assert_eq!(request.url.unwrap().query(), None);
        assert_eq!(
            request.headers.keys().collect::<Vec<_>>(),
            ["user-agent"],
            "only harmless headers remain"
        );
    }
}
