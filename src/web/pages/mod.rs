//! Server-rendered pages for moviegoers, grouped by area.

pub mod account;
pub mod home;
