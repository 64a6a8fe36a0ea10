//! Failover with pg_auto_failover (a monitor and two nodes of the test's own, synchronous
//! replication): the primary is stopped at once in the middle of a load of reports, the monitor
//! promotes the standby, the server finds it through its multi-host URL
//! (`target_session_attrs=read-write`), and every report it acknowledged is there afterwards.
//! Starts its own formation, whatever `PATROL_TEST_DATABASE_URL` says (CI's PostgreSQL pass skips
//! it: it ran in the first pass).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use patrol_store::{Durability, OpenOptions};
use patrol_test::cluster::query;
use patrol_test::{AutoFailover, MODERN_CORP, TestApp, TestDatabase, order_ids};
use serde_json::json;
use tokio::sync::Mutex;

/// Concurrent writers of the load.
const WRITERS: usize = 4;

/// What the load saw: the ids of acknowledged reports (201), and of reports acknowledged as
/// existing already (409: a retry after an error whose write had committed).
#[derive(Debug, Default)]
struct Seen {
    acknowledged: Vec<String>,
    existing: Vec<String>,
    errors: usize,
}

/// A writer: reports orders `{writer}-0`, `{writer}-1`, … through the administration API until
/// `stop`; an error (the database failing over) is retried with the same id.
async fn writer(
    app: Arc<TestApp>,
    corpid: String,
    writer: usize,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
) {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let order_id = format!("w{writer}-{n}");
        let body = json!({
            "order_id": order_id,
            "description": format!("事件 {order_id}"),
            "grid_id": "g1",
            "location": {"name": "测试小区", "address": "测试路1号", "latitude": 30.27, "longitude": 120.15},
            "reporter": "reporter",
            "time": MODERN_CORP + 100,
        });
        let path = format!("/corps/{corpid}/orders");
        let (status, text) = app.admin_text("POST", &path, Some(&body)).await;
        let mut seen = seen.lock().await;
        match status {
            201 => {
                seen.acknowledged.push(order_id);
                n += 1;
            }
            409 => {
                seen.existing.push(order_id);
                n += 1;
            }
            _ => {
                seen.errors += 1;
                drop(seen);
                assert!(status >= 500, "a report answered {status}: {text}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_write_survives_a_failover_and_the_server_writes_on() {
    let formation = AutoFailover::start("patrol").await;
    let (primary, standby) = (formation.node_ports()[0], formation.node_ports()[1]);
    // Replication is synchronous: a commit is acknowledged once the standby has it.
    let names: String = query(
        &formation.node_url(primary),
        "SHOW synchronous_standby_names",
    )
    .await[0]
        .get(0);
    assert!(
        !names.is_empty(),
        "pg_auto_failover set no synchronous standby"
    );
    // `durability = normal` (synchronous_commit = off) would not wait for the standby: refused.
    let normal = OpenOptions {
        durability: Durability::Normal,
        ..OpenOptions::default()
    };
    let error = patrol_server::backend::open_store_with(&formation.url(), &normal)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("durability full"), "{error}");

    let app = Arc::new(TestApp::spawn_on(TestDatabase::given(&formation.url()), |_| {}).await);
    let corp = app.corp("wwfailover").await;
    let token = app.token(&corp).await;
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|n| {
            tokio::spawn(writer(
                Arc::clone(&app),
                corp.corpid.clone(),
                n,
                Arc::clone(&stop),
                Arc::clone(&seen),
            ))
        })
        .collect();
    let acknowledged = || async { seen.lock().await.acknowledged.len() };

    formation
        .wait("40 reports acknowledged before the stop", || async {
            acknowledged().await >= 40
        })
        .await;
    formation.crash_node(primary).await;
    let at_stop = acknowledged().await;
    formation
        .wait("the standby to be promoted", || async {
            matches!(
                formation.state_of(standby).await,
                Some((reported, _)) if reported == "wait_primary" || reported == "primary"
            )
        })
        .await;
    // The server writes on, to the new primary, through the same pool.
    let promoted = acknowledged().await;
    formation
        .wait("40 reports acknowledged by the new primary", || async {
            acknowledged().await >= promoted + 40
        })
        .await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("a writer ends");
    }

    // Every acknowledged report is there, read through the server (a token issued before the
    // failover, and one issued after it).
    let seen = seen.lock().await;
    let listed: BTreeSet<String> = order_ids(&app.walk(&token, json!({}), 50).await)
        .into_iter()
        .collect();
    let missing: Vec<&String> = seen
        .acknowledged
        .iter()
        .chain(&seen.existing)
        .filter(|id| !listed.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged reports lost in the failover: {missing:?} ({} acknowledged, {} at \
         the stop)\n{}",
        seen.acknowledged.len(),
        at_stop,
        formation.logs()
    );
    let after = app.token(&corp).await;
    let walked = app.walk(&after, json!({}), 50).await;
    assert_eq!(walked.len(), listed.len());
    eprintln!(
        "failover: {} reports acknowledged ({at_stop} before the stop), {} found existing \
         on retry, {} errors while failing over",
        seen.acknowledged.len(),
        seen.existing.len(),
        seen.errors
    );
}
