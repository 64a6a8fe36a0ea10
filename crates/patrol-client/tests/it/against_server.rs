//! The client against a real patrol server spawned in the test (the shared harness of patrol-test):
//! full walks, filters, errors, a token expiring mid-walk, a server restart mid-walk, and many
//! concurrent callers sharing one token.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use patrol_client::{Client, Error, GetOrderListRequest, Order, OrderQuery, Page, RetryPolicy};
use patrol_domain::{AppKind, Clock, ListQuery};
use patrol_test::{TestApp, TestCorp, new_order};

/// Retries quick enough for tests, patient enough for a restart.
fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 6,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
    }
}

fn client_for(app: &TestApp, corp: &TestCorp) -> Client {
    Client::builder()
        .base_url(&app.base_url)
        .corpid(&corp.corpid)
        .secret(&corp.secret)
        .retry(fast_retries())
        .build()
        .expect("the client builds")
}

/// The server's dataset for a filter, read from its database: every order of the walk, in the
/// walk's order, as the server renders it.
async fn dataset(app: &TestApp, corp: &TestCorp, create: i64, modify: i64) -> Vec<Order> {
    let listed = app
        .store
        .list_orders(
            corp.key,
            ListQuery {
                family: patrol_domain::Family::Patrol,
                begin_create_time: create,
                begin_modify_time: modify,
                after: None,
                limit: 1_000_000,
                public_url: None,
            },
        )
        .await
        .expect("the store lists orders");
    listed
        .bodies()
        .map(|body| {
            serde_json::from_slice(&app.answered(body)).expect("the stored body is an order")
        })
        .collect()
}

/// Orders with their image URLs cut to the path: the URLs follow the server's address, which a
/// restart on a new port changes.
fn without_address(orders: &[Order]) -> Vec<Order> {
    let cut = |url: &String| match url.split_once("/media/") {
        Some((_, path)) => format!("/media/{path}"),
        None => url.clone(),
    };
    orders
        .iter()
        .map(|order| {
            let mut order = order.clone();
            order.image_urls = order.image_urls.iter().map(cut).collect();
            for step in &mut order.process_list {
                step.image_urls = step.image_urls.iter().map(cut).collect();
            }
            order
        })
        .collect()
}

fn ids(orders: &[Order]) -> Vec<&str> {
    orders.iter().map(|o| o.order_id.as_str()).collect()
}

async fn collect_orders(client: &Client, query: OrderQuery) -> Vec<Order> {
    client
        .orders(query)
        .try_collect()
        .await
        .expect("every call of the walk succeeds")
}

async fn collect_pages(client: &Client, query: OrderQuery) -> Vec<Page> {
    client
        .pages(query)
        .try_collect()
        .await
        .expect("every call of the walk succeeds")
}

/// Pages of a complete walk: full pages up to the last, `next_cursor` empty exactly on the last.
#[track_caller]
fn assert_page_shape(pages: &[Page], limit: usize, total: usize) {
    assert_eq!(pages.len(), total.div_ceil(limit).max(1), "number of pages");
    for (i, page) in pages.iter().enumerate() {
        let last = i + 1 == pages.len();
        assert_eq!(page.next_cursor.is_empty(), last, "next_cursor of page {i}");
        if !last {
            assert_eq!(page.orders.len(), limit, "size of page {i}");
        } else {
            assert!(page.orders.len() <= limit);
        }
    }
}

