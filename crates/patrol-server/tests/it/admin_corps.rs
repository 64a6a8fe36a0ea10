//! The administration API's list of a corp's orders and the update and deletion of corps, over
//! HTTP (docs/admin-api.md, "Corps" and "Orders"): filters alone and combined, pages walked to
//! the end while orders are reported, forged and foreign cursors, bad filters named, a deletion
//! refused while the corp holds data and forced with everything of it, its tokens refused at once.

use std::collections::HashSet;

use patrol_domain::Urgency;
use patrol_test::{
    PAST, TestApp, TestCorp, assert_admin_error, assert_wecom_error, errcode, new_order,
    numbered_orders, order_ids,
};
use serde_json::{Value, json};

use crate::media::{jpeg, upload_image};

/// `GET /admin/v1/corps/{corpid}/orders?{query}`: the status and the answer.
async fn list(app: &TestApp, corpid: &str, query: &str) -> (u16, Value) {
    app.admin("GET", &format!("/corps/{corpid}/orders?{query}"), None)
        .await
}

/// Every order of the list `query` selects, `limit` a page, following `next_cursor`; also
/// checks each page's size and that only the last page has no cursor.
async fn walk(app: &TestApp, corpid: &str, query: &str, limit: u32) -> Vec<Value> {
    let mut orders = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = list(
            app,
            corpid,
            &format!("{query}&limit={limit}&cursor={cursor}"),
        )
        .await;
        assert_eq!(status, 200, "{query}: {page}");
        let object = page.as_object().expect("a page is an object");
        assert_eq!(
            object.keys().map(String::as_str).collect::<Vec<_>>(),
            ["next_cursor", "orders"],
            "{page}"
        );
        let listed = page["orders"].as_array().expect("orders is a list");
        assert!(listed.len() <= limit as usize, "{page}");
        orders.extend(listed.iter().cloned());
        match page["next_cursor"].as_str() {
            None => {
                assert!(page["next_cursor"].is_null(), "{page}");
                return orders;
            }
            Some(next) => {
                assert_eq!(listed.len(), limit as usize, "only the last page is short");
                cursor = next.to_owned();
            }
        }
    }
}

async fn walk_ids(app: &TestApp, corpid: &str, query: &str, limit: u32) -> Vec<String> {
    order_ids(&walk(app, corpid, query, limit).await)
}

/// A corp with a second grid `g2` and category `c2`, and nine orders o0..o8: o3 and o4
/// reported in the same second, o1, o4 and o7 in g2, o2 and o5 of c2, o0 and o6 urgent; o1
/// finished, o2 rejected, o4 accepted.
async fn listed_corp(app: &TestApp, corpid: &str) -> TestCorp {
    let corp = app.corp(corpid).await;
    app.new_grid(
        corpid,
        json!({"grid_id": "g2", "name": "二号网格", "admins": ["admin"]}),
    )
    .await;
    app.new_category(corpid, "c2", "另一类别", None).await;
    let orders = (0..9)
        .map(|i: i64| {
            let mut order = new_order(&format!("o{i}"), PAST + i * 10 - i64::from(i == 4) * 10);
            if [1, 4, 7].contains(&i) {
                order.grid = "g2".into();
            }
            if [2, 5].contains(&i) {
                order.category = Some("c2".into());
            }
            if [0, 6].contains(&i) {
                order.urgency = Urgency::Urgent;
            }
            order
        })
        .collect();
    app.insert(&corp, orders).await;
    for (order_id, action) in [("o1", "finish"), ("o2", "reject"), ("o4", "accept")] {
        app.admin_expect(
            "POST",
            &format!("/corps/{corpid}/orders/{order_id}/actions"),
            Some(json!({"action": action, "actor": "admin", "time": PAST + 1000})),
            200,
        )
        .await;
    }
    corp
}

