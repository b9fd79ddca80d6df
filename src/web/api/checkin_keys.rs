//! `GET /api/v1/checkin/public-key`: the Ed25519 public keys that verify ticket tokens, for
//! scanners at the door that check tickets offline. No login: a public key proves nothing
//! about its holder and lets nobody make a ticket.
//!
//! `key_id`/`public_key` are the key that signs new tickets; `keys` lists every key whose
//! tickets are valid (newest first), so a scanner that keeps the whole list survives a
//! rotation. Keys are base64url without padding of the 32 raw bytes.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::domain::ticket_keys;
use crate::error::AppResult;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/checkin/public-key", get(public_key))
}

/// `GET /api/v1/checkin/public-key`.
pub async fn public_key(State(state): State<AppState>) -> AppResult<impl IntoResponse> {
    // Creates the first key if no ticket was sold yet, so a scanner set up before the first
    // sale has the key that will sign it.
    ticket_keys::signing_key(&state.db, state.clock.unix_now()).await?;
    // Read fresh rather than from this process's signing cache: the newest key is the one
    // that signs (or will within a minute, in every process), and a scanner should have it
    // before any ticket it signed reaches the door.
    let keys = ticket_keys::verifying_keys(&state.db).await?;
    let encoded: Vec<_> = keys
        .iter()
        .map(|k| {
            json!({
                "key_id": k.key_id,
                "public_key": URL_SAFE_NO_PAD.encode(k.key.as_bytes()),
                "created_at": k.created_at,
            })
        })
        .collect();
    let current = keys.first();
    Ok((
        // Scanners refresh it on every sync; a cached copy could miss a rotation.
        [(header::CACHE_CONTROL, "no-cache")],
        Json(json!({
            "algorithm": "Ed25519",
            "key_id": current.map(|k| k.key_id.clone()),
            "public_key": current.map(|k| URL_SAFE_NO_PAD.encode(k.key.as_bytes())),
            "keys": encoded,
        })),
    ))
}
