//! Everything a request handler or background job needs, built once at start and shared.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::metrics::Metrics;
use crate::web::rate_limit::RateLimiter;

/// Shared application state; cheap to clone (everything inside is reference-counted).
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub clock: Clock,
    pub limiter: RateLimiter,
    /// This app's request metrics (`GET /metrics`).
    pub metrics: Metrics,
}

impl AppState {
    /// Assembles the state from a configuration and an opened database.
    pub fn new(config: Config, db: Db, clock: Clock) -> Self {
        let limiter = RateLimiter::new(config.rate_limits);
        Self {
            config: Arc::new(config),
            db,
            clock,
            limiter,
            metrics: Metrics::new(),
        }
    }
}
