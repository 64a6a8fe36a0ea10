//! What an operator watches, over HTTP (docs/decisions.md, "Probes", "Metrics", "Version"):
//! `/healthz`, `/readyz` (its database, migrations and listener checks, and its bound on a hung
//! database), `/version`, the request id header, and the metrics real calls leave in `/metrics`.

use std::time::Duration;

use patrol_test::cluster::query;
use patrol_test::{PgCluster, TestApp, TestDatabase, parse};
use serde_json::{Value, json};

/// A raw answer: status, headers, body text.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        parse(&self.body)
    }

    #[track_caller]
    fn request_id(&self) -> String {
        let id = self
            .headers
            .get("x-request-id")
            .unwrap_or_else(|| panic!("no x-request-id in {:?}", self.headers))
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()),
            "{id}"
        );
        id
    }
}

/// `METHOD path` without any credential, with a client that gives up after 20 s (so a probe
/// that hung would fail the test rather than hang it).
async fn call(app: &TestApp, method: &str, path: &str) -> Answer {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let response = client
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", app.base_url),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

#[tokio::test]
async fn probes_and_version_answer_get_and_head_without_the_admin_key() {
    let app = TestApp::spawn().await;

    let health = call(&app, "GET", "/healthz").await;
    assert_eq!(health.status, 200, "{}", health.body);
    assert_eq!(health.json(), json!({"status": "ok"}));
    assert!(
        health.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );

    let ready = call(&app, "GET", "/readyz").await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(
        ready.json(),
        json!({"status": "ready", "checks": {"database": "ok", "migrations": "ok", "listener": "ok"}})
    );

    let version = call(&app, "GET", "/version").await;
    assert_eq!(version.status, 200, "{}", version.body);
    let version = version.json();
    assert_eq!(version["name"], "patrol");
    assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
    assert_ne!(version["version"], "0.0.0");
    let commit = version["git_commit"].as_str().unwrap();
    assert_eq!(commit, patrol_server::version::GIT_COMMIT);
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "{commit}"
    );

    for path in ["/healthz", "/readyz", "/version"] {
        // HEAD: the GET's status and headers, no body.
        let head = call(&app, "HEAD", path).await;
        assert_eq!(head.status, 200, "HEAD {path}");
        assert_eq!(head.body, "", "HEAD {path}");
        head.request_id();
        // Other methods: 405 naming the allowed ones.
        let post = call(&app, "POST", path).await;
        assert_eq!(post.status, 405, "POST {path}");
        assert_eq!(post.headers["allow"], "GET,HEAD", "POST {path}");
        post.request_id();
    }
    // WeCom's rule stays: an unknown path under /cgi-bin/ is an empty 404, probes are not there.
    for path in ["/cgi-bin/healthz", "/cgi-bin/readyz", "/cgi-bin/version"] {
        let answer = call(&app, "GET", path).await;
        assert_eq!((answer.status, answer.body.as_str()), (404, ""), "{path}");
    }
}

/// Sets the schema version the database records, behind the server's back.
async fn set_schema_version(app: &TestApp, version: u64) {
    match &app.database.path {
        Some(path) => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || {
                let connection = rusqlite::Connection::open(path).unwrap();
                connection
                    .pragma_update(None, "user_version", version)
                    .unwrap();
            })
            .await
            .unwrap();
        }
        None => {
            query(
                &app.database.url,
                &format!("UPDATE schema_version SET version = {version}"),
            )
            .await;
        }
    }
}

#[tokio::test]
async fn readyz_names_migrations_that_do_not_match_this_patrol() {
    let app = TestApp::spawn().await;
    let ready = call(&app, "GET", "/readyz").await;
    assert_eq!(ready.status, 200, "{}", ready.body);

    // A newer patrol migrated the database further.
    set_schema_version(&app, 99).await;
    let ready = call(&app, "GET", "/readyz").await;
    assert_eq!(ready.status, 503, "{}", ready.body);
    let body = ready.json();
    assert_eq!(body["status"], "not ready", "{body}");
    assert_eq!(body["checks"]["database"], "ok", "{body}");
    assert_eq!(body["checks"]["listener"], "ok", "{body}");
    let migrations = body["checks"]["migrations"].as_str().unwrap();
    assert!(migrations.contains("99"), "{migrations}");
    // The liveness probe does not ask the database: the process is alive.
    assert_eq!(call(&app, "GET", "/healthz").await.status, 200);

    // Which version this patrol knows, from its own answer; back to it, ready again.
    let latest: u64 = migrations
        .rsplit(' ')
        .next()
        .and_then(|word| word.parse().ok())
        .unwrap_or_else(|| panic!("no version at the end of {migrations:?}"));
    set_schema_version(&app, latest).await;
    let ready = call(&app, "GET", "/readyz").await;
    assert_eq!(ready.status, 200, "{}", ready.body);
}

