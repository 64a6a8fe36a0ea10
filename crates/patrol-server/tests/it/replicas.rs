//! Read replicas (`--database-replica`) on a real primary and a real streaming standby of its
//! own (two clusters, `pg_basebackup -R`): the order list, order info and the statistics read
//! from the standby, token checks and the administration API's list of a corp's orders from the
//! primary; a walk across a pause of the standby's replay loses no order; a dead standby fails no
//! call. Starts its own clusters, whatever `PATROL_TEST_DATABASE_URL` says (CI's PostgreSQL pass
//! skips it: it ran in the first pass).

use patrol_domain::AppKind;
use patrol_test::cluster::query;
use patrol_test::{
    PgCluster, TestApp, TestDatabase, assert_wecom_error, errcode, numbered_orders, order_ids,
};
use serde_json::{Value, json};

/// `get_corp_status`'s `total_case` through the server.
async fn total_case(app: &TestApp, token: &str) -> i64 {
    let answer = app.patrol("get_corp_status", token, "{}").await;
    assert_eq!(errcode(&answer), 0, "{answer}");
    answer["total_case"].as_i64().expect("total_case")
}

/// One page of a modify-ordered walk: its order ids and its `next_cursor`.
async fn page(app: &TestApp, token: &str, cursor: &str) -> (Vec<String>, String) {
    let answer = app
        .order_list(
            token,
            json!({"begin_modify_time": 1, "limit": 4, "cursor": cursor}),
        )
        .await;
    assert_eq!(errcode(&answer), 0, "{answer}");
    let orders: Vec<Value> = answer["order_list"].as_array().unwrap().clone();
    let next = answer["next_cursor"].as_str().unwrap().to_owned();
    (order_ids(&orders), next)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_that_may_lag_come_from_the_replica_and_a_walk_across_its_lag_loses_no_order() {
    let primary = PgCluster::start(&[]);
    query(&primary.url(), "CREATE DATABASE patrol").await;
    let standby = PgCluster::standby_of(&primary);
    let replica = standby.url_of("patrol");
    let app = TestApp::spawn_on(TestDatabase::given(&primary.url_of("patrol")), |config| {
        config.database_replicas = vec![replica.clone()];
    })
    .await;
    let (corp, token) = app
        .corp_with_orders("wwreplica", numbered_orders(10, 1_700_000_000, 2))
        .await;
    standby.wait_for_replay(&primary).await;

    // Caught up, the replica answers everything: the first page of a walk.
    let (first, cursor) = page(&app, &token, "").await;
    assert_eq!(first, ["o00", "o01", "o02", "o03"]);
    assert_eq!(total_case(&app, &token).await, 10);

    // The replica stops replaying: new orders are on the primary only.
    query(&standby.url(), "SELECT pg_wal_replay_pause()::text").await;
    app.insert(&corp, numbered_orders(13, 1_700_000_000, 2).split_off(10))
        .await;
    // Reads that may lag do not see them yet: they come from the replica.
    let answer = app.order_info(&token, "o10").await;
    assert_wecom_error(&answer, 40058, "invalid order_id");
    assert_eq!(total_case(&app, &token).await, 10);
    let answer = app
        .patrol("category_statistic", &token, r#"{"category_id": "c1a"}"#)
        .await;
    assert_eq!(answer["dashboard_list"][0]["total_case"], 10, "{answer}");
    // Tokens check on the primary: an app made now, its token granted now, both work at once.
    let secret = "wwreplica-second-app-secret";
    app.app(&corp, 1_000_002, AppKind::Custom, true, true, secret)
        .await;
    let fresh = app.token_for(&corp.corpid, secret).await;
    assert_eq!(total_case(&app, &fresh).await, 10);
    let (second, cursor) = page(&app, &token, &cursor).await;
    assert_eq!(second, ["o04", "o05", "o06", "o07"]);
    // The administration API's list of the corp's orders reads the primary: it has them.
    let listed = app
        .admin_expect("GET", "/corps/wwreplica/orders?limit=3", None, 200)
        .await;
    assert_eq!(
        order_ids(listed["orders"].as_array().unwrap()),
        ["o12", "o11", "o10"]
    );

    // Replaying again, the walk goes on where it stood and meets the new orders: none skipped.
    query(&standby.url(), "SELECT pg_wal_replay_resume()::text").await;
    standby.wait_for_replay(&primary).await;
    let mut rest = Vec::new();
    let mut cursor = cursor;
    while !cursor.is_empty() {
        let (orders, next) = page(&app, &token, &cursor).await;
        rest.extend(orders);
        cursor = next;
    }
    assert_eq!(rest, ["o08", "o09", "o10", "o11", "o12"]);
    assert_eq!(errcode(&app.order_info(&token, "o10").await), 0);
    assert_eq!(total_case(&app, &token).await, 13);

    // A dead replica fails no call: its reads run on the primary, which has everything.
    standby.kill();
    app.insert(&corp, numbered_orders(14, 1_700_000_000, 2).split_off(13))
        .await;
    let answer = app.order_info(&token, "o13").await;
    assert_eq!(errcode(&answer), 0, "{answer}");
    assert_eq!(total_case(&app, &token).await, 14);
    let all = app.walk(&token, json!({"begin_modify_time": 1}), 50).await;
    assert_eq!(order_ids(&all).len(), 14);
    let answer = app
        .patrol("get_user_status", &token, r#"{"userid": "admin"}"#)
        .await;
    assert_eq!(errcode(&answer), 0, "{answer}");
}
