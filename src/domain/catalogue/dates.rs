//! Local dates and times: release dates and the date filter are calendar dates where the
//! audience is, while showtimes are stored as UTC instants. This is where the two meet.

use time::{Date, OffsetDateTime};
use time_tz::{OffsetDateTimeExt, PrimitiveDateTimeExt};

/// The timezone of theatres that do not say otherwise, and of "today" for release dates.
pub const DEFAULT_TIMEZONE: &str = "Asia/Kolkata";

/// The UTC range `[start, end)` of a local calendar date in a timezone (an unknown zone
/// counts as `DEFAULT_TIMEZONE`).
pub fn local_day_bounds(date: Date, timezone: &str) -> (i64, i64) {
    let tz = time_tz::timezones::get_by_name(timezone)
        .or_else(|| time_tz::timezones::get_by_name(DEFAULT_TIMEZONE));
    let next = date.next_day().unwrap_or(date);
    match tz {
        Some(tz) => (local_midnight(date, tz), local_midnight(next, tz)),
        None => (
            date.midnight().assume_utc().unix_timestamp(),
            next.midnight().assume_utc().unix_timestamp(),
        ),
    }
}

/// The instant a local day begins. Where a daylight-saving change skips midnight, the day
/// begins at the first local hour that exists; where midnight happens twice, at the first.
fn local_midnight(date: Date, tz: &time_tz::Tz) -> i64 {
    for hour in 0..3 {
        let Ok(local) = date.with_hms(hour, 0, 0) else {
            break;
        };
        match local.assume_timezone(tz) {
            time_tz::OffsetResult::Some(t) | time_tz::OffsetResult::Ambiguous(t, _) => {
                return t.unix_timestamp();
            }
            time_tz::OffsetResult::None => continue,
        }
    }
    date.midnight().assume_utc().unix_timestamp()
}

/// Today's date where the catalogue's audience is (release dates are local dates).
pub fn today(now: OffsetDateTime) -> Date {
    match time_tz::timezones::get_by_name(DEFAULT_TIMEZONE) {
        Some(tz) => now.to_timezone(tz).date(),
        None => now.date(),
    }
}

/// A `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> Option<Date> {
    Date::parse(
        text.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn a_local_day_in_kolkata_starts_at_18_30_utc_the_day_before() {
        let (start, end) = local_day_bounds(date!(2026 - 11 - 28), "Asia/Kolkata");
        assert_eq!(start, datetime!(2026-11-27 18:30 UTC).unix_timestamp());
        assert_eq!(end, datetime!(2026-11-28 18:30 UTC).unix_timestamp());
    }
}
