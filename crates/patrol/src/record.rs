//! `patrol record` and `patrol replay`: a reverse proxy in front of an upstream (WeCom, or
//! another patrol) that records every call and its answer, tokens and secrets redacted; the
//! recording served back; and a recording turned into seed data (a snapshot).
//!
//! The file, its redaction, the matching of calls and the seed data are
//! `patrol_server::recording`'s; this module forwards, streams and runs the commands.
//!
//! The proxy streams both bodies (nothing is held but the first `--body-cap` bytes of each, for
//! the recording), so its memory is bounded by its connections (at most [`MAX_CONNECTIONS`])
//! times twice the cap. An exchange's line is written once its answer has passed, with one
//! write: a recorder stopped at any moment loses at most that line.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clap::Args;
use futures_util::{Stream, StreamExt};
use patrol_server::recording::{
    self, DEFAULT_BODY_CAP, Exchange, Header, KEPT_HEADERS, MAX_BODY_CAP, RecordedBody, Recorder,
    Replay,
};
use secrecy::{ExposeSecret, SecretString};

use crate::settings::{self, Layer};

/// The address `patrol record` and `patrol replay` listen on by default (beside a patrol on
/// 8080).
const DEFAULT_LISTEN: &str = "127.0.0.1:8081";
/// Connections the recorder serves at once (each holds at most two bodies' caps).
const MAX_CONNECTIONS: usize = 64;
/// Connections the replay serves at once.
const REPLAY_CONNECTIONS: usize = 1024;
/// Headers of one hop, never forwarded (RFC 9110, 7.6.1), and the request's host.
const HOP_HEADERS: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

#[derive(Debug, Args)]
pub(crate) struct RecordArgs {
    /// Where the calls go: WeCom (`https://qyapi.weixin.qq.com`) or another patrol
    /// (`http://127.0.0.1:8080`). A path in it prefixes every call's.
    #[arg(long, value_name = "URL")]
    upstream: String,
    /// The recording to write: a new file (an existing one is never overwritten), one JSON line
    /// per exchange after a header line.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The address to listen on (HOST:PORT, :PORT or PORT); point the client's base URL at it.
    #[arg(long, value_name = "HOST:PORT", default_value = DEFAULT_LISTEN)]
    listen: String,
    /// Of each body, at most this many bytes are recorded (a longer one is forwarded whole and
    /// recorded by its size only; replay cannot answer it).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_BODY_CAP,
          value_parser = clap::value_parser!(u64).range(0..=MAX_BODY_CAP))]
    body_cap: u64,
    /// Seconds the upstream has to begin its answer; past it, or when it cannot be reached, the
    /// client gets HTTP 502 with errcode -1 (recorded too).
    #[arg(long, value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    upstream_timeout: u64,
}

#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// The recording made by `patrol record`.
    file: PathBuf,
    /// The address to listen on (HOST:PORT, :PORT or PORT).
    #[arg(long, value_name = "HOST:PORT", default_value = DEFAULT_LISTEN)]
    listen: String,
    /// Instead of serving the recording, write its seed data as a snapshot to OUT (one corp: its
    /// grids, categories, users, orders and the media fetched whole, and one app), for `patrol
    /// snapshot load` or `patrol serve --snapshot`.
    #[arg(long, value_name = "OUT")]
    to_snapshot: Option<PathBuf>,
    /// With --to-snapshot: the secret of the snapshot's app, which its clients call gettoken
    /// with (the recording holds none); unused otherwise.
    #[arg(
        long,
        env = "PATROL_CORPSECRET",
        value_name = "SECRET",
        hide_env_values = true,
        value_parser = settings::secret
    )]
    corpsecret: Option<SecretString>,
    /// With --to-snapshot: the agentid of the snapshot's app.
    #[arg(
        long,
        value_name = "AGENTID",
        default_value_t = 1_000_001,
        requires = "to_snapshot"
    )]
    agentid: i64,
    /// With --to-snapshot: the corp, when the recording holds no gettoken call (else it must
    /// be the recorded corp).
    #[arg(long, value_name = "CORPID", requires = "to_snapshot")]
    corpid: Option<String>,
}

impl RecordArgs {
    /// No setting of the config file applies: everything is named by flags.
    pub(crate) fn flags(&self) -> Layer {
        Layer::default()
    }
}

impl ReplayArgs {
    /// No setting of the config file applies: everything is named by flags.
    pub(crate) fn flags(&self) -> Layer {
        Layer::default()
    }
}

