//! Per-client limit on submits: a token bucket for each client address (an IPv4
//! address, or an IPv6 /64), so one runaway script cannot fill the queue or starve
//! everyone else's submits. A batch costs one per task. A client over its limit is
//! answered 429 with `Retry-After`.
//!
//! Hand-written rather than `governor`'s keyed limiter because a batch may cost more
//! than the burst: a client with any allowance left spends into debt and waits it off,
//! where `governor` refuses a cost above its capacity outright (a 10,000-task batch
//! under a 2,000 burst could never pass).

use crate::error::AppError;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Clients remembered at most. Past that, those whose buckets have refilled are
/// forgotten (they are indistinguishable from new ones), at most once a second; if none
/// has, newcomers share one bucket until some have.
const MAX_CLIENTS: usize = 10_000;
/// The bucket newcomers share while the table is full of active clients.
const OVERFLOW: IpAddr = IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED);

#[derive(Debug)]
pub struct SubmitLimit {
    /// Submits per second refilled; 0 means no limit.
    rate: f64,
    burst: f64,
    clients: Mutex<Clients>,
}

#[derive(Debug, Default)]
struct Clients {
    buckets: HashMap<IpAddr, Bucket>,
    swept: Option<Instant>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Below zero after a batch: the client owes that many.
    tokens: f64,
    at: Instant,
}

impl SubmitLimit {
    pub fn new(rate_per_sec: u32, burst: u32) -> SubmitLimit {
        SubmitLimit::with_rate(f64::from(rate_per_sec), burst)
    }

    /// A limit refilling `rate_per_sec` (a fraction: slower than one a second) with
    /// room for `burst`.
    pub fn with_rate(rate_per_sec: f64, burst: u32) -> SubmitLimit {
        SubmitLimit {
            rate: rate_per_sec,
            burst: f64::from(burst.max(1)),
            clients: Mutex::new(Clients::default()),
        }
    }

    /// Takes `cost` submits from `client`'s allowance, or says how long until it may
    /// retry. A client with any allowance left may spend more than it has (a batch of
    /// many tasks), and then waits until the debt is refilled.
    pub fn take(&self, client: IpAddr, cost: u32, now: Instant) -> Result<(), Duration> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let mut key = client_key(client);
        if clients.buckets.len() >= MAX_CLIENTS && !clients.buckets.contains_key(&key) {
            let due = clients
                .swept
                .is_none_or(|at| now.duration_since(at) >= Duration::from_secs(1));
            if due {
                let full_after = Duration::from_secs_f64(self.burst / self.rate);
                clients
                    .buckets
                    .retain(|_, bucket| now.duration_since(bucket.at) < full_after);
                clients.swept = Some(now);
            }
            if clients.buckets.len() >= MAX_CLIENTS {
                key = OVERFLOW;
            }
        }
        let bucket = clients.buckets.entry(key).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let refilled = now.duration_since(bucket.at).as_secs_f64() * self.rate;
        bucket.tokens = (bucket.tokens + refilled).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= f64::from(cost);
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }
}

/// One bucket per IPv4 address and per IPv6 /64 (one host may hold a whole /64).
pub(crate) fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
        v4 => v4,
    }
}

/// The submitting client's address, for charging its allowance once the request's
/// size is known.
pub struct Client(pub Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Client(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}

/// Takes `cost` submits from `client`'s allowance (an unknown client shares one bucket
/// with the other unknowns), or the 429 to answer.
pub fn allow(limit: &SubmitLimit, client: Option<IpAddr>, cost: usize) -> Result<(), AppError> {
    let client = client.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let cost = u32::try_from(cost).unwrap_or(u32::MAX);
    limit
        .take(client, cost, Instant::now())
        .map_err(|wait| AppError::rate_limited(wait.as_secs_f64().ceil().max(1.0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn a_client_gets_its_burst_then_the_rate_and_others_are_unaffected() {
        let limit = SubmitLimit::new(10, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limit.take(A, 1, t0), Ok(()));
        }
        let wait = limit.take(A, 1, t0).expect_err("over the burst");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        assert_eq!(
            limit.take(B, 1, t0),
            Ok(()),
            "another client has its own bucket"
        );
        assert_eq!(limit.take(A, 1, t0 + Duration::from_millis(100)), Ok(()));
        assert!(limit.take(A, 1, t0 + Duration::from_millis(100)).is_err());
        // A long pause refills to the burst, not beyond it.
        let later = t0 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(limit.take(A, 1, later), Ok(()));
        }
        assert!(limit.take(A, 1, later).is_err());
    }

    #[test]
    fn a_batch_costs_its_tasks_and_its_debt_must_be_refilled() {
        let limit = SubmitLimit::new(10, 5);
        let t0 = Instant::now();
        assert_eq!(limit.take(A, 100, t0), Ok(()), "one big batch may pass");
        let wait = limit.take(A, 1, t0).expect_err("then the client owes 95");
        assert!(wait >= Duration::from_secs(9), "{wait:?}");
        assert!(limit.take(A, 1, t0 + Duration::from_secs(9)).is_err());
        assert_eq!(limit.take(A, 1, t0 + Duration::from_secs(10)), Ok(()));
    }

    #[test]
    fn an_ipv6_host_is_one_client_however_many_addresses_it_uses() {
        let limit = SubmitLimit::new(1, 1);
        let now = Instant::now();
        let host = |last| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, last));
        assert_eq!(limit.take(host(1), 1, now), Ok(()));
        assert!(limit.take(host(2), 1, now).is_err(), "same /64");
        let elsewhere = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 2, 0, 0, 0, 1));
        assert_eq!(limit.take(elsewhere, 1, now), Ok(()));
        let mapped = IpAddr::V6(Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped());
        assert_eq!(limit.take(A, 1, now), Ok(()));
        assert!(
            limit.take(mapped, 1, now).is_err(),
            "IPv4-mapped is the IPv4 client"
        );
    }

    #[test]
    fn a_rate_of_zero_is_no_limit() {
        let limit = SubmitLimit::new(0, 1);
        let now = Instant::now();
        for _ in 0..10_000 {
            assert_eq!(limit.take(A, 1, now), Ok(()));
        }
    }

    #[test]
    fn the_client_table_stays_bounded_even_when_every_client_is_active() {
        let limit = SubmitLimit::new(1, 1);
        let now = Instant::now();
        for i in 0..(MAX_CLIENTS as u32 + 500) {
            let _ = limit.take(IpAddr::V4(i.into()), 1, now);
        }
        let clients = limit.clients.lock().unwrap();
        assert!(
            clients.buckets.len() <= MAX_CLIENTS + 1,
            "{}",
            clients.buckets.len()
        );
        assert!(
            clients.buckets.contains_key(&OVERFLOW),
            "newcomers share one bucket"
        );
    }
}
