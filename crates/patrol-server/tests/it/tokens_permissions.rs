//! `gettoken`, token lifetime, the patrol permission of each kind of app, and tenancy, pinned
//! against decisions.md ("gettoken", "Permissions") over HTTP with raw requests.

use patrol_domain::{AppKind, Clock};
use patrol_test::{
    MODERN_CORP, PAST, SYSTEM_APP_CUTOFF, TestApp, TestCorp, assert_wecom_error, errcode, errmsg,
    new_order, order_ids, without_request_id,
};
use serde_json::{Value, json};

/// Asserts that `token` may call both patrol APIs (errcode 0) or is refused with 48002 on both.
async fn assert_patrol_access(app: &TestApp, token: &str, allowed: bool, case: &str) {
    let list = app.order_list(token, json!({})).await;
    let info = app.order_info(token, "o1").await;
    if allowed {
        assert_eq!(errcode(&list), 0, "{case}: get_order_list {list}");
        assert_eq!(
            order_ids(list["order_list"].as_array().unwrap()),
            ["o1"],
            "{case}"
        );
        assert_eq!(errcode(&info), 0, "{case}: get_order_info {info}");
        assert_eq!(info["order_info"]["order_id"], "o1", "{case}");
    } else {
        for answer in [&list, &info] {
            assert_eq!(errcode(answer), 48002, "{case}: {answer}");
            assert_wecom_error(answer, 48002, "api forbidden");
            assert!(answer.get("order_list").is_none(), "{case}: {answer}");
            assert!(answer.get("order_info").is_none(), "{case}: {answer}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// gettoken: parameters and credentials

/// Every refused `gettoken` on one server: a table of (case, query, errcode, errmsg text).
/// `{corpid}` and `{secret}` in a query are corp `wwtok`'s, `{secret_b}` is corp `wwcorpb`'s.
#[tokio::test]
async fn gettoken_refusals() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwtok").await;
    let corp_b = app.corp("wwcorpb").await;
    app.app(
        &corp,
        1_000_002,
        AppKind::Custom,
        true,
        false,
        "disabled-secret",
    )
    .await;
    let cases: &[(&str, &str, i64, &str)] = &[
        (
            "no parameters: the missing corpsecret first",
            "",
            41004,
            "corpsecret missing",
        ),
        // Even a valid corpid does not make the corpsecret optional.
        (
            "only a corpid",
            "corpid={corpid}",
            41004,
            "corpsecret missing",
        ),
        ("no corpid", "corpsecret={secret}", 41002, "corpid missing"),
        // An empty corpid is a missing one.
        (
            "an empty corpid",
            "corpid=&corpsecret={secret}",
            41002,
            "corpid missing",
        ),
        (
            "an empty corpsecret",
            "corpid={corpid}&corpsecret=",
            41004,
            "corpsecret missing",
        ),
        // A well-formed id that no corp has, with a secret that some corp's app does have.
        (
            "an unknown corpid",
            "corpid=wwunknown&corpsecret={secret}",
            40013,
            "invalid corpid",
        ),
        (
            "a wrong secret",
            "corpid={corpid}&corpsecret=not-the-secret",
            40001,
            "invalid credential",
        ),
        (
            "another corp's secret",
            "corpid={corpid}&corpsecret={secret_b}",
            40001,
            "invalid credential",
        ),
        (
            "a disabled app's secret",
            "corpid={corpid}&corpsecret=disabled-secret",
            40001,
            "invalid credential",
        ),
    ];
    for (case, query, code, text) in cases {
        let query = query
            .replace("{corpid}", &corp.corpid)
            .replace("{secret_b}", &corp_b.secret)
            .replace("{secret}", &corp.secret);
        let answer = app.gettoken(&query).await;
        assert_eq!(errcode(&answer), *code, "{case}: {answer}");
        assert_wecom_error(&answer, *code, text);
    }
    // Another corp's secret is itself good: with its own corpid it gets a token.
    let own = app.gettoken_for(&corp_b.corpid, &corp_b.secret).await;
    assert_eq!(errcode(&own), 0, "{own}");
}

#[tokio::test]
async fn gettoken_success_has_exactly_wecoms_fields_and_a_url_safe_token() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwtok").await;
    let answer = app
        .gettoken(&format!(
            "corpid={}&corpsecret={}",
            corp.corpid, corp.secret
        ))
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
    let list = app.order_list(token, json!({})).await;
    assert_eq!(errcode(&list), 0, "{list}");
}

// ---------------------------------------------------------------------------------------------
// gettoken: one live token per app

#[tokio::test]
async fn a_repeated_gettoken_returns_the_same_token_with_the_seconds_remaining() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwtok").await;
    let query = format!("corpid={}&corpsecret={}", corp.corpid, corp.secret);
    let first = app.gettoken(&query).await;
    let second = app.gettoken(&query).await;
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
        let list = app.order_list(token, json!({})).await;
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
    assert_wecom_error(&in_body, 41004, "corpsecret missing");
}

// ---------------------------------------------------------------------------------------------
// Token lifetime

#[tokio::test]
async fn an_expired_token_answers_42001() {
    // A manual clock: the token expires without the test waiting for it.
    let app = TestApp::spawn_with(|config| {
        config.token_ttl = 1;
        config.clock = Clock::manual(MODERN_CORP + 86_400);
    })
    .await;
    let corp = app.corp("wwtok").await;
    app.insert(&corp, vec![new_order("o1", PAST)]).await;
    let token = app.token(&corp).await;
    app.clock().advance(2);
    let list = app.order_list(&token, json!({})).await;
    assert_wecom_error(&list, 42001, "access_token expired");
    let info = app.order_info(&token, "o1").await;
    assert_wecom_error(&info, 42001, "access_token expired");
}

#[tokio::test]
async fn after_expiry_gettoken_issues_a_new_token_and_the_old_one_stays_expired() {
    // A manual clock stands still while the new token is used.
    let app = TestApp::spawn_with(|config| {
        config.token_ttl = 3;
        config.clock = Clock::manual(MODERN_CORP + 86_400);
    })
    .await;
    let corp = app.corp("wwtok").await;
    let old = app.token(&corp).await;
    app.clock().advance(4);
    let query = format!("corpid={}&corpsecret={}", corp.corpid, corp.secret);
    let answer = app.gettoken(&query).await;
    assert_eq!(errcode(&answer), 0, "{answer}");
    let new = answer["access_token"].as_str().unwrap();
    assert_ne!(new, old, "an expired token must not be handed out again");
    assert_eq!(
        answer["expires_in"], 3,
        "a new token has the whole lifetime"
    );
    let list = app.order_list(new, json!({})).await;
    assert_eq!(errcode(&list), 0, "{list}");
    let list = app.order_list(&old, json!({})).await;
    assert_wecom_error(&list, 42001, "access_token expired");
}

#[tokio::test]
async fn a_token_never_issued_answers_40014() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwtok").await;
    app.insert(&corp, vec![new_order("o1", PAST)]).await;
    let real = app.token(&corp).await;
    // Made-up tokens: short, shaped like a real one, and longer than any token can be.
    let mut shaped = real.clone().into_bytes();
    shaped[0] = if shaped[0] == b'A' { b'B' } else { b'A' };
    let shaped = String::from_utf8(shaped).unwrap();
    for token in ["never-issued".to_owned(), shaped, "A".repeat(600)] {
        let list = app.order_list(&token, json!({})).await;
        assert_wecom_error(&list, 40014, "invalid access_token");
        let info = app.order_info(&token, "o1").await;
        assert_wecom_error(&info, 40014, "invalid access_token");
    }
}

