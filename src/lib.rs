//! moviebooking: a movie-ticket booking web application.
//!
//! `app(state)` builds the whole HTTP application; `main.rs` serves it and the integration
//! tests drive it on a real database. See DESIGN.md for the shape of the house.

pub mod clock;
pub mod config;
pub mod db;
pub mod deploy_check;
pub mod domain;
pub mod email;
pub mod error;
pub mod jobs;
pub mod metrics;
pub mod payments;
pub mod seed;
pub mod server;
pub mod state;
pub mod telemetry;
pub mod web;

pub use state::AppState;

/// The application's router with every route and middleware, ready to serve.
pub fn app(state: AppState) -> axum::Router {
    web::router(state)
}
