//! Server-rendered pages for moviegoers, grouped by area.

pub mod home;
pub mod movies;
