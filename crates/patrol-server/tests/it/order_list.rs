//! `get_order_list` and `get_order_info` over HTTP: limits, filters, order, cursors, walks under
//! concurrent changes, and the order object on the wire (decisions.md, "get_order_list",
//! "get_order_info", "The order object", "The workflow").

use std::collections::{HashMap, HashSet};
use std::fmt;

use patrol_domain::{Action, ActionKind, AppKind, Media};
use patrol_test::{
    INFO_PREFIX, PAST, TestApp, TestCorp, assert_invalid, errcode, errmsg, new_order,
    numbered_orders, order_ids,
};
use proptest::prelude::*;
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Value, json};

/// A create time well in the past (2023-11-14).
const BASE: i64 = PAST;

/// The fields of an order, in the seed's order.
const ORDER_FIELDS: [&str; 12] = [
    "order_id",
    "desc",
    "urge_type",
    "case_name",
    "grid_name",
    "grid_id",
    "create_time",
    "image_urls",
    "video_media_ids",
    "location",
    "processor_userids",
    "process_list",
];
/// The fields of `location`, in the seed's order.
const LOCATION_FIELDS: [&str; 4] = ["name", "address", "latitude", "longitude"];
/// The fields of a step, in the seed's order.
const PROCESS_FIELDS: [&str; 7] = [
    "process_type",
    "solve_userid",
    "process_desc",
    "status",
    "solved_time",
    "image_urls",
    "video_media_ids",
];

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// One successful `get_order_list` page: its order ids and its `next_cursor`.
#[track_caller]
fn page_of(answer: &Value) -> (Vec<String>, String) {
    assert_eq!(errcode(answer), 0, "{answer}");
    assert_eq!(errmsg(answer), "ok", "{answer}");
    let ids = order_ids(answer["order_list"].as_array().expect("order_list"));
    let next = answer["next_cursor"]
        .as_str()
        .expect("next_cursor is a string")
        .to_owned();
    (ids, next)
}

/// Reports `count` orders `o000`, `o001`, … created at `base`, `base + 1`, …
async fn seed(app: &TestApp, corp: &TestCorp, count: usize, base: i64) -> Vec<String> {
    let orders = numbered_orders(count, base, 3);
    let ids = orders.iter().map(|o| o.order_id.to_string()).collect();
    app.insert(corp, orders).await;
    ids
}

/// A cursor is made of `A–Z a–z 0–9 - _` only.
#[track_caller]
fn assert_cursor_charset(cursor: &str) {
    assert!(
        !cursor.is_empty()
            && cursor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "cursor {cursor:?} has a character outside A-Z a-z 0-9 - _"
    );
}

/// Walks `get_order_list` to the end and keeps each page's raw answer text.
async fn raw_walk(app: &TestApp, token: &str, filters: Value, limit: i64) -> Vec<String> {
    let mut pages = Vec::new();
    let mut cursor = String::new();
    loop {
        let mut body = filters.clone();
        body["cursor"] = cursor.clone().into();
        body["limit"] = limit.into();
        let (status, text) = app
            .post(
                &format!("/cgi-bin/report/patrol/get_order_list?access_token={token}"),
                body.to_string(),
            )
            .await;
        assert_eq!(status, 200, "{text}");
        let page: RawPage = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(page.errcode, 0, "{text}");
        assert!(page.next_cursor.is_empty() || !page.order_list.is_empty());
        pages.push(text);
        if page.next_cursor.is_empty() {
            return pages;
        }
        cursor = page.next_cursor;
    }
}

/// A `get_order_list` answer with each order kept as its raw text.
#[derive(Deserialize)]
struct RawPage {
    errcode: i64,
    next_cursor: String,
    order_list: Vec<Box<RawValue>>,
}

/// A JSON object's members in the order of the text.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Members, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

/// The member names of a raw JSON object, in the order of its text.
#[track_caller]
fn member_names(raw: &str) -> Vec<String> {
    let members: Members = serde_json::from_str(raw).unwrap_or_else(|e| panic!("{e}: {raw}"));
    members.0.into_iter().map(|(name, _)| name).collect()
}

/// The raw text of one member of a raw JSON object.
#[track_caller]
fn member(raw: &str, name: &str) -> String {
    let members: Members = serde_json::from_str(raw).unwrap();
    members
        .0
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name} in {raw}"))
        .1
        .get()
        .to_owned()
}

/// One order by `get_order_info`.
async fn info(app: &TestApp, token: &str, order_id: &str) -> Value {
    let answer = app.order_info(token, order_id).await;
    assert_eq!(errcode(&answer), 0, "{answer}");
    answer["order_info"].clone()
}

/// One order as the create-ordered list shows it.
async fn listed(app: &TestApp, token: &str, order_id: &str) -> Value {
    app.walk(token, json!({}), 50)
        .await
        .into_iter()
        .find(|o| o["order_id"] == order_id)
        .unwrap_or_else(|| panic!("{order_id} is not listed"))
}

// ---------------------------------------------------------------------------------------------
// limit
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_absent_or_zero_limit_gives_pages_of_twenty() {
    let app = TestApp::spawn().await;
    let (_, token) = app
        .corp_with_orders("wwlimitdefault", numbered_orders(45, BASE, 3))
        .await;
    for body in [
        json!({}),
        json!({ "limit": 0 }),
        json!({ "limit": null }),
        json!({ "cursor": "" }),
    ] {
        let (ids, next) = page_of(&app.order_list(&token, body.clone()).await);
        assert_eq!(ids.len(), 20, "{body}");
        assert_eq!(ids[0], "o000");
        assert_eq!(ids[19], "o019");
        // The default applies on later pages too.
        let (ids, next) = page_of(
            &app.order_list(&token, json!({ "cursor": next, "limit": 0 }))
                .await,
        );
        assert_eq!(ids.len(), 20);
        assert_eq!(ids[0], "o020");
        let (ids, next) = page_of(&app.order_list(&token, json!({ "cursor": next })).await);
        assert_eq!(ids.len(), 5);
        assert_eq!(next, "");
    }
    // An empty body is `{}`.
    let answer = app.patrol("get_order_list", &token, "").await;
    assert_eq!(page_of(&answer).0.len(), 20);
}

#[tokio::test]
async fn limits_one_and_fifty_are_taken_as_given() {
    let app = TestApp::spawn().await;
    let (_, token) = app
        .corp_with_orders("wwlimitbounds", numbered_orders(60, BASE, 3))
        .await;
    let (ids, next) = page_of(&app.order_list(&token, json!({ "limit": 1 })).await);
    assert_eq!(ids, ["o000"]);
    assert_cursor_charset(&next);
    let (ids, next) = page_of(&app.order_list(&token, json!({ "limit": 50 })).await);
    assert_eq!(ids.len(), 50);
    assert_eq!(ids[49], "o049");
    assert_cursor_charset(&next);
    for limit in [1, 2, 19, 21, 49, 50] {
        let (ids, _) = page_of(&app.order_list(&token, json!({ "limit": limit })).await);
        assert_eq!(ids.len(), limit as usize);
    }
    // A walk with limit 1 and one with limit 50 see the same orders.
    let one = order_ids(&app.walk(&token, json!({}), 1).await);
    let fifty = order_ids(&app.walk(&token, json!({}), 50).await);
    assert_eq!(one.len(), 60);
    assert_eq!(one, fifty);
}

