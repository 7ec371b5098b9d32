//! Where the `http` kind may connect. Addresses that reach into the machine or its
//! network (loopback, private, link-local where cloud metadata services answer, and the
//! other special ranges) are refused unless `--http-allow` names them. Names are resolved
//! here, every address is checked, and the checked addresses are the only ones dialled:
//! nothing resolves the name a second time, so a DNS answer that changes between the check
//! and the connection (rebinding) cannot slip past.

use super::addresses::special_range;
use crate::server::tasks::TaskError;
use reqwest::Url;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;

/// A destination the `http` kind may reach although it is local or private, as
/// `--http-allow` names it: `HOST`, `HOST:PORT`, `IP`, `IP:PORT`, `[IPv6]:PORT` or a
/// network in CIDR form (`10.0.0.0/8`, any port). A host name allows whatever it
/// resolves to; an address or network allows that address whatever name led to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpAllow(Rule);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Rule {
    Host { name: String, port: Option<u16> },
    Address { ip: IpAddr, port: Option<u16> },
    Network { ip: IpAddr, prefix: u8 },
}

impl FromStr for HttpAllow {
    type Err = String;

    fn from_str(text: &str) -> Result<HttpAllow, String> {
        let text = text.trim();
        if let Some((ip, prefix)) = text.split_once('/') {
            let ip: IpAddr = ip
                .parse()
                .map_err(|_| format!("{text:?}: {ip:?} is not an IP address"))?;
            let bits = if ip.is_ipv4() { 32 } else { 128 };
            let prefix = prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= bits)
                .ok_or_else(|| format!("{text:?}: the prefix must be from 0 to {bits}"))?;
            return Ok(HttpAllow(Rule::Network { ip, prefix }));
        }
        if let Ok(address) = text.parse::<SocketAddr>() {
            return Ok(HttpAllow(Rule::Address {
                ip: address.ip(),
                port: Some(address.port()),
            }));
        }
        if let Ok(ip) = text
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<IpAddr>()
        {
            return Ok(HttpAllow(Rule::Address { ip, port: None }));
        }
        let (name, port) = match text.rsplit_once(':') {
            Some((name, port)) => {
                let port = port
                    .parse::<u16>()
                    .map_err(|_| format!("{text:?}: {port:?} is not a port number"))?;
                (name, Some(port))
            }
            None => (text, None),
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let valid = !name.is_empty()
            && name.len() <= 253
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
        if !valid {
            return Err(format!(
                "{text:?}: expected HOST, HOST:PORT, IP, IP:PORT or a network such as 10.0.0.0/8"
            ));
        }
        Ok(HttpAllow(Rule::Host { name, port }))
    }
}

impl fmt::Display for HttpAllow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Rule::Host { name, port: None } => write!(f, "{name}"),
            Rule::Host {
                name,
                port: Some(port),
            } => write!(f, "{name}:{port}"),
            Rule::Address { ip, port: None } => write!(f, "{ip}"),
            Rule::Address {
                ip,
                port: Some(port),
            } => write!(f, "{}", SocketAddr::new(*ip, *port)),
            Rule::Network { ip, prefix } => write!(f, "{ip}/{prefix}"),
        }
    }
}

impl HttpAllow {
    fn allows_host(&self, host: &str, port: u16) -> bool {
        matches!(&self.0, Rule::Host { name, port: allowed }
            if name == host && allowed.is_none_or(|allowed| allowed == port))
    }

    fn allows_address(&self, ip: IpAddr, port: u16) -> bool {
        match &self.0 {
            Rule::Host { .. } => false,
            Rule::Address {
                ip: allowed,
                port: allowed_port,
            } => *allowed == ip && allowed_port.is_none_or(|allowed| allowed == port),
            Rule::Network {
                ip: network,
                prefix,
            } => in_network(ip, *network, *prefix),
        }
    }
}

fn in_network(ip: IpAddr, network: IpAddr, prefix: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}

/// An answer of a [`Resolve`]: the host's addresses.
pub type Resolving = Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;

