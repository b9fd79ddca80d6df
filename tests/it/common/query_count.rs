//! Counting the SQL statements a request runs, to prove a page is a fixed number of
//! queries however much data there is.
//!
//! sqlx emits a DEBUG event with target `sqlx::query` for every statement. A thread-local
//! subscriber (`tracing::subscriber::set_default`) does not see all of them: sqlx's SQLite
//! driver runs statements on its own worker thread (which enters the caller's span but
//! reports to the global dispatcher). So a process-wide subscriber is installed once, and
//! each statement is attributed to the HTTP request whose `request` span (made by the
//! app's TraceLayer, carrying the `x-request-id`) it ran under. Tests send their own
//! request id and read the count for it; parallel tests do not disturb each other. The app
//! keeps a client's request id only behind a trusted proxy, so such tests run with
//! `TRUSTED_PROXY_HOPS=1`.
//! Statements that set up a newly opened pool connection are left out.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, Once};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// The statements (their first words) run for each request id.
static STATEMENTS: LazyLock<Mutex<HashMap<String, Vec<String>>>> = LazyLock::new(Default::default);

/// The request id recorded on a `request` span.
struct RequestId(String);

struct RequestIdVisitor(Option<String>);

struct SummaryVisitor(String);

impl Visit for SummaryVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "summary" {
            self.0 = value.to_owned();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" {
            self.0 = format!("{value:?}");
        }
    }
}

impl Visit for RequestIdVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "request_id" {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "request_id" {
            self.0 = Some(format!("{value:?}").trim_matches('"').to_owned());
        }
    }
}

struct StatementCounter;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for StatementCounter {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "request" {
            return;
        }
        let mut visitor = RequestIdVisitor(None);
        attrs.record(&mut visitor);
        if let (Some(request_id), Some(span)) = (visitor.0, ctx.span(id)) {
            span.extensions_mut().insert(RequestId(request_id));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        for span in scope {
            if let Some(RequestId(id)) = span.extensions().get::<RequestId>() {
                let mut summary = SummaryVisitor(String::new());
                event.record(&mut summary);
                // A request sometimes opens a pool connection; its set-up statements
                // (SQLite pragmas, PostgreSQL session settings) are not the page's queries.
                let upper = summary.0.to_ascii_uppercase();
                if upper.starts_with("PRAGMA") || upper.starts_with("SET ") {
                    return;
                }
                if let Ok(mut statements) = STATEMENTS.lock() {
                    statements.entry(id.clone()).or_default().push(summary.0);
                }
                return;
            }
        }
    }
}

/// Installs the counting subscriber for this test process (once).
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let layer = StatementCounter.with_filter(filter_fn(|meta| {
            meta.is_span() || meta.target() == "sqlx::query"
        }));
        let subscriber = tracing_subscriber::registry().with(layer);
        // Another test may have installed the app's logging first (TEST_LOG); then the
        // counts stay at zero and the test says so.
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// GETs `path` with a fresh request id and returns (status, the statements it ran).
pub async fn statements_of_get(
    browser: &super::Browser,
    path: &str,
) -> (reqwest::StatusCode, Vec<String>) {
    install();
    let request_id = format!("qc-{}", moviebooking::domain::tokens::random_token(12));
    let response = browser
        .client
        .get(browser.url(path))
        .header("x-request-id", &request_id)
        .send()
        .await
        .expect("GET");
    let status = response.status();
    let _ = response.bytes().await;
    let statements = STATEMENTS
        .lock()
        .map(|mut all| all.remove(&request_id).unwrap_or_default())
        .unwrap_or_default();
    (status, statements)
}