#[tokio::test]
async fn a_token_survives_a_server_restart() {
    let mut app = TestApp::spawn().await;
    let corp = app.corp("wwtok").await;
    app.insert(&corp, vec![new_order("o1", PAST)]).await;
    let token = app.token(&corp).await;
    app.restart().await;
    let list = app.order_list(&token, json!({})).await;
    assert_eq!(errcode(&list), 0, "{list}");
    assert_eq!(order_ids(list["order_list"].as_array().unwrap()), ["o1"]);
    let info = app.order_info(&token, "o1").await;
    assert_eq!(errcode(&info), 0, "{info}");
    // The new server also hands out the same live token.
    assert_eq!(app.token(&corp).await, token);
}

// ---------------------------------------------------------------------------------------------
// Permissions

// ---------------------------------------------------------------------------------------------
// Permissions

/// A corp with order `o1`, created at `created_at`.
async fn corp_with_order(app: &TestApp, corpid: &str, created_at: i64) -> TestCorp {
    let corp = app.corp_created_at(corpid, created_at).await;
    app.insert(&corp, vec![new_order("o1", PAST)]).await;
    corp
}

/// The patrol permission of every kind of app on one server: a table of (corp created at, app
/// kind, patrol flag, allowed); each row gets a corp of its own with order `o1` and one app.
#[tokio::test]
async fn the_permission_matrix() {
    let app = TestApp::spawn().await;
    let old = SYSTEM_APP_CUTOFF - 1;
    let rows: &[(i64, AppKind, bool, bool)] = &[
        // A custom app may call the patrol API exactly when it is enabled for patrol.
        (MODERN_CORP, AppKind::Custom, true, true),
        (MODERN_CORP, AppKind::Custom, false, false),
        // A system app of a corp created before the cutoff may call whatever its patrol flag.
        (old, AppKind::System, true, true),
        (old, AppKind::System, false, true),
        // A system app of a corp created at or after the cutoff gets 48002.
        (SYSTEM_APP_CUTOFF, AppKind::System, true, false),
        (SYSTEM_APP_CUTOFF, AppKind::System, false, false),
        (SYSTEM_APP_CUTOFF + 1, AppKind::System, true, false),
        (SYSTEM_APP_CUTOFF + 1, AppKind::System, false, false),
        (MODERN_CORP, AppKind::System, true, false),
        (MODERN_CORP, AppKind::System, false, false),
        // Third-party and provider apps get 48002 even when enabled for patrol, even in an old
        // corp (so that not even the system-app rule could let them through). patrol issues
        // their tokens through gettoken (a documented simplification).
        (old, AppKind::ThirdParty, true, false),
        (old, AppKind::ThirdParty, false, false),
        (old, AppKind::Provider, true, false),
        (old, AppKind::Provider, false, false),
    ];
    for (row, &(created_at, kind, patrol_enabled, allowed)) in rows.iter().enumerate() {
        let corp = corp_with_order(&app, &format!("wwperm{row}"), created_at).await;
        let agentid = match kind {
            AppKind::Custom => 1_000_002,
            AppKind::System => 3_010_001,
            _ => 4_000_001,
        };
        let secret = format!("{kind}-{patrol_enabled}");
        app.app(&corp, agentid, kind, patrol_enabled, true, &secret)
            .await;
        let token = app.token_for(&corp.corpid, &secret).await;
        let case = format!("{kind} app, corp created at {created_at}, flag {patrol_enabled}");
        assert_patrol_access(&app, &token, allowed, &case).await;
    }
    // The corp's own patrol-enabled custom app may call it too.
    let corp = corp_with_order(&app, "wwperm", MODERN_CORP).await;
    let token = app.token(&corp).await;
    assert_patrol_access(&app, &token, true, "custom, patrol-enabled").await;
}

