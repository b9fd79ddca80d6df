//! Random secrets (verification and reset tokens, booking references) and their hashes.
//! Tokens are stored only as SHA-256 hashes, so a leaked table cannot be used to log in.

use rand::Rng;
use sha2::{Digest, Sha256};

const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A random URL-safe string of `len` characters (6 bits of entropy each).
pub fn random_token(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| URL_SAFE[rng.random_range(0..URL_SAFE.len())] as char)
        .collect()
}

/// Whether `value` could be a token we issued: 1 to `max_len` URL-safe characters. Lets
/// callers answer "not found" for anything else (control characters, NUL, other scripts)
/// before it reaches a query, the same on both database engines.
pub fn is_token_shaped(value: &str, max_len: usize) -> bool {
    !value.is_empty() && value.len() <= max_len && value.bytes().all(|b| URL_SAFE.contains(&b))
}

/// The hex SHA-256 of a token, the form in which it is stored and looked up.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hash_stably() {
        let a = random_token(43);
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token(43));
        assert_eq!(hash_token("x"), hash_token("x"));
        assert_eq!(hash_token("x").len(), 64);
    }
}
