//! Gathering what other tasks are about to hand over, without a timer: yield so the
//! tasks that are ready run first, take what they left, and stop once two turns in a
//! row bring nothing. The group committer gathers a wave's outcomes this way and a
//! worker pool the slots a wave frees, so each wave is one commit.

/// Scheduler turns a gathering takes at most, so a steady trickle cannot hold it.
pub const GATHER_TURNS: usize = 8;

/// Yields and calls `take` on `state` after each turn, until `full` holds, two turns in
/// a row took nothing (`take` returns whether it took anything), or [`GATHER_TURNS`]
/// turns have passed. Two turns, because tokio wakes yielded tasks last in, first out:
/// this task can run again before the tasks it yielded to.
pub async fn gather_over_turns<S>(
    state: &mut S,
    full: impl Fn(&S) -> bool,
    mut take: impl FnMut(&mut S) -> bool,
) {
    let mut quiet_turns = 0;
    for _ in 0..GATHER_TURNS {
        if full(state) || quiet_turns == 2 {
            return;
        }
        tokio::task::yield_now().await;
        quiet_turns = if take(state) { 0 } else { quiet_turns + 1 };
    }
}
