//! A database written under the previous schema, whose triggers kept the counters and
//! opened the attempt records, goes on with exact counters and whole attempt histories
//! once the store that counts for itself has migrated it.

use crate::databases::postgres_schema;
use migrations::MigratorTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Database, EntityTrait, QueryFilter, Set};
use serde_json::json;
use spool::testing::store::task_row::Column;
use spool::testing::store::{task_row, ListFilter, Outcome, Store, StoreOptions};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Migrations in the schema before the store counted for itself.
const PREVIOUS_SCHEMA: u32 = 9;
const NOW: i64 = 1_000_000;
const MINUTE: i64 = 60_000_000;

fn old_row(queue: &str, task_type: &str) -> task_row::ActiveModel {
    task_row::ActiveModel {
        id: Set(Uuid::new_v4()),
        task_type: Set(task_type.into()),
        queue: Set(queue.into()),
        status: Set("PENDING".into()),
        priority: Set(0),
        attempt: Set(0),
        max_attempts: Set(3),
        parameters: Set("{}".into()),
        result_data: Set(None),
        error_message: Set(None),
        progress: Set(0),
        progress_message: Set(None),
        created_at: Set(NOW),
        run_at: Set(NOW),
        started_at: Set(None),
        completed_at: Set(None),
        lease_expires_at: Set(None),
        worker_id: Set(None),
        cancel_requested: Set(false),
        timeout_ms: Set(None),
        idempotency_key: Set(None),
        // Columns of later migrations: the previous schema has none.
        unique_key: sea_orm::ActiveValue::NotSet,
        unique_states: sea_orm::ActiveValue::NotSet,
        log_lines: sea_orm::ActiveValue::NotSet,
    }
}

/// Writes tasks as the previous Spool did, leaving the counting to its triggers: six
/// inserts, three claims, a failure and a cancel. Returns the ids, oldest first.
async fn write_under_previous_schema(url: &str) -> Vec<Uuid> {
    let db = Database::connect(url).await.unwrap();
    migrations::Migrator::up(&db, Some(PREVIOUS_SCHEMA))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for (queue, kind) in [
        ("default", "noop"),
        ("default", "noop"),
        ("default", "data_processing"),
        ("emails", "noop"),
        ("emails", "noop"),
        ("default", "noop"),
    ] {
        let row = old_row(queue, kind);
        let id = row.id.clone().unwrap();
        // Without RETURNING: the entity reads columns the previous schema lacks.
        task_row::Entity::insert(row)
            .exec_without_returning(&db)
            .await
            .unwrap();
        ids.push(id);
    }
    let update =
        |some: &[Uuid]| task_row::Entity::update_many().filter(Column::Id.is_in(some.to_vec()));
    let changes = [
        update(&ids[0..3])
            .col_expr(Column::Status, Expr::value("RUNNING"))
            .col_expr(Column::Attempt, Expr::value(1))
            .col_expr(Column::StartedAt, Expr::value(NOW))
            .col_expr(Column::WorkerId, Expr::value("old"))
            .col_expr(Column::LeaseExpiresAt, Expr::value(NOW + 10_000_000)),
        update(&ids[1..2])
            .col_expr(Column::Status, Expr::value("FAILED"))
            .col_expr(Column::CompletedAt, Expr::value(NOW))
            .col_expr(Column::ErrorMessage, Expr::value("x"))
            .col_expr(Column::WorkerId, Expr::value(Option::<String>::None)),
        update(&ids[3..4])
            .col_expr(Column::Status, Expr::value("CANCELLED"))
            .col_expr(Column::CompletedAt, Expr::value(NOW + MINUTE)),
    ];
    for change in changes {
        assert!(change.exec(&db).await.unwrap().rows_affected > 0);
    }
    db.close().await.unwrap();
    ids
}

async fn counted(store: &Store) -> BTreeMap<(String, String, String), i64> {
    store
        .counts()
        .await
        .unwrap()
        .into_iter()
        .map(|row| ((row.queue, row.task_type, row.status), row.n))
        .collect()
}

async fn scanned(store: &Store) -> BTreeMap<(String, String, String), i64> {
    let mut scanned = BTreeMap::new();
    let filter = ListFilter {
        limit: 1000,
        ..Default::default()
    };
    for row in store.list(&filter).await.unwrap() {
        *scanned
            .entry((row.queue, row.task_type, row.status.as_str().to_string()))
            .or_default() += 1;
    }
    scanned
}

async fn upgrade_and_go_on(url: &str) {
    let ids = write_under_previous_schema(url).await;
    let store = Store::open(url, &StoreOptions::default()).await.unwrap();
    let before = counted(&store).await;
    assert_eq!(before, scanned(&store).await, "counted by the old triggers");
    assert_eq!(before.values().sum::<i64>(), 6);

    // A task claimed before the upgrade finishes after it, on its old attempt record.
    assert!(store
        .finish(ids[0], 1, 2 * MINUTE, Outcome::Succeeded(json!(1)))
        .await
        .unwrap());
    let attempts = store.attempts(ids[0]).await.unwrap();
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert_eq!(attempts[0].outcome.as_deref(), Some("SUCCESS"));
    assert_eq!(attempts[0].worker_id, "old");
    // New claims, a retry, a rescue of every running task, a submit and its cancel, and a
    // prune of the task cancelled before the upgrade.
    let claimed = store
        .claim("emails", 5, "new", NOW, NOW + 10)
        .await
        .unwrap();
    assert_eq!(claimed.iter().map(|t| t.id).collect::<Vec<_>>(), [ids[4]]);
    store
        .claim("default", 5, "new", NOW, NOW + 10)
        .await
        .unwrap();
    store.retry(ids[1], NOW).await.unwrap();
    store.rescue_expired(NOW + 20_000_000).await.unwrap();
    let submitted = store.insert(crate::store::task(0, NOW)).await.unwrap();
    store.cancel(submitted.id, 3 * MINUTE).await.unwrap();
    assert_eq!(store.prune(NOW + MINUTE + 1).await.unwrap(), 1);
    assert_eq!(counted(&store).await, scanned(&store).await);

    // Each attempt record opened once and closed once, old or new.
    for (id, worker) in [(ids[2], "old"), (ids[4], "new"), (ids[5], "new")] {
        let attempts = store.attempts(id).await.unwrap();
        let seen: Vec<_> = attempts
            .iter()
            .map(|a| (a.worker_id.as_str(), a.outcome.as_deref()))
            .collect();
        assert_eq!(seen, [(worker, Some("LOST"))], "{id}");
    }
    // Finishes counted in their minutes, before the upgrade and after.
    let throughput: Vec<_> = store
        .throughput(0)
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.minute, row.status, row.n))
        .collect();
    let expected = [
        (0, "FAILED"),
        (1, "CANCELLED"),
        (2, "SUCCESS"),
        (3, "CANCELLED"),
    ];
    assert_eq!(
        throughput,
        expected
            .iter()
            .map(|(minute, status)| (*minute, status.to_string(), 1))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_sqlite_file_of_the_previous_schema_keeps_exact_counters() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    upgrade_and_go_on(&url).await;
}

#[tokio::test]
async fn a_postgres_database_of_the_previous_schema_keeps_exact_counters() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    upgrade_and_go_on(&schema.url).await;
}
