//! Fault rules from the command line: a faults file at start (`patrol serve --faults FILE`),
//! and `patrol admin faults …` against a `patrol serve` child process, with WeCom's API meeting
//! each rule.

use patrol_demo::{DEMO_CORPID, DEMO_PATROL_SECRET};
use serde_json::{Value, json};

use crate::support::{Served, fails, patrol, succeeds, succeeds_json};

const KEY: &str = "faults-key";

fn admin(served: &Served, args: &[&str]) -> std::process::Command {
    let mut command = patrol(&["admin", "--server", &served.url, "--admin-key", KEY]);
    command.args(args);
    command
}

/// The errcodes of `calls` order lists of the demo corp, each with a fresh connection.
fn order_list_errcodes(served: &Served, calls: usize) -> Vec<i64> {
    let wecom = served.wecom();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let token = wecom.token(DEMO_CORPID, DEMO_PATROL_SECRET).await;
        let mut codes = Vec::new();
        for _ in 0..calls {
            let answer = wecom
                .call("report/patrol/get_order_list", &token, json!({"limit": 1}))
                .await;
            codes.push(answer["errcode"].as_i64().unwrap());
        }
        codes
    })
}

#[test]
fn a_faults_file_given_at_start_is_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("faults.json");
    std::fs::write(
        &file,
        json!({"faults": [
            {"path": "/cgi-bin/report/patrol/get_order_list", "skip": 1, "times": 2,
             "action": {"errcode": 45009}}
        ]})
        .to_string(),
    )
    .unwrap();
    let file = file.display().to_string();
    let served = Served::on_any_port(&[
        "--demo",
        "--data-dir",
        "{dir}",
        "--admin-key",
        KEY,
        "--faults",
        &file,
    ]);
    assert_eq!(order_list_errcodes(&served, 4), [0, 45009, 45009, 0]);

    // Through the environment too.
    let served = Served::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--demo",
            "--data-dir",
            "{dir}",
            "--admin-key",
            KEY,
        ],
        &[("PATROL_FAULTS", &file)],
    );
    assert_eq!(order_list_errcodes(&served, 2), [0, 45009]);
}

#[test]
fn a_bad_faults_file_refuses_the_start_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad_rule = dir.path().join("bad-rule.json");
    std::fs::write(
        &bad_rule,
        json!({"faults": [{"action": "reset"}, {"times": 0, "action": "reset"}]}).to_string(),
    )
    .unwrap();
    let not_json = dir.path().join("not-json.json");
    std::fs::write(&not_json, r#"{"faults": [{"action": "explode"}]}"#).unwrap();
    for (file, says) in [
        (&bad_rule, "faults[1].times"),
        (&not_json, "faults[0].action"),
        (
            &dir.path().join("missing.json"),
            "cannot read the faults file",
        ),
    ] {
        let error = fails(&mut patrol(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &format!("sqlite://{}/p.db", dir.path().display()),
            "--faults",
            &file.display().to_string(),
        ]));
        assert!(error.contains(&file.display().to_string()), "{error}");
        assert!(error.contains(says), "{says}: {error}");
    }
}

