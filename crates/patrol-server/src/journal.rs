//! The request journal: the last calls of this server process, held in memory within a bound of
//! entries and of bytes (docs/admin-api.md, "Journal"; docs/decisions.md, "The request journal").
//!
//! [`record`] is the middleware that makes an entry of every call but the journal's own: it taps
//! the request body as the handler reads it (the first [`BODY_CAP`] bytes are kept), reads the
//! answer when it is JSON or text already in memory (and gives hyper the same chunks back), and
//! files the entry in the [`Journal`], a ring evicting its oldest entries to stay within both
//! bounds. Tokens and secrets are redacted before an entry is filed ([`redact_query`],
//! [`redact_json`]); no header is kept, so neither is the admin key.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame};
use patrol_domain::Clock;
use serde::{Serialize, Serializer};

/// Entries held by default.
pub const DEFAULT_ENTRIES: usize = 1_000;
/// Bytes held by default: 8 MiB.
pub const DEFAULT_BYTES: usize = 8 * 1024 * 1024;
/// The least byte bound of a journal that is on: two whole entries fit in it.
pub const MIN_BYTES: usize = 64 * 1024;
/// Of each body, at most this many bytes are kept; the rest is counted, and the body marked cut.
pub const BODY_CAP: usize = 16 * 1024;
/// A path or a query is kept up to this many characters.
pub const MAX_PATH: usize = 1024;
/// What a token or a secret becomes in an entry.
pub const REDACTED: &str = "…redacted…";
/// The routes of the journal itself, which are not journaled (a reader would flood it).
pub const JOURNAL_PATH: &str = "/admin/v1/journal";
/// A JSON or text answer longer than this is described, not read.
const MAX_READ_ANSWER: u64 = 8 * 1024 * 1024;
/// Query parameters whose values are redacted.
const SECRET_PARAMS: [&str; 2] = ["access_token", "corpsecret"];
/// JSON keys whose string values are redacted, in requests and answers alike.
const SECRET_KEYS: [&str; 4] = ["access_token", "corpsecret", "secret", "admin_key"];

/// The bounds of a journal; 0 for either turns it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub entries: usize,
    pub bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            entries: DEFAULT_ENTRIES,
            bytes: DEFAULT_BYTES,
        }
    }
}

impl Limits {
    /// Whether calls are journaled at all.
    pub fn enabled(&self) -> bool {
        self.entries > 0 && self.bytes > 0
    }
}

/// Which API a call was to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// WeCom's API, `/cgi-bin/…`.
    Wecom,
    /// The administration API, `/admin/v1/…`.
    Admin,
    /// Anything else: served images (`/media/images/…`), unknown paths.
    Other,
}

impl Api {
    fn of(path: &str) -> Api {
        if path.starts_with("/cgi-bin/") {
            Api::Wecom
        } else if path == "/admin/v1" || path.starts_with("/admin/v1/") {
            Api::Admin
        } else {
            Api::Other
        }
    }

    /// The API named in a filter.
    pub fn parse(name: &str) -> Option<Api> {
        match name {
            "wecom" => Some(Api::Wecom),
            "admin" => Some(Api::Admin),
            "other" => Some(Api::Other),
            _ => None,
        }
    }
}

/// A body as the journal keeps it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct BodyRecord {
    /// Its length in bytes: the declared `Content-Length` of a request (else the bytes read),
    /// the bytes of an answer.
    pub size: u64,
    /// Its `Content-Type`, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Its text as far as patrol read it, at most [`BODY_CAP`] bytes, tokens and secrets
    /// redacted; `null` for a body that is not text (media), which is only described.
    pub text: Option<String>,
    /// Whether `text` stops at [`BODY_CAP`] bytes before the end of what was read.
    pub cut: bool,
}

impl BodyRecord {
    fn held(&self) -> usize {
        self.content_type.as_ref().map_or(0, String::capacity)
            + self.text.as_ref().map_or(0, String::capacity)
    }
}

