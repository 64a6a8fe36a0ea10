//! Faults answered by a stub HTTP server in the test (those patrol makes itself, through its
//! fault rules, are in `injected.rs`): busy and rate-limit codes, refused tokens, slow and
//! dropped connections, error pages, non-JSON, and the quirks of WeCom's documentation. The stub counts every request it gets.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{StreamExt, TryStreamExt};
use patrol_client::{Client, Error, GetOrderListRequest, Order, OrderQuery, RetryPolicy};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

// ---------------------------------------------------------------------------------------------
// The stub

/// One scripted answer.
#[derive(Debug, Clone)]
enum Reply {
    /// HTTP 200 with this JSON.
    Json(Value),
    /// Any status, content type and body.
    Raw {
        status: u16,
        content_type: &'static str,
        body: String,
    },
    /// The reply, after a pause.
    Slow(Duration, Box<Reply>),
}

fn errcode(code: i64) -> Reply {
    Reply::Json(json!({ "errcode": code, "errmsg": format!("stub error {code}") }))
}

fn order_json(order_id: &str) -> Value {
    json!({
        "order_id": order_id, "desc": format!("事件 {order_id}"), "urge_type": 1,
        "case_name": "暴露垃圾", "grid_name": "一号网格", "grid_id": "g1",
        "create_time": 1_700_000_000, "image_urls": [], "video_media_ids": [],
        "location": { "name": "测试小区", "address": "测试路1号", "latitude": 30.25,
                      "longitude": 120.125 },
        "processor_userids": ["admin"],
        "process_list": [{ "process_type": 1, "solve_userid": "reporter", "process_desc": "上报",
                           "status": 1, "solved_time": 1_700_000_000, "image_urls": [],
                           "video_media_ids": [] }]
    })
}

fn list_ok(ids: &[&str], next_cursor: &str) -> Reply {
    let orders: Vec<Value> = ids.iter().map(|id| order_json(id)).collect();
    Reply::Json(json!({
        "errcode": 0, "errmsg": "ok", "next_cursor": next_cursor, "order_list": orders
    }))
}

fn info_ok(order_id: &str) -> Reply {
    Reply::Json(json!({ "errcode": 0, "errmsg": "ok", "order_info": order_json(order_id) }))
}

/// What one endpoint answers: its script first, then its fallback.
#[derive(Debug, Default)]
struct Endpoint {
    script: VecDeque<Reply>,
    fallback: Option<Reply>,
    /// The `access_token` of every request, in arrival order.
    tokens: Vec<String>,
    /// The body of every request, in arrival order.
    bodies: Vec<String>,
}

#[derive(Debug, Default)]
struct Script {
    gettoken: Endpoint,
    list: Endpoint,
    info: Endpoint,
    /// Calls with one of these tokens are answered 42001 before their script is consulted.
    expired_tokens: HashSet<String>,
    /// The `expires_in` of gettoken's default answer (7200 when `None`).
    expires_in: Option<i64>,
}

#[derive(Debug, Default)]
struct Shared {
    script: Mutex<Script>,
    gettoken_hits: AtomicUsize,
    list_hits: AtomicUsize,
    info_hits: AtomicUsize,
}

/// A stub of WeCom on a random local port.
struct Stub {
    base_url: String,
    shared: Arc<Shared>,
}

impl Stub {
    async fn spawn() -> Stub {
        let shared = Arc::new(Shared::default());
        let router = Router::new()
            .route("/cgi-bin/gettoken", get(gettoken))
            .route(
                "/cgi-bin/report/patrol/get_order_list",
                post(get_order_list),
            )
            .route(
                "/cgi-bin/report/patrol/get_order_info",
                post(get_order_info),
            )
            .with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Stub { base_url, shared }
    }

    fn script(&self) -> std::sync::MutexGuard<'_, Script> {
        self.shared.script.lock().unwrap()
    }

    fn gettoken_hits(&self) -> usize {
        self.shared.gettoken_hits.load(Ordering::SeqCst)
    }

    fn list_hits(&self) -> usize {
        self.shared.list_hits.load(Ordering::SeqCst)
    }

    fn info_hits(&self) -> usize {
        self.shared.info_hits.load(Ordering::SeqCst)
    }

    fn client(&self, retry: RetryPolicy) -> Client {
        client_at(&self.base_url, retry)
    }
}

fn client_at(base_url: &str, retry: RetryPolicy) -> Client {
    Client::builder()
        .base_url(base_url)
        .corpid("wwstub")
        .secret("stub-secret")
        .retry(retry)
        .build()
        .unwrap()
}

