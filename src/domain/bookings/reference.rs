//! The two names a booking has outside the database, parsed once where they arrive.
//!
//! A public id (in URLs and ticket tokens) and a booking code (printed on the ticket, typed
//! at the door) come from strangers. Parsing them at the edge means a malformed one is
//! simply "not found" before any query runs, and the domain never sees raw text for them.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::domain::ids::NotAnId;
use crate::domain::tokens::{is_token_shaped, random_token};

/// Public references are `random_token(22)`; anything longer is not one of ours.
const PUBLIC_ID_MAX_LEN: usize = 64;

/// Ticket codes avoid look-alike characters (no I, O, 0, 1).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

const CODE_LEN: usize = 8;

/// The unguessable reference of a booking used in URLs (`/bookings/{public_id}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct PublicId(String);

impl PublicId {
    /// A reference in our shape, or None (`x%00`, CR LF, overlong...: none of them exists).
    pub fn parse(raw: &str) -> Option<Self> {
        is_token_shaped(raw, PUBLIC_ID_MAX_LEN).then(|| Self(raw.to_owned()))
    }

    /// A fresh random reference for a new booking.
    pub fn random() -> Self {
        Self(random_token(22))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The short code printed on a ticket (e.g. `MB7K2Q9X`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct BookingCode(String);

impl BookingCode {
    /// A code as a person types it: any case, spaces around it ignored. None when it cannot
    /// be one of ours.
    pub fn parse(raw: &str) -> Option<Self> {
        let code = raw.trim().to_ascii_uppercase();
        let shaped = code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b));
        shaped.then_some(Self(code))
    }

    /// A fresh random code for a new booking.
    pub fn random() -> Self {
        use rand::Rng;
        let mut rng = rand::rng();
        Self(
            (0..CODE_LEN)
                .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
                .collect(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! text_reference {
    ($($name:ident),*) => {$(
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// For path extractors (`IdPath<PublicId>`): a malformed reference is a 404.
        impl FromStr for $name {
            type Err = NotAnId;

            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                Self::parse(raw).ok_or(NotAnId)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(reference: $name) -> String {
                reference.0
            }
        }
    )*};
}

text_reference!(PublicId, BookingCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_ids_are_token_shaped() {
        assert!(PublicId::parse("abcDEF-_123").is_some());
        for bad in ["", "x%00", "a\r\nb", "a b", &"x".repeat(65)] {
            assert!(PublicId::parse(bad).is_none(), "{bad:?}");
        }
        assert_eq!(PublicId::random().as_str().len(), 22);
    }

    #[test]
    fn codes_are_read_as_people_type_them() {
        let code = BookingCode::random();
        let typed = format!("  {}  ", code.as_str().to_lowercase());
        assert_eq!(BookingCode::parse(&typed), Some(code));
        for bad in ["", "ABCDEFG", "ABCDEFGHJ", "ABCDEFG0", "ABCDEFGI"] {
            assert!(BookingCode::parse(bad).is_none(), "{bad:?}");
        }
    }
}
