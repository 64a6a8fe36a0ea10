//! What the WeCom SDKs people use send and expect (issue 10, "What real SDKs send and expect"),
//! on every endpoint of the report API: bodiless POSTs with no `Content-Type`, and answers whose
//! `errcode` is a JSON integer (one SDK treats an `errcode` of `"0"` as an error) and whose
//! `Content-Type` is exactly JSON. The upload and media/get quirks are in `media.rs`.

use patrol_domain::AppKind;
use patrol_test::{Lists, TestApp, new_order};
use serde_json::Value;

/// The POST endpoints whose every field is optional, by family.
const BODILESS: [&str; 9] = [
    "report/patrol/get_corp_status",
    "report/patrol/category_statistic",
    "report/patrol/get_order_list",
    "report/resident/get_corp_status",
    "report/resident/category_statistic",
    "report/resident/get_order_list",
    "report/grid/list",
    "report/grid/list_cata",
    // A GET endpoint posted to, as some SDKs do: the body is not read.
    "report/patrol/get_grid_info",
];

/// Every endpoint of the report API, with a body that fails (an unknown id or a missing field).
const FAILING: [(&str, &str); 17] = [
    ("report/patrol/get_corp_status", r#"{"grid_id":"nope"}"#),
    ("report/patrol/get_user_status", "{}"),
    (
        "report/patrol/category_statistic",
        r#"{"category_id":"nope"}"#,
    ),
    ("report/patrol/get_order_list", r#"{"cursor":"forged"}"#),
    ("report/patrol/get_order_info", r#"{"order_id":"nope"}"#),
    ("report/resident/get_corp_status", r#"{"grid_id":"nope"}"#),
    ("report/resident/get_user_status", r#"{"userid":"nobody"}"#),
    (
        "report/resident/category_statistic",
        r#"{"category_id":"nope"}"#,
    ),
    ("report/resident/get_order_list", r#"{"limit":51}"#),
    ("report/resident/get_order_info", "{}"),
    ("report/grid/add", "{}"),
    ("report/grid/update", r#"{"grid_id":"nope"}"#),
    ("report/grid/delete", r#"{"grid_id":"nope"}"#),
    ("report/grid/list", r#"{"grid_id":"nope"}"#),
    ("report/grid/get_user_grid_info", r#"{"userid":"nobody"}"#),
    ("report/grid/add_cata", "{}"),
    ("report/grid/delete_cata", r#"{"category_id":"nope"}"#),
];

fn assert_json_answer(response: &reqwest::Response, what: &str) {
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{what}: {content_type:?}"
    );
}

#[tokio::test]
async fn bodiless_posts_without_a_content_type_are_answered_and_errcodes_are_integers() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwquirks").await;
    app.insert(&corp, vec![new_order("o1", patrol_test::MODERN_CORP)])
        .await;
    let secret = "wwquirks-every-list";
    app.app_on(&corp, 1_000_040, AppKind::Custom, Lists::ALL, true, secret)
        .await;
    let token = app.token_for("wwquirks", secret).await;
    for path in BODILESS {
        // No body, no Content-Type: what reqwest, requests and axios send for `post(url)`.
        let response = app
            .http
            .post(format!(
                "{}/cgi-bin/{path}?access_token={token}",
                app.base_url
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_json_answer(&response, path);
        let answer: Value = response.json().await.unwrap();
        assert!(answer["errcode"].is_i64(), "{path}: {answer}");
        assert_eq!(answer["errcode"], 0, "{path}: {answer}");
        assert_eq!(answer["errmsg"], "ok", "{path}: {answer}");
    }
    for (path, body) in FAILING {
        for content_type in [None, Some("application/json"), Some("text/plain")] {
            let mut request = app
                .http
                .post(format!(
                    "{}/cgi-bin/{path}?access_token={token}",
                    app.base_url
                ))
                .body(body);
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            assert_json_answer(&response, path);
            let answer: Value = response.json().await.unwrap();
            assert!(answer["errcode"].is_i64(), "{path}: {answer}");
            assert_ne!(answer["errcode"], 0, "{path} {body}: {answer}");
            assert!(answer["errmsg"].is_string(), "{path}: {answer}");
        }
    }
}
