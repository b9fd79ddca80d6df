//! A moviegoer's bookings: checkout of a held booking, the list, the ticket, its QR code and
//! calendar file, and cancellation.

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use tower_sessions::Session;

use crate::domain::bookings::{self, Booking, PublicId, Status};
use crate::domain::checkin;
use crate::domain::payments::{RefundError, RefundPolicy};
use crate::domain::pricing::format_rupees;
use crate::domain::showtimes;
use crate::domain::ticket_keys;
use crate::domain::tickets;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::auth::CurrentUser;
use crate::web::extract::IdPath;
use crate::web::page::{Level, Page, flash};

/// A booking prepared for display.
pub struct BookingView {
    pub public_id: String,
    pub code: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub movie_title: String,
    pub movie_slug: String,
    pub theatre: String,
    pub screen: String,
    pub city: String,
    pub local_start: String,
    pub seats: Vec<(String, String, String)>,
    pub seat_labels: String,
    pub seats_total: String,
    pub fee: String,
    pub tax: String,
    pub total: String,
    pub hold_deadline_unix: i64,
    pub hold_deadline_local: String,
    pub seconds_left: i64,
    pub upcoming: bool,
}

impl BookingView {
    pub fn new(booking: &Booking, now: time::OffsetDateTime) -> Self {
        let status = booking.status_at(now);
        Self {
            public_id: booking.public_id.to_string(),
            code: booking.code.to_string(),
            status: status.as_str(),
            status_label: status.label(),
            movie_title: booking.movie_title.clone(),
            movie_slug: booking.movie_slug.clone(),
            theatre: booking.theatre_name.clone(),
            screen: booking.screen_name.clone(),
            city: booking.city_name.clone(),
            local_start: showtimes::format_in_zone(booking.starts_at, &booking.timezone),
            seats: booking
                .seats
                .iter()
                .map(|s| {
                    (
                        s.label.clone(),
                        s.category.clone(),
                        format_rupees(s.price_paise),
                    )
                })
                .collect(),
            seat_labels: booking.seat_labels(),
            seats_total: format_rupees(booking.amount.seats_paise),
            fee: format_rupees(booking.amount.fee_paise),
            tax: format_rupees(booking.amount.tax_paise),
            total: format_rupees(booking.amount.total_paise),
            hold_deadline_unix: booking.hold_expires_at.unix_timestamp(),
            hold_deadline_local: showtimes::format_in_zone(
                booking.hold_expires_at,
                &booking.timezone,
            ),
            seconds_left: booking.seconds_left(now),
            upcoming: booking.starts_at > now,
        }
    }
}

#[derive(Template)]
#[template(path = "booking/checkout.html")]
struct CheckoutPage {
    page: Page,
    booking: BookingView,
}

/// `GET /bookings/{id}/checkout`: the held seats, the price breakdown and the pay button.
pub async fn checkout(
    State(state): State<AppState>,
    IdPath(public_id): IdPath<PublicId>,
    user: CurrentUser,
    page: Page,
) -> AppResult<Response> {
    let booking = user.booking(&state, &public_id).await?;
    let now = state.clock.now();
    if !booking.hold_is_live(now) {
        // Nothing to pay for any more: show where the booking stands.
        return Ok(Redirect::to(&format!("/bookings/{}", booking.public_id)).into_response());
    }
    let view = BookingView::new(&booking, now);
    Ok(Html(
        CheckoutPage {
            page,
            booking: view,
        }
        .render()?,
    )
    .into_response())
}

#[derive(Template)]
#[template(path = "booking/list.html")]
struct ListPage {
    page: Page,
    upcoming: Vec<BookingView>,
    past: Vec<BookingView>,
}

/// `GET /bookings`: upcoming shows first, then past ones.
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
) -> AppResult<Html<String>> {
    let now = state.clock.now();
    let all = bookings::list_for_user(&state.db, user.0.id, now).await?;
    let (upcoming, past): (Vec<_>, Vec<_>) = all
        .iter()
        .map(|b| BookingView::new(b, now))
        .partition(|b| b.upcoming);
    Ok(Html(
        ListPage {
            page,
            upcoming,
            past,
        }
        .render()?,
    ))
}

