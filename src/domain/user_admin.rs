//! Staff work on accounts: search users, activate or deactivate them (ending every session of
//! a deactivated user), grant or revoke staff rights, and the `create-staff` command's
//! create-or-promote. Nobody may change their own status or rights here, so that a staff
//! member cannot lock themselves (and possibly everyone) out by mistake.

use sqlx::Row;
use time::OffsetDateTime;

use crate::db::escape_like;
use crate::db::session_store::delete_user_sessions;
use crate::db::{Db, from_unix};
use crate::domain::audit::{self, NewEntry};
use crate::domain::users::{User, user_from_row};

/// A user as listed for staff.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub user: User,
    pub created_at: OffsetDateTime,
    pub bookings: i64,
}

/// Users whose email or name contains `q` (all when empty), newest first, with their
/// booking counts; one query.
pub async fn search(
    db: &Db,
    q: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<UserRow>, sqlx::Error> {
    let pattern = format!("%{}%", escape_like(&q.trim().to_lowercase()));
    let rows = sqlx::query(
        "SELECT u.id, u.email, u.name, u.is_staff, u.is_active, u.email_verified_at, u.created_at, \
         (SELECT COUNT(*) FROM bookings b WHERE b.user_id = u.id) AS bookings \
         FROM users u WHERE u.email LIKE $1 ESCAPE '\\' OR LOWER(u.name) LIKE $1 ESCAPE '\\' \
         ORDER BY u.created_at DESC, u.id DESC LIMIT $2 OFFSET $3",
    )
    .bind(pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(UserRow {
                user: user_from_row(r)?,
                created_at: from_unix(r.try_get("created_at")?),
                bookings: r.try_get("bookings")?,
            })
        })
        .collect()
}

/// Any user by id, whatever their status.
pub async fn find(db: &Db, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT u.id, u.email, u.name, u.is_staff, u.is_active, u.email_verified_at, u.created_at, \
         (SELECT COUNT(*) FROM bookings b WHERE b.user_id = u.id) AS bookings \
         FROM users u WHERE u.id = $1",
    )
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    row.map(|r| {
        Ok(UserRow {
            user: user_from_row(&r)?,
            created_at: from_unix(r.try_get("created_at")?),
            bookings: r.try_get("bookings")?,
        })
    })
    .transpose()
}

/// Why a staff change to an account was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserAdminError {
    #[error("No such user.")]
    NotFound,
    #[error("You cannot change your own account here; ask another staff member.")]
    OwnAccount,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// A flag staff can switch on an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Active,
    Staff,
}

impl Flag {
    fn column(self) -> &'static str {
        match self {
            Flag::Active => "is_active",
            Flag::Staff => "is_staff",
        }
    }

    fn action(self, on: bool) -> &'static str {
        match (self, on) {
            (Flag::Active, true) => "user.activate",
            (Flag::Active, false) => "user.deactivate",
            (Flag::Staff, true) => "user.grant_staff",
            (Flag::Staff, false) => "user.revoke_staff",
        }
    }
}

fn yes_no(on: bool) -> &'static str {
    if on { "yes" } else { "no" }
}

/// Switches `flag` of user `target_id` to `on`, as staff member `actor_id`, with an audit
/// entry in the same transaction. Deactivating also ends every session of the user. Setting
/// a flag to the value it already has changes nothing and records nothing.
pub async fn set_flag(
    db: &Db,
    actor_id: i64,
    target_id: i64,
    flag: Flag,
    on: bool,
    now: i64,
) -> Result<User, UserAdminError> {
    if actor_id == target_id {
        return Err(UserAdminError::OwnAccount);
    }
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "SELECT id, email, name, is_staff, is_active, email_verified_at FROM users WHERE id = $1",
    )
    .bind(target_id)
    .fetch_optional(&mut *tx)
    .await?;
    let before = row
        .as_ref()
        .map(user_from_row)
        .transpose()?
        .ok_or(UserAdminError::NotFound)?;
    let was = match flag {
        Flag::Active => before.is_active,
        Flag::Staff => before.is_staff,
    };
    if was == on {
        return Ok(before);
    }
    let sql = format!(
        "UPDATE users SET {} = $1, updated_at = $2 WHERE id = $3",
        flag.column()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(i64::from(on))
        .bind(now)
        .bind(target_id)
        .execute(&mut *tx)
        .await?;
    let mut summary = format!("{}: {} -> {}", flag.column(), yes_no(was), yes_no(on));
    if flag == Flag::Active && !on {
        let ended = delete_user_sessions(&mut tx, target_id, None).await?;
        summary.push_str(&format!("; {ended} session(s) ended"));
    }
    audit::record(
        &mut tx,
        &NewEntry::new(
            Some(actor_id),
            flag.action(on),
            "user",
            target_id,
            format!("{} ({summary})", before.email),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    let mut after = before;
    match flag {
        Flag::Active => after.is_active = on,
        Flag::Staff => after.is_staff = on,
    }
    Ok(after)
}

/// What `promote_to_staff` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Promotion {
    /// No account has this email.
    NoSuchUser,
    /// The account was already staff (its email is now verified too).
    AlreadyStaff(User),
    /// The account is staff now.
    Promoted(User),
}

/// Makes the account with `email` a verified staff member (the `create-staff` command on an
/// existing account), with an audit entry by nobody in particular (the command line).
pub async fn promote_to_staff(db: &Db, email: &str, now: i64) -> Result<Promotion, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let Some(before) = crate::domain::users::find_by_email(&mut tx, email).await? else {
        return Ok(Promotion::NoSuchUser);
    };
    sqlx::query(
        "UPDATE users SET is_staff = 1, email_verified_at = COALESCE(email_verified_at, $1), \
         updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(before.id)
    .execute(&mut *tx)
    .await?;
    let mut after = before.clone();
    after.is_staff = true;
    after.email_verified = true;
    if before.is_staff {
        tx.commit().await?;
        return Ok(Promotion::AlreadyStaff(after));
    }
    audit::record(
        &mut tx,
        &NewEntry::new(
            None,
            "user.grant_staff",
            "user",
            before.id,
            format!(
                "{} (is_staff: no -> yes; by the create-staff command)",
                before.email
            ),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Promotion::Promoted(after))
}

/// Records that the `create-staff` command created a staff account.
pub async fn record_created_staff(db: &Db, user: &User, now: i64) -> Result<(), sqlx::Error> {
    audit::record_now(
        db,
        &NewEntry::new(
            None,
            "user.create_staff",
            "user",
            user.id,
            format!(
                "{} (new verified staff account; by the create-staff command)",
                user.email
            ),
        ),
        now,
    )
    .await
    .map(|_| ())
}
