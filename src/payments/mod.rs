//! Talking to the payment provider. `Gateway` is Razorpay over HTTPS (orders, payments,
//! captures, refunds) or, in development without keys, a local stand-in that signs its
//! callbacks the same way so the very same verification code runs.
//!
//! This module and `email` are the only ones that reach the outside world. Every call has a
//! connect and a total timeout; only calls that are safe to repeat are retried.

pub mod flow;
pub mod signature;

use std::time::Duration;
use strum::{EnumString, IntoStaticStr};

use serde::Deserialize;
use serde_json::json;
use url::Url;

use crate::config::Config;
use crate::domain::ids::BookingId;
use crate::domain::payments::{CURRENCY, PaymentStatus, ProviderPayment, RefundStatus};
use crate::domain::tokens::random_token;

/// The key id the development gateway presents (never a real Razorpay key).
pub const DEV_KEY_ID: &str = "rzp_dev_local";

/// A payment entity as Razorpay sends it (API answers and webhook payloads). `into_payment`
/// maps it onto the domain's `ProviderPayment`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RazorpayPayment {
    pub id: String,
    pub order_id: Option<String>,
    pub amount: i64,
    pub currency: String,
    /// created, authorized, captured, refunded or failed.
    pub status: String,
}

impl RazorpayPayment {
    /// The payment in the domain's terms; None for a status the domain does not know.
    pub fn into_payment(self) -> Option<ProviderPayment> {
        let status: PaymentStatus = self.status.parse().ok()?;
        Some(ProviderPayment {
            id: self.id,
            order_id: self.order_id,
            amount: self.amount,
            currency: self.currency,
            status,
        })
    }
}

