//! The test harness: the real server on a random port over a temporary SQLite file, called over
//! HTTP with raw JSON, and the same file opened by the test to set up data.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::Arc;

use patrol_domain::{
    Action, ActionKind, AppKind, Location, Media, NewApp, NewCategory, NewCorp, NewGrid, NewOrder,
    NewUser, Urgency,
};
use patrol_server::Config;
use patrol_store::Store;
use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A corp created after 2023-12-01 (2024-01-01 00:00 UTC).
pub const MODERN_CORP: i64 = 1_704_067_200;
/// The instant of WeCom's system-app rule: 2023-12-01 00:00 Asia/Shanghai.
pub const SYSTEM_APP_CUTOFF: i64 = 1_701_360_000;
/// The admin key of every test server.
pub const ADMIN_KEY: &str = "test-admin-key";

/// Users of every test corp.
pub const USERS: [&str; 5] = ["admin", "worker1", "worker2", "reporter", "outsider"];

/// A running patrol server and the database it serves.
pub struct TestApp {
    pub base_url: String,
    pub http: reqwest::Client,
    pub store: Arc<dyn Store>,
    pub db_path: PathBuf,
    config: Config,
    dir: Option<TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

/// A corp of a test, with a patrol-enabled custom app.
#[derive(Debug, Clone)]
pub struct TestCorp {
    pub corpid: String,
    pub key: i64,
    /// The secret of the patrol-enabled custom app.
    pub secret: String,
}

impl TestApp {
    /// The time on the server's clock, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.config.clock.now()
    }

