//! Users: moviegoers and staff. Identity, passwords and account status.
//!
//! Emails are stored normalised (trimmed, lower-case) and are unique; names are trimmed and
//! may not contain control characters (they end up in email headers). The password hash is
//! read and written only here and in `accounts`; no `User` value carries it.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::domain::passwords::{self, HashError};
use crate::domain::roles::Role;
use crate::domain::validation::FieldErrors;

/// A user as the rest of the application sees it. The password hash never leaves this
/// module.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub is_active: bool,
    pub email_verified: bool,
}

impl User {
    /// Whether the account has any staff role.
    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }
}

/// Longest accepted email address (RFC 5321's path limit).
pub const EMAIL_MAX_LEN: usize = 254;
/// Longest accepted display name, in characters.
pub const NAME_MAX_LEN: usize = 100;

pub(crate) fn user_from_row(row: &AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: {
            let role: String = row.try_get("role")?;
            Role::parse(&role)
                .ok_or_else(|| sqlx::Error::Decode(format!("unknown role {role:?}").into()))?
        },
        is_active: row.try_get::<i64, _>("is_active")? != 0,
        email_verified: row
            .try_get::<Option<i64>, _>("email_verified_at")?
            .is_some(),
    })
}

/// The form in which emails are stored and compared: trimmed and lower-case.
pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// A name as stored: trimmed, inner runs of spaces collapsed.
pub fn normalize_name(raw: &str) -> String {
    raw.split(' ')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_owned()
}

/// Why an (already normalised) email address is not acceptable.
pub fn email_error(email: &str) -> Option<String> {
    if email.is_empty() {
        return Some("Enter your email address.".into());
    }
    let shaped = email.len() <= EMAIL_MAX_LEN
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        // What the mailer will be able to send to; anything else could never be verified.
        && email.parse::<lettre::Address>().is_ok();
    (!shaped).then(|| "Enter a valid email address, like name@example.com.".into())
}

/// Why an (already normalised) name is not acceptable.
pub fn name_error(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("Enter your name.".into())
    } else if name.chars().count() > NAME_MAX_LEN {
        Some(format!("Use at most {NAME_MAX_LEN} characters."))
    } else if name.chars().any(char::is_control) {
        Some("Your name cannot contain line breaks or control characters.".into())
    } else {
        None
    }
}

/// Field errors of a new account, keyed `name`, `email`, `password`.
pub fn validate_new_user(name: &str, email: &str, password: &str) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if let Some(e) = name_error(&normalize_name(name)) {
        errors.insert("name".into(), e);
    }
    if let Some(e) = email_error(&normalize_email(email)) {
        errors.insert("email".into(), e);
    }
    if let Some(e) = passwords::policy_error(password) {
        errors.insert("password".into(), e);
    }
    errors
}

/// A user to create directly (the `create-staff` command, tests), skipping the emailed
/// verification when `email_verified` is set.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password: String,
    pub role: Role,
    pub email_verified: bool,
}

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("invalid user: {0:?}")]
    Invalid(FieldErrors),
    #[error("an account with this email address already exists")]
    EmailTaken,
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Creates an active user after checking the same rules as registration.
pub async fn create_user(db: &Db, new: NewUser, now: i64) -> Result<User, CreateUserError> {
    let errors = validate_new_user(&new.name, &new.email, &new.password);
    if !errors.is_empty() {
        return Err(CreateUserError::Invalid(errors));
    }
    let hash = passwords::hash(new.password).await?;
    let email = normalize_email(&new.email);
    let name = normalize_name(&new.name);
    let mut conn = db.writer().acquire().await?;
    let verified_at = new.email_verified.then_some(now);
    let id = insert(&mut conn, &email, &name, &hash, new.role, verified_at, now)
        .await?
        .ok_or(CreateUserError::EmailTaken)?;
    Ok(User {
        id,
        email,
        name,
        role: new.role,
        is_active: true,
        email_verified: new.email_verified,
    })
}

/// Inserts a user unless the email is taken (then `None`).
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    email: &str,
    name: &str,
    password_hash: &str,
    role: Role,
    email_verified_at: Option<i64>,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO users (email, name, password_hash, role, is_active, email_verified_at, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $6, $6) \
         ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(email)
    .bind(name)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(email_verified_at)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// The active, verified user with this id (the only kind that may be logged in).
pub async fn find_active(db: &Db, id: i64) -> Result<Option<User>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, email, name, role, is_active, email_verified_at FROM users \
         WHERE id = $1 AND is_active = 1 AND email_verified_at IS NOT NULL",
    )
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    row.as_ref().map(user_from_row).transpose()
}

/// The user with this email (normalised first), whatever their status.
pub async fn find_by_email(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Option<User>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, email, name, role, is_active, email_verified_at FROM users \
         WHERE email = $1",
    )
    .bind(normalize_email(email))
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(user_from_row).transpose()
}

/// The user with this email and their password hash, for checking a login.
pub(crate) async fn with_password_hash(
    db: &Db,
    email: &str,
) -> Result<Option<(User, String)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, email, name, role, is_active, email_verified_at, password_hash \
         FROM users WHERE email = $1",
    )
    .bind(email)
    .fetch_optional(db.reader())
    .await?;
    row.map(|row| Ok((user_from_row(&row)?, row.try_get("password_hash")?)))
        .transpose()
}

/// The password hash of a user, by id.
pub(crate) async fn password_hash_of(db: &Db, user_id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(db.reader())
        .await
}

/// Replaces a user's password hash.
pub(crate) async fn set_password_hash(
    conn: &mut AnyConnection,
    user_id: i64,
    password_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
        .bind(user_id)
        .bind(password_hash)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks the email as verified (keeping the first verification time).
pub(crate) async fn mark_verified(
    conn: &mut AnyConnection,
    user_id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $2), updated_at = $2 \
         WHERE id = $1",
    )
    .bind(user_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(normalize_email("  Ann@Example.COM "), "ann@example.com");
        assert!(email_error("ann@example.com").is_none());
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@localhost",
            "a b@example.com",
        ] {
            assert!(email_error(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn names_are_tidied_and_may_not_carry_control_characters() {
        assert_eq!(normalize_name("  Ann   Lee "), "Ann Lee");
        assert!(name_error("Ann Lee").is_none());
        assert!(name_error("").is_some());
        assert!(name_error("Eve\r\nBcc: x@example.com").is_some());
        assert!(name_error(&"x".repeat(101)).is_some());
    }
}
