//! `patrol snapshot save|load`: the demo database saved whole and loaded into fresh SQLite and
//! PostgreSQL databases answers every WeCom call byte for byte as before (a cursor and a token
//! taken before the save included); one corp loads next to other corps; a database holding a
//! corp of the snapshot, and a corrupt, truncated or newer file, are refused, changing nothing.

use patrol_demo::{DEMO_CORPID, DEMO_PATROL_SECRET};
use patrol_test::PgCluster;
use serde_json::{Value, json};

use crate::support::{
    Served, createdb, demo_before, demo_database, fails, patrol, same_answers, serve_on, succeeds,
    transcript,
};

/// `patrol snapshot ARGS…`, which must succeed: its stdout.
#[track_caller]
fn snapshot(args: &[&str]) -> String {
    succeeds(patrol(&["snapshot"]).args(args))
}

/// `patrol snapshot ARGS…`, which must fail: its stderr.
#[track_caller]
fn refused(args: &[&str]) -> String {
    fails(patrol(&["snapshot"]).args(args))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_state_snapshot_loaded_into_a_fresh_database_answers_every_call_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = demo_database(dir.path(), "demo.db");
    let port = patrol_test::cluster::free_port();
    // A token and a cursor taken before the save.
    let (before, token, cursor) = demo_before(&sqlite, port).await;

    let file = dir.path().join("demo.snapshot").display().to_string();
    let stdout = snapshot(&["save", &file, "--database", &sqlite]);
    assert!(
        stdout.contains(&format!("saved 1 corp(s) ({DEMO_CORPID}), 300 orders"))
            && stdout.contains("the database's secrets"),
        "{stdout}"
    );
    // It holds the database's secrets: private to its owner, as the database.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let header = std::fs::read_to_string(&file).unwrap();
    let header = header.lines().next().unwrap();
    assert!(
        header.starts_with(r#"{"format":"patrol-snapshot","version":1,"#),
        "{header}"
    );

    let fresh = dir.path().join("fresh.db").display().to_string();
    let stdout = snapshot(&["load", &file, "--database", &fresh]);
    assert!(
        stdout.contains(&format!("loaded 1 corp(s) ({DEMO_CORPID}), 300 orders"))
            && stdout.contains("the database's secrets"),
        "{stdout}"
    );
    {
        let served = serve_on(&fresh, None, port);
        let after = transcript(&served.url, &token, &cursor).await;
        same_answers(&before, &after, "saved and loaded into SQLite");
    }
    // `patrol serve --snapshot`: loaded at start into a fresh database, then on a restart the
    // database holds its corps and serves them as they are (loading again would be refused).
    let started = dir.path().join("started.db").display().to_string();
    let listen = format!("127.0.0.1:{port}");
    for start in ["first", "restart"] {
        let served = Served::start(
            &[
                "--listen",
                &listen,
                "--database",
                &started,
                "--snapshot",
                &file,
            ],
            &[],
        );
        let after = transcript(&served.url, &token, &cursor).await;
        same_answers(&before, &after, &format!("serve --snapshot, {start}"));
    }
    let stderr = fails(&mut patrol(&[
        "serve",
        "--demo",
        "--snapshot",
        &file,
        "--listen",
        &listen,
    ]));
    assert!(
        stderr.contains("--snapshot and --demo exclude each other"),
        "{stderr}"
    );

    let cluster = PgCluster::start(&[]);
    let postgres = createdb(&cluster, "loaded");
    let pg_media = dir.path().join("pg-media").display().to_string();
    snapshot(&[
        "load",
        &file,
        "--database",
        &postgres,
        "--media-dir",
        &pg_media,
    ]);
    let served = serve_on(&postgres, Some(&pg_media), port);
    let after = transcript(&served.url, &token, &cursor).await;
    same_answers(&before, &after, "saved and loaded into PostgreSQL");
    // Loaded again over itself: the corp is replaced (one transaction for its directory, the
    // foreign keys cascading), and answers the same.
    drop(served);
    let stdout = snapshot(&[
        "load",
        &file,
        "--database",
        &postgres,
        "--media-dir",
        &pg_media,
    ]);
    assert!(
        stdout.contains("300 orders") && !stdout.contains("secrets"),
        "{stdout}"
    );
    let served = serve_on(&postgres, Some(&pg_media), port);
    let after = transcript(&served.url, &token, &cursor).await;
    same_answers(&before, &after, "loaded over itself on PostgreSQL");
    // Saved again from PostgreSQL, it is the same snapshot but for its time.
    drop(served);
    let again = dir.path().join("again.snapshot").display().to_string();
    snapshot(&[
        "save",
        &again,
        "--database",
        &postgres,
        "--media-dir",
        &pg_media,
    ]);
    let body = |path: &str| {
        let text = std::fs::read_to_string(path).unwrap();
        text.lines().skip(1).map(str::to_owned).collect::<Vec<_>>()
    };
    let (first, second) = (body(&file), body(&again));
    assert_eq!(first.len(), second.len());
    let differing = first.iter().zip(&second).filter(|(a, b)| a != b).count();
    // Only the corp's record differs: its key and creation sequences are PostgreSQL's own.
    assert!(differing <= 2, "{differing} lines differ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_corp_loads_next_to_other_corps() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = demo_database(dir.path(), "demo.db");
    let file = dir.path().join("corp.snapshot").display().to_string();
    let stdout = snapshot(&["save", &file, "--corp", DEMO_CORPID, "--database", &sqlite]);
    assert!(
        stdout.contains(&format!("saved corp ({DEMO_CORPID}), 300 orders"))
            && !stdout.contains("secrets"),
        "{stdout}"
    );
    let stderr = refused(&["save", &file, "--corp", "wwnosuch", "--database", &sqlite]);
    assert!(stderr.contains("corp wwnosuch not found"), "{stderr}");

    // A database with another corp.
    let other = dir.path().join("other.db").display().to_string();
    {
        let served = Served::on_any_port(&["--database", &other, "--admin-key", "k"]);
        served
            .admin("k")
            .ok(
                "POST",
                "/corps",
                Some(json!({"corpid": "wwacme", "name": "Acme"})),
            )
            .await;
    }
    let stdout = snapshot(&["load", &file, "--database", &other]);
    assert!(
        stdout.contains(&format!("loaded corp ({DEMO_CORPID}), 300 orders")),
        "{stdout}"
    );
    let served = Served::on_any_port(&["--database", &other, "--admin-key", "k"]);
    let corps = served.admin("k").ok("GET", "/corps", None).await;
    let ids: Vec<&str> = corps["corps"]
        .as_array()
        .unwrap_or_else(|| panic!("{corps}"))
        .iter()
        .map(|corp| corp["corpid"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{corps}");
    assert!(
        ids.contains(&"wwacme") && ids.contains(&DEMO_CORPID),
        "{corps}"
    );
    // The corp answers as it did: its secret gives a token, its orders are all there.
    let wecom = served.wecom();
    let token = wecom.token(DEMO_CORPID, DEMO_PATROL_SECRET).await;
    let status = wecom
        .call("report/patrol/get_corp_status", &token, json!({}))
        .await;
    assert_eq!(status["errcode"], 0, "{status}");
    drop(served);
    let original = Served::on_any_port(&["--database", &sqlite]);
    let wecom_before = original.wecom();
    let token_before = wecom_before.token(DEMO_CORPID, DEMO_PATROL_SECRET).await;
    let status_before = wecom_before
        .call("report/patrol/get_corp_status", &token_before, json!({}))
        .await;
    assert_eq!(status, status_before);

    // Loading it again over the corp: refused with --no-replace, naming it; replaced without.
    drop(original);
    let stderr = refused(&["load", &file, "--database", &other, "--no-replace"]);
    assert!(
        stderr.contains(&format!(
            "the database holds corp(s) of the snapshot already ({DEMO_CORPID})"
        )),
        "{stderr}"
    );
    let stdout = snapshot(&["load", &file, "--database", &other]);
    assert!(
        stdout.contains(&format!("loaded corp ({DEMO_CORPID}), 300 orders")),
        "{stdout}"
    );
    let served = Served::on_any_port(&["--database", &other]);
    let wecom = served.wecom();
    let token = wecom.token(DEMO_CORPID, DEMO_PATROL_SECRET).await;
    let again = wecom
        .call("report/patrol/get_corp_status", &token, json!({}))
        .await;
    assert_eq!(again, status_before);
}

#[test]
fn a_corrupt_truncated_or_newer_file_is_refused_changing_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = demo_database(dir.path(), "demo.db");
    let file = dir.path().join("demo.snapshot");
    snapshot(&["save", &file.display().to_string(), "--database", &sqlite]);
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let target = dir.path().join("target.db").display().to_string();

    let bad = |name: &str, content: String, expected: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let stderr = refused(&["load", &path.display().to_string(), "--database", &target]);
        assert!(
            stderr.contains("not a loadable snapshot") && stderr.contains(expected),
            "{name}: {stderr}"
        );
    };
    // Cut at a line's end, and in the middle of a line.
    bad(
        "short",
        lines[..lines.len() - 1].join("\n") + "\n",
        "no end line: it is truncated",
    );
    bad("cut", text[..text.len() / 2].to_owned(), "it is truncated");
    // A byte of a medium changed.
    let bytes_line = lines
        .iter()
        .position(|line| line.starts_with(r#"{"bytes":""#))
        .unwrap();
    let mut corrupt: Vec<String> = lines.iter().map(|line| (*line).to_owned()).collect();
    let data_at = r#"{"bytes":""#.len();
    let first = corrupt[bytes_line].as_bytes()[data_at];
    let changed = if first == b'A' { "B" } else { "A" };
    corrupt[bytes_line].replace_range(data_at..=data_at, changed);
    bad("corrupt", corrupt.join("\n") + "\n", "the file is corrupt");
    // A newer version, and no snapshot at all.
    bad(
        "newer",
        text.replacen(r#""version":1,"#, r#""version":2,"#, 1),
        "of version 2, newer than this patrol reads (1)",
    );
    bad("text", "hello\n".to_owned(), "this is no patrol snapshot");
    bad("empty", String::new(), "the file is empty");
    // An order missing.
    let orders_line = lines
        .iter()
        .position(|line| line.starts_with(r#"{"orders":["#))
        .unwrap();
    let mut missing: Vec<&str> = lines.clone();
    missing.remove(orders_line);
    bad("missing", missing.join("\n") + "\n", "lacks");

    // A field of an order changed, the line still JSON: the hash of the whole file tells.
    assert!(text.contains(r#""closed":false"#));
    bad(
        "edited",
        text.replacen(r#""closed":false"#, r#""closed":true"#, 1),
        "the file is corrupt",
    );

    // Nothing of them was written: the whole file loads into the same database.
    let stdout = snapshot(&["load", &file.display().to_string(), "--database", &target]);
    assert!(
        stdout.contains("300 orders") && stdout.contains("the database's secrets"),
        "{stdout}"
    );
}

/// `GET /admin/v1/snapshot` of a server on the demo.
async fn download(served: &Served, query: &str) -> (u16, String, Vec<u8>) {
    let response = reqwest::Client::new()
        .get(format!("{}/admin/v1/snapshot{query}", served.url))
        .bearer_auth("k")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

/// `POST /admin/v1/snapshot` with `body`: the status and the JSON answer.
async fn upload(served: &Served, body: Vec<u8>) -> (u16, Value) {
    upload_to(served, "", body).await
}

/// `POST /admin/v1/snapshot{query}` with `body`: the status and the JSON answer.
async fn upload_to(served: &Served, query: &str, body: Vec<u8>) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/admin/v1/snapshot{query}", served.url))
        .bearer_auth("k")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_through_the_administration_api_and_patrol_admin() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = demo_database(dir.path(), "demo.db");
    let source = Served::on_any_port(&["--database", &sqlite, "--admin-key", "k"]);

    // One corp, streamed.
    let (status, content_type, body) = download(&source, &format!("?corp={DEMO_CORPID}")).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/x-ndjson");
    let text = String::from_utf8(body.clone()).unwrap();
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["format"], "patrol-snapshot");
    assert_eq!(header["scope"], "corp");
    assert_eq!(header["corps"], json!([DEMO_CORPID]));
    assert!(text.ends_with("\n") && text.lines().last().unwrap().starts_with(r#"{"end":"#));
    let admin = source.admin("k");
    let (status, answer) = admin.call("GET", "/snapshot?corp=wwnosuch", None).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (404, &json!("not_found")),
        "{answer}"
    );
    let (status, answer) = admin.call("GET", "/snapshot?corps=x", None).await;
    assert_eq!(status, 400, "{answer}");

    // Loaded by another server: the corp answers there as here.
    let target = Served::on_any_port(&["--database", "sqlite://{dir}/t.db", "--admin-key", "k"]);
    let (status, answer) = upload(&target, body[..body.len() / 2].to_vec()).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (400, &json!("invalid_request")),
        "{answer}"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("truncated"),
        "{answer}"
    );
    let (status, answer) = upload(&target, body.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["corps"], json!([DEMO_CORPID]), "{answer}");
    assert_eq!(answer["orders"], 300, "{answer}");
    assert_eq!(answer["secrets"], false, "{answer}");
    let (status, answer) = upload_to(&target, "?replace=false", body.clone()).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (409, &json!("conflict")),
        "{answer}"
    );
    let status_of = |served: &Served| {
        let wecom = served.wecom();
        async move {
            let token = wecom.token(DEMO_CORPID, DEMO_PATROL_SECRET).await;
            wecom
                .call("report/resident/get_corp_status", &token, json!({}))
                .await
        }
    };
    let here = status_of(&source).await;
    assert_eq!(here["errcode"], 0, "{here}");
    assert_eq!(status_of(&target).await, here);

    // Reset to empty: the corp keeps its apps (its secret still gives a token), loses the rest.
    let target_admin = target.admin("k");
    let reset = target_admin
        .ok(
            "POST",
            &format!("/corps/{DEMO_CORPID}/reset"),
            Some(json!({"to": "empty"})),
        )
        .await;
    assert_eq!(
        reset,
        json!({"corpid": DEMO_CORPID, "to": "empty", "users": 0, "grids": 0, "categories": 0,
               "media": 0, "orders": 0})
    );
    let users = target_admin
        .ok("GET", &format!("/corps/{DEMO_CORPID}/users"), None)
        .await;
    assert_eq!(users, json!({"users": []}));
    let wecom = target.wecom();
    let token = wecom.token(DEMO_CORPID, DEMO_PATROL_SECRET).await;
    let list = wecom.order_list(&token, json!({"limit": 5})).await;
    assert_eq!(list["order_list"], json!([]), "{list}");
    assert_ne!(status_of(&target).await, here);
    // Loading the snapshot again replaces the emptied corp: it answers as before.
    let (status, answer) = upload(&target, body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(status_of(&target).await, here);
    // Bad resets.
    let reset_path = format!("/corps/{DEMO_CORPID}/reset");
    let (status, answer) = target_admin
        .call("POST", &reset_path, Some(json!({"to": "full"})))
        .await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = target_admin
        .call(
            "POST",
            "/corps/wwnosuch/reset",
            Some(json!({"to": "empty"})),
        )
        .await;
    assert_eq!(status, 404, "{answer}");
    target_admin
        .ok(
            "POST",
            "/corps",
            Some(json!({"corpid": "wwacme", "name": "Acme"})),
        )
        .await;
    let (status, answer) = target_admin
        .call("POST", "/corps/wwacme/reset", Some(json!({"to": "demo"})))
        .await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only the demo corp"),
        "{answer}"
    );

    // `patrol admin snapshot save|load`: the whole state, into a third server.
    let file = dir.path().join("whole.snapshot").display().to_string();
    let admin_cli = |served: &Served, args: &[&str]| {
        let mut command = patrol(&["admin", "--server", &served.url, "--admin-key", "k"]);
        command.args(args);
        command
    };
    let stdout = succeeds(&mut admin_cli(&source, &["snapshot", "save", &file]));
    assert!(
        stdout.contains(&format!("saved 1 corp(s) ({DEMO_CORPID}), 300 orders"))
            && stdout.contains("the database's secrets"),
        "{stdout}"
    );
    let stderr = fails(&mut admin_cli(
        &source,
        &["snapshot", "save", &file, "--corp", "wwnosuch"],
    ));
    assert!(
        stderr.contains("corp wwnosuch not found (HTTP 404"),
        "{stderr}"
    );
    let third = Served::on_any_port(&["--database", "sqlite://{dir}/3.db", "--admin-key", "k"]);
    let stdout = succeeds(&mut admin_cli(&third, &["snapshot", "load", &file]));
    assert!(
        stdout.contains(&format!("loaded 1 corp(s) ({DEMO_CORPID}), 300 orders"))
            && !stdout.contains("secrets"),
        "{stdout}"
    );
    assert_eq!(status_of(&third).await, here);
    let stderr = fails(&mut admin_cli(
        &third,
        &["snapshot", "load", &file, "--no-replace"],
    ));
    assert!(
        stderr.contains("holds corp(s) of the snapshot already") && stderr.contains("HTTP 409"),
        "{stderr}"
    );
    // `patrol admin corp reset`: to empty, then to the demo again.
    let stdout = succeeds(&mut admin_cli(
        &third,
        &["corp", "reset", DEMO_CORPID, "--to", "empty"],
    ));
    assert!(
        stdout.contains(&format!(
            "reset corp {DEMO_CORPID} to empty: 0 users, 0 grids, 0 categories, 0 media, 0 orders"
        )),
        "{stdout}"
    );
    let stdout = succeeds(&mut admin_cli(
        &third,
        &["corp", "reset", DEMO_CORPID, "--to", "demo"],
    ));
    assert!(
        stdout.contains(&format!("reset corp {DEMO_CORPID} to demo:"))
            && stdout.contains(" 28 media, 300 orders"),
        "{stdout}"
    );
    let wecom = third.wecom();
    let token = wecom.token(DEMO_CORPID, DEMO_PATROL_SECRET).await;
    let order = wecom.order_list(&token, json!({"limit": 1})).await;
    let order_id = order["order_list"][0]["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let info = wecom
        .call(
            "report/patrol/get_order_info",
            &token,
            json!({"order_id": order_id}),
        )
        .await;
    assert_eq!(info["errcode"], 0, "{info}");
}
