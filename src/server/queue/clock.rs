//! The queue's clock: what "now" is for submits, claims, leases, retries and
//! housekeeping. Processes read the system clock; a test or a simulation gives the engine
//! a clock it moves by hand ([`ManualClock`]), so what depends on time (a delayed task's
//! promotion, a lease's expiry) is tested without waiting for it. Timers that only pace
//! the engine (heartbeats, polls, grace periods) stay on tokio's clock.

use chrono::{DateTime, Utc};
use std::sync::Arc;
#[cfg(any(test, feature = "testing"))]
use std::{
    sync::atomic::{AtomicI64, Ordering},
    time::Duration,
};

/// A source of the current time; cheap to clone.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl Clock {
    /// The system's clock.
    pub fn system() -> Clock {
        Clock(Arc::new(|| Utc::now().timestamp_micros()))
    }

    /// Now, in microseconds since the Unix epoch (as the store keeps times).
    pub fn now_micros(&self) -> i64 {
        (self.0)()
    }

    pub fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.now_micros()).unwrap_or_default()
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}

/// A clock that stands still until moved.
#[cfg(any(test, feature = "testing"))]
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicI64>);

#[cfg(any(test, feature = "testing"))]
impl ManualClock {
    /// A clock showing `start`.
    pub fn at(start: DateTime<Utc>) -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(start.timestamp_micros())))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        self.0.fetch_add(micros, Ordering::SeqCst);
    }

    /// The [`Clock`] to give the engine.
    pub fn clock(&self) -> Clock {
        let micros = Arc::clone(&self.0);
        Clock(Arc::new(move || micros.load(Ordering::SeqCst)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start = Utc::now();
        let manual = ManualClock::at(start);
        let clock = manual.clock();
        assert_eq!(clock.now_micros(), start.timestamp_micros());
        manual.advance(Duration::from_secs(3600));
        assert_eq!(clock.now_micros(), start.timestamp_micros() + 3_600_000_000);
        assert_eq!(clock.now().timestamp(), start.timestamp() + 3600);
    }

    #[test]
    fn the_system_clock_moves_on() {
        let clock = Clock::system();
        let before = clock.now_micros();
        std::thread::sleep(Duration::from_millis(2));
        assert!(clock.now_micros() > before);
    }
}
