//! Password policy and hashing. Hashes are argon2id with the argon2 crate's defaults
//! (m=19456 KiB, t=2, p=1, OWASP's minimum); they take tens of milliseconds of CPU, so
//! every hash and verification runs on the blocking thread pool, never on the async workers.
//! Each one also takes 19 MiB of memory, so at most one per CPU core runs at a time
//! (`HASHING_SLOTS`): more would not finish sooner, and a burst of logins would otherwise
//! cost 19 MiB per request in flight.
//!
//! Only `users` stores and reads hashes; nothing outside the domain ever sees one.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// Shortest accepted password, in characters.
pub const MIN_LEN: usize = 8;
/// Longest accepted password, in characters (bounds the hashing work a request can cause).
pub const MAX_LEN: usize = 128;

static COMMON: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_lowercase)
        .collect()
});

/// Why a new password is not acceptable, in words for the person choosing it.
pub fn policy_error(password: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Some(format!(
            "Use at least {MIN_LEN} characters; a short phrase is easy to remember."
        ));
    }
    if chars > MAX_LEN {
        return Some(format!("Use at most {MAX_LEN} characters."));
    }
    if is_common(password) {
        return Some(
            "This password is too common and easy to guess. Please choose another.".into(),
        );
    }
    None
}

/// Whether the password is on the shipped list of common passwords (case-insensitive).
pub fn is_common(password: &str) -> bool {
    COMMON.contains(&password.to_lowercase())
}

/// How many passwords the common list holds (tests and diagnostics).
pub fn common_count() -> usize {
    COMMON.len()
}

/// One permit per CPU core: the most argon2 computations worth running at once.
static HASHING_SLOTS: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    tokio::sync::Semaphore::new(cores.clamp(1, 16))
});

/// Runs one argon2 computation on the blocking pool once a hashing slot is free.
async fn with_hashing_slot<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    // The semaphore is never closed, so acquiring only waits.
    let _slot = HASHING_SLOTS.acquire().await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| e.to_string())
}

/// Hashing failed; this only happens when the system's random source is unavailable.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`).
pub async fn hash(password: String) -> Result<String, HashError> {
    with_hashing_slot(move || hash_blocking(&password))
        .await
        .map_err(HashError)?
}

fn hash_blocking(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// A hash of a password nobody knows, verified against when the account does not exist so
/// that the answer takes as long as for a real account.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    // `verify` never accepts a match against this hash, so its password and salt need not
    // be secret; only its cost matters.
    Argon2::default()
        .hash_password_with_salt(b"no account has this password", b"moviebooking-dummy")
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Checks a password against a stored hash, or against a dummy hash when there is none, so
/// that the time taken does not reveal whether an account exists. A malformed stored hash
/// never matches.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    let result = with_hashing_slot(move || {
        let exists = stored.is_some();
        let hash = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok();
        exists && ok
    })
    .await;
    result.unwrap_or(false)
}

/// Computes the dummy hash now, so the first login for an unknown email is not the one
/// request that pays for it (which would itself be a timing signal).
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
    LazyLock::force(&COMMON);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_what_is_wrong() {
        assert!(policy_error("short").unwrap().contains("at least 8"));
        assert!(
            policy_error(&"x".repeat(129))
                .unwrap()
                .contains("at most 128")
        );
        assert!(policy_error("Password123").unwrap().contains("too common"));
        assert!(policy_error("QWERTY123").unwrap().contains("too common"));
        assert!(policy_error("correct horse battery staple").is_none());
        // Characters, not bytes: eight non-ASCII characters are enough.
        assert!(policy_error("ñandú-ß€").is_none());
    }

    #[test]
    fn the_common_list_has_thousands_of_entries() {
        assert!(common_count() > 3000, "{}", common_count());
        assert!(is_common("12345678") && is_common("iloveyou") && is_common("Letmein1"));
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_default_parameters_and_verify() {
        let hash = hash("correct horse battery staple".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify("correct horse battery staple".into(), Some(hash.clone())).await);
        assert!(!verify("wrong horse battery staple".into(), Some(hash)).await);
        assert!(!verify("anything at all".into(), None).await);
        assert!(!verify("anything".into(), Some("not a hash".into())).await);
    }
}
