//! The access log and the request id (docs/decisions.md, "Access log"): every request gets an
//! id, returned in the [`REQUEST_ID_HEADER`] of every answer (successes and errors; WeCom's
//! bodies are unchanged, only an error's `errmsg` names it, as WeCom's do), and one line at info
//! once answered, under the target [`TARGET`]:
//!
//! `request_id method path status errcode corp_key agentid elapsed_us clock clock_mode`
//!
//! The path is cut at [`MAX_LOGGED_PATH`] characters; the query string is never logged (it
//! holds tokens and secrets), nor are bodies. Access lines are not rate-limited (a log with
//! holes is no access log): `RUST_LOG=info,patrol_server::access=warn` turns them off. The
//! detail lines of refused requests stay bounded (`log_limit.rs`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use patrol_domain::Clock;

/// The response header that carries the request id.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The target of access lines, for `RUST_LOG` filters.
pub const TARGET: &str = "patrol_server::access";

/// The longest path quoted in a log line, in characters.
pub const MAX_LOGGED_PATH: usize = 256;

/// What the access line learns while the request runs, shared through its extensions.
#[derive(Debug)]
pub struct Note {
    /// The request id, as sent in the header.
    id: HeaderValue,
    /// The caller's corp key and agentid, once its token is checked.
    caller: OnceLock<(i64, i64)>,
}

impl Note {
    /// The request id, digits only.
    pub fn id(&self) -> &str {
        self.id.to_str().unwrap_or("")
    }
}

/// The request's note, when the access layer runs (it does for every route of the router).
pub fn note(extensions: &axum::http::Extensions) -> Option<&Arc<Note>> {
    extensions.get::<Arc<Note>>()
}

/// Tells the access line which app made the call.
pub fn note_caller(extensions: &axum::http::Extensions, caller: &patrol_domain::Caller) {
    if let Some(note) = note(extensions) {
        let _ = note.caller.set((caller.corp_key, caller.agentid));
    }
}

/// A request id in WeCom's style: digits (the clock's seconds, a counter, a random number),
/// unique within this process and unlikely across; formatted without an allocation of its own.
pub fn request_id(now: i64) -> HeaderValue {
    use std::io::Write;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed) % 1_000_000;
    let random = rand::random::<u16>() % 10_000;
    let mut buffer = [0u8; 40];
    let mut cursor = std::io::Cursor::new(&mut buffer[..]);
    write!(cursor, "{now}{count:06}{random:04}").expect("40 bytes hold a request id");
    let written = usize::try_from(cursor.position()).expect("a small position");
    HeaderValue::from_bytes(&buffer[..written]).expect("digits are a header value")
}

/// The middleware: gives the request its id and note, sets the header on the answer and logs
/// the access line. Inside the journal, outside the metrics and the request timeout, so that an
/// answer cut off by the timeout is logged with its 503.
pub async fn log(State(clock): State<Clock>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let reading = clock.reading();
    let note = Arc::new(Note {
        id: request_id(reading.now),
        caller: OnceLock::new(),
    });
    request.extensions_mut().insert(Arc::clone(&note));
    // Cheap clones: the method is an enum for the standard ones, the URI shares its bytes.
    let method = request.method().clone();
    let uri = request.uri().clone();
    let mut response = next.run(request).await;
    let elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let wecom = uri.path().starts_with("/cgi-bin/");
    let errcode = crate::metrics::answered_errcode(wecom, &response);
    let (corp_key, agentid) = match note.caller.get() {
        Some(&(corp_key, agentid)) => (Some(corp_key), Some(agentid)),
        None => (None, None),
    };
    tracing::info!(
        target: TARGET,
        request_id = %note.id(),
        %method,
        path = %patrol_wire::echo::bounded(uri.path(), MAX_LOGGED_PATH),
        status = response.status().as_u16(),
        errcode,
        corp_key,
        agentid,
        elapsed_us,
        clock = reading.now,
        clock_mode = reading.mode.name(),
        "answered"
    );
    response
        .headers_mut()
        .insert(REQUEST_ID_HEADER, note.id.clone());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_digits_led_by_the_clock_and_differ() {
        let first = request_id(1_796_103_083);
        let second = request_id(1_796_103_083);
        for id in [&first, &second] {
            let text = id.to_str().unwrap();
            assert!(text.starts_with("1796103083"), "{text}");
            assert_eq!(text.len(), 20, "{text}");
            assert!(text.bytes().all(|b| b.is_ascii_digit()), "{text}");
        }
        assert_ne!(first, second);
        // A clock before 1970 still gives a valid header value.
        assert!(request_id(-1).to_str().is_ok());
    }
}
