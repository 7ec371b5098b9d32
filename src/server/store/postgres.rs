//! Connections to PostgreSQL, where many Spool processes share one queue. One pool serves
//! reads and writes (PostgreSQL locks rows, so no single writer is needed); claims skip
//! rows another process has locked (`FOR UPDATE SKIP LOCKED`). Migrations run under an
//! advisory lock, so processes starting together migrate once. Triggers send a
//! notification whenever a task becomes ready and whenever tasks change, and [`relay`]
//! turns the first into a wake-up of this process's idle workers and the second into
//! this process's task change feed (see [`super::changes`]).

use super::changes::{Changed, TaskChanges};
use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Connections per process.
const POOL: u32 = 8;
/// The advisory lock held while migrating: any number no other application uses.
const MIGRATION_LOCK: i64 = 0x5370_6f6f_6c4d; // "SpoolM"
/// The channel the ready trigger notifies, with the queue's name as payload.
pub(super) const READY_CHANNEL: &str = "spool_ready";
/// The channel the change triggers notify, with the changed ids as payload.
const CHANGED_CHANNEL: &str = "spool_changed";
/// Pause before listening again after the listener failed.
const RELISTEN_AFTER: Duration = Duration::from_secs(1);

/// True for the URLs this module serves.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Migrates the database (once, whichever process gets there first) and opens the pool.
pub(super) async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    migrate(url).await?;
    Database::connect(options(url, POOL)).await
}

fn options(url: &str, connections: u32) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(connections)
        .min_connections(1)
        .sqlx_logging(false);
    options
}

/// Runs the migrations holding the advisory lock. The lock belongs to a session, so this
/// uses a pool of exactly one connection for the lock and the migrations alike.
async fn migrate(url: &str) -> Result<(), DbErr> {
    let db = Database::connect(options(url, 1)).await?;
    db.execute_unprepared(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .await?;
    let migrated = Migrator::up(&db, None).await;
    let unlocked = db
        .execute_unprepared(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
        .await;
    db.close().await?;
    migrated?;
    unlocked.map(|_| ())
}

/// Calls `wake` whenever a task becomes ready in any process sharing the database, and
/// publishes to `changes` the tasks any of them changed, until `stop` is cancelled.
/// Notifications sent while the listener is reconnecting are lost, so after every
/// (re)connection it also calls `wake` (the workers then look for themselves) and
/// publishes [`Changed::Unknown`] (the followers read their tasks again), and so it
/// does when it stops.
pub(super) async fn relay(
    db: &DatabaseConnection,
    wake: impl Fn(),
    changes: &TaskChanges,
    stop: CancellationToken,
) {
    let pool = db.get_postgres_connection_pool();
    while !stop.is_cancelled() {
        let listening = async {
            let mut listener = PgListener::connect_with(pool).await?;
            // After a lost connection, `try_recv` connects and listens again before it
            // returns: only then is "anything may have changed" true to publish.
            listener.eager_reconnect(true);
            listener
                .listen_all([READY_CHANNEL, CHANGED_CHANNEL])
                .await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        let listening = tokio::select! {
            // Connecting can wait long for a database that is gone; a stop does not.
            _ = stop.cancelled() => {
                changes.publish(Changed::Unknown);
                return;
            }
            listening = listening => listening,
        };
        let mut listener = match listening {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(error = %err, "could not listen for notifications");
                pause(&stop).await;
                continue;
            }
        };
        wake();
        changes.publish(Changed::Unknown);
        loop {
            tokio::select! {
                _ = stop.cancelled() => {
                    // Notifications of the last commits may not have been read yet.
                    changes.publish(Changed::Unknown);
                    return;
                }
                received = listener.try_recv() => match received {
                    Ok(Some(notification)) if notification.channel() == CHANGED_CHANNEL => {
                        changes.publish_payload(notification.payload());
                    }
                    Ok(Some(_)) => wake(),
                    // The connection dropped, and is back (see `eager_reconnect`): what
                    // was sent meanwhile is lost.
                    Ok(None) => {
                        wake();
                        changes.publish(Changed::Unknown);
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "lost the notification listener");
                        break;
                    }
                },
            }
        }
        pause(&stop).await;
    }
}

async fn pause(stop: &CancellationToken) {
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = tokio::time::sleep(RELISTEN_AFTER) => {}
    }
}
