//! The figures on the staff dashboard: sales today and this week, how full the upcoming
//! showtimes are, what needs a person (failed emails, open payment incidents), and revenue
//! per day. Every figure is one query, whatever the number of showtimes.

use sqlx::Row;
use time::OffsetDateTime;

use crate::db::{Db, from_unix, unix};

/// Confirmed bookings and their revenue over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sales {
    pub bookings: i64,
    pub revenue_paise: i64,
}

/// How full one upcoming showtime is.
#[derive(Debug, Clone)]
pub struct Occupancy {
    pub showtime_id: i64,
    pub starts_at: OffsetDateTime,
    pub timezone: String,
    pub movie_title: String,
    pub theatre_name: String,
    pub screen_name: String,
    pub booked: i64,
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

/// Revenue of one day (UTC), `day` being its midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRevenue {
    pub day: OffsetDateTime,
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
    pub revenue_by_day: Vec<DayRevenue>,
}

/// How many days the revenue chart covers, today included.
pub const CHART_DAYS: i64 = 14;
/// How many upcoming showtimes the occupancy table lists.
pub const UPCOMING_LIMIT: i64 = 20;

/// Midnight UTC of the day `now` falls in.
pub fn day_start(now: OffsetDateTime) -> OffsetDateTime {
    now.replace_time(time::Time::MIDNIGHT)
}

async fn sales_since(db: &Db, since: i64) -> Result<Sales, sqlx::Error> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(total_paise), 0) AS BIGINT) AS revenue \
         FROM bookings WHERE status = 'confirmed' AND confirmed_at >= $1",
    )
    .bind(since)
    .fetch_one(db.reader())
    .await?;
    Ok(Sales {
        bookings: row.try_get("n")?,
        revenue_paise: row.try_get("revenue")?,
    })
}

/// Reads the dashboard at `now`. "Today" and the chart's days are UTC days; "this week" is
/// the last seven days including today.
pub async fn load(db: &Db, now: OffsetDateTime) -> Result<Dashboard, sqlx::Error> {
    let today_start = day_start(now);
    let today = sales_since(db, unix(today_start)).await?;
    let week = sales_since(db, unix(today_start - time::Duration::days(6))).await?;

    let rows = sqlx::query(
        "SELECT st.id, st.starts_at, t.timezone, m.title, t.name AS theatre_name, \
         sc.name AS screen_name, COALESCE(cap.n, 0) AS sellable, COALESCE(bk.n, 0) AS booked \
         FROM showtimes st JOIN movies m ON m.id = st.movie_id \
         JOIN screens sc ON sc.id = st.screen_id JOIN theatres t ON t.id = sc.theatre_id \
         LEFT JOIN (SELECT screen_id, COUNT(*) AS n FROM seats WHERE kind <> 'blocked' \
                    GROUP BY screen_id) cap ON cap.screen_id = st.screen_id \
         LEFT JOIN (SELECT b.showtime_id, COUNT(*) AS n FROM bookings b \
                    JOIN booking_seats bs ON bs.booking_id = b.id \
                    WHERE b.status = 'confirmed' GROUP BY b.showtime_id) bk ON bk.showtime_id = st.id \
         WHERE st.starts_at >= $1 AND st.is_cancelled = 0 \
         ORDER BY st.starts_at, st.id LIMIT $2",
    )
    .bind(unix(now))
    .bind(UPCOMING_LIMIT)
    .fetch_all(db.reader())
    .await?;
    let upcoming = rows
        .iter()
        .map(|r| {
            Ok(Occupancy {
                showtime_id: r.try_get("id")?,
                starts_at: from_unix(r.try_get("starts_at")?),
                timezone: r.try_get("timezone")?,
                movie_title: r.try_get("title")?,
                theatre_name: r.try_get("theatre_name")?,
                screen_name: r.try_get("screen_name")?,
                booked: r.try_get("booked")?,
                sellable: r.try_get("sellable")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let failed_emails: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM email_outbox WHERE status = 'failed'")
            .fetch_one(db.reader())
            .await?;
    let open_incidents: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM payment_incidents WHERE resolved_at IS NULL")
            .fetch_one(db.reader())
            .await?;

    let first_day = today_start - time::Duration::days(CHART_DAYS - 1);
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT (confirmed_at - $1) / 86400 AS day, COUNT(*), \
         CAST(SUM(total_paise) AS BIGINT) FROM bookings \
         WHERE status = 'confirmed' AND confirmed_at >= $1 GROUP BY (confirmed_at - $1) / 86400",
    )
    .bind(unix(first_day))
    .fetch_all(db.reader())
    .await?;
    let revenue_by_day = (0..CHART_DAYS)
        .map(|i| {
            let (bookings, revenue_paise) = rows
                .iter()
                .find(|(day, _, _)| *day == i)
                .map(|(_, n, sum)| (*n, *sum))
                .unwrap_or((0, 0));
            DayRevenue {
                day: first_day + time::Duration::days(i),
                revenue_paise,
                bookings,
            }
        })
        .collect();

    Ok(Dashboard {
        today,
        week,
        upcoming,
        failed_emails,
        open_incidents,
        revenue_by_day,
    })
}