// ---------------------------------------------------------------------------------------------
// patrol record

/// What the proxy's handler shares.
struct Proxy {
    /// The upstream's base URL, without a trailing slash.
    upstream: String,
    http: reqwest::Client,
    recorder: Recorder,
    timeout: Duration,
}

/// A listener on `--listen`, which takes the forms of `patrol serve --listen`.
async fn listen(text: &str) -> anyhow::Result<tokio::net::TcpListener> {
    let addresses = settings::listen_addresses(text)
        .map_err(|problem| anyhow::anyhow!("{problem} (set by --listen)"))?;
    settings::bind(&addresses, text, "--listen").await
}

#[allow(clippy::print_stdout)]
pub(crate) async fn record(args: RecordArgs) -> anyhow::Result<()> {
    let upstream = args.upstream.trim_end_matches('/').to_owned();
    let parsed = reqwest::Url::parse(&upstream)
        .with_context(|| format!("--upstream {upstream:?} is no URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        anyhow::bail!("--upstream {upstream:?} is neither http:// nor https://");
    }
    let listener = listen(&args.listen).await?;
    let recorder = Recorder::create(&args.out, &Header::new(&upstream, args.body_cap))
        .with_context(|| format!("cannot create the recording {}", args.out.display()))?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .build()
        .context("cannot build the HTTP client")?;
    let proxy = Arc::new(Proxy {
        upstream: upstream.clone(),
        http,
        recorder,
        timeout: Duration::from_secs(args.upstream_timeout),
    });
    let router = Router::new()
        .fallback(forward)
        .with_state(Arc::clone(&proxy));
    println!(
        "patrol record is listening on http://{}",
        listener.local_addr()?
    );
    println!("  forwarding to {upstream}");
    println!("  recording to  {}", args.out.display());
    patrol_server::connections::serve_router(
        listener,
        router,
        MAX_CONNECTIONS,
        crate::serve::shutdown_signal(),
    )
    .await;
    println!(
        "recorded {} exchanges to {}",
        proxy.recorder.written(),
        args.out.display()
    );
    Ok(())
}

/// The first bytes of a body streaming past, up to a cap, and its size.
struct Tap {
    head: Mutex<Vec<u8>>,
    size: AtomicU64,
    cap: usize,
    /// The stream failed before its end.
    failed: AtomicBool,
    /// The body's declared length (`Content-Length`), when it had one.
    declared: Option<u64>,
}

impl Tap {
    fn new(cap: u64, declared: Option<u64>) -> Arc<Tap> {
        Arc::new(Tap {
            declared,
            head: Mutex::new(Vec::new()),
            size: AtomicU64::new(0),
            cap: usize::try_from(cap).unwrap_or(usize::MAX),
            failed: AtomicBool::new(false),
        })
    }

    fn see(&self, chunk: &[u8]) {
        self.size.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        let mut head = self.head.lock().unwrap_or_else(PoisonError::into_inner);
        let room = self.cap.saturating_sub(head.len());
        if room > 0 {
            head.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
    }

    /// The body as recorded.
    fn recorded(&self, content_type: Option<&str>, cap: u64, cut: bool) -> RecordedBody {
        let size = self.size.load(Ordering::Relaxed);
        // Failed, or ended before its declared length (a request the upstream never read all of).
        let cut = cut
            || self.failed.load(Ordering::Relaxed)
            || self.declared.is_some_and(|declared| size < declared);
        let head = self.head.lock().unwrap_or_else(PoisonError::into_inner);
        RecordedBody::capture(content_type, &head, size, cap, cut)
    }
}

/// A body stream whose bytes pass through a tap.
fn tapped<S, E>(stream: S, tap: Arc<Tap>) -> impl Stream<Item = Result<Bytes, E>> + Send
where
    S: Stream<Item = Result<Bytes, E>> + Send,
{
    stream.map(move |chunk| {
        match &chunk {
            Ok(bytes) => tap.see(bytes),
            Err(_) => tap.failed.store(true, Ordering::Relaxed),
        }
        chunk
    })
}

/// An exchange waiting for its answer's body to pass.
struct Pending {
    proxy: Arc<Proxy>,
    exchange: Exchange,
    started: Instant,
    request: Arc<Tap>,
    request_type: Option<String>,
    answer: Arc<Tap>,
    answer_type: Option<String>,
}

impl Pending {
    /// Writes the exchange's line.
    fn finish(mut self, complete: bool) {
        let cap = self.proxy.recorder.body_cap();
        self.exchange.request = self
            .request
            .recorded(self.request_type.as_deref(), cap, false);
        self.exchange.answer = self
            .answer
            .recorded(self.answer_type.as_deref(), cap, !complete);
        self.exchange.latency_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        if let Err(error) = self.proxy.recorder.write(self.exchange) {
            tracing::error!(%error, "cannot write to the recording");
        }
    }
}

/// The answer's body on its way to the client: the exchange is recorded once it has passed
/// (its declared length reached, or its end), or when it is dropped early (recorded as cut).
struct RecordedAnswer<S> {
    inner: Pin<Box<S>>,
    pending: Option<Pending>,
    expected: Option<u64>,
}

impl<S> RecordedAnswer<S> {
    /// Records the exchange, once: complete when the stream ended, or when its declared length
    /// passed (hyper drops a body of known length without polling its end, or at all when
    /// empty).
    fn finish(&mut self, ended: bool) {
        if let Some(pending) = self.pending.take() {
            let seen = pending.answer.size.load(Ordering::Relaxed);
            pending.finish(ended || self.expected == Some(seen));
        }
    }
}

impl<S> Stream for RecordedAnswer<S>
where
    S: Stream<Item = Result<Bytes, reqwest::Error>>,
{
    type Item = Result<Bytes, reqwest::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.inner.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(None) => self.finish(true),
            Poll::Ready(Some(Err(_))) => self.finish(false),
            Poll::Ready(Some(Ok(_))) => {
                let seen = self
                    .pending
                    .as_ref()
                    .map(|p| p.answer.size.load(Ordering::Relaxed));
                if seen.is_some() && seen == self.expected {
                    self.finish(false);
                }
            }
            Poll::Pending => {}
        }
        polled
    }
}

