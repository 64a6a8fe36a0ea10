//! The administration API's orders over HTTP (docs/admin-api.md, "Orders"): reporting, every
//! transition of the workflow and every refusal (decisions.md, "The workflow"), who may act,
//! concurrent actors, and how each change shows through WeCom's `get_order_list` and
//! `get_order_info`.

use patrol_test::{
    ADMIN_KEY, PAST, TestApp, TestCorp, assert_admin_error_text, errcode, order_ids, parse,
};
use serde_json::{Value, json};

/// A time well in the past (2023-11-14 22:13:20 UTC).
const T: i64 = PAST;
/// One day in seconds.
const DAY: i64 = 86_400;

/// The six actions.
const ACTIONS: [&str; 6] = ["accept", "assign", "transfer", "start", "finish", "reject"];

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A full report body for grid `g1`, category `c1a`, reported by `reporter` at `time`.
fn report_body(order_id: &str, time: i64) -> Value {
    json!({
        "order_id": order_id,
        "description": format!("井盖缺失 {order_id}"),
        "urge_type": 2,
        "category_id": "c1a",
        "grid_id": "g1",
        "location": {"name": "测试小区", "address": "测试路1号", "latitude": 30.27, "longitude": 120.15},
        "reporter": "reporter",
        "image_urls": [],
        "video_media_ids": [],
        "time": time,
    })
}

/// Reports `order_id` at `time` and returns the answer (which must be 201).
async fn report_at(app: &TestApp, corp: &TestCorp, order_id: &str, time: i64) -> Value {
    let (status, text) = app.report(&corp.corpid, &report_body(order_id, time)).await;
    assert_eq!(status, 201, "{text}");
    parse(&text)
}

/// `POST /corps/{corpid}/orders/{order_id}/actions`.
async fn act(app: &TestApp, corpid: &str, order_id: &str, body: &Value) -> (u16, String) {
    app.admin_text(
        "POST",
        &format!("/corps/{corpid}/orders/{order_id}/actions"),
        Some(body),
    )
    .await
}

/// Acts on an order; the action must succeed. Returns the order of the answer.
async fn act_ok(app: &TestApp, corp: &TestCorp, order_id: &str, body: &Value) -> Value {
    let (status, text) = act(app, &corp.corpid, order_id, body).await;
    assert_eq!(status, 200, "{body} on {order_id}: {text}");
    parse(&text)
}

/// An action body: `action` by `actor` at `time`, with a description naming both.
fn action(action: &str, actor: &str, time: i64) -> Value {
    json!({
        "action": action,
        "actor": actor,
        "description": format!("{action} by {actor}"),
        "time": time,
    })
}

/// An `assign` or `transfer` body naming `users`.
fn handing(kind: &str, actor: &str, users: &[&str], time: i64) -> Value {
    let mut body = action(kind, actor, time);
    body["users"] = json!(users);
    body
}

/// The body of any action: assign and transfer hand the order to `users`.
fn any_action(kind: &str, actor: &str, users: &[&str], time: i64) -> Value {
    if matches!(kind, "assign" | "transfer") {
        handing(kind, actor, users, time)
    } else {
        action(kind, actor, time)
    }
}

/// `GET /corps/{corpid}/orders/{order_id}`: the raw text of the order (must be 200).
async fn order_text(app: &TestApp, corpid: &str, order_id: &str) -> String {
    let (status, text) = app
        .admin_text("GET", &format!("/corps/{corpid}/orders/{order_id}"), None)
        .await;
    assert_eq!(status, 200, "{text}");
    text
}

/// The order ids of a whole modify-ordered walk.
async fn modify_walk(app: &TestApp, token: &str) -> Vec<String> {
    order_ids(&app.walk(token, json!({ "begin_modify_time": 1 }), 2).await)
}

/// Strings of a JSON array.
fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}

/// What decisions.md ("The workflow") says `process_list` and `processor_userids` become.
#[derive(Debug, Clone)]
struct Model {
    /// The order as reported.
    base: Value,
    steps: Vec<Value>,
    processors: Vec<String>,
}

impl Model {
    /// The model of a just-reported order, after checking step 1 and the processors.
    #[track_caller]
    fn reported(order: &Value, reporter: &str, grid_admins: &[&str]) -> Model {
        let steps = order["process_list"]
            .as_array()
            .unwrap_or_else(|| panic!("no process_list in {order}"))
            .clone();
        assert_eq!(steps.len(), 1, "{order}");
        let create = &steps[0];
        assert_eq!(create["process_type"], 1, "{order}");
        assert_eq!(create["solve_userid"], reporter, "{order}");
        assert_eq!(create["status"], 1, "{order}");
        assert_eq!(create["solved_time"], order["create_time"], "{order}");
        assert_eq!(strings(&order["processor_userids"]), grid_admins, "{order}");
        Model {
            base: order.clone(),
            steps,
            processors: grid_admins.iter().map(ToString::to_string).collect(),
        }
    }

    /// Applies an action as [`any_action`] describes it.
    fn apply(&mut self, kind: &str, actor: &str, users: &[&str], time: i64) {
        if let Some(open) = self.steps.last_mut().filter(|s| s["status"] == 0) {
            open["status"] = json!(1);
            open["solve_userid"] = json!(actor);
            open["solved_time"] = json!(time);
        }
        let process_type = match kind {
            "accept" => 2,
            "assign" => 3,
            "transfer" => 4,
            "finish" => 5,
            "reject" => 6,
            "start" => 7,
            other => panic!("no action {other}"),
        };
        let open = kind == "start";
        self.steps.push(json!({
            "process_type": process_type,
            "solve_userid": if open { "" } else { actor },
            "process_desc": format!("{kind} by {actor}"),
            "status": if open { 0 } else { 1 },
            "solved_time": if open { 0 } else { time },
            "image_urls": [],
            "video_media_ids": [],
        }));
        self.processors = match kind {
            "accept" | "start" => vec![actor.to_owned()],
            "assign" | "transfer" => {
                let mut kept: Vec<String> = Vec::new();
                for user in users {
                    if !kept.iter().any(|k| k == user) {
                        kept.push(user.to_string());
                    }
                }
                kept
            }
            _ => Vec::new(),
        };
    }

