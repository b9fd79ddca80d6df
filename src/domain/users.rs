//! Users: moviegoers and staff. Identity, passwords and account status.
//!
//! Emails are stored normalised (trimmed, lower-case) and are unique; names are trimmed and
//! may not contain control characters (they end up in email headers). The password hash is
//! read and written only here and in `accounts`; no `User` value carries it.

use std::fmt;

use serde::Serialize;
use sqlx::AnyConnection;

use crate::db::Db;
use crate::db::decode::{IntBool, MaybeUnixSeconds};
use crate::domain::ids::UserId;
use crate::domain::passwords::{self, HashError};
use crate::domain::roles::Role;
use crate::domain::validation::FieldErrors;

/// A user as the rest of the application sees it. The password hash never leaves this
/// module.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    #[sqlx(try_from = "IntBool")]
    pub is_active: bool,
    #[sqlx(rename = "email_verified_at", try_from = "Verified")]
    pub email_verified: bool,
}

/// `email_verified_at` read as "is the address verified".
#[derive(sqlx::Type)]
#[sqlx(transparent)]
struct Verified(MaybeUnixSeconds);

impl From<Verified> for bool {
    fn from(at: Verified) -> Self {
        at.0.0.is_some()
    }
}

/// The columns a `User` is read from.
pub(crate) const USER_COLUMNS: &str = "id, email, name, role, is_active, email_verified_at";

/// An email address as accepted from a person: trimmed, lower-case, and one the mailer can
/// send to. Parsed once where input arrives; the domain takes only this.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

/// Why text is not an email address; the message is what the form shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter your email address.")]
    Missing,
    #[error("Enter a valid email address, like name@example.com.")]
    Malformed,
}

impl Email {
    /// Normalises `raw` (see `normalize_email`) and checks it is an address.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let email = normalize_email(raw);
        if email.is_empty() {
            return Err(EmailError::Missing);
        }
        let shaped = email.len() <= EMAIL_MAX_LEN
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
            // What the mailer will be able to send to; anything else could never be verified.
            && email.parse::<lettre::Address>().is_ok();
        if shaped {
            Ok(Self(email))
        } else {
            Err(EmailError::Malformed)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
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

/// Why an email address is not acceptable (`Email::parse`'s message).
pub fn email_error(email: &str) -> Option<String> {
    Email::parse(email).err().map(|e| e.to_string())
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
    match NewAccount::parse(name, email, password) {
        Ok(_) => FieldErrors::new(),
        Err(errors) => errors,
    }
}

/// A new account's name, address and password, each checked: what registration and
/// `create_user` accept.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: String,
    pub email: Email,
    pub password: String,
}

impl NewAccount {
    /// Checks every field and collects every error, keyed `name`, `email`, `password`.
    pub fn parse(name: &str, email: &str, password: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = normalize_name(name);
        if let Some(e) = name_error(&name) {
            errors.insert("name".into(), e);
        }
        let email = Email::parse(email)
            .map_err(|e| errors.insert("email".into(), e.to_string()))
            .ok();
        if let Some(e) = passwords::policy_error(password) {
            errors.insert("password".into(), e);
        }
        match email {
            Some(email) if errors.is_empty() => Ok(Self {
                name,
                email,
                password: password.to_owned(),
            }),
            _ => Err(errors),
        }
    }
}

/// A user to create directly (the `create-staff` command, tests), skipping the emailed
/// verification when `email_verified` is set.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
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
    let account = NewAccount::parse(&new.name, new.email.as_str(), &new.password)
        .map_err(CreateUserError::Invalid)?;
    let hash = passwords::hash(account.password).await?;
    let mut conn = db.writer().acquire().await?;
    let verified_at = new.email_verified.then_some(now);
    let id = insert(
        &mut conn,
        &account.email,
        &account.name,
        &hash,
        new.role,
        verified_at,
        now,
    )
    .await?
    .ok_or(CreateUserError::EmailTaken)?;
    Ok(User {
        id,
        email: account.email.to_string(),
        name: account.name,
        role: new.role,
        is_active: true,
        email_verified: new.email_verified,
    })
}

/// Inserts a user unless the email is taken (then `None`).
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    email: &Email,
    name: &str,
    password_hash: &str,
    role: Role,
    email_verified_at: Option<i64>,
    now: i64,
) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO users (email, name, password_hash, role, is_active, email_verified_at, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $6, $6) \
         ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(email.as_str())
    .bind(name)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(email_verified_at)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// The active, verified user with this id (the only kind that may be logged in).
pub async fn find_active(db: &Db, id: UserId) -> Result<Option<User>, sqlx::Error> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users \
         WHERE id = $1 AND is_active = 1 AND email_verified_at IS NOT NULL"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db.reader())
        .await
}

/// The user with this email, whatever their status.
pub async fn find_by_email(
    conn: &mut AnyConnection,
    email: &Email,
) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(email.as_str())
        .fetch_optional(conn)
        .await
}

/// A user with their password hash, as a login checks it.
#[derive(sqlx::FromRow)]
pub(crate) struct WithHash {
    #[sqlx(flatten)]
    pub user: User,
    pub password_hash: String,
}

/// The user with this (normalised) email and their password hash, for checking a login.
/// Takes text rather than an `Email`: a login with a malformed address must fail exactly
/// like one with an unknown address.
pub(crate) async fn with_password_hash(
    db: &Db,
    email: &str,
) -> Result<Option<WithHash>, sqlx::Error> {
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(email)
        .fetch_optional(db.reader())
        .await
}

/// The password hash of a user, by id.
pub(crate) async fn password_hash_of(
    db: &Db,
    user_id: UserId,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(db.reader())
        .await
}

/// Replaces a user's password hash.
pub(crate) async fn set_password_hash(
    conn: &mut AnyConnection,
    user_id: UserId,
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
    user_id: UserId,
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
