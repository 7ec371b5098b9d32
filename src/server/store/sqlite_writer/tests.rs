//! The SQLite writer: values, transactions, jobs on its thread and the changes they publish.

use super::super::changes::{Changed, TaskChanges};
use super::*;
use sea_orm::Value;
use std::sync::Arc;
use tokio::sync::broadcast::Receiver;
use uuid::Uuid;

fn open() -> (tempfile::TempDir, SqliteConn) {
    let dir = tempfile::tempdir().unwrap();
    let conn = SqliteConn::open(&dir.path().join("w.db"), &StoreOptions::default()).unwrap();
    (dir, conn)
}

fn sql(text: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(DatabaseBackend::Sqlite, text, values)
}

#[test]
fn values_are_stored_as_sqlx_stores_them_and_read_back() {
    let (_dir, conn) = open();
    let id = uuid::Uuid::now_v7();
    finish_at_once(async {
        conn.execute(sql(
            "CREATE TABLE t (id BLOB, flag INTEGER, n INTEGER, doc TEXT)",
            vec![],
        ))
        .await?;
        let row = vec![
            Value::from(id),
            Value::from(true),
            Value::BigUnsigned(Some(7)),
            Value::from(serde_json::json!({"a": 1})),
        ];
        conn.execute(sql("INSERT INTO t VALUES (?, ?, ?, ?)", row))
            .await?;
        let types: Vec<String> = conn
            .query(sql(
                "SELECT typeof(id) || typeof(flag) || typeof(n) || typeof(doc) FROM t",
                vec![],
            ))
            .await?;
        assert_eq!(types, ["blobintegerintegertext"]);
        let read: Vec<(uuid::Uuid, i32)> = conn
            .query(sql(
                "SELECT id, n FROM t WHERE flag = ?",
                vec![Value::from(true)],
            ))
            .await?;
        assert_eq!(read, [(id, 7)]);
        Ok::<_, DbErr>(())
    })
    .unwrap();
}

#[test]
fn a_dropped_transaction_rolls_back_and_a_duplicate_is_marked() {
    let (_dir, conn) = open();
    finish_at_once(async {
        conn.execute(sql("CREATE TABLE t (k TEXT UNIQUE)", vec![]))
            .await?;
        {
            let txn = conn.begin().await?;
            txn.execute(sql("INSERT INTO t VALUES ('a')", vec![]))
                .await?;
        }
        let txn = conn.begin().await?;
        txn.execute(sql("INSERT INTO t VALUES ('b')", vec![]))
            .await?;
        txn.commit().await?;
        let keys: Vec<String> = conn.query(sql("SELECT k FROM t", vec![])).await?;
        assert_eq!(keys, ["b"]);
        let err = conn
            .execute(sql("INSERT INTO t VALUES ('b')", vec![]))
            .await
            .unwrap_err();
        assert!(super::super::conn::is_unique_violation(&err), "{err}");
        let other = conn
            .execute(sql("INSERT INTO nowhere VALUES (1)", vec![]))
            .await;
        assert!(!super::super::conn::is_unique_violation(
            &other.unwrap_err()
        ));
        Ok::<_, DbErr>(())
    })
    .unwrap();
}

/// A writer on a file with the task columns followers see, what reports its changes,
/// and the changes it publishes.
fn writer() -> (
    tempfile::TempDir,
    SqliteWriter,
    SqliteChanges,
    Receiver<Arc<Changed>>,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE tasks (id BLOB PRIMARY KEY, status TEXT, progress INTEGER,
             progress_message TEXT, log_lines INTEGER, lease_expires_at INTEGER)",
        )
        .unwrap();
    let feed = TaskChanges::default();
    let heard = feed.subscribe();
    let changes = SqliteChanges::new(feed);
    let writer = SqliteWriter::open(&path, &StoreOptions::default(), changes.clone()).unwrap();
    (dir, writer, changes, heard)
}

/// Stores two waiting tasks.
const INSERT_TWO: &str =
    "INSERT INTO tasks VALUES (?, 'PENDING', 0, NULL, 0, NULL), (?, 'PENDING', 0, NULL, 0, NULL)";

/// Runs `sql` on `writer` as one job.
async fn write(writer: &SqliteWriter, sql: Statement) {
    writer
        .run(async move |conn: &SqliteConn| conn.execute(sql).await)
        .await
        .unwrap();
}

/// One more (`on`) or one fewer watcher of `changes`.
async fn watch(writer: &SqliteWriter, changes: &SqliteChanges, on: bool) {
    let changes = changes.clone();
    writer
        .run(async move |conn: &SqliteConn| changes.watch(conn, on).await)
        .await
        .unwrap();
}

