//! The simulated customers: each client is one logged-in person with its own cookie jar who,
//! as fast as the server answers, browses (80%), holds seats (15%) or buys seats (5%: hold,
//! open a Razorpay order, pay at the fake gateway, come back through the signed Checkout
//! callback). Every request is recorded with its start time so fault runs can be read as
//! a timeline.
//!
//! Replay tools such as `wrk` or `oha` cannot do this: the flow needs a session, the id of
//! the booking just created, the order the server opened, and a signature over both.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::razorpay::FakeRazorpay;

/// The routes the benchmark exercises, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Route {
    Home,
    Movies,
    Movie,
    SeatMap,
    Hold,
    Order,
    Callback,
}

impl Route {
    pub const ALL: [Route; 7] = [
        Route::Home,
        Route::Movies,
        Route::Movie,
        Route::SeatMap,
        Route::Hold,
        Route::Order,
        Route::Callback,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Route::Home => "GET /",
            Route::Movies => "GET /movies",
            Route::Movie => "GET /movies/{slug}",
            Route::SeatMap => "GET /showtimes/{id}/seats",
            Route::Hold => "POST /api/v1/showtimes/{id}/holds",
            Route::Order => "POST /api/v1/bookings/{id}/payment",
            Route::Callback => "POST /payments/razorpay/callback",
        }
    }

    /// Whether `status` is a correct answer of this route under load. 409 on a hold is the
    /// expected refusal of a contested seat; every other status counts as an error.
    pub fn expected(self, status: u16) -> bool {
        match self {
            Route::Home | Route::Movies | Route::Movie | Route::SeatMap => status == 200,
            Route::Hold => status == 201 || status == 409,
            Route::Order => status == 200,
            Route::Callback => status == 303,
        }
    }
}

/// One request: which route, the status (0 when no HTTP answer came at all), when it
/// started (from the start of the timed window) and how long it took, body included.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub route: Route,
    pub status: u16,
    pub at: Duration,
    pub latency: Duration,
}

/// A showtime that can be booked and its bookable seats.
pub struct Show {
    pub id: i64,
    pub seat_ids: Vec<i64>,
}

/// What the clients pick from, read from the database before the run.
pub struct Catalogue {
    pub movie_slugs: Vec<String>,
    pub shows: Vec<Show>,
}

/// An answer worth quoting in the report (first few of each unexpected route and status).
#[derive(Debug, Clone)]
pub struct Quoted {
    pub route: Route,
    pub status: u16,
    pub at: Duration,
    pub latency: Duration,
    pub request_id: String,
    pub body: String,
}

/// What one client did.
#[derive(Default)]
pub struct Outcome {
    pub samples: Vec<Sample>,
    /// Public ids of bookings whose callback answered 303 (expected to be confirmed).
    pub paid: Vec<String>,
    /// Public ids of bookings whose order request failed (their hold should be kept).
    pub order_failed: Vec<String>,
    pub quoted: Vec<Quoted>,
}

/// Everything a client needs.
pub struct Shared {
    pub base_url: String,
    pub catalogue: Catalogue,
    pub fake: FakeRazorpay,
    /// Posts the Checkout callback as Razorpay's redirect does: no cookie, no redirects.
    pub callback_client: reqwest::Client,
    pub started: Instant,
    pub duration: Duration,
}

/// An HTTP client with its own cookie jar, as one browser has.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

