//! The HTTP client of one request: it reaches exactly the addresses the destination check
//! approved. Its resolver answers the checked host with the checked addresses and refuses
//! every other name, so nothing inside the client can resolve a name on its own; no
//! proxy is used (one from the environment would bypass the check) and redirects are
//! left to the kind, which checks each one.

use super::destination::Dial;
use crate::server::tasks::TaskError;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

struct Pinned {
    host: Option<String>,
    addresses: Vec<SocketAddr>,
}

impl Resolve for Pinned {
    fn resolve(&self, name: Name) -> Resolving {
        let answer: Result<Addrs, Box<dyn Error + Send + Sync>> =
            if self.host.as_deref() == Some(name.as_str()) {
                Ok(Box::new(self.addresses.clone().into_iter()))
            } else {
                Err(format!("{} was not checked", name.as_str()).into())
            };
        Box::pin(std::future::ready(answer))
    }
}

/// A client for the destination `dial` approved.
pub fn client(dial: Dial, connect_timeout: Duration) -> Result<reqwest::Client, TaskError> {
    let pinned = match dial {
        Dial::Literal => Pinned {
            host: None,
            addresses: Vec::new(),
        },
        Dial::Resolved { host, addresses } => Pinned {
            host: Some(host),
            addresses,
        },
    };
    reqwest::Client::builder()
        .dns_resolver(Arc::new(pinned))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .user_agent(concat!("spool/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            TaskError::failed(format!("the HTTP client could not start: {}", describe(&e)))
        })
}

/// A client error for people, without the URL (whose query may hold a secret), with
/// its causes (the connection refused, the certificate not trusted…).
pub fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let mut text = kind.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
