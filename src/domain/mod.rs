//! The business: one module per aggregate with its types, rules and the SQL that loads and
//! saves it. Nothing here knows about HTTP.

pub mod accounts;
pub mod audit;
pub mod booking_admin;
pub mod bookings;
pub mod catalogue;
pub mod catalogue_edit;
pub mod checkin;
pub mod checkin_devices;
pub mod dashboard;
pub mod email_log;
pub mod ids;
pub mod incidents;
pub mod mail_quota;
pub mod movie_admin;
pub mod outbox;
pub mod passwords;
pub mod payments;
pub mod poster_image;
pub mod pricing;
pub mod roles;
pub mod screens;
pub mod showtimes;
pub mod stats;
pub mod ticket_keys;
pub mod ticket_token;
pub mod tickets;
pub mod tokens;
pub mod user_admin;
pub mod users;
pub mod validation;
pub mod venue_admin;