fn respond(reply: Reply) -> futures_util::future::BoxFuture<'static, Response> {
    Box::pin(async move {
        match reply {
            Reply::Json(value) => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
                value.to_string(),
            )
                .into_response(),
            Reply::Raw {
                status,
                content_type,
                body,
            } => (
                StatusCode::from_u16(status).unwrap(),
                [(header::CONTENT_TYPE, content_type)],
                body,
            )
                .into_response(),
            Reply::Slow(pause, reply) => {
                tokio::time::sleep(pause).await;
                respond(*reply).await
            }
        }
    })
}

async fn gettoken(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let hit = shared.gettoken_hits.fetch_add(1, Ordering::SeqCst) + 1;
    assert_eq!(query.get("corpid").map(String::as_str), Some("wwstub"));
    assert_eq!(
        query.get("corpsecret").map(String::as_str),
        Some("stub-secret")
    );
    let (reply, expires_in) = {
        let mut script = shared.script.lock().unwrap();
        let expires_in = script.expires_in.unwrap_or(7200);
        let endpoint = &mut script.gettoken;
        let reply = endpoint
            .script
            .pop_front()
            .or_else(|| endpoint.fallback.clone());
        (reply, expires_in)
    };
    // By default: a new token every time, valid for 7200 s.
    let reply = reply.unwrap_or_else(|| {
        Reply::Json(json!({
            "errcode": 0, "errmsg": "ok", "access_token": format!("token-{hit}"),
            "expires_in": expires_in
        }))
    });
    respond(reply).await
}

async fn patrol_call(
    shared: &Shared,
    which: fn(&mut Script) -> &mut Endpoint,
    default: Reply,
    query: HashMap<String, String>,
    body: String,
) -> Response {
    let token = query.get("access_token").cloned().unwrap_or_default();
    let reply = {
        let mut script = shared.script.lock().unwrap();
        let expired = script.expired_tokens.contains(&token);
        let endpoint = which(&mut script);
        endpoint.tokens.push(token);
        endpoint.bodies.push(body);
        if expired {
            errcode(42001)
        } else {
            endpoint
                .script
                .pop_front()
                .or_else(|| endpoint.fallback.clone())
                .unwrap_or(default)
        }
    };
    respond(reply).await
}

async fn get_order_list(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    body: String,
) -> Response {
    shared.list_hits.fetch_add(1, Ordering::SeqCst);
    let default = list_ok(&["o1"], "");
    patrol_call(&shared, |s| &mut s.list, default, query, body).await
}

async fn get_order_info(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    body: String,
) -> Response {
    shared.info_hits.fetch_add(1, Ordering::SeqCst);
    let default = info_ok("o1");
    patrol_call(&shared, |s| &mut s.info, default, query, body).await
}

/// Quick retries: 3 of them, 5 ms to 50 ms apart.
fn fast() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
    }
}

fn first_page() -> GetOrderListRequest {
    GetOrderListRequest::default()
}

// ---------------------------------------------------------------------------------------------
// Busy and rate-limited

#[tokio::test]
async fn busy_and_rate_limit_codes_are_retried_until_success() {
    for code in [-1, 45009, 45033] {
        for failures in 1..=fast().max_retries as usize {
            let stub = Stub::spawn().await;
            {
                let mut script = stub.script();
                for _ in 0..failures {
                    script.list.script.push_back(errcode(code));
                }
            }
            let client = stub.client(fast());
            let answer = client.get_order_list(&first_page()).await;
            let answer = answer.unwrap_or_else(|e| panic!("{code} × {failures}: {e}"));
            assert_eq!(answer.order_list[0].order_id, "o1");
            assert_eq!(stub.list_hits(), failures + 1, "{code} × {failures}");
            assert_eq!(stub.gettoken_hits(), 1, "a busy answer keeps the token");
            assert_eq!(client.token_fetches(), 1);
        }
    }
}

#[tokio::test]
async fn busy_and_rate_limit_codes_fail_after_max_retries() {
    for code in [-1, 45009, 45033] {
        let stub = Stub::spawn().await;
        stub.script().list.fallback = Some(errcode(code));
        stub.script().info.fallback = Some(errcode(code));
        let client = stub.client(fast());
        let answer = client.get_order_list(&first_page()).await;
        match answer {
            Err(Error::Api { errcode, errmsg }) => {
                assert_eq!(errcode, code);
                assert_eq!(errmsg, format!("stub error {code}"));
            }
            other => panic!("{code}: {other:?}"),
        }
        assert_eq!(stub.list_hits(), fast().max_retries as usize + 1, "{code}");
        let info = client.get_order_info("o1").await;
        assert_eq!(info.unwrap_err().errcode(), Some(code));
        assert_eq!(stub.info_hits(), fast().max_retries as usize + 1, "{code}");
        assert_eq!(stub.gettoken_hits(), 1);
    }
}

