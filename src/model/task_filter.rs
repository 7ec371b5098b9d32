//! Which tasks a list or a bulk action selects: one type and one parser for the REST
//! query string, the dashboard's URL and its server functions, and the command line, so
//! a filter means the same and is refused with the same words wherever it is typed.

use super::TaskStatus;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

/// Longest search text, in characters.
pub const MAX_SEARCH: usize = 200;

/// Everything but RFC 3986's unreserved characters is percent-encoded.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A task filter; every part is optional, and an empty one selects every task.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TaskFilter {
    /// Only tasks in this status.
    pub status: Option<TaskStatus>,
    /// Only tasks of this kind.
    pub task_type: Option<String>,
    /// Only tasks in this queue.
    pub queue: Option<String>,
    /// Text to find in parameters, results or errors, ignoring case.
    pub q: Option<String>,
}

impl TaskFilter {
    /// The filter that text fields ask for (a query string's values, command-line
    /// flags); an empty value means "any". Errors are messages for people that name the
    /// field.
    pub fn parse(
        status: Option<&str>,
        task_type: Option<&str>,
        queue: Option<&str>,
        q: Option<&str>,
    ) -> Result<TaskFilter, String> {
        let given = |value: Option<&str>| value.filter(|v| !v.is_empty()).map(str::to_string);
        let status = match given(status) {
            None => None,
            Some(text) => Some(text.parse::<TaskStatus>().map_err(|_| {
                format!(
                    "unknown status {text:?}; expected one of {}",
                    TaskStatus::ALL.map(TaskStatus::as_str).join(", ")
                )
            })?),
        };
        let filter = TaskFilter {
            status,
            task_type: given(task_type),
            queue: given(queue),
            q: given(q),
        };
        filter.check()?;
        Ok(filter)
    }

    /// Whether a filter that arrived whole (a server function's argument) is one
    /// [`TaskFilter::parse`] would give.
    pub fn check(&self) -> Result<(), String> {
        if self
            .q
            .as_ref()
            .is_some_and(|q| q.chars().count() > MAX_SEARCH)
        {
            return Err(format!("q is longer than {MAX_SEARCH} characters"));
        }
        Ok(())
    }

    /// Selects every task (a part set to empty text means "any", as in [`TaskFilter::parse`]).
    pub fn is_empty(&self) -> bool {
        let unset = |part: &Option<String>| part.as_deref().is_none_or(str::is_empty);
        self.status.is_none() && unset(&self.task_type) && unset(&self.queue) && unset(&self.q)
    }

    /// The filter's parts that are set, as query-string pairs.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(status) = self.status {
            pairs.push(("status", status.as_str().to_string()));
        }
        for (key, value) in [
            ("task_type", &self.task_type),
            ("queue", &self.queue),
            ("q", &self.q),
        ] {
            if let Some(value) = value {
                pairs.push((key, value.clone()));
            }
        }
        pairs
    }

    /// The filter and `extra` pairs as a percent-encoded query string, without the `?`.
    pub fn query_string(&self, extra: &[(&str, String)]) -> String {
        self.pairs()
            .iter()
            .map(|(key, value)| (*key, value.as_str()))
            .chain(extra.iter().map(|(key, value)| (*key, value.as_str())))
            .map(|(key, value)| format!("{key}={}", query_value(value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// `value` percent-encoded for a query string.
pub fn query_value(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_mean_any_and_status_is_case_insensitive() {
        let filter = TaskFilter::parse(Some("failed"), Some(""), None, Some("")).unwrap();
        assert_eq!(
            filter,
            TaskFilter {
                status: Some(TaskStatus::Failed),
                ..TaskFilter::default()
            }
        );
        assert!(TaskFilter::parse(None, Some(""), Some(""), None)
            .unwrap()
            .is_empty());
        // As a server function's argument arrives, whole.
        let blank = TaskFilter {
            q: Some(String::new()),
            ..TaskFilter::default()
        };
        assert!(blank.is_empty());
    }

    #[test]
    fn a_bad_status_or_a_long_search_is_refused_by_name() {
        let status = TaskFilter::parse(Some("DONE"), None, None, None).unwrap_err();
        assert!(
            status.contains("\"DONE\"") && status.contains("PENDING"),
            "{status}"
        );
        let long = "x".repeat(MAX_SEARCH + 1);
        let search = TaskFilter::parse(None, None, None, Some(&long)).unwrap_err();
        assert!(search.starts_with("q "), "{search}");
        let longest = "é".repeat(MAX_SEARCH);
        assert!(TaskFilter::parse(None, None, None, Some(&longest)).is_ok());
    }

    #[test]
    fn the_query_string_round_trips_any_text() {
        let filter = TaskFilter {
            status: Some(TaskStatus::Running),
            task_type: Some("data_processing".into()),
            queue: Some("a&b=c".into()),
            q: Some("50% done, ünïcode + spaces".into()),
        };
        let text = filter.query_string(&[("limit", "5".into())]);
        assert!(!text.contains(' ') && !text.contains('+'), "{text}");
        let decoded: Vec<(String, String)> = text
            .split('&')
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap();
                let value = percent_encoding::percent_decode_str(value)
                    .decode_utf8()
                    .unwrap();
                (key.to_string(), value.into_owned())
            })
            .collect();
        let get = |key: &str| {
            decoded
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let parsed = TaskFilter::parse(get("status"), get("task_type"), get("queue"), get("q"));
        assert_eq!(parsed.unwrap(), filter);
        assert_eq!(get("limit"), Some("5"));
    }
}
