//! Both report families through `Client::patrol()` and `Client::resident()` against the real
//! server: every call of each family over one corp whose orders were reported and acted on
//! through the store (a manual clock, so "today" is fixed), the counts checked against what was
//! done; a corp without categories set up through the administration API; counts sent as
//! strings, read from a stub.

use axum::Router;
use axum::routing::post;
use futures_util::TryStreamExt;
use patrol_client::{
    Client, CorpStatus, Error, Family, GetOrderListRequest, Order, OrderQuery, Page, RetryPolicy,
    UserStatus, codes,
};
use patrol_domain::{ActionKind, AppKind, Clock, NewGrid, NewOrder, Resident};
use patrol_test::{Lists, MODERN_CORP, TestApp, TestCorp, id, new_order};
use serde_json::json;

/// The server's "now": 2024-01-11 12:00 in Asia/Shanghai (04:00 UTC).
const NOW: i64 = MODERN_CORP + 10 * 86_400 - 4 * 3_600;
/// Long before today.
const OLD: i64 = MODERN_CORP + 100;
/// The secret of the corp's app on all three lists.
const ALL_LISTS_SECRET: &str = "wwreport-all-lists-secret";

fn client(app: &TestApp, corpid: &str, secret: &str) -> Client {
    Client::builder()
        .base_url(&app.base_url)
        .corpid(corpid)
        .secret(secret)
        .retry(RetryPolicy::none())
        .build()
        .expect("the client builds")
}

fn resident_order(order_id: &str, create_time: i64, name: &str) -> NewOrder {
    NewOrder {
        resident: Some(Resident {
            name: name.into(),
            mobile: "13800000000".into(),
            unionid: format!("union-{order_id}"),
        }),
        ..new_order(order_id, create_time)
    }
}

fn uncategorized(order: NewOrder) -> NewOrder {
    NewOrder {
        category: None,
        ..order
    }
}

/// A corp with grids `g1` > `g1a` and `g2`, and orders of both families in every stage:
///
/// | order | grid | reported | what happened |
/// | --- | --- | --- | --- |
/// | p1 | g1 | today | nothing (to be assigned) |
/// | p2 | g1 | before | accepted by admin (processing) |
/// | p3 | g2 | before | accepted and done today by worker2 |
/// | p4 | g1a | before, no category | rejected by admin |
/// | r1 | g1 | today | nothing (pending) |
/// | r2 | g1 | before | assigned to worker1 by admin (processing) |
/// | r3 | g1 | before | accepted and done today by admin |
/// | r4 | g1a | before, no category | rejected by admin |
async fn world() -> (TestApp, TestCorp) {
    let app = TestApp::spawn_with(|config| config.clock = Clock::manual(NOW)).await;
    let corp = app.corp("wwreport").await;
    for (grid_id, parent, admin) in [("g1a", Some("g1"), "admin"), ("g2", None, "worker2")] {
        let grid = NewGrid {
            grid_id: id(grid_id),
            name: format!("网格 {grid_id}"),
            parent: parent.map(String::from),
            admins: vec![admin.into()],
            members: vec![],
        };
        app.store.create_grid(corp.key, grid).await.unwrap();
    }
    app.app_on(
        &corp,
        1_000_010,
        AppKind::Custom,
        Lists::ALL,
        true,
        ALL_LISTS_SECRET,
    )
    .await;
    app.insert(
        &corp,
        vec![
            new_order("p1", NOW - 3_600),
            new_order("p2", OLD),
            NewOrder {
                grid: "g2".into(),
                ..new_order("p3", OLD + 1)
            },
            uncategorized(NewOrder {
                grid: "g1a".into(),
                ..new_order("p4", OLD + 2)
            }),
            resident_order("r1", NOW - 1_800, "王五"),
            resident_order("r2", OLD + 3, "赵六"),
            resident_order("r3", OLD + 4, ""),
            uncategorized(NewOrder {
                grid: "g1a".into(),
                ..resident_order("r4", OLD + 5, "钱七")
            }),
        ],
    )
    .await;
    app.act(&corp, "p2", ActionKind::Accept, "admin", OLD + 10)
        .await;
    app.act(&corp, "p3", ActionKind::Accept, "worker2", OLD + 10)
        .await;
    app.act(&corp, "p3", ActionKind::Finish, "worker2", NOW - 60)
        .await;
    app.act(&corp, "p4", ActionKind::Reject, "admin", OLD + 10)
        .await;
    let worker1 = ActionKind::Assign(vec!["worker1".into()]);
    app.act(&corp, "r2", worker1, "admin", OLD + 10).await;
    app.act(&corp, "r3", ActionKind::Accept, "admin", OLD + 10)
        .await;
    app.act(&corp, "r3", ActionKind::Finish, "admin", NOW - 10)
        .await;
    app.act(&corp, "r4", ActionKind::Reject, "admin", OLD + 10)
        .await;
    (app, corp)
}

