//! The server's clock through `/admin/v1/clock` (docs/admin-api.md, "Clock"): read, set,
//! advanced, frozen and released, and what follows it — token expiry (through the token cache),
//! the time of writes left to the server, "today" in the statistics, media expiry.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use patrol_domain::Clock;
use patrol_store::TokenCache;
use patrol_test::{TestApp, assert_admin_error, assert_wecom_error, errcode};
use serde_json::{Value, json};

/// 2026-01-01 00:00:00 Asia/Shanghai (2025-12-31 16:00:00 UTC).
const MIDNIGHT: i64 = 1_767_196_800;

fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

async fn clock(app: &TestApp) -> Value {
    app.admin_expect("GET", "/clock", None, 200).await
}

/// `POST /admin/v1/clock` with `body` (must be 200); the answer.
async fn change(app: &TestApp, body: Value) -> Value {
    app.admin_expect("POST", "/clock", Some(body), 200).await
}

/// Asserts a clock answer: exactly `now`, `mode`, `offset`, in that mode.
#[track_caller]
fn assert_mode(answer: &Value, mode: &str) -> i64 {
    let object = answer.as_object().expect("an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["mode", "now", "offset"], "{answer}");
    assert_eq!(answer["mode"], mode, "{answer}");
    answer["now"].as_i64().expect("now is a number")
}

/// Whether `now` is the system's time, give or take a few seconds (the test's and the server's
/// readings are apart by the time of a request).
fn near_system_time(now: i64) -> bool {
    (now - system_now()).abs() <= 2
}

#[tokio::test]
async fn the_clock_is_real_by_default_and_is_set_frozen_advanced_and_released() {
    let app = TestApp::spawn().await;
    let real = clock(&app).await;
    assert!(near_system_time(assert_mode(&real, "real")), "{real}");
    assert_eq!(real["offset"], 0, "{real}");

    // Set: it runs on from there.
    let set = change(&app, json!({"set": MIDNIGHT})).await;
    let now = assert_mode(&set, "offset");
    assert!((MIDNIGHT..MIDNIGHT + 3).contains(&now), "{set}");
    let offset = set["offset"].as_i64().unwrap();
    assert!(
        (MIDNIGHT - system_now() - offset).abs() <= 2,
        "offset {offset} is the clock minus the system's time: {set}"
    );

    // Frozen: it stands still across seconds.
    let frozen = change(&app, json!({"freeze": true})).await;
    let at = assert_mode(&frozen, "frozen");
    assert!((MIDNIGHT..MIDNIGHT + 5).contains(&at), "{frozen}");
    let second = system_now();
    while system_now() == second {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(assert_mode(&clock(&app).await, "frozen"), at);
    assert_eq!(app.now(), at, "the server reads the clock the API shows");

    // Advanced, back and forth, and set: a frozen clock stays frozen.
    let back = change(&app, json!({"advance": -30})).await;
    assert_eq!(assert_mode(&back, "frozen"), at - 30);
    let ahead = change(&app, json!({"advance": 7200})).await;
    assert_eq!(assert_mode(&ahead, "frozen"), at + 7170);
    let set = change(&app, json!({"set": MIDNIGHT})).await;
    assert_eq!(assert_mode(&set, "frozen"), MIDNIGHT);
    assert_eq!(app.now(), MIDNIGHT);

    // Released: the system's time again.
    let released = change(&app, json!({"release": true})).await;
    assert!(
        near_system_time(assert_mode(&released, "real")),
        "{released}"
    );
    assert_eq!(released["offset"], 0);

    // Advancing a real clock makes it an offset one, running.
    let ahead = change(&app, json!({"advance": 3600})).await;
    assert!(
        near_system_time(assert_mode(&ahead, "offset") - 3600),
        "{ahead}"
    );
    assert_eq!(ahead["offset"], 3600, "{ahead}");
    let released = change(&app, json!({"release": true})).await;
    assert!(
        near_system_time(assert_mode(&released, "real")),
        "{released}"
    );
}

#[tokio::test]
async fn bad_clock_bodies_answer_the_admin_apis_errors_and_change_nothing() {
    let app = TestApp::spawn_with(|config| config.clock = Clock::manual(MIDNIGHT)).await;
    let bad: &[(&str, &[&str])] = &[
        ("{}", &["exactly one of set, advance, freeze, release"]),
        (r#"{"set": null}"#, &["exactly one"]),
        (r#"{"set": 1767196800, "advance": 60}"#, &["set, advance"]),
        (r#"{"freeze": true, "release": true}"#, &["freeze, release"]),
        (r#"{"freeze": false}"#, &["freeze"]),
        (r#"{"release": false}"#, &["release"]),
        (r#"{"set": 946684799}"#, &["946684799", "2000-01-01"]),
        (r#"{"set": 4102444801}"#, &["4102444801", "2100-01-01"]),
        (r#"{"set": -1}"#, &["-1"]),
        (
            r#"{"advance": -1000000000}"#,
            &["advance -1000000000", "2000-01-01"],
        ),
        (
            r#"{"advance": 9223372036854775807}"#,
            &["advance", "2100-01-01"],
        ),
        (r#"{"set": "2026-01-01"}"#, &["set"]),
        (r#"{"set": 1.5}"#, &["set"]),
        (r#"{"advance": 18446744073709551616}"#, &["advance"]),
        (r#"{"sett": 1}"#, &["sett"]),
        ("not json", &["JSON"]),
        ("", &["JSON"]),
    ];
    for (body, names) in bad {
        let bearer = format!("Bearer {}", patrol_test::ADMIN_KEY);
        let raw = app
            .admin_raw("POST", "/clock", Some(&bearer), Some(body))
            .await;
        assert_admin_error(raw.status, &raw.json(), 400, "invalid_request", names);
        let now = assert_mode(&clock(&app).await, "frozen");
        assert_eq!(now, MIDNIGHT, "{body} changed the clock");
    }
    let (status, answer) = app.admin("PUT", "/clock", Some(json!({"set": 1}))).await;
    assert_admin_error(status, &answer, 405, "method_not_allowed", &[]);
    for method in ["GET", "POST"] {
        let raw = app
            .admin_raw(method, "/clock", None, Some(r#"{"release": true}"#))
            .await;
        assert_admin_error(raw.status, &raw.json(), 401, "unauthorized", &[]);
    }
    assert_eq!(assert_mode(&clock(&app).await, "frozen"), MIDNIGHT);
}

#[tokio::test]
async fn a_token_expires_when_the_clock_passes_it_even_through_the_token_cache() {
    let app = TestApp::spawn_with(|config| config.clock = Clock::manual(MIDNIGHT)).await;
    let (corp, token) = app.corp_and_token("wwclock").await;
    let answer = app
        .gettoken(&format!("corpid=wwclock&corpsecret={}", corp.secret))
        .await;
    assert_eq!(answer["expires_in"], 7200, "{answer}");
    // Read (and cached) at MIDNIGHT, read again (and cached) a second before it expires.
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);
    change(&app, json!({"advance": 7199})).await;
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);
    // The cache trusts that entry one more second of the clock, but not past the token's expiry.
    change(&app, json!({"advance": 1})).await;
    let expired = app.order_list(&token, json!({})).await;
    assert_wecom_error(&expired, 42001, "access_token expired");
    // A new token has the whole lifetime from the clock's time.
    let fresh = app.token(&corp).await;
    assert_ne!(fresh, token);
    change(&app, json!({"advance": 7199})).await;
    assert_eq!(errcode(&app.order_list(&fresh, json!({})).await), 0);
    change(&app, json!({"advance": 1})).await;
    assert_wecom_error(
        &app.order_list(&fresh, json!({})).await,
        42001,
        "access_token expired",
    );
}

#[tokio::test]
async fn a_clock_moved_back_does_not_keep_a_revoked_token_cached() {
    let app = TestApp::spawn_with(|config| config.clock = Clock::manual(MIDNIGHT)).await;
    let (corp, token) = app.corp_and_token("wwback").await;
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);
    // Revoked behind the server's back (as through another server on the database): the
    // server's cache is not emptied.
    app.store
        .set_app_secret(corp.key, 1_000_001, "another-secret")
        .await
        .unwrap();
    // The clock moved back is read before the entry's reading: the store is asked again.
    change(&app, json!({"advance": -3600})).await;
    let refused = app.order_list(&token, json!({})).await;
    assert_wecom_error(&refused, 40014, "invalid access_token");
}

#[tokio::test]
async fn a_frozen_clock_does_not_keep_a_revoked_token_cached_beyond_the_bound() {
    let app = TestApp::spawn_with(|config| config.clock = Clock::manual(MIDNIGHT)).await;
    let (corp, token) = app.corp_and_token("wwfrozen").await;
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);
    app.store
        .set_app_secret(corp.key, 1_000_001, "another-secret")
        .await
        .unwrap();
    // The server's clock stands still; the cache's bound is real time all the same.
    let bound = Duration::from_secs(TokenCache::TRUST_SECONDS.unsigned_abs());
    let deadline = Instant::now() + bound + Duration::from_secs(20);
    loop {
        let answer = app.order_list(&token, json!({})).await;
        if errcode(&answer) == 40014 {
            break;
        }
        assert_eq!(errcode(&answer), 0, "{answer}");
        assert!(
            Instant::now() < deadline,
            "a revoked token still accepted {bound:?} (+ 20 s) later on a frozen clock"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.now(), MIDNIGHT);
}

/// The last step of an order answer.
fn last_step(order: &Value) -> &Value {
    order["process_list"]
        .as_array()
        .and_then(|steps| steps.last())
        .unwrap_or_else(|| panic!("no steps in {order}"))
}

#[tokio::test]
async fn writes_without_a_time_take_the_clocks_and_an_action_never_goes_back() {
    let app = TestApp::spawn().await;
    app.corp("wwwrite").await;
    change(&app, json!({"set": MIDNIGHT})).await;
    change(&app, json!({"freeze": true})).await;
    change(&app, json!({"set": MIDNIGHT})).await;

    let corp = app
        .admin_expect(
            "POST",
            "/corps",
            Some(json!({"corpid": "wwnew", "name": "新企业"})),
            201,
        )
        .await;
    assert_eq!(corp["created_at"], MIDNIGHT, "{corp}");

    let report = json!({"order_id": "o1", "description": "井盖缺失", "grid_id": "g1",
        "reporter": "reporter"});
    let order = app
        .admin_expect("POST", "/corps/wwwrite/orders", Some(report), 201)
        .await;
    assert_eq!(order["create_time"], MIDNIGHT, "{order}");

    change(&app, json!({"advance": 90})).await;
    let accept = json!({"action": "accept", "actor": "admin"});
    let path = "/corps/wwwrite/orders/o1/actions";
    let order = app.admin_expect("POST", path, Some(accept), 200).await;
    assert_eq!(last_step(&order)["solved_time"], MIDNIGHT + 90, "{order}");

    // Moved back before the last step: an action left to the server's time is refused rather
    // than written before it, and the order stays as it was.
    change(&app, json!({"advance": -3600})).await;
    let assign = json!({"action": "assign", "actor": "admin", "users": ["worker1"]});
    let (status, refused) = app.admin("POST", path, Some(assign.clone())).await;
    assert_admin_error(status, &refused, 422, "rejected", &[]);
    let unchanged = app
        .admin_expect("GET", "/corps/wwwrite/orders/o1", None, 200)
        .await;
    assert_eq!(unchanged, order);
    // At the last step's time again, it is taken.
    change(&app, json!({"set": MIDNIGHT + 90})).await;
    let order = app.admin_expect("POST", path, Some(assign), 200).await;
    assert_eq!(last_step(&order)["solved_time"], MIDNIGHT + 90, "{order}");
}

#[tokio::test]
async fn today_in_the_statistics_follows_the_clock_across_midnight() {
    let app = TestApp::spawn_with(|config| config.clock = Clock::manual(MIDNIGHT - 60)).await;
    let (_, token) = app.corp_and_token("wwtoday").await;
    let report = json!({"order_id": "o1", "description": "占道经营", "grid_id": "g1",
        "reporter": "reporter"});
    app.admin_expect("POST", "/corps/wwtoday/orders", Some(report), 201)
        .await;
    let added_today = |answer: Value| {
        assert_eq!(errcode(&answer), 0, "{answer}");
        answer["added_today"].as_i64().unwrap()
    };
    let status = || app.patrol("get_corp_status", &token, "{}");
    assert_eq!(added_today(status().await), 1, "reported today");
    // Midnight in Asia/Shanghai: yesterday's report.
    change(&app, json!({"set": MIDNIGHT})).await;
    assert_eq!(added_today(status().await), 0, "at midnight");
    change(&app, json!({"advance": -1})).await;
    assert_eq!(added_today(status().await), 1, "a second before midnight");
}

#[tokio::test]
async fn media_expire_three_days_after_upload_by_the_clock() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwmedia").await;
    change(&app, json!({"freeze": true})).await;
    let media_id = crate::media::upload_image(&app, &token, &crate::media::jpeg(64, 1)).await;
    change(&app, json!({"advance": 3 * 86_400 - 1})).await;
    let token = app.token(&corp).await;
    let response = crate::media::get(&app, &token, &media_id, None).await;
    assert_eq!(response.status(), 200, "a medium lives 3 days");
    change(&app, json!({"advance": 1})).await;
    let token = app.token(&corp).await;
    let expired: Value = crate::media::get(&app, &token, &media_id, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(errcode(&expired), 40007, "{expired}");
}