    /// The whole order as it should now be.
    fn order(&self) -> Value {
        let mut order = self.base.clone();
        order["process_list"] = json!(self.steps);
        order["processor_userids"] = json!(self.processors);
        order
    }
}

/// Acts through the API and in the model, and checks the answer, the admin API's order and
/// `get_order_info` against the model; all three must be the same text.
#[allow(clippy::too_many_arguments)]
async fn step(
    app: &TestApp,
    corp: &TestCorp,
    token: &str,
    model: &mut Model,
    order_id: &str,
    kind: &str,
    actor: &str,
    users: &[&str],
    time: i64,
) -> Value {
    let body = any_action(kind, actor, users, time);
    let (status, text) = act(app, &corp.corpid, order_id, &body).await;
    assert_eq!(status, 200, "{body} on {order_id}: {text}");
    model.apply(kind, actor, users, time);
    let answer = parse(&text);
    assert_eq!(answer, model.order(), "after {body} on {order_id}");
    assert_eq!(order_text(app, &corp.corpid, order_id).await, text);
    assert_eq!(app.order_info_text(token, order_id).await, text);
    answer
}

// ---------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn reporting_answers_201_with_the_order_as_get_order_info_shows_it() {
    let app = TestApp::spawn().await;
    let (_corp, token) = app.corp_and_token("wwreport").await;
    let body = json!({
        "order_id": "ORDER-1_a",
        "description": "井盖缺失",
        "urge_type": 3,
        "category_id": "c1a",
        "grid_id": "g1",
        "location": {"name": "测试小区", "address": "测试路1号", "latitude": 30.27, "longitude": 120.15},
        "reporter": "reporter",
        "image_urls": [],
        "video_media_ids": [],
        "time": T,
    });
    let (status, text) = app.report("wwreport", &body).await;
    assert_eq!(status, 201, "{text}");
    // Byte for byte what get_order_info serves, and what the admin API shows later.
    assert_eq!(app.order_info_text(&token, "ORDER-1_a").await, text);
    assert_eq!(order_text(&app, "wwreport", "ORDER-1_a").await, text);

    let order = parse(&text);
    assert_eq!(order["order_id"], "ORDER-1_a");
    assert_eq!(order["desc"], "井盖缺失");
    assert_eq!(order["urge_type"], 3);
    assert_eq!(order["grid_id"], "g1");
    assert_eq!(order["grid_name"], "一号网格");
    assert_eq!(order["create_time"], T);
    assert_eq!(order["image_urls"], json!([]));
    assert_eq!(order["video_media_ids"], json!([]));
    assert_eq!(
        order["location"],
        json!({"name": "测试小区", "address": "测试路1号", "latitude": 30.27, "longitude": 120.15})
    );
    assert!(
        order["case_name"]
            .as_str()
            .is_some_and(|name| name.contains("暴露垃圾")),
        "{order}"
    );
    Model::reported(&order, "reporter", &["admin"]);

    // The same object in the list, too.
    let listed = app.walk(&token, json!({}), 10).await;
    assert_eq!(listed, [order]);
}

#[tokio::test]
async fn reporting_fills_in_the_defaults() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwdefaults").await;
    let minimal = json!({"description": "路灯不亮", "grid_id": "g1", "reporter": "worker1"});
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (status, text) = app.report(&corp.corpid, &minimal).await;
        assert_eq!(status, 201, "{text}");
        let order = parse(&text);
        let order_id = order["order_id"].as_str().expect("order_id").to_owned();
        assert_eq!(order_id.len(), 32, "{order}");
        assert!(
            order_id.chars().all(|c| c.is_ascii_hexdigit()),
            "{order_id} is 32 hex digits"
        );
        assert_eq!(order["urge_type"], 1, "{order}");
        assert!(order["create_time"].as_i64().expect("create_time") > 1_700_000_000);
        assert_eq!(order["case_name"], "", "no category: {order}");
        assert_eq!(order["image_urls"], json!([]));
        assert_eq!(order["video_media_ids"], json!([]));
        assert_eq!(order["location"]["name"], "");
        assert_eq!(order["location"]["address"], "");
        assert!(order["location"]["latitude"].is_f64(), "{order}");
        assert!(order["location"]["longitude"].is_f64(), "{order}");
        Model::reported(&order, "worker1", &["admin"]);
        assert_eq!(app.order_info_text(&token, &order_id).await, text);
        seen.push(order_id);
    }
    assert_ne!(seen[0], seen[1], "each default order_id is new");
}

#[tokio::test]
async fn the_processors_are_the_grid_admins_in_the_grid_order() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwadmins").await;
    let (status, grid) = app
        .admin(
            "PATCH",
            "/corps/wwadmins/grids/g1",
            Some(json!({"admins": ["worker2", "admin", "worker2"]})),
        )
        .await;
    assert_eq!(status, 200, "{grid}");
    assert_eq!(grid["admins"], json!(["worker2", "admin"]));
    let order = report_at(&app, &corp, "two-admins", T).await;
    Model::reported(&order, "reporter", &["worker2", "admin"]);
}

