//! `/admin/incidents`: the payment incidents that the payment flow recorded for a person
//! (the dashboard counts the open ones), newest first, filtered by open / resolved / all,
//! and "resolve" with a note saying what was done. A note is required so that the next
//! person reading a resolved incident knows how it ended.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::{PER_PAGE, PageNumber, Pager, query_string, see_other, utc};
use crate::domain::ids::IncidentId;
use crate::domain::incidents::{self, Incident, ResolveError, StatusFilter};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::auth::StaffUser;
use crate::web::extract::IdPath;
use crate::web::page::{Level, Page, flash};

#[derive(Debug, Deserialize, Default)]
pub struct IncidentQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: Option<String>,
}

/// The filter in a query or form (open when absent or unknown).
fn filter_of(status: &str) -> StatusFilter {
    StatusFilter::parse(status.trim()).unwrap_or_default()
}

pub struct IncidentRow {
    pub id: IncidentId,
    pub kind: String,
    pub detail: String,
    pub created: String,
    pub booking_link: Option<(String, String)>,
    pub customer_email: String,
    pub order_id: String,
    pub payment_id: String,
    pub open: bool,
    pub resolved: String,
    pub resolved_by: String,
    pub resolution: String,
    /// What was typed into this incident's note when the page is shown again with an error.
    pub typed: String,
    pub error: Option<&'static str>,
}

impl From<Incident> for IncidentRow {
    fn from(i: Incident) -> Self {
        Self {
            id: i.id,
            open: i.is_open(),
            booking_link: i.booking_public_id.map(|public_id| {
                let code = i.booking_code.unwrap_or_else(|| public_id.clone());
                (format!("/admin/bookings/{public_id}"), code)
            }),
            customer_email: i.customer_email.unwrap_or_default(),
            order_id: i.razorpay_order_id.unwrap_or_default(),
            payment_id: i.razorpay_payment_id.unwrap_or_default(),
            created: utc(&i.created_at),
            resolved: i.resolved_at.as_ref().map(utc).unwrap_or_default(),
            resolved_by: i
                .resolved_by_email
                .unwrap_or_else(|| "a former staff account".into()),
            resolution: i.resolution.unwrap_or_default(),
            kind: i.kind,
            detail: i.detail,
            typed: String::new(),
            error: None,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/incidents.html")]
struct IncidentsPage {
    page: Page,
    status: &'static str,
    /// Whether only open incidents are listed (the empty list then says so).
    only_open: bool,
    filters: [StatusFilter; 3],
    incidents: Vec<IncidentRow>,
    pager: Pager,
    page_number: i64,
}

/// The list page; `failed` is an incident whose note was refused, with the note as typed.
async fn list_page(
    state: &AppState,
    page: Page,
    filter: StatusFilter,
    number: &PageNumber,
    failed: Option<(IncidentId, String, &'static str)>,
) -> AppResult<String> {
    let mut rows = incidents::list(&state.db, filter, PER_PAGE + 1, number.offset()).await?;
    let pager = Pager::new(
        &mut rows,
        number.number(),
        "/admin/incidents",
        &query_string(&[("status", filter.as_str())]),
    );
    let mut incidents: Vec<IncidentRow> = rows.into_iter().map(IncidentRow::from).collect();
    if let Some((id, typed, error)) = failed
        && let Some(row) = incidents.iter_mut().find(|r| r.id == id)
    {
        row.typed = typed;
        row.error = Some(error);
    }
    Ok(IncidentsPage {
        page,
        status: filter.as_str(),
        only_open: filter == StatusFilter::Open,
        filters: StatusFilter::ALL,
        incidents,
        pager,
        page_number: number.number(),
    }
    .render()?)
}

pub async fn list(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<IncidentQuery>,
) -> AppResult<Response> {
    let number = PageNumber { page: q.page };
    let html = list_page(&state, page, filter_of(&q.status), &number, None).await?;
    Ok(Html(html).into_response())
}

#[derive(Debug, Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    resolution: String,
    /// The list's filter and page, to come back to the same view.
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: Option<String>,
}

pub async fn resolve(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    IdPath(id): IdPath<IncidentId>,
    Form(form): Form<ResolveForm>,
) -> AppResult<Response> {
    let filter = filter_of(&form.status);
    let number = PageNumber {
        page: form.page.clone(),
    };
    let back = {
        let query = query_string(&[
            ("status", filter.as_str()),
            ("page", form.page.as_deref().unwrap_or_default()),
        ]);
        format!("/admin/incidents?{query}")
    };
    let incident = incidents::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    // Resolved meanwhile by someone else: their note stands, whatever this one says.
    if !incident.is_open() {
        flash(
            &session,
            Level::Info,
            ResolveError::AlreadyResolved(id).to_string(),
        )
        .await;
        return Ok(see_other(&back));
    }
    if let Some(error) = incidents::resolution_error(form.resolution.trim()) {
        let html = list_page(
            &state,
            page,
            filter,
            &number,
            Some((id, form.resolution, error)),
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
    }
    match incidents::resolve(
        &state.db,
        me.id,
        id,
        &form.resolution,
        state.clock.unix_now(),
    )
    .await
    {
        Ok(resolved) => {
            flash(
                &session,
                Level::Success,
                format!("Incident #{} ({}) is resolved.", resolved.id, resolved.kind),
            )
            .await;
        }
        Err(e @ ResolveError::AlreadyResolved(_)) => {
            flash(&session, Level::Info, e.to_string()).await
        }
        Err(ResolveError::NotFound) => return Err(AppError::NotFound),
        // Not reached: the note passed the same check above.
        Err(e @ ResolveError::Invalid(_)) => flash(&session, Level::Error, e.to_string()).await,
        Err(ResolveError::Database(e)) => return Err(e.into()),
    }
    Ok(see_other(&back))
}