#[tokio::test]
async fn a_full_walk_equals_the_servers_dataset() {
    let app = TestApp::spawn().await;
    let corp = app.demo_corp().await;
    let expected = dataset(&app, &corp, 0, 0).await;
    assert_eq!(expected.len(), 240, "the demo corp has 240 orders");
    let client = client_for(&app, &corp);

    let orders = collect_orders(&client, OrderQuery::default()).await;
    assert_eq!(ids(&orders), ids(&expected));
    assert_eq!(orders, expected);
    let unique: HashSet<&str> = ids(&orders).into_iter().collect();
    assert_eq!(unique.len(), 240, "every order exactly once");

    let pages = collect_pages(&client, OrderQuery::default()).await;
    assert_page_shape(&pages, 50, 240);
    let paged: Vec<Order> = pages.into_iter().flat_map(|p| p.orders).collect();
    assert_eq!(paged, expected);

    // Every order of the walk is the order get_order_info answers, and what the server stores.
    for order in &orders {
        let info = client
            .get_order_info(&order.order_id)
            .await
            .expect("get_order_info succeeds");
        assert_eq!(&info, order);
        let body = app
            .store
            .order_body(corp.key, None, &order.order_id)
            .await
            .unwrap()
            .expect("the order is stored");
        let stored: serde_json::Value = serde_json::from_slice(&app.answered(&body)).unwrap();
        assert_eq!(serde_json::to_value(&info).unwrap(), stored);
    }
    assert_eq!(client.token_fetches(), 1, "one token for the whole walk");
}

#[tokio::test]
async fn walks_with_any_page_size_equal_the_servers_dataset() {
    let app = TestApp::spawn().await;
    let corp = app.demo_corp().await;
    let expected = dataset(&app, &corp, 0, 0).await;
    let client = client_for(&app, &corp);
    for limit in [1_usize, 7, 50] {
        let query = OrderQuery {
            limit: Some(limit as i64),
            ..OrderQuery::default()
        };
        let orders = collect_orders(&client, query.clone()).await;
        assert_eq!(ids(&orders), ids(&expected), "limit {limit}");
        assert_eq!(orders, expected, "limit {limit}");

        let pages = collect_pages(&client, query).await;
        assert_page_shape(&pages, limit, expected.len());
        let paged: Vec<Order> = pages.into_iter().flat_map(|p| p.orders).collect();
        assert_eq!(paged, expected, "limit {limit}");
    }
    assert_eq!(client.token_fetches(), 1);
}

#[tokio::test]
async fn filtered_walks_equal_the_servers_filtered_dataset() {
    let app = TestApp::spawn().await;
    let corp = app.demo_corp().await;
    let all = dataset(&app, &corp, 0, 0).await;
    let mut times: Vec<i64> = all.iter().map(|o| o.create_time).collect();
    times.sort_unstable();
    let median = times[times.len() / 2];
    let late = times[times.len() * 9 / 10];
    let client = client_for(&app, &corp);

    let mut cases = Vec::new();
    for (create, modify) in [
        (median, 0),
        (late, 0),
        (0, median),
        (0, late),
        (0, 1),
        (median, late),
    ] {
        for limit in [None, Some(7)] {
            cases.push((create, modify, limit));
        }
    }
    for (create, modify, limit) in cases {
        let expected = dataset(&app, &corp, create, modify).await;
        assert!(
            !expected.is_empty(),
            "the filter {create}/{modify} keeps orders"
        );
        if create != 0 {
            assert!(
                expected.len() < all.len(),
                "the filter {create} drops orders"
            );
            assert!(expected.iter().all(|o| o.create_time >= create));
        }
        let query = OrderQuery {
            begin_create_time: (create != 0).then_some(create),
            begin_modify_time: (modify != 0).then_some(modify),
            limit,
            cursor: None,
        };
        let orders = collect_orders(&client, query.clone()).await;
        assert_eq!(ids(&orders), ids(&expected), "{query:?}");
        assert_eq!(orders, expected, "{query:?}");

        let pages = collect_pages(&client, query.clone()).await;
        assert_page_shape(&pages, limit.unwrap_or(50) as usize, expected.len());
        let paged: Vec<Order> = pages.into_iter().flat_map(|p| p.orders).collect();
        assert_eq!(paged, expected, "{query:?}");
    }
}