fn known(payment: RazorpayPayment) -> Result<ProviderPayment, GatewayError> {
    let status = payment.status.clone();
    payment
        .into_payment()
        .ok_or_else(|| GatewayError::Unavailable(format!("unknown payment status {status:?}")))
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProviderOrder {
    pub id: String,
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProviderRefund {
    pub id: String,
    pub amount: i64,
    #[serde(default)]
    pub status: Option<RefundStatus>,
}

#[derive(Debug, Deserialize)]
struct Collection<T> {
    items: Vec<T>,
}

/// Why a call to the provider did not give an answer we can use.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// Network failure, timeout or 5xx: the provider may or may not have acted.
    #[error("payment provider unavailable: {0}")]
    Unavailable(String),
    /// 409: the provider is still working on the same request (or already did it).
    #[error("payment provider reports a conflict: {0}")]
    Conflict(String),
    /// Any other 4xx: the provider refused the request.
    #[error("payment provider refused the request ({status}): {message}")]
    Rejected { status: u16, message: String },
}

#[derive(Clone)]
enum Provider {
    Razorpay {
        key_id: String,
        key_secret: String,
        webhook_secret: String,
        api_base: Url,
    },
    Development {
        key_secret: String,
    },
}

/// The payment provider of this process.
#[derive(Clone)]
pub struct Gateway {
    provider: Provider,
    http: reqwest::Client,
}

impl Gateway {
    /// Razorpay when keys are configured; the development gateway otherwise (production
    /// configuration refuses to start without keys, so it can never be on there).
    pub fn from_config(config: &Config) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3).min(config.razorpay_timeout))
            .timeout(config.razorpay_timeout)
            .user_agent("moviebooking")
            .build()
            .unwrap_or_default();
        let provider = match &config.razorpay {
            Some(keys) => Provider::Razorpay {
                key_id: keys.key_id.clone(),
                key_secret: keys.key_secret.clone(),
                webhook_secret: keys.webhook_secret.clone(),
                api_base: config.razorpay_api_base.clone(),
            },
            None if !config.is_production() => Provider::Development {
                key_secret: signature::sign(
                    config.secret_key.expose(),
                    b"development payment gateway",
                ),
            },
            None => unreachable_in_production(),
        };
        Self { provider, http }
    }

    pub fn is_development(&self) -> bool {
        matches!(self.provider, Provider::Development { .. })
    }

    /// The public key id Checkout is opened with.
    pub fn key_id(&self) -> &str {
        match &self.provider {
            Provider::Razorpay { key_id, .. } => key_id,
            Provider::Development { .. } => DEV_KEY_ID,
        }
    }

    /// The secret Checkout signatures are made with.
    pub fn key_secret(&self) -> &str {
        match &self.provider {
            Provider::Razorpay { key_secret, .. } | Provider::Development { key_secret } => {
                key_secret
            }
        }
    }

    /// The secret webhook bodies are signed with.
    pub fn webhook_secret(&self) -> &str {
        match &self.provider {
            Provider::Razorpay { webhook_secret, .. } => webhook_secret,
            Provider::Development { key_secret } => key_secret,
        }
    }

    /// Whether a Checkout success signature is genuine.
    pub fn verify_checkout(&self, order_id: &str, payment_id: &str, signature: &str) -> bool {
        signature::verify(
            self.key_secret(),
            signature::checkout_message(order_id, payment_id).as_bytes(),
            signature,
        )
    }

    /// Whether a webhook body's signature is genuine.
    pub fn verify_webhook(&self, body: &[u8], signature: &str) -> bool {
        signature::verify(self.webhook_secret(), body, signature)
    }

    fn url(api_base: &Url, path: &str) -> String {
        format!("{}{path}", api_base.as_str().trim_end_matches('/'))
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, GatewayError> {
        let Provider::Razorpay {
            key_id, key_secret, ..
        } = &self.provider
        else {
            return Err(GatewayError::Unavailable("no provider".into()));
        };
        let response = request
            .basic_auth(key_id, Some(key_secret))
            .send()
            .await
            .map_err(|e| GatewayError::Unavailable(describe(&e)))?;
        let status = response.status();
        if status.is_success() {
            return response.json::<T>().await.map_err(|e| {
                GatewayError::Unavailable(format!("unreadable answer: {}", describe(&e)))
            });
        }
        let body = response.text().await.unwrap_or_default();
        let message: String = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"]["description"].as_str().map(str::to_owned))
            .unwrap_or_else(|| body.chars().take(200).collect());
        Err(match status.as_u16() {
            409 => GatewayError::Conflict(message),
            s if s >= 500 || s == 429 => GatewayError::Unavailable(format!("{s}: {message}")),
            s => GatewayError::Rejected { status: s, message },
        })
    }

    /// Repeats a read-only call once after a transient failure.
    async fn get_with_retry<T: serde::de::DeserializeOwned>(
        &self,
        url: String,
    ) -> Result<T, GatewayError> {
        match self.send(self.http.get(&url)).await {
            Err(GatewayError::Unavailable(_)) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                self.send(self.http.get(&url)).await
            }
            other => other,
        }
    }

    /// Creates an order for `amount_paise` with automatic capture. Not retried: a second
    /// order after an unclear failure would be harmless but is not needed; the caller shows
    /// "try again" and the hold stays.
    pub async fn create_order(
        &self,
        amount_paise: i64,
        receipt: &str,
        booking_id: BookingId,
    ) -> Result<ProviderOrder, GatewayError> {
        match &self.provider {
            Provider::Development { .. } => Ok(ProviderOrder {
                id: format!("order_dev_{}", random_token(14).replace(['-', '_'], "x")),
                amount: amount_paise,
                currency: CURRENCY.into(),
            }),
            Provider::Razorpay { api_base, .. } => {
                let body = json!({
                    "amount": amount_paise,
                    "currency": CURRENCY,
                    "receipt": receipt,
                    "payment_capture": 1,
                    "notes": { "booking_id": booking_id.to_string(), "booking_code": receipt },
                });
                self.send(self.http.post(Self::url(api_base, "/orders")).json(&body))
                    .await
            }
        }
    }

    /// The provider's record of a payment. The development gateway has no server to ask:
    /// it vouches for the order it signed, for exactly the order's amount.
    pub async fn fetch_payment(
        &self,
        payment_id: &str,
        order_id: &str,
        order_amount: i64,
    ) -> Result<ProviderPayment, GatewayError> {
        match &self.provider {
            Provider::Development { .. } => Ok(ProviderPayment {
                id: payment_id.to_owned(),
                order_id: Some(order_id.to_owned()),
                amount: order_amount,
                currency: CURRENCY.into(),
                status: PaymentStatus::Captured,
            }),
            Provider::Razorpay { api_base, .. } => self
                .get_with_retry(Self::url(api_base, &format!("/payments/{payment_id}")))
                .await
                .and_then(known),
        }
    }

    /// Captures an authorized payment. Capturing twice is refused by the provider, so a
    /// failure is followed by a fresh look at the payment rather than a retry.
    pub async fn capture(
        &self,
        payment_id: &str,
        amount_paise: i64,
    ) -> Result<ProviderPayment, GatewayError> {
        match &self.provider {
            Provider::Development { .. } => Err(GatewayError::Rejected {
                status: 400,
                message: "development payments are captured already".into(),
            }),
            Provider::Razorpay { api_base, .. } => {
                let body = json!({ "amount": amount_paise, "currency": CURRENCY });
                self.send(
                    self.http
                        .post(Self::url(
                            api_base,
                            &format!("/payments/{payment_id}/capture"),
                        ))
                        .json(&body),
                )
                .await
                .and_then(known)
            }
        }
    }

    /// Every payment made against an order (reconciliation).
    pub async fn order_payments(
        &self,
        order_id: &str,
    ) -> Result<Vec<ProviderPayment>, GatewayError> {
        match &self.provider {
            Provider::Development { .. } => Ok(Vec::new()),
            Provider::Razorpay { api_base, .. } => {
                let collection: Collection<RazorpayPayment> = self
                    .get_with_retry(Self::url(api_base, &format!("/orders/{order_id}/payments")))
                    .await?;
                // A payment in a state we do not know cannot settle anything: skip it.
                Ok(collection
                    .items
                    .into_iter()
                    .filter_map(RazorpayPayment::into_payment)
                    .collect())
            }
        }
    }

    /// Refunds `amount_paise` of a payment. The idempotency key makes a repeated request
    /// (after a timeout, or from another process) refund once, so it is retried once here.
    pub async fn refund(
        &self,
        payment_id: &str,
        amount_paise: i64,
        idempotency_key: &str,
    ) -> Result<ProviderRefund, GatewayError> {
        match &self.provider {
            Provider::Development { .. } => Ok(ProviderRefund {
                id: format!("rfnd_dev_{}", random_token(14).replace(['-', '_'], "x")),
                amount: amount_paise,
                status: Some(RefundStatus::Processed),
            }),
            Provider::Razorpay { api_base, .. } => {
                let url = Self::url(api_base, &format!("/payments/{payment_id}/refund"));
                let body = json!({ "amount": amount_paise, "speed": "normal" });
                let attempt = || {
                    self.send::<ProviderRefund>(
                        self.http
                            .post(&url)
                            .header("X-Refund-Idempotency", idempotency_key)
                            .json(&body),
                    )
                };
                match attempt().await {
                    Err(GatewayError::Unavailable(_)) => {
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        attempt().await
                    }
                    other => other,
                }
            }
        }
    }
}

fn unreachable_in_production() -> Provider {
    // `Config` refuses production without Razorpay keys, so this is never reached; fail
    // closed with a gateway that cannot sign anything real.
    Provider::Development {
        key_secret: random_token(64),
    }
}

/// A reqwest error without the URL (which carries no secret, but keeps logs short).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else {
        error.to_string()
    }
}

/// The webhook events the server acts on (`event` in a Razorpay webhook body). Any other
/// event is acknowledged and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr)]
pub enum WebhookEvent {
    #[strum(serialize = "payment.captured")]
    PaymentCaptured,
    #[strum(serialize = "order.paid")]
    OrderPaid,
    /// Never confirms anything: only a capture does.
    #[strum(serialize = "payment.authorized")]
    PaymentAuthorized,
    #[strum(serialize = "payment.failed")]
    PaymentFailed,
    #[strum(serialize = "refund.processed")]
    RefundProcessed,
    #[strum(serialize = "refund.failed")]
    RefundFailed,
}