/// One call.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Entry {
    /// Increasing from 1 in this server process; never reused, not even after a clear.
    pub id: u64,
    /// When the call came, on the server's clock (Unix seconds).
    pub time: i64,
    /// When the call came, on the system's clock, as RFC 3339 with milliseconds.
    #[serde(serialize_with = "rfc3339_ms")]
    #[schema(value_type = String, format = DateTime)]
    pub wall_time: i64,
    pub api: Api,
    /// The request id of a WeCom error (the one in `errmsg`'s hint and in the log line).
    pub request_id: Option<String>,
    pub method: String,
    pub path: String,
    /// The query string, tokens and secrets redacted.
    pub query: Option<String>,
    /// The corp: the caller's (from its token), gettoken's `corpid`, or the corp in an
    /// administration path.
    #[serde(serialize_with = "once")]
    #[schema(value_type = Option<String>)]
    pub corp: OnceLock<String>,
    /// The store's key of the caller's corp, resolved to its corpid when the entry is read.
    #[serde(skip)]
    pub corp_key: Option<i64>,
    /// The calling app, from its token.
    pub agentid: Option<i64>,
    /// The HTTP status; `null` when the call ended before an answer (timed out, or the client
    /// went away).
    pub status: Option<u16>,
    /// The WeCom errcode of an answer under `/cgi-bin/`: 0 for a success.
    pub errcode: Option<i64>,
    /// From the request's arrival to its answer's head, in microseconds.
    pub latency_us: u64,
    pub request_body: BodyRecord,
    /// `null` when there was no answer.
    pub response_body: Option<BodyRecord>,
    /// The fault a rule applied to the call (`fault.rs`): `rule 3: errcode -1`.
    pub fault: Option<String>,
    /// The bytes this entry holds, as accounted.
    #[serde(skip)]
    held: usize,
}

pub(crate) fn rfc3339_ms<S: Serializer>(ms: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    match jiff::Timestamp::from_millisecond(*ms) {
        Ok(time) => serializer.collect_str(&time),
        Err(_) => serializer.serialize_i64(*ms),
    }
}

fn once<S: Serializer>(value: &OnceLock<String>, serializer: S) -> Result<S::Ok, S::Error> {
    value.get().serialize(serializer)
}

/// The longest corpid, reserved in an entry's bytes for one resolved later.
const MAX_CORPID: usize = 64;

impl Entry {
    /// The bytes held: the entry, its slot in the ring, and every text it owns.
    fn account(&mut self) {
        let texts = self.request_id.as_ref().map_or(0, String::capacity)
            + self.method.capacity()
            + self.path.capacity()
            + self.query.as_ref().map_or(0, String::capacity)
            + self.corp.get().map_or(0, String::capacity)
            + self.fault.as_ref().map_or(0, String::capacity)
            + if self.corp_key.is_some() {
                MAX_CORPID
            } else {
                0
            }
            + self.request_body.held()
            + self.response_body.as_ref().map_or(0, BodyRecord::held);
        // The Arc's two counters, and the ring's pointer to it.
        self.held = size_of::<Entry>() + 3 * size_of::<usize>() + texts;
    }

    /// The bytes this entry holds.
    pub fn held(&self) -> usize {
        self.held
    }
}

/// What the journal holds and has dropped, at one moment.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Usage {
    /// Entries held.
    pub held: usize,
    /// Bytes held.
    pub bytes: usize,
    /// Entries evicted (oldest first) to stay within the bounds, since the server started.
    pub dropped: u64,
    /// The id of the last entry filed; 0 before the first.
    pub last_id: u64,
    pub limit_entries: usize,
    pub limit_bytes: usize,
}

#[derive(Debug)]
struct Ring {
    entries: VecDeque<Arc<Entry>>,
    bytes: usize,
    next_id: u64,
    dropped: u64,
}

/// The ring of entries of one server process.
#[derive(Debug)]
pub struct Journal {
    limits: Limits,
    clock: Clock,
    ring: Mutex<Ring>,
    /// Wakes the live streams when an entry is filed or the server stops.
    added: tokio::sync::Notify,
    streams: AtomicUsize,
    closed: AtomicBool,
}

