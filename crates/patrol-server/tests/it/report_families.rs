//! Both report families over raw HTTP: the statistics (`get_corp_status`, `get_user_status`,
//! `category_statistic`) against a recount of the orders after every workflow step and across
//! midnight in the corp's time zone, the resident family's own orders, walk and cursors, and the
//! permission and isolation rules of every endpoint of both families.

use std::collections::{BTreeMap, BTreeSet};

use patrol_domain::{ActionKind, AppKind, Clock, NewCategory, NewGrid, NewOrder, Resident};
use patrol_test::{
    Lists, MODERN_CORP, SYSTEM_APP_CUTOFF, TestApp, TestCorp, assert_wecom_error, errcode, id,
    new_order,
};
use serde_json::{Value, json};

/// 2026-11-30 22:00 in Asia/Shanghai (14:00 UTC): two hours before a Shanghai midnight.
const EVENING: i64 = 1_796_047_200;
/// 2026-12-01 00:00 in Asia/Shanghai.
const MIDNIGHT: i64 = EVENING + 2 * 3600;

const FAMILIES: [&str; 2] = ["patrol", "resident"];

/// `POST /cgi-bin/report/{family}/{api}` with a raw body: status and text.
async fn call_text(
    app: &TestApp,
    family: &str,
    api: &str,
    token: &str,
    body: &str,
) -> (u16, String) {
    app.post(
        &format!("/cgi-bin/report/{family}/{api}?access_token={token}"),
        body.to_owned(),
    )
    .await
}

/// As [`call_text`]; the answer must be HTTP 200 with a JSON body.
async fn call(app: &TestApp, family: &str, api: &str, token: &str, body: Value) -> Value {
    let (status, text) = call_text(app, family, api, token, &body.to_string()).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Every order of a family, walked through `get_order_list`.
async fn walk(app: &TestApp, family: &str, token: &str) -> Vec<Value> {
    let mut orders = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = call(
            app,
            family,
            "get_order_list",
            token,
            json!({"cursor": cursor, "limit": 50}),
        )
        .await;
        assert_eq!(errcode(&page), 0, "{page}");
        orders.extend(page["order_list"].as_array().unwrap().iter().cloned());
        cursor = page["next_cursor"].as_str().unwrap().to_owned();
        if cursor.is_empty() {
            return orders;
        }
    }
}

/// A corp for the statistics: the corp of [`TestApp::corp`] (grid `g1`, admin `admin`;
/// categories `c1` > `c1a`) plus grid `g1a` under `g1` (admin `worker1`), root grid `g2` (admin
/// `worker2`) and level-1 category `c2`; and a token of an app on every list.
async fn stats_corp(app: &TestApp, corpid: &str) -> (TestCorp, String) {
    let corp = app.corp(corpid).await;
    let store = app.store.as_ref();
    for (grid, parent, admin) in [("g1a", Some("g1"), "worker1"), ("g2", None, "worker2")] {
        let grid = NewGrid {
            grid_id: id(grid),
            name: format!("网格 {grid}"),
            parent: parent.map(String::from),
            admins: vec![admin.into()],
            members: Vec::new(),
        };
        store.create_grid(corp.key, grid).await.unwrap();
    }
    let category = NewCategory {
        category_id: id("c2"),
        name: "设施管理".into(),
        parent: None,
    };
    store.create_category(corp.key, category).await.unwrap();
    let secret = format!("{corpid}-every-list");
    app.app_on(&corp, 1_000_050, AppKind::Custom, Lists::ALL, true, &secret)
        .await;
    let token = app.token_for(corpid, &secret).await;
    (corp, token)
}

/// An order of [`stats_corp`]: in `grid`, of `category`, reported at `time`; a resident order
/// when `resident`.
fn order(
    order_id: &str,
    grid: &str,
    category: Option<&str>,
    time: i64,
    resident: bool,
) -> NewOrder {
    NewOrder {
        grid: grid.into(),
        category: category.map(String::from),
        resident: resident.then(|| Resident {
            name: "王秀英".into(),
            mobile: "13800000000".into(),
            unionid: "oAbC-123_xyz".into(),
        }),
        ..new_order(order_id, time)
    }
}

/// What the statistics must say, recounted from the orders as `get_order_list` shows them.
struct Recount {
    orders: Vec<Value>,
    /// [start, end) of today in Asia/Shanghai.
    day: (i64, i64),
}