#[tokio::test]
async fn no_retries_means_one_call() {
    let stub = Stub::spawn().await;
    stub.script().list.fallback = Some(errcode(-1));
    let client = stub.client(RetryPolicy::none());
    let answer = client.get_order_list(&first_page()).await;
    assert_eq!(answer.unwrap_err().errcode(), Some(-1));
    assert_eq!(stub.list_hits(), 1);

    // Also for a server error page, and for a busy gettoken.
    stub.script().list.fallback = Some(Reply::Raw {
        status: 503,
        content_type: "text/html",
        body: "<html>503</html>".into(),
    });
    let answer = client.get_order_list(&first_page()).await;
    assert!(
        matches!(answer, Err(Error::Decode { status: 503, .. })),
        "{answer:?}"
    );
    assert_eq!(stub.list_hits(), 2);

    stub.script().gettoken.fallback = Some(errcode(-1));
    let fresh = stub.client(RetryPolicy::none());
    let answer = fresh.get_order_info("o1").await;
    assert_eq!(answer.unwrap_err().errcode(), Some(-1));
    assert_eq!(stub.gettoken_hits(), 2, "one for each client");
    assert_eq!(stub.info_hits(), 0);
}

#[tokio::test]
async fn other_errors_are_not_retried() {
    for code in [40058, 40063, 48002, 60020, 40001] {
        let stub = Stub::spawn().await;
        stub.script().list.fallback = Some(errcode(code));
        let client = stub.client(fast());
        let answer = client.get_order_list(&first_page()).await;
        assert_eq!(answer.unwrap_err().errcode(), Some(code));
        assert_eq!(stub.list_hits(), 1, "{code}");
        assert_eq!(stub.gettoken_hits(), 1, "{code}");
    }
    // gettoken's own errors.
    for code in [40001, 40013, 41004, 60020] {
        let stub = Stub::spawn().await;
        stub.script().gettoken.fallback = Some(errcode(code));
        let client = stub.client(fast());
        let answer = client.get_order_list(&first_page()).await;
        assert_eq!(answer.unwrap_err().errcode(), Some(code));
        assert_eq!(stub.gettoken_hits(), 1, "{code}");
        assert_eq!(client.token_fetches(), 1);
        assert_eq!(stub.list_hits(), 0);
    }
}

#[tokio::test]
async fn a_busy_gettoken_is_retried() {
    let stub = Stub::spawn().await;
    {
        let mut script = stub.script();
        script.gettoken.script.push_back(errcode(-1));
        script.gettoken.script.push_back(errcode(45009));
    }
    let client = stub.client(fast());
    let answer = client.get_order_list(&first_page()).await.unwrap();
    assert_eq!(answer.order_list.len(), 1);
    assert_eq!(stub.gettoken_hits(), 3);
    assert_eq!(client.token_fetches(), 3, "every gettoken request counts");
    assert_eq!(stub.list_hits(), 1);
    assert_eq!(stub.script().list.tokens, ["token-3"]);

    // Busy for good: the error after max_retries, and no call made.
    let stub = Stub::spawn().await;
    stub.script().gettoken.fallback = Some(errcode(-1));
    let client = stub.client(fast());
    let answer = client.get_order_info("o1").await;
    assert_eq!(answer.unwrap_err().errcode(), Some(-1));
    assert_eq!(stub.gettoken_hits(), fast().max_retries as usize + 1);
    assert_eq!(stub.info_hits(), 0);
}

// ---------------------------------------------------------------------------------------------
// Refused tokens

#[tokio::test]
async fn a_refused_token_is_fetched_again_once() {
    for code in [40014, 42001] {
        let stub = Stub::spawn().await;
        stub.script().list.script.push_back(errcode(code));
        let client = stub.client(fast());
        let answer = client.get_order_list(&first_page()).await;
        assert_eq!(answer.unwrap().order_list[0].order_id, "o1", "{code}");
        assert_eq!(stub.gettoken_hits(), 2, "{code}");
        assert_eq!(client.token_fetches(), 2);
        assert_eq!(stub.script().list.tokens, ["token-1", "token-2"], "{code}");

        // The new token is kept for the next calls.
        client.get_order_info("o1").await.unwrap();
        assert_eq!(stub.script().info.tokens, ["token-2"]);
        assert_eq!(stub.gettoken_hits(), 2);
    }
}

#[tokio::test]
async fn a_token_refused_twice_is_an_error_after_one_refetch() {
    for code in [40014, 42001] {
        let stub = Stub::spawn().await;
        stub.script().list.fallback = Some(errcode(code));
        let client = stub.client(fast());
        let answer = client.get_order_list(&first_page()).await;
        match answer {
            Err(ref error @ Error::Api { errcode, .. }) => {
                assert_eq!(errcode, code);
                assert!(error.is_token_error());
            }
            other => panic!("{code}: {other:?}"),
        }
        assert_eq!(stub.gettoken_hits(), 2, "one refetch, no loop ({code})");
        assert_eq!(stub.list_hits(), 2, "{code}");
        assert_eq!(stub.script().list.tokens, ["token-1", "token-2"]);
    }
}

