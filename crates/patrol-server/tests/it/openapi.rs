//! `GET /openapi.json` (`patrol_server::openapi`): served as built, describing every route of the
//! real router and no other, its references resolving, and WeCom's quirks as patrol answers them.
//! The fuzzing against it is `.ci/schemathesis`.

use std::collections::BTreeSet;

use patrol_server::AppState;
use patrol_server::openapi::{ERRMSG_PATTERN, document};
use patrol_test::{ADMIN_KEY, TestApp};
use serde_json::Value;

/// The paths of the real router, read from its `Debug` form (axum prints each route's path).
async fn router_paths(app: &TestApp) -> BTreeSet<String> {
    let state = AppState::new(
        app.store.clone(),
        app.blobs.clone(),
        app.config.clone(),
        app.base_url.clone(),
    )
    .await
    .expect("the state opens");
    let printed = format!("{:?}", patrol_server::router(state));
    // The routes' paths, not the fallbacks' (axum's own, after `fallback_router`).
    let routes = printed.split("fallback_router").next().unwrap_or_default();
    let mut paths = BTreeSet::new();
    if let Some((_, listed)) = routes.split_once("paths: {") {
        // Quoted paths, up to the brace that closes the map outside any quotes.
        for (index, piece) in listed.split('"').enumerate() {
            if index % 2 == 1 {
                paths.insert(piece.to_owned());
            } else if piece.contains('}') {
                break;
            }
        }
    }
    // The administration API's bare prefix answers "no such route": not an operation.
    paths.remove("/admin/v1/");
    assert!(
        paths.contains("/cgi-bin/gettoken") && paths.len() > 20,
        "the router's paths were not found in its Debug form (did axum change it?): {printed}"
    );
    paths
}

fn spec_paths(spec: &Value) -> BTreeSet<String> {
    spec["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .cloned()
        .collect()
}

#[tokio::test]
async fn every_route_is_described_and_nothing_else() {
    let app = TestApp::spawn().await;
    let routes = router_paths(&app).await;
    let spec = document();
    let described = spec_paths(&spec);
    let missing: Vec<_> = routes.difference(&described).collect();
    let extra: Vec<_> = described.difference(&routes).collect();
    assert!(
        missing.is_empty(),
        "routes without a description in crates/patrol-server/src/openapi.rs (add them to `operations`): {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "openapi.rs describes routes the router does not serve: {extra:?}"
    );
}

/// The administration API answers 405 to a method a route does not take: the methods the spec
/// gives each administration path are exactly the ones it serves.
#[tokio::test]
async fn the_administration_methods_are_the_served_ones() {
    let app = TestApp::spawn().await;
    let spec = document();
    let methods = ["get", "post", "put", "patch", "delete"];
    for (path, item) in spec["paths"].as_object().expect("paths") {
        if !path.starts_with("/admin/v1/") {
            continue;
        }
        // Ids that name nothing: a served method answers 400 or 404, never 405.
        let concrete = path
            .replace("{corpid}", "wwnobody")
            .replace("{id}", "999999")
            .replace("{agentid}", "999999")
            .replace(['{', '}'], "");
        for method in methods {
            let response = app
                .http
                .request(
                    method.to_uppercase().parse().expect("a method"),
                    format!("{}{concrete}", app.base_url),
                )
                .bearer_auth(ADMIN_KEY)
                .body("{\"not\": \"valid here\"}")
                .send()
                .await
                .expect("an answer");
            let status = response.status().as_u16();
            drop(response);
            let described = item.get(method).is_some();
            assert_eq!(
                status == 405,
                !described,
                "{} {path} answered {status}; the spec {} it",
                method.to_uppercase(),
                if described {
                    "describes"
                } else {
                    "does not describe"
                }
            );
        }
    }
}

#[tokio::test]
async fn the_document_is_served_without_a_key_and_its_references_resolve() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(format!("{}/openapi.json", app.base_url))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let served: Value = response.json().await.expect("JSON");
    assert_eq!(served, document());
    assert_eq!(served["openapi"], "3.1.0");

    let mut references = Vec::new();
    collect(&served, &mut |key, value| {
        if key == "$ref" {
            references.push(value.as_str().expect("a $ref is a string").to_owned());
        }
    });
    assert!(references.len() > 50, "{references:?}");
    for reference in &references {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{reference} is not a component"));
        assert!(
            served["components"]["schemas"].get(name).is_some(),
            "{reference} does not resolve"
        );
    }
    let mut ids = BTreeSet::new();
    for item in served["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            let id = operation["operationId"].as_str().expect("an operationId");
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
        }
    }
}

