//! Byte-exact answers of the demo corp, pinned as insta snapshots (`snapshots/*.snap`): the wire
//! is the contract, and a snapshot shows the whole answer in review. The server's clock stands
//! still at a round instant, so the demo's orders and every time in an answer are the same on
//! every run; what still varies (the token, the cursor, the request id and ip of an errmsg) is
//! redacted. Update with `INSTA_UPDATE=always cargo test -p patrol-server` (or `cargo insta
//! review`) and review the `.snap` diff; under `CI=true` a missing or different snapshot fails.

use patrol_demo::{DEMO_CORPID, DEMO_OTHER_SECRET, DEMO_PATROL_SECRET};
use patrol_domain::Clock;
use patrol_test::TestApp;

/// 2024-06-01 00:00:00 UTC: the instant the server's clock stands at.
const NOW: i64 = 1_717_200_000;

/// A server on a manual clock at [`NOW`] with the demo corp installed.
async fn demo_app() -> TestApp {
    let app = TestApp::spawn_with(|config| {
        config.clock = Clock::manual(NOW);
        // A fixed public URL: image URLs are made absolute under it when answered.
        config.public_url = Some("http://patrol.test".into());
    })
    .await;
    app.demo_corp().await;
    app
}

/// Runs `check` with insta filters that redact the token, the cursor, and an errmsg's request
/// id and ip. Each pattern needs a non-empty value, so an empty token or cursor shows.
fn redacted(check: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r#""access_token":"[^"]+""#, r#""access_token":"[token]""#);
    settings.add_filter(r#""next_cursor":"[^"]+""#, r#""next_cursor":"[cursor]""#);
    settings.add_filter(r"hint: \[[0-9]+\]", "hint: [request id]");
    settings.add_filter(r"from ip: [0-9a-f.:]+,", "from ip: [ip],");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(check);
}

/// A demo token; `gettoken` itself is snapshot in [`gettoken`].
async fn demo_token(app: &TestApp) -> String {
    app.token_for(DEMO_CORPID, DEMO_PATROL_SECRET).await
}

#[tokio::test]
async fn gettoken() {
    let app = demo_app().await;
    let (status, text) = app
        .get(&format!(
            "/cgi-bin/gettoken?corpid={DEMO_CORPID}&corpsecret={DEMO_PATROL_SECRET}"
        ))
        .await;
    assert_eq!(status, 200, "{text}");
    redacted(|| insta::assert_snapshot!("gettoken", text));
}

#[tokio::test]
async fn get_order_list_first_page_of_two() {
    let app = demo_app().await;
    let token = demo_token(&app).await;
    let (status, text) = app
        .patrol_text("get_order_list", &token, r#"{"cursor":"","limit":2}"#)
        .await;
    assert_eq!(status, 200, "{text}");
    redacted(|| insta::assert_snapshot!("get_order_list_first_page_of_two", text));
}

#[tokio::test]
async fn get_order_info_of_the_first_order() {
    let app = demo_app().await;
    let token = demo_token(&app).await;
    let page = app
        .order_list(&token, serde_json::json!({ "limit": 1 }))
        .await;
    let order_id = page["order_list"][0]["order_id"]
        .as_str()
        .unwrap_or_else(|| panic!("the demo has an order: {page}"))
        .to_owned();
    let body = serde_json::json!({ "order_id": order_id }).to_string();
    let (status, text) = app.patrol_text("get_order_info", &token, &body).await;
    assert_eq!(status, 200, "{text}");
    redacted(|| insta::assert_snapshot!("get_order_info_of_the_first_order", text));
}

/// One row per error answer: `case`, then `HTTP status` and the body, byte for byte.
#[tokio::test]
async fn error_answers() {
    let app = demo_app().await;
    let token = demo_token(&app).await;
    let other = app.token_for(DEMO_CORPID, DEMO_OTHER_SECRET).await;
    let list = format!("/cgi-bin/report/patrol/get_order_list?access_token={token}");
    let info = format!("/cgi-bin/report/patrol/get_order_info?access_token={token}");
    let forbidden = format!("/cgi-bin/report/patrol/get_order_list?access_token={other}");
    // (case, method, path and query, body)
    let rows: Vec<(&str, &str, String, &str)> = vec![
        (
            "gettoken without parameters",
            "GET",
            "/cgi-bin/gettoken".into(),
            "",
        ),
        (
            "gettoken without corpid",
            "GET",
            "/cgi-bin/gettoken?corpsecret=x".into(),
            "",
        ),
        (
            "gettoken with an unknown corpid",
            "GET",
            "/cgi-bin/gettoken?corpid=wwnobody&corpsecret=x".into(),
            "",
        ),
        (
            "gettoken with a wrong secret",
            "GET",
            format!("/cgi-bin/gettoken?corpid={DEMO_CORPID}&corpsecret=wrong"),
            "",
        ),
        (
            "no access_token",
            "POST",
            "/cgi-bin/report/patrol/get_order_list".into(),
            "{}",
        ),
        (
            "a token never issued",
            "POST",
            "/cgi-bin/report/patrol/get_order_list?access_token=never-issued".into(),
            "{}",
        ),
        ("an app not enabled for patrol", "POST", forbidden, "{}"),
        ("unparseable JSON", "POST", list.clone(), "{"),
        (
            "a top level that is not an object",
            "POST",
            list.clone(),
            "[]",
        ),
        ("a limit over 50", "POST", list.clone(), r#"{"limit":51}"#),
        (
            "a forged cursor",
            "POST",
            list.clone(),
            r#"{"cursor":"forged"}"#,
        ),
        (
            "a field of the wrong type",
            "POST",
            list.clone(),
            r#"{"limit":"2"}"#,
        ),
        (
            "a trailing comma and a bad limit",
            "POST",
            list.clone(),
            r#"{"limit":51,}"#,
        ),
        ("get_order_list by GET", "GET", list, ""),
        (
            "get_order_info without order_id",
            "POST",
            info.clone(),
            "{}",
        ),
        (
            "get_order_info of an unknown order",
            "POST",
            info,
            r#"{"order_id":"nope"}"#,
        ),
        (
            "an unserved path",
            "GET",
            "/cgi-bin/report/patrol/nothing".into(),
            "",
        ),
    ];
    let mut table = String::new();
    for (case, method, path, body) in rows {
        let (status, text) = if method == "GET" {
            app.get(&path).await
        } else {
            app.post(&path, body.to_owned()).await
        };
        table.push_str(&format!("{case}\n{status} {text}\n\n"));
    }
    redacted(|| insta::assert_snapshot!("error_answers", table));
}