#[tokio::test]
async fn a_refused_token_and_a_busy_answer_in_one_call() {
    let stub = Stub::spawn().await;
    {
        let mut script = stub.script();
        script.list.script.push_back(errcode(-1));
        script.list.script.push_back(errcode(42001));
        script.list.script.push_back(errcode(45033));
    }
    let client = stub.client(fast());
    client.get_order_list(&first_page()).await.unwrap();
    assert_eq!(stub.list_hits(), 4);
    assert_eq!(stub.gettoken_hits(), 2);
    assert_eq!(
        stub.script().list.tokens,
        ["token-1", "token-1", "token-2", "token-2"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_callers_share_one_gettoken() {
    let stub = Stub::spawn().await;
    // A slow gettoken, so that every caller arrives while it is under way.
    stub.script().gettoken.script.push_back(Reply::Slow(
        Duration::from_millis(300),
        Box::new(Reply::Json(json!({
            "errcode": 0, "errmsg": "ok", "access_token": "token-1", "expires_in": 7200
        }))),
    ));
    let client = stub.client(fast());
    let calls = (0..50).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.get_order_list(&first_page()).await })
    });
    for answer in futures_util::future::join_all(calls).await {
        answer.unwrap().unwrap();
    }
    assert_eq!(stub.gettoken_hits(), 1, "one gettoken for 50 callers");
    assert_eq!(client.token_fetches(), 1);
    assert_eq!(stub.list_hits(), 50);
    assert!(stub.script().list.tokens.iter().all(|t| t == "token-1"));

    // The token expires for all of them at once: still one refetch.
    stub.script().expired_tokens.insert("token-1".into());
    let calls = (0..50).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.get_order_info("o1").await })
    });
    for answer in futures_util::future::join_all(calls).await {
        answer.unwrap().unwrap();
    }
    assert_eq!(
        stub.gettoken_hits(),
        2,
        "one refetch for 50 refused callers"
    );
    assert_eq!(client.token_fetches(), 2);
    let script = stub.script();
    let refused = script
        .info
        .tokens
        .iter()
        .filter(|t| *t == "token-1")
        .count();
    let fresh = script
        .info
        .tokens
        .iter()
        .filter(|t| *t == "token-2")
        .count();
    assert_eq!(fresh, 50, "every caller succeeded with the new token");
    assert_eq!(refused + fresh, stub.info_hits());
}

// ---------------------------------------------------------------------------------------------
// Slow and dropped connections, error pages, non-JSON

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    let slow = || {
        Reply::Slow(
            Duration::from_millis(1_500),
            Box::new(list_ok(&["late"], "")),
        )
    };
    let retry = RetryPolicy {
        max_retries: 2,
        ..fast()
    };
    let stub = Stub::spawn().await;
    stub.script().list.script.push_back(slow());
    let client = Client::builder()
        .base_url(&stub.base_url)
        .corpid("wwstub")
        .secret("stub-secret")
        .retry(retry)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let answer = client.get_order_list(&first_page()).await.unwrap();
    assert_eq!(answer.order_list[0].order_id, "o1", "the retry's answer");
    assert_eq!(stub.list_hits(), 2);

    // Slow for good: a transport error after max_retries.
    stub.script().list.fallback = Some(slow());
    let error = client.get_order_list(&first_page()).await.unwrap_err();
    match &error {
        Error::Transport { source, url } => {
            assert!(source.is_timeout(), "{source}");
            assert!(
                url.ends_with("/cgi-bin/report/patrol/get_order_list"),
                "{url}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(stub.list_hits(), 2 + retry.max_retries as usize + 1);
    assert_eq!(stub.gettoken_hits(), 1);
    // The error does not carry the access token sent in the query string.
    for text in [
        error.to_string(),
        format!("{error:?}"),
        source_chain(&error),
    ] {
        assert!(!text.contains("token-1"), "the token leaks: {text}");
    }
}

/// A raw HTTP server: answers gettoken (unless `drop_gettoken`) and drops the first
/// `drop_calls` other requests after reading their head, closing the connection without a word
/// (or, with `cut_short`, in the middle of an answer's body); later calls get a page. Every
/// answer closes its connection.
struct Dropper {
    base_url: String,
    /// gettoken requests received.
    gettokens: Arc<AtomicUsize>,
    /// Other requests received.
    calls: Arc<AtomicUsize>,
}

impl Dropper {
    async fn spawn(drop_gettoken: bool, drop_calls: usize) -> Dropper {
        Dropper::spawn_with(drop_gettoken, drop_calls, false).await
    }

    async fn spawn_with(drop_gettoken: bool, drop_calls: usize, cut_short: bool) -> Dropper {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        let gettokens = Arc::new(AtomicUsize::new(0));
        let calls = Arc::new(AtomicUsize::new(0));
        let counters = (gettokens.clone(), calls.clone());
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let counters = counters.clone();
                tokio::spawn(async move {
                    let _ =
                        serve_or_drop(stream, drop_gettoken, drop_calls, cut_short, counters).await;
                });
            }
        });
        Dropper {
            base_url: format!("http://{address}"),
            gettokens,
            calls,
        }
    }
}

