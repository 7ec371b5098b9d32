//! Server functions answer every error with status 500; this gives each its own status
//! from its [`AppError`] code, so a malformed or refused call is a 4xx, as over REST.
//! The dashboard reads the error from the body whatever the status, so it is unaffected.

use crate::error::AppError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

/// The header server functions mark their error answers with.
const SERVER_FN_ERROR: &str = "serverfnerror";
/// An error body is a small JSON object; anything longer is left as it is.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn status_from_code(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Some(status) = serde_json::from_slice::<AppError>(&bytes)
        .ok()
        .and_then(|error| StatusCode::from_u16(error.code.http_status()).ok())
    {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}
