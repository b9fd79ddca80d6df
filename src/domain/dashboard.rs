//! The figures on the staff dashboard: sales today and this week, how full the upcoming
//! showtimes are, what needs a person (failed emails, open payment incidents), and revenue
//! per day. Every figure is one query, whatever the number of showtimes or bookings.
//!
//! Days are the theatres' local days, not UTC ones: a booking confirmed at 01:00 in India
//! (19:30 UTC the evening before) is that Indian day's sale. Zones are IANA names on each
//! theatre, so the database groups sales by zone and quarter hour, portably, and Rust places
//! each quarter hour on its local date.

use time::{Date, OffsetDateTime};

use crate::db::decode::UnixSeconds;
use crate::db::{Db, from_unix, unix};
use crate::domain::catalogue::DEFAULT_TIMEZONE;
use crate::domain::ids::ShowtimeId;
use crate::domain::showtimes::local_time;

/// Confirmed bookings and their revenue over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sales {
    pub bookings: i64,
    pub revenue_paise: i64,
}

/// How full one upcoming showtime is.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Occupancy {
    #[sqlx(rename = "id")]
    pub showtime_id: ShowtimeId,
    #[sqlx(try_from = "UnixSeconds")]
    pub starts_at: OffsetDateTime,
    pub timezone: String,
    #[sqlx(rename = "title")]
    pub movie_title: String,
    pub theatre_name: String,
    pub screen_name: String,
    pub booked: i64,
    /// Confirmed bookings, and how many of them were admitted at the door.
    pub sold: i64,
    pub admitted: i64,
    pub sellable: i64,
}

impl Occupancy {
    /// Booked share in whole percent (0 when the screen has no sellable seat).
    pub fn percent(&self) -> i64 {
        if self.sellable <= 0 {
            0
        } else {
            self.booked * 100 / self.sellable
        }
    }
}

/// Revenue of one local day. `day` is the date as the chart labels it (see
/// `Dashboard::chart_timezone`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRevenue {
    pub day: Date,
    pub revenue_paise: i64,
    pub bookings: i64,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub today: Sales,
    pub week: Sales,
    pub upcoming: Vec<Occupancy>,
    pub failed_emails: i64,
    pub open_incidents: i64,
    /// Oldest day first, `CHART_DAYS` of them, the last being today.
    pub revenue_by_day: Vec<DayRevenue>,
    /// The zone whose dates label the chart: the one most theatres are in.
    pub chart_timezone: String,
    /// Whether theatres are in more than one zone, so that the labels are only the majority's
    /// dates (each booking still counts on its own theatre's local day).
    pub mixed_timezones: bool,
}

/// How many days the revenue chart covers, today included.
pub const CHART_DAYS: i64 = 14;
/// How many upcoming showtimes the occupancy table lists.
pub const UPCOMING_LIMIT: i64 = 20;

/// Bookings are grouped in the database by quarter hour of their confirmation, the finest
/// step any zone's offset from UTC takes (+05:30 in India, +05:45 in Nepal), so that every
/// slot lies within one local day of any zone and Rust can place it on its local date.
pub const SLOT_SECONDS: i64 = 900;

/// How far back the slots are read: the chart's 14 local days from any zone (UTC-12 to
/// UTC+14), with a day to spare.
const LOOKBACK_DAYS: i64 = CHART_DAYS + 2;

/// Confirmed bookings of theatres in one zone, confirmed within one quarter hour.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Slot {
    pub timezone: String,
    /// `confirmed_at / SLOT_SECONDS`.
    pub slot: i64,
    #[sqlx(rename = "n")]
    pub bookings: i64,
    #[sqlx(rename = "revenue")]
    pub revenue_paise: i64,
}

/// The local date of `at` in `timezone` (an unknown zone counts as `DEFAULT_TIMEZONE`, as
/// everywhere else times are shown).
fn local_date(at: OffsetDateTime, timezone: &str) -> Date {
    local_time(at, timezone).date()
}

/// Sales per local day, index 0 being today and `CHART_DAYS - 1` the oldest: each slot
/// counts on the local date of its theatres' zone, and "today" is that zone's date of
/// `now`. Slots after today or before the chart's first day are left out.
pub fn fold_days(slots: &[Slot], now: OffsetDateTime) -> Vec<Sales> {
    let mut days = vec![Sales::default(); CHART_DAYS as usize];
    for slot in slots {
        let at = from_unix(slot.slot * SLOT_SECONDS);
        let today = local_date(now, &slot.timezone);
        let days_ago = (today - local_date(at, &slot.timezone)).whole_days();
        if let Some(day) = usize::try_from(days_ago).ok().and_then(|i| days.get_mut(i)) {
            day.bookings += slot.bookings;
            day.revenue_paise += slot.revenue_paise;
        }
    }
    days
}

