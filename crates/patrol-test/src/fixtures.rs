//! Test data: corps, users, grids, categories, apps and orders, written straight through the
//! store (fast, no HTTP) or through the administration API (as an operator would).

use patrol_domain::{
    Action, ActionKind, AgentId, AppKind, Location, Media, NewApp, NewCategory, NewCorp, NewGrid,
    NewOrder, NewUser, Urgency,
};
use serde_json::{Value, json};

use crate::TestApp;

/// A corp created after 2023-12-01 (2024-01-01 00:00 UTC).
pub const MODERN_CORP: i64 = 1_704_067_200;
/// The instant of WeCom's system-app rule: 2023-12-01 00:00 Asia/Shanghai.
pub const SYSTEM_APP_CUTOFF: i64 = 1_701_360_000;
/// A time well in the past (2023-11-14 22:13:20 UTC), the usual base of create times.
pub const PAST: i64 = 1_700_000_000;

/// Users of every test corp.
pub const USERS: [&str; 5] = ["admin", "worker1", "worker2", "reporter", "outsider"];

/// A corp of a test, with a patrol-enabled custom app.
#[derive(Debug, Clone)]
pub struct TestCorp {
    /// The corp's id on the wire.
    pub corpid: String,
    /// The corp's key in the store.
    pub key: i64,
    /// The secret of the patrol-enabled custom app.
    pub secret: String,
}

