//! What every HTML page's layout needs (the user in the header, the CSRF token for forms,
//! the chosen city, one-time flash messages), gathered by one extractor.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use strum::Display;
use tower_sessions::Session;

use crate::domain::roles::Role;
use crate::domain::users::User;
use crate::web::auth::MaybeUser;
use crate::web::csrf::CsrfToken;

const FLASH_KEY: &str = "flash";
/// The session key holding the visitor's chosen city slug.
pub const CITY_KEY: &str = "city";

/// How a flash message reads: its word is also the CSS class `flash-{level}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Display)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Level {
    Success,
    Info,
    Error,
}

/// A one-time message shown on the next page (after a redirect).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    pub level: Level,
    pub text: String,
}

/// Layout data for the base template.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub user: Option<User>,
    csrf: Option<CsrfToken>,
    pub flashes: Vec<Flash>,
    /// The chosen city's slug, if the visitor picked one.
    pub city: Option<String>,
    /// The text in the header's search box.
    pub search: String,
}

impl Page {
    /// A fresh masked CSRF token for a form on this page.
    pub fn csrf(&self) -> String {
        self.csrf
            .as_ref()
            .map(CsrfToken::form_value)
            .unwrap_or_default()
    }

    pub fn is_staff(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.is_staff())
    }

    /// Whether the viewer's role includes `least` (the staff header shows only what the
    /// role can reach).
    pub fn can(&self, least: Role) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.includes(least))
    }

    /// The viewer's role (customer when not logged in).
    pub fn role(&self) -> Role {
        self.user.as_ref().map(|u| u.role).unwrap_or_default()
    }

    /// The cache-busting URL of a static file.
    pub fn asset(&self, path: &str) -> String {
        crate::web::static_files::url(path)
    }

    pub fn with_search(mut self, q: &str) -> Self {
        self.search = q.to_owned();
        self
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Page {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, state).await?;
        let csrf = parts.extensions.get::<CsrfToken>().cloned();
        let (flashes, city) = match Session::from_request_parts(parts, state).await {
            Ok(session) => {
                let flashes = session
                    .remove::<Vec<Flash>>(FLASH_KEY)
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                let city = session.get::<String>(CITY_KEY).await.ok().flatten();
                (flashes, city)
            }
            Err(_) => (Vec::new(), None),
        };
        Ok(Page {
            user,
            csrf,
            flashes,
            city,
            search: String::new(),
        })
    }
}

/// Queues a message for the next page the visitor sees.
pub async fn flash(session: &Session, level: Level, text: impl Into<String>) {
    let mut flashes = session
        .get::<Vec<Flash>>(FLASH_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    flashes.push(Flash {
        level,
        text: text.into(),
    });
    if let Err(error) = session.insert(FLASH_KEY, flashes).await {
        tracing::warn!(%error, "could not store a flash message");
    }
}
