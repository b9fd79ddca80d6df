//! A per-recipient limit on account emails: verification links, password resets and the
//! "someone tried to sign up with your address" notice.
//!
//! The per-address request limits stop one client hammering the forms, but the address a
//! request comes from is only as trustworthy as the proxy set-up, and a botnet has many.
//! What must never happen is an inbox flooded by our mail, so the recipient itself has a
//! budget: `PER_HOUR` messages per clock hour, counted in the database (so the limit holds
//! across processes) by one conditional upsert (so two racing requests cannot both take the
//! last one). A request over budget is answered exactly like one within it, and simply
//! sends nothing: the answer must not reveal whether the address has an account.

use sqlx::AnyConnection;

use crate::db::Db;

/// Account emails one address may receive per clock hour.
pub const PER_HOUR: i64 = 3;
const WINDOW_SECONDS: i64 = 3600;

/// Takes one message from `recipient`'s budget for the hour of `now`. True when the
/// message may go; false when the hour's budget is spent (nothing is counted then).
pub async fn take(
    conn: &mut AnyConnection,
    recipient: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let window_start = now - now.rem_euclid(WINDOW_SECONDS);
    let counted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO mail_quota (recipient, window_start, sent) VALUES ($1, $2, 1) \
         ON CONFLICT (recipient, window_start) DO UPDATE SET sent = mail_quota.sent + 1 \
         WHERE mail_quota.sent < $3 RETURNING CAST(sent AS BIGINT)",
    )
    .bind(recipient.trim().to_lowercase())
    .bind(window_start)
    .bind(PER_HOUR)
    .fetch_optional(conn)
    .await?;
    Ok(counted.is_some())
}

/// Deletes the counts of hours that are over (background job).
pub async fn purge_finished(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM mail_quota WHERE window_start < $1")
        .bind(now - WINDOW_SECONDS)
        .execute(db.writer())
        .await?;
    Ok(done.rows_affected())
}
