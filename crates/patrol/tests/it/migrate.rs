//! `patrol migrate`: the demo database moved SQLite → PostgreSQL → SQLite answers every WeCom
//! call byte for byte as before (a cursor and a token taken before the move included); an
//! interrupted migrate resumes; a target holding other corps is refused; bad URLs are named.
//! PostgreSQL runs in a cluster of the test's own (`patrol_test::PgCluster`).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use patrol_demo::{DEMO_CORPID, DEMO_PATROL_SECRET};
use patrol_test::PgCluster;
use serde_json::{Value, json};

use crate::support::{Served, all_bodies, createdb, fails, patrol, seed, succeeds_with};

/// A database made by `patrol serve --demo`, the server killed once it listens.
fn demo_database(dir: &std::path::Path, name: &str) -> String {
    let database = dir.join(name).display().to_string();
    let mut served = Served::on_any_port(&["--demo", "--database", &database]);
    served.kill();
    database
}

/// A server on `database` (its media in `media`, when given) listening on `port`: the servers
/// of a test, one after the other, all listen on the same address, so their image URLs are the
/// same bytes.
fn serve(database: &str, media: Option<&str>, port: u16) -> Served {
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec!["--listen", listen.as_str(), "--database", database];
    if let Some(media) = media {
        args.extend(["--media-dir", media]);
    }
    Served::start(&args, &[])
}

