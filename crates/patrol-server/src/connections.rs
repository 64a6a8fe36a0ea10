//! The server's connections: patrol's own accept loop around hyper's HTTP/1.1, so that idle,
//! slow or too many clients cannot hold the server's sockets.
//!
//! - Header-read timeout ([`Config::header_read_timeout`]): a new connection must deliver a
//!   complete request head within it from the connect; on a kept-alive connection the clock
//!   starts at the first byte of the next request.
//! - Idle timeout ([`Config::idle_timeout`]): a connection with no handler running and no byte
//!   moving either way for that long is closed. This is the keep-alive timeout between requests,
//!   and it also ends an answer stuck because the client does not read it. A running handler is
//!   never cut by it (`request_timeout` bounds handlers).
//! - Caps ([`Config::max_connections`], [`Config::max_connections_per_ip`]; IPv6 clients are
//!   counted per /64). Past either, the connection is accepted, answered [`BUSY`] (HTTP 503 with
//!   WeCom's errcode -1) once its request starts to arrive (or after a second), without parsing
//!   the request, and closed; refusals are logged at most once a second, with their count.
//! - The open-file limit is raised towards its hard limit when `max_connections` needs it; when
//!   it cannot be, the cap is lowered to fit, with a warning.
//!
//! - Reset ([`Reset`], in every request's extensions): a fault rule (`fault.rs`) resets the
//!   connection: it is dropped at once with `SO_LINGER` 0, so the client reads a TCP RST.
//!
//! hyper's own `header_read_timeout` is off: it restarts when a kept-alive connection waits for
//! its next request, so it would close every idle keep-alive connection at the header timeout.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use prometheus_client::metrics::gauge::Gauge;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::Config;

/// The default [`Config::header_read_timeout`]: ample for any client on any network, short
/// enough that a slow-loris connection is gone soon.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The default [`Config::idle_timeout`]: longer than the 30 s that client pools commonly keep
/// a connection, so a client polling twice a minute keeps its connection.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The default [`Config::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// The default [`Config::max_connections_per_ip`]: a quarter of the default total.
pub const DEFAULT_MAX_CONNECTIONS_PER_IP: usize = 256;

