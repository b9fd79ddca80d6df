//! `/admin/bookings`: search bookings, see one with its seats, payments, refunds, payment
//! incidents, emails and audit trail, refund it in full (through the same refund flow as a
//! moviegoer's cancellation) and send its confirmation email again.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use strum::VariantNames;
use time::OffsetDateTime;
use tower_sessions::Session;

use super::{ConfirmPage, PER_PAGE, Pager, confirmed, query_string, render, see_other, utc};
use crate::domain::audit::{self, Filter, NewEntry};
use crate::domain::booking_admin::{self, BookingRow, RefundRow, ResendError, Search};
use crate::domain::bookings::{self, Booking, PublicId, Status};
use crate::domain::email_log;
use crate::domain::incidents;
use crate::domain::payments::{self, PaymentRecord, RefundError, RefundPolicy};
use crate::domain::pricing::format_rupees;
use crate::domain::roles::Role;
use crate::domain::showtimes::format_in_zone;
use crate::domain::tokens::random_token;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::admin::audit::EntryRow;
use crate::web::admin::emails::EmailRow;
use crate::web::admin::incidents::IncidentRow;
use crate::web::auth::StaffUser;
use crate::web::extract::IdPath;
use crate::web::page::{Level, Page, flash};
use crate::web::pages::account::FormErrors;

/// The statuses staff can filter by.
pub const STATUSES: &[&str] = Status::VARIANTS;

/// The longest refund reason kept.
pub const REASON_MAX: usize = 500;

#[derive(Debug, Deserialize, Default)]
pub struct BookingQuery {
    #[serde(default)]
    code: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: Option<String>,
}

pub struct ListRow {
    pub public_id: String,
    pub code: String,
    pub email: String,
    pub movie: String,
    pub starts: String,
    pub status: &'static str,
    pub total: String,
}

