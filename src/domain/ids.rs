//! Typed row ids: one newtype per table, so a showtime id can never be passed where a
//! booking id is expected, and a signature says what it takes.
//!
//! Each id is `#[sqlx(transparent)]` over the `BIGINT` primary key (the derive works with
//! the `Any` driver), serialises as a bare number in JSON, and parses from a path segment
//! with `FromStr` (only positive integers: ids start at 1, so `0`, `-3` and `07x` are not
//! ids). The inner number is public because SQL and URLs need it; nothing else should.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A path segment or form value that is not an id. The web layer answers it with 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an id")]
pub struct NotAnId;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            Serialize, Deserialize, sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = NotAnId;

            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                parse_positive(raw).map($name)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    )*};
}

ids! {
    /// `users.id`
    UserId;
    /// `cities.id`
    CityId;
    /// `theatres.id`
    TheatreId;
    /// `screens.id`
    ScreenId;
    /// `seat_categories.id`
    SeatCategoryId;
    /// `seats.id`
    SeatId;
    /// `movies.id`
    MovieId;
    /// `posters.id`
    PosterId;
    /// `showtimes.id`
    ShowtimeId;
    /// `bookings.id` (never shown to customers: they see the public id)
    BookingId;
    /// `payments.id`
    PaymentId;
    /// `refunds.id`
    RefundId;
    /// `payment_incidents.id`
    IncidentId;
    /// `email_outbox.id`
    OutboxId;
    /// `audit_log.id`
    AuditEntryId;
    /// `checkin_devices.id`
    DeviceId;
    /// `admissions.id`
    AdmissionId;
}

/// Digits only, no sign, no leading zero, within `i64`.
fn parse_positive(raw: &str) -> Result<i64, NotAnId> {
    let digits_only = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || raw.starts_with('0') {
        return Err(NotAnId);
    }
    raw.parse::<i64>().map_err(|_| NotAnId)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_only_positive_integers() {
        assert_eq!("42".parse::<BookingId>(), Ok(BookingId(42)));
        for bad in [
            "",
            "0",
            "-1",
            "+1",
            "07",
            "1.5",
            "x",
            "9223372036854775808",
            " 1",
        ] {
            assert_eq!(bad.parse::<BookingId>(), Err(NotAnId), "{bad:?}");
        }
    }

    #[test]
    fn ids_are_bare_numbers_in_json() {
        assert_eq!(serde_json::to_string(&ShowtimeId(7)).unwrap(), "7");
        assert_eq!(
            serde_json::from_str::<Vec<SeatId>>("[1,2]").unwrap(),
            [SeatId(1), SeatId(2)]
        );
    }
}