#[derive(Template)]
#[template(path = "booking/detail.html")]
struct DetailPage {
    page: Page,
    booking: BookingView,
    confirmed: bool,
    /// Refunded or cancelled: the page says the ticket is void instead of showing one.
    voided: bool,
    pending: bool,
    cancellable: bool,
    /// When the ticket was admitted at the door (the theatre's local time), if it was.
    admitted: Option<String>,
}

/// `GET /bookings/{id}`: the booking, and for a confirmed one the ticket.
pub async fn detail(
    State(state): State<AppState>,
    IdPath(public_id): IdPath<PublicId>,
    user: CurrentUser,
    page: Page,
) -> AppResult<Html<String>> {
    let booking = user.booking(&state, &public_id).await?;
    let now = state.clock.now();
    let status = booking.status_at(now);
    let admitted = checkin::live_admission(&state.db, booking.id)
        .await?
        .map(|a| showtimes::format_in_zone(a.admitted_at, &booking.timezone));
    let template = DetailPage {
        confirmed: status == Status::Confirmed,
        voided: matches!(status, Status::Refunded | Status::Cancelled),
        // A ticket used at the door is never cancellable (and a pending one never used).
        cancellable: admitted.is_none() && booking.customer_can_cancel(now, &state.config.booking),
        admitted,
        pending: status == Status::Pending,
        booking: BookingView::new(&booking, now),
        page,
    };
    Ok(Html(template.render()?))
}

/// `GET /bookings/{id}/qr.svg`: the ticket's QR code (the signed ticket token); 404 for a
/// booking without a ticket (pending, expired, cancelled, refunded).
pub async fn qr(
    State(state): State<AppState>,
    IdPath(public_id): IdPath<PublicId>,
    user: CurrentUser,
) -> AppResult<Response> {
    let booking = user.booking(&state, &public_id).await?;
    let Some(token) = ticket_keys::ticket_token(&state.db, &booking).await? else {
        return Err(AppError::NotFound);
    };
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        tickets::qr_svg(&token),
    )
        .into_response())
}

/// `GET /bookings/{id}/calendar.ics`: an "add to calendar" file for a confirmed booking.
pub async fn calendar(
    State(state): State<AppState>,
    IdPath(public_id): IdPath<PublicId>,
    user: CurrentUser,
) -> AppResult<Response> {
    let booking = user.booking(&state, &public_id).await?;
    if booking.status_at(state.clock.now()) != Status::Confirmed {
        return Err(AppError::NotFound);
    }
    let url = state
        .config
        .absolute_url(&format!("/bookings/{}", booking.public_id));
    let body = tickets::calendar_ics(&booking, &url, state.clock.now());
    let disposition = format!("attachment; filename=\"booking-{}.ics\"", booking.code);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_owned(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// `POST /bookings/{id}/cancel`: a pending booking releases its seats at once.
pub async fn cancel(
    State(state): State<AppState>,
    IdPath(public_id): IdPath<PublicId>,
    user: CurrentUser,
    session: Session,
) -> AppResult<Redirect> {
    let booking = user.booking(&state, &public_id).await?;
    let now = state.clock.now();
    let me = user.0.id;
    match booking.status_at(now) {
        Status::Pending if bookings::cancel_pending(&state.db, &booking, me, now).await? => {
            flash(
                &session,
                Level::Success,
                "Your booking was cancelled and the seats released.",
            )
            .await;
        }
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
                Ok(()) => {
                    let message = format!(
                        "Your booking was cancelled. A refund of {} is on its way to your original payment method (the convenience fee is not refunded).",
                        format_rupees(booking.amount.seats_paise)
                    );
                    flash(&session, Level::Success, message).await;
                }
                Err(RefundError::Database(error)) => return Err(error.into()),
                Err(RefundError::NotOwner) => return Err(AppError::NotFound),
                Err(refused) => flash(&session, Level::Error, refused.to_string()).await,
            }
        }
        _ => {
            flash(
                &session,
                Level::Error,
                "This booking can no longer be cancelled.",
            )
            .await
        }
    }
    Ok(Redirect::to(&format!("/bookings/{}", booking.public_id)))
}
