//! The request journal (docs/admin-api.md, "Journal"): every call, tokens and secrets redacted,
//! read through filters, exported as JSONL, streamed live, and held within its bounds whatever
//! the load.

use std::time::Duration;

use patrol_server::journal::{BODY_CAP, Limits, REDACTED};
use patrol_test::{ADMIN_KEY, TestApp, errcode, errmsg, parse, split_errmsg};
use serde_json::{Value, json};

/// `GET /admin/v1/journal?{query}`, which must answer 200.
async fn journal(app: &TestApp, query: &str) -> Value {
    let (status, text) = app
        .admin_text("GET", &format!("/journal?{query}"), None)
        .await;
    assert_eq!(status, 200, "{text}");
    parse(&text)
}

fn entries(page: &Value) -> &Vec<Value> {
    page["entries"].as_array().expect("a list of entries")
}

fn paths(page: &Value) -> Vec<&str> {
    entries(page)
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect()
}

/// Everything the journal shows, in every form: JSON, JSONL and the live stream from id 0.
async fn every_output(app: &TestApp) -> String {
    let (_, json) = app.admin_text("GET", "/journal?limit=1000", None).await;
    let (_, jsonl) = app.admin_text("GET", "/journal?format=jsonl", None).await;
    let last = parse(&json)["last_id"].as_u64().unwrap();
    let stream = read_stream(app, "since=0", |events| {
        events.iter().any(|(_, data)| {
            serde_json::from_str::<Value>(data).is_ok_and(|v| v["id"].as_u64() == Some(last))
        })
    })
    .await;
    let streamed: String = stream.into_iter().map(|(_, data)| data + "\n").collect();
    format!("{json}\n{jsonl}\n{streamed}")
}

