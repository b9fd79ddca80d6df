//! A fake Razorpay API on loopback speaking the real HTTP protocol (the endpoints the app
//! uses: orders, payments, capture, order payments, refunds), with switches for outages:
//! 5xx or slow answers on order creation, 409 or slow answers on refunds. Tests also use it
//! to "pay" an order as a customer would, and to sign Checkout callbacks and webhooks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

pub const KEY_ID: &str = "rzp_test_fakekey";
pub const KEY_SECRET: &str = "fake-key-secret-0123456789";
pub const WEBHOOK_SECRET: &str = "fake-webhook-secret-9876543210";

#[derive(Debug, Clone)]
pub struct FakeOrder {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub receipt: String,
    pub notes: Value,
    pub payment_capture: i64,
}

#[derive(Debug, Clone)]
pub struct FakePayment {
    pub id: String,
    pub order_id: String,
    pub amount: i64,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct FakeRefund {
    pub id: String,
    pub payment_id: String,
    pub amount: i64,
    pub idempotency_key: String,
}

#[derive(Default)]
struct Inner {
    orders: Vec<FakeOrder>,
    payments: HashMap<String, FakePayment>,
    refunds: Vec<FakeRefund>,
    order_failure: Option<u16>,
    order_delay: Option<Duration>,
    refund_conflicts: u32,
    slow_refunds: u32,
    counter: u64,
}

/// The running fake.
#[derive(Clone)]
pub struct FakeRazorpay {
    pub base_url: String,
    inner: Arc<Mutex<Inner>>,
}

fn authorized(headers: &HeaderMap) -> bool {
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{KEY_ID}:{KEY_SECRET}"))
    );
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

fn error(status: StatusCode, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "code": "BAD_REQUEST_ERROR", "description": description } })),
    )
        .into_response()
}

fn payment_json(p: &FakePayment) -> Value {
    json!({ "id": p.id, "entity": "payment", "order_id": p.order_id, "amount": p.amount, "currency": "INR", "status": p.status, "method": "upi" })
}

impl FakeRazorpay {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = axum::Router::new()
            .route("/v1/orders", post(create_order))
            .route("/v1/orders/{id}/payments", get(order_payments))
            .route("/v1/payments/{id}", get(fetch_payment))
            .route("/v1/payments/{id}/capture", post(capture))
            .route("/v1/payments/{id}/refund", post(refund))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { base_url, inner }
    }

    /// The app settings that point it at this fake.
    pub fn settings(&self) -> Vec<(String, String)> {
        vec![
            ("RAZORPAY_KEY_ID".into(), KEY_ID.into()),
            ("RAZORPAY_KEY_SECRET".into(), KEY_SECRET.into()),
            ("RAZORPAY_WEBHOOK_SECRET".into(), WEBHOOK_SECRET.into()),
            ("RAZORPAY_API_BASE".into(), self.base_url.clone()),
            ("RAZORPAY_TIMEOUT_SECONDS".into(), "1".into()),
        ]
    }

    fn next_id(&self, prefix: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        inner.counter += 1;
        format!("{prefix}_{:014}", inner.counter)
    }

    pub fn orders(&self) -> Vec<FakeOrder> {
        self.inner.lock().unwrap().orders.clone()
    }

    pub fn refunds(&self) -> Vec<FakeRefund> {
        self.inner.lock().unwrap().refunds.clone()
    }

    /// A customer pays the order in full; the payment is captured (auto-capture).
    pub fn pay(&self, order_id: &str) -> String {
        // Looked up under the lock rather than through `orders()`, which copies every order
        // (the load benchmark pays thousands).
        let amount = self
            .inner
            .lock()
            .unwrap()
            .orders
            .iter()
            .find(|o| o.id == order_id)
            .map(|o| o.amount)
            .unwrap_or(0);
        self.pay_amount(order_id, amount, "captured")
    }

    /// A payment of any amount and status against an order (for mismatch and authorized cases).
    pub fn pay_amount(&self, order_id: &str, amount: i64, status: &str) -> String {
        let id = self.next_id("pay");
        self.inner.lock().unwrap().payments.insert(
            id.clone(),
            FakePayment {
                id: id.clone(),
                order_id: order_id.to_owned(),
                amount,
                status: status.to_owned(),
            },
        );
        id
    }

    pub fn payment(&self, payment_id: &str) -> Option<FakePayment> {
        self.inner.lock().unwrap().payments.get(payment_id).cloned()
    }

    /// The signature Checkout hands the browser on success.
    pub fn checkout_signature(order_id: &str, payment_id: &str) -> String {
        moviebooking::payments::signature::sign(
            KEY_SECRET,
            format!("{order_id}|{payment_id}").as_bytes(),
        )
    }

    /// A signed webhook delivery for a payment: (body, signature).
    pub fn webhook(&self, event: &str, payment_id: &str) -> (String, String) {
        let payment = self.payment(payment_id).expect("known payment");
        let body = json!({
            "entity": "event",
            "event": event,
            "contains": ["payment"],
            "payload": { "payment": { "entity": payment_json(&payment) } },
            "created_at": 1_700_000_000,
        })
        .to_string();
        let signature = moviebooking::payments::signature::sign(WEBHOOK_SECRET, body.as_bytes());
        (body, signature)
    }

    /// Order creation answers this status until cleared.
    pub fn fail_orders_with(&self, status: Option<u16>) {
        self.inner.lock().unwrap().order_failure = status;
    }

    /// Order creation is carried out but answered only after `delay`, until cleared (the
    /// load benchmark's slow-gateway fault; `benches/load.rs` includes this file).
    #[allow(dead_code)]
    pub fn delay_orders_by(&self, delay: Option<Duration>) {
        self.inner.lock().unwrap().order_delay = delay;
    }

    /// The next `n` refund requests answer 409 without refunding.
    pub fn conflict_next_refunds(&self, n: u32) {
        self.inner.lock().unwrap().refund_conflicts = n;
    }

    /// The next `n` refund requests are carried out but answered too late for the client.
    pub fn slow_next_refunds(&self, n: u32) {
        self.inner.lock().unwrap().slow_refunds = n;
    }
}

