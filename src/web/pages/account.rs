//! Account pages: sign up, email verification, log in and out, password reset, and the
//! profile with its change-password form. Server-rendered forms that work without
//! JavaScript; a form with mistakes comes back with the values kept (never passwords) and a
//! message next to each bad field.
//!
//! Every answer that could reveal whether an email has an account is the same either way
//! (see `domain::accounts`); mail that such an answer promises is delivered in the
//! background so that its timing does not tell either.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tower_sessions::Session;

use crate::domain::accounts::{self, AccountError, PasswordChange, Registration, Verification};
use crate::domain::users::{Email, User};
use crate::error::{AppResult, FieldErrors};
use crate::state::AppState;
use crate::web::api::auth::account_error;
use crate::web::auth::{CurrentUser, MaybeUser, log_in, log_out};
use crate::web::page::{Level, Page, flash};
use crate::web::rate_limit::{self, ClientIp};

/// Account forms are small; anything bigger is refused before it is parsed.
pub const BODY_LIMIT: usize = 16 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/register", get(register_page).post(register))
        .route("/accounts/verify", get(verify))
        .route("/accounts/verify/sent", get(verify_sent))
        .route("/accounts/verify/resend", get(resend_page).post(resend))
        .route("/accounts/login", get(login_page).post(login))
        .route("/accounts/logout", post(logout))
        .route(
            "/accounts/password-reset",
            get(reset_request_page).post(reset_request),
        )
        .route("/accounts/password-reset/sent", get(reset_sent))
        .route(
            "/accounts/password-reset/confirm",
            get(reset_confirm_page).post(reset_confirm),
        )
        .route("/accounts/profile", get(profile))
        .route("/accounts/profile/password", post(change_password))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// Field messages for a template: `errors.get("email")`.
#[derive(Debug, Clone, Default)]
pub struct FormErrors(FieldErrors);

impl FormErrors {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<FieldErrors> for FormErrors {
    fn from(errors: FieldErrors) -> Self {
        Self(errors)
    }
}

/// Where to go after logging in: `next` when it is a path on this site, else the home page.
/// Only a single leading `/` is accepted (`//host` and `/\host` are other sites to a
/// browser), and only visible ASCII, so the value is always a valid `Location`.
pub fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 2000
        && next.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    if local { next } else { "/" }
}

fn render(template: impl Template) -> AppResult<Response> {
    Ok(Html(template.render()?).into_response())
}

/// A form sent back with what was wrong in it: 422, so that scripts, tests and monitoring
/// can tell a refused form from a page that simply loaded.
fn refused(template: impl Template) -> AppResult<Response> {
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(template.render()?)).into_response())
}

/// A 303 so that a refresh after a form does not submit it again.
fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

// ---------------------------------------------------------------------------------------
// Registration and verification

#[derive(Template)]
#[template(path = "account/register.html")]
struct RegisterPage {
    page: Page,
    name: String,
    email: String,
    errors: FormErrors,
}

#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

async fn register_page(page: Page, MaybeUser(user): MaybeUser) -> AppResult<Response> {
    if user.is_some() {
        return Ok(see_other("/accounts/profile"));
    }
    render(RegisterPage {
        page,
        name: String::new(),
        email: String::new(),
        errors: FormErrors::default(),
    })
}

async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    page: Page,
    Form(form): Form<RegisterForm>,
) -> AppResult<Response> {
    state.limiter.check(rate_limit::Limit::Register, &ip)?;
    let parsed = Registration::parse(&form.name, &form.email, &form.password);
    let mut errors = parsed.as_ref().err().cloned().unwrap_or_default();
    if form.password_confirm != form.password {
        errors.insert(
            "password_confirm".into(),
            "The two passwords do not match.".into(),
        );
    }
    let rerender = |page, errors: FieldErrors| {
        refused(RegisterPage {
            page,
            name: form.name.clone(),
            email: form.email.clone(),
            errors: errors.into(),
        })
    };
    let registration = match parsed {
        Ok(registration) if errors.is_empty() => registration,
        _ => return rerender(page, errors),
    };
    match accounts::register(
        &state.db,
        state.config.as_ref(),
        registration,
        state.clock.unix_now(),
    )
    .await
    {
        Ok(outbox_ids) => {
            state.mailer.deliver_all(outbox_ids).await;
            Ok(see_other("/accounts/verify/sent"))
        }
        Err(AccountError::Invalid(errors)) => rerender(page, errors),
        Err(error) => Ok(account_error(error)),
    }
}

