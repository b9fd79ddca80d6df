//! Account flows: registration with an emailed verification link, login with per-account
//! throttling, password reset by email and password change.
//!
//! The answers are built so that nobody can learn from them whether an email address has an
//! account: registering a taken address answers like a fresh one (and mails the owner
//! instead), an unknown email and a wrong password fail identically and take as long, and
//! the reset form always says "check your inbox".
//!
//! Flows that send mail decide what to say (an `AccountMail`: who, which link, how long it
//! works) and have it written by an `AccountMailWriter` (`src/email` writes the words), so
//! the message is queued in the same transaction as the change. They return the outbox ids
//! of their messages; the caller delivers them (`Mailer::deliver`) once the change is
//! committed. Nothing here knows about HTTP.

use crate::db::Db;
use crate::db::session_store;
use crate::domain::ids::{OutboxId, UserId};
use crate::domain::outbox::NewEmail;
use crate::domain::passwords::{self, HashError};
use crate::domain::roles::Role;
use crate::domain::tokens::{hash_token, random_token};
use crate::domain::users::{self, Email, NewAccount, User};
use crate::domain::validation::FieldErrors;
use crate::domain::{mail_quota, outbox};
use strum::IntoStaticStr;

/// How long an email verification link works.
pub const VERIFY_TOKEN_HOURS: i64 = 48;
/// How long a password reset link works.
pub const RESET_TOKEN_MINUTES: i64 = 60;
/// Failed logins within `LOCKOUT_WINDOW_SECONDS` that lock an email...
pub const LOCKOUT_FAILURES: usize = 10;
pub const LOCKOUT_WINDOW_SECONDS: i64 = 15 * 60;
/// ...for this long.
pub const LOCKOUT_SECONDS: i64 = 15 * 60;
/// How long login attempts are kept (they only matter for the lockout).
pub const ATTEMPTS_KEPT_SECONDS: i64 = 24 * 3600;

/// What a row of `user_tokens` is for, as stored in its `purpose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
enum Purpose {
    VerifyEmail,
    PasswordReset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Random characters in a token: 43 * 6 = 258 bits.
const TOKEN_LEN: usize = 43;

/// Who an account email is for.
#[derive(Debug, Clone, Copy)]
pub struct Recipient<'a> {
    pub user_id: UserId,
    pub name: &'a str,
    pub email: &'a str,
}

impl<'a> From<&'a User> for Recipient<'a> {
    fn from(user: &'a User) -> Self {
        Self {
            user_id: user.id,
            name: &user.name,
            email: &user.email,
        }
    }
}

/// An account email this module decided to send, with the facts it carries.
#[derive(Debug, Clone, Copy)]
pub enum AccountMail<'a> {
    /// "Confirm your email address", with a single-use link valid for `hours`.
    VerifyEmail {
        to: Recipient<'a>,
        token: &'a str,
        hours: i64,
    },
    /// "Reset your password", with a single-use link valid for `minutes`.
    PasswordReset {
        to: Recipient<'a>,
        token: &'a str,
        minutes: i64,
    },
    /// Someone tried to register the owner's address again.
    DuplicateRegistration { to: Recipient<'a> },
}

