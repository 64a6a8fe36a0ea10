//! `gettoken`, token lifetime, the patrol permission of each kind of app, and tenancy, pinned
//! against decisions.md ("gettoken", "Permissions") over HTTP with raw requests.

mod support;

use patrol_domain::AppKind;
use serde_json::{Value, json};
use support::{MODERN_CORP, SYSTEM_APP_CUTOFF, TestApp, TestCorp, errcode, errmsg, new_order};

/// `GET /cgi-bin/gettoken?{query}`: HTTP 200 and a JSON body.
async fn gettoken(app: &TestApp, query: &str) -> Value {
    let (status, body) = app.get(&format!("/cgi-bin/gettoken?{query}")).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// Asserts an error answer: its errcode, and an errmsg that starts with `text` followed by WeCom's
/// hint suffix.
#[track_caller]
fn assert_error(answer: &Value, code: i64, text: &str) {
    assert_eq!(errcode(answer), code, "{answer}");
    let message = errmsg(answer);
    assert!(
        message.starts_with(&format!("{text}, hint: [")),
        "errmsg {message:?} should start with {text:?}"
    );
    assert!(
        message.ends_with(&format!("?e={code}")),
        "errmsg {message:?} should end with ?e={code}"
    );
}

/// An errmsg with its request id replaced, so that two answers can be compared.
fn without_request_id(errmsg: &str) -> String {
    let start = errmsg.find("hint: [").expect("a hint") + "hint: [".len();
    let end = start + errmsg[start..].find(']').expect("the end of the hint");
    format!("{}<id>{}", &errmsg[..start], &errmsg[end..])
}

async fn order_list(app: &TestApp, token: &str, body: Value) -> Value {
    app.patrol("get_order_list", token, &body.to_string()).await
}

async fn order_info(app: &TestApp, token: &str, order_id: &str) -> Value {
    let body = json!({ "order_id": order_id }).to_string();
    app.patrol("get_order_info", token, &body).await
}

/// The `order_id`s of a list of orders.
fn ids(orders: &[Value]) -> Vec<&str> {
    orders
        .iter()
        .map(|order| order["order_id"].as_str().expect("an order_id"))
        .collect()
}

/// Asserts that `token` may call both patrol APIs (errcode 0) or is refused with 48002 on both.
async fn assert_patrol_access(app: &TestApp, token: &str, allowed: bool, case: &str) {
    let list = order_list(app, token, json!({})).await;
    let info = order_info(app, token, "o1").await;
    if allowed {
        assert_eq!(errcode(&list), 0, "{case}: get_order_list {list}");
        assert_eq!(
            ids(list["order_list"].as_array().unwrap()),
            ["o1"],
            "{case}"
        );
        assert_eq!(errcode(&info), 0, "{case}: get_order_info {info}");
        assert_eq!(info["order_info"]["order_id"], "o1", "{case}");
    } else {
        for answer in [&list, &info] {
            assert_eq!(errcode(answer), 48002, "{case}: {answer}");
            assert_error(answer, 48002, "api forbidden");
            assert!(answer.get("order_list").is_none(), "{case}: {answer}");
            assert!(answer.get("order_info").is_none(), "{case}: {answer}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// gettoken: parameters and credentials

#[tokio::test]
async fn gettoken_without_parameters_reports_the_missing_corpsecret_first() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwtok").await;
    assert_error(&gettoken(&app, "").await, 41004, "corpsecret missing");
    // Even a valid corpid does not make the corpsecret optional.
    let only_corpid = gettoken(&app, &format!("corpid={}", corp.corpid)).await;
    assert_error(&only_corpid, 41004, "corpsecret missing");
}

#[tokio::test]
async fn gettoken_without_corpid_reports_41002() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwtok").await;
    let query = format!("corpsecret={}", corp.secret);
    assert_error(&gettoken(&app, &query).await, 41002, "corpid missing");
    // An empty corpid is a missing one.
    let query = format!("corpid=&corpsecret={}", corp.secret);
    assert_error(&gettoken(&app, &query).await, 41002, "corpid missing");
}

#[tokio::test]
async fn gettoken_with_an_empty_corpsecret_reports_41004() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwtok").await;
    let query = format!("corpid={}&corpsecret=", corp.corpid);
    assert_error(&gettoken(&app, &query).await, 41004, "corpsecret missing");
}

#[tokio::test]
async fn gettoken_with_an_unknown_corpid_reports_40013() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwtok").await;
    // A well-formed id that no corp has, with a secret that some corp's app does have.
    let query = format!("corpid=wwunknown&corpsecret={}", corp.secret);
    assert_error(&gettoken(&app, &query).await, 40013, "invalid corpid");
}

#[tokio::test]
async fn gettoken_with_a_wrong_secret_reports_40001() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwtok").await;
    let query = format!("corpid={}&corpsecret=not-the-secret", corp.corpid);
    assert_error(&gettoken(&app, &query).await, 40001, "invalid credential");
}

