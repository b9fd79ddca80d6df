//! Faults injected while the load runs, at fixed fractions of the timed window so that a
//! shorter run keeps the same shape: PostgreSQL restarted, the SMTP server down for a
//! while, Razorpay answering 5xx and then too slowly on order creation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::driver::{Route, Sample};
use crate::razorpay::FakeRazorpay;
use crate::smtp_sink::SmtpSink;

/// Which fault a run injects (`LOAD_FAULT` or `--fault`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    PgRestart,
    SmtpDown,
    Razorpay,
}

impl Fault {
    pub fn parse(raw: &str) -> Option<Fault> {
        match raw {
            "" | "none" => Some(Fault::None),
            "pg-restart" => Some(Fault::PgRestart),
            "smtp-down" => Some(Fault::SmtpDown),
            "razorpay" => Some(Fault::Razorpay),
            _ => None,
        }
    }

    /// Whether an answer is the documented reaction to this fault: 503 while the database
    /// is unreachable, 503 on order creation while Razorpay fails.
    pub fn documents(self, sample: &Sample) -> bool {
        match self {
            Fault::PgRestart => sample.status == 503,
            Fault::Razorpay => sample.status == 503 && sample.route == Route::Order,
            Fault::None | Fault::SmtpDown => false,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Fault::None => "none",
            Fault::PgRestart => "pg-restart",
            Fault::SmtpDown => "smtp-down",
            Fault::Razorpay => "razorpay",
        }
    }
}

/// Something the injector did, and when (from the start of the timed window).
#[derive(Debug, Clone)]
pub struct Event {
    pub at: Duration,
    pub what: String,
}

/// How long the slow gateway takes to answer order creation: well over the app's
/// `RAZORPAY_TIMEOUT_SECONDS` of 1 s, so every order request times out.
pub const SLOW_ORDER: Duration = Duration::from_secs(3);

/// Everything the injector can act on.
pub struct Targets {
    pub fake: FakeRazorpay,
    pub sink: Arc<SmtpSink>,
    /// `VERSION NAME` of the PostgreSQL cluster to restart, e.g. `15 main`.
    pub pg_cluster: String,
    pub started: Instant,
    pub duration: Duration,
}

impl Targets {
    async fn at_fraction(&self, fraction: f64) {
        let at = self.duration.mul_f64(fraction);
        tokio::time::sleep_until((self.started + at).into()).await;
    }

    fn event(&self, events: &mut Vec<Event>, what: impl Into<String>) {
        let event = Event {
            at: self.started.elapsed(),
            what: what.into(),
        };
        eprintln!("[{:>5.1} s] {}", event.at.as_secs_f64(), event.what);
        events.push(event);
    }
}

/// Injects `fault` during the window and returns what was done when.
pub async fn inject(fault: Fault, targets: Targets) -> Vec<Event> {
    let mut events = Vec::new();
    match fault {
        Fault::None => {}
        Fault::PgRestart => {
            targets.at_fraction(1.0 / 3.0).await;
            let mut args = vec!["--skip-systemctl-redirect"];
            args.extend(targets.pg_cluster.split_whitespace());
            args.push("restart");
            targets.event(
                &mut events,
                format!("restart begins: pg_ctlcluster {}", args.join(" ")),
            );
            let status = tokio::process::Command::new("pg_ctlcluster")
                .args(&args)
                .status()
                .await;
            targets.event(
                &mut events,
                format!("restart done: pg_ctlcluster exited with {status:?}"),
            );
        }
        Fault::SmtpDown => {
            targets.at_fraction(1.0 / 6.0).await;
            targets.sink.stop();
            targets.event(&mut events, "SMTP server down (connections refused)");
            targets.at_fraction(2.0 / 3.0).await;
            targets.sink.up().await;
            targets.event(&mut events, "SMTP server up again");
        }
        Fault::Razorpay => {
            targets.at_fraction(1.0 / 6.0).await;
            targets.fake.fail_orders_with(Some(500));
            targets.event(&mut events, "Razorpay order creation answers 500");
            targets.at_fraction(5.0 / 12.0).await;
            targets.fake.fail_orders_with(None);
            targets.event(&mut events, "Razorpay order creation healthy");
            targets.at_fraction(1.0 / 2.0).await;
            targets.fake.delay_orders_by(Some(SLOW_ORDER));
            targets.event(
                &mut events,
                format!(
                    "Razorpay order creation answers after {} s",
                    SLOW_ORDER.as_secs()
                ),
            );
            targets.at_fraction(3.0 / 4.0).await;
            targets.fake.delay_orders_by(None);
            targets.event(&mut events, "Razorpay order creation healthy");
        }
    }
    events
}