#[test]
fn admin_faults_adds_lists_shows_loads_and_removes_rules() {
    let served = Served::on_any_port(&["--demo", "--data-dir", "{dir}", "--admin-key", KEY]);
    let empty = succeeds(&mut admin(&served, &["faults"]));
    assert!(empty.contains("no fault rules"), "{empty}");

    let added = succeeds(&mut admin(
        &served,
        &[
            "faults",
            "add",
            "--path",
            "/cgi-bin/report/patrol/get_order_list",
            "--method",
            "POST",
            "--times",
            "2",
            "--errcode",
            "-1",
        ],
    ));
    assert_eq!(
        added.trim(),
        "added fault rule 1: errcode -1 on POST /cgi-bin/report/patrol/get_order_list (2 times)"
    );
    let listed = succeeds(&mut admin(&served, &["faults", "list"]));
    for text in ["ID", "REMAINING", "errcode -1", "2 times"] {
        assert!(listed.contains(text), "{text}: {listed}");
    }
    assert_eq!(order_list_errcodes(&served, 3), [-1, -1, 0]);
    let total = succeeds(&mut admin(&served, &["faults"]));
    assert!(total.contains("no fault rules"), "{total}");
    assert!(total.contains("since the server started: 2"), "{total}");

    // Every action and trigger flag makes the rule it says.
    for (args, action) in [
        (vec!["--status", "503"], json!({"status": 503})),
        (
            vec!["--delay", "5"],
            json!({"delay": {"distribution": "fixed", "ms": 5}}),
        ),
        (
            vec!["--delay-between", "1..9"],
            json!({"delay": {"distribution": "uniform", "min_ms": 1, "max_ms": 9}}),
        ),
        (
            vec!["--delay-lognormal", "20,0.5"],
            json!({"delay": {"distribution": "lognormal", "median_ms": 20, "sigma": 0.5}}),
        ),
        (vec!["--reset"], json!("reset")),
        (vec!["--truncate"], json!("truncate")),
        (
            vec!["--chunks", "16,100"],
            json!({"chunks": {"bytes": 16, "every_ms": 100}}),
        ),
    ] {
        let mut all = vec![
            "--json",
            "faults",
            "add",
            "--corpid",
            "wwnobody",
            "--agentid",
            "7",
            "--skip",
            "1",
            "--probability",
            "0.5",
            "--seed",
            "9",
            "--for",
            "1h",
        ];
        all.extend(args.iter().copied());
        let view = succeeds_json(&mut admin(&served, &all));
        assert_eq!(view["rule"]["action"], action, "{view}");
        for (key, want) in [
            ("corpid", json!("wwnobody")),
            ("agentid", json!(7)),
            ("skip", json!(1)),
            ("probability", json!(0.5)),
            ("seed", json!(9)),
            ("path", json!("/cgi-bin/*")),
        ] {
            assert_eq!(view["rule"][key], want, "{key}: {view}");
        }
        assert!(view["rule"]["until"].as_i64().is_some(), "{view}");
    }
    let shown: Value = succeeds_json(&mut admin(&served, &["--json", "faults", "show", "2"]));
    assert_eq!(shown["rule"]["action"], json!({"status": 503}));
    succeeds(&mut admin(&served, &["faults", "remove", "2"]));
    let error = fails(&mut admin(&served, &["faults", "remove", "2"]));
    assert!(error.contains("fault rule 2 not found"), "{error}");
    // The server's refusal, with the field named.
    let error = fails(&mut admin(
        &served,
        &["faults", "add", "--probability", "2", "--reset"],
    ));
    assert!(error.contains("probability"), "{error}");
    // One action, always.
    let error = fails(&mut admin(
        &served,
        &["faults", "add", "--reset", "--truncate"],
    ));
    assert!(error.contains("cannot be used with"), "{error}");

    // A file replaces every rule.
    let file = served.dir.path().join("set.json");
    std::fs::write(
        &file,
        json!({"faults": [{"path": "*/get_order_list", "times": 1, "action": {"errcode": 42001}}]})
            .to_string(),
    )
    .unwrap();
    let loaded = succeeds(&mut admin(
        &served,
        &["faults", "load", &file.display().to_string()],
    ));
    assert!(loaded.contains("1 fault rules in force"), "{loaded}");
    assert_eq!(order_list_errcodes(&served, 2), [42001, 0]);
    succeeds(&mut admin(&served, &["faults", "add", "--errcode", "-1"]));
    succeeds(&mut admin(&served, &["faults", "clear"]));
    let list: Value = succeeds_json(&mut admin(&served, &["--json", "faults"]));
    assert_eq!(list["faults"], json!([]));
}
