//! Column types for `#[derive(sqlx::FromRow)]` on both engines.
//!
//! Through sqlx's `Any` driver a row can hold only integers, floats, text and bytes (see
//! STACK.md), so times are stored as Unix seconds and flags as 0/1 integers. These
//! transparent wrappers let a row struct say how to read such a column and still expose the
//! real type to the rest of the code:
//!
//! ```ignore
//! #[derive(sqlx::FromRow)]
//! struct Row {
//!     #[sqlx(try_from = "UnixSeconds")]
//!     created_at: OffsetDateTime,
//!     #[sqlx(try_from = "MaybeUnixSeconds")]
//!     confirmed_at: Option<OffsetDateTime>,
//!     #[sqlx(try_from = "IntBool")]
//!     is_active: bool,
//!     #[sqlx(try_from = "String")]
//!     status: Status, // an enum with `text_enum!`
//! }
//! ```

use time::OffsetDateTime;

/// A `BIGINT` of Unix seconds (UTC).
#[derive(Debug, Clone, Copy, sqlx::Type)]
#[sqlx(transparent)]
pub struct UnixSeconds(pub i64);

impl From<UnixSeconds> for OffsetDateTime {
    fn from(seconds: UnixSeconds) -> Self {
        super::from_unix(seconds.0)
    }
}

/// A nullable `BIGINT` of Unix seconds.
#[derive(Debug, Clone, Copy, sqlx::Type)]
#[sqlx(transparent)]
pub struct MaybeUnixSeconds(pub Option<i64>);

impl From<MaybeUnixSeconds> for Option<OffsetDateTime> {
    fn from(seconds: MaybeUnixSeconds) -> Self {
        seconds.0.map(super::from_unix)
    }
}

/// A flag stored as an integer: 0 is false, anything else true.
#[derive(Debug, Clone, Copy, sqlx::Type)]
#[sqlx(transparent)]
pub struct IntBool(pub i64);

impl From<IntBool> for bool {
    fn from(flag: IntBool) -> Self {
        flag.0 != 0
    }
}

/// Lets a text enum (with strum's `EnumString`) be read from a column by
/// `#[sqlx(try_from = "String")]`: an unknown word in the database is a decode error,
/// never a silent default.
#[macro_export]
macro_rules! text_enum {
    ($($name:ty),* $(,)?) => {$(
        impl ::std::convert::TryFrom<String> for $name {
            type Error = ::strum::ParseError;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                text.parse()
            }
        }
    )*};
}
