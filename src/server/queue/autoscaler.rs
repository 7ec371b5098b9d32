//! The autoscaler of a pool set to `auto=MIN..MAX`: every tick it reads the queue's
//! backlog (PENDING tasks, from the store's counters), how many workers are busy and the
//! machine's load, and sizes the pool. It grows, at most doubling per tick, while every
//! worker is busy and tasks wait; it shrinks, half the idle workers per tick, after a few
//! idle ticks in a row (idle: no task waits, or none is taken though tasks wait); while the machine's load per core is above [`OVERLOADED`] it
//! takes no more, and gives a quarter back each time the load has stayed high for
//! [`LOADED_TICKS`] ticks; always within MIN..MAX.
//!
//! The pool's slots (see [`super::slot`]) grow at once and shrink as workers come back,
//! so shrinking never stops a running task.

use super::slot::Slots;
use super::Queue;
use prometheus::IntGauge;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Load per core (the one-minute load average over the cores) above which the pool
/// gives workers back rather than taking more.
pub const OVERLOADED: f64 = 0.9;
/// Ticks in a row that the pool idles (see [`idles`]) before it shrinks.
const IDLE_TICKS: u32 = 3;
/// Ticks in a row above [`OVERLOADED`] before the pool shrinks (and between shrinks).
const LOADED_TICKS: u32 = 5;

/// The machine's load per core, or `None` when it cannot be read.
pub type LoadFigure = Arc<dyn Fn() -> Option<f64> + Send + Sync>;

/// A pool's bounds and what it reads the load from.
#[derive(Clone)]
pub struct Autoscale {
    pub min: usize,
    pub max: usize,
    /// How often the pool is sized.
    pub every: Duration,
    pub load: LoadFigure,
}

impl std::fmt::Debug for Autoscale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Autoscale({}..{} every {:?})",
            self.min, self.max, self.every
        )
    }
}

impl Autoscale {
    /// From `min` to `max` workers, sized every second by the system's load average.
    pub fn new(min: usize, max: usize) -> Autoscale {
        Autoscale {
            min,
            max,
            every: Duration::from_secs(1),
            load: Arc::new(system_load_per_core),
        }
    }
}

/// What a sizing decision sees.
#[derive(Clone, Copy, Debug)]
pub struct Facts {
    pub size: usize,
    pub busy: usize,
    /// Tasks of the queue ready to run.
    pub backlog: u64,
    /// Ticks in a row, this one included, with the machine's load above [`OVERLOADED`].
    pub overloaded_ticks: u32,
    /// Ticks in a row before this one when the pool idled (see [`idles`]).
    pub idle_ticks: u32,
}

/// The pool's next size.
pub fn next_size(facts: Facts, min: usize, max: usize) -> usize {
    let Facts {
        size,
        busy,
        backlog,
        overloaded_ticks,
        idle_ticks,
    } = facts;
    let next = if overloaded_ticks >= LOADED_TICKS {
        size - (size / 4).max(1).min(size)
    } else if overloaded_ticks > 0 {
        // A load average moves slowly: wait for it to stay high before giving back, and
        // take nothing more meanwhile.
        size
    } else if backlog > 0 && busy >= size {
        let wanted = usize::try_from(backlog).unwrap_or(usize::MAX);
        size + wanted.min(size).max(1)
    } else if idles(facts) && idle_ticks + 1 >= IDLE_TICKS {
        size - (size - busy).div_ceil(2)
    } else {
        size
    };
    next.clamp(min, max)
}

/// Whether the pool has workers it does not need: some are idle and no task waits, or
/// none works though tasks wait (the queue is paused, say), when more workers would sit
/// idle too.
fn idles(facts: Facts) -> bool {
    facts.busy < facts.size && (facts.backlog == 0 || facts.busy == 0)
}

/// The pool the autoscaler sizes.
pub(super) struct Sizing {
    pub queue_name: String,
    pub slots: Slots,
    /// The pool's `spool_workers` gauge.
    pub workers: IntGauge,
}

