//! Recordings: the calls a real client made through `patrol record` to an upstream (WeCom, or
//! another patrol), kept as one versioned file of JSON lines, tokens and secrets redacted; served
//! back by `patrol replay` ([`Replay`], [`router`]); turned into seed data by [`seed`].
//!
//! The file (docs/decisions.md, "Record and replay"):
//!
//! ```text
//! {"format":"patrol-recording","version":1,"created":"2026-12-01T05:00:00.123Z","upstream":"http://…","body_cap":4194304}
//! {"seq":1,"time":"…","method":"GET","path":"/cgi-bin/gettoken","query":"corpid=ww…&corpsecret=…redacted…","request":{…},"status":200,"headers":[["content-type","application/json"]],"answer":{"size":…,"text":"…"},"latency_ms":1.2}
//! …                                                               (one exchange a line, as they ended)
//! ```
//!
//! A body is kept as `text` when it is text (UTF-8, of no media type: see
//! `journal::textual`), with its tokens and secrets redacted by the journal's
//! [`redact_json`] (the one redaction of patrol), else as `base64`; a body over the recording's
//! `body_cap` is described (`size`, `omitted`), not kept. Queries are redacted by
//! [`redact_query_whole`]. The recorder writes each line with one write and no buffer, so a
//! recorder killed at any moment loses at most the line being written; [`read`] tolerates a
//! last line cut short (and says so), and refuses any other line that is not an exchange.

pub mod seed;

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::journal::{REDACTED, redact_json, redact_query_whole, textual};

/// The `format` of a recording's header line.
pub const FORMAT: &str = "patrol-recording";
/// The version of the file this patrol writes; a newer one is refused.
pub const VERSION: u32 = 1;
/// Of each body, at most this many bytes are kept by default; a longer one is described.
pub const DEFAULT_BODY_CAP: u64 = 4 * 1024 * 1024;
/// The largest body cap a recording may have.
pub const MAX_BODY_CAP: u64 = 64 * 1024 * 1024;
/// The longest line [`read`] reads: two bodies at the largest cap, in base64, and the rest.
const MAX_LINE: u64 = 3 * MAX_BODY_CAP + 1024 * 1024;
/// The answer headers a recording keeps (and replay sends); the others are hop-by-hop, or the
/// upstream's own (its date, its server).
pub const KEPT_HEADERS: [&str; 8] = [
    "content-type",
    "content-encoding",
    "content-disposition",
    "content-range",
    "accept-ranges",
    "cache-control",
    "etag",
    "last-modified",
];
/// What a recording is called at: a gettoken, whose answer's token replay makes.
pub const GETTOKEN_PATH: &str = "/cgi-bin/gettoken";

/// The first line of a recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    /// When the recording started, RFC 3339 on the system's clock.
    pub created: String,
    /// The upstream the calls went to.
    pub upstream: String,
    /// Bodies up to this many bytes are kept; longer ones are described.
    pub body_cap: u64,
}

impl Header {
    /// The header of a recording starting now.
    pub fn new(upstream: &str, body_cap: u64) -> Header {
        Header {
            format: FORMAT.to_owned(),
            version: VERSION,
            created: now(),
            upstream: upstream.to_owned(),
            body_cap,
        }
    }

    /// When the recording started, in Unix seconds (0 when unreadable).
    pub fn created_unix(&self) -> i64 {
        self.created
            .parse::<jiff::Timestamp>()
            .map_or(0, jiff::Timestamp::as_second)
    }
}

/// The system's time, RFC 3339 with milliseconds: an exchange's `time`.
pub fn now() -> String {
    rfc3339_ms(crate::journal::wall_ms())
}

/// Unix milliseconds as RFC 3339.
pub fn rfc3339_ms(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |time| time.to_string())
}

