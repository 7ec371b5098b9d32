//! `http`: calls an HTTP endpoint and records the answer, with the task's retry policy.
//!
//! Safe by default: every destination, the first and each redirect's, is checked after
//! its name is resolved ([`destination`]), and the connection goes to exactly the
//! addresses checked. Bodies and times are bounded, and credentials in headers or in the
//! URL's query are hidden wherever the task is shown and never logged.

mod addresses;
mod answer;
mod destination;
mod pinned;
mod redact;

use super::{TaskContext, TaskError, TaskKind};
use crate::error::FieldError;
use answer::SuccessStatuses;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub use destination::{Destinations, HttpAllow, Resolve, Resolving, SystemResolver};
pub(crate) use redact::is_secret_query;

/// Headers a task may not set: the connection's own, which the client manages.
const MANAGED_HEADERS: [&str; 9] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
];
/// The longest wait for a connection, within the task's own timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The `http` kind, reaching only the destinations `destinations` allows.
pub struct Http {
    pub destinations: Destinations,
}

/// An `http` task's parameters.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct HttpParams {
    /// The request's method.
    #[schemars(extend("enum" = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]))]
    method: String,
    /// An http:// or https:// URL (required).
    #[schemars(length(max = 2048))]
    url: String,
    /// Request headers; credentials (Authorization, *-Token, *-Key…) are hidden when shown.
    #[schemars(extend("maxProperties" = 50, "additionalProperties" = {"type": "string", "maxLength": 8192}))]
    headers: BTreeMap<String, String>,
    /// The request's body, sent as given.
    #[schemars(length(max = 65_536))]
    body: String,
    /// The whole exchange in milliseconds, redirects and body included.
    #[schemars(range(min = 100, max = 300_000))]
    timeout_ms: u64,
    /// Statuses that count as success, such as 200-299,304.
    #[schemars(length(max = 200))]
    success: String,
    /// Answer headers to keep in the result, comma-separated.
    #[schemars(length(max = 1000))]
    keep_headers: String,
    /// Redirects to follow; a redirect past them is the answer.
    #[schemars(range(max = 10))]
    max_redirects: u32,
}

impl Default for HttpParams {
    fn default() -> HttpParams {
        HttpParams {
            method: "GET".into(),
            url: String::new(),
            headers: BTreeMap::new(),
            body: String::new(),
            timeout_ms: 30_000,
            success: "200-299".into(),
            keep_headers: "content-type".into(),
            max_redirects: 5,
        }
    }
}

/// What an `http` task's result records.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HttpAnswer {
    /// The final answer's status.
    pub status: u16,
    /// The URL that gave it (after redirects), its secret query values hidden.
    pub url: String,
    /// How many redirects were followed.
    pub redirects: u32,
    /// The headers `keep_headers` asked for, where the answer had them.
    pub headers: BTreeMap<String, String>,
    /// The body's first bytes (as text, invalid UTF-8 replaced).
    pub body: String,
    /// True when the body was longer than the excerpt.
    pub body_truncated: bool,
    /// From sending the first request to the end of the excerpt.
    pub elapsed_ms: u64,
}

impl TaskKind for Http {
    const NAME: &'static str = "http";
    const DESCRIPTION: &'static str = "Calls an HTTP endpoint and records its status, chosen \
        headers and the start of its body; local and private addresses need --http-allow.";
    type Params = HttpParams;
    type Output = HttpAnswer;
    const HAS_SECRETS: bool = true;