/// The permission is checked before the body: a broken body or a missing order_id still gets
/// 48002, without the JSON warning.
#[tokio::test]
async fn a_custom_app_not_enabled_for_patrol_gets_48002_whatever_the_body() {
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
    let broken = app.patrol("get_order_list", &token, "{not json").await;
    assert_wecom_error(&broken, 48002, "api forbidden");
    let missing = app.patrol("get_order_info", &token, "{}").await;
    assert_wecom_error(&missing, 48002, "api forbidden");
    let trailing = app
        .patrol("get_order_list", &token, r#"{"limit": 20,}"#)
        .await;
    assert_wecom_error(&trailing, 48002, "api forbidden");
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
        assert_eq!(order_ids(&orders_a), ["o1", "o2"], "limit {limit}");
        assert_eq!(orders_a[0]["create_time"], 1_700_000_100);
        assert_eq!(orders_a[1]["create_time"], 1_700_000_101);
        assert!(orders_a.iter().all(|o| o["desc"] != "B 的事件 o1"));
        let orders_b = app.walk(&token_b, json!({}), limit).await;
        assert_eq!(
            order_ids(&orders_b),
            ["b1", "o1", "b2", "o2"],
            "limit {limit}"
        );
    }
    // A filter that only B's orders would pass leaves A with nothing.
    let late = app
        .order_list(&token_a, json!({ "begin_create_time": 1_700_000_150 }))
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
    let of_b = app.order_info(&token_a, "b1").await;
    let never = app.order_info(&token_a, "never-existed").await;
    assert_wecom_error(&of_b, 40058, "invalid order_id");
    assert_wecom_error(&never, 40058, "invalid order_id");
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
    let info_a = app.order_info(&token_a, "o1").await;
    assert_eq!(errcode(&info_a), 0, "{info_a}");
    assert_eq!(info_a["order_info"]["create_time"], 1_700_000_100);
    assert_eq!(info_a["order_info"]["desc"], "事件 o1");
    let listed_a = app.walk(&token_a, json!({}), 20).await;
    assert_eq!(info_a["order_info"], listed_a[0]);
    let info_b = app.order_info(&token_b, "o1").await;
    assert_eq!(errcode(&info_b), 0, "{info_b}");
    assert_eq!(info_b["order_info"]["create_time"], 1_700_000_200);
    assert_eq!(info_b["order_info"]["desc"], "B 的事件 o1");
}

#[tokio::test]
async fn a_cursor_of_one_corp_is_invalid_for_another() {
    let app = TestApp::spawn().await;
    let (corp_a, corp_b) = two_corps(&app).await;
    let token_a = app.token(&corp_a).await;
    let token_b = app.token(&corp_b).await;
    let cursor = app.first_cursor(&token_a, json!({}), 1).await;
    let body = json!({ "cursor": cursor, "limit": 1 });
    let with_b = app.order_list(&token_b, body.clone()).await;
    assert_wecom_error(&with_b, 40058, "invalid cursor");
    // The cursor itself is good for the corp and app it was issued to.
    let with_a = app.order_list(&token_a, body).await;
    assert_eq!(errcode(&with_a), 0, "{with_a}");
    assert_eq!(order_ids(with_a["order_list"].as_array().unwrap()), ["o2"]);
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
    let cursor = app.first_cursor(&token_1, json!({}), 1).await;
    let body = json!({ "cursor": cursor, "limit": 1 });
    let with_2 = app.order_list(&token_2, body.clone()).await;
    assert_wecom_error(&with_2, 40058, "invalid cursor");
    // The second app walks the same orders with cursors of its own.
    assert_eq!(
        order_ids(&app.walk(&token_2, json!({}), 1).await),
        ["o1", "o2"]
    );
    let with_1 = app.order_list(&token_1, body).await;
    assert_eq!(errcode(&with_1), 0, "{with_1}");
}
