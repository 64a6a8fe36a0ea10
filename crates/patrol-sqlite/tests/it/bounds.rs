//! The store's threads and connections are made when it opens and never per call: hundreds of
//! concurrent reads and writes leave its thread count and its open files where they were.

use std::path::Path;
use std::sync::Arc;

use patrol_domain::{NewCorp, NewUser};
use patrol_sqlite::{READERS, SCAN_THREADS, SqliteStore};
use patrol_store::Store;

/// Threads of this process the store started (they are named `patrol-sqlite-…`; Linux).
fn store_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("patrol-sqlite"))
        .count()
}

/// Open descriptors of this process on files under `dir` (Linux).
fn files_under(dir: &Path) -> usize {
    let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter(|target| target.starts_with(dir))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_concurrent_calls_start_no_thread_and_open_no_file() {
    let _serial = crate::ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().to_path_buf();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("bounds.db")).unwrap());
    // A new thread names itself once it runs: wait for the store's threads to show.
    let mut threads_open = store_threads();
    for _ in 0..200 {
        if threads_open == 1 + SCAN_THREADS {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        threads_open = store_threads();
    }
    assert_eq!(
        threads_open,
        1 + SCAN_THREADS,
        "the writer and the scan readers"
    );
    let files_open = files_under(&dir_path);
    // Every connection (the writer, the inline readers, the scan readers) has the database and
    // its WAL open from the start; the shared-memory file is shared.
    let connections = 1 + READERS + SCAN_THREADS;
    assert!(
        files_open >= 2 * connections,
        "{files_open} files open for {connections} connections"
    );
    let corp = store
        .create_corp(NewCorp {
            corpid: "bounds".parse().unwrap(),
            name: "bounds".into(),
            created_at: 0,
        })
        .await
        .unwrap();
    let mut calls = Vec::new();
    for i in 0..300 {
        let store = store.clone();
        let dir_path = dir_path.clone();
        calls.push(tokio::spawn(async move {
            match i % 3 {
                0 => {
                    let user = NewUser {
                        userid: format!("u{i}").parse().unwrap(),
                        name: "x".into(),
                    };
                    store.create_user(corp.key, user).await.unwrap();
                }
                1 => {
                    store.list_users(corp.key).await.unwrap();
                }
                _ => {
                    store.corp("bounds").await.unwrap().unwrap();
                }
            }
            (store_threads(), files_under(&dir_path))
        }));
    }
    let mut most = (0, 0);
    for call in calls {
        let (threads, files) = call.await.unwrap();
        most = (most.0.max(threads), most.1.max(files));
    }
    assert!(
        most.0 <= threads_open,
        "{} threads during the calls, {threads_open} at rest",
        most.0
    );
    assert!(
        most.1 <= files_open,
        "{} files open during the calls, {files_open} at rest",
        most.1
    );
    assert_eq!(store.list_users(corp.key).await.unwrap().len(), 100);
    drop(store);
}
