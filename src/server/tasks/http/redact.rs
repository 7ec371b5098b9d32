//! Hides the credentials of an `http` task wherever it is shown: the values of secret
//! headers and of query parameters with secret-sounding names. The stored parameters
//! keep them; the handler needs them.

use super::answer::{is_secret_header, HIDDEN};
use reqwest::Url;
use serde_json::Value;

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

/// `url` with the values of secret-sounding query parameters (`token`, `api_key`…)
/// hidden.
pub fn url(url: &Url) -> String {
    let secret = url.query_pairs().any(|(name, _)| is_secret_header(&name));
    if !secret {
        return url.to_string();
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(name, value)| {
            let value = if is_secret_header(&name) {
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
