//! The business: one module per aggregate with its types, rules and the SQL that loads and
//! saves it. Nothing here knows about HTTP.

pub mod catalogue;
pub mod screens;
pub mod showtimes;
pub mod tokens;
pub mod users;
