//! `patrol_store::story` on a fresh SQLite file.

use patrol_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_story_holds() {
    let _serial = crate::ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("story.db")).unwrap();
    patrol_store::story::run(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_story_holds_again_after_a_reopen() {
    let _serial = crate::ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("story.db");
    let store = SqliteStore::open(&path).unwrap();
    patrol_store::story::directory(&store).await;
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    patrol_store::story::tokens(&store).await;
    patrol_store::story::orders(&store).await;
}
