//! The CLI's one time rule and one vocabulary of order states: `patrol admin` and `patrol
//! orders` show the same order's times the same way (the CLI's time zone, Asia/Shanghai unless
//! `--time-zone` / `PATROL_TIME_ZONE` says otherwise, always with the offset) and its state in
//! the same word.

use std::process::Command;

use patrol_demo::{DEMO_CORPID, DEMO_PATROL_SECRET};
use serde_json::Value;

use crate::support::{Served, patrol, succeeds, succeeds_json};

const KEY: &str = "cli-output-key";

fn serve() -> Served {
    Served::on_any_port(&["--demo", "--data-dir", "{dir}", "--admin-key", KEY])
}

/// `patrol admin … order show ID --corp DEMO` plus `extra` flags.
fn admin_show(served: &Served, id: &str, extra: &[&str]) -> Command {
    let mut command = patrol(&["admin", "--server", &served.url, "--admin-key", KEY]);
    command.args(["order", "show", "--corp", DEMO_CORPID, id]);
    command.args(extra);
    command
}

/// `patrol orders show ID --text` against the demo corp plus `extra` flags.
fn orders_show(served: &Served, id: &str, extra: &[&str]) -> Command {
    let mut command = patrol(&["orders", "show", id, "--text"]);
    command.args([
        "--base-url",
        &served.url,
        "--corpid",
        DEMO_CORPID,
        "--corpsecret",
        DEMO_PATROL_SECRET,
    ]);
    command.args(extra);
    command
}

/// The words after `key` on the line that starts with it.
fn field(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|line| line.strip_prefix(key).filter(|rest| rest.starts_with(' ')))
        .unwrap_or_else(|| panic!("no {key:?} line in {text}"))
        .trim()
        .to_owned()
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS` in UTC shifted by `offset` seconds, computed here
/// independently of jiff (days from the civil calendar's algorithm).
fn wall_clock(unix: i64, offset: i64) -> String {
    let local = unix + offset;
    let (days, seconds) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

#[test]
fn admin_and_orders_show_one_time_rule_and_one_state_vocabulary() {
    let served = serve();
    let mut list = patrol(&["orders", "list", "--all", "--json"]);
    list.args([
        "--base-url",
        &served.url,
        "--corpid",
        DEMO_CORPID,
        "--corpsecret",
        DEMO_PATROL_SECRET,
    ]);
    let all: Vec<Value> = succeeds_json(&mut list).as_array().unwrap().clone();
    // A done order, a rejected one and an open one.
    let last_type = |order: &Value| {
        order["process_list"].as_array().unwrap().last().unwrap()["process_type"]
            .as_i64()
            .unwrap()
    };
    let mut picked = Vec::new();
    for (wanted, word) in [(5, "done"), (6, "rejected"), (3, "assigned")] {
        let order = all
            .iter()
            .find(|order| last_type(order) == wanted)
            .unwrap_or_else(|| panic!("the demo has no order whose last step is {wanted}"));
        picked.push((order, word));
    }

    for (order, word) in picked {
        let id = order["order_id"].as_str().unwrap();
        let created = order["create_time"].as_i64().unwrap();

        // By default: Asia/Shanghai, with its offset, in both commands.
        let shanghai = format!("{} +08:00", wall_clock(created, 8 * 3600));
        let admin = succeeds(&mut admin_show(&served, id, &[]));
        let orders = succeeds(&mut orders_show(&served, id, &[]));
        assert_eq!(field(&admin, "created"), format!("{created} ({shanghai})"));
        assert_eq!(field(&orders, "created"), format!("{shanghai} ({created})"));
        assert!(!admin.contains("UTC") && !orders.contains("Asia/Shanghai"));

        // One word for the state: the order is `done` (or `rejected`, …) in both, never `closed`.
        let admin_state = field(&admin, "state");
        assert_eq!(field(&orders, "state"), word, "{orders}");
        assert!(
            admin_state == word || admin_state.starts_with(&format!("{word}, processors: ")),
            "{admin_state:?} is not {word:?}"
        );
        assert!(!admin.contains("closed") && !orders.contains("closed"));

        // Another zone, by flag for one command and by variable for the other: the same text.
        let utc = format!("{} +00:00", wall_clock(created, 0));
        let admin = succeeds(&mut admin_show(&served, id, &["--time-zone", "UTC"]));
        let orders = succeeds(orders_show(&served, id, &[]).env("PATROL_TIME_ZONE", "UTC"));
        assert_eq!(field(&admin, "created"), format!("{created} ({utc})"));
        assert_eq!(field(&orders, "created"), format!("{utc} ({created})"));
    }
}

#[test]
fn dates_without_an_offset_are_read_in_the_clis_time_zone() {
    let served = serve();
    let set = |extra: &[&str]| -> i64 {
        let mut command = patrol(&["admin", "--server", &served.url, "--admin-key", KEY]);
        command.args(["--json", "clock", "set", "2026-01-01T00:00:00"]);
        command.args(extra);
        succeeds_json(&mut command)["now"].as_i64().unwrap()
    };
    // Midnight in Shanghai by default, midnight UTC with --time-zone UTC.
    assert_eq!(set(&[]), 1_767_196_800);
    assert_eq!(set(&["--time-zone", "UTC"]), 1_767_225_600);
    // Shown back in the same zone, the offset said.
    let mut show = patrol(&["admin", "--server", &served.url, "--admin-key", KEY]);
    show.args(["clock", "show", "--time-zone", "Europe/Berlin"]);
    let shown = succeeds(&mut show);
    assert!(
        shown.contains("1767225600 (2026-01-01 01:00:00 +01:00)"),
        "{shown}"
    );

    // An unknown zone is refused naming the setting.
    let mut bad = patrol(&["admin", "--server", &served.url, "--admin-key", KEY]);
    bad.args(["clock", "show"])
        .env("PATROL_TIME_ZONE", "Mars/Olympus");
    let output = bad.output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Mars/Olympus") && stderr.contains("--time-zone"),
        "{stderr}"
    );
}
