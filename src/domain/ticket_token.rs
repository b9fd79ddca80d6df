//! The signed ticket token in the QR code: `MB1.<payload>.<signature>`, a contract with the
//! scanner devices at the door (see docs/API.md, "Ticket token").
//!
//! A bare booking code in a QR code can be guessed or typed up by anyone; a token signed
//! with Ed25519 can be checked offline by a scanner holding only the public key, and only
//! the holder of the private key (the database) can make one. Pure functions: the keys are
//! loaded by `ticket_keys`.
//!
//! Parsing is strict on purpose: exactly one canonical encoding of each ticket is accepted
//! (no padding, no non-canonical base64, no extra fields or whitespace in the JSON), so a
//! token that differs from the one we issued in any byte is refused.

use crate::domain::ids::ShowtimeId;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

/// The version tag every token starts with; a new format gets a new prefix.
pub const PREFIX: &str = "MB1";

/// Tokens longer than this are refused before any decoding (a real one is a few hundred
/// bytes even for a whole row of seats).
pub const MAX_TOKEN_BYTES: usize = 2048;

/// What a ticket says: the booking (public id), the showtime, the seat labels and when it
/// was issued (the booking's confirmation time, Unix seconds). Serialized in this field
/// order, compact, as the token's payload.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketClaims {
    pub b: String,
    pub s: ShowtimeId,
    pub seats: Vec<String>,
    pub iat: i64,
}

/// Why a token was refused. Deliberately coarse: a scanner only needs "not ours".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTicket {
    #[error("not a ticket token")]
    Malformed,
    #[error("the signature does not verify with any valid key")]
    BadSignature,
}

/// The payload JSON of `claims`: compact, keys in declaration order.
fn payload_json(claims: &TicketClaims) -> Vec<u8> {
    // Serializing a struct of strings and integers into memory cannot fail.
    serde_json::to_vec(claims).unwrap_or_default()
}