#[tokio::test]
async fn a_limit_outside_one_to_fifty_is_refused() {
    let app = TestApp::spawn().await;
    let (_, token) = app
        .corp_with_orders("wwlimitbad", numbered_orders(3, BASE, 3))
        .await;
    for limit in [-1, 51, 100, -50, i64::MAX, i64::MIN] {
        let answer = app.order_list(&token, json!({ "limit": limit })).await;
        assert_invalid(&answer, "invalid limit");
    }
    // Also on a later page of a walk.
    let cursor = app.first_cursor(&token, json!({}), 1).await;
    for limit in [-1, 51] {
        let answer = app
            .order_list(&token, json!({ "cursor": cursor, "limit": limit }))
            .await;
        assert_invalid(&answer, "invalid limit");
    }
}

#[tokio::test]
async fn limit_may_change_from_page_to_page() {
    let app = TestApp::spawn().await;
    let (_, token) = app
        .corp_with_orders("wwlimitchange", numbered_orders(100, BASE, 3))
        .await;
    for filters in [json!({}), json!({ "begin_modify_time": 1 })] {
        let mut seen = Vec::new();
        let mut cursor = String::new();
        let limits = [3, 50, 1, 0, 7, 2, 50, 50];
        for (page, limit) in limits.into_iter().cycle().enumerate() {
            let mut body = filters.clone();
            body["cursor"] = cursor.clone().into();
            body["limit"] = limit.into();
            let (ids, next) = page_of(&app.order_list(&token, body).await);
            let expected = if limit == 0 { 20 } else { limit as usize };
            if !next.is_empty() {
                assert_eq!(ids.len(), expected, "page {page} with limit {limit}");
            }
            seen.extend(ids);
            if next.is_empty() {
                break;
            }
            cursor = next;
        }
        let expected: Vec<String> = (0..100).map(|i| format!("o{i:03}")).collect();
        assert_eq!(seen, expected, "{filters}");
    }
}

// ---------------------------------------------------------------------------------------------
// begin_create_time / begin_modify_time
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn absent_or_zero_time_filters_filter_nothing() {
    let app = TestApp::spawn().await;
    let (_, token) = app
        .corp_with_orders("wwfilternone", numbered_orders(25, BASE, 3))
        .await;
    let all = order_ids(&app.walk(&token, json!({}), 50).await);
    assert_eq!(all.len(), 25);
    for filters in [
        json!({ "begin_create_time": 0 }),
        json!({ "begin_modify_time": 0 }),
        json!({ "begin_create_time": 0, "begin_modify_time": 0 }),
        json!({ "begin_create_time": null, "begin_modify_time": null }),
    ] {
        assert_eq!(
            order_ids(&app.walk(&token, filters.clone(), 50).await),
            all,
            "{filters}"
        );
    }
}

#[tokio::test]
async fn begin_create_time_is_inclusive() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwfiltercreate").await;
    // Two orders created at the same second as the filter, one just before, one after.
    app.insert(
        &corp,
        vec![
            new_order("before", BASE - 1),
            new_order("at-1", BASE),
            new_order("after", BASE + 1),
            new_order("at-2", BASE),
        ],
    )
    .await;
    let token = app.token(&corp).await;
    let walk = |t: i64| {
        let app = &app;
        let token = &token;
        async move { order_ids(&app.walk(token, json!({ "begin_create_time": t }), 1).await) }
    };
    assert_eq!(walk(BASE).await, ["at-1", "at-2", "after"]);
    assert_eq!(walk(BASE - 1).await, ["before", "at-1", "at-2", "after"]);
    assert_eq!(walk(BASE + 1).await, ["after"]);
    assert!(walk(BASE + 2).await.is_empty());
    // Every order listed satisfies the filter.
    for order in app
        .walk(&token, json!({ "begin_create_time": BASE }), 50)
        .await
    {
        assert!(order["create_time"].as_i64().unwrap() >= BASE);
    }
}

#[tokio::test]
async fn begin_modify_time_is_inclusive() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwfiltermodify").await;
    seed(&app, &corp, 3, BASE).await; // o000..o002, modified when created
    app.act(&corp, "o000", ActionKind::Accept, "admin", BASE + 100)
        .await;
    let token = app.token(&corp).await;
    let walk = |t: i64| {
        let app = &app;
        let token = &token;
        async move { order_ids(&app.walk(token, json!({ "begin_modify_time": t }), 2).await) }
    };
    assert_eq!(walk(BASE + 100).await, ["o000"]);
    assert!(walk(BASE + 101).await.is_empty());
    assert_eq!(walk(BASE + 2).await, ["o002", "o000"]);
    assert_eq!(walk(BASE + 1).await, ["o001", "o002", "o000"]);
    assert_eq!(walk(1).await, ["o001", "o002", "o000"]);
}

