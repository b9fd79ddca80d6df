//! Razorpay's signatures: hex HMAC-SHA256, compared in constant time.
//!
//! - Checkout success: `HMAC(key_secret, "{order_id}|{payment_id}")`.
//! - Webhooks: `HMAC(webhook_secret, raw request body)`.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Hex HMAC-SHA256 of `message` under `secret`.
pub fn sign(secret: &str, message: &[u8]) -> String {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature` (hex) is the HMAC of `message` under `secret`. The comparison takes
/// the same time wherever the first difference is.
pub fn verify(secret: &str, message: &[u8], signature: &str) -> bool {
    let Ok(expected) = hex::decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(message);
    mac.verify_slice(&expected).is_ok()
}

/// The message Checkout signs on success.
pub fn checkout_message(order_id: &str, payment_id: &str) -> String {
    format!("{order_id}|{payment_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_with_the_right_key_and_message() {
        let signature = sign("secret", b"order_1|pay_1");
        assert_eq!(signature.len(), 64);
        assert!(verify("secret", b"order_1|pay_1", &signature));
        assert!(!verify("other", b"order_1|pay_1", &signature));
        assert!(!verify("secret", b"order_1|pay_2", &signature));
        assert!(!verify("secret", b"order_1|pay_1", "not hex"));
        assert!(!verify("secret", b"order_1|pay_1", ""));
    }

    #[test]
    fn matches_a_known_hmac_sha256_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