#[tokio::test]
async fn gettoken_with_the_secret_of_another_corps_app_reports_40001() {
    let app = TestApp::spawn().await;
    let corp_a = app.corp("wwcorpa").await;
    let corp_b = app.corp("wwcorpb").await;
    let query = format!("corpid={}&corpsecret={}", corp_a.corpid, corp_b.secret);
    assert_error(&gettoken(&app, &query).await, 40001, "invalid credential");
    // The secret itself is good: with its own corpid it gets a token.
    let own = gettoken(
        &app,
        &format!("corpid={}&corpsecret={}", corp_b.corpid, corp_b.secret),
    )
    .await;
    assert_eq!(errcode(&own), 0, "{own}");
}

#[tokio::test]
async fn gettoken_with_a_disabled_apps_secret_reports_40001() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwtok").await;
    app.app(
        &corp,
        1_000_002,
        AppKind::Custom,
        true,
        false,
        "disabled-secret",
    )
    .await;
    let query = format!("corpid={}&corpsecret=disabled-secret", corp.corpid);
    assert_error(&gettoken(&app, &query).await, 40001, "invalid credential");
}

#[tokio::test]
async fn gettoken_success_has_exactly_wecoms_fields_and_a_url_safe_token() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwtok").await;
    let answer = gettoken(
        &app,
        &format!("corpid={}&corpsecret={}", corp.corpid, corp.secret),
    )
    .await;
    let object = answer.as_object().expect("a JSON object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["access_token", "errcode", "errmsg", "expires_in"],
        "{answer}"
    );
    assert_eq!(answer["errcode"], 0);
    assert_eq!(answer["errmsg"], "ok");
    // The first issue of a token has the whole default lifetime.
    assert_eq!(answer["expires_in"], 7200);
    let token = answer["access_token"].as_str().expect("a string token");
    assert!(!token.is_empty());
    assert!(token.len() <= 512, "{} bytes", token.len());
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "not URL-safe: {token:?}"
    );
    // The token needs no escaping in a query string and works as given.
    let list = order_list(&app, token, json!({})).await;
    assert_eq!(errcode(&list), 0, "{list}");
}

// ---------------------------------------------------------------------------------------------
// gettoken: one live token per app

#[tokio::test]
async fn a_repeated_gettoken_returns_the_same_token_with_the_seconds_remaining() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwtok").await;
    let query = format!("corpid={}&corpsecret={}", corp.corpid, corp.secret);
    let first = gettoken(&app, &query).await;
    let second = gettoken(&app, &query).await;
    assert_eq!(errcode(&second), 0, "{second}");
    assert_eq!(second["access_token"], first["access_token"]);
    let remaining = second["expires_in"]
        .as_i64()
        .expect("an integer expires_in");
    assert!(remaining > 0 && remaining <= 7200, "expires_in {remaining}");
    assert!(remaining <= first["expires_in"].as_i64().unwrap());
}

