//! Migration 6 computes the statistics of orders written before it from their steps: over
//! orders of both families in every state, that computation and the write path agree.

use patrol_demo::Generator;
use patrol_domain::Clock;
use patrol_sqlite::SqliteStore;
use patrol_store::OrderStore;
use rusqlite::Connection;

/// Every statistic the store keeps, in a stable order.
fn statistics(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT id, stage, accepted, solved_time, solver FROM orders ORDER BY id",
        "SELECT corp_id, family, grid_id, category_id, stage, accepted, orders
         FROM order_tallies WHERE orders > 0 ORDER BY 1, 2, 3, 4, 5, 6",
        "SELECT corp_id, family, userid, order_id, stage FROM order_processors
         ORDER BY 1, 2, 3, 4",
        "SELECT corp_id, family, userid, stage, orders FROM user_tallies
         WHERE orders > 0 ORDER BY 1, 2, 3, 4",
        "SELECT corp_id, family, grid_id, quarter, added, solved FROM order_quarters
         ORDER BY 1, 2, 3, 4",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            let values: Vec<String> = (0..columns)
                .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                .collect();
            out.push(values.join("|"));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backfill_of_migration_6_agrees_with_the_write_path() {
    let _serial = crate::ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("patrol.db");
    let store = SqliteStore::open(&path).unwrap();
    let blobs = patrol_media::FsBlobStore::open(dir.path().join("media")).unwrap();
    let clock = Clock::manual(1_796_047_200);
    let (corp, _) = patrol_demo::ensure_corp(&store, &blobs, &clock)
        .await
        .unwrap();
    let anchor = patrol_demo::anchor(clock.now());
    let patrol = Generator::new(7, 400, anchor);
    let resident = Generator::resident(8, 200, anchor);
    let orders = (0..400)
        .map(|i| patrol.order(i))
        .chain((0..200).map(|i| resident.order(i)))
        .collect();
    store.insert_orders(corp.key, orders).await.unwrap();

    let conn = Connection::open(&path).unwrap();
    let written = statistics(&conn);
    assert!(written.len() > 600, "{}", written.len());
    conn.execute_batch(
        "BEGIN;
         DELETE FROM order_tallies;
         DELETE FROM order_processors;
         DELETE FROM user_tallies;
         DELETE FROM order_quarters;
         UPDATE orders SET stage = 0, accepted = 0, solved_time = NULL, solver = NULL;",
    )
    .unwrap();
    conn.execute_batch(patrol_sqlite::STATISTICS_BACKFILL)
        .unwrap();
    let backfilled = statistics(&conn);
    conn.execute_batch("ROLLBACK").unwrap();
    assert_eq!(backfilled, written);
}
