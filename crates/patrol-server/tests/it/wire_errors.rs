//! The wire contract of decisions.md ("Transport", "JSON bodies", get_order_info's 40063 and
//! 40058): status codes, envelopes, where the token comes from, the order of checks, and how
//! bodies are read, over HTTP against the real server.

use std::time::Duration;

use patrol_domain::{AppKind, TokenGrant};
use patrol_test::{
    PAST, TestApp, TestCorp, errcode, errmsg, new_order, numbered_orders, split_errmsg,
    wecom_error_text,
};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use serde_json::Value;

const LIST: &str = "/cgi-bin/report/patrol/get_order_list";
const INFO: &str = "/cgi-bin/report/patrol/get_order_info";
const WARNING: &str = "Warning: wrong json format. ";
const MIB: usize = 1024 * 1024;

/// The body of the seed's own example of get_order_list, trailing comma included, with an empty
/// cursor (a first page).
const SEED_LIST_BODY: &str = "{\n \"begin_create_time\": 12345678,\n \"begin_modify_time\": 12345678,\n \"cursor\": \"\",\n \"limit\": 20,\n}";

/// `path?access_token=TOKEN` as an absolute URL.
fn url(app: &TestApp, path: &str, token: &str) -> String {
    format!("{}{path}?access_token={token}", app.base_url)
}

/// Sends a request; the answer must be HTTP 200, a JSON content type, and a JSON object with an
/// integer `errcode` and a string `errmsg`.
async fn send(request: reqwest::RequestBuilder) -> Value {
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = response.text().await.expect("a readable body");
    assert_eq!(status, 200, "{text}");
    assert!(
        content_type.starts_with("application/json"),
        "content type {content_type:?} of {text}"
    );
    let value: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    assert!(value["errcode"].is_i64(), "no integer errcode: {text}");
    assert!(value["errmsg"].is_string(), "no string errmsg: {text}");
    value
}

/// POSTs raw bytes to a patrol path with a token; see [`send`].
async fn post_bytes(
    app: &TestApp,
    path: &str,
    token: &str,
    body: impl Into<reqwest::Body>,
) -> Value {
    send(app.http.post(url(app, path, token)).body(body)).await
}

/// A token of an app of the corp that is not enabled for patrol (48002 on the patrol API).
async fn forbidden_token(app: &TestApp, corp: &TestCorp) -> String {
    app.app(corp, 1_000_009, AppKind::Custom, false, true, "secret-x")
        .await;
    app.token_for(&corp.corpid, "secret-x").await
}

/// A token of a patrol-enabled app of the corp that expired long ago.
async fn expired_token(app: &TestApp, corp: &TestCorp) -> String {
    app.app(corp, 1_000_008, AppKind::Custom, true, true, "secret-old")
        .await;
    let issued = app.now() - 100_000;
    let grant = app
        .store
        .grant_token(&corp.corpid, "secret-old", issued, 7200, [8; 32])
        .await
        .unwrap();
    match grant {
        TokenGrant::Granted { token, expires_at } => {
            assert!(expires_at < app.now());
            token
        }
        _ => panic!("the old token was not granted"),
    }
}

/// A normal call still works: the server is alive and serving.
async fn assert_still_serving(app: &TestApp, token: &str) {
    let answer = app.patrol("get_order_list", token, "{}").await;
    assert_eq!(errcode(&answer), 0, "{answer}");
    assert_eq!(errmsg(&answer), "ok");
}

/// The status and body of a POST whose body is sent chunked (no Content-Length), over a plain
/// socket, the chunks written one by one.
async fn post_chunked(app: &TestApp, path_and_query: &str, chunks: Vec<Vec<u8>>) -> (u16, String) {
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let path_and_query = path_and_query.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&address).expect("the server accepts");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let head = format!(
            "POST {path_and_query} HTTP/1.1\r\nHost: {address}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        for chunk in chunks {
            let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
            frame.extend_from_slice(&chunk);
            frame.extend_from_slice(b"\r\n");
            // The server may stop reading once it has refused the body.
            if stream.write_all(&frame).is_err() {
                break;
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n");
        let mut raw = Vec::new();
        // Bytes read before an error (a reset after the answer) stay in `raw`.
        let _ = stream.read_to_end(&mut raw);
        parse_http_response(&raw)
    })
    .await
    .unwrap()
}

/// The status and body of a raw HTTP/1.1 response (Content-Length or chunked).
fn parse_http_response(raw: &[u8]) -> (u16, String) {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let mut chunked = false;
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        if name == "content-length" {
            let length: usize = value.parse().unwrap();
            assert!(body.len() >= length, "a truncated body in {head:?}");
            body = &body[..length];
        } else if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
    }
    if !chunked {
        return (status, String::from_utf8_lossy(body).into_owned());
    }
    let mut decoded = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk size line");
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..line_end]).unwrap().trim(), 16)
                .unwrap();
        body = &body[line_end + 2..];
        if size == 0 {
            break;
        }
        decoded.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
    (status, String::from_utf8_lossy(&decoded).into_owned())
}

