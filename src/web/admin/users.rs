//! `/admin/users`: search accounts, see one with their bookings, activate or deactivate it
//! (deactivation ends its sessions) and grant or revoke staff rights, never on oneself.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use super::{ConfirmPage, PER_PAGE, Pager, confirmed, query_string, render, see_other, utc};
use crate::domain::audit::{self, Filter};
use crate::domain::bookings;
use crate::domain::pricing::format_rupees;
use crate::domain::showtimes::format_in_zone;
use crate::domain::user_admin::{self, Flag, UserAdminError, UserRow};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::admin::audit::EntryRow;
use crate::web::auth::StaffUser;
use crate::web::page::{Page, flash};

#[derive(Debug, Deserialize, Default)]
pub struct UserQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    page: Page,
    q: String,
    users: Vec<UserRow>,
    pager: Pager,
}

pub async fn list(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<UserQuery>,
) -> AppResult<Response> {
    let number = super::PageNumber {
        page: q.page.clone(),
    };
    let text = q.q.trim().to_owned();
    let mut users = user_admin::search(&state.db, &text, PER_PAGE + 1, number.offset()).await?;
    let pager = Pager::new(
        &mut users,
        number.number(),
        "/admin/users",
        &query_string(&[("q", &text)]),
    );
    render(UsersPage {
        page,
        q: text,
        users,
        pager,
    })
}

pub struct UserBooking {
    pub public_id: String,
    pub code: String,
    pub movie: String,
    pub starts: String,
    pub status: &'static str,
    pub total: String,
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    page: Page,
    row: UserRow,
    joined: String,
    is_self: bool,
    bookings: Vec<UserBooking>,
    audit: Vec<EntryRow>,
}

fn parse_id(raw: &str) -> AppResult<i64> {
    raw.parse::<i64>().map_err(|_| AppError::NotFound)
}

pub async fn detail(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let row = user_admin::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let bookings = bookings::list_for_user(&state.db, id, state.clock.now())
        .await?
        .into_iter()
        .map(|b| UserBooking {
            starts: format_in_zone(b.starts_at, &b.timezone),
            status: b.status.as_str(),
            total: format_rupees(b.amount.total_paise),
            public_id: b.public_id,
            code: b.code,
            movie: b.movie_title,
        })
        .collect();
    let filter = Filter {
        target_type: "user".into(),
        target_id: id.to_string(),
        ..Filter::default()
    };
    let audit = super::audit::rows(audit::list(&state.db, &filter, 50, 0).await?);
    render(UserPage {
        page,
        joined: utc(&row.created_at),
        is_self: me.id == id,
        row,
        bookings,
        audit,
    })
}

#[derive(Debug, Deserialize)]
pub struct FlagForm {
    /// `on` or `off`.
    #[serde(default)]
    value: String,
    #[serde(default)]
    confirm: Option<String>,
}

async fn change(
    state: &AppState,
    me: i64,
    id: &str,
    session: &Session,
    page: Page,
    form: FlagForm,
    flag: Flag,
) -> AppResult<Response> {
    let id = parse_id(id)?;
    let on = match form.value.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(AppError::bad_request("Choose on or off.")),
    };
    let back = format!("/admin/users/{id}");
    let row = user_admin::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (path, verb) = match (flag, on) {
        (Flag::Active, true) => ("active", "Reactivate"),
        (Flag::Active, false) => ("active", "Deactivate"),
        (Flag::Staff, true) => ("staff", "Grant staff rights to"),
        (Flag::Staff, false) => ("staff", "Revoke staff rights from"),
    };
    if me == id {
        flash(session, "error", UserAdminError::OwnAccount.to_string()).await;
        return Ok(see_other(&back));
    }
    // Reactivation gives nothing away and is undone in one click; everything else is
    // confirmed first.
    let needs_confirmation = !(flag == Flag::Active && on);
    if needs_confirmation && !confirmed(&form.confirm) {
        let consequence = match (flag, on) {
            (Flag::Active, false) => {
                "They will be logged out everywhere and cannot log in until reactivated."
            }
            (Flag::Staff, true) => "They will see every booking and account and can refund money.",
            _ => "They will lose access to the admin pages at once.",
        };
        return render(ConfirmPage {
            page,
            title: format!("{verb} {}?", row.user.email),
            message: consequence.into(),
            action: format!("/admin/users/{id}/{path}"),
            fields: vec![("value".into(), form.value.clone())],
            button: format!("{verb} {}", row.user.email),
            cancel: back,
        });
    }
    match user_admin::set_flag(&state.db, me, id, flag, on, state.clock.unix_now()).await {
        Ok(user) => {
            let done = match (flag, on) {
                (Flag::Active, true) => "is active again",
                (Flag::Active, false) => "is deactivated and logged out everywhere",
                (Flag::Staff, true) => "is now staff",
                (Flag::Staff, false) => "is no longer staff",
            };
            flash(session, "success", format!("{} {done}.", user.email)).await;
            Ok(see_other(&back))
        }
        Err(UserAdminError::NotFound) => Err(AppError::NotFound),
        Err(UserAdminError::OwnAccount) => {
            flash(session, "error", UserAdminError::OwnAccount.to_string()).await;
            Ok(see_other(&back))
        }
        Err(UserAdminError::Database(e)) => Err(e.into()),
    }
}

pub async fn set_active(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    Path(id): Path<String>,
    Form(form): Form<FlagForm>,
) -> AppResult<Response> {
    change(&state, me.id, &id, &session, page, form, Flag::Active).await
}

pub async fn set_staff(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    Path(id): Path<String>,
    Form(form): Form<FlagForm>,
) -> AppResult<Response> {
    change(&state, me.id, &id, &session, page, form, Flag::Staff).await
}