/// One call and its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// The line's number among the exchanges, from 1, in the order they ended.
    pub seq: u64,
    /// When the call came, RFC 3339 with milliseconds.
    pub time: String,
    pub method: String,
    pub path: String,
    /// The query string, tokens and secrets redacted; absent when the URL had none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    pub request: RecordedBody,
    /// The answer's HTTP status (502 when the upstream could not be reached).
    pub status: u16,
    /// The answer's headers of [`KEPT_HEADERS`], in the upstream's order.
    pub headers: Vec<(String, String)>,
    pub answer: RecordedBody,
    /// Why the upstream gave no answer (the recorder answered 502 itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// From the call's arrival to the end of its answer, in milliseconds.
    pub latency_ms: f64,
}

/// A body as a recording keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedBody {
    /// Its length in bytes (all of it, also when it was not kept).
    pub size: u64,
    /// Its `Content-Type`, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The body, when it is text: tokens and secrets redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The body in base64, when it is not text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    /// Longer than the recording's body cap: described, not kept.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub omitted: bool,
    /// The body ended early (the client or the upstream went away): what came is kept.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut: bool,
}

impl RecordedBody {
    /// A body of `size` bytes whose first bytes are `head` (all of it when `size` is at most
    /// `cap`): text redacted, or base64, or described when over `cap`.
    pub fn capture(
        content_type: Option<&str>,
        head: &[u8],
        size: u64,
        cap: u64,
        cut: bool,
    ) -> RecordedBody {
        let mut body = RecordedBody {
            size,
            content_type: content_type.map(str::to_owned),
            cut,
            ..RecordedBody::default()
        };
        if size > cap || (head.len() as u64) < size {
            body.omitted = true;
            return body;
        }
        match text_of(content_type, head) {
            Some(text) => body.text = Some(redact_json(text).into_owned()),
            None => body.base64 = Some(base64::engine::general_purpose::STANDARD.encode(head)),
        }
        body
    }

    /// The bytes kept; `None` when the body was described only.
    pub fn bytes(&self) -> Option<Vec<u8>> {
        if let Some(text) = &self.text {
            return Some(text.clone().into_bytes());
        }
        let encoded = self.base64.as_ref()?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
    }

    /// The body as a matching key.
    fn key(&self) -> BodyKey {
        if self.omitted || self.cut {
            return BodyKey::Any;
        }
        match &self.text {
            Some(text) => BodyKey::of_text(text),
            None => BodyKey::Any,
        }
    }
}

/// A body's text when it is kept as text: UTF-8, of a type that is not media.
fn text_of<'a>(content_type: Option<&str>, bytes: &'a [u8]) -> Option<&'a str> {
    if !textual(content_type) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// What a request's body must be to match a recorded one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum BodyKey {
    /// JSON, compared by value: its canonical text (keys sorted, no spaces). An empty body is
    /// `{}`, as WeCom reads it.
    Json(String),
    /// Text that is not JSON, compared as it is.
    Text(String),
    /// Media, or a body over the cap: not compared.
    Any,
}

impl BodyKey {
    /// The key of a text already redacted.
    fn of_text(text: &str) -> BodyKey {
        if text.trim().is_empty() {
            return BodyKey::Json("{}".to_owned());
        }
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(value) => BodyKey::Json(value.to_string()),
            Err(_) => BodyKey::Text(text.to_owned()),
        }
    }

    /// The key of a request as it arrives (not redacted yet).
    fn of_request(content_type: Option<&str>, bytes: Option<&[u8]>) -> BodyKey {
        match bytes.and_then(|bytes| text_of(content_type, bytes)) {
            Some(text) => BodyKey::of_text(&redact_json(text)),
            None => BodyKey::Any,
        }
    }
}

/// What a call is matched on: the method, the path, the query's parameters in any order (the
/// redacted ones by name only) and the body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    body: BodyKey,
}

