//! Server-rendered pages for moviegoers, grouped by area.

pub mod account;
pub mod bookings;
pub mod home;
pub mod payments;
pub mod seat_map;
