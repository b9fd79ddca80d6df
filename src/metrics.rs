//! Prometheus metrics of one process, scraped at `GET /metrics` (see `web::metrics`).
//!
//! Request counts and latencies by matched route and status are recorded by a middleware into
//! a registry owned by `AppState`, so that every app started in one test process keeps its own
//! figures. Figures that live in the database (bookings by status, the email outbox) are read
//! at scrape time instead of being counted here, so every web process reports the same shared
//! truth. Payment failures are counted where they happen, through `record_payment_failure`.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::core::Collector;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use strum::VariantNames;

use crate::domain::bookings::Status;
use crate::domain::outbox::OutboxStatus;
use crate::domain::stats::DbFigures;

/// The content type of the Prometheus text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Booking states that are always reported, at 0 when there are none, so dashboards and
/// alerts never see a series disappear.
const BOOKING_STATES: &[&str] = <Status as VariantNames>::VARIANTS;

/// Failed payments by kind; shared by every app of the process (payments code has no state).
static PAYMENT_FAILURES: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new(
            "moviebooking_payment_failures_total",
            "Payments that failed, by kind (declined, signature, amount_mismatch, gateway_error, refund_failed, ...).",
        ),
        &["kind"],
    )
    .ok()
});

/// Counts one failed payment. `kind` must come from a small fixed set chosen by the caller
/// (never a user-supplied value), because each kind becomes its own time series.
pub fn record_payment_failure(kind: &str) {
    if let Some(counter) = PAYMENT_FAILURES.as_ref() {
        counter.with_label_values(&[kind]).inc();
    }
}

/// The in-process registry of one application.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let requests = IntCounterVec::new(
            Opts::new(
                "moviebooking_http_requests_total",
                "HTTP requests answered, by method, matched route and status.",
            ),
            &["method", "route", "status"],
        )
        .expect("constant, valid metric definition");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "moviebooking_http_request_duration_seconds",
                "Time to answer an HTTP request, by method, matched route and status.",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
            &["method", "route", "status"],
        )
        .expect("constant, valid metric definition");
        let registry = Registry::new();
        // Registration only fails for duplicate names, which a fresh registry cannot have.
        let _ = registry.register(Box::new(requests.clone()));
        let _ = registry.register(Box::new(duration.clone()));
        if let Some(failures) = PAYMENT_FAILURES.as_ref() {
            let _ = registry.register(Box::new(failures.clone()));
        }
        Self {
            registry,
            requests,
            duration,
        }
    }

    /// Records one answered request. `route` is the matched route pattern (never the raw
    /// path, which would make one series per booking id).
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.duration
            .with_label_values(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// The text exposition of every metric, with the database figures of this scrape (None
    /// when the database did not answer: `moviebooking_database_up` is then 0).
    pub fn render(&self, figures: Option<&DbFigures>) -> String {
        let mut families = self.registry.gather();
        families.extend(scrape_gauges(figures));
        families.sort_by(|a, b| a.name().cmp(b.name()));
        let mut out = Vec::new();
        if TextEncoder::new().encode(&families, &mut out).is_err() {
            return String::new();
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Gauges made afresh at each scrape from the database's answers.
fn scrape_gauges(figures: Option<&DbFigures>) -> Vec<prometheus::proto::MetricFamily> {
    let mut families = Vec::new();
    if let Ok(info) = IntGaugeVec::new(
        Opts::new("moviebooking_build_info", "The running release (always 1)."),
        &["version"],
    ) {
        info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        families.extend(info.collect());
    }
    if let Ok(up) = IntGauge::new(
        "moviebooking_database_up",
        "1 when the database answered this scrape's queries, else 0.",
    ) {
        up.set(i64::from(figures.is_some()));
        families.extend(up.collect());
    }
    let Some(figures) = figures else {
        return families;
    };
    if let Ok(bookings) = IntGaugeVec::new(
        Opts::new(
            "moviebooking_bookings",
            "Bookings in the database, by status.",
        ),
        &["status"],
    ) {
        for state in BOOKING_STATES {
            bookings.with_label_values(&[*state]).set(0);
        }
        for (status, count) in &figures.bookings_by_status {
            bookings.with_label_values(&[status.as_str()]).set(*count);
        }
        families.extend(bookings.collect());
    }
    if let Ok(outbox) = IntGaugeVec::new(
        Opts::new(
            "moviebooking_email_outbox",
            "Messages in the email outbox, by status (queued ones are waiting to be sent or retried).",
        ),
        &["status"],
    ) {
        outbox
            .with_label_values(&[OutboxStatus::Queued.as_str()])
            .set(0);
        for (status, count) in &figures.outbox_by_status {
            outbox.with_label_values(&[status.as_str()]).set(*count);
        }
        families.extend(outbox.collect());
    }
    families
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_database_figures_are_exposed_in_text_format() {
        let metrics = Metrics::new();
        metrics.observe_request("GET", "/bookings/{id}", 200, Duration::from_millis(20));
        metrics.observe_request("GET", "/bookings/{id}", 200, Duration::from_millis(30));
        record_payment_failure("signature");
        let figures = DbFigures {
            bookings_by_status: vec![("confirmed".into(), 3)],
            outbox_by_status: vec![("sent".into(), 2)],
        };
        let text = metrics.render(Some(&figures));
        assert!(
            text.contains(
                r#"moviebooking_http_requests_total{method="GET",route="/bookings/{id}",status="200"} 2"#
            ),
            "{text}"
        );
        assert!(text.contains("# TYPE moviebooking_http_request_duration_seconds histogram"));
        assert!(text.contains(r#"moviebooking_bookings{status="confirmed"} 3"#));
        assert!(text.contains(r#"moviebooking_bookings{status="pending"} 0"#));
        assert!(text.contains(r#"moviebooking_email_outbox{status="sent"} 2"#));
        assert!(text.contains(r#"moviebooking_payment_failures_total{kind="signature"}"#));
        assert!(text.contains("moviebooking_database_up 1"));

        let without_db = metrics.render(None);
        assert!(without_db.contains("moviebooking_database_up 0"));
        assert!(!without_db.contains("moviebooking_bookings{"));
    }
}
