//! `AppError`: the one error type at Spool's boundary (REST handlers and server functions).
//!
//! It carries a stable machine code, a message meant for people, and optional per-field
//! details. Internal failures are logged where they happen and reach clients only as the
//! generic [`AppError::internal`], so no database or file-system text ever leaks.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Stable, machine-readable error codes. Each maps to one HTTP status.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed (a bad cursor, an unreadable body).
    BadRequest,
    /// No token, or a wrong one.
    Unauthorized,
    /// The token may not do this (a read-only token asked to write), or a cross-site request.
    Forbidden,
    /// No such task or route.
    NotFound,
    /// The request conflicts with the task's state (retrying a task that has not failed).
    Conflict,
    /// The body is over the size limit.
    PayloadTooLarge,
    /// The body is not JSON.
    UnsupportedMediaType,
    /// The input parsed but is not acceptable; `details` names the fields.
    Validation,
    /// Too many submits; `retry_after_secs` says when to try again.
    RateLimited,
    /// The server cannot answer now (the database is unreachable, or it is shutting down).
    Unavailable,
    /// Something failed inside the server; the text never says what (see the server's log).
    Internal,
}

impl ErrorCode {
    /// The HTTP status this code is answered with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::Validation => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
        }
    }
}

/// What is wrong with one input field.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field's name, e.g. `parameters.rows` or `task_type`.
    pub field: String,
    /// What is wrong with it, for a person to read.
    pub message: String,
}

impl FieldError {
    /// The error of `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An error a client may see.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppError {
    /// What kind of error, stable for scripts.
    pub code: ErrorCode,
    /// What went wrong, for a person to read.
    pub message: String,
    /// One entry per invalid field (validation errors).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldError>,
    /// Whole seconds until a retry can succeed (rate limits); also sent as `Retry-After`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

impl AppError {
    /// An error of `code` with `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after_secs: None,
        }
    }

    /// A 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    /// A 404 with `message`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// A 409 with `message`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    /// Input that parsed but is not acceptable; `details` says which fields and why.
    pub fn validation(details: Vec<FieldError>) -> Self {
        let message = match details.as_slice() {
            [only] => format!("{}: {}", only.field, only.message),
            _ => format!("{} fields are invalid", details.len()),
        };
        AppError {
            code: ErrorCode::Validation,
            message,
            details,
            retry_after_secs: None,
        }
    }

    /// Too many requests from this client; it may retry after `retry_after_secs`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        AppError {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(
                ErrorCode::RateLimited,
                format!("too many submits from this client; retry in {retry_after_secs} s"),
            )
        }
    }

    /// Too many of something from this client or in all (`message` says what); retry
    /// after `retry_after_secs`.
    pub fn too_many(message: String, retry_after_secs: u64) -> Self {
        AppError {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(ErrorCode::RateLimited, message)
        }
    }

    /// The storage is unreachable or out of space; the client may try again later.
    pub fn unavailable() -> Self {
        Self::new(
            ErrorCode::Unavailable,
            "the task store is unavailable; try again shortly",
        )
    }

    /// The process is shutting down and takes no more work.
    pub fn draining() -> Self {
        Self::new(ErrorCode::Unavailable, "this process is shutting down")
    }

    /// Something failed inside Spool. The cause is logged, never sent.
    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "internal error")
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

/// Lets server functions return `Result<T, AppError>`: transport failures (the server is
/// unreachable, a response could not be decoded) become `Unavailable` / `Internal`.
impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Request(_) | E::Response(_) => {
                AppError::new(ErrorCode::Unavailable, "the server cannot be reached")
            }
            E::Args(message) | E::MissingArg(message) => AppError::bad_request(message),
            E::UnsupportedRequestMethod(message) => AppError::bad_request(message),
            // On the server, what failed to decode is the caller's arguments.
            E::Deserialization(message) if cfg!(feature = "ssr") => AppError::bad_request(message),
            _ => AppError::internal(),
        }
    }
}

#[cfg(feature = "ssr")]
mod http {
    use super::AppError;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::Json;

    /// REST answers an error as `{"error": {"code", "message", "details"}}`.
    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let status = StatusCode::from_u16(self.code.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = (status, Json(serde_json::json!({ "error": self }))).into_response();
            if let Some(secs) = self.retry_after_secs {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, secs.into());
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_message_names_the_single_field() {
        let err = AppError::validation(vec![FieldError::new("parameters.rows", "must be ≥ 1")]);
        assert_eq!(err.code.http_status(), 422);
        assert_eq!(err.message, "parameters.rows: must be ≥ 1");
    }

    #[test]
    fn internal_error_says_nothing_about_the_cause() {
        let json = serde_json::to_value(AppError::internal()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "internal", "message": "internal error"})
        );
    }
}
