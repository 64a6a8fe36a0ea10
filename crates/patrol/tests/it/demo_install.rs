//! The demo corp's installation (`patrol seed` and `patrol serve --demo` make it) cut after each
//! of its writes, as `kill -9` at that moment leaves it, is finished by the next run, which ends
//! equal to an installation never cut: on SQLite and on PostgreSQL. Each write commits on its
//! own, so a run stopped before a write leaves the database as a kill there would.

use std::path::Path;
use std::sync::Arc;

use patrol_demo::{DEMO_CORPID, Writes};
use patrol_domain::Clock;
use patrol_media::{BlobId, BlobStore};
use patrol_store::transfer::{CorpRecord, OrderRecord};
use patrol_store::{Store, StoreError};
use patrol_test::PgCluster;

use crate::support::createdb;

/// The installations' clock: the same times in every database.
const NOW: i64 = 1_800_000_000;

struct Database {
    store: Arc<dyn Store>,
    blobs: Arc<dyn BlobStore>,
}

async fn open(url: &str, media: &Path) -> Database {
    Database {
        store: patrol_server::open_store(url).await.unwrap(),
        blobs: patrol_server::backend::open_blobs(url, Some(media)).unwrap(),
    }
}

/// The two installations of the demo corp.
#[derive(Debug, Clone, Copy)]
enum Install {
    /// `patrol seed`'s: the corp without orders (`patrol_demo::ensure_corp`).
    Seed,
    /// `patrol serve --demo`'s: the corp with its orders (`patrol_demo::install`).
    Demo,
}

impl Install {
    async fn run(self, db: &Database, mut writes: Writes) -> Result<(), StoreError> {
        let clock = Clock::manual(NOW);
        let (store, blobs) = (db.store.as_ref(), db.blobs.as_ref());
        match self {
            Install::Seed => patrol_demo::ensure_corp_within(store, blobs, &clock, &mut writes)
                .await
                .map(drop),
            Install::Demo => patrol_demo::install_within(store, blobs, &clock, &mut writes)
                .await
                .map(drop),
        }
    }
}

/// The demo corp as stored: every record of it and of its orders (without its key, which each
/// database gives), and whether each medium's bytes are there.
async fn installed(db: &Database) -> (CorpRecord, Vec<OrderRecord>, Vec<bool>) {
    let mut corp = db
        .store
        .export_corp(DEMO_CORPID)
        .await
        .unwrap()
        .expect("the demo corp is there");
    let orders = db.store.export_orders(corp.key, 0, 10_000).await.unwrap();
    let mut blobs = Vec::new();
    for media in &corp.media {
        let size = db.blobs.size(BlobId::from_bytes(media.blob)).await.unwrap();
        blobs.push(size == u64::try_from(media.size).ok());
    }
    corp.key = 0;
    (corp, orders, blobs)
}

/// The writes of a whole installation: the corp (with its orders) in one, then each of the 28
/// media's blob and row.
const WRITES: u64 = 57;

/// Where the tests cut an installation: after no write, after the corp, after each write of the
/// first two media (a blob without its row, then both), and before and after the last medium's
/// row; the media between are the same steps again.
const CUTS: [u64; 9] = [0, 1, 2, 3, 4, 5, WRITES - 2, WRITES - 1, WRITES];

/// Cuts `install` after `n` writes (each of [`CUTS`]) on a fresh database (`fresh(n)`), runs
/// it again whole, and compares with a run never cut (on `fresh(u64::MAX)`); a run allowed
/// [`WRITES`] writes is never cut.
async fn each_cut_is_finished<F, Fut>(install: Install, fresh: F)
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Database>,
{
    let whole = fresh(u64::MAX).await;
    install.run(&whole, Writes::all()).await.unwrap();
    let expected = installed(&whole).await;
    assert_eq!(expected.0.corpid, DEMO_CORPID);
    assert!(!expected.0.categories.is_empty() && !expected.0.media.is_empty());
    assert!(expected.2.iter().all(|&there| there), "{:?}", expected.2);
    for n in CUTS {
        let db = fresh(n).await;
        match install.run(&db, Writes::first(n)).await {
            Ok(()) => assert_eq!(n, WRITES, "{install:?} needed only {n} writes"),
            Err(error) => {
                let stopped = matches!(&error, StoreError::Backend { source }
                    if source.to_string() == patrol_demo::STOPPED);
                assert!(stopped, "{install:?} cut after {n} writes: {error:?}");
                assert!(n < WRITES, "{install:?} needs more than {WRITES} writes");
                install
                    .run(&db, Writes::all())
                    .await
                    .unwrap_or_else(|e| panic!("{install:?} cut after {n} writes, run again: {e}"));
            }
        }
        assert_eq!(
            installed(&db).await,
            expected,
            "{install:?} cut after {n} writes, run again"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_install_cut_between_its_writes_is_finished_by_the_next_run_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    for install in [Install::Seed, Install::Demo] {
        let fresh = |n: u64| {
            let url = format!(
                "sqlite://{}",
                dir.path().join(format!("{install:?}-{n}.db")).display()
            );
            let media = dir.path().join(format!("{install:?}-{n}-media"));
            async move { open(&url, &media).await }
        };
        each_cut_is_finished(install, fresh).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_install_cut_between_its_writes_is_finished_by_the_next_run_on_postgres() {
    let cluster = PgCluster::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    for install in [Install::Seed, Install::Demo] {
        let fresh = |n: u64| {
            let url = createdb(&cluster, &format!("{install:?}_{n}").to_lowercase());
            let media = dir.path().join(format!("{install:?}-{n}-media"));
            async move { open(&url, &media).await }
        };
        each_cut_is_finished(install, fresh).await;
    }
}
