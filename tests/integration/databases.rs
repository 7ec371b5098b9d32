//! The databases the store's tests run on: a fresh SQLite file always, and a fresh
//! PostgreSQL schema as well whenever `SPOOL_TEST_POSTGRES_URL` names a server (`make
//! test` sets it when one answers on 127.0.0.1:5432). Each test gets its own schema,
//! dropped afterwards. Under CI (`CI=true`) a missing server fails the PostgreSQL tests
//! instead of skipping them.

use sea_orm::{ConnectionTrait, Database};
use spool::testing::store::{Store, StoreOptions, Synchronous};
use std::future::Future;

/// The PostgreSQL server to test against, if any.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("SPOOL_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty());
    assert!(
        url.is_some() || std::env::var("CI").as_deref() != Ok("true"),
        "CI runs every PostgreSQL test: set SPOOL_TEST_POSTGRES_URL (make test does when \
         a server answers on 127.0.0.1:5432)"
    );
    url
}

/// A fresh schema on the test server; `None`, saying the test is skipped, when no server
/// is configured.
pub async fn postgres_schema() -> Option<Schema> {
    match postgres_url() {
        Some(server) => Some(Schema::create(&server).await),
        None => {
            eprintln!("skipped: SPOOL_TEST_POSTGRES_URL is not set");
            None
        }
    }
}

/// `n` stores on `schema`, each with its own pool: `n` processes sharing the database.
pub async fn stores_on(schema: &Schema, n: usize) -> Vec<Store> {
    let mut stores = Vec::new();
    for _ in 0..n {
        stores.push(
            Store::open(&schema.url, &StoreOptions::default())
                .await
                .unwrap(),
        );
    }
    stores
}

/// The first column of the one row `sql` returns, as a number.
pub async fn query_i64(db: &impl ConnectionTrait, sql: &str) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Runs `test` on a fresh store on every database there is to test against. A panic
/// names the database it happened on.
pub async fn each_store<F, Fut>(synchronous: Synchronous, test: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let store = Store::open(
        &url,
        &StoreOptions {
            synchronous,
            ..StoreOptions::default()
        },
    )
    .await
    .unwrap();
    let announce = Announce("SQLite");
    test(store).await;
    std::mem::forget(announce);

    if let Some(server) = postgres_url() {
        let schema = Schema::create(&server).await;
        let store = Store::open(&schema.url, &StoreOptions::default())
            .await
            .unwrap();
        let announce = Announce("PostgreSQL");
        test(store).await;
        std::mem::forget(announce);
    }
}

/// Runs `test` with the URL of a fresh database on every database there is to test
/// against, for tests that open their own stores or connections. A panic names the
/// database it happened on.
pub async fn each_database<F, Fut>(test: F)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let announce = Announce("SQLite");
    test(format!(
        "sqlite://{}",
        dir.path().join("store.db").display()
    ))
    .await;
    std::mem::forget(announce);
    if let Some(server) = postgres_url() {
        let schema = Schema::create(&server).await;
        let announce = Announce("PostgreSQL");
        test(schema.url.clone()).await;
        std::mem::forget(announce);
    }
}

/// Says which database a test was on when it panics there.
struct Announce(&'static str);

impl Drop for Announce {
    fn drop(&mut self) {
        eprintln!("(the failure above happened on {})", self.0);
    }
}

/// A schema of its own on the test server, dropped with everything in it at the end.
pub struct Schema {
    /// The server's URL, with every connection's search path set to this schema.
    pub url: String,
    server: String,
    name: String,
}

/// Test schemas older than this were left by a run that was killed; they go.
const STALE_AFTER_SECS: i64 = 6 * 3600;

impl Schema {
    pub async fn create(server: &str) -> Schema {
        let created = chrono::Utc::now().timestamp();
        let name = format!("spool_test_{created}_{}", uuid::Uuid::new_v4().simple());
        let db = Database::connect(server).await.unwrap();
        db.execute_unprepared(&format!("CREATE SCHEMA {name}"))
            .await
            .unwrap();
        sweep_stale(&db, created - STALE_AFTER_SECS).await;
        db.close().await.unwrap();
        let separator = if server.contains('?') { '&' } else { '?' };
        Schema {
            url: format!("{server}{separator}options=-c%20search_path%3D{name}"),
            server: server.to_string(),
            name,
        }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop cannot await: a thread of its own runs the statement to its end.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let db = Database::connect(&server).await?;
                db.execute_unprepared(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                    .await?;
                db.close().await
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test schema {}", self.name);
        }
    }
}

/// Drops the test schemas created before `before` (Unix seconds, in their names).
async fn sweep_stale(db: &sea_orm::DatabaseConnection, before: i64) {
    let listed = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'spool\\_test\\_%'",
        ))
        .await
        .unwrap_or_default();
    for row in listed {
        let Ok(name) = row.try_get_by_index::<String>(0) else {
            continue;
        };
        let created = name
            .strip_prefix("spool_test_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<i64>().ok());
        if created.is_some_and(|created| created < before) {
            let _ = db
                .execute_unprepared(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .await;
        }
    }
}
