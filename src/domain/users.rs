//! Users: moviegoers and staff. Identity, passwords and account status.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;

/// A user as the rest of the application sees it. The password hash never leaves this
/// module.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub is_staff: bool,
    pub is_active: bool,
    pub email_verified: bool,
}

pub(crate) fn user_from_row(row: &AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        is_staff: row.try_get::<i64, _>("is_staff")? != 0,
        is_active: row.try_get::<i64, _>("is_active")? != 0,
        email_verified: row
            .try_get::<Option<i64>, _>("email_verified_at")?
            .is_some(),
    })
}

/// The active, verified user with this id (the only kind that may be logged in).
pub async fn find_active(db: &Db, id: i64) -> Result<Option<User>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, email, name, is_staff, is_active, email_verified_at FROM users \
         WHERE id = $1 AND is_active = 1 AND email_verified_at IS NOT NULL",
    )
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    row.as_ref().map(user_from_row).transpose()
}
