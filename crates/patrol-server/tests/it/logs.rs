//! The server's log lines: one access line per request at info (docs/decisions.md, "Access
//! log"), its fields and what it never holds, and the bounded lines of refused requests, with
//! the request id of an error's `errmsg` in them.

use std::io::Write;
use std::sync::{Arc, Mutex};

use patrol_test::{ADMIN_KEY, TestApp, errmsg};
use serde_json::json;
use tracing_subscriber::util::SubscriberInitExt;

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

impl Captured {
    /// A subscriber at info for this test's thread only (the server runs on this test's
    /// current-thread runtime), so the other tests of the binary neither log here nor clash with
    /// a global one.
    fn subscribe(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_env_filter("info")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish()
            .set_default()
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// Makes every callsite ask the live subscribers again whether they want its events.
///
/// tracing caches that answer per callsite. A callsite first hit by another test's thread (with
/// no subscriber) while this test's subscriber was being set up can be cached as "never" after
/// the subscriber's own refresh ran (tracing-core computes the answer, then lists the callsite),
/// and the lines of this test are then lost: it happened twice in CI. By the time the server has
/// started, any such registration is over, so asking again here closes the window.
fn settle_interest() {
    tracing::callsite::rebuild_interest_cache();
}

#[tokio::test]
async fn an_errors_request_id_is_in_its_log_line() {
    let captured = Captured::default();
    let _subscriber = captured.subscribe();

    let app = TestApp::spawn().await;
    settle_interest();
    let (_, body) = app
        .post("/cgi-bin/report/patrol/get_order_list", "{}")
        .await;
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let message = errmsg(&answer);
    let request_id = message
        .split("hint: [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_else(|| panic!("no request id in {message}"));

    let logs = captured.text();
    let line = logs
        .lines()
        .find(|line| line.contains(&format!("request_id={request_id}")))
        .unwrap_or_else(|| panic!("no log line with request id {request_id} in:\n{logs}"));
    assert!(line.contains("errcode=41001"), "{line}");
    assert!(
        line.contains("/cgi-bin/report/patrol/get_order_list"),
        "{line}"
    );
}

#[tokio::test]
async fn input_is_echoed_only_so_far_in_errmsg_and_in_the_log() {
    let captured = Captured::default();
    let _subscriber = captured.subscribe();
    let app = TestApp::spawn().await;
    settle_interest();
    let corp = app.corp("wwlogs").await;
    let token = app.token(&corp).await;

    let long = "9".repeat(5000);
    let answer = app
        .patrol(
            "get_order_list",
            &token,
            &format!(r#"{{"limit":"{long}x"}}"#),
        )
        .await;
    assert_eq!(answer["errcode"], 40058, "{answer}");
    let message = errmsg(&answer);
    // The error's text is cut at 256 characters, before WeCom's hint.
    let (text, _) = message.split_once(", hint: [").unwrap();
    assert_eq!(text.chars().count(), 257, "{text}");
    assert!(text.ends_with("99…"), "{text}");

    // A 5,000-character unknown path and a huge method name are cut in the log line too.
    let path = format!("/cgi-bin/{}", "p".repeat(5000));
    app.get(&path).await;
    let (_, body) = app
        .post(
            &format!("/cgi-bin/report/patrol/get_order_list?access_token={token}"),
            format!(r#"{{"begin_create_time":"{long}"}}"#),
        )
        .await;
    assert!(body.len() < 600, "{body}");
    let logs = captured.text();
    for line in logs.lines() {
        assert!(
            line.len() < 1200,
            "a log line of {} bytes: {line}",
            line.len()
        );
    }
    assert!(logs.contains("errcode=40058"), "{logs}");
}

/// The detail lines of refused requests are bounded; their access lines are not (decisions.md,
/// "Access log").
#[tokio::test]
async fn a_flood_of_refused_requests_logs_a_bounded_number_of_lines() {
    let captured = Captured::default();
    let _subscriber = captured.subscribe();
    let app = TestApp::spawn().await;
    settle_interest();

    let started = std::time::Instant::now();
    for _ in 0..300 {
        let (status, _) = app
            .post("/cgi-bin/report/patrol/get_order_list", "{}")
            .await;
        assert_eq!(status, 200);
    }
    let seconds = started.elapsed().as_secs() + 1;
    let refused = |logs: &str| logs.matches("request refused").count() as u64;
    let logged = refused(&captured.text());
    let limit = u64::from(patrol_server::log_limit::DEFAULT_LINES_PER_SECOND);
    assert!(
        logged <= limit * seconds,
        "{logged} lines for 300 refused requests in {seconds} s"
    );
    assert!(logged >= limit.min(300), "{logged} lines");

    // 300 refusals take well under the 15 seconds it would take to log them all: some were
    // dropped, and the next line admitted reports how many.
    assert!(logged < 300, "{logged} lines in {seconds} s");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.post("/cgi-bin/report/patrol/get_order_list", "{}")
        .await;
    let logs = captured.text();
    let last = logs
        .lines()
        .rev()
        .find(|line| line.contains("request refused"))
        .unwrap();
    assert!(last.contains("more not logged"), "{last}");
    assert!(last.contains("dropped="), "{last}");
    // The access lines are not bounded: one for each of the 301 requests.
    let access = logs
        .lines()
        .filter(|line| line.contains("patrol_server::access") && line.contains("errcode=41001"))
        .count();
    assert_eq!(access, 301);
}

/// The log line of a refused `get_order_list` without a token, found by its request id.
async fn refused_line(app: &TestApp, captured: &Captured) -> String {
    let (_, body) = app
        .post("/cgi-bin/report/patrol/get_order_list", "{}")
        .await;
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let message = errmsg(&answer);
    let request_id = message
        .split("hint: [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_else(|| panic!("no request id in {message}"));
    let logs = captured.text();
    logs.lines()
        .find(|line| line.contains(&format!("request_id={request_id}")))
        .unwrap_or_else(|| panic!("no log line with request id {request_id} in:\n{logs}"))
        .to_owned()
}

#[tokio::test]
async fn every_line_of_a_request_names_the_servers_clock_and_whether_it_is_real() {
    let captured = Captured::default();
    let _subscriber = captured.subscribe();
    let app = TestApp::spawn().await;
    settle_interest();

    let line = refused_line(&app, &captured).await;
    assert!(line.contains("clock=1") && line.contains("real"), "{line}");
    assert!(!line.contains("frozen"), "{line}");

    // Frozen at 2026-01-01 00:00 Asia/Shanghai: said when it changes, and in every line.
    const AT: i64 = 1_767_196_800;
    for body in [json!({"freeze": true}), json!({"set": AT})] {
        app.admin_expect("POST", "/clock", Some(body), 200).await;
    }
    let logs = captured.text();
    assert!(
        logs.lines()
            .any(|line| line.contains("WARN") && line.contains("clock is not real")),
        "{logs}"
    );
    let line = refused_line(&app, &captured).await;
    assert!(line.contains(&format!("clock={AT}")), "{line}");
    assert!(line.contains("frozen"), "{line}");
    // A line of the request that is not the access line carries it too (the request's span).
    let raw = app
        .admin_raw("GET", "/clock", Some("Bearer wrong"), None)
        .await;
    assert_eq!(raw.status, 401);
    let logs = captured.text();
    let refusal = logs
        .lines()
        .rev()
        .find(|line| line.contains("administration request refused"))
        .unwrap_or_else(|| panic!("no refusal logged in:\n{logs}"));
    assert!(refusal.contains(&format!("clock={AT}")), "{refusal}");
    assert!(refusal.contains("frozen"), "{refusal}");
}

/// The access lines (`patrol_server::access`) of the request with id `request_id`.
fn access_lines(logs: &str, request_id: &str) -> Vec<String> {
    logs.lines()
        .filter(|line| {
            line.contains("patrol_server::access")
                && line.contains(&format!("request_id={request_id} "))
        })
        .map(str::to_owned)
        .collect()
}

/// The request id header of an answer.
fn header_id(response: &reqwest::Response) -> String {
    response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn every_request_logs_one_access_line_at_info_with_its_fields_and_no_secret() {
    let captured = Captured::default();
    let _subscriber = captured.subscribe();
    let app = TestApp::spawn().await;
    settle_interest();
    let corp = app.corp("wwaccess").await;
    let token = app.token(&corp).await;

    // A success: the caller's corp and app are named.
    let response = app
        .http
        .post(format!(
            "{}/cgi-bin/report/patrol/get_order_list?access_token={token}",
            app.base_url
        ))
        .body(r#"{"limit":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let success = header_id(&response);
    // A refusal (no token), an unserved path, and the administration API with its key.
    let response = app
        .http
        .post(format!(
            "{}/cgi-bin/report/patrol/get_order_list",
            app.base_url
        ))
        .body("{}")
        .send()
        .await
        .unwrap();
    let refused = header_id(&response);
    let response = app
        .http
        .get(format!("{}/nowhere/{}", app.base_url, "x".repeat(1000)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let unserved = header_id(&response);
    let response = app
        .http
        .get(format!("{}/admin/v1/corps", app.base_url))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let admin = header_id(&response);

    let logs = captured.text();
    let one = |id: &str| -> String {
        let lines = access_lines(&logs, id);
        assert_eq!(lines.len(), 1, "{id}: {lines:?}\n{logs}");
        let line = lines[0].clone();
        assert!(line.contains(" INFO "), "{line}");
        assert!(line.contains("elapsed_us="), "{line}");
        line
    };
    let line = one(&success);
    for field in [
        "method=POST",
        "path=/cgi-bin/report/patrol/get_order_list ",
        "status=200",
        "errcode=0",
        &format!("corp_key={}", corp.key),
        "agentid=",
    ] {
        assert!(line.contains(field), "{field}: {line}");
    }
    let line = one(&refused);
    assert!(
        line.contains("status=200") && line.contains("errcode=41001"),
        "{line}"
    );
    assert!(!line.contains("corp_key="), "{line}");
    let line = one(&unserved);
    assert!(
        line.contains("status=404") && !line.contains("errcode"),
        "{line}"
    );
    // The client's path is cut.
    assert!(line.len() < 600, "{line}");
    assert!(line.contains("xxx…"), "{line}");
    let line = one(&admin);
    assert!(
        line.contains("method=GET") && line.contains("path=/admin/v1/corps "),
        "{line}"
    );
    assert!(line.contains("status=200"), "{line}");

    // Neither the query string nor a credential is ever logged: the token, the app's secret
    // (gettoken's query), the admin key.
    for secret in [
        token.as_str(),
        corp.secret.as_str(),
        ADMIN_KEY,
        "access_token=",
    ] {
        assert!(!logs.contains(secret), "{secret} in:\n{logs}");
    }
}
