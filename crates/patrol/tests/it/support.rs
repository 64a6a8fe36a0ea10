//! What the integration tests share: a `patrol serve` child process on a temporary directory,
//! `patrol` commands with a clean environment, assertions on how they ended, and WeCom's side of
//! a server.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Lines};
use std::process::{Child, ChildStdout, Command, Output, Stdio};

use serde_json::{Value, json};

pub(crate) const PATROL: &str = env!("CARGO_BIN_EXE_patrol");

/// `patrol ARGS…` without any `PATROL_*` variable of the test's own environment, logging only
/// warnings; the caller adds flags, variables and a directory, then runs it.
pub(crate) fn patrol(args: &[&str]) -> Command {
    let mut command = Command::new(PATROL);
    command.args(args).env("RUST_LOG", "warn");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PATROL_") {
            command.env_remove(key);
        }
    }
    command
}

/// Runs a command that must succeed; its whole output.
#[track_caller]
pub(crate) fn succeeds_with(command: &mut Command) -> Output {
    let output = run(command);
    assert!(
        output.status.success(),
        "{command:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs a command that must succeed; its stdout.
#[track_caller]
pub(crate) fn succeeds(command: &mut Command) -> String {
    String::from_utf8_lossy(&succeeds_with(command).stdout).into_owned()
}

/// Runs a command that must succeed and print JSON; the JSON.
#[track_caller]
pub(crate) fn succeeds_json(command: &mut Command) -> Value {
    let stdout = succeeds(command);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout:?}"))
}

/// Runs a command that must fail; its whole output.
#[track_caller]
pub(crate) fn fails_with(command: &mut Command) -> Output {
    let output = run(command);
    assert!(
        !output.status.success(),
        "{command:?} succeeded:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs a command that must fail; its stderr.
#[track_caller]
pub(crate) fn fails(command: &mut Command) -> String {
    String::from_utf8_lossy(&fails_with(command).stderr).into_owned()
}

#[track_caller]
fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("{command:?} does not run: {e}"))
}

/// `patrol seed` of `orders` orders with `seed` into `database`.
pub(crate) fn seed(database: &str, orders: &str, seed: &str) -> Command {
    let mut command = patrol(&[
        "seed",
        "--orders",
        orders,
        "--seed",
        seed,
        "--anchor",
        "1800000000",
    ]);
    command.args(["--database", database, "--quiet"]);
    command
}

/// The stored wire JSON of every patrol order of the demo corp in `database`, in the walk's order.
pub(crate) async fn all_bodies(database: &str) -> Vec<String> {
    let store = patrol_server::open_store(database).await.unwrap();
    let corp = store.corp("wwpatroldemo000001").await.unwrap().unwrap();
    let mut bodies = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_orders(
                corp.key,
                patrol_domain::ListQuery {
                    family: patrol_domain::Family::Patrol,
                    begin_create_time: 0,
                    begin_modify_time: 0,
                    after,
                    limit: 500,
                    public_url: None,
                },
            )
            .await
            .unwrap();
        let Some(last) = page.last_position() else {
            return bodies;
        };
        after = Some(last);
        bodies.extend(
            page.bodies()
                .map(|b| String::from_utf8(b.to_vec()).unwrap()),
        );
    }
}