impl ListRow {
    fn new(b: BookingRow, now: OffsetDateTime) -> Self {
        Self {
            starts: format!(
                "{} · {}",
                format_in_zone(b.starts_at, &b.timezone),
                b.theatre_name
            ),
            status: b.status_at(now).as_str(),
            total: format_rupees(b.total_paise),
            public_id: b.public_id.to_string(),
            code: b.code.to_string(),
            email: b.email,
            movie: b.movie_title,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/bookings.html")]
struct BookingsPage {
    page: Page,
    code: String,
    email: String,
    title: String,
    date: String,
    status: String,
    statuses: &'static [&'static str],
    errors: FormErrors,
    bookings: Vec<ListRow>,
    pager: Pager,
}

pub async fn list(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<BookingQuery>,
) -> AppResult<Response> {
    let number = super::PageNumber {
        page: q.page.clone(),
    };
    let mut errors = crate::error::FieldErrors::new();
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    let date = match q.date.trim() {
        "" => None,
        raw => match time::Date::parse(raw, &date_format) {
            Ok(date) => Some(date),
            Err(_) => {
                errors.insert("date".into(), "Enter a date like 2026-11-25.".into());
                None
            }
        },
    };
    let status = match q.status.trim() {
        "" => None,
        raw => match Status::parse(raw) {
            Some(status) => Some(status),
            None => {
                errors.insert("status".into(), "Choose a status from the list.".into());
                None
            }
        },
    };
    let search = Search {
        code: q.code.clone(),
        email: q.email.clone(),
        title: q.title.clone(),
        date,
        status,
    };
    let now = state.clock.now();
    let (mut rows, status_code) = if errors.is_empty() {
        (
            booking_admin::search(&state.db, &search, now, PER_PAGE + 1, number.offset()).await?,
            StatusCode::OK,
        )
    } else {
        (Vec::new(), StatusCode::UNPROCESSABLE_ENTITY)
    };
    let pager = Pager::new(
        &mut rows,
        number.number(),
        "/admin/bookings",
        &query_string(&[
            ("code", q.code.trim()),
            ("email", q.email.trim()),
            ("title", q.title.trim()),
            ("date", q.date.trim()),
            ("status", q.status.trim()),
        ]),
    );
    let html = render(BookingsPage {
        page,
        code: q.code,
        email: q.email,
        title: q.title,
        date: q.date,
        status: q.status,
        statuses: STATUSES,
        errors: errors.into(),
        bookings: rows.into_iter().map(|b| ListRow::new(b, now)).collect(),
        pager,
    })?;
    Ok((status_code, html).into_response())
}

pub struct PaymentRow {
    pub provider_id: String,
    pub amount: String,
    pub status: String,
    pub when: String,
}

pub struct RefundView {
    pub amount: String,
    pub reason: String,
    pub status: String,
    pub provider_id: String,
    pub error: String,
    pub when: String,
}

impl From<PaymentRecord> for PaymentRow {
    fn from(p: PaymentRecord) -> Self {
        Self {
            amount: format_rupees(p.amount_paise),
            status: p.status.to_string(),
            when: utc(&p.created_at),
            provider_id: p.razorpay_payment_id,
        }
    }
}

impl From<RefundRow> for RefundView {
    fn from(r: RefundRow) -> Self {
        Self {
            amount: format_rupees(r.amount_paise),
            when: utc(&r.created_at),
            reason: r.reason,
            status: r.status.to_string(),
            provider_id: r.provider_refund_id.unwrap_or_default(),
            error: r.last_error.unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/booking.html")]
struct BookingPage {
    page: Page,
    b: Booking,
    /// The booking's status as it reads now (`Booking::status_at`).
    status: Status,
    starts: String,
    created: String,
    total: String,
    seats: Vec<(String, String, String)>,
    payments: Vec<PaymentRow>,
    refunds: Vec<RefundView>,
    emails: Vec<EmailRow>,
    incidents: Vec<IncidentRow>,
    audit: Vec<EntryRow>,
    /// "18:02 by Ravi (Door 1)" when the ticket was admitted at the door.
    admitted: Option<String>,
    can_refund: bool,
    reason: String,
    errors: FormErrors,
}

async fn load(state: &AppState, public_id: &PublicId) -> AppResult<Booking> {
    bookings::find_by_public_id(&state.db, public_id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn detail_page(
    state: &AppState,
    page: Page,
    b: Booking,
    reason: String,
    errors: FormErrors,
) -> AppResult<Response> {
    // The box office looks bookings up; refunds and resends are for managers.
    let status = b.status_at(state.clock.now());
    let can_refund = status == Status::Confirmed && page.can(Role::Manager);
    let payments = payments::payments_of(&state.db, b.id)
        .await?
        .into_iter()
        .map(PaymentRow::from)
        .collect();
    let refunds = booking_admin::refunds_of(&state.db, b.id)
        .await?
        .into_iter()
        .map(RefundView::from)
        .collect();
    let emails = email_log::for_booking(&state.db, b.id)
        .await?
        .into_iter()
        .map(EmailRow::from)
        .collect();
    let incidents = incidents::for_booking(&state.db, b.id)
        .await?
        .into_iter()
        .map(IncidentRow::from)
        .collect();
    let filter = Filter {
        target_type: "booking".into(),
        target_id: b.public_id.to_string(),
        ..Filter::default()
    };
    let audit = super::audit::rows(audit::list(&state.db, &filter, 50, 0).await?);
    let admitted = crate::domain::checkin::live_admission(&state.db, b.id)
        .await?
        .map(|a| {
            format!(
                "{} by {}",
                format_in_zone(a.admitted_at, &b.timezone),
                a.by_name
            )
        });
    render(BookingPage {
        page,
        status,
        admitted,
        starts: format_in_zone(b.starts_at, &b.timezone),
        created: utc(&b.created_at),
        total: format_rupees(b.amount.total_paise),
        seats: b
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
        payments,
        refunds,
        emails,
        incidents,
        audit,
        can_refund,
        reason,
        errors,
        b,
    })
}

pub async fn detail(
    _staff: StaffUser,
    State(state): State<AppState>,
    page: Page,
    IdPath(public_id): IdPath<PublicId>,
) -> AppResult<Response> {
    let b = load(&state, &public_id).await?;
    detail_page(&state, page, b, String::new(), FormErrors::default()).await
}

#[derive(Debug, Deserialize)]
pub struct RefundForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// Why a refund reason is not acceptable.
pub fn reason_error(reason: &str) -> Option<&'static str> {
    if reason.is_empty() {
        Some("Say why the booking is refunded; the moviegoer's refund record keeps it.")
    } else if reason.chars().count() > REASON_MAX {
        Some("Use at most 500 characters.")
    } else if reason
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        Some("The reason cannot contain control characters.")
    } else {
        None
    }
}

pub async fn refund(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    IdPath(public_id): IdPath<PublicId>,
    Form(form): Form<RefundForm>,
) -> AppResult<Response> {
    let b = load(&state, &public_id).await?;
    let reason = form.reason.trim().to_owned();
    if let Some(error) = reason_error(&reason) {
        let mut errors = crate::error::FieldErrors::new();
        errors.insert("reason".into(), error.into());
        let html = detail_page(&state, page, b, form.reason, errors.into()).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    }
    let back = format!("/admin/bookings/{}", b.public_id);
    if !confirmed(&form.confirm) {
        return render(ConfirmPage {
            page,
            title: format!("Refund booking {} in full?", b.code),
            message: format!(
                "{} goes back to {}, the seats are released and the moviegoer is emailed. Reason: {reason}",
                format_rupees(b.amount.total_paise),
                b.owner_email
            ),
            action: format!("{back}/refund"),
            fields: vec![("reason".into(), reason)],
            button: "Refund in full".into(),
            cancel: back,
        });
    }
    let flow = state.payment_flow();
    match flow.refund(&b, RefundPolicy::Full, &reason).await {
        Ok(()) => {
            audit::record_now(
                &state.db,
                &NewEntry::new(
                    Some(me.id),
                    "booking.refund",
                    "booking",
                    b.public_id.as_str(),
                    format!(
                        "{}: status confirmed -> refunded, {} refunded in full; reason: {reason}",
                        b.code,
                        format_rupees(b.amount.total_paise)
                    ),
                ),
                state.clock.unix_now(),
            )
            .await?;
            flash(
                &session,
                Level::Success,
                format!("Booking {} is refunded.", b.code),
            )
            .await;
        }
        Err(RefundError::Database(e)) => return Err(e.into()),
        Err(e) => flash(&session, Level::Error, e.to_string()).await,
    }
    Ok(see_other(&back))
}

pub async fn resend(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    IdPath(public_id): IdPath<PublicId>,
) -> AppResult<Response> {
    let b = load(&state, &public_id).await?;
    let back = format!("/admin/bookings/{}", b.public_id);
    let now = state.clock.now();
    // Empty for an unconfirmed booking, which `queue_resend` refuses anyway.
    let token = crate::domain::ticket_keys::ticket_token(&state.db, &b)
        .await?
        .unwrap_or_default();
    let mut email = crate::email::tickets::confirmation(&b, &token, &state.config.base_url, now);
    email.dedupe_key = Some(format!(
        "booking-confirmed:{}:resend:{}",
        b.id,
        random_token(16)
    ));
    let resend = booking_admin::queue_resend(&state.db, me.id, &b, &email, crate::db::unix(now));
    match resend.await {
        Ok(id) => {
            state.mailer.deliver(id).await;
            flash(
                &session,
                Level::Success,
                format!("The confirmation was sent again to {}.", b.owner_email),
            )
            .await;
        }
        Err(e @ ResendError::NotConfirmed) => flash(&session, Level::Error, e.to_string()).await,
        Err(ResendError::Database(e)) => return Err(e.into()),
    }
    Ok(see_other(&back))
}
