//! PostgreSQL only: a notification on the channel `spool_ready` (payload: the queue)
//! whenever a task becomes ready to claim — submitted, promoted, retried or rescued — so
//! idle workers in every process sharing the database wake at once instead of polling.
//! PostgreSQL sends notifications at commit and folds repeats within one transaction,
//! so a batch of a thousand submits to one queue is one notification. SQLite, owned by
//! one process, wakes its workers in memory and gets nothing here.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES: &[&str] = &[
    "CREATE OR REPLACE FUNCTION spool_notify_ready() RETURNS trigger AS $$
     BEGIN
       PERFORM pg_notify('spool_ready', NEW.queue);
       RETURN NULL;
     END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER tasks_notify_ready AFTER INSERT OR UPDATE OF status ON tasks
     FOR EACH ROW WHEN (NEW.status = 'PENDING') EXECUTE FUNCTION spool_notify_ready()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_for_backend(manager, &[], POSTGRES).await
    }
}
