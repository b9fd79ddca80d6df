//! Extractors shared by the handlers: input parsed once, at the edge.
//!
//! `IdPath<T>` reads a single path parameter as a typed id. A segment that is not an id
//! (`/admin/users/abc`) is the same 404 as an id that does not exist, so the routes neither
//! leak their shape nor answer 400 for what is simply a wrong address.

use std::str::FromStr;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use crate::error::AppError;

/// A typed id from the route's only path parameter, or 404.
#[derive(Debug, Clone, Copy)]
pub struct IdPath<T>(pub T);

impl<S, T> FromRequestParts<S> for IdPath<T>
where
    S: Send + Sync,
    T: FromStr + Send,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        raw.parse::<T>().map(IdPath).map_err(|_| AppError::NotFound)
    }
}
