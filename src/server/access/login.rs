//! The login page: a plain HTML form (it works without JavaScript) that trades a token
//! for the session cookie, and logout, which ends it.

use super::{now_secs, session, AccessPolicy};
use crate::error::AppError;
use crate::server::rate_limit::Client;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Instant;

pub const PATH: &str = "/login";

#[derive(Deserialize)]
pub struct Target {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct Login {
    token: String,
    next: Option<String>,
}

/// Where a browser that asked for `uri` without a session is sent.
pub fn url_for(uri: &Uri) -> String {
    let wanted = uri.path_and_query().map_or("/", |p| p.as_str());
    format!("{PATH}?next={}", encode(wanted))
}

pub async fn page(
    State(policy): State<Arc<AccessPolicy>>,
    target: Result<Query<Target>, QueryRejection>,
) -> Response {
    let Ok(Query(target)) = target else {
        return AppError::bad_request("the login page takes only `next`").into_response();
    };
    let next = local_path(target.next.as_deref());
    if !policy.tokens.required() {
        return Redirect::to(next).into_response();
    }
    Html(form(next, None)).into_response()
}

pub async fn submit(
    State(policy): State<Arc<AccessPolicy>>,
    Client(client): Client,
    headers: HeaderMap,
    login: Result<Form<Login>, FormRejection>,
) -> Response {
    let Ok(Form(login)) = login else {
        return AppError::bad_request("the login form needs a token").into_response();
    };
    // A client out of failed attempts is not even checked: guessing costs it time.
    let client = client.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    if let Err(wait) = policy.failed_logins.take(client, 0, Instant::now()) {
        let retry = wait.as_secs_f64().ceil().max(1.0) as u64;
        let message = format!("too many failed logins from this client; retry in {retry} s");
        return AppError::too_many(message, retry).into_response();
    }
    let next = local_path(login.next.as_deref());
    let session = policy
        .tokens
        .recognise(login.token.trim())
        .and_then(|access| session::issue(&policy.tokens, access, now_secs()));
    let Some(session) = session else {
        let _ = policy.failed_logins.take(client, 1, Instant::now());
        let page = form(next, Some("That token is not valid."));
        return (StatusCode::UNAUTHORIZED, Html(page)).into_response();
    };
    let secure = headers
        .get("x-forwarded-proto")
        .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https"));
    (
        [(header::SET_COOKIE, session::set_cookie(&session, secure))],
        Redirect::to(next),
    )
        .into_response()
}

pub async fn logout() -> Response {
    (
        [(header::SET_COOKIE, session::clear_cookie())],
        Redirect::to(PATH),
    )
        .into_response()
}

/// `next` if it is a path on this site; anything else (`//host`, `https://…`, `/\host`)
/// could send the browser elsewhere after login.
fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path
        }
        _ => "/",
    }
}

fn form(next: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!(r#"<p class="alert" role="alert">{}</p>"#, escape(e)))
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Log in · Spool</title>
<link rel="icon" href="/favicon.ico">
<link rel="stylesheet" href="/pkg/spool.css">
</head>
<body>
<main class="content login">
<form method="post" action="{PATH}" class="panel">
<h1 class="brand">Spool</h1>
<div class="field">
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
</div>
<input type="hidden" name="next" value="{next}">
{error}
<button type="submit" class="primary">Log in</button>
</form>
</main>
</body>
</html>
"#,
        next = escape(next),
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Percent-encodes everything but unreserved characters and `/`.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_followed_after_login() {
        assert_eq!(
            local_path(Some("/tasks?status=FAILED")),
            "/tasks?status=FAILED"
        );
        for elsewhere in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "evil",
            "/\nx",
        ] {
            assert_eq!(local_path(Some(elsewhere)), "/", "{elsewhere:?}");
        }
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn the_page_escapes_where_it_would_go() {
        let page = form("/tasks?q=\"><script>alert(1)</script>", None);
        assert!(!page.contains("<script>"));
        assert!(page.contains("&quot;&gt;&lt;script&gt;"));
    }

    #[test]
    fn the_return_path_survives_the_trip_through_the_query() {
        let url = url_for(&"/tasks?status=FAILED&type=noop".parse().unwrap());
        assert_eq!(url, "/login?next=/tasks%3Fstatus%3DFAILED%26type%3Dnoop");
    }
}
