//! Bounds on open event streams, per client (an IPv4 address or an IPv6 /64, as the
//! submit limit counts them) and in all, so one client cannot hold the server's memory
//! and connections with streams. A stream over either bound is refused with 429 and
//! `Retry-After`; its place is given back when the stream ends.
//!
//! Hand-written rather than a rate-limiting crate's: this counts what is open now, not
//! requests over time.

use super::rate_limit::client_key;
use crate::error::AppError;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};

/// Seconds a refused client is told to wait: streams end as their tasks do.
const RETRY_AFTER_SECS: u64 = 5;

#[derive(Debug)]
pub struct StreamLimits {
    per_client: usize,
    total: usize,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    by_client: HashMap<IpAddr, usize>,
    total: usize,
}

/// One open stream's place; given back when dropped.
#[derive(Debug)]
pub struct StreamPermit {
    limits: Arc<StreamLimits>,
    client: IpAddr,
}

impl StreamLimits {
    pub fn new(per_client: u32, total: u32) -> Arc<StreamLimits> {
        Arc::new(StreamLimits {
            per_client: per_client as usize,
            total: total as usize,
            open: Mutex::default(),
        })
    }

    /// A place for one more stream of `client` (an unknown client counts as one with
    /// the others), or the 429 to answer.
    pub fn open(self: &Arc<Self>, client: Option<IpAddr>) -> Result<StreamPermit, AppError> {
        let client = client_key(client.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let mine = open.by_client.get(&client).copied().unwrap_or(0);
        if mine >= self.per_client {
            return Err(AppError::too_many(
                format!("this client has {mine} event streams open, the most it may"),
                RETRY_AFTER_SECS,
            ));
        }
        if open.total >= self.total {
            return Err(AppError::too_many(
                "the server has as many event streams open as it takes".to_string(),
                RETRY_AFTER_SECS,
            ));
        }
        *open.by_client.entry(client).or_default() += 1;
        open.total += 1;
        Ok(StreamPermit {
            limits: Arc::clone(self),
            client,
        })
    }

    /// Streams open now.
    pub fn open_now(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(mine) = open.by_client.get_mut(&self.client) {
            *mine = mine.saturating_sub(1);
            if *mine == 0 {
                open.by_client.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    const B: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));

    #[test]
    fn a_client_gets_its_share_and_no_more_and_others_still_get_theirs() {
        let limits = StreamLimits::new(2, 3);
        let first = limits.open(A).unwrap();
        let _second = limits.open(A).unwrap();
        let refused = limits.open(A).unwrap_err();
        assert_eq!(refused.retry_after_secs, Some(RETRY_AFTER_SECS));
        let _other = limits.open(B).unwrap();
        assert!(limits.open(B).is_err(), "the total is reached");
        drop(first);
        assert_eq!(limits.open_now(), 2);
        assert!(limits.open(A).is_ok(), "a place given back is taken again");
    }

    #[test]
    fn an_ipv6_client_counts_as_its_whole_64() {
        let limits = StreamLimits::new(1, 10);
        let one: IpAddr = "2001:db8::1".parse().unwrap();
        let two: IpAddr = "2001:db8::2".parse().unwrap();
        let _held = limits.open(Some(one)).unwrap();
        assert!(limits.open(Some(two)).is_err());
    }
}
