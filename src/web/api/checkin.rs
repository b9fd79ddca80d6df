//! The check-in API for doors: admit a ticket, undo an admission, the list of a showtime's
//! tickets for scanners that keep working offline, and the sync of what they scanned.
//!
//! Callers are ushers and above (session cookie) or scanner devices (`Authorization:
//! Bearer <device token>`), both turned into a `Scanner` by one extractor, which is this
//! API's guard: anyone else gets the customer's 404, a bad or revoked device token 401.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::domain::checkin::{
    self, CheckinError, Door, OfflineScan, Presented, Scan, Scanner, Selection, UndoError,
    UndoOutcome,
};
use crate::domain::ids::{AdmissionId, ShowtimeId};
use crate::domain::roles::Role;
use crate::domain::{checkin_devices, showtimes, ticket_keys};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::auth::MaybeUser;
use crate::web::extract::IdPath;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/checkin", post(admit))
        .route("/api/v1/checkin/{admission_id}/undo", post(undo))
        .route("/api/v1/checkin/showtimes/{id}/tickets", get(tickets))
        .route("/api/v1/checkin/sync", post(sync))
}

/// The scanner behind a check-in request (see the module doc).
pub struct DoorScanner(pub Scanner);

impl FromRequestParts<AppState> for DoorScanner {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or(AppError::Unauthorized)?;
            let device = checkin_devices::authenticate(&state.db, token, state.clock.now())
                .await?
                .ok_or(AppError::Unauthorized)?;
            return Ok(DoorScanner(Scanner::Device {
                device_id: device.id,
                theatre_id: device.theatre_id,
                name: device.name,
            }));
        }
        match parts.extensions.get::<MaybeUser>() {
            Some(MaybeUser(Some(user))) if user.role.includes(Role::Usher) => {
                Ok(DoorScanner(Scanner::Staff {
                    user_id: user.id,
                    name: user.name.clone(),
                    role: user.role,
                }))
            }
            _ => Err(AppError::NotFound),
        }
    }
}

/// The door of this request: the database, the rules and the keys tickets verify with.
pub async fn with_door<T>(state: &AppState, work: impl AsyncFnOnce(Door<'_>) -> T) -> AppResult<T> {
    let keys: Vec<ed25519_dalek::VerifyingKey> = ticket_keys::verifying_keys(&state.db)
        .await?
        .into_iter()
        .map(|k| k.key)
        .collect();
    let door = Door {
        db: &state.db,
        rules: &state.config.checkin,
        keys: &keys,
    };
    Ok(work(door).await)
}

/// What the ticket is, from a body that has exactly one of `token` and `code`.
pub fn presented(token: Option<String>, code: Option<String>) -> AppResult<Presented> {
    match (token, code) {
        (Some(token), None) if !token.trim().is_empty() => Ok(Presented::Token(token)),
        (None, Some(code)) if !code.trim().is_empty() => Ok(Presented::Code(code)),
        _ => Err(AppError::Unprocessable {
            code: "invalid_input",
            message: "Send the ticket's \"token\" (from its QR code) or its \"code\", not both."
                .into(),
        }),
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// How an outcome reads to a door: the status and the JSON body (one mapping for the
/// single scan, the offline sync and the door page's script).
pub fn scan_answer(outcome: &Result<Scan, CheckinError>) -> (StatusCode, Value) {
    match outcome {
        Ok(Scan::Admitted {
            admission_id,
            admitted_at,
            booking,
        }) => (
            StatusCode::OK,
            json!({
                "result": "admitted",
                "admission_id": admission_id,
                "admitted_at": rfc3339(*admitted_at),
                "booking": booking,
            }),
        ),
        Ok(Scan::AlreadyAdmitted {
            admitted_at,
            admitted_by,
            booking,
            ..
        }) => (
            StatusCode::CONFLICT,
            json!({
                "error": "already_admitted",
                "message": format!("Already admitted by {admitted_by}."),
                "admitted_at": rfc3339(*admitted_at),
                "admitted_by": admitted_by,
                "booking": booking,
            }),
        ),
        Err(error) => {
            let message = error.to_string();
            let (status, body) = match error {
                CheckinError::UnknownShowtime => (
                    StatusCode::NOT_FOUND,
                    json!({ "error": "not_found", "message": message }),
                ),
                CheckinError::InvalidTicket => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({ "error": "invalid_ticket", "message": message }),
                ),
                CheckinError::WrongShowtime(showtime) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({
                        "error": "wrong_showtime",
                        "message": format!(
                            "This ticket is for {} at {}, {}.",
                            showtime.movie_title,
                            showtimes::format_in_zone(showtime.starts_at, &showtime.timezone),
                            showtime.screen
                        ),
                        "showtime": showtime,
                    }),
                ),
                CheckinError::NotValid(status) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({ "error": "ticket_not_valid", "message": message, "status": status }),
                ),
                CheckinError::TooEarly { opens_at, .. } => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({ "error": "too_early", "message": message, "opens_at": rfc3339(*opens_at) }),
                ),
                CheckinError::TooLate => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({ "error": "too_late", "message": message }),
                ),
                CheckinError::Database(_) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({ "error": "unavailable", "message": "The service is busy or briefly unavailable. Please try again in a moment." }),
                ),
            };
            (status, body)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdmitBody {
    token: Option<String>,
    code: Option<String>,
    showtime_id: ShowtimeId,
}

