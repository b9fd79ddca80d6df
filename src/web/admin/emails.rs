//! `/admin/emails`: the email outbox with status, attempts and last error, and "retry now".

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use super::{PER_PAGE, Pager, query_string, render, see_other, utc};
use crate::domain::email_log::{self, RetryError};
use crate::domain::ids::OutboxId;
use crate::domain::outbox::{self, EmailKind, OutboxStatus};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::auth::StaffUser;
use crate::web::extract::IdPath;
use crate::web::page::{Level, Page, flash};

#[derive(Debug, Deserialize, Default)]
pub struct EmailQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: Option<String>,
}

pub struct EmailRow {
    pub id: OutboxId,
    pub recipient: String,
    pub subject: String,
    pub kind: EmailKind,
    pub status: OutboxStatus,
    /// The badge's style for the status.
    pub badge: &'static str,
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
            retryable: e.status != OutboxStatus::Sent,
            badge: match e.status {
                OutboxStatus::Sent => "badge-confirmed",
                OutboxStatus::Failed => "badge-cancelled",
                OutboxStatus::Queued => "badge-pending",
            },
            recipient: e.recipient,
            subject: e.subject,
            kind: e.kind,
            attempts: e.attempts,
            error: e.last_error.unwrap_or_default(),
            created: utc(&e.created_at),
            next_attempt: if e.status == OutboxStatus::Queued {
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
    statuses: Vec<&'static str>,
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
    let filter = q.status.parse::<OutboxStatus>().ok();
    let status = filter.map_or("", OutboxStatus::as_str).to_owned();
    let mut emails = email_log::list(&state.db, filter, PER_PAGE + 1, number.offset()).await?;
    let pager = Pager::new(
        &mut emails,
        number.number(),
        "/admin/emails",
        &query_string(&[("status", &status)]),
    );
    render(EmailsPage {
        page,
        status,
        statuses: OutboxStatus::ALL.map(OutboxStatus::as_str).to_vec(),
        emails: emails.into_iter().map(EmailRow::from).collect(),
        pager,
    })
}

pub async fn retry(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    IdPath(id): IdPath<OutboxId>,
) -> AppResult<Response> {
    match email_log::retry_now(&state.db, me.id, id, state.clock.unix_now()).await {
        Ok(()) => {
            state.mailer.deliver(id).await;
            let status = outbox::status_of(&state.db, id).await?.map(|s| s.status);
            let (level, text) = if status == Some(OutboxStatus::Sent) {
                (Level::Success, format!("Email #{id} was sent."))
            } else {
                let status = status.map_or("", OutboxStatus::as_str);
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