/// Entries after an id, and how many after it are no longer held.
#[derive(Debug)]
pub struct Since {
    pub entries: Vec<Arc<Entry>>,
    /// Entries after the id that were evicted or cleared before being read.
    pub missed: u64,
    pub usage: Usage,
}

impl Journal {
    pub fn new(limits: Limits, clock: Clock) -> Journal {
        Journal {
            limits,
            clock,
            ring: Mutex::new(Ring {
                entries: VecDeque::new(),
                bytes: 0,
                next_id: 1,
                dropped: 0,
            }),
            added: tokio::sync::Notify::new(),
            streams: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Files an entry, giving it the next id, and evicts the oldest entries until both bounds
    /// hold again.
    pub fn push(&self, mut entry: Entry) {
        if !self.limits.enabled() {
            return;
        }
        entry.account();
        let held = entry.held;
        let mut entry = Arc::new(entry);
        let evicted = {
            let mut ring = self.ring();
            let id = ring.next_id;
            ring.next_id += 1;
            Arc::get_mut(&mut entry)
                .expect("an entry is not shared before it is filed")
                .id = id;
            ring.entries.push_back(entry);
            ring.bytes += held;
            let mut evicted = None;
            while ring.entries.len() > self.limits.entries || ring.bytes > self.limits.bytes {
                let Some(oldest) = ring.entries.pop_front() else {
                    break;
                };
                ring.bytes -= oldest.held;
                ring.dropped += 1;
                // Freed after the lock is let go (the last one; the others, rarely more, here).
                evicted = Some(oldest);
            }
            evicted
        };
        drop(evicted);
        if self.streams.load(Ordering::Relaxed) > 0 {
            self.added.notify_waiters();
        }
    }

    fn usage_of(&self, ring: &Ring) -> Usage {
        Usage {
            held: ring.entries.len(),
            bytes: ring.bytes,
            dropped: ring.dropped,
            last_id: ring.next_id - 1,
            limit_entries: self.limits.entries,
            limit_bytes: self.limits.bytes,
        }
    }

    /// What the journal holds now.
    pub fn usage(&self) -> Usage {
        let ring = self.ring();
        self.usage_of(&ring)
    }

    /// Every entry held, oldest first.
    pub fn all(&self) -> (Vec<Arc<Entry>>, Usage) {
        let ring = self.ring();
        (ring.entries.iter().cloned().collect(), self.usage_of(&ring))
    }

    /// At most `max` entries after the id `since`, oldest first.
    pub fn since(&self, since: u64, max: usize) -> Since {
        let ring = self.ring();
        let first = ring.entries.front().map_or(ring.next_id, |entry| entry.id);
        let missed = first.saturating_sub(since.saturating_add(1));
        let skip =
            usize::try_from(since.saturating_add(1).saturating_sub(first)).unwrap_or(usize::MAX);
        let entries = ring.entries.iter().skip(skip).take(max).cloned().collect();
        Since {
            entries,
            missed,
            usage: self.usage_of(&ring),
        }
    }

    /// Forgets every entry (ids go on from where they were).
    pub fn clear(&self) {
        let entries = {
            let mut ring = self.ring();
            ring.bytes = 0;
            std::mem::take(&mut ring.entries)
        };
        drop(entries);
    }

    /// A live stream is reading: [`Journal::push`] wakes it from now on, until it is dropped.
    pub fn subscribe(self: &Arc<Journal>) -> Subscription {
        self.streams.fetch_add(1, Ordering::Relaxed);
        Subscription {
            journal: Arc::clone(self),
        }
    }

    /// The server stops: live streams end.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.added.notify_waiters();
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }
}

/// A live stream's hold on the journal; see [`Journal::subscribe`].
#[derive(Debug)]
pub struct Subscription {
    journal: Arc<Journal>,
}

impl Subscription {
    pub fn journal(&self) -> &Arc<Journal> {
        &self.journal
    }