#[derive(Template)]
#[template(path = "account/check_email.html")]
struct CheckEmailPage {
    page: Page,
    title: &'static str,
    message: &'static str,
    /// Offer to send the verification link again.
    offer_resend: bool,
}

async fn verify_sent(page: Page) -> AppResult<Response> {
    render(CheckEmailPage {
        page,
        title: "Check your inbox",
        message: "We have sent you an email with a link to confirm your address. Open it to finish creating your account; the link works for 48 hours.",
        offer_resend: true,
    })
}

/// What the verification page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VerifyState {
    Verified,
    AlreadyVerified,
    Invalid,
    Resend,
}

#[derive(Template)]
#[template(path = "account/verify.html")]
struct VerifyPage {
    page: Page,
    state: VerifyState,
    email: String,
    errors: FormErrors,
}

impl VerifyPage {
    fn is(&self, state: &str) -> bool {
        let current = match self.state {
            VerifyState::Verified => "verified",
            VerifyState::AlreadyVerified => "already",
            VerifyState::Invalid => "invalid",
            VerifyState::Resend => "resend",
        };
        current == state
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

async fn verify(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<TokenQuery>,
) -> AppResult<Response> {
    let outcome = if query.token.is_empty() {
        Err(AccountError::InvalidToken)
    } else {
        accounts::verify_email(&state.db, &query.token, state.clock.unix_now()).await
    };
    let (verify_state, email) = match outcome {
        Ok(Verification::Verified { email }) => (VerifyState::Verified, email),
        Ok(Verification::AlreadyVerified) => (VerifyState::AlreadyVerified, String::new()),
        Err(AccountError::InvalidToken) => (VerifyState::Invalid, String::new()),
        Err(error) => return Ok(account_error(error)),
    };
    render(VerifyPage {
        page,
        state: verify_state,
        email,
        errors: FormErrors::default(),
    })
}

async fn resend_page(page: Page) -> AppResult<Response> {
    render(VerifyPage {
        page,
        state: VerifyState::Resend,
        email: String::new(),
        errors: FormErrors::default(),
    })
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

/// `POST /accounts/verify/resend`: the same answer whether or not the address has an
/// account waiting for verification.
async fn resend(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    page: Page,
    Form(form): Form<EmailForm>,
) -> AppResult<Response> {
    state
        .limiter
        .check(rate_limit::Limit::Register, &format!("resend:{ip}"))?;
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(error) => {
            return render(VerifyPage {
                page,
                state: VerifyState::Resend,
                email: form.email,
                errors: FieldErrors::from([("email".to_owned(), error.to_string())]).into(),
            });
        }
    };
    let now = state.clock.unix_now();
    match accounts::resend_verification(&state.db, state.config.as_ref(), &email, now).await {
        Ok(ids) => {
            state.mailer.deliver_in_background(ids);
            Ok(see_other("/accounts/verify/sent"))
        }
        Err(error) => Ok(account_error(error)),
    }
}

// ---------------------------------------------------------------------------------------
// Log in and out

#[derive(Template)]
#[template(path = "account/login.html")]
struct LoginPage {
    page: Page,
    email: String,
    next: String,
    errors: FormErrors,
    /// A message about the whole form (wrong credentials).
    alert: Option<&'static str>,
    /// The password was right but the address is not verified: offer a new link.
    unverified: bool,
}

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn login_page(
    page: Page,
    MaybeUser(user): MaybeUser,
    Query(query): Query<NextQuery>,
) -> AppResult<Response> {
    let next = safe_next(&query.next).to_owned();
    if user.is_some() {
        return Ok(see_other(&next));
    }
    render(LoginPage {
        page,
        email: String::new(),
        next,
        errors: FormErrors::default(),
        alert: None,
        unverified: false,
    })
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    page: Page,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    state.limiter.check(rate_limit::Limit::Login, &ip)?;
    let next = safe_next(&form.next).to_owned();
    let now = state.clock.unix_now();
    let mut login_page = LoginPage {
        page,
        email: form.email.clone(),
        next: next.clone(),
        errors: FormErrors::default(),
        alert: None,
        unverified: false,
    };
    match accounts::login(&state.db, &form.email, &form.password, &ip, now).await {
        Ok(user) => {
            log_in(&session, user.id).await?;
            flash(
                &session,
                Level::Success,
                format!("Welcome back, {}.", user.name),
            )
            .await;
            Ok(see_other(&next))
        }
        Err(AccountError::Invalid(errors)) => {
            login_page.errors = errors.into();
            refused(login_page)
        }
        Err(AccountError::InvalidCredentials) => {
            login_page.alert = Some("The email or password is not right.");
            refused(login_page)
        }
        Err(AccountError::EmailNotVerified) => {
            login_page.unverified = true;
            refused(login_page)
        }
        Err(error) => Ok(account_error(error)),
    }
}

async fn logout(session: Session) -> AppResult<Response> {
    log_out(&session).await?;
    flash(&session, Level::Info, "You have been logged out.").await;
    Ok(see_other("/"))
}

// ---------------------------------------------------------------------------------------
// Password reset

#[derive(Template)]
#[template(path = "account/password_reset.html")]
struct ResetRequestPage {
    page: Page,
    email: String,
    errors: FormErrors,
}

async fn reset_request_page(page: Page) -> AppResult<Response> {
    render(ResetRequestPage {
        page,
        email: String::new(),
        errors: FormErrors::default(),
    })
}

/// `POST /accounts/password-reset`: always "check your inbox", whether or not the address
/// has an account.
async fn reset_request(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    page: Page,
    Form(form): Form<EmailForm>,
) -> AppResult<Response> {
    state.limiter.check(rate_limit::Limit::PasswordReset, &ip)?;
    let now = state.clock.unix_now();
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(error) => {
            return refused(ResetRequestPage {
                page,
                email: form.email,
                errors: FieldErrors::from([("email".to_owned(), error.to_string())]).into(),
            });
        }
    };
    match accounts::request_password_reset(&state.db, state.config.as_ref(), &email, now).await {
        Ok(ids) => {
            state.mailer.deliver_in_background(ids);
            Ok(see_other("/accounts/password-reset/sent"))
        }
        Err(AccountError::Invalid(errors)) => refused(ResetRequestPage {
            page,
            email: form.email,
            errors: errors.into(),
        }),
        Err(error) => Ok(account_error(error)),
    }
}

async fn reset_sent(page: Page) -> AppResult<Response> {
    render(CheckEmailPage {
        page,
        title: "Check your inbox",
        message: "If an account uses that address, we have sent it a link to choose a new password. The link works for one hour. No email? Check the spam folder, or make sure you typed the address you signed up with.",
        offer_resend: false,
    })
}

#[derive(Template)]
#[template(path = "account/password_reset_confirm.html")]
struct ResetConfirmPage {
    page: Page,
    token: String,
    valid: bool,
    errors: FormErrors,
}

async fn reset_confirm_page(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<TokenQuery>,
) -> AppResult<Response> {
    let valid = !query.token.is_empty()
        && accounts::reset_token_is_valid(&state.db, &query.token, state.clock.unix_now()).await?;
    render(ResetConfirmPage {
        page,
        token: query.token,
        valid,
        errors: FormErrors::default(),
    })
}

#[derive(Deserialize)]
pub struct ResetConfirmForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

async fn reset_confirm(
    State(state): State<AppState>,
    session: Session,
    page: Page,
    Query(query): Query<TokenQuery>,
    Form(form): Form<ResetConfirmForm>,
) -> AppResult<Response> {
    let token = if form.token.is_empty() {
        query.token
    } else {
        form.token
    };
    let mut confirm_page = ResetConfirmPage {
        page,
        token: token.clone(),
        valid: true,
        errors: FormErrors::default(),
    };
    if form.password != form.password_confirm {
        confirm_page.errors = FieldErrors::from([(
            "password_confirm".to_owned(),
            "The two passwords do not match.".to_owned(),
        )])
        .into();
        confirm_page.valid = !token.is_empty()
            && accounts::reset_token_is_valid(&state.db, &token, state.clock.unix_now()).await?;
        return refused(confirm_page);
    }
    let now = state.clock.unix_now();
    match accounts::reset_password(&state.db, &token, &form.password, now).await {
        Ok(_email) => {
            // Every session of the user has ended, this browser's included: drop its copy
            // so that saving the flash below cannot write the old login back.
            log_out(&session).await?;
            flash(
                &session,
                Level::Success,
                "Your password has been changed and you have been logged out everywhere. Log in with your new password.",
            )
            .await;
            Ok(see_other("/accounts/login"))
        }
        Err(AccountError::Invalid(errors)) => {
            confirm_page.errors = errors.into();
            refused(confirm_page)
        }
        Err(AccountError::InvalidToken) => {
            confirm_page.valid = false;
            refused(confirm_page)
        }
        Err(error) => Ok(account_error(error)),
    }
}

// ---------------------------------------------------------------------------------------
// Profile

#[derive(Template)]
#[template(path = "account/profile.html")]
struct ProfilePage {
    page: Page,
    user: User,
    errors: FormErrors,
}

async fn profile(page: Page, CurrentUser(user): CurrentUser) -> AppResult<Response> {
    render(ProfilePage {
        page,
        user,
        errors: FormErrors::default(),
    })
}

#[derive(Deserialize)]
pub struct ChangePasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_confirm: String,
}

