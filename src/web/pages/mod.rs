//! Server-rendered pages for moviegoers, grouped by area.

pub mod account;
pub mod bookings;
pub mod home;
pub mod movies;
pub mod payments;
pub mod seat_map;
