//! `report/grid/*` over raw HTTP: each endpoint's shape, WeCom's limits and their codes, the
//! permission rules of the 居民联系 list, isolation between corps, body leniency, and that
//! WeCom's API and the administration API edit the same grids and categories (decisions.md,
//! "Grids and categories over WeCom's API").

use patrol_domain::AppKind;
use patrol_test::{
    Lists, PAST, TestApp, TestCorp, errcode, errmsg, wecom_error_text, without_request_id,
};
use serde_json::{Value, json};

/// The keys of an object, sorted (the order on the wire is checked on raw text).
fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

#[track_caller]
fn ok(answer: &Value) {
    assert_eq!(errcode(answer), 0, "{answer}");
    assert_eq!(errmsg(answer), "ok", "{answer}");
}

/// The error code of an answer, checked to be in WeCom's error shape.
#[track_caller]
fn code(answer: &Value) -> i64 {
    let code = errcode(answer);
    assert_ne!(code, 0, "an error: {answer}");
    wecom_error_text(answer, code);
    code
}

/// `grid/add` of a grid with `admins`, under `parent` (`""`: at the top level).
async fn add_grid(app: &TestApp, token: &str, name: &str, parent: &str, admins: &[&str]) -> Value {
    let body = json!({"grid_name": name, "grid_parent_id": parent, "grid_admin": admins});
    app.grid("add", token, &body.to_string()).await
}

/// A new grid's id (the call must succeed).
async fn new_grid(app: &TestApp, token: &str, name: &str, parent: &str, admins: &[&str]) -> String {
    let answer = add_grid(app, token, name, parent, admins).await;
    ok(&answer);
    answer["grid_id"].as_str().unwrap().to_owned()
}