impl<S> Drop for RecordedAnswer<S> {
    fn drop(&mut self) {
        self.finish(false);
    }
}

fn header_text(headers: &HeaderMap, name: HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

fn forwarded(name: &HeaderName) -> bool {
    !HOP_HEADERS.contains(&name.as_str())
}

/// Forwards one call to the upstream and its answer back, recording both.
async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    let started = Instant::now();
    let time = recording::now();
    let (parts, body) = request.into_parts();
    let cap = proxy.recorder.body_cap();
    let request_type = header_text(&parts.headers, header::CONTENT_TYPE);
    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let url = format!("{}{path_and_query}", proxy.upstream);
    let declared = header_text(&parts.headers, header::CONTENT_LENGTH).and_then(|n| n.parse().ok());
    let request_tap = Tap::new(cap, declared);
    let mut upstream = proxy.http.request(parts.method.clone(), &url);
    // A request without a body goes without one (not as an empty chunked stream).
    if body.size_hint().exact() != Some(0) {
        let stream = tapped(body.into_data_stream(), Arc::clone(&request_tap));
        upstream = upstream.body(reqwest::Body::wrap_stream(stream));
    }
    for (name, value) in &parts.headers {
        // The upstream answers uncompressed, so that answers are redacted and kept as text.
        if forwarded(name) && name != header::HOST && name != header::ACCEPT_ENCODING {
            upstream = upstream.header(name, value);
        }
    }
    let exchange = Exchange {
        seq: 0,
        time,
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts
            .uri
            .query()
            .map(patrol_server::journal::redact_query_whole),
        request: RecordedBody::default(),
        status: 0,
        headers: Vec::new(),
        answer: RecordedBody::default(),
        error: None,
        latency_ms: 0.0,
    };
    let answered = match tokio::time::timeout(proxy.timeout, upstream.send()).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(error)) => Err(error.without_url().to_string()),
        Err(_) => Err(format!(
            "no answer within {} s (--upstream-timeout)",
            proxy.timeout.as_secs()
        )),
    };
    let answer = match answered {
        Ok(answer) => answer,
        Err(error) => {
            return upstream_failed(&proxy, exchange, &request_tap, request_type, started, error);
        }
    };
    let status = answer.status();
    let mut response_headers = HeaderMap::new();
    let mut kept = Vec::new();
    for (name, value) in answer.headers() {
        if forwarded(name) {
            response_headers.append(name.clone(), value.clone());
        }
        if KEPT_HEADERS.contains(&name.as_str())
            && let Ok(text) = value.to_str()
        {
            kept.push((name.as_str().to_owned(), text.to_owned()));
        }
    }
    let answer_type = header_text(answer.headers(), header::CONTENT_TYPE);
    let expected = answer.content_length();
    let answer_tap = Tap::new(cap, expected);
    let pending = Pending {
        proxy: Arc::clone(&proxy),
        exchange: Exchange {
            status: status.as_u16(),
            headers: kept,
            ..exchange
        },
        started,
        request: request_tap,
        request_type,
        answer: Arc::clone(&answer_tap),
        answer_type,
    };
    let stream = RecordedAnswer {
        inner: Box::pin(tapped(answer.bytes_stream(), answer_tap)),
        pending: Some(pending),
        expected,
    };
    let mut response = Body::from_stream(stream).into_response();
    *response.status_mut() = status;
    *response.headers_mut() = response_headers;
    response
}

