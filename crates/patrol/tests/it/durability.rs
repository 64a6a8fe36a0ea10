//! Acknowledged writes survive `kill -9` of the server at any moment: a few cycles of writers
//! reporting orders as fast as they can while the server is killed under them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use patrol_demo::DEMO_CORPID;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::support::Served;

const ADMIN_KEY: &str = "durability-admin-key";
const WRITERS: usize = 6;
const CYCLES: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("kill.db");
    let database = database.to_str().unwrap().to_owned();
    let seed = rand::random::<u64>();
    eprintln!("kill moments from seed {seed}");
    let mut moments = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    for cycle in 0..CYCLES {
        let mut served = Served::start(
            &["--demo", "--listen", "127.0.0.1:0", "--database", &database],
            &[("PATROL_ADMIN_KEY", ADMIN_KEY)],
        );
        let url = format!("{}/admin/v1/corps/{DEMO_CORPID}/orders", served.url);
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let (http, url, acknowledged) = (http.clone(), url.clone(), acknowledged.clone());
                tokio::spawn(async move {
                    for n in 0.. {
                        let order_id = format!("kill-{cycle}-{writer}-{n}");
                        let answer = http
                            .post(&url)
                            .bearer_auth(ADMIN_KEY)
                            .json(&json!({
                                "order_id": order_id,
                                "description": "井盖缺失",
                                "grid_id": "xihu-beishan-shuguang",
                                "reporter": "zhangwei",
                            }))
                            .send()
                            .await;
                        match answer {
                            Ok(answer) if answer.status() == 201 => {
                                acknowledged.lock().unwrap().push(order_id);
                            }
                            // Killed: the writes in flight were never acknowledged.
                            _ => return,
                        }
                    }
                })
            })
            .collect();
        let moment = moments.random_range(300..900);
        tokio::time::sleep(Duration::from_millis(moment)).await;
        served.kill();
        for writer in writers {
            writer.await.unwrap();
        }
    }

    let acknowledged = acknowledged.lock().unwrap().clone();
    eprintln!(
        "{} orders acknowledged over {CYCLES} kills",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() > CYCLES,
        "the writers wrote almost nothing"
    );
    let store = patrol_server::open_store(&database).await.unwrap();
    let corp = store.corp(DEMO_CORPID).await.unwrap().unwrap();
    let mut lost = Vec::new();
    for order_id in &acknowledged {
        if store
            .order_body(corp.key, None, order_id)
            .await
            .unwrap()
            .is_none()
        {
            lost.push(order_id);
        }
    }
    assert!(lost.is_empty(), "acknowledged and lost: {lost:?}");
}
