//! Who may do what. With no token configured, Spool serves only loopback (see
//! [`super::config::ServeConfig::refusal`]) and answers only requests addressed to a
//! loopback name, which keeps a web page from reaching it through DNS rebinding. With a
//! token, every request except the login page, health checks, the OpenAPI document and
//! static assets must carry `Authorization: Bearer <token>` or the login page's session
//! cookie; the read-only token may look but not act.

mod actor;
mod login;
mod session;
mod tokens;

pub use actor::actor_of;
pub use tokens::{Access, Tokens};

use crate::server::queue::Proof;
use crate::server::rate_limit::SubmitLimit;

use crate::error::{AppError, ErrorCode};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// How requests are checked; built once at start-up.
#[derive(Clone, Debug)]
pub struct AccessPolicy {
    tokens: Tokens,
    /// No token, and not opened on purpose: only loopback host names are answered.
    loopback_only: bool,
    /// POST endpoints that only read (server functions, the timing preview): the method
    /// cannot tell.
    reading_posts: Vec<&'static str>,
    /// Failed logins per client: past the allowance, the login page answers 429
    /// without looking at the token.
    failed_logins: Arc<SubmitLimit>,
}

/// Failed logins a client may make at once, then one per [`LOGIN_RETRY_SECS`].
const FAILED_LOGINS: u32 = 10;
const LOGIN_RETRY_SECS: f64 = 6.0;

impl AccessPolicy {
    pub fn new(
        tokens: Tokens,
        insecure_open_access: bool,
        reading_posts: Vec<&'static str>,
    ) -> AccessPolicy {
        AccessPolicy {
            loopback_only: !tokens.required() && !insecure_open_access,
            tokens,
            reading_posts,
            failed_logins: Arc::new(SubmitLimit::with_rate(
                1.0 / LOGIN_RETRY_SECS,
                FAILED_LOGINS,
            )),
        }
    }

    /// Whether `access` may make this request.
    fn allows(&self, access: Access, method: &Method, path: &str) -> bool {
        access == Access::Full
            || super::web_security::changes_nothing(method)
            || (method == Method::POST && self.reading_posts.contains(&path))
    }

    /// The access the request proves, if any, and how: a bearer token first, then the
    /// session. A bearer token that is not one of ours is an error, whatever else is sent.
    fn proven(&self, headers: &HeaderMap) -> Result<Option<(Access, Proof)>, WrongToken> {
        // Another scheme (a proxy's Basic credentials, say) is not ours to judge.
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"));
        if let Some((_, token)) = bearer {
            return match self.tokens.recognise(token.trim()) {
                Some(access) => Ok(Some((access, Proof::Token))),
                None => Err(WrongToken),
            };
        }
        Ok(session::from_headers(headers)
            .and_then(|value| session::verify(&self.tokens, value, now_secs()))
            .map(|access| (access, Proof::Session)))
    }
}

/// An `Authorization` header that carries no token of ours.
#[derive(Debug)]
struct WrongToken;

/// The login page and logout, which every policy serves.
pub fn routes<S: Clone + Send + Sync + 'static>(policy: Arc<AccessPolicy>) -> Router<S> {
    Router::new()
        .route(login::PATH, get(login::page).post(login::submit))
        .route("/logout", post(login::logout))
        .with_state(policy)
}

/// The middleware: lets the request through, or answers it with a login redirect, 401
/// or 403.
pub async fn check(
    State(policy): State<Arc<AccessPolicy>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if has_dot_segment(path) {
        // Routing and the public prefixes compare raw paths; a `..` would make them
        // disagree with what is finally served.
        return AppError::bad_request("paths may not hold `.` or `..` segments").into_response();
    }
    if policy.loopback_only {
        if !addressed_to_loopback(request.headers(), request.uri()) {
            return AppError::new(
                ErrorCode::Forbidden,
                "this Spool answers only requests addressed to localhost; start it with a token to serve other names",
            )
            .into_response();
        }
        request.extensions_mut().insert(Proof::Local);
        return next.run(request).await;
    }
    if !policy.tokens.required() {
        request.extensions_mut().insert(Proof::Open);
        return next.run(request).await;
    }
    if is_public(path) {
        return next.run(request).await;
    }
    let (access, proof) = match policy.proven(request.headers()) {
        Ok(Some(proven)) => proven,
        Ok(None) if wants_page(&request) => {
            return Redirect::to(&login::url_for(request.uri())).into_response()
        }
        Ok(None) => return unauthorized("an access token is required").into_response(),
        Err(WrongToken) => return unauthorized("the bearer token is not valid"),
    };
    if !policy.allows(access, request.method(), path) {
        return AppError::new(
            ErrorCode::Forbidden,
            "the read-only token can look but not change anything",
        )
        .into_response();
    }
    request.extensions_mut().insert(proof);
    next.run(request).await
}

