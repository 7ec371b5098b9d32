//! PostgreSQL only: a notification on the channel `spool_changed` for every statement that
//! changes tasks as an event stream sees them (status, progress, progress message, log
//! line count) or deletes them. Its payload is the changed ids, comma-separated, or `*`
//! when more than 200 changed (a notification holds at most 8,000 bytes). PostgreSQL
//! delivers it at commit to every process listening, so each process publishes the
//! changes of all others to its event streams without reading the tasks on a timer.
//! Statement triggers with transition tables make it one notification per statement,
//! however many rows it changed. SQLite, owned by one process, reports changes on its
//! writer's connection instead.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES: &[&str] = &[
    // PL/pgSQL plans each query when it first runs, so each trigger's branch names only
    // the transition tables that trigger has.
    "CREATE OR REPLACE FUNCTION spool_notify_changed() RETURNS trigger AS $$
     DECLARE
       changed_count bigint;
       ids text;
     BEGIN
       IF TG_OP = 'DELETE' THEN
         SELECT count(*), string_agg(id::text, ',') INTO changed_count, ids FROM (
           SELECT id FROM deleted_rows LIMIT 201) d;
       ELSE
         SELECT count(*), string_agg(id::text, ',') INTO changed_count, ids FROM (
           SELECT n.id FROM changed_rows n JOIN previous_rows o ON o.id = n.id
           WHERE (n.status, n.progress, n.progress_message, n.log_lines)
             IS DISTINCT FROM (o.status, o.progress, o.progress_message, o.log_lines)
           LIMIT 201) c;
       END IF;
       IF changed_count > 200 THEN
         PERFORM pg_notify('spool_changed', '*');
       ELSIF changed_count > 0 THEN
         PERFORM pg_notify('spool_changed', ids);
       END IF;
       RETURN NULL;
     END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER tasks_notify_changed AFTER UPDATE ON tasks
     REFERENCING OLD TABLE AS previous_rows NEW TABLE AS changed_rows
     FOR EACH STATEMENT EXECUTE FUNCTION spool_notify_changed()",
    "CREATE TRIGGER tasks_notify_deleted AFTER DELETE ON tasks
     REFERENCING OLD TABLE AS deleted_rows
     FOR EACH STATEMENT EXECUTE FUNCTION spool_notify_changed()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_for_backend(manager, &[], POSTGRES).await
    }
}
