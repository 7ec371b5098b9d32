//! A hostile client on 127.0.0.1 floods the server with a thousand event streams and a
//! thousand connections that never finish their headers; the server refuses or closes
//! them as documented (429 past a client's share of streams or connections, a closed
//! connection once the header timeout passes), while a second client on 127.0.0.2 still
//! gets its answers. Judged by what each connection sees, never by how long it took;
//! sized well under the open-file limit. A client guessing tokens on the login page is
//! throttled the same way, and a request the server cannot answer in time gets 503.

use crate::support::TestServer;
use serde_json::json;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const FLOOD: usize = 1000;
const STREAMS_PER_CLIENT: u32 = 64;
const CONNECTIONS_PER_CLIENT: u32 = 300;

/// A connection to `server` from `source` (an address of the loopback network).
async fn connect(server: SocketAddr, source: Ipv4Addr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((source, 0))).unwrap();
    socket.connect(server).await.unwrap()
}

/// The status code of the response's head, once it has come; `None` when the server
/// closed the connection without one.
async fn status(stream: &mut TcpStream) -> Option<u16> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    let line = String::from_utf8_lossy(&head);
    line.split(' ').nth(1)?.parse().ok()
}

/// Reads until the server closes the connection.
async fn closed(mut stream: TcpStream) {
    let mut buffer = [0u8; 1024];
    let guard = Duration::from_secs(120);
    let read = tokio::time::timeout(guard, async {
        while let Ok(n) = stream.read(&mut buffer).await {
            if n == 0 {
                return;
            }
        }
    });
    read.await.expect("the server never closed the connection");
}

async fn get(server: SocketAddr, source: Ipv4Addr, path: &str) -> (Option<u16>, TcpStream) {
    let mut stream = connect(server, source).await;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    (status(&mut stream).await, stream)
}

/// The soft limit on open files: the flood holds about 1,400 sockets, both ends here.
fn open_file_limit() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .and_then(|line| line.split_whitespace().nth(3))
        .and_then(|soft| soft.parse().ok())
        .unwrap_or(u64::MAX)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_client_is_refused_and_timed_out_while_another_is_still_served() {
    let limit = open_file_limit();
    assert!(
        limit >= 4096,
        "the flood needs 4,096 open files (ulimit -n), this process may have {limit}"
    );
    let server = TestServer::start_with(|config| {
        config.limits.max_streams_per_client = STREAMS_PER_CLIENT;
        config.limits.max_connections_per_client = CONNECTIONS_PER_CLIENT;
        config.limits.header_timeout_secs = 5;
    })
    .await;
    let addr: SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let flooder = Ipv4Addr::LOCALHOST;
    let other = Ipv4Addr::new(127, 0, 0, 2);
    // A task that stays PENDING (its queue is paused), so its streams stay open.
    server.post("/api/queues/held/pause").await;
    let id = server
        .submit_id(json!({"task_type": "noop", "queue": "held"}))
        .await;
    let events = format!("/api/tasks/{id}/events");

    // A thousand streams: the client's share opens, every other one is refused.
    let attempts = (0..FLOOD).map(|_| get(addr, flooder, &events));
    let answered = futures_util::future::join_all(attempts).await;
    let mut streams = Vec::new();
    let mut refused = 0;
    for (status, stream) in answered {
        match status {
            Some(200) => streams.push(stream),
            Some(429) => refused += 1,
            other => panic!("a stream was answered {other:?}"),
        }
    }
    assert_eq!(streams.len(), STREAMS_PER_CLIENT as usize);
    assert_eq!(refused, FLOOD - streams.len());

    // The other client is answered, streams included.
    let (stats, _) = get(addr, other, "/api/stats").await;
    assert_eq!(stats, Some(200));
    let (theirs, their_stream) = get(addr, other, &events).await;
    assert_eq!(theirs, Some(200));

    // A thousand connections that trickle a header and never end it: what is left of
    // the client's share is accepted, then closed at the header timeout; the rest are
    // answered 429 at once.
    let slow = (0..FLOOD).map(|_| async move {
        let mut stream = connect(addr, flooder).await;
        let _ = stream
            .write_all(b"GET /api/stats HTTP/1.1\r\nX-Slow: ")
            .await;
        stream
    });
    let slow = futures_util::future::join_all(slow).await;
    let outcomes = slow.into_iter().map(|mut stream| async move {
        let _ = stream.write_all(b"a").await;
        match status(&mut stream).await {
            Some(429) => false,
            None => true,
            Some(other) => panic!("a slow header was answered {other}"),
        }
    });
    let timed_out = futures_util::future::join_all(outcomes).await;
    let closed_at_timeout = timed_out.iter().filter(|closed| **closed).count();
    assert!(closed_at_timeout > 0, "none was accepted");
    assert!(closed_at_timeout < FLOOD, "none was refused");

    // Through it all, the other client was served.
    let (stats, _) = get(addr, other, "/api/stats").await;
    assert_eq!(stats, Some(200));

    // A connection that sends nothing is closed too.
    closed(connect(addr, other).await).await;
    drop((streams, their_stream));
    server.stop().await;
}

