//! `AppError`: the one error type of the web layer, and how it becomes a response.
//!
//! Handlers return `Result<_, AppError>`. The error only describes what went wrong (status,
//! a stable code, a human message, optional field errors); `web::middleware::error_pages`
//! then renders it as an HTML page for pages or as `{"error", "message"}` under `/api/`,
//! so every route answers in its own format without each handler choosing.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub use crate::domain::validation::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("{message}")]
    Validation {
        message: String,
        fields: FieldErrors,
    },
    #[error("login required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    /// A body in a format the route does not take (JSON sent to a form route, say).
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        details: Option<serde_json::Value>,
    },
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// A 422 whose body carries more than the message (which showtime a ticket is for...).
    #[error("{message}")]
    Refused {
        code: &'static str,
        message: String,
        details: serde_json::Value,
    },
    #[error("too many attempts")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("template error: {0}")]
    Template(#[from] askama::Error),
    #[error("session error: {0}")]
    Session(#[from] tower_sessions::session::Error),
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

/// What the error page renderer needs, attached to the response as an extension.
#[derive(Debug, Clone)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    pub fields: FieldErrors,
    pub details: Option<serde_json::Value>,
}

impl AppError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    pub fn validation(fields: FieldErrors) -> Self {
        Self::Validation {
            message: "Please correct the highlighted fields.".into(),
            fields,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Validation { .. } | Self::Unprocessable { .. } | Self::Refused { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            // The database down, restarting or overloaded: the client may retry, so say
            // 503 rather than 500. Sessions live in the same database, and a store failure
            // (as opposed to a record that does not decode) is the same outage.
            Self::Database(e) if crate::db::is_unavailable(e) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(e) if crate::db::is_unstorable_text(e) => StatusCode::BAD_REQUEST,
            Self::Session(tower_sessions::session::Error::Store(
                tower_sessions::session_store::Error::Backend(_),
            )) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Template(_) | Self::Session(_) | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::BadRequest(_) => "bad_request",
            Self::Validation { .. } => "validation_failed",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Conflict { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Refused { code, .. } => code,
            Self::TooManyRequests { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            _ if self.status() == StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            _ if self.status() == StatusCode::BAD_REQUEST => "bad_request",
            _ => "internal_error",
        }
    }

    /// The message a client may see. Internal details never leave the server.
    fn public_message(&self) -> String {
        match self {
            Self::NotFound => "The page or item you asked for does not exist.".into(),
            Self::Unauthorized => "Please log in to continue.".into(),
            Self::TooManyRequests {
                retry_after_seconds,
            } => format!(
                "Too many attempts. Please wait {retry_after_seconds} seconds and try again."
            ),
            Self::BadRequest(m)
            | Self::Forbidden(m)
            | Self::UnsupportedMediaType(m)
            | Self::Unavailable(m) => m.clone(),
            Self::Validation { message, .. }
            | Self::Conflict { message, .. }
            | Self::Unprocessable { message, .. }
            | Self::Refused { message, .. } => message.clone(),
            Self::Database(e) if crate::db::is_unstorable_text(e) => {
                crate::db::UNSTORABLE_TEXT_MESSAGE.into()
            }
            _ if self.status() == StatusCode::SERVICE_UNAVAILABLE => {
                "The service is busy or briefly unavailable. Please try again in a moment.".into()
            }
            _ => "Something went wrong on our side. Please try again.".into(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = status.into_response();
        if let Self::TooManyRequests {
            retry_after_seconds,
        } = &self
            && let Ok(value) = retry_after_seconds.to_string().parse()
        {
            response.headers_mut().insert("retry-after", value);
        }
        let (fields, details) = match self {
            Self::Validation { ref fields, .. } => (fields.clone(), None),
            Self::Conflict { ref details, .. } => (FieldErrors::new(), details.clone()),
            Self::Refused { ref details, .. } => (FieldErrors::new(), Some(details.clone())),
            _ => (FieldErrors::new(), None),
        };
        response.extensions_mut().insert(ErrorBody {
            code: self.code().to_owned(),
            message: self.public_message(),
            fields,
            details,
        });
        response
    }
}

impl From<crate::domain::bookings::HoldError> for AppError {
    fn from(error: crate::domain::bookings::HoldError) -> Self {
        use crate::domain::bookings::HoldError as E;
        let message = error.to_string();
        match error {
            E::ShowtimeNotFound => AppError::NotFound,
            E::SeatsUnavailable(ids) => AppError::Conflict {
                code: "seats_unavailable",
                message,
                details: Some(serde_json::json!({ "seat_ids": ids })),
            },
            E::CoolingDown { seat_ids, seconds } => AppError::Conflict {
                code: "rehold_cooldown",
                message,
                details: Some(serde_json::json!({
                    "seat_ids": seat_ids,
                    "retry_after_seconds": seconds,
                })),
            },
            E::TooManyHolds { .. } => AppError::Conflict {
                code: "too_many_holds",
                message,
                details: None,
            },
            E::Busy => AppError::Conflict {
                code: "busy",
                message,
                details: None,
            },
            E::NoSeats | E::TooManySeats { .. } | E::DuplicateSeats => AppError::Unprocessable {
                code: "invalid_selection",
                message,
            },
            E::UnknownSeats(_) | E::BlockedSeats(_) => AppError::Unprocessable {
                code: "invalid_seats",
                message,
            },
            E::ShowtimeClosed(_) => AppError::Unprocessable {
                code: "showtime_closed",
                message,
            },
            E::Database(error) => AppError::Database(error),
        }
    }
}

/// The payment flow's errors as HTTP answers (pages and the JSON API alike).
impl From<crate::payments::flow::PaymentError> for AppError {
    fn from(error: crate::payments::flow::PaymentError) -> Self {
        use crate::payments::flow::PaymentError as E;
        let message = error.to_string();
        match error {
            E::Database(error) => AppError::Database(error),
            E::BadSignature => AppError::BadRequest(message),
            E::HoldEnded => AppError::Conflict {
                code: "hold_ended",
                message,
                details: None,
            },
            E::ProviderDown(_) => AppError::Unavailable(message),
            E::Processing => AppError::Conflict {
                code: "payment_processing",
                message,
                details: None,
            },
            E::Mismatch => AppError::Unprocessable {
                code: "payment_mismatch",
                message,
            },
        }
    }
}

/// Shorthand for handler results.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_or_session_store_is_503_and_a_broken_query_500() {
        let store_down = AppError::Session(tower_sessions::session::Error::Store(
            tower_sessions::session_store::Error::Backend("connection reset".into()),
        ));
        assert_eq!(store_down.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            AppError::Database(sqlx::Error::PoolTimedOut).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            AppError::Database(sqlx::Error::RowNotFound).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let bad_record = AppError::Session(tower_sessions::session::Error::Store(
            tower_sessions::session_store::Error::Decode("not json".into()),
        ));
        assert_eq!(bad_record.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