/// The answer past a cap: complete, so that it is written without reading the request.
pub const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Content-Type: application/json; charset=UTF-8\r\n\
Content-Length: 59\r\n\
Connection: close\r\n\
Retry-After: 1\r\n\
Error-Code: -1\r\n\
\r\n\
{\"errcode\":-1,\"errmsg\":\"system busy: too many connections\"}";

/// Refused connections being answered at once; past that, a refused connection is closed
/// without an answer, so that a flood cannot take the file descriptors the cap protects.
const MAX_REFUSING: usize = 64;
/// How long a refused connection may take to start its request, and then to be answered and
/// closed.
const REFUSAL_TIME: Duration = Duration::from_secs(1);
/// What a refused connection may send while it is answered, read only to be thrown away:
/// closing a socket with unread bytes resets it, and a reset can destroy the answer in flight.
const REFUSAL_DRAIN: usize = 64 * 1024;
/// File descriptors kept for everything but connections: the store (SQLite holds about 20),
/// the runtime, the listener, the logs.
const RESERVED_FDS: u64 = 128;
/// How often refused connections are logged at most.
const REFUSAL_REPORT_EVERY: Duration = Duration::from_secs(1);

/// The connection settings of a [`Config`], fitted to the open-file limit.
#[derive(Debug, Clone, Copy)]
struct Limits {
    header_read_timeout: Duration,
    idle_timeout: Duration,
    max_connections: usize,
    max_connections_per_ip: usize,
}

impl Limits {
    fn of(config: &Config) -> Limits {
        let wanted = config.max_connections.max(1);
        Limits {
            header_read_timeout: config.header_read_timeout,
            idle_timeout: config.idle_timeout,
            max_connections: within_fd_limit(wanted),
            max_connections_per_ip: config.max_connections_per_ip.max(1),
        }
    }
}

/// `wanted` connections, or fewer when the open-file limit cannot be raised to hold them.
fn within_fd_limit(wanted: usize) -> usize {
    let needed = (wanted as u64).saturating_add(RESERVED_FDS + MAX_REFUSING as u64);
    match rlimit::increase_nofile_limit(needed) {
        Ok(soft_limit) => {
            let affordable = affordable_connections(wanted, soft_limit);
            if affordable < wanted {
                tracing::warn!(
                    max_connections = wanted,
                    open_file_limit = soft_limit,
                    lowered_to = affordable,
                    "the open-file limit is too low for max_connections; the cap is lowered"
                );
            }
            affordable
        }
        Err(error) => {
            tracing::warn!(%error, "cannot read or raise the open-file limit");
            wanted
        }
    }
}

/// How many of `wanted` connections fit in `soft_limit` file descriptors (at least one).
fn affordable_connections(wanted: usize, soft_limit: u64) -> usize {
    let budget = soft_limit.saturating_sub(RESERVED_FDS + MAX_REFUSING as u64);
    wanted
        .min(usize::try_from(budget).unwrap_or(usize::MAX))
        .max(1)
}

/// Serves another tool's `router` (`patrol record`'s proxy, `patrol replay`) on `listener`
/// through the same accept loop, with the default timeouts and at most `max_connections`
/// connections, until `shutdown` completes; then drains.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    max_connections: usize,
    shutdown: impl Future<Output = ()>,
) {
    let mut config = Config::new(String::new());
    config.max_connections = max_connections;
    config.max_connections_per_ip = max_connections;
    serve(listener, router, &config, Gauge::default(), shutdown).await;
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting and waits
/// for the open connections to finish their requests. `open` follows the connections open.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    config: &Config,
    open: Gauge,
    shutdown: impl Future<Output = ()>,
) {
    let limits = Limits::of(config);
    tracing::debug!(?limits, "connection limits");
    let router = TowerToHyperService::new(router);
    let mut http = hyper::server::conn::http1::Builder::new();
    // Ours instead, see the module docs.
    http.header_read_timeout(None);
    let graceful = GracefulShutdown::new();
    let counts = Arc::new(Mutex::new(Counts {
        gauge: open,
        ..Counts::default()
    }));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let mut refusals = Refusals::default();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let event = tokio::select! {
            () = &mut shutdown => break,
            () = refusals.report_due() => Event::ReportRefusals,
            accepted = listener.accept() => Event::Accepted(accepted),
        };
        let (stream, peer) = match event {
            Event::ReportRefusals => {
                refusals.report();
                continue;
            }
            Event::Accepted(Ok(accepted)) => accepted,
            Event::Accepted(Err(error)) if is_connection_error(&error) => continue,
            Event::Accepted(Err(error)) => {
                // Out of file descriptors, typically: the pending connection stays queued, so
                // wait instead of spinning.
                tracing::error!(%error, "cannot accept connections");
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        // No Nagle delay: an answer goes out as soon as it is written.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let client = client_key(peer.ip());
        match Slot::take(&counts, client, &limits) {
            Ok(slot) => {
                let connection = Connection {
                    peer,
                    router: router.clone(),
                    http: http.clone(),
                    limits,
                    watcher: graceful.watcher(),
                    slot,
                };
                tokio::spawn(connection.serve(stream));
            }
            Err(cap) => {
                refusals.count(cap, client);
                // Without a permit the stream is dropped: closed unanswered.
                if let Ok(permit) = Arc::clone(&refusing).try_acquire_owned() {
                    tokio::spawn(refuse(stream, permit));
                }
            }
        }
    }
    drop(listener);
    refusals.report();
    graceful.shutdown().await;
}

#[derive(Debug)]
enum Event {
    Accepted(io::Result<(TcpStream, SocketAddr)>),
    ReportRefusals,
}

/// Errors of one connection rather than of the listener (as axum's `serve` reads them).
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// The client a connection is counted against: its IPv4 address (IPv4-mapped IPv6 included), or
/// the /64 of its IPv6 address, since one IPv6 host commonly holds a whole /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
    }
}

