//! WAL checkpoints off the writer's path.
//!
//! Left to itself, SQLite checkpoints inside whichever commit pushes the WAL past 1,000
//! pages: that one submit or claim copies the WAL into the database file and syncs it,
//! several milliseconds, and the pickup latency's p99 was exactly those commits. So the
//! writer's automatic checkpoint is off, and a task of the store checkpoints from a
//! connection of its own, which WAL lets run while the writer goes on appending. Once a
//! checkpoint has caught up, the writer starts the WAL over from its beginning, so the
//! file stays as small as the writes between two checkpoints.
//!
//! Readers that never pause (the dashboard polling) can keep the WAL from starting over;
//! then, at most every [`TRUNCATE_EVERY`], a WAL past [`TRUNCATE_ABOVE_FRAMES`] is
//! truncated, which waits briefly for readers and the writer.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How often the WAL is copied into the database.
const EVERY: Duration = Duration::from_millis(100);
/// A WAL this long (about 16 MiB of 4 KiB pages) is truncated, not just checkpointed.
const TRUNCATE_ABOVE_FRAMES: i64 = 4096;
/// Truncating waits for readers and the writer, so it is done at most this often.
const TRUNCATE_EVERY: Duration = Duration::from_secs(10);

/// Keeps the checkpoint task running; it stops when the last clone is dropped.
#[derive(Clone, Debug)]
pub(super) struct Checkpoints {
    connection: DatabaseConnection,
    _alive: mpsc::Sender<()>,
}

impl Checkpoints {
    /// Starts checkpointing with `connection`, a one-connection pool that may write.
    pub fn start(connection: DatabaseConnection) -> Checkpoints {
        let (alive, mut stopped) = mpsc::channel::<()>(1);
        let checkpoints = Checkpoints {
            connection,
            _alive: alive,
        };
        let connection = checkpoints.connection.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut truncated = Instant::now();
            loop {
                tokio::select! {
                    _ = stopped.recv() => return,
                    _ = ticks.tick() => {}
                }
                let truncate_above = if truncated.elapsed() >= TRUNCATE_EVERY {
                    TRUNCATE_ABOVE_FRAMES
                } else {
                    i64::MAX
                };
                match checkpoint(&connection, truncate_above).await {
                    Ok(frames) if frames >= truncate_above => truncated = Instant::now(),
                    Ok(_) => {}
                    Err(err) => tracing::warn!(error = %err, "WAL checkpoint failed"),
                }
            }
        });
        checkpoints
    }

    /// Checkpoints now (see [`checkpoint`]).
    pub async fn checkpoint(&self, truncate_above: i64) -> Result<i64, DbErr> {
        checkpoint(&self.connection, truncate_above).await
    }
}

/// Copies the WAL into the database. When `truncate_above` or more frames were in the
/// WAL, it is also truncated to nothing. Returns how many frames the WAL held.
async fn checkpoint(connection: &DatabaseConnection, truncate_above: i64) -> Result<i64, DbErr> {
    let frames = wal_checkpoint(connection, "PASSIVE").await?;
    if frames >= truncate_above {
        wal_checkpoint(connection, "TRUNCATE").await?;
    }
    Ok(frames)
}

async fn wal_checkpoint(connection: &DatabaseConnection, mode: &str) -> Result<i64, DbErr> {
    let statement = Statement::from_string(
        connection.get_database_backend(),
        format!("PRAGMA wal_checkpoint({mode})"),
    );
    let row = connection
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| DbErr::Custom("wal_checkpoint returned no row".into()))?;
    row.try_get_by_index::<i64>(1)
}