async fn serve_or_drop(
    stream: TcpStream,
    drop_gettoken: bool,
    drop_calls: usize,
    cut_short: bool,
    (gettokens, calls): (Arc<AtomicUsize>, Arc<AtomicUsize>),
) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut buffer = [0_u8; 4096];
    let head_end = loop {
        let n = read_some(&stream, &mut buffer).await?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buffer[..n]);
        if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_lowercase();
    let is_gettoken = head.starts_with("get /cgi-bin/gettoken");
    let drop_it = if is_gettoken {
        gettokens.fetch_add(1, Ordering::SeqCst);
        drop_gettoken
    } else {
        calls.fetch_add(1, Ordering::SeqCst) < drop_calls
    };
    if drop_it && !cut_short {
        // Closed without an answer.
        return Ok(());
    }
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    while request.len() < head_end + length {
        let n = read_some(&stream, &mut buffer).await?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buffer[..n]);
    }
    let body = if is_gettoken {
        json!({"errcode": 0, "errmsg": "ok", "access_token": "raw-token", "expires_in": 7200})
    } else {
        json!({"errcode": 0, "errmsg": "ok", "next_cursor": "", "order_list": [order_json("raw")]})
    }
    .to_string();
    if drop_it {
        // An answer that promises more than it sends.
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4096\r\n\r\n";
        write_all(&stream, head.as_bytes()).await?;
        return write_all(&stream, &body.as_bytes()[..20]).await;
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
    write_all(&stream, response.as_bytes()).await
}

/// Reads what is there (tokio's `io-util` is not among the features).
async fn read_some(stream: &TcpStream, buffer: &mut [u8]) -> std::io::Result<usize> {
    loop {
        stream.readable().await?;
        match stream.try_read(buffer) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            result => return result,
        }
    }
}

