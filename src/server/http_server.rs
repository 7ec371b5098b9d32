//! Serves a router on a listener, as `axum::serve` does, with the bounds a server facing
//! untrusted clients needs and `axum::serve` does not set: connections per client (an
//! IPv4 address or an IPv6 /64) and in all, and how long a client may take to send a
//! request's headers, idle keep-alive connections included. A client over its share is
//! answered `429` and closed; past the total, new connections wait in the listen backlog
//! until one closes. On shutdown it stops accepting, lets open requests and streams
//! finish, and returns when the last connection is closed.

use super::rate_limit::client_key;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// What a client sees when it opens more connections than its share.
fn refusal() -> String {
    let body = r#"{"error":{"code":"rate_limited","message":"too many connections from this client","details":[]}}"#;
    format!(
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The connection bounds.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// Connections one client may hold open at once.
    pub per_client: usize,
    /// Connections open at once, from all clients.
    pub total: usize,
    /// How long a client may take to send a request's headers, and how long an idle
    /// keep-alive connection is kept.
    pub header_timeout: Duration,
    /// On shutdown, how long open requests and streams may take to end before their
    /// connections are dropped.
    pub drain_within: Duration,
}

/// The long-polled claim of external workers waits up to its own bound (30 s).
const NO_DEADLINE: &[&str] = &["/api/workers/claim"];

/// Answers 503 to a request not answered within `deadline` (an event stream: not
/// started), except the external workers' long-polled claim.
pub async fn request_deadline(
    axum::extract::State(deadline): axum::extract::State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if NO_DEADLINE.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    match tokio::time::timeout(deadline, next.run(request)).await {
        Ok(response) => response,
        Err(_) => crate::error::AppError::new(
            crate::error::ErrorCode::Unavailable,
            "the request took too long to answer; try again",
        )
        .into_response(),
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains (see the module's
/// documentation).
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let total = Arc::new(Semaphore::new(limits.total));
    let clients = Clients::default();
    let connections = TaskTracker::new();
    let closing = CancellationToken::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            permit = Arc::clone(&total).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, remote) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, say: wait for some to close.
                    tracing::warn!(error = %err, "could not accept a connection");
                    tokio::select! {
                        _ = &mut shutdown => break,
                        _ = tokio::time::sleep(Duration::from_millis(100)) => continue,
                    }
                }
            },
        };
        let Some(share) = clients.take(remote.ip(), limits.per_client) else {
            connections.spawn(refuse(stream));
            continue;
        };
        let service = app
            .clone()
            .map_request(move |request: axum::http::Request<_>| {
                let mut request = request.map(axum::body::Body::new);
                request.extensions_mut().insert(ConnectInfo(remote));
                request
            });
        let closing = closing.clone();
        connections.spawn(async move {
            let _held = (permit, share);
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout);
            let connection = http
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .with_upgrades();
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = closing.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(listener);
    closing.cancel();
    connections.close();
    if tokio::time::timeout(limits.drain_within, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the drain; closing them");
    }
    Ok(())
}

/// Answers a connection over its client's share with a 429, then closes it.
async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        let _ = stream.write_all(refusal().as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Open connections by client.
#[derive(Clone, Default)]
struct Clients(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One connection's place in its client's share; given back when dropped.
struct Share {
    clients: Clients,
    client: IpAddr,
}

impl Clients {
    fn take(&self, ip: IpAddr, most: usize) -> Option<Share> {
        let client = client_key(ip);
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mine = open.entry(client).or_default();
        if *mine >= most {
            return None;
        }
        *mine += 1;
        Some(Share {
            clients: self.clone(),
            client,
        })
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        let mut open = self.clients.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(mine) = open.get_mut(&self.client) {
            *mine = mine.saturating_sub(1);
            if *mine == 0 {
                open.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_a_complete_http_response_with_the_right_length() {
        let text = refusal();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("Content-Length: {}", body.len())),
            "{head}"
        );
        let parsed: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(parsed["error"]["code"], "rate_limited");
    }

    #[test]
    fn a_client_share_is_given_back_when_its_connection_closes() {
        let clients = Clients::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let first = clients.take(ip, 1).unwrap();
        assert!(clients.take(ip, 1).is_none());
        assert!(clients.take("10.0.0.2".parse().unwrap(), 1).is_some());
        drop(first);
        assert!(clients.take(ip, 1).is_some());
    }
}