/// Open connections, in total and per client.
#[derive(Debug, Default)]
struct Counts {
    open: usize,
    per_client: HashMap<IpAddr, usize>,
    /// `open`, as the metric `patrol_http_connections_open`.
    gauge: Gauge,
}

/// Which cap refused a connection.
#[derive(Debug, Clone, Copy)]
enum Cap {
    Total,
    PerClient,
}

/// One open connection's place in [`Counts`], given back on drop.
#[derive(Debug)]
struct Slot {
    counts: Arc<Mutex<Counts>>,
    client: IpAddr,
}

impl Slot {
    fn take(counts: &Arc<Mutex<Counts>>, client: IpAddr, limits: &Limits) -> Result<Slot, Cap> {
        let mut locked = counts.lock().unwrap_or_else(PoisonError::into_inner);
        if locked.open >= limits.max_connections {
            return Err(Cap::Total);
        }
        let of_client = locked.per_client.entry(client).or_default();
        if *of_client >= limits.max_connections_per_ip {
            return Err(Cap::PerClient);
        }
        *of_client += 1;
        locked.open += 1;
        locked.gauge.inc();
        Ok(Slot {
            counts: Arc::clone(counts),
            client,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut locked = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        locked.open -= 1;
        locked.gauge.dec();
        if let Some(of_client) = locked.per_client.get_mut(&self.client) {
            *of_client -= 1;
            if *of_client == 0 {
                locked.per_client.remove(&self.client);
            }
        }
    }
}

/// Refused connections not logged yet: a flood gives one line a second, not one per connection.
#[derive(Debug, Default)]
struct Refusals {
    total: u64,
    over_total: u64,
    over_per_client: u64,
    last_client: Option<IpAddr>,
    last_report: Option<Instant>,
}

impl Refusals {
    fn count(&mut self, cap: Cap, client: IpAddr) {
        self.total += 1;
        match cap {
            Cap::Total => self.over_total += 1,
            Cap::PerClient => self.over_per_client += 1,
        }
        self.last_client = Some(client);
        if self
            .last_report
            .is_none_or(|last| last.elapsed() >= REFUSAL_REPORT_EVERY)
        {
            self.report();
        }
    }

    /// Completes when unreported refusals may be reported; never when there are none.
    async fn report_due(&self) {
        match self.last_report {
            Some(last) if self.over_total + self.over_per_client > 0 => {
                tokio::time::sleep_until(last + REFUSAL_REPORT_EVERY).await;
            }
            _ => std::future::pending().await,
        }
    }

    fn report(&mut self) {
        if self.over_total + self.over_per_client == 0 {
            return;
        }
        tracing::warn!(
            over_max_connections = self.over_total,
            over_max_connections_per_ip = self.over_per_client,
            last_client = ?self.last_client,
            refused_since_start = self.total,
            "refused connections: too many open"
        );
        self.over_total = 0;
        self.over_per_client = 0;
        self.last_report = Some(Instant::now());
    }
}

/// Answers a refused connection [`BUSY`] and closes it.
async fn refuse(mut stream: TcpStream, _permit: OwnedSemaphorePermit) {
    // An HTTP client takes an answer that comes before its request for garbage.
    let _ = tokio::time::timeout(REFUSAL_TIME, stream.peek(&mut [0])).await;
    let answered = tokio::time::timeout(REFUSAL_TIME, async {
        stream.write_all(BUSY).await?;
        stream.shutdown().await?;
        // Thrown away unparsed, see `REFUSAL_DRAIN`; the client closes once it has the answer.
        let mut sink = [0; 4096];
        let mut drained = 0;
        while drained < REFUSAL_DRAIN {
            match stream.read(&mut sink).await? {
                0 => break,
                read => drained += read,
            }
        }
        io::Result::Ok(())
    })
    .await;
    if let Ok(Err(error)) = answered {
        tracing::debug!(%error, "a refused connection failed");
    }
}

/// One accepted connection.
#[derive(Debug)]
struct Connection {
    peer: SocketAddr,
    router: TowerToHyperService<Router>,
    http: hyper::server::conn::http1::Builder,
    limits: Limits,
    watcher: Watcher,
    slot: Slot,
}

impl Connection {
    async fn serve(self, stream: TcpStream) {
        let Connection {
            peer,
            router,
            http,
            limits,
            watcher,
            slot,
        } = self;
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Watched {
            stream,
            activity: Arc::clone(&activity),
        });
        let service = PeerService {
            router,
            peer,
            activity: Arc::clone(&activity),
        };
        let connection = watcher.watch(http.serve_connection(io, service));
        tokio::select! {
            ended = connection => {
                if let Err(error) = ended {
                    tracing::debug!(%peer, %error, "connection failed");
                }
            }
            expired = activity.expiry(&limits) => {
                tracing::debug!(%peer, timeout = expired.name(), "connection timed out; closed");
            }
            () = activity.reset.notified() => {
                tracing::debug!(%peer, "connection reset by a fault rule");
            }
        }
        drop(slot);
    }
}

/// What a connection did when, for its timeouts; in milliseconds since it opened.
#[derive(Debug)]
struct Activity {
    opened: Instant,
    /// Requests whose handler runs (at most one on HTTP/1.1).
    handlers: AtomicUsize,
    /// No request has reached a handler yet.
    fresh: AtomicBool,
    /// When the last handler finished.
    waiting_since: AtomicU64,
    /// When the first byte since then arrived; [`Activity::NEVER`] before it.
    head_since: AtomicU64,
    /// When a byte last moved either way.
    last_progress: AtomicU64,
    /// Wakes [`Activity::expiry`] when a deadline may have come nearer.
    changed: Notify,
    /// Set when the connection is to be reset: its socket closes with `SO_LINGER` 0.
    resetting: AtomicBool,
    /// Wakes the connection's task to drop the connection.
    reset: Notify,
}

/// The timeout that closed a connection.
#[derive(Debug, Clone, Copy)]
enum Expired {
    HeaderRead,
    Idle,
}

impl Expired {
    fn name(self) -> &'static str {
        match self {
            Expired::HeaderRead => "header_read_timeout",
            Expired::Idle => "idle_timeout",
        }
    }
}