/// A redacted query as sorted parameters, percent-decoded.
fn query_key(redacted: Option<&str>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = redacted
        .map(|query| {
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    pairs
}

impl Exchange {
    fn key(&self) -> Key {
        Key {
            method: self.method.clone(),
            path: self.path.clone(),
            query: query_key(self.query.as_deref()),
            body: self.request.key(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Appends exchanges to a recording file, one line with one write each (no buffer): a recorder
/// killed at any moment loses at most the line being written.
#[derive(Debug)]
pub struct Recorder {
    file: Mutex<(std::fs::File, u64)>,
    body_cap: u64,
}

impl Recorder {
    /// Creates `path` (refused when it exists: a recording is never overwritten) with the
    /// header's line, readable by its owner only.
    pub fn create(path: &Path, header: &Header) -> std::io::Result<Recorder> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path)?;
        let mut line = serde_json::to_vec(header).map_err(std::io::Error::other)?;
        line.push(b'\n');
        file.write_all(&line)?;
        Ok(Recorder {
            file: Mutex::new((file, 0)),
            body_cap: header.body_cap,
        })
    }

    /// How many exchanges were written.
    pub fn written(&self) -> u64 {
        self.file.lock().unwrap_or_else(PoisonError::into_inner).1
    }

    /// The recording's body cap.
    pub fn body_cap(&self) -> u64 {
        self.body_cap
    }

    /// Appends an exchange, numbering it.
    pub fn write(&self, mut exchange: Exchange) -> std::io::Result<()> {
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        exchange.seq = file.1 + 1;
        let mut line = serde_json::to_vec(&exchange).map_err(std::io::Error::other)?;
        line.push(b'\n');
        file.0.write_all(&line)?;
        file.1 += 1;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Why a recording could not be read or converted.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The file is not a recording this patrol reads.
    #[error("not a readable recording: {0}")]
    Invalid(String),
    /// The recording cannot be turned into seed data.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Snapshot(#[from] crate::snapshot::SnapshotError),
    #[error(transparent)]
    Store(#[from] patrol_store::StoreError),
    #[error("media: {0}")]
    Blob(#[from] patrol_media::BlobError),
}

/// A recording read whole.
#[derive(Debug, Clone)]
pub struct Recording {
    pub header: Header,
    pub exchanges: Vec<Exchange>,
    /// The last line was cut short (a recorder killed while writing it) and was left out.
    pub truncated: bool,
}

/// Reads a recording: its header (a newer version refused, naming both), then every exchange.
/// A last line without its newline that is no exchange is the line a killed recorder was
/// writing: left out, and told by [`Recording::truncated`]; any other line that is no exchange
/// is refused, naming its number.
pub fn read(path: &Path) -> Result<Recording, RecordingError> {
    let file = std::fs::File::open(path)?;
    let mut reader = std::io::BufReader::with_capacity(256 * 1024, file);
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut next = |line: &mut Vec<u8>| -> Result<Option<bool>, RecordingError> {
        line.clear();
        number += 1;
        let read = (&mut reader).take(MAX_LINE).read_until(b'\n', line)?;
        if read == 0 {
            return Ok(None);
        }
        let ended = line.last() == Some(&b'\n');
        if !ended && read as u64 >= MAX_LINE {
            return Err(RecordingError::Invalid(format!(
                "line {number} is longer than {MAX_LINE} bytes"
            )));
        }
        Ok(Some(ended))
    };
    if next(&mut line)?.is_none() {
        return Err(RecordingError::Invalid("the file is empty".into()));
    }
    let header: Header = serde_json::from_slice(&line)
        .map_err(|e| RecordingError::Invalid(format!("line 1 is no recording's header: {e}")))?;
    if header.format != FORMAT {
        return Err(RecordingError::Invalid(format!(
            "its format is {:?}, not {FORMAT:?}",
            header.format
        )));
    }
    if header.version > VERSION {
        return Err(RecordingError::Invalid(format!(
            "it is version {} and this patrol reads version {VERSION} at most",
            header.version
        )));
    }
    let mut exchanges = Vec::new();
    let mut truncated = false;
    let mut index = 1;
    while let Some(ended) = next(&mut line)? {
        index += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Exchange>(&line) {
            Ok(exchange) => exchanges.push(exchange),
            Err(_) if !ended => {
                truncated = true;
                break;
            }
            Err(error) => {
                return Err(RecordingError::Invalid(format!(
                    "line {index} is no exchange: {error}"
                )));
            }
        }
    }
    Ok(Recording {
        header,
        exchanges,
        truncated,
    })
}

// ---------------------------------------------------------------------------------------------
// Replay

/// The recorded answers to one kind of call, answered in recorded order, the last one repeated.
#[derive(Debug)]
struct Queue {
    exchanges: Vec<usize>,
    next: AtomicUsize,
}

/// A recording served back: each call answered with the recorded answer to the same call.
#[derive(Debug)]
pub struct Replay {
    exchanges: Vec<Exchange>,
    queues: HashMap<Key, Queue>,
    body_cap: u64,
    /// The key of the tokens this replay hands out.
    token_key: [u8; 32],
}

/// An answer of the replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Replay {
    /// The replay of a recording.
    pub fn new(recording: Recording) -> Replay {
        let mut queues: HashMap<Key, Queue> = HashMap::new();
        for (index, exchange) in recording.exchanges.iter().enumerate() {
            queues
                .entry(exchange.key())
                .or_insert_with(|| Queue {
                    exchanges: Vec::new(),
                    next: AtomicUsize::new(0),
                })
                .exchanges
                .push(index);
        }
        let mut token_key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut token_key);
        Replay {
            exchanges: recording.exchanges,
            queues,
            body_cap: recording.header.body_cap,
            token_key,
        }
    }

    /// How many exchanges it holds.
    pub fn len(&self) -> usize {
        self.exchanges.len()
    }

    /// Whether it holds no exchange.
    pub fn is_empty(&self) -> bool {
        self.exchanges.is_empty()
    }

    /// The bytes of a request's body the replay reads to match it: one more than the cap
    /// (a longer body matches any recorded body).
    pub fn read_limit(&self) -> usize {
        usize::try_from(self.body_cap.saturating_add(1)).unwrap_or(usize::MAX)
    }

    /// The token this replay hands out for `corpid` (accepted, as any token, afterwards).
    pub fn token_for(&self, corpid: &str) -> String {
        blake3::keyed_hash(&self.token_key, corpid.as_bytes())
            .to_hex()
            .to_string()
    }

    /// The answer to a call: the recorded one, or the replay's 404 naming the call. `body` is
    /// `None` when it was over the read limit.
    pub fn answer(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> Answer {
        let redacted = query.map(redact_query_whole);
        let key = Key {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query_key(redacted.as_deref()),
            body: BodyKey::of_request(content_type, body),
        };
        let Some(queue) = self.queues.get(&key) else {
            let shown_query = redacted.map(|q| format!("?{q}")).unwrap_or_default();
            let shown_body = match &key.body {
                BodyKey::Json(text) | BodyKey::Text(text) => {
                    format!(" with body {}", patrol_wire::echo::bounded(text, 300))
                }
                BodyKey::Any => String::new(),
            };
            return not_recorded(format!(
                "patrol replay: nothing recorded for {method} {}{shown_query}{shown_body}",
                patrol_wire::echo::bounded(path, 300)
            ));
        };
        let turn = queue.next.fetch_add(1, Ordering::Relaxed);
        let index = queue.exchanges[turn.min(queue.exchanges.len() - 1)];
        let exchange = &self.exchanges[index];
        let whole = !(exchange.answer.omitted || exchange.answer.cut);
        let Some(body) = exchange.answer.bytes().filter(|_| whole) else {
            return not_recorded(format!(
                "patrol replay: the answer to {method} {path} (exchange {}) was recorded \
                 without its body ({} bytes, over the recording's cap of {} bytes or cut short)",
                exchange.seq, exchange.answer.size, self.body_cap
            ));
        };
        let body = if path == GETTOKEN_PATH {
            let corpid = key
                .query
                .iter()
                .find(|(name, _)| name == "corpid")
                .map_or("", |(_, value)| value.as_str());
            self.with_token(body, corpid)
        } else {
            body
        };
        Answer {
            status: exchange.status,
            headers: exchange.headers.clone(),
            body,
        }
    }

    /// gettoken's answer with the replay's token in place of the redacted one.
    fn with_token(&self, body: Vec<u8>, corpid: &str) -> Vec<u8> {
        let Ok(text) = String::from_utf8(body) else {
            return Vec::new();
        };
        let redacted = format!("\"{REDACTED}\"");
        text.replacen(&redacted, &format!("\"{}\"", self.token_for(corpid)), 1)
            .into_bytes()
    }
}

/// The replay's answer to a call it has no recorded answer for: HTTP 404 with WeCom's
/// envelope, errcode 40058 (a client retries none of them).
fn not_recorded(errmsg: String) -> Answer {
    let body = serde_json::json!({ "errcode": 40058, "errmsg": errmsg }).to_string();
    Answer {
        status: 404,
        headers: vec![(
            "content-type".to_owned(),
            "application/json; charset=UTF-8".to_owned(),
        )],
        body: body.into_bytes(),
    }
}

/// The replay's routes: every method and path, answered by [`Replay::answer`].
pub fn router(replay: Arc<Replay>) -> Router {
    Router::new().fallback(replay_call).with_state(replay)
}

async fn replay_call(State(replay): State<Arc<Replay>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = axum::body::to_bytes(body, replay.read_limit()).await.ok();
    let answer = replay.answer(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query(),
        content_type.as_deref(),
        body.as_deref(),
    );
    let mut response = Body::from(answer.body).into_response();
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(
        method: &str,
        path: &str,
        query: Option<&str>,
        body: &str,
        answer: &str,
    ) -> Exchange {
        Exchange {
            seq: 0,
            time: rfc3339_ms(0),
            method: method.into(),
            path: path.into(),
            query: query.map(redact_query_whole),
            request: RecordedBody::capture(None, body.as_bytes(), body.len() as u64, 1024, false),
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            answer: RecordedBody::capture(
                Some("application/json"),
                answer.as_bytes(),
                answer.len() as u64,
                1024,
                false,
            ),
            error: None,
            latency_ms: 1.0,
        }
    }

    fn replay(exchanges: Vec<Exchange>) -> Replay {
        Replay::new(Recording {
            header: Header::new("http://upstream", 1024),
            exchanges,
            truncated: false,
        })
    }

    #[test]
    fn identical_calls_are_answered_in_recorded_order_then_the_last_again() {
        let path = "/cgi-bin/report/patrol/get_order_list";
        let replay = replay(vec![
            exchange(
                "POST",
                path,
                Some("access_token=t1"),
                r#"{"limit":2}"#,
                "first",
            ),
            exchange(
                "POST",
                path,
                Some("access_token=t2"),
                r#"{"limit":2}"#,
                "second",
            ),
            exchange(
                "POST",
                path,
                Some("access_token=t3"),
                r#"{"limit":3}"#,
                "other",
            ),
        ]);
        // Any token; the body compared by value (spaces, key order).
        let call = |body: &str| {
            let answer = replay.answer(
                "POST",
                path,
                Some("access_token=x"),
                None,
                Some(body.as_bytes()),
            );
            String::from_utf8(answer.body).unwrap()
        };
        assert_eq!(call(r#"{ "limit" : 2 }"#), "first");
        assert_eq!(call(r#"{"limit":3}"#), "other");
        assert_eq!(call(r#"{"limit":2}"#), "second");
        assert_eq!(call(r#"{"limit":2}"#), "second");
        // No token is another call; so are another method and another body.
        let answer = replay.answer("POST", path, None, None, Some(br#"{"limit":2}"#));
        assert_eq!(answer.status, 404);
        let text = String::from_utf8(answer.body).unwrap();
        assert!(
            text.contains(r#""errcode":40058"#)
                && text.contains("nothing recorded for POST /cgi-bin/report/patrol/get_order_list with body {\\\"limit\\\":2}"),
            "{text}"
        );
        let answer = replay.answer(
            "GET",
            path,
            Some("access_token=x"),
            None,
            Some(br#"{"limit":2}"#),
        );
        assert_eq!(answer.status, 404);
    }

    #[test]
    fn gettoken_answers_with_a_token_of_the_replay() {
        let answer =
            r#"{"errcode":0,"errmsg":"ok","access_token":"s3cr3t-token","expires_in":7200}"#;
        let recorded = exchange(
            "GET",
            GETTOKEN_PATH,
            Some("corpid=ww1&corpsecret=s3cret"),
            "",
            answer,
        );
        assert_eq!(
            recorded.query.as_deref(),
            Some("corpid=ww1&corpsecret=…redacted…")
        );
        assert!(
            !recorded
                .answer
                .text
                .as_ref()
                .unwrap()
                .contains("s3cr3t-token")
        );
        let replay = replay(vec![recorded]);
        let token = replay.token_for("ww1");
        // Any secret, parameters in any order.
        let answer = replay.answer(
            "GET",
            GETTOKEN_PATH,
            Some("corpsecret=other&corpid=ww1"),
            None,
            Some(b""),
        );
        assert_eq!(
            String::from_utf8(answer.body).unwrap(),
            format!(r#"{{"errcode":0,"errmsg":"ok","access_token":"{token}","expires_in":7200}}"#)
        );
        assert_eq!(token.len(), 64);
    }

    #[test]
    fn media_and_bodies_over_the_cap_match_any_body_and_are_described() {
        let big = RecordedBody::capture(Some("application/json"), b"{}", 5000, 1024, false);
        assert!(big.omitted && big.text.is_none() && big.bytes().is_none());
        let jpeg = RecordedBody::capture(Some("image/jpeg"), &[0xff, 0xd8, 0xff], 3, 1024, false);
        assert_eq!(jpeg.base64.as_deref(), Some("/9j/"));
        assert_eq!(jpeg.bytes().unwrap(), [0xff, 0xd8, 0xff]);
        assert_eq!(jpeg.key(), BodyKey::Any);
        assert_eq!(
            BodyKey::of_request(Some("multipart/form-data; boundary=x"), Some(b"--x")),
            BodyKey::Any
        );
        assert_eq!(BodyKey::of_request(None, None), BodyKey::Any);
        assert_eq!(
            BodyKey::of_request(None, Some(b" ")),
            BodyKey::Json("{}".into())
        );
    }

    #[test]
    fn a_cut_last_line_is_left_out_and_any_other_bad_line_refused() {
        let dir = std::env::temp_dir().join(format!("patrol-recording-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.jsonl");
        let recorder = Recorder::create(&path, &Header::new("http://u", 1024)).unwrap();
        assert!(Recorder::create(&path, &Header::new("http://u", 1024)).is_err());
        for answer in ["one", "two"] {
            recorder
                .write(exchange("POST", "/x", None, "{}", answer))
                .unwrap();
        }
        let whole = std::fs::read(&path).unwrap();
        let recording = read(&path).unwrap();
        assert_eq!((recording.exchanges.len(), recording.truncated), (2, false));
        assert_eq!(recording.exchanges[1].seq, 2);
        // Cut inside the last line.
        std::fs::write(&path, &whole[..whole.len() - 10]).unwrap();
        let recording = read(&path).unwrap();
        assert_eq!((recording.exchanges.len(), recording.truncated), (1, true));
        // A bad line that ends: refused, named.
        let mut bad = whole.clone();
        bad.extend_from_slice(b"{\"seq\":\n");
        std::fs::write(&path, &bad).unwrap();
        let error = read(&path).unwrap_err().to_string();
        assert!(error.contains("line 4 is no exchange"), "{error}");
        // A newer version.
        let newer = String::from_utf8(whole)
            .unwrap()
            .replacen("\"version\":1", "\"version\":2", 1);
        std::fs::write(&path, newer).unwrap();
        let error = read(&path).unwrap_err().to_string();
        assert!(error.contains("version 2"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
