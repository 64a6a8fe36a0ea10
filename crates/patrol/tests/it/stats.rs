//! `patrol stats` and the resident family of `patrol orders` (`--resident`), run as a user runs
//! them against a `patrol serve --demo` child process: what they print is what WeCom's API
//! answers. The demo has patrol orders only; resident orders are reported through the
//! administration API.

use std::process::Command;

use patrol_demo::{DEMO_CORPID, DEMO_PATROL_SECRET};
use serde_json::{Value, json};

use crate::support::{Served, fails_with, patrol, succeeds, succeeds_json};

const KEY: &str = "stats-admin-key";

/// Runs `patrol serve --demo` on its own data directory with the admin key [`KEY`].
fn serve() -> Served {
    let mut served = Served::start(
        &["--demo", "--listen", "127.0.0.1:0", "--data-dir", "{dir}"],
        &[("PATROL_ADMIN_KEY", KEY)],
    );
    served.banner_through("TOKEN=");
    served
}

/// `patrol SUBCOMMAND ARGS…` with the demo corp's credentials in the environment.
fn command(served: &Served, subcommand: &str, args: &[&str]) -> Command {
    let mut command = patrol(&[subcommand]);
    command
        .args(args)
        .current_dir(served.dir.path())
        .env("PATROL_BASE_URL", &served.url)
        .env("PATROL_CORPID", DEMO_CORPID)
        .env("PATROL_CORPSECRET", DEMO_PATROL_SECRET);
    command
}

fn stats(served: &Served, args: &[&str]) -> Command {
    command(served, "stats", args)
}

fn stats_json(served: &Served, args: &[&str]) -> Value {
    succeeds_json(stats(served, args).arg("--json"))
}

/// The stderr of a command that must fail; it prints nothing on stdout and never the secret.
#[track_caller]
fn failed(command: &mut Command) -> String {
    let output = fails_with(command);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(stdout.is_empty(), "a failure printed {stdout:?}");
    assert!(!stderr.contains(DEMO_PATROL_SECRET), "{stderr}");
    stderr
}

/// WeCom's answer to `POST /cgi-bin/report/{family}/{call}` with `body`, without `errcode` and
/// `errmsg` (which must say ok).
async fn wecom(served: &Served, family: &str, call: &str, body: Value) -> Value {
    let token = served.wecom().token(DEMO_CORPID, DEMO_PATROL_SECRET).await;
    let mut answer: Value = reqwest::Client::new()
        .post(format!(
            "{}/cgi-bin/report/{family}/{call}?access_token={token}",
            served.url
        ))
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["errcode"], 0, "{answer}");
    let object = answer.as_object_mut().unwrap();
    object.remove("errcode");
    object.remove("errmsg");
    answer
}

/// Reports a resident order into the demo corp through the administration API.
async fn report_resident(served: &Served, order_id: &str, name: &str, unionid: &str) {
    let body = json!({
        "order_id": order_id,
        "description": format!("居民反映 {order_id}"),
        "category_id": "cat-env-garbage",
        "grid_id": "xihu-beishan-shuguang",
        "location": {"name": "曙光路小区", "address": "杭州市西湖区曙光路122号",
                     "latitude": 30.2722, "longitude": 120.1431},
        "reporter": "liuyang",
        "resident": {"name": name, "mobile": "13800000000", "unionid": unionid},
    });
    let response = reqwest::Client::new()
        .post(format!(
            "{}/admin/v1/corps/{DEMO_CORPID}/orders",
            served.url
        ))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

/// The line of a table that starts with `field`, split into its columns.
#[track_caller]
fn row<'a>(table: &'a str, field: &str) -> Vec<&'a str> {
    table
        .lines()
        .find(|line| line.split_whitespace().next() == Some(field))
        .unwrap_or_else(|| panic!("no row {field:?} in {table}"))
        .split_whitespace()
        .collect()
}