    /// Waits until an entry after `last` is filed or the server stops.
    pub async fn changed(&self, last: u64) {
        let notified = self.journal.added.notified();
        let mut notified = std::pin::pin!(notified);
        notified.as_mut().enable();
        if self.journal.is_closed() || self.journal.usage().last_id > last {
            return;
        }
        notified.await;
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.journal.streams.fetch_sub(1, Ordering::Relaxed);
    }
}

// ---------------------------------------------------------------------------------------------
// Recording

/// What the handlers tell the journal about a call: set through the request's extensions.
#[derive(Debug, Default)]
pub struct Tap {
    /// The caller's corp key and agentid, once its token is checked.
    caller: OnceLock<(i64, i64)>,
    /// The fault applied, described.
    fault: OnceLock<String>,
    request: Mutex<Captured>,
}

#[derive(Debug, Default)]
struct Captured {
    read: u64,
    head: Vec<u8>,
}

impl Tap {
    fn take(&self) -> Captured {
        std::mem::take(
            &mut self
                .request
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

/// Tells the journal, if it records this call, which fault a rule applied to it.
pub fn note_fault(extensions: &axum::http::Extensions, fault: &str) {
    if let Some(tap) = extensions.get::<Arc<Tap>>() {
        let _ = tap
            .fault
            .set(patrol_wire::echo::bounded(fault, 256).into_owned());
    }
}

/// Tells the journal, if it records this call, which app made it.
pub fn note_caller(extensions: &axum::http::Extensions, caller: &patrol_domain::Caller) {
    if let Some(tap) = extensions.get::<Arc<Tap>>() {
        let _ = tap.caller.set((caller.corp_key, caller.agentid));
    }
}

/// What the envelope tells the journal about a WeCom error: its request id and errcode.
#[derive(Debug, Clone)]
pub struct ErrorNote {
    pub request_id: String,
    pub errcode: i64,
}

/// A request body that keeps the first [`BODY_CAP`] bytes read through it.
struct TapBody {
    inner: Body,
    tap: Arc<Tap>,
}

impl HttpBody for TapBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            let rest = self.inner.size_hint().lower();
            let mut captured = self
                .tap
                .request
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            captured.read += data.len() as u64;
            let room = (BODY_CAP + 1).saturating_sub(captured.head.len());
            if room > 0 {
                if captured.head.capacity() == 0 {
                    // What is kept is accounted by its capacity: no more than it needs.
                    let expected = (data.len() as u64).saturating_add(rest);
                    captured
                        .head
                        .reserve_exact(usize::try_from(expected).unwrap_or(room).min(room));
                }
                captured
                    .head
                    .extend_from_slice(&data[..room.min(data.len())]);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether a body of this content type is kept as text (JSON is read whatever the type, so only
/// what is plainly not text is described instead); the recorder's rule too
/// (`crate::recording`).
pub(crate) fn textual(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return true;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    !(essence.starts_with("multipart/")
        || essence.starts_with("image/")
        || essence.starts_with("video/")
        || essence.starts_with("audio/")
        || essence == "application/octet-stream")
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(|value| patrol_wire::echo::bounded(value, 256).into_owned())
}

/// The kept text of a body: `head` (up to [`BODY_CAP`] + 1 bytes) cut at [`BODY_CAP`] on a
/// character boundary, redacted; `None` when it is not UTF-8. The text is `head`'s own buffer
/// unless something was redacted.
fn text_of(mut head: Vec<u8>) -> (Option<String>, bool) {
    let cut = head.len() > BODY_CAP;
    head.truncate(BODY_CAP);
    if let Err(error) = std::str::from_utf8(&head) {
        // A character split by the cut.
        if cut && error.error_len().is_none() {
            head.truncate(error.valid_up_to());
        } else {
            return (None, false);
        }
    }
    let Ok(text) = String::from_utf8(head) else {
        return (None, false);
    };
    let text = match redact_json(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(redacted) => redacted,
    };
    (Some(text), cut)
}

/// What the middleware knows of a call before its answer; filed as an unanswered call if the
/// call ends without one (the request timed out, or the client went away).
struct Pending {
    journal: Arc<Journal>,
    started: Instant,
    entry: Option<Entry>,
    tap: Arc<Tap>,
    request_type: Option<String>,
    declared: Option<u64>,
}

impl Pending {
    /// The entry, its request body and caller filled in from the tap.
    fn complete(&mut self) -> Option<Entry> {
        let mut entry = self.entry.take()?;
        entry.latency_us = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let captured = self.tap.take();
        let (text, cut) = if textual(self.request_type.as_deref()) {
            text_of(captured.head)
        } else {
            (None, false)
        };
        entry.request_body = BodyRecord {
            size: self.declared.unwrap_or(captured.read),
            content_type: self.request_type.take(),
            text,
            cut,
        };
        entry.fault = self.tap.fault.get().cloned();
        if let Some(&(corp_key, agentid)) = self.tap.caller.get() {
            entry.corp_key = Some(corp_key);
            entry.agentid = Some(agentid);
        }
        Some(entry)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(entry) = self.complete() {
            self.journal.push(entry);
        }
    }
}

/// The middleware: journals every call but the journal's own (see the module's docs).
pub async fn record(State(journal): State<Arc<Journal>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !journal.limits.enabled() || path.starts_with(JOURNAL_PATH) {
        return next.run(request).await;
    }
    let started = Instant::now();
    let (mut parts, body) = request.into_parts();
    let path = parts.uri.path();
    let api = Api::of(path);
    let corp = OnceLock::new();
    if let Some(corpid) = named_corp(api, path, parts.uri.query()) {
        let _ = corp.set(corpid);
    }
    let entry = Entry {
        id: 0,
        time: journal.clock.now(),
        wall_time: wall_ms(),
        api,
        request_id: None,
        method: parts.method.as_str().to_owned(),
        path: patrol_wire::echo::bounded(path, MAX_PATH).into_owned(),
        query: parts.uri.query().map(redact_query),
        corp,
        corp_key: None,
        agentid: None,
        status: None,
        errcode: None,
        latency_us: 0,
        request_body: BodyRecord {
            size: 0,
            content_type: None,
            text: None,
            cut: false,
        },
        response_body: None,
        fault: None,
        held: 0,
    };
    let tap = Arc::new(Tap::default());
    parts.extensions.insert(Arc::clone(&tap));
    let mut pending = Pending {
        journal: Arc::clone(&journal),
        started,
        entry: Some(entry),
        tap: Arc::clone(&tap),
        request_type: header_text(&parts.headers, header::CONTENT_TYPE),
        declared: parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok()),
    };
    let body = Body::new(TapBody { inner: body, tap });
    let mut response = next.run(Request::from_parts(parts, body)).await;
    let Some(mut entry) = pending.complete() else {
        return response;
    };
    entry.status = Some(response.status().as_u16());
    if let Some(note) = response.extensions_mut().remove::<ErrorNote>() {
        entry.request_id = Some(note.request_id);
        entry.errcode = Some(note.errcode);
    }
    let (response, answer) = read_answer(response).await;
    if api == Api::Wecom
        && entry.errcode.is_none()
        && entry.status == Some(200)
        && answer.text.is_some()
    {
        entry.errcode = Some(0);
    }
    entry.response_body = Some(answer);
    journal.push(entry);
    response
}

/// The corp a call names by its id: gettoken's `corpid`, or the corp of an administration path.
fn named_corp(api: Api, path: &str, query: Option<&str>) -> Option<String> {
    let corpid = match api {
        Api::Wecom if path == "/cgi-bin/gettoken" => crate::extract::query_value(query, "corpid")?,
        Api::Admin => path
            .strip_prefix("/admin/v1/corps/")?
            .split('/')
            .next()?
            .to_owned(),
        _ => return None,
    };
    (!corpid.is_empty()).then(|| patrol_wire::echo::bounded(&corpid, MAX_CORPID).into_owned())
}

/// The system's time in Unix milliseconds.
pub(crate) fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Reads an answer that is JSON or text already in memory (its exact length known and at most
/// [`MAX_READ_ANSWER`]) and gives it back as the same chunks; any other answer (a file being
/// streamed, media) is only described.
async fn read_answer(response: Response) -> (Response, BodyRecord) {
    use http_body_util::BodyExt;
    let content_type = header_text(response.headers(), header::CONTENT_TYPE);
    let exact = response.body().size_hint().exact();
    let readable = content_type.is_some() && textual(content_type.as_deref()) || exact == Some(0);
    let Some(size) = exact.filter(|&size| readable && size <= MAX_READ_ANSWER) else {
        let size = exact
            .or_else(|| {
                response
                    .headers()
                    .get(header::CONTENT_LENGTH)?
                    .to_str()
                    .ok()?
                    .parse()
                    .ok()
            })
            .unwrap_or(0);
        let record = BodyRecord {
            size,
            content_type,
            text: None,
            cut: false,
        };
        return (response, record);
    };
    let (parts, mut body) = response.into_parts();
    let mut chunks = VecDeque::new();
    let mut failed = None;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    chunks.push_back(data);
                }
            }
            Err(error) => {
                failed = Some(error);
                break;
            }
        }
    }
    let mut head = Vec::with_capacity(BODY_CAP.min(usize::try_from(size).unwrap_or(BODY_CAP)) + 1);
    for chunk in &chunks {
        let room = (BODY_CAP + 1).saturating_sub(head.len());
        if room == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..room.min(chunk.len())]);
    }
    let (text, cut) = text_of(head);
    let record = BodyRecord {
        size,
        content_type,
        text,
        cut,
    };
    let body = match failed {
        None => Body::new(crate::handlers::Chunks::new(chunks)),
        // An answer that failed while read fails the same way for the client.
        Some(error) => Body::from_stream(futures_util::stream::iter(
            chunks
                .into_iter()
                .map(Ok)
                .chain(std::iter::once(Err(error))),
        )),
    };
    (Response::from_parts(parts, body), record)
}

