//! The store story (`patrol_store::story`) on the backend that the test database URL names
//! (`PATROL_TEST_DATABASE_URL`, a fresh SQLite file by default), opened through the server's one
//! backend chooser: the store-level half of the backend-agnostic test story, beside the HTTP half
//! in the other modules.

use patrol_test::TestDatabase;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_story_holds_on_the_named_backend() {
    let database = TestDatabase::fresh();
    let store = patrol_server::open_store(&database.url)
        .await
        .expect("the test database opens");
    patrol_store::story::run(store.as_ref()).await;
}
