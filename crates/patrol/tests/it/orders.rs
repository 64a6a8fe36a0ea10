//! `patrol orders` run as a user runs it, against a `patrol serve --demo` child process: what it
//! prints is what WeCom's API answers.

use std::path::Path;
use std::process::Command;

use patrol_demo::{DEMO_CORPID, DEMO_OTHER_SECRET, DEMO_PATROL_SECRET};
use serde_json::Value;

use crate::support::{Served, fails_with, patrol, succeeds, succeeds_json, succeeds_with};

/// Runs `patrol serve --demo` on its own data directory.
fn serve() -> Served {
    Served::on_any_port(&["--demo", "--data-dir", "{dir}"])
}

/// `patrol orders ARGS…` with no PATROL_* variable but `envs`, from `cwd`.
fn orders_in(cwd: &Path, args: &[&str], envs: &[(&str, &str)]) -> Command {
    let mut command = patrol(&["orders"]);
    command
        .args(args)
        .current_dir(cwd)
        .envs(envs.iter().copied());
    command
}

/// `patrol orders ARGS… --base-url URL --corpid … --corpsecret …` against `served`.
fn orders(served: &Served, args: &[&str]) -> Command {
    let mut command = orders_in(served.dir.path(), args, &[]);
    command.args([
        "--base-url",
        &served.url,
        "--corpid",
        DEMO_CORPID,
        "--corpsecret",
        DEMO_PATROL_SECRET,
    ]);
    command
}

/// Runs a command that must succeed against `served` and returns its stdout.
fn ok(served: &Served, args: &[&str]) -> String {
    succeeds(&mut orders(served, args))
}

/// Runs a command that must succeed against `served` and parses its stdout as JSON.
fn json(served: &Served, args: &[&str]) -> Value {
    succeeds_json(&mut orders(served, args))
}

/// Every order, as `patrol orders list --all` prints them.
fn all(served: &Served) -> Vec<Value> {
    array(json(served, &["list", "--all"]))
}

/// The stderr of a command that must fail; it prints nothing on stdout and never a secret.
#[track_caller]
fn failed(command: &mut Command) -> String {
    let output = fails_with(command);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(stdout.is_empty(), "a failure printed {stdout:?}");
    for secret in [DEMO_PATROL_SECRET, DEMO_OTHER_SECRET, "wrong-secret"] {
        assert!(!stderr.contains(secret), "the secret leaked: {stderr}");
    }
    stderr
}

fn array(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        other => panic!("not an array: {other}"),
    }
}