#[tokio::test]
async fn stats_prints_the_corps_counts_and_its_categories() {
    let served = serve();

    // The table: the corp's counts, then a row per level-1 category.
    let table = succeeds(&mut stats(&served, &[]));
    assert!(
        table.starts_with("patrol orders of the whole corp:\nCOUNT"),
        "{table}"
    );
    assert_eq!(row(&table, "total_case").last(), Some(&"240"), "{table}");
    assert!(!table.contains("pending"), "no resident counts: {table}");
    assert!(
        table.contains("patrol orders per category, every level-1 category:\nCATEGORY ID"),
        "{table}"
    );
    assert_eq!(row(&table, "cat-env")[1], "市容环境", "{table}");

    // --json: WeCom's answers, field for field.
    let printed = stats_json(&served, &[]);
    let corp = wecom(&served, "patrol", "get_corp_status", json!({})).await;
    let categories = wecom(&served, "patrol", "category_statistic", json!({})).await;
    assert_eq!(
        printed,
        json!({"family": "patrol", "corp_status": corp,
               "dashboard_list": categories["dashboard_list"]})
    );
    for field in ["to_be_assigned", "processing", "total_solved"] {
        assert_eq!(
            row(&table, field).last().unwrap().parse::<i64>().unwrap(),
            corp[field].as_i64().unwrap(),
            "{field}: {table}"
        );
    }
    let rows = printed["dashboard_list"].as_array().unwrap();
    let counted: i64 = rows.iter().map(|r| r["total_case"].as_i64().unwrap()).sum();
    assert_eq!(counted, 240, "every demo order has a category");

    // --grid: the grid and the grids under it, only.
    let grid = stats_json(&served, &["--grid", "xihu-beishan"]);
    let expected = wecom(
        &served,
        "patrol",
        "get_corp_status",
        json!({"grid_id": "xihu-beishan"}),
    )
    .await;
    assert_eq!(
        grid,
        json!({"family": "patrol", "grid_id": "xihu-beishan", "corp_status": expected})
    );
    let part = expected["total_case"].as_i64().unwrap();
    assert!(0 < part && part < 240, "{expected}");
    let table = succeeds(&mut stats(&served, &["--grid", "xihu-beishan"]));
    assert!(
        table.starts_with("patrol orders of grid xihu-beishan and the grids under it:\n"),
        "{table}"
    );
    assert!(!table.contains("CATEGORY ID"), "{table}");

    // --user: one member's counts.
    let user = stats_json(&served, &["--user", "wangfang"]);
    let expected = wecom(
        &served,
        "patrol",
        "get_user_status",
        json!({"userid": "wangfang"}),
    )
    .await;
    assert_eq!(
        user,
        json!({"family": "patrol", "userid": "wangfang", "user_status": expected})
    );
    let table = succeeds(&mut stats(&served, &["--user", "wangfang"]));
    assert!(
        table.starts_with("patrol orders of user wangfang:\n"),
        "{table}"
    );
    assert_eq!(
        row(&table, "processing")
            .last()
            .unwrap()
            .parse::<i64>()
            .unwrap(),
        expected["processing"].as_i64().unwrap()
    );

    // --category: a row per child of a level-1 category.
    let children = stats_json(&served, &["--category", "cat-env"]);
    let expected = wecom(
        &served,
        "patrol",
        "category_statistic",
        json!({"category_id": "cat-env"}),
    )
    .await;
    assert_eq!(children["dashboard_list"], expected["dashboard_list"]);
    assert_eq!(children["category_id"], "cat-env");
    let rows = expected["dashboard_list"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["category_level"] == 2), "{expected}");
    let table = succeeds(&mut stats(&served, &["--category", "cat-env"]));
    assert_eq!(row(&table, "cat-env-garbage")[2], "2", "{table}");
}

#[test]
fn stats_prints_wecoms_error_for_an_unknown_grid_user_or_category() {
    let served = serve();
    let stderr = failed(&mut stats(&served, &["--grid", "no-such-grid"]));
    assert!(stderr.contains("WeCom error 40058"), "{stderr}");
    assert!(stderr.contains("no-such-grid"), "{stderr}");
    let stderr = failed(&mut stats(&served, &["--category", "no-such-category"]));
    assert!(stderr.contains("WeCom error 40058"), "{stderr}");
    let stderr = failed(&mut stats(&served, &["--user", "nobody", "--resident"]));
    assert!(
        stderr.contains("WeCom error 60111") && stderr.contains("no member of the corp"),
        "{stderr}"
    );
}

