//! Connections: idle and slow clients are closed within the configured timeouts, a running
//! request is not, and the connection caps refuse the excess while others are still answered.
//! Raw TCP clients; the timeouts are short so that the tests are quick, and the bounds generous.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use patrol_server::connections::BUSY;
use patrol_test::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;

/// How much later than its timeout a connection may be closed: a loaded machine is slow.
const SLACK: Duration = Duration::from_secs(10);
/// The share of a timeout that must pass before a close counts as on time, not early.
const NOT_BEFORE: f64 = 0.8;

const GETTOKEN: &[u8] =
    b"GET /cgi-bin/gettoken?corpid=wwnone&corpsecret=x HTTP/1.1\r\nHost: patrol\r\n\r\n";

fn loopback(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, last)
}

/// A `gettoken` that the server answers HTTP 200 (with an errcode).
fn gettoken_url(app: &TestApp) -> String {
    format!(
        "{}/cgi-bin/gettoken?corpid=wwnone&corpsecret=x",
        app.base_url
    )
}

/// A connection to the server from the loopback address `from`.
async fn connect_from(from: Ipv4Addr, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket
        .bind(SocketAddr::new(from.into(), 0))
        .expect("a loopback address to bind");
    socket.connect(server).await.expect("the server accepts")
}

/// Waits for the server to close `stream` and returns how long that took; fails past `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Duration {
    let started = Instant::now();
    let mut buffer = [0; 1024];
    let closed = tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the server kept the connection open longer than {within:?}"
    );
    started.elapsed()
}

/// Sends one byte of a request head every 100 ms, never completing it, until the server closes
/// the connection; returns how long after the first byte that was.
async fn trickle_until_closed(stream: &mut TcpStream, within: Duration) -> Duration {
    let started = Instant::now();
    let mut head = b"GET /cgi-bin/gettoken HTTP/1.1\r\nX-Slow: ".to_vec();
    head.resize(1000, b'a');
    let mut buffer = [0; 1024];
    let mut ticks = tokio::time::interval(Duration::from_millis(100));
    for byte in head {
        if started.elapsed() > within {
            break;
        }
        tokio::select! {
            read = stream.read(&mut buffer) => match read {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => panic!("the server answered an incomplete request head"),
            },
            _ = ticks.tick() => {
                if stream.write_all(&[byte]).await.is_err() {
                    return started.elapsed();
                }
            }
        }
    }
    panic!("the server kept a slow request head open longer than {within:?}");
}

/// Reads one HTTP answer (head and `Content-Length` body) from `stream`.
async fn read_answer(stream: &mut TcpStream) -> (String, String) {
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    tokio::time::timeout(SLACK, async {
        loop {
            let read = stream.read(&mut buffer).await.expect("an answer");
            assert!(
                read > 0,
                "closed before a whole answer: {:?}",
                String::from_utf8_lossy(&received)
            );
            received.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&received).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().expect("a length"))
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    return (head.to_owned(), body.to_owned());
                }
            }
        }
    })
    .await
    .expect("an answer in time")
}

/// What a refused connection receives, up to the server's close.
async fn refusal(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    tokio::time::timeout(SLACK, stream.read_to_end(&mut received))
        .await
        .expect("the refusal in time")
        .expect("the refusal");
    String::from_utf8(received).expect("a text answer")
}

/// A client whose connections come from the loopback address `from`.
fn client_from(from: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(from))
        .build()
        .expect("a client")
}