fn ids(orders: &[Order]) -> Vec<&str> {
    orders.iter().map(|o| o.order_id.as_str()).collect()
}

#[track_caller]
fn assert_errcode<T: std::fmt::Debug>(result: Result<T, Error>, code: i64) {
    match result {
        Err(error) => assert_eq!(error.errcode(), Some(code), "{error:?}"),
        Ok(answer) => panic!("expected errcode {code}, got {answer:?}"),
    }
}

#[tokio::test]
async fn both_families_read_the_same_grids() {
    let (app, corp) = world().await;
    let client = client(&app, &corp.corpid, ALL_LISTS_SECRET);
    let grids = client.resident().grid_info().await.unwrap();
    let grid_ids: Vec<&str> = grids.iter().map(|g| g.grid_id.as_str()).collect();
    assert_eq!(
        grid_ids,
        ["g1", "g1a", "g2"],
        "a parent before its children"
    );
    assert_eq!(grids[0].grid_admin, ["admin"]);
    assert_eq!(grids[2].grid_admin, ["worker2"]);
    assert_eq!(client.patrol().grid_info().await.unwrap(), grids);
    assert_eq!(client.get_grid_info().await.unwrap(), grids);
    assert_eq!(client.family(Family::Resident).family(), Family::Resident);
    assert_eq!(client.patrol().family().to_string(), "patrol");
}

#[tokio::test]
async fn corp_status_counts_what_was_reported_and_done() {
    let (app, corp) = world().await;
    let client = client(&app, &corp.corpid, ALL_LISTS_SECRET);
    let patrol = client.patrol();
    assert_eq!(
        patrol.corp_status(None).await.unwrap(),
        CorpStatus {
            to_be_assigned: Some(1),
            processing: 1,
            added_today: 1,
            solved_today: 1,
            pending: None,
            total_case: 4,
            total_accepted: None,
            total_solved: 1,
        }
    );
    // g1 holds g1a: p1, p2 and the rejected p4, not p3 of g2.
    assert_eq!(
        patrol.corp_status(Some("g1")).await.unwrap(),
        CorpStatus {
            to_be_assigned: Some(1),
            processing: 1,
            added_today: 1,
            solved_today: 0,
            total_case: 3,
            total_solved: 0,
            ..CorpStatus::default()
        }
    );
    let g2 = patrol.corp_status(Some("g2")).await.unwrap();
    assert_eq!((g2.total_case, g2.total_solved, g2.solved_today), (1, 1, 1));
    // "" is the whole corp, as absent is.
    assert_eq!(
        patrol.corp_status(Some("")).await.unwrap(),
        patrol.corp_status(None).await.unwrap()
    );

    assert_eq!(
        client.resident().corp_status(None).await.unwrap(),
        CorpStatus {
            to_be_assigned: None,
            processing: 1,
            added_today: 1,
            solved_today: 1,
            pending: Some(1),
            total_case: 4,
            // r2 and r3 were taken; the rejected r4 never was.
            total_accepted: Some(2),
            total_solved: 1,
        }
    );
    let g1a = client.resident().corp_status(Some("g1a")).await.unwrap();
    assert_eq!(
        (g1a.total_case, g1a.total_accepted, g1a.pending),
        (1, Some(0), Some(0))
    );

    assert_errcode(
        patrol.corp_status(Some("nosuchgrid")).await,
        codes::INVALID_PARAMETER,
    );
    assert_errcode(
        client.resident().corp_status(Some("nosuchgrid")).await,
        codes::INVALID_PARAMETER,
    );
}

