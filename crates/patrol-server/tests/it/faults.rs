//! Fault rules (docs/admin-api.md, "Faults") over HTTP: each action as a client meets it (an
//! errcode in WeCom's envelope, a bare status, a pause, a TCP reset, a cut body, a trickle), each
//! trigger (the next N calls after a skip, a seeded probability, a window on the server's
//! clock), matching by path, method, corp and app, expiry, the journal's mark, and the
//! administration routes.

use std::time::{Duration, Instant};

use patrol_domain::Clock;
use patrol_test::{TestApp, assert_admin_error, errcode, errmsg, new_order, split_errmsg};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const T: i64 = 1_790_000_000;

async fn app() -> TestApp {
    TestApp::spawn_with(|config| config.clock = Clock::manual(T)).await
}

async fn add(app: &TestApp, rule: Value) -> Value {
    app.admin_expect("POST", "/faults", Some(rule), 201).await
}

/// The journal's entries of the order list.
async fn order_list_journal(app: &TestApp) -> Value {
    app.admin_expect(
        "GET",
        "/journal?path=/cgi-bin/report/patrol/get_order_list",
        None,
        200,
    )
    .await
}

/// An order list's status and exact text.
async fn order_list_text(app: &TestApp, token: &str) -> (u16, String) {
    app.post(
        &format!("/cgi-bin/report/patrol/get_order_list?access_token={token}"),
        "{}",
    )
    .await
}

/// A raw `POST` of an order list on its own connection: everything the server sent until it
/// closed, or the error that ended the read.
async fn raw_order_list(app: &TestApp, token: &str) -> (Vec<u8>, Option<std::io::Error>) {
    let mut stream = TcpStream::connect(app.address()).await.unwrap();
    let body = "{}";
    let request = format!(
        "POST /cgi-bin/report/patrol/get_order_list?access_token={token} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    // A guard against a hang, not a timing assertion.
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) => return None,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
                Err(error) => return Some(error),
            }
        }
    })
    .await
    .expect("the server answers or closes");
    (received, read)
}

fn head_and_body(received: &[u8]) -> (String, &[u8]) {
    let end = received
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    (
        String::from_utf8_lossy(&received[..end]).to_lowercase(),
        &received[end + 4..],
    )
}

#[tokio::test]
async fn an_errcode_fault_answers_wecoms_envelope_for_the_next_calls_then_expires() {
    let app = app().await;
    let (_, token) = app
        .corp_with_orders("wwfault", vec![new_order("o1", T - 60)])
        .await;
    let rule = add(
        &app,
        json!({"path": "/cgi-bin/report/patrol/get_order_list", "skip": 1, "times": 2,
               "action": {"errcode": -1}}),
    )
    .await;
    assert_eq!(rule["id"], 1);
    assert_eq!(rule["remaining"], 2);
    assert_eq!(rule["rule"]["seed"], 1);
    // Other paths are not touched; the first matching call is skipped.
    assert_eq!(errcode(&app.order_info(&token, "o1").await), 0);
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);
    for _ in 0..2 {
        let answer = app.order_list(&token, json!({})).await;
        assert_eq!(errcode(&answer), -1, "{answer}");
        let parts = split_errmsg(errmsg(&answer));
        assert_eq!(parts.text, "system busy");
        assert!(!parts.hint.is_empty());
        assert!(parts.link.ends_with("e=-1"), "{}", parts.link);
        assert_eq!(answer.as_object().unwrap().len(), 2, "{answer}");
    }
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);
    let list = app.admin_expect("GET", "/faults", None, 200).await;
    assert_eq!(list, json!({"faults": [], "applied_total": 2}));

    // Any code: WeCom's message for one of its table, a plain one for another.
    add(&app, json!({"times": 1, "action": {"errcode": 45009}})).await;
    let answer = app.order_list(&token, json!({})).await;
    assert_eq!(split_errmsg(errmsg(&answer)).text, "api freq out of limit");
    add(&app, json!({"times": 1, "action": {"errcode": 777}})).await;
    let answer = app.order_list(&token, json!({})).await;
    assert_eq!(errcode(&answer), 777);
    assert_eq!(split_errmsg(errmsg(&answer)).text, "injected fault");
}

