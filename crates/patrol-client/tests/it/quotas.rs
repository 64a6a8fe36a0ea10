//! The client against a real server that enforces WeCom's quotas (`--quotas`): a whole walk
//! meets 45009 and its blocks and still returns every order once.

use std::time::Duration;

use futures_util::TryStreamExt;
use patrol_client::{Client, OrderQuery, RetryPolicy};
use patrol_domain::Clock;
use patrol_test::{QuotaLimits, TestApp, numbered_orders};

const T: i64 = 1_790_000_040;

#[tokio::test]
async fn a_walk_blocked_by_45009_waits_and_returns_every_order_once() {
    let app = TestApp::spawn_with(|config| {
        config.clock = Clock::manual(T);
        config.quotas = Some(QuotaLimits {
            corp_per_minute: 3,
            corp_per_hour: 1_000,
            ip_per_minute: 1_000,
            ip_per_hour: 1_000,
            concurrent_per_api: 0,
        });
    })
    .await;
    let (corp, _) = app
        .corp_with_orders("wwquota", numbered_orders(20, T - 3_600, 2))
        .await;
    let client = Client::builder()
        .base_url(&app.base_url)
        .corpid(&corp.corpid)
        .secret(&corp.secret)
        .retry(RetryPolicy {
            max_retries: 20,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
        })
        .build()
        .expect("the client builds");
    // Ten pages at three a minute: the server's minute passes while the client waits out 45009.
    let clock = app.clock().clone();
    let ticking = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            clock.advance(61);
        }
    });
    let orders: Vec<_> = client
        .orders(OrderQuery {
            limit: Some(2),
            ..OrderQuery::default()
        })
        .try_collect()
        .await
        .expect("the walk survives 45009");
    ticking.abort();
    let ids: Vec<&str> = orders.iter().map(|o| o.order_id.as_str()).collect();
    let expected: Vec<String> = (0..20).map(|i| format!("o{i:02}")).collect();
    assert_eq!(ids, expected);
}
