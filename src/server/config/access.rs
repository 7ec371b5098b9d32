//! Who may reach the HTTP a process serves: `spool serve`'s port and the metrics port
//! of `spool worker` follow the same closed-by-default rule.

use super::parse_token;
use crate::server::access::{AccessPolicy, Tokens};
use clap::Args;
use std::net::SocketAddr;

/// The tokens, and the loudly named opt-out for an address other machines can reach.
#[derive(Clone, Debug, Default, Args)]
#[command(next_help_heading = "Access")]
pub struct AccessConfig {
    /// Full-access token (16–512 characters): required of the API and the dashboard
    #[arg(long, env = "SPOOL_TOKEN", hide_env_values = true, value_parser = parse_token)]
    pub token: Option<String>,

    /// Read-only token: its holder sees everything and changes nothing
    #[arg(long, env = "SPOOL_READ_ONLY_TOKEN", hide_env_values = true,
          value_parser = parse_token, requires = "token")]
    pub read_only_token: Option<String>,

    /// Serve a non-loopback address with no token (only behind a checking proxy)
    #[arg(long, env = "SPOOL_INSECURE_OPEN_ACCESS")]
    pub insecure_open_access: bool,
}

impl AccessConfig {
    /// Why `what` must not be served on `addr` with these settings, if it must not: an
    /// address other machines can reach needs a token (or the opt-out), and the two
    /// tokens must differ.
    pub fn refusal(&self, what: &str, addr: SocketAddr) -> Option<String> {
        if !addr.ip().is_loopback() && self.token.is_none() && !self.insecure_open_access {
            return Some(format!(
                "refusing to serve {what} on {addr} without an access token: anyone on the \
                 network could reach it. Set --token (or SPOOL_TOKEN), or pass \
                 --insecure-open-access if something in front of Spool does the checking"
            ));
        }
        if self.token.is_some() && self.token == self.read_only_token {
            return Some("--token and --read-only-token must differ".into());
        }
        None
    }

    /// How requests are checked; `reading_posts` are the POST paths the read-only token
    /// may call.
    pub(crate) fn policy(&self, reading_posts: Vec<&'static str>) -> AccessPolicy {
        AccessPolicy::new(
            Tokens::new(self.token.clone(), self.read_only_token.clone()),
            self.insecure_open_access,
            reading_posts,
        )
    }
}
