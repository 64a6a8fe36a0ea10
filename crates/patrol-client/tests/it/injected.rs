//! The client against a real server whose fault rules (docs/admin-api.md, "Faults") make a bad
//! day: `-1`, 45009, 42001, HTTP 502, reset connections and cut answers on a seeded share of the
//! calls. A whole walk, and every order's details, still come back complete, once each.

use std::time::Duration;

use futures_util::TryStreamExt;
use patrol_client::{Client, OrderQuery, RetryPolicy};
use patrol_domain::Clock;
use patrol_test::{TestApp, numbered_orders};
use serde_json::json;

const T: i64 = 1_790_000_000;

#[tokio::test]
async fn a_walk_and_every_orders_details_survive_injected_faults() {
    let app = TestApp::spawn_with(|config| config.clock = Clock::manual(T)).await;
    let (corp, _) = app
        .corp_with_orders("wwbadday", numbered_orders(30, T - 3_600, 2))
        .await;
    let report = "/cgi-bin/report/patrol/*";
    let rules = json!({"faults": [
        {"path": "/cgi-bin/gettoken", "times": 1, "action": {"errcode": -1}},
        {"path": report, "probability": 0.1, "seed": 11, "action": {"errcode": -1}},
        {"path": report, "probability": 0.1, "seed": 12, "action": {"errcode": 45009}},
        {"path": report, "probability": 0.1, "seed": 13, "action": "reset"},
        {"path": report, "probability": 0.05, "seed": 14, "action": {"errcode": 42001}},
        {"path": report, "probability": 0.05, "seed": 15, "action": {"status": 502}},
        {"path": report, "probability": 0.05, "seed": 16, "action": "truncate"},
    ]});
    app.admin_expect("PUT", "/faults", Some(rules), 200).await;
    let client = Client::builder()
        .base_url(&app.base_url)
        .corpid(&corp.corpid)
        .secret(&corp.secret)
        .retry(RetryPolicy {
            max_retries: 12,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(40),
        })
        .build()
        .expect("the client builds");

    let orders: Vec<_> = client
        .orders(OrderQuery {
            limit: Some(3),
            ..OrderQuery::default()
        })
        .try_collect()
        .await
        .expect("the walk survives the faults");
    let ids: Vec<&str> = orders.iter().map(|o| o.order_id.as_str()).collect();
    let expected: Vec<String> = (0..30).map(|i| format!("o{i:02}")).collect();
    assert_eq!(ids, expected);
    for order in &orders {
        let detail = client
            .get_order_info(&order.order_id)
            .await
            .expect("the details survive the faults");
        assert_eq!(&detail, order);
    }

    // Every kind of fault was met.
    let list = app.admin_expect("GET", "/faults", None, 200).await;
    let applied: Vec<(String, u64)> = list["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| {
            (
                rule["rule"]["action"].to_string(),
                rule["applied"].as_u64().unwrap(),
            )
        })
        .collect();
    // The gettoken rule expired after its one hit; each other rule hit at least once.
    assert_eq!(applied.len(), 6, "{applied:?}");
    assert!(applied.iter().all(|(_, hits)| *hits > 0), "{applied:?}");
    assert!(list["applied_total"].as_u64().unwrap() >= 7, "{list}");
}