/// Opens `/admin/v1/journal/stream?{query}` and reads events until `enough` holds of them.
async fn read_stream(
    app: &TestApp,
    query: &str,
    enough: impl Fn(&[(String, String)]) -> bool,
) -> Vec<(String, String)> {
    let mut response = open_stream(app, query, None).await;
    let mut buffer = String::new();
    let mut events = Vec::new();
    // A guard against a hang, not a timing assertion.
    tokio::time::timeout(Duration::from_secs(60), async {
        while !enough(&events) {
            let chunk = response
                .chunk()
                .await
                .expect("the stream goes on")
                .expect("the stream does not end");
            buffer.push_str(std::str::from_utf8(&chunk).unwrap());
            events.extend(take_events(&mut buffer));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the stream did not bring the events: {events:?}"));
    events
}

async fn open_stream(app: &TestApp, query: &str, last_event_id: Option<u64>) -> reqwest::Response {
    let mut request = app
        .http
        .get(format!("{}/admin/v1/journal/stream?{query}", app.base_url))
        .bearer_auth(ADMIN_KEY);
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id.to_string());
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    response
}

/// The complete events in `buffer` (removed from it): `(event, data)`.
fn take_events(buffer: &mut String) -> Vec<(String, String)> {
    let mut events = Vec::new();
    while let Some(end) = buffer.find("\n\n") {
        let block: String = buffer.drain(..end + 2).collect();
        let mut event = String::new();
        let mut data = String::new();
        for line in block.lines() {
            if let Some(value) = line.strip_prefix("event: ") {
                event = value.to_owned();
            } else if let Some(value) = line.strip_prefix("data: ") {
                data = value.to_owned();
            }
        }
        if !data.is_empty() {
            events.push((event, data));
        }
    }
    events
}

#[tokio::test]
async fn a_walk_is_journaled_with_tokens_and_secrets_redacted() {
    let app = TestApp::spawn().await;
    app.corp("wwjournal").await;
    // An app made through the administration API: its answer carries the secret.
    let created = app
        .new_app("wwjournal", json!({"name": "对接", "patrol_enabled": true}))
        .await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    let agentid = created["agentid"].as_i64().unwrap();
    let token = app.token_for("wwjournal", &secret).await;
    let body = r#"{"begin_create_time": 0, "limit": 2}"#;
    let list = app.patrol("get_order_list", &token, body).await;
    assert_eq!(errcode(&list), 0);
    let refused = app
        .patrol("get_order_info", &token, r#"{"order_id": "nope"}"#)
        .await;
    let request_id = split_errmsg(errmsg(&refused)).hint.to_owned();
    let (status, _) = app.get("/cgi-bin/no/such/path?access_token=x").await;
    assert_eq!(status, 404);

    let page = journal(&app, "").await;
    assert_eq!(
        paths(&page),
        [
            "/admin/v1/corps/wwjournal/apps",
            "/cgi-bin/gettoken",
            "/cgi-bin/report/patrol/get_order_list",
            "/cgi-bin/report/patrol/get_order_info",
            "/cgi-bin/no/such/path",
        ],
        "every call but the journal's own, in order: {page}"
    );
    let [admin, gettoken, list_entry, info, unknown] = &entries(&page)[..] else {
        unreachable!()
    };
    assert_eq!(admin["api"], "admin");
    assert_eq!(admin["corp"], "wwjournal");
    assert_eq!(admin["status"], 201);
    assert_eq!(admin["errcode"], Value::Null);
    let answered = parse(admin["response_body"]["text"].as_str().unwrap());
    assert_eq!(answered["secret"], REDACTED);
    assert_eq!(answered["agentid"], agentid, "the rest as it was");

    assert_eq!(gettoken["api"], "wecom");
    assert_eq!(gettoken["corp"], "wwjournal");
    assert_eq!(
        gettoken["query"],
        format!("corpid=wwjournal&corpsecret={REDACTED}")
    );
    let answered = parse(gettoken["response_body"]["text"].as_str().unwrap());
    assert_eq!(answered["access_token"], REDACTED);
    assert_eq!(answered["expires_in"], 7200);
    assert_eq!(gettoken["errcode"], 0);
    assert_eq!(
        gettoken["request_id"],
        Value::Null,
        "a success has no request id"
    );

    assert_eq!(
        list_entry["corp"], "wwjournal",
        "the caller's corp, from its token"
    );
    assert_eq!(list_entry["agentid"], agentid);
    assert_eq!(list_entry["method"], "POST");
    assert_eq!(list_entry["query"], format!("access_token={REDACTED}"));
    assert_eq!(list_entry["status"], 200);
    assert_eq!(list_entry["errcode"], 0);
    assert_eq!(list_entry["request_body"]["text"], body);
    assert_eq!(list_entry["request_body"]["size"], body.len());
    assert_eq!(list_entry["request_body"]["cut"], false);
    assert_eq!(
        parse(list_entry["response_body"]["text"].as_str().unwrap()),
        list,
        "the answer as it was sent"
    );
    assert_eq!(list_entry["fault"], Value::Null);
    assert!(list_entry["latency_us"].as_u64().unwrap() > 0);
    assert!(list_entry["time"].as_i64().unwrap() >= app.now() - 60);
    assert!(list_entry["wall_time"].as_str().unwrap().ends_with('Z'));

    assert_eq!(info["errcode"], errcode(&refused));
    assert_eq!(
        info["request_id"], request_id,
        "the request id of the errmsg's hint"
    );
    assert_eq!(unknown["status"], 404);
    assert_eq!(unknown["errcode"], Value::Null);
    assert_eq!(unknown["corp"], Value::Null);

    // The request id finds the call.
    let found = journal(&app, &format!("request_id={request_id}")).await;
    assert_eq!(paths(&found), ["/cgi-bin/report/patrol/get_order_info"]);

    let everything = every_output(&app).await;
    for secret in [secret.as_str(), token.as_str(), ADMIN_KEY] {
        assert!(
            !everything.contains(secret),
            "{secret} shows in the journal: {everything}"
        );
    }
    assert!(!everything.contains("/admin/v1/journal"), "{everything}");
}

#[tokio::test]
async fn filters_select_entries_and_since_pages_on() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwfilter").await;
    let other = app.corp("wwother").await;
    let token = app.token(&corp).await;
    let other_token = app.token(&other).await;
    for _ in 0..3 {
        app.patrol("get_order_list", &token, "{}").await;
    }
    app.patrol("get_order_info", &other_token, r#"{"order_id": "x"}"#)
        .await;
    app.patrol("get_order_list", "bad-token", "{}").await;

    let all = journal(&app, "").await;
    assert_eq!(entries(&all).len(), 7, "{all}");
    let list = journal(&app, "path=*get_order_list").await;
    assert_eq!(entries(&list).len(), 4);
    let of_corp = journal(&app, "corp=wwfilter").await;
    assert_eq!(
        entries(&of_corp).len(),
        4,
        "gettoken and three lists: {of_corp}"
    );
    let refused = journal(&app, "errcode=40014").await;
    assert_eq!(paths(&refused), ["/cgi-bin/report/patrol/get_order_list"]);
    let ok_lists = journal(&app, "path=/cgi-bin/report/*&errcode=0&corp=wwfilter").await;
    assert_eq!(entries(&ok_lists).len(), 3);
    assert_eq!(entries(&journal(&app, "api=admin").await).len(), 0);
    assert_eq!(
        entries(&journal(&app, "status=200&method=post").await).len(),
        5
    );
    let later = journal(&app, &format!("since_time={}", app.now() + 3600)).await;
    assert!(entries(&later).is_empty());

    // Without `since`, the newest; with it, the oldest after it, to page on.
    let ids = |page: &Value| -> Vec<u64> {
        entries(page)
            .iter()
            .map(|e| e["id"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(ids(&journal(&app, "limit=2").await), [6, 7]);
    assert_eq!(ids(&journal(&app, "since=0&limit=2").await), [1, 2]);
    assert_eq!(ids(&journal(&app, "since=2&limit=2").await), [3, 4]);
    assert_eq!(ids(&journal(&app, "since=7").await), Vec::<u64>::new());
    assert_eq!(journal(&app, "since=7").await["last_id"], 7);

    for bad in [
        "api=wecomx",
        "limit=0",
        "limit=1001",
        "since=-1",
        "agentid=x",
        "nope=1",
        "format=xml",
    ] {
        let (status, text) = app
            .admin_text("GET", &format!("/journal?{bad}"), None)
            .await;
        assert_eq!(status, 400, "{bad}: {text}");
        assert_eq!(parse(&text)["error"]["code"], "invalid_request", "{bad}");
    }
    let raw = app.admin_raw("GET", "/journal", None, None).await;
    assert_eq!(raw.status, 401, "the journal needs the admin key");

    // Cleared: nothing held, ids go on.
    let (status, _) = app.admin_text("DELETE", "/journal", None).await;
    assert_eq!(status, 204);
    let cleared = journal(&app, "").await;
    assert!(entries(&cleared).is_empty());
    assert_eq!(cleared["bytes"], 0);
    app.patrol("get_order_list", &token, "{}").await;
    assert_eq!(ids(&journal(&app, "").await), [8]);
    let missed = journal(&app, "since=3").await;
    assert_eq!(missed["missed"], 4, "4 to 7 are no longer held: {missed}");
}

#[tokio::test]
async fn the_journal_exports_as_jsonl() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwjsonl").await;
    let token = app.token(&corp).await;
    for n in 0..5 {
        app.patrol(
            "get_order_list",
            &token,
            &format!(r#"{{"limit": {}}}"#, n + 1),
        )
        .await;
    }
    let raw = app
        .admin_raw(
            "GET",
            "/journal?format=jsonl&path=/cgi-bin/report/*",
            Some(&format!("Bearer {ADMIN_KEY}")),
            None,
        )
        .await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.content_type.as_deref(), Some("application/x-ndjson"));
    assert!(raw.text.ends_with('\n'));
    let lines: Vec<Value> = raw.text.lines().map(parse).collect();
    assert_eq!(lines.len(), 5);
    let json = journal(&app, "path=/cgi-bin/report/*").await;
    assert_eq!(
        &lines,
        entries(&json),
        "the same entries as the JSON answer"
    );
    for (n, line) in lines.iter().enumerate() {
        assert_eq!(
            line["request_body"]["text"],
            format!(r#"{{"limit": {}}}"#, n + 1)
        );
    }
}

#[tokio::test]
async fn live_entries_stream_as_server_sent_events_until_the_server_stops() {
    let mut app = TestApp::spawn().await;
    let corp = app.corp("wwstream").await;
    let token = app.token(&corp).await;
    // From now on, WeCom's calls only.
    let mut response = open_stream(&app, "api=wecom", None).await;
    app.patrol("get_order_list", &token, "{}").await;
    app.new_users("wwstream", &["u1"]).await;
    app.patrol("get_order_info", &token, r#"{"order_id":"x"}"#)
        .await;
    let mut buffer = String::new();
    let mut events = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), async {
        while events.len() < 2 {
            let chunk = response.chunk().await.unwrap().expect("more events");
            buffer.push_str(std::str::from_utf8(&chunk).unwrap());
            events.extend(take_events(&mut buffer));
        }
    })
    .await
    .expect("the events come");
    let streamed: Vec<Value> = events
        .iter()
        .map(|(event, data)| {
            assert_eq!(event, "entry");
            parse(data)
        })
        .collect();
    assert_eq!(streamed[0]["path"], "/cgi-bin/report/patrol/get_order_list");
    assert_eq!(streamed[1]["path"], "/cgi-bin/report/patrol/get_order_info");
    assert_eq!(streamed[0]["corp"], "wwstream");

    // The server stops: the stream ends, and the server does not wait for it.
    tokio::time::timeout(Duration::from_secs(60), app.stop())
        .await
        .expect("the server stops with a stream open");
    let rest = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(_)) = response.chunk().await {}
    })
    .await;
    assert!(rest.is_ok(), "the stream ended");
}

#[tokio::test]
async fn a_stream_behind_the_ring_is_told_what_it_missed() {
    let app = TestApp::spawn_with(|config| {
        config.journal = Limits {
            entries: 5,
            bytes: 1 << 20,
        }
    })
    .await;
    for _ in 0..20 {
        app.get("/cgi-bin/gettoken").await;
    }
    // Resuming after id 3 (Last-Event-ID, as a browser reconnects): 4 to 15 are gone.
    let mut response = open_stream(&app, "", Some(3)).await;
    let mut buffer = String::new();
    let mut events = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), async {
        while events.len() < 6 {
            let chunk = response.chunk().await.unwrap().expect("more events");
            buffer.push_str(std::str::from_utf8(&chunk).unwrap());
            events.extend(take_events(&mut buffer));
        }
    })
    .await
    .expect("the events come");
    assert_eq!(
        events[0],
        ("missed".to_owned(), r#"{"missed":12}"#.to_owned())
    );
    let ids: Vec<u64> = events[1..]
        .iter()
        .map(|(_, data)| parse(data)["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [16, 17, 18, 19, 20]);
}

#[tokio::test]
async fn memory_stays_within_the_bound_under_a_burst() {
    const LIMIT_ENTRIES: u64 = 200;
    const LIMIT_BYTES: u64 = 256 * 1024;
    const CALLS: usize = 5_000;
    let app = TestApp::spawn_with(|config| {
        config.journal = Limits {
            entries: LIMIT_ENTRIES as usize,
            bytes: LIMIT_BYTES as usize,
        }
    })
    .await;
    let corp = app.corp("wwburst").await;
    let token = app.token(&corp).await;
    // Bodies larger than what an entry keeps: 20 KB, an unknown field WeCom ignores.
    let body = format!(r#"{{"limit": 1, "pad": "{}"}}"#, "巡".repeat(7_000));
    let url = format!(
        "{}/cgi-bin/report/patrol/get_order_list?access_token={token}",
        app.base_url
    );
    let sampler = {
        let app_url = app.base_url.clone();
        let http = app.http.clone();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            loop {
                let page: Value = http
                    .get(format!("{app_url}/admin/v1/journal?limit=1"))
                    .bearer_auth(ADMIN_KEY)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let done = page["last_id"].as_u64().unwrap() > CALLS as u64;
                samples.push(page);
                if done {
                    return samples;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let http = app.http.clone();
        let (url, body) = (url.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            for _ in (worker..CALLS).step_by(8) {
                let answer = http.post(&url).body(body.clone()).send().await.unwrap();
                assert_eq!(answer.status(), 200);
                answer.bytes().await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let samples = sampler.await.unwrap();
    assert!(samples.len() > 1);
    for sample in &samples {
        let bytes = sample["bytes"].as_u64().unwrap();
        let held = sample["held"].as_u64().unwrap();
        assert!(bytes <= LIMIT_BYTES, "{bytes} bytes held: {sample}");
        assert!(held <= LIMIT_ENTRIES, "{held} entries held");
        assert_eq!(sample["limit_bytes"], LIMIT_BYTES);
    }
    let page = journal(&app, "limit=1000").await;
    let held = entries(&page);
    let last_id = page["last_id"].as_u64().unwrap();
    // gettoken, then the burst.
    assert_eq!(last_id, CALLS as u64 + 1);
    assert_eq!(
        page["dropped"].as_u64().unwrap() + held.len() as u64,
        last_id,
        "every entry is held or was dropped"
    );
    assert!(page["bytes"].as_u64().unwrap() <= LIMIT_BYTES);
    // The oldest were evicted: what is held is the newest, without a gap.
    let ids: Vec<u64> = held.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(*ids.last().unwrap(), last_id);
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1));
    for entry in held {
        let kept = &entry["request_body"];
        assert_eq!(kept["cut"], true);
        assert_eq!(kept["size"], body.len());
        assert!(kept["text"].as_str().unwrap().len() <= BODY_CAP);
    }
}

#[tokio::test]
async fn a_journal_of_0_records_nothing() {
    for limits in [
        Limits {
            entries: 0,
            bytes: 1 << 20,
        },
        Limits {
            entries: 100,
            bytes: 0,
        },
    ] {
        let app = TestApp::spawn_with(|config| config.journal = limits).await;
        let corp = app.corp("wwoff").await;
        let token = app.token(&corp).await;
        app.patrol("get_order_list", &token, "{}").await;
        let page = journal(&app, "").await;
        assert!(entries(&page).is_empty(), "{page}");
        assert_eq!(page["last_id"], 0);
        assert_eq!(page["held"], 0);
    }
}

#[tokio::test]
async fn media_bodies_are_described_not_kept() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwmedia").await;
    let token = app.token(&corp).await;
    let bytes = super::media::jpeg(50_000, 7);
    let answer = super::media::upload(
        &app,
        &format!("access_token={token}&type=image"),
        super::media::multipart(&[super::media::media_part(&bytes)]),
    )
    .await;
    assert_eq!(answer["errcode"], 0, "{answer}");
    let media_id = answer["media_id"].as_str().unwrap();
    let (status, _) = app
        .get(&format!(
            "/cgi-bin/media/get?access_token={token}&media_id={media_id}"
        ))
        .await;
    assert_eq!(status, 200);
    let page = journal(&app, "path=/cgi-bin/media/*").await;
    let [upload, get] = &entries(&page)[..] else {
        panic!("{page}")
    };
    assert_eq!(upload["request_body"]["text"], Value::Null);
    assert!(upload["request_body"]["size"].as_u64().unwrap() > 50_000);
    assert!(
        upload["request_body"]["content_type"]
            .as_str()
            .unwrap()
            .starts_with("multipart/form-data")
    );
    assert_eq!(
        parse(upload["response_body"]["text"].as_str().unwrap()),
        answer
    );
    assert_eq!(get["response_body"]["text"], Value::Null);
    assert_eq!(get["response_body"]["size"], 50_000);
    assert_eq!(get["errcode"], Value::Null, "a file is no WeCom answer");
}

#[tokio::test]
async fn a_call_cut_off_by_the_request_timeout_is_journaled_with_its_503() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::spawn_with(|config| config.request_timeout = Duration::from_secs(1)).await;
    let corp = app.corp("wwslow").await;
    let token = app.token(&corp).await;
    // A body announced as 100 bytes of which 12 come: the handler waits for the rest.
    let mut stream = tokio::net::TcpStream::connect(app.address()).await.unwrap();
    let head = format!(
        "POST /cgi-bin/report/patrol/get_order_list?access_token={token} HTTP/1.1\r\n\
         Host: x\r\nContent-Length: 100\r\n\r\n{{\"limit\": 20"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 1024];
    let read = tokio::time::timeout(Duration::from_secs(60), stream.read(&mut answer))
        .await
        .expect("an answer")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");

    let page = journal(&app, "path=*get_order_list").await;
    let [entry] = &entries(&page)[..] else {
        panic!("{page}")
    };
    assert_eq!(entry["status"], 503);
    assert_eq!(entry["errcode"], Value::Null);
    assert_eq!(entry["corp"], "wwslow");
    assert_eq!(entry["request_body"]["size"], 100);
    assert_eq!(
        entry["request_body"]["text"], r#"{"limit": 20"#,
        "what was read of it"
    );
}
