//! `patrol admin` run as a user runs it, against a `patrol serve` child process, with WeCom's
//! API checking that what the commands did is what a WeCom client sees.

use std::process::Command;

use serde_json::{Value, json};

use crate::support::{Served, Wecom, fails, fails_with, now, patrol, succeeds, succeeds_json};

const KEY: &str = "test-key";

/// Runs `patrol serve` on a fresh database with the admin key [`KEY`].
fn serve() -> Served {
    Served::on_any_port(&["--database", "sqlite://{dir}/p.db", "--admin-key", KEY])
}

/// `patrol admin --server URL --admin-key KEY ARGS…`.
fn admin_with_key(url: &str, key: &str, args: &[&str]) -> Command {
    let mut command = patrol(&["admin", "--server", url, "--admin-key", key]);
    command.args(args);
    command
}

fn admin(served: &Served, args: &[&str]) -> Command {
    admin_with_key(&served.url, KEY, args)
}

/// Runs a command that must succeed and returns its stdout.
fn ok(served: &Served, args: &[&str]) -> String {
    succeeds(&mut admin(served, args))
}

/// Runs a command that must succeed with `--json` and parses its stdout.
fn ok_json(served: &Served, args: &[&str]) -> Value {
    succeeds_json(admin(served, &["--json"]).args(args))
}

/// The value after `secret: ` in a command's output.
fn secret_of(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("secret: "))
        .unwrap_or_else(|| panic!("no secret line in {stdout:?}"))
        .trim()
        .to_owned()
}

/// The orders modified at or after `since`, through `get_order_list`.
async fn modified_since(wecom: &Wecom, token: &str, since: i64) -> Vec<Value> {
    let answer = wecom
        .order_list(token, json!({"begin_modify_time": since, "limit": 50}))
        .await;
    assert_eq!(answer["next_cursor"], "", "{answer}");
    answer["order_list"].as_array().unwrap().clone()
}

/// Checks that the order's last change, at `time`, is seen with `begin_modify_time` = `time`
/// and not one second later; returns the order as `get_order_list` shows it.
async fn seen_changed_at(wecom: &Wecom, token: &str, order_id: &str, time: i64) -> Value {
    let orders = modified_since(wecom, token, time).await;
    let order = orders
        .iter()
        .find(|o| o["order_id"] == order_id)
        .unwrap_or_else(|| panic!("order {order_id} not modified since {time}: {orders:?}"))
        .clone();
    let later = modified_since(wecom, token, time + 1).await;
    assert!(
        later.iter().all(|o| o["order_id"] != order_id),
        "order {order_id} modified after {time}: {later:?}"
    );
    order
}