async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_dropped_connection_is_retried() {
    // Two calls dropped, then an answer.
    let dropper = Dropper::spawn(false, 2).await;
    let client = client_at(&dropper.base_url, fast());
    let answer = client.get_order_list(&first_page()).await.unwrap();
    assert_eq!(answer.order_list[0].order_id, "raw");
    assert_eq!(
        dropper.calls.load(Ordering::SeqCst),
        3,
        "two dropped, one answered"
    );
    assert_eq!(dropper.gettokens.load(Ordering::SeqCst), 1);

    // Every call dropped: a transport error after max_retries.
    let dropper = Dropper::spawn(false, usize::MAX).await;
    let client = client_at(&dropper.base_url, fast());
    let answer = client.get_order_list(&first_page()).await;
    match answer {
        Err(Error::Transport { ref url, .. }) => {
            assert!(url.ends_with("/get_order_list"), "{url}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        dropper.calls.load(Ordering::SeqCst),
        fast().max_retries as usize + 1
    );
    assert_eq!(dropper.gettokens.load(Ordering::SeqCst), 1);
    assert_eq!(client.token_fetches(), 1);
}

#[tokio::test]
async fn an_answer_cut_short_is_retried() {
    let dropper = Dropper::spawn_with(false, 1, true).await;
    let client = client_at(&dropper.base_url, fast());
    let answer = client.get_order_list(&first_page()).await.unwrap();
    assert_eq!(answer.order_list[0].order_id, "raw");
    assert_eq!(dropper.calls.load(Ordering::SeqCst), 2);

    let dropper = Dropper::spawn_with(false, usize::MAX, true).await;
    let client = client_at(&dropper.base_url, fast());
    let answer = client.get_order_list(&first_page()).await;
    assert!(matches!(answer, Err(Error::Transport { .. })), "{answer:?}");
    assert_eq!(
        dropper.calls.load(Ordering::SeqCst),
        fast().max_retries as usize + 1
    );
}

#[tokio::test]
async fn a_dropped_gettoken_is_retried_then_a_transport_error() {
    let dropper = Dropper::spawn(true, 0).await;
    let client = client_at(&dropper.base_url, fast());
    let answer = client.get_order_info("o1").await;
    match answer {
        Err(Error::Transport { ref url, .. }) => {
            assert!(url.ends_with("/cgi-bin/gettoken"), "{url}");
        }
        other => panic!("{other:?}"),
    }
    let attempts = fast().max_retries as usize + 1;
    assert_eq!(dropper.gettokens.load(Ordering::SeqCst), attempts);
    assert_eq!(dropper.calls.load(Ordering::SeqCst), 0);
    assert_eq!(client.token_fetches(), attempts as u64);
}

#[tokio::test]
async fn a_connection_accepted_and_dropped_at_once_is_a_transport_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    let client = client_at(&base_url, fast());
    let answer = client.get_order_list(&first_page()).await;
    assert!(matches!(answer, Err(Error::Transport { .. })), "{answer:?}");
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        fast().max_retries as usize + 1
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    // A port that was just free: nothing listens there.
    let address = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let client = client_at(&format!("http://{address}"), fast());
    let answer = client.get_order_list(&first_page()).await;
    assert!(matches!(answer, Err(Error::Transport { .. })), "{answer:?}");
    assert_eq!(client.token_fetches(), fast().max_retries as u64 + 1);
    // The error names the endpoint, but not the secret sent in the query string.
    let error = answer.unwrap_err();
    for text in [
        error.to_string(),
        format!("{error:?}"),
        source_chain(&error),
    ] {
        assert!(text.contains("/cgi-bin/gettoken"), "{text}");
        assert!(!text.contains("stub-secret"), "the secret leaks: {text}");
    }
}

/// An error and all its sources, as text.
fn source_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

fn html_502() -> Reply {
    Reply::Raw {
        status: 502,
        content_type: "text/html",
        body: "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>".into(),
    }
}

#[tokio::test]
async fn an_html_error_page_is_a_decode_error_and_retried() {
    let stub = Stub::spawn().await;
    stub.script().list.script.push_back(html_502());
    let client = stub.client(fast());
    let answer = client.get_order_list(&first_page()).await.unwrap();
    assert_eq!(answer.order_list[0].order_id, "o1");
    assert_eq!(stub.list_hits(), 2);

    stub.script().list.fallback = Some(html_502());
    let answer = client.get_order_list(&first_page()).await;
    match answer {
        Err(Error::Decode {
            status,
            ref message,
            ref url,
        }) => {
            assert_eq!(status, 502);
            assert!(message.contains("502 Bad Gateway"), "{message}");
            assert!(url.ends_with("/get_order_list"), "{url}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(stub.list_hits(), 2 + fast().max_retries as usize + 1);

    // A 502 on gettoken is retried too.
    let stub = Stub::spawn().await;
    stub.script().gettoken.script.push_back(html_502());
    let client = stub.client(fast());
    client.get_order_info("o1").await.unwrap();
    assert_eq!(stub.gettoken_hits(), 2);
}

#[tokio::test]
async fn a_non_json_answer_is_a_decode_error_without_retries() {
    let cases = [
        Reply::Raw {
            status: 200,
            content_type: "text/plain",
            body: "hello".into(),
        },
        Reply::Raw {
            status: 200,
            content_type: "text/html",
            body: "<html>login</html>".into(),
        },
        Reply::Raw {
            status: 200,
            content_type: "application/json",
            body: String::new(),
        },
        // JSON, errcode 0, but not the documented shape.
        Reply::Json(json!({ "errcode": 0, "errmsg": "ok", "order_list": "none" })),
        Reply::Json(json!({ "errcode": 0, "errmsg": "ok", "next_cursor": "",
                            "order_list": [{ "order_id": "o" }] })),
        // A 404 page (a path the server does not serve).
        Reply::Raw {
            status: 404,
            content_type: "text/plain",
            body: String::new(),
        },
    ];
    for reply in cases {
        let stub = Stub::spawn().await;
        stub.script().list.fallback = Some(reply.clone());
        let client = stub.client(fast());
        let answer = client.get_order_list(&first_page()).await;
        let expected_status = match &reply {
            Reply::Raw { status, .. } => *status,
            _ => 200,
        };
        match answer {
            Err(Error::Decode { status, .. }) => assert_eq!(status, expected_status, "{reply:?}"),
            other => panic!("{reply:?}: {other:?}"),
        }
        assert_eq!(stub.list_hits(), 1, "{reply:?} is not retried");
        assert_eq!(stub.gettoken_hits(), 1);
    }

    // gettoken answering non-JSON.
    let stub = Stub::spawn().await;
    stub.script().gettoken.fallback = Some(Reply::Raw {
        status: 200,
        content_type: "text/plain",
        body: "nope".into(),
    });
    let client = stub.client(fast());
    let answer = client.get_order_info("o1").await;
    assert!(
        matches!(answer, Err(Error::Decode { status: 200, .. })),
        "{answer:?}"
    );
    assert_eq!(stub.gettoken_hits(), 1);
}

// ---------------------------------------------------------------------------------------------
// WeCom's documentation quirks and paging

#[tokio::test]
async fn documentation_quirks_decode() {
    let quirky = json!({
        "order_id": "o", "desc": "d", "urge_type": "2", "case_name": "c", "grid_name": 1,
        "grid_id": "g", "create_time": "12345678",
        "location": { "name": "n", "address": "a", "latitude": 0, "longitude": "120.5" },
        "processor_userids": null,
        "process_list": [
            { "process_type": 1, "solve_userid": null, "process_desc": "p", "status": "1",
              "solved_time": 123456789.0 },
            { "process_type": "7", "process_desc": "q", "status": 0 }
        ]
    });
    let stub = Stub::spawn().await;
    stub.script().list.fallback = Some(Reply::Json(json!({
        "errcode": 0, "errmsg": "ok", "next_cursor": "", "order_list": [quirky.clone()]
    })));
    stub.script().info.fallback = Some(Reply::Json(json!({
        "errcode": 0, "errmsg": "ok", "order_info": quirky
    })));
    stub.script().gettoken.fallback = Some(Reply::Json(json!({
        "errcode": 0, "errmsg": "ok", "access_token": "t", "expires_in": "7200"
    })));
    let client = stub.client(fast());

    let check = |order: &Order| {
        assert_eq!(order.order_id, "o");
        assert_eq!(order.urge_type, 2);
        assert_eq!(order.grid_name, "1");
        assert_eq!(order.create_time, 12_345_678);
        assert_eq!(order.location.latitude, 0.0);
        assert_eq!(order.location.longitude, 120.5);
        assert!(order.processor_userids.is_empty());
        assert!(order.image_urls.is_empty() && order.video_media_ids.is_empty());
        let first = &order.process_list[0];
        assert_eq!(first.solve_userid, "");
        assert_eq!((first.status, first.solved_time), (1, 123_456_789));
        let second = &order.process_list[1];
        assert_eq!(second.process_type, 7);
        assert_eq!(second.solve_userid, "");
        assert_eq!(second.solved_time, 0);
        assert!(second.image_urls.is_empty() && second.video_media_ids.is_empty());
    };
    let orders: Vec<Order> = client
        .orders(OrderQuery::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(orders.len(), 1);
    check(&orders[0]);
    let info = client.get_order_info("o").await.unwrap();
    check(&info);
    assert_eq!(info, orders[0]);
    assert_eq!(
        stub.gettoken_hits(),
        1,
        "expires_in as a string is understood"
    );

    // A missing location, a null order_list and a missing next_cursor.
    stub.script().info.fallback = Some(Reply::Json(json!({
        "errcode": 0, "errmsg": "ok",
        "order_info": { "order_id": 7, "desc": "d", "urge_type": 1.0, "case_name": "c",
                        "grid_name": "g", "grid_id": 3, "create_time": 1, "process_list": [] }
    })));
    let info = client.get_order_info("7").await.unwrap();
    assert_eq!((info.order_id.as_str(), info.grid_id.as_str()), ("7", "3"));
    assert_eq!(info.location.name, "");
    stub.script().list.fallback = Some(Reply::Json(json!({
        "errcode": 0, "errmsg": "ok", "order_list": null
    })));
    let pages: Vec<_> = client
        .pages(OrderQuery::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 1);
    assert!(pages[0].orders.is_empty() && pages[0].next_cursor.is_empty());
}

#[tokio::test]
async fn pages_follow_next_cursor_and_send_the_query() {
    let stub = Stub::spawn().await;
    {
        let mut script = stub.script();
        script.list.script.push_back(list_ok(&["a", "b"], "c1"));
        script.list.script.push_back(list_ok(&["c", "d"], "c2"));
        script.list.script.push_back(list_ok(&["e"], ""));
    }
    let client = stub.client(fast());
    let orders: Vec<Order> = client
        .orders(OrderQuery {
            begin_create_time: Some(5),
            begin_modify_time: None,
            limit: Some(2),
            cursor: None,
        })
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = orders.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c", "d", "e"]);
    let bodies: Vec<Value> = stub
        .script()
        .list
        .bodies
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            json!({ "begin_create_time": 5, "limit": 2 }),
            json!({ "begin_create_time": 5, "cursor": "c1", "limit": 2 }),
            json!({ "begin_create_time": 5, "cursor": "c2", "limit": 2 }),
        ]
    );

    // Resuming from a cursor, with the default page size.
    stub.script().list.script.push_back(list_ok(&["x"], ""));
    let pages: Vec<_> = client
        .pages(OrderQuery {
            begin_modify_time: Some(9),
            cursor: Some("c7".into()),
            ..OrderQuery::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 1);
    let last: Value = serde_json::from_str(stub.script().list.bodies.last().unwrap()).unwrap();
    assert_eq!(
        last,
        json!({ "begin_modify_time": 9, "cursor": "c7", "limit": 50 })
    );
    assert_eq!(stub.gettoken_hits(), 1);
}

#[tokio::test]
async fn a_walk_ends_after_its_first_error() {
    let stub = Stub::spawn().await;
    {
        let mut script = stub.script();
        script.list.script.push_back(list_ok(&["a", "b"], "c1"));
        script.list.script.push_back(errcode(40058));
        script.list.script.push_back(list_ok(&["never"], ""));
    }
    let client = stub.client(fast());
    let items: Vec<_> = client.orders(OrderQuery::default()).collect().await;
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(items[0].as_ref().unwrap().order_id, "a");
    assert_eq!(items[1].as_ref().unwrap().order_id, "b");
    assert_eq!(items[2].as_ref().unwrap_err().errcode(), Some(40058));
    assert_eq!(stub.list_hits(), 2);

    // The pages stream too; its last good page's cursor resumes the walk.
    stub.script().list.script.clear();
    {
        let mut script = stub.script();
        script.list.script.push_back(list_ok(&["a"], "c1"));
        script.list.script.push_back(errcode(48002));
        script.list.script.push_back(list_ok(&["b"], ""));
    }
    let pages: Vec<_> = client.pages(OrderQuery::default()).collect().await;
    assert_eq!(pages.len(), 2);
    let cursor = pages[0].as_ref().unwrap().next_cursor.clone();
    assert_eq!(pages[1].as_ref().unwrap_err().errcode(), Some(48002));
    let rest: Vec<Order> = client
        .orders(OrderQuery {
            cursor: Some(cursor),
            ..OrderQuery::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rest[0].order_id, "b");
}

#[tokio::test]
async fn builder_refuses_settings_that_cannot_work() {
    let config = |result: patrol_client::Result<Client>| match result {
        Err(Error::Config(message)) => message,
        other => panic!("{other:?}"),
    };
    let base = || {
        Client::builder()
            .base_url("http://127.0.0.1:1")
            .corpid("ww")
            .secret("s")
    };
    assert!(config(base().corpid("").build()).contains("corpid"));
    assert!(config(base().secret("").build()).contains("secret"));
    assert!(config(base().base_url("ftp://x").build()).contains("http"));
    let client = base().base_url("http://127.0.0.1:1/").build().unwrap();
    assert_eq!(client.base_url(), "http://127.0.0.1:1");
    assert_eq!(
        Client::builder()
            .corpid("a")
            .secret("b")
            .build()
            .unwrap()
            .base_url(),
        patrol_client::WECOM_BASE_URL
    );
}

#[tokio::test]
async fn odd_token_lifetimes_neither_panic_nor_stick() {
    // A lifetime no clock can hold, a zero one, and a negative one.
    for (expires_in, fetches_after_three_calls) in [(i64::MAX, 1), (0, 3), (-5, 3)] {
        let stub = Stub::spawn().await;
        stub.script().gettoken.fallback = Some(Reply::Json(json!({
            "errcode": 0, "errmsg": "ok", "access_token": "t", "expires_in": expires_in
        })));
        let client = stub.client(fast());
        for _ in 0..3 {
            client
                .get_order_info("o1")
                .await
                .unwrap_or_else(|e| panic!("expires_in {expires_in}: {e}"));
        }
        assert_eq!(
            stub.gettoken_hits(),
            fetches_after_three_calls,
            "expires_in {expires_in}"
        );
    }
}

#[tokio::test]
async fn a_token_is_replaced_ahead_of_its_expiry() {
    // A 2 s token: with the default margin (300 s, at most half the lifetime) it is replaced
    // after 1 s, before the server could refuse it.
    let stub = Stub::spawn().await;
    stub.script().expires_in = Some(2);
    let client = stub.client(fast());
    client.get_order_info("o1").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    client.get_order_info("o1").await.unwrap();
    assert_eq!(stub.gettoken_hits(), 2);
    assert_eq!(stub.script().info.tokens, ["token-1", "token-2"]);

    // With no margin, the same token is used up to its expiry.
    let stub = Stub::spawn().await;
    stub.script().expires_in = Some(2);
    let client = Client::builder()
        .base_url(&stub.base_url)
        .corpid("wwstub")
        .secret("stub-secret")
        .retry(fast())
        .refresh_ahead(Duration::ZERO)
        .build()
        .unwrap();
    client.get_order_info("o1").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    client.get_order_info("o1").await.unwrap();
    assert_eq!(stub.gettoken_hits(), 1);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    client.get_order_info("o1").await.unwrap();
    assert_eq!(stub.gettoken_hits(), 2);
    assert_eq!(stub.script().info.tokens, ["token-1", "token-1", "token-2"]);
}