#[tokio::test]
async fn a_modify_ordered_walk_sees_an_order_changed_before_it() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwclientmodify").await;
    let base = 1_700_000_000;
    app.insert(
        &corp,
        (0..5)
            .map(|i| new_order(&format!("o{i}"), base + i))
            .collect(),
    )
    .await;
    app.act(
        &corp,
        "o1",
        patrol_domain::ActionKind::Accept,
        "admin",
        base + 100,
    )
    .await;
    let client = client_for(&app, &corp);
    let by_create = collect_orders(&client, OrderQuery::default()).await;
    assert_eq!(ids(&by_create), ["o0", "o1", "o2", "o3", "o4"]);
    let by_modify = collect_orders(
        &client,
        OrderQuery {
            begin_modify_time: Some(1),
            limit: Some(2),
            ..OrderQuery::default()
        },
    )
    .await;
    assert_eq!(ids(&by_modify), ["o0", "o2", "o3", "o4", "o1"]);
    assert_eq!(by_modify, dataset(&app, &corp, 0, 1).await);
    assert_eq!(by_modify[4].process_list.len(), 2, "o1 was accepted");
}

#[tokio::test]
async fn server_errors_arrive_as_api_errors() {
    let app = TestApp::spawn().await;
    let corp = app.demo_corp().await;
    let client = client_for(&app, &corp);

    let unknown = client.get_order_info("no-such-order").await;
    assert!(
        matches!(unknown, Err(Error::Api { errcode: 40058, .. })),
        "{unknown:?}"
    );
    let empty = client.get_order_info("").await;
    assert!(
        matches!(empty, Err(Error::Api { errcode: 40063, .. })),
        "{empty:?}"
    );
    let bad_limit = client
        .get_order_list(&GetOrderListRequest {
            limit: Some(51),
            ..GetOrderListRequest::default()
        })
        .await;
    assert!(
        matches!(bad_limit, Err(Error::Api { errcode: 40058, .. })),
        "{bad_limit:?}"
    );
    let bad_cursor: Result<Vec<Order>, Error> = client
        .orders(OrderQuery {
            cursor: Some("not-a-cursor".into()),
            ..OrderQuery::default()
        })
        .try_collect()
        .await;
    assert!(
        matches!(bad_cursor, Err(Error::Api { errcode: 40058, .. })),
        "{bad_cursor:?}"
    );
    assert_eq!(client.token_fetches(), 1, "no error refetched the token");

    // A wrong secret: 40001 from gettoken, asked once.
    let wrong = Client::builder()
        .base_url(&app.base_url)
        .corpid(&corp.corpid)
        .secret("not-the-secret")
        .retry(fast_retries())
        .build()
        .unwrap();
    let answer = wrong.get_order_list(&GetOrderListRequest::default()).await;
    assert!(
        matches!(answer, Err(Error::Api { errcode: 40001, .. })),
        "{answer:?}"
    );
    assert_eq!(wrong.token_fetches(), 1, "40001 is not retried");
    let stream_error: Vec<_> = wrong.orders(OrderQuery::default()).collect().await;
    assert_eq!(stream_error.len(), 1, "the walk ends after its error");
    assert_eq!(stream_error[0].as_ref().unwrap_err().errcode(), Some(40001));

    // An unknown corpid: 40013.
    let unknown_corp = Client::builder()
        .base_url(&app.base_url)
        .corpid("wwnosuchcorp")
        .secret(&corp.secret)
        .retry(fast_retries())
        .build()
        .unwrap();
    let answer = unknown_corp.get_order_info("x").await;
    assert!(
        matches!(answer, Err(Error::Api { errcode: 40013, .. })),
        "{answer:?}"
    );
}

#[tokio::test]
async fn an_app_not_enabled_for_patrol_gets_48002_without_retries() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwclientforbidden").await;
    app.insert(&corp, vec![new_order("o1", 1_700_000_000)])
        .await;
    app.app(
        &corp,
        1_000_009,
        AppKind::Custom,
        false,
        true,
        "not-patrol-secret",
    )
    .await;
    let client = Client::builder()
        .base_url(&app.base_url)
        .corpid(&corp.corpid)
        .secret("not-patrol-secret")
        .retry(fast_retries())
        .build()
        .unwrap();
    let list = client.get_order_list(&GetOrderListRequest::default()).await;
    assert!(
        matches!(list, Err(Error::Api { errcode: 48002, .. })),
        "{list:?}"
    );
    let info = client.get_order_info("o1").await;
    assert!(
        matches!(info, Err(Error::Api { errcode: 48002, .. })),
        "{info:?}"
    );
    let err = info.unwrap_err();
    assert!(!err.is_transient() && !err.is_token_error());
    assert_eq!(
        client.token_fetches(),
        1,
        "48002 does not refetch the token"
    );
}