#[tokio::test]
async fn two_apps_of_one_corp_get_different_tokens() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwtok").await;
    app.app(
        &corp,
        1_000_002,
        AppKind::Custom,
        true,
        true,
        "second-secret",
    )
    .await;
    let first = app.token(&corp).await;
    let second = app.token_for(&corp.corpid, "second-secret").await;
    assert_ne!(first, second);
    // Each stays its app's one live token.
    assert_eq!(app.token(&corp).await, first);
    assert_eq!(app.token_for(&corp.corpid, "second-secret").await, second);
    for token in [&first, &second] {
        let list = order_list(&app, token, json!({})).await;
        assert_eq!(errcode(&list), 0, "{list}");
    }
}

/// gettoken is served for any method: a POST with the parameters in the query string behaves as
/// the GET does (it returns the app's one live token). The parameters are read from the query
/// string only, so a POST carrying them in a JSON body is a call without parameters (41004).
#[tokio::test]
async fn gettoken_answers_a_post_as_it_answers_a_get() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwtok").await;
    let query = format!("corpid={}&corpsecret={}", corp.corpid, corp.secret);
    let (status, text) = app.post(&format!("/cgi-bin/gettoken?{query}"), "").await;
    assert_eq!(status, 200, "{text}");
    let posted: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(errcode(&posted), 0, "{posted}");
    assert_eq!(posted["errmsg"], "ok");
    assert_eq!(posted["expires_in"], 7200);
    let token = posted["access_token"].as_str().unwrap();
    assert_eq!(app.token(&corp).await, token);

    let body = json!({ "corpid": corp.corpid, "corpsecret": corp.secret }).to_string();
    let (status, text) = app.post("/cgi-bin/gettoken", body).await;
    assert_eq!(status, 200, "{text}");
    let in_body: Value = serde_json::from_str(&text).unwrap();
    assert_error(&in_body, 41004, "corpsecret missing");
}

// ---------------------------------------------------------------------------------------------
// Token lifetime

#[tokio::test]
async fn an_expired_token_answers_42001() {
    let app = TestApp::spawn_with(|config| config.token_ttl = 1).await;
    let corp = app.corp("wwtok").await;
    app.insert(&corp, vec![new_order("o1", 1_700_000_000)])
        .await;
    let token = app.token(&corp).await;
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let list = order_list(&app, &token, json!({})).await;
    assert_error(&list, 42001, "access_token expired");
    let info = order_info(&app, &token, "o1").await;
    assert_error(&info, 42001, "access_token expired");
}

#[tokio::test]
async fn after_expiry_gettoken_issues_a_new_token_and_the_old_one_stays_expired() {
    // A lifetime of 3 s leaves the new token at least 2 s to be used in.
    let app = TestApp::spawn_with(|config| config.token_ttl = 3).await;
    let corp = app.corp("wwtok").await;
    let old = app.token(&corp).await;
    tokio::time::sleep(std::time::Duration::from_millis(3_100)).await;
    let query = format!("corpid={}&corpsecret={}", corp.corpid, corp.secret);
    let answer = gettoken(&app, &query).await;
    assert_eq!(errcode(&answer), 0, "{answer}");
    let new = answer["access_token"].as_str().unwrap();
    assert_ne!(new, old, "an expired token must not be handed out again");
    assert_eq!(
        answer["expires_in"], 3,
        "a new token has the whole lifetime"
    );
    let list = order_list(&app, new, json!({})).await;
    assert_eq!(errcode(&list), 0, "{list}");
    let list = order_list(&app, &old, json!({})).await;
    assert_error(&list, 42001, "access_token expired");
}