#[tokio::test]
async fn both_time_filters_apply_together() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwfilterboth").await;
    app.insert(
        &corp,
        vec![
            new_order("old-untouched", BASE),
            new_order("old-touched", BASE),
            new_order("new-untouched", BASE + 300),
            new_order("new-touched", BASE + 300),
        ],
    )
    .await;
    app.act(
        &corp,
        "new-touched",
        ActionKind::Accept,
        "admin",
        BASE + 600,
    )
    .await;
    app.act(
        &corp,
        "old-touched",
        ActionKind::Accept,
        "admin",
        BASE + 500,
    )
    .await;
    let token = app.token(&corp).await;
    let walk = |filters: Value| {
        let app = &app;
        let token = &token;
        async move { order_ids(&app.walk(token, filters, 1).await) }
    };
    assert_eq!(
        walk(json!({ "begin_create_time": BASE + 200 })).await,
        ["new-untouched", "new-touched"]
    );
    // Modify-ordered: new-touched was modified before old-touched.
    assert_eq!(
        walk(json!({ "begin_modify_time": BASE + 400 })).await,
        ["new-touched", "old-touched"]
    );
    assert_eq!(
        walk(json!({ "begin_create_time": BASE + 200, "begin_modify_time": BASE + 400 })).await,
        ["new-touched"]
    );
    assert_eq!(
        walk(json!({ "begin_create_time": BASE + 200, "begin_modify_time": BASE + 300 })).await,
        ["new-untouched", "new-touched"]
    );
    assert!(
        walk(json!({ "begin_create_time": BASE + 301, "begin_modify_time": BASE + 400 }))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn negative_time_filters_are_refused() {
    let app = TestApp::spawn().await;
    let (_, token) = app
        .corp_with_orders("wwfilterneg", numbered_orders(3, BASE, 3))
        .await;
    for (field, value) in [
        ("begin_create_time", -1),
        ("begin_create_time", i64::MIN),
        ("begin_modify_time", -1),
        ("begin_modify_time", i64::MIN),
    ] {
        let mut alone = json!({});
        alone[field] = value.into();
        assert_invalid(
            &app.order_list(&token, alone).await,
            &format!("invalid {field}"),
        );
        // Alongside a valid other filter, and on a later page.
        let mut both = json!({ "begin_create_time": 5, "begin_modify_time": 5 });
        both[field] = value.into();
        assert_invalid(
            &app.order_list(&token, both.clone()).await,
            &format!("invalid {field}"),
        );
        let cursor = app.first_cursor(&token, json!({}), 1).await;
        let mut later = json!({ "cursor": cursor });
        later[field] = value.into();
        assert_invalid(
            &app.order_list(&token, later).await,
            &format!("invalid {field}"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Order of a walk
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn orders_come_by_create_time_then_insertion() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wworder").await;
    // Ids chosen so that sorting by id would give another order.
    app.insert(
        &corp,
        vec![
            new_order("z-late", BASE + 10),
            new_order("m-tie-1", BASE + 5),
            new_order("a-tie-2", BASE + 5),
            new_order("q-early", BASE),
        ],
    )
    .await;
    // A later batch: ties with the first batch come after it; earlier times come first.
    app.insert(
        &corp,
        vec![
            new_order("b-tie-3", BASE + 5),
            new_order("y-earliest", BASE - 10),
        ],
    )
    .await;
    app.insert(&corp, vec![new_order("c-tie-4", BASE + 5)])
        .await;
    let token = app.token(&corp).await;
    let expected = [
        "y-earliest",
        "q-early",
        "m-tie-1",
        "a-tie-2",
        "b-tie-3",
        "c-tie-4",
        "z-late",
    ];
    for limit in [1, 2, 3, 50] {
        assert_eq!(
            order_ids(&app.walk(&token, json!({}), limit).await),
            expected
        );
    }
    // Acting on an order does not move it in a create-ordered walk.
    app.act(&corp, "m-tie-1", ActionKind::Accept, "admin", BASE + 1000)
        .await;
    assert_eq!(order_ids(&app.walk(&token, json!({}), 2).await), expected);
    let walked = app.walk(&token, json!({}), 50).await;
    let times: Vec<i64> = walked
        .iter()
        .map(|o| o["create_time"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[tokio::test]
async fn a_modify_ordered_walk_follows_the_modification_sequence() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwordermodify").await;
    app.insert(
        &corp,
        vec![
            new_order("late", BASE + 100),
            new_order("early", BASE),
            new_order("middle", BASE + 50),
        ],
    )
    .await;
    let token = app.token(&corp).await;
    // Untouched orders: the modification sequence is the insertion order.
    assert_eq!(
        order_ids(&app.walk(&token, json!({ "begin_modify_time": 1 }), 1).await),
        ["late", "early", "middle"]
    );
    // An order acted on later comes after orders modified earlier, whatever its create_time.
    app.act(&corp, "early", ActionKind::Accept, "admin", BASE + 1000)
        .await;
    assert_eq!(
        order_ids(&app.walk(&token, json!({ "begin_modify_time": 1 }), 1).await),
        ["late", "middle", "early"]
    );
    app.act(&corp, "late", ActionKind::Accept, "admin", BASE + 1000)
        .await;
    assert_eq!(
        order_ids(&app.walk(&token, json!({ "begin_modify_time": 1 }), 2).await),
        ["middle", "early", "late"]
    );
    // The sequence, not modify_time, orders the walk: an action at an earlier time, committed
    // later, comes later.
    app.act(&corp, "middle", ActionKind::Accept, "admin", BASE + 500)
        .await;
    assert_eq!(
        order_ids(
            &app.walk(&token, json!({ "begin_modify_time": 1 }), 50)
                .await
        ),
        ["early", "late", "middle"]
    );
    // A newly reported order is a change too, even when back-dated.
    app.insert(&corp, vec![new_order("backdated", BASE - 1000)])
        .await;
    assert_eq!(
        order_ids(&app.walk(&token, json!({ "begin_modify_time": 1 }), 3).await),
        ["early", "late", "middle", "backdated"]
    );
    // The create-ordered walk is unchanged by all of this.
    assert_eq!(
        order_ids(&app.walk(&token, json!({}), 3).await),
        ["backdated", "early", "middle", "late"]
    );
}

// ---------------------------------------------------------------------------------------------
// modify_time, case_name, grid_name
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn modify_time_starts_at_create_time_and_follows_every_change() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwmodifytime").await;
    app.insert(
        &corp,
        vec![new_order("touched", BASE), new_order("untouched", BASE)],
    )
    .await;
    let token = app.token(&corp).await;
    let walk = |t: i64| {
        let app = &app;
        let token = &token;
        async move { order_ids(&app.walk(token, json!({ "begin_modify_time": t }), 5).await) }
    };
    assert_eq!(walk(BASE).await, ["touched", "untouched"]);
    assert!(walk(BASE + 1).await.is_empty());

    let mut time = BASE;
    let steps = [
        ActionKind::Accept,
        ActionKind::Assign(vec!["worker1".into()]),
        ActionKind::StartWork,
        ActionKind::Finish,
    ];
    let actors = ["admin", "admin", "worker1", "worker1"];
    for (kind, actor) in steps.into_iter().zip(actors) {
        time += 60;
        app.act(&corp, "touched", kind, actor, time).await;
        assert_eq!(walk(time).await, ["touched"], "after the action at {time}");
        assert!(walk(time + 1).await.is_empty());
        assert_eq!(walk(time - 1).await, ["touched"]);
        // The untouched order keeps its create_time as modify_time.
        assert_eq!(walk(BASE).await, ["untouched", "touched"]);
    }
}

#[tokio::test]
async fn case_and_grid_names_are_those_at_reporting_time() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwrename").await;
    app.insert(&corp, vec![new_order("before", BASE)]).await;
    let token = app.token(&corp).await;
    let old = info(&app, &token, "before").await;
    assert_eq!(old["grid_name"], "一号网格");
    assert_eq!(old["case_name"], "暴露垃圾");

    app.store
        .update_grid(
            corp.key,
            "g1",
            patrol_domain::GridPatch {
                name: Some("新名字".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.store
        .rename_category(corp.key, "c1a", "新类别")
        .await
        .unwrap();
    app.insert(&corp, vec![new_order("after", BASE + 10)]).await;
    // An action after the rename does not refresh the names either.
    app.act(&corp, "before", ActionKind::Accept, "admin", BASE + 20)
        .await;

    for order in [
        info(&app, &token, "before").await,
        listed(&app, &token, "before").await,
    ] {
        assert_eq!(order["grid_name"], "一号网格", "{order}");
        assert_eq!(order["case_name"], "暴露垃圾", "{order}");
        assert_eq!(order["grid_id"], "g1");
        assert_eq!(order["process_list"].as_array().unwrap().len(), 2);
    }
    for order in [
        info(&app, &token, "after").await,
        listed(&app, &token, "after").await,
    ] {
        assert_eq!(order["grid_name"], "新名字", "{order}");
        assert_eq!(order["case_name"], "新类别", "{order}");
        assert_eq!(order["grid_id"], "g1");
    }
}

// ---------------------------------------------------------------------------------------------
// Cursors
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn cursors_use_only_url_safe_characters() {
    let app = TestApp::spawn().await;
    let (corp, token) = app
        .corp_with_orders("wwcursorchars", numbered_orders(30, BASE, 3))
        .await;
    app.act(&corp, "o003", ActionKind::Accept, "admin", BASE + 100)
        .await;
    for filters in [
        json!({}),
        json!({ "begin_create_time": BASE + 2 }),
        json!({ "begin_modify_time": 1 }),
        json!({ "begin_create_time": BASE, "begin_modify_time": BASE }),
    ] {
        let mut cursor = String::new();
        let mut pages = 0;
        loop {
            let mut body = filters.clone();
            body["cursor"] = cursor.clone().into();
            body["limit"] = 1.into();
            let (_, next) = page_of(&app.order_list(&token, body).await);
            if next.is_empty() {
                break;
            }
            assert_cursor_charset(&next);
            pages += 1;
            cursor = next;
        }
        assert!(pages >= 20, "{filters}");
    }
}

#[tokio::test]
async fn next_cursor_is_empty_exactly_when_no_order_follows() {
    let app = TestApp::spawn().await;
    let (corp, token) = app
        .corp_with_orders("wwcursorend", numbered_orders(40, BASE, 3))
        .await;

    for filters in [json!({}), json!({ "begin_modify_time": 1 })] {
        // Exactly 40 orders with limit 20: two full pages, the second one last.
        let mut body = filters.clone();
        body["limit"] = 20.into();
        let (first, next) = page_of(&app.order_list(&token, body.clone()).await);
        assert_eq!(first.len(), 20);
        assert_cursor_charset(&next);
        body["cursor"] = next.into();
        let (second, next) = page_of(&app.order_list(&token, body).await);
        assert_eq!(second.len(), 20);
        assert_eq!(next, "", "{filters}");

        // One full page of 40.
        let mut body = filters.clone();
        body["limit"] = 40.into();
        let (all, next) = page_of(&app.order_list(&token, body).await);
        assert_eq!(all.len(), 40);
        assert_eq!(next, "");

        // Pages that do not divide 40: the last page is short and non-empty.
        for limit in [1, 3, 7, 39, 41, 50] {
            let walked = app.walk(&token, filters.clone(), limit).await;
            assert_eq!(walked.len(), 40, "limit {limit}");
        }
    }

    // A page with a filter that leaves exactly `limit` orders.
    let (ids, next) = page_of(
        &app.order_list(
            &token,
            json!({ "begin_create_time": BASE + 35, "limit": 5 }),
        )
        .await,
    );
    assert_eq!(ids.len(), 5);
    assert_eq!(next, "");

    // A filter that leaves nothing, and a corp with nothing: "" and [].
    let answer = app
        .order_list(&token, json!({ "begin_create_time": BASE + 1000 }))
        .await;
    assert_eq!(answer["next_cursor"], "");
    assert_eq!(answer["order_list"], json!([]));
    let empty = app.corp("wwcursorempty").await;
    let empty_token = app.token(&empty).await;
    for body in [
        json!({}),
        json!({ "limit": 1 }),
        json!({ "begin_modify_time": 1 }),
    ] {
        let answer = app.order_list(&empty_token, body).await;
        assert_eq!(errcode(&answer), 0);
        assert_eq!(answer["next_cursor"], "");
        assert_eq!(answer["order_list"], json!([]));
    }
    // The raw text carries the empty array, not an omitted field.
    let (_, text) = app
        .post(
            &format!("/cgi-bin/report/patrol/get_order_list?access_token={empty_token}"),
            "{}",
        )
        .await;
    assert!(
        text.contains(r#""next_cursor":"","order_list":[]"#),
        "{text}"
    );

    // The last order of a corp with 41: the third page holds one order and ends the walk.
    app.insert(&corp, vec![new_order("o040", BASE + 40)]).await;
    let cursor = app.first_cursor(&token, json!({}), 20).await;
    let (_, cursor) = page_of(
        &app.order_list(&token, json!({ "cursor": cursor, "limit": 20 }))
            .await,
    );
    assert_cursor_charset(&cursor);
    let (ids, next) = page_of(
        &app.order_list(&token, json!({ "cursor": cursor, "limit": 20 }))
            .await,
    );
    assert_eq!(ids, ["o040"]);
    assert_eq!(next, "");
}

#[tokio::test]
async fn a_cursor_is_bound_to_its_filters() {
    let app = TestApp::spawn().await;
    let (_, token) = app
        .corp_with_orders("wwcursorfilter", numbered_orders(30, BASE, 3))
        .await;
    let t = BASE + 2;
    let cases: [(Value, Vec<Value>); 5] = [
        (
            json!({}),
            vec![
                json!({ "begin_create_time": t }),
                json!({ "begin_modify_time": t }),
                json!({ "begin_create_time": 1 }),
                json!({ "begin_modify_time": 1 }),
            ],
        ),
        (
            json!({ "begin_create_time": t }),
            vec![
                json!({}),
                json!({ "begin_create_time": 0 }),
                json!({ "begin_create_time": t + 1 }),
                json!({ "begin_create_time": t - 1 }),
                json!({ "begin_modify_time": t }),
                json!({ "begin_create_time": t, "begin_modify_time": t }),
            ],
        ),
        (
            json!({ "begin_modify_time": t }),
            vec![
                json!({}),
                json!({ "begin_modify_time": 0 }),
                json!({ "begin_modify_time": t + 1 }),
                json!({ "begin_modify_time": 1 }),
                json!({ "begin_create_time": t }),
                json!({ "begin_create_time": t, "begin_modify_time": t }),
            ],
        ),
        (
            json!({ "begin_create_time": t, "begin_modify_time": t }),
            vec![
                json!({}),
                json!({ "begin_create_time": t }),
                json!({ "begin_modify_time": t }),
                json!({ "begin_create_time": t + 1, "begin_modify_time": t }),
                json!({ "begin_create_time": t, "begin_modify_time": t + 1 }),
            ],
        ),
        // The two values swapped are another filter.
        (
            json!({ "begin_create_time": t, "begin_modify_time": t + 3 }),
            vec![json!({ "begin_create_time": t + 3, "begin_modify_time": t })],
        ),
    ];
    for (issued_for, others) in cases {
        let cursor = app.first_cursor(&token, issued_for.clone(), 3).await;
        // It works with its own filters.
        let mut body = issued_for.clone();
        body["cursor"] = cursor.clone().into();
        assert_eq!(errcode(&app.order_list(&token, body).await), 0);
        for other in others {
            let mut body = other.clone();
            body["cursor"] = cursor.clone().into();
            body["limit"] = 3.into();
            let answer = app.order_list(&token, body).await;
            assert_invalid(&answer, "invalid cursor");
        }
    }
}

#[tokio::test]
async fn an_absent_filter_and_zero_are_the_same_value() {
    let app = TestApp::spawn().await;
    let (_, token) = app
        .corp_with_orders("wwcursorzero", numbered_orders(12, BASE, 3))
        .await;
    let same = [
        json!({}),
        json!({ "begin_create_time": 0 }),
        json!({ "begin_modify_time": 0 }),
        json!({ "begin_create_time": 0, "begin_modify_time": 0 }),
        json!({ "begin_create_time": null, "begin_modify_time": null }),
    ];
    for issued_for in &same {
        let cursor = app.first_cursor(&token, issued_for.clone(), 5).await;
        for used_with in &same {
            let mut body = used_with.clone();
            body["cursor"] = cursor.clone().into();
            body["limit"] = 5.into();
            let (ids, next) = page_of(&app.order_list(&token, body).await);
            assert_eq!(ids, ["o005", "o006", "o007", "o008", "o009"]);
            assert_cursor_charset(&next);
        }
    }
    // The same holds in a modify-ordered walk for the create filter.
    let cursor = app
        .first_cursor(&token, json!({ "begin_modify_time": 1 }), 5)
        .await;
    let (ids, _) = page_of(
        &app.order_list(
            &token,
            json!({ "begin_modify_time": 1, "begin_create_time": 0, "cursor": cursor }),
        )
        .await,
    );
    assert_eq!(ids.len(), 7);
}

#[tokio::test]
async fn edited_and_garbage_cursors_are_refused() {
    let app = TestApp::spawn().await;
    let (_, token) = app
        .corp_with_orders("wwcursorbad", numbered_orders(12, BASE, 3))
        .await;
    for filters in [json!({}), json!({ "begin_modify_time": 1 })] {
        let cursor = app.first_cursor(&token, filters.clone(), 3).await;
        let with_cursor = |c: &str| {
            let mut body = filters.clone();
            body["cursor"] = c.into();
            body
        };
        // Every single-character edit is refused.
        for at in 0..cursor.len() {
            let mut edited = cursor.clone().into_bytes();
            edited[at] = if edited[at] == b'A' { b'B' } else { b'A' };
            let edited = String::from_utf8(edited).unwrap();
            let answer = app.order_list(&token, with_cursor(&edited)).await;
            assert_invalid(&answer, "invalid cursor");
        }
        let long = "A".repeat(5000);
        let extended = format!("{cursor}A");
        let extended_more = format!("{cursor}AAAA");
        let truncated = &cursor[..cursor.len() - 1];
        let truncated_more = &cursor[..cursor.len() - 4];
        let reversed: String = cursor.chars().rev().collect();
        let padded = format!("{cursor}=");
        let spaced = format!(" {cursor}");
        for garbage in [
            "cursor",
            "next_cursor",
            "abc",
            "A",
            "AAAA",
            "!!!!",
            "%%",
            " ",
            "null",
            "0",
            "游标",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            long.as_str(),
            extended.as_str(),
            extended_more.as_str(),
            truncated,
            truncated_more,
            reversed.as_str(),
            padded.as_str(),
            spaced.as_str(),
        ] {
            let answer = app.order_list(&token, with_cursor(garbage)).await;
            assert_invalid(&answer, "invalid cursor");
        }
        // A cursor of the other kind of walk.
        let other = if filters == json!({}) {
            json!({ "begin_modify_time": 1 })
        } else {
            json!({})
        };
        let other_cursor = app.first_cursor(&token, other, 3).await;
        let answer = app.order_list(&token, with_cursor(&other_cursor)).await;
        assert_invalid(&answer, "invalid cursor");
        // The genuine cursor still works.
        assert_eq!(
            errcode(&app.order_list(&token, with_cursor(&cursor)).await),
            0
        );
    }
}

#[tokio::test]
async fn a_cursor_is_bound_to_its_corp_and_app() {
    let app = TestApp::spawn().await;
    let (corp, token) = app
        .corp_with_orders("wwcursorcorpa", numbered_orders(12, BASE, 3))
        .await;
    let (_, other_corp_token) = app
        .corp_with_orders("wwcursorcorpb", numbered_orders(12, BASE, 3))
        .await;
    app.app(
        &corp,
        1_000_002,
        AppKind::Custom,
        true,
        true,
        "second-app-secret",
    )
    .await;
    let other_app_token = app.token_for(&corp.corpid, "second-app-secret").await;
    for filters in [json!({}), json!({ "begin_modify_time": 1 })] {
        let cursor = app.first_cursor(&token, filters.clone(), 3).await;
        let mut body = filters.clone();
        body["cursor"] = cursor.into();
        assert_eq!(errcode(&app.order_list(&token, body.clone()).await), 0);
        assert_invalid(
            &app.order_list(&other_corp_token, body.clone()).await,
            "invalid cursor",
        );
        assert_invalid(
            &app.order_list(&other_app_token, body.clone()).await,
            "invalid cursor",
        );
    }
}

#[tokio::test]
async fn cursors_survive_a_restart() {
    let mut app = TestApp::spawn().await;
    let (_, token) = app
        .corp_with_orders("wwcursorrestart", numbered_orders(23, BASE, 3))
        .await;
    for filters in [json!({}), json!({ "begin_modify_time": 1 })] {
        let mut body = filters.clone();
        body["limit"] = 7.into();
        let (mut seen, cursor) = page_of(&app.order_list(&token, body).await);
        app.restart().await;
        let mut cursor = cursor;
        while !cursor.is_empty() {
            let mut body = filters.clone();
            body["limit"] = 7.into();
            body["cursor"] = cursor.clone().into();
            let (ids, next) = page_of(&app.order_list(&token, body).await);
            assert!(!ids.is_empty());
            seen.extend(ids);
            cursor = next;
        }
        let expected: Vec<String> = (0..23).map(|i| format!("o{i:03}")).collect();
        assert_eq!(seen, expected, "{filters}");
    }
}

// ---------------------------------------------------------------------------------------------
// Property: every order exactly once, in (create_time, insertion) order
// ---------------------------------------------------------------------------------------------

/// An order id that does not sort like the insertion order.
fn scrambled_id(index: usize) -> String {
    format!("p{:03}", (index * 919) % 1000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_walk_yields_every_order_once_in_create_order(
        offsets in prop::collection::vec(0i64..6, 0..=120),
        batch in 1usize..=40,
        limit in 1i64..=50,
        create_filter in prop_oneof![Just(0i64), 0i64..7],
    ) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (created, modified) = runtime.block_on(async {
            let app = TestApp::spawn().await;
            let corp = app.corp("wwproperty").await;
            let orders: Vec<_> = offsets
                .iter()
                .enumerate()
                .map(|(i, offset)| new_order(&scrambled_id(i), BASE + offset))
                .collect();
            for chunk in orders.chunks(batch) {
                app.insert(&corp, chunk.to_vec()).await;
            }
            let token = app.token(&corp).await;
            let filters = if create_filter == 0 {
                json!({})
            } else {
                json!({ "begin_create_time": BASE + create_filter })
            };
            let created = order_ids(&app.walk(&token, filters.clone(), limit).await);
            let mut modify_filters = filters;
            modify_filters["begin_modify_time"] = 1.into();
            let modified = order_ids(&app.walk(&token, modify_filters, limit).await);
            (created, modified)
        });
        let kept: Vec<usize> = (0..offsets.len())
            .filter(|&i| offsets[i] >= create_filter)
            .collect();
        let mut by_create = kept.clone();
        by_create.sort_by_key(|&i| (offsets[i], i));
        let expected: Vec<String> = by_create.into_iter().map(scrambled_id).collect();
        prop_assert_eq!(created, expected);
        // Untouched orders: the modification sequence is the insertion order.
        let expected: Vec<String> = kept.into_iter().map(scrambled_id).collect();
        prop_assert_eq!(modified, expected);
    }
}

// ---------------------------------------------------------------------------------------------
// Walks while orders are created and modified
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_create_ordered_walk_sees_every_order_once_under_changes() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwwalkcreate").await;
    let now = app.now();
    seed(&app, &corp, 30, now - 10_000).await;
    let token = app.token(&corp).await;

    let mut walked: Vec<Value> = Vec::new();
    let mut cursor = String::new();
    let mut inserted = Vec::new();
    let mut acted = Vec::new();
    let mut page = 0;
    loop {
        let (ids, next) = {
            let answer = app
                .order_list(&token, json!({ "cursor": cursor, "limit": 5 }))
                .await;
            walked.extend(answer["order_list"].as_array().unwrap().iter().cloned());
            page_of(&answer)
        };
        assert!(next.is_empty() || !ids.is_empty());
        if next.is_empty() {
            break;
        }
        cursor = next;
        page += 1;
        // Between pages: report an order now, act on one already returned, and act on one
        // not yet returned.
        let new_id = format!("new{page:02}");
        app.insert(&corp, vec![new_order(&new_id, app.now())]).await;
        inserted.push(new_id);
        let returned = ids.last().unwrap().clone();
        app.act(&corp, &returned, ActionKind::Accept, "admin", app.now())
            .await;
        acted.push(returned);
        if page == 2 {
            app.act(&corp, "o025", ActionKind::Accept, "admin", app.now())
                .await;
        }
        assert!(page < 100, "the walk does not end");
    }
    // Every order reported during the walk was reported with the current time: it comes at
    // the end of this walk, in order. Acting on orders moves nothing: each order exactly once.
    let mut expected: Vec<String> = (0..30).map(|i| format!("o{i:03}")).collect();
    expected.extend(inserted.iter().cloned());
    let got = order_ids(&walked);
    assert_eq!(got, expected);
    // An order acted on before it was returned is returned in its new state.
    let o025 = walked.iter().find(|o| o["order_id"] == "o025").unwrap();
    assert_eq!(o025["process_list"].as_array().unwrap().len(), 2);
    assert!(!acted.is_empty());
    // A new walk sees everything once, in create order.
    let after = order_ids(&app.walk(&token, json!({}), 5).await);
    assert_eq!(after, expected);
}

#[tokio::test]
async fn a_modify_ordered_walk_sees_changed_orders_again() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwwalkmodify").await;
    let now = app.now();
    seed(&app, &corp, 30, now - 10_000).await;
    let token = app.token(&corp).await;
    let filters = |cursor: &str| json!({ "begin_modify_time": 1, "cursor": cursor, "limit": 5 });

    let mut walked: Vec<Value> = Vec::new();
    let mut cursor = String::new();
    let mut page = 0;
    loop {
        let answer = app.order_list(&token, filters(&cursor)).await;
        walked.extend(answer["order_list"].as_array().unwrap().iter().cloned());
        let (ids, next) = page_of(&answer);
        assert!(next.is_empty() || !ids.is_empty());
        if next.is_empty() {
            break;
        }
        cursor = next;
        page += 1;
        let t = app.now();
        match page {
            // After o000..o004: act on o001 (returned).
            1 => app.act(&corp, "o001", ActionKind::Accept, "admin", t).await,
            // After o005..o009: act on o007 (returned) and o020 (not yet), report an order.
            2 => {
                app.act(&corp, "o007", ActionKind::Accept, "admin", t).await;
                app.act(&corp, "o020", ActionKind::Accept, "admin", t).await;
                app.insert(&corp, vec![new_order("new", t)]).await;
            }
            // After o010..o014: act on o001 again (already moved, not yet seen again).
            3 => {
                app.act(
                    &corp,
                    "o001",
                    ActionKind::Assign(vec!["worker1".into()]),
                    "admin",
                    t,
                )
                .await;
            }
            _ => {}
        }
        assert!(page < 100, "the walk does not end");
    }
    let got = order_ids(&walked);
    let mut expected: Vec<String> = (0..30)
        .filter(|i| *i != 20)
        .map(|i| format!("o{i:03}"))
        .collect();
    expected.extend(["o007", "o020", "new", "o001"].map(String::from));
    assert_eq!(got, expected);

    // Each order changed after it was returned came again, in its new state.
    let counts = got.iter().fold(HashMap::new(), |mut m, id| {
        *m.entry(id.as_str()).or_insert(0) += 1;
        m
    });
    for (id, count) in &counts {
        let expected = if ["o001", "o007"].contains(id) { 2 } else { 1 };
        assert_eq!(*count, expected, "{id}");
    }
    let steps = |id: &str| -> Vec<usize> {
        walked
            .iter()
            .filter(|o| o["order_id"] == id)
            .map(|o| o["process_list"].as_array().unwrap().len())
            .collect()
    };
    assert_eq!(steps("o001"), [1, 3]);
    assert_eq!(steps("o007"), [1, 2]);
    assert_eq!(steps("o020"), [2]);
    assert_eq!(steps("o000"), [1]);
}

// ---------------------------------------------------------------------------------------------
// get_order_info and the order object
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn order_info_is_byte_for_byte_the_listed_object() {
    let app = TestApp::spawn().await;
    let corp = app.demo_corp().await;
    let token = app.token(&corp).await;
    let pages = raw_walk(&app, &token, json!({}), 50).await;
    let mut count = 0;
    for page_text in &pages {
        let page: RawPage = serde_json::from_str(page_text).unwrap();
        for raw in &page.order_list {
            let order_id: String = serde_json::from_str(&member(raw.get(), "order_id")).unwrap();
            let (status, text) = app
                .post(
                    &format!("/cgi-bin/report/patrol/get_order_info?access_token={token}"),
                    json!({ "order_id": order_id }).to_string(),
                )
                .await;
            assert_eq!(status, 200);
            let object = text
                .strip_prefix(INFO_PREFIX)
                .and_then(|rest| rest.strip_suffix('}'))
                .unwrap_or_else(|| panic!("get_order_info answer of unexpected shape: {text}"));
            assert!(
                page_text.contains(object),
                "order_info of {order_id} is not verbatim in the list: {object}"
            );
            assert_eq!(object, raw.get(), "{order_id}");
            count += 1;
        }
    }
    assert_eq!(count, 240);
    // The modify-ordered walk serves the same bytes.
    let modify_pages = raw_walk(&app, &token, json!({ "begin_modify_time": 1 }), 50).await;
    let create_objects: HashSet<String> = pages
        .iter()
        .flat_map(|p| {
            let page: RawPage = serde_json::from_str(p).unwrap();
            page.order_list.into_iter().map(|r| r.get().to_owned())
        })
        .collect();
    let modify_objects: HashSet<String> = modify_pages
        .iter()
        .flat_map(|p| {
            let page: RawPage = serde_json::from_str(p).unwrap();
            page.order_list.into_iter().map(|r| r.get().to_owned())
        })
        .collect();
    assert_eq!(create_objects.len(), 240);
    assert_eq!(create_objects, modify_objects);
}

#[tokio::test]
async fn get_order_info_refuses_missing_and_unknown_ids() {
    let app = TestApp::spawn().await;
    let (_, token) = app
        .corp_with_orders("wwinfoerrors", numbered_orders(1, BASE, 3))
        .await;
    let (_, other_token) = app
        .corp_with_orders("wwinfoother", numbered_orders(0, BASE, 3))
        .await;
    for body in [r#"{}"#, r#"{"order_id":""}"#, r#"{"order_id":null}"#] {
        let answer = app.patrol("get_order_info", &token, body).await;
        assert_eq!(errcode(&answer), 40063, "{body}: {answer}");
    }
    for (token, id) in [(&token, "nope"), (&other_token, "o000")] {
        let answer = app
            .patrol(
                "get_order_info",
                token,
                &json!({ "order_id": id }).to_string(),
            )
            .await;
        assert_invalid(&answer, "invalid order_id");
    }
}

/// The demo corp's orders, each as its raw text.
async fn demo_orders(app: &TestApp, token: &str) -> Vec<String> {
    raw_walk(app, token, json!({}), 50)
        .await
        .iter()
        .flat_map(|p| {
            let page: RawPage = serde_json::from_str(p).unwrap();
            page.order_list
                .into_iter()
                .map(|r| r.get().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[track_caller]
fn assert_string_array(value: &Value, what: &str) {
    let array = value
        .as_array()
        .unwrap_or_else(|| panic!("{what} is not an array: {value}"));
    assert!(array.iter().all(Value::is_string), "{what}: {value}");
}

#[tokio::test]
async fn every_demo_order_has_every_field_with_its_type_and_order() {
    let app = TestApp::spawn().await;
    let corp = app.demo_corp().await;
    let token = app.token(&corp).await;
    let orders = demo_orders(&app, &token).await;
    assert_eq!(orders.len(), 240);
    for raw in &orders {
        // Field order, on the raw text.
        assert_eq!(member_names(raw), ORDER_FIELDS, "{raw}");
        assert_eq!(member_names(&member(raw, "location")), LOCATION_FIELDS);
        let steps: Vec<Box<RawValue>> = serde_json::from_str(&member(raw, "process_list")).unwrap();
        assert!(!steps.is_empty());
        for step in &steps {
            assert_eq!(member_names(step.get()), PROCESS_FIELDS, "{raw}");
        }

        // Types.
        let order: Value = serde_json::from_str(raw).unwrap();
        for field in ["order_id", "desc", "case_name", "grid_name", "grid_id"] {
            assert!(order[field].is_string(), "{field}: {raw}");
        }
        assert!(!order["order_id"].as_str().unwrap().is_empty());
        assert!(order["create_time"].is_i64(), "{raw}");
        let urge = order["urge_type"]
            .as_i64()
            .expect("urge_type is an integer");
        assert!((1..=3).contains(&urge), "{raw}");
        assert_string_array(&order["image_urls"], "image_urls");
        assert_string_array(&order["video_media_ids"], "video_media_ids");
        assert_string_array(&order["processor_userids"], "processor_userids");
        let location = &order["location"];
        assert!(location.is_object());
        assert!(location["name"].is_string() && location["address"].is_string());
        for field in ["latitude", "longitude"] {
            assert!(location[field].is_f64(), "{field} is not a float: {raw}");
        }
        assert!((-90.0..=90.0).contains(&location["latitude"].as_f64().unwrap()));
        assert!((-180.0..=180.0).contains(&location["longitude"].as_f64().unwrap()));
        for step in order["process_list"].as_array().unwrap() {
            let process_type = step["process_type"].as_i64().expect("process_type");
            assert!((1..=7).contains(&process_type), "{raw}");
            assert!(step["solve_userid"].is_string() && step["process_desc"].is_string());
            let status = step["status"].as_i64().expect("status is an integer");
            assert!((0..=1).contains(&status), "{raw}");
            assert!(step["solved_time"].is_i64(), "{raw}");
            assert_string_array(&step["image_urls"], "step image_urls");
            assert_string_array(&step["video_media_ids"], "step video_media_ids");
        }
        // Empty arrays are written `[]`, never omitted or null.
        for field in ["image_urls", "video_media_ids", "processor_userids"] {
            let text = member(raw, field);
            assert!(text.starts_with('['), "{field}: {text}");
        }
    }
}

#[tokio::test]
async fn the_demo_corp_has_every_urgency_step_and_state_rendered_consistently() {
    let app = TestApp::spawn().await;
    let corp = app.demo_corp().await;
    let token = app.token(&corp).await;
    let orders: Vec<Value> = demo_orders(&app, &token)
        .await
        .iter()
        .map(|raw| serde_json::from_str(raw).unwrap())
        .collect();
    let mut urgencies = HashSet::new();
    let mut types = HashSet::new();
    let mut last_types = HashSet::new();
    let mut with_images = false;
    let mut with_videos = false;
    for order in &orders {
        urgencies.insert(order["urge_type"].as_i64().unwrap());
        with_images |= !order["image_urls"].as_array().unwrap().is_empty();
        with_videos |= !order["video_media_ids"].as_array().unwrap().is_empty();
        let steps = order["process_list"].as_array().unwrap();
        let processors = order["processor_userids"].as_array().unwrap();
        let create_time = order["create_time"].as_i64().unwrap();
        // Step 1 is the create step by the reporter at create_time, and only step 1 is.
        assert_eq!(steps[0]["process_type"], 1, "{order}");
        assert_eq!(steps[0]["solved_time"], create_time, "{order}");
        assert!(steps[1..].iter().all(|s| s["process_type"] != 1), "{order}");
        let last = steps.last().unwrap();
        let last_type = last["process_type"].as_i64().unwrap();
        last_types.insert(last_type);
        let mut previous = create_time;
        for (index, step) in steps.iter().enumerate() {
            let process_type = step["process_type"].as_i64().unwrap();
            types.insert(process_type);
            let is_open = index == steps.len() - 1 && process_type == 7;
            if is_open {
                assert_eq!(step["status"], 0, "{order}");
                assert_eq!(step["solve_userid"], "", "{order}");
                assert_eq!(step["solved_time"], 0, "{order}");
            } else {
                assert_eq!(step["status"], 1, "{order}");
                assert!(
                    !step["solve_userid"].as_str().unwrap().is_empty(),
                    "{order}"
                );
                let solved = step["solved_time"].as_i64().unwrap();
                assert!(solved >= previous, "steps go back in time: {order}");
                previous = solved;
            }
            // Closing steps end the order.
            if [5, 6].contains(&process_type) {
                assert_eq!(index, steps.len() - 1, "a step after closing: {order}");
            }
        }
        match last_type {
            5 | 6 => assert!(processors.is_empty(), "{order}"),
            7 => {
                assert_eq!(processors.len(), 1, "{order}");
                // The one who started work is the one processor.
                let starter = &steps[steps.len() - 2];
                assert!(starter["status"] == 1, "{order}");
            }
            _ => assert!(!processors.is_empty(), "{order}"),
        }
        if steps.len() == 1 {
            assert!(!processors.is_empty(), "a new order has its grid's admins");
        }
    }
    assert_eq!(urgencies, HashSet::from([1, 2, 3]));
    assert_eq!(types, (1..=7).collect::<HashSet<i64>>());
    // Every state: new (1), assigned (3), transferred (4), in progress (7), done (5), rejected (6).
    assert_eq!(last_types, HashSet::from([1, 3, 4, 5, 6, 7]));
    assert!(with_images && with_videos);
}

// ---------------------------------------------------------------------------------------------
// The workflow on the wire
// ---------------------------------------------------------------------------------------------

/// A step as it must appear on the wire, without media.
fn step(process_type: i64, solve_userid: &str, desc: &str, status: i64, solved: i64) -> Value {
    json!({
        "process_type": process_type,
        "solve_userid": solve_userid,
        "process_desc": desc,
        "status": status,
        "solved_time": solved,
        "image_urls": [],
        "video_media_ids": [],
    })
}

/// Checks `processor_userids` and `process_list` in both `get_order_info` and the list.
async fn assert_workflow(
    app: &TestApp,
    token: &str,
    order_id: &str,
    processors: &[&str],
    steps: &[Value],
) {
    for order in [
        info(app, token, order_id).await,
        listed(app, token, order_id).await,
    ] {
        assert_eq!(order["processor_userids"], json!(processors), "{order}");
        assert_eq!(order["process_list"], json!(steps), "{order}");
    }
}

#[tokio::test]
async fn the_workflow_assign_start_finish_on_the_wire() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwworkflow").await;
    let t = BASE;
    app.insert(&corp, vec![new_order("w1", t)]).await;
    let token = app.token(&corp).await;
    let create = step(1, "reporter", "事件 w1", 1, t);
    assert_workflow(
        &app,
        &token,
        "w1",
        &["admin"],
        std::slice::from_ref(&create),
    )
    .await;
    let order = info(&app, &token, "w1").await;
    assert_eq!(order["create_time"], t);
    assert_eq!(order["desc"], "事件 w1");
    assert_eq!(order["urge_type"], 1);
    assert_eq!(
        order["location"],
        json!({ "name": "测试小区", "address": "测试路1号", "latitude": 30.25, "longitude": 120.125 })
    );

    // Assign to worker1, worker2 (a duplicate is dropped) by admin.
    app.act(
        &corp,
        "w1",
        ActionKind::Assign(vec!["worker1".into(), "worker2".into(), "worker1".into()]),
        "admin",
        t + 10,
    )
    .await;
    let assign = step(3, "admin", "admin acted", 1, t + 10);
    assert_workflow(
        &app,
        &token,
        "w1",
        &["worker1", "worker2"],
        &[create.clone(), assign.clone()],
    )
    .await;

    // worker2 starts work: an open step, worker2 the one processor.
    app.act(&corp, "w1", ActionKind::StartWork, "worker2", t + 20)
        .await;
    let open = step(7, "", "worker2 acted", 0, 0);
    assert_workflow(
        &app,
        &token,
        "w1",
        &["worker2"],
        &[create.clone(), assign.clone(), open],
    )
    .await;

    // worker2 finishes: the in-progress step is completed by worker2 at that time.
    app.act(&corp, "w1", ActionKind::Finish, "worker2", t + 30)
        .await;
    let started = step(7, "worker2", "worker2 acted", 1, t + 30);
    let done = step(5, "worker2", "worker2 acted", 1, t + 30);
    let closed = [create, assign, started, done];
    assert_workflow(&app, &token, "w1", &[], &closed).await;

    // A closed order takes no further step, and nothing changes.
    let refused = app
        .store
        .act_on_order(
            corp.key,
            "w1",
            Action {
                kind: ActionKind::Accept,
                actor: "admin".into(),
                description: "again".into(),
                media: Media::default(),
                time: t + 40,
            },
        )
        .await;
    assert!(refused.is_err());
    assert_workflow(&app, &token, "w1", &[], &closed).await;
    assert_eq!(
        order_ids(
            &app.walk(&token, json!({ "begin_modify_time": t + 30 }), 5)
                .await
        ),
        ["w1"]
    );
    assert!(
        app.walk(&token, json!({ "begin_modify_time": t + 31 }), 5)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_workflow_accept_transfer_start_transfer_reject_on_the_wire() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwworkflow2").await;
    let t = BASE;
    app.insert(&corp, vec![new_order("w2", t)]).await;
    let token = app.token(&corp).await;
    let create = step(1, "reporter", "事件 w2", 1, t);

    app.act(&corp, "w2", ActionKind::Accept, "admin", t + 5)
        .await;
    let accept = step(2, "admin", "admin acted", 1, t + 5);
    assert_workflow(
        &app,
        &token,
        "w2",
        &["admin"],
        &[create.clone(), accept.clone()],
    )
    .await;

    app.act(
        &corp,
        "w2",
        ActionKind::Transfer(vec!["worker1".into()]),
        "admin",
        t + 6,
    )
    .await;
    let transfer = step(4, "admin", "admin acted", 1, t + 6);
    let mut steps = vec![create, accept, transfer];
    assert_workflow(&app, &token, "w2", &["worker1"], &steps).await;

    app.act(&corp, "w2", ActionKind::StartWork, "worker1", t + 7)
        .await;
    steps.push(step(7, "", "worker1 acted", 0, 0));
    assert_workflow(&app, &token, "w2", &["worker1"], &steps).await;

    // worker1 hands over while working: the in-progress step is completed by worker1.
    app.act(
        &corp,
        "w2",
        ActionKind::Transfer(vec!["worker2".into(), "worker1".into()]),
        "worker1",
        t + 8,
    )
    .await;
    steps[3] = step(7, "worker1", "worker1 acted", 1, t + 8);
    steps.push(step(4, "worker1", "worker1 acted", 1, t + 8));
    assert_workflow(&app, &token, "w2", &["worker2", "worker1"], &steps).await;

    app.act(&corp, "w2", ActionKind::Reject, "worker2", t + 9)
        .await;
    steps.push(step(6, "worker2", "worker2 acted", 1, t + 9));
    assert_workflow(&app, &token, "w2", &[], &steps).await;
}