#[tokio::test]
async fn a_token_expiring_mid_walk_is_replaced_without_a_failed_call() {
    // The server's clock stands still and moves only when the test moves it, so its tokens
    // expire exactly between two pages without the test waiting for them.
    let app = TestApp::spawn_with(|config| {
        config.token_ttl = 2;
        config.clock = Clock::manual(1_800_000_000);
    })
    .await;
    let corp = app.corp("wwclientexpiry").await;
    let base = 1_700_000_000;
    app.insert(
        &corp,
        (0..6)
            .map(|i| new_order(&format!("o{i}"), base + i))
            .collect(),
    )
    .await;
    let expected = dataset(&app, &corp, 0, 0).await;

    // refresh_ahead zero: the client keeps its token to the last moment of its own clock, so the
    // server's expiry comes first and the call meets 42001; the default margin replaces the
    // token ahead of expiry instead. Either way no call fails.
    for margin in [Duration::ZERO, Duration::from_secs(300)] {
        let client = Client::builder()
            .base_url(&app.base_url)
            .corpid(&corp.corpid)
            .secret(&corp.secret)
            .retry(fast_retries())
            .refresh_ahead(margin)
            .build()
            .unwrap();
        let mut pages = Box::pin(client.pages(OrderQuery {
            limit: Some(1),
            ..OrderQuery::default()
        }));
        let mut seen = Vec::new();
        let mut number = 0;
        while let Some(page) = pages.next().await {
            let page = page.unwrap_or_else(|e| panic!("page {number} failed: {e}"));
            seen.extend(page.orders);
            number += 1;
            // The token of page 1 expires (by the server's clock) before page 2, and each
            // later token before the page after next.
            app.clock().advance(if number == 1 { 2 } else { 1 });
        }
        assert_eq!(seen, expected, "margin {margin:?}");
        assert!(
            client.token_fetches() >= 2,
            "the token was fetched again ({} fetches, margin {margin:?})",
            client.token_fetches()
        );
        // And a single call after another expiry, by the client's clock too (a real wait, so
        // that the client's own expiry is exercised).
        tokio::time::sleep(Duration::from_millis(2_100)).await;
        app.clock().advance(3);
        let info = client.get_order_info("o3").await.expect("get_order_info");
        assert_eq!(info, expected[3]);
    }
}

#[tokio::test]
async fn a_server_restart_mid_walk_is_survived_by_the_same_stream() {
    let mut app = TestApp::spawn().await;
    let corp = app.demo_corp().await;
    let client = client_for(&app, &corp);
    for (modify, limit) in [(0, 7), (1, 7), (0, 50)] {
        let expected = dataset(&app, &corp, 0, modify).await;
        let mut orders = Box::pin(client.orders(OrderQuery {
            begin_modify_time: (modify != 0).then_some(modify),
            limit: Some(limit),
            ..OrderQuery::default()
        }));
        let mut seen = Vec::new();
        let mut restarts = 0;
        while let Some(order) = orders.next().await {
            seen.push(order.expect("no call of the walk fails"));
            // Restart twice (with limit 7: once in the middle of a page, once on a page boundary).
            if seen.len() == 30 || seen.len() == 140 {
                app.restart_same_port().await;
                restarts += 1;
            }
        }
        assert_eq!(restarts, 2);
        assert_eq!(ids(&seen), ids(&expected), "modify {modify}, limit {limit}");
        assert_eq!(seen, expected);
    }

    // The pages stream, restarting after every tenth page.
    let expected = dataset(&app, &corp, 0, 0).await;
    let mut pages = Box::pin(client.pages(OrderQuery {
        limit: Some(3),
        ..OrderQuery::default()
    }));
    let mut seen = Vec::new();
    let mut number = 0;
    while let Some(page) = pages.next().await {
        seen.extend(page.expect("no call of the walk fails").orders);
        number += 1;
        if number % 10 == 0 {
            app.restart_same_port().await;
        }
    }
    assert_eq!(seen, expected);
    assert_eq!(client.token_fetches(), 1, "the token survives the restarts");
}