#[tokio::test]
async fn resident_stats_and_orders_read_the_resident_family() {
    let served = serve();
    // The demo's resident orders, before two more are reported.
    let before = stats_json(&served, &["--resident"]);
    let count = |value: &Value, key: &str| value["corp_status"][key].as_i64().unwrap();
    assert_eq!(
        count(&before, "total_case"),
        patrol_demo::DEMO_RESIDENT_ORDERS as i64,
        "{before}"
    );
    let env_before = before["dashboard_list"][0]["total_case"].as_i64().unwrap();
    assert_eq!(before["dashboard_list"][0]["category_id"], "cat-env");
    let user_before = stats_json(&served, &["--resident", "--user", "wangfang"]);
    let user_count = |value: &Value, key: &str| value["user_status"][key].as_i64().unwrap();

    report_resident(&served, "resident-1", "王五", "oUnion1").await;
    report_resident(&served, "resident-2", "", "").await;

    let printed = stats_json(&served, &["--resident"]);
    let corp = wecom(&served, "resident", "get_corp_status", json!({})).await;
    let categories = wecom(&served, "resident", "category_statistic", json!({})).await;
    assert_eq!(
        printed,
        json!({"family": "resident", "corp_status": corp,
               "dashboard_list": categories["dashboard_list"]})
    );
    let after = json!({"corp_status": corp.clone()});
    for key in ["total_case", "pending", "added_today"] {
        assert_eq!(count(&after, key), count(&before, key) + 2, "{key}: {corp}");
    }
    assert_eq!(
        count(&after, "total_accepted"),
        count(&before, "total_accepted")
    );
    assert!(corp.get("to_be_assigned").is_none(), "{corp}");
    let table = succeeds(&mut stats(&served, &["--resident"]));
    assert!(
        table.starts_with("resident orders of the whole corp:\n"),
        "{table}"
    );
    let pending = count(&after, "pending").to_string();
    assert_eq!(
        row(&table, "pending").last(),
        Some(&pending.as_str()),
        "{table}"
    );
    let accepted = count(&after, "total_accepted").to_string();
    assert_eq!(
        row(&table, "total_accepted").last(),
        Some(&accepted.as_str()),
        "{table}"
    );
    assert!(!table.contains("to_be_assigned"), "{table}");
    assert_eq!(
        row(&table, "cat-env")[3],
        (env_before + 2).to_string(),
        "{table}"
    );
    // The grid's admin is a processor of both.
    let user = stats_json(&served, &["--resident", "--user", "wangfang"]);
    for key in ["pending", "processing"] {
        assert_eq!(
            user_count(&user, key),
            user_count(&user_before, key) + 2,
            "{user}"
        );
    }
    // The patrol counts are the demo's still.
    let patrol = stats_json(&served, &["--grid", "xihu"]);
    assert_eq!(patrol["corp_status"]["total_case"], 240);

    // patrol orders --resident: the resident walk, with the reporter fields.
    let orders = succeeds_json(&mut command(
        &served,
        "orders",
        &["--resident", "list", "--all", "--json"],
    ));
    let orders = orders.as_array().unwrap();
    let ids: Vec<&str> = orders
        .iter()
        .map(|o| o["order_id"].as_str().unwrap())
        .collect();
    // The two reported now come after the demo's, reported before.
    assert_eq!(ids.len() as u64, patrol_demo::DEMO_RESIDENT_ORDERS + 2);
    assert_eq!(ids[ids.len() - 2..], ["resident-1", "resident-2"]);
    let new = &orders[orders.len() - 2..];
    assert_eq!(new[0]["reporter_name"], "王五");
    assert_eq!(new[0]["reporter_mobile"], "13800000000");
    assert_eq!(new[0]["unionid"], "oUnion1");
    assert_eq!(new[1]["reporter_name"], "");
    let table = succeeds(&mut command(
        &served,
        "orders",
        &["list", "--resident", "--all", "--table"],
    ));
    assert!(
        table.lines().next().unwrap().contains("REPORTER  MOBILE"),
        "{table}"
    );
    assert!(table.contains("王五"), "{table}");
    let shown = succeeds(&mut command(
        &served,
        "orders",
        &["--resident", "show", "resident-1", "--text"],
    ));
    assert!(shown.contains("reporter    王五\n"), "{shown}");
    assert!(shown.contains("unionid     oUnion1\n"), "{shown}");
    let out = served.dir.path().join("resident.csv");
    succeeds(&mut command(
        &served,
        "orders",
        &[
            "--resident",
            "export",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    let csv = std::fs::read_to_string(&out).unwrap();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .ends_with(",reporter_name,reporter_mobile,unionid"),
        "{csv}"
    );
    assert!(
        lines
            .any(|line| line.contains("resident-1") && line.ends_with(",王五,13800000000,oUnion1")),
        "{csv}"
    );

    // Without --resident the walk is the patrol one, and a resident order is unknown there.
    let patrol = succeeds_json(&mut command(&served, "orders", &["list", "--json"]));
    assert!(
        patrol
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o.get("reporter_name").is_none())
    );
    let stderr = failed(&mut command(&served, "orders", &["show", "resident-1"]));
    assert!(stderr.contains("WeCom error 40058"), "{stderr}");
}
