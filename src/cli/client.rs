//! A small REST client: JSON in and out, and the server's error answers turned into
//! messages for people.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;

/// Why a command could not do what it was asked.
#[derive(Debug)]
pub enum ClientError {
    /// The command line itself is wrong.
    Usage(String),
    /// The server could not be reached or answered something unreadable.
    Transport(String),
    /// The server refused: its status and `{"error": …}` message.
    Refused {
        status: u16,
        message: String,
        details: Vec<String>,
    },
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Usage(message) | ClientError::Transport(message) => f.write_str(message),
            ClientError::Refused {
                status,
                message,
                details,
            } => {
                write!(f, "{message} (HTTP {status})")?;
                for detail in details {
                    write!(f, "\n  {detail}")?;
                }
                Ok(())
            }
        }
    }
}

pub struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// A client of `server`, proving itself with `token` when given.
    pub fn new(server: &str, token: Option<&str>) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(Ok(value)) = token.map(|t| format!("Bearer {t}").parse()) {
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap_or_default();
        Client {
            http,
            base: server.trim_end_matches('/').to_string(),
        }
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.answer(self.http.get(self.url(path)).send().await)
            .await
    }

    pub async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        self.answer(self.http.post(self.url(path)).json(body).send().await)
            .await
    }

    pub async fn put_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        self.answer(self.http.put(self.url(path)).json(body).send().await)
            .await
    }

    /// A bodiless DELETE or POST.
    pub async fn send_empty<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
    ) -> Result<T, ClientError> {
        let request = match method {
            "DELETE" => self.http.delete(self.url(path)),
            _ => self.http.post(self.url(path)),
        };
        self.answer(request.send().await).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn answer<T: DeserializeOwned>(
        &self,
        sent: reqwest::Result<reqwest::Response>,
    ) -> Result<T, ClientError> {
        let response = sent.map_err(|err| {
            ClientError::Transport(format!(
                "cannot reach the Spool server at {}: {err}",
                self.base
            ))
        })?;
        let status = response.status().as_u16();
        let unreadable = || {
            ClientError::Transport(format!(
                "the server at {} did not answer JSON (HTTP {status})",
                self.base
            ))
        };
        let bytes = response.bytes().await.map_err(|_| unreadable())?;
        // An empty answer (204) reads as null, which is what `()` expects.
        let body: serde_json::Value = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|_| unreadable())?
        };
        if (200..300).contains(&status) {
            return serde_json::from_value(body).map_err(|err| {
                ClientError::Transport(format!("unexpected answer from the server: {err}"))
            });
        }
        let error = &body["error"];
        let details = error["details"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                format!(
                    "{}: {}",
                    d["field"].as_str().unwrap_or("?"),
                    d["message"].as_str().unwrap_or("")
                )
            })
            .collect();
        Err(ClientError::Refused {
            status,
            message: error["message"]
                .as_str()
                .unwrap_or("the request was refused")
                .to_string(),
            details,
        })
    }
}
