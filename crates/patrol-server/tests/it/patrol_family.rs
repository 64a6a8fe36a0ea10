//! The rest of the patrol family (`report/patrol/*` beyond the two seed endpoints), over raw HTTP:
//! shapes, the token and permission rules, isolation.

use patrol_domain::AppKind;
use patrol_test::TestApp;
use serde_json::Value;

/// `GET report/patrol/get_grid_info` with a token: status and text.
async fn grid_info(app: &TestApp, token: &str) -> (u16, String) {
    app.get(&format!(
        "/cgi-bin/report/patrol/get_grid_info?access_token={token}"
    ))
    .await
}

#[tokio::test]
async fn get_grid_info_lists_every_grid_of_the_corp_with_its_admins() {
    let app = TestApp::spawn().await;
    let corp = app.demo_corp().await;
    let token = app.token(&corp).await;
    let (status, text) = grid_info(&app, &token).await;
    assert_eq!(status, 200);
    assert!(
        text.starts_with(r#"{"errcode":0,"errmsg":"ok","grid_list":[{"grid_id":""#),
        "{text}"
    );
    let answer: Value = serde_json::from_str(&text).unwrap();
    let listed = answer["grid_list"].as_array().unwrap();
    let stored = app.store.list_grids(corp.key).await.unwrap();
    assert_eq!(listed.len(), stored.len());
    for (item, grid) in listed.iter().zip(&stored) {
        assert_eq!(item.as_object().unwrap().len(), 3, "{item}");
        assert_eq!(item["grid_id"], grid.grid_id.as_str());
        assert!(
            item["grid_name"].is_string(),
            "a string, not WeCom's typo: {item}"
        );
        assert_eq!(item["grid_name"], grid.name.as_str());
        assert_eq!(item["grid_admin"], serde_json::json!(grid.admins));
    }
    // A parent comes before its children.
    let position = |id: &str| stored.iter().position(|g| g.grid_id == id).unwrap();
    for grid in &stored {
        if let Some(parent) = &grid.parent {
            assert!(position(parent) < position(&grid.grid_id));
        }
    }
    // Any method; a body is not read.
    let (status, posted) = app
        .post(
            &format!("/cgi-bin/report/patrol/get_grid_info?access_token={token}"),
            "not json",
        )
        .await;
    assert_eq!((status, posted), (200, text));
}

#[tokio::test]
async fn get_grid_info_follows_the_token_and_permission_rules() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwgrids").await;
    let other = app.corp("wwgridsother").await;
    let token = app.token(&corp).await;
    app.app(
        &corp,
        1_000_011,
        AppKind::Custom,
        false,
        true,
        "no-patrol-secret",
    )
    .await;
    let forbidden = app.token_for(&corp.corpid, "no-patrol-secret").await;
    for (token, errcode) in [("", 41001), ("never-issued", 40014), (&*forbidden, 48002)] {
        let (status, text) = grid_info(&app, token).await;
        assert_eq!(status, 200);
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["errcode"], errcode, "{answer}");
        assert_eq!(answer.as_object().unwrap().len(), 2, "{answer}");
    }
    // Each corp sees its own grids only: as many as it has, whatever the other corp has.
    app.new_grid(
        &other.corpid,
        serde_json::json!({"grid_id": "theirs", "name": "别家网格", "admins": ["admin"]}),
    )
    .await;
    let (_, text) = grid_info(&app, &token).await;
    let mine: Value = serde_json::from_str(&text).unwrap();
    let listed: Vec<&str> = mine["grid_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["grid_id"].as_str().unwrap())
        .collect();
    let own: Vec<String> = app
        .store
        .list_grids(corp.key)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.grid_id)
        .collect();
    assert_eq!(listed, own);
    assert!(!listed.contains(&"theirs"));
}