#[tokio::test]
async fn an_invalid_report_is_400_naming_the_problem() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwbadreport").await;
    let good = report_body("good", T);
    let cases: Vec<(Value, &str)> = vec![
        (json!({"description": ""}), "description"),
        (json!({"urge_type": 0}), "urge_type"),
        (json!({"urge_type": 4}), "urge_type"),
        (json!({"urge_type": "3"}), "urge_type"),
        (
            json!({"location": {"name": "x", "address": "y", "latitude": 91.0, "longitude": 120.0}}),
            "latitude",
        ),
        (
            json!({"location": {"name": "x", "address": "y", "latitude": 30.0, "longitude": -181.0}}),
            "longitude",
        ),
        (json!({"time": -1}), "time"),
        (json!({"order_id": "has space"}), "order_id"),
        (json!({"order_id": "订单1"}), "order_id"),
        (json!({"order_id": "a/b"}), "order_id"),
        (json!({"order_id": ""}), "order_id"),
        (json!({"colour": "red"}), "colour"),
    ];
    for (change, needle) in cases {
        let mut body = good.clone();
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let answer = app.report(&corp.corpid, &body).await;
        assert_admin_error_text(&answer, 400, "invalid_request", &[needle]);
    }
    for missing in ["description", "grid_id", "reporter"] {
        let mut body = good.clone();
        body.as_object_mut().unwrap().remove(missing);
        let answer = app.report(&corp.corpid, &body).await;
        assert_admin_error_text(&answer, 400, "invalid_request", &[missing]);
    }
    // Not JSON at all, or JSON that is no object.
    for raw in ["{not json", "[]", ""] {
        let response = app
            .http
            .post(format!(
                "{}/admin/v1/corps/{}/orders",
                app.base_url, corp.corpid
            ))
            .bearer_auth(ADMIN_KEY)
            .body(raw)
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        let answer = (status, response.text().await.unwrap());
        assert_admin_error_text(&answer, 400, "invalid_request", &[]);
    }
    // Without the admin key, nothing is reported either.
    let (status, text) = app
        .post(
            &format!("/admin/v1/corps/{}/orders", corp.corpid),
            report_body("nokey", T).to_string(),
        )
        .await;
    assert_eq!(status, 401, "{text}");
    // Nothing was reported by any of these.
    assert!(app.walk(&token, json!({}), 10).await.is_empty());
    // The good body itself is fine.
    report_at(&app, &corp, "good", T).await;
}

#[tokio::test]
async fn unknown_grid_category_reporter_or_corp_is_404() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwunknown").await;
    app.corp("wwunknownother").await;
    let (status, user) = app
        .admin(
            "POST",
            "/corps/wwunknownother/users",
            Some(json!({"userid": "elsewhere", "name": "别处"})),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    for (key, value) in [
        ("grid_id", "g9"),
        ("category_id", "c9"),
        ("reporter", "ghost"),
        // A user of another corp is no user of this one.
        ("reporter", "elsewhere"),
    ] {
        let mut body = report_body("o1", T);
        body[key] = json!(value);
        let answer = app.report(&corp.corpid, &body).await;
        assert_admin_error_text(&answer, 404, "not_found", &[value]);
    }
    let answer = app.report("wwnosuchcorp", &report_body("o1", T)).await;
    assert_admin_error_text(&answer, 404, "not_found", &["wwnosuchcorp"]);
    assert!(app.walk(&token, json!({}), 10).await.is_empty());
}

#[tokio::test]
async fn a_duplicate_order_id_is_409() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwduplicate").await;
    report_at(&app, &corp, "dup", T).await;
    let before = order_text(&app, &corp.corpid, "dup").await;
    let mut again = report_body("dup", T + 10);
    again["description"] = json!("又一次");
    let answer = app.report(&corp.corpid, &again).await;
    assert_admin_error_text(&answer, 409, "conflict", &["dup"]);
    assert_eq!(order_text(&app, &corp.corpid, "dup").await, before);
    assert_eq!(order_ids(&app.walk(&token, json!({}), 10).await), ["dup"]);

    // Two reports of one new order_id at the same moment: one is made, the other is a conflict.
    for i in 0..5 {
        let order_id = format!("twice{i}");
        let body = report_body(&order_id, T);
        let (first, second) = tokio::join!(
            app.report(&corp.corpid, &body),
            app.report(&corp.corpid, &body),
        );
        let (made, refused) = match (first.0, second.0) {
            (201, 409) => (first, second),
            (409, 201) => (second, first),
            other => panic!("exactly one report should be made: {other:?}: {first:?} {second:?}"),
        };
        assert_admin_error_text(&refused, 409, "conflict", &[&order_id]);
        assert_eq!(order_text(&app, &corp.corpid, &order_id).await, made.1);
    }
    assert_eq!(app.walk(&token, json!({}), 10).await.len(), 6);
}

// ---------------------------------------------------------------------------------------------
// Transitions
// ---------------------------------------------------------------------------------------------

/// One action of a history: kind, actor, users.
type Move = (&'static str, &'static str, &'static [&'static str]);

/// The states an open order can be in, as the actions that lead there, each with the user
/// (a current processor, or the grid admin) who takes the next action.
const OPEN_STATES: [(&str, &[Move], &str); 7] = [
    ("new", &[], "admin"),
    ("accepted", &[("accept", "admin", &[])], "admin"),
    (
        "assigned",
        &[("assign", "admin", &["worker1", "worker2", "worker1"])],
        "worker2",
    ),
    (
        "transferred",
        &[("transfer", "admin", &["worker1"])],
        "worker1",
    ),
    (
        "started by a processor",
        &[("assign", "admin", &["worker1"]), ("start", "worker1", &[])],
        "worker1",
    ),
    (
        "started, then acted on by the grid admin",
        &[("assign", "admin", &["worker1"]), ("start", "worker1", &[])],
        "admin",
    ),
    (
        "started by the grid admin",
        &[("start", "admin", &[])],
        "admin",
    ),
];

