//! Who is making the request: the logged-in user loaded once per request from the session,
//! and extractors that require a user (`CurrentUser`) or a staff member (`StaffUser`).

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::db::session_store::USER_ID_KEY;
use crate::domain::bookings::{self, Booking, PublicId};
use crate::domain::ids::UserId;
use crate::domain::roles::Role;
use crate::domain::users::{self, User};
use crate::error::AppError;
use crate::state::AppState;

/// The user behind this request, if any (set by `load_user`).
#[derive(Debug, Clone, Default)]
pub struct MaybeUser(pub Option<User>);

/// Loads the session's user and makes pages for logged-in users uncacheable.
pub async fn load_user(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let user = match session.get::<UserId>(USER_ID_KEY).await {
        Ok(Some(id)) => match users::find_active(&state.db, id).await {
            Ok(user) => user,
            Err(error) => return AppError::from(error).into_response(),
        },
        Ok(None) => None,
        Err(error) => return AppError::from(error).into_response(),
    };
    let logged_in = user.is_some();
    request.extensions_mut().insert(MaybeUser(user));
    let mut response = next.run(request).await;
    if logged_in && !response.headers().contains_key("cache-control") {
        response.headers_mut().insert(
            "cache-control",
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<MaybeUser>()
            .cloned()
            .unwrap_or_default())
    }
}

/// A logged-in, active, verified user. Pages redirect anonymous visitors to the login page
/// (coming back afterwards); the API answers 401.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

/// The rejection for a missing login: a redirect for pages, 401 for the API.
pub struct LoginRequired {
    api: bool,
    next: String,
}

impl IntoResponse for LoginRequired {
    fn into_response(self) -> Response {
        if self.api {
            AppError::Unauthorized.into_response()
        } else {
            let target = format!(
                "/accounts/login?next={}",
                form_urlencoded::byte_serialize(self.next.as_bytes()).collect::<String>()
            );
            axum::response::Redirect::to(&target).into_response()
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = LoginRequired;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<MaybeUser>() {
            Some(MaybeUser(Some(user))) => Ok(CurrentUser(user.clone())),
            _ => Err(LoginRequired {
                api: parts.uri.path().starts_with("/api/"),
                next: parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_else(|| "/".into()),
            }),
        }
    }
}

impl CurrentUser {
    /// A booking of this user's own, or 404: someone else's booking is indistinguishable
    /// from one that does not exist. Staff accounts are no exception here; they reach other
    /// people's bookings through /admin, with its reasons, confirmations and audit.
    pub async fn booking(
        &self,
        state: &AppState,
        public_id: &PublicId,
    ) -> Result<Booking, AppError> {
        bookings::find_owned(&state.db, public_id, self.0.id)
            .await?
            .ok_or(AppError::NotFound)
    }
}

/// A staff member, of whatever role: who is acting, for the audit. Everyone else gets 404,
/// so the admin pages do not even admit they exist. What a role may reach is decided by the
/// `require` guard on each group of routes, never inside a handler.
#[derive(Debug, Clone)]
pub struct StaffUser(pub User);

impl<S: Send + Sync> FromRequestParts<S> for StaffUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<MaybeUser>() {
            Some(MaybeUser(Some(user))) if user.is_staff() => Ok(StaffUser(user.clone())),
            _ => Err(AppError::NotFound),
        }
    }
}

/// The guard of a group of routes: only accounts whose role includes `least` get through;
/// everyone else, on GET and POST alike, gets exactly the 404 of a page that does not
/// exist. Applied as a route layer: `.route_layer(from_fn(require(Role::Manager)))`.
pub fn require(
    least: Role,
) -> impl Fn(Request, Next) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>
+ Clone
+ Send
+ Sync
+ 'static {
    move |request: Request, next: Next| {
        Box::pin(async move {
            let allowed = request
                .extensions()
                .get::<MaybeUser>()
                .and_then(|MaybeUser(user)| user.as_ref())
                .is_some_and(|user| user.role.includes(least));
            if allowed {
                next.run(request).await
            } else {
                AppError::NotFound.into_response()
            }
        })
    }
}

/// Puts `user` into the session after a successful login, with a fresh session id so that
/// an id planted before login (session fixation) is worthless.
pub async fn log_in(session: &Session, user_id: UserId) -> Result<(), AppError> {
    session.cycle_id().await?;
    session.insert(USER_ID_KEY, user_id).await?;
    Ok(())
}

/// Ends the session on the server, not just in the browser.
pub async fn log_out(session: &Session) -> Result<(), AppError> {
    session.flush().await?;
    // `flush` keeps the record's id: anything stored afterwards (a flash message) would
    // bring the old id back to life. A fresh id makes the old cookie worthless for good.
    session.cycle_id().await?;
    Ok(())
}
