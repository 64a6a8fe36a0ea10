//! WeCom's call-frequency limits (`--quotas`, reference §9) over HTTP: 45009 at exactly the
//! configured count per corp and per client IP, WeCom's blocks on the server's clock, and 45033
//! past the cap on calls of one API running at once.

use std::time::Duration;

use patrol_domain::Clock;
use patrol_server::quota::QuotaLimits;
use patrol_test::{TestApp, assert_wecom_error, errcode};
use serde_json::json;
use tokio::io::AsyncWriteExt;

/// A minute's start on the manual clock.
const T: i64 = 1_790_000_040;

fn limits(tweak: impl FnOnce(&mut QuotaLimits)) -> QuotaLimits {
    let mut limits = QuotaLimits {
        corp_per_minute: 1_000,
        corp_per_hour: 1_000,
        ip_per_minute: 1_000,
        ip_per_hour: 1_000,
        concurrent_per_api: 0,
    };
    tweak(&mut limits);
    limits
}

async fn app_with(limits: QuotaLimits) -> TestApp {
    TestApp::spawn_with(|config| {
        config.clock = Clock::manual(T);
        config.quotas = Some(limits);
    })
    .await
}

#[tokio::test]
async fn a_corp_is_refused_45009_at_exactly_its_limit_and_blocked_sixty_seconds() {
    let app = app_with(limits(|l| l.corp_per_minute = 5)).await;
    let (_, token) = app.corp_with_orders("wwquota", vec![]).await;
    let (_, other) = app.corp_with_orders("wwquota2", vec![]).await;
    for call in 1..=5 {
        let answer = app.order_list(&token, json!({})).await;
        assert_eq!(errcode(&answer), 0, "call {call}: {answer}");
    }
    let refused = app.order_list(&token, json!({})).await;
    assert_wecom_error(&refused, 45009, "api freq out of limit");
    // Per API and per corp: the corp's other APIs and another corp are not blocked.
    assert_eq!(errcode(&app.order_info(&token, "o1").await), 40058);
    assert_eq!(errcode(&app.order_list(&other, json!({})).await), 0);
    // Blocked 60 s from the refused call, on the server's clock, whatever the window.
    app.clock().set(T + 59);
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 45009);
    app.clock().set(T + 60);
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);
}

#[tokio::test]
async fn an_hour_limit_blocks_an_hour() {
    let app = app_with(limits(|l| l.corp_per_hour = 3)).await;
    let (_, token) = app.corp_with_orders("wwquota", vec![]).await;
    for minute in 0..3 {
        app.clock().set(T + minute * 60);
        assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);
    }
    app.clock().set(T + 300);
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 45009);
    app.clock().set(T + 300 + 3599);
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 45009);
    app.clock().set(T + 300 + 3600);
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);
}

#[tokio::test]
async fn a_client_ip_is_counted_per_api_across_corps_and_before_the_token() {
    let app = app_with(limits(|l| l.ip_per_minute = 4)).await;
    let (_, token) = app.corp_with_orders("wwquota", vec![]).await;
    let (_, other) = app.corp_with_orders("wwquota2", vec![]).await;
    for answer in [
        app.order_list(&token, json!({})).await,
        app.order_list(&other, json!({})).await,
        app.order_list(&token, json!({})).await,
        app.order_list(&other, json!({})).await,
    ] {
        assert_eq!(errcode(&answer), 0, "{answer}");
    }
    let refused = app.order_list(&other, json!({})).await;
    assert_wecom_error(&refused, 45009, "api freq out of limit");
    // Refused before the token is read: even a bad token gets 45009.
    assert_eq!(
        errcode(&app.order_list("bad-token", json!({})).await),
        45009
    );
    // Per API: gettoken (called twice above) and get_order_info have windows of their own.
    assert_eq!(errcode(&app.order_info(&token, "o1").await), 40058);
    let corp = app.corp("wwquota3").await;
    app.token(&corp).await;
    app.clock().set(T + 60);
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);
}

#[tokio::test]
async fn calls_past_the_running_cap_of_an_api_get_45033() {
    let app = app_with(limits(|l| l.concurrent_per_api = 1)).await;
    let (_, token) = app.corp_with_orders("wwquota", vec![]).await;
    // An upload whose body never finishes holds the one running slot of media/upload.
    let mut held = tokio::net::TcpStream::connect(app.address()).await.unwrap();
    held.write_all(
        format!(
            "POST /cgi-bin/media/upload?access_token={token}&type=image HTTP/1.1\r\n\
             Host: patrol\r\nContent-Type: multipart/form-data; boundary=b\r\n\
             Content-Length: 100000\r\n\r\n--b\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let upload = || async {
        let answer = app
            .http
            .post(format!(
                "{}/cgi-bin/media/upload?access_token={token}&type=image",
                app.base_url
            ))
            .body("")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        serde_json::from_str::<serde_json::Value>(&answer).unwrap()
    };
    // The held request reaches the server in its own time: poll until it runs.
    let mut refused = None;
    for _ in 0..200 {
        let answer = upload().await;
        if errcode(&answer) == 45033 {
            refused = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let refused = refused.expect("a second upload while one runs is refused");
    assert_wecom_error(&refused, 45033, "api concurrent out of limit");
    // Another API is not capped by it.
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);
    // Once the held upload ends, its slot is free again.
    drop(held);
    let mut freed = false;
    for _ in 0..200 {
        if errcode(&upload().await) != 45033 {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(freed, "the slot of an ended upload is freed");
}

#[tokio::test]
async fn without_quotas_nothing_is_limited() {
    let app = TestApp::spawn_with(|config| config.clock = Clock::manual(T)).await;
    assert!(app.config.quotas.is_none());
    let (_, token) = app.corp_with_orders("wwquota", vec![]).await;
    for _ in 0..300 {
        assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);
    }
}
