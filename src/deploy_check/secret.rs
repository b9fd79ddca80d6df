//! The signing key: present, long, varied, not a placeholder and not predictable.

use std::collections::BTreeSet;

use super::Findings;
use crate::config::security::SECRET_KEY;

/// Placeholders people leave in `SECRET_KEY` (lower-case substrings).
const PLACEHOLDERS: &[&str] = &[
    "changeme",
    "change-me",
    "change_me",
    "changethis",
    "replace-with",
    "replace_me",
    "placeholder",
    "insecure",
    "example",
    "secret-key",
    "secretkey",
    "your-secret",
    "not-a-secret",
];

/// The least estimated entropy of a production SECRET_KEY, in bits.
const SECRET_MIN_BITS: f64 = 128.0;
const SECRET_MIN: usize = 64;

/// A rough lower estimate of a key's entropy in bits, in the spirit of zxcvbn: each
/// character that a guesser could predict (it repeats the one before, continues an
/// ascending or descending run, or completes a four-character block seen earlier in the
/// key) adds nothing; every other one adds log2 of the number of distinct characters
/// used. A random 64-character hex key scores about 200 bits; `0123456789abcdef` four
/// times over scores 12.
pub fn estimated_entropy_bits(key: &str) -> f64 {
    let chars: Vec<char> = key.chars().collect();
    let distinct = chars.iter().collect::<BTreeSet<_>>().len();
    if distinct < 2 {
        return 0.0;
    }
    let per_char = (distinct as f64).log2();
    let mut blocks_seen: BTreeSet<&[char]> = BTreeSet::new();
    let mut unpredictable = 0usize;
    for i in 0..chars.len() {
        let repeat_or_run = i > 0 && (chars[i] as i64 - chars[i - 1] as i64).abs() <= 1;
        let seen_block = i >= 3 && !blocks_seen.insert(&chars[i - 3..=i]);
        if !(repeat_or_run || seen_block) {
            unpredictable += 1;
        }
    }
    unpredictable as f64 * per_char
}

/// The key is judged as written: the application refuses only keys under 32 characters,
/// production wants far more of it.
pub(super) fn check_secret_key(key: Option<&str>, out: &mut Findings) {
    let fix = "Generate one with `openssl rand -hex 32` (64 characters) and set SECRET_KEY to it; changing it logs everyone out.";
    let Some(key) = key else {
        out.add("MB-E002", SECRET_KEY, "SECRET_KEY is not set.".into(), fix);
        return;
    };
    let length = key.chars().count();
    if length < SECRET_MIN {
        out.add(
            "MB-E003",
            SECRET_KEY,
            format!("SECRET_KEY has {length} characters; production needs at least {SECRET_MIN}."),
            fix,
        );
    }
    let distinct = key.chars().collect::<BTreeSet<_>>().len();
    if distinct < 5 {
        out.add(
            "MB-E004",
            SECRET_KEY,
            format!("SECRET_KEY uses only {distinct} distinct characters, so it is easy to guess."),
            fix,
        );
    }
    let bits = estimated_entropy_bits(key);
    if distinct >= 5 && bits < SECRET_MIN_BITS {
        out.add(
            "MB-E006",
            SECRET_KEY,
            format!("SECRET_KEY is predictable: its repeats and runs leave an estimated {bits:.0} bits of entropy, fewer than {SECRET_MIN_BITS:.0}."),
            fix,
        );
    }
    let lower = key.to_ascii_lowercase();
    if lower == "secret" || PLACEHOLDERS.iter().any(|p| lower.contains(p)) {
        out.add(
            "MB-E005",
            SECRET_KEY,
            "SECRET_KEY looks like a placeholder from documentation or .env.example.".into(),
            fix,
        );
    }
}
