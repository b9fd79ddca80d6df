//! Probes for the platform: `/healthz` says the process is up, `/readyz` says it can serve
//! (database reachable and its schema current).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use crate::db::migrate::{self, SchemaStatus};
use crate::state::AppState;

pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let check = async {
        state.db.ping().await.map_err(|_| "database unreachable")?;
        match migrate::status(&state.db).await {
            Ok(SchemaStatus::Current) => Ok(()),
            Ok(SchemaStatus::Behind { .. }) => Err("database schema is behind this release"),
            Err(_) => Err("database unreachable"),
        }
    };
    match tokio::time::timeout(std::time::Duration::from_secs(3), check).await {
        Ok(Ok(())) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Ok(Err(reason)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "reason": reason })),
        ),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "reason": "database did not answer in time" })),
        ),
    }
}