/// A new database `name` on the cluster: its URL.
pub(crate) fn createdb(cluster: &patrol_test::PgCluster, name: &str) -> String {
    let output = Command::new(cluster.program("createdb"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &cluster.port().to_string(),
            "-U",
            "postgres",
            name,
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    cluster.url_of(name)
}

/// The current time in Unix seconds.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A `patrol serve` child process whose current directory is its own temporary directory,
/// killed on drop.
pub(crate) struct Served {
    child: Child,
    /// The base URL it listens on, from its banner.
    pub(crate) url: String,
    pub(crate) dir: tempfile::TempDir,
    /// The banner lines read so far.
    banner: Vec<String>,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    /// Kills the server with SIGKILL (no chance to clean up) and waits for it; its directory
    /// stays until the `Served` is dropped.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Runs `patrol serve ARGS…` with `envs` and no other `PATROL_*` variable, `{dir}` in an
    /// argument or a value standing for the temporary directory, and reads its banner's first
    /// lines: the URL it listens on and the database.
    pub(crate) fn start(args: &[&str], envs: &[(&str, &str)]) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let in_dir = |text: &str| text.replace("{dir}", &dir.path().display().to_string());
        let mut command = patrol(&["serve"]);
        command
            .args(args.iter().map(|arg| in_dir(arg)))
            .envs(envs.iter().map(|(key, value)| (key, in_dir(value))))
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().expect("patrol starts");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut served = Served {
            child,
            url: String::new(),
            dir,
            banner: Vec::new(),
            lines,
        };
        let first = served.banner_through("patrol is listening on ").join("\n");
        served.url = first
            .strip_prefix("patrol is listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .trim()
            .to_owned();
        served.banner_through("database");
        served
    }

    /// `patrol serve --listen 127.0.0.1:0 ARGS…`: [`Served::start`] on a free port.
    pub(crate) fn on_any_port(args: &[&str]) -> Served {
        let mut all = vec!["--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        Served::start(&all, &[])
    }

    /// The banner up to the first line that starts with `prefix` (after spaces), reading on
    /// as needed.
    pub(crate) fn banner_through(&mut self, prefix: &str) -> Vec<String> {
        while !self
            .banner
            .iter()
            .any(|l| l.trim_start().starts_with(prefix))
        {
            let line = self
                .lines
                .next()
                .unwrap_or_else(|| panic!("the banner has no {prefix:?} line: {:?}", self.banner))
                .expect("the banner is text");
            self.banner.push(line);
        }
        let end = self
            .banner
            .iter()
            .position(|l| l.trim_start().starts_with(prefix))
            .unwrap();
        self.banner[..=end].to_vec()
    }

    /// WeCom's side of this server.
    pub(crate) fn wecom(&self) -> Wecom {
        Wecom {
            client: reqwest::Client::new(),
            url: self.url.clone(),
        }
    }
}

/// WeCom's API of a server, as a WeCom client calls it.
pub(crate) struct Wecom {
    client: reqwest::Client,
    url: String,
}

impl Wecom {
    /// WeCom's API at `url`: a server, or what stands in front of one (`patrol record`,
    /// `patrol replay`).
    pub(crate) fn at(url: &str) -> Wecom {
        Wecom {
            client: reqwest::Client::new(),
            url: url.to_owned(),
        }
    }

    /// `gettoken`'s whole answer.
    pub(crate) async fn gettoken(&self, corpid: &str, secret: &str) -> Value {
        self.client
            .get(format!("{}/cgi-bin/gettoken", self.url))
            .query(&[("corpid", corpid), ("corpsecret", secret)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// An access token, which must be given.
    pub(crate) async fn token(&self, corpid: &str, secret: &str) -> String {
        let answer = self.gettoken(corpid, secret).await;
        assert_eq!(answer["errcode"], 0, "{answer}");
        answer["access_token"].as_str().unwrap().to_owned()
    }

    /// `POST /cgi-bin/{api}?access_token=TOKEN` with `body`: the answer, whatever its errcode.
    pub(crate) async fn call(&self, api: &str, token: &str, body: Value) -> Value {
        self.client
            .post(format!("{}/cgi-bin/{api}?access_token={token}", self.url))
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `get_order_list`'s answer to `body`, which must succeed.
    pub(crate) async fn order_list(&self, token: &str, body: Value) -> Value {
        let answer: Value = self
            .client
            .post(format!(
                "{}/cgi-bin/report/patrol/get_order_list?access_token={token}",
                self.url
            ))
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["errcode"], 0, "{answer}");
        answer
    }

    /// The first page of `limit` orders, as the server sent it, read with the corp's secret.
    pub(crate) fn first_page(&self, corpid: &str, secret: &str, limit: i64) -> Value {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let token = self.token(corpid, secret).await;
            self.order_list(&token, json!({ "limit": limit })).await
        })
    }
}

impl Served {
    /// The administration API of this server, called with `key`.
    pub(crate) fn admin(&self, key: &str) -> Admin {
        Admin {
            client: reqwest::Client::new(),
            url: format!("{}/admin/v1", self.url),
            key: key.to_owned(),
        }
    }
}

/// The administration API of a server (docs/admin-api.md), as an operator's script calls it.
pub(crate) struct Admin {
    client: reqwest::Client,
    url: String,
    key: String,
}

impl Admin {
    /// `METHOD /admin/v1{path}` with the key and a JSON body: the status and the answer
    /// (`null` when empty).
    pub(crate) async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let answer = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"))
        };
        (status, answer)
    }

    /// A call that must succeed (2xx): its answer.
    pub(crate) async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.call(method, path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path} answered {status} {answer}"
        );
        answer
    }
}

/// The multipart boundary of [`Wecom::upload`].
const BOUNDARY: &str = "patrol-test-boundary-7d1f";

