//! The database's files: private to their owner, locked to one process, removed only under the
//! lock.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use patrol_sqlite::SqliteStore;
use patrol_store::{DirectoryStore, OpenOptions};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn beside(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_database_and_every_file_beside_it_are_private() {
    let _serial = crate::ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let path = data.join("patrol.db");
    let store = SqliteStore::open(&path).unwrap();
    patrol_store::story::directory(&store).await;
    assert_eq!(mode(&data), 0o700, "the directory patrol made");
    for file in [
        path.clone(),
        beside(&path, "-wal"),
        beside(&path, "-shm"),
        beside(&path, "-lock"),
    ] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_database_readable_by_others_is_made_private() {
    let _serial = crate::ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("open.db");
    drop(SqliteStore::open(&path).unwrap());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _store = SqliteStore::open(&path).unwrap();
    assert_eq!(mode(&path), 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_start_removes_the_data_only_when_no_store_has_it_open() {
    let _serial = crate::ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.db");
    let fresh = OpenOptions {
        fresh: true,
        ..OpenOptions::default()
    };
    let store = SqliteStore::open(&path).unwrap();
    patrol_store::story::directory(&store).await;
    let corps = store.list_corps().await.unwrap().len();
    assert!(corps > 0);

    // Open here: refused, and the data is whole (a second store shares the lock and sees it).
    let error = SqliteStore::open_with(&path, &fresh).unwrap_err();
    assert!(error.to_string().contains("has it open"), "{error}");
    let second = SqliteStore::open(&path).unwrap();
    assert_eq!(second.list_corps().await.unwrap().len(), corps);
    drop((store, second));

    // Closed: a fresh start begins empty.
    let store = SqliteStore::open_with(&path, &fresh).unwrap();
    assert!(store.list_corps().await.unwrap().is_empty());
}