impl Activity {
    const NEVER: u64 = u64::MAX;

    fn new() -> Activity {
        Activity {
            opened: Instant::now(),
            handlers: AtomicUsize::new(0),
            fresh: AtomicBool::new(true),
            waiting_since: AtomicU64::new(0),
            head_since: AtomicU64::new(Activity::NEVER),
            last_progress: AtomicU64::new(0),
            changed: Notify::new(),
            resetting: AtomicBool::new(false),
            reset: Notify::new(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    fn read(&self) {
        let now = self.now();
        self.last_progress.store(now, Ordering::Relaxed);
        if self.handlers.load(Ordering::Relaxed) == 0
            && self.head_since.load(Ordering::Relaxed) == Activity::NEVER
        {
            self.head_since.store(now, Ordering::Relaxed);
            self.changed.notify_one();
        }
    }

    fn wrote(&self) {
        self.last_progress.store(self.now(), Ordering::Relaxed);
    }

    fn handler_started(&self) {
        self.handlers.fetch_add(1, Ordering::Relaxed);
        self.fresh.store(false, Ordering::Relaxed);
    }

    fn handler_finished(&self) {
        self.handlers.fetch_sub(1, Ordering::Relaxed);
        self.waiting_since.store(self.now(), Ordering::Relaxed);
        self.head_since.store(Activity::NEVER, Ordering::Relaxed);
        self.changed.notify_one();
    }

    /// When the connection is to be closed as things stand, and why; `None` while a handler runs.
    fn deadline(&self, limits: &Limits) -> Option<(u64, Expired)> {
        let millis = |duration: Duration| u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        if self.handlers.load(Ordering::Relaxed) > 0 {
            return None;
        }
        let header = millis(limits.header_read_timeout);
        if self.fresh.load(Ordering::Relaxed) {
            return Some((header, Expired::HeaderRead));
        }
        let head_since = self.head_since.load(Ordering::Relaxed);
        if head_since != Activity::NEVER {
            return Some((head_since.saturating_add(header), Expired::HeaderRead));
        }
        let quiet_since = self
            .waiting_since
            .load(Ordering::Relaxed)
            .max(self.last_progress.load(Ordering::Relaxed));
        Some((
            quiet_since.saturating_add(millis(limits.idle_timeout)),
            Expired::Idle,
        ))
    }

    /// Completes when a timeout expires. Polled in the connection's own task, beside hyper.
    async fn expiry(&self, limits: &Limits) -> Expired {
        loop {
            match self.deadline(limits) {
                None => self.changed.notified().await,
                Some((deadline, expired)) => {
                    let now = self.now();
                    if now >= deadline {
                        return expired;
                    }
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(deadline - now)) => {}
                        () = self.changed.notified() => {}
                    }
                }
            }
        }
    }
}

/// A handler running, in [`Activity`], until dropped.
#[derive(Debug)]
struct Handling(Arc<Activity>);

impl Handling {
    fn start(activity: &Arc<Activity>) -> Handling {
        activity.handler_started();
        Handling(Arc::clone(activity))
    }
}

impl Drop for Handling {
    fn drop(&mut self) {
        self.0.handler_finished();
    }
}

/// The router, seen by hyper, with the peer's address as `ConnectInfo` (as axum's `serve`
/// gives it) and the handler's run recorded.
#[derive(Debug, Clone)]
struct PeerService {
    router: TowerToHyperService<Router>,
    peer: SocketAddr,
    activity: Arc<Activity>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for PeerService {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, mut request: hyper::Request<Incoming>) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        request
            .extensions_mut()
            .insert(Reset(Arc::clone(&self.activity)));
        let handling = Handling::start(&self.activity);
        let answer = hyper::service::Service::call(&self.router, request);
        Box::pin(async move {
            let answer = answer.await;
            drop(handling);
            answer
        })
    }
}