#[tokio::test]
async fn failed_logins_are_throttled_per_client_without_checking_the_token() {
    const TOKEN: &str = "the-right-token-for-login";
    let server = TestServer::start_with(|config| {
        config.access.token = Some(TOKEN.into());
    })
    .await;
    let client_from = |source: Ipv4Addr| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::V4(source))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    };
    let login = |client: reqwest::Client, token: &str| {
        let request = client
            .post(server.url("/login"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("token={token}&next=%2F"));
        async move { request.send().await.unwrap() }
    };
    let guesser = client_from(Ipv4Addr::LOCALHOST);
    // Ten wrong guesses are answered; then they are refused (on a machine slow enough
    // to refill an attempt meanwhile, a little later).
    let mut answered = 0;
    let throttled = loop {
        let wrong = login(guesser.clone(), "not-the-token-at-all").await;
        if wrong.status() != 401 {
            break wrong;
        }
        answered += 1;
        assert!(answered < 40, "never throttled");
    };
    assert!(answered >= 10, "throttled after {answered}");
    assert_eq!(throttled.status(), 429);
    assert!(throttled.headers().contains_key("retry-after"));
    let right_but_throttled = login(guesser, TOKEN).await;
    assert_eq!(
        right_but_throttled.status(),
        429,
        "the token is not even looked at"
    );

    let other = login(client_from(Ipv4Addr::new(127, 0, 0, 2)), TOKEN).await;
    assert_eq!(other.status(), 303, "another client logs in");
    assert!(other.headers().contains_key("set-cookie"));
    server.stop().await;
}

/// The request deadline spares the external workers' long-polled claim: a claim waiting
/// longer than the deadline for work is answered its empty list, not a 503.
#[tokio::test]
async fn a_workers_long_poll_outlasts_the_request_deadline() {
    let server = TestServer::start_with(|config| {
        crate::external_workers::with_kinds(config);
        config.limits.request_timeout_secs = 1;
    })
    .await;
    let body = json!({"worker": "patient", "queues": ["resize"], "wait_secs": 3});
    let (status, claimed) = server.post_json("/api/workers/claim", &body).await;
    assert_eq!(status, 200, "{claimed}");
    assert_eq!(claimed, json!([]));
    server.stop().await;
}

/// A submit that cannot be answered within the request deadline (another process holds
/// the SQLite file's write lock) gets 503 while reads are still answered; the submit may
/// still land once the lock goes, so its retry with the same `Idempotency-Key` answers
/// with the one task there is.
#[tokio::test]
async fn a_request_past_its_deadline_gets_503_and_a_keyed_retry_makes_one_task() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let server = TestServer::start_with(|config| {
        config.limits.request_timeout_secs = 1;
    })
    .await;
    let (status, _) = server.get_json("/api/stats").await;
    assert_eq!(status, 200, "the server is up, its file made");
    let url = format!("sqlite://{}", server.database_file().display());
    let other_process = sea_orm::Database::connect(url).await.unwrap();
    let holding = other_process.begin().await.unwrap();
    holding
        .execute_unprepared("CREATE TABLE write_lock_holder (x INTEGER)")
        .await
        .unwrap();

    let keyed_submit = || {
        server
            .client
            .post(server.url("/api/tasks/submit"))
            .header("Idempotency-Key", "deadline-1")
            .json(&json!({"task_type": "noop"}))
            .send()
    };
    let cut = keyed_submit().await.unwrap();
    assert_eq!(cut.status(), 503);
    let body: serde_json::Value = cut.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    let (status, _) = server.get_json("/api/stats").await;
    assert_eq!(status, 200, "reads are answered meanwhile");

    holding.rollback().await.unwrap();
    let retried = keyed_submit().await.unwrap();
    assert!(retried.status().is_success(), "{}", retried.status());
    let task: serde_json::Value = retried.json().await.unwrap();
    assert!(task["id"].is_string(), "{task}");
    assert_eq!(
        server.stored_tasks().await,
        1,
        "one task, whichever request stored it"
    );
    server.stop().await;
}