/// The next change published: after the job's answer, so it is waited for.
async fn next(heard: &mut Receiver<Arc<Changed>>) -> Changed {
    let next = tokio::time::timeout(std::time::Duration::from_secs(30), heard.recv());
    (*next.await.expect("a change").unwrap()).clone()
}

#[tokio::test]
async fn changes_are_reported_only_while_someone_watches() {
    let (_dir, writer, changes, mut heard) = writer();
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    write(&writer, sql(INSERT_TWO, vec![a.into(), b.into()])).await;
    let step = |id: Uuid, progress: i32| {
        sql(
            "UPDATE tasks SET progress = ? WHERE id = ?",
            vec![progress.into(), id.into()],
        )
    };
    // Unwatched, a's step is not reported; so the first change heard is b's.
    write(&writer, step(a, 1)).await;
    watch(&writer, &changes, true).await;
    watch(&writer, &changes, true).await;
    write(&writer, step(b, 1)).await;
    assert_eq!(next(&mut heard).await, Changed::Tasks(vec![b]));
    watch(&writer, &changes, false).await;
    write(&writer, step(a, 2)).await;
    assert_eq!(
        next(&mut heard).await,
        Changed::Tasks(vec![a]),
        "one watcher left"
    );
    watch(&writer, &changes, false).await;
    write(&writer, step(a, 3)).await;
    watch(&writer, &changes, true).await;
    write(&writer, step(b, 2)).await;
    assert_eq!(
        next(&mut heard).await,
        Changed::Tasks(vec![b]),
        "nothing was reported between the last watcher and the next"
    );
}

#[tokio::test]
async fn a_job_publishes_the_tasks_it_changed_as_followers_see_them_once_it_is_over() {
    let (_dir, writer, changes, mut heard) = writer();
    watch(&writer, &changes, true).await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    write(&writer, sql(INSERT_TWO, vec![a.into(), b.into()])).await;
    // A lease renewed is not a change a follower sees; a status is. (Nor is a new
    // task, no one's to follow yet: the first change heard is a's status.)
    let run = sql(
        "UPDATE tasks SET lease_expires_at = 5, status = CASE id WHEN ? THEN 'RUNNING' ELSE status END",
        vec![a.into()],
    );
    write(&writer, run).await;
    assert_eq!(next(&mut heard).await, Changed::Tasks(vec![a]));

    // One job's changes are published together, each task once.
    let logged = sql(
        "UPDATE tasks SET log_lines = 1 WHERE id = ?",
        vec![b.into()],
    );
    let stepped = sql("UPDATE tasks SET progress = 5 WHERE id = ?", vec![b.into()]);
    let deleted = sql("DELETE FROM tasks WHERE id = ?", vec![a.into()]);
    writer
        .run(async move |conn: &SqliteConn| {
            conn.execute(logged).await?;
            conn.execute(stepped).await?;
            conn.execute(deleted).await
        })
        .await
        .unwrap();
    let Changed::Tasks(mut ids) = next(&mut heard).await else {
        panic!("the ids were listed");
    };
    ids.sort();
    let mut both = vec![a, b];
    both.sort();
    assert_eq!(ids, both);
}

#[tokio::test]
async fn a_job_runs_on_the_writer_thread_and_a_waiting_job_is_an_error() {
    let (_dir, writer, _, _) = writer();
    let thread = writer
        .run(async |_conn: &SqliteConn| Ok(std::thread::current().name().map(String::from)))
        .await
        .unwrap();
    assert_eq!(thread.as_deref(), Some("spool-sqlite-writer"));
    let waited = writer
        .run(async |_conn: &SqliteConn| std::future::pending::<Result<(), DbErr>>().await)
        .await;
    assert!(waited.is_err());
}

#[tokio::test]
async fn a_job_that_panics_fails_alone_and_leaves_no_transaction_open() {
    let (_dir, writer, _, _) = writer();
    let create = sql("CREATE TABLE t (k TEXT)", vec![]);
    writer
        .run(async move |conn: &SqliteConn| conn.execute(create).await)
        .await
        .unwrap();
    let panicked = writer
        .run(async |conn: &SqliteConn| -> Result<(), DbErr> {
            let txn = conn.begin().await?;
            txn.execute(sql("INSERT INTO t VALUES ('lost')", vec![]))
                .await?;
            std::mem::forget(txn);
            panic!("a bug in a write");
        })
        .await;
    assert!(panicked.is_err());
    let keys = writer
        .run(async |conn: &SqliteConn| {
            let txn = conn.begin().await?;
            txn.execute(sql("INSERT INTO t VALUES ('kept')", vec![]))
                .await?;
            txn.commit().await?;
            conn.query::<String>(sql("SELECT k FROM t", vec![])).await
        })
        .await
        .unwrap();
    assert_eq!(keys, ["kept"]);
}