#[tokio::test]
async fn user_status_counts_a_members_orders_per_family() {
    let (app, corp) = world().await;
    let client = client(&app, &corp.corpid, ALL_LISTS_SECRET);
    let (patrol, resident) = (client.patrol(), client.resident());
    let status = |processing, added_today, solved_today, pending| UserStatus {
        processing,
        added_today,
        solved_today,
        pending,
    };
    // admin is the processor of p1 (new in g1) and p2 (accepted).
    assert_eq!(
        patrol.user_status("admin").await.unwrap(),
        status(2, 0, 0, None)
    );
    assert_eq!(
        patrol.user_status("worker2").await.unwrap(),
        status(0, 0, 1, None)
    );
    assert_eq!(
        patrol.user_status("reporter").await.unwrap(),
        status(0, 1, 0, None)
    );
    // admin: r1, new and untaken; r3 done today. worker1: r2, assigned.
    assert_eq!(
        resident.user_status("admin").await.unwrap(),
        status(1, 0, 1, Some(1))
    );
    assert_eq!(
        resident.user_status("worker1").await.unwrap(),
        status(1, 0, 0, Some(0))
    );
    assert_eq!(
        resident.user_status("reporter").await.unwrap(),
        status(0, 1, 0, Some(0))
    );
    assert_errcode(patrol.user_status("nobody").await, codes::USERID_NOT_FOUND);
    assert_errcode(
        resident.user_status("nobody").await,
        codes::USERID_NOT_FOUND,
    );
    assert_errcode(patrol.user_status("").await, codes::PARAMETER_MISSING);
}

#[tokio::test]
async fn category_statistic_has_a_row_per_category_and_one_for_none() {
    let (app, corp) = world().await;
    let client = client(&app, &corp.corpid, ALL_LISTS_SECRET);
    for family in [client.patrol(), client.resident()] {
        let rows = family.category_statistic(None).await.unwrap();
        let summary: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.category_id.as_str(),
                    r.category_name.as_str(),
                    r.category_level,
                    r.total_case,
                    r.total_solved,
                    r.category_type,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [("c1", "市容环境", 1, 3, 1, 1), ("", "其他", 1, 1, 0, 0)],
            "{}",
            family.family()
        );
        let children = family.category_statistic(Some("c1")).await.unwrap();
        assert_eq!(children.len(), 1);
        assert_eq!(
            (
                children[0].category_id.as_str(),
                children[0].category_level,
                children[0].total_case
            ),
            ("c1a", 2, 3)
        );
        assert_eq!(
            family.category_statistic(Some("c1a")).await.unwrap(),
            children
        );
        assert_errcode(
            family.category_statistic(Some("nosuchcategory")).await,
            codes::INVALID_PARAMETER,
        );
    }
}