#[tokio::test]
async fn every_action_from_every_open_state() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwtransitions").await;
    for (s, (state, history, next_actor)) in OPEN_STATES.iter().enumerate() {
        for (a, kind) in ACTIONS.iter().enumerate() {
            let order_id = format!("s{s}a{a}");
            let order = report_at(&app, &corp, &order_id, T).await;
            let mut model = Model::reported(&order, "reporter", &["admin"]);
            let mut time = T;
            for (k, actor, users) in *history {
                time += 10;
                step(
                    &app, &corp, &token, &mut model, &order_id, k, actor, users, time,
                )
                .await;
            }
            time += 10;
            let after = step(
                &app,
                &corp,
                &token,
                &mut model,
                &order_id,
                kind,
                next_actor,
                &["reporter", "worker2"],
                time,
            )
            .await;
            // Spot checks of what the model says, in plain words.
            let steps = after["process_list"].as_array().unwrap();
            assert_eq!(steps.len(), history.len() + 2, "{state} then {kind}");
            let last = steps.last().unwrap();
            if *kind == "start" {
                assert_eq!(
                    (&last["status"], &last["solve_userid"], &last["solved_time"]),
                    (&json!(0), &json!(""), &json!(0)),
                    "{state} then {kind}"
                );
            } else {
                assert_eq!(
                    (&last["status"], &last["solve_userid"], &last["solved_time"]),
                    (&json!(1), &json!(next_actor), &json!(time)),
                    "{state} then {kind}"
                );
            }
            for earlier in &steps[..steps.len() - 1] {
                assert_eq!(earlier["status"], 1, "{state} then {kind}: {after}");
                assert_ne!(earlier["solve_userid"], "", "{state} then {kind}: {after}");
            }
            let expected_processors = match *kind {
                "accept" | "start" => json!([next_actor]),
                "assign" | "transfer" => json!(["reporter", "worker2"]),
                _ => json!([]),
            };
            assert_eq!(
                after["processor_userids"], expected_processors,
                "{state} then {kind}"
            );
        }
    }
}

#[tokio::test]
async fn the_in_progress_step_is_completed_by_the_next_action() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwinprogress").await;
    let order = report_at(&app, &corp, "o1", T).await;
    let create = order["process_list"][0].clone();
    let mut model = Model::reported(&order, "reporter", &["admin"]);
    step(
        &app,
        &corp,
        &token,
        &mut model,
        "o1",
        "assign",
        "admin",
        &["worker1"],
        T + 10,
    )
    .await;
    let started = step(
        &app,
        &corp,
        &token,
        &mut model,
        "o1",
        "start",
        "worker1",
        &[],
        T + 20,
    )
    .await;
    let step_of = |process_type: i64, solver: &str, desc: &str, status: i64, time: i64| {
        json!({
            "process_type": process_type,
            "solve_userid": solver,
            "process_desc": desc,
            "status": status,
            "solved_time": time,
            "image_urls": [],
            "video_media_ids": [],
        })
    };
    assert_eq!(
        started["process_list"],
        json!([
            create,
            step_of(3, "admin", "assign by admin", 1, T + 10),
            step_of(7, "", "start by worker1", 0, 0),
        ])
    );
    assert_eq!(started["processor_userids"], json!(["worker1"]));
    // The grid admin transfers while worker1 works: the in-progress step is completed by the
    // admin at the time of the transfer.
    let transferred = step(
        &app,
        &corp,
        &token,
        &mut model,
        "o1",
        "transfer",
        "admin",
        &["worker2"],
        T + 30,
    )
    .await;
    assert_eq!(
        transferred["process_list"],
        json!([
            create,
            step_of(3, "admin", "assign by admin", 1, T + 10),
            step_of(7, "admin", "start by worker1", 1, T + 30),
            step_of(4, "admin", "transfer by admin", 1, T + 30),
        ])
    );
    assert_eq!(transferred["processor_userids"], json!(["worker2"]));
    step(
        &app,
        &corp,
        &token,
        &mut model,
        "o1",
        "start",
        "worker2",
        &[],
        T + 40,
    )
    .await;
    let finished = step(
        &app,
        &corp,
        &token,
        &mut model,
        "o1",
        "finish",
        "worker2",
        &[],
        T + 50,
    )
    .await;
    assert_eq!(
        finished["process_list"],
        json!([
            create,
            step_of(3, "admin", "assign by admin", 1, T + 10),
            step_of(7, "admin", "start by worker1", 1, T + 30),
            step_of(4, "admin", "transfer by admin", 1, T + 30),
            step_of(7, "worker2", "start by worker2", 1, T + 50),
            step_of(5, "worker2", "finish by worker2", 1, T + 50),
        ])
    );
    assert_eq!(finished["processor_userids"], json!([]));
}

#[tokio::test]
async fn users_are_kept_in_order_without_duplicates_and_may_include_the_actor() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwusers").await;
    let order = report_at(&app, &corp, "o1", T).await;
    let mut model = Model::reported(&order, "reporter", &["admin"]);
    let assigned = step(
        &app,
        &corp,
        &token,
        &mut model,
        "o1",
        "assign",
        "admin",
        &["worker2", "admin", "worker2", "worker1", "admin"],
        T + 1,
    )
    .await;
    assert_eq!(
        assigned["processor_userids"],
        json!(["worker2", "admin", "worker1"])
    );
    let transferred = step(
        &app,
        &corp,
        &token,
        &mut model,
        "o1",
        "transfer",
        "worker1",
        &["worker1", "worker1"],
        T + 2,
    )
    .await;
    assert_eq!(transferred["processor_userids"], json!(["worker1"]));
}