impl Wecom {
    /// `media/upload` of `bytes` as `type`: the media id, which must be given.
    pub(crate) async fn upload(&self, token: &str, media_type: &str, bytes: &[u8]) -> String {
        let mut body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"media\"; \
             filename=\"photo.jpg\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        let answer: Value = self
            .client
            .post(format!(
                "{}/cgi-bin/media/upload?access_token={token}&type={media_type}",
                self.url
            ))
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["errcode"], 0, "{answer}");
        answer["media_id"].as_str().unwrap().to_owned()
    }

    /// `GET url` (absolute, or a path on this server): the status and the body's bytes.
    pub(crate) async fn get_bytes(&self, url: &str) -> (u16, Vec<u8>) {
        let url = if url.starts_with("http") {
            url.to_owned()
        } else {
            format!("{}{url}", self.url)
        };
        let response = self.client.get(url).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.bytes().await.unwrap().to_vec())
    }
}

/// A database made by `patrol serve --demo`, the server killed once it listens.
pub(crate) fn demo_database(dir: &std::path::Path, name: &str) -> String {
    let database = dir.join(name).display().to_string();
    let mut served = Served::on_any_port(&["--demo", "--database", &database]);
    served.kill();
    database
}

/// A server on `database` (its media in `media`, when given) listening on `port`: the servers
/// of a test, one after the other, all listen on the same address, so their image URLs are the
/// same bytes.
pub(crate) fn serve_on(database: &str, media: Option<&str>, port: u16) -> Served {
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec!["--listen", listen.as_str(), "--database", database];
    if let Some(media) = media {
        args.extend(["--media-dir", media]);
    }
    Served::start(&args, &[])
}

/// A WeCom client of one server, keeping answers as the bytes it sent.
struct Raw {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Raw {
    async fn post(&self, api: &str, body: &Value) -> String {
        let answer = self
            .http
            .post(format!(
                "{}/cgi-bin/{api}?access_token={}",
                self.url, self.token
            ))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{api} {body}");
        let text = answer.text().await.unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["errcode"], 0, "{api} {body}: {text}");
        text
    }

