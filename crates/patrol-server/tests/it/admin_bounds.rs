//! The bounds of the administration API (docs/admin-api.md, "Bounds"): agentids within 1 to
//! 2^31 − 1, times from 2000-01-01 to a day ahead, capped media and texts, WeCom's userids,
//! names that show what they are, users who hold orders, and the admin key's header.

use std::io::Write;
use std::sync::{Arc, Mutex};

use patrol_domain::Clock;
use patrol_test::{ADMIN_KEY, TestApp, assert_admin_error, assert_admin_error_text, parse};
use serde_json::{Value, json};
use tracing_subscriber::util::SubscriberInitExt;

/// The largest agentid: 2^31 − 1.
const MAX_AGENTID: i64 = 2_147_483_647;
/// The earliest time: 2000-01-01 00:00 UTC.
const MIN_TIME: i64 = 946_684_800;
/// The manual clock of the time tests (2024-06-01 00:00 UTC).
const NOW: i64 = 1_717_200_000;
const DAY: i64 = 86_400;

/// A report of `order_id` in the fixture corp's grid `g1` by `reporter`.
fn report_body(order_id: &str) -> Value {
    json!({
        "order_id": order_id,
        "description": format!("井盖缺失 {order_id}"),
        "grid_id": "g1",
        "reporter": "reporter",
    })
}

/// `POST /corps/{corpid}/orders/{order_id}/actions`.
async fn act(app: &TestApp, corpid: &str, order_id: &str, body: Value) -> (u16, String) {
    app.admin_text(
        "POST",
        &format!("/corps/{corpid}/orders/{order_id}/actions"),
        Some(&body),
    )
    .await
}