#[tokio::test]
async fn successes_are_http_200_with_errcode_0_and_errmsg_ok() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwok").await;
    app.insert(&corp, vec![new_order("o1", PAST)]).await;

    let grant = send(app.http.get(format!(
        "{}/cgi-bin/gettoken?corpid={}&corpsecret={}",
        app.base_url, corp.corpid, corp.secret
    )))
    .await;
    assert_eq!(errcode(&grant), 0, "{grant}");
    assert_eq!(errmsg(&grant), "ok");
    let token = grant["access_token"].as_str().unwrap().to_owned();

    let list = post_bytes(&app, LIST, &token, "{}").await;
    assert_eq!(errcode(&list), 0, "{list}");
    assert_eq!(errmsg(&list), "ok");
    assert_eq!(list["order_list"].as_array().unwrap().len(), 1);

    let info = post_bytes(&app, INFO, &token, r#"{"order_id":"o1"}"#).await;
    assert_eq!(errcode(&info), 0, "{info}");
    assert_eq!(errmsg(&info), "ok");
    assert_eq!(info["order_info"]["order_id"], "o1");
}

#[tokio::test]
async fn every_error_under_cgi_bin_is_http_200_with_errcode_and_errmsg() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwerrors").await;
    let token = app.token(&corp).await;
    let forbidden = forbidden_token(&app, &corp).await;
    let expired = expired_token(&app, &corp).await;
    let base = &app.base_url;
    let gettoken = |query: &str| app.http.get(format!("{base}/cgi-bin/gettoken?{query}"));
    let cases: Vec<(reqwest::RequestBuilder, i64)> = vec![
        (gettoken("corpid=wwerrors"), 41004),
        (gettoken("corpsecret=x"), 41002),
        (gettoken("corpid=wwnobody&corpsecret=x"), 40013),
        (gettoken("corpid=wwerrors&corpsecret=wrong"), 40001),
        (app.http.post(format!("{base}{LIST}")).body("{}"), 41001),
        (
            app.http.post(url(&app, LIST, "never-issued")).body("{}"),
            40014,
        ),
        (app.http.post(url(&app, LIST, &expired)).body("{}"), 42001),
        (app.http.post(url(&app, LIST, &forbidden)).body("{}"), 48002),
        (app.http.post(url(&app, LIST, &token)).body("{"), 40058),
        (
            app.http
                .post(url(&app, LIST, &token))
                .body(r#"{"limit":51}"#),
            40058,
        ),
        (
            app.http
                .post(url(&app, LIST, &token))
                .body(r#"{"cursor":"forged"}"#),
            40058,
        ),
        (app.http.get(url(&app, LIST, &token)), 40058),
        (app.http.post(url(&app, INFO, &token)).body("{}"), 40063),
        (
            app.http
                .post(url(&app, INFO, &token))
                .body(r#"{"order_id":"nope"}"#),
            40058,
        ),
    ];
    for (request, code) in cases {
        let answer = send(request).await;
        wecom_error_text(&answer, code);
    }
}

#[tokio::test]
async fn a_body_is_json_whatever_its_content_type() {
    let app = TestApp::spawn().await;
    let (_corp, token) = app
        .corp_with_orders("wwctype", numbered_orders(3, PAST, 0))
        .await;
    let content_types = [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/octet-stream"),
        Some("multipart/form-data; boundary=xyz"),
        Some("application/json"),
        Some("application/json; charset=GBK"),
    ];
    for content_type in content_types {
        let mut request = app
            .http
            .post(url(&app, LIST, &token))
            .body(r#"{"limit":2}"#);
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        let page = send(request).await;
        assert_eq!(errcode(&page), 0, "{content_type:?}: {page}");
        assert_eq!(errmsg(&page), "ok");
        assert_eq!(
            page["order_list"].as_array().unwrap().len(),
            2,
            "{content_type:?}"
        );

        let mut request = app
            .http
            .post(url(&app, INFO, &token))
            .body(r#"{"order_id":"o1"}"#);
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        let info = send(request).await;
        assert_eq!(errcode(&info), 0, "{content_type:?}: {info}");
        assert_eq!(info["order_info"]["order_id"], "o1");
    }
    // A form body is not read as a form: it is not JSON.
    let form = send(
        app.http
            .post(url(&app, LIST, &token))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("limit=2"),
    )
    .await;
    wecom_error_text(&form, 40058);
}

#[tokio::test]
async fn an_empty_or_whitespace_body_is_an_empty_object() {
    let app = TestApp::spawn().await;
    let (_corp, token) = app
        .corp_with_orders("wwempty", numbered_orders(25, PAST, 0))
        .await;
    for body in ["", " ", " \r\n\t  \n"] {
        let page = app.patrol("get_order_list", &token, body).await;
        assert_eq!(errcode(&page), 0, "{body:?}: {page}");
        assert_eq!(errmsg(&page), "ok");
        assert_eq!(page["order_list"].as_array().unwrap().len(), 20, "{body:?}");
        assert_ne!(page["next_cursor"], "", "{body:?}");

        let info = app.patrol("get_order_info", &token, body).await;
        let text = wecom_error_text(&info, 40063);
        assert!(text.contains("order_id"), "{body:?}: {info}");
    }
}

#[tokio::test]
async fn a_post_endpoint_called_with_another_method_answers_40058() {
    let app = TestApp::spawn().await;
    let (_corp, token) = app
        .corp_with_orders("wwmethod", numbered_orders(1, PAST, 0))
        .await;
    for path in [LIST, INFO] {
        for method in [
            Method::GET,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::OPTIONS,
        ] {
            let without_body =
                send(app.http.request(method.clone(), url(&app, path, &token))).await;
            wecom_error_text(&without_body, 40058);
            let body = if path == LIST {
                "{}"
            } else {
                r#"{"order_id":"o0"}"#
            };
            let with_body = send(
                app.http
                    .request(method.clone(), url(&app, path, &token))
                    .body(body),
            )
            .await;
            wecom_error_text(&with_body, 40058);
            assert!(with_body.get("order_list").is_none() && with_body.get("order_info").is_none());
        }
    }
    // The token is checked before the method.
    let no_token = send(app.http.get(format!("{}{LIST}", app.base_url))).await;
    wecom_error_text(&no_token, 41001);
}

#[tokio::test]
async fn the_token_is_read_from_the_access_token_query_parameter_only() {
    let app = TestApp::spawn().await;
    let (_corp, token) = app
        .corp_with_orders("wwwhere", numbered_orders(1, PAST, 0))
        .await;
    let bare = format!("{}{LIST}", app.base_url);

    let bearer = send(
        app.http
            .post(&bare)
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .body("{}"),
    )
    .await;
    wecom_error_text(&bearer, 41001);

    let header = send(
        app.http
            .post(&bare)
            .header("access_token", &token)
            .body("{}"),
    )
    .await;
    wecom_error_text(&header, 41001);

    let cookie = send(
        app.http
            .post(&bare)
            .header(COOKIE, format!("access_token={token}"))
            .body("{}"),
    )
    .await;
    wecom_error_text(&cookie, 41001);

    let in_body = send(
        app.http
            .post(&bare)
            .body(serde_json::json!({ "access_token": token }).to_string()),
    )
    .await;
    wecom_error_text(&in_body, 41001);

    let in_form_body = send(
        app.http
            .post(&bare)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!("access_token={token}")),
    )
    .await;
    wecom_error_text(&in_form_body, 41001);

    let empty = send(app.http.post(format!("{bare}?access_token=")).body("{}")).await;
    wecom_error_text(&empty, 41001);

    let other_name = send(app.http.post(format!("{bare}?token={token}")).body("{}")).await;
    wecom_error_text(&other_name, 41001);

    // The same token in the query string works.
    let ok = post_bytes(&app, LIST, &token, "{}").await;
    assert_eq!(errcode(&ok), 0, "{ok}");
}

#[tokio::test]
async fn unknown_and_overlong_tokens_get_40014() {
    let app = TestApp::spawn().await;
    let (_corp, token) = app
        .corp_with_orders("wwunknown", numbered_orders(1, PAST, 0))
        .await;

    let never_issued = post_bytes(&app, LIST, "never-issued-token", "{}").await;
    wecom_error_text(&never_issued, 40014);

    let last = if token.ends_with('x') { 'y' } else { 'x' };
    let similar = format!("{}{last}", &token[..token.len() - 1]);
    assert_ne!(similar, token);
    let edited = post_bytes(&app, LIST, &similar, "{}").await;
    wecom_error_text(&edited, 40014);

    let longer = format!("{token}{}", "A".repeat(513 - token.len()));
    assert_eq!(longer.len(), 513);
    let over = post_bytes(&app, LIST, &longer, "{}").await;
    wecom_error_text(&over, 40014);

    let much_longer = "T".repeat(8 * 1024);
    let far_over = post_bytes(&app, INFO, &much_longer, r#"{"order_id":"o0"}"#).await;
    wecom_error_text(&far_over, 40014);

    // The token itself still works.
    assert_still_serving(&app, &token).await;
}

#[tokio::test]
async fn checks_run_in_order_token_permission_body_data() {
    let app = TestApp::spawn().await;
    let (corp, token) = app
        .corp_with_orders("wworder", numbered_orders(1, PAST, 0))
        .await;
    let forbidden = forbidden_token(&app, &corp).await;
    let expired = expired_token(&app, &corp).await;
    let broken = "{\"order_id\":";

    let no_token = send(
        app.http
            .post(format!("{}{INFO}", app.base_url))
            .body(broken),
    )
    .await;
    wecom_error_text(&no_token, 41001);
    let empty_token = post_bytes(&app, INFO, "", broken).await;
    wecom_error_text(&empty_token, 41001);
    let unknown = post_bytes(&app, INFO, "never-issued", broken).await;
    wecom_error_text(&unknown, 40014);
    let old = post_bytes(&app, INFO, &expired, broken).await;
    wecom_error_text(&old, 42001);
    let not_allowed = post_bytes(&app, INFO, &forbidden, broken).await;
    assert_eq!(wecom_error_text(&not_allowed, 48002), "api forbidden");
    let bad_body = post_bytes(&app, INFO, &token, broken).await;
    wecom_error_text(&bad_body, 40058);
    let missing = post_bytes(&app, INFO, &token, r#"{"order_id":""}"#).await;
    wecom_error_text(&missing, 40063);
    let unknown_order = post_bytes(&app, INFO, &token, r#"{"order_id":"nope"}"#).await;
    assert_eq!(wecom_error_text(&unknown_order, 40058), "invalid order_id");

    // The same order on get_order_list, and a forbidden app with a good body.
    let list_forbidden = post_bytes(&app, LIST, &forbidden, "{").await;
    wecom_error_text(&list_forbidden, 48002);
    let list_broken = post_bytes(&app, LIST, &token, "{").await;
    wecom_error_text(&list_broken, 40058);
    let forbidden_good_body = post_bytes(&app, INFO, &forbidden, r#"{"order_id":"o0"}"#).await;
    wecom_error_text(&forbidden_good_body, 48002);
    let found = post_bytes(&app, INFO, &token, r#"{"order_id":"o0"}"#).await;
    assert_eq!(errcode(&found), 0, "{found}");
}

#[tokio::test]
async fn unserved_cgi_bin_paths_are_http_404_with_an_empty_body() {
    let app = TestApp::spawn().await;
    let (_corp, token) = app
        .corp_with_orders("ww404", numbered_orders(1, PAST, 0))
        .await;
    let paths = [
        "/cgi-bin/report/patrol/get_grid_infos",
        "/cgi-bin/report/patrol/list_cata",
        "/cgi-bin/report/patrol/",
        "/cgi-bin/report/patrol/get_order_list/",
        "/cgi-bin/nope",
        "/cgi-bin/",
        "/cgi-bin/gettoken/extra",
    ];
    for path in paths {
        for with_token in [false, true] {
            let target = if with_token {
                url(&app, path, &token)
            } else {
                format!("{}{path}", app.base_url)
            };
            for request in [app.http.get(&target), app.http.post(&target).body("{}")] {
                let response = request.send().await.expect("the server answers");
                let status = response.status().as_u16();
                let body = response.bytes().await.unwrap();
                assert_eq!(status, 404, "{path}: {body:?}");
                assert!(body.is_empty(), "{path}: {body:?}");
            }
        }
    }
    assert_still_serving(&app, &token).await;
}

#[tokio::test]
async fn an_error_errmsg_has_wecoms_shape_and_a_fresh_request_id() {
    let app = TestApp::spawn().await;
    let (_corp, token) = app
        .corp_with_orders("wwshape", numbered_orders(1, PAST, 0))
        .await;

    let first = post_bytes(&app, INFO, &token, r#"{"order_id":"nope"}"#).await;
    let second = post_bytes(&app, INFO, &token, r#"{"order_id":"nope"}"#).await;
    for answer in [&first, &second] {
        let text = wecom_error_text(answer, 40058);
        assert_eq!(text, "invalid order_id");
        assert!(errmsg(answer).ends_with(
            "from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=40058"
        ));
    }
    assert_ne!(
        split_errmsg(errmsg(&first)).hint,
        split_errmsg(errmsg(&second)).hint,
        "two requests share a request id"
    );

    // The link names the errcode of each error, and ids differ across many requests.
    let missing = post_bytes(&app, INFO, &token, "{}").await;
    wecom_error_text(&missing, 40063);
    let no_token = send(app.http.post(format!("{}{LIST}", app.base_url)).body("{}")).await;
    wecom_error_text(&no_token, 41001);
    let no_secret = send(
        app.http
            .get(format!("{}/cgi-bin/gettoken?corpid=wwshape", app.base_url)),
    )
    .await;
    wecom_error_text(&no_secret, 41004);
    let mut ids = std::collections::HashSet::new();
    for _ in 0..20 {
        let answer = post_bytes(&app, LIST, "never-issued", "{}").await;
        wecom_error_text(&answer, 40014);
        assert!(ids.insert(split_errmsg(errmsg(&answer)).hint.to_owned()));
    }
}

/// What an error's errmsg text must say.
#[derive(Debug, Clone, Copy)]
enum Says {
    /// Anything in WeCom's shape.
    Anything,
    /// Anything without the JSON warning (the body was not JSON at all).
    NoWarning,
    /// Something naming this field.
    Names(&'static str),
    /// Exactly this.
    Exactly(&'static str),
}

use Says::{Anything, Exactly, Names, NoWarning};

/// Every body the patrol API refuses, on one server: a table of (path, body, errcode, what the
/// errmsg says). Unparseable JSON and a top level that is not an object are 40058 on both
/// APIs; a field of the wrong type is 40058 naming the field; a missing or empty order_id is
/// 40063 naming it, while a blank one is an unknown id.
#[tokio::test]
async fn refused_bodies() {
    let app = TestApp::spawn().await;
    let (_corp, token) = app
        .corp_with_orders("wwbodies", numbered_orders(1, PAST, 0))
        .await;
    let rows: &[(&str, &[u8], i64, Says)] = &[
        (LIST, b"{", 40058, NoWarning),
        (INFO, b"{", 40058, NoWarning),
        (LIST, b"}", 40058, NoWarning),
        (INFO, b"}", 40058, NoWarning),
        (LIST, br#"{"limit":}"#, 40058, NoWarning),
        (INFO, br#"{"limit":}"#, 40058, NoWarning),
        (LIST, br#"{"order_id":"o0""#, 40058, NoWarning),
        (INFO, br#"{"order_id":"o0""#, 40058, NoWarning),
        (LIST, br#"{"limit":1}}"#, 40058, NoWarning),
        (INFO, br#"{"limit":1}}"#, 40058, NoWarning),
        (LIST, br#"{"limit":1} {}"#, 40058, NoWarning),
        (INFO, br#"{"limit":1} {}"#, 40058, NoWarning),
        (LIST, br#"{'limit':1}"#, 40058, NoWarning),
        (INFO, br#"{'limit':1}"#, 40058, NoWarning),
        (LIST, br#"{limit:1}"#, 40058, NoWarning),
        (INFO, br#"{limit:1}"#, 40058, NoWarning),
        (LIST, b"nope", 40058, NoWarning),
        (INFO, b"nope", 40058, NoWarning),
        (LIST, b"{\"cursor\":\"\xff\xfe\"}", 40058, NoWarning),
        (INFO, b"{\"cursor\":\"\xff\xfe\"}", 40058, NoWarning),
        (LIST, b"\xff\xfe{}", 40058, NoWarning),
        (INFO, b"\xff\xfe{}", 40058, NoWarning),
        (LIST, b"{\"order_id\":\"o\xc3\x28\"}", 40058, NoWarning),
        (INFO, b"{\"order_id\":\"o\xc3\x28\"}", 40058, NoWarning),
        (LIST, b"[]", 40058, Anything),
        (INFO, b"[]", 40058, Anything),
        (LIST, b"[{}]", 40058, Anything),
        (INFO, b"[{}]", 40058, Anything),
        (LIST, br#""x""#, 40058, Anything),
        (INFO, br#""x""#, 40058, Anything),
        (LIST, b"1", 40058, Anything),
        (INFO, b"1", 40058, Anything),
        (LIST, b"-1.5", 40058, Anything),
        (INFO, b"-1.5", 40058, Anything),
        (LIST, b"null", 40058, Anything),
        (INFO, b"null", 40058, Anything),
        (LIST, b"true", 40058, Anything),
        (INFO, b"true", 40058, Anything),
        (LIST, br#"[{"order_id":"o0"}]"#, 40058, Anything),
        (INFO, br#"[{"order_id":"o0"}]"#, 40058, Anything),
        (LIST, br#"{"limit":"abc"}"#, 40058, Names("limit")),
        (LIST, br#"{"limit":"20"}"#, 40058, Names("limit")),
        (LIST, br#"{"limit":20.0}"#, 40058, Names("limit")),
        (LIST, br#"{"limit":2e1}"#, 40058, Names("limit")),
        (
            LIST,
            br#"{"limit":9223372036854775808}"#,
            40058,
            Names("limit"),
        ),
        (
            LIST,
            br#"{"limit":-9223372036854775809}"#,
            40058,
            Names("limit"),
        ),
        (LIST, br#"{"limit":true}"#, 40058, Names("limit")),
        (LIST, br#"{"limit":[20]}"#, 40058, Names("limit")),
        (LIST, br#"{"limit":{}}"#, 40058, Names("limit")),
        (
            LIST,
            br#"{"begin_create_time":"1"}"#,
            40058,
            Names("begin_create_time"),
        ),
        (
            LIST,
            br#"{"begin_create_time":1.5}"#,
            40058,
            Names("begin_create_time"),
        ),
        (
            LIST,
            br#"{"begin_modify_time":false}"#,
            40058,
            Names("begin_modify_time"),
        ),
        (
            LIST,
            br#"{"begin_modify_time":18446744073709551616}"#,
            40058,
            Names("begin_modify_time"),
        ),
        (LIST, br#"{"cursor":5}"#, 40058, Names("cursor")),
        (LIST, br#"{"cursor":["a"]}"#, 40058, Names("cursor")),
        (LIST, br#"{"cursor":{}}"#, 40058, Names("cursor")),
        (INFO, br#"{"order_id":5}"#, 40058, Names("order_id")),
        (INFO, br#"{"order_id":["a"]}"#, 40058, Names("order_id")),
        (
            INFO,
            br#"{"order_id":{"id":"o0"}}"#,
            40058,
            Names("order_id"),
        ),
        (INFO, br#"{"order_id":true}"#, 40058, Names("order_id")),
        (INFO, b"{}", 40063, Names("order_id")),
        (INFO, br#"{"order_id":""}"#, 40063, Names("order_id")),
        (INFO, br#"{"orderid":"o0"}"#, 40063, Names("order_id")),
        (INFO, br#"{"ORDER_ID":"o0"}"#, 40063, Names("order_id")),
        (
            INFO,
            br#"{"order_id":" "}"#,
            40058,
            Exactly("invalid order_id"),
        ),
    ];
    for &(path, body, code, says) in rows {
        let answer = post_bytes(&app, path, &token, body.to_vec()).await;
        let case = format!("{path} {:?}: {answer}", String::from_utf8_lossy(body));
        let text = wecom_error_text(&answer, code);
        match says {
            Anything => {}
            NoWarning => assert!(!text.starts_with(WARNING), "{case}"),
            Names(field) => assert!(text.contains(field), "{case}"),
            Exactly(want) => assert_eq!(text, want, "{case}"),
        }
    }
    assert_still_serving(&app, &token).await;
}

/// Integers within signed 64 bits are integers (and then judged as values).
#[tokio::test]
async fn integers_within_64_bits_are_judged_as_values() {
    let app = TestApp::spawn().await;
    let (_corp, token) = app
        .corp_with_orders("wwtypes", numbered_orders(1, PAST, 0))
        .await;
    let largest = app
        .patrol(
            "get_order_list",
            &token,
            r#"{"begin_create_time":9223372036854775807}"#,
        )
        .await;
    assert_eq!(errcode(&largest), 0, "{largest}");
    assert_eq!(largest["order_list"], serde_json::json!([]));
    let smallest = app
        .patrol(
            "get_order_list",
            &token,
            r#"{"limit":-9223372036854775808}"#,
        )
        .await;
    assert!(
        wecom_error_text(&smallest, 40058).contains("limit"),
        "{smallest}"
    );
}

#[tokio::test]
async fn the_seed_body_with_its_trailing_comma_is_accepted_with_a_warning() {
    let app = TestApp::spawn().await;
    let (_corp, token) = app
        .corp_with_orders("wwseed", numbered_orders(3, PAST, 0))
        .await;

    let page = app.patrol("get_order_list", &token, SEED_LIST_BODY).await;
    assert_eq!(errcode(&page), 0, "{page}");
    assert_eq!(errmsg(&page), "ok. Warning: wrong json format. ");
    assert_eq!(page["order_list"].as_array().unwrap().len(), 3);
    assert_eq!(page["next_cursor"], "");

    // The same body without the comma: the same page, plain "ok".
    let clean = SEED_LIST_BODY.replace("20,\n}", "20\n}");
    let plain = app.patrol("get_order_list", &token, &clean).await;
    assert_eq!(errmsg(&plain), "ok");
    assert_eq!(plain["order_list"], page["order_list"]);

    // Trailing commas in arrays and on get_order_info.
    let info = app
        .patrol("get_order_info", &token, "{\"order_id\": \"o1\",\n}")
        .await;
    assert_eq!(errcode(&info), 0, "{info}");
    assert_eq!(errmsg(&info), "ok. Warning: wrong json format. ");
    assert_eq!(info["order_info"]["order_id"], "o1");
    let array = app
        .patrol("get_order_list", &token, r#"{"limit":1,"x":[1,2,],}"#)
        .await;
    assert_eq!(errcode(&array), 0, "{array}");
    assert_eq!(errmsg(&array), "ok. Warning: wrong json format. ");
    assert_eq!(array["order_list"].as_array().unwrap().len(), 1);

    // A comma inside a string is not a trailing comma.
    let in_string = app
        .patrol("get_order_info", &token, r#"{"order_id":"o1,}"}"#)
        .await;
    assert_eq!(wecom_error_text(&in_string, 40058), "invalid order_id");
}

#[tokio::test]
async fn a_failing_body_with_a_trailing_comma_carries_the_warning_before_the_error() {
    let app = TestApp::spawn().await;
    let (_corp, token) = app
        .corp_with_orders("wwwarn", numbered_orders(1, PAST, 0))
        .await;
    // (api, body with a trailing comma, the same body without it, errcode)
    let cases = [
        (
            "get_order_list",
            r#"{"limit": 99,}"#,
            r#"{"limit": 99}"#,
            40058,
        ),
        (
            "get_order_list",
            r#"{"limit": -1,}"#,
            r#"{"limit": -1}"#,
            40058,
        ),
        (
            "get_order_list",
            r#"{"limit":"abc",}"#,
            r#"{"limit":"abc"}"#,
            40058,
        ),
        (
            "get_order_list",
            r#"{"cursor":"forged",}"#,
            r#"{"cursor":"forged"}"#,
            40058,
        ),
        (
            "get_order_list",
            r#"{"begin_create_time":-5,}"#,
            r#"{"begin_create_time":-5}"#,
            40058,
        ),
        ("get_order_list", "[1,]", "[1]", 40058),
        (
            "get_order_info",
            r#"{"order_id":"nope",}"#,
            r#"{"order_id":"nope"}"#,
            40058,
        ),
        (
            "get_order_info",
            r#"{"order_id":"",}"#,
            r#"{"order_id":""}"#,
            40063,
        ),
        (
            "get_order_info",
            r#"{"order_id":null,}"#,
            r#"{"order_id":null}"#,
            40063,
        ),
        (
            "get_order_info",
            r#"{"order_id":5,}"#,
            r#"{"order_id":5}"#,
            40058,
        ),
    ];
    for (api, warned_body, clean_body, code) in cases {
        let warned = app.patrol(api, &token, warned_body).await;
        let clean = app.patrol(api, &token, clean_body).await;
        let warned_text = wecom_error_text(&warned, code);
        let clean_text = wecom_error_text(&clean, code);
        assert!(!clean_text.starts_with(WARNING), "{clean}");
        assert_eq!(
            warned_text,
            format!("{WARNING}{clean_text}"),
            "{warned_body}: {warned}"
        );
        assert!(errmsg(&warned).starts_with(WARNING));
    }
    let unknown = app
        .patrol("get_order_info", &token, r#"{"order_id":"nope",}"#)
        .await;
    assert_eq!(
        wecom_error_text(&unknown, 40058),
        "Warning: wrong json format. invalid order_id"
    );
}

#[tokio::test]
async fn token_and_permission_errors_never_carry_the_json_warning() {
    let app = TestApp::spawn().await;
    let (corp, _token) = app
        .corp_with_orders("wwnowarn", numbered_orders(1, PAST, 0))
        .await;
    let forbidden = forbidden_token(&app, &corp).await;
    let expired = expired_token(&app, &corp).await;
    for (path, body) in [(LIST, SEED_LIST_BODY), (INFO, "{\"order_id\":\"o0\",}")] {
        let cases = [
            (
                send(app.http.post(format!("{}{path}", app.base_url)).body(body)).await,
                41001,
            ),
            (post_bytes(&app, path, "", body).await, 41001),
            (post_bytes(&app, path, "never-issued", body).await, 40014),
            (post_bytes(&app, path, &expired, body).await, 42001),
            (post_bytes(&app, path, &forbidden, body).await, 48002),
        ];
        for (answer, code) in cases {
            let text = wecom_error_text(&answer, code);
            assert!(!text.contains("Warning"), "{path}: {answer}");
            assert!(!errmsg(&answer).starts_with(WARNING), "{path}: {answer}");
        }
    }
}

#[tokio::test]
async fn unknown_fields_are_ignored() {
    let app = TestApp::spawn().await;
    let (_corp, token) = app
        .corp_with_orders("wwextra", numbered_orders(3, PAST, 0))
        .await;
    let page = app
        .patrol(
            "get_order_list",
            &token,
            r#"{"limit":2,"foo":"bar","order_id":"o0","nested":{"a":[1,{"b":null}]},"LIMIT":"x"}"#,
        )
        .await;
    assert_eq!(errcode(&page), 0, "{page}");
    assert_eq!(errmsg(&page), "ok");
    assert_eq!(page["order_list"].as_array().unwrap().len(), 2);

    let info = app
        .patrol(
            "get_order_info",
            &token,
            r#"{"order_id":"o1","extra":true,"limit":"abc","cursor":5}"#,
        )
        .await;
    assert_eq!(errcode(&info), 0, "{info}");
    assert_eq!(errmsg(&info), "ok");
    assert_eq!(info["order_info"]["order_id"], "o1");
}

#[tokio::test]
async fn a_field_set_to_null_is_the_same_as_an_absent_one() {
    let app = TestApp::spawn().await;
    let (_corp, token) = app
        .corp_with_orders("wwnull", numbered_orders(25, PAST, 0))
        .await;

    let default = app.patrol("get_order_list", &token, "{}").await;
    let null_limit = app
        .patrol("get_order_list", &token, r#"{"limit":null}"#)
        .await;
    assert_eq!(errcode(&null_limit), 0, "{null_limit}");
    assert_eq!(errmsg(&null_limit), "ok");
    assert_eq!(null_limit["order_list"].as_array().unwrap().len(), 20);
    assert_ne!(null_limit["next_cursor"], "");
    assert_eq!(null_limit["order_list"], default["order_list"]);

    let all_null = app
        .patrol(
            "get_order_list",
            &token,
            r#"{"begin_create_time":null,"begin_modify_time":null,"cursor":null,"limit":null}"#,
        )
        .await;
    assert_eq!(errcode(&all_null), 0, "{all_null}");
    assert_eq!(all_null["order_list"], default["order_list"]);

    // A cursor issued without filters continues a walk whose filters are null.
    let cursor = default["next_cursor"].as_str().unwrap();
    let second = app
        .patrol(
            "get_order_list",
            &token,
            &format!(r#"{{"begin_create_time":null,"cursor":"{cursor}"}}"#),
        )
        .await;
    assert_eq!(errcode(&second), 0, "{second}");
    assert_eq!(second["order_list"].as_array().unwrap().len(), 5);

    let null_id = app
        .patrol("get_order_info", &token, r#"{"order_id":null}"#)
        .await;
    assert!(
        wecom_error_text(&null_id, 40063).contains("order_id"),
        "{null_id}"
    );
}

/// `{` + spaces + `}`: a valid empty object of exactly `size` bytes.
fn padded_object(size: usize) -> Vec<u8> {
    let mut body = vec![b' '; size];
    body[0] = b'{';
    body[size - 1] = b'}';
    body
}

#[tokio::test]
async fn bodies_over_1_mib_with_a_content_length_are_refused_with_40058() {
    let app = TestApp::spawn().await;
    let (corp, token) = app
        .corp_with_orders("wwbig", numbered_orders(1, PAST, 0))
        .await;

    let just_under = post_bytes(&app, LIST, &token, padded_object(MIB - 1)).await;
    assert_eq!(errcode(&just_under), 0, "{just_under}");
    let exactly = post_bytes(&app, LIST, &token, padded_object(MIB)).await;
    assert_eq!(errcode(&exactly), 0, "{exactly}");
    assert_eq!(errmsg(&exactly), "ok");

    let over = post_bytes(&app, LIST, &token, padded_object(MIB + 1)).await;
    wecom_error_text(&over, 40058);
    assert_still_serving(&app, &token).await;

    let far_over = post_bytes(&app, INFO, &token, padded_object(4 * MIB)).await;
    wecom_error_text(&far_over, 40058);
    assert_still_serving(&app, &token).await;

    // A big string value inside a body over the limit.
    let mut big_id = br#"{"order_id":""#.to_vec();
    big_id.extend(std::iter::repeat_n(b'o', MIB));
    big_id.extend_from_slice(br#""}"#);
    let big_string = post_bytes(&app, INFO, &token, big_id).await;
    wecom_error_text(&big_string, 40058);

    // The token and the permission are checked first.
    let forbidden = forbidden_token(&app, &corp).await;
    let no_token = send(
        app.http
            .post(format!("{}{LIST}", app.base_url))
            .body(padded_object(MIB + 1)),
    )
    .await;
    wecom_error_text(&no_token, 41001);
    let unknown = post_bytes(&app, LIST, "never-issued", padded_object(MIB + 1)).await;
    wecom_error_text(&unknown, 40014);
    let not_allowed = post_bytes(&app, LIST, &forbidden, padded_object(MIB + 1)).await;
    wecom_error_text(&not_allowed, 48002);

    assert_still_serving(&app, &token).await;
}

#[tokio::test]
async fn chunked_bodies_over_1_mib_are_refused_with_40058() {
    let app = TestApp::spawn().await;
    let (_corp, token) = app
        .corp_with_orders("wwchunked", numbered_orders(3, PAST, 0))
        .await;
    let target = format!("{LIST}?access_token={token}");

    // A small chunked body is read like any other.
    let pieces = [r#"{"lim"#, r#"it":"#, "2}"];
    let (status, text) = post_chunked(
        &app,
        &target,
        pieces.iter().map(|p| p.as_bytes().to_vec()).collect(),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let small: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(errcode(&small), 0, "{small}");
    assert_eq!(small["order_list"].as_array().unwrap().len(), 2);

    // Exactly 1 MiB in 64 KiB chunks: accepted.
    let exactly: Vec<Vec<u8>> = padded_object(MIB)
        .chunks(64 * 1024)
        .map(<[u8]>::to_vec)
        .collect();
    let (status, text) = post_chunked(&app, &target, exactly).await;
    assert_eq!(status, 200, "{text}");
    let accepted: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(errcode(&accepted), 0, "{accepted}");

    // 1 MiB + 1 and far more, without a Content-Length: refused.
    for size in [MIB + 1, 3 * MIB] {
        let chunks: Vec<Vec<u8>> = padded_object(size)
            .chunks(16 * 1024)
            .map(<[u8]>::to_vec)
            .collect();
        let (status, text) = post_chunked(&app, &target, chunks).await;
        assert_eq!(status, 200, "{size}: {text}");
        let refused: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
        wecom_error_text(&refused, 40058);
        assert_still_serving(&app, &token).await;
    }
}

/// Deterministic bytes of a small linear congruential generator.
fn garbage_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 56) as u8
        })
        .collect()
}

#[tokio::test]
async fn garbage_never_causes_a_server_error() {
    let app = TestApp::spawn().await;
    let (_corp, token) = app
        .corp_with_orders("wwgarbage", numbered_orders(2, PAST, 0))
        .await;

    let mut bodies: Vec<Vec<u8>> = (1..=8).map(|seed| garbage_bytes(seed, 4096)).collect();
    bodies.push(vec![0; 1000]);
    bodies.push(garbage_bytes(99, 100_000));
    bodies.push(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes());
    bodies.push("[".repeat(10_000).into_bytes());
    bodies.push(
        format!(
            r#"{{"limit":{}1{}}}"#,
            "[".repeat(10_000),
            "]".repeat(10_000)
        )
        .into_bytes(),
    );
    bodies.push(format!(r#"{{"cursor":"{}"}}"#, "A".repeat(100_000)).into_bytes());
    bodies.push(format!(r#"{{"cursor":"{}"}}"#, "\u{4e2d}".repeat(40_000)).into_bytes());
    bodies.push(br#"{"cursor":"\ud800"}"#.to_vec());
    bodies.push(br#"{"cursor":"\u0000"}"#.to_vec());
    bodies.push(br#"{"limit":1e999}"#.to_vec());
    bodies.push(br#"{"cursor":"../../etc/passwd"}"#.to_vec());
    bodies.push(br#"{"cursor":"' OR 1=1 --"}"#.to_vec());
    bodies.push(",".repeat(10_000).into_bytes());
    bodies.push(format!("{{{}}}", ",".repeat(10_000)).into_bytes());

    for (index, body) in bodies.into_iter().enumerate() {
        for path in [LIST, INFO] {
            let answer = post_bytes(&app, path, &token, body.clone()).await;
            assert_ne!(errcode(&answer), 0, "body #{index} on {path}: {answer}");
            let code = errcode(&answer);
            wecom_error_text(&answer, code);
        }
    }
    // Odd order ids (an unknown field of get_order_list, so only for get_order_info).
    let odd_ids: Vec<Vec<u8>> = vec![
        format!(r#"{{"order_id":"{}"}}"#, "x".repeat(100_000)).into_bytes(),
        br#"{"order_id":"\ud800"}"#.to_vec(),
        br#"{"order_id":"\u0000"}"#.to_vec(),
        br#"{"order_id":"' OR 1=1 --"}"#.to_vec(),
        br#"{"order_id":"o1' --"}"#.to_vec(),
        br#"{"order_id":"%"}"#.to_vec(),
    ];
    for body in odd_ids {
        let answer = post_bytes(&app, INFO, &token, body.clone()).await;
        let text = wecom_error_text(&answer, 40058);
        assert!(
            text == "invalid order_id" || text.contains("json invalid"),
            "{:?}: {answer}",
            String::from_utf8_lossy(&body)
        );
    }

    // Garbage in the query string and the headers.
    let odd_queries = [
        format!("{LIST}?access_token=%ZZ%"),
        format!("{LIST}?access_token=%FF%FE%00"),
        format!("{LIST}?access_token={token}%00"),
        format!("{LIST}?&&&=&access_token"),
        format!("{LIST}?{}", "a=b&".repeat(2000)),
    ];
    for path_and_query in odd_queries {
        let answer = send(
            app.http
                .post(format!("{}{path_and_query}", app.base_url))
                .body("{}"),
        )
        .await;
        let code = errcode(&answer);
        assert!(code == 41001 || code == 40014, "{path_and_query}: {answer}");
        wecom_error_text(&answer, code);
    }
    let gzip = send(
        app.http
            .post(url(&app, LIST, &token))
            .header("content-encoding", "gzip")
            .body(garbage_bytes(7, 512)),
    )
    .await;
    assert_ne!(errcode(&gzip), 0, "{gzip}");

    assert_still_serving(&app, &token).await;
    let info = app
        .patrol("get_order_info", &token, r#"{"order_id":"o1"}"#)
        .await;
    assert_eq!(errcode(&info), 0, "{info}");
}

#[tokio::test]
async fn json_nested_deeper_than_128_levels_is_refused_even_in_an_ignored_field() {
    let app = TestApp::spawn().await;
    let (_corp, token) = app
        .corp_with_orders("wwdepth", numbered_orders(1, PAST, 0))
        .await;
    let nested = |depth: usize| format!("{{\"x\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
    let shallow = app.patrol("get_order_list", &token, &nested(100)).await;
    assert_eq!(errcode(&shallow), 0, "{shallow}");
    let deep = app.patrol("get_order_list", &token, &nested(200)).await;
    assert_eq!(errcode(&deep), 40058, "{deep}");
}
