//! The store's rules for schedules, on every database the tests have: a slot fires
//! once, an unchanged re-declaration is no change, pruning keeps each schedule's latest
//! run, the file's schedules are kept from the API, and runs by hand stand apart.

use crate::databases::{postgres_schema, Schema};
use spool::testing::store::{Store, StoreOptions};

/// A SQLite file in `dir`, and a PostgreSQL schema when the tests have one (kept while
/// the returned guard lives).
async fn databases(dir: &std::path::Path) -> (Vec<String>, Option<Schema>) {
    let mut urls = vec![crate::process::database_url(dir)];
    let schema = postgres_schema().await;
    urls.extend(schema.as_ref().map(|schema| schema.url.clone()));
    (urls, schema)
}

/// The store's rules, on every database the tests have: a slot fires once, an unchanged
/// re-declaration is no change, and pruning keeps each schedule's latest run.
#[tokio::test]
async fn the_store_fires_a_slot_once_and_prunes_all_but_the_latest_run() {
    let dir = tempfile::tempdir().unwrap();
    let (urls, _schema) = databases(dir.path()).await;
    for url in urls {
        let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
        let declare = |definition: &str| vec![("a".to_string(), definition.to_string(), true)];
        store
            .save_file_schedules(declare("{\"v\":1}"), 1_000)
            .await
            .unwrap();
        store
            .save_file_schedules(declare("{\"v\":1}"), 2_000)
            .await
            .unwrap();
        assert_eq!(
            store.schedules().await.unwrap()[0].changed_at,
            1_000,
            "{url}"
        );
        store
            .save_file_schedules(declare("{\"v\":2}"), 3_000)
            .await
            .unwrap();
        assert_eq!(
            store.schedules().await.unwrap()[0].changed_at,
            3_000,
            "{url}"
        );

        for slot in [1_000_000, 2_000_000, 3_000_000] {
            let fired = store
                .fire("a", slot, crate::store::task(0, slot), false)
                .await
                .unwrap();
            assert!(fired.is_some(), "{url}: slot {slot}");
        }
        let again = store
            .fire("a", 2_000_000, crate::store::task(0, 2_000_000), false)
            .await
            .unwrap();
        assert!(again.is_none(), "{url}: a slot fires once");
        assert_eq!(
            store.schedules().await.unwrap()[0].last_slot,
            Some(3_000_000)
        );

        assert_eq!(
            store.prune_schedule_runs(i64::MAX).await.unwrap(),
            2,
            "{url}"
        );
        let kept: Vec<i64> = store
            .runs("a", 10)
            .await
            .unwrap()
            .iter()
            .map(|run| run.slot)
            .collect();
        assert_eq!(kept, [3_000_000], "{url}: the latest run stays");
        assert!(
            store
                .fire("a", 1_000_000, crate::store::task(0, 1), false)
                .await
                .unwrap()
                .is_some(),
            "{url}: a pruned slot could fire again, but `due` never offers one before the latest"
        );
    }
}

/// The store's rules for schedules made through the API, on every database the tests
/// have: the file's are refused, a run by hand never counts as the latest slot, a pause
/// restarts the slots, and deleting takes the runs along.
#[tokio::test]
async fn the_store_keeps_the_files_schedules_from_the_api_and_runs_by_hand_apart() {
    use spool::testing::store::Saved;
    let dir = tempfile::tempdir().unwrap();
    let (urls, _schema) = databases(dir.path()).await;
    for url in urls {
        let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
        let file = vec![("file".to_string(), "{}".to_string(), true)];
        store.save_file_schedules(file, 1_000).await.unwrap();
        let saved = store
            .save_schedule("file", "{\"v\":1}".into(), true, 2_000)
            .await;
        assert_eq!(saved.unwrap(), Saved::FileOwned, "{url}");
        assert_eq!(
            store.schedule("file").await.unwrap().unwrap().definition,
            "{}"
        );

        let saved = store
            .save_schedule("api", "{\"v\":1}".into(), true, 2_000)
            .await;
        assert_eq!(saved.unwrap(), Saved::Created, "{url}");
        let saved = store
            .save_schedule("api", "{\"v\":1}".into(), true, 3_000)
            .await;
        assert_eq!(saved.unwrap(), Saved::Replaced, "{url}");
        let api = store.schedule("api").await.unwrap().unwrap();
        assert_eq!(
            (api.source.as_str(), api.changed_at),
            ("api", 2_000),
            "{url}: no change"
        );

        store
            .fire("api", 5_000_000, crate::store::task(0, 5), false)
            .await
            .unwrap();
        let by_hand = store
            .fire("api", 7_000_001, crate::store::task(0, 7), true)
            .await;
        assert!(by_hand.unwrap().is_some(), "{url}");
        let api = store.schedule("api").await.unwrap().unwrap();
        assert_eq!(
            api.last_slot,
            Some(5_000_000),
            "{url}: a run by hand is no slot"
        );
        let manual: Vec<i32> = store
            .runs("api", 10)
            .await
            .unwrap()
            .iter()
            .map(|run| run.manual)
            .collect();
        assert_eq!(manual, [1, 0], "{url}");
        assert_eq!(
            store.prune_schedule_runs(i64::MAX).await.unwrap(),
            1,
            "{url}: the run by hand goes"
        );

        assert!(store
            .set_schedule_enabled("api", false, 8_000)
            .await
            .unwrap());
        assert!(store
            .set_schedule_enabled("api", false, 9_000)
            .await
            .unwrap());
        let api = store.schedule("api").await.unwrap().unwrap();
        assert_eq!(
            (api.enabled, api.changed_at),
            (0, 8_000),
            "{url}: pausing twice is one change"
        );
        assert!(!store
            .set_schedule_enabled("none", true, 9_000)
            .await
            .unwrap());
        let paused = store
            .fire("api", 10_000_000, crate::store::task(0, 10), false)
            .await;
        assert!(
            paused.unwrap().is_none(),
            "{url}: a paused schedule fires no slot"
        );
        let by_hand = store
            .fire("api", 10_000_001, crate::store::task(0, 10), true)
            .await;
        assert!(by_hand.unwrap().is_some(), "{url}: but runs by hand");
        assert!(store
            .set_schedule_enabled("api", true, 20_000_000)
            .await
            .unwrap());
        let stale = store
            .fire("api", 15_000_000, crate::store::task(0, 15), false)
            .await;
        assert!(
            stale.unwrap().is_none(),
            "{url}: a slot from before the resume"
        );
        let missing = store
            .fire("none", 30_000_000, crate::store::task(0, 30), false)
            .await;
        assert!(missing.unwrap().is_none(), "{url}: no schedule, no slot");

        assert_eq!(
            store.delete_schedule("file").await.unwrap(),
            Saved::FileOwned,
            "{url}"
        );
        assert_eq!(
            store.delete_schedule("api").await.unwrap(),
            Saved::Deleted,
            "{url}"
        );
        assert_eq!(
            store.delete_schedule("api").await.unwrap(),
            Saved::Missing,
            "{url}"
        );
        assert!(store.runs("api", 10).await.unwrap().is_empty(), "{url}");
        assert!(store.schedule("api").await.unwrap().is_none());
    }
}
