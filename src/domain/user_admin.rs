//! Staff work on accounts: search users, activate or deactivate them (ending every session of
//! a deactivated user), change their role, and the `create-staff` command's
//! create-or-promote. Nobody may change their own status or role here, so that a staff
//! member cannot lock themselves (and possibly everyone) out by mistake; only admins may
//! change roles, checked here as well as by the route's guard.

use time::OffsetDateTime;

use crate::db::Db;
use crate::db::decode::UnixSeconds;
use crate::db::escape_like;
use crate::db::session_store::delete_user_sessions;
use crate::domain::audit::{self, NewEntry};
use crate::domain::ids::UserId;
use crate::domain::roles::Role;
use crate::domain::users::{Email, USER_COLUMNS, User};

/// A user as listed for staff.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    #[sqlx(flatten)]
    pub user: User,
    #[sqlx(try_from = "UnixSeconds")]
    pub created_at: OffsetDateTime,
    pub bookings: i64,
}

/// The columns of a `UserRow`, on `users u`.
const USER_ROW_COLUMNS: &str = "u.id, u.email, u.name, u.role, u.is_active, \
     u.email_verified_at, u.created_at, \
     (SELECT COUNT(*) FROM bookings b WHERE b.user_id = u.id) AS bookings";

/// Users whose email or name contains `q` (all when empty), newest first, with their
/// booking counts; one query.
pub async fn search(
    db: &Db,
    q: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<UserRow>, sqlx::Error> {
    let pattern = format!("%{}%", escape_like(&q.trim().to_lowercase()));
    let sql = format!(
        "SELECT {USER_ROW_COLUMNS} \
         FROM users u WHERE u.email LIKE $1 ESCAPE '\\' OR LOWER(u.name) LIKE $1 ESCAPE '\\' \
         ORDER BY u.created_at DESC, u.id DESC LIMIT $2 OFFSET $3"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(db.reader())
        .await
}

/// Any user by id, whatever their status.
pub async fn find(db: &Db, id: UserId) -> Result<Option<UserRow>, sqlx::Error> {
    let sql = format!("SELECT {USER_ROW_COLUMNS} FROM users u WHERE u.id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db.reader())
        .await
}

/// Why a staff change to an account was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserAdminError {
    #[error("No such user.")]
    NotFound,
    #[error("You cannot change your own account here; ask another staff member.")]
    OwnAccount,
    #[error("Only admins may change roles.")]
    NotAllowed,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Activates (`on`) or deactivates user `target_id`, as staff member `actor_id`, with an
/// audit entry in the same transaction. Deactivating also ends every session of the user.
/// Setting the status it already has changes nothing and records nothing.
pub async fn set_active(
    db: &Db,
    actor_id: UserId,
    target_id: UserId,
    on: bool,
    now: i64,
) -> Result<User, UserAdminError> {
    if actor_id == target_id {
        return Err(UserAdminError::OwnAccount);
    }
    let mut tx = db.begin_write().await?;
    let before = load_in(&mut tx, target_id).await?;
    if before.is_active == on {
        return Ok(before);
    }
    sqlx::query("UPDATE users SET is_active = $1, updated_at = $2 WHERE id = $3")
        .bind(i64::from(on))
        .bind(now)
        .bind(target_id)
        .execute(&mut *tx)
        .await?;
    let yes_no = |on: bool| if on { "yes" } else { "no" };
    let mut summary = format!("is_active: {} -> {}", yes_no(!on), yes_no(on));
    if !on {
        let ended = delete_user_sessions(&mut tx, target_id.into(), None).await?;
        summary.push_str(&format!("; {ended} session(s) ended"));
    }
    let action = if on {
        "user.activate"
    } else {
        "user.deactivate"
    };
    audit::record(
        &mut tx,
        &NewEntry::new(
            Some(actor_id),
            action,
            "user",
            target_id,
            format!("{} ({summary})", before.email),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(User {
        is_active: on,
        ..before
    })
}

/// The audit action of a role change: granting staff rights, revoking them, or moving
/// between staff roles.
fn role_action(from: Role, to: Role) -> &'static str {
    match (from.is_staff(), to.is_staff()) {
        (false, true) => "user.grant_staff",
        (true, false) => "user.revoke_staff",
        _ => "user.change_role",
    }
}

/// Gives user `target_id` the role `role`, as `actor`, with an audit entry in the same
/// transaction. Only admins may, and never on their own account. Giving the role it
/// already has changes nothing and records nothing.
pub async fn set_role(
    db: &Db,
    actor: &User,
    target_id: UserId,
    role: Role,
    now: i64,
) -> Result<User, UserAdminError> {
    if actor.role != Role::Admin {
        return Err(UserAdminError::NotAllowed);
    }
    if actor.id == target_id {
        return Err(UserAdminError::OwnAccount);
    }
    let mut tx = db.begin_write().await?;
    let before = load_in(&mut tx, target_id).await?;
    if before.role == role {
        return Ok(before);
    }
    // Conditional on the role read, so that two admins changing one account at once
    // leave one audit entry per change that happened.
    let changed =
        sqlx::query("UPDATE users SET role = $1, updated_at = $2 WHERE id = $3 AND role = $4")
            .bind(role.as_str())
            .bind(now)
            .bind(target_id)
            .bind(before.role.as_str())
            .execute(&mut *tx)
            .await?;
    if changed.rows_affected() != 1 {
        return Ok(before);
    }
    audit::record(
        &mut tx,
        &NewEntry::new(
            Some(actor.id),
            role_action(before.role, role),
            "user",
            target_id,
            format!("{} (role: {} -> {})", before.email, before.role, role),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(User { role, ..before })
}

async fn load_in(conn: &mut sqlx::AnyConnection, id: UserId) -> Result<User, UserAdminError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(UserAdminError::NotFound)
}

/// What `promote_to_staff` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Promotion {
    /// No account has this email.
    NoSuchUser,
    /// The account already had this role (its email is now verified too).
    AlreadyStaff(User),
    /// The account has the role now.
    Promoted(User),
}

/// Gives the account with `email` the staff role `role` and a verified address (the
/// `create-staff` command on an existing account), with an audit entry by nobody in
/// particular (the command line).
pub async fn promote_to_staff(
    db: &Db,
    email: &Email,
    role: Role,
    now: i64,
) -> Result<Promotion, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let Some(before) = crate::domain::users::find_by_email(&mut tx, email).await? else {
        return Ok(Promotion::NoSuchUser);
    };
    sqlx::query(
        "UPDATE users SET role = $2, email_verified_at = COALESCE(email_verified_at, $1), \
         updated_at = $1 WHERE id = $3",
    )
    .bind(now)
    .bind(role.as_str())
    .bind(before.id)
    .execute(&mut *tx)
    .await?;
    let after = User {
        role,
        email_verified: true,
        ..before.clone()
    };
    if before.role == role {
        tx.commit().await?;
        return Ok(Promotion::AlreadyStaff(after));
    }
    audit::record(
        &mut tx,
        &NewEntry::new(
            None,
            role_action(before.role, role),
            "user",
            before.id,
            format!(
                "{} (role: {} -> {role}; by the create-staff command)",
                before.email, before.role
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
                "{} (new verified staff account, role {}; by the create-staff command)",
                user.email, user.role
            ),
        ),
        now,
    )
    .await
    .map(|_| ())
}
