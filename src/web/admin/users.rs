//! `/admin/users` (admins only): search accounts, see one with their bookings, activate or
//! deactivate it (deactivation ends its sessions) and change its role, never on oneself.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use super::{ConfirmPage, PER_PAGE, Pager, confirmed, query_string, render, see_other, utc};
use crate::domain::audit::{self, Filter};
use crate::domain::bookings;
use crate::domain::ids::UserId;
use crate::domain::pricing::format_rupees;
use crate::domain::roles::Role;
use crate::domain::showtimes::format_in_zone;
use crate::domain::user_admin::{self, UserAdminError, UserRow};
use crate::domain::users::User;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::admin::audit::EntryRow;
use crate::web::auth::StaffUser;
use crate::web::extract::IdPath;
use crate::web::page::{Level, Page, flash};

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
    roles: [Role; 5],
    joined: String,
    is_self: bool,
    bookings: Vec<UserBooking>,
    audit: Vec<EntryRow>,
}

pub async fn detail(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    page: Page,
    IdPath(id): IdPath<UserId>,
) -> AppResult<Response> {
    let row = user_admin::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (user_id, now) = (id, state.clock.now());
    let bookings = bookings::list_for_user(&state.db, user_id, now)
        .await?
        .into_iter()
        .map(|b| UserBooking {
            starts: format_in_zone(b.starts_at, &b.timezone),
            status: b.status_at(now).as_str(),
            total: format_rupees(b.amount.total_paise),
            public_id: b.public_id.to_string(),
            code: b.code.to_string(),
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
        roles: Role::ALL,
        joined: utc(&row.created_at),
        is_self: me.id == id,
        row,
        bookings,
        audit,
    })
}

#[derive(Debug, Deserialize)]
pub struct ActiveForm {
    /// `on` or `off`.
    #[serde(default)]
    value: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// What a refused account change tells the admin, on the account's page.
async fn refused(session: &Session, error: UserAdminError, back: &str) -> AppResult<Response> {
    match error {
        UserAdminError::NotFound => Err(AppError::NotFound),
        UserAdminError::Database(e) => Err(e.into()),
        refusal => {
            flash(session, Level::Error, refusal.to_string()).await;
            Ok(see_other(back))
        }
    }
}

/// The account a change is about, or the page to answer with: 404 when there is no such
/// account, a refusal when it is the admin's own.
async fn other_account(
    state: &AppState,
    session: &Session,
    me: &User,
    id: UserId,
    back: &str,
) -> AppResult<Result<UserRow, Response>> {
    let row = user_admin::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if me.id == id {
        return refused(session, UserAdminError::OwnAccount, back)
            .await
            .map(Err);
    }
    Ok(Ok(row))
}

pub async fn set_active(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    IdPath(id): IdPath<UserId>,
    Form(form): Form<ActiveForm>,
) -> AppResult<Response> {
    let on = match form.value.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(AppError::bad_request("Choose on or off.")),
    };
    let back = format!("/admin/users/{id}");
    let row = match other_account(&state, &session, &me, id, &back).await? {
        Ok(row) => row,
        Err(answer) => return Ok(answer),
    };
    // Reactivation gives nothing away and is undone in one click; deactivation is
    // confirmed first.
    if !on && !confirmed(&form.confirm) {
        return render(ConfirmPage {
            page,
            title: format!("Deactivate {}?", row.user.email),
            message: "They will be logged out everywhere and cannot log in until reactivated."
                .into(),
            action: format!("/admin/users/{id}/active"),
            fields: vec![("value".into(), form.value.clone())],
            button: format!("Deactivate {}", row.user.email),
            cancel: back,
        });
    }
    match user_admin::set_active(&state.db, me.id, id, on, state.clock.unix_now()).await {
        Ok(user) => {
            let done = if on {
                "is active again"
            } else {
                "is deactivated and logged out everywhere"
            };
            flash(&session, Level::Success, format!("{} {done}.", user.email)).await;
            Ok(see_other(&back))
        }
        Err(error) => refused(&session, error, &back).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// What a role lets its holder do, for the confirmation step.
fn consequence(role: Role) -> &'static str {
    match role {
        Role::Customer => "They will lose access to every staff page at once.",
        Role::Usher => "They will admit tickets at the door, and nothing else.",
        Role::BoxOffice => "They will admit tickets, look up bookings and sell at the counter.",
        Role::Manager => "They will run the programme, see every booking and can refund money.",
        Role::Admin => "They will have every right, including changing other people's roles.",
    }
}

pub async fn set_role(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    IdPath(id): IdPath<UserId>,
    Form(form): Form<RoleForm>,
) -> AppResult<Response> {
    let Some(role) = Role::parse(form.role.trim()) else {
        return Err(AppError::bad_request(
            "Choose a role: customer, usher, box_office, manager or admin.",
        ));
    };
    let back = format!("/admin/users/{id}");
    let row = match other_account(&state, &session, &me, id, &back).await? {
        Ok(row) => row,
        Err(answer) => return Ok(answer),
    };
    if row.user.role == role {
        flash(
            &session,
            Level::Info,
            format!("{} is already {}.", row.user.email, role.label()),
        )
        .await;
        return Ok(see_other(&back));
    }
    if !confirmed(&form.confirm) {
        return render(ConfirmPage {
            page,
            title: format!(
                "Make {} {} (now {})?",
                row.user.email,
                role.label(),
                row.user.role.label()
            ),
            message: consequence(role).into(),
            action: format!("/admin/users/{id}/role"),
            fields: vec![("role".into(), role.as_str().into())],
            button: format!("Make {} {}", row.user.email, role.label()),
            cancel: back,
        });
    }
    match user_admin::set_role(&state.db, &me, id, role, state.clock.unix_now()).await {
        Ok(user) => {
            let done = if role.is_staff() {
                format!("{} is now {}.", user.email, role.label())
            } else {
                format!("{} is no longer staff.", user.email)
            };
            flash(&session, Level::Success, done).await;
            Ok(see_other(&back))
        }
        Err(error) => refused(&session, error, &back).await,
    }
}
