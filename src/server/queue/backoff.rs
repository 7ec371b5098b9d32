//! How long a failed task waits before its next attempt: exponential, capped, jittered.

use rand::Rng;
use std::time::Duration;

/// The first retry waits about this long.
pub const BASE: Duration = Duration::from_secs(1);
/// No retry waits longer than this.
pub const CAP: Duration = Duration::from_secs(3600);
/// Each delay is spread by up to ±this fraction, so tasks failing together do not retry
/// together.
pub const JITTER: f64 = 0.25;

/// The undisturbed delay after attempt `attempt` (1-based) failed: BASE · 2^(attempt−1),
/// at most CAP.
pub fn nominal(attempt: i32) -> Duration {
    let exponent = attempt.saturating_sub(1).clamp(0, 30) as u32;
    BASE.saturating_mul(1u32 << exponent).min(CAP)
}

/// The delay with jitter applied, drawn from `rng`.
pub fn delay(attempt: i32, rng: &mut impl Rng) -> Duration {
    let factor = 1.0 + rng.random_range(-JITTER..=JITTER);
    nominal(attempt).mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn the_schedule_doubles_from_one_second_up_to_an_hour() {
        let secs: Vec<u64> = (1..=14).map(|a| nominal(a).as_secs()).collect();
        assert_eq!(
            secs,
            vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600]
        );
        assert_eq!(nominal(i32::MAX), CAP);
        assert_eq!(nominal(0), BASE);
    }

    #[test]
    fn jitter_stays_within_a_quarter_and_actually_varies() {
        let mut rng = StdRng::seed_from_u64(7);
        let delays: Vec<Duration> = (0..200).map(|_| delay(3, &mut rng)).collect();
        for d in &delays {
            assert!(
                *d >= Duration::from_secs(3) && *d <= Duration::from_secs(5),
                "{d:?}"
            );
        }
        let distinct: std::collections::BTreeSet<_> =
            delays.iter().map(|d| d.as_millis()).collect();
        assert!(
            distinct.len() > 50,
            "jitter does not spread retries: {distinct:?}"
        );
    }
}