#[tokio::test]
async fn each_fault_is_marked_in_the_journal() {
    let app = app().await;
    let (_, token) = app.corp_and_token("wwfault").await;
    add(&app, json!({"times": 1, "action": {"errcode": 42001}})).await;
    add(&app, json!({"times": 1, "action": {"status": 502}})).await;
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 42001);
    let (status, body) = order_list_text(&app, &token).await;
    assert_eq!((status, body.as_str()), (502, ""));
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);
    let journal = order_list_journal(&app).await;
    let marks: Vec<(Value, Value, Value)> = journal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["fault"].clone(),
                e["status"].clone(),
                e["errcode"].clone(),
            )
        })
        .collect();
    assert_eq!(
        marks,
        [
            (json!("rule 1: errcode 42001"), json!(200), json!(42001)),
            (json!("rule 2: status 502"), json!(502), Value::Null),
            (Value::Null, json!(200), json!(0)),
        ]
    );
    // And counted in the metrics.
    let (status, metrics) = app.get("/metrics").await;
    assert_eq!(status, 200);
    let route = "/cgi-bin/report/patrol/get_order_list";
    for line in [
        r#"patrol_faults_applied_total{action="errcode"} 1"#.to_owned(),
        r#"patrol_faults_applied_total{action="status"} 1"#.to_owned(),
        format!(
            r#"patrol_http_requests_total{{route="{route}",method="POST",status="200",errcode="42001"}} 1"#
        ),
        format!(
            r#"patrol_http_requests_total{{route="{route}",method="POST",status="502",errcode=""}} 1"#
        ),
        format!(
            r#"patrol_http_requests_total{{route="{route}",method="POST",status="200",errcode="0"}} 1"#
        ),
    ] {
        assert!(metrics.contains(&line), "{line}\n{metrics}");
    }
}

#[tokio::test]
async fn a_reset_fault_drops_the_connection_with_a_tcp_reset_and_is_journaled() {
    let app = app().await;
    let (_, token) = app.corp_and_token("wwfault").await;
    add(&app, json!({"times": 1, "action": "reset"})).await;
    let (received, error) = raw_order_list(&app, &token).await;
    assert!(
        received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );
    let error = error.expect("the read fails");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}");
    // The server goes on, and the next call is answered.
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);
    let journal = order_list_journal(&app).await;
    let first = &journal["entries"][0];
    assert_eq!(first["fault"], "rule 1: reset");
    assert_eq!(first["status"], Value::Null);
    assert_eq!(first["response_body"], Value::Null);
}

#[tokio::test]
async fn a_truncate_fault_sends_half_the_body_it_announces_then_closes() {
    let app = app().await;
    let (_, token) = app
        .corp_with_orders(
            "wwfault",
            vec![new_order("o1", T - 60), new_order("o2", T - 30)],
        )
        .await;
    let (_, whole) = order_list_text(&app, &token).await;
    add(&app, json!({"times": 1, "action": "truncate"})).await;
    let (received, _) = raw_order_list(&app, &token).await;
    let (head, body) = head_and_body(&received);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let announced: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .expect("a content length")
        .parse()
        .unwrap();
    assert_eq!(announced, whole.len());
    assert_eq!(body.len(), whole.len() / 2);
    assert_eq!(body, &whole.as_bytes()[..body.len()]);
    // A client reading it fails.
    add(&app, json!({"times": 1, "action": "truncate"})).await;
    let response = app
        .http
        .post(format!(
            "{}/cgi-bin/report/patrol/get_order_list?access_token={token}",
            app.base_url
        ))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert!(response.text().await.is_err());
}

#[tokio::test]
async fn a_chunks_fault_trickles_the_whole_answer_in_small_pieces() {
    let app = app().await;
    let (_, token) = app
        .corp_with_orders("wwfault", vec![new_order("o1", T - 60)])
        .await;
    let (_, whole) = order_list_text(&app, &token).await;
    add(
        &app,
        json!({"times": 1, "action": {"chunks": {"bytes": 40, "every_ms": 5}}}),
    )
    .await;
    let (received, error) = raw_order_list(&app, &token).await;
    assert!(error.is_none(), "{error:?}");
    let (head, mut rest) = head_and_body(&received);
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let mut body = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap(), 16).unwrap();
        rest = &rest[line_end + 2..];
        if size == 0 {
            break;
        }
        body.extend_from_slice(&rest[..size]);
        sizes.push(size);
        rest = &rest[size + 2..];
    }
    assert_eq!(body, whole.as_bytes());
    assert!(sizes.len() >= whole.len() / 40, "{sizes:?}");
    assert!(sizes.iter().all(|&size| size <= 40), "{sizes:?}");
}

