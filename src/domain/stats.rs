//! Operational figures read from the database for monitoring (`GET /metrics`): how many
//! bookings are in each state and how deep the email outbox is. Read at scrape time so that
//! every web process reports the same shared numbers.

use crate::db::Db;

/// What one scrape reads from the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbFigures {
    pub bookings_by_status: Vec<(String, i64)>,
    pub outbox_by_status: Vec<(String, i64)>,
}

/// Counts bookings and outbox messages by status (two small grouped queries on indexed
/// columns).
pub async fn figures(db: &Db) -> Result<DbFigures, sqlx::Error> {
    let bookings_by_status = sqlx::query_as::<_, (String, i64)>(
        "SELECT status, COUNT(*) FROM bookings GROUP BY status ORDER BY status",
    )
    .fetch_all(db.reader())
    .await?;
    let outbox_by_status = sqlx::query_as::<_, (String, i64)>(
        "SELECT status, COUNT(*) FROM email_outbox GROUP BY status ORDER BY status",
    )
    .fetch_all(db.reader())
    .await?;
    Ok(DbFigures {
        bookings_by_status,
        outbox_by_status,
    })
}
