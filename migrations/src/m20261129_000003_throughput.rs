//! Finished tasks per minute and final status, kept by a trigger as tasks finish, so the
//! "recent throughput" of `/api/stats` and the dashboard's chart never scan `tasks`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum TaskThroughput {
    Table,
    Minute,
    Status,
    N,
}

const SQLITE_TRIGGER: &str =
    "CREATE TRIGGER IF NOT EXISTS tasks_throughput AFTER UPDATE OF status ON tasks
    WHEN OLD.status <> NEW.status AND NEW.status IN ('SUCCESS', 'FAILED', 'CANCELLED') BEGIN
      INSERT INTO task_throughput (minute, status, n)
      VALUES (COALESCE(NEW.completed_at, 0) / 60000000, NEW.status, 1)
      ON CONFLICT (minute, status) DO UPDATE SET n = n + 1;
    END";

const POSTGRES_TRIGGER: [&str; 2] = [
    "CREATE OR REPLACE FUNCTION spool_count_throughput() RETURNS trigger AS $$
     BEGIN
       IF OLD.status <> NEW.status AND NEW.status IN ('SUCCESS', 'FAILED', 'CANCELLED') THEN
         INSERT INTO task_throughput (minute, status, n)
         VALUES (COALESCE(NEW.completed_at, 0) / 60000000, NEW.status, 1)
         ON CONFLICT (minute, status) DO UPDATE SET n = task_throughput.n + 1;
       END IF;
       RETURN NULL;
     END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER tasks_throughput AFTER UPDATE OF status ON tasks
     FOR EACH ROW EXECUTE FUNCTION spool_count_throughput()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TaskThroughput::Table)
                    .if_not_exists()
                    .col(big_integer(TaskThroughput::Minute))
                    .col(string_len(TaskThroughput::Status, 16))
                    .col(big_integer(TaskThroughput::N).default(0))
                    .primary_key(
                        Index::create()
                            .col(TaskThroughput::Minute)
                            .col(TaskThroughput::Status),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                for sql in POSTGRES_TRIGGER {
                    db.execute_unprepared(sql).await?;
                }
            }
            _ => {
                db.execute_unprepared(SQLITE_TRIGGER).await?;
            }
        }
        Ok(())
    }
}