/// Writes the words of an account email (implemented in `src/email`).
pub trait AccountMailWriter: Sync {
    fn write(&self, mail: AccountMail<'_>) -> Result<NewEmail, askama::Error>;
}

/// Why an account action did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Input that breaks a rule; messages keyed by field name.
    #[error("invalid input: {0:?}")]
    Invalid(FieldErrors),
    /// Unknown email or wrong password: deliberately the same error.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// The password was right but the address is not verified yet.
    #[error("email address not verified")]
    EmailNotVerified,
    /// Too many failed logins for this email recently.
    #[error("account temporarily locked")]
    Locked { retry_after_seconds: i64 },
    /// A verification or reset link that is unknown, used or expired.
    #[error("invalid or expired link")]
    InvalidToken,
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Template(#[from] askama::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn invalid(field: &str, message: impl Into<String>) -> AccountError {
    AccountError::Invalid(FieldErrors::from([(field.to_owned(), message.into())]))
}

/// What someone fills in to create an account, checked (`NewAccount::parse`).
pub type Registration = NewAccount;

async fn insert_token(
    conn: &mut sqlx::AnyConnection,
    user_id: UserId,
    purpose: Purpose,
    lifetime_seconds: i64,
    now: i64,
) -> Result<String, sqlx::Error> {
    let token = random_token(TOKEN_LEN);
    sqlx::query(
        "INSERT INTO user_tokens (user_id, purpose, token_hash, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(hash_token(&token))
    .bind(now + lifetime_seconds)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(token)
}

/// Uses up a token: only one caller ever gets its user id, and only before it expires.
async fn consume_token(
    conn: &mut sqlx::AnyConnection,
    token: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE user_tokens SET used_at = $3 \
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 \
         RETURNING user_id",
    )
    .bind(hash_token(token))
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Creates an unverified account and mails a verification link. When the address already
/// has an account, the answer is the same and its owner gets a notice instead.
/// Returns the outbox ids to deliver.
pub async fn register(
    db: &Db,
    mails: &dyn AccountMailWriter,
    registration: Registration,
    now: i64,
) -> Result<Vec<OutboxId>, AccountError> {
    let NewAccount {
        name,
        email,
        password,
    } = registration;
    // Hashed in both cases, so that a taken address does not answer faster.
    let hash = passwords::hash(password).await?;

    let mut tx = db.begin_write().await?;
    let message = match users::insert(&mut tx, &email, &name, &hash, Role::Customer, None, now)
        .await?
    {
        Some(user_id) => {
            let lifetime = VERIFY_TOKEN_HOURS * 3600;
            let token = insert_token(&mut tx, user_id, Purpose::VerifyEmail, lifetime, now).await?;
            let to = Recipient {
                user_id,
                name: &name,
                email: email.as_str(),
            };
            mails.write(AccountMail::VerifyEmail {
                to,
                token: &token,
                hours: VERIFY_TOKEN_HOURS,
            })?
        }
        None => {
            let owner = users::find_by_email(&mut tx, &email)
                .await?
                .ok_or(sqlx::Error::RowNotFound)?;
            tracing::info!(email = %email, "registration attempt for an existing account; notifying its owner");
            mails.write(AccountMail::DuplicateRegistration {
                to: Recipient::from(&owner),
            })?
        }
    };
    let id = enqueue_within_quota(&mut tx, email.as_str(), &message, now).await?;
    tx.commit().await?;
    Ok(id.into_iter().collect())
}

/// Queues an account email unless its recipient's hourly budget is spent (see
/// `mail_quota`); the caller answers the same either way.
async fn enqueue_within_quota(
    conn: &mut sqlx::AnyConnection,
    address: &str,
    message: &NewEmail,
    now: i64,
) -> Result<Option<OutboxId>, sqlx::Error> {
    if !mail_quota::take(conn, address, now).await? {
        tracing::warn!(kind = %message.kind, "account email not sent: its recipient had {} this hour already", mail_quota::PER_HOUR);
        return Ok(None);
    }
    outbox::enqueue(conn, message, now).await
}

/// What following a verification link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// The address is now verified.
    Verified { email: String },
    /// The link was already used, and the address is verified: nothing to do.
    AlreadyVerified,
}

/// Verifies the email address a link was sent to.
pub async fn verify_email(db: &Db, token: &str, now: i64) -> Result<Verification, AccountError> {
    let mut tx = db.begin_write().await?;
    if let Some(user_id) = consume_token(&mut tx, token, Purpose::VerifyEmail, now).await? {
        users::mark_verified(&mut tx, user_id, now).await?;
        let email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(Verification::Verified { email });
    }
    let verified: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT u.email_verified_at FROM user_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NOT NULL",
    )
    .bind(hash_token(token))
    .bind(Purpose::VerifyEmail.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    tx.rollback().await?;
    match verified {
        Some(Some(_)) => Ok(Verification::AlreadyVerified),
        _ => Err(AccountError::InvalidToken),
    }
}

/// Sends a fresh verification link if the address has an unverified account; otherwise
/// does nothing. The caller answers the same either way.
pub async fn resend_verification(
    db: &Db,
    mails: &dyn AccountMailWriter,
    email: &Email,
    now: i64,
) -> Result<Vec<OutboxId>, AccountError> {
    let mut tx = db.begin_write().await?;
    let Some(user) = users::find_by_email(&mut tx, email).await? else {
        return Ok(Vec::new());
    };
    if user.email_verified || !user.is_active {
        return Ok(Vec::new());
    }
    let lifetime = VERIFY_TOKEN_HOURS * 3600;
    let token = insert_token(&mut tx, user.id, Purpose::VerifyEmail, lifetime, now).await?;
    let message = mails.write(AccountMail::VerifyEmail {
        to: Recipient::from(&user),
        token: &token,
        hours: VERIFY_TOKEN_HOURS,
    })?;
    let id = enqueue_within_quota(&mut tx, &user.email, &message, now).await?;
    tx.commit().await?;
    Ok(id.into_iter().collect())
}

/// When the email's lockout ends, if it is locked now. A lockout starts at the failure that
/// makes `LOCKOUT_FAILURES` within `LOCKOUT_WINDOW_SECONDS` and lasts `LOCKOUT_SECONDS`;
/// attempts refused during a lockout are not recorded, and a success resets the count.
pub async fn locked_until(db: &Db, email: &str, now: i64) -> Result<Option<i64>, sqlx::Error> {
    let failures: Vec<i64> = sqlx::query_scalar(
        "SELECT attempted_at FROM login_attempts \
         WHERE email = $1 AND succeeded = 0 AND attempted_at > $2 \
         AND attempted_at > COALESCE((SELECT MAX(attempted_at) FROM login_attempts \
                                      WHERE email = $1 AND succeeded = 1), 0) \
         ORDER BY attempted_at LIMIT 200",
    )
    .bind(email)
    .bind(now - LOCKOUT_WINDOW_SECONDS - LOCKOUT_SECONDS)
    .fetch_all(db.reader())
    .await?;
    let n = LOCKOUT_FAILURES;
    let until = failures
        .windows(n)
        .filter(|w| w[n - 1] - w[0] <= LOCKOUT_WINDOW_SECONDS)
        .map(|w| w[n - 1] + LOCKOUT_SECONDS)
        .max();
    Ok(until.filter(|&until| until > now))
}

async fn record_attempt(
    conn: &mut sqlx::AnyConnection,
    email: &str,
    client_ip: &str,
    succeeded: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO login_attempts (email, client_ip, succeeded, attempted_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(
        email
            .chars()
            .take(users::EMAIL_MAX_LEN + 1)
            .collect::<String>(),
    )
    .bind(client_ip.chars().take(64).collect::<String>())
    .bind(i64::from(succeeded))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Checks an email and password. Unknown emails are checked against a dummy hash and fail
/// exactly like a wrong password; failures are logged with the email, never the password.
pub async fn login(
    db: &Db,
    email: &str,
    password: &str,
    client_ip: &str,
    now: i64,
) -> Result<User, AccountError> {
    let email = users::normalize_email(email);
    let mut errors = FieldErrors::new();
    if email.is_empty() {
        errors.insert("email".into(), "Enter your email address.".into());
    }
    if password.is_empty() {
        errors.insert("password".into(), "Enter your password.".into());
    }
    if !errors.is_empty() {
        return Err(AccountError::Invalid(errors));
    }
    if let Some(until) = locked_until(db, &email, now).await? {
        tracing::warn!(email = %email, client_ip, "login refused: account locked after repeated failures");
        return Err(AccountError::Locked {
            retry_after_seconds: (until - now).max(1),
        });
    }
    // Over-long input cannot be a valid password; still pay the hash so it takes as long.
    let candidate = if password.chars().count() > passwords::MAX_LEN {
        None
    } else {
        users::with_password_hash(db, &email).await?
    };
    let (user, hash) = match candidate {
        Some(found) => (Some(found.user), Some(found.password_hash)),
        None => (None, None),
    };
    let matches = passwords::verify(password.to_owned(), hash).await;
    match user {
        Some(user) if matches && user.is_active => {
            if !user.email_verified {
                tracing::info!(email = %email, "login refused: email not verified");
                return Err(AccountError::EmailNotVerified);
            }
            let mut conn = db.writer().acquire().await?;
            record_attempt(&mut conn, &email, client_ip, true, now).await?;
            Ok(user)
        }
        _ => {
            let mut conn = db.writer().acquire().await?;
            record_attempt(&mut conn, &email, client_ip, false, now).await?;
            tracing::warn!(email = %email, client_ip, "failed login");
            Err(AccountError::InvalidCredentials)
        }
    }
}

/// Mails a reset link if the address has an active account; otherwise does nothing. The
/// caller answers the same either way. Returns the outbox ids to deliver.
pub async fn request_password_reset(
    db: &Db,
    mails: &dyn AccountMailWriter,
    email: &Email,
    now: i64,
) -> Result<Vec<OutboxId>, AccountError> {
    let mut tx = db.begin_write().await?;
    let Some(user) = users::find_by_email(&mut tx, email).await? else {
        tracing::info!(email = %email, "password reset asked for an unknown email");
        return Ok(Vec::new());
    };
    if !user.is_active {
        return Ok(Vec::new());
    }
    let lifetime = RESET_TOKEN_MINUTES * 60;
    let token = insert_token(&mut tx, user.id, Purpose::PasswordReset, lifetime, now).await?;
    let message = mails.write(AccountMail::PasswordReset {
        to: Recipient::from(&user),
        token: &token,
        minutes: RESET_TOKEN_MINUTES,
    })?;
    let id = enqueue_within_quota(&mut tx, &user.email, &message, now).await?;
    tx.commit().await?;
    Ok(id.into_iter().collect())
}

/// Whether a reset link can still be used (it is not used up by looking).
pub async fn reset_token_is_valid(db: &Db, token: &str, now: i64) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM user_tokens WHERE token_hash = $1 AND purpose = $2 \
         AND used_at IS NULL AND expires_at > $3",
    )
    .bind(hash_token(token))
    .bind(Purpose::PasswordReset.as_str())
    .bind(now)
    .fetch_optional(db.reader())
    .await?;
    Ok(found.is_some())
}

/// Sets a new password through a reset link. The link is used up, every session of the
/// user ends, any lockout is lifted, and the address counts as verified (the link proved
/// it). Returns the user's email, to prefill the login form.
pub async fn reset_password(
    db: &Db,
    token: &str,
    new_password: &str,
    now: i64,
) -> Result<String, AccountError> {
    if !reset_token_is_valid(db, token, now).await? {
        return Err(AccountError::InvalidToken);
    }
    if let Some(error) = passwords::policy_error(new_password) {
        return Err(invalid("password", error));
    }
    let hash = passwords::hash(new_password.to_owned()).await?;
    let mut tx = db.begin_write().await?;
    // Conditional: of two racing uses of one link, only one gets here.
    let Some(user_id) = consume_token(&mut tx, token, Purpose::PasswordReset, now).await? else {
        return Err(AccountError::InvalidToken);
    };
    users::set_password_hash(&mut tx, user_id, &hash, now).await?;
    users::mark_verified(&mut tx, user_id, now).await?;
    sqlx::query(
        "UPDATE user_tokens SET used_at = $3 WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(Purpose::PasswordReset.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    session_store::delete_user_sessions(&mut tx, user_id.into(), None).await?;
    let email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
    record_attempt(&mut tx, &email, "password-reset", true, now).await?;
    tx.commit().await?;
    tracing::info!(user_id = user_id.0, "password reset; all sessions ended");
    Ok(email)
}

/// A logged-in user's password change.
#[derive(Debug, Clone, Default)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the password after checking the current one, and ends every other session of
/// the user (all but `keep_session`, the one making the change).
pub async fn change_password(
    db: &Db,
    user_id: UserId,
    change: PasswordChange,
    keep_session: Option<&str>,
    now: i64,
) -> Result<(), AccountError> {
    let mut errors = FieldErrors::new();
    if change.current_password.is_empty() {
        errors.insert(
            "current_password".into(),
            "Enter your current password.".into(),
        );
    }
    if let Some(error) = passwords::policy_error(&change.new_password) {
        errors.insert("new_password".into(), error);
    }
    if !errors.is_empty() {
        return Err(AccountError::Invalid(errors));
    }
    let stored = users::password_hash_of(db, user_id).await?;
    if !passwords::verify(change.current_password, stored).await {
        tracing::warn!(
            user_id = user_id.0,
            "password change refused: wrong current password"
        );
        return Err(invalid(
            "current_password",
            "That is not your current password.",
        ));
    }
    let hash = passwords::hash(change.new_password).await?;
    let mut tx = db.begin_write().await?;
    users::set_password_hash(&mut tx, user_id, &hash, now).await?;
    let ended = session_store::delete_user_sessions(&mut tx, user_id.into(), keep_session).await?;
    tx.commit().await?;
    tracing::info!(
        user_id = user_id.0,
        other_sessions_ended = ended,
        "password changed"
    );
    Ok(())
}

/// Deletes login attempts too old to matter and tokens long expired (background job).
pub async fn purge_old_records(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    let attempts = sqlx::query("DELETE FROM login_attempts WHERE attempted_at < $1")
        .bind(now - ATTEMPTS_KEPT_SECONDS)
        .execute(db.writer())
        .await?;
    let tokens = sqlx::query("DELETE FROM user_tokens WHERE expires_at < $1")
        .bind(now - 7 * 24 * 3600)
        .execute(db.writer())
        .await?;
    let quotas = mail_quota::purge_finished(db, now).await?;
    Ok(attempts.rows_affected() + tokens.rows_affected() + quotas)
}