/// The wire types' schemas are derived from their definitions: a field of the type is a
/// property of its schema, an `Option` is nullable, a `deny_unknown_fields` request refuses
/// other properties, and an answer's fields are required.
#[test]
fn schemas_follow_the_wire_types() {
    let spec = document();
    let schemas = &spec["components"]["schemas"];
    let order = &schemas["Order"];
    let fields: BTreeSet<&str> = order["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let written = serde_json::to_value(patrol_wire::patrol::Order {
        order_id: "o1".into(),
        desc: String::new(),
        urge_type: 1,
        case_name: String::new(),
        grid_name: String::new(),
        grid_id: String::new(),
        create_time: 0,
        image_urls: vec![],
        video_media_ids: vec![],
        location: Default::default(),
        processor_userids: vec![],
        process_list: vec![],
        reporter_name: Some(String::new()),
        reporter_mobile: Some(String::new()),
        unionid: Some(String::new()),
    })
    .unwrap();
    let keys: BTreeSet<&str> = written
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(fields, keys);
    let required = order["required"].as_array().unwrap();
    assert!(required.contains(&"order_id".into()) && required.contains(&"process_list".into()));
    assert!(!required.contains(&"reporter_name".into()), "{order}");
    assert_eq!(schemas["CreateCorp"]["additionalProperties"], false);
    assert_eq!(
        schemas["GetOrderListRequest"]["properties"]["limit"]["type"],
        serde_json::json!(["integer", "null"])
    );
}