// ---------------------------------------------------------------------------------------------
// Redaction

/// A query string with the values of `access_token` and `corpsecret` redacted (their names read
/// as WeCom reads them, percent-decoded), cut at [`MAX_PATH`] characters.
pub fn redact_query(query: &str) -> String {
    patrol_wire::echo::bounded(&redact_query_whole(query), MAX_PATH).into_owned()
}

/// [`redact_query`] without the cut: the whole query string, its secrets redacted (what a
/// recording keeps, `crate::recording`).
pub fn redact_query_whole(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    for (index, pair) in query.split('&').enumerate() {
        if index > 0 {
            out.push('&');
        }
        let (name, _) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = form_urlencoded::parse(name.as_bytes())
            .next()
            .map(|(key, _)| key);
        if decoded.is_some_and(|key| SECRET_PARAMS.contains(&key.as_ref())) {
            out.push_str(name);
            out.push('=');
            out.push_str(REDACTED);
        } else {
            out.push_str(pair);
        }
    }
    out
}

/// JSON text (perhaps cut) with the string values of the keys `access_token`, `corpsecret`,
/// `secret` and `admin_key` redacted, wherever they are; the rest as it is.
pub fn redact_json(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let suspect = |needle: &[u8]| memchr::memmem::find(bytes, needle).is_some();
    if !(suspect(b"token") || suspect(b"secret") || suspect(b"key") || suspect(b"\\u")) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] != b'"' {
            index += 1;
            continue;
        }
        let start = index + 1;
        let end = string_end(bytes, start);
        let key = &text[start..end];
        index = end + 1;
        let mut next = index;
        while next < bytes.len() && bytes[next].is_ascii_whitespace() {
            next += 1;
        }
        if next >= bytes.len() || bytes[next] != b':' || !secret_key(key) {
            continue;
        }
        next += 1;
        while next < bytes.len() && bytes[next].is_ascii_whitespace() {
            next += 1;
        }
        if next < bytes.len() && bytes[next] == b'"' {
            let value_start = next + 1;
            let value_end = string_end(bytes, value_start);
            out.push_str(&text[copied..value_start]);
            out.push_str(REDACTED);
            copied = value_end;
            index = value_end + 1;
        }
    }
    if copied == 0 {
        // Suspected, but nothing to redact.
        return std::borrow::Cow::Borrowed(text);
    }
    out.push_str(&text[copied.min(text.len())..]);
    std::borrow::Cow::Owned(out)
}