#[tokio::test]
async fn a_walk_resumes_from_its_cursor_after_a_restart() {
    let mut app = TestApp::spawn().await;
    let corp = app.demo_corp().await;
    for modify in [0, 1] {
        let expected = dataset(&app, &corp, 0, modify).await;
        let query = OrderQuery {
            begin_modify_time: (modify != 0).then_some(modify),
            limit: Some(7),
            ..OrderQuery::default()
        };

        // Walk three pages, keep the last cursor, and drop the walk and the client.
        let client = client_for(&app, &corp);
        let first: Vec<Page> = client
            .pages(query.clone())
            .take(3)
            .try_collect()
            .await
            .unwrap();
        let cursor = first[2].next_cursor.clone();
        assert!(!cursor.is_empty());
        let mut seen: Vec<Order> = first.into_iter().flat_map(|p| p.orders).collect();
        drop(client);

        // A restart on a new port, and a new client given the cursor.
        app.restart().await;
        let client = client_for(&app, &corp);
        let rest = collect_orders(
            &client,
            OrderQuery {
                cursor: Some(cursor.clone()),
                ..query.clone()
            },
        )
        .await;
        seen.extend(rest);
        assert_eq!(ids(&seen), ids(&expected), "modify {modify}");
        assert_eq!(without_address(&seen), without_address(&expected));

        // The same client, the same cursor, after a restart on the same port; and with another
        // page size, since a cursor is not bound to the limit.
        app.restart_same_port().await;
        for limit in [7, 1, 50] {
            let rest = collect_orders(
                &client,
                OrderQuery {
                    cursor: Some(cursor.clone()),
                    limit: Some(limit),
                    ..query.clone()
                },
            )
            .await;
            assert_eq!(
                without_address(&rest),
                without_address(&expected[21..]),
                "modify {modify}, limit {limit}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_callers_cause_one_token_fetch() {
    let app = TestApp::spawn().await;
    let corp = app.demo_corp().await;
    let expected = dataset(&app, &corp, 0, 0).await;
    let client = client_for(&app, &corp);
    let request = GetOrderListRequest {
        limit: Some(5),
        ..GetOrderListRequest::default()
    };
    let calls = (0..50).map(|_| {
        let client = client.clone();
        let request = request.clone();
        tokio::spawn(async move { client.get_order_list(&request).await })
    });
    let answers = futures_util::future::join_all(calls).await;
    for answer in answers {
        let answer = answer.expect("the task runs").expect("the call succeeds");
        assert_eq!(answer.order_list, expected[..5]);
    }
    assert_eq!(client.token_fetches(), 1, "one token fetch for 50 callers");

    // And 50 more on the same clones, with get_order_info: still that one token.
    let infos = futures_util::future::join_all(expected.iter().take(50).map(|order| {
        let client = client.clone();
        async move { client.get_order_info(&order.order_id).await }
    }))
    .await;
    for (info, order) in infos.into_iter().zip(&expected) {
        assert_eq!(&info.expect("get_order_info succeeds"), order);
    }
    assert_eq!(client.token_fetches(), 1);
}

#[tokio::test]
async fn the_grid_info_is_the_corps_grids() {
    let app = TestApp::spawn().await;
    let corp = app.demo_corp().await;
    let client = client_for(&app, &corp);
    let grids = client.get_grid_info().await.unwrap();
    let stored = app.store.list_grids(corp.key).await.unwrap();
    assert_eq!(grids.len(), stored.len());
    for (grid, stored) in grids.iter().zip(&stored) {
        assert_eq!(
            (&grid.grid_id, &grid.grid_name, &grid.grid_admin),
            (&stored.grid_id, &stored.name, &stored.admins)
        );
    }
}