/// Turns a host name into addresses. The system's resolver by default; tests and
/// programs with their own service discovery bring another.
pub trait Resolve: Send + Sync {
    /// The addresses of `host`.
    fn resolve(&self, host: &str) -> Resolving;
}

/// The operating system's resolver (through tokio's blocking pool).
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, host: &str) -> Resolving {
        let host = host.to_string();
        Box::pin(async move {
            let addresses = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addresses.map(|address| address.ip()).collect())
        })
    }
}

/// Where a request may go: the allowed exceptions and the resolver. Cheap to clone.
#[derive(Clone)]
pub struct Destinations {
    allow: Arc<[HttpAllow]>,
    resolver: Arc<dyn Resolve>,
}

impl Default for Destinations {
    fn default() -> Destinations {
        Destinations::new(Vec::new(), Arc::new(SystemResolver))
    }
}

/// The checked answer for one URL: connect to exactly these addresses.
#[derive(Debug, PartialEq)]
pub enum Dial {
    /// The URL names an address itself; nothing to resolve.
    Literal,
    /// The URL's host name, to be reached at these addresses only.
    Resolved {
        /// The host name, as in the URL.
        host: String,
        /// Its checked addresses, with the URL's port.
        addresses: Vec<SocketAddr>,
    },
}

impl Destinations {
    /// Requests may go to public addresses and to what `allow` names, resolving with
    /// `resolver`.
    pub fn new(allow: Vec<HttpAllow>, resolver: Arc<dyn Resolve>) -> Destinations {
        Destinations {
            allow: allow.into(),
            resolver,
        }
    }

    /// What to connect to for `url`, or why not: a refusal is permanent (another attempt
    /// would be refused too); a name that does not resolve may resolve later.
    pub async fn check(&self, url: &Url) -> Result<Dial, TaskError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(TaskError::permanent(format!(
                "refused: only http and https URLs are fetched, not {}:",
                url.scheme()
            )));
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let host = match url.host() {
            Some(url::Host::Domain(name)) => name.trim_end_matches('.').to_ascii_lowercase(),
            Some(url::Host::Ipv4(ip)) => return self.check_address(IpAddr::V4(ip), port, None),
            Some(url::Host::Ipv6(ip)) => return self.check_address(IpAddr::V6(ip), port, None),
            None => return Err(TaskError::permanent("refused: the URL has no host")),
        };
        let addresses = self
            .resolver
            .resolve(&host)
            .await
            .map_err(|e| TaskError::failed(format!("{host} did not resolve: {e}")))?;
        if addresses.is_empty() {
            return Err(TaskError::failed(format!("{host} has no addresses")));
        }
        let host_allowed = self.allow.iter().any(|rule| rule.allows_host(&host, port));
        if !host_allowed {
            for ip in &addresses {
                self.check_address(*ip, port, Some(&host))?;
            }
        }
        Ok(Dial::Resolved {
            // As the URL spells it: the client asks for exactly this name.
            host: url.host_str().unwrap_or_default().to_string(),
            addresses: addresses
                .into_iter()
                .map(|ip| SocketAddr::new(ip, port))
                .collect(),
        })
    }

    fn check_address(&self, ip: IpAddr, port: u16, name: Option<&str>) -> Result<Dial, TaskError> {
        let Some(range) = special_range(ip) else {
            return Ok(Dial::Literal);
        };
        if self.allow.iter().any(|rule| rule.allows_address(ip, port)) {
            return Ok(Dial::Literal);
        }
        // A name's addresses are not told: a refusal must not be a way to read internal DNS.
        let (what, allow) = match name {
            Some(name) => (
                format!("{name} resolves to a {range} address"),
                format!("{name}:{port}"),
            ),
            None => {
                let target = SocketAddr::new(ip, port);
                (format!("{target} is a {range} address"), target.to_string())
            }
        };
        Err(TaskError::permanent(format!(
            "refused: {what}; `--http-allow {allow}` would allow it"
        )))
    }
}