#[tokio::test]
async fn a_resident_walk_has_the_resident_orders_with_their_reporters() {
    let (app, corp) = world().await;
    let client = client(&app, &corp.corpid, ALL_LISTS_SECRET);
    let resident = client.resident();
    let orders: Vec<Order> = resident
        .orders(OrderQuery::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&orders), ["r2", "r3", "r4", "r1"], "by creation time");
    for order in &orders {
        assert_eq!(order.reporter_mobile.as_deref(), Some("13800000000"));
        assert_eq!(
            order.unionid.as_deref(),
            Some(format!("union-{}", order.order_id).as_str())
        );
    }
    assert_eq!(orders[3].reporter_name.as_deref(), Some("王五"));
    assert_eq!(
        orders[1].reporter_name.as_deref(),
        Some(""),
        "unknown: \"\""
    );

    // Page by page, with cursors of the resident walk.
    let pages: Vec<Page> = resident
        .pages(OrderQuery {
            limit: Some(3),
            ..OrderQuery::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 2);
    let paged: Vec<Order> = pages.iter().flat_map(|p| p.orders.clone()).collect();
    assert_eq!(paged, orders);
    let first = resident
        .order_list(&GetOrderListRequest {
            limit: Some(3),
            ..GetOrderListRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&first.order_list), ["r2", "r3", "r4"]);
    let resume = OrderQuery {
        cursor: Some(first.next_cursor.clone()),
        ..OrderQuery::default()
    };
    let rest: Vec<Order> = resident.orders(resume.clone()).try_collect().await.unwrap();
    assert_eq!(ids(&rest), ["r1"]);
    // A resident cursor is refused by the patrol walk.
    let refused: Result<Vec<Order>, Error> = client.patrol().orders(resume).try_collect().await;
    assert_errcode(refused, codes::INVALID_PARAMETER);

    // Each order, read alone, is the order of the walk; the patrol family does not know it.
    for order in &orders {
        assert_eq!(&resident.order_info(&order.order_id).await.unwrap(), order);
        assert_errcode(
            client.patrol().order_info(&order.order_id).await,
            codes::INVALID_PARAMETER,
        );
    }

    // The patrol walk, through the family and through Client's own calls: patrol orders only,
    // without reporter fields.
    let patrol: Vec<Order> = client
        .patrol()
        .orders(OrderQuery::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&patrol), ["p2", "p3", "p4", "p1"]);
    assert!(
        patrol.iter().all(|o| o.reporter_name.is_none()
            && o.reporter_mobile.is_none()
            && o.unionid.is_none())
    );
    let old: Vec<Order> = client
        .orders(OrderQuery::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(old, patrol);
    let page = client
        .get_order_list(&GetOrderListRequest::default())
        .await
        .unwrap();
    assert_eq!(page.order_list, patrol);
    assert_eq!(client.get_order_info("p1").await.unwrap(), patrol[3]);
    assert_errcode(client.get_order_info("r1").await, codes::INVALID_PARAMETER);
    assert_eq!(client.token_fetches(), 1, "one token for every call");
}

#[tokio::test]
async fn an_app_off_the_resident_list_is_forbidden_there_only() {
    let (app, corp) = world().await;
    // The corp's first app is on the patrol list only.
    let client = client(&app, &corp.corpid, &corp.secret);
    assert_eq!(
        client.patrol().corp_status(None).await.unwrap().total_case,
        4
    );
    assert_errcode(
        client.resident().corp_status(None).await,
        codes::API_FORBIDDEN,
    );
    assert_errcode(client.resident().grid_info().await, codes::API_FORBIDDEN);
    let walk: Result<Vec<Order>, Error> = client
        .resident()
        .orders(OrderQuery::default())
        .try_collect()
        .await;
    assert_errcode(walk, codes::API_FORBIDDEN);
}

/// A corp set up as an operator would, through the administration API: no categories at all
/// (list_cata would list none), one grid, one order of each family reported without a category.
#[tokio::test]
async fn a_corp_without_categories_reads_fine() {
    let app = TestApp::spawn().await;
    let corpid = "wwbare";
    app.new_corp(corpid).await;
    app.new_users(corpid, &["admin", "reporter"]).await;
    app.new_grid(
        corpid,
        json!({"grid_id": "g1", "name": "一号网格", "admins": ["admin"]}),
    )
    .await;
    let created = app
        .new_app(
            corpid,
            json!({"name": "对接", "patrol_enabled": true, "resident_enabled": true}),
        )
        .await;
    let secret = created["secret"].as_str().unwrap();
    let client = client(&app, corpid, secret);

    // Nothing reported yet: no rows, zero counts.
    for family in [client.patrol(), client.resident()] {
        assert_eq!(family.category_statistic(None).await.unwrap(), []);
        let status = family.corp_status(None).await.unwrap();
        assert_eq!((status.total_case, status.processing), (0, 0));
    }

    app.report_in_grid(corpid, "p1", "g1", None).await;
    let body = json!({
        "order_id": "r1", "description": "楼道堆物", "grid_id": "g1", "reporter": "reporter",
        "resident": {"name": "王五", "mobile": "13800000000", "unionid": "oUnion1"},
    });
    let (status, text) = app.report(corpid, &body).await;
    assert_eq!(status, 201, "{text}");

    for (family, order_id) in [(client.patrol(), "p1"), (client.resident(), "r1")] {
        let rows = family.category_statistic(None).await.unwrap();
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(
            (rows[0].category_name.as_str(), rows[0].category_type),
            ("其他", 0)
        );
        assert_eq!(rows[0].total_case, 1);
        let orders: Vec<Order> = family
            .orders(OrderQuery::default())
            .try_collect()
            .await
            .unwrap();
        assert_eq!(ids(&orders), [order_id]);
        assert_eq!(orders[0].case_name, "");
        let status = family.corp_status(None).await.unwrap();
        assert_eq!(status.total_case, 1);
        assert_eq!(status.to_be_assigned.or(status.pending), Some(1));
    }
    let resident = client.resident().order_info("r1").await.unwrap();
    assert_eq!(
        (
            resident.reporter_name.as_deref(),
            resident.reporter_mobile.as_deref(),
            resident.unionid.as_deref()
        ),
        (Some("王五"), Some("13800000000"), Some("oUnion1"))
    );
}

