//! Razorpay: the keys, the API it is reached at and how long a call may take. Development
//! runs without keys, on the local payment gateway.

use std::time::Duration;

use url::Url;

use super::read::{Errors, Vars, variables};
use super::{ConfigError, Environment};

variables! {
    RAZORPAY_KEY_ID,
    RAZORPAY_KEY_SECRET,
    RAZORPAY_WEBHOOK_SECRET,
    /// Only tests point this elsewhere, at a fake gateway.
    RAZORPAY_API_BASE,
    RAZORPAY_TIMEOUT_SECONDS,
}

/// Razorpay's own API, used unless `RAZORPAY_API_BASE` says otherwise.
pub const RAZORPAY_API: &str = "https://api.razorpay.com/v1";

/// Razorpay credentials; absent in development, where the local gateway stands in.
#[derive(Clone, PartialEq, Eq)]
pub struct RazorpayKeys {
    pub key_id: String,
    pub key_secret: String,
    pub webhook_secret: String,
}

impl std::fmt::Debug for RazorpayKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never reach a log line, even through `{:?}` of the whole config.
        f.debug_struct("RazorpayKeys")
            .field("key_id", &self.key_id)
            .field("key_secret", &"[redacted]")
            .field("webhook_secret", &"[redacted]")
            .finish()
    }
}

/// The payment settings.
#[derive(Debug, Clone)]
pub struct Payments {
    pub razorpay: Option<RazorpayKeys>,
    pub api_base: Url,
    /// Total time allowed for one call to Razorpay (connecting takes at most 3 s of it).
    pub timeout: Duration,
}

impl Payments {
    pub fn parse(vars: Vars, environment: Environment, errors: &mut Errors) -> Self {
        let production = environment == Environment::Production;
        let razorpay = match (
            vars.get(RAZORPAY_KEY_ID),
            vars.get(RAZORPAY_KEY_SECRET),
            vars.get(RAZORPAY_WEBHOOK_SECRET),
        ) {
            (Some(id), Some(secret), Some(webhook)) => Some(RazorpayKeys {
                key_id: id.to_owned(),
                key_secret: secret.to_owned(),
                webhook_secret: webhook.to_owned(),
            }),
            (None, None, None) if !production => None,
            (None, None, None) => {
                errors.push(ConfigError::new(
                    RAZORPAY_KEY_ID,
                    "",
                    format!("Razorpay keys ({RAZORPAY_KEY_ID}, {RAZORPAY_KEY_SECRET}, {RAZORPAY_WEBHOOK_SECRET}) in production"),
                ));
                None
            }
            (id, secret, _) => {
                let missing = if id.is_none() {
                    RAZORPAY_KEY_ID
                } else if secret.is_none() {
                    RAZORPAY_KEY_SECRET
                } else {
                    RAZORPAY_WEBHOOK_SECRET
                };
                errors.push(ConfigError::new(
                    RAZORPAY_KEY_ID,
                    missing,
                    format!("all three Razorpay settings together; {missing} is missing"),
                ));
                None
            }
        };
        let raw = vars.get(RAZORPAY_API_BASE).unwrap_or(RAZORPAY_API);
        let api_base = Url::parse(raw.trim_end_matches('/'))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .unwrap_or_else(|| {
                errors.push(ConfigError::new(RAZORPAY_API_BASE, raw, "an http(s) URL"));
                Url::parse(RAZORPAY_API).expect("Razorpay's API is a URL")
            });
        Self {
            razorpay,
            api_base,
            timeout: errors.seconds(vars, RAZORPAY_TIMEOUT_SECONDS, 10, "a number of seconds"),
        }
    }
}