/// The answer when the upstream gave none: HTTP 502 with WeCom's envelope (errcode -1, which
/// a client retries), recorded as such.
fn upstream_failed(
    proxy: &Proxy,
    mut exchange: Exchange,
    request: &Tap,
    request_type: Option<String>,
    started: Instant,
    error: String,
) -> Response {
    let errmsg = format!(
        "patrol record: the upstream {} gave no answer: {error}",
        proxy.upstream
    );
    let body = serde_json::json!({ "errcode": -1, "errmsg": errmsg }).to_string();
    let content_type = "application/json; charset=UTF-8";
    let cap = proxy.recorder.body_cap();
    exchange.request = request.recorded(request_type.as_deref(), cap, false);
    exchange.status = 502;
    exchange.headers = vec![("content-type".to_owned(), content_type.to_owned())];
    exchange.answer = RecordedBody::capture(
        Some(content_type),
        body.as_bytes(),
        body.len() as u64,
        cap,
        false,
    );
    exchange.error = Some(error);
    exchange.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Err(error) = proxy.recorder.write(exchange) {
        tracing::error!(%error, "cannot write to the recording");
    }
    (
        StatusCode::BAD_GATEWAY,
        [(header::CONTENT_TYPE, content_type)],
        body,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// patrol replay

#[allow(clippy::print_stdout, clippy::print_stderr)]
pub(crate) async fn replay(args: ReplayArgs) -> anyhow::Result<()> {
    let file = args.file.clone();
    let read = tokio::task::spawn_blocking(move || recording::read(&file))
        .await
        .context("the reading of the recording failed")?;
    let recorded = read.with_context(|| format!("cannot read {}", args.file.display()))?;
    if recorded.truncated {
        eprintln!(
            "warning: the last line of {} is cut short (a recorder stopped while writing it): \
             left out",
            args.file.display()
        );
    }
    if let Some(out) = &args.to_snapshot {
        return to_snapshot(&args, recorded, out).await;
    }
    let listener = listen(&args.listen).await?;
    let replay = Arc::new(Replay::new(recorded));
    println!(
        "patrol replay is listening on http://{}",
        listener.local_addr()?
    );
    println!("  {} exchanges from {}", replay.len(), args.file.display());
    patrol_server::connections::serve_router(
        listener,
        recording::router(replay),
        REPLAY_CONNECTIONS,
        crate::serve::shutdown_signal(),
    )
    .await;
    Ok(())
}

#[allow(clippy::print_stdout)]
async fn to_snapshot(
    args: &ReplayArgs,
    recorded: recording::Recording,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let secret = args.corpsecret.as_ref().context(
        "--to-snapshot needs the secret of the snapshot's app: pass --corpsecret SECRET or set \
         PATROL_CORPSECRET",
    )?;
    let options = recording::seed::SeedOptions {
        corpid: args.corpid.clone(),
        agentid: args.agentid,
        secret: secret.expose_secret().to_owned(),
    };
    let seed = recording::seed::seed(&recorded, &options)
        .with_context(|| format!("cannot turn {} into seed data", args.file.display()))?;
    let corpid = seed.corp.corpid.clone();
    let counts = format!(
        "{} grids, {} categories, {} users, {} orders, {} media",
        seed.corp.grids.len(),
        seed.corp.categories.len(),
        seed.corp.users.len(),
        seed.orders.len(),
        seed.corp.media.len()
    );
    let database = recording::seed::SeedDatabase::create(seed)
        .await
        .context("cannot write the seed data")?;
    crate::snapshot::save_file(database.store.as_ref(), &database.blobs, Some(&corpid), out)
        .await
        .with_context(|| format!("cannot write the snapshot {}", out.display()))?;
    println!(
        "wrote corp {corpid} ({counts}; app {} with the given secret) to {}",
        args.agentid,
        out.display()
    );
    Ok(())
}