/// `POST /accounts/profile/password`: needs the current password; ends every other session
/// of the user and gives this one a new id.
async fn change_password(
    State(state): State<AppState>,
    session: Session,
    page: Page,
    CurrentUser(user): CurrentUser,
    Form(form): Form<ChangePasswordForm>,
) -> AppResult<Response> {
    if form.new_password != form.new_password_confirm {
        return refused(ProfilePage {
            page,
            user,
            errors: FieldErrors::from([(
                "new_password_confirm".to_owned(),
                "The two passwords do not match.".to_owned(),
            )])
            .into(),
        });
    }
    let change = PasswordChange {
        current_password: form.current_password,
        new_password: form.new_password,
    };
    let keep = session.id().map(|id| id.to_string());
    let now = state.clock.unix_now();
    match accounts::change_password(&state.db, user.id, change, keep.as_deref(), now).await {
        Ok(()) => {
            session.cycle_id().await?;
            flash(
                &session,
                Level::Success,
                "Your password has been changed. You have been logged out on your other devices.",
            )
            .await;
            Ok(see_other("/accounts/profile"))
        }
        Err(AccountError::Invalid(errors)) => refused(ProfilePage {
            page,
            user,
            errors: errors.into(),
        }),
        Err(error) => Ok(account_error(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_only_accepts_local_paths() {
        assert_eq!(safe_next("/movies?city=pune"), "/movies?city=pune");
        assert_eq!(safe_next("/"), "/");
        for bad in [
            "",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "evil",
            "/a\\b",
            "/a b",
            "/ok\r\nSet-Cookie: x=1",
            "/caf\u{e9}",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}