/// The bounds the spec gives the administration API's bodies are the domain's
/// (`patrol_domain::limits`), so that a fuzzer's valid bodies get through to the store.
#[test]
fn the_documented_bounds_are_the_domains() {
    use patrol_domain::limits;
    let spec = document();
    let schemas = &spec["components"]["schemas"];
    let property = |schema: &str, field: &str| schemas[schema]["properties"][field].clone();
    assert_eq!(
        property("CreateCorp", "name")["maxLength"],
        limits::MAX_DISPLAY_NAME_CHARS
    );
    assert_eq!(
        property("CreateUser", "name")["maxLength"],
        limits::MAX_DISPLAY_NAME_CHARS
    );
    assert_eq!(
        property("CreateGrid", "name")["maxLength"],
        limits::MAX_NAME_CHARS
    );
    assert_eq!(
        property("CreateCategory", "name")["maxLength"],
        limits::MAX_NAME_CHARS
    );
    assert_eq!(
        property("CreateGrid", "admins")["maxItems"],
        limits::MAX_GRID_ADMINS
    );
    assert_eq!(
        property("CreateGrid", "members")["maxItems"],
        limits::MAX_GRID_MEMBERS
    );
    assert_eq!(
        property("CreateApp", "agentid")["maximum"],
        limits::MAX_AGENTID
    );
    assert_eq!(
        property("CreateCorp", "created_at")["minimum"],
        limits::MIN_TIME
    );
    assert_eq!(
        property("ReportOrder", "description")["maxLength"],
        limits::MAX_DESCRIPTION_CHARS
    );
    assert_eq!(
        property("ReportOrder", "image_urls")["maxItems"],
        limits::MAX_IMAGE_URLS
    );
    assert_eq!(
        property("ReportOrder", "video_media_ids")["maxItems"],
        limits::MAX_VIDEO_MEDIA_IDS
    );
    assert_eq!(
        property("LocationBody", "name")["maxLength"],
        limits::MAX_PLACE_CHARS
    );
    assert_eq!(
        property("OrderAction", "users")["maxItems"],
        limits::MAX_HANDED_USERS
    );
    let app = &spec["paths"]["/admin/v1/corps/{corpid}/apps/{agentid}"]["patch"];
    let agentid = app["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == "agentid")
        .expect("the agentid parameter");
    assert_eq!(agentid["schema"]["maximum"], limits::MAX_AGENTID);

    let pattern = |schema: &str, field: &str| {
        let text = property(schema, field)["pattern"]
            .as_str()
            .expect("a pattern")
            .to_owned();
        regex::Regex::new(&text).expect("the pattern compiles")
    };
    let id = pattern("CreateGrid", "grid_id");
    let userid = pattern("CreateUser", "userid");
    let samples = [
        "g-1_a",
        "a.b",
        "",
        "网格",
        "9",
        "zhang.wei@x",
        ".",
        "..",
        "-a",
        "a b",
    ];
    let long = "x".repeat(limits::MAX_ID_CHARS + 1);
    for sample in samples.iter().copied().chain([long.as_str()]) {
        assert_eq!(
            id.is_match(sample),
            limits::check_id("id", sample, limits::ID_EXTRA).is_ok(),
            "{sample:?}"
        );
        assert_eq!(
            userid.is_match(sample),
            limits::check_userid(sample).is_ok(),
            "{sample:?}"
        );
    }
}

/// WeCom's error envelope as the spec words it is what patrol answers: HTTP 200, exactly
/// `errcode` and `errmsg`, `errmsg` in the documented shape; a success carries `errcode` 0.
#[tokio::test]
async fn wecom_answers_are_shaped_as_documented() {
    let app = TestApp::spawn().await;
    let spec = document();
    let error = &spec["components"]["schemas"]["WeComError"];
    assert_eq!(error["properties"]["errmsg"]["pattern"], ERRMSG_PATTERN);
    let pattern = regex::Regex::new(ERRMSG_PATTERN).expect("the pattern compiles");

    let (_, token) = app.corp_and_token("wwopenapi").await;
    let answers = [
        app.get("/cgi-bin/report/patrol/get_order_list").await,
        app.get(&format!(
            "/cgi-bin/report/patrol/get_order_list?access_token={token}"
        ))
        .await,
        app.post(
            &format!("/cgi-bin/report/patrol/get_order_info?access_token={token}"),
            "{\"order_id\": \"nothing\",}",
        )
        .await,
    ];
    for (status, body) in answers {
        assert_eq!(status, 200, "{body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        let keys: Vec<&String> = answer.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["errcode", "errmsg"], "{body}");
        assert_ne!(answer["errcode"], 0, "{body}");
        let errmsg = answer["errmsg"].as_str().unwrap();
        assert!(
            pattern.is_match(errmsg),
            "{errmsg} does not match {ERRMSG_PATTERN}"
        );
    }
    let (_, body) = app
        .post(
            &format!("/cgi-bin/report/patrol/get_order_list?access_token={token}"),
            "{\"limit\": 5,}",
        )
        .await;
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["errcode"], 0, "{body}");
    assert!(
        !pattern.is_match(answer["errmsg"].as_str().unwrap()),
        "{body}"
    );

    // An unknown path under /cgi-bin/ is an empty 404, and the spec does not describe one.
    let (status, body) = app.get("/cgi-bin/report/patrol/nothing").await;
    assert_eq!((status, body.as_str()), (404, ""));
    assert!(
        spec["paths"]
            .get("/cgi-bin/report/patrol/nothing")
            .is_none()
    );
}

fn collect(value: &Value, visit: &mut impl FnMut(&str, &Value)) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                visit(key, value);
                collect(value, visit);
            }
        }
        Value::Array(values) => {
            for value in values {
                collect(value, visit);
            }
        }
        _ => {}
    }
}