    /// Starts a server on a fresh database with default settings.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// Starts a server on a fresh database, with settings changed by `tweak`.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db_path = dir.path().join("patrol.db");
        let mut config = Config::new(format!("sqlite://{}", db_path.display()));
        config.admin_key = Some(ADMIN_KEY.to_owned());
        tweak(&mut config);
        let store = patrol_server::open_store(&config.database).expect("the test database opens");
        let mut app = TestApp {
            base_url: String::new(),
            http: reqwest::Client::new(),
            store,
            db_path,
            config,
            dir: Some(dir),
            shutdown: None,
            handle: None,
        };
        app.start().await;
        app
    }

    async fn start(&mut self) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        self.base_url = format!("http://{}", listener.local_addr().unwrap());
        let (sender, receiver) = oneshot::channel::<()>();
        let config = self.config.clone();
        self.handle = Some(tokio::spawn(async move {
            patrol_server::serve(config, listener, async {
                let _ = receiver.await;
            })
            .await
            .expect("the server runs");
        }));
        self.shutdown = Some(sender);
    }

    /// Stops the server and starts a new one on the same database, on a new port.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start().await;
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.expect("the server stops cleanly");
        }
    }

    /// A corp created at `created_at`, with users [`USERS`], a grid `g1` (admins `admin`, members
    /// `worker1`, `worker2`, `reporter`), categories `c1` > `c1a`, and a patrol-enabled app.
    pub async fn corp_created_at(&self, corpid: &str, created_at: i64) -> TestCorp {
        let store = self.store.as_ref();
        let corp = store
            .create_corp(NewCorp {
                corpid: corpid.into(),
                name: format!("{corpid} 测试企业"),
                created_at,
            })
            .await
            .unwrap();
        for userid in USERS {
            let user = NewUser {
                userid: userid.into(),
                name: userid.to_uppercase(),
            };
            store.create_user(corp.key, user).await.unwrap();
        }
        let grid = NewGrid {
            grid_id: "g1".into(),
            name: "一号网格".into(),
            parent: None,
            admins: vec!["admin".into()],
            members: vec!["worker1".into(), "worker2".into(), "reporter".into()],
        };
        store.create_grid(corp.key, grid).await.unwrap();
        for (id, name, parent) in [("c1", "市容环境", None), ("c1a", "暴露垃圾", Some("c1"))]
        {
            let category = NewCategory {
                category_id: id.into(),
                name: name.into(),
                parent: parent.map(String::from),
            };
            store.create_category(corp.key, category).await.unwrap();
        }
        let secret = format!("{corpid}-patrol-secret");
        let test_corp = TestCorp {
            corpid: corpid.into(),
            key: corp.key,
            secret: secret.clone(),
        };
        self.app(&test_corp, 1_000_001, AppKind::Custom, true, true, &secret)
            .await;
        test_corp
    }

    /// A corp created after 2023-12-01: see [`TestApp::corp_created_at`].
    pub async fn corp(&self, corpid: &str) -> TestCorp {
        self.corp_created_at(corpid, MODERN_CORP).await
    }

    /// The demo corp, installed with its orders.
    pub async fn demo_corp(&self) -> TestCorp {
        let corp = patrol_demo::install(
            self.store.as_ref(),
            "http://patrol.test",
            &self.config.clock,
        )
        .await
        .unwrap();
        TestCorp {
            corpid: corp.corpid,
            key: corp.key,
            secret: patrol_demo::DEMO_PATROL_SECRET.into(),
        }
    }

    /// Adds an app to a corp.
    pub async fn app(
        &self,
        corp: &TestCorp,
        agentid: i64,
        kind: AppKind,
        patrol_enabled: bool,
        enabled: bool,
        secret: &str,
    ) {
        let app = NewApp {
            agentid,
            name: format!("app {agentid}"),
            kind,
            patrol_enabled,
            enabled,
            secret: secret.into(),
            created_at: self.config.clock.now(),
        };
        self.store.create_app(corp.key, app).await.unwrap();
    }

    /// Reports orders into a corp made by [`TestApp::corp`].
    pub async fn insert(&self, corp: &TestCorp, orders: Vec<NewOrder>) {
        self.store.insert_orders(corp.key, orders).await.unwrap();
    }

    /// Takes an action on an order of a corp made by [`TestApp::corp`].
    pub async fn act(
        &self,
        corp: &TestCorp,
        order_id: &str,
        kind: ActionKind,
        actor: &str,
        time: i64,
    ) {
        let action = Action {
            kind,
            actor: actor.into(),
            description: format!("{actor} acted"),
            media: Media::default(),
            time,
        };
        self.store
            .act_on_order(corp.key, order_id, action)
            .await
            .unwrap();
    }

    /// `GET` a path (with its query) and return the status and body text.
    pub async fn get(&self, path_and_query: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path_and_query}", self.base_url))
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// `POST` a raw body to a path (with its query) and return the status and body text.
    pub async fn post(
        &self,
        path_and_query: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, String) {
        let response = self
            .http
            .post(format!("{}{path_and_query}", self.base_url))
            .body(body)
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// Calls the administration API with the admin key: `method` `/admin/v1{path}` with a JSON
    /// body (`None` for no body). Returns the status and the JSON answer (`Value::Null` when
    /// the body is empty).
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self
            .http
            .request(method, format!("{}/admin/v1{path}", self.base_url))
            .bearer_auth(ADMIN_KEY);
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        (status, value)
    }

    /// A token of the corp's patrol-enabled app.
    pub async fn token(&self, corp: &TestCorp) -> String {
        self.token_for(&corp.corpid, &corp.secret).await
    }

    /// A token for any corpid and secret; panics unless gettoken succeeds.
    pub async fn token_for(&self, corpid: &str, secret: &str) -> String {
        let (status, body) = self
            .get(&format!(
                "/cgi-bin/gettoken?corpid={corpid}&corpsecret={secret}"
            ))
            .await;
        assert_eq!(status, 200);
        let value: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["errcode"], 0, "{body}");
        value["access_token"].as_str().unwrap().to_owned()
    }

    /// `POST /cgi-bin/report/patrol/{api}?access_token=TOKEN` with a raw body; the answer must be
    /// HTTP 200 with a JSON body.
    pub async fn patrol(&self, api: &str, token: &str, body: &str) -> Value {
        let (status, text) = self
            .post(
                &format!("/cgi-bin/report/patrol/{api}?access_token={token}"),
                body.to_owned(),
            )
            .await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    /// Walks `get_order_list` to the end with the given filter body fields and limit; returns
    /// the orders in walk order.
    pub async fn walk(&self, token: &str, filters: Value, limit: i64) -> Vec<Value> {
        let mut orders = Vec::new();
        let mut cursor = String::new();
        loop {
            let mut body = filters.clone();
            body["cursor"] = Value::String(cursor.clone());
            body["limit"] = limit.into();
            let page = self
                .patrol("get_order_list", token, &body.to_string())
                .await;
            assert_eq!(page["errcode"], 0, "{page}");
            let list = page["order_list"].as_array().unwrap();
            let next = page["next_cursor"].as_str().unwrap().to_owned();
            assert!(list.len() <= limit as usize);
            assert!(
                next.is_empty() || !list.is_empty(),
                "an empty page with a cursor"
            );
            orders.extend(list.iter().cloned());
            if next.is_empty() {
                return orders;
            }
            cursor = next;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if std::env::var_os("PATROL_TEST_KEEP").is_some()
            && let Some(dir) = self.dir.take()
        {
            eprintln!(
                "kept test database {}",
                dir.keep().join("patrol.db").display()
            );
        }
    }
}

/// An order of a corp made by [`TestApp::corp`], reported by `reporter` in grid `g1`.
pub fn new_order(order_id: &str, create_time: i64) -> NewOrder {
    NewOrder {
        order_id: order_id.into(),
        description: format!("事件 {order_id}"),
        urgency: Urgency::Normal,
        category: Some("c1a".into()),
        grid: "g1".into(),
        location: Location {
            name: "测试小区".into(),
            address: "测试路1号".into(),
            latitude: 30.25,
            longitude: 120.125,
        },
        reporter: "reporter".into(),
        media: Media::default(),
        create_time,
        actions: Vec::new(),
    }
}

/// `errcode` of an answer.
#[track_caller]
pub fn errcode(answer: &Value) -> i64 {
    answer["errcode"]
        .as_i64()
        .unwrap_or_else(|| panic!("no errcode in {answer}"))
}

/// `errmsg` of an answer.
#[track_caller]
pub fn errmsg(answer: &Value) -> &str {
    answer["errmsg"]
        .as_str()
        .unwrap_or_else(|| panic!("no errmsg in {answer}"))
}

impl TestApp {
    /// Stops the server and starts a new one on the same database and the same port, so that
    /// a client keeps its base URL across the restart.
    pub async fn restart_same_port(&mut self) {
        let address: std::net::SocketAddr = self
            .base_url
            .trim_start_matches("http://")
            .parse()
            .expect("the base URL holds a socket address");
        self.stop().await;
        let mut attempts = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(address).await {
                Ok(listener) => break listener,
                Err(error) if attempts < 100 => {
                    attempts += 1;
                    eprintln!("rebinding {address}: {error}; trying again");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(error) => panic!("cannot bind {address} again: {error}"),
            }
        };
        let (sender, receiver) = oneshot::channel::<()>();
        let config = self.config.clone();
        self.handle = Some(tokio::spawn(async move {
            patrol_server::serve(config, listener, async {
                let _ = receiver.await;
            })
            .await
            .expect("the server runs");
        }));
        self.shutdown = Some(sender);
    }
}
