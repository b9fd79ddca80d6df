//! Razorpay: live keys, a webhook secret of its own, and Razorpay's own API.

use url::Url;

use super::Findings;
use crate::config::payments::{
    RAZORPAY_API_BASE, RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET, RAZORPAY_WEBHOOK_SECRET,
};
use crate::config::redact_url;

/// The keys are judged as written: the application refuses an incomplete set outright, the
/// audit says which one is missing.
pub(super) fn check_keys(
    key_id: Option<&str>,
    key_secret: Option<&str>,
    webhook_secret: Option<&str>,
    out: &mut Findings,
) {
    let missing: Vec<&str> = [(RAZORPAY_KEY_ID, key_id), (RAZORPAY_KEY_SECRET, key_secret)]
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(name, _)| *name)
        .collect();
    if !missing.is_empty() {
        out.add(
            "MB-E030",
            RAZORPAY_KEY_ID,
            format!("{} not set: nobody can pay.", missing.join(" and ")),
            "Razorpay Dashboard (Live Mode) -> Account & Settings -> API Keys: generate a key and set RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET.",
        );
    }
    if key_id.is_some_and(|id| id.starts_with("rzp_test_")) {
        out.add(
            "MB-E031",
            RAZORPAY_KEY_ID,
            "RAZORPAY_KEY_ID is a test key (rzp_test_…): payments would not take real money."
                .into(),
            "Use the live key pair (rzp_live_…) from the Dashboard in Live Mode.",
        );
    }
    match webhook_secret {
        None => out.add(
            "MB-E032",
            RAZORPAY_WEBHOOK_SECRET,
            "RAZORPAY_WEBHOOK_SECRET is not set: webhooks cannot be verified, so a payment whose browser never came back is never confirmed.".into(),
            "Dashboard -> Webhooks: add https://HOST/payments/razorpay/webhook with a secret of your own, and set RAZORPAY_WEBHOOK_SECRET to it.",
        ),
        Some(secret) if Some(secret) == key_secret => out.add(
            "MB-E033",
            RAZORPAY_WEBHOOK_SECRET,
            "RAZORPAY_WEBHOOK_SECRET is the same as RAZORPAY_KEY_SECRET; a leak of one would expose both.".into(),
            "Choose a different random webhook secret (openssl rand -hex 24) in the Dashboard and here.",
        ),
        Some(_) => {}
    }
}

/// Whether a Razorpay API base is Razorpay's own, over HTTPS.
fn is_razorpay_api(base: &str) -> bool {
    Url::parse(base).is_ok_and(|url| {
        url.scheme() == "https"
            && url.host_str() == Some("api.razorpay.com")
            && url.port().is_none()
            && url.username().is_empty()
    })
}

/// `base` as written, when set: a value the application refuses is refused here too.
pub(super) fn check_api_base(base: Option<&str>, out: &mut Findings) {
    if let Some(base) = base
        && !is_razorpay_api(base)
    {
        out.add(
            "MB-E034",
            RAZORPAY_API_BASE,
            format!("RAZORPAY_API_BASE is {:?}: the key secret would be sent to that server with every order and refund.", redact_url(base)),
            "Unset RAZORPAY_API_BASE (https://api.razorpay.com/v1); it is for tests against a fake gateway only.",
        );
    }
}
