//! Everything a request handler or background job needs, built once at start and shared.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::email::{Mailer, MailerError};
use crate::metrics::Metrics;
use crate::payments::Gateway;
use crate::payments::flow::PaymentFlow;
use crate::web::rate_limit::{RateLimiter, TrustedProxyHops};

/// Shared application state; cheap to clone (everything inside is reference-counted).
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub clock: Clock,
    pub limiter: RateLimiter,
    pub mailer: Mailer,
    pub payments: Gateway,
    /// This app's request metrics (`GET /metrics`).
    pub metrics: Metrics,
}

impl AppState {
    /// The payment flow of this process: only the parts of the state it works with, so the
    /// flow (and the jobs that drive it) never depends on the web layer.
    pub fn payment_flow(&self) -> PaymentFlow {
        PaymentFlow {
            db: self.db.clone(),
            gateway: self.payments.clone(),
            mailer: self.mailer.clone(),
            clock: self.clock.clone(),
            payment_window: self.config.booking.payment_window,
            base_url: self.config.base_url.clone(),
        }
    }

    /// Assembles the state from a configuration and an opened database. Fails when the
    /// email backend cannot be set up (bad SMTP_URL, mail folder not writable).
    pub fn new(config: Config, db: Db, clock: Clock) -> Result<Self, MailerError> {
        let mailer = Mailer::new(&config, db.clone(), clock.clone())?;
        crate::domain::passwords::warm_up();
        let limiter = RateLimiter::new(config.rate_limits);
        let payments = Gateway::from_config(&config);
        Ok(Self {
            payments,
            config: Arc::new(config),
            db,
            clock,
            limiter,
            mailer,
            metrics: Metrics::new(),
        })
    }
}

impl axum::extract::FromRef<AppState> for TrustedProxyHops {
    fn from_ref(state: &AppState) -> Self {
        TrustedProxyHops(state.config.trusted_proxy_hops)
    }
}