#[tokio::test]
async fn a_token_never_issued_answers_40014() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwtok").await;
    app.insert(&corp, vec![new_order("o1", 1_700_000_000)])
        .await;
    let real = app.token(&corp).await;
    // Made-up tokens: short, shaped like a real one, and longer than any token can be.
    let mut shaped = real.clone().into_bytes();
    shaped[0] = if shaped[0] == b'A' { b'B' } else { b'A' };
    let shaped = String::from_utf8(shaped).unwrap();
    for token in ["never-issued".to_owned(), shaped, "A".repeat(600)] {
        let list = order_list(&app, &token, json!({})).await;
        assert_error(&list, 40014, "invalid access_token");
        let info = order_info(&app, &token, "o1").await;
        assert_error(&info, 40014, "invalid access_token");
    }
}

#[tokio::test]
async fn a_token_survives_a_server_restart() {
    let mut app = TestApp::spawn().await;
    let corp = app.corp("wwtok").await;
    app.insert(&corp, vec![new_order("o1", 1_700_000_000)])
        .await;
    let token = app.token(&corp).await;
    app.restart().await;
    let list = order_list(&app, &token, json!({})).await;
    assert_eq!(errcode(&list), 0, "{list}");
    assert_eq!(ids(list["order_list"].as_array().unwrap()), ["o1"]);
    let info = order_info(&app, &token, "o1").await;
    assert_eq!(errcode(&info), 0, "{info}");
    // The new server also hands out the same live token.
    assert_eq!(app.token(&corp).await, token);
}

// ---------------------------------------------------------------------------------------------
// Permissions

/// A corp with order `o1`, created at `created_at`.
async fn corp_with_order(app: &TestApp, corpid: &str, created_at: i64) -> TestCorp {
    let corp = app.corp_created_at(corpid, created_at).await;
    app.insert(&corp, vec![new_order("o1", 1_700_000_000)])
        .await;
    corp
}

#[tokio::test]
async fn a_custom_app_enabled_for_patrol_may_call_the_patrol_api() {
    let app = TestApp::spawn().await;
    let corp = corp_with_order(&app, "wwperm", MODERN_CORP).await;
    let token = app.token(&corp).await;
    assert_patrol_access(&app, &token, true, "custom, patrol-enabled").await;
}