type Shared = State<Arc<Mutex<Inner>>>;

async fn create_order(
    State(inner): Shared,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "Authentication failed");
    }
    let (order, delay) = {
        let mut inner = inner.lock().unwrap();
        if let Some(status) = inner.order_failure {
            return error(StatusCode::from_u16(status).unwrap(), "The server is down");
        }
        inner.counter += 1;
        let order = FakeOrder {
            id: format!("order_{:014}", inner.counter),
            amount: body["amount"].as_i64().unwrap_or(0),
            currency: body["currency"].as_str().unwrap_or("").to_owned(),
            receipt: body["receipt"].as_str().unwrap_or("").to_owned(),
            notes: body["notes"].clone(),
            payment_capture: body["payment_capture"].as_i64().unwrap_or(0),
        };
        inner.orders.push(order.clone());
        (order, inner.order_delay)
    };
    // The lock is released first so a slow answer does not hold up other requests.
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    Json(json!({ "id": order.id, "entity": "order", "amount": order.amount, "currency": order.currency, "receipt": order.receipt, "status": "created" })).into_response()
}

async fn fetch_payment(
    State(inner): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "Authentication failed");
    }
    match inner.lock().unwrap().payments.get(&id) {
        Some(p) => Json(payment_json(p)).into_response(),
        None => error(StatusCode::BAD_REQUEST, "The id provided does not exist"),
    }
}

async fn capture(
    State(inner): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "Authentication failed");
    }
    let mut inner = inner.lock().unwrap();
    let Some(p) = inner.payments.get_mut(&id) else {
        return error(StatusCode::BAD_REQUEST, "The id provided does not exist");
    };
    if p.status != "authorized" || body["amount"].as_i64() != Some(p.amount) {
        return error(
            StatusCode::BAD_REQUEST,
            "This payment has already been captured",
        );
    }
    p.status = "captured".into();
    Json(payment_json(p)).into_response()
}

async fn order_payments(
    State(inner): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "Authentication failed");
    }
    let inner = inner.lock().unwrap();
    let items: Vec<Value> = inner
        .payments
        .values()
        .filter(|p| p.order_id == id)
        .map(payment_json)
        .collect();
    Json(json!({ "entity": "collection", "count": items.len(), "items": items })).into_response()
}

async fn refund(
    State(inner): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "Authentication failed");
    }
    let key = headers
        .get("x-refund-idempotency")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let (answer, slow) = {
        let mut inner = inner.lock().unwrap();
        if inner.refund_conflicts > 0 {
            inner.refund_conflicts -= 1;
            return error(
                StatusCode::CONFLICT,
                "Another refund request is in progress",
            );
        }
        let existing = inner
            .refunds
            .iter()
            .find(|r| r.idempotency_key == key && !key.is_empty())
            .cloned();
        let refund = match existing {
            Some(r) => r,
            None => {
                inner.counter += 1;
                let r = FakeRefund {
                    id: format!("rfnd_{:014}", inner.counter),
                    payment_id: id.clone(),
                    amount: body["amount"].as_i64().unwrap_or(0),
                    idempotency_key: key,
                };
                inner.refunds.push(r.clone());
                r
            }
        };
        let slow = inner.slow_refunds > 0;
        if slow {
            inner.slow_refunds -= 1;
        }
        (
            json!({ "id": refund.id, "entity": "refund", "payment_id": refund.payment_id, "amount": refund.amount, "status": "processed" }),
            slow,
        )
    };
    if slow {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    Json(answer).into_response()
}