#[tokio::test]
async fn a_delay_fault_pauses_then_answers() {
    let app = app().await;
    let (_, token) = app.corp_and_token("wwfault").await;
    add(
        &app,
        json!({"times": 1, "action": {"delay": {"distribution": "fixed", "ms": 400}}}),
    )
    .await;
    let started = Instant::now();
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);
    // The pause happened (a lower bound: the fault's own, not a measure of speed).
    assert!(started.elapsed() >= Duration::from_millis(400));
    let journal = order_list_journal(&app).await;
    assert_eq!(
        journal["entries"][0]["fault"],
        "rule 1: delay 400 ms (slept 400 ms)"
    );
}

#[tokio::test]
async fn rules_match_by_corp_app_and_method() {
    let app = app().await;
    let (corp_a, token_a) = app.corp_and_token("wwfaulta").await;
    let (_, token_b) = app.corp_and_token("wwfaultb").await;
    add(
        &app,
        json!({"corpid": "wwfaulta", "action": {"errcode": 45009}}),
    )
    .await;
    assert_eq!(errcode(&app.order_list(&token_a, json!({})).await), 45009);
    assert_eq!(errcode(&app.order_list(&token_b, json!({})).await), 0);
    // gettoken names its corp by corpid.
    let (_, answer) = app
        .get(&format!(
            "/cgi-bin/gettoken?corpid={}&corpsecret={}",
            corp_a.corpid, corp_a.secret
        ))
        .await;
    assert_eq!(errcode(&serde_json::from_str(&answer).unwrap()), 45009);
    app.admin_expect("DELETE", "/faults", None, 200).await;

    // By app: another app of the same corp is not hit.
    let other = app
        .new_app("wwfaulta", json!({"name": "other", "patrol_enabled": true}))
        .await;
    let other_token = app
        .token_for("wwfaulta", other["secret"].as_str().unwrap())
        .await;
    let agentid = other["agentid"].as_i64().unwrap();
    add(
        &app,
        json!({"agentid": agentid, "method": "POST", "action": {"errcode": -1}}),
    )
    .await;
    assert_eq!(errcode(&app.order_list(&other_token, json!({})).await), -1);
    assert_eq!(errcode(&app.order_list(&token_a, json!({})).await), 0);
    // Not by GET (the order list refuses GET its own way).
    let (_, answer) = app
        .get(&format!(
            "/cgi-bin/report/patrol/get_order_list?access_token={other_token}"
        ))
        .await;
    assert_ne!(errcode(&serde_json::from_str(&answer).unwrap()), -1);
    // An invalid token is nobody: rules naming a corp or app never hit it.
    assert_eq!(errcode(&app.order_list("nonsense", json!({})).await), 40014);
}

#[tokio::test]
async fn a_window_on_the_server_clock_and_expiry_by_time() {
    let app = app().await;
    let (_, token) = app.corp_and_token("wwfault").await;
    let rule = add(
        &app,
        json!({"from": T + 60, "expires_in": 120, "action": {"errcode": -1}}),
    )
    .await;
    assert_eq!(rule["rule"]["until"], T + 120);
    assert!(rule["rule"].get("expires_in").is_none(), "{rule}");
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);
    app.clock().set(T + 60);
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), -1);
    app.clock().set(T + 120);
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);
    let (status, body) = app.admin("GET", "/faults/1", None).await;
    assert_admin_error(status, &body, 404, "not_found", &["fault rule 1"]);
}