#[tokio::test]
async fn a_custom_app_not_enabled_for_patrol_gets_48002() {
    let app = TestApp::spawn().await;
    let corp = corp_with_order(&app, "wwperm", MODERN_CORP).await;
    app.app(
        &corp,
        1_000_002,
        AppKind::Custom,
        false,
        true,
        "plain-secret",
    )
    .await;
    let token = app.token_for(&corp.corpid, "plain-secret").await;
    assert_patrol_access(&app, &token, false, "custom, not patrol-enabled").await;
    // The permission is checked before the body: a broken body or a missing order_id still
    // gets 48002, without the JSON warning.
    let broken = app.patrol("get_order_list", &token, "{not json").await;
    assert_error(&broken, 48002, "api forbidden");
    let missing = app.patrol("get_order_info", &token, "{}").await;
    assert_error(&missing, 48002, "api forbidden");
    let trailing = app
        .patrol("get_order_list", &token, r#"{"limit": 20,}"#)
        .await;
    assert_error(&trailing, 48002, "api forbidden");
}

#[tokio::test]
async fn a_system_app_of_a_corp_created_before_the_cutoff_may_call_whatever_its_patrol_flag() {
    let app = TestApp::spawn().await;
    let corp = corp_with_order(&app, "wwold", SYSTEM_APP_CUTOFF - 1).await;
    for (agentid, patrol_enabled) in [(3_010_001, true), (3_010_002, false)] {
        let secret = format!("system-{patrol_enabled}");
        app.app(
            &corp,
            agentid,
            AppKind::System,
            patrol_enabled,
            true,
            &secret,
        )
        .await;
        let token = app.token_for(&corp.corpid, &secret).await;
        let case = format!("system app, corp created before the cutoff, flag {patrol_enabled}");
        assert_patrol_access(&app, &token, true, &case).await;
    }
}

#[tokio::test]
async fn a_system_app_of_a_corp_created_at_or_after_the_cutoff_gets_48002() {
    let app = TestApp::spawn().await;
    for (corpid, created_at) in [
        ("wwcutoff", SYSTEM_APP_CUTOFF),
        ("wwafter", SYSTEM_APP_CUTOFF + 1),
        ("wwmodern", MODERN_CORP),
    ] {
        let corp = corp_with_order(&app, corpid, created_at).await;
        for (agentid, patrol_enabled) in [(3_010_001, true), (3_010_002, false)] {
            let secret = format!("{corpid}-system-{patrol_enabled}");
            app.app(
                &corp,
                agentid,
                AppKind::System,
                patrol_enabled,
                true,
                &secret,
            )
            .await;
            let token = app.token_for(&corp.corpid, &secret).await;
            let case = format!("system app, corp created at {created_at}, flag {patrol_enabled}");
            assert_patrol_access(&app, &token, false, &case).await;
        }
    }
}

#[tokio::test]
async fn third_party_and_provider_apps_get_48002_even_when_enabled_for_patrol() {
    let app = TestApp::spawn().await;
    // An old corp, so that not even the system-app rule could let them through.
    let corp = corp_with_order(&app, "wwold", SYSTEM_APP_CUTOFF - 1).await;
    let mut agentid = 4_000_000;
    for kind in [AppKind::ThirdParty, AppKind::Provider] {
        for patrol_enabled in [true, false] {
            agentid += 1;
            let secret = format!("{kind}-{patrol_enabled}");
            app.app(&corp, agentid, kind, patrol_enabled, true, &secret)
                .await;
            // patrol issues their tokens through gettoken (a documented simplification).
            let token = app.token_for(&corp.corpid, &secret).await;
            let case = format!("{kind} app, flag {patrol_enabled}");
            assert_patrol_access(&app, &token, false, &case).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tenancy

/// Corps A and B. Both have `o1` and `o2` (with different create times and descriptions); only B
/// has `b1` and `b2`.
async fn two_corps(app: &TestApp) -> (TestCorp, TestCorp) {
    let corp_a = app.corp("wwcorpa").await;
    let corp_b = app.corp("wwcorpb").await;
    app.insert(
        &corp_a,
        vec![
            new_order("o1", 1_700_000_100),
            new_order("o2", 1_700_000_101),
        ],
    )
    .await;
    let mut orders_b = Vec::new();
    for (id, time) in [
        ("b1", 1_700_000_001),
        ("o1", 1_700_000_200),
        ("b2", 1_700_000_201),
        ("o2", 1_700_000_202),
    ] {
        let mut order = new_order(id, time);
        order.description = format!("B 的事件 {id}");
        orders_b.push(order);
    }
    app.insert(&corp_b, orders_b).await;
    (corp_a, corp_b)
}

#[tokio::test]
async fn a_token_lists_only_its_own_corps_orders() {
    let app = TestApp::spawn().await;
    let (corp_a, corp_b) = two_corps(&app).await;
    let token_a = app.token(&corp_a).await;
    let token_b = app.token(&corp_b).await;
    for limit in [1, 20] {
        let orders_a = app.walk(&token_a, json!({}), limit).await;
        assert_eq!(ids(&orders_a), ["o1", "o2"], "limit {limit}");
        assert_eq!(orders_a[0]["create_time"], 1_700_000_100);
        assert_eq!(orders_a[1]["create_time"], 1_700_000_101);
        assert!(orders_a.iter().all(|o| o["desc"] != "B 的事件 o1"));
        let orders_b = app.walk(&token_b, json!({}), limit).await;
        assert_eq!(ids(&orders_b), ["b1", "o1", "b2", "o2"], "limit {limit}");
    }
    // A filter that only B's orders would pass leaves A with nothing.
    let late = order_list(
        &app,
        &token_a,
        json!({ "begin_create_time": 1_700_000_150 }),
    )
    .await;
    assert_eq!(errcode(&late), 0, "{late}");
    assert_eq!(late["order_list"], json!([]));
    assert_eq!(late["next_cursor"], "");
}

#[tokio::test]
async fn another_corps_order_id_looks_exactly_like_an_unknown_one() {
    let app = TestApp::spawn().await;
    let (corp_a, _corp_b) = two_corps(&app).await;
    let token_a = app.token(&corp_a).await;
    let of_b = order_info(&app, &token_a, "b1").await;
    let never = order_info(&app, &token_a, "never-existed").await;
    assert_error(&of_b, 40058, "invalid order_id");
    assert_error(&never, 40058, "invalid order_id");
    assert_eq!(errcode(&of_b), errcode(&never));
    assert_eq!(
        without_request_id(errmsg(&of_b)),
        without_request_id(errmsg(&never))
    );
    // Nothing else in the answer tells them apart either.
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&of_b), keys(&never));
}

#[tokio::test]
async fn a_shared_order_id_returns_the_callers_own_order() {
    let app = TestApp::spawn().await;
    let (corp_a, corp_b) = two_corps(&app).await;
    let token_a = app.token(&corp_a).await;
    let token_b = app.token(&corp_b).await;
    let info_a = order_info(&app, &token_a, "o1").await;
    assert_eq!(errcode(&info_a), 0, "{info_a}");
    assert_eq!(info_a["order_info"]["create_time"], 1_700_000_100);
    assert_eq!(info_a["order_info"]["desc"], "事件 o1");
    let listed_a = app.walk(&token_a, json!({}), 20).await;
    assert_eq!(info_a["order_info"], listed_a[0]);
    let info_b = order_info(&app, &token_b, "o1").await;
    assert_eq!(errcode(&info_b), 0, "{info_b}");
    assert_eq!(info_b["order_info"]["create_time"], 1_700_000_200);
    assert_eq!(info_b["order_info"]["desc"], "B 的事件 o1");
}

/// The `next_cursor` of the first page of a walk with limit 1.
async fn first_cursor(app: &TestApp, token: &str) -> String {
    let page = order_list(app, token, json!({ "limit": 1 })).await;
    assert_eq!(errcode(&page), 0, "{page}");
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    assert!(!cursor.is_empty(), "{page}");
    cursor
}

#[tokio::test]
async fn a_cursor_of_one_corp_is_invalid_for_another() {
    let app = TestApp::spawn().await;
    let (corp_a, corp_b) = two_corps(&app).await;
    let token_a = app.token(&corp_a).await;
    let token_b = app.token(&corp_b).await;
    let cursor = first_cursor(&app, &token_a).await;
    let body = json!({ "cursor": cursor, "limit": 1 });
    let with_b = order_list(&app, &token_b, body.clone()).await;
    assert_error(&with_b, 40058, "invalid cursor");
    // The cursor itself is good for the corp and app it was issued to.
    let with_a = order_list(&app, &token_a, body).await;
    assert_eq!(errcode(&with_a), 0, "{with_a}");
    assert_eq!(ids(with_a["order_list"].as_array().unwrap()), ["o2"]);
}

#[tokio::test]
async fn a_cursor_of_one_app_is_invalid_for_another_app_of_the_same_corp() {
    let app = TestApp::spawn().await;
    let (corp_a, _corp_b) = two_corps(&app).await;
    app.app(
        &corp_a,
        1_000_002,
        AppKind::Custom,
        true,
        true,
        "second-secret",
    )
    .await;
    let token_1 = app.token(&corp_a).await;
    let token_2 = app.token_for(&corp_a.corpid, "second-secret").await;
    let cursor = first_cursor(&app, &token_1).await;
    let body = json!({ "cursor": cursor, "limit": 1 });
    let with_2 = order_list(&app, &token_2, body.clone()).await;
    assert_error(&with_2, 40058, "invalid cursor");
    // The second app walks the same orders with cursors of its own.
    assert_eq!(ids(&app.walk(&token_2, json!({}), 1).await), ["o1", "o2"]);
    let with_1 = order_list(&app, &token_1, body).await;
    assert_eq!(errcode(&with_1), 0, "{with_1}");
}