    fn check(params: &HttpParams) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut problem = |field: &str, message: String| {
            errors.push(FieldError::new(format!("parameters.{field}"), message))
        };
        if let Err(message) = parse_url(&params.url) {
            problem("url", message);
        }
        for (name, value) in &params.headers {
            if let Err(message) = header(name, value) {
                problem("headers", message);
            }
        }
        if let Err(message) = SuccessStatuses::parse(&params.success) {
            problem("success", message);
        }
        for name in header_names(&params.keep_headers) {
            if HeaderName::from_bytes(name.as_bytes()).is_err() {
                problem("keep_headers", format!("{name:?} is not a header name"));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn redact(parameters: &mut serde_json::Value) {
        redact::parameters(parameters)
    }

    async fn run(&self, ctx: TaskContext, params: HttpParams) -> Result<HttpAnswer, TaskError> {
        let limit = Duration::from_millis(params.timeout_ms);
        tokio::select! {
            answer = tokio::time::timeout(limit, self.exchange(&ctx, params)) => {
                answer.unwrap_or_else(|_| Err(TaskError::failed(format!(
                    "no complete answer within {} ms", limit.as_millis()
                ))))
            }
            _ = ctx.cancelled() => Err(TaskError::Cancelled),
        }
    }
}

impl Http {
    /// Sends the request, following redirects, and reads the answer.
    async fn exchange(
        &self,
        ctx: &TaskContext,
        params: HttpParams,
    ) -> Result<HttpAnswer, TaskError> {
        let started = Instant::now();
        let mut url = parse_url(&params.url).map_err(TaskError::permanent)?;
        let mut method = Method::from_bytes(params.method.as_bytes())
            .map_err(|_| TaskError::permanent("the method is not one HTTP knows"))?;
        let mut headers = HeaderMap::new();
        for (name, value) in &params.headers {
            let (name, value) = header(name, value).map_err(TaskError::permanent)?;
            headers.append(name, value);
        }
        let mut body = Some(params.body).filter(|body| !body.is_empty());
        let success = SuccessStatuses::parse(&params.success).map_err(TaskError::permanent)?;
        let limit = Duration::from_millis(params.timeout_ms);
        let mut redirects = 0;
        loop {
            let dial = self.destinations.check(&url).await?;
            let shown = redact::url(&url);
            ctx.progress(10, format!("{method} {}", without_query(&shown)));
            ctx.info(format_args!("{method} {}", without_query(&shown)));
            let client = pinned::client(dial, limit.min(CONNECT_TIMEOUT))?;
            let mut request = client
                .request(method.clone(), url.clone())
                .headers(headers.clone());
            if let Some(body) = &body {
                request = request.body(body.clone());
            }
            let mut response = request.send().await.map_err(|e| {
                TaskError::failed(format!("the request failed: {}", pinned::describe(&e)))
            })?;
            let status = response.status();
            let location = response.headers().get(reqwest::header::LOCATION).cloned();
            let redirect = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
            if let (true, Some(location), true) =
                (redirect, location, redirects < params.max_redirects)
            {
                let next = redirect_target(status, &location, &url)?;
                redirects += 1;
                follow(&mut method, &mut body, &mut headers, status, &url, &next);
                let shown = redact::url(&next);
                ctx.info(format_args!(
                    "{status}: redirected to {}",
                    without_query(&shown)
                ));
                url = next;
                continue;
            }
            ctx.progress(60, format!("answered {status}; reading the body"));
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| answer::parse_retry_after(value, chrono::Utc::now()));
            // A server may echo the credentials it was sent: hidden in what is kept.
            let echoes = |text: &str| redact::echoes(text, &params.headers);
            let kept = kept_headers(response.headers(), &params.keep_headers)
                .into_iter()
                .map(|(name, value)| (name, echoes(&value)))
                .collect();
            let (excerpt, body_truncated) = answer::body_excerpt(&mut response).await?;
            let excerpt = echoes(&excerpt);
            ctx.info(format_args!("answered {status}"));
            if !success.contains(status.as_u16()) {
                return Err(answer::failure(status, retry_after, &excerpt));
            }
            ctx.progress(100, format!("answered {status}"));
            return Ok(HttpAnswer {
                status: status.as_u16(),
                url: shown,
                redirects,
                headers: kept,
                body: excerpt,
                body_truncated,
                elapsed_ms: started.elapsed().as_millis() as u64,
            });
        }
    }
}

/// Where a redirect leads, held to the rules of the first URL (http or https, no
/// credentials in it); the destination itself is checked before it is dialled.
fn redirect_target(
    status: StatusCode,
    location: &HeaderValue,
    from: &Url,
) -> Result<Url, TaskError> {
    let next = location
        .to_str()
        .ok()
        .and_then(|location| from.join(location).ok())
        .ok_or_else(|| TaskError::permanent(format!("{status} to an unreadable Location")))?;
    parse_url(next.as_str())
        .map_err(|why| TaskError::permanent(format!("refused: {status} to a URL where {why}")))
}

/// Adjusts the next request to a redirect as browsers do: 303 (and 301/302 after a POST)
/// turn into a bodiless GET; credentials are not sent on to another origin.
fn follow(
    method: &mut Method,
    body: &mut Option<String>,
    headers: &mut HeaderMap,
    status: StatusCode,
    from: &Url,
    to: &Url,
) {
    let to_get = status == StatusCode::SEE_OTHER && *method != Method::HEAD
        || matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
            && *method == Method::POST;
    if to_get {
        *method = Method::GET;
        *body = None;
        headers.remove(reqwest::header::CONTENT_TYPE);
    }
    if from.origin() != to.origin() {
        let secret: Vec<HeaderName> = headers
            .keys()
            .filter(|name| answer::is_secret_header(name.as_str()))
            .cloned()
            .collect();
        for name in secret {
            headers.remove(name);
        }
    }
}

/// The URL, if it is one this kind fetches: http or https, with a host and no
/// credentials in it (those belong in a header, where they are hidden).
fn parse_url(text: &str) -> Result<Url, String> {
    if text.trim().is_empty() {
        return Err("required: the URL to call".into());
    }
    let url = Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("only http and https URLs, not {}:", url.scheme()));
    }
    if url.host().is_none() {
        return Err("the URL has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "put credentials in an Authorization header, where they are hidden, not in the URL"
                .into(),
        );
    }
    Ok(url)
}

fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let parsed = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("{name:?} is not a header name"))?;
    if MANAGED_HEADERS.contains(&parsed.as_str()) {
        return Err(format!("{name:?} is set by the connection itself"));
    }
    let value = HeaderValue::from_str(value)
        .map_err(|_| format!("{name:?}: the value holds characters a header cannot"))?;
    Ok((parsed, value))
}

fn header_names(list: &str) -> impl Iterator<Item = &str> {
    list.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
}

/// The answer's headers named in `keep`, lower-cased, repeats joined with ", ";
/// credentials are kept as present but hidden.
fn kept_headers(headers: &HeaderMap, keep: &str) -> BTreeMap<String, String> {
    let mut kept = BTreeMap::new();
    for name in header_names(keep) {
        let name = name.to_ascii_lowercase();
        let values: Vec<String> = headers
            .get_all(name.as_str())
            .iter()
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .collect();
        if values.is_empty() {
            continue;
        }
        let value = if answer::is_secret_header(&name) {
            answer::HIDDEN.to_string()
        } else {
            values.join(", ")
        };
        kept.insert(name, value);
    }
    kept
}

/// For log lines and progress: the URL without its query, which may carry secrets.
fn without_query(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

#[cfg(test)]
mod tests;