/// The zone that labels the chart, from (timezone, number of theatres) pairs: the one with
/// the most theatres (a tie goes to the name first in alphabetical order, so the choice is
/// stable), `DEFAULT_TIMEZONE` when there is no theatre; and whether there is more than one.
pub fn chart_zone(zones: &[(String, i64)]) -> (String, bool) {
    let best = zones
        .iter()
        .max_by(|(a_zone, a_n), (b_zone, b_n)| a_n.cmp(b_n).then(b_zone.cmp(a_zone)))
        .map(|(zone, _)| zone.clone())
        .unwrap_or_else(|| DEFAULT_TIMEZONE.to_owned());
    (best, zones.len() > 1)
}

/// The chart's days, oldest first, labelled with the dates of `timezone` up to its today.
pub fn chart_days(days: &[Sales], now: OffsetDateTime, timezone: &str) -> Vec<DayRevenue> {
    let today = local_date(now, timezone);
    days.iter()
        .enumerate()
        .rev()
        .map(|(days_ago, sales)| DayRevenue {
            day: today - time::Duration::days(days_ago as i64),
            revenue_paise: sales.revenue_paise,
            bookings: sales.bookings,
        })
        .collect()
}

/// Reads the dashboard at `now`. "Today" and the chart's days are local days: a booking
/// counts on the date its theatre's clock showed when it was confirmed, and "today" is the
/// date that clock shows now. "This week" is the last seven such days, today included.
pub async fn load(db: &Db, now: OffsetDateTime) -> Result<Dashboard, sqlx::Error> {
    // Integer division on both engines (confirmed_at is never negative, so it rounds down).
    let slots: Vec<Slot> = sqlx::query_as(
        "SELECT t.timezone, b.confirmed_at / $1 AS slot, COUNT(*) AS n, \
         CAST(SUM(b.total_paise) AS BIGINT) AS revenue FROM bookings b \
         JOIN showtimes st ON st.id = b.showtime_id JOIN screens sc ON sc.id = st.screen_id \
         JOIN theatres t ON t.id = sc.theatre_id \
         WHERE b.status = 'confirmed' AND b.confirmed_at >= $2 GROUP BY 1, 2",
    )
    .bind(SLOT_SECONDS)
    .bind(unix(now - time::Duration::days(LOOKBACK_DAYS)))
    .fetch_all(db.reader())
    .await?;
    let days = fold_days(&slots, now);
    let today = days[0];
    let week = days.iter().take(7).fold(Sales::default(), |sum, d| Sales {
        bookings: sum.bookings + d.bookings,
        revenue_paise: sum.revenue_paise + d.revenue_paise,
    });
    let zones: Vec<(String, i64)> =
        sqlx::query_as("SELECT timezone, COUNT(*) FROM theatres GROUP BY timezone")
            .fetch_all(db.reader())
            .await?;
    let (chart_timezone, mixed_timezones) = chart_zone(&zones);

    let upcoming: Vec<Occupancy> = sqlx::query_as(
        "SELECT st.id, st.starts_at, t.timezone, m.title, t.name AS theatre_name, \
         sc.name AS screen_name, COALESCE(cap.n, 0) AS sellable, COALESCE(bk.n, 0) AS booked, \
         COALESCE(door.sold, 0) AS sold, COALESCE(door.admitted, 0) AS admitted \
         FROM showtimes st JOIN movies m ON m.id = st.movie_id \
         JOIN screens sc ON sc.id = st.screen_id JOIN theatres t ON t.id = sc.theatre_id \
         LEFT JOIN (SELECT screen_id, COUNT(*) AS n FROM seats WHERE kind <> 'blocked' \
                    GROUP BY screen_id) cap ON cap.screen_id = st.screen_id \
         LEFT JOIN (SELECT b.showtime_id, COUNT(*) AS n FROM bookings b \
                    JOIN booking_seats bs ON bs.booking_id = b.id \
                    WHERE b.status = 'confirmed' GROUP BY b.showtime_id) bk ON bk.showtime_id = st.id \
         LEFT JOIN (SELECT b.showtime_id, COUNT(*) AS sold, COUNT(a.id) AS admitted FROM bookings b \
                    LEFT JOIN admissions a ON a.booking_id = b.id AND a.undone_at IS NULL \
                    WHERE b.status = 'confirmed' GROUP BY b.showtime_id) door ON door.showtime_id = st.id \
         WHERE st.starts_at >= $1 AND st.is_cancelled = 0 \
         ORDER BY st.starts_at, st.id LIMIT $2",
    )
    .bind(unix(now))
    .bind(UPCOMING_LIMIT)
    .fetch_all(db.reader())
    .await?;

    let failed_emails: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM email_outbox WHERE status = 'failed'")
            .fetch_one(db.reader())
            .await?;
    let open_incidents: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM payment_incidents WHERE resolved_at IS NULL")
            .fetch_one(db.reader())
            .await?;

    let revenue_by_day = chart_days(&days, now, &chart_timezone);

    Ok(Dashboard {
        today,
        week,
        upcoming,
        failed_emails,
        open_incidents,
        revenue_by_day,
        chart_timezone,
        mixed_timezones,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn slot(timezone: &str, at: OffsetDateTime, revenue_paise: i64) -> Slot {
        Slot {
            timezone: timezone.into(),
            slot: unix(at) / SLOT_SECONDS,
            bookings: 1,
            revenue_paise,
        }
    }

    #[test]
    fn a_booking_counts_on_its_theatres_local_day() {
        // 10:00 IST on 25 November.
        let now = datetime!(2026-11-25 04:30 UTC);
        let slots = [
            // 00:30 IST on the 25th: today's, though it is the 24th in UTC.
            slot("Asia/Kolkata", datetime!(2026-11-24 19:00 UTC), 100),
            // 23:30 IST on the 24th: yesterday's.
            slot("Asia/Kolkata", datetime!(2026-11-24 18:00 UTC), 20),
            // 23:59 IST on the 24th sits in the quarter hour that began 23:45 IST.
            slot("Asia/Kolkata", datetime!(2026-11-24 18:29 UTC), 3),
        ];
        let days = fold_days(&slots, now);
        assert_eq!(days.len(), CHART_DAYS as usize);
        assert_eq!(
            days[0],
            Sales {
                bookings: 1,
                revenue_paise: 100
            }
        );
        assert_eq!(
            days[1],
            Sales {
                bookings: 2,
                revenue_paise: 23
            }
        );
        assert!(days[2..].iter().all(|d| *d == Sales::default()));
    }

    #[test]
    fn quarter_hour_zones_and_zones_behind_utc_use_their_own_dates() {
        let now = datetime!(2026-11-25 04:30 UTC);
        let days = fold_days(
            &[
                // Nepal is +05:45: 18:15 UTC is midnight on the 25th, 18:00 UTC 23:45 the 24th.
                slot("Asia/Kathmandu", datetime!(2026-11-24 18:15 UTC), 1),
                slot("Asia/Kathmandu", datetime!(2026-11-24 18:00 UTC), 10),
                // New York (-05:00) is still on the 24th at `now`: 23:00 local on the 24th
                // is its today, 23:00 local on the 23rd its yesterday.
                slot("America/New_York", datetime!(2026-11-25 04:00 UTC), 100),
                slot("America/New_York", datetime!(2026-11-24 04:00 UTC), 1000),
            ],
            now,
        );
        assert_eq!(days[0].revenue_paise, 101);
        assert_eq!(days[1].revenue_paise, 1010);
    }

    #[test]
    fn slots_outside_the_chart_are_left_out() {
        let now = datetime!(2026-11-25 04:30 UTC);
        let days = fold_days(
            &[
                // 01:30 IST tomorrow (only a clock set back gives that): not a day shown.
                slot("Asia/Kolkata", datetime!(2026-11-25 20:00 UTC), 1),
                // 14 local days ago: one before the first day of the chart.
                slot("Asia/Kolkata", datetime!(2026-11-11 04:30 UTC), 10),
                // 13 local days ago: the first day.
                slot("Asia/Kolkata", datetime!(2026-11-12 04:30 UTC), 100),
            ],
            now,
        );
        assert_eq!(days.iter().map(|d| d.revenue_paise).sum::<i64>(), 100);
        assert_eq!(days[CHART_DAYS as usize - 1].revenue_paise, 100);
    }

    #[test]
    fn the_chart_is_labelled_by_the_zone_of_most_theatres() {
        assert_eq!(chart_zone(&[]), (DEFAULT_TIMEZONE.to_owned(), false));
        assert_eq!(
            chart_zone(&[("Asia/Kolkata".into(), 3)]),
            ("Asia/Kolkata".to_owned(), false)
        );
        assert_eq!(
            chart_zone(&[("Asia/Kathmandu".into(), 1), ("Asia/Kolkata".into(), 4)]),
            ("Asia/Kolkata".to_owned(), true)
        );
        // A tie: the first name, whatever order the database returned.
        assert_eq!(
            chart_zone(&[("Asia/Kolkata".into(), 2), ("Asia/Dubai".into(), 2)]).0,
            "Asia/Dubai"
        );

        let mut days = vec![Sales::default(); CHART_DAYS as usize];
        days[0].revenue_paise = 5;
        // 00:30 IST on the 25th: the last label is the 25th though UTC is still on the 24th.
        let chart = chart_days(&days, datetime!(2026-11-24 19:00 UTC), "Asia/Kolkata");
        assert_eq!(chart.len(), CHART_DAYS as usize);
        assert_eq!(chart[0].day, date!(2026 - 11 - 12));
        assert_eq!(chart[13].day, date!(2026 - 11 - 25));
        assert_eq!(chart[13].revenue_paise, 5);
    }
}
