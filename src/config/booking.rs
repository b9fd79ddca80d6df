//! The rules of the booking business and of the door that operators may tune.

use std::time::Duration;

use super::ConfigError;
use super::read::{Errors, Vars, variables};

variables! {
    HOLD_TTL_SECONDS,
    MAX_SEATS_PER_BOOKING,
    BOOKING_CUTOFF_MINUTES,
    CONVENIENCE_FEE_PAISE,
    FEE_GST_PERCENT,
    PAYMENT_WINDOW_SECONDS,
    CANCELLATION_CUTOFF_HOURS,
    MAX_LIVE_HOLDS_PER_USER,
    REHOLD_COOLDOWN_SECONDS,
    CHECKIN_OPENS_MINUTES,
    CHECKIN_UNDO_MINUTES,
}

/// Rules of the booking business that operators may tune.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRules {
    pub hold_ttl: Duration,
    pub max_seats_per_booking: u32,
    pub booking_cutoff_minutes: i64,
    pub convenience_fee_paise: i64,
    pub fee_gst_percent: i64,
    pub payment_window: Duration,
    pub cancellation_cutoff_hours: i64,
    /// How many live holds (pending bookings) one account may have across showtimes.
    pub max_live_holds_per_user: i64,
    /// After a hold runs out unpaid, how long its account must wait before holding those
    /// seats again (other customers may take them at once).
    pub rehold_cooldown: Duration,
}

impl BookingRules {
    pub fn parse(vars: Vars, errors: &mut Errors) -> Self {
        let seconds = "a number of seconds";
        let rules = Self {
            hold_ttl: errors.seconds(vars, HOLD_TTL_SECONDS, 600, seconds),
            max_seats_per_booking: errors.parse_or(
                vars,
                MAX_SEATS_PER_BOOKING,
                10u32,
                "a whole number of seats",
            ),
            booking_cutoff_minutes: errors.parse_or(
                vars,
                BOOKING_CUTOFF_MINUTES,
                0i64,
                "a whole number of minutes",
            ),
            convenience_fee_paise: errors.parse_or(
                vars,
                CONVENIENCE_FEE_PAISE,
                3000i64,
                "an amount in paise",
            ),
            fee_gst_percent: errors.parse_or(vars, FEE_GST_PERCENT, 18i64, "a whole percentage"),
            payment_window: errors.seconds(vars, PAYMENT_WINDOW_SECONDS, 300, seconds),
            cancellation_cutoff_hours: errors.parse_or(
                vars,
                CANCELLATION_CUTOFF_HOURS,
                2i64,
                "a whole number of hours",
            ),
            max_live_holds_per_user: errors.parse_or(
                vars,
                MAX_LIVE_HOLDS_PER_USER,
                3i64,
                "a whole number of holds",
            ),
            rehold_cooldown: errors.seconds(
                vars,
                REHOLD_COOLDOWN_SECONDS,
                120,
                "a number of seconds (0 turns the cool-down off)",
            ),
        };
        if rules.max_seats_per_booking == 0 {
            errors.push(ConfigError::new(MAX_SEATS_PER_BOOKING, "0", "at least 1"));
        }
        rules
    }
}

/// Rules of the door (ticket check-in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinRules {
    /// How long before the start a ticket may be admitted.
    pub opens_before: Duration,
    /// How long after an admission its staff member (or a manager) may undo it.
    pub undo_window: Duration,
}

impl CheckinRules {
    pub fn parse(vars: Vars, errors: &mut Errors) -> Self {
        Self {
            opens_before: errors.minutes(vars, CHECKIN_OPENS_MINUTES, 60),
            undo_window: errors.minutes(vars, CHECKIN_UNDO_MINUTES, 10),
        }
    }
}
