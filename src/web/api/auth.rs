//! `/api/v1/auth/*` and `/api/v1/me`: registration, login and logout for API clients, over
//! the same domain code and the same session cookie as the pages.
//!
//! Bodies are strict (`deny_unknown_fields`), so a misspelt field is an error rather than
//! silently ignored. Failures name a stable code: `invalid_credentials` (401, the same for
//! an unknown email and a wrong password), `email_not_verified` (403, only once the password
//! was right), `account_locked` (429 with Retry-After), `validation_failed` (422 + fields).

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_sessions::Session;

use crate::domain::accounts::{self, AccountError, Registration};
use crate::domain::ids::UserId;
use crate::domain::roles::Role;
use crate::domain::users::User;
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;
use crate::web::auth::{CurrentUser, log_in, log_out};
use crate::web::rate_limit::{self, ClientIp};

/// Account requests are small; anything bigger is refused before it is parsed.
pub const BODY_LIMIT: usize = 16 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/register", post(register))
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/me", get(me))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// A user as the API shows them.
#[derive(Serialize)]
pub struct UserJson {
    id: UserId,
    email: String,
    name: String,
    /// Any staff role; kept beside `role` for clients written before roles.
    is_staff: bool,
    role: Role,
}

impl From<User> for UserJson {
    fn from(user: User) -> Self {
        Self {
            is_staff: user.is_staff(),
            role: user.role,
            id: user.id,
            email: user.email,
            name: user.name,
        }
    }
}

/// An error response with its own code, rendered by `middleware::error_pages` (JSON under
/// `/api/`, the error page elsewhere).
fn coded(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let mut response = status.into_response();
    response.extensions_mut().insert(ErrorBody {
        code: code.to_owned(),
        message: message.into(),
        fields: Default::default(),
        details: None,
    });
    response
}

/// The response for an account error, for the API and for pages that do not re-render a
/// form for it.
pub(crate) fn account_error(error: AccountError) -> Response {
    match error {
        AccountError::Invalid(fields) => AppError::validation(fields).into_response(),
        AccountError::InvalidCredentials => coded(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "The email or password is not right.",
        ),
        AccountError::EmailNotVerified => coded(
            StatusCode::FORBIDDEN,
            "email_not_verified",
            "Please confirm your email address first: follow the link we emailed you, or ask for a new one.",
        ),
        AccountError::Locked {
            retry_after_seconds,
        } => {
            let minutes = (retry_after_seconds + 59) / 60;
            let mut response = coded(
                StatusCode::TOO_MANY_REQUESTS,
                "account_locked",
                format!(
                    "Too many failed log-ins for this account. Please wait {minutes} minute{} and try again, or reset your password.",
                    if minutes == 1 { "" } else { "s" }
                ),
            );
            if let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        AccountError::InvalidToken => coded(
            StatusCode::BAD_REQUEST,
            "invalid_token",
            "This link has expired or was already used. Please ask for a new one.",
        ),
        AccountError::Hash(error) => AppError::Internal(anyhow::Error::new(error)).into_response(),
        AccountError::Template(error) => AppError::Template(error).into_response(),
        AccountError::Database(error) => AppError::Database(error).into_response(),
    }
}

/// `POST /api/v1/auth/register`: 201 whether the address was free or taken (the owner of a
/// taken one gets an email instead), so the answer reveals nothing.
async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<RegisterBody>,
) -> Result<Response, AppError> {
    state.limiter.check(rate_limit::Limit::Register, &ip)?;
    let registration = match Registration::parse(&body.name, &body.email, &body.password) {
        Ok(registration) => registration,
        Err(fields) => return Ok(account_error(AccountError::Invalid(fields))),
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
            Ok((
                StatusCode::CREATED,
                Json(json!({ "status": "verification_sent" })),
            )
                .into_response())
        }
        Err(error) => Ok(account_error(error)),
    }
}

/// `POST /api/v1/auth/login`: the user and a fresh session cookie.
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    Json(body): Json<LoginBody>,
) -> Result<Response, AppError> {
    state.limiter.check(rate_limit::Limit::Login, &ip)?;
    let now = state.clock.unix_now();
    match accounts::login(&state.db, &body.email, &body.password, &ip, now).await {
        Ok(user) => {
            log_in(&session, user.id).await?;
            Ok(Json(json!({ "user": UserJson::from(user) })).into_response())
        }
        Err(error) => Ok(account_error(error)),
    }
}

/// `POST /api/v1/auth/logout`: ends the session on the server.
async fn logout(session: Session) -> Result<StatusCode, AppError> {
    log_out(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/me`: who is logged in (401 when nobody).
async fn me(CurrentUser(user): CurrentUser) -> Json<serde_json::Value> {
    Json(json!({ "user": UserJson::from(user) }))
}