/// Sizes the pool until `stop` is cancelled.
pub(super) async fn run_autoscaler(
    queue: Queue,
    config: Autoscale,
    sizing: Sizing,
    stop: CancellationToken,
) {
    let Sizing {
        queue_name,
        slots,
        workers,
    } = sizing;
    let mut idle_ticks = 0;
    let mut loaded_ticks = 0;
    let mut ticker = tokio::time::interval(config.every.max(Duration::from_millis(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        workers.set(slots.size() as i64);
        let counts = tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticker.tick() => tokio::select! {
                _ = stop.cancelled() => return,
                counts = queue.store().counts() => counts,
            },
        };
        let backlog = match counts {
            Ok(rows) => rows
                .iter()
                .filter(|row| row.queue == queue_name && row.status == "PENDING")
                .map(|row| row.n.max(0) as u64)
                .sum(),
            Err(err) => {
                tracing::warn!(queue = %queue_name, error = %err, "autoscaler: could not read the backlog");
                continue;
            }
        };
        let load = (config.load)();
        let overloaded = load.is_some_and(|load| load > OVERLOADED);
        loaded_ticks = if overloaded { loaded_ticks + 1 } else { 0 };
        let facts = Facts {
            size: slots.size(),
            busy: slots.busy(),
            backlog,
            overloaded_ticks: loaded_ticks,
            idle_ticks,
        };
        idle_ticks = if idles(facts) { idle_ticks + 1 } else { 0 };
        let next = next_size(facts, config.min, config.max);
        if next != facts.size {
            tracing::info!(queue = %queue_name, from = facts.size, to = next, busy = facts.busy, backlog, ?load, "resizing the worker pool");
            idle_ticks = 0;
            if next < facts.size && overloaded {
                loaded_ticks = 0;
            }
        }
        slots.resize(next);
    }
}

/// The one-minute load average over the cores, from `/proc/loadavg` (Linux); `None`
/// elsewhere, where the pool sizes itself by its backlog alone.
pub fn system_load_per_core() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let one_minute: f64 = text.split_whitespace().next()?.parse().ok()?;
    let cores = std::thread::available_parallelism().ok()?.get();
    Some(one_minute / cores as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(size: usize, busy: usize, backlog: u64, idle_ticks: u32) -> Facts {
        Facts {
            size,
            busy,
            backlog,
            overloaded_ticks: 0,
            idle_ticks,
        }
    }

    fn loaded(size: usize, overloaded_ticks: u32) -> Facts {
        Facts {
            overloaded_ticks,
            ..facts(size, size, 100, 0)
        }
    }

    #[test]
    fn a_saturated_pool_with_a_backlog_grows_at_most_doubling_and_never_past_max() {
        assert_eq!(next_size(facts(2, 2, 100, 0), 1, 16), 4);
        let few = next_size(facts(4, 4, 1, 0), 1, 16);
        assert_eq!(few, 5, "no more than the backlog");
        assert_eq!(next_size(facts(12, 12, 100, 0), 1, 16), 16);
        let free = next_size(facts(3, 2, 100, 0), 1, 16);
        assert_eq!(free, 3, "a worker is free");
    }

    #[test]
    fn an_idle_pool_shrinks_only_after_idle_ticks_in_a_row_and_never_below_min() {
        assert_eq!(next_size(facts(8, 0, 0, 0), 2, 16), 8);
        assert_eq!(next_size(facts(8, 0, 0, IDLE_TICKS - 1), 2, 16), 4);
        let busy = next_size(facts(8, 6, 0, IDLE_TICKS), 2, 16);
        assert_eq!(busy, 7, "busy workers stay");
        assert_eq!(next_size(facts(3, 0, 0, IDLE_TICKS), 2, 16), 2);
    }

    #[test]
    fn a_pool_whose_workers_all_sit_idle_beside_a_backlog_shrinks_as_an_idle_one() {
        // A paused queue: tasks wait, no worker can take one.
        assert_eq!(next_size(facts(8, 0, 100, IDLE_TICKS - 1), 2, 16), 4);
        assert_eq!(next_size(facts(8, 0, 100, 0), 2, 16), 8, "not at once");
        // One worker between two tasks of a backlog is no reason to shrink.
        assert_eq!(next_size(facts(8, 7, 100, IDLE_TICKS), 2, 16), 8);
    }

    #[test]
    fn a_machine_that_stays_loaded_shrinks_the_pool_even_with_a_backlog() {
        assert_eq!(next_size(loaded(8, 1), 1, 16), 8, "a moment's load: hold");
        assert_eq!(next_size(loaded(8, LOADED_TICKS - 1), 1, 16), 8);
        assert_eq!(next_size(loaded(8, LOADED_TICKS), 1, 16), 6);
        assert_eq!(next_size(loaded(2, LOADED_TICKS), 1, 16), 1);
        assert_eq!(next_size(loaded(2, LOADED_TICKS), 2, 16), 2, "min holds");
    }
}