#[tokio::test]
async fn an_action_without_time_happens_now_and_description_defaults_to_empty() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwnow").await;
    report_at(&app, &corp, "o1", T).await;
    let order = act_ok(
        &app,
        &corp,
        "o1",
        &json!({"action": "accept", "actor": "admin"}),
    )
    .await;
    let accepted = &order["process_list"][1];
    assert_eq!(accepted["process_type"], 2);
    assert_eq!(accepted["process_desc"], "");
    assert!(accepted["solved_time"].as_i64().unwrap() > 1_700_000_000);
    assert!(accepted["solved_time"].as_i64().unwrap() >= T);
    assert_eq!(
        app.order_info_text(&token, "o1").await,
        order_text(&app, "wwnow", "o1").await
    );
}

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_finished_or_rejected_order_takes_no_action() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwclosed").await;
    for closing in ["finish", "reject"] {
        let closed = format!("{closing}ed");
        let other = format!("{closing}-other");
        report_at(&app, &corp, &closed, T).await;
        report_at(&app, &corp, &other, T).await;
        act_ok(&app, &corp, &closed, &action(closing, "admin", T + 10)).await;
        act_ok(&app, &corp, &other, &action("accept", "admin", T + 20)).await;
        let before = order_text(&app, &corp.corpid, &closed).await;
        let walk_before = modify_walk(&app, &token).await;
        assert_eq!(walk_before.last(), Some(&other));
        for kind in ACTIONS {
            for actor in ["admin", "worker1", "ghost"] {
                let body = any_action(kind, actor, &["worker1"], T + 30);
                let answer = act(&app, &corp.corpid, &closed, &body).await;
                assert_admin_error_text(&answer, 422, "rejected", &["closed", &closed]);
            }
        }
        assert_eq!(order_text(&app, &corp.corpid, &closed).await, before);
        assert_eq!(app.order_info_text(&token, &closed).await, before);
        assert_eq!(modify_walk(&app, &token).await, walk_before);
    }
}