/// Waits until a `gettoken` from `client` is answered 200 again, as freed connections are
/// counted out shortly after they close.
async fn answered_again(app: &TestApp, client: &reqwest::Client) {
    let url = gettoken_url(app);
    let deadline = Instant::now() + SLACK;
    loop {
        let status = client.get(&url).send().await.expect("an answer").status();
        if status == 200 {
            return;
        }
        assert_eq!(status, 503, "refused connections answer 503");
        assert!(Instant::now() < deadline, "still refused after {SLACK:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[track_caller]
fn assert_not_early(elapsed: Duration, timeout: Duration) {
    assert!(
        elapsed >= timeout.mul_f64(NOT_BEFORE),
        "closed after {elapsed:?}, before its timeout of {timeout:?}"
    );
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_read_timeout() {
    let header_read_timeout = Duration::from_secs(1);
    let app = TestApp::spawn_with(|config| {
        config.header_read_timeout = header_read_timeout;
        config.idle_timeout = Duration::from_secs(60);
    })
    .await;
    let mut stream = connect_from(loopback(1), app.address()).await;
    let elapsed = closed_within(&mut stream, header_read_timeout + SLACK).await;
    eprintln!(
        "silent connection closed after {elapsed:?} (header_read_timeout {header_read_timeout:?})"
    );
    assert_not_early(elapsed, header_read_timeout);
}

#[tokio::test]
async fn a_slow_request_head_is_closed_after_the_header_read_timeout() {
    let header_read_timeout = Duration::from_secs(1);
    let app = TestApp::spawn_with(|config| {
        config.header_read_timeout = header_read_timeout;
        config.idle_timeout = Duration::from_secs(60);
    })
    .await;
    let mut stream = connect_from(loopback(1), app.address()).await;
    let elapsed = trickle_until_closed(&mut stream, header_read_timeout + SLACK).await;
    eprintln!("slow head closed after {elapsed:?} (header_read_timeout {header_read_timeout:?})");
    assert_not_early(elapsed, header_read_timeout);
}

#[tokio::test]
async fn a_kept_alive_connection_is_closed_after_the_idle_timeout_not_the_header_read_timeout() {
    let header_read_timeout = Duration::from_secs(1);
    let idle_timeout = Duration::from_secs(3);
    let app = TestApp::spawn_with(|config| {
        config.header_read_timeout = header_read_timeout;
        config.idle_timeout = idle_timeout;
    })
    .await;
    let mut stream = connect_from(loopback(1), app.address()).await;
    stream.write_all(GETTOKEN).await.unwrap();
    let (head, _) = read_answer(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    let elapsed = closed_within(&mut stream, idle_timeout + SLACK).await;
    eprintln!(
        "idle kept-alive connection closed after {elapsed:?} (idle_timeout {idle_timeout:?})"
    );
    assert_not_early(elapsed, idle_timeout);
}

#[tokio::test]
async fn a_slow_second_request_head_is_closed_after_the_header_read_timeout() {
    let header_read_timeout = Duration::from_secs(1);
    let app = TestApp::spawn_with(|config| {
        config.header_read_timeout = header_read_timeout;
        config.idle_timeout = Duration::from_secs(60);
    })
    .await;
    let mut stream = connect_from(loopback(1), app.address()).await;
    stream.write_all(GETTOKEN).await.unwrap();
    let (head, _) = read_answer(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    // Idle for longer than the header timeout: that is the idle timeout's business.
    tokio::time::sleep(header_read_timeout * 2).await;
    stream.write_all(GETTOKEN).await.unwrap();
    let (head, _) = read_answer(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    // The head clock starts at the next request's first byte.
    let elapsed = trickle_until_closed(&mut stream, header_read_timeout + SLACK).await;
    eprintln!(
        "slow second head closed after {elapsed:?} (header_read_timeout {header_read_timeout:?})"
    );
    assert_not_early(elapsed, header_read_timeout);
}

#[tokio::test]
async fn a_request_being_handled_is_not_cut_by_the_idle_timeout() {
    let idle_timeout = Duration::from_secs(1);
    let app = TestApp::spawn_with(|config| {
        config.header_read_timeout = Duration::from_secs(1);
        config.idle_timeout = idle_timeout;
    })
    .await;
    let (_, token) = app.corp_and_token("wwslowbody").await;
    let mut stream = connect_from(loopback(1), app.address()).await;
    let head = format!(
        "POST /cgi-bin/report/patrol/get_order_list?access_token={token} HTTP/1.1\r\n\
         Host: patrol\r\nContent-Length: 2\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // The handler waits for the body, silent for longer than both timeouts.
    tokio::time::sleep(idle_timeout * 3).await;
    stream.write_all(b"{}").await.unwrap();
    let (head, body) = read_answer(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["errcode"], 0, "{body}");
}

#[tokio::test]
async fn one_client_cannot_hold_more_than_its_share_of_connections() {
    let app = TestApp::spawn_with(|config| {
        config.header_read_timeout = Duration::from_secs(60);
        config.max_connections = 16;
        config.max_connections_per_ip = 3;
    })
    .await;
    let server = app.address();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from(loopback(1), server).await);
    }
    let mut over = connect_from(loopback(1), server).await;
    assert_eq!(refusal(&mut over).await.as_bytes(), BUSY);
    // A refused client that sends its request at once still reads the refusal.
    let mut eager = connect_from(loopback(1), server).await;
    eager.write_all(GETTOKEN).await.unwrap();
    assert_eq!(refusal(&mut eager).await.as_bytes(), BUSY);

    // Another client is served meanwhile.
    let other = client_from(loopback(2));
    for _ in 0..5 {
        let status = other
            .get(gettoken_url(&app))
            .send()
            .await
            .expect("an answer")
            .status();
        assert_eq!(status, 200);
    }

    // A connection given back makes room for the capped client again.
    drop(held.pop());
    answered_again(&app, &client_from(loopback(1))).await;
}

#[tokio::test]
async fn past_the_connection_cap_new_connections_are_refused_until_some_close() {
    let app = TestApp::spawn_with(|config| {
        config.header_read_timeout = Duration::from_secs(60);
        config.max_connections = 4;
        config.max_connections_per_ip = 3;
    })
    .await;
    let server = app.address();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from(loopback(1), server).await);
    }
    held.push(connect_from(loopback(2), server).await);
    for client in [2, 3] {
        let mut over = connect_from(loopback(client), server).await;
        assert_eq!(refusal(&mut over).await.as_bytes(), BUSY);
    }
    let third = client_from(loopback(3));
    let refused = third
        .get(gettoken_url(&app))
        .send()
        .await
        .expect("an answer");
    assert_eq!(refused.status(), 503);
    assert_eq!(
        refused.headers()["retry-after"],
        "1",
        "{:?}",
        refused.headers()
    );
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["errcode"], -1, "{body}");

    drop(held.remove(0));
    answered_again(&app, &third).await;
}
