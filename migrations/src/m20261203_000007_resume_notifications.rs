//! PostgreSQL only: resuming a paused queue makes its waiting tasks ready all at once, so
//! it sends the same `spool_ready` notification (payload: the queue) that a ready task
//! does. Without it, workers in other processes would see the resumed queue only at their
//! next poll.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES: &[&str] = &[
    "CREATE OR REPLACE FUNCTION spool_notify_resumed() RETURNS trigger AS $$
     BEGIN
       PERFORM pg_notify('spool_ready', NEW.name);
       RETURN NULL;
     END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER queues_notify_resumed AFTER INSERT OR UPDATE OF paused ON queues
     FOR EACH ROW WHEN (NOT NEW.paused) EXECUTE FUNCTION spool_notify_resumed()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_for_backend(manager, &[], POSTGRES).await
    }
}