#[tokio::test]
async fn malformed_or_refused_actions_leave_the_order_unchanged() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwrefused").await;
    report_at(&app, &corp, "x", T).await;
    report_at(&app, &corp, "y", T).await;
    act_ok(&app, &corp, "x", &action("accept", "admin", T + 100)).await;
    act_ok(&app, &corp, "y", &action("accept", "admin", T + 100)).await;
    let before = order_text(&app, &corp.corpid, "x").await;
    assert_eq!(modify_walk(&app, &token).await, ["x", "y"]);

    let no_users = |kind: &str| action(kind, "admin", T + 200);
    let with_users = |kind: &str, users: Value| {
        let mut body = action(kind, "admin", T + 200);
        body["users"] = users;
        body
    };
    let refused: Vec<(Value, u16, &str, Vec<&str>)> = vec![
        // assign and transfer need users; the others take none.
        (no_users("assign"), 400, "invalid_request", vec!["users"]),
        (no_users("transfer"), 400, "invalid_request", vec!["users"]),
        (
            with_users("assign", Value::Null),
            400,
            "invalid_request",
            vec!["users"],
        ),
        (
            with_users("assign", json!([])),
            422,
            "rejected",
            vec!["users"],
        ),
        (
            with_users("transfer", json!([])),
            422,
            "rejected",
            vec!["users"],
        ),
        (
            with_users("assign", json!(["ghost"])),
            404,
            "not_found",
            vec!["ghost"],
        ),
        (
            with_users("transfer", json!(["worker1", "ghost"])),
            404,
            "not_found",
            vec!["ghost"],
        ),
        (
            with_users("accept", json!(["worker1"])),
            400,
            "invalid_request",
            vec!["users"],
        ),
        (
            with_users("start", json!(["worker1"])),
            400,
            "invalid_request",
            vec!["users"],
        ),
        (
            with_users("finish", json!([])),
            400,
            "invalid_request",
            vec!["users"],
        ),
        (
            with_users("reject", json!(["worker1"])),
            400,
            "invalid_request",
            vec!["users"],
        ),
        // Unknown actions, fields and actors.
        (no_users("close"), 400, "invalid_request", vec!["close"]),
        (no_users(""), 400, "invalid_request", vec!["action"]),
        (
            json!({"action": "accept", "actor": "admin", "when": T + 200}),
            400,
            "invalid_request",
            vec!["when"],
        ),
        (
            json!({"actor": "admin", "time": T + 200}),
            400,
            "invalid_request",
            vec!["action"],
        ),
        (
            json!({"action": "accept", "time": T + 200}),
            400,
            "invalid_request",
            vec!["actor"],
        ),
        (
            json!({"action": "accept", "actor": "admin", "time": "soon"}),
            400,
            "invalid_request",
            vec!["time"],
        ),
        (
            action("accept", "ghost", T + 200),
            404,
            "not_found",
            vec!["ghost"],
        ),
        // Time may not go back, nor be negative.
        (
            action("accept", "admin", T + 99),
            422,
            "rejected",
            vec!["99", "100"],
        ),
        (
            action("finish", "admin", T),
            422,
            "rejected",
            vec!["before"],
        ),
        (
            action("accept", "admin", -5),
            400,
            "invalid_request",
            vec!["-5"],
        ),
        // Neither a processor nor the grid admin.
        (
            action("accept", "outsider", T + 200),
            422,
            "rejected",
            vec!["outsider"],
        ),
    ];
    for (body, status, code, needles) in refused {
        let answer = act(&app, &corp.corpid, "x", &body).await;
        assert_admin_error_text(&answer, status, code, &needles);
        assert_eq!(
            order_text(&app, &corp.corpid, "x").await,
            before,
            "{body} changed the order"
        );
    }
    assert_eq!(app.order_info_text(&token, "x").await, before);
    // Not moved in a modify-ordered walk, not visible to a poll after the last change.
    assert_eq!(modify_walk(&app, &token).await, ["x", "y"]);
    assert!(
        app.walk(&token, json!({ "begin_modify_time": T + 101 }), 10)
            .await
            .is_empty()
    );

    // A time equal to the last step is fine; only now does x move.
    let order = act_ok(
        &app,
        &corp,
        "x",
        &handing("assign", "admin", &["worker1"], T + 100),
    )
    .await;
    assert_eq!(order["process_list"][2]["solved_time"], T + 100);
    assert_eq!(modify_walk(&app, &token).await, ["y", "x"]);
    // And equal to it again.
    let order = act_ok(&app, &corp, "x", &action("start", "worker1", T + 100)).await;
    assert_eq!(order["process_list"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn an_unknown_order_or_another_corps_order_is_404() {
    let app = TestApp::spawn().await;
    let (mine, token) = app.corp_and_token("wwmine").await;
    let theirs = app.corp("wwtheirs").await;
    report_at(&app, &mine, "only-mine", T).await;
    let before = order_text(&app, "wwmine", "only-mine").await;
    for (corpid, order_id) in [
        ("wwmine", "nope"),
        ("wwtheirs", "only-mine"),
        ("wwtheirs", "nope"),
    ] {
        let answer = app
            .admin_text("GET", &format!("/corps/{corpid}/orders/{order_id}"), None)
            .await;
        assert_admin_error_text(&answer, 404, "not_found", &[order_id]);
        let answer = act(&app, corpid, order_id, &action("accept", "admin", T + 10)).await;
        assert_admin_error_text(&answer, 404, "not_found", &[order_id]);
    }
    let answer = app
        .admin_text("GET", "/corps/wwnone/orders/only-mine", None)
        .await;
    assert_admin_error_text(&answer, 404, "not_found", &["wwnone"]);
    let answer = act(
        &app,
        "wwnone",
        "only-mine",
        &action("accept", "admin", T + 10),
    )
    .await;
    assert_admin_error_text(&answer, 404, "not_found", &["wwnone"]);
    assert_eq!(order_text(&app, "wwmine", "only-mine").await, before);
    assert_eq!(app.order_info_text(&token, "only-mine").await, before);
    // The other corp's token does not see it either.
    let their_token = app.token(&theirs).await;
    let answer = app
        .patrol(
            "get_order_info",
            &their_token,
            &json!({"order_id": "only-mine"}).to_string(),
        )
        .await;
    assert_eq!(errcode(&answer), 40058, "{answer}");
}

// ---------------------------------------------------------------------------------------------
// Who may act
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn processors_and_the_grid_admin_may_act_and_nobody_else() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwwho").await;
    let order = report_at(&app, &corp, "o1", T).await;
    let mut model = Model::reported(&order, "reporter", &["admin"]);
    // A new order: only the grid admin, its only processor, may act.
    for user in ["outsider", "worker1", "reporter"] {
        let answer = act(&app, "wwwho", "o1", &action("accept", user, T + 1)).await;
        assert_admin_error_text(&answer, 422, "rejected", &[user, "o1"]);
    }
    let answer = act(&app, "wwwho", "o1", &action("accept", "nobody", T + 1)).await;
    assert_admin_error_text(&answer, 404, "not_found", &["nobody"]);

    step(
        &app,
        &corp,
        &token,
        &mut model,
        "o1",
        "assign",
        "admin",
        &["worker1"],
        T + 10,
    )
    .await;
    // worker2 is a member of the grid but not a processor of this order.
    for user in ["worker2", "outsider", "reporter"] {
        let answer = act(&app, "wwwho", "o1", &action("start", user, T + 20)).await;
        assert_admin_error_text(&answer, 422, "rejected", &[user]);
    }
    step(
        &app,
        &corp,
        &token,
        &mut model,
        "o1",
        "start",
        "worker1",
        &[],
        T + 20,
    )
    .await;
    step(
        &app,
        &corp,
        &token,
        &mut model,
        "o1",
        "transfer",
        "worker1",
        &["worker2"],
        T + 30,
    )
    .await;
    // worker1 handed it on and may no longer act.
    let answer = act(&app, "wwwho", "o1", &action("finish", "worker1", T + 40)).await;
    assert_admin_error_text(&answer, 422, "rejected", &["worker1"]);
    step(
        &app,
        &corp,
        &token,
        &mut model,
        "o1",
        "start",
        "worker2",
        &[],
        T + 40,
    )
    .await;
    // The grid admin may act at any time, processor or not.
    step(
        &app,
        &corp,
        &token,
        &mut model,
        "o1",
        "transfer",
        "admin",
        &["worker1"],
        T + 50,
    )
    .await;
    let answer = act(&app, "wwwho", "o1", &action("finish", "worker2", T + 60)).await;
    assert_admin_error_text(&answer, 422, "rejected", &["worker2"]);
    step(
        &app,
        &corp,
        &token,
        &mut model,
        "o1",
        "finish",
        "worker1",
        &[],
        T + 60,
    )
    .await;

    // An assigned processor may finish or reject straight away.
    for (i, closing) in ["finish", "reject"].into_iter().enumerate() {
        let order_id = format!("direct{i}");
        let order = report_at(&app, &corp, &order_id, T).await;
        let mut model = Model::reported(&order, "reporter", &["admin"]);
        step(
            &app,
            &corp,
            &token,
            &mut model,
            &order_id,
            "assign",
            "admin",
            &["worker1", "worker2"],
            T + 10,
        )
        .await;
        step(
            &app,
            &corp,
            &token,
            &mut model,
            &order_id,
            closing,
            "worker2",
            &[],
            T + 20,
        )
        .await;
    }
}

#[tokio::test]
async fn a_new_grid_admin_may_act_and_the_old_one_only_as_a_processor() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwnewadmin").await;
    let a = report_at(&app, &corp, "a", T).await;
    let b = report_at(&app, &corp, "b", T).await;
    let mut model_a = Model::reported(&a, "reporter", &["admin"]);
    let mut model_b = Model::reported(&b, "reporter", &["admin"]);
    step(
        &app,
        &corp,
        &token,
        &mut model_a,
        "a",
        "assign",
        "admin",
        &["worker1"],
        T + 10,
    )
    .await;
    let b_before = order_text(&app, "wwnewadmin", "b").await;

    let (status, grid) = app
        .admin(
            "PATCH",
            "/corps/wwnewadmin/grids/g1",
            Some(json!({"admins": ["worker2"]})),
        )
        .await;
    assert_eq!(status, 200, "{grid}");
    assert_eq!(grid["admins"], json!(["worker2"]));
    // Orders already reported keep their processors.
    assert_eq!(order_text(&app, "wwnewadmin", "b").await, b_before);
    // An order reported now goes to the new admin.
    let c = report_at(&app, &corp, "c", T + 20).await;
    let mut model_c = Model::reported(&c, "reporter", &["worker2"]);

    // a: the old admin is neither processor nor admin any more.
    let answer = act(&app, "wwnewadmin", "a", &action("accept", "admin", T + 30)).await;
    assert_admin_error_text(&answer, 422, "rejected", &["admin", "a"]);
    step(
        &app,
        &corp,
        &token,
        &mut model_a,
        "a",
        "accept",
        "worker2",
        &[],
        T + 30,
    )
    .await;

    // b: the old admin is still a processor of it; the new admin may act too.
    step(
        &app,
        &corp,
        &token,
        &mut model_b,
        "b",
        "accept",
        "admin",
        &[],
        T + 30,
    )
    .await;
    step(
        &app,
        &corp,
        &token,
        &mut model_b,
        "b",
        "transfer",
        "worker2",
        &["reporter"],
        T + 40,
    )
    .await;
    let answer = act(&app, "wwnewadmin", "b", &action("finish", "admin", T + 50)).await;
    assert_admin_error_text(&answer, 422, "rejected", &["admin"]);
    step(
        &app,
        &corp,
        &token,
        &mut model_b,
        "b",
        "finish",
        "reporter",
        &[],
        T + 50,
    )
    .await;

    // c: the old admin has nothing to do with it.
    let answer = act(&app, "wwnewadmin", "c", &action("reject", "admin", T + 30)).await;
    assert_admin_error_text(&answer, 422, "rejected", &["admin", "c"]);
    step(
        &app,
        &corp,
        &token,
        &mut model_c,
        "c",
        "reject",
        "worker2",
        &[],
        T + 30,
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Two actors at the same moment
// ---------------------------------------------------------------------------------------------

/// Sends two actions on one order at the same moment; returns the two answers in order.
async fn race(
    app: &TestApp,
    corpid: &str,
    order_id: &str,
    first: &Value,
    second: &Value,
) -> ((u16, String), (u16, String)) {
    tokio::join!(
        act(app, corpid, order_id, first),
        act(app, corpid, order_id, second)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processors_starting_at_once_one_wins() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwracestart").await;
    let mut wins = [0; 2];
    for i in 0..20 {
        let order_id = format!("race{i}");
        let order = report_at(&app, &corp, &order_id, T).await;
        let mut model = Model::reported(&order, "reporter", &["admin"]);
        step(
            &app,
            &corp,
            &token,
            &mut model,
            &order_id,
            "assign",
            "admin",
            &["worker1", "worker2"],
            T + 10,
        )
        .await;
        let one = action("start", "worker1", T + 20);
        let two = action("start", "worker2", T + 20);
        let (first, second) = race(&app, &corp.corpid, &order_id, &one, &two).await;
        let (winner, loser, won, lost) = match (first.0, second.0) {
            (200, 422) => ("worker1", "worker2", first, second),
            (422, 200) => ("worker2", "worker1", second, first),
            other => panic!("exactly one start should win: {other:?}: {first:?} {second:?}"),
        };
        wins[usize::from(winner == "worker2")] += 1;
        // The loser saw the winner's result: it is no longer a processor.
        assert_admin_error_text(&lost, 422, "rejected", &[loser, &order_id]);
        model.apply("start", winner, &[], T + 20);
        let now = order_text(&app, &corp.corpid, &order_id).await;
        assert_eq!(won.1, now, "the winner's answer is the order");
        let now = parse(&now);
        assert_eq!(now, model.order());
        let starts = now["process_list"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["process_type"] == 7)
            .count();
        assert_eq!(starts, 1, "{now}");
        assert_eq!(now["process_list"].as_array().unwrap().len(), 3, "{now}");
        assert_eq!(now["processor_userids"], json!([winner]));
    }
    assert_eq!(wins[0] + wins[1], 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_allowed_actors_finishing_at_once_one_wins() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwracefinish").await;
    for i in 0..20 {
        let order_id = format!("race{i}");
        let order = report_at(&app, &corp, &order_id, T).await;
        let mut model = Model::reported(&order, "reporter", &["admin"]);
        step(
            &app,
            &corp,
            &token,
            &mut model,
            &order_id,
            "assign",
            "admin",
            &["worker1"],
            T + 10,
        )
        .await;
        // The grid admin and the processor, in either order of sending.
        let (a, b) = if i % 2 == 0 {
            ("admin", "worker1")
        } else {
            ("worker1", "admin")
        };
        let one = action("finish", a, T + 20);
        let two = action("finish", b, T + 20);
        let (first, second) = race(&app, &corp.corpid, &order_id, &one, &two).await;
        let (winner, won, lost) = match (first.0, second.0) {
            (200, 422) => (a, first, second),
            (422, 200) => (b, second, first),
            other => panic!("exactly one finish should win: {other:?}: {first:?} {second:?}"),
        };
        assert_admin_error_text(&lost, 422, "rejected", &["closed", &order_id]);
        model.apply("finish", winner, &[], T + 20);
        let now = order_text(&app, &corp.corpid, &order_id).await;
        assert_eq!(won.1, now, "the winner's answer is the order");
        assert_eq!(app.order_info_text(&token, &order_id).await, now);
        let now = parse(&now);
        assert_eq!(now, model.order());
        let finishes = now["process_list"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["process_type"] == 5)
            .count();
        assert_eq!(finishes, 1, "{now}");
        assert_eq!(now["processor_userids"], json!([]));
    }
}

// ---------------------------------------------------------------------------------------------
// Changes as WeCom's clients see them
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_change_shows_in_a_poll_by_begin_modify_time() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwpoll").await;
    let a = report_at(&app, &corp, "a", T).await;
    let b = report_at(&app, &corp, "b", T + 1).await;
    let mut models = [
        ("a", Model::reported(&a, "reporter", &["admin"])),
        ("b", Model::reported(&b, "reporter", &["admin"])),
    ];
    // The first poll sees both reports, in the order they were made.
    let polled = app
        .walk(&token, json!({ "begin_modify_time": T }), 10)
        .await;
    assert_eq!(polled, [a, b]);
    let mut last_poll = T + 5;

    let history: [(usize, &str, &str, &[&str]); 8] = [
        (0, "accept", "admin", &[]),
        (1, "assign", "admin", &["worker2"]),
        (0, "assign", "admin", &["worker1"]),
        (0, "start", "worker1", &[]),
        (1, "start", "worker2", &[]),
        (0, "finish", "worker1", &[]),
        (1, "transfer", "admin", &["reporter"]),
        (1, "reject", "reporter", &[]),
    ];
    for (i, (which, kind, actor, users)) in history.into_iter().enumerate() {
        let time = T + 10 * (i as i64 + 1);
        let (order_id, model) = &mut models[which];
        let steps_before = model.steps.len();
        step(
            &app, &corp, &token, model, order_id, kind, actor, users, time,
        )
        .await;
        // The client polling since its last poll sees just this order, with the step appended.
        let polled = app
            .walk(&token, json!({ "begin_modify_time": last_poll }), 10)
            .await;
        assert_eq!(polled, [model.order()], "{kind} by {actor} at {time}");
        let steps = polled[0]["process_list"].as_array().unwrap();
        assert_eq!(steps.len(), steps_before + 1);
        assert_eq!(
            steps.last().unwrap()["process_desc"],
            format!("{kind} by {actor}")
        );
        // A poll after the change sees nothing; one at its time sees it (inclusive).
        assert!(
            app.walk(&token, json!({ "begin_modify_time": time + 1 }), 10)
                .await
                .is_empty()
        );
        assert_eq!(
            order_ids(
                &app.walk(&token, json!({ "begin_modify_time": time }), 10)
                    .await
            ),
            [*order_id]
        );
        // A modify-ordered walk puts the just-changed order last.
        let other = models[1 - which].0;
        let order_id = models[which].0;
        assert_eq!(modify_walk(&app, &token).await, [other, order_id]);
        // The create-ordered walk does not move.
        assert_eq!(order_ids(&app.walk(&token, json!({}), 1).await), ["a", "b"]);
        last_poll = time + 5;
    }
}

#[tokio::test]
async fn explicit_times_build_histories_over_days() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwdays").await;
    let order = report_at(&app, &corp, "long", T).await;
    let mut model = Model::reported(&order, "reporter", &["admin"]);
    let history: [(&str, &str, &[&str], i64); 4] = [
        ("accept", "admin", &[], T + DAY),
        ("assign", "admin", &["worker1"], T + 2 * DAY),
        ("start", "worker1", &[], T + 2 * DAY + 3600),
        ("finish", "worker1", &[], T + 3 * DAY),
    ];
    for (kind, actor, users, time) in history {
        step(
            &app, &corp, &token, &mut model, "long", kind, actor, users, time,
        )
        .await;
        let polled = app
            .walk(&token, json!({ "begin_modify_time": time - DAY / 2 }), 10)
            .await;
        assert_eq!(order_ids(&polled), ["long"], "{kind} at {time}");
    }
    let order = parse(&order_text(&app, "wwdays", "long").await);
    assert_eq!(order["create_time"], T);
    let solved: Vec<i64> = order["process_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["solved_time"].as_i64().unwrap())
        .collect();
    // The in-progress step was completed by the finish, three days after the report.
    assert_eq!(solved, [T, T + DAY, T + 2 * DAY, T + 3 * DAY, T + 3 * DAY]);

    // The filters of get_order_list see these times.
    let count = |filters: Value| {
        let app = &app;
        let token = &token;
        async move { app.walk(token, filters, 10).await.len() }
    };
    assert_eq!(count(json!({ "begin_create_time": T })).await, 1);
    assert_eq!(count(json!({ "begin_create_time": T + 1 })).await, 0);
    assert_eq!(count(json!({ "begin_modify_time": T + 3 * DAY })).await, 1);
    assert_eq!(
        count(json!({ "begin_modify_time": T + 3 * DAY + 1 })).await,
        0
    );

    // A back-dated report comes first by create_time, last by modification.
    report_at(&app, &corp, "older", T - 2 * DAY).await;
    assert_eq!(
        order_ids(&app.walk(&token, json!({}), 10).await),
        ["older", "long"]
    );
    assert_eq!(modify_walk(&app, &token).await, ["long", "older"]);
    let older = parse(&order_text(&app, "wwdays", "older").await);
    assert_eq!(older["create_time"], T - 2 * DAY);
    assert_eq!(older["process_list"][0]["solved_time"], T - 2 * DAY);
}