/// Logs `client` in through the JSON API.
pub async fn log_in(client: &reqwest::Client, base_url: &str, email: &str, password: &str) {
    let response = client
        .post(format!("{base_url}/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("login request");
    assert!(
        response.status().is_success(),
        "login of {email}: {}",
        response.status()
    );
}

struct Answer {
    status: u16,
    body: String,
    request_id: String,
}

struct Client {
    http: reqwest::Client,
    shared: Arc<Shared>,
    rng: StdRng,
    outcome: Outcome,
}

impl Client {
    /// Sends a request, reads the whole answer and records it.
    async fn send(&mut self, route: Route, request: reqwest::RequestBuilder) -> Answer {
        let at = self.shared.started.elapsed();
        let begun = Instant::now();
        let answer = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let request_id = request_id(response.headers());
                match response.text().await {
                    Ok(body) => Answer {
                        status,
                        body,
                        request_id,
                    },
                    Err(error) => Answer {
                        status: 0,
                        body: format!("reading the body failed: {error}"),
                        request_id,
                    },
                }
            }
            Err(error) => Answer {
                status: 0,
                body: format!("no answer: {error}"),
                request_id: String::new(),
            },
        };
        let latency = begun.elapsed();
        self.outcome.samples.push(Sample {
            route,
            status: answer.status,
            at,
            latency,
        });
        if !route.expected(answer.status) {
            let already = self
                .outcome
                .quoted
                .iter()
                .filter(|q| q.route == route && q.status == answer.status)
                .count();
            if already < 3 {
                self.outcome.quoted.push(Quoted {
                    route,
                    status: answer.status,
                    at,
                    latency,
                    request_id: answer.request_id.clone(),
                    body: answer.body.chars().take(300).collect(),
                });
            }
        }
        answer
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.shared.base_url)
    }

    async fn browse(&mut self) {
        let catalogue = &self.shared.catalogue;
        let (route, path) = match self.rng.random_range(0..4) {
            0 => (Route::Home, "/".to_owned()),
            1 => (Route::Movies, "/movies".to_owned()),
            2 => {
                let slug =
                    &catalogue.movie_slugs[self.rng.random_range(0..catalogue.movie_slugs.len())];
                (Route::Movie, format!("/movies/{slug}"))
            }
            _ => {
                let show = &catalogue.shows[self.rng.random_range(0..catalogue.shows.len())];
                (Route::SeatMap, format!("/showtimes/{}/seats", show.id))
            }
        };
        let request = self.http.get(self.url(&path));
        self.send(route, request).await;
    }

    /// Holds 1-4 adjacent seats (by id) of a random showtime; the booking's public id when
    /// the hold was granted.
    async fn hold(&mut self) -> Option<String> {
        let shows = &self.shared.catalogue.shows;
        let show = &shows[self.rng.random_range(0..shows.len())];
        let n = self.rng.random_range(1..=4).min(show.seat_ids.len());
        let start = self.rng.random_range(0..=show.seat_ids.len() - n);
        let seats = show.seat_ids[start..start + n].to_vec();
        let request = self
            .http
            .post(self.url(&format!("/api/v1/showtimes/{}/holds", show.id)))
            .json(&json!({ "seat_ids": seats }));
        let answer = self.send(Route::Hold, request).await;
        if answer.status != 201 {
            return None;
        }
        serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|body| body["booking"]["id"].as_str().map(str::to_owned))
    }

    /// Hold, order, pay at the gateway, and the signed Checkout callback.
    async fn buy(&mut self) {
        let Some(booking) = self.hold().await else {
            return;
        };
        let request = self
            .http
            .post(self.url(&format!("/api/v1/bookings/{booking}/payment")))
            .json(&json!({}));
        let answer = self.send(Route::Order, request).await;
        let order_id = (answer.status == 200)
            .then(|| serde_json::from_str::<Value>(&answer.body).ok())
            .flatten()
            .and_then(|body| body["order_id"].as_str().map(str::to_owned));
        let Some(order_id) = order_id else {
            self.outcome.order_failed.push(booking);
            return;
        };
        let payment_id = self.shared.fake.pay(&order_id);
        let signature = FakeRazorpay::checkout_signature(&order_id, &payment_id);
        let request = self
            .shared
            .callback_client
            .post(self.url("/payments/razorpay/callback"))
            .header("origin", "https://api.razorpay.com")
            .form(&[
                ("razorpay_order_id", order_id.as_str()),
                ("razorpay_payment_id", payment_id.as_str()),
                ("razorpay_signature", signature.as_str()),
            ]);
        if self.send(Route::Callback, request).await.status == 303 {
            self.outcome.paid.push(booking);
        }
    }
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Runs one client until the timed window closes. `seed` makes each client's choices
/// reproducible from run to run.
pub async fn run_client(http: reqwest::Client, shared: Arc<Shared>, seed: u64) -> Outcome {
    let mut client = Client {
        http,
        shared,
        rng: StdRng::seed_from_u64(seed),
        outcome: Outcome::default(),
    };
    while client.shared.started.elapsed() < client.shared.duration {
        match client.rng.random_range(0..100) {
            0..80 => client.browse().await,
            80..95 => {
                client.hold().await;
            }
            _ => client.buy().await,
        }
    }
    client.outcome
}