/// `POST /api/v1/checkin`.
pub async fn admit(
    State(state): State<AppState>,
    DoorScanner(scanner): DoorScanner,
    Json(body): Json<AdmitBody>,
) -> AppResult<Response> {
    let presented = presented(body.token, body.code)?;
    let now = state.clock.now();
    let outcome = with_door(&state, async |door| {
        door.admit(
            &scanner,
            &presented,
            Selection::Showtime(body.showtime_id),
            now,
            now,
        )
        .await
    })
    .await?;
    if let Err(CheckinError::Database(error)) = outcome {
        return Err(error.into());
    }
    let (status, body) = scan_answer(&outcome);
    Ok((status, Json(body)).into_response())
}

/// Turns a refused or failed undo into its answer.
pub fn undo_error(outcome: UndoOutcome) -> AppError {
    match outcome {
        UndoOutcome::Database(error) => error.into(),
        UndoOutcome::Refused(UndoError::NotFound) => AppError::NotFound,
        UndoOutcome::Refused(refusal @ UndoError::NotYours) => {
            AppError::Forbidden(refusal.to_string())
        }
        UndoOutcome::Refused(refusal @ UndoError::TooLate { .. }) => AppError::Unprocessable {
            code: "undo_expired",
            message: refusal.to_string(),
        },
    }
}

/// `POST /api/v1/checkin/{admission_id}/undo`.
pub async fn undo(
    State(state): State<AppState>,
    DoorScanner(scanner): DoorScanner,
    IdPath(admission_id): IdPath<AdmissionId>,
) -> AppResult<Json<Value>> {
    checkin::undo(
        &state.db,
        &state.config.checkin,
        &scanner,
        admission_id,
        state.clock.now(),
    )
    .await
    .map_err(undo_error)?;
    Ok(Json(
        json!({ "result": "undone", "admission_id": admission_id }),
    ))
}

/// `GET /api/v1/checkin/showtimes/{id}/tickets`.
pub async fn tickets(
    State(state): State<AppState>,
    DoorScanner(scanner): DoorScanner,
    IdPath(showtime_id): IdPath<ShowtimeId>,
) -> AppResult<Json<Value>> {
    let showtime = checkin::door_showtime(&state.db, &scanner, showtime_id)
        .await
        .map_err(|error| match error {
            CheckinError::Database(error) => AppError::Database(error),
            _ => AppError::NotFound,
        })?;
    let tickets = checkin::tickets_of(&state.db, showtime.id).await?;
    Ok(Json(json!({
        "showtime": {
            "id": showtime.id,
            "movie_title": showtime.movie_title,
            "starts_at": rfc3339(showtime.starts_at),
            "ends_at": rfc3339(showtime.ends_at),
            "screen": showtime.screen_name,
        },
        "tickets": tickets,
    })))
}

/// The most scans one sync may carry.
pub const SYNC_MAX: usize = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncBody {
    scans: Vec<SyncItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncItem {
    client_id: String,
    token: Option<String>,
    code: Option<String>,
    showtime_id: ShowtimeId,
    #[serde(with = "time::serde::rfc3339")]
    scanned_at: OffsetDateTime,
}

/// `POST /api/v1/checkin/sync`: one result per scan, in order, each with its `client_id`
/// and the `status` the single scan would have answered.
pub async fn sync(
    State(state): State<AppState>,
    DoorScanner(scanner): DoorScanner,
    Json(body): Json<SyncBody>,
) -> AppResult<Json<Value>> {
    if body.scans.len() > SYNC_MAX {
        return Err(AppError::Unprocessable {
            code: "invalid_input",
            message: format!("Send at most {SYNC_MAX} scans at a time."),
        });
    }
    let now = state.clock.now();
    let mut scans = Vec::with_capacity(body.scans.len());
    for item in body.scans {
        let client_id = item.client_id.trim().to_owned();
        if client_id.is_empty()
            || client_id.len() > checkin::CLIENT_ID_MAX
            || client_id.chars().any(char::is_control)
        {
            return Err(AppError::Unprocessable {
                code: "invalid_input",
                message: format!(
                    "Every scan needs a client_id of 1 to {} characters.",
                    checkin::CLIENT_ID_MAX
                ),
            });
        }
        // A device's clock may run a little fast; a scan from the future is not believed.
        let scanned_at = item.scanned_at.min(now);
        scans.push(OfflineScan {
            client_id,
            presented: presented(item.token, item.code)?,
            selection: Selection::Showtime(item.showtime_id),
            scanned_at,
        });
    }
    let results = with_door(&state, async |door| {
        let mut results = Vec::with_capacity(scans.len());
        for scan in &scans {
            let stored = door
                .sync(&scanner, scan, now, |outcome| {
                    let (status, mut body) = scan_answer(outcome);
                    body["status"] = json!(status.as_u16());
                    body.to_string()
                })
                .await?;
            let mut result: Value = serde_json::from_str(&stored).unwrap_or(Value::Null);
            result["client_id"] = json!(scan.client_id);
            results.push(result);
        }
        Ok::<_, sqlx::Error>(results)
    })
    .await??;
    Ok(Json(json!({ "results": results })))
}
