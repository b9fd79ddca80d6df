//! JSON API for seats and bookings: live seat status, holds, my bookings, cancellation.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use crate::domain::bookings::{self, Booking, PublicId, Status};
use crate::domain::ids::{SeatId, ShowtimeId};
use crate::domain::payments::{RefundError, RefundPolicy};
use crate::domain::showtimes;
use crate::domain::ticket_keys;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::auth::{CurrentUser, MaybeUser};
use crate::web::extract::IdPath;
use crate::web::rate_limit::{self, ClientIp};

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// The API's booking object ("B" in the API documentation), as it stands at `now`.
/// `ticket_token` is the signed ticket of a confirmed booking (`ticket_keys::ticket_token`),
/// null for any other; `booking_object` fills it in.
pub fn booking_json(
    booking: &Booking,
    ticket_token: Option<String>,
    now: time::OffsetDateTime,
) -> Value {
    let status = booking.status_at(now);
    json!({
        "id": booking.public_id,
        "code": booking.code,
        "status": status.as_str(),
        "showtime_id": booking.showtime_id,
        "movie_title": booking.movie_title,
        "starts_at": rfc3339(booking.starts_at),
        "expires_at": (status == Status::Pending).then(|| rfc3339(booking.hold_expires_at)),
        "seats": booking.seats.iter().map(|s| json!({
            "id": s.seat_id,
            "label": s.label,
            "category": s.category,
            "price_paise": s.price_paise,
        })).collect::<Vec<_>>(),
        "amount": booking.amount,
        "ticket_token": ticket_token,
    })
}

/// The API's booking object with its ticket token.
pub async fn booking_object(state: &AppState, booking: &Booking) -> AppResult<Value> {
    let token = ticket_keys::ticket_token(&state.db, booking).await?;
    Ok(booking_json(booking, token, state.clock.now()))
}

/// `GET /api/v1/showtimes/{id}/seats`: every seat with its live status.
pub async fn seats(
    State(state): State<AppState>,
    IdPath(showtime_id): IdPath<ShowtimeId>,
    MaybeUser(user): MaybeUser,
) -> AppResult<Json<Value>> {
    let showtime = showtimes::find_showtime(&state.db, showtime_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mine = match &user {
        Some(user) => bookings::pending_for(&state.db, user.id, showtime_id).await?,
        None => None,
    };
    let seats = bookings::seat_map(&state.db, &showtime, state.clock.now(), mine).await?;
    Ok(Json(json!({
        "showtime": {
            "id": showtime.id,
            "movie_id": showtime.movie_id,
            "starts_at": rfc3339(showtime.starts_at),
            "screen_id": showtime.screen_id,
        },
        "seats": seats.iter().map(|s| json!({
            "id": s.id,
            "label": s.label,
            "row": s.row,
            "column": s.column,
            "category": s.category,
            "kind": s.kind,
            "price_paise": s.price_paise,
            "status": s.status.as_str(),
            "mine": s.mine,
        })).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    seat_ids: Vec<SeatId>,
}

/// `POST /api/v1/showtimes/{id}/holds`.
pub async fn hold(
    State(state): State<AppState>,
    IdPath(showtime_id): IdPath<ShowtimeId>,
    user: CurrentUser,
    ClientIp(ip): ClientIp,
    Json(request): Json<HoldRequest>,
) -> AppResult<(StatusCode, Json<Value>)> {
    state
        .limiter
        .check(rate_limit::Limit::Hold, &format!("user:{}", user.0.id))?;
    state.limiter.check(rate_limit::Limit::HoldPerIp, &ip)?;
    let now = state.clock.now();
    let booking = bookings::hold(
        &state.db,
        &state.config.booking,
        now,
        user.0.id,
        showtime_id,
        &request.seat_ids,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        // A fresh hold has no ticket yet.
        Json(json!({ "booking": booking_json(&booking, None, now) })),
    ))
}

/// `GET /api/v1/bookings`.
pub async fn list(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<Value>> {
    let all = bookings::list_for_user(&state.db, user.0.id, state.clock.now()).await?;
    let mut items = Vec::with_capacity(all.len());
    for booking in &all {
        // The signing key is read once and then comes from memory.
        items.push(booking_object(&state, booking).await?);
    }
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/v1/bookings/{id}`: 404 for anyone but its owner and staff.
pub async fn detail(
    State(state): State<AppState>,
    IdPath(public_id): IdPath<PublicId>,
    user: CurrentUser,
) -> AppResult<Json<Value>> {
    let booking = user.booking(&state, &public_id).await?;
    Ok(Json(booking_object(&state, &booking).await?))
}

/// `POST /api/v1/bookings/{id}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    IdPath(public_id): IdPath<PublicId>,
    user: CurrentUser,
) -> AppResult<Json<Value>> {
    let booking = user.booking(&state, &public_id).await?;
    let not_cancellable = |message: String| AppError::Unprocessable {
        code: "not_cancellable",
        message,
    };
    let now = state.clock.now();
    let me = user.0.id;
    match booking.status_at(now) {
        Status::Pending if bookings::cancel_pending(&state.db, &booking, me, now).await? => {}
        Status::Confirmed => {
            let policy = RefundPolicy::Customer {
                cutoff_hours: state.config.booking.cancellation_cutoff_hours,
                by_user: me,
            };
            let flow = state.payment_flow();
            match flow
                .refund(&booking, policy, "cancelled by the moviegoer")
                .await
            {
                Ok(()) => {}
                Err(RefundError::Database(error)) => return Err(error.into()),
                Err(RefundError::NotOwner) => return Err(AppError::NotFound),
                Err(refused) => return Err(not_cancellable(refused.to_string())),
            }
        }
        _ => {
            return Err(not_cancellable(
                "This booking can no longer be cancelled.".into(),
            ));
        }
    }
    let booking = bookings::find_by_id(&state.db, booking.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(booking_object(&state, &booking).await?))
}
