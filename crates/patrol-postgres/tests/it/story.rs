//! The store story (`patrol_store::story`) on PostgreSQL, a chapter per test.

use patrol_postgres::PostgresStore;

use crate::support::TestDb;

async fn store() -> (TestDb, PostgresStore) {
    let db = TestDb::create().await;
    let store = PostgresStore::open(&db.url)
        .await
        .expect("the test database opens");
    (db, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_story() {
    let (_db, store) = store().await;
    patrol_store::story::run(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory() {
    let (_db, store) = store().await;
    patrol_store::story::directory(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens() {
    let (_db, store) = store().await;
    patrol_store::story::tokens(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media() {
    let (_db, store) = store().await;
    patrol_store::story::media(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders() {
    let (_db, store) = store().await;
    patrol_store::story::orders(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics() {
    let (_db, store) = store().await;
    patrol_store::story::statistics(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_runs() {
    let (_db, store) = store().await;
    patrol_store::story::seed_runs(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes() {
    let (_db, store) = store().await;
    patrol_store::story::concurrent_writes(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_images() {
    let (_db, store) = store().await;
    patrol_store::story::served_images(&store).await;
}
