//! The integration tests: one binary with a module per area, so the whole application is
//! linked once rather than once per file (zero2prod's layout). Each module drives the real
//! router on a real database (temporary SQLite, or PostgreSQL with `TEST_DATABASE_URL`);
//! `common` holds the harness and the helpers the modules share.
//!
//! Tests that install process-global state (a log subscriber, the Sentry client) live in
//! binaries of their own beside this one: `tests/logging.rs` and `tests/sentry.rs`.

mod common;

mod accounts;
mod admin;
mod admin_catalogue;
mod admin_edit;
mod admin_incidents;
mod booking;
mod catalogue;
mod catalogue_api;
mod checkin;
mod expired_on_read;
mod foundation;
mod mail;
mod nul_input;
mod observability;
mod operations;
mod payments;
mod posters;
mod production;
mod roles;
mod scheduling;
mod security;
mod tickets;