fn ids(orders: &[Value]) -> Vec<&str> {
    orders
        .iter()
        .map(|o| o["order_id"].as_str().unwrap())
        .collect()
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SS`, shifted by `offset` seconds.
fn date_time(unix: i64, offset: i64) -> String {
    jiff::Timestamp::from_second(unix + offset)
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

#[test]
fn list_prints_wecoms_orders_as_json_when_piped() {
    let served = serve();
    let all = all(&served);
    assert_eq!(all.len(), 240);
    let mut unique = ids(&all);
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 240, "every order once");

    // 20 by default, --limit in all, the walk's order.
    let default = array(json(&served, &["list"]));
    assert_eq!(default, all[..20]);
    let five = array(json(&served, &["list", "--limit", "5"]));
    assert_eq!(five, all[..5]);
    let many = array(json(&served, &["list", "--limit", "123", "--json"]));
    assert_eq!(many, all[..123]);

    // Exactly what the server sent.
    let page = served
        .wecom()
        .first_page(DEMO_CORPID, DEMO_PATROL_SECRET, 5);
    assert_eq!(array(page["order_list"].clone()), five);

    // No orders: an empty array.
    let none = json(&served, &["list", "--created-since", "4102444800"]);
    assert_eq!(none, Value::Array(vec![]));

    // --limit and --all exclude each other; --limit 0 means nothing.
    failed(&mut orders(&served, &["list", "--limit", "5", "--all"]));
    failed(&mut orders(&served, &["list", "--limit", "0"]));
}

#[test]
fn the_filters_take_unix_seconds_and_dates_in_shanghai_time_or_with_a_zone() {
    let served = serve();
    let all = all(&served);
    let mut times: Vec<i64> = all
        .iter()
        .map(|o| o["create_time"].as_i64().unwrap())
        .collect();
    times.sort_unstable();
    let since = times[times.len() / 2];
    let expected = times.iter().filter(|&&t| t >= since).count();
    assert!(expected > 0 && expected < 240);

    let unix = since.to_string();
    let utc = format!("{}Z", date_time(since, 0));
    let shanghai = date_time(since, 8 * 3600);
    let offset = format!("{}+08:00", date_time(since, 8 * 3600));
    let spaced = date_time(since, 8 * 3600).replace('T', " ");
    for value in [&unix, &utc, &shanghai, &offset, &spaced] {
        let found = array(json(&served, &["list", "--all", "--created-since", value]));
        assert_eq!(found.len(), expected, "--created-since {value}");
        assert!(
            found
                .iter()
                .all(|o| o["create_time"].as_i64().unwrap() >= since)
        );
    }
    // Read as UTC, the Shanghai wall-clock time is 8 hours later: fewer orders.
    let later = array(json(
        &served,
        &["list", "--all", "--created-since", &format!("{shanghai}Z")],
    ));
    assert_eq!(
        later.len(),
        times.iter().filter(|&&t| t >= since + 8 * 3600).count()
    );

    // Every order changed at or after its creation.
    let modified = array(json(
        &served,
        &["list", "--all", "--modified-since", &times[0].to_string()],
    ));
    let (mut a, mut b) = (ids(&modified), ids(&all));
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
    let none = json(&served, &["list", "--modified-since", "2100-01-01"]);
    assert_eq!(none, Value::Array(vec![]));

    // A bad time is refused, saying what was expected.
    let stderr = failed(&mut orders(
        &served,
        &["list", "--created-since", "2026-02-30"],
    ));
    assert!(
        stderr.contains("28 days") && stderr.contains("Unix seconds"),
        "{stderr}"
    );
    let stderr = failed(&mut orders(
        &served,
        &["list", "--modified-since", "yesterday"],
    ));
    assert!(stderr.contains("--modified-since"), "{stderr}");
}

#[test]
fn list_prints_a_table_when_asked() {
    let served = serve();
    let all = all(&served);
    let output = succeeds_with(&mut orders(&served, &["list", "--table", "--limit", "3"]));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(lines[0].starts_with("ORDER ID"), "{stdout}");
    for (line, order) in lines[1..].iter().zip(&all) {
        assert!(
            line.starts_with(order["order_id"].as_str().unwrap()),
            "{stdout}"
        );
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--all"), "{stderr}");
    let empty = ok(
        &served,
        &["list", "--table", "--created-since", "2100-01-01"],
    );
    assert_eq!(empty, "no matching orders\n");
}

#[test]
fn show_prints_the_order_as_the_list_has_it() {
    let served = serve();
    let all = all(&served);
    for order in [&all[0], &all[117], &all[239]] {
        let id = order["order_id"].as_str().unwrap();
        assert_eq!(&json(&served, &["show", id]), order);
        let text = ok(&served, &["show", id, "--text"]);
        assert!(text.starts_with(&format!("order       {id}\n")), "{text}");
        let steps = order["process_list"].as_array().unwrap().len();
        assert!(text.contains(&format!("{steps} step")), "{text}");
    }
    let stderr = failed(&mut orders(&served, &["show", "no-such-order"]));
    assert!(
        stderr.contains("40058") && stderr.contains("no-such-order"),
        "{stderr}"
    );
}

#[test]
fn export_writes_every_format_whole() {
    let served = serve();
    let all = all(&served);
    let dir = served.dir.path();

    let stdout = ok(
        &served,
        &["export", "--format", "jsonl", "--out", "orders.jsonl"],
    );
    assert!(
        stdout.starts_with("exported 240 orders to orders.jsonl (jsonl) in "),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with(" orders/s"), "{stdout}");
    let text = std::fs::read_to_string(dir.join("orders.jsonl")).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, all);

    ok(
        &served,
        &[
            "export",
            "--format",
            "json",
            "--out",
            "orders.json",
            "--quiet",
        ],
    );
    let text = std::fs::read_to_string(dir.join("orders.json")).unwrap();
    assert_eq!(array(serde_json::from_str(&text).unwrap()), all);

    // The format follows the extension when not given.
    let stdout = ok(&served, &["export", "--out", "orders.csv"]);
    assert!(stdout.contains("(csv)"), "{stdout}");
    let mut reader = csv::Reader::from_path(dir.join("orders.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "order_id",
            "create_time",
            "urge_type",
            "case_name",
            "grid_id",
            "grid_name",
            "desc",
            "location_name",
            "address",
            "latitude",
            "longitude",
            "processor_userids",
            "state",
            "steps",
            "last_step_time",
            "image_urls",
            "video_media_ids",
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 240);
    let mut states = std::collections::BTreeSet::new();
    for (row, order) in rows.iter().zip(&all) {
        let text = |key: &str| order[key].as_str().unwrap().to_owned();
        let joined = |key: &str, separator: &str| {
            order[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(separator)
        };
        assert_eq!(row[0], text("order_id"));
        assert_eq!(row[1], order["create_time"].to_string());
        assert_eq!(row[2], order["urge_type"].to_string());
        assert_eq!(row[3], text("case_name"));
        assert_eq!(row[4], text("grid_id"));
        assert_eq!(row[5], text("grid_name"));
        assert_eq!(row[6], text("desc"));
        assert_eq!(&row[7], order["location"]["name"].as_str().unwrap());
        let latitude: f64 = row[9].parse().unwrap();
        assert_eq!(latitude, order["location"]["latitude"].as_f64().unwrap());
        assert_eq!(row[11], joined("processor_userids", ";"));
        let steps = order["process_list"].as_array().unwrap();
        assert_eq!(row[13], steps.len().to_string());
        assert_eq!(row[15], joined("image_urls", " "));
        assert_eq!(row[16], joined("video_media_ids", " "));
        let last = steps.last().unwrap()["process_type"].as_i64().unwrap();
        let state = match last {
            1 => "new",
            2 => "accepted",
            3 => "assigned",
            4 => "transferred",
            5 => "done",
            6 => "rejected",
            7 => "in progress",
            other => panic!("process type {other}"),
        };
        assert_eq!(&row[12], state);
        states.insert(row[12].to_owned());
    }
    // The demo has orders in every state it makes.
    assert!(states.len() >= 6, "{states:?}");

    // Filters apply; a second export replaces the file.
    let since = all[200]["create_time"].as_i64().unwrap();
    let expected = all
        .iter()
        .filter(|o| o["create_time"].as_i64().unwrap() >= since)
        .count();
    let stdout = ok(
        &served,
        &[
            "export",
            "--format",
            "jsonl",
            "--out",
            "orders.jsonl",
            "--created-since",
            &since.to_string(),
        ],
    );
    assert!(
        stdout.starts_with(&format!("exported {expected} orders")),
        "{stdout}"
    );
    let text = std::fs::read_to_string(dir.join("orders.jsonl")).unwrap();
    assert_eq!(text.lines().count(), expected);

    // A failed export leaves nothing behind, and never a half file under the final name.
    let stderr = failed(&mut orders_in(
        dir,
        &[
            "export",
            "--out",
            "refused.csv",
            "--base-url",
            &served.url,
            "--corpid",
            DEMO_CORPID,
            "--corpsecret",
            "wrong-secret",
        ],
        &[],
    ));
    assert!(stderr.contains("40001"), "{stderr}");
    assert!(!dir.join("refused.csv").exists());
    let stderr = failed(&mut orders(&served, &["export", "--out", "orders.txt"]));
    assert!(stderr.contains("--format"), "{stderr}");

    let partials: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".partial"))
        .collect();
    assert!(partials.is_empty(), "{partials:?}");
}

#[test]
fn credentials_come_from_flags_then_the_environment_then_the_config_file() {
    let served = serve();
    let dir = served.dir.path();
    let count = |command: &mut Command| array(succeeds_json(command)).len();

    // The environment alone.
    let env = [
        ("PATROL_BASE_URL", served.url.as_str()),
        ("PATROL_CORPID", DEMO_CORPID),
        ("PATROL_CORPSECRET", DEMO_PATROL_SECRET),
    ];
    assert_eq!(
        count(&mut orders_in(dir, &["list", "--limit", "3"], &env)),
        3
    );

    // A flag beats the environment.
    let wrong_env = [
        ("PATROL_BASE_URL", served.url.as_str()),
        ("PATROL_CORPID", DEMO_CORPID),
        ("PATROL_CORPSECRET", "wrong-secret"),
    ];
    let args = ["list", "--limit", "3", "--corpsecret", DEMO_PATROL_SECRET];
    assert_eq!(count(&mut orders_in(dir, &args, &wrong_env)), 3);
    let stderr = failed(&mut orders_in(dir, &["list"], &wrong_env));
    assert!(stderr.contains("40001"), "{stderr}");

    // The config file alone, by --config or PATROL_CONFIG.
    let config = dir.join("patrol.toml");
    std::fs::write(
        &config,
        format!(
            "base_url = \"{}\"\ncorpid = \"{DEMO_CORPID}\"\ncorpsecret = \"{DEMO_PATROL_SECRET}\"\n",
            served.url
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    assert_eq!(
        count(&mut orders_in(
            dir,
            &["list", "--limit", "4", "--config", config],
            &[]
        )),
        4
    );
    assert_eq!(
        count(&mut orders_in(
            dir,
            &["--config", config, "list", "--limit", "4"],
            &[]
        )),
        4
    );
    assert_eq!(
        count(&mut orders_in(
            dir,
            &["list", "--limit", "4"],
            &[("PATROL_CONFIG", config)]
        )),
        4
    );

    // The environment beats the file.
    let stderr = failed(&mut orders_in(
        dir,
        &["list", "--config", config],
        &[("PATROL_CORPSECRET", "wrong-secret")],
    ));
    assert!(stderr.contains("40001"), "{stderr}");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        format!(
            "base_url = \"{}\"\ncorpid = \"{DEMO_CORPID}\"\ncorpsecret = \"wrong-secret\"\n",
            served.url
        ),
    )
    .unwrap();
    let args = ["list", "--limit", "2", "--config", bad.to_str().unwrap()];
    assert_eq!(
        count(&mut orders_in(
            dir,
            &args,
            &[("PATROL_CORPSECRET", DEMO_PATROL_SECRET)]
        )),
        2
    );

    // An unknown key is named.
    let typo = dir.join("typo.toml");
    std::fs::write(&typo, "corp_id = \"x\"\n").unwrap();
    let stderr = failed(&mut orders_in(
        dir,
        &["list", "--config", typo.to_str().unwrap()],
        &env,
    ));
    assert!(stderr.contains("corp_id"), "{stderr}");
}

#[test]
fn missing_or_refused_credentials_fail_saying_why() {
    let served = serve();
    let dir = served.dir.path();
    let url = served.url.as_str();

    let stderr = failed(&mut orders_in(
        dir,
        &[
            "list",
            "--base-url",
            url,
            "--corpsecret",
            DEMO_PATROL_SECRET,
        ],
        &[],
    ));
    assert!(
        stderr.contains("--corpid") && stderr.contains("PATROL_CORPID"),
        "{stderr}"
    );
    let stderr = failed(&mut orders_in(
        dir,
        &["list", "--base-url", url, "--corpid", DEMO_CORPID],
        &[],
    ));
    assert!(
        stderr.contains("--corpsecret") && stderr.contains("PATROL_CORPSECRET"),
        "{stderr}"
    );

    let wrong = [
        "--base-url",
        url,
        "--corpid",
        DEMO_CORPID,
        "--corpsecret",
        "wrong-secret",
    ];
    for command in [&["list"][..], &["show", "x"], &["list", "--table"]] {
        let mut args = command.to_vec();
        args.extend(wrong);
        let stderr = failed(&mut orders_in(dir, &args, &[]));
        assert!(
            stderr.contains("40001 invalid credential"),
            "{command:?}: {stderr}"
        );
    }

    let stderr = failed(&mut orders_in(
        dir,
        &[
            "list",
            "--base-url",
            url,
            "--corpid",
            "wwnosuchcorp",
            "--corpsecret",
            DEMO_PATROL_SECRET,
        ],
        &[],
    ));
    assert!(stderr.contains("40013"), "{stderr}");

    // An app not enabled for patrol.
    let stderr = failed(&mut orders_in(
        dir,
        &[
            "list",
            "--base-url",
            url,
            "--corpid",
            DEMO_CORPID,
            "--corpsecret",
            DEMO_OTHER_SECRET,
        ],
        &[],
    ));
    assert!(
        stderr.contains("48002 api forbidden: the app is not allowed to call the patrol API"),
        "{stderr}"
    );
}

#[test]
fn bad_and_unreachable_base_urls_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = ["--corpid", DEMO_CORPID, "--corpsecret", DEMO_PATROL_SECRET];

    for base_url in ["ftp://patrol.example.com", "127.0.0.1:8080"] {
        let mut args = vec!["list", "--base-url", base_url];
        args.extend(credentials);
        let stderr = failed(&mut orders_in(dir.path(), &args, &[]));
        assert!(stderr.contains("invalid base URL"), "{base_url}: {stderr}");
    }

    // Nothing listens: the error names the address, never the secret.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut args = vec!["list", "--base-url", &url];
    args.extend(credentials);
    let stderr = failed(&mut orders_in(dir.path(), &args, &[]));
    assert!(
        stderr.contains("cannot reach") && stderr.contains(&url),
        "{stderr}"
    );
}