impl TestApp {
    /// A corp created at `created_at`, with users [`USERS`], a grid `g1` (admins `admin`, members
    /// `worker1`, `worker2`, `reporter`), categories `c1` > `c1a`, and a patrol-enabled custom
    /// app 1000001 whose secret is `{corpid}-patrol-secret`.
    pub async fn corp_created_at(&self, corpid: &str, created_at: i64) -> TestCorp {
        let store = self.store.as_ref();
        let corp = store
            .create_corp(NewCorp {
                corpid: id(corpid),
                name: format!("{corpid} 测试企业"),
                created_at,
            })
            .await
            .unwrap();
        for userid in USERS {
            let user = NewUser {
                userid: id(userid),
                name: userid.to_uppercase(),
            };
            store.create_user(corp.key, user).await.unwrap();
        }
        let grid = NewGrid {
            grid_id: id("g1"),
            name: "一号网格".into(),
            parent: None,
            admins: vec!["admin".into()],
            members: vec!["worker1".into(), "worker2".into(), "reporter".into()],
        };
        store.create_grid(corp.key, grid).await.unwrap();
        for (id, name, parent) in [("c1", "市容环境", None), ("c1a", "暴露垃圾", Some("c1"))]
        {
            let category = NewCategory {
                category_id: self::id(id),
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

    /// A corp made by [`TestApp::corp`] and a token of its patrol app.
    pub async fn corp_and_token(&self, corpid: &str) -> (TestCorp, String) {
        let corp = self.corp(corpid).await;
        let token = self.token(&corp).await;
        (corp, token)
    }

    /// A corp made by [`TestApp::corp`] with `orders`, and a token of its patrol app.
    pub async fn corp_with_orders(
        &self,
        corpid: &str,
        orders: Vec<NewOrder>,
    ) -> (TestCorp, String) {
        let corp = self.corp(corpid).await;
        self.insert(&corp, orders).await;
        let token = self.token(&corp).await;
        (corp, token)
    }

    /// The demo corp (`patrol_demo::install`), its orders generated relative to the server's
    /// clock.
    pub async fn demo_corp(&self) -> TestCorp {
        let corp = patrol_demo::install(self.store.as_ref(), self.blobs.as_ref(), self.clock())
            .await
            .unwrap();
        TestCorp {
            corpid: corp.corpid,
            key: corp.key,
            secret: patrol_demo::DEMO_PATROL_SECRET.into(),
        }
    }

    /// Adds an app to a corp, on the patrol list or on none.
    pub async fn app(
        &self,
        corp: &TestCorp,
        agentid: i64,
        kind: AppKind,
        patrol_enabled: bool,
        enabled: bool,
        secret: &str,
    ) {
        let lists = Lists {
            patrol: patrol_enabled,
            ..Lists::default()
        };
        self.app_on(corp, agentid, kind, lists, enabled, secret)
            .await;
    }

    /// Adds an app to a corp, on the given lists.
    pub async fn app_on(
        &self,
        corp: &TestCorp,
        agentid: i64,
        kind: AppKind,
        lists: Lists,
        enabled: bool,
        secret: &str,
    ) {
        let app = NewApp {
            agentid: Some(AgentId::new(agentid).expect("a positive agentid")),
            name: format!("app {agentid}"),
            kind,
            patrol_enabled: lists.patrol,
            resident_enabled: lists.resident,
            contact_enabled: lists.contact,
            enabled,
            secret: secret.into(),
            created_at: self.now(),
        };
        self.store.create_app(corp.key, app).await.unwrap();
    }

    /// Reports orders into a corp made by [`TestApp::corp`].
    pub async fn insert(&self, corp: &TestCorp, orders: Vec<NewOrder>) {
        self.store.insert_orders(corp.key, orders).await.unwrap();
    }

    /// Takes an action on an order of a corp made by [`TestApp::corp`]; its description is
    /// `{actor} acted`.
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

    // Through the administration API.

    /// `POST /corps`: a corp created at [`MODERN_CORP`], named `{corpid} 企业`.
    pub async fn new_corp(&self, corpid: &str) {
        let body =
            json!({"corpid": corpid, "name": format!("{corpid} 企业"), "created_at": MODERN_CORP});
        self.admin_expect("POST", "/corps", Some(body), 201).await;
    }

    /// `POST /corps/{corpid}/users` for each of `userids`, named `{userid} 姓名`.
    pub async fn new_users(&self, corpid: &str, userids: &[&str]) {
        for userid in userids {
            let body = json!({"userid": userid, "name": format!("{userid} 姓名")});
            self.admin_expect("POST", &format!("/corps/{corpid}/users"), Some(body), 201)
                .await;
        }
    }

    /// Users `{prefix}1` to `{prefix}{count}`, through [`TestApp::new_users`].
    pub async fn numbered_users(&self, corpid: &str, prefix: &str, count: usize) -> Vec<String> {
        let userids: Vec<String> = (1..=count).map(|i| format!("{prefix}{i}")).collect();
        let refs: Vec<&str> = userids.iter().map(String::as_str).collect();
        self.new_users(corpid, &refs).await;
        userids
    }

    /// `POST /corps/{corpid}/grids` (must be 201); returns the answer.
    pub async fn new_grid(&self, corpid: &str, body: Value) -> Value {
        self.admin_expect("POST", &format!("/corps/{corpid}/grids"), Some(body), 201)
            .await
    }

    /// `POST /corps/{corpid}/categories` (must be 201).
    pub async fn new_category(&self, corpid: &str, id: &str, name: &str, parent: Option<&str>) {
        let mut body = json!({"category_id": id, "name": name});
        if let Some(parent) = parent {
            body["parent_id"] = parent.into();
        }
        let path = format!("/corps/{corpid}/categories");
        self.admin_expect("POST", &path, Some(body), 201).await;
    }

    /// `POST /corps/{corpid}/apps` (must be 201); returns the answer, with its secret.
    pub async fn new_app(&self, corpid: &str, body: Value) -> Value {
        self.admin_expect("POST", &format!("/corps/{corpid}/apps"), Some(body), 201)
            .await
    }

    /// `GET /corps/{corpid}/{what}` (must be 200), e.g. `what` = `grids`, `users`, `apps`.
    pub async fn admin_list(&self, corpid: &str, what: &str) -> Value {
        self.admin_expect("GET", &format!("/corps/{corpid}/{what}"), None, 200)
            .await
    }

    /// Reports an order through the administration API (must be 201): reporter `reporter`, in
    /// `grid_id`, at [`MODERN_CORP`] + 100.
    pub async fn report_in_grid(
        &self,
        corpid: &str,
        order_id: &str,
        grid_id: &str,
        category: Option<&str>,
    ) {
        let mut body = json!({
            "order_id": order_id,
            "description": format!("事件 {order_id}"),
            "grid_id": grid_id,
            "location": {"name": "测试小区", "address": "测试路1号", "latitude": 30.27, "longitude": 120.15},
            "reporter": "reporter",
            "time": MODERN_CORP + 100,
        });
        if let Some(category) = category {
            body["category_id"] = category.into();
        }
        let path = format!("/corps/{corpid}/orders");
        self.admin_expect("POST", &path, Some(body), 201).await;
    }
}

/// A well-formed id of a test (`id::<OrderId>("o1")`); panics on an ill-formed one.
#[track_caller]
pub fn id<T>(text: &str) -> T
where
    T: std::str::FromStr,
    T::Err: std::fmt::Debug,
{
    text.parse().expect("a well-formed id")
}

/// An order of a corp made by [`TestApp::corp`], reported by `reporter` in grid `g1`.
pub fn new_order(order_id: &str, create_time: i64) -> NewOrder {
    NewOrder {
        order_id: id(order_id),
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
        resident: None,
    }
}

/// `count` orders made by [`new_order`]: order `i` is `o{i}` zero-padded to `width` digits,
/// created at `base + i`.
pub fn numbered_orders(count: usize, base: i64, width: usize) -> Vec<NewOrder> {
    (0..count)
        .map(|i| new_order(&format!("o{i:0width$}"), base + i as i64))
        .collect()
}

/// The `order_id`s of a list of orders on the wire.
#[track_caller]
pub fn order_ids(orders: &[Value]) -> Vec<String> {
    orders
        .iter()
        .map(|o| o["order_id"].as_str().expect("order_id").to_owned())
        .collect()
}

/// The lists an app is on (decisions.md, "Permissions of the other families").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lists {
    /// 「巡查上报 - 可调用接口的应用」: `report/patrol/*`.
    pub patrol: bool,
    /// 「居民上报 - 可调用接口的应用」: `report/resident/*`.
    pub resident: bool,
    /// 「居民联系 - 可调用接口的应用」: `report/grid/*`.
    pub contact: bool,
}

impl Lists {
    pub const ALL: Lists = Lists {
        patrol: true,
        resident: true,
        contact: true,
    };
}
