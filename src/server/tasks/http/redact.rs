//! Hides the credentials of an `http` task wherever it is shown: the values of secret
//! headers and of query parameters with secret-sounding names. The stored parameters
//! keep them; the handler needs them.

use super::answer::{is_secret_header, HIDDEN};
use reqwest::Url;
use serde_json::Value;
use std::collections::BTreeMap;

/// Hides the secrets in an `http` task's parameters.
pub fn parameters(parameters: &mut Value) {
    if let Some(Value::Object(headers)) = parameters.get_mut("headers") {
        for (name, value) in headers.iter_mut() {
            if is_secret_header(name) {
                *value = Value::from(HIDDEN);
            }
        }
    }
    if let Some(Value::String(text)) = parameters.get_mut("url") {
        if let Ok(parsed) = Url::parse(text) {
            *text = url(&parsed);
        }
    }
}

/// `url` with the values of secret-sounding query parameters (`token`, `api_key`,
/// `sig`…) hidden, and without its fragment (where OAuth puts tokens).
pub fn url(url: &Url) -> String {
    let mut url = url.clone();
    url.set_fragment(None);
    let secret = url.query_pairs().any(|(name, _)| is_secret_query(&name));
    if !secret {
        return url.to_string();
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(name, value)| {
            let value = if is_secret_query(&name) {
                HIDDEN.to_string()
            } else {
                value.into_owned()
            };
            (name.into_owned(), value)
        })
        .collect();
    let mut shown = url.clone();
    shown.query_pairs_mut().clear().extend_pairs(pairs);
    shown.to_string()
}

/// True for query parameters that carry credentials: those named like secret headers,
/// and the short names signed URLs and webhooks use. The access log hides them too.
pub(crate) fn is_secret_query(name: &str) -> bool {
    let short = [
        "sig",
        "code",
        "jwt",
        "pwd",
        "pass",
        "pw",
        "access_token",
        "client_secret",
    ];
    is_secret_header(name) || short.iter().any(|short| name.eq_ignore_ascii_case(short))
}

/// `text` with the values of the request's secret headers hidden, where a server echoed
/// them back (a debug endpoint, an "invalid token: …" error). Values under 8 characters
/// are left alone: they would hide ordinary words.
pub fn echoes(text: &str, headers: &BTreeMap<String, String>) -> String {
    let mut text = text.to_string();
    for (name, value) in headers {
        if is_secret_header(name) && value.len() >= 8 {
            text = text.replace(value.as_str(), HIDDEN);
            // A bearer token is often echoed without its scheme.
            if let Some((_, token)) = value.split_once(' ').filter(|(_, t)| t.len() >= 8) {
                text = text.replace(token, HIDDEN);
            }
        }
    }
    text
}
