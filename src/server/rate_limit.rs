//! Per-client limit on submit requests: a token bucket for each client address, so one
//! runaway script cannot fill the queue or starve everyone else's submits. A client over
//! its limit is answered 429 with `Retry-After`.

use crate::error::AppError;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Clients remembered at most; past that, those that have refilled completely are
/// forgotten (they are indistinguishable from new ones).
const MAX_CLIENTS: usize = 10_000;

#[derive(Debug)]
pub struct SubmitLimit {
    /// Requests per second refilled; 0 means no limit.
    rate: f64,
    burst: f64,
    clients: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl SubmitLimit {
    pub fn new(rate_per_sec: u32, burst: u32) -> SubmitLimit {
        SubmitLimit {
            rate: f64::from(rate_per_sec),
            burst: f64::from(burst.max(1)),
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `client`'s allowance, or says how long until it may retry.
    pub fn take(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if clients.len() >= MAX_CLIENTS && !clients.contains_key(&client) {
            let full_after = Duration::from_secs_f64(self.burst / self.rate);
            clients.retain(|_, bucket| now.duration_since(bucket.at) < full_after);
        }
        let bucket = clients.entry(client).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let refilled = now.duration_since(bucket.at).as_secs_f64() * self.rate;
        bucket.tokens = (bucket.tokens + refilled).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }
}

/// A submit that this client's allowance lets through; extracting it from a request
/// that is over the limit answers 429.
pub struct SubmitAllowed;

impl axum::extract::FromRequestParts<super::AppState> for SubmitAllowed {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &super::AppState,
    ) -> Result<Self, AppError> {
        let client = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        allow(&state.submit_limit, client).map(|()| SubmitAllowed)
    }
}

/// Takes one submit from `client`'s allowance (an unknown client shares one bucket with
/// the other unknowns), or the 429 to answer.
pub fn allow(limit: &SubmitLimit, client: Option<IpAddr>) -> Result<(), AppError> {
    let client = client.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    limit
        .take(client, Instant::now())
        .map_err(|wait| AppError::rate_limited(wait.as_secs_f64().ceil().max(1.0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn a_client_gets_its_burst_then_the_rate_and_others_are_unaffected() {
        let limit = SubmitLimit::new(10, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limit.take(A, t0), Ok(()));
        }
        let wait = limit.take(A, t0).expect_err("over the burst");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        assert_eq!(
            limit.take(B, t0),
            Ok(()),
            "another client has its own bucket"
        );
        assert_eq!(limit.take(A, t0 + Duration::from_millis(100)), Ok(()));
        assert!(limit.take(A, t0 + Duration::from_millis(100)).is_err());
        // A long pause refills to the burst, not beyond it.
        let later = t0 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(limit.take(A, later), Ok(()));
        }
        assert!(limit.take(A, later).is_err());
    }

    #[test]
    fn a_rate_of_zero_is_no_limit() {
        let limit = SubmitLimit::new(0, 1);
        let now = Instant::now();
        for _ in 0..10_000 {
            assert_eq!(limit.take(A, now), Ok(()));
        }
    }

    #[test]
    fn the_client_table_stays_bounded() {
        let limit = SubmitLimit::new(1000, 1);
        let t0 = Instant::now();
        for i in 0..(MAX_CLIENTS as u32 + 10) {
            let _ = limit.take(
                IpAddr::V4(i.into()),
                t0 + Duration::from_millis(u64::from(i)),
            );
        }
        assert!(limit.clients.lock().unwrap().len() <= MAX_CLIENTS);
    }
}
