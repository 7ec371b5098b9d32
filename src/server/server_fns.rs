//! What server functions lack next to REST handlers: a bound on the body they read, and
//! error statuses. They answer every error with status 500; [`status_from_code`] gives
//! each its own status from its [`AppError`] code, so a malformed or refused call is a
//! 4xx, as over REST. The dashboard reads the error from the body whatever the status,
//! so it is unaffected.

use crate::error::{AppError, ErrorCode};
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;

/// The header server functions mark their error answers with.
const SERVER_FN_ERROR: &str = "serverfnerror";
/// An error body is a small JSON object; one longer (or of unknown length) is left as
/// it is.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn status_from_code(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR)
    {
        return response;
    }
    let most = axum::body::HttpBody::size_hint(response.body()).upper();
    if most.is_none_or(|length| length > MAX_ERROR_BODY as u64) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        parts.headers.remove(axum::http::header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(error.code.http_status()) {
            parts.status = status;
        }
        if let Some(secs) = error.retry_after_secs {
            parts
                .headers
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Refuses a body longer than REST's limit: up front when its length is declared, and
/// as soon as it grows past the limit when it is streamed.
pub async fn limit_body(request: Request, next: Next) -> Response {
    let limit = super::rest::BODY_LIMIT;
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return AppError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
            .into_response();
    }
    let (parts, body) = request.into_parts();
    let body = Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, body)).await
}
