//! `/admin/showtimes`: showtimes by date and theatre, and cancelling one, which refunds
//! every confirmed booking in full through the refund flow (each refund happens once: the
//! flow only refunds a booking that is still confirmed) and emails each moviegoer.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::{ConfirmPage, confirmed, render, see_other};
use crate::domain::audit::{self, NewEntry};
use crate::domain::booking_admin::{self, ShowtimeRow};
use crate::domain::bookings;
use crate::domain::ids::ShowtimeId;
use crate::domain::payments::RefundPolicy;
use crate::domain::showtimes::{self, format_in_zone};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::auth::StaffUser;
use crate::web::extract::IdPath;
use crate::web::page::{Level, Page, flash};
use crate::web::pages::account::FormErrors;

/// The reason recorded on every refund of a cancelled showtime.
pub const CANCEL_REASON: &str = "showtime cancelled";

#[derive(Debug, Deserialize, Default)]
pub struct ShowtimeQuery {
    #[serde(default)]
    date: String,
    #[serde(default)]
    theatre: String,
}

pub struct Row {
    pub id: ShowtimeId,
    pub starts: String,
    pub movie: String,
    pub place: String,
    pub cancelled: bool,
    pub bookings: i64,
    pub admitted: i64,
}

impl From<ShowtimeRow> for Row {
    fn from(s: ShowtimeRow) -> Self {
        Self {
            id: s.id,
            starts: format_in_zone(s.starts_at, &s.timezone),
            movie: s.movie_title,
            place: format!("{} · {}", s.theatre_name, s.screen_name),
            cancelled: s.is_cancelled,
            bookings: s.confirmed_bookings,
            admitted: s.admitted_bookings,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/showtimes.html")]
struct ShowtimesPage {
    page: Page,
    date: String,
    theatre: String,
    errors: FormErrors,
    showtimes: Vec<Row>,
}

pub async fn list(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<ShowtimeQuery>,
) -> AppResult<Response> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let today = state.clock.now().date();
    let (date, status, errors) = match q.date.trim() {
        "" => (today, StatusCode::OK, FormErrors::default()),
        raw => match time::Date::parse(raw, &format) {
            Ok(date) => (date, StatusCode::OK, FormErrors::default()),
            Err(_) => {
                let mut errors = crate::error::FieldErrors::new();
                errors.insert("date".into(), "Enter a date like 2026-11-25.".into());
                (today, StatusCode::UNPROCESSABLE_ENTITY, errors.into())
            }
        },
    };
    let showtimes = if errors.is_empty() {
        booking_admin::showtimes_from(&state.db, date, &q.theatre).await?
    } else {
        Vec::new()
    };
    let html = render(ShowtimesPage {
        page,
        date: if q.date.trim().is_empty() {
            date.format(&format).unwrap_or_default()
        } else {
            q.date.clone()
        },
        theatre: q.theatre,
        errors,
        showtimes: showtimes.into_iter().map(Row::from).collect(),
    })?;
    Ok((status, html).into_response())
}

#[derive(Debug, Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    confirm: Option<String>,
}

pub async fn cancel(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    IdPath(id): IdPath<ShowtimeId>,
    Form(form): Form<CancelForm>,
) -> AppResult<Response> {
    let show = showtimes::find_showtime(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let to_refund = booking_admin::confirmed_bookings_of(&state.db, id).await?;
    let when = format_in_zone(show.starts_at, &show.timezone);
    if !confirmed(&form.confirm) {
        return render(ConfirmPage {
            page,
            title: format!("Cancel {} on {when}?", show.movie_title),
            message: format!(
                "The showtime at {} is cancelled and its {} confirmed booking(s) are refunded in full; each moviegoer is emailed.",
                show.theatre_name,
                to_refund.len()
            ),
            action: format!("/admin/showtimes/{id}/cancel"),
            fields: Vec::new(),
            button: "Cancel the showtime and refund".into(),
            cancel: "/admin/showtimes".into(),
        });
    }
    let was_running = showtimes::cancel_showtime(&state.db, id).await?;
    // Refund whatever is still confirmed, also after a cancellation that stopped half-way:
    // the flow refunds a booking only while it is confirmed, so nothing is refunded twice.
    let mut refunded = 0;
    let mut failed = 0;
    for booking_id in to_refund {
        let Some(booking) = bookings::find_by_id(&state.db, booking_id).await? else {
            continue;
        };
        match state
            .payment_flow()
            .refund(&booking, RefundPolicy::Full, CANCEL_REASON)
            .await
        {
            Ok(()) => refunded += 1,
            Err(error) => {
                tracing::warn!(%booking_id, %error, "a booking of a cancelled showtime was not refunded");
                failed += 1;
            }
        }
    }
    audit::record_now(
        &state.db,
        &NewEntry::new(
            Some(me.id),
            "showtime.cancel",
            "showtime",
            id,
            format!(
                "{} on {when} at {}: is_cancelled: {} -> yes; {refunded} booking(s) refunded{}",
                show.movie_title,
                show.theatre_name,
                if was_running { "no" } else { "yes" },
                if failed > 0 {
                    format!(", {failed} not refunded (no longer confirmed or no payment)")
                } else {
                    String::new()
                }
            ),
        ),
        state.clock.unix_now(),
    )
    .await?;
    flash(
        &session,
        Level::Success,
        format!("The showtime is cancelled; {refunded} booking(s) refunded."),
    )
    .await;
    Ok(see_other("/admin/showtimes"))
}