#[tokio::test]
async fn a_corps_orders_list_newest_first_each_as_the_order_route_answers_it() {
    let app = TestApp::spawn().await;
    listed_corp(&app, "wwlist").await;
    app.corp("wwlistother").await;
    let newest_first = ["o8", "o7", "o6", "o5", "o4", "o3", "o2", "o1", "o0"];
    for limit in [1, 2, 4, 9, 200] {
        assert_eq!(
            walk_ids(&app, "wwlist", "", limit).await,
            newest_first,
            "pages of {limit}"
        );
    }
    // The default page holds all nine, with no cursor after it.
    let (status, page) = list(&app, "wwlist", "").await;
    assert_eq!(status, 200);
    assert_eq!(order_ids(page["orders"].as_array().unwrap()), newest_first);
    assert!(page["next_cursor"].is_null());
    // Each order exactly as GET /orders/{order_id} answers it.
    for order in page["orders"].as_array().unwrap() {
        let order_id = order["order_id"].as_str().unwrap();
        let one = app
            .admin_expect(
                "GET",
                &format!("/corps/wwlist/orders/{order_id}"),
                None,
                200,
            )
            .await;
        assert_eq!(order, &one);
    }
    // Another corp's list holds none of them.
    assert_eq!(
        walk_ids(&app, "wwlistother", "", 5).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn filters_combine_and_each_narrows_the_list() {
    let app = TestApp::spawn().await;
    listed_corp(&app, "wwfilter").await;
    let window = format!("since={}&until={}", PAST + 30, PAST + 60);
    for (query, want) in [
        ("grid_id=g2", vec!["o7", "o4", "o1"]),
        ("category_id=c2", vec!["o5", "o2"]),
        ("urge_type=3", vec!["o6", "o0"]),
        (
            "urge_type=1",
            vec!["o8", "o7", "o5", "o4", "o3", "o2", "o1"],
        ),
        ("state=done", vec!["o1"]),
        ("state=rejected", vec!["o2"]),
        ("state=processing", vec!["o4"]),
        ("state=closed", vec!["o2", "o1"]),
        ("state=new", vec!["o8", "o7", "o6", "o5", "o3", "o0"]),
        ("state=open&grid_id=g2", vec!["o7", "o4"]),
        (&window, vec!["o5", "o4", "o3"]),
        (&format!("{window}&state=new"), vec!["o5", "o3"]),
        (
            &format!("{window}&state=open&grid_id=g2&category_id=c1a&urge_type=1"),
            vec!["o4"],
        ),
        ("grid_id=g2&category_id=c2", vec![]),
        (&format!("since={}", PAST + 1000), vec![]),
    ] {
        for limit in [1, 2, 50] {
            assert_eq!(
                walk_ids(&app, "wwfilter", query, limit).await,
                want,
                "{query}, pages of {limit}"
            );
        }
    }
}

#[tokio::test]
async fn paging_to_the_end_while_orders_are_reported_loses_and_repeats_none() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwbusy").await;
    app.insert(&corp, numbered_orders(150, PAST, 3)).await;
    let before: HashSet<String> = (0..150).map(|i| format!("o{i:03}")).collect();
    let reporter = {
        let app = &app;
        async move {
            for i in 0..40 {
                let (status, text) = app
                    .report(
                        "wwbusy",
                        &json!({
                            "order_id": format!("new{i:02}"),
                            "description": "reported during the walk",
                            "grid_id": "g1",
                            "reporter": "reporter",
                            "location": {"name": "", "address": "", "latitude": 30.0, "longitude": 120.0},
                            // Some now, some between orders already walked.
                            "time": if i % 2 == 0 { app.now() } else { PAST + 75 },
                        }),
                    )
                    .await;
                assert_eq!(status, 201, "{text}");
            }
        }
    };
    let (walked, ()) = tokio::join!(walk_ids(&app, "wwbusy", "", 7), reporter);
    let unique: HashSet<&String> = walked.iter().collect();
    assert_eq!(unique.len(), walked.len(), "an order listed twice");
    for order_id in &before {
        assert!(unique.contains(order_id), "{order_id} lost");
    }
    // Newest first, with no order out of place.
    let times: Vec<(i64, usize)> = walk(&app, "wwbusy", "", 200)
        .await
        .iter()
        .enumerate()
        .map(|(i, order)| (order["create_time"].as_i64().unwrap(), i))
        .collect();
    assert!(times.windows(2).all(|pair| pair[0].0 >= pair[1].0));
    assert_eq!(times.len(), 190);
}

#[tokio::test]
async fn forged_foreign_and_stale_cursors_are_refused() {
    let app = TestApp::spawn().await;
    app.corp_with_orders("wwcursor", numbered_orders(5, PAST, 1))
        .await;
    let (_, token) = app
        .corp_with_orders("wwcursorother", numbered_orders(5, PAST, 1))
        .await;
    let first = |corpid: &'static str, query: &'static str| {
        let app = &app;
        async move {
            let (status, page) = list(app, corpid, &format!("{query}&limit=2")).await;
            assert_eq!(status, 200, "{page}");
            page["next_cursor"].as_str().unwrap().to_owned()
        }
    };
    let cursor = first("wwcursor", "").await;
    let (status, page) = list(&app, "wwcursor", &format!("limit=2&cursor={cursor}")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(order_ids(page["orders"].as_array().unwrap()), ["o2", "o1"]);

    let mut edited = cursor.clone().into_bytes();
    edited[4] = if edited[4] == b'A' { b'B' } else { b'A' };
    let edited = String::from_utf8(edited).unwrap();
    let foreign = first("wwcursorother", "").await;
    let other_filters = first("wwcursor", "urge_type=1").await;
    let wecom = app.first_cursor(&token, json!({}), 2).await;
    for query in [
        format!("cursor={edited}"),
        "cursor=not-a-cursor".to_owned(),
        format!("cursor={}", "A".repeat(500)),
        // Another corp's, another filter's, the first page's under other filters.
        format!("cursor={foreign}"),
        format!("cursor={other_filters}"),
        format!("urge_type=2&cursor={cursor}"),
        // get_order_list's.
        format!("cursor={wecom}"),
    ] {
        let (status, answer) = list(&app, "wwcursor", &query).await;
        assert_admin_error(status, &answer, 400, "invalid_request", &["cursor"]);
    }
    // A corp deleted and created again under the same corpid refuses its predecessor's.
    app.admin_expect("DELETE", "/corps/wwcursor?force=true", None, 204)
        .await;
    app.corp_with_orders("wwcursor", numbered_orders(5, PAST, 1))
        .await;
    let (status, answer) = list(&app, "wwcursor", &format!("cursor={cursor}")).await;
    assert_admin_error(status, &answer, 400, "invalid_request", &["cursor"]);
}

#[tokio::test]
async fn bad_filters_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    app.corp("wwbad").await;
    for (query, names) in [
        (
            "state=closd",
            &["state", "closd", "new, processing, done, rejected"][..],
        ),
        ("state=in%20progress", &["state"]),
        ("state=", &["state"]),
        ("urge_type=4", &["urge_type"]),
        ("urge_type=x", &["urge_type"]),
        ("since=yesterday", &["since"]),
        ("since=-1", &["since"]),
        ("until=99999999999", &["until"]),
        ("since=1700000100&until=1700000000", &["until", "since"]),
        ("limit=0", &["limit", "200"]),
        ("limit=201", &["limit", "200"]),
        ("limit=-1", &["limit"]),
        ("grid_id=a%20b", &["grid_id"]),
        ("grid_id=", &["grid_id"]),
        (&format!("category_id={}", "c".repeat(65)), &["category_id"]),
        ("colour=red", &["colour"]),
    ] {
        let (status, answer) = list(&app, "wwbad", query).await;
        assert_admin_error(status, &answer, 400, "invalid_request", names);
    }
    let (status, answer) = list(&app, "wwbad", "grid_id=nowhere").await;
    assert_admin_error(status, &answer, 404, "not_found", &["grid nowhere"]);
    let (status, answer) = list(&app, "wwbad", "category_id=nothing").await;
    assert_admin_error(status, &answer, 404, "not_found", &["category nothing"]);
    let (status, answer) = list(&app, "wwnobody", "").await;
    assert_admin_error(status, &answer, 404, "not_found", &["wwnobody"]);
}

#[tokio::test]
async fn a_corp_is_renamed_and_redated_but_never_renumbered() {
    let app = TestApp::spawn().await;
    app.corp("wwpatch").await;
    let renamed = app
        .admin_expect(
            "PATCH",
            "/corps/wwpatch",
            Some(json!({"name": "新名字"})),
            200,
        )
        .await;
    assert_eq!(renamed["corpid"], "wwpatch");
    assert_eq!(renamed["name"], "新名字");
    let redated = app
        .admin_expect(
            "PATCH",
            "/corps/wwpatch",
            Some(json!({"created_at": 1_690_000_000})),
            200,
        )
        .await;
    assert_eq!(
        redated,
        json!({"corpid": "wwpatch", "name": "新名字", "created_at": 1_690_000_000})
    );
    assert_eq!(
        app.admin_expect("GET", "/corps/wwpatch", None, 200).await,
        redated
    );
    // An empty patch changes nothing.
    assert_eq!(
        app.admin_expect("PATCH", "/corps/wwpatch", Some(json!({})), 200)
            .await,
        redated
    );
    for (body, names) in [
        (json!({"corpid": "wwother"}), &["corpid"][..]),
        (json!({"name": ""}), &["corp"]),
        (json!({"name": "x".repeat(65)}), &["corp", "64"]),
        (json!({"created_at": 5}), &["created_at"]),
        (json!({"created_at": "soon"}), &["created_at"]),
    ] {
        let (status, answer) = app.admin("PATCH", "/corps/wwpatch", Some(body)).await;
        assert_admin_error(status, &answer, 400, "invalid_request", names);
    }
    let (status, answer) = app
        .admin("PATCH", "/corps/wwnobody", Some(json!({"name": "x"})))
        .await;
    assert_admin_error(status, &answer, 404, "not_found", &["wwnobody"]);
}

#[tokio::test]
async fn a_corp_that_holds_data_is_deleted_only_with_force_and_then_whole() {
    let app = TestApp::spawn().await;
    let (corp, token) = app
        .corp_with_orders("wwdoomed", numbered_orders(3, PAST, 1))
        .await;
    let (_, keeper_token) = app.corp_and_token("wwkeeper").await;
    // One image only the doomed corp holds, one both hold.
    let only = jpeg(3000, 1);
    let shared = jpeg(3000, 2);
    upload_image(&app, &token, &only).await;
    upload_image(&app, &token, &shared).await;
    upload_image(&app, &keeper_token, &shared).await;
    let blob_file = |bytes: &[u8]| {
        let hex = patrol_media::BlobId::of(bytes).to_hex();
        app.media_dir().join(&hex[..2]).join(&hex)
    };
    assert!(blob_file(&only).exists() && blob_file(&shared).exists());

    for query in ["", "?force=false"] {
        let (status, answer) = app
            .admin("DELETE", &format!("/corps/wwdoomed{query}"), None)
            .await;
        assert_admin_error(
            status,
            &answer,
            409,
            "conflict",
            &["wwdoomed", "1 app", "3 orders", "2 media", "force"],
        );
    }
    // Refused, nothing changed: its token still works.
    assert_eq!(errcode(&app.order_list(&token, json!({})).await), 0);
    let (status, answer) = app.admin("DELETE", "/corps/wwdoomed?force=yes", None).await;
    assert_admin_error(status, &answer, 400, "invalid_request", &["force"]);

    let (status, answer) = app
        .admin("DELETE", "/corps/wwdoomed?force=true", None)
        .await;
    assert_eq!((status, &answer), (204, &Value::Null));
    // Its token is refused at once, and its corpid gets no new one.
    assert_wecom_error(
        &app.order_list(&token, json!({})).await,
        40014,
        "invalid access_token",
    );
    assert_eq!(
        errcode(&app.gettoken_for("wwdoomed", &corp.secret).await),
        40013
    );
    let (status, answer) = app.admin("GET", "/corps/wwdoomed", None).await;
    assert_admin_error(status, &answer, 404, "not_found", &["wwdoomed"]);
    let (status, answer) = app.admin("DELETE", "/corps/wwdoomed", None).await;
    assert_admin_error(status, &answer, 404, "not_found", &["wwdoomed"]);
    // Its own blob is gone; the one another corp holds stays and still serves it.
    assert!(!blob_file(&only).exists());
    assert!(blob_file(&shared).exists());
    assert_eq!(errcode(&app.order_list(&keeper_token, json!({})).await), 0);
    // The corpid is free for a new corp, which starts empty.
    app.admin_expect(
        "POST",
        "/corps",
        Some(json!({"corpid": "wwdoomed", "name": "重生"})),
        201,
    )
    .await;
    assert_eq!(
        walk_ids(&app, "wwdoomed", "", 10).await,
        Vec::<String>::new()
    );
    // A corp that holds nothing goes without force.
    app.admin_expect("DELETE", "/corps/wwdoomed", None, 204)
        .await;
}

#[tokio::test]
async fn the_demo_corp_may_be_deleted_like_any_other() {
    let app = TestApp::spawn().await;
    let demo = app.demo_corp().await;
    let token = app.token(&demo).await;
    let (status, answer) = app
        .admin("DELETE", &format!("/corps/{}", demo.corpid), None)
        .await;
    assert_admin_error(status, &answer, 409, "conflict", &[&demo.corpid, "orders"]);
    app.admin_expect(
        "DELETE",
        &format!("/corps/{}?force=true", demo.corpid),
        None,
        204,
    )
    .await;
    assert_wecom_error(
        &app.order_list(&token, json!({})).await,
        40014,
        "invalid access_token",
    );
    assert_eq!(
        app.admin_expect("GET", "/corps", None, 200).await,
        json!({"corps": []})
    );
}
