//! A first walk through the harness: token, list, info.

use patrol_test::{TestApp, errcode, new_order};

#[tokio::test]
async fn a_token_lists_and_reads_orders() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwsmoke").await;
    app.insert(
        &corp,
        vec![
            new_order("o1", 1_700_000_000),
            new_order("o2", 1_700_000_001),
        ],
    )
    .await;
    let token = app.token(&corp).await;
    let orders = app.walk(&token, serde_json::json!({}), 1).await;
    assert_eq!(orders.len(), 2);
    let info = app
        .patrol("get_order_info", &token, r#"{"order_id":"o2"}"#)
        .await;
    assert_eq!(errcode(&info), 0);
    assert_eq!(info["order_info"], orders[1]);
}
