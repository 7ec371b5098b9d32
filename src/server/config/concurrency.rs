//! How many tasks of a queue a process runs at once: a fixed number, or `auto=MIN..MAX`,
//! which lets the pool grow with the backlog and shrink when idle or when the machine
//! is loaded (see `queue::autoscaler`).

use std::fmt;

/// Most workers one pool may have.
pub const MOST_WORKERS: usize = 1024;

/// A queue's concurrency, as `--concurrency` and `--queue NAME=…` take it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Concurrency {
    /// Always this many (1 to 1024).
    Fixed(usize),
    /// From `min` to `max` (1 ≤ min ≤ max ≤ 1024), as the backlog and the
    /// machine's load say.
    Auto {
        /// The fewest workers: the pool's size when idle.
        min: usize,
        /// The most workers.
        max: usize,
    },
}

impl Concurrency {
    /// The most workers the pool can have.
    pub fn most(self) -> usize {
        match self {
            Concurrency::Fixed(n) => n,
            Concurrency::Auto { max, .. } => max,
        }
    }

    /// `N` or `auto=MIN..MAX`.
    pub fn parse(text: &str) -> Result<Concurrency, String> {
        let number = |part: &str| {
            part.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MOST_WORKERS).contains(n))
                .ok_or_else(|| {
                    format!(
                        "{text:?}: concurrency must be from 1 to {MOST_WORKERS}, or auto=MIN..MAX"
                    )
                })
        };
        let Some(range) = text.strip_prefix("auto=") else {
            return number(text).map(Concurrency::Fixed);
        };
        let (min, max) = range
            .split_once("..")
            .ok_or_else(|| format!("{text:?}: expected auto=MIN..MAX, e.g. auto=2..16"))?;
        let (min, max) = (number(min)?, number(max)?);
        if min > max {
            return Err(format!("{text:?}: MIN is larger than MAX"));
        }
        Ok(Concurrency::Auto { min, max })
    }

    /// Why this concurrency cannot be, if it cannot (one built in code, not parsed).
    pub fn refusal(self) -> Option<String> {
        Concurrency::parse(&self.to_string()).err()
    }
}

impl fmt::Display for Concurrency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Concurrency::Fixed(n) => write!(f, "{n}"),
            Concurrency::Auto { min, max } => write!(f, "auto={min}..{max}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_and_automatic_concurrency_parse_and_print_back() {
        for (text, parsed) in [
            ("8", Concurrency::Fixed(8)),
            ("auto=2..16", Concurrency::Auto { min: 2, max: 16 }),
            ("auto=4..4", Concurrency::Auto { min: 4, max: 4 }),
        ] {
            assert_eq!(Concurrency::parse(text), Ok(parsed));
            assert_eq!(parsed.to_string(), text);
        }
        assert_eq!(Concurrency::Auto { min: 2, max: 16 }.most(), 16);
    }

    #[test]
    fn out_of_range_or_malformed_concurrency_is_refused_with_the_reason() {
        for (text, reason) in [
            ("0", "from 1 to 1024"),
            ("1025", "from 1 to 1024"),
            ("auto", "from 1 to 1024"),
            ("auto=2", "expected auto=MIN..MAX"),
            ("auto=0..4", "from 1 to 1024"),
            ("auto=8..2", "MIN is larger than MAX"),
            ("auto=1..2000", "from 1 to 1024"),
        ] {
            let err = Concurrency::parse(text).unwrap_err();
            assert!(err.contains(reason), "{text}: {err}");
        }
        assert!(Concurrency::Fixed(0).refusal().is_some());
        assert!(Concurrency::Auto { min: 3, max: 2 }.refusal().is_some());
        assert_eq!(Concurrency::Auto { min: 1, max: 2 }.refusal(), None);
    }
}