/// The index of the quote closing a JSON string that starts at `start`, or the end of a text cut
/// inside the string.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut index = start;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'"' => return index,
            _ => index += 1,
        }
    }
    bytes.len()
}

/// Whether a JSON key (its text between the quotes) names a secret, escapes decoded.
fn secret_key(raw: &str) -> bool {
    if raw.contains('\\') {
        let decoded: Option<String> = serde_json::from_str(&format!("\"{raw}\"")).ok();
        decoded.is_some_and(|key| SECRET_KEYS.contains(&key.as_str()))
    } else {
        SECRET_KEYS.contains(&raw)
    }
}

// ---------------------------------------------------------------------------------------------
// Filters

/// What a reader asks of the entries; every field given must match.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// On the server's clock, at or after (Unix seconds).
    pub since_time: Option<i64>,
    /// A glob: `*` any characters, `?` one.
    pub path: Option<String>,
    pub corp: Option<String>,
    pub agentid: Option<i64>,
    pub errcode: Option<i64>,
    pub status: Option<u16>,
    pub request_id: Option<String>,
    pub api: Option<Api>,
    pub method: Option<String>,
}

impl Filter {
    pub fn matches(&self, entry: &Entry) -> bool {
        self.since_time.is_none_or(|time| entry.time >= time)
            && self
                .path
                .as_deref()
                .is_none_or(|pattern| glob(pattern.as_bytes(), entry.path.as_bytes()))
            && self
                .corp
                .as_deref()
                .is_none_or(|corp| entry.corp.get().is_some_and(|c| c == corp))
            && self.agentid.is_none_or(|a| entry.agentid == Some(a))
            && self.errcode.is_none_or(|e| entry.errcode == Some(e))
            && self.status.is_none_or(|s| entry.status == Some(s))
            && self
                .request_id
                .as_deref()
                .is_none_or(|r| entry.request_id.as_deref() == Some(r))
            && self.api.is_none_or(|api| entry.api == api)
            && self
                .method
                .as_deref()
                .is_none_or(|m| entry.method.eq_ignore_ascii_case(m))
    }
}