/// The `process_type` and `status` of each step.
fn steps(order: &Value) -> Vec<(i64, i64)> {
    order["process_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["process_type"].as_i64().unwrap(),
                s["status"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_commands_set_up_a_corp_and_walk_an_order_through_the_workflow() {
    let served = serve();
    let wecom = served.wecom();

    // A corp.
    let out = ok(
        &served,
        &[
            "corp",
            "create",
            "--corpid",
            "wwacme",
            "--name",
            "Acme 城管",
            "--created-at",
            "1690000000",
        ],
    );
    assert!(out.contains("created corp wwacme"), "{out}");
    let out = ok(&served, &["corp", "list"]);
    assert!(out.contains("wwacme") && out.contains("Acme 城管"), "{out}");
    let corp = ok_json(&served, &["corp", "show", "wwacme"]);
    assert_eq!(
        corp,
        json!({"corpid": "wwacme", "name": "Acme 城管", "created_at": 1690000000})
    );

    // An app enabled for patrol: its secret, printed once, gets a token.
    let out = ok(
        &served,
        &[
            "app",
            "create",
            "--corp",
            "wwacme",
            "--name",
            "巡查数据对接",
            "--patrol",
        ],
    );
    assert!(out.contains("created app 1000002"), "{out}");
    assert!(out.contains("not be shown again"), "{out}");
    let secret = secret_of(&out);
    let token = wecom.token("wwacme", &secret).await;
    let out = ok(&served, &["app", "list", "--corp", "wwacme"]);
    assert!(
        out.contains("1000002") && out.contains("巡查数据对接"),
        "{out}"
    );

    // Users (the corp from the environment too) and a grid.
    for (userid, name) in [("zhangsan", "张三"), ("lisi", "李四")] {
        let out = ok(
            &served,
            &[
                "user", "add", "--corp", "wwacme", "--userid", userid, "--name", name,
            ],
        );
        assert!(out.contains(&format!("added user {userid}")), "{out}");
    }
    let args = ["user", "add", "--userid", "wangwu", "--name", "王五"];
    succeeds(admin(&served, &args).env("PATROL_CORP", "wwacme"));
    let out = ok(&served, &["user", "list", "--corp", "wwacme"]);
    for name in ["zhangsan", "张三", "lisi", "wangwu", "王五"] {
        assert!(out.contains(name), "{out}");
    }
    let out = ok(
        &served,
        &[
            "grid",
            "add",
            "--corp",
            "wwacme",
            "--grid-id",
            "g1",
            "--name",
            "一号网格",
            "--admin",
            "zhangsan",
            "--member",
            "lisi",
            "--member",
            "wangwu",
        ],
    );
    assert!(out.contains("added grid g1"), "{out}");
    let grids = ok_json(&served, &["grid", "list", "--corp", "wwacme"]);
    assert_eq!(
        grids,
        json!({"grids": [{"grid_id": "g1", "name": "一号网格", "parent_id": null,
                          "admins": ["zhangsan"], "members": ["lisi", "wangwu"]}]})
    );
    // A user in a grid stays.
    let stderr = fails(&mut admin(
        &served,
        &["user", "delete", "lisi", "--corp", "wwacme"],
    ));
    assert!(stderr.contains("409"), "{stderr}");

    // Categories, two levels.
    ok(
        &served,
        &[
            "category",
            "add",
            "--corp",
            "wwacme",
            "--category-id",
            "c1",
            "--name",
            "市政设施",
        ],
    );
    let out = ok(
        &served,
        &[
            "category",
            "add",
            "--corp",
            "wwacme",
            "--category-id",
            "c1a",
            "--name",
            "井盖",
            "--parent",
            "c1",
        ],
    );
    assert!(out.contains("added category c1a"), "{out}");
    assert!(out.contains("level 2"), "{out}");

    // An incident, reported an hour ago; each step a minute after the one before.
    let t0 = now() - 3600;
    let reported = ok_json(
        &served,
        &[
            "order",
            "report",
            "--corp",
            "wwacme",
            "--grid",
            "g1",
            "--reporter",
            "lisi",
            "--desc",
            "井盖缺失",
            "--urgency",
            "3",
            "--category",
            "c1a",
            "--place",
            "测试小区",
            "--address",
            "测试路1号",
            "--lat",
            "30.27",
            "--lng",
            "120.15",
            "--time",
            &t0.to_string(),
        ],
    );
    let order_id = reported["order_id"].as_str().unwrap().to_owned();
    assert_eq!(reported["processor_userids"], json!(["zhangsan"]));
    assert_eq!(reported["case_name"], "井盖");
    let order = seen_changed_at(&wecom, &token, &order_id, t0).await;
    assert_eq!(
        order, reported,
        "get_order_list shows what the report answered"
    );
    assert_eq!(order["urge_type"], 3);
    assert_eq!(order["create_time"], t0);
    assert_eq!(order["location"]["latitude"], 30.27);
    assert_eq!(steps(&order), [(1, 1)]);

    // accept, assign, start and finish, each seen by get_order_list at its time.
    let act = |action: &str, actor: &str, extra: &[&str], at: i64| {
        let mut args = vec![
            "order", "act", "--corp", "wwacme", &order_id, action, "--actor", actor,
        ];
        args.extend_from_slice(extra);
        let time = at.to_string();
        args.extend(["--time", &time]);
        ok(&served, &args)
    };

    let out = act("accept", "zhangsan", &["--desc", "已受理"], t0 + 60);
    assert!(out.contains(&format!("accepted order {order_id}")), "{out}");
    assert!(out.contains("processors: zhangsan"), "{out}");
    let order = seen_changed_at(&wecom, &token, &order_id, t0 + 60).await;
    assert_eq!(steps(&order), [(1, 1), (2, 1)]);
    assert_eq!(order["process_list"][1]["process_desc"], "已受理");

    let out = act("assign", "zhangsan", &["--user", "lisi"], t0 + 120);
    assert!(out.contains("assigned, processors: lisi"), "{out}");
    let order = seen_changed_at(&wecom, &token, &order_id, t0 + 120).await;
    assert_eq!(steps(&order), [(1, 1), (2, 1), (3, 1)]);
    assert_eq!(order["processor_userids"], json!(["lisi"]));

    act("start", "lisi", &[], t0 + 180);
    let order = seen_changed_at(&wecom, &token, &order_id, t0 + 180).await;
    assert_eq!(steps(&order), [(1, 1), (2, 1), (3, 1), (7, 0)]);

    let out = act("finish", "lisi", &["--desc", "已修复"], t0 + 240);
    assert!(
        out.contains("finished order") && out.trim_end().ends_with("; done"),
        "{out}"
    );
    let order = seen_changed_at(&wecom, &token, &order_id, t0 + 240).await;
    assert_eq!(steps(&order), [(1, 1), (2, 1), (3, 1), (7, 1), (5, 1)]);
    assert_eq!(order["processor_userids"], json!([]));

    let shown = ok_json(&served, &["order", "show", "--corp", "wwacme", &order_id]);
    assert_eq!(shown, order, "order show answers what get_order_list shows");
    let out = ok(&served, &["order", "show", "--corp", "wwacme", &order_id]);
    // One vocabulary: the state `patrol orders` shows (`done`), the steps' `completed`.
    assert!(out.contains("井盖缺失"), "{out}");
    assert!(
        out.lines()
            .any(|line| line.split_whitespace().collect::<Vec<_>>() == ["state", "done"]),
        "{out}"
    );
    assert!(
        out.contains("completed") && !out.contains("closed"),
        "{out}"
    );

    // A finished order takes no further action: the server's refusal is the command's error.
    let output = fails_with(&mut admin(
        &served,
        &[
            "order", "act", "--corp", "wwacme", &order_id, "accept", "--actor", "zhangsan",
        ],
    ));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: "), "{stderr}");
    assert!(stderr.contains("422"), "{stderr}");
    assert!(stderr.contains("is closed (done or rejected)"), "{stderr}");
    let order = seen_changed_at(&wecom, &token, &order_id, t0 + 240).await;
    assert_eq!(steps(&order).len(), 5, "the refused action left no step");

    // A resident report (居民上报): on the resident family only, with the resident's fields.
    let out = ok(
        &served,
        &[
            "app",
            "update",
            "1000002",
            "--corp",
            "wwacme",
            "--resident",
            "true",
        ],
    );
    assert!(out.contains("lists: patrol resident"), "{out}");
    let resident = ok_json(
        &served,
        &[
            "order",
            "report",
            "--corp",
            "wwacme",
            "--grid",
            "g1",
            "--reporter",
            "lisi",
            "--desc",
            "楼道堆物",
            "--resident",
            "--resident-name",
            "王五",
            "--resident-mobile",
            "13800000000",
            "--unionid",
            "oUnion1",
        ],
    );
    assert_eq!(
        (
            &resident["reporter_name"],
            &resident["reporter_mobile"],
            &resident["unionid"]
        ),
        (&json!("王五"), &json!("13800000000"), &json!("oUnion1"))
    );
    let resident_id = resident["order_id"].as_str().unwrap();
    let body = json!({ "order_id": resident_id });
    let answer = wecom
        .call("report/patrol/get_order_info", &token, body.clone())
        .await;
    assert_eq!(answer["errcode"], 40058, "not a patrol order: {answer}");
    let answer = wecom
        .call("report/resident/get_order_info", &token, body)
        .await;
    assert_eq!(answer["order_info"], resident, "{answer}");
    // The resident's fields need --resident.
    let output = fails_with(&mut admin(
        &served,
        &[
            "order",
            "report",
            "--corp",
            "wwacme",
            "--grid",
            "g1",
            "--reporter",
            "lisi",
            "--desc",
            "x",
            "--unionid",
            "o1",
        ],
    ));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--resident"));

    // A rotated secret replaces the old one and revokes its token.
    let out = ok(
        &served,
        &["app", "rotate-secret", "1000002", "--corp", "wwacme"],
    );
    let rotated = secret_of(&out);
    assert_ne!(rotated, secret);
    assert_ne!(wecom.gettoken("wwacme", &secret).await["errcode"], 0);
    let new_token = wecom.token("wwacme", &rotated).await;
    assert_ne!(new_token, token);
}

#[test]
fn a_wrong_admin_key_is_refused_with_a_message_saying_so() {
    let served = serve();
    let stderr = fails(&mut admin_with_key(
        &served.url,
        "not-the-key",
        &["corp", "list"],
    ));
    assert!(stderr.contains("401"), "{stderr}");
    assert!(stderr.contains("admin key"), "{stderr}");

    // No key at all is refused before asking the server.
    let stderr = fails(&mut patrol(&[
        "admin",
        "--server",
        &served.url,
        "corp",
        "list",
    ]));
    assert!(stderr.contains("--admin-key"), "{stderr}");
}

#[test]
fn an_unreachable_server_is_named() {
    // Port 1 on loopback: nothing listens there.
    let stderr = fails(&mut admin_with_key(
        "http://127.0.0.1:1",
        KEY,
        &["corp", "list"],
    ));
    assert!(stderr.contains("http://127.0.0.1:1"), "{stderr}");
}

#[tokio::test]
async fn the_journal_commands_read_export_follow_and_clear() {
    use std::io::BufRead;

    let served = Served::on_any_port(&[
        "--database",
        "sqlite://{dir}/p.db",
        "--admin-key",
        KEY,
        "--journal-entries",
        "50",
        "--journal-bytes",
        "65536",
    ]);
    let wecom = served.wecom();
    ok(
        &served,
        &["corp", "create", "--corpid", "wwj", "--name", "J"],
    );
    let out = ok(
        &served,
        &["app", "create", "--corp", "wwj", "--name", "a", "--patrol"],
    );
    let secret = secret_of(&out);
    let token = wecom.token("wwj", &secret).await;
    wecom.order_list(&token, json!({"limit": 1})).await;

    // A table of the newest calls.
    let table = ok(&served, &["journal", "--path", "/cgi-bin/*"]);
    assert!(table.contains("/cgi-bin/gettoken"), "{table}");
    assert!(
        table.contains("/cgi-bin/report/patrol/get_order_list"),
        "{table}"
    );
    assert!(table.contains("wwj"), "{table}");
    assert!(table.contains("of 50 entries held"), "{table}");

    // Filters, and the server's JSON as it is.
    let page = ok_json(&served, &["journal", "--corp", "wwj", "--errcode", "0"]);
    let paths: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["/cgi-bin/gettoken", "/cgi-bin/report/patrol/get_order_list"]
    );
    assert_eq!(page["limit_bytes"], 65536);

    // Every entry as JSON lines: the administration calls too, and no secret anywhere.
    let jsonl = ok(&served, &["journal", "--jsonl"]);
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{jsonl}");
    assert_eq!(lines[1]["api"], "admin");
    for text in [&table, &jsonl, &page.to_string()] {
        assert!(!text.contains(&secret) && !text.contains(&token), "{text}");
    }

    // Followed live: the next call comes as a line.
    let last = page["last_id"].as_u64().unwrap().to_string();
    let mut follow = admin(
        &served,
        &[
            "journal", "--follow", "--jsonl", "--since", &last, "--api", "wecom",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let stdout = follow.stdout.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if lines_tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    wecom
        .call(
            "report/patrol/get_order_info",
            &token,
            json!({"order_id": "nope"}),
        )
        .await;
    // A guard against a hang, not a timing assertion.
    let line = lines_rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the followed call is printed");
    let _ = follow.kill();
    let _ = follow.wait();
    let entry: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(entry["path"], "/cgi-bin/report/patrol/get_order_info");
    assert!(entry["request_id"].is_string(), "{entry}");

    // Cleared.
    let out = ok(&served, &["journal", "clear"]);
    assert!(out.contains("cleared"), "{out}");
    let page = ok_json(&served, &["journal"]);
    assert_eq!(page["entries"], json!([]));
    assert_eq!(page["held"], 0);
}

#[test]
fn journal_bounds_out_of_range_stop_the_server_from_starting() {
    let stderr = fails(
        patrol(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            "sqlite://p.db",
            "--journal-bytes",
            "1000",
        ])
        .current_dir(tempfile::tempdir().unwrap().path()),
    );
    assert!(stderr.contains("journal_bytes"), "{stderr}");
}

/// `patrol serve --demo` with the admin key [`KEY`]: the demo corp's 300 orders.
fn serve_demo() -> Served {
    Served::on_any_port(&["--demo", "--data-dir", "{dir}", "--admin-key", KEY])
}

/// The ids of the orders of a page object.
fn page_ids(page: &Value) -> Vec<String> {
    page["orders"]
        .as_array()
        .unwrap_or_else(|| panic!("no orders in {page}"))
        .iter()
        .map(|order| order["order_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn order_list_prints_a_table_filters_and_follows_the_pages() {
    use patrol_demo::DEMO_CORPID;
    let served = serve_demo();
    let corp = ["--corp", DEMO_CORPID];
    let all = ok_json(&served, &["order", "list", corp[0], corp[1], "--all"]);
    assert!(all["next_cursor"].is_null(), "{}", all["next_cursor"]);
    let orders = all["orders"].as_array().unwrap().clone();
    assert_eq!(orders.len(), 300);
    let ids = page_ids(&all);
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 300);
    let created: Vec<i64> = orders
        .iter()
        .map(|o| o["create_time"].as_i64().unwrap())
        .collect();
    assert!(
        created.windows(2).all(|pair| pair[0] >= pair[1]),
        "newest first"
    );

    // One page, then the next from its cursor.
    let first = ok_json(
        &served,
        &["order", "list", corp[0], corp[1], "--limit", "7"],
    );
    assert_eq!(page_ids(&first), ids[..7]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = ok_json(
        &served,
        &[
            "order", "list", corp[0], corp[1], "--limit", "7", "--cursor", cursor,
        ],
    );
    assert_eq!(page_ids(&second), ids[7..14]);

    // A table on a terminal, and the way on to the next page on stderr.
    let output = crate::support::succeeds_with(&mut admin(
        &served,
        &["order", "list", corp[0], corp[1], "--limit", "5"],
    ));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.starts_with("ORDER ID"), "{stdout}");
    assert_eq!(stdout.lines().count(), 6, "{stdout}");
    for (line, id) in stdout.lines().skip(1).zip(&ids) {
        assert!(line.starts_with(id.as_str()), "{line} is not {id}");
    }
    assert!(
        stderr.contains("--cursor") && stderr.contains("--all"),
        "{stderr}"
    );

    // Filters combined: what the client finds among all the orders.
    let since = created[150];
    let grid = orders[0]["grid_id"].as_str().unwrap().to_owned();
    let filtered = ok_json(
        &served,
        &[
            "order",
            "list",
            corp[0],
            corp[1],
            "--all",
            "--state",
            "open",
            "--urgency",
            "normal",
            "--since",
            &since.to_string(),
            "--limit",
            "3",
        ],
    );
    let want: Vec<String> = orders
        .iter()
        .filter(|o| {
            let last = o["process_list"].as_array().unwrap().last().unwrap();
            ![5, 6].contains(&last["process_type"].as_i64().unwrap())
                && o["urge_type"] == 1
                && o["create_time"].as_i64().unwrap() >= since
        })
        .map(|o| o["order_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(page_ids(&filtered), want);
    let in_grid = ok_json(
        &served,
        &[
            "order", "list", corp[0], corp[1], "--all", "--grid", &grid, "--state", "closed",
        ],
    );
    let want: Vec<String> = orders
        .iter()
        .filter(|o| {
            let last = o["process_list"].as_array().unwrap().last().unwrap();
            o["grid_id"] == grid.as_str()
                && [5, 6].contains(&last["process_type"].as_i64().unwrap())
        })
        .map(|o| o["order_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(page_ids(&in_grid), want);

    // Bad values: the CLI's own, then the server's, named.
    let stderr = fails(&mut admin(
        &served,
        &["order", "list", corp[0], corp[1], "--state", "closd"],
    ));
    assert!(
        stderr.contains("closd") && stderr.contains("closed"),
        "{stderr}"
    );
    let stderr = fails(&mut admin(
        &served,
        &["order", "list", corp[0], corp[1], "--limit", "0"],
    ));
    assert!(
        stderr.contains("limit") && stderr.contains("400"),
        "{stderr}"
    );
}

#[tokio::test]
async fn corp_update_renames_and_corp_delete_wants_force_for_a_corp_with_data() {
    use patrol_demo::{DEMO_CORPID, DEMO_PATROL_SECRET};
    let served = serve_demo();
    let wecom = served.wecom();
    let token = wecom.token(DEMO_CORPID, DEMO_PATROL_SECRET).await;
    let out = ok(
        &served,
        &["corp", "update", "--corp", DEMO_CORPID, "--name", "演示 2"],
    );
    assert!(
        out.contains("updated corp") && out.contains("演示 2"),
        "{out}"
    );
    let corp = ok_json(&served, &["corp", "show", DEMO_CORPID]);
    assert_eq!(corp["name"], "演示 2");
    let stderr = fails(&mut admin(
        &served,
        &["corp", "update", "--corp", DEMO_CORPID],
    ));
    assert!(stderr.contains("--name"), "{stderr}");

    let stderr = fails(&mut admin(
        &served,
        &["corp", "delete", "--corp", DEMO_CORPID],
    ));
    assert!(
        stderr.contains("409") && stderr.contains("force") && stderr.contains("300 orders"),
        "{stderr}"
    );
    assert_eq!(wecom.order_list(&token, json!({})).await["errcode"], 0);
    let out = ok(
        &served,
        &["corp", "delete", "--corp", DEMO_CORPID, "--force"],
    );
    assert!(
        out.contains(&format!("deleted corp {DEMO_CORPID}")),
        "{out}"
    );
    let refused = wecom
        .call("report/patrol/get_order_list", &token, json!({}))
        .await;
    assert_eq!(refused["errcode"], 40014, "{refused}");
    let stderr = fails(&mut admin(&served, &["corp", "show", DEMO_CORPID]));
    assert!(stderr.contains("404"), "{stderr}");
}
