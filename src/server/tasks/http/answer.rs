//! Reading an `http` task's answer: which statuses count as success, what a failure
//! means for retrying (`Retry-After` included), which headers are secrets, and a bounded
//! excerpt of the body.

use crate::server::tasks::TaskError;
use std::ops::RangeInclusive;
use std::time::Duration;

/// The most body bytes a result keeps; the rest of the body is not read.
pub const BODY_EXCERPT_BYTES: usize = 16 * 1024;

/// Shown instead of a secret header's value.
pub const HIDDEN: &str = "(hidden)";

/// The statuses that count as success, from text such as `200-299,304`.
#[derive(Clone, Debug, PartialEq)]
pub struct SuccessStatuses(Vec<RangeInclusive<u16>>);

impl SuccessStatuses {
    /// Parses a comma-separated list of statuses and ranges (100 to 599).
    pub fn parse(text: &str) -> Result<SuccessStatuses, String> {
        let mut ranges = Vec::new();
        for part in text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
        {
            let (low, high) = part.split_once('-').unwrap_or((part, part));
            let status = |text: &str| {
                text.trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|status| (100..=599).contains(status))
                    .ok_or_else(|| format!("{part:?}: statuses are numbers from 100 to 599"))
            };
            let (low, high) = (status(low)?, status(high)?);
            if low > high {
                return Err(format!("{part:?}: the range runs backwards"));
            }
            ranges.push(low..=high);
        }
        if ranges.is_empty() {
            return Err("name at least one status, such as 200-299".into());
        }
        Ok(SuccessStatuses(ranges))
    }

    /// True when `status` is one of them.
    pub fn contains(&self, status: u16) -> bool {
        self.0.iter().any(|range| range.contains(&status))
    }
}

/// The failure for an answer whose status is not a success. Timeouts, rate limits and
/// server errors are retried (after `Retry-After` when the server gave one); any other
/// status is permanent, since another attempt would get the same answer.
pub fn failure(
    status: reqwest::StatusCode,
    retry_after: Option<Duration>,
    excerpt: &str,
) -> TaskError {
    let mut message = format!("answered {status}");
    let excerpt: String = excerpt.chars().take(200).collect();
    if !excerpt.trim().is_empty() {
        message.push_str(": ");
        message.push_str(excerpt.trim());
    }
    let retryable = matches!(status.as_u16(), 408 | 425 | 429 | 500..=599);
    match (retryable, retry_after) {
        (true, Some(after)) => TaskError::retry_after(message, after),
        (true, None) => TaskError::failed(message),
        (false, _) => TaskError::permanent(format!("{message} (not retried)")),
    }
}

/// A `Retry-After` value: seconds, or an HTTP date (a date in the past means now).
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.with_timezone(&chrono::Utc) - now;
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// True for headers whose values are credentials: never shown, never logged, and not
/// sent on to another host after a redirect.
pub fn is_secret_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || [
        "token",
        "secret",
        "key",
        "password",
        "auth",
        "session",
        "signature",
        "credential",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// Reads at most [`BODY_EXCERPT_BYTES`] of the body: the excerpt (invalid UTF-8
/// replaced) and whether more was left unread.
pub async fn body_excerpt(response: &mut reqwest::Response) -> Result<(String, bool), TaskError> {
    let mut bytes = Vec::new();
    let mut truncated = false;
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        TaskError::failed(format!("the body could not be read: {}", e.without_url()))
    })? {
        let room = BODY_EXCERPT_BYTES - bytes.len();
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok((String::from_utf8_lossy(&bytes).into_owned(), truncated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_statuses_parse_lists_and_ranges() {
        let statuses = SuccessStatuses::parse("200-299, 304").unwrap();
        assert!(statuses.contains(200) && statuses.contains(299) && statuses.contains(304));
        assert!(!statuses.contains(300) && !statuses.contains(404));
        for bad in ["", "abc", "99", "600", "300-200", "200-", "2xx"] {
            assert!(SuccessStatuses::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn failures_are_retried_only_where_another_attempt_can_help() {
        use reqwest::StatusCode;
        let after = Some(Duration::from_secs(7));
        assert_eq!(
            failure(StatusCode::TOO_MANY_REQUESTS, after, "slow down"),
            TaskError::retry_after(
                "answered 429 Too Many Requests: slow down",
                Duration::from_secs(7)
            )
        );
        assert_eq!(
            failure(StatusCode::BAD_GATEWAY, None, ""),
            TaskError::failed("answered 502 Bad Gateway")
        );
        assert!(matches!(
            failure(StatusCode::NOT_FOUND, after, ""),
            TaskError::Permanent(_)
        ));
        assert!(matches!(
            failure(StatusCode::FOUND, None, ""),
            TaskError::Permanent(_)
        ));
        let long = "x".repeat(5000);
        let TaskError::Failed(message) = failure(StatusCode::INTERNAL_SERVER_ERROR, None, &long)
        else {
            panic!("a 500 is retried");
        };
        assert!(
            message.len() < 300,
            "the message keeps a short excerpt: {}",
            message.len()
        );
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 2026 00:01:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_retry_after("Wed, 31 Dec 2025 00:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn credentials_are_recognised_by_name() {
        for secret in [
            "Authorization",
            "cookie",
            "X-Api-Key",
            "X-Auth-Token",
            "X-Hub-Signature-256",
        ] {
            assert!(is_secret_header(secret), "{secret}");
        }
        for plain in ["Content-Type", "Accept", "User-Agent", "X-Request-Id"] {
            assert!(!is_secret_header(plain), "{plain}");
        }
    }
}