/// `patrol migrate ARGS…`, which must succeed; its stdout and stderr.
#[track_caller]
fn migrate(args: &[&str]) -> (String, String) {
    let output = succeeds_with(patrol(&["migrate"]).args(args));
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A WeCom client of one server, keeping answers as the bytes it sent.
struct Raw {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Raw {
    async fn post(&self, api: &str, body: &Value) -> String {
        let answer = self
            .http
            .post(format!(
                "{}/cgi-bin/{api}?access_token={}",
                self.url, self.token
            ))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{api} {body}");
        let text = answer.text().await.unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["errcode"], 0, "{api} {body}: {text}");
        text
    }

    /// A GET of a medium: `media/get` (with the token) or a served image URL's path.
    async fn get_bytes(&self, path_and_query: &str) -> Vec<u8> {
        let token = if path_and_query.starts_with("/cgi-bin/") {
            format!("&access_token={}", self.token)
        } else {
            String::new()
        };
        let answer = self
            .http
            .get(format!("{}{path_and_query}{token}", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{path_and_query}");
        answer.bytes().await.unwrap().to_vec()
    }
}

/// Every call of WeCom's API a client makes on the demo corp, and its answer, in order: both
/// walks of both families page by page (and on from `cursor`, taken before any move), every
/// order's `get_order_info`, the statistics of the corp, of every grid, member and category,
/// the grids and categories, each member's grids, and every medium the orders show.
async fn transcript(url: &str, token: &str, cursor: &str) -> Vec<(String, Vec<u8>)> {
    let raw = Raw {
        http: reqwest::Client::new(),
        url: url.to_owned(),
        token: token.to_owned(),
    };
    let mut calls: Vec<(String, Vec<u8>)> = Vec::new();
    let mut record = |call: String, answer: Vec<u8>| calls.push((call, answer));
    let grids: Value =
        serde_json::from_str(&raw.post("report/grid/list", &json!({})).await).unwrap();
    let mut grid_ids = Vec::new();
    let mut userids = BTreeSet::new();
    for grid in grids["grid_list"].as_array().unwrap() {
        grid_ids.push(grid["grid_id"].as_str().unwrap().to_owned());
        for role in ["grid_admin", "grid_member"] {
            for user in grid[role].as_array().unwrap() {
                userids.insert(user.as_str().unwrap().to_owned());
            }
        }
    }
    record(
        "grid/list".into(),
        raw.post("report/grid/list", &json!({})).await.into_bytes(),
    );
    let text = raw.post("report/grid/list_cata", &json!({})).await;
    let categories: Value = serde_json::from_str(&text).unwrap();
    record("grid/list_cata".into(), text.into_bytes());
    let category_ids: Vec<String> = categories["category_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category_id"].as_str().unwrap().to_owned())
        .collect();
    for userid in &userids {
        let body = json!({ "userid": userid });
        record(
            format!("get_user_grid_info {userid}"),
            raw.post("report/grid/get_user_grid_info", &body)
                .await
                .into_bytes(),
        );
    }
    let mut media = BTreeSet::new();
    for family in ["patrol", "resident"] {
        let mut order_ids = Vec::new();
        // Both walks, page by page; the create-ordered one also on from the old cursor.
        let walks = [
            ("create", json!({ "limit": 7 })),
            ("modify", json!({ "limit": 9, "begin_modify_time": 1 })),
            ("cursor", json!({ "limit": 11, "cursor": cursor })),
        ];
        for (walk, first) in walks {
            if walk == "cursor" && family != "patrol" {
                continue;
            }
            let mut body = first;
            for page in 0.. {
                let text = raw
                    .post(&format!("report/{family}/get_order_list"), &body)
                    .await;
                let value: Value = serde_json::from_str(&text).unwrap();
                record(format!("{family} {walk} page {page}"), text.into_bytes());
                for order in value["order_list"].as_array().unwrap() {
                    if walk == "create" {
                        order_ids.push(order["order_id"].as_str().unwrap().to_owned());
                    }
                }
                if value["next_cursor"] == "" {
                    break;
                }
                body["cursor"] = value["next_cursor"].clone();
            }
        }
        assert!(!order_ids.is_empty(), "no {family} order");
        for order_id in &order_ids {
            let text = raw
                .post(
                    &format!("report/{family}/get_order_info"),
                    &json!({ "order_id": order_id }),
                )
                .await;
            let value: Value = serde_json::from_str(&text).unwrap();
            collect_media(url, &value, &mut media);
            record(format!("{family} order {order_id}"), text.into_bytes());
        }
        let statistics = std::iter::once(("get_corp_status", json!({})))
            .chain(
                grid_ids
                    .iter()
                    .map(|grid| ("get_corp_status", json!({ "grid_id": grid }))),
            )
            .chain(
                grid_ids
                    .iter()
                    .map(|grid| ("get_grid_info", json!({ "grid_id": grid }))),
            )
            .chain(
                userids
                    .iter()
                    .map(|user| ("get_user_status", json!({ "userid": user }))),
            )
            .chain(std::iter::once(("category_statistic", json!({}))))
            .chain(
                category_ids
                    .iter()
                    .map(|c| ("category_statistic", json!({ "category_id": c }))),
            );
        for (api, body) in statistics {
            let text = raw.post(&format!("report/{family}/{api}"), &body).await;
            record(format!("{family} {api} {body}"), text.into_bytes());
        }
    }
    assert!(!media.is_empty(), "the orders show no media");
    for path in &media {
        let bytes = raw.get_bytes(path).await;
        record(format!("GET {path}"), bytes);
    }
    calls
}

/// The paths of an order's images (served under the server's `url`) and videos (media/get).
fn collect_media(url: &str, value: &Value, media: &mut BTreeSet<String>) {
    match value {
        Value::String(text) if text.starts_with(url) => {
            media.insert(text[url.len()..].to_owned());
        }
        Value::Object(map) => {
            for (key, value) in map {
                if key == "video_media_ids" {
                    for id in value.as_array().into_iter().flatten() {
                        if let Some(id) = id.as_str() {
                            media.insert(format!("/cgi-bin/media/get?media_id={id}"));
                        }
                    }
                } else {
                    collect_media(url, value, media);
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_media(url, item, media)),
        _ => {}
    }
}

/// Asserts two transcripts are the same calls with the same answers, naming the first that
/// differs.
#[track_caller]
fn same_answers(before: &[(String, Vec<u8>)], after: &[(String, Vec<u8>)], moved: &str) {
    for (a, b) in before.iter().zip(after) {
        assert_eq!(a.0, b.0, "{moved}: the calls differ");
        assert!(
            a.1 == b.1,
            "{moved}: {} answers differently:\nbefore: {}\nafter:  {}",
            a.0,
            String::from_utf8_lossy(&a.1),
            String::from_utf8_lossy(&b.1)
        );
    }
    assert_eq!(
        before.len(),
        after.len(),
        "{moved}: a different number of calls"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_moved_to_postgres_and_back_answers_every_call_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = demo_database(dir.path(), "demo.db");
    let port = patrol_test::cluster::free_port();
    // A token and a cursor taken before any move.
    let (before, token, cursor) = {
        let served = serve(&sqlite, None, port);
        let wecom = served.wecom();
        let token = wecom.token(DEMO_CORPID, DEMO_PATROL_SECRET).await;
        let page = wecom.order_list(&token, json!({ "limit": 5 })).await;
        let cursor = page["next_cursor"].as_str().unwrap().to_owned();
        let before = transcript(&served.url, &token, &cursor).await;
        (before, token, cursor)
    };
    assert!(before.len() > 400, "only {} calls", before.len());

    let cluster = PgCluster::start(&[]);
    let postgres = createdb(&cluster, "moved");
    let pg_media = dir.path().join("pg-media").display().to_string();
    let (stdout, _) = migrate(&[
        "--from",
        &sqlite,
        "--to",
        &postgres,
        "--to-media",
        &pg_media,
    ]);
    assert!(
        stdout.contains("migrated 1 corp(s), 300 orders") && stdout.contains("identical"),
        "{stdout}"
    );
    {
        let served = serve(&postgres, Some(&pg_media), port);
        let after = transcript(&served.url, &token, &cursor).await;
        same_answers(&before, &after, "SQLite → PostgreSQL");
    }

    let back = dir.path().join("back.db").display().to_string();
    let (stdout, _) = migrate(&[
        "--from",
        &postgres,
        "--from-media",
        &pg_media,
        "--to",
        &back,
    ]);
    assert!(stdout.contains("identical"), "{stdout}");
    let served = serve(&back, None, port);
    let after = transcript(&served.url, &token, &cursor).await;
    same_answers(&before, &after, "SQLite → PostgreSQL → SQLite");
    // A token issued on PostgreSQL (corp-prefixed) works after the move back too.
    drop(served);
    let served = serve(&postgres, Some(&pg_media), port);
    let pg_token = served.wecom().token(DEMO_CORPID, DEMO_PATROL_SECRET).await;
    assert_ne!(pg_token, token, "PostgreSQL hands out a token of its own");
    drop(served);
    let again = dir.path().join("again.db").display().to_string();
    migrate(&[
        "--from",
        &postgres,
        "--from-media",
        &pg_media,
        "--to",
        &again,
    ]);
    let served = serve(&again, None, port);
    let answer = served
        .wecom()
        .call("report/patrol/get_corp_status", &pg_token, json!({}))
        .await;
    assert_eq!(answer["errcode"], 0, "{answer}");
}

#[test]
fn an_interrupted_migrate_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = demo_database(dir.path(), "demo.db");
    let cluster = PgCluster::start(&[]);
    let postgres = cluster.url();
    let pg_media = dir.path().join("pg-media").display().to_string();
    let args = [
        "--from",
        sqlite.as_str(),
        "--to",
        postgres.as_str(),
        "--to-media",
        pg_media.as_str(),
        "--chunk",
        "40",
    ];
    // Stopped after 3 chunks of 40 orders, as a kill would stop it: 120 orders committed.
    let stderr = fails(
        patrol(&["migrate"])
            .args(args)
            .args(["--stop-after-chunks", "3"]),
    );
    assert!(stderr.contains("stopped after 3 chunks"), "{stderr}");
    // Stopped again after 2 more, then run to the end: it goes on where it stopped each time.
    let stderr = fails(
        patrol(&["migrate"])
            .args(args)
            .args(["--stop-after-chunks", "2"]),
    );
    assert!(
        stderr.contains("resuming after order sequence 120"),
        "{stderr}"
    );
    let (stdout, stderr) = migrate(&args);
    assert!(
        stderr.contains("resuming after order sequence 200"),
        "{stderr}"
    );
    assert!(
        stdout.contains("migrated 1 corp(s), 300 orders") && stdout.contains("identical"),
        "{stdout}"
    );
    // Once done, running it again copies nothing and verifies.
    let (stdout, stderr) = migrate(&args);
    assert!(stderr.contains("copied before"), "{stderr}");
    assert!(stdout.contains("identical"), "{stdout}");
    let (stdout, _) = migrate(&[&args[..6], &["--verify-only"]].concat());
    assert!(
        stdout.starts_with("verified 1 corp(s), 300 orders"),
        "{stdout}"
    );
}

#[test]
fn a_target_holding_other_corps_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let one = demo_database(dir.path(), "one.db");
    let other = demo_database(dir.path(), "other.db");
    let stderr = fails(&mut patrol(&["migrate", "--from", &one, "--to", &other]));
    assert!(
        stderr.contains(&format!(
            "--to {other} already holds 1 corp(s) ({DEMO_CORPID})"
        )) && stderr.contains("migrate only into an empty database"),
        "{stderr}"
    );
    // And --verify-only names what differs: the secrets, at least.
    let stderr = fails(&mut patrol(&[
        "migrate",
        "--verify-only",
        "--from",
        &one,
        "--to",
        &other,
    ]));
    assert!(stderr.contains("difference: the secrets"), "{stderr}");
}

#[test]
fn bad_urls_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db").display().to_string();
    let target = dir.path().join("target.db").display().to_string();
    let stderr = fails(&mut patrol(&[
        "migrate", "--from", &missing, "--to", &target,
    ]));
    assert!(
        stderr.contains(&format!("--from {missing}: there is no database file")),
        "{stderr}"
    );
    let stderr = fails(&mut patrol(&[
        "migrate",
        "--from",
        "mysql://db/patrol",
        "--to",
        &target,
    ]));
    assert!(
        stderr.contains("cannot open --from mysql://db/patrol")
            && stderr.contains("unsupported database URL"),
        "{stderr}"
    );
    let source = demo_database(dir.path(), "source.db");
    let stderr = fails(&mut patrol(&[
        "migrate",
        "--from",
        &source,
        "--to",
        "postgres://postgres@127.0.0.1:1/patrol",
    ]));
    assert!(
        stderr.contains("is a PostgreSQL database: name its media directory with --to-media"),
        "{stderr}"
    );
    let stderr = fails(&mut patrol(&[
        "migrate",
        "--from",
        &source,
        "--to",
        "postgres://postgres@127.0.0.1:1/patrol",
        "--to-media",
        &dir.path().join("m").display().to_string(),
    ]));
    assert!(
        stderr.contains("cannot open --to postgres://postgres@127.0.0.1:1/patrol"),
        "{stderr}"
    );
    let stderr = fails(&mut patrol(&[
        "migrate", "--from", &source, "--to", &source,
    ]));
    assert!(stderr.contains("name the same database"), "{stderr}");
}

/// When a test kills a migrate.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// On its first line of progress.
    FirstLine,
    /// On its first line saying orders were committed.
    Committed,
    /// This long after it started.
    After(Duration),
}

/// Runs `patrol migrate ARGS…` and kills it (SIGKILL: no chance to clean up) at `moment`; true
/// when it was still running then.
fn kill_migrate(args: &[&str], moment: Moment) -> bool {
    let mut child = patrol(&["migrate"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, said) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    match moment {
        Moment::After(delay) => std::thread::sleep(delay),
        // Until the line comes, or it ends (its stderr closes).
        Moment::FirstLine => drop(said.recv()),
        Moment::Committed => while said.recv().is_ok_and(|line| !line.contains("copied")) {},
    }
    let killed = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    killed
}

/// Seeded orders migrated with `patrol migrate`, killed with SIGKILL at a few moments (on its
/// first line, on a line about committed orders, after a delay), each run going on where the last
/// stopped, then run to the end: SQLite → PostgreSQL, and that copy back to SQLite. Each ends
/// verified (and again with `--verify-only`), and a walk of the orders through the store finds
/// the source's orders on the target.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migrate_killed_at_any_moment_is_finished_by_running_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.db").display().to_string();
    succeeds_with(&mut seed(&source, "20000", "5"));
    let expected = all_bodies(&source).await;
    assert_eq!(expected.len(), 20_000);
    let cluster = PgCluster::start(&[]);
    let postgres = createdb(&cluster, "killed");
    let pg_media = dir.path().join("pg-media").display().to_string();
    let back = dir.path().join("back.db").display().to_string();

    for (from, to, media_flag, media) in [
        (&source, &postgres, "--to-media", &pg_media),
        (&postgres, &back, "--from-media", &pg_media),
    ] {
        let args = [
            "--from", from, "--to", to, media_flag, media, "--chunk", "500",
        ];
        let moments = [
            Moment::FirstLine,
            Moment::Committed,
            Moment::After(Duration::from_millis(700)),
        ];
        let killed: Vec<_> = moments
            .into_iter()
            .filter(|&moment| kill_migrate(&args, moment))
            .collect();
        eprintln!("{from} → {to}: killed at {killed:?}");
        assert!(
            !killed.is_empty(),
            "{from} → {to}: no run was killed before it ended"
        );
        let (stdout, stderr) = migrate(&args);
        // A run killed once orders were committed leaves them to the next.
        assert!(
            stderr.contains("resuming after order sequence") || stderr.contains("copied before"),
            "{from} → {to}:\n{stderr}"
        );
        assert!(
            stdout.contains("migrated 1 corp(s), 20000 orders") && stdout.contains("identical"),
            "{from} → {to}:\n{stdout}\n{stderr}"
        );
        let (stdout, _) = migrate(&[&args[..6], &["--verify-only"]].concat());
        assert!(
            stdout.starts_with("verified 1 corp(s), 20000 orders"),
            "{stdout}"
        );
        assert_eq!(all_bodies(to).await, expected, "{from} → {to}");
    }
}