/// The token for `claims`, signed with `key`. Deterministic: the same claims and key give
/// the same token (Ed25519 signatures are).
pub fn sign(claims: &TicketClaims, key: &SigningKey) -> String {
    let signed = format!("{PREFIX}.{}", URL_SAFE_NO_PAD.encode(payload_json(claims)));
    let signature = key.sign(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

/// The claims of `token` if it is exactly a token we issued with one of `keys`.
/// Tries each key; any byte changed anywhere gives Err.
pub fn verify(token: &str, keys: &[VerifyingKey]) -> Result<TicketClaims, InvalidTicket> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(InvalidTicket::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(prefix), Some(encoded_payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(InvalidTicket::Malformed);
    };
    if prefix != PREFIX {
        return Err(InvalidTicket::Malformed);
    }
    // The engine refuses padding and non-zero trailing bits, so each byte string has
    // exactly one accepted encoding.
    let payload = URL_SAFE_NO_PAD
        .decode(encoded_payload)
        .map_err(|_| InvalidTicket::Malformed)?;
    let signature: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| InvalidTicket::Malformed)?
        .try_into()
        .map_err(|_| InvalidTicket::Malformed)?;
    let signature = Signature::from_bytes(&signature);
    // What was signed: everything before the second dot.
    let signed = &token.as_bytes()[..prefix.len() + 1 + encoded_payload.len()];
    // `verify_strict` also refuses non-canonical signatures and weak (small-order) keys.
    if !keys
        .iter()
        .any(|key| key.verify_strict(signed, &signature).is_ok())
    {
        return Err(InvalidTicket::BadSignature);
    }
    let claims: TicketClaims =
        serde_json::from_slice(&payload).map_err(|_| InvalidTicket::Malformed)?;
    // Only the canonical JSON we write: no whitespace, reordered or duplicated keys.
    if payload_json(&claims) != payload {
        return Err(InvalidTicket::Malformed);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn claims() -> TicketClaims {
        TicketClaims {
            b: "bk_3f9a".into(),
            s: ShowtimeId(42),
            seats: vec!["C7".into(), "C8".into()],
            iat: 1_790_000_000,
        }
    }

    /// Signs `payload` (raw bytes, any JSON) the way `sign` does, to build odd tokens.
    fn sign_raw(payload: &[u8], key: &SigningKey) -> String {
        let signed = format!("{PREFIX}.{}", URL_SAFE_NO_PAD.encode(payload));
        let signature = key.sign(signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    #[test]
    fn the_payload_is_compact_json_with_the_keys_in_order() {
        let token = sign(&claims(), &key(1));
        let payload = token.split('.').nth(1).unwrap();
        let json = URL_SAFE_NO_PAD.decode(payload).unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            r#"{"b":"bk_3f9a","s":42,"seats":["C7","C8"],"iat":1790000000}"#
        );
        assert!(token.starts_with("MB1."));
        assert_eq!(token.matches('.').count(), 2);
        assert!(!token.contains('='));
    }

    #[test]
    fn a_signed_token_verifies_and_signing_is_deterministic() {
        let token = sign(&claims(), &key(1));
        assert_eq!(token, sign(&claims(), &key(1)));
        assert_eq!(verify(&token, &[key(1).verifying_key()]), Ok(claims()));
        // Any of several keys will do (rotation).
        assert_eq!(
            verify(&token, &[key(2).verifying_key(), key(1).verifying_key()]),
            Ok(claims())
        );
    }

    #[test]
    fn an_unknown_key_or_no_key_is_refused() {
        let token = sign(&claims(), &key(1));
        assert_eq!(
            verify(&token, &[key(2).verifying_key()]),
            Err(InvalidTicket::BadSignature)
        );
        assert_eq!(verify(&token, &[]), Err(InvalidTicket::BadSignature));
    }

    #[test]
    fn changing_any_byte_is_refused() {
        let token = sign(&claims(), &key(1));
        let keys = [key(1).verifying_key()];
        for i in 0..token.len() {
            for replacement in [b'A', b'B', b'-', b'_', b'.', b'=', b' ', b'a'] {
                let mut bytes = token.clone().into_bytes();
                if bytes[i] == replacement {
                    continue;
                }
                bytes[i] = replacement;
                let changed = String::from_utf8(bytes).unwrap();
                assert!(verify(&changed, &keys).is_err(), "position {i}: {changed}");
            }
        }
    }

    #[test]
    fn truncated_extended_and_reshaped_tokens_are_refused() {
        let token = sign(&claims(), &key(1));
        let keys = [key(1).verifying_key()];
        for len in 0..token.len() {
            assert!(verify(&token[..len], &keys).is_err(), "length {len}");
        }
        for bad in [
            format!("{token}."),
            format!("{token}.x"),
            format!("{token}="),
            format!("{token}=="),
            format!(".{token}"),
            format!(" {token}"),
            format!("{token}\n"),
            token.replacen("MB1", "MB2", 1),
            token.replacen("MB1", "mb1", 1),
        ] {
            assert_eq!(verify(&bad, &keys), Err(InvalidTicket::Malformed), "{bad}");
        }
    }

    #[test]
    fn padding_and_non_canonical_base64_are_refused() {
        let keys = [key(1).verifying_key()];
        // A payload whose length is not a multiple of 3, padded: base64 would decode it.
        let payload = payload_json(&claims());
        assert_ne!(payload.len() % 3, 0);
        let token = sign(&claims(), &key(1));
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let padding = if payload.len() % 3 == 1 { "==" } else { "=" };
        parts[1] = format!("{}{padding}", parts[1]);
        assert_eq!(
            verify(&parts.join("."), &keys),
            Err(InvalidTicket::Malformed)
        );

        // The last character of the signature carries 4 unused bits; setting one gives
        // the same bytes in a non-canonical encoding.
        let token = sign(&claims(), &key(1));
        let last = token.chars().last().unwrap();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let index = alphabet.iter().position(|c| *c as char == last).unwrap();
        let sibling = alphabet[index ^ 1] as char;
        let non_canonical = format!("{}{sibling}", &token[..token.len() - 1]);
        assert_eq!(verify(&non_canonical, &keys), Err(InvalidTicket::Malformed));
    }

    #[test]
    fn only_the_exact_json_we_write_is_accepted_even_when_signed() {
        let signer = key(1);
        let keys = [signer.verifying_key()];
        for json in [
            // An unknown field.
            r#"{"b":"bk","s":1,"seats":["A1"],"iat":5,"admin":true}"#,
            // A missing field.
            r#"{"b":"bk","s":1,"seats":["A1"]}"#,
            // Whitespace, reordered keys, trailing bytes.
            r#"{"b": "bk","s":1,"seats":["A1"],"iat":5}"#,
            r#"{"s":1,"b":"bk","seats":["A1"],"iat":5}"#,
            r#"{"b":"bk","s":1,"seats":["A1"],"iat":5} "#,
            r#"{"b":"bk","s":1,"seats":["A1"],"iat":5}x"#,
            // Wrong types.
            r#"{"b":"bk","s":"1","seats":["A1"],"iat":5}"#,
            "not json",
        ] {
            let token = sign_raw(json.as_bytes(), &signer);
            assert_eq!(
                verify(&token, &keys),
                Err(InvalidTicket::Malformed),
                "{json}"
            );
        }
        let exact = sign_raw(br#"{"b":"bk","s":1,"seats":["A1"],"iat":5}"#, &signer);
        assert!(verify(&exact, &keys).is_ok());
    }

    #[test]
    fn oversized_tokens_are_refused_before_decoding() {
        let signer = key(1);
        let claims = TicketClaims {
            seats: (0..400).map(|i| format!("Z{i}")).collect(),
            ..claims()
        };
        let token = sign(&claims, &signer);
        assert!(token.len() > MAX_TOKEN_BYTES);
        assert_eq!(
            verify(&token, &[signer.verifying_key()]),
            Err(InvalidTicket::Malformed)
        );
    }
}
