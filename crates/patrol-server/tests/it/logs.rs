//! The request id of an error's `errmsg` is in the server's log line for that request.

use std::io::Write;
use std::sync::{Arc, Mutex};

use patrol_test::{TestApp, errmsg};
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

#[tokio::test]
async fn an_errors_request_id_is_in_its_log_line() {
    let captured = Captured::default();
    let writer = captured.clone();
    // A subscriber for this test's thread only (the server runs on this test's current-thread
    // runtime), so the other tests of the binary neither log here nor clash with a global one.
    let _subscriber = tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .set_default();

    let app = TestApp::spawn().await;
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

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
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
