//! The administration API's directory (docs/admin-api.md): the admin key, the error shape,
//! corps, apps, users, grids with WeCom's limits, categories and tenancy, over HTTP with raw JSON.

use patrol_test::{
    ADMIN_KEY, MODERN_CORP, SYSTEM_APP_CUTOFF, TestApp, assert_admin_error, errcode,
};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Helpers

/// The secret in an answer that creates or rotates it.
#[track_caller]
fn secret_of(answer: &Value) -> String {
    answer["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("no secret in {answer}"))
        .to_owned()
}

/// `errcode` of `gettoken` for a corpid and secret.
async fn gettoken_errcode(app: &TestApp, corpid: &str, secret: &str) -> i64 {
    errcode(&app.gettoken_for(corpid, secret).await)
}

/// `errcode` of `get_order_list` with an empty body.
async fn order_list_errcode(app: &TestApp, token: &str) -> i64 {
    errcode(&app.order_list(token, json!({})).await)
}

/// The `grid_id`s of a grid list, in order.
fn grid_ids(list: &Value) -> Vec<String> {
    list["grids"]
        .as_array()
        .expect("a grid list")
        .iter()
        .map(|g| g["grid_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Asserts that every item of `list` comes after the item its `parent_id` names.
#[track_caller]
fn assert_parents_first(list: &[Value], id_key: &str) {
    for (position, item) in list.iter().enumerate() {
        if let Some(parent) = item["parent_id"].as_str() {
            let parent_position = list
                .iter()
                .position(|other| other[id_key] == parent)
                .unwrap_or_else(|| panic!("parent {parent} is not listed"));
            assert!(
                parent_position < position,
                "{parent} is listed after its child {item}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The admin key

/// Routes of every kind: existing, with path parameters, unknown, and unknown under a corp.
const ROUTES: [(&str, &str, Option<&str>); 9] = [
    ("GET", "/corps", None),
    (
        "POST",
        "/corps",
        Some(r#"{"corpid": "wwsneaky", "name": "x"}"#),
    ),
    ("GET", "/corps/wwauth", None),
    ("GET", "/corps/wwauth/grids", None),
    (
        "POST",
        "/corps/wwauth/users",
        Some(r#"{"userid": "u", "name": "U"}"#),
    ),
    ("DELETE", "/corps/wwauth/users/someone", None),
    ("GET", "/no/such/route", None),
    ("GET", "/corps/wwauth/no-such-thing", None),
    ("PUT", "/corps", None),
];

#[tokio::test]
async fn a_missing_wrong_basic_or_empty_admin_key_is_refused_on_every_route() {
    let app = TestApp::spawn().await;
    app.new_corp("wwauth").await;
    let wrong = [
        None,
        Some("Bearer wrong-key".to_owned()),
        Some(format!("Bearer {ADMIN_KEY}x")),
        Some(format!("Bearer {}", &ADMIN_KEY[..ADMIN_KEY.len() - 1])),
        Some("Basic YWRtaW46dGVzdC1hZG1pbi1rZXk=".to_owned()),
        Some(format!("Basic {ADMIN_KEY}")),
        Some(ADMIN_KEY.to_owned()),
        Some("Bearer ".to_owned()),
        Some("Bearer".to_owned()),
        Some(format!("Token {ADMIN_KEY}")),
    ];
    for (method, path, body) in ROUTES {
        for authorization in &wrong {
            let answer = app
                .admin_raw(method, path, authorization.as_deref(), body)
                .await;
            let case = format!("{method} {path} with {authorization:?}");
            assert_eq!(answer.status, 401, "{case}: {}", answer.text);
            assert_eq!(
                answer.content_type.as_deref(),
                Some("application/json; charset=UTF-8"),
                "{case}"
            );
            assert_admin_error(answer.status, &answer.json(), 401, "unauthorized", &[]);
        }
    }
    // Nothing was created by the refused calls.
    let corps = app.admin_expect("GET", "/corps", None, 200).await;
    assert_eq!(corps["corps"].as_array().unwrap().len(), 1, "{corps}");
    assert_eq!(corps["corps"][0]["corpid"], "wwauth");
    assert_eq!(
        app.admin_list("wwauth", "users").await,
        json!({"users": []})
    );
}

#[tokio::test]
async fn the_right_admin_key_is_accepted_on_every_route() {
    let app = TestApp::spawn().await;
    app.new_corp("wwauth").await;
    app.new_users("wwauth", &["someone"]).await;
    let authorization = format!("Bearer {ADMIN_KEY}");
    let expected = [200, 201, 200, 200, 201, 204, 404, 404, 405];
    for ((method, path, body), want) in ROUTES.into_iter().zip(expected) {
        let answer = app
            .admin_raw(method, path, Some(&authorization), body)
            .await;
        assert_eq!(answer.status, want, "{method} {path}: {}", answer.text);
    }
    let corps = app.admin_expect("GET", "/corps", None, 200).await;
    assert_eq!(corps["corps"].as_array().unwrap().len(), 2, "{corps}");
}

#[tokio::test]
async fn a_server_without_an_admin_key_refuses_every_admin_call() {
    let app = TestApp::spawn_with(|config| config.admin_key = None).await;
    for (method, path, body) in ROUTES {
        for authorization in [
            None,
            Some("Bearer "),
            Some("Bearer"),
            Some("Bearer test-admin-key"),
            Some("Bearer None"),
            Some("Bearer null"),
        ] {
            let answer = app.admin_raw(method, path, authorization, body).await;
            assert_admin_error(answer.status, &answer.json(), 401, "unauthorized", &[]);
        }
        let (status, answer) = app.admin(method, path, None).await;
        assert_admin_error(status, &answer, 401, "unauthorized", &[]);
    }
    // The WeCom API still answers.
    let (status, _) = app.get("/cgi-bin/gettoken?corpid=x&corpsecret=y").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_server_with_an_empty_admin_key_refuses_every_admin_call() {
    let app = TestApp::spawn_with(|config| config.admin_key = Some("".into())).await;
    for authorization in [None, Some("Bearer "), Some("Bearer")] {
        let answer = app.admin_raw("GET", "/corps", authorization, None).await;
        assert_admin_error(answer.status, &answer.json(), 401, "unauthorized", &[]);
    }
}

// ---------------------------------------------------------------------------------------------
// The error shape

#[tokio::test]
async fn a_body_that_is_not_json_is_an_invalid_request() {
    let app = TestApp::spawn().await;
    let authorization = format!("Bearer {ADMIN_KEY}");
    for body in [
        "",
        "{",
        "not json",
        "{\"name\": \"x\",}",
        "{'name': 'x'}",
        "[]",
        "null",
        "\"wwx\"",
        // Trailing garbage after a valid body.
        "{\"corpid\": \"wwtrail\", \"name\": \"x\"} garbage",
        "{\"corpid\": \"wwtrail\", \"name\": \"x\"}{\"name\": \"y\"}",
        "{\"corpid\": \"wwtrail\", \"name\": \"x\"}}",
    ] {
        let answer = app
            .admin_raw("POST", "/corps", Some(&authorization), Some(body))
            .await;
        assert_eq!(answer.status, 400, "{body:?}: {}", answer.text);
        assert_admin_error(answer.status, &answer.json(), 400, "invalid_request", &[]);
    }
    // A trailing-garbage message says what was wrong.
    let answer = app
        .admin_raw(
            "POST",
            "/corps",
            Some(&authorization),
            Some("{\"name\": \"x\"} garbage"),
        )
        .await;
    assert_admin_error(
        answer.status,
        &answer.json(),
        400,
        "invalid_request",
        &["trailing"],
    );
    // Whitespace after the body is fine.
    let answer = app
        .admin_raw(
            "POST",
            "/corps",
            Some(&authorization),
            Some("{\"corpid\": \"wwspace\", \"name\": \"x\"}\n \t"),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let corps = app.admin_expect("GET", "/corps", None, 200).await;
    assert_eq!(corps["corps"].as_array().unwrap().len(), 1, "{corps}");
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_named() {
    let app = TestApp::spawn().await;
    app.new_corp("wwtype").await;
    app.new_users("wwtype", &["u1"]).await;
    let cases = [
        ("POST", "/corps", json!({"name": 5}), "name"),
        (
            "POST",
            "/corps",
            json!({"name": "x", "created_at": "yesterday"}),
            "created_at",
        ),
        (
            "POST",
            "/corps",
            json!({"name": "x", "corpid": 7}),
            "corpid",
        ),
        (
            "POST",
            "/corps/wwtype/apps",
            json!({"name": "x", "agentid": "1000002"}),
            "agentid",
        ),
        (
            "POST",
            "/corps/wwtype/apps",
            json!({"name": "x", "patrol_enabled": "yes"}),
            "patrol_enabled",
        ),
        (
            "POST",
            "/corps/wwtype/apps",
            json!({"name": "x", "kind": 1}),
            "kind",
        ),
        (
            "POST",
            "/corps/wwtype/users",
            json!({"userid": ["u2"], "name": "x"}),
            "userid",
        ),
        (
            "POST",
            "/corps/wwtype/grids",
            json!({"name": "g", "admins": "u1"}),
            "admins",
        ),
        (
            "POST",
            "/corps/wwtype/grids",
            json!({"name": "g", "admins": ["u1"], "members": [1]}),
            "members",
        ),
        (
            "POST",
            "/corps/wwtype/grids",
            json!({"name": "g", "admins": ["u1"], "parent_id": 3}),
            "parent_id",
        ),
        (
            "PATCH",
            "/corps/wwtype/users/u1",
            json!({"name": null}),
            "name",
        ),
        (
            "POST",
            "/corps/wwtype/categories",
            json!({"name": {"zh": "x"}}),
            "name",
        ),
    ];
    for (method, path, body, field) in cases {
        let (status, answer) = app.admin(method, path, Some(body.clone())).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &[field]);
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("invalid type"),
            "{method} {path} {body}: {answer}"
        );
    }
    // Nothing was created.
    assert_eq!(
        app.admin_expect("GET", "/corps", None, 200).await["corps"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(app.admin_list("wwtype", "apps").await, json!({"apps": []}));
    assert_eq!(
        app.admin_list("wwtype", "grids").await,
        json!({"grids": []})
    );
}

#[tokio::test]
async fn an_unknown_field_is_named() {
    let app = TestApp::spawn().await;
    app.new_corp("wwfield").await;
    app.new_users("wwfield", &["u1"]).await;
    app.new_grid(
        "wwfield",
        json!({"grid_id": "g1", "name": "一号", "admins": ["u1"]}),
    )
    .await;
    let cases = [
        (
            "POST",
            "/corps",
            json!({"name": "x", "corp_name": "y"}),
            "corp_name",
        ),
        (
            "POST",
            "/corps/wwfield/apps",
            json!({"name": "x", "secret": "mine"}),
            "secret",
        ),
        (
            "PATCH",
            "/corps/wwfield/apps/1000002",
            json!({"agentid": 1000003}),
            "agentid",
        ),
        (
            "POST",
            "/corps/wwfield/users",
            json!({"userid": "u2", "name": "x", "mobile": "1"}),
            "mobile",
        ),
        (
            "PATCH",
            "/corps/wwfield/users/u1",
            json!({"nmae": "x"}),
            "nmae",
        ),
        (
            "POST",
            "/corps/wwfield/grids",
            json!({"name": "g", "admins": ["u1"], "grid_admin": ["u1"]}),
            "grid_admin",
        ),
        (
            "PATCH",
            "/corps/wwfield/grids/g1",
            json!({"parentid": null}),
            "parentid",
        ),
        (
            "POST",
            "/corps/wwfield/categories",
            json!({"name": "c", "level": 1}),
            "level",
        ),
        (
            "PATCH",
            "/corps/wwfield/categories/c1",
            json!({"name": "c", "parent_id": null}),
            "parent_id",
        ),
    ];
    for (method, path, body, field) in cases {
        let (status, answer) = app.admin(method, path, Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &[field, "unknown"]);
    }
}

#[tokio::test]
async fn a_missing_required_field_is_named() {
    let app = TestApp::spawn().await;
    app.new_corp("wwmiss").await;
    app.new_users("wwmiss", &["u1"]).await;
    app.new_grid(
        "wwmiss",
        json!({"grid_id": "g1", "name": "一号", "admins": ["u1"]}),
    )
    .await;
    let cases = [
        ("POST", "/corps", json!({}), "name"),
        ("POST", "/corps", json!({"corpid": "wwx"}), "name"),
        (
            "POST",
            "/corps/wwmiss/apps",
            json!({"kind": "custom"}),
            "name",
        ),
        (
            "POST",
            "/corps/wwmiss/users",
            json!({"name": "x"}),
            "userid",
        ),
        (
            "POST",
            "/corps/wwmiss/users",
            json!({"userid": "u2"}),
            "name",
        ),
        ("PATCH", "/corps/wwmiss/users/u1", json!({}), "name"),
        (
            "POST",
            "/corps/wwmiss/grids",
            json!({"name": "g"}),
            "admins",
        ),
        (
            "POST",
            "/corps/wwmiss/grids",
            json!({"admins": ["u1"]}),
            "name",
        ),
        ("POST", "/corps/wwmiss/categories", json!({}), "name"),
        ("PATCH", "/corps/wwmiss/categories/c1", json!({}), "name"),
    ];
    for (method, path, body, field) in cases {
        let (status, answer) = app.admin(method, path, Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &[field, "missing"]);
    }
    assert_eq!(
        app.admin_list("wwmiss", "users").await["users"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(grid_ids(&app.admin_list("wwmiss", "grids").await), ["g1"]);
}

#[tokio::test]
async fn not_found_method_not_allowed_and_conflict_have_the_error_shape() {
    let app = TestApp::spawn().await;
    app.new_corp("wwshape").await;
    // 404: unknown routes and unknown things.
    for path in [
        "",
        "/nothing",
        "/corps/wwshape/nothing",
        "/corps/wwshape/grids/g1/members",
    ] {
        let (status, answer) = app.admin("GET", path, None).await;
        assert_admin_error(status, &answer, 404, "not_found", &[]);
    }
    for (method, path, name) in [
        ("GET", "/corps/wwnobody", "wwnobody"),
        ("GET", "/corps/wwnobody/users", "wwnobody"),
        ("GET", "/corps/wwnobody/grids/g1", "wwnobody"),
        ("GET", "/corps/wwshape/grids/g404", "g404"),
        ("DELETE", "/corps/wwshape/users/ghost", "ghost"),
        ("DELETE", "/corps/wwshape/apps/1000404", "1000404"),
        ("DELETE", "/corps/wwshape/categories/c404", "c404"),
        ("GET", "/corps/wwshape/orders/o404", "o404"),
    ] {
        let (status, answer) = app.admin(method, path, None).await;
        assert_admin_error(status, &answer, 404, "not_found", &[name]);
    }
    // 405: the route exists, not with this method.
    for (method, path) in [
        ("DELETE", "/corps"),
        ("PUT", "/corps"),
        ("PUT", "/corps/wwshape"),
        ("POST", "/corps/wwshape"),
        ("DELETE", "/corps/wwshape/orders"),
        ("GET", "/corps/wwshape/apps/1000002"),
        ("GET", "/corps/wwshape/apps/1000002/secret"),
        ("DELETE", "/corps/wwshape/apps/1000002/secret"),
        ("GET", "/corps/wwshape/users/u1"),
        ("PUT", "/corps/wwshape/users/u1"),
        ("PUT", "/corps/wwshape/grids/g1"),
        ("GET", "/corps/wwshape/categories/c1"),
        ("DELETE", "/corps/wwshape/grids"),
    ] {
        let (status, answer) = app.admin(method, path, None).await;
        assert_admin_error(status, &answer, 405, "method_not_allowed", &[]);
    }
    // 409: the thing exists already.
    let body = json!({"corpid": "wwshape", "name": "again"});
    let (status, answer) = app.admin("POST", "/corps", Some(body)).await;
    assert_admin_error(status, &answer, 409, "conflict", &["wwshape"]);
    // 400: a value that breaks a limit.
    let body = json!({"corpid": "ww shape", "name": "x"});
    let (status, answer) = app.admin("POST", "/corps", Some(body)).await;
    assert_admin_error(status, &answer, 400, "invalid_request", &["corpid"]);
}

#[tokio::test]
async fn a_path_that_is_not_utf8_has_the_error_shape() {
    let app = TestApp::spawn().await;
    app.new_corp("wwpath").await;
    let authorization = format!("Bearer {ADMIN_KEY}");
    for (method, path, name) in [
        ("GET", "/corps/%FF", "corpid"),
        ("GET", "/corps/%FF/users", "corpid"),
        ("PATCH", "/corps/wwpath/users/%FF%FE", "userid"),
        ("DELETE", "/corps/wwpath/grids/%C3", "grid_id"),
        ("GET", "/corps/wwpath/orders/%80", "order_id"),
    ] {
        let body = Some("{\"name\": \"x\"}").filter(|_| method == "PATCH");
        let answer = app
            .admin_raw(method, path, Some(&authorization), body)
            .await;
        let json = serde_json::from_str(&answer.text)
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {:?}", answer.text));
        assert_admin_error(answer.status, &json, 400, "invalid_request", &[name]);
    }
}

// ---------------------------------------------------------------------------------------------
// Corps

#[tokio::test]
async fn corps_are_created_listed_and_shown() {
    let app = TestApp::spawn().await;
    let body = json!({"corpid": "wwacme", "name": "Acme 城管", "created_at": 1_690_000_000});
    let acme = app.admin_expect("POST", "/corps", Some(body), 201).await;
    assert_eq!(
        acme,
        json!({"corpid": "wwacme", "name": "Acme 城管", "created_at": 1_690_000_000})
    );

    let before = app.now();
    let generated = app
        .admin_expect("POST", "/corps", Some(json!({"name": "自动"})), 201)
        .await;
    let after = app.now();
    let corpid = generated["corpid"].as_str().unwrap().to_owned();
    assert_eq!(corpid.len(), 18, "{generated}");
    assert!(corpid.starts_with("ww"), "{generated}");
    assert!(
        corpid[2..]
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "{generated}"
    );
    let created_at = generated["created_at"].as_i64().unwrap();
    assert!((before..=after).contains(&created_at), "{generated}");
    assert_eq!(generated["name"], "自动");
    assert_eq!(generated.as_object().unwrap().len(), 3, "{generated}");

    let long_id = format!("ww{}", "a".repeat(62));
    // The earliest creation time: 2000-01-01 00:00 UTC.
    let body = json!({"corpid": long_id, "name": "长", "created_at": 946_684_800});
    app.admin_expect("POST", "/corps", Some(body), 201).await;
    let body = json!({"corpid": "A-b_9", "name": "符号"});
    app.admin_expect("POST", "/corps", Some(body), 201).await;

    let list = app.admin_expect("GET", "/corps", None, 200).await;
    let corpids: Vec<&str> = list["corps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["corpid"].as_str().unwrap())
        .collect();
    assert_eq!(
        corpids,
        ["wwacme", corpid.as_str(), long_id.as_str(), "A-b_9"]
    );
    assert_eq!(list["corps"][0], acme);
    assert_eq!(list["corps"][1], generated);
    assert_eq!(list.as_object().unwrap().len(), 1, "{list}");

    assert_eq!(
        app.admin_expect("GET", "/corps/wwacme", None, 200).await,
        acme
    );
    assert_eq!(
        app.admin_expect("GET", &format!("/corps/{corpid}"), None, 200)
            .await,
        generated
    );
}

#[tokio::test]
async fn a_duplicate_or_invalid_corpid_is_refused_and_an_unknown_one_is_not_found() {
    let app = TestApp::spawn().await;
    app.new_corp("wwacme").await;
    let body = json!({"corpid": "wwacme", "name": "另一个"});
    let (status, answer) = app.admin("POST", "/corps", Some(body)).await;
    assert_admin_error(status, &answer, 409, "conflict", &["wwacme"]);
    // The first corp is unchanged.
    let acme = app.admin_expect("GET", "/corps/wwacme", None, 200).await;
    assert_eq!(acme["name"], "wwacme 企业");

    for corpid in [
        String::new(),
        "ww acme".into(),
        "ww.acme".into(),
        "ww/acme".into(),
        "企业".into(),
        "ww@acme".into(),
        format!("ww{}", "a".repeat(63)),
    ] {
        let body = json!({"corpid": corpid, "name": "x"});
        let (status, answer) = app.admin("POST", "/corps", Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["corpid"]);
    }
    for name in ["", "   ", &"名".repeat(65)] {
        let body = json!({"corpid": "wwname", "name": name});
        let (status, answer) = app.admin("POST", "/corps", Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["name"]);
    }
    let body = json!({"corpid": "wwneg", "name": "x", "created_at": -1});
    let (status, answer) = app.admin("POST", "/corps", Some(body)).await;
    assert_admin_error(status, &answer, 400, "invalid_request", &["created_at"]);
    let list = app.admin_expect("GET", "/corps", None, 200).await;
    assert_eq!(list["corps"].as_array().unwrap().len(), 1, "{list}");

    let (status, answer) = app.admin("GET", "/corps/wwnobody", None).await;
    assert_admin_error(status, &answer, 404, "not_found", &["wwnobody"]);
    let body = json!({"userid": "u1", "name": "x"});
    let (status, answer) = app.admin("POST", "/corps/wwnobody/users", Some(body)).await;
    assert_admin_error(status, &answer, 404, "not_found", &["wwnobody"]);
}

#[tokio::test]
async fn a_system_app_may_call_the_patrol_api_only_in_a_corp_created_before_the_cutoff() {
    let app = TestApp::spawn().await;
    let cases = [
        ("wwold", Some(SYSTEM_APP_CUTOFF - 1), 0),
        ("wwolder", Some(1_600_000_000), 0),
        ("wwcutoff", Some(SYSTEM_APP_CUTOFF), 48002),
        ("wwnew", Some(MODERN_CORP), 48002),
        ("wwnow", None, 48002),
    ];
    for (corpid, created_at, want) in cases {
        let mut body = json!({"corpid": corpid, "name": corpid});
        if let Some(created_at) = created_at {
            body["created_at"] = created_at.into();
        }
        app.admin_expect("POST", "/corps", Some(body), 201).await;
        // The patrol flag does not apply to system apps.
        let system = app
            .new_app(
                corpid,
                json!({"name": "巡查上报", "kind": "system", "patrol_enabled": false}),
            )
            .await;
        assert_eq!(system["kind"], "system");
        let token = app.token_for(corpid, &secret_of(&system)).await;
        assert_eq!(order_list_errcode(&app, &token).await, want, "{corpid}");
    }
}

// ---------------------------------------------------------------------------------------------
// Apps

#[tokio::test]
async fn an_apps_secret_is_shown_once_and_gets_a_token() {
    let app = TestApp::spawn().await;
    app.new_corp("wwapps").await;
    let created = app.new_app("wwapps", json!({"name": "巡查数据对接"})).await;
    let secret = secret_of(&created);
    assert_eq!(secret.len(), 43, "{created}");
    assert!(
        secret
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "{created}"
    );
    assert_eq!(
        created,
        json!({"agentid": 1_000_002, "name": "巡查数据对接", "kind": "custom",
               "patrol_enabled": false, "resident_enabled": false, "contact_enabled": false,
               "enabled": true, "secret": secret})
    );
    let second = app
        .new_app(
            "wwapps",
            json!({"name": "第二", "patrol_enabled": true, "kind": "custom"}),
        )
        .await;
    assert_eq!(second["agentid"], 1_000_003);
    assert_eq!(second["patrol_enabled"], true);
    assert_ne!(secret_of(&second), secret);
    let disabled = app
        .new_app("wwapps", json!({"name": "停用", "enabled": false}))
        .await;
    assert_eq!(disabled["agentid"], 1_000_004);
    assert_eq!(disabled["enabled"], false);

    // The list and updates never show a secret.
    let list = app.admin_list("wwapps", "apps").await;
    let apps = list["apps"].as_array().unwrap();
    assert_eq!(apps.len(), 3);
    for item in apps {
        assert!(item.get("secret").is_none(), "{item}");
        assert_eq!(item.as_object().unwrap().len(), 7, "{item}");
    }
    let mut expected = created.clone();
    expected.as_object_mut().unwrap().remove("secret");
    assert_eq!(apps[0], expected);
    let updated = app
        .admin_expect(
            "PATCH",
            "/corps/wwapps/apps/1000002",
            Some(json!({"name": "改名"})),
            200,
        )
        .await;
    assert!(updated.get("secret").is_none(), "{updated}");
    assert_eq!(updated["name"], "改名");
    assert_eq!(updated["kind"], "custom");
    let unchanged = app
        .admin_expect("PATCH", "/corps/wwapps/apps/1000002", Some(json!({})), 200)
        .await;
    assert!(unchanged.get("secret").is_none(), "{unchanged}");
    assert_eq!(unchanged, updated);

    // The secret works with gettoken.
    let (status, text) = app
        .get(&format!(
            "/cgi-bin/gettoken?corpid=wwapps&corpsecret={secret}"
        ))
        .await;
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(errcode(&answer), 0, "{answer}");
    assert!(
        answer["access_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(
        gettoken_errcode(&app, "wwapps", &secret_of(&second)).await,
        0
    );
    // A disabled app gets no token.
    assert_eq!(
        gettoken_errcode(&app, "wwapps", &secret_of(&disabled)).await,
        40001
    );
}

#[tokio::test]
async fn an_explicit_agentid_is_kept_and_a_duplicate_one_is_a_conflict() {
    let app = TestApp::spawn().await;
    app.new_corp("wwagent").await;
    app.new_corp("wwother").await;
    let explicit = app
        .new_app("wwagent", json!({"agentid": 1_000_050, "name": "指定"}))
        .await;
    assert_eq!(explicit["agentid"], 1_000_050);
    let body = json!({"agentid": 1_000_050, "name": "重复"});
    let (status, answer) = app.admin("POST", "/corps/wwagent/apps", Some(body)).await;
    assert_admin_error(status, &answer, 409, "conflict", &["1000050"]);
    // The next default is free.
    let next = app.new_app("wwagent", json!({"name": "下一个"})).await;
    let next_id = next["agentid"].as_i64().unwrap();
    assert!(next_id >= 1_000_002 && next_id != 1_000_050, "{next}");
    // agentids are per corp.
    let other = app
        .new_app("wwother", json!({"agentid": 1_000_050, "name": "别的企业"}))
        .await;
    assert_eq!(other["agentid"], 1_000_050);
    let default_other = app.new_app("wwother", json!({"name": "默认"})).await;
    assert_ne!(default_other["agentid"], 1_000_050);

    for agentid in [0, -1] {
        let body = json!({"agentid": agentid, "name": "x"});
        let (status, answer) = app.admin("POST", "/corps/wwagent/apps", Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["agentid"]);
    }
    let list = app.admin_list("wwagent", "apps").await;
    let apps = list["apps"].as_array().unwrap();
    assert_eq!(apps.len(), 2, "{list}");
    let kept = apps.iter().find(|a| a["agentid"] == 1_000_050).unwrap();
    assert_eq!(kept["name"], "指定", "{list}");
}

#[tokio::test]
async fn an_apps_kind_and_name_are_validated() {
    let app = TestApp::spawn().await;
    app.new_corp("wwkind").await;
    for (i, kind) in ["custom", "system", "third_party", "provider"]
        .into_iter()
        .enumerate()
    {
        let created = app
            .new_app("wwkind", json!({"name": kind, "kind": kind}))
            .await;
        assert_eq!(created["kind"], kind);
        assert_eq!(created["agentid"], 1_000_002 + i as i64);
    }
    for kind in ["", "Custom", "SYSTEM", "thirdparty", "third-party", "bogus"] {
        let body = json!({"name": "x", "kind": kind});
        let (status, answer) = app.admin("POST", "/corps/wwkind/apps", Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["kind", kind]);
        let body = json!({"kind": kind});
        let (status, answer) = app
            .admin("PATCH", "/corps/wwkind/apps/1000002", Some(body))
            .await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["kind"]);
    }
    for name in ["", "  "] {
        let body = json!({"name": name});
        let (status, answer) = app
            .admin("POST", "/corps/wwkind/apps", Some(body.clone()))
            .await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["name"]);
        let (status, answer) = app
            .admin("PATCH", "/corps/wwkind/apps/1000002", Some(body))
            .await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["name"]);
    }
    // A failed update changed nothing.
    let list = app.admin_list("wwkind", "apps").await;
    assert_eq!(list["apps"].as_array().unwrap().len(), 4, "{list}");
    assert_eq!(
        list["apps"][0],
        json!({"agentid": 1_000_002, "name": "custom", "kind": "custom",
               "patrol_enabled": false, "resident_enabled": false, "contact_enabled": false,
               "enabled": true})
    );
    // An agentid in the path that is not a positive integer, or no app's.
    for agentid in ["abc", "0", "-5", "1.5"] {
        let (status, answer) = app
            .admin(
                "PATCH",
                &format!("/corps/wwkind/apps/{agentid}"),
                Some(json!({"name": "x"})),
            )
            .await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["agentid"]);
    }
    let (status, answer) = app
        .admin(
            "PATCH",
            "/corps/wwkind/apps/1000999",
            Some(json!({"name": "x"})),
        )
        .await;
    assert_admin_error(status, &answer, 404, "not_found", &["1000999"]);
    let (status, answer) = app
        .admin("POST", "/corps/wwkind/apps/1000999/secret", None)
        .await;
    assert_admin_error(status, &answer, 404, "not_found", &["1000999"]);
}

#[tokio::test]
async fn patrol_enabled_and_kind_decide_the_patrol_permission_at_once() {
    let app = TestApp::spawn().await;
    app.new_corp("wwperm").await;
    let created = app
        .new_app("wwperm", json!({"name": "对接", "patrol_enabled": true}))
        .await;
    let token = app.token_for("wwperm", &secret_of(&created)).await;
    assert_eq!(order_list_errcode(&app, &token).await, 0);

    let path = "/corps/wwperm/apps/1000002";
    let off = app
        .admin_expect("PATCH", path, Some(json!({"patrol_enabled": false})), 200)
        .await;
    assert_eq!(off["patrol_enabled"], false);
    assert_eq!(order_list_errcode(&app, &token).await, 48002);
    let on = app
        .admin_expect("PATCH", path, Some(json!({"patrol_enabled": true})), 200)
        .await;
    assert_eq!(on["patrol_enabled"], true);
    assert_eq!(order_list_errcode(&app, &token).await, 0);

    // Kinds other than custom: a third-party or provider app is refused even when enabled;
    // a system app of a corp created after the cutoff too.
    for (kind, want) in [
        ("third_party", 48002),
        ("provider", 48002),
        ("system", 48002),
        ("custom", 0),
    ] {
        let answer = app
            .admin_expect("PATCH", path, Some(json!({"kind": kind})), 200)
            .await;
        assert_eq!(answer["kind"], kind);
        assert_eq!(answer["patrol_enabled"], true);
        assert_eq!(order_list_errcode(&app, &token).await, want, "{kind}");
    }
}

#[tokio::test]
async fn patching_the_kind_to_system_in_an_old_corp_ignores_the_patrol_flag() {
    let app = TestApp::spawn().await;
    let body =
        json!({"corpid": "wwold", "name": "老企业", "created_at": SYSTEM_APP_CUTOFF - 86_400});
    app.admin_expect("POST", "/corps", Some(body), 201).await;
    let created = app.new_app("wwold", json!({"name": "应用"})).await;
    let token = app.token_for("wwold", &secret_of(&created)).await;
    assert_eq!(order_list_errcode(&app, &token).await, 48002);
    let path = "/corps/wwold/apps/1000002";
    app.admin_expect("PATCH", path, Some(json!({"kind": "system"})), 200)
        .await;
    assert_eq!(order_list_errcode(&app, &token).await, 0);
    app.admin_expect("PATCH", path, Some(json!({"kind": "provider"})), 200)
        .await;
    assert_eq!(order_list_errcode(&app, &token).await, 48002);
    app.admin_expect("PATCH", path, Some(json!({"kind": "custom"})), 200)
        .await;
    assert_eq!(order_list_errcode(&app, &token).await, 48002);
}

#[tokio::test]
async fn a_disabled_app_gets_no_token_and_its_token_stops_working() {
    let app = TestApp::spawn().await;
    app.new_corp("wwoff").await;
    let created = app
        .new_app("wwoff", json!({"name": "对接", "patrol_enabled": true}))
        .await;
    let secret = secret_of(&created);
    let token = app.token_for("wwoff", &secret).await;
    assert_eq!(order_list_errcode(&app, &token).await, 0);

    let path = "/corps/wwoff/apps/1000002";
    let off = app
        .admin_expect("PATCH", path, Some(json!({"enabled": false})), 200)
        .await;
    assert_eq!(off["enabled"], false);
    assert_eq!(off["patrol_enabled"], true);
    assert_eq!(gettoken_errcode(&app, "wwoff", &secret).await, 40001);
    assert_eq!(order_list_errcode(&app, &token).await, 40014);
    let info = app
        .patrol("get_order_info", &token, r#"{"order_id": "o1"}"#)
        .await;
    assert_eq!(errcode(&info), 40014, "{info}");

    let on = app
        .admin_expect("PATCH", path, Some(json!({"enabled": true})), 200)
        .await;
    assert_eq!(on["enabled"], true);
    let token = app.token_for("wwoff", &secret).await;
    assert_eq!(order_list_errcode(&app, &token).await, 0);
}

#[tokio::test]
async fn rotating_a_secret_revokes_the_old_secret_and_its_tokens() {
    let app = TestApp::spawn().await;
    app.new_corp("wwrot").await;
    let created = app
        .new_app("wwrot", json!({"name": "对接", "patrol_enabled": true}))
        .await;
    let other = app
        .new_app("wwrot", json!({"name": "其他", "patrol_enabled": true}))
        .await;
    let old_secret = secret_of(&created);
    let old_token = app.token_for("wwrot", &old_secret).await;
    let other_token = app.token_for("wwrot", &secret_of(&other)).await;

    let rotated = app
        .admin_expect("POST", "/corps/wwrot/apps/1000002/secret", None, 200)
        .await;
    let new_secret = secret_of(&rotated);
    assert_ne!(new_secret, old_secret);
    assert_eq!(new_secret.len(), 43);
    let mut expected = created.clone();
    expected["secret"] = new_secret.clone().into();
    assert_eq!(rotated, expected);

    assert_eq!(gettoken_errcode(&app, "wwrot", &old_secret).await, 40001);
    assert_eq!(order_list_errcode(&app, &old_token).await, 40014);
    let new_token = app.token_for("wwrot", &new_secret).await;
    assert_ne!(new_token, old_token);
    assert_eq!(order_list_errcode(&app, &new_token).await, 0);
    // The other app of the corp is untouched.
    assert_eq!(order_list_errcode(&app, &other_token).await, 0);
    // The list shows no secret.
    let list = app.admin_list("wwrot", "apps").await;
    assert!(list["apps"][0].get("secret").is_none(), "{list}");
}

#[tokio::test]
async fn deleting_an_app_revokes_its_tokens() {
    let app = TestApp::spawn().await;
    app.new_corp("wwdel").await;
    let created = app
        .new_app("wwdel", json!({"name": "对接", "patrol_enabled": true}))
        .await;
    let kept = app
        .new_app("wwdel", json!({"name": "保留", "patrol_enabled": true}))
        .await;
    let secret = secret_of(&created);
    let token = app.token_for("wwdel", &secret).await;
    let kept_token = app.token_for("wwdel", &secret_of(&kept)).await;

    let answer = app
        .admin_raw(
            "DELETE",
            "/corps/wwdel/apps/1000002",
            Some(&format!("Bearer {ADMIN_KEY}")),
            None,
        )
        .await;
    assert_eq!(answer.status, 204, "{}", answer.text);
    assert_eq!(answer.text, "");
    assert_eq!(order_list_errcode(&app, &token).await, 40014);
    assert_eq!(gettoken_errcode(&app, "wwdel", &secret).await, 40001);
    assert_eq!(order_list_errcode(&app, &kept_token).await, 0);

    let (status, answer) = app.admin("DELETE", "/corps/wwdel/apps/1000002", None).await;
    assert_admin_error(status, &answer, 404, "not_found", &["1000002"]);
    let list = app.admin_list("wwdel", "apps").await;
    assert_eq!(list["apps"].as_array().unwrap().len(), 1);
    assert_eq!(list["apps"][0]["agentid"], 1_000_003);
}

/// Whether `needle` occurs in `haystack`.
fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test]
async fn no_secret_and_no_token_is_stored_in_the_database() {
    let app = TestApp::spawn().await;
    app.new_corp("wwsecret").await;
    let marker = "marker-app-name-9f3c1d";
    let first = app
        .new_app("wwsecret", json!({"name": marker, "patrol_enabled": true}))
        .await;
    let second = app.new_app("wwsecret", json!({"name": "第二个应用"})).await;
    let first_secret = secret_of(&first);
    let token = app.token_for("wwsecret", &first_secret).await;
    let rotated = app
        .admin_expect("POST", "/corps/wwsecret/apps/1000003/secret", None, 200)
        .await;
    let secrets = [first_secret, secret_of(&second), secret_of(&rotated)];
    app.token_for("wwsecret", &secrets[2]).await;

    let all = app.stored_bytes().await;
    // What is read is what the server writes: the app's name is there; the live token is not
    // (only its keyed hash), though gettoken hands the same token out again.
    assert!(
        contains_bytes(&all, marker.as_bytes()),
        "the app's name is stored"
    );
    assert!(
        !contains_bytes(&all, token.as_bytes()),
        "the token {token} is in the database file"
    );
    assert_eq!(app.token_for("wwsecret", &secrets[0]).await, token);
    for secret in &secrets {
        assert!(
            !contains_bytes(&all, secret.as_bytes()),
            "the secret {secret} is in the database file"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Users

#[tokio::test]
async fn users_are_created_listed_renamed_and_deleted() {
    let app = TestApp::spawn().await;
    app.new_corp("wwusers").await;
    let created = app
        .admin_expect(
            "POST",
            "/corps/wwusers/users",
            Some(json!({"userid": "zhangsan", "name": "张三"})),
            201,
        )
        .await;
    assert_eq!(created, json!({"userid": "zhangsan", "name": "张三"}));
    app.new_users("wwusers", &["alpha", "Z.w-u_x@corp", "mid"])
        .await;
    let list = app.admin_list("wwusers", "users").await;
    let userids: Vec<&str> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userid"].as_str().unwrap())
        .collect();
    assert_eq!(userids, ["zhangsan", "alpha", "Z.w-u_x@corp", "mid"]);
    assert_eq!(list["users"][0], created);

    let renamed = app
        .admin_expect(
            "PATCH",
            "/corps/wwusers/users/zhangsan",
            Some(json!({"name": "张三丰"})),
            200,
        )
        .await;
    assert_eq!(renamed, json!({"userid": "zhangsan", "name": "张三丰"}));
    assert_eq!(
        app.admin_list("wwusers", "users").await["users"][0],
        renamed
    );

    let answer = app
        .admin_raw(
            "DELETE",
            "/corps/wwusers/users/alpha",
            Some(&format!("Bearer {ADMIN_KEY}")),
            None,
        )
        .await;
    assert_eq!(answer.status, 204, "{}", answer.text);
    assert_eq!(answer.text, "");
    let list = app.admin_list("wwusers", "users").await;
    let userids: Vec<&str> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userid"].as_str().unwrap())
        .collect();
    assert_eq!(userids, ["zhangsan", "Z.w-u_x@corp", "mid"]);

    let (status, answer) = app
        .admin("DELETE", "/corps/wwusers/users/alpha", None)
        .await;
    assert_admin_error(status, &answer, 404, "not_found", &["alpha"]);
    let body = json!({"name": "x"});
    let (status, answer) = app
        .admin("PATCH", "/corps/wwusers/users/alpha", Some(body))
        .await;
    assert_admin_error(status, &answer, 404, "not_found", &["alpha"]);
    // A deleted userid can be created again.
    app.new_users("wwusers", &["alpha"]).await;
}

#[tokio::test]
async fn an_invalid_or_duplicate_userid_is_refused() {
    let app = TestApp::spawn().await;
    app.new_corp("wwuid").await;
    app.new_users("wwuid", &["zhangsan"]).await;
    let longest = "u".repeat(64);
    let body = json!({"userid": longest, "name": "最长"});
    app.admin_expect("POST", "/corps/wwuid/users", Some(body), 201)
        .await;
    for userid in [
        String::new(),
        "zhang san".into(),
        "张三".into(),
        "a/b".into(),
        "a+b".into(),
        "a#b".into(),
        "u".repeat(65),
    ] {
        let body = json!({"userid": userid, "name": "x"});
        let (status, answer) = app.admin("POST", "/corps/wwuid/users", Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["userid"]);
    }
    let body = json!({"userid": "zhangsan", "name": "另一个张三"});
    let (status, answer) = app.admin("POST", "/corps/wwuid/users", Some(body)).await;
    assert_admin_error(status, &answer, 409, "conflict", &["zhangsan"]);
    for name in ["", " "] {
        let body = json!({"userid": "lisi", "name": name});
        let (status, answer) = app.admin("POST", "/corps/wwuid/users", Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["name"]);
        let body = json!({"name": name});
        let (status, answer) = app
            .admin("PATCH", "/corps/wwuid/users/zhangsan", Some(body))
            .await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["name"]);
    }
    let list = app.admin_list("wwuid", "users").await;
    assert_eq!(list["users"].as_array().unwrap().len(), 2, "{list}");
    assert_eq!(
        list["users"][0],
        json!({"userid": "zhangsan", "name": "zhangsan 姓名"})
    );
}

#[tokio::test]
async fn a_user_in_a_grid_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    app.new_corp("wwbusy").await;
    app.new_users("wwbusy", &["boss", "worker", "free"]).await;
    app.new_grid(
        "wwbusy",
        json!({"grid_id": "ga", "name": "甲", "admins": ["boss"]}),
    )
    .await;
    app.new_grid(
        "wwbusy",
        json!({"grid_id": "gb", "name": "乙", "admins": ["free"], "members": ["worker"]}),
    )
    .await;
    let (status, answer) = app.admin("DELETE", "/corps/wwbusy/users/boss", None).await;
    assert_admin_error(status, &answer, 409, "conflict", &["boss", "ga"]);
    let (status, answer) = app
        .admin("DELETE", "/corps/wwbusy/users/worker", None)
        .await;
    assert_admin_error(status, &answer, 409, "conflict", &["worker", "gb"]);
    assert_eq!(
        app.admin_list("wwbusy", "users").await["users"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Out of the grids, they can go.
    app.admin_expect(
        "PATCH",
        "/corps/wwbusy/grids/gb",
        Some(json!({"members": []})),
        200,
    )
    .await;
    app.admin_expect("DELETE", "/corps/wwbusy/users/worker", None, 204)
        .await;
    app.admin_expect(
        "PATCH",
        "/corps/wwbusy/grids/ga",
        Some(json!({"admins": ["free"]})),
        200,
    )
    .await;
    app.admin_expect("DELETE", "/corps/wwbusy/users/boss", None, 204)
        .await;
    let (status, answer) = app.admin("DELETE", "/corps/wwbusy/users/free", None).await;
    assert_admin_error(status, &answer, 409, "conflict", &["free"]);
}

// ---------------------------------------------------------------------------------------------
// Grids

#[tokio::test]
async fn a_grid_keeps_its_admins_and_members_in_order_without_duplicates() {
    let app = TestApp::spawn().await;
    app.new_corp("wwgrid").await;
    app.new_users("wwgrid", &["u1", "u2", "u3", "u4"]).await;
    let created = app
        .new_grid(
            "wwgrid",
            json!({"grid_id": "g1", "name": "一号网格", "admins": ["u2", "u1", "u2"],
               "members": ["u3", "u1", "u3", "u4", "u1"]}),
        )
        .await;
    let expected = json!({"grid_id": "g1", "name": "一号网格", "parent_id": null,
                          "admins": ["u2", "u1"], "members": ["u3", "u1", "u4"]});
    assert_eq!(created, expected);
    assert_eq!(
        app.admin_expect("GET", "/corps/wwgrid/grids/g1", None, 200)
            .await,
        expected
    );

    // Without members and grid_id: an empty member list and a generated id.
    let child = app
        .new_grid(
            "wwgrid",
            json!({"name": "子网格", "parent_id": "g1", "admins": ["u4"]}),
        )
        .await;
    let child_id = child["grid_id"].as_str().unwrap().to_owned();
    assert!(
        !child_id.is_empty() && child_id.chars().all(|c| c.is_ascii_alphanumeric()),
        "{child}"
    );
    assert_eq!(child["parent_id"], "g1");
    assert_eq!(child["members"], json!([]));
    assert_eq!(child["admins"], json!(["u4"]));
    assert_eq!(
        app.admin_expect("GET", &format!("/corps/wwgrid/grids/{child_id}"), None, 200)
            .await,
        child
    );

    let list = app.admin_list("wwgrid", "grids").await;
    assert_eq!(list, json!({"grids": [expected, child]}));

    // A duplicate grid_id is a conflict; an invalid one is refused.
    let body = json!({"grid_id": "g1", "name": "别的名字", "admins": ["u1"]});
    let (status, answer) = app.admin("POST", "/corps/wwgrid/grids", Some(body)).await;
    assert_admin_error(status, &answer, 409, "conflict", &["g1"]);
    for grid_id in ["", "g 1", "g/1", "网格"] {
        let body = json!({"grid_id": grid_id, "name": "新", "admins": ["u1"]});
        let (status, answer) = app.admin("POST", "/corps/wwgrid/grids", Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["grid_id"]);
    }
    assert_eq!(
        app.admin_list("wwgrid", "grids").await["grids"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn grids_are_listed_parents_before_children() {
    let app = TestApp::spawn().await;
    app.new_corp("wwtree").await;
    app.new_users("wwtree", &["u1"]).await;
    let grid = |id: &str, parent: Option<&str>| json!({"grid_id": id, "name": format!("网格{id}"), "parent_id": parent, "admins": ["u1"]});
    app.new_grid("wwtree", grid("a", None)).await;
    app.new_grid("wwtree", grid("b", None)).await;
    app.new_grid("wwtree", grid("b1", Some("b"))).await;
    app.new_grid("wwtree", grid("a1", Some("a"))).await;
    app.new_grid("wwtree", grid("b1x", Some("b1"))).await;
    app.new_grid("wwtree", grid("a2", Some("a"))).await;
    let list = app.admin_list("wwtree", "grids").await;
    assert_parents_first(list["grids"].as_array().unwrap(), "grid_id");
    assert_eq!(grid_ids(&list), ["a", "a1", "a2", "b", "b1", "b1x"]);

    // An early grid moved under a later one is still listed after it.
    app.admin_expect(
        "PATCH",
        "/corps/wwtree/grids/a",
        Some(json!({"parent_id": "b1x"})),
        200,
    )
    .await;
    let list = app.admin_list("wwtree", "grids").await;
    let grids = list["grids"].as_array().unwrap();
    assert_eq!(grids.len(), 6);
    assert_parents_first(grids, "grid_id");
    assert_eq!(grids[0]["grid_id"], "b", "{list}");
    // The moved subtree came along.
    let a1 = app
        .admin_expect("GET", "/corps/wwtree/grids/a1", None, 200)
        .await;
    assert_eq!(a1["parent_id"], "a");
}

#[tokio::test]
async fn a_grid_is_updated_field_by_field() {
    let app = TestApp::spawn().await;
    app.new_corp("wwupd").await;
    app.new_users("wwupd", &["u1", "u2", "u3", "u4"]).await;
    app.new_grid(
        "wwupd",
        json!({"grid_id": "p", "name": "父", "admins": ["u1"]}),
    )
    .await;
    app.new_grid(
        "wwupd",
        json!({"grid_id": "g", "name": "网格", "admins": ["u1"], "members": ["u2"]}),
    )
    .await;
    let path = "/corps/wwupd/grids/g";

    let renamed = app
        .admin_expect("PATCH", path, Some(json!({"name": "新网格"})), 200)
        .await;
    assert_eq!(
        renamed,
        json!({"grid_id": "g", "name": "新网格", "parent_id": null, "admins": ["u1"], "members": ["u2"]})
    );
    let admins = app
        .admin_expect(
            "PATCH",
            path,
            Some(json!({"admins": ["u3", "u2", "u3"]})),
            200,
        )
        .await;
    assert_eq!(admins["admins"], json!(["u3", "u2"]));
    assert_eq!(admins["members"], json!(["u2"]));
    let members = app
        .admin_expect(
            "PATCH",
            path,
            Some(json!({"members": ["u4", "u1", "u4"]})),
            200,
        )
        .await;
    assert_eq!(members["members"], json!(["u4", "u1"]));
    assert_eq!(members["admins"], json!(["u3", "u2"]));
    let moved = app
        .admin_expect("PATCH", path, Some(json!({"parent_id": "p"})), 200)
        .await;
    assert_eq!(moved["parent_id"], "p");
    assert_eq!(moved["name"], "新网格");
    // An empty body changes nothing; absent parent_id keeps the parent.
    assert_eq!(
        app.admin_expect("PATCH", path, Some(json!({})), 200).await,
        moved
    );
    assert_eq!(
        app.admin_expect("PATCH", path, Some(json!({"name": "新网格"})), 200)
            .await,
        moved
    );
    // `"parent_id": null` makes it a root.
    let root = app
        .admin_expect("PATCH", path, Some(json!({"parent_id": null})), 200)
        .await;
    assert_eq!(root["parent_id"], Value::Null);
    // Everything at once, and an empty member list clears the members.
    let all = app
        .admin_expect(
            "PATCH",
            path,
            Some(json!({"name": "全改", "parent_id": "p", "admins": ["u4"], "members": []})),
            200,
        )
        .await;
    let expected =
        json!({"grid_id": "g", "name": "全改", "parent_id": "p", "admins": ["u4"], "members": []});
    assert_eq!(all, expected);
    assert_eq!(app.admin_expect("GET", path, None, 200).await, expected);
    let list = app.admin_list("wwupd", "grids").await;
    assert_eq!(list["grids"][1], expected, "{list}");
}

#[tokio::test]
async fn a_grid_name_has_1_to_30_characters() {
    let app = TestApp::spawn().await;
    app.new_corp("wwgname").await;
    app.new_users("wwgname", &["u1"]).await;
    let thirty = "网".repeat(30);
    let created = app
        .new_grid(
            "wwgname",
            json!({"grid_id": "g30", "name": thirty, "admins": ["u1"]}),
        )
        .await;
    assert_eq!(created["name"], thirty.as_str());
    app.new_grid(
        "wwgname",
        json!({"grid_id": "ascii", "name": "a".repeat(30), "admins": ["u1"]}),
    )
    .await;
    for name in [
        "网".repeat(31),
        "a".repeat(31),
        format!("{}x", "网".repeat(30)),
        String::new(),
        "   ".into(),
    ] {
        let body = json!({"grid_id": "bad", "name": name, "admins": ["u1"]});
        let (status, answer) = app.admin("POST", "/corps/wwgname/grids", Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["name"]);
        let body = json!({"name": name});
        let (status, answer) = app
            .admin("PATCH", "/corps/wwgname/grids/g30", Some(body))
            .await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["name"]);
    }
    assert_eq!(
        grid_ids(&app.admin_list("wwgname", "grids").await),
        ["g30", "ascii"]
    );
    let g30 = app
        .admin_expect("GET", "/corps/wwgname/grids/g30", None, 200)
        .await;
    assert_eq!(g30["name"], thirty.as_str());
}

#[tokio::test]
async fn a_grid_name_is_unique_among_its_siblings_only() {
    let app = TestApp::spawn().await;
    app.new_corp("wwsib").await;
    app.new_users("wwsib", &["u1"]).await;
    let grid = |id: &str, name: &str, parent: Option<&str>| json!({"grid_id": id, "name": name, "parent_id": parent, "admins": ["u1"]});
    app.new_grid("wwsib", grid("r1", "一号", None)).await;
    app.new_grid("wwsib", grid("r2", "二号", None)).await;
    // The same name among roots.
    let (status, answer) = app
        .admin("POST", "/corps/wwsib/grids", Some(grid("r3", "一号", None)))
        .await;
    assert_admin_error(status, &answer, 409, "conflict", &["一号"]);
    // The same name under another parent is fine, also under each root.
    app.new_grid("wwsib", grid("c1", "一号", Some("r1"))).await;
    app.new_grid("wwsib", grid("c2", "一号", Some("r2"))).await;
    app.new_grid("wwsib", grid("c3", "三号", Some("r2"))).await;
    // The same name under one parent.
    let (status, answer) = app
        .admin(
            "POST",
            "/corps/wwsib/grids",
            Some(grid("c4", "一号", Some("r1"))),
        )
        .await;
    assert_admin_error(status, &answer, 409, "conflict", &["一号"]);
    // A rename to a sibling's name.
    let (status, answer) = app
        .admin(
            "PATCH",
            "/corps/wwsib/grids/r2",
            Some(json!({"name": "一号"})),
        )
        .await;
    assert_admin_error(status, &answer, 409, "conflict", &[]);
    let (status, answer) = app
        .admin(
            "PATCH",
            "/corps/wwsib/grids/c3",
            Some(json!({"name": "一号"})),
        )
        .await;
    assert_admin_error(status, &answer, 409, "conflict", &[]);
    // A move next to a sibling of the same name.
    let (status, answer) = app
        .admin(
            "PATCH",
            "/corps/wwsib/grids/c2",
            Some(json!({"parent_id": "r1"})),
        )
        .await;
    assert_admin_error(status, &answer, 409, "conflict", &[]);
    let (status, answer) = app
        .admin(
            "PATCH",
            "/corps/wwsib/grids/c1",
            Some(json!({"parent_id": null})),
        )
        .await;
    assert_admin_error(status, &answer, 409, "conflict", &[]);
    // Renaming a grid to its own name is fine.
    app.admin_expect(
        "PATCH",
        "/corps/wwsib/grids/r2",
        Some(json!({"name": "二号"})),
        200,
    )
    .await;

    let list = app.admin_list("wwsib", "grids").await;
    assert_eq!(grid_ids(&list), ["r1", "c1", "r2", "c2", "c3"]);
    let names: Vec<&str> = list["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["一号", "一号", "二号", "一号", "三号"]);
    assert_eq!(list["grids"][3]["parent_id"], "r2");
}

#[tokio::test]
async fn a_grid_may_be_renamed_and_moved_at_once_when_the_result_is_unique() {
    let app = TestApp::spawn().await;
    app.new_corp("wwboth").await;
    app.new_users("wwboth", &["u1"]).await;
    let grid = |id: &str, name: &str, parent: Option<&str>| json!({"grid_id": id, "name": name, "parent_id": parent, "admins": ["u1"]});
    app.new_grid("wwboth", grid("a", "甲", None)).await;
    app.new_grid("wwboth", grid("b", "乙", None)).await;
    app.new_grid("wwboth", grid("p", "父", None)).await;
    app.new_grid("wwboth", grid("c", "丙", Some("p"))).await;
    // Named like a root sibling it leaves: fine under its new parent.
    let moved = app
        .admin_expect(
            "PATCH",
            "/corps/wwboth/grids/b",
            Some(json!({"name": "甲", "parent_id": "p"})),
            200,
        )
        .await;
    assert_eq!(moved["name"], "甲");
    assert_eq!(moved["parent_id"], "p");
    // Named like a root it joins, renamed on the way: fine.
    app.new_grid("wwboth", grid("x", "丙", None)).await;
    let moved = app
        .admin_expect(
            "PATCH",
            "/corps/wwboth/grids/c",
            Some(json!({"name": "丁", "parent_id": null})),
            200,
        )
        .await;
    assert_eq!(moved["name"], "丁");
    assert_eq!(moved["parent_id"], Value::Null);
    // Back under p with a name free there.
    app.admin_expect(
        "PATCH",
        "/corps/wwboth/grids/c",
        Some(json!({"name": "乙", "parent_id": "p"})),
        200,
    )
    .await;
    // Renamed and moved into a clash: a conflict, and nothing changes.
    let before = app.admin_list("wwboth", "grids").await;
    let (status, answer) = app
        .admin(
            "PATCH",
            "/corps/wwboth/grids/c",
            Some(json!({"name": "甲", "parent_id": null})),
        )
        .await;
    assert_admin_error(status, &answer, 409, "conflict", &[]);
    assert_eq!(app.admin_list("wwboth", "grids").await, before);
    let c = app
        .admin_expect("GET", "/corps/wwboth/grids/c", None, 200)
        .await;
    assert_eq!(c["name"], "乙");
    assert_eq!(c["parent_id"], "p");
}

/// Creates the chain `d1` > `d2` > … > `d{levels}`, grid `d{level}` managed by user
/// `a{level}` (a user manages at most 10 grids).
async fn chain(app: &TestApp, corpid: &str, levels: usize) {
    app.numbered_users(corpid, "a", levels).await;
    for level in 1..=levels {
        let parent = (level > 1).then(|| format!("d{}", level - 1));
        app.new_grid(
            corpid,
            json!({"grid_id": format!("d{level}"), "name": format!("第{level}级"),
                   "parent_id": parent, "admins": [format!("a{level}")]}),
        )
        .await;
    }
}

#[tokio::test]
async fn grids_are_at_most_10_levels_deep() {
    let app = TestApp::spawn().await;
    app.new_corp("wwdeep").await;
    app.new_users("wwdeep", &["u1"]).await;
    chain(&app, "wwdeep", 10).await;
    let body = json!({"grid_id": "d11", "name": "第11级", "parent_id": "d10", "admins": ["u1"]});
    let (status, answer) = app.admin("POST", "/corps/wwdeep/grids", Some(body)).await;
    assert_admin_error(status, &answer, 400, "invalid_request", &["10", "d10"]);
    // A sibling at level 10 is fine.
    app.new_grid(
        "wwdeep",
        json!({"grid_id": "d10b", "name": "第10级乙", "parent_id": "d9", "admins": ["u1"]}),
    )
    .await;
    let list = app.admin_list("wwdeep", "grids").await;
    assert_eq!(list["grids"].as_array().unwrap().len(), 11);
    assert_parents_first(list["grids"].as_array().unwrap(), "grid_id");
}

#[tokio::test]
async fn a_subtree_cannot_be_moved_deeper_than_10_levels() {
    let app = TestApp::spawn().await;
    app.new_corp("wwmove").await;
    app.new_users("wwmove", &["u1"]).await;
    chain(&app, "wwmove", 10).await;
    app.new_grid(
        "wwmove",
        json!({"grid_id": "x", "name": "甲", "admins": ["u1"]}),
    )
    .await;
    app.new_grid(
        "wwmove",
        json!({"grid_id": "y", "name": "乙", "parent_id": "x", "admins": ["u1"]}),
    )
    .await;
    let x = "/corps/wwmove/grids/x";
    // x and its child fit under d8: levels 9 and 10.
    app.admin_expect("PATCH", x, Some(json!({"parent_id": "d8"})), 200)
        .await;
    app.admin_expect("PATCH", x, Some(json!({"parent_id": null})), 200)
        .await;
    // Under d9, y would be at level 11.
    let before = app.admin_list("wwmove", "grids").await;
    let (status, answer) = app
        .admin("PATCH", x, Some(json!({"parent_id": "d9"})))
        .await;
    assert_admin_error(status, &answer, 400, "invalid_request", &["10", "x", "d9"]);
    let (status, answer) = app
        .admin("PATCH", x, Some(json!({"parent_id": "d10"})))
        .await;
    assert_admin_error(status, &answer, 400, "invalid_request", &["10"]);
    // A leaf fits under d9, not under d10.
    let y = "/corps/wwmove/grids/y";
    let (status, answer) = app
        .admin("PATCH", y, Some(json!({"parent_id": "d10"})))
        .await;
    assert_admin_error(status, &answer, 400, "invalid_request", &["10"]);
    assert_eq!(app.admin_list("wwmove", "grids").await, before);
    app.admin_expect("PATCH", y, Some(json!({"parent_id": "d9"})), 200)
        .await;
    // Moving the upper half of the chain under a subtree of depth 2.
    app.admin_expect("PATCH", y, Some(json!({"parent_id": "x"})), 200)
        .await;
    let (status, answer) = app
        .admin(
            "PATCH",
            "/corps/wwmove/grids/d2",
            Some(json!({"parent_id": "y"})),
        )
        .await;
    // d2..d10 is 9 levels; under y (level 2) it would reach 11.
    assert_admin_error(status, &answer, 400, "invalid_request", &["10"]);
    app.admin_expect(
        "PATCH",
        "/corps/wwmove/grids/d2",
        Some(json!({"parent_id": "x"})),
        200,
    )
    .await;
    let d10 = app
        .admin_expect("GET", "/corps/wwmove/grids/d10", None, 200)
        .await;
    assert_eq!(d10["parent_id"], "d9");
    let list = app.admin_list("wwmove", "grids").await;
    assert_parents_first(list["grids"].as_array().unwrap(), "grid_id");
}

#[tokio::test]
async fn a_grid_cannot_be_moved_under_itself_or_its_descendants() {
    let app = TestApp::spawn().await;
    app.new_corp("wwcycle").await;
    app.new_users("wwcycle", &["u1"]).await;
    chain(&app, "wwcycle", 4).await;
    let before = app.admin_list("wwcycle", "grids").await;
    for (grid, parent) in [
        ("d1", "d1"),
        ("d1", "d2"),
        ("d1", "d4"),
        ("d2", "d3"),
        ("d3", "d3"),
    ] {
        let (status, answer) = app
            .admin(
                "PATCH",
                &format!("/corps/wwcycle/grids/{grid}"),
                Some(json!({"parent_id": parent})),
            )
            .await;
        assert_admin_error(status, &answer, 400, "invalid_request", &[grid, parent]);
    }
    assert_eq!(app.admin_list("wwcycle", "grids").await, before);
    // Moving a descendant up is fine.
    app.admin_expect(
        "PATCH",
        "/corps/wwcycle/grids/d4",
        Some(json!({"parent_id": "d1"})),
        200,
    )
    .await;
}

#[tokio::test]
async fn a_grid_has_1_to_20_admins_and_at_most_100_members() {
    let app = TestApp::spawn().await;
    app.new_corp("wwcount").await;
    let users = app.numbered_users("wwcount", "u", 101).await;
    let grids = "/corps/wwcount/grids";

    let body = json!({"grid_id": "none", "name": "无", "admins": []});
    let (status, answer) = app.admin("POST", grids, Some(body)).await;
    assert_admin_error(status, &answer, 400, "invalid_request", &["admin", "0"]);
    let body = json!({"grid_id": "many", "name": "多", "admins": &users[..21]});
    let (status, answer) = app.admin("POST", grids, Some(body)).await;
    assert_admin_error(status, &answer, 400, "invalid_request", &["admin", "21"]);
    let body =
        json!({"grid_id": "crowd", "name": "满", "admins": ["u1"], "members": &users[..101]});
    let (status, answer) = app.admin("POST", grids, Some(body)).await;
    assert_admin_error(status, &answer, 400, "invalid_request", &["member", "101"]);
    assert_eq!(
        app.admin_list("wwcount", "grids").await,
        json!({"grids": []})
    );

    let twenty = app.new_grid("wwcount",
        json!({"grid_id": "g20", "name": "二十", "admins": &users[..20], "members": &users[..100]}),
    )
    .await;
    assert_eq!(twenty["admins"].as_array().unwrap().len(), 20);
    assert_eq!(twenty["members"].as_array().unwrap().len(), 100);
    assert_eq!(twenty["admins"], json!(&users[..20]));
    assert_eq!(twenty["members"], json!(&users[..100]));
    // 21 entries with one duplicate are 20 admins.
    let mut with_duplicate: Vec<String> = users[..20].to_vec();
    with_duplicate.push("u1".into());
    let deduped = app
        .new_grid(
            "wwcount",
            json!({"grid_id": "dup", "name": "重复", "admins": with_duplicate}),
        )
        .await;
    assert_eq!(deduped["admins"], json!(&users[..20]));

    // The same limits on update, which then changes nothing.
    let path = "/corps/wwcount/grids/g20";
    for (body, names) in [
        (json!({"admins": []}), ["admin", "0"]),
        (json!({"admins": &users[..21]}), ["admin", "21"]),
        (json!({"members": &users[..101]}), ["member", "101"]),
    ] {
        let (status, answer) = app.admin("PATCH", path, Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &names);
    }
    assert_eq!(app.admin_expect("GET", path, None, 200).await, twenty);
    let updated = app
        .admin_expect(
            "PATCH",
            path,
            Some(json!({"admins": &users[81..101], "members": &users[1..101]})),
            200,
        )
        .await;
    assert_eq!(updated["admins"], json!(&users[81..101]));
    assert_eq!(updated["members"], json!(&users[1..101]));
}

#[tokio::test]
async fn an_unknown_user_or_parent_of_a_grid_is_not_found() {
    let app = TestApp::spawn().await;
    app.new_corp("wwghost").await;
    app.new_users("wwghost", &["u1", "u2"]).await;
    app.new_grid(
        "wwghost",
        json!({"grid_id": "g1", "name": "一", "admins": ["u1"]}),
    )
    .await;
    let before = app.admin_list("wwghost", "grids").await;
    let grids = "/corps/wwghost/grids";
    let cases = [
        (
            json!({"grid_id": "n", "name": "新", "admins": ["u1", "ghost"]}),
            "ghost",
        ),
        (
            json!({"grid_id": "n", "name": "新", "admins": ["u1"], "members": ["u2", "phantom"]}),
            "phantom",
        ),
        (
            json!({"grid_id": "n", "name": "新", "parent_id": "g404", "admins": ["u1"]}),
            "g404",
        ),
    ];
    for (body, name) in cases {
        let (status, answer) = app.admin("POST", grids, Some(body)).await;
        assert_admin_error(status, &answer, 404, "not_found", &[name]);
    }
    let path = "/corps/wwghost/grids/g1";
    for (body, name) in [
        (json!({"admins": ["ghost"]}), "ghost"),
        (json!({"members": ["u2", "phantom"]}), "phantom"),
        (json!({"parent_id": "g404"}), "g404"),
    ] {
        let (status, answer) = app.admin("PATCH", path, Some(body)).await;
        assert_admin_error(status, &answer, 404, "not_found", &[name]);
    }
    assert_eq!(app.admin_list("wwghost", "grids").await, before);
    // An unknown grid.
    for method in ["GET", "PATCH", "DELETE"] {
        let body = (method == "PATCH").then(|| json!({"name": "x"}));
        let (status, answer) = app.admin(method, "/corps/wwghost/grids/g404", body).await;
        assert_admin_error(status, &answer, 404, "not_found", &["g404"]);
    }
}

#[tokio::test]
async fn a_grid_with_members_children_or_orders_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    app.new_corp("wwgdel").await;
    app.new_users("wwgdel", &["boss", "worker", "reporter"])
        .await;
    let grid = |id: &str, parent: Option<&str>, members: &[&str]| {
        json!({"grid_id": id, "name": format!("网格{id}"), "parent_id": parent,
               "admins": ["boss"], "members": members})
    };
    app.new_grid("wwgdel", grid("parent", None, &[])).await;
    app.new_grid("wwgdel", grid("child", Some("parent"), &[]))
        .await;
    app.new_grid("wwgdel", grid("crowded", None, &["worker"]))
        .await;
    app.new_grid("wwgdel", grid("busy", None, &[])).await;
    app.new_grid("wwgdel", grid("empty", None, &[])).await;
    app.report_in_grid("wwgdel", "o1", "busy", None).await;

    let path = |id: &str| format!("/corps/wwgdel/grids/{id}");
    let (status, answer) = app.admin("DELETE", &path("crowded"), None).await;
    assert_admin_error(status, &answer, 409, "conflict", &["crowded", "member"]);
    let (status, answer) = app.admin("DELETE", &path("parent"), None).await;
    assert_admin_error(status, &answer, 409, "conflict", &["parent", "child"]);
    let (status, answer) = app.admin("DELETE", &path("busy"), None).await;
    assert_admin_error(status, &answer, 409, "conflict", &["busy", "order"]);
    assert_eq!(
        app.admin_list("wwgdel", "grids").await["grids"]
            .as_array()
            .unwrap()
            .len(),
        5
    );

    let answer = app
        .admin_raw(
            "DELETE",
            &path("empty"),
            Some(&format!("Bearer {ADMIN_KEY}")),
            None,
        )
        .await;
    assert_eq!(answer.status, 204, "{}", answer.text);
    assert_eq!(answer.text, "");
    let (status, answer) = app.admin("GET", &path("empty"), None).await;
    assert_admin_error(status, &answer, 404, "not_found", &["empty"]);
    let (status, answer) = app.admin("DELETE", &path("empty"), None).await;
    assert_admin_error(status, &answer, 404, "not_found", &["empty"]);

    // Once emptied, the others go; the order keeps its grid.
    app.admin_expect("PATCH", &path("crowded"), Some(json!({"members": []})), 200)
        .await;
    app.admin_expect("DELETE", &path("crowded"), None, 204)
        .await;
    app.admin_expect("DELETE", &path("child"), None, 204).await;
    app.admin_expect("DELETE", &path("parent"), None, 204).await;
    let (status, answer) = app.admin("DELETE", &path("busy"), None).await;
    assert_admin_error(status, &answer, 409, "conflict", &["busy"]);
    assert_eq!(grid_ids(&app.admin_list("wwgdel", "grids").await), ["busy"]);
    let order = app
        .admin_expect("GET", "/corps/wwgdel/orders/o1", None, 200)
        .await;
    assert_eq!(order["grid_id"], "busy", "{order}");
}

#[tokio::test]
async fn a_failed_grid_change_leaves_everything_as_it_was() {
    let app = TestApp::spawn().await;
    app.new_corp("wwatomic").await;
    let users = app.numbered_users("wwatomic", "u", 101).await;
    app.new_grid(
        "wwatomic",
        json!({"grid_id": "a", "name": "甲", "admins": ["u1"], "members": ["u2"]}),
    )
    .await;
    app.new_grid(
        "wwatomic",
        json!({"grid_id": "b", "name": "乙", "parent_id": "a", "admins": ["u3"]}),
    )
    .await;
    let grids_before = app.admin_list("wwatomic", "grids").await;
    let users_before = app.admin_list("wwatomic", "users").await;

    let creates = [
        json!({"grid_id": "n", "name": "新", "admins": ["u1"], "members": ["u2", "ghost"]}),
        json!({"grid_id": "n", "name": "新", "admins": ["u1"], "members": &users[..101]}),
        json!({"grid_id": "n", "name": "甲", "admins": ["u1"], "members": ["u4"]}),
        json!({"grid_id": "a", "name": "新", "admins": ["u1"]}),
        json!({"grid_id": "n", "name": "网".repeat(31), "admins": ["u1"]}),
        json!({"grid_id": "n", "name": "新", "admins": &users[..21], "members": ["u4"]}),
    ];
    for body in creates {
        let (status, answer) = app
            .admin("POST", "/corps/wwatomic/grids", Some(body.clone()))
            .await;
        assert!(status >= 400, "{body}: {status} {answer}");
        assert_eq!(
            app.admin_list("wwatomic", "grids").await,
            grids_before,
            "{body}"
        );
    }
    let (status, _) = app.admin("GET", "/corps/wwatomic/grids/n", None).await;
    assert_eq!(status, 404);

    let updates = [
        ("a", json!({"name": "新名", "admins": ["ghost"]})),
        ("a", json!({"name": "新名", "members": &users[..101]})),
        (
            "a",
            json!({"name": "新名", "admins": ["u9"], "members": ["u8", "ghost"]}),
        ),
        ("a", json!({"name": "新名", "parent_id": "b"})),
        ("a", json!({"admins": ["u5"], "parent_id": "a"})),
        (
            "b",
            json!({"name": "新名", "admins": ["u7"], "parent_id": "g404"}),
        ),
        (
            "b",
            json!({"members": ["u6"], "parent_id": null, "name": "甲"}),
        ),
        ("b", json!({"members": ["u6"], "name": "网".repeat(31)})),
        ("b", json!({"members": ["u6"], "admins": []})),
    ];
    for (grid, body) in updates {
        let (status, answer) = app
            .admin(
                "PATCH",
                &format!("/corps/wwatomic/grids/{grid}"),
                Some(body.clone()),
            )
            .await;
        assert!(status >= 400, "{grid} {body}: {status} {answer}");
        assert_eq!(
            app.admin_list("wwatomic", "grids").await,
            grids_before,
            "{grid} {body}"
        );
    }
    assert_eq!(app.admin_list("wwatomic", "users").await, users_before);
}

// ---------------------------------------------------------------------------------------------
// Categories

#[tokio::test]
async fn categories_have_two_levels() {
    let app = TestApp::spawn().await;
    app.new_corp("wwcat").await;
    let path = "/corps/wwcat/categories";
    let top = app
        .admin_expect(
            "POST",
            path,
            Some(json!({"category_id": "c1", "name": "市容环境"})),
            201,
        )
        .await;
    assert_eq!(
        top,
        json!({"category_id": "c1", "name": "市容环境", "level": 1, "parent_id": null})
    );
    let sub = app
        .admin_expect(
            "POST",
            path,
            Some(json!({"category_id": "c1a", "name": "暴露垃圾", "parent_id": "c1"})),
            201,
        )
        .await;
    assert_eq!(
        sub,
        json!({"category_id": "c1a", "name": "暴露垃圾", "level": 2, "parent_id": "c1"})
    );
    let generated = app
        .admin_expect("POST", path, Some(json!({"name": "道路交通"})), 201)
        .await;
    let generated_id = generated["category_id"].as_str().unwrap().to_owned();
    assert!(!generated_id.is_empty(), "{generated}");
    assert_eq!(generated["level"], 1);
    let generated_sub = app
        .admin_expect(
            "POST",
            path,
            Some(json!({"name": "占道经营", "parent_id": generated_id})),
            201,
        )
        .await;
    assert_eq!(generated_sub["level"], 2);
    app.new_category("wwcat", "c1b", "乱贴乱画", Some("c1"))
        .await;

    // No third level.
    let body = json!({"category_id": "c1a1", "name": "第三级", "parent_id": "c1a"});
    let (status, answer) = app.admin("POST", path, Some(body)).await;
    assert_admin_error(status, &answer, 400, "invalid_request", &["c1a"]);
    // An unknown parent.
    let body = json!({"category_id": "cx", "name": "无父", "parent_id": "c404"});
    let (status, answer) = app.admin("POST", path, Some(body)).await;
    assert_admin_error(status, &answer, 404, "not_found", &["c404"]);
    // A duplicate id; an invalid id.
    let body = json!({"category_id": "c1", "name": "别的"});
    let (status, answer) = app.admin("POST", path, Some(body)).await;
    assert_admin_error(status, &answer, 409, "conflict", &["c1"]);
    for id in ["", "c 1", "分类"] {
        let body = json!({"category_id": id, "name": "别的"});
        let (status, answer) = app.admin("POST", path, Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["category_id"]);
    }

    let list = app.admin_list("wwcat", "categories").await;
    let categories = list["categories"].as_array().unwrap();
    assert_eq!(categories.len(), 5, "{list}");
    assert_parents_first(categories, "category_id");
    let ids: Vec<&str> = categories
        .iter()
        .map(|c| c["category_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "c1",
            "c1a",
            "c1b",
            generated_id.as_str(),
            generated_sub["category_id"].as_str().unwrap()
        ]
    );
    assert_eq!(categories[0], top);
    assert_eq!(categories[1], sub);
}

#[tokio::test]
async fn a_category_name_has_1_to_30_characters_unique_among_siblings() {
    let app = TestApp::spawn().await;
    app.new_corp("wwcname").await;
    let path = "/corps/wwcname/categories";
    app.new_category("wwcname", "c1", "市容环境", None).await;
    app.new_category("wwcname", "c2", &"类".repeat(30), None)
        .await;
    app.new_category("wwcname", "c1a", "暴露垃圾", Some("c1"))
        .await;
    for name in ["类".repeat(31), String::new(), " ".into()] {
        let body = json!({"category_id": "bad", "name": name});
        let (status, answer) = app.admin("POST", path, Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["name"]);
        let body = json!({"category_id": "bad", "name": name, "parent_id": "c1"});
        let (status, answer) = app.admin("POST", path, Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["name"]);
        let body = json!({"name": name});
        let (status, answer) = app.admin("PATCH", &format!("{path}/c1"), Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["name"]);
    }
    // Siblings: level 1 among level 1, level 2 under one parent.
    let body = json!({"category_id": "dup", "name": "市容环境"});
    let (status, answer) = app.admin("POST", path, Some(body)).await;
    assert_admin_error(status, &answer, 409, "conflict", &["市容环境"]);
    let body = json!({"category_id": "dup", "name": "暴露垃圾", "parent_id": "c1"});
    let (status, answer) = app.admin("POST", path, Some(body)).await;
    assert_admin_error(status, &answer, 409, "conflict", &["暴露垃圾"]);
    // Under another parent, or at the other level, the same name is fine.
    app.new_category("wwcname", "c2a", "暴露垃圾", Some("c2"))
        .await;
    app.new_category("wwcname", "c1x", "市容环境", Some("c1"))
        .await;
    app.new_category("wwcname", "top", "暴露垃圾", None).await;
    // Renames follow the same rule.
    let (status, answer) = app
        .admin(
            "PATCH",
            &format!("{path}/c2"),
            Some(json!({"name": "市容环境"})),
        )
        .await;
    assert_admin_error(status, &answer, 409, "conflict", &["市容环境"]);
    let (status, answer) = app
        .admin(
            "PATCH",
            &format!("{path}/c1x"),
            Some(json!({"name": "暴露垃圾"})),
        )
        .await;
    assert_admin_error(status, &answer, 409, "conflict", &["暴露垃圾"]);
    let renamed = app
        .admin_expect(
            "PATCH",
            &format!("{path}/c2a"),
            Some(json!({"name": "市容环境"})),
            200,
        )
        .await;
    assert_eq!(
        renamed,
        json!({"category_id": "c2a", "name": "市容环境", "level": 2, "parent_id": "c2"})
    );
    let (status, answer) = app
        .admin(
            "PATCH",
            &format!("{path}/c404"),
            Some(json!({"name": "新"})),
        )
        .await;
    assert_admin_error(status, &answer, 404, "not_found", &["c404"]);

    let list = app.admin_list("wwcname", "categories").await;
    let names: Vec<(&str, &str)> = list["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["category_id"].as_str().unwrap(),
                c["name"].as_str().unwrap(),
            )
        })
        .collect();
    let thirty = "类".repeat(30);
    assert_eq!(
        names,
        [
            ("c1", "市容环境"),
            ("c1a", "暴露垃圾"),
            ("c1x", "市容环境"),
            ("c2", thirty.as_str()),
            ("c2a", "市容环境"),
            ("top", "暴露垃圾"),
        ]
    );
}

/// A corp with users `admin`, `reporter`, grid `g1`, categories `c1` > `c1a` and a
/// patrol-enabled app; returns the app's token.
async fn patrol_corp(app: &TestApp, corpid: &str) -> String {
    app.new_corp(corpid).await;
    app.new_users(corpid, &["admin", "reporter"]).await;
    app.new_grid(
        corpid,
        json!({"grid_id": "g1", "name": "一号网格", "admins": ["admin"], "members": ["reporter"]}),
    )
    .await;
    app.new_category(corpid, "c1", "市容环境", None).await;
    app.new_category(corpid, "c1a", "暴露垃圾", Some("c1"))
        .await;
    let created = app
        .new_app(corpid, json!({"name": "对接", "patrol_enabled": true}))
        .await;
    app.token_for(corpid, &secret_of(&created)).await
}

async fn case_name(app: &TestApp, token: &str, order_id: &str) -> String {
    let body = json!({"order_id": order_id}).to_string();
    let answer = app.patrol("get_order_info", token, &body).await;
    assert_eq!(errcode(&answer), 0, "{answer}");
    answer["order_info"]["case_name"]
        .as_str()
        .unwrap_or_else(|| panic!("no case_name in {answer}"))
        .to_owned()
}

#[tokio::test]
async fn renaming_a_category_keeps_the_case_name_of_existing_orders() {
    let app = TestApp::spawn().await;
    let token = patrol_corp(&app, "wwrename").await;
    app.report_in_grid("wwrename", "o1", "g1", Some("c1a"))
        .await;
    app.report_in_grid("wwrename", "top1", "g1", Some("c1"))
        .await;
    let old_sub = case_name(&app, &token, "o1").await;
    let old_top = case_name(&app, &token, "top1").await;
    assert!(old_sub.contains("暴露垃圾"), "{old_sub}");
    assert!(old_top.contains("市容环境"), "{old_top}");

    let renamed = app
        .admin_expect(
            "PATCH",
            "/corps/wwrename/categories/c1a",
            Some(json!({"name": "垃圾暴露"})),
            200,
        )
        .await;
    assert_eq!(
        renamed,
        json!({"category_id": "c1a", "name": "垃圾暴露", "level": 2, "parent_id": "c1"})
    );
    app.admin_expect(
        "PATCH",
        "/corps/wwrename/categories/c1",
        Some(json!({"name": "环境卫生"})),
        200,
    )
    .await;
    app.report_in_grid("wwrename", "o2", "g1", Some("c1a"))
        .await;
    app.report_in_grid("wwrename", "top2", "g1", Some("c1"))
        .await;

    assert_eq!(case_name(&app, &token, "o1").await, old_sub);
    assert_eq!(case_name(&app, &token, "top1").await, old_top);
    let new_sub = case_name(&app, &token, "o2").await;
    assert!(new_sub.contains("垃圾暴露"), "{new_sub}");
    assert!(!new_sub.contains("暴露垃圾"), "{new_sub}");
    let new_top = case_name(&app, &token, "top2").await;
    assert!(new_top.contains("环境卫生"), "{new_top}");
    // The admin API shows the same.
    let o1 = app
        .admin_expect("GET", "/corps/wwrename/orders/o1", None, 200)
        .await;
    assert_eq!(o1["case_name"], old_sub.as_str());
    // The list of categories shows the new names.
    let list = app.admin_list("wwrename", "categories").await;
    assert_eq!(list["categories"][0]["name"], "环境卫生");
    assert_eq!(list["categories"][1]["name"], "垃圾暴露");
}

#[tokio::test]
async fn a_category_with_children_or_orders_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    patrol_corp(&app, "wwcdel").await;
    app.new_category("wwcdel", "c2", "道路交通", None).await;
    app.new_category("wwcdel", "c2a", "占道经营", Some("c2"))
        .await;
    app.new_category("wwcdel", "c3", "空的", None).await;
    app.report_in_grid("wwcdel", "o1", "g1", Some("c1a")).await;
    app.report_in_grid("wwcdel", "o2", "g1", Some("c3")).await;
    let path = |id: &str| format!("/corps/wwcdel/categories/{id}");

    let (status, answer) = app.admin("DELETE", &path("c1"), None).await;
    assert_admin_error(status, &answer, 409, "conflict", &["c1"]);
    let (status, answer) = app.admin("DELETE", &path("c2"), None).await;
    assert_admin_error(status, &answer, 409, "conflict", &["c2", "child"]);
    let (status, answer) = app.admin("DELETE", &path("c1a"), None).await;
    assert_admin_error(status, &answer, 409, "conflict", &["c1a", "order"]);
    let (status, answer) = app.admin("DELETE", &path("c3"), None).await;
    assert_admin_error(status, &answer, 409, "conflict", &["c3", "order"]);
    assert_eq!(
        app.admin_list("wwcdel", "categories").await["categories"]
            .as_array()
            .unwrap()
            .len(),
        5
    );

    let answer = app
        .admin_raw(
            "DELETE",
            &path("c2a"),
            Some(&format!("Bearer {ADMIN_KEY}")),
            None,
        )
        .await;
    assert_eq!(answer.status, 204, "{}", answer.text);
    assert_eq!(answer.text, "");
    app.admin_expect("DELETE", &path("c2"), None, 204).await;
    let (status, answer) = app.admin("DELETE", &path("c2"), None).await;
    assert_admin_error(status, &answer, 404, "not_found", &["c2"]);
    let list = app.admin_list("wwcdel", "categories").await;
    let ids: Vec<&str> = list["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["c1", "c1a", "c3"]);
}

// ---------------------------------------------------------------------------------------------
// Tenancy

#[tokio::test]
async fn one_corps_admin_calls_cannot_touch_another_corps_directory() {
    let app = TestApp::spawn().await;
    app.new_corp("wwa").await;
    app.new_corp("wwb").await;
    app.new_users("wwa", &["shared", "aonly", "reporter"]).await;
    app.new_users("wwb", &["shared", "bonly"]).await;
    app.new_grid(
        "wwa",
        json!({"grid_id": "ga", "name": "甲", "admins": ["aonly"]}),
    )
    .await;
    app.new_grid(
        "wwb",
        json!({"grid_id": "gb", "name": "乙", "admins": ["bonly"], "members": ["shared"]}),
    )
    .await;
    app.new_category("wwb", "cb", "乙类", None).await;
    let b_app = app
        .new_app("wwb", json!({"agentid": 1_000_077, "name": "乙应用"}))
        .await;

    let b_before = (
        app.admin_list("wwb", "grids").await,
        app.admin_list("wwb", "users").await,
        app.admin_list("wwb", "categories").await,
        app.admin_list("wwb", "apps").await,
    );

    let a = "/corps/wwa";
    let cases: Vec<(&str, String, Option<Value>, &str)> = vec![
        ("GET", format!("{a}/grids/gb"), None, "gb"),
        (
            "PATCH",
            format!("{a}/grids/gb"),
            Some(json!({"name": "夺"})),
            "gb",
        ),
        ("DELETE", format!("{a}/grids/gb"), None, "gb"),
        (
            "POST",
            format!("{a}/grids"),
            Some(json!({"grid_id": "n", "name": "新", "parent_id": "gb", "admins": ["aonly"]})),
            "gb",
        ),
        (
            "PATCH",
            format!("{a}/grids/ga"),
            Some(json!({"parent_id": "gb"})),
            "gb",
        ),
        (
            "POST",
            format!("{a}/grids"),
            Some(json!({"grid_id": "n", "name": "新", "admins": ["bonly"]})),
            "bonly",
        ),
        (
            "PATCH",
            format!("{a}/grids/ga"),
            Some(json!({"members": ["bonly"]})),
            "bonly",
        ),
        (
            "PATCH",
            format!("{a}/users/bonly"),
            Some(json!({"name": "夺"})),
            "bonly",
        ),
        ("DELETE", format!("{a}/users/bonly"), None, "bonly"),
        (
            "POST",
            format!("{a}/categories"),
            Some(json!({"category_id": "n", "name": "新", "parent_id": "cb"})),
            "cb",
        ),
        (
            "PATCH",
            format!("{a}/categories/cb"),
            Some(json!({"name": "夺"})),
            "cb",
        ),
        ("DELETE", format!("{a}/categories/cb"), None, "cb"),
        (
            "PATCH",
            format!("{a}/apps/1000077"),
            Some(json!({"enabled": false})),
            "1000077",
        ),
        ("POST", format!("{a}/apps/1000077/secret"), None, "1000077"),
        ("DELETE", format!("{a}/apps/1000077"), None, "1000077"),
        (
            "POST",
            format!("{a}/orders"),
            Some(
                json!({"order_id": "o1", "description": "越界", "grid_id": "gb", "reporter": "reporter"}),
            ),
            "gb",
        ),
    ];
    for (method, path, body, name) in cases {
        let (status, answer) = app.admin(method, &path, body).await;
        assert_admin_error(status, &answer, 404, "not_found", &[name]);
    }
    // Corp B is untouched, and its app's secret still works.
    let b_after = (
        app.admin_list("wwb", "grids").await,
        app.admin_list("wwb", "users").await,
        app.admin_list("wwb", "categories").await,
        app.admin_list("wwb", "apps").await,
    );
    assert_eq!(b_after, b_before);
    assert_eq!(gettoken_errcode(&app, "wwb", &secret_of(&b_app)).await, 0);
    // Corp A sees only its own.
    assert_eq!(grid_ids(&app.admin_list("wwa", "grids").await), ["ga"]);
    assert_eq!(
        app.admin_list("wwa", "users").await["users"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        app.admin_list("wwa", "categories").await,
        json!({"categories": []})
    );
    assert_eq!(app.admin_list("wwa", "apps").await, json!({"apps": []}));
    // A user of the same userid in both corps is two users: deleting A's is not blocked by B's
    // grid.
    app.admin_expect("DELETE", "/corps/wwa/users/shared", None, 204)
        .await;
    let (status, answer) = app.admin("DELETE", "/corps/wwb/users/shared", None).await;
    assert_admin_error(status, &answer, 409, "conflict", &["gb"]);
    // Ids are per corp: A may use B's grid id and category id.
    app.new_grid(
        "wwa",
        json!({"grid_id": "gb", "name": "乙", "admins": ["aonly"]}),
    )
    .await;
    app.new_category("wwa", "cb", "乙类", None).await;
    assert_eq!(app.admin_list("wwb", "grids").await, b_before.0);
}
