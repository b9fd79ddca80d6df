//! `/admin/audit`: the audit log, newest first, filterable by action and target.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::{PER_PAGE, Pager, query_string, render, utc};
use crate::domain::audit::{self, Filter};
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::auth::StaffUser;
use crate::web::page::Page;

#[derive(Debug, Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    target_type: String,
    #[serde(default)]
    target_id: String,
    #[serde(default)]
    page: Option<String>,
}

pub struct EntryRow {
    pub when: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub target_link: Option<String>,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    page: Page,
    action: String,
    target_type: String,
    target_id: String,
    entries: Vec<EntryRow>,
    pager: Pager,
}

/// Where an audit target can be looked at, if it has a page.
pub fn target_link(target_type: &str, target_id: &str) -> Option<String> {
    match target_type {
        "booking" => Some(format!("/admin/bookings/{target_id}")),
        "user" => Some(format!("/admin/users/{target_id}")),
        "movie" => Some(format!("/admin/movies/{target_id}")),
        "city" => Some(format!("/admin/cities/{target_id}")),
        "theatre" => Some(format!("/admin/theatres/{target_id}")),
        "payment_incident" => Some("/admin/incidents?status=all".to_owned()),
        _ => None,
    }
}

/// Audit entries as rows for a table.
pub fn rows(entries: Vec<audit::Entry>) -> Vec<EntryRow> {
    entries
        .into_iter()
        .map(|e| EntryRow {
            when: utc(&e.created_at),
            actor: match (e.actor_email, e.actor_user_id) {
                (Some(email), _) => email,
                (None, Some(id)) => format!("user #{id}"),
                (None, None) => "command line".into(),
            },
            target_link: target_link(&e.target_type, &e.target_id),
            target: format!("{} {}", e.target_type, e.target_id),
            action: e.action,
            summary: e.summary,
        })
        .collect()
}

pub async fn list(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    let number = super::PageNumber {
        page: q.page.clone(),
    };
    let filter = Filter {
        action: q.action.trim().to_owned(),
        target_type: q.target_type.trim().to_owned(),
        target_id: q.target_id.trim().to_owned(),
        actor_user_id: None,
    };
    let mut entries = audit::list(&state.db, &filter, PER_PAGE + 1, number.offset()).await?;
    let pager = Pager::new(
        &mut entries,
        number.number(),
        "/admin/audit",
        &query_string(&[
            ("action", &filter.action),
            ("target_type", &filter.target_type),
            ("target_id", &filter.target_id),
        ]),
    );
    render(AuditPage {
        page,
        action: filter.action,
        target_type: filter.target_type,
        target_id: filter.target_id,
        entries: rows(entries),
        pager,
    })
}