/// A hung database: a PostgreSQL cluster of the test's own, where another session holds an
/// exclusive lock on the table the probe reads. The probe answers 503 within its bound instead
/// of waiting with the query; then the cluster is stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_answers_503_while_the_database_hangs_or_is_gone_and_ready_while_it_answers() {
    let cluster = PgCluster::start(&[]);
    query(&cluster.url(), "CREATE DATABASE patrol").await;
    let url = cluster.url_of("patrol");
    let app = TestApp::spawn_on(TestDatabase::given(&url), |_| {}).await;
    assert_eq!(call(&app, "GET", "/readyz").await.status, 200);

    let (locker, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    locker
        .batch_execute("BEGIN; LOCK TABLE schema_version IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();

    let ready = call(&app, "GET", "/readyz").await;
    assert_eq!(ready.status, 503, "{}", ready.body);
    let body = ready.json();
    assert_eq!(body["status"], "not ready", "{body}");
    let database = body["checks"]["database"].as_str().unwrap();
    assert!(
        database.starts_with("no answer within"),
        "{database}: {body}"
    );
    assert_eq!(body["checks"]["migrations"], "unknown", "{body}");
    // Alive all along.
    assert_eq!(call(&app, "GET", "/healthz").await.status, 200);

    locker.batch_execute("COMMIT").await.unwrap();
    let ready = call(&app, "GET", "/readyz").await;
    assert_eq!(ready.status, 200, "{}", ready.body);

    // The database gone: not ready, saying why, and still alive.
    drop(locker);
    cluster.kill();
    let ready = call(&app, "GET", "/readyz").await;
    assert_eq!(ready.status, 503, "{}", ready.body);
    let body = ready.json();
    let database = body["checks"]["database"].as_str().unwrap();
    assert!(
        database.starts_with("failed: ") || database.starts_with("no answer within"),
        "{database}: {body}"
    );
    assert_eq!(call(&app, "GET", "/healthz").await.status, 200);
}

#[tokio::test]
async fn every_answer_carries_its_request_id_and_an_errors_errmsg_names_the_same() {
    let app = TestApp::spawn().await;
    let (_corp, token) = app.corp_and_token("wwrequestid").await;

    let success = app
        .http
        .post(format!(
            "{}/cgi-bin/report/patrol/get_order_list?access_token={token}",
            app.base_url
        ))
        .body("{}")
        .send()
        .await
        .unwrap();
    let id = success.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = success.text().await.unwrap();
    assert_eq!(parse(&body)["errcode"], 0, "{body}");
    // WeCom's success bodies are unchanged: no request id in them.
    assert!(!body.contains(&id), "{body}");

    let error = call(&app, "POST", "/cgi-bin/report/patrol/get_order_list").await;
    let id = error.request_id();
    let errmsg = error.json()["errmsg"].as_str().unwrap().to_owned();
    assert!(errmsg.contains(&format!("hint: [{id}]")), "{id}: {errmsg}");

    // Ids differ from call to call; the empty 404s and the admin API carry one too.
    let first = call(&app, "GET", "/cgi-bin/nothing").await;
    let second = call(&app, "GET", "/cgi-bin/nothing").await;
    assert_eq!(first.status, 404);
    assert_ne!(first.request_id(), second.request_id());
    let admin = call(&app, "GET", "/admin/v1/corps").await;
    assert_eq!(admin.status, 401, "{}", admin.body);
    admin.request_id();
}

/// The value of the sample `name{labels}` (or `name` without labels) in `/metrics`.
#[track_caller]
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| {
            line.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .unwrap_or_else(|| panic!("no {series} in:\n{metrics}"))
        .trim()
        .parse()
        .unwrap()
}

async fn metrics(app: &TestApp) -> String {
    let answer = call(app, "GET", "/metrics").await;
    assert_eq!(answer.status, 200);
    answer.body
}

#[tokio::test]
async fn metrics_count_store_calls_tokens_orders_connections_and_the_pool() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwmetrics").await;
    // Two grants: a new token, then the same live one again.
    let token = app.token(&corp).await;
    assert_eq!(app.token(&corp).await, token);
    // A refused gettoken grants nothing.
    let (status, _) = app
        .get("/cgi-bin/gettoken?corpid=wwmetrics&corpsecret=wrong")
        .await;
    assert_eq!(status, 200);

    // Reports through the administration API: two patrol orders, one refused (unknown grid).
    let report = |order_id: &str, grid: &str| {
        json!({
            "order_id": order_id,
            "description": "井盖缺失",
            "grid_id": grid,
            "location": {"name": "测试小区", "address": "测试路1号", "latitude": 30.27, "longitude": 120.15},
            "reporter": "reporter",
            "time": app.now() - 60,
        })
    };
    for order_id in ["m1", "m2"] {
        let (status, text) = app.report("wwmetrics", &report(order_id, "g1")).await;
        assert_eq!(status, 201, "{text}");
    }
    let (status, text) = app.report("wwmetrics", &report("m3", "no-such-grid")).await;
    assert!(status >= 400, "{status} {text}");

    let answer = app
        .patrol("get_order_list", &token, r#"{"limit":10}"#)
        .await;
    assert_eq!(
        answer["order_list"].as_array().unwrap().len(),
        2,
        "{answer}"
    );

    let text = metrics(&app).await;
    assert_eq!(sample(&text, "patrol_tokens_issued_total"), 2.0);
    assert_eq!(
        sample(&text, r#"patrol_orders_reported_total{family="patrol"}"#),
        2.0
    );
    // Every store call is timed under its operation: three grants, three reports, the list.
    for (operation, count) in [
        ("grant_token", 3.0),
        ("report_order", 3.0),
        ("list_orders", 1.0),
    ] {
        assert_eq!(
            sample(
                &text,
                &format!(
                    r#"patrol_store_operation_duration_seconds_count{{operation="{operation}"}}"#
                )
            ),
            count,
            "{operation}"
        );
    }
    assert!(
        sample(
            &text,
            r#"patrol_store_operation_duration_seconds_count{operation="authenticate"}"#
        ) >= 1.0
    );
    assert_eq!(
        sample(
            &text,
            r#"patrol_store_errors_total{operation="report_order"}"#
        ),
        1.0
    );

    // The scrape's own connection is open while it is answered.
    assert!(sample(&text, "patrol_http_connections_open") >= 1.0);
    let max = sample(&text, "patrol_store_pool_connections_max");
    let open = sample(&text, "patrol_store_pool_connections_open");
    let idle = sample(&text, "patrol_store_pool_connections_idle");
    assert!(
        max >= 1.0 && open <= max && idle <= open,
        "{max} {open} {idle}"
    );
    let build = format!(
        r#"patrol_build_info{{version="{}",commit="{}"}}"#,
        env!("CARGO_PKG_VERSION"),
        patrol_server::version::GIT_COMMIT
    );
    assert_eq!(sample(&text, &build), 1.0);

    // Probes are calls like any other: counted by route.
    call(&app, "GET", "/readyz").await;
    let text = metrics(&app).await;
    assert_eq!(
        sample(
            &text,
            r#"patrol_http_requests_total{route="/readyz",method="GET",status="200",errcode=""}"#
        ),
        1.0
    );
    assert!(
        sample(
            &text,
            r#"patrol_store_operation_duration_seconds_count{operation="schema_version"}"#
        ) >= 1.0
    );
}

#[tokio::test]
async fn open_connections_are_followed_as_they_open_and_close() {
    let app = TestApp::spawn().await;
    // A client of its own, whose connections close when it is dropped.
    let baseline = sample(&metrics(&app).await, "patrol_http_connections_open");
    let mut held = Vec::new();
    for _ in 0..3 {
        let stream = tokio::net::TcpStream::connect(app.address()).await.unwrap();
        held.push(stream);
    }
    // The three are counted once accepted; the scrape's own connection may be the one counted
    // in the baseline or a new one.
    let mut seen = 0.0;
    for _ in 0..100 {
        seen = sample(&metrics(&app).await, "patrol_http_connections_open");
        if seen >= baseline + 3.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen >= baseline + 3.0, "{seen} open, baseline {baseline}");
    drop(held);
    for _ in 0..100 {
        seen = sample(&metrics(&app).await, "patrol_http_connections_open");
        if seen <= baseline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        seen <= baseline,
        "{seen} open after closing, baseline {baseline}"
    );
}

/// A probe answered while the server drains after its shutdown began says the listener is not
/// accepting: a fault rule holds the call in flight (counted in `/metrics` once applied) while
/// the server is stopped.
#[tokio::test]
async fn readyz_answered_while_shutting_down_names_the_listener() {
    let mut app = TestApp::spawn().await;
    app.admin_expect(
        "POST",
        "/faults",
        Some(json!({
            "path": "/readyz",
            "times": 1,
            "action": {"delay": {"distribution": "fixed", "ms": 1000}}
        })),
        201,
    )
    .await;
    let url = format!("{}/readyz", app.base_url);
    let held = tokio::spawn(async move {
        let response = reqwest::get(url).await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    });
    // Wait until the rule holds the call (its fault is counted before the pause).
    let series = r#"patrol_faults_applied_total{action="delay"}"#;
    let mut applied = false;
    for _ in 0..200 {
        let text = metrics(&app).await;
        if text.lines().any(|line| line.starts_with(series)) {
            applied = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(applied, "the delay was never applied");
    app.stop().await;

    let (status, body) = held.await.unwrap();
    assert_eq!(status, 503, "{body}");
    let body = parse(&body);
    assert_eq!(body["status"], "not ready", "{body}");
    assert_eq!(body["checks"]["database"], "ok", "{body}");
    assert_eq!(
        body["checks"]["listener"], "not accepting connections (shutting down)",
        "{body}"
    );
}