/// The order as the administration API shows it.
async fn order(app: &TestApp, corpid: &str, order_id: &str) -> Value {
    app.admin_expect(
        "GET",
        &format!("/corps/{corpid}/orders/{order_id}"),
        None,
        200,
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// agentids

#[tokio::test]
async fn agentids_are_1_to_2_pow_31_minus_1_and_running_out_is_a_clear_error() {
    let app = TestApp::spawn().await;
    app.new_corp("wwagent").await;
    let largest = app
        .new_app("wwagent", json!({"agentid": MAX_AGENTID, "name": "最大"}))
        .await;
    assert_eq!(largest["agentid"], MAX_AGENTID);

    // Past the range, however far: refused, never a 500.
    for agentid in [
        json!(MAX_AGENTID + 1),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(0),
        json!(i64::MIN),
    ] {
        let body = json!({"agentid": agentid, "name": "越界"});
        let (status, answer) = app.admin("POST", "/corps/wwagent/apps", Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["agentid"]);
    }
    // A number past i64 is a field of the wrong type.
    let answer = app
        .admin_raw(
            "POST",
            "/corps/wwagent/apps",
            Some(&format!("Bearer {ADMIN_KEY}")),
            Some(r#"{"agentid": 100000000000000000000, "name": "x"}"#),
        )
        .await;
    assert_admin_error(
        answer.status,
        &answer.json(),
        400,
        "invalid_request",
        &["agentid"],
    );

    // The next agentid after the largest would be past the range: a clear error, naming it.
    let (status, answer) = app
        .admin(
            "POST",
            "/corps/wwagent/apps",
            Some(json!({"name": "下一个"})),
        )
        .await;
    assert_admin_error(
        status,
        &answer,
        400,
        "invalid_request",
        &[
            "no agentid is left",
            "2147483647",
            "give the new app's agentid",
        ],
    );
    // An explicit one still works, and nothing else was created.
    app.new_app("wwagent", json!({"agentid": 1_000_002, "name": "指定"}))
        .await;
    let list = app.admin_list("wwagent", "apps").await;
    assert_eq!(list["apps"].as_array().unwrap().len(), 2, "{list}");

    // In a path: the largest is an app's, past it is no agentid.
    let renamed = app
        .admin_expect(
            "PATCH",
            &format!("/corps/wwagent/apps/{MAX_AGENTID}"),
            Some(json!({"name": "改名"})),
            200,
        )
        .await;
    assert_eq!(renamed["name"], "改名");
    for agentid in ["2147483648", "9223372036854775807", "9223372036854775808"] {
        for (method, path) in [
            ("PATCH", format!("/corps/wwagent/apps/{agentid}")),
            ("DELETE", format!("/corps/wwagent/apps/{agentid}")),
            ("POST", format!("/corps/wwagent/apps/{agentid}/secret")),
        ] {
            let body = (method == "PATCH").then(|| json!({"name": "x"}));
            let (status, answer) = app.admin(method, &path, body).await;
            assert_admin_error(status, &answer, 400, "invalid_request", &["agentid"]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Times

#[tokio::test]
async fn times_are_from_2000_to_a_day_ahead_of_the_clock() {
    let app = TestApp::spawn_with(|config| config.clock = Clock::manual(NOW)).await;
    let corp = app.corp("wwtime").await;
    let corpid = corp.corpid.as_str();
    let report_at = |order_id: &str, time: i64| {
        let mut body = report_body(order_id);
        body["time"] = time.into();
        body
    };

    for time in [i64::MAX, NOW + DAY + 1, MIN_TIME - 1, 0, -1, i64::MIN] {
        let answer = app.report(corpid, &report_at("o-bad", time)).await;
        assert_admin_error_text(
            &answer,
            400,
            "invalid_request",
            &["time", &time.to_string()],
        );
    }
    let (status, answer) = app
        .admin("GET", &format!("/corps/{corpid}/orders/o-bad"), None)
        .await;
    assert_admin_error(status, &answer, 404, "not_found", &["o-bad"]);

    let (status, text) = app.report(corpid, &report_at("o-first", MIN_TIME)).await;
    assert_eq!(status, 201, "{text}");
    let (status, text) = app.report(corpid, &report_at("o-ahead", NOW + DAY)).await;
    assert_eq!(status, 201, "{text}");
    assert_eq!(parse(&text)["create_time"], NOW + DAY);

    // Actions: the same range.
    for time in [i64::MAX, NOW + 2 * DAY, MIN_TIME - 1] {
        let body = json!({"action": "accept", "actor": "admin", "time": time});
        let answer = act(&app, corpid, "o-first", body).await;
        assert_admin_error_text(&answer, 400, "invalid_request", &["time"]);
    }
    assert_eq!(
        order(&app, corpid, "o-first").await["process_list"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "a refused action leaves no step"
    );

    // An order a day ahead refuses actions at the current time for at most that day.
    let accept_now = json!({"action": "accept", "actor": "admin"});
    let answer = act(&app, corpid, "o-ahead", accept_now.clone()).await;
    assert_admin_error_text(&answer, 422, "rejected", &["before the order's last step"]);
    app.clock().advance(DAY);
    let (status, text) = act(&app, corpid, "o-ahead", accept_now).await;
    assert_eq!(status, 200, "{text}");

    // A corp's creation time too.
    for created_at in [i64::MAX, app.now() + DAY + 1, MIN_TIME - 1, 0, -1] {
        let body = json!({"corpid": "wwbad", "name": "x", "created_at": created_at});
        let (status, answer) = app.admin("POST", "/corps", Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["created_at"]);
    }
    let body = json!({"corpid": "wwfirst", "name": "x", "created_at": MIN_TIME});
    app.admin_expect("POST", "/corps", Some(body), 201).await;
}

// ---------------------------------------------------------------------------------------------
// Media and texts

#[tokio::test]
async fn media_lists_urls_and_texts_are_capped() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwmedia").await;
    let corpid = corp.corpid.as_str();
    let url = |i: usize| format!("https://patrol.test/media/images/{i}.jpg");
    let nine: Vec<String> = (0..9).map(url).collect();
    let ten: Vec<String> = (0..10).map(url).collect();
    let ids = |count: usize| -> Vec<String> { (0..count).map(|i| format!("3video{i}")).collect() };
    let long_url = format!("https://patrol.test/{}", "x".repeat(2048));

    let cases: Vec<(Value, &[&str])> = vec![
        (json!({"image_urls": ten}), &["image_urls", "9"]),
        (
            json!({"video_media_ids": ids(10)}),
            &["video_media_ids", "9"],
        ),
        (json!({"image_urls": [long_url]}), &["image URL", "2048"]),
        (json!({"image_urls": ["a.jpg"]}), &["image URL", "http"]),
        (
            json!({"image_urls": ["javascript:alert(1)"]}),
            &["image URL"],
        ),
        (json!({"image_urls": ["ftp://x/a.jpg"]}), &["image URL"]),
        (json!({"image_urls": ["http://x/a b.jpg"]}), &["image URL"]),
        (json!({"video_media_ids": [""]}), &["video_media_id"]),
        (json!({"video_media_ids": ["a/b"]}), &["video_media_id"]),
        (
            json!({"description": "字".repeat(2001)}),
            &["description", "2000"],
        ),
        // U+0000: in no text of WeCom's, and PostgreSQL's text cannot hold it.
        (
            json!({"description": "a\u{0}b"}),
            &["description", "U+0000"],
        ),
        (
            json!({"location": {"name": "地".repeat(201)}}),
            &["location name", "200"],
        ),
        (
            json!({"location": {"address": "路".repeat(201)}}),
            &["location address", "200"],
        ),
        (
            json!({"location": {"name": "a\u{0}"}}),
            &["location name", "U+0000"],
        ),
        (
            json!({"location": {"address": "\u{0}"}}),
            &["location address", "U+0000"],
        ),
    ];
    for (i, (fields, names)) in cases.iter().enumerate() {
        let mut body = report_body(&format!("o-bad-{i}"));
        for (key, value) in fields.as_object().unwrap() {
            body[key] = value.clone();
        }
        let answer = app.report(corpid, &body).await;
        assert_admin_error_text(&answer, 400, "invalid_request", names);
    }

    // At the caps: accepted.
    let mut body = report_body("o-full");
    body["image_urls"] = json!(nine);
    body["video_media_ids"] = json!(ids(9));
    body["description"] = json!("字".repeat(2000));
    body["location"] = json!({"name": "地".repeat(200), "address": "路".repeat(200)});
    let (status, text) = app.report(corpid, &body).await;
    assert_eq!(status, 201, "{text}");
    assert_eq!(parse(&text)["image_urls"], json!(nine));

    // An action's media and description: the same caps.
    for (fields, names) in &cases[..11] {
        let mut body = json!({"action": "accept", "actor": "admin"});
        for (key, value) in fields.as_object().unwrap() {
            body[key] = value.clone();
        }
        let answer = act(&app, corpid, "o-full", body).await;
        assert_admin_error_text(&answer, 400, "invalid_request", names);
    }
    // And the users an order is handed to: at most 100.
    let many: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    let body = json!({"action": "assign", "actor": "admin", "users": many});
    let answer = act(&app, corpid, "o-full", body).await;
    assert_admin_error_text(&answer, 400, "invalid_request", &["100 users", "101"]);
    let after = order(&app, corpid, "o-full").await;
    assert_eq!(
        after["process_list"].as_array().unwrap().len(),
        1,
        "{after}"
    );

    let body = json!({"action": "accept", "actor": "admin", "image_urls": nine,
                      "video_media_ids": ids(9), "description": "受".repeat(2000)});
    let (status, text) = act(&app, corpid, "o-full", body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(parse(&text)["process_list"][1]["image_urls"], json!(nine));
}

// ---------------------------------------------------------------------------------------------
// userids and names

/// Names that hide what they are: blank, invisible, control characters and bidi controls.
const HIDING_NAMES: [&str; 9] = [
    "\u{200B}",
    "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}",
    " \u{3000}\u{200B} ",
    "\0",
    "张\0三",
    "\u{202E}三张",
    "张三\u{202A}",
    "\u{2066}张三\u{2069}",
    "张\n三",
];

#[tokio::test]
async fn userids_follow_wecoms_rule_and_dot_and_dot_dot_are_none() {
    let app = TestApp::spawn().await;
    app.new_corp("wwuid").await;
    for userid in [
        ".", "..", ".hidden", "-dash", "_under", "@at", "../x", "a b",
    ] {
        let body = json!({"userid": userid, "name": "某人"});
        let (status, answer) = app.admin("POST", "/corps/wwuid/users", Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["userid"]);
    }
    for userid in ["a", "9", "Z.w-u_x@corp", "a..b"] {
        let body = json!({"userid": userid, "name": "某人"});
        app.admin_expect("POST", "/corps/wwuid/users", Some(body), 201)
            .await;
    }
    let list = app.admin_list("wwuid", "users").await;
    assert_eq!(list["users"].as_array().unwrap().len(), 4, "{list}");
}

#[tokio::test]
async fn every_name_must_show_what_it_is() {
    let app = TestApp::spawn().await;
    app.new_corp("wwname").await;
    app.new_users("wwname", &["u1"]).await;
    app.new_app("wwname", json!({"agentid": 1_000_002, "name": "应用"}))
        .await;
    app.new_grid(
        "wwname",
        json!({"grid_id": "g1", "name": "一号网格", "admins": ["u1"]}),
    )
    .await;
    app.new_category("wwname", "c1", "市容环境", None).await;

    for name in HIDING_NAMES {
        let calls = [
            (
                "POST",
                "/corps",
                json!({"corpid": "wwhidden", "name": name}),
            ),
            (
                "POST",
                "/corps/wwname/users",
                json!({"userid": "u2", "name": name}),
            ),
            ("PATCH", "/corps/wwname/users/u1", json!({"name": name})),
            ("POST", "/corps/wwname/apps", json!({"name": name})),
            ("PATCH", "/corps/wwname/apps/1000002", json!({"name": name})),
            (
                "POST",
                "/corps/wwname/grids",
                json!({"grid_id": "g2", "name": name, "admins": ["u1"]}),
            ),
            ("PATCH", "/corps/wwname/grids/g1", json!({"name": name})),
            (
                "POST",
                "/corps/wwname/categories",
                json!({"category_id": "c2", "name": name}),
            ),
            (
                "PATCH",
                "/corps/wwname/categories/c1",
                json!({"name": name}),
            ),
        ];
        for (method, path, body) in calls {
            let (status, answer) = app.admin(method, path, Some(body)).await;
            assert_eq!(status, 400, "{method} {path} with {name:?}: {answer}");
            assert_admin_error(status, &answer, 400, "invalid_request", &["name"]);
        }
    }

    // Nothing was created or renamed.
    let corps = app.admin_expect("GET", "/corps", None, 200).await;
    assert_eq!(corps["corps"].as_array().unwrap().len(), 1, "{corps}");
    assert_eq!(
        app.admin_list("wwname", "users").await,
        json!({"users": [{"userid": "u1", "name": "u1 姓名"}]})
    );
    let apps = app.admin_list("wwname", "apps").await;
    assert_eq!(apps["apps"].as_array().unwrap().len(), 1, "{apps}");
    assert_eq!(apps["apps"][0]["name"], "应用");
    let grids = app.admin_list("wwname", "grids").await;
    assert_eq!(grids["grids"].as_array().unwrap().len(), 1, "{grids}");
    assert_eq!(grids["grids"][0]["name"], "一号网格");
    let categories = app.admin_list("wwname", "categories").await;
    assert_eq!(categories["categories"][0]["name"], "市容环境");
    assert_eq!(categories["categories"].as_array().unwrap().len(), 1);

    // A zero-width character inside a visible name is kept.
    let body = json!({"userid": "u3", "name": "张\u{200B}三"});
    app.admin_expect("POST", "/corps/wwname/users", Some(body), 201)
        .await;
}

// ---------------------------------------------------------------------------------------------
// Users who hold orders

#[tokio::test]
async fn a_processor_of_an_open_order_cannot_be_deleted_and_the_orders_are_named() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwhold").await;
    let corpid = corp.corpid.as_str();
    // In no grid: only the orders hold them.
    app.new_users(corpid, &["temp", "passerby"]).await;
    let assign_to_temp = json!({"action": "assign", "actor": "admin", "users": ["temp"]});
    for i in 0..12 {
        let order_id = format!("o{i:02}");
        let (status, text) = app.report(corpid, &report_body(&order_id)).await;
        assert_eq!(status, 201, "{text}");
        let (status, text) = act(&app, corpid, &order_id, assign_to_temp.clone()).await;
        assert_eq!(status, 200, "{text}");
    }

    let (status, answer) = app
        .admin("DELETE", &format!("/corps/{corpid}/users/temp"), None)
        .await;
    let first_ten: Vec<String> = (0..10).map(|i| format!("o{i:02}")).collect();
    let mut names = vec!["temp", "12 open orders", "and 2 more"];
    names.extend(first_ten.iter().map(String::as_str));
    assert_admin_error(status, &answer, 409, "conflict", &names);
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        !message.contains("o10") && !message.contains("o11"),
        "{message}"
    );

    // The user and the orders are all still there.
    let users = app.admin_list(corpid, "users").await;
    assert!(
        users["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["userid"] == "temp")
    );
    assert_eq!(
        order(&app, corpid, "o00").await["processor_userids"],
        json!(["temp"])
    );

    // Finished, rejected or handed on, the orders no longer hold the user.
    for i in 0..12 {
        let order_id = format!("o{i:02}");
        let body = match i % 3 {
            0 => json!({"action": "finish", "actor": "temp"}),
            1 => json!({"action": "reject", "actor": "temp"}),
            _ => json!({"action": "transfer", "actor": "temp", "users": ["worker1"]}),
        };
        let (status, text) = act(&app, corpid, &order_id, body).await;
        assert_eq!(status, 200, "{text}");
        if i == 10 {
            let (status, answer) = app
                .admin("DELETE", &format!("/corps/{corpid}/users/temp"), None)
                .await;
            assert_admin_error(status, &answer, 409, "conflict", &["1 open order: o11"]);
        }
    }
    app.admin_expect("DELETE", &format!("/corps/{corpid}/users/temp"), None, 204)
        .await;
    // The history still names them.
    let closed = order(&app, corpid, "o00").await;
    assert_eq!(
        closed["process_list"][2]["solve_userid"], "temp",
        "{closed}"
    );

    // The reporter of an open order does not hold it: only its processors act on it.
    let mut body = report_body("o-passerby");
    body["reporter"] = "passerby".into();
    let (status, text) = app.report(corpid, &body).await;
    assert_eq!(status, 201, "{text}");
    app.admin_expect(
        "DELETE",
        &format!("/corps/{corpid}/users/passerby"),
        None,
        204,
    )
    .await;
    let open = order(&app, corpid, "o-passerby").await;
    assert_eq!(open["process_list"][0]["solve_userid"], "passerby");
    assert_eq!(open["processor_userids"], json!(["admin"]));
}

// ---------------------------------------------------------------------------------------------
// The admin key's header

#[tokio::test]
async fn the_bearer_scheme_is_any_case_and_the_key_exact() {
    let app = TestApp::spawn().await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let authorization = format!("{scheme} {ADMIN_KEY}");
        let answer = app
            .admin_raw("GET", "/corps", Some(&authorization), None)
            .await;
        assert_eq!(answer.status, 200, "{authorization}: {}", answer.text);
    }
    for authorization in [
        format!("Bearer  {ADMIN_KEY}"),
        format!("bearer   {ADMIN_KEY}"),
        format!("Bearer {ADMIN_KEY} x"),
        format!("Bearer\t{ADMIN_KEY}"),
        format!("Bearer {ADMIN_KEY}\t."),
        format!("Bearer {}", ADMIN_KEY.to_uppercase()),
        format!("Bearer{ADMIN_KEY}"),
        format!("Bearer:{ADMIN_KEY}"),
    ] {
        let answer = app
            .admin_raw("GET", "/corps", Some(&authorization), None)
            .await;
        assert_admin_error(answer.status, &answer.json(), 401, "unauthorized", &[]);
    }
}

#[tokio::test]
async fn white_space_after_the_key_is_refused_unless_it_ends_the_line() {
    let app = TestApp::spawn().await;
    // Through a raw connection, to send exactly these bytes.
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let request = |value: &str| {
        format!(
            "GET /admin/v1/corps HTTP/1.1\r\nHost: {address}\r\nAuthorization: {value}\r\n\
             Connection: close\r\n\r\n"
        )
    };
    for value in [
        format!("Bearer {ADMIN_KEY} x"),
        format!("Bearer {ADMIN_KEY}  x"),
        format!("Bearer {ADMIN_KEY}\tx"),
        format!("Bearer  {ADMIN_KEY}"),
        format!("Bearer \t{ADMIN_KEY}"),
    ] {
        let answer = raw_http(&address, &request(&value)).await;
        assert!(answer.starts_with("HTTP/1.1 401"), "{value:?}: {answer}");
    }
    // White space that ends the line is no part of the header's value (RFC 9110 §5.5: HTTP
    // parsers drop it before patrol sees the value), so the key is still exact.
    for ending in [" ", "  ", "\t"] {
        let value = format!("Bearer {ADMIN_KEY}{ending}");
        let answer = raw_http(&address, &request(&value)).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{value:?}: {answer}");
    }
}

/// Sends `request` on a new connection and reads the whole answer.
async fn raw_http(address: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// Collects everything the server logs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_refused_admin_key_is_a_warning_with_the_client_and_the_reason_at_most_once_a_second() {
    let captured = Captured::default();
    let writer = captured.clone();
    // A subscriber for this test's thread only (the server runs on this test's current-thread
    // runtime).
    let _subscriber = tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .set_default();

    let app = TestApp::spawn().await;
    let wrong = "Bearer not-the-key-s3cr3t";
    let answer = app.admin_raw("GET", "/corps", Some(wrong), None).await;
    assert_eq!(answer.status, 401);
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = logs
        .lines()
        .find(|line| line.contains("administration request refused"))
        .unwrap_or_else(|| panic!("no warning of the refusal in:\n{logs}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("client_ip=127.0.0.1"), "{line}");
    assert!(line.contains("a wrong admin key"), "{line}");
    assert!(
        !logs.contains("not-the-key-s3cr3t"),
        "the given key is never logged: {logs}"
    );

    // A flood costs a line a second.
    for _ in 0..50 {
        let answer = app.admin_raw("GET", "/corps", Some(wrong), None).await;
        assert_eq!(answer.status, 401);
        app.admin_raw("GET", "/corps", None, None).await;
    }
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines = logs
        .lines()
        .filter(|line| line.contains("administration request refused"))
        .count();
    assert!(
        (1..=4).contains(&lines),
        "{lines} lines for 101 refusals:\n{logs}"
    );
    // The right key logs nothing at warn.
    app.admin_expect("GET", "/corps", None, 200).await;
}

#[tokio::test]
async fn an_order_takes_at_most_100_steps() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwsteps").await;
    let corpid = corp.corpid.as_str();
    let (status, text) = app.report(corpid, &report_body("long")).await;
    assert_eq!(status, 201, "{text}");
    let accept = json!({"action": "accept", "actor": "admin"});
    for _ in 1..100 {
        let (status, text) = act(&app, corpid, "long", accept.clone()).await;
        assert_eq!(status, 200, "{text}");
    }
    let (status, answer) = act(&app, corpid, "long", accept).await;
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_admin_error(status, &answer, 422, "rejected", &["long", "100 steps"]);
    assert_eq!(
        order(&app, corpid, "long").await["process_list"]
            .as_array()
            .unwrap()
            .len(),
        100
    );
}

/// serde reads a struct from a JSON array (`[null, null]` as a grid's `name` and `parent_id`):
/// a body that is not an object is refused before it is read, and nothing changes (found by
/// `.ci/schemathesis`).
#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_refused() {
    let app = TestApp::spawn().await;
    app.new_corp("wwshape").await;
    app.new_users("wwshape", &["admin"]).await;
    app.new_grid(
        "wwshape",
        json!({"grid_id": "top", "name": "顶", "admins": ["admin"]}),
    )
    .await;
    app.new_grid(
        "wwshape",
        json!({"grid_id": "g1", "name": "一", "parent_id": "top", "admins": ["admin"]}),
    )
    .await;
    let bearer = format!("Bearer {ADMIN_KEY}");
    for body in ["[null, null]", " [\"二\"]", "\"name\"", "5", "null"] {
        let answer = app
            .admin_raw(
                "PATCH",
                "/corps/wwshape/grids/g1",
                Some(&bearer),
                Some(body),
            )
            .await;
        assert_admin_error_text(
            &(answer.status, answer.text),
            400,
            "invalid_request",
            &["JSON object"],
        );
    }
    let answer = app
        .admin_raw(
            "POST",
            "/corps",
            Some(&bearer),
            Some("[\"wwarray\", \"名\"]"),
        )
        .await;
    assert_admin_error_text(
        &(answer.status, answer.text),
        400,
        "invalid_request",
        &["JSON object"],
    );
    let grid = app
        .admin_expect("GET", "/corps/wwshape/grids/g1", None, 200)
        .await;
    assert_eq!(
        (grid["name"].as_str(), grid["parent_id"].as_str()),
        (Some("一"), Some("top"))
    );
}
