//! The client's grid and category calls (`report/grid/*`): against a real patrol server, and
//! against a stub that answers `list_cata` in the older `cata_list` shape.

use std::time::Duration;

use axum::Router;
use axum::routing::any;
use patrol_client::{
    AddCategoryRequest, AddGridRequest, Client, Error, RetryPolicy, UpdateCategoryRequest,
    UpdateGridRequest, codes,
};
use patrol_test::{TestApp, TestCorp};
use serde_json::json;

fn client_at(base_url: &str, corpid: &str, secret: &str) -> Client {
    Client::builder()
        .base_url(base_url)
        .corpid(corpid)
        .secret(secret)
        .retry(RetryPolicy {
            max_retries: 1,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(20),
        })
        .build()
        .expect("the client builds")
}

/// A client of the corp's app on the 居民联系 list.
async fn contact_client(app: &TestApp, corp: &TestCorp) -> Client {
    app.contact_token(corp).await;
    client_at(
        &app.base_url,
        &corp.corpid,
        &format!("{}-contact-secret", corp.corpid),
    )
}

fn json_answer(value: serde_json::Value) -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
}

#[track_caller]
fn api_error<T: std::fmt::Debug>(result: Result<T, Error>) -> i64 {
    match result {
        Err(Error::Api { errcode, .. }) => errcode,
        other => panic!("a WeCom error, not {other:?}"),
    }
}

#[tokio::test]
async fn grids_and_categories_round_trip() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwclientgrid").await;
    let client = contact_client(&app, &corp).await;

    let added = client
        .add_grid(&AddGridRequest {
            grid_name: Some("二号网格".into()),
            grid_parent_id: Some("g1".into()),
            grid_admin: Some(vec!["admin".into(), "ghost".into()]),
            grid_member: Some(vec!["worker1".into()]),
        })
        .await
        .unwrap();
    assert_eq!(added.invalid_userids, ["ghost"]);
    let grid_id = added.grid_id;

    let grids = client.list_grids(None).await.unwrap();
    assert_eq!(grids.len(), 2);
    assert_eq!(grids[1].grid_id, grid_id);
    assert_eq!(grids[1].grid_parent_id, "g1");
    assert_eq!(grids[1].grid_admin, ["admin"]);
    let under = client.list_grids(Some(&grid_id)).await.unwrap();
    assert_eq!(under.len(), 1);

    let invalid = client
        .update_grid(&UpdateGridRequest {
            grid_id: Some(grid_id.clone()),
            grid_member: Some(vec!["worker2".into(), "nobody".into()]),
            ..UpdateGridRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(invalid, ["nobody"]);
    let info = client.get_user_grid_info("worker2").await.unwrap();
    assert!(info.manage_grids.is_empty());
    assert_eq!(info.joined_grids.len(), 2);
    assert_eq!(info.joined_grids[1].grid_name, "二号网格");

    // WeCom's refusals are errors with their codes.
    assert_eq!(
        api_error(client.delete_grid(&grid_id).await),
        codes::GRID_NOT_EMPTY
    );
    assert_eq!(
        api_error(client.delete_grid("ghost").await),
        codes::INVALID_GRID_ID
    );
    assert_eq!(
        api_error(client.get_user_grid_info("ghost").await),
        codes::USERID_NOT_FOUND
    );
    client
        .update_grid(&UpdateGridRequest {
            grid_id: Some(grid_id.clone()),
            grid_member: Some(Vec::new()),
            ..UpdateGridRequest::default()
        })
        .await
        .unwrap();
    client.delete_grid(&grid_id).await.unwrap();

    let top = client
        .add_category(&AddCategoryRequest {
            category_name: Some("道路交通".into()),
            level: Some(1),
            parent_category_id: None,
        })
        .await
        .unwrap();
    let sub = client
        .add_category(&AddCategoryRequest {
            category_name: Some("占道经营".into()),
            level: Some(2),
            parent_category_id: Some(top.clone()),
        })
        .await
        .unwrap();
    let categories = client.list_categories().await.unwrap();
    assert_eq!(categories.len(), 4);
    assert_eq!(categories[3].category_id, sub);
    assert_eq!(categories[3].parent_category_id, top);
    assert_eq!(categories[3].level, 2);
    client
        .update_category(&UpdateCategoryRequest {
            category_id: Some(sub.clone()),
            category_name: Some("乱摆摊".into()),
            ..UpdateCategoryRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(
        api_error(
            client
                .add_category(&AddCategoryRequest {
                    category_name: Some("x".into()),
                    level: Some(2),
                    parent_category_id: Some(sub.clone()),
                })
                .await
        ),
        codes::INVALID_CATEGORY_ID
    );
    client.delete_category(&sub).await.unwrap();
    assert_eq!(
        api_error(client.delete_category(&sub).await),
        codes::INVALID_CATEGORY_ID
    );

    // An app on the patrol list only may not call them.
    let patrol = client_at(&app.base_url, &corp.corpid, &corp.secret);
    assert_eq!(
        api_error(patrol.list_categories().await),
        codes::API_FORBIDDEN
    );
}

#[tokio::test]
async fn list_cata_in_the_older_shape_reads_too() {
    let stub = Router::new()
        .route(
            "/cgi-bin/gettoken",
            any(|| async {
                json_answer(
                    json!({"errcode": 0, "errmsg": "ok", "access_token": "t", "expires_in": 7200}),
                )
            }),
        )
        .route(
            "/cgi-bin/report/grid/list_cata",
            any(|| async {
                json_answer(json!({"errcode": 0, "errmsg": "ok", "cata_list": [
                    {"cata_id": "c1", "cata_name": "市容", "level_id": 1, "parent_cata_id": ""},
                    {"cata_id": "c1a", "cata_name": 12, "level": "2", "parent_cata_id": "c1"}
                ]}))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, stub).await });
    let client = client_at(&format!("http://{address}"), "wwstub", "secret");
    let categories = client.list_categories().await.unwrap();
    assert_eq!(categories.len(), 2);
    assert_eq!(categories[0].category_id, "c1");
    assert_eq!(categories[0].level, 1);
    assert_eq!(categories[1].category_name, "12");
    assert_eq!(categories[1].level, 2);
    assert_eq!(categories[1].parent_category_id, "c1");
}