/// Resets the connection a request came on (`fault.rs`): its task drops it at once, and the
/// socket closes with `SO_LINGER` 0, which sends the client a TCP RST instead of a FIN.
#[derive(Debug, Clone)]
pub struct Reset(Arc<Activity>);

impl Reset {
    pub fn now(&self) {
        self.0.resetting.store(true, Ordering::Relaxed);
        // A permit is kept if the task is not waiting yet.
        self.0.reset.notify_one();
    }
}

/// The TCP stream, recording in [`Activity`] when bytes move.
#[derive(Debug)]
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl Drop for Watched {
    fn drop(&mut self) {
        if self.activity.resetting.load(Ordering::Relaxed)
            && let Err(error) = self.stream.set_zero_linger()
        {
            tracing::debug!(%error, "cannot set SO_LINGER to reset a connection");
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_busy_answer_says_its_body_length() {
        let text = std::str::from_utf8(BUSY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["errcode"], -1);
    }

    #[test]
    fn the_cap_fits_the_open_file_limit() {
        assert_eq!(affordable_connections(1024, 1 << 20), 1024);
        assert_eq!(affordable_connections(1024, 256), 256 - 192);
        assert_eq!(affordable_connections(1024, 100), 1);
    }

    #[test]
    fn ipv6_clients_count_per_64_and_mapped_ipv4_as_ipv4() {
        let key = |text: &str| client_key(text.parse().unwrap()).to_string();
        assert_eq!(key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::");
        assert_eq!(key("::ffff:10.0.0.1"), "10.0.0.1");
        assert_eq!(key("10.0.0.1"), "10.0.0.1");
    }
}
