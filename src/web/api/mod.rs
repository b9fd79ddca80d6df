//! The JSON API (`/api/v1`): the same domain code as the pages, answering JSON. Errors are
//! `{"error": "<code>", "message": "<human text>"}` (rendered by `middleware::error_pages`).

pub mod auth;
pub mod bookings;
pub mod catalogue;
pub mod checkin;
pub mod checkin_keys;
pub mod payments;