    /// A GET of a medium: `media/get` (with the token) or a served image URL's path.
    async fn get_bytes(&self, path_and_query: &str) -> Vec<u8> {
        let token = if path_and_query.starts_with("/cgi-bin/") {
            format!("&access_token={}", self.token)
        } else {
            String::new()
        };
        let answer = self
            .http
            .get(format!("{}{path_and_query}{token}", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{path_and_query}");
        answer.bytes().await.unwrap().to_vec()
    }
}

/// The demo on `database`, served on `port` for a moment: a token and a cursor of its patrol app
/// taken there, and the transcript of every WeCom answer (`transcript`) with them, to compare
/// with the same database after a move, a save or a load.
pub(crate) async fn demo_before(
    database: &str,
    port: u16,
) -> (Vec<(String, Vec<u8>)>, String, String) {
    let served = serve_on(database, None, port);
    let wecom = served.wecom();
    let token = wecom
        .token(patrol_demo::DEMO_CORPID, patrol_demo::DEMO_PATROL_SECRET)
        .await;
    let page = wecom.order_list(&token, json!({ "limit": 5 })).await;
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let before = transcript(&served.url, &token, &cursor).await;
    assert!(before.len() > 400, "only {} calls", before.len());
    (before, token, cursor)
}

/// Every call of WeCom's API a client makes on the demo corp, and its answer, in order: both
/// walks of both families page by page (and on from `cursor`, taken before any move), every
/// order's `get_order_info`, the statistics of the corp, of every grid, member and category,
/// the grids and categories, each member's grids, and every medium the orders show (the
/// byte-for-byte comparison of `patrol migrate` and snapshots).
pub(crate) async fn transcript(url: &str, token: &str, cursor: &str) -> Vec<(String, Vec<u8>)> {
    let raw = Raw {
        http: reqwest::Client::new(),
        url: url.to_owned(),
        token: token.to_owned(),
    };
    let mut calls: Vec<(String, Vec<u8>)> = Vec::new();
    let mut record = |call: String, answer: Vec<u8>| calls.push((call, answer));
    let grids: Value =
        serde_json::from_str(&raw.post("report/grid/list", &json!({})).await).unwrap();
    let mut grid_ids = Vec::new();
    let mut userids = BTreeSet::new();
    for grid in grids["grid_list"].as_array().unwrap() {
        grid_ids.push(grid["grid_id"].as_str().unwrap().to_owned());
        for role in ["grid_admin", "grid_member"] {
            for user in grid[role].as_array().unwrap() {
                userids.insert(user.as_str().unwrap().to_owned());
            }
        }
    }
    record(
        "grid/list".into(),
        raw.post("report/grid/list", &json!({})).await.into_bytes(),
    );
    let text = raw.post("report/grid/list_cata", &json!({})).await;
    let categories: Value = serde_json::from_str(&text).unwrap();
    record("grid/list_cata".into(), text.into_bytes());
    let category_ids: Vec<String> = categories["category_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category_id"].as_str().unwrap().to_owned())
        .collect();
    for userid in &userids {
        let body = json!({ "userid": userid });
        record(
            format!("get_user_grid_info {userid}"),
            raw.post("report/grid/get_user_grid_info", &body)
                .await
                .into_bytes(),
        );
    }
    let mut media = BTreeSet::new();
    for family in ["patrol", "resident"] {
        let mut order_ids = Vec::new();
        // Both walks, page by page; the create-ordered one also on from the old cursor.
        let walks = [
            ("create", json!({ "limit": 7 })),
            ("modify", json!({ "limit": 9, "begin_modify_time": 1 })),
            ("cursor", json!({ "limit": 11, "cursor": cursor })),
        ];
        for (walk, first) in walks {
            if walk == "cursor" && family != "patrol" {
                continue;
            }
            let mut body = first;
            for page in 0.. {
                let text = raw
                    .post(&format!("report/{family}/get_order_list"), &body)
                    .await;
                let value: Value = serde_json::from_str(&text).unwrap();
                record(format!("{family} {walk} page {page}"), text.into_bytes());
                for order in value["order_list"].as_array().unwrap() {
                    if walk == "create" {
                        order_ids.push(order["order_id"].as_str().unwrap().to_owned());
                    }
                }
                if value["next_cursor"] == "" {
                    break;
                }
                body["cursor"] = value["next_cursor"].clone();
            }
        }
        assert!(!order_ids.is_empty(), "no {family} order");
        for order_id in &order_ids {
            let text = raw
                .post(
                    &format!("report/{family}/get_order_info"),
                    &json!({ "order_id": order_id }),
                )
                .await;
            let value: Value = serde_json::from_str(&text).unwrap();
            collect_media(url, &value, &mut media);
            record(format!("{family} order {order_id}"), text.into_bytes());
        }
        let statistics = std::iter::once(("get_corp_status", json!({})))
            .chain(
                grid_ids
                    .iter()
                    .map(|grid| ("get_corp_status", json!({ "grid_id": grid }))),
            )
            .chain(
                grid_ids
                    .iter()
                    .map(|grid| ("get_grid_info", json!({ "grid_id": grid }))),
            )
            .chain(
                userids
                    .iter()
                    .map(|user| ("get_user_status", json!({ "userid": user }))),
            )
            .chain(std::iter::once(("category_statistic", json!({}))))
            .chain(
                category_ids
                    .iter()
                    .map(|c| ("category_statistic", json!({ "category_id": c }))),
            );
        for (api, body) in statistics {
            let text = raw.post(&format!("report/{family}/{api}"), &body).await;
            record(format!("{family} {api} {body}"), text.into_bytes());
        }
    }
    assert!(!media.is_empty(), "the orders show no media");
    for path in &media {
        let bytes = raw.get_bytes(path).await;
        record(format!("GET {path}"), bytes);
    }
    calls
}

/// The paths of an order's images (served under the server's `url`) and videos (media/get).
fn collect_media(url: &str, value: &Value, media: &mut BTreeSet<String>) {
    match value {
        Value::String(text) if text.starts_with(url) => {
            media.insert(text[url.len()..].to_owned());
        }
        Value::Object(map) => {
            for (key, value) in map {
                if key == "video_media_ids" {
                    for id in value.as_array().into_iter().flatten() {
                        if let Some(id) = id.as_str() {
                            media.insert(format!("/cgi-bin/media/get?media_id={id}"));
                        }
                    }
                } else {
                    collect_media(url, value, media);
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_media(url, item, media)),
        _ => {}
    }
}

/// Asserts two transcripts are the same calls with the same answers, naming the first that
/// differs.
#[track_caller]
pub(crate) fn same_answers(before: &[(String, Vec<u8>)], after: &[(String, Vec<u8>)], moved: &str) {
    for (a, b) in before.iter().zip(after) {
        assert_eq!(a.0, b.0, "{moved}: the calls differ");
        assert!(
            a.1 == b.1,
            "{moved}: {} answers differently:\nbefore: {}\nafter:  {}",
            a.0,
            String::from_utf8_lossy(&a.1),
            String::from_utf8_lossy(&b.1)
        );
    }
    assert_eq!(
        before.len(),
        after.len(),
        "{moved}: a different number of calls"
    );
}