/// Counts sent as strings, as WeCom's documentation prints numbers at times, read as numbers.
#[tokio::test]
async fn counts_sent_as_strings_read() {
    let answer = |body: serde_json::Value| post(move || async move { body.to_string() });
    let router = Router::new()
        .route(
            "/cgi-bin/gettoken",
            axum::routing::get(|| async {
                json!({"errcode": 0, "errmsg": "ok", "access_token": "t", "expires_in": 7200})
                    .to_string()
            }),
        )
        .route(
            "/cgi-bin/report/patrol/get_corp_status",
            answer(
                json!({"errcode": "0", "errmsg": "ok", "to_be_assigned": "1",
                "processing": "2", "added_today": "3", "solved_today": "4", "total_case": "10",
                "total_solved": "5"}),
            ),
        )
        .route(
            "/cgi-bin/report/resident/get_corp_status",
            answer(
                json!({"errcode": 0, "errmsg": "ok", "processing": "2", "pending": "7",
                "total_case": 9, "total_accepted": "8"}),
            ),
        )
        .route(
            "/cgi-bin/report/resident/get_user_status",
            answer(
                json!({"errcode": 0, "errmsg": "ok", "processing": "6", "added_today": "1",
                "solved_today": null, "pending": "2"}),
            ),
        )
        .route(
            "/cgi-bin/report/patrol/category_statistic",
            answer(json!({"errcode": 0, "errmsg": "ok", "dashboard_list": [
                {"category_id": "c1", "category_name": "市容", "category_level": "1",
                 "total_case": "12", "total_solved": "3", "category_type": "1"}]})),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = Client::builder()
        .base_url(base_url)
        .corpid("wwstub")
        .secret("stub-secret")
        .retry(RetryPolicy::none())
        .build()
        .unwrap();

    let patrol = client.patrol().corp_status(None).await.unwrap();
    assert_eq!(
        patrol,
        CorpStatus {
            to_be_assigned: Some(1),
            processing: 2,
            added_today: 3,
            solved_today: 4,
            pending: None,
            total_case: 10,
            total_accepted: None,
            total_solved: 5,
        }
    );
    let resident = client.resident().corp_status(None).await.unwrap();
    assert_eq!(
        (
            resident.processing,
            resident.pending,
            resident.total_case,
            resident.total_accepted,
            resident.added_today
        ),
        (2, Some(7), 9, Some(8), 0)
    );
    assert_eq!(
        client.resident().user_status("u").await.unwrap(),
        UserStatus {
            processing: 6,
            added_today: 1,
            solved_today: 0,
            pending: Some(2),
        }
    );
    let rows = client.patrol().category_statistic(None).await.unwrap();
    assert_eq!(
        (
            rows[0].category_level,
            rows[0].total_case,
            rows[0].total_solved
        ),
        (1, 12, 3)
    );
}
