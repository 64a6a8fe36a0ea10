//! `patrol admin clock …` against a `patrol serve` child process: show, set, advance, freeze and
//! release, with WeCom's API seeing the clock (a token expires by it).

use serde_json::{Value, json};

use crate::support::{Served, fails, now, patrol, succeeds, succeeds_json};

const KEY: &str = "clock-key";

fn serve() -> Served {
    Served::on_any_port(&["--database", "sqlite://{dir}/p.db", "--admin-key", KEY])
}

fn admin(served: &Served, args: &[&str]) -> std::process::Command {
    let mut command = patrol(&["admin", "--server", &served.url, "--admin-key", KEY]);
    command.args(args);
    command
}

/// `patrol admin --json clock ARGS…`: the clock the server answered.
fn clock_json(served: &Served, args: &[&str]) -> Value {
    let mut all = vec!["--json", "clock"];
    all.extend_from_slice(args);
    succeeds_json(&mut admin(served, &all))
}

/// 2026-01-01 00:00:00 Asia/Shanghai.
const MIDNIGHT: i64 = 1_767_196_800;

#[test]
fn clock_shows_sets_advances_freezes_and_releases_the_servers_clock() {
    let served = serve();

    let shown = succeeds(&mut admin(&served, &["clock"]));
    assert!(shown.contains("mode    real"), "{shown}");
    assert!(!shown.contains("not real"), "{shown}");
    let real = clock_json(&served, &["show"]);
    assert_eq!(real["mode"], "real", "{real}");
    assert!((real["now"].as_i64().unwrap() - now()).abs() <= 2, "{real}");

    // A date-time with an offset: the clock runs on from it.
    let set = clock_json(&served, &["set", "2026-01-01T00:00:00+08:00"]);
    assert_eq!(set["mode"], "offset", "{set}");
    let at = set["now"].as_i64().unwrap();
    assert!((MIDNIGHT..MIDNIGHT + 3).contains(&at), "{set}");

    let frozen = clock_json(&served, &["freeze"]);
    assert_eq!(frozen["mode"], "frozen", "{frozen}");
    let at = frozen["now"].as_i64().unwrap();
    assert!((MIDNIGHT..MIDNIGHT + 5).contains(&at), "{frozen}");

    for (by, moved) in [("2h", 7200), ("-30m", -1800), ("90s", 90), ("1d", 86_400)] {
        let before = clock_json(&served, &[])["now"].as_i64().unwrap();
        let after = clock_json(&served, &["advance", by]);
        assert_eq!(after["mode"], "frozen", "{by}: {after}");
        assert_eq!(
            after["now"].as_i64().unwrap(),
            before + moved,
            "{by}: {after}"
        );
    }

    // Unix seconds; a frozen clock stays frozen there.
    let set = clock_json(&served, &["set", &MIDNIGHT.to_string()]);
    assert_eq!(set["now"], MIDNIGHT, "{set}");
    assert_eq!(set["mode"], "frozen", "{set}");
    let shown = succeeds(&mut admin(&served, &["clock", "show"]));
    assert!(shown.contains(&MIDNIGHT.to_string()), "{shown}");
    assert!(shown.contains("2026-01-01 00:00:00 +08:00"), "{shown}");
    assert!(shown.contains("mode    frozen"), "{shown}");
    assert!(shown.contains("not real"), "{shown}");

    let released = clock_json(&served, &["release"]);
    assert_eq!(released["mode"], "real", "{released}");
    assert_eq!(released["offset"], 0, "{released}");
    assert!(
        (released["now"].as_i64().unwrap() - now()).abs() <= 2,
        "{released}"
    );
}

#[test]
fn clock_refuses_what_the_server_or_the_parser_refuses() {
    let served = serve();
    // Out of the server's range: its message and status.
    let error = fails(&mut admin(&served, &["clock", "set", "1999-12-31"]));
    assert!(
        error.contains("2000-01-01") && error.contains("400"),
        "{error}"
    );
    let error = fails(&mut admin(
        &served,
        &["clock", "set", "2100-01-02T00:00:00Z"],
    ));
    assert!(error.contains("2100-01-01"), "{error}");
    let error = fails(&mut admin(&served, &["clock", "advance", "-100000d"]));
    assert!(error.contains("advance -8640000000"), "{error}");
    // Not a time or a duration: the parser's message, naming what is expected.
    let error = fails(&mut admin(&served, &["clock", "advance", "soon"]));
    assert!(error.contains("2h"), "{error}");
    let error = fails(&mut admin(&served, &["clock", "advance", "1.5s"]));
    assert!(error.contains("whole seconds"), "{error}");
    let error = fails(&mut admin(&served, &["clock", "set", "tomorrow"]));
    assert!(error.contains("Unix seconds"), "{error}");
    // Nothing changed.
    let clock = clock_json(&served, &[]);
    assert_eq!(clock["mode"], "real", "{clock}");
}

#[tokio::test]
async fn a_token_expires_when_the_clock_is_advanced_past_it() {
    let served = serve();
    let corp = succeeds_json(&mut admin(
        &served,
        &[
            "--json", "corp", "create", "--corpid", "wwclk", "--name", "时钟",
        ],
    ));
    assert_eq!(corp["corpid"], "wwclk");
    let app = succeeds_json(&mut admin(
        &served,
        &[
            "--json", "app", "create", "--corp", "wwclk", "--name", "巡查", "--patrol",
        ],
    ));
    let secret = app["secret"].as_str().unwrap();
    let wecom = served.wecom();
    let token = wecom.token("wwclk", secret).await;
    let list = "report/patrol/get_order_list";
    let answer = wecom.call(list, &token, json!({})).await;
    assert_eq!(answer["errcode"], 0, "{answer}");
    clock_json(&served, &["advance", "2h"]);
    let answer = wecom.call(list, &token, json!({})).await;
    assert_eq!(answer["errcode"], 42001, "{answer}");
}
