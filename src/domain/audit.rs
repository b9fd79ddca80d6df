//! The audit log: who did what to which record, and what it looked like before and after.
//!
//! Staff actions are recorded on the same connection or transaction as the change when the
//! change is ours to run (so a rolled-back change leaves no entry); changes made by another
//! module's own transaction (a refund) are recorded right after it commits.

use sqlx::{AnyConnection, AssertSqlSafe};
use time::OffsetDateTime;

use crate::db::decode::UnixSeconds;
use crate::db::{Db, escape_like};
use crate::domain::ids::{AuditEntryId, UserId};

/// An action to record. `summary` says what changed, e.g. `is_active: yes -> no`.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// The staff member acting; `None` for the command line.
    pub actor_user_id: Option<UserId>,
    /// A dotted verb such as `booking.refund` or `user.deactivate`.
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub summary: String,
}

impl NewEntry {
    pub fn new(
        actor_user_id: Option<UserId>,
        action: &str,
        target_type: &str,
        target_id: impl ToString,
        summary: impl Into<String>,
    ) -> Self {
        Self {
            actor_user_id,
            action: action.to_owned(),
            target_type: target_type.to_owned(),
            target_id: target_id.to_string(),
            summary: summary.into(),
        }
    }
}

/// A recorded action, with the actor's email when the actor still exists.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    pub id: AuditEntryId,
    pub actor_user_id: Option<UserId>,
    pub actor_email: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub summary: String,
    #[sqlx(try_from = "UnixSeconds")]
    pub created_at: OffsetDateTime,
}

/// `field: before -> after` for each pair that differs, joined by `; `.
pub fn describe_changes(pairs: &[(&str, String, String)]) -> String {
    let changed: Vec<String> = pairs
        .iter()
        .filter(|(_, before, after)| before != after)
        .map(|(field, before, after)| format!("{field}: {before} -> {after}"))
        .collect();
    if changed.is_empty() {
        "no change".to_owned()
    } else {
        changed.join("; ")
    }
}

/// Records `entry` on `conn` (pass the transaction of the change it describes).
pub async fn record(
    conn: &mut AnyConnection,
    entry: &NewEntry,
    now: i64,
) -> Result<AuditEntryId, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO audit_log (actor_user_id, action, target_type, target_id, summary, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(entry.actor_user_id)
    .bind(&entry.action)
    .bind(&entry.target_type)
    .bind(&entry.target_id)
    .bind(&entry.summary)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Records `entry` on its own, for changes whose transaction belongs to another module.
pub async fn record_now(db: &Db, entry: &NewEntry, now: i64) -> Result<AuditEntryId, sqlx::Error> {
    let mut conn = db.writer().acquire().await?;
    record(&mut conn, entry, now).await
}

/// Which entries to list; empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Entries whose action starts with this (`booking.` lists every booking action).
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub actor_user_id: Option<UserId>,
}

/// Entries matching `filter`, newest first; one query (with the actor's email joined).
pub async fn list(
    db: &Db,
    filter: &Filter,
    limit: i64,
    offset: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    let mut conditions = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    if !filter.action.is_empty() {
        conditions.push(format!("a.action LIKE ${} ESCAPE '\\'", next()));
    }
    if !filter.target_type.is_empty() {
        conditions.push(format!("a.target_type = ${}", next()));
    }
    if !filter.target_id.is_empty() {
        conditions.push(format!("a.target_id = ${}", next()));
    }
    if filter.actor_user_id.is_some() {
        conditions.push(format!("a.actor_user_id = ${}", next()));
    }
    let limit_at = next();
    let offset_at = next();
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT a.id, a.actor_user_id, u.email AS actor_email, a.action, a.target_type, \
         a.target_id, a.summary, a.created_at FROM audit_log a \
         LEFT JOIN users u ON u.id = a.actor_user_id {where_clause} \
         ORDER BY a.created_at DESC, a.id DESC LIMIT ${limit_at} OFFSET ${offset_at}"
    );
    let mut query = sqlx::query_as::<_, Entry>(AssertSqlSafe(sql));
    if !filter.action.is_empty() {
        query = query.bind(format!("{}%", escape_like(&filter.action)));
    }
    if !filter.target_type.is_empty() {
        query = query.bind(filter.target_type.clone());
    }
    if !filter.target_id.is_empty() {
        query = query.bind(filter.target_id.clone());
    }
    if let Some(actor) = filter.actor_user_id {
        query = query.bind(actor);
    }
    query.bind(limit).bind(offset).fetch_all(db.reader()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_fields_are_described() {
        let summary = describe_changes(&[
            ("name", "Pune".into(), "Pune".into()),
            ("slug", "poona".into(), "pune".into()),
        ]);
        assert_eq!(summary, "slug: poona -> pune");
        assert_eq!(
            describe_changes(&[("name", "A".into(), "A".into())]),
            "no change"
        );
    }
}