#[tokio::test]
async fn a_seeded_probability_hits_the_same_calls_every_run() {
    let app = app().await;
    let (_, token) = app.corp_and_token("wwfault").await;
    let mut runs = Vec::new();
    for _ in 0..2 {
        app.admin_expect(
            "PUT",
            "/faults",
            Some(
                json!({"faults": [{"probability": 0.4, "seed": 2026, "action": {"errcode": -1}}]}),
            ),
            200,
        )
        .await;
        let mut hits = Vec::new();
        for _ in 0..40 {
            hits.push(errcode(&app.order_list(&token, json!({})).await) == -1);
        }
        runs.push(hits);
    }
    assert_eq!(runs[0], runs[1]);
    let hit = runs[0].iter().filter(|&&hit| hit).count();
    assert!((4..=30).contains(&hit), "{hit} of 40 at 0.4");
    let list = app.admin_expect("GET", "/faults", None, 200).await;
    assert_eq!(list["faults"][0]["matched"], 40);
    assert_eq!(list["faults"][0]["applied"], hit);
}

#[tokio::test]
async fn the_administration_routes_list_show_replace_remove_and_refuse_bad_rules() {
    let app = app().await;
    let (_, token) = app.corp_and_token("wwfault").await;
    // A rule matching everything never touches the administration API.
    add(&app, json!({"path": "*", "action": "reset"})).await;
    let second = add(&app, json!({"path": "/media/*", "action": {"status": 404}})).await;
    assert_eq!(second["id"], 2);
    let shown = app.admin_expect("GET", "/faults/2", None, 200).await;
    assert_eq!(shown, second);
    let list = app.admin_expect("GET", "/faults", None, 200).await;
    assert_eq!(list["faults"].as_array().unwrap().len(), 2);
    let removed = app.admin_expect("DELETE", "/faults/1", None, 200).await;
    assert_eq!(removed["id"], 1);
    let (status, body) = app.admin("DELETE", "/faults/1", None).await;
    assert_admin_error(status, &body, 404, "not_found", &["fault rule 1"]);
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);

    for (rule, names) in [
        (json!({"action": {"errcode": 0}}), &["action.errcode"][..]),
        (json!({"action": {"status": 1000}}), &["action.status"]),
        (json!({"path": "[x", "action": "reset"}), &["path"]),
        (
            json!({"probability": 2, "action": "reset"}),
            &["probability"],
        ),
        (json!({"until": T - 1, "action": "reset"}), &["until"]),
        (json!({"action": "explode"}), &["action"]),
        (json!({"times": 1}), &["action"]),
        (json!({"action": "reset", "when": 1}), &["when"]),
    ] {
        let (status, body) = app.admin("POST", "/faults", Some(rule.clone())).await;
        assert_admin_error(status, &body, 400, "invalid_request", names);
    }
    // A set is all or none.
    let (status, body) = app
        .admin(
            "PUT",
            "/faults",
            Some(json!({"faults": [{"action": "reset"}, {"action": {"status": 7}}]})),
        )
        .await;
    assert_admin_error(
        status,
        &body,
        400,
        "invalid_request",
        &["faults[1].action.status"],
    );
    let list = app.admin_expect("GET", "/faults", None, 200).await;
    assert_eq!(list["faults"].as_array().unwrap().len(), 1, "{list}");
    let cleared = app.admin_expect("DELETE", "/faults", None, 200).await;
    assert_eq!(cleared["faults"], json!([]));
}

#[tokio::test]
async fn rules_given_at_start_are_in_force_and_a_bad_one_refuses_the_start() {
    let app = TestApp::spawn_with(|config| {
        config.clock = Clock::manual(T);
        config.faults = vec![
            serde_json::from_value(json!({"path": "/cgi-bin/gettoken", "action": {"errcode": -1}}))
                .unwrap(),
        ];
    })
    .await;
    let (_, answer) = app.get("/cgi-bin/gettoken?corpid=x&corpsecret=y").await;
    assert_eq!(errcode(&serde_json::from_str(&answer).unwrap()), -1);

    let mut config = app.config.clone();
    config.faults = vec![serde_json::from_value(json!({"times": 0, "action": "reset"})).unwrap()];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let error = patrol_server::Server::prepare(config, listener)
        .await
        .expect_err("a bad rule refuses the start");
    assert!(error.to_string().contains("faults[0].times"), "{error}");
}
