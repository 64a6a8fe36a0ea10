//! The front page at `/` over plain HTTP, on a server without the demo: it lists the corps and
//! apps made through the administration API, escapes what the store holds, shows no secret, is
//! bounded, answers HEAD, and leaves WeCom's empty 404 under `/cgi-bin/` alone. (The demo's page
//! in a real browser: `crates/patrol/tests/it/front_page.rs`.)

use patrol_server::front::{MAX_APPS_SHOWN, MAX_CORPS_SHOWN};
use patrol_test::TestApp;
use serde_json::json;

/// `GET /`: the status, the headers and the body.
async fn front_page(app: &TestApp) -> (u16, reqwest::header::HeaderMap, String) {
    let response = app
        .http
        .get(format!("{}/", app.base_url))
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        headers,
        response.text().await.expect("a text answer"),
    )
}

#[tokio::test]
async fn the_page_lists_the_corps_escaped_and_never_a_secret() {
    let app = TestApp::spawn().await;
    let hostile = r#"<script>alert("x")</script> & <b>Acme</b> 城管"#;
    app.admin_expect(
        "POST",
        "/corps",
        Some(json!({"corpid": "wwfront", "name": hostile, "created_at": 1_690_000_000})),
        201,
    )
    .await;
    let patrol_app = app
        .admin_expect(
            "POST",
            "/corps/wwfront/apps",
            Some(json!({"name": "<i>巡查</i>", "patrol_enabled": true})),
            201,
        )
        .await;
    let secret = patrol_app["secret"].as_str().expect("a secret").to_owned();
    let system_app = app
        .admin_expect(
            "POST",
            "/corps/wwfront/apps",
            Some(json!({"name": "系统应用", "kind": "system", "agentid": 3_010_185})),
            201,
        )
        .await;
    let other_secret = system_app["secret"].as_str().expect("a secret").to_owned();
    app.admin_expect(
        "POST",
        "/corps/wwfront/apps",
        Some(json!({"name": "off", "patrol_enabled": true, "enabled": false})),
        201,
    )
    .await;

    let (status, headers, page) = front_page(&app).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(
        page.contains(&format!("version {}", patrol_server::version::VERSION)),
        "{page}"
    );
    assert!(page.contains("WeCom-compatible"), "{page}");

    // The corp and its apps, with what each may call.
    assert!(page.contains("1 corp."), "{page}");
    assert!(page.contains("<code>wwfront</code>"), "{page}");
    assert!(
        page.contains(
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;Acme&lt;/b&gt; 城管"
        ),
        "the corp's name escaped: {page}"
    );
    assert!(
        page.contains("&lt;i&gt;巡查&lt;/i&gt;"),
        "the app's name escaped: {page}"
    );
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains("<b>Acme"), "{page}");
    assert!(!page.contains("<i>巡查"), "{page}");
    assert!(
        page.contains("<code>1000002</code> &lt;i&gt;巡查&lt;/i&gt; — custom (自建应用); may call report/patrol/*, media/*"),
        "{page}"
    );
    // A system app of a corp made before 2023-12-01 may call every family.
    assert!(
        page.contains(
            "<code>3010185</code> 系统应用 — system (系统应用); may call report/patrol/*, \
             report/resident/*, report/grid/*, media/*"
        ),
        "{page}"
    );
    assert!(
        page.contains("off — custom (自建应用); may call nothing: disabled"),
        "{page}"
    );

    // No secret, no demo.
    assert!(!page.contains(&secret), "{page}");
    assert!(!page.contains(&other_secret), "{page}");
    assert!(!page.contains("secret-"), "{page}");
    assert!(!page.contains(patrol_demo::DEMO_CORPID), "{page}");
    assert!(!page.contains("id=\"demo\""), "{page}");

    // The links.
    for link in [
        "/openapi.json",
        "/healthz",
        "/readyz",
        "/metrics",
        "/version",
    ] {
        assert!(
            page.contains(&format!("<a href=\"{link}\">")),
            "{link}: {page}"
        );
    }
    assert!(page.contains("docs/admin-api.md"), "{page}");
}

#[tokio::test]
async fn the_page_shows_the_first_corps_and_apps_and_how_many_there_are() {
    let app = TestApp::spawn().await;
    let (_, _, page) = front_page(&app).await;
    assert!(page.contains("No corp yet"), "{page}");
    assert!(!page.contains("<table id=\"corps\""), "{page}");

    for i in 0..=MAX_CORPS_SHOWN {
        app.admin_expect(
            "POST",
            "/corps",
            Some(json!({"corpid": format!("wwbound{i:03}"), "name": format!("corp {i}")})),
            201,
        )
        .await;
    }
    for i in 0..=MAX_APPS_SHOWN {
        app.admin_expect(
            "POST",
            "/corps/wwbound000/apps",
            Some(json!({"name": format!("app {i}")})),
            201,
        )
        .await;
    }
    let (status, _, page) = front_page(&app).await;
    assert_eq!(status, 200, "{page}");
    let count = MAX_CORPS_SHOWN + 1;
    assert!(
        page.contains(&format!(
            "{count} corps; the first {MAX_CORPS_SHOWN} below, all of them with GET /admin/v1/corps."
        )),
        "{page}"
    );
    // The first ones, in the order they were made; not the last.
    assert_eq!(
        page.matches("<code>wwbound").count(),
        MAX_CORPS_SHOWN,
        "{page}"
    );
    assert!(page.contains(&format!("<code>wwbound{:03}</code>", MAX_CORPS_SHOWN - 1)));
    assert!(
        !page.contains(&format!("wwbound{MAX_CORPS_SHOWN:03}")),
        "{page}"
    );
    let apps = MAX_APPS_SHOWN + 1;
    assert!(
        page.contains(&format!("{apps} apps; the first {MAX_APPS_SHOWN} above.")),
        "{page}"
    );
    assert!(
        page.contains(&format!("app {}", MAX_APPS_SHOWN - 1)),
        "{page}"
    );
    assert!(!page.contains(&format!("app {MAX_APPS_SHOWN}<")), "{page}");
}

#[tokio::test]
async fn head_answers_the_pages_headers_and_cgi_bin_keeps_its_empty_404() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .head(format!("{}/", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    assert!(response.text().await.unwrap().is_empty());

    // Only `/` is new: other methods are refused, unknown paths stay empty 404s.
    let (status, _) = app.post("/", "").await;
    assert_eq!(status, 405);
    for path in [
        "/cgi-bin/",
        "/cgi-bin/x",
        "/cgi-bin/report/patrol/",
        "/index.html",
    ] {
        let (status, body) = app.get(path).await;
        assert_eq!((status, body.as_str()), (404, ""), "{path}");
    }
}
