//! `/admin/emails`: the email outbox with status, attempts and last error, and "retry now".

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use super::{PER_PAGE, Pager, query_string, render, see_other, utc};
use crate::domain::email_log::{self, RetryError};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::auth::StaffUser;
use crate::web::page::{Level, Page, flash};

/// The statuses a message can be in, for the filter.
pub const STATUSES: &[&str] = &["queued", "sent", "failed"];

#[derive(Debug, Deserialize, Default)]
pub struct EmailQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: Option<String>,
}

pub struct EmailRow {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub kind: String,
    pub status: String,
    pub attempts: i64,
    pub error: String,
    pub created: String,
    pub next_attempt: String,
    pub retryable: bool,
}

impl From<email_log::LoggedEmail> for EmailRow {
    fn from(e: email_log::LoggedEmail) -> Self {
        Self {
            id: e.id,
            retryable: e.status != "sent",
            recipient: e.recipient,
            subject: e.subject,
            kind: e.kind,
            attempts: e.attempts,
            error: e.last_error.unwrap_or_default(),
            created: utc(&e.created_at),
            next_attempt: if e.status == "queued" {
                utc(&e.next_attempt_at)
            } else {
                String::new()
            },
            status: e.status,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/emails.html")]
struct EmailsPage {
    page: Page,
    status: String,
    statuses: &'static [&'static str],
    emails: Vec<EmailRow>,
    pager: Pager,
}

pub async fn list(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<EmailQuery>,
) -> AppResult<Response> {
    let number = super::PageNumber {
        page: q.page.clone(),
    };
    let status = if STATUSES.contains(&q.status.as_str()) {
        q.status.clone()
    } else {
        String::new()
    };
    let mut emails = email_log::list(&state.db, &status, PER_PAGE + 1, number.offset()).await?;
    let pager = Pager::new(
        &mut emails,
        number.number(),
        "/admin/emails",
        &query_string(&[("status", &status)]),
    );
    render(EmailsPage {
        page,
        status,
        statuses: STATUSES,
        emails: emails.into_iter().map(EmailRow::from).collect(),
        pager,
    })
}

pub async fn retry(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    match email_log::retry_now(&state.db, me.id, id, state.clock.unix_now()).await {
        Ok(()) => {
            state.mailer.deliver(id).await;
            let status = email_log::status_of(&state.db, id)
                .await?
                .unwrap_or_default();
            let (level, text) = if status == "sent" {
                (Level::Success, format!("Email #{id} was sent."))
            } else {
                (
                    Level::Error,
                    format!("Email #{id} could not be sent yet; it stays queued ({status})."),
                )
            };
            flash(&session, level, text).await;
        }
        Err(RetryError::NotFound) => return Err(AppError::NotFound),
        Err(e @ RetryError::AlreadySent) => flash(&session, Level::Info, e.to_string()).await,
        Err(RetryError::Database(e)) => return Err(e.into()),
    }
    Ok(see_other("/admin/emails"))
}