/// Whether `text` matches `pattern`, where `*` stands for any characters and `?` for one byte.
/// Linear backtracking on the last `*`: no pattern takes more than |pattern| × |text| steps.
pub fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(body: usize) -> Entry {
        Entry {
            id: 0,
            time: 1,
            wall_time: 0,
            api: Api::Wecom,
            request_id: None,
            method: "POST".into(),
            path: "/cgi-bin/x".into(),
            query: None,
            corp: OnceLock::new(),
            corp_key: None,
            agentid: None,
            status: Some(200),
            errcode: Some(0),
            latency_us: 1,
            request_body: BodyRecord {
                size: body as u64,
                content_type: None,
                text: Some("x".repeat(body)),
                cut: false,
            },
            response_body: None,
            fault: None,
            held: 0,
        }
    }

    #[test]
    fn the_ring_holds_its_bounds_and_evicts_the_oldest() {
        let journal = Journal::new(
            Limits {
                entries: 10,
                bytes: 20_000,
            },
            Clock::system(),
        );
        let mut sizes = VecDeque::new();
        for n in 0..200 {
            let mut probe = entry(n * 37 % 3000);
            probe.account();
            sizes.push_back(probe.held());
            journal.push(entry(n * 37 % 3000));
            let usage = journal.usage();
            let (entries, _) = journal.all();
            assert!(usage.held <= 10 && usage.bytes <= 20_000, "{usage:?}");
            // The accounting is the sum of what the entries held.
            assert_eq!(usage.bytes, entries.iter().map(|e| e.held()).sum::<usize>());
            assert_eq!(usage.held, entries.len());
            // The newest entries are kept, in order, without a gap.
            let ids: Vec<u64> = entries.iter().map(|e| e.id).collect();
            assert_eq!(ids.last(), Some(&(n as u64 + 1)));
            assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
            assert_eq!(usage.dropped + entries.len() as u64, n as u64 + 1);
        }
        // Reading after an evicted id tells how many were missed.
        let since = journal.since(5, 3);
        let first = journal.all().0[0].id;
        assert_eq!(since.missed, first - 6);
        assert_eq!(since.entries.len(), 3);
        assert_eq!(since.entries[0].id, first);
        let last = journal.usage().last_id;
        assert!(journal.since(last, 10).entries.is_empty());
        assert_eq!(journal.since(last, 10).missed, 0);

        journal.clear();
        let usage = journal.usage();
        assert_eq!((usage.held, usage.bytes, usage.last_id), (0, 0, 200));
        journal.push(entry(1));
        assert_eq!(journal.all().0[0].id, 201, "ids are not reused");
    }

    #[test]
    fn a_disabled_journal_holds_nothing() {
        for limits in [
            Limits {
                entries: 0,
                bytes: 1 << 20,
            },
            Limits {
                entries: 10,
                bytes: 0,
            },
        ] {
            let journal = Journal::new(limits, Clock::system());
            journal.push(entry(10));
            assert_eq!(journal.usage().held, 0);
            assert_eq!(journal.usage().last_id, 0);
        }
    }

    #[test]
    fn secrets_are_redacted_in_queries() {
        assert_eq!(
            redact_query("corpid=ww1&corpsecret=s3cret&x=1"),
            "corpid=ww1&corpsecret=…redacted…&x=1"
        );
        assert_eq!(
            redact_query("access%5Ftoken=t0k&access_token=t1k&token=keep"),
            "access%5Ftoken=…redacted…&access_token=…redacted…&token=keep"
        );
        assert_eq!(redact_query("access_token"), "access_token=…redacted…");
        assert_eq!(redact_query(""), "");
    }

    #[test]
    fn secrets_are_redacted_in_json_keeping_its_shape() {
        assert_eq!(
            redact_json(r#"{"errcode":0,"access_token":"t0k","expires_in":7200}"#),
            r#"{"errcode":0,"access_token":"…redacted…","expires_in":7200}"#
        );
        assert_eq!(
            redact_json(r#"{"agentid":1, "secret" : "a\"b","name":"secret"}"#),
            r#"{"agentid":1, "secret" : "…redacted…","name":"secret"}"#
        );
        // A key spelled with escapes is the same key; a value that looks like a key is not one.
        assert_eq!(
            redact_json(r#"{"secr\u0065t":"s","d":"\"secret\":\"x\""}"#),
            r#"{"secr\u0065t":"…redacted…","d":"\"secret\":\"x\""}"#
        );
        // A text cut inside the secret.
        assert_eq!(
            redact_json(r#"{"corpsecret":"abc"#),
            r#"{"corpsecret":"…redacted…"#
        );
        let plain = r#"{"order_id":"o1","desc":"井盖"}"#;
        assert_eq!(redact_json(plain), plain);
    }

    #[test]
    fn bodies_are_cut_on_a_character_boundary() {
        let text = "巡".repeat(BODY_CAP); // 3 bytes each
        let (kept, cut) = text_of(text.as_bytes()[..BODY_CAP + 1].to_vec());
        let kept = kept.unwrap();
        assert!(cut);
        assert!(kept.len() <= BODY_CAP && kept.len() > BODY_CAP - 3);
        assert!(kept.chars().all(|c| c == '巡'));
        assert_eq!(text_of(b"{}".to_vec()), (Some("{}".to_owned()), false));
        assert_eq!(text_of(vec![0xff, 0xfe]), (None, false));
    }

    #[test]
    fn globs_match_paths() {
        assert!(glob(b"/cgi-bin/*", b"/cgi-bin/gettoken"));
        assert!(glob(
            b"*get_order_*",
            b"/cgi-bin/report/patrol/get_order_info"
        ));
        assert!(glob(b"/cgi-bin/gettoke?", b"/cgi-bin/gettoken"));
        assert!(!glob(b"/cgi-bin/gettoken", b"/cgi-bin/gettokens"));
        assert!(!glob(b"/admin/*", b"/cgi-bin/gettoken"));
        assert!(glob(b"*", b""));
        assert!(glob(b"*a*a*a", &[b'a'; 200]));
        assert!(!glob(b"*a*b", &[b'a'; 200]));
    }
}