async fn new_category(app: &TestApp, token: &str, name: &str, parent: Option<&str>) -> String {
    let body = match parent {
        Some(parent) => json!({"category_name": name, "level": 2, "parent_category_id": parent}),
        None => json!({"category_name": name, "level": 1}),
    };
    let answer = app.grid("add_cata", token, &body.to_string()).await;
    ok(&answer);
    answer["category_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_endpoint_answers_in_wecoms_shape() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwgridshape").await;
    let token = app.contact_token(&corp).await;

    // add: a top-level grid (`grid_parent_id` ""), then a child with members, one unknown.
    let root = add_grid(&app, &token, "西湖区", "", &["admin"]).await;
    assert_eq!(
        keys(&root),
        ["errcode", "errmsg", "grid_id", "invalid_userids"]
    );
    ok(&root);
    let root_id = root["grid_id"].as_str().unwrap().to_owned();
    assert_eq!(root_id.len(), 16, "16 hex characters: {root_id}");
    assert!(root_id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(root["invalid_userids"], json!([]));
    let body = json!({"grid_name": "北山街道", "grid_parent_id": root_id,
        "grid_admin": ["admin", "ghost"], "grid_member": ["worker1", "worker2", "nobody", "ghost"]});
    let child = app.grid("add", &token, &body.to_string()).await;
    ok(&child);
    assert_eq!(child["invalid_userids"], json!(["ghost", "nobody"]));
    let child_id = child["grid_id"].as_str().unwrap().to_owned();
    assert_ne!(child_id, root_id);
    let grandchild = new_grid(&app, &token, "曙光社区", &child_id, &["worker1"]).await;

    // list: without grid_id the top-level grids (g1 of the fixture too) and their children.
    let list = app.grid("list", &token, "").await;
    ok(&list);
    assert_eq!(keys(&list), ["errcode", "errmsg", "grid_list"]);
    let items = list["grid_list"].as_array().unwrap();
    let ids: Vec<&str> = items
        .iter()
        .map(|g| g["grid_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["g1", root_id.as_str(), child_id.as_str()]);
    assert_eq!(
        items[2],
        json!({"grid_id": child_id, "grid_name": "北山街道", "grid_parent_id": root_id,
               "grid_admin": ["admin"], "grid_member": ["worker1", "worker2"]})
    );
    assert_eq!(items[1]["grid_parent_id"], "");
    // With grid_id: that grid and its children.
    let list = app
        .grid("list", &token, &json!({"grid_id": child_id}).to_string())
        .await;
    let ids: Vec<&str> = list["grid_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["grid_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [child_id.as_str(), grandchild.as_str()]);

    // get_user_grid_info.
    // In WeCom's order, byte for byte.
    let (status, info) = app
        .post(
            &format!("/cgi-bin/report/grid/get_user_grid_info?access_token={token}"),
            r#"{"userid":"worker1"}"#,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        info,
        format!(
            r#"{{"errcode":0,"errmsg":"ok","manage_grids":[{{"grid_id":"{grandchild}","grid_name":"曙光社区"}}],"joined_grids":[{{"grid_id":"g1","grid_name":"一号网格"}},{{"grid_id":"{child_id}","grid_name":"北山街道"}}]}}"#
        )
    );
    let (_, text) = app
        .post(
            &format!("/cgi-bin/report/grid/list?access_token={token}"),
            format!(r#"{{"grid_id":"{grandchild}"}}"#),
        )
        .await;
    assert_eq!(
        text,
        format!(
            r#"{{"errcode":0,"errmsg":"ok","grid_list":[{{"grid_id":"{grandchild}","grid_name":"曙光社区","grid_parent_id":"{child_id}","grid_admin":["worker1"],"grid_member":[]}}]}}"#
        )
    );

    // update: only what is given changes; an empty grid_member clears the members.
    let body = json!({"grid_id": child_id, "grid_name": "北山", "grid_member": [], "grid_admin": ["worker2", "ghost"]});
    let updated = app.grid("update", &token, &body.to_string()).await;
    ok(&updated);
    assert_eq!(keys(&updated), ["errcode", "errmsg", "invalid_userids"]);
    assert_eq!(updated["invalid_userids"], json!(["ghost"]));
    let grid = app.store.grid(corp.key, &child_id).await.unwrap().unwrap();
    assert_eq!(grid.name, "北山");
    assert_eq!(grid.parent.as_deref(), Some(root_id.as_str()));
    assert_eq!(grid.admins, ["worker2"]);
    assert!(grid.members.is_empty());
    // `grid_parent_id` "" moves a grid to the top level.
    let body = json!({"grid_id": grandchild, "grid_parent_id": ""});
    ok(&app.grid("update", &token, &body.to_string()).await);
    let grid = app
        .store
        .grid(corp.key, &grandchild)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(grid.parent, None);

    // delete.
    let deleted = app
        .grid(
            "delete",
            &token,
            &json!({"grid_id": grandchild}).to_string(),
        )
        .await;
    assert_eq!(deleted, json!({"errcode": 0, "errmsg": "ok"}));
    assert_eq!(app.store.grid(corp.key, &grandchild).await.unwrap(), None);

    // Categories: level as a number or a string of digits.
    let body = json!({"category_name": "道路交通", "level": 1});
    let added = app.grid("add_cata", &token, &body.to_string()).await;
    ok(&added);
    assert_eq!(keys(&added), ["category_id", "errcode", "errmsg"]);
    let top = added["category_id"].as_str().unwrap().to_owned();
    let body = json!({"category_name": "占道经营", "level": "2", "parent_category_id": top});
    let sub = app.grid("add_cata", &token, &body.to_string()).await;
    ok(&sub);
    let sub = sub["category_id"].as_str().unwrap().to_owned();
    let (status, text) = app
        .post(
            &format!("/cgi-bin/report/grid/list_cata?access_token={token}"),
            "",
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        text,
        format!(
            r#"{{"errcode":0,"errmsg":"ok","category_list":[{{"category_id":"c1","category_name":"市容环境","level":1,"parent_category_id":""}},{{"category_id":"c1a","category_name":"暴露垃圾","level":2,"parent_category_id":"c1"}},{{"category_id":"{top}","category_name":"道路交通","level":1,"parent_category_id":""}},{{"category_id":"{sub}","category_name":"占道经营","level":2,"parent_category_id":"{top}"}}]}}"#
        )
    );
    // update_cata: renamed and moved under c1 (level "2" as a string too).
    let body = json!({"category_id": sub, "category_name": "乱摆摊", "level": "2", "parent_category_id": "c1"});
    let updated = app.grid("update_cata", &token, &body.to_string()).await;
    assert_eq!(updated, json!({"errcode": 0, "errmsg": "ok"}));
    let categories = app.store.list_categories(corp.key).await.unwrap();
    let moved = categories.iter().find(|c| c.category_id == sub).unwrap();
    assert_eq!(
        (moved.name.as_str(), moved.parent.as_deref()),
        ("乱摆摊", Some("c1"))
    );
    // delete_cata.
    let deleted = app
        .grid(
            "delete_cata",
            &token,
            &json!({"category_id": sub}).to_string(),
        )
        .await;
    assert_eq!(deleted, json!({"errcode": 0, "errmsg": "ok"}));
    assert_eq!(app.store.list_categories(corp.key).await.unwrap().len(), 3);
}

#[tokio::test]
async fn wecoms_limits_answer_their_codes() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwgridlimits").await;
    let token = app.contact_token(&corp).await;
    let users = app.numbered_users("wwgridlimits", "u", 101).await;
    let add = |body: Value| {
        let (app, token) = (&app, &token);
        async move { app.grid("add", token, &body.to_string()).await }
    };

    // Names: at most 30 characters (40058), unique among siblings (90608).
    let answer = add_grid(&app, &token, &"格".repeat(31), "", &["admin"]).await;
    assert_eq!(code(&answer), 40058);
    assert!(
        wecom_error_text(&answer, 40058).starts_with("invalid grid_name: "),
        "{answer}"
    );
    new_grid(&app, &token, &"格".repeat(30), "", &["admin"]).await;
    assert_eq!(
        code(&add_grid(&app, &token, "一号网格", "", &["admin"]).await),
        90608
    );
    // The same name under another parent is fine.
    new_grid(&app, &token, "一号网格", "g1", &["admin"]).await;

    // Admins: none is 40063, 21 is 90606, all unknown is 40003.
    assert_eq!(code(&add_grid(&app, &token, "无人", "", &[]).await), 40063);
    assert_eq!(
        code(&add(json!({"grid_name": "无人", "grid_parent_id": ""})).await),
        40063
    );
    let twenty_one: Vec<&str> = users[..21].iter().map(String::as_str).collect();
    assert_eq!(
        code(&add_grid(&app, &token, "太多", "", &twenty_one).await),
        90606
    );
    new_grid(&app, &token, "二十", "", &twenty_one[..20]).await;
    let answer = add_grid(&app, &token, "陌生", "", &["ghost", "nobody"]).await;
    assert_eq!(code(&answer), 40003);

    // Members: at most 100 (90609).
    let body = json!({"grid_name": "满员", "grid_parent_id": "", "grid_admin": ["admin"],
                      "grid_member": users});
    assert_eq!(code(&add(body).await), 90609);
    let body = json!({"grid_name": "满员", "grid_parent_id": "", "grid_admin": ["admin"],
                      "grid_member": users[..100]});
    ok(&add(body).await);

    // A user manages at most 10 grids (90613), through add and update alike. `admin` manages
    // g1 and three grids above.
    for i in 0..6 {
        new_grid(&app, &token, &format!("管理{i}"), "", &["admin"]).await;
    }
    assert_eq!(
        code(&add_grid(&app, &token, "第十一", "", &["admin"]).await),
        90613
    );
    let other = new_grid(&app, &token, "第十一", "", &["worker1"]).await;
    let body = json!({"grid_id": other, "grid_admin": ["admin"]});
    assert_eq!(
        code(&app.grid("update", &token, &body.to_string()).await),
        90613
    );

    // Depth: at most 10 levels (40058); an unknown parent is 90604.
    let mut parent = String::new();
    for level in 1..=10 {
        let admin = format!("u{}", 30 + level);
        parent = new_grid(&app, &token, &format!("第{level}级"), &parent, &[&admin]).await;
    }
    let answer = add_grid(&app, &token, "第11级", &parent, &["u50"]).await;
    assert_eq!(code(&answer), 40058);
    assert!(
        wecom_error_text(&answer, 40058).starts_with("invalid grid_parent_id: "),
        "{answer}"
    );
    assert_eq!(
        code(&add_grid(&app, &token, "孤儿", "ghost", &["u50"]).await),
        90604
    );
    let body = json!({"grid_id": "ghost", "grid_name": "x"});
    assert_eq!(
        code(&app.grid("update", &token, &body.to_string()).await),
        90604
    );

    // Delete: a grid with members 90607; with child grids 90607 too; unknown 90604.
    let delete = |grid_id: &str| json!({"grid_id": grid_id}).to_string();
    assert_eq!(
        code(&app.grid("delete", &token, &delete("g1")).await),
        90607
    );
    let body = json!({"grid_id": "g1", "grid_member": []});
    ok(&app.grid("update", &token, &body.to_string()).await);
    // g1 still has the child added above.
    assert_eq!(
        code(&app.grid("delete", &token, &delete("g1")).await),
        90607
    );
    assert_eq!(
        code(&app.grid("delete", &token, &delete("ghost")).await),
        90604
    );
    assert_eq!(code(&app.grid("delete", &token, "{}").await), 40063);

    // Required fields: 40063; wrong types: 40058 naming the field.
    assert_eq!(
        code(&add(json!({"grid_parent_id": "", "grid_admin": ["admin"]})).await),
        40063
    );
    assert_eq!(
        code(&add(json!({"grid_name": "x", "grid_admin": ["admin"]})).await),
        40063
    );
    let answer = add(json!({"grid_name": 5, "grid_parent_id": "", "grid_admin": ["admin"]})).await;
    assert!(
        wecom_error_text(&answer, 40058).contains("'grid_name'"),
        "{answer}"
    );
    let info = |body: &'static str| app.grid("get_user_grid_info", &token, body);
    assert_eq!(code(&info("{}").await), 40063);
    assert_eq!(code(&info(r#"{"userid":""}"#).await), 40063);
    let answer = info(r#"{"userid":"ghost"}"#).await;
    assert_eq!(wecom_error_text(&answer, 60111), "userid not found");

    // Categories: level 1 or 2; a level-2 one under a level-1 one (90603 otherwise).
    let cata = |body: Value| {
        let (app, token) = (&app, &token);
        async move { app.grid("add_cata", token, &body.to_string()).await }
    };
    assert_eq!(code(&cata(json!({"category_name": "x"})).await), 40063);
    assert_eq!(code(&cata(json!({"level": 1})).await), 40063);
    assert_eq!(
        code(&cata(json!({"category_name": "x", "level": 3})).await),
        40058
    );
    let answer = cata(json!({"category_name": "x", "level": "one"})).await;
    assert!(
        wecom_error_text(&answer, 40058).contains("'level'"),
        "{answer}"
    );
    assert_eq!(
        code(&cata(json!({"category_name": "x", "level": 1.0})).await),
        40058
    );
    assert_eq!(
        code(&cata(json!({"category_name": "x", "level": 2})).await),
        40063
    );
    let under =
        |parent: &str| json!({"category_name": "子类", "level": 2, "parent_category_id": parent});
    assert_eq!(code(&cata(under("ghost")).await), 90603);
    assert_eq!(code(&cata(under("c1a")).await), 90603);
    let answer = cata(json!({"category_name": "x", "level": 1, "parent_category_id": "c1"})).await;
    assert_eq!(code(&answer), 40058);
    let answer = cata(json!({"category_name": "类".repeat(31), "level": 1})).await;
    assert!(wecom_error_text(&answer, 40058).starts_with("invalid category_name: "));
    // Names are unique among siblings, level 1 included (40058).
    assert_eq!(
        code(&cata(json!({"category_name": "市容环境", "level": 1})).await),
        40058
    );
    let answer =
        cata(json!({"category_name": "暴露垃圾", "level": 2, "parent_category_id": "c1"})).await;
    assert_eq!(code(&answer), 40058);
    let top = new_category(&app, &token, "其他类", None).await;
    new_category(&app, &token, "暴露垃圾", Some(&top)).await;

    // update_cata keeps the tree: a level-1 category with children stays at level 1.
    let update = |body: Value| {
        let (app, token) = (&app, &token);
        async move { app.grid("update_cata", token, &body.to_string()).await }
    };
    let answer = update(json!({"category_id": "c1", "level": 2, "parent_category_id": top})).await;
    assert_eq!(code(&answer), 40058);
    assert_eq!(
        code(&update(json!({"category_id": "c1a", "level": 2, "parent_category_id": "c1a"})).await),
        90603
    );
    assert_eq!(
        code(&update(json!({"category_id": "ghost", "category_name": "x"})).await),
        90603
    );
    assert_eq!(code(&update(json!({"category_name": "x"})).await), 40063);
    // delete_cata: unknown 90603; with children 40058.
    let delete = |id: &str| json!({"category_id": id}).to_string();
    assert_eq!(
        code(&app.grid("delete_cata", &token, &delete("ghost")).await),
        90603
    );
    assert_eq!(
        code(&app.grid("delete_cata", &token, &delete("c1")).await),
        40058
    );
}

#[tokio::test]
async fn a_category_or_grid_with_orders_is_kept() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwgridorders").await;
    let token = app.contact_token(&corp).await;
    app.insert(&corp, patrol_test::numbered_orders(1, PAST, 0))
        .await;
    let body = json!({"grid_id": "g1", "grid_member": []});
    ok(&app.grid("update", &token, &body.to_string()).await);
    let answer = app.grid("delete", &token, r#"{"grid_id":"g1"}"#).await;
    assert_eq!(code(&answer), 90607);
    assert!(
        wecom_error_text(&answer, 90607).contains("orders"),
        "{answer}"
    );
    let answer = app
        .grid("delete_cata", &token, r#"{"category_id":"c1a"}"#)
        .await;
    assert_eq!(code(&answer), 40058);
    assert!(
        wecom_error_text(&answer, 40058).contains("orders"),
        "{answer}"
    );
}

/// Every `report/grid/*` endpoint with a body it accepts.
const ENDPOINTS: [(&str, &str); 9] = [
    (
        "add",
        r#"{"grid_name":"新","grid_parent_id":"","grid_admin":["admin"]}"#,
    ),
    ("update", r#"{"grid_id":"g1","grid_name":"一号"}"#),
    ("delete", r#"{"grid_id":"nothing"}"#),
    ("list", "{}"),
    ("get_user_grid_info", r#"{"userid":"admin"}"#),
    ("add_cata", r#"{"category_name":"新类","level":1}"#),
    (
        "update_cata",
        r#"{"category_id":"c1","category_name":"市容"}"#,
    ),
    ("delete_cata", r#"{"category_id":"nothing"}"#),
    ("list_cata", ""),
];

#[tokio::test]
async fn only_apps_on_the_contact_list_may_call_and_providers_not_grid_list() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwgridperm").await;
    let on = |contact| Lists {
        contact,
        ..Lists::ALL
    };
    // The fixture's patrol app is on the patrol list only.
    let patrol_only = app.token(&corp).await;
    app.app_on(
        &corp,
        1_000_031,
        AppKind::Custom,
        on(false),
        true,
        "not-listed",
    )
    .await;
    app.app_on(
        &corp,
        1_000_032,
        AppKind::ThirdParty,
        on(true),
        true,
        "third",
    )
    .await;
    app.app_on(
        &corp,
        1_000_033,
        AppKind::Provider,
        on(true),
        true,
        "provider",
    )
    .await;
    app.app_on(
        &corp,
        1_000_034,
        AppKind::Provider,
        on(false),
        true,
        "provider-off",
    )
    .await;
    app.app_on(&corp, 3_010_185, AppKind::System, on(true), true, "system")
        .await;
    let mut refused = vec![patrol_only];
    for secret in ["not-listed", "third", "provider-off", "system"] {
        refused.push(app.token_for(&corp.corpid, secret).await);
    }
    for token in &refused {
        for (api, body) in ENDPOINTS {
            let answer = app.grid(api, token, body).await;
            assert_eq!(
                wecom_error_text(&answer, 48002),
                "api forbidden",
                "{api}: {answer}"
            );
        }
    }
    // A provider (代开发) app on the list may call every endpoint but grid/list.
    let provider = app.token_for(&corp.corpid, "provider").await;
    for (api, body) in ENDPOINTS {
        let answer = app.grid(api, &provider, body).await;
        match api {
            "list" => assert_eq!(code(&answer), 48002, "{answer}"),
            "delete" => assert_eq!(code(&answer), 90604, "{answer}"),
            "delete_cata" => assert_eq!(code(&answer), 90603, "{answer}"),
            _ => ok(&answer),
        }
    }
    // The permission is checked before the body.
    let answer = app.grid("add", &refused[0], "not json").await;
    assert_eq!(code(&answer), 48002);

    // A system app of a corp created before 2023-12-01 may call them all.
    let old = app.corp_created_at("wwgridold", PAST).await;
    app.app_on(
        &old,
        3_010_185,
        AppKind::System,
        Lists::default(),
        true,
        "old-system",
    )
    .await;
    let system = app.token_for(&old.corpid, "old-system").await;
    ok(&app.grid("list", &system, "").await);
    ok(&app.grid("list_cata", &system, "").await);
}

#[tokio::test]
async fn another_corps_grids_and_categories_look_unknown() {
    let app = TestApp::spawn().await;
    let a = app.corp("wwgrida").await;
    let b = app.corp("wwgridb").await;
    let token_a = app.contact_token(&a).await;
    let token_b = app.contact_token(&b).await;
    let b_grid = new_grid(&app, &token_b, "乙网格", "", &["admin"]).await;
    let b_category = new_category(&app, &token_b, "乙类", None).await;
    app.new_users("wwgridb", &["onlyb"]).await;

    // Corp B's id and a never-existing id of the same length answer alike.
    let never = "0123456789abcdef";
    assert_eq!(b_grid.len(), never.len());
    let same = |x: &Value, y: &Value, b_id: &str| {
        assert_eq!(errcode(x), errcode(y), "{x} {y}");
        assert_eq!(
            without_request_id(errmsg(x)).replace(b_id, never),
            without_request_id(errmsg(y)),
        );
    };
    for (api, template, code_wanted) in [
        ("update", r#"{"grid_id":"ID","grid_name":"x"}"#, 90604),
        ("delete", r#"{"grid_id":"ID"}"#, 90604),
        ("list", r#"{"grid_id":"ID"}"#, 90604),
        (
            "add",
            r#"{"grid_name":"x","grid_parent_id":"ID","grid_admin":["admin"]}"#,
            90604,
        ),
    ] {
        let theirs = app
            .grid(api, &token_a, &template.replace("ID", &b_grid))
            .await;
        let nobodys = app
            .grid(api, &token_a, &template.replace("ID", never))
            .await;
        assert_eq!(code(&theirs), code_wanted, "{api}: {theirs}");
        same(&theirs, &nobodys, &b_grid);
    }
    for (api, template) in [
        ("update_cata", r#"{"category_id":"ID","category_name":"x"}"#),
        ("delete_cata", r#"{"category_id":"ID"}"#),
        (
            "add_cata",
            r#"{"category_name":"x","level":2,"parent_category_id":"ID"}"#,
        ),
    ] {
        let theirs = app
            .grid(api, &token_a, &template.replace("ID", &b_category))
            .await;
        let nobodys = app
            .grid(api, &token_a, &template.replace("ID", never))
            .await;
        assert_eq!(code(&theirs), 90603, "{api}: {theirs}");
        same(&theirs, &nobodys, &b_category);
    }
    let answer = app
        .grid("get_user_grid_info", &token_a, r#"{"userid":"onlyb"}"#)
        .await;
    assert_eq!(code(&answer), 60111);
    // A user of B is no member of A: left out of A's grid.
    let body = json!({"grid_name": "甲", "grid_parent_id": "", "grid_admin": ["admin", "onlyb"]});
    let added = app.grid("add", &token_a, &body.to_string()).await;
    assert_eq!(added["invalid_userids"], json!(["onlyb"]));
    // Nothing of B was touched, nothing of B is listed to A.
    let listed = app.grid("list", &token_a, "").await.to_string();
    assert!(!listed.contains(&b_grid), "{listed}");
    let categories = app.grid("list_cata", &token_a, "").await.to_string();
    assert!(!categories.contains(&b_category), "{categories}");
    assert!(app.store.grid(b.key, &b_grid).await.unwrap().is_some());
}

#[tokio::test]
async fn bodies_are_read_as_wecom_reads_them() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwgridjson").await;
    let token = app.contact_token(&corp).await;
    // list_cata: an empty body without Content-Type (what SDKs send), `{}`, or nulls.
    for body in ["", "  ", "{}", r#"{"anything":null}"#] {
        let answer = app.grid("list_cata", &token, body).await;
        ok(&answer);
        assert_eq!(answer["category_list"].as_array().unwrap().len(), 2);
    }
    // Trailing commas: accepted with WeCom's warning, on success and on failure.
    let answer = app.grid("list_cata", &token, "{\"a\": 1,}").await;
    assert_eq!(errmsg(&answer), "ok. Warning: wrong json format. ");
    let answer = app
        .grid(
            "add_cata",
            &token,
            "{\"category_name\": \"新类\", \"level\": \"1\",}",
        )
        .await;
    assert_eq!(errcode(&answer), 0, "{answer}");
    assert_eq!(errmsg(&answer), "ok. Warning: wrong json format. ");
    let answer = app
        .grid("get_user_grid_info", &token, "{\"userid\": \"ghost\",}")
        .await;
    assert_eq!(code(&answer), 60111);
    assert!(
        errmsg(&answer).starts_with("Warning: wrong json format. userid not found"),
        "{answer}"
    );
    // `null` is absent; not JSON is 40058; another method is 40058.
    let answer = app
        .grid("get_user_grid_info", &token, r#"{"userid":null}"#)
        .await;
    assert_eq!(code(&answer), 40063);
    assert_eq!(
        code(&app.grid("list_cata", &token, "not json").await),
        40058
    );
    let (status, text) = app
        .get(&format!(
            "/cgi-bin/report/grid/list_cata?access_token={token}"
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(code(&serde_json::from_str(&text).unwrap()), 40058);
    // The token first.
    assert_eq!(code(&app.grid("list_cata", "", "").await), 41001);
    assert_eq!(
        code(&app.grid("list_cata", "never-issued", "").await),
        40014
    );
}

#[tokio::test]
async fn wecoms_api_and_the_admin_api_edit_the_same_grids() {
    let app = TestApp::spawn().await;
    let corp: TestCorp = app.corp("wwgridboth").await;
    let token = app.contact_token(&corp).await;
    let patrol = app.token(&corp).await;

    // Added over WeCom's API: in the admin API's list and in patrol/get_grid_info.
    let grid_id = new_grid(&app, &token, "网格甲", "g1", &["worker1"]).await;
    let admin_list = app.admin_list("wwgridboth", "grids").await;
    let listed = admin_list["grids"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["grid_id"] == grid_id.as_str())
        .unwrap_or_else(|| panic!("{grid_id} in {admin_list}"));
    assert_eq!(listed["name"], "网格甲");
    assert_eq!(listed["parent_id"], "g1");
    let (_, info) = app
        .get(&format!(
            "/cgi-bin/report/patrol/get_grid_info?access_token={patrol}"
        ))
        .await;
    assert!(info.contains(&format!(
        r#"{{"grid_id":"{grid_id}","grid_name":"网格甲","grid_admin":["worker1"]}}"#
    )));
    let category = new_category(&app, &token, "新类别", None).await;
    let categories = app.admin_list("wwgridboth", "categories").await;
    assert!(categories.to_string().contains(&category), "{categories}");

    // Added over the admin API: in grid/list, list_cata and get_user_grid_info.
    app.new_grid(
        "wwgridboth",
        json!({"grid_id": "adm", "name": "管理网格", "admins": ["worker2"], "members": ["reporter"]}),
    )
    .await;
    app.new_category("wwgridboth", "admc", "管理类别", Some("c1"))
        .await;
    let list = app.grid("list", &token, "").await;
    assert!(
        list["grid_list"].as_array().unwrap().contains(
            &json!({"grid_id": "adm", "grid_name": "管理网格", "grid_parent_id": "",
                              "grid_admin": ["worker2"], "grid_member": ["reporter"]})
        ),
        "{list}"
    );
    let cata = app.grid("list_cata", &token, "").await;
    assert!(
        cata["category_list"].as_array().unwrap().contains(
            &json!({"category_id": "admc", "category_name": "管理类别", "level": 2, "parent_category_id": "c1"})
        ),
        "{cata}"
    );
    let info = app
        .grid("get_user_grid_info", &token, r#"{"userid":"worker2"}"#)
        .await;
    assert_eq!(
        info["manage_grids"],
        json!([{"grid_id": "adm", "grid_name": "管理网格"}])
    );

    // The admin API keeps WeCom's limit on the grids a user manages.
    for i in 0..9 {
        app.new_grid(
            "wwgridboth",
            json!({"grid_id": format!("m{i}"), "name": format!("管{i}"), "admins": ["worker2"]}),
        )
        .await;
    }
    let body = json!({"grid_id": "m9", "name": "管9", "admins": ["worker2"]});
    let (status, answer) = app
        .admin("POST", "/corps/wwgridboth/grids", Some(body))
        .await;
    patrol_test::assert_admin_error(status, &answer, 400, "invalid_request", &["worker2", "10"]);
}