fn unauthorized(message: &str) -> Response {
    let mut response = AppError::new(ErrorCode::Unauthorized, message).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Reachable without a token: nothing here reveals or changes a task.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        login::PATH | "/logout" | "/healthz" | "/readyz" | "/favicon.ico"
    ) || path == super::rest::openapi::PATH
        || path.starts_with("/pkg/")
}

/// A person's browser asking for a page (sent to the login page), rather than a script
/// or the dashboard's own calls (answered 401).
fn wants_page(request: &Request) -> bool {
    request.method() == Method::GET
        && !request.uri().path().starts_with("/api/")
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// Whether a path segment is `.` or `..`, written plainly or percent-encoded.
fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|segment| {
        let decoded = segment.replace("%2e", ".").replace("%2E", ".");
        decoded == "." || decoded == ".."
    })
}

/// The `Host` names (or, in HTTP/2, authorities) a loopback-only server answers to.
fn addressed_to_loopback(headers: &HeaderMap, uri: &axum::http::Uri) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    let Some(host) = host else {
        // HTTP/1.0 without Host: nothing a browser sends.
        return true;
    };
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), value.parse().unwrap());
        }
        map
    }

    #[test]
    fn dot_segments_are_found_however_they_are_written() {
        for path in [
            "/pkg/../tasks",
            "/pkg/%2e%2e/queues",
            "/pkg/%2E./x",
            "/./tasks",
            "/a/.",
        ] {
            assert!(has_dot_segment(path), "{path}");
        }
        for path in [
            "/",
            "/tasks",
            "/pkg/spool.js",
            "/tasks/a..b",
            "/.well-known",
        ] {
            assert!(!has_dot_segment(path), "{path}");
        }
    }

    #[test]
    fn only_loopback_host_names_count_as_loopback() {
        for host in [
            "localhost",
            "localhost:3000",
            "127.0.0.1:8080",
            "127.1.2.3",
            "[::1]:3000",
            "LOCALHOST",
        ] {
            assert!(
                addressed_to_loopback(&headers(&[(header::HOST, host)]), &"/".parse().unwrap()),
                "{host}"
            );
        }
        for host in [
            "evil.example",
            "evil.example:3000",
            "localhost.evil.example",
            "10.0.0.1:3000",
            "[::2]:80",
            "127.0.0.1.nip.io",
        ] {
            assert!(
                !addressed_to_loopback(&headers(&[(header::HOST, host)]), &"/".parse().unwrap()),
                "{host}"
            );
        }
    }

    #[test]
    fn the_read_only_token_reads_including_reading_server_functions_and_nothing_more() {
        let policy = AccessPolicy::new(
            Tokens::new(
                Some("full-access-token-0123".into()),
                Some("read-only-token-456789".into()),
            ),
            false,
            vec!["/api/overview"],
        );
        assert!(!policy.loopback_only);
        assert!(policy.allows(Access::ReadOnly, &Method::GET, "/api/tasks/"));
        assert!(policy.allows(Access::ReadOnly, &Method::POST, "/api/overview"));
        assert!(!policy.allows(Access::ReadOnly, &Method::POST, "/api/tasks/submit"));
        assert!(!policy.allows(Access::ReadOnly, &Method::POST, "/api/submit_task"));
        assert!(!policy.allows(Access::ReadOnly, &Method::DELETE, "/api/tasks/x"));
        assert!(policy.allows(Access::Full, &Method::DELETE, "/api/tasks/x"));
    }

    #[test]
    fn a_wrong_bearer_token_is_refused_even_beside_a_valid_session() {
        let tokens = Tokens::new(Some("full-access-token-0123".into()), None);
        let cookie = format!(
            "{}={}",
            session::COOKIE,
            session::issue(&tokens, Access::Full, now_secs()).unwrap()
        );
        let policy = AccessPolicy::new(tokens, false, vec![]);
        let with_cookie = headers(&[(header::COOKIE, &cookie)]);
        assert_eq!(
            policy.proven(&with_cookie).unwrap(),
            Some((Access::Full, Proof::Session))
        );
        let both = headers(&[
            (header::COOKIE, &cookie),
            (header::AUTHORIZATION, "Bearer nope"),
        ]);
        assert!(policy.proven(&both).is_err());
        let lower = headers(&[(header::AUTHORIZATION, "bearer full-access-token-0123")]);
        assert_eq!(
            policy.proven(&lower).unwrap(),
            Some((Access::Full, Proof::Token))
        );
        let basic = headers(&[
            (header::COOKIE, &cookie),
            (header::AUTHORIZATION, "Basic dXNlcjpwdw=="),
        ]);
        assert_eq!(
            policy.proven(&basic).unwrap(),
            Some((Access::Full, Proof::Session)),
            "a proxy's credentials are ignored"
        );
        assert_eq!(policy.proven(&HeaderMap::new()).unwrap(), None);
    }
}