fn last_type(order: &Value) -> i64 {
    order["process_list"].as_array().unwrap().last().unwrap()["process_type"]
        .as_i64()
        .unwrap()
}

fn is_open(order: &Value) -> bool {
    !matches!(last_type(order), 5 | 6)
}

/// The done step of an order: (its time, who did it).
fn done(order: &Value) -> Option<(i64, String)> {
    order["process_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|step| step["process_type"] == 5)
        .map(|step| {
            (
                step["solved_time"].as_i64().unwrap(),
                step["solve_userid"].as_str().unwrap().to_owned(),
            )
        })
}

impl Recount {
    fn today(&self, time: i64) -> bool {
        (self.day.0..self.day.1).contains(&time)
    }

    /// get_corp_status over the orders `keep` selects, in the family's shape.
    fn corp(&self, family: &str, keep: impl Fn(&Value) -> bool) -> Value {
        let orders: Vec<&Value> = self.orders.iter().filter(|o| keep(o)).collect();
        let count = |f: &dyn Fn(&Value) -> bool| orders.iter().filter(|o| f(o)).count() as i64;
        let untaken = count(&|o| is_open(o) && last_type(o) == 1);
        let processing = count(&|o| is_open(o) && matches!(last_type(o), 2 | 3 | 4 | 7));
        let added_today = count(&|o| self.today(o["create_time"].as_i64().unwrap()));
        let solved_today = count(&|o| done(o).is_some_and(|(time, _)| self.today(time)));
        let total_case = orders.len() as i64;
        let total_solved = count(&|o| last_type(o) == 5);
        let total_accepted = count(&|o| {
            o["process_list"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| matches!(s["process_type"].as_i64().unwrap(), 2 | 3 | 4 | 5 | 7))
        });
        match family {
            "patrol" => json!({"errcode": 0, "errmsg": "ok", "to_be_assigned": untaken,
                "processing": processing, "added_today": added_today,
                "solved_today": solved_today, "total_case": total_case,
                "total_solved": total_solved}),
            _ => json!({"errcode": 0, "errmsg": "ok", "processing": processing,
                "added_today": added_today, "solved_today": solved_today, "pending": untaken,
                "total_case": total_case, "total_accepted": total_accepted,
                "total_solved": total_solved}),
        }
    }

    /// get_user_status of `userid`, in the family's shape.
    fn user(&self, family: &str, userid: &str) -> Value {
        let handled: Vec<&Value> = self
            .orders
            .iter()
            .filter(|o| {
                is_open(o)
                    && o["processor_userids"]
                        .as_array()
                        .unwrap()
                        .contains(&json!(userid))
            })
            .collect();
        let added_today = self
            .orders
            .iter()
            .filter(|o| {
                o["process_list"][0]["solve_userid"] == userid
                    && self.today(o["create_time"].as_i64().unwrap())
            })
            .count();
        let solved_today = self
            .orders
            .iter()
            .filter(|o| done(o).is_some_and(|(time, by)| by == userid && self.today(time)))
            .count();
        let mut answer = json!({"errcode": 0, "errmsg": "ok", "processing": handled.len(),
            "added_today": added_today, "solved_today": solved_today});
        if family == "resident" {
            answer["pending"] = json!(handled.iter().filter(|o| last_type(o) == 1).count());
        }
        answer
    }

    /// (total_case, total_solved) of the orders whose case_name is one of `names`.
    fn category(&self, names: &[&str]) -> (i64, i64) {
        let of: Vec<&Value> = self
            .orders
            .iter()
            .filter(|o| names.contains(&o["case_name"].as_str().unwrap()))
            .collect();
        let solved = of.iter().filter(|o| last_type(o) == 5).count();
        (of.len() as i64, solved as i64)
    }
}

/// (category_id, total_case, total_solved) of each row.
fn rows(answer: &Value) -> Vec<(String, i64, i64)> {
    assert_eq!(errcode(answer), 0, "{answer}");
    answer["dashboard_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["category_id"].as_str().unwrap().to_owned(),
                row["total_case"].as_i64().unwrap(),
                row["total_solved"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Checks every statistic of both families against a recount of the orders, now, in Shanghai.
async fn check_statistics(app: &TestApp, token: &str, step: &str) {
    check_statistics_in(app, token, "Asia/Shanghai", step).await;
}

/// Checks every statistic of both families against a recount of the orders, now, with "today"
/// in `zone`.
async fn check_statistics_in(app: &TestApp, token: &str, zone: &str, step: &str) {
    let now = app.now();
    let day = patrol_domain::stats::Day::of(now, &jiff::tz::TimeZone::get(zone).unwrap());
    for family in FAMILIES {
        let recount = Recount {
            orders: walk(app, family, token).await,
            day: (day.start, day.end),
        };
        let grid_of = |o: &Value| o["grid_id"].as_str().unwrap().to_owned();
        let answer = call(app, family, "get_corp_status", token, json!({})).await;
        assert_eq!(
            answer,
            recount.corp(family, |_| true),
            "{family} corp after {step}"
        );
        for (grid, subtree) in [
            ("g1", &["g1", "g1a"][..]),
            ("g1a", &["g1a"][..]),
            ("g2", &["g2"][..]),
        ] {
            let answer = call(
                app,
                family,
                "get_corp_status",
                token,
                json!({"grid_id": grid}),
            )
            .await;
            let expected = recount.corp(family, |o| subtree.contains(&grid_of(o).as_str()));
            assert_eq!(answer, expected, "{family} grid {grid} after {step}");
        }
        for userid in patrol_test::USERS {
            let answer = call(
                app,
                family,
                "get_user_status",
                token,
                json!({"userid": userid}),
            )
            .await;
            assert_eq!(
                answer,
                recount.user(family, userid),
                "{family} user {userid} after {step}"
            );
        }
        let top = rows(&call(app, family, "category_statistic", token, json!({})).await);
        let mut expected = vec![
            ("c1", recount.category(&["市容环境", "暴露垃圾"])),
            ("c2", recount.category(&["设施管理"])),
        ];
        let other = recount.category(&[""]);
        if other.0 > 0 {
            expected.push(("", other));
        }
        let expected: Vec<(String, i64, i64)> = expected
            .into_iter()
            .map(|(id, (case, solved))| (id.to_owned(), case, solved))
            .collect();
        assert_eq!(top, expected, "{family} categories after {step}");
        let children = rows(
            &call(
                app,
                family,
                "category_statistic",
                token,
                json!({"category_id": "c1"}),
            )
            .await,
        );
        let (case, solved) = recount.category(&["暴露垃圾"]);
        assert_eq!(
            children,
            [("c1a".to_owned(), case, solved)],
            "{family} c1 after {step}"
        );
        let one = rows(
            &call(
                app,
                family,
                "category_statistic",
                token,
                json!({"category_id": "c1a"}),
            )
            .await,
        );
        assert_eq!(one, children, "{family} c1a after {step}");
    }
}

#[tokio::test]
async fn the_statistics_equal_a_recount_after_every_step_and_across_midnight() {
    let app = TestApp::spawn_with(|config| {
        config.clock = Clock::manual(EVENING);
        config.token_ttl = 7 * 86_400;
    })
    .await;
    let (corp, token) = stats_corp(&app, "wwstats").await;
    check_statistics(&app, &token, "nothing").await;
    app.insert(
        &corp,
        vec![
            order("p1", "g1", Some("c1a"), EVENING - 2 * 86_400, false),
            order("p2", "g1a", Some("c1"), EVENING - 3600, false),
            order("p3", "g2", None, EVENING - 60, false),
            order("r1", "g1", Some("c2"), EVENING - 100, true),
            order("r2", "g1a", Some("c1a"), EVENING - 30, true),
        ],
    )
    .await;
    check_statistics(&app, &token, "the reports").await;

    let steps: [(&str, ActionKind, &str, i64); 9] = [
        ("p1", ActionKind::Accept, "admin", 10),
        (
            "p2",
            ActionKind::Assign(vec!["worker2".into()]),
            "worker1",
            20,
        ),
        (
            "p2",
            ActionKind::Transfer(vec!["reporter".into()]),
            "worker2",
            30,
        ),
        ("p2", ActionKind::StartWork, "reporter", 40),
        ("p2", ActionKind::Finish, "reporter", 50),
        ("r1", ActionKind::Accept, "admin", 60),
        // Past midnight in Shanghai: yesterday's reports and closes are no longer today's.
        ("p3", ActionKind::Reject, "worker2", 2 * 3600 + 30),
        ("r1", ActionKind::Finish, "admin", 2 * 3600 + 40),
        ("r2", ActionKind::Reject, "worker1", 2 * 3600 + 50),
    ];
    for (order_id, kind, actor, offset) in steps {
        let step = format!("{kind:?} of {order_id} by {actor}");
        let time = EVENING + offset;
        if time >= MIDNIGHT && app.now() < MIDNIGHT {
            app.clock().set(MIDNIGHT);
            check_statistics(&app, &token, "midnight").await;
        }
        app.clock().set(time);
        app.act(&corp, order_id, kind, actor, time).await;
        check_statistics(&app, &token, &step).await;
    }
    // A report of the new day, through the administration API.
    app.report_in_grid("wwstats", "p4", "g2", Some("c2")).await;
    let body = json!({"order_id": "r3", "description": "噪音扰民", "grid_id": "g1",
        "reporter": "reporter", "resident": {"name": "李建国"}});
    app.admin_expect("POST", "/corps/wwstats/orders", Some(body), 201)
        .await;
    check_statistics(&app, &token, "the new day's reports").await;
    // One second before the next midnight and at it.
    app.clock().set(MIDNIGHT + 86_400 - 1);
    check_statistics(&app, &token, "the end of the day").await;
    app.clock().set(MIDNIGHT + 86_400);
    check_statistics(&app, &token, "the next midnight").await;
}

#[tokio::test]
async fn today_is_the_configured_time_zones_day() {
    // 2026-12-01 02:00 in Shanghai is 2026-11-30 18:00 UTC.
    let now = MIDNIGHT + 2 * 3600;
    let late = MIDNIGHT - 3600; // 23:00 in Shanghai, 15:00 UTC: yesterday there, today in UTC.
    for (zone, expected) in [(None, 0), (Some("UTC"), 1)] {
        let app = TestApp::spawn_with(|config| {
            config.clock = Clock::manual(now);
            if let Some(zone) = zone {
                config.time_zone = jiff::tz::TimeZone::get(zone).unwrap();
            }
        })
        .await;
        let (corp, token) = app.corp_and_token("wwzone").await;
        app.insert(&corp, vec![new_order("o1", late)]).await;
        let answer = call(&app, "patrol", "get_corp_status", &token, json!({})).await;
        assert_eq!(answer["added_today"], expected, "{zone:?}: {answer}");
        let answer = call(
            &app,
            "patrol",
            "get_user_status",
            &token,
            json!({"userid": "reporter"}),
        )
        .await;
        assert_eq!(answer["added_today"], expected, "{zone:?}: {answer}");
    }
}

#[tokio::test]
async fn the_answers_have_the_references_shapes() {
    let app = TestApp::spawn_with(|config| config.clock = Clock::manual(EVENING)).await;
    let (corp, token) = stats_corp(&app, "wwshape").await;
    app.insert(
        &corp,
        vec![
            order("p1", "g1", None, EVENING - 10, false),
            order("r1", "g1", Some("c1a"), EVENING - 10, true),
        ],
    )
    .await;
    let text = |family: &'static str, api: &'static str, body: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            let (status, text) = call_text(app, family, api, &token, body).await;
            assert_eq!(status, 200);
            text
        }
    };
    assert_eq!(
        text("patrol", "get_corp_status", "").await,
        r#"{"errcode":0,"errmsg":"ok","to_be_assigned":1,"processing":0,"added_today":1,"solved_today":0,"total_case":1,"total_solved":0}"#
    );
    assert_eq!(
        text("resident", "get_corp_status", "{}").await,
        r#"{"errcode":0,"errmsg":"ok","processing":0,"added_today":1,"solved_today":0,"pending":1,"total_case":1,"total_accepted":0,"total_solved":0}"#
    );
    assert_eq!(
        text("patrol", "get_user_status", r#"{"userid":"admin"}"#).await,
        r#"{"errcode":0,"errmsg":"ok","processing":1,"added_today":0,"solved_today":0}"#
    );
    assert_eq!(
        text("resident", "get_user_status", r#"{"userid":"admin"}"#).await,
        r#"{"errcode":0,"errmsg":"ok","processing":1,"added_today":0,"solved_today":0,"pending":1}"#
    );
    // Orders without a category make the row 其他 at the top level only, after the categories.
    assert_eq!(
        text("patrol", "category_statistic", "").await,
        r#"{"errcode":0,"errmsg":"ok","dashboard_list":[{"category_id":"c1","category_name":"市容环境","category_level":1,"total_case":0,"total_solved":0,"category_type":1},{"category_id":"c2","category_name":"设施管理","category_level":1,"total_case":0,"total_solved":0,"category_type":1},{"category_id":"","category_name":"其他","category_level":1,"total_case":1,"total_solved":0,"category_type":0}]}"#
    );
    assert_eq!(
        text("resident", "category_statistic", r#"{"category_id":"c1"}"#).await,
        r#"{"errcode":0,"errmsg":"ok","dashboard_list":[{"category_id":"c1a","category_name":"暴露垃圾","category_level":2,"total_case":1,"total_solved":0,"category_type":1}]}"#
    );
    // A level-1 category without children: no rows.
    assert_eq!(
        text("resident", "category_statistic", r#"{"category_id":"c2"}"#).await,
        r#"{"errcode":0,"errmsg":"ok","dashboard_list":[]}"#
    );
    // A renamed category is counted under its current name.
    app.store
        .rename_category(corp.key, "c1a", "垃圾暴露")
        .await
        .unwrap();
    let renamed = call(
        &app,
        "resident",
        "category_statistic",
        &token,
        json!({"category_id": "c1a"}),
    )
    .await;
    assert_eq!(renamed["dashboard_list"][0]["category_name"], "垃圾暴露");
    // Trailing commas: the answer carries WeCom's warning.
    let warned = call_text(
        &app,
        "patrol",
        "get_corp_status",
        &token,
        "{\"grid_id\": \"g1\",}",
    )
    .await
    .1;
    assert!(
        warned.contains(r#""errmsg":"ok. Warning: wrong json format. ""#),
        "{warned}"
    );
    // An empty body without a Content-Type, as SDKs send it: the whole corp.
    let response = app
        .http
        .post(format!(
            "{}/cgi-bin/report/patrol/get_corp_status?access_token={token}",
            app.base_url
        ))
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("content-type").is_some());
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["total_case"], 1, "{answer}");
}

#[tokio::test]
async fn unknown_and_missing_ids_get_wecoms_codes() {
    let app = TestApp::spawn().await;
    let (_, token) = stats_corp(&app, "wwids").await;
    // Another corp's grid, category and user are unknown ids.
    let other = app.corp("wwother").await;
    app.store
        .create_grid(
            other.key,
            NewGrid {
                grid_id: id("theirs"),
                name: "别人的".into(),
                parent: None,
                admins: vec!["admin".into()],
                members: Vec::new(),
            },
        )
        .await
        .unwrap();
    app.store
        .create_user(
            other.key,
            patrol_domain::NewUser {
                userid: id("stranger"),
                name: "外人".into(),
            },
        )
        .await
        .unwrap();
    for family in FAMILIES {
        for grid in ["nope", "theirs"] {
            let answer = call(
                &app,
                family,
                "get_corp_status",
                &token,
                json!({"grid_id": grid}),
            )
            .await;
            assert_wecom_error(&answer, 40058, "invalid grid_id");
        }
        let answer = call(
            &app,
            family,
            "category_statistic",
            &token,
            json!({"category_id": "nope"}),
        )
        .await;
        assert_wecom_error(&answer, 40058, "invalid category_id");
        for userid in ["nobody", "stranger"] {
            let answer = call(
                &app,
                family,
                "get_user_status",
                &token,
                json!({"userid": userid}),
            )
            .await;
            assert_wecom_error(&answer, 60111, "userid not found");
        }
        for body in [json!({}), json!({"userid": ""}), json!({"userid": null})] {
            let answer = call(&app, family, "get_user_status", &token, body).await;
            assert_eq!(errcode(&answer), 40063, "{answer}");
        }
        for (api, body) in [
            ("get_corp_status", json!({"grid_id": 5})),
            ("get_user_status", json!({"userid": ["admin"]})),
            ("category_statistic", json!({"category_id": {}})),
        ] {
            let answer = call(&app, family, api, &token, body).await;
            assert_eq!(errcode(&answer), 40058, "{api}: {answer}");
        }
        // A grid_id or category_id of "" or null is the whole corp.
        for body in [json!({"grid_id": ""}), json!({"grid_id": null})] {
            let answer = call(&app, family, "get_corp_status", &token, body).await;
            assert_eq!(errcode(&answer), 0, "{answer}");
        }
        let answer = call(
            &app,
            family,
            "category_statistic",
            &token,
            json!({"category_id": ""}),
        )
        .await;
        assert_eq!(
            answer["dashboard_list"].as_array().unwrap().len(),
            2,
            "{answer}"
        );
        // GET is not POST.
        let (status, text) = app
            .get(&format!(
                "/cgi-bin/report/{family}/get_corp_status?access_token={token}"
            ))
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            errcode(&serde_json::from_str(&text).unwrap()),
            40058,
            "{text}"
        );
    }
}

/// Every endpoint of a family with a body it accepts.
const ENDPOINTS: [(&str, &str); 6] = [
    ("get_grid_info", ""),
    ("get_corp_status", "{}"),
    ("get_user_status", r#"{"userid":"admin"}"#),
    ("category_statistic", "{}"),
    ("get_order_list", "{}"),
    ("get_order_info", r#"{"order_id":"o1"}"#),
];

#[tokio::test]
async fn each_family_answers_the_apps_on_its_own_list_only() {
    let app = TestApp::spawn().await;
    let old = app.corp_created_at("wwold", SYSTEM_APP_CUTOFF - 1).await;
    let modern = app.corp_created_at("wwmodern", MODERN_CORP).await;
    for corp in [&old, &modern] {
        app.insert(corp, vec![new_order("o1", MODERN_CORP)]).await;
        let mut resident = new_order("o2", MODERN_CORP);
        resident.resident = Some(Resident::default());
        app.insert(corp, vec![resident]).await;
    }
    let lists = |patrol, resident, contact| Lists {
        patrol,
        resident,
        contact,
    };
    // (corp, kind, lists, may call patrol, may call resident)
    let cases = [
        (
            &modern,
            AppKind::Custom,
            lists(true, false, false),
            true,
            false,
        ),
        (
            &modern,
            AppKind::Custom,
            lists(false, true, false),
            false,
            true,
        ),
        (
            &modern,
            AppKind::Custom,
            lists(false, false, true),
            false,
            false,
        ),
        (&modern, AppKind::Custom, Lists::ALL, true, true),
        (&modern, AppKind::ThirdParty, Lists::ALL, false, false),
        (&modern, AppKind::Provider, Lists::ALL, false, false),
        (&modern, AppKind::System, Lists::default(), false, false),
        (&old, AppKind::System, Lists::default(), true, true),
    ];
    for (n, (corp, kind, on, patrol, resident)) in cases.into_iter().enumerate() {
        let secret = format!("secret-{n}");
        app.app_on(corp, 1_000_100 + n as i64, kind, on, true, &secret)
            .await;
        let token = app.token_for(&corp.corpid, &secret).await;
        for (family, allowed) in [("patrol", patrol), ("resident", resident)] {
            for (api, body) in ENDPOINTS {
                let (status, text) = call_text(&app, family, api, &token, body).await;
                assert_eq!(status, 200, "{text}");
                let answer: Value = serde_json::from_str(&text).unwrap();
                if allowed {
                    // The one 40058 allowed is the order of the other family.
                    let code = errcode(&answer);
                    let cross = api == "get_order_info" && family == "resident";
                    assert_eq!(
                        code,
                        if cross { 40058 } else { 0 },
                        "case {n} {family}/{api}: {text}"
                    );
                } else {
                    assert_wecom_error(&answer, 48002, "api forbidden");
                }
            }
        }
    }
    // The token rules come first, on every endpoint of both families.
    for family in FAMILIES {
        for (api, body) in ENDPOINTS {
            let (_, text) = app
                .post(&format!("/cgi-bin/report/{family}/{api}"), body.to_owned())
                .await;
            assert_eq!(
                errcode(&serde_json::from_str(&text).unwrap()),
                41001,
                "{text}"
            );
            let (_, text) = call_text(&app, family, api, "forged", body).await;
            assert_eq!(
                errcode(&serde_json::from_str(&text).unwrap()),
                40014,
                "{text}"
            );
        }
    }
}

#[tokio::test]
async fn resident_orders_are_a_family_of_their_own() {
    let app = TestApp::spawn().await;
    let (corp, token) = stats_corp(&app, "wwres").await;
    app.insert(
        &corp,
        (1..=3)
            .map(|n| order(&format!("p{n}"), "g1", Some("c1a"), MODERN_CORP + n, false))
            .chain((1..=3).map(|n| order(&format!("r{n}"), "g2", None, MODERN_CORP + n, true)))
            .collect(),
    )
    .await;
    let patrol = walk(&app, "patrol", &token).await;
    let resident = walk(&app, "resident", &token).await;
    let ids = |orders: &[Value]| -> Vec<String> {
        orders
            .iter()
            .map(|o| o["order_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&patrol), ["p1", "p2", "p3"]);
    assert_eq!(ids(&resident), ["r1", "r2", "r3"]);
    for order in &patrol {
        assert!(order.get("reporter_name").is_none(), "{order}");
    }
    // The reporter's fields follow process_list, as the reference lists them.
    let (_, text) = call_text(
        &app,
        "resident",
        "get_order_info",
        &token,
        r#"{"order_id":"r1"}"#,
    )
    .await;
    assert!(
        text.ends_with(r#""video_media_ids":[]}],"reporter_name":"王秀英","reporter_mobile":"13800000000","unionid":"oAbC-123_xyz"}}"#),
        "{text}"
    );
    // get_order_info of the other family's order is an unknown id.
    let answer = call(
        &app,
        "patrol",
        "get_order_info",
        &token,
        json!({"order_id": "r1"}),
    )
    .await;
    assert_wecom_error(&answer, 40058, "invalid order_id");
    let answer = call(
        &app,
        "resident",
        "get_order_info",
        &token,
        json!({"order_id": "p1"}),
    )
    .await;
    assert_wecom_error(&answer, 40058, "invalid order_id");
    // Another corp's resident order is unknown, as a never-issued id.
    let (other, _) = stats_corp(&app, "wwres-other").await;
    app.insert(&other, vec![order("theirs", "g1", None, MODERN_CORP, true)])
        .await;
    for order_id in ["theirs", "never"] {
        let answer = call(
            &app,
            "resident",
            "get_order_info",
            &token,
            json!({"order_id": order_id}),
        )
        .await;
        assert_wecom_error(&answer, 40058, "invalid order_id");
    }
    assert_eq!(walk(&app, "resident", &token).await.len(), 3);
    // A cursor of one family is refused by the other, both ways, with the same filters.
    for (from, to) in [("patrol", "resident"), ("resident", "patrol")] {
        let page = call(&app, from, "get_order_list", &token, json!({"limit": 1})).await;
        let cursor = page["next_cursor"].as_str().unwrap();
        assert!(!cursor.is_empty());
        let answer = call(
            &app,
            to,
            "get_order_list",
            &token,
            json!({"limit": 1, "cursor": cursor}),
        )
        .await;
        assert_wecom_error(&answer, 40058, "invalid cursor");
        let same = call(
            &app,
            from,
            "get_order_list",
            &token,
            json!({"limit": 1, "cursor": cursor}),
        )
        .await;
        assert_eq!(errcode(&same), 0, "{same}");
    }
    // A modify-ordered walk sees each family's changes only.
    app.act(
        &corp,
        "r2",
        ActionKind::Accept,
        "worker2",
        MODERN_CORP + 100,
    )
    .await;
    let changed = call(
        &app,
        "resident",
        "get_order_list",
        &token,
        json!({"begin_modify_time": MODERN_CORP + 50}),
    )
    .await;
    assert_eq!(ids(changed["order_list"].as_array().unwrap()), ["r2"]);
    let none = call(
        &app,
        "patrol",
        "get_order_list",
        &token,
        json!({"begin_modify_time": MODERN_CORP + 50}),
    )
    .await;
    assert_eq!(none["order_list"], json!([]));
    // Both families share the grids.
    let patrol_grids = call(&app, "patrol", "get_grid_info", &token, json!({})).await;
    let resident_grids = call(&app, "resident", "get_grid_info", &token, json!({})).await;
    assert_eq!(patrol_grids, resident_grids);
}

#[tokio::test]
async fn the_administration_api_reports_resident_orders_within_bounds() {
    let app = TestApp::spawn().await;
    let (_, token) = stats_corp(&app, "wwadm").await;
    let base = json!({"description": "楼道堆物", "grid_id": "g1", "reporter": "reporter"});
    let with = |order_id: &str, resident: Value| {
        let mut body = base.clone();
        body["order_id"] = order_id.into();
        body["resident"] = resident;
        body
    };
    let created = app
        .admin_expect(
            "POST",
            "/corps/wwadm/orders",
            Some(with("r1", json!({"name": "张桂兰", "mobile": "+86 138-0000-0000", "unionid": "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"}))),
            201,
        )
        .await;
    assert_eq!(created["reporter_name"], "张桂兰", "{created}");
    // Fields left out are "".
    let bare = app
        .admin_expect(
            "POST",
            "/corps/wwadm/orders",
            Some(with("r2", json!({}))),
            201,
        )
        .await;
    assert_eq!(
        (
            &bare["reporter_name"],
            &bare["reporter_mobile"],
            &bare["unionid"]
        ),
        (&json!(""), &json!(""), &json!(""))
    );
    for (n, resident) in [
        json!({"name": "名".repeat(65)}),
        json!({"mobile": "call me"}),
        json!({"unionid": "o/../../x"}),
        json!({"name": "a\u{0}b"}),
        json!({"nickname": "x"}),
    ]
    .into_iter()
    .enumerate()
    {
        let (status, answer) = app
            .admin(
                "POST",
                "/corps/wwadm/orders",
                Some(with(&format!("bad{n}"), resident)),
            )
            .await;
        assert_eq!(status, 400, "{answer}");
    }
    let resident = walk(&app, "resident", &token).await;
    assert_eq!(resident.len(), 2);
    assert!(walk(&app, "patrol", &token).await.is_empty());
}

#[tokio::test]
async fn the_demo_has_resident_reports_with_their_reporters() {
    let app = TestApp::spawn().await;
    let corp = app.demo_corp().await;
    let token = app.token(&corp).await;
    let resident = walk(&app, "resident", &token).await;
    assert_eq!(resident.len() as u64, patrol_demo::DEMO_RESIDENT_ORDERS);
    let named: BTreeSet<&str> = resident
        .iter()
        .map(|o| o["reporter_name"].as_str().unwrap())
        .collect();
    assert!(named.len() > 5, "{named:?}");
    let patrol = walk(&app, "patrol", &token).await;
    assert_eq!(patrol.len() as u64, patrol_demo::DEMO_ORDERS);
    // Their statistics add up.
    let status = call(&app, "resident", "get_corp_status", &token, json!({})).await;
    assert_eq!(
        status["total_case"],
        patrol_demo::DEMO_RESIDENT_ORDERS,
        "{status}"
    );
    let mut by_stage: BTreeMap<i64, i64> = BTreeMap::new();
    for order in &resident {
        *by_stage.entry(last_type(order)).or_default() += 1;
    }
    assert_eq!(
        status["total_solved"],
        by_stage.get(&5).copied().unwrap_or(0)
    );
    assert_eq!(status["pending"], by_stage.get(&1).copied().unwrap_or(0));
}

#[tokio::test]
async fn a_day_that_is_not_whole_quarters_of_an_hour_is_counted_too() {
    // Monrovia kept -0:44:30 until 1972: its days then do not begin on a quarter of an hour, so
    // the store counts them by index rather than from its quarter-hour counters.
    let zone = jiff::tz::TimeZone::get("Africa/Monrovia").unwrap();
    let now = 44_000_000; // 1971-05-22
    let day = patrol_domain::stats::Day::of(now, &zone);
    assert_eq!(day.quarters(), None);
    let app = TestApp::spawn_with(|config| {
        config.clock = Clock::manual(now);
        config.time_zone = zone.clone();
        config.token_ttl = 366 * 86_400;
    })
    .await;
    let (corp, token) = stats_corp(&app, "wwmonrovia").await;
    app.insert(
        &corp,
        vec![
            order("a", "g1", None, day.start, false),
            order("b", "g1a", None, day.start - 1, false),
            order("c", "g2", None, day.end - 1, false),
        ],
    )
    .await;
    app.act(&corp, "b", ActionKind::Finish, "worker1", day.start)
        .await;
    let status = call(&app, "patrol", "get_corp_status", &token, json!({})).await;
    assert_eq!(
        (&status["added_today"], &status["solved_today"]),
        (&json!(2), &json!(1)),
        "{status}"
    );
    let grid = call(
        &app,
        "patrol",
        "get_corp_status",
        &token,
        json!({"grid_id": "g1"}),
    )
    .await;
    assert_eq!(
        (&grid["added_today"], &grid["solved_today"]),
        (&json!(1), &json!(1)),
        "{grid}"
    );
    check_statistics_in(&app, &token, "Africa/Monrovia", "the old offset").await;
}
