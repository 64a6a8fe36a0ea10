//! U+0000 in every text a WeCom call takes: a text PostgreSQL cannot hold, and one a fuzzer sends
//! early. Each call answers as for any unknown or invalid value, never -1, on either backend (CI
//! runs this suite on SQLite and on PostgreSQL).

use patrol_test::{TestApp, errcode};

#[tokio::test]
async fn a_nul_in_any_text_is_an_unknown_or_invalid_value_never_a_failure() {
    let app = TestApp::spawn().await;
    let (_, token) = app.corp_and_token("wwnul").await;
    let post = |api: &'static str, body: &'static str| {
        let app = &app;
        let token = &token;
        async move {
            let (status, text) = app
                .post(
                    &format!("/cgi-bin/{api}?access_token={token}"),
                    body.to_owned(),
                )
                .await;
            (status, text)
        }
    };
    let calls: &[(&str, &str)] = &[
        ("report/patrol/get_order_info", r#"{"order_id":"a\u0000b"}"#),
        (
            "report/resident/get_order_info",
            r#"{"order_id":"a\u0000b"}"#,
        ),
        ("report/patrol/get_order_list", r#"{"cursor":"a\u0000"}"#),
        ("report/patrol/get_user_status", r#"{"userid":"a\u0000"}"#),
        ("report/patrol/get_corp_status", r#"{"grid_id":"a\u0000"}"#),
        (
            "report/patrol/category_statistic",
            r#"{"category_id":"a\u0000"}"#,
        ),
        (
            "report/grid/add",
            r#"{"grid_name":"a\u0000b","grid_parent_id":"","grid_admin":["u\u0000"]}"#,
        ),
        (
            "report/grid/add",
            r#"{"grid_name":"ab","grid_parent_id":"p\u0000","grid_admin":["u"]}"#,
        ),
        (
            "report/grid/update",
            r#"{"grid_id":"a\u0000b","grid_name":"x"}"#,
        ),
        ("report/grid/delete", r#"{"grid_id":"a\u0000b"}"#),
        ("report/grid/get_user_grid_info", r#"{"userid":"a\u0000b"}"#),
        (
            "report/grid/add_cata",
            r#"{"category_name":"a\u0000b","level":1}"#,
        ),
        (
            "report/grid/add_cata",
            r#"{"category_name":"ab","level":2,"parent_category_id":"p\u0000"}"#,
        ),
        (
            "report/grid/update_cata",
            r#"{"category_id":"a\u0000","category_name":"x"}"#,
        ),
        ("report/grid/delete_cata", r#"{"category_id":"a\u0000"}"#),
    ];
    for (api, body) in calls {
        let (status, text) = post(api, body).await;
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(status, 200, "{api} {body}: {text}");
        assert_ne!(errcode(&answer), -1, "{api} {body}: {text}");
    }
    for query in [
        format!("/cgi-bin/media/get?access_token={token}&media_id=a%00b"),
        format!("/cgi-bin/report/patrol/get_grid_info?access_token={token}&grid_id=a%00"),
        "/cgi-bin/gettoken?corpid=ww%00&corpsecret=s%00".to_owned(),
        "/cgi-bin/report/patrol/get_order_list?access_token=a%00b".to_owned(),
    ] {
        let (status, text) = app.get(&query).await;
        assert_eq!(status, 200, "{query}: {text}");
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_ne!(errcode(&answer), -1, "{query}: {text}");
    }
}
