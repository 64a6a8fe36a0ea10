//! `patrol --version`, and what `patrol serve` writes to a stderr that is no terminal (a file,
//! as a service manager or `2> log` gives it): text without ANSI colour codes, or JSON with
//! `--log-format json`, `PATROL_LOG_FORMAT=json` or `log_format = "json"`, one object a line,
//! with the access line of every request.

use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::{PATROL, fails, patrol, succeeds};

#[test]
fn version_names_the_version_and_the_git_commit() {
    let out = succeeds(std::process::Command::new(PATROL).arg("--version"));
    let line = out.trim();
    let commit = line
        .strip_prefix(&format!("patrol {} (commit ", env!("CARGO_PKG_VERSION")))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{line:?}"));
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "{line:?}"
    );
    assert_ne!(env!("CARGO_PKG_VERSION"), "0.0.0");
}

/// `patrol serve` on a free port with `args` and `envs`, its stderr into `log`, logging at info;
/// answering once `/healthz` does.
async fn serve(dir: &std::path::Path, args: &[&str], envs: &[(&str, &str)]) -> (Child, String) {
    let port = patrol_test::cluster::free_port();
    let log = std::fs::File::create(dir.join("stderr.log")).unwrap();
    let mut child = patrol(&["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--data-dir", &dir.display().to_string()])
        .args(args)
        .envs(envs.iter().copied())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("patrol starts");
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(response) = http.get(format!("{url}/healthz")).send().await
            && response.status() == 200
        {
            return (child, url);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!(
        "patrol serve did not answer /healthz:\n{}",
        std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
    );
}

/// A few calls: a refused WeCom call, a version, an unserved path. Their request ids.
async fn calls(url: &str) -> Vec<String> {
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for request in [
        http.post(format!("{url}/cgi-bin/report/patrol/get_order_list"))
            .body("{}"),
        http.get(format!("{url}/version")),
        http.get(format!("{url}/cgi-bin/nothing?access_token=SECRET-TOKEN")),
    ] {
        let response = request.send().await.unwrap();
        ids.push(
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    ids
}

/// Stops the server; what it wrote to stderr.
fn stop(mut child: Child, dir: &std::path::Path) -> String {
    let _ = child.kill();
    let _ = child.wait();
    std::fs::read_to_string(dir.join("stderr.log")).unwrap()
}

#[tokio::test]
async fn text_logs_to_a_file_have_no_ansi_codes_and_an_access_line_per_request() {
    let dir = tempfile::tempdir().unwrap();
    let (child, url) = serve(dir.path(), &[], &[]).await;
    let ids = calls(&url).await;
    let logs = stop(child, dir.path());
    assert!(!logs.contains('\u{1b}'), "ANSI codes in:\n{logs}");
    for id in &ids {
        let line = logs
            .lines()
            .find(|line| line.contains("patrol_server::access") && line.contains(id.as_str()))
            .unwrap_or_else(|| panic!("no access line for {id} in:\n{logs}"));
        assert!(line.contains(" INFO "), "{line}");
    }
    assert!(!logs.contains("SECRET-TOKEN"), "{logs}");
}

/// Every line of `logs` parsed as a JSON object.
#[track_caller]
fn json_lines(logs: &str) -> Vec<Value> {
    assert!(!logs.trim().is_empty());
    logs.lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{e}: not a JSON line: {line:?}\n{logs}"));
            assert!(value.is_object(), "{line}");
            value
        })
        .collect()
}

/// Arguments and environment variables of one way to choose the format.
type Way<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);

#[tokio::test]
async fn json_logs_are_one_object_a_line_from_the_flag_the_variable_or_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("patrol.toml"), "log_format = \"json\"\n").unwrap();
    let config = dir.path().join("patrol.toml").display().to_string();
    let ways: [Way<'_>; 3] = [
        (&["--log-format", "json"], &[]),
        (&[], &[("PATROL_LOG_FORMAT", "json")]),
        (&["--config", &config], &[]),
    ];
    for (args, envs) in ways {
        let dir = tempfile::tempdir().unwrap();
        let (child, url) = serve(dir.path(), args, envs).await;
        let ids = calls(&url).await;
        let logs = stop(child, dir.path());
        assert!(
            !logs.contains('\u{1b}'),
            "{args:?} {envs:?}: ANSI codes in:\n{logs}"
        );
        let lines = json_lines(&logs);
        // The start's lines too, e.g. the listening one.
        assert!(
            lines
                .iter()
                .any(|line| line["message"] == "patrol is listening"),
            "{logs}"
        );
        let access: Vec<&Value> = lines
            .iter()
            .filter(|line| line["target"] == "patrol_server::access")
            .collect();
        let refused = access
            .iter()
            .find(|line| line["request_id"] == ids[0].as_str())
            .unwrap_or_else(|| panic!("{args:?} {envs:?}: no access line for {}:\n{logs}", ids[0]));
        assert_eq!(refused["level"], "INFO", "{refused}");
        assert_eq!(refused["method"], "POST", "{refused}");
        assert_eq!(
            refused["path"], "/cgi-bin/report/patrol/get_order_list",
            "{refused}"
        );
        assert_eq!(refused["status"], 200, "{refused}");
        assert_eq!(refused["errcode"], 41001, "{refused}");
        assert!(refused["elapsed_us"].is_u64(), "{refused}");
        assert!(refused["timestamp"].is_string(), "{refused}");
        let version = access
            .iter()
            .find(|line| line["request_id"] == ids[1].as_str())
            .unwrap_or_else(|| panic!("no access line for {}:\n{logs}", ids[1]));
        assert_eq!(version["path"], "/version", "{version}");
        assert!(version.get("errcode").is_none(), "{version}");
        assert!(!logs.contains("SECRET-TOKEN"), "{logs}");
    }
}

#[test]
fn an_unknown_log_format_is_refused_naming_the_accepted_ones() {
    let stderr = fails(&mut patrol(&["serve", "--log-format", "xml"]));
    assert!(
        stderr.contains("xml") && stderr.contains("text") && stderr.contains("json"),
        "{stderr}"
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("patrol.toml");
    std::fs::write(&config, "log_format = \"xml\"\n").unwrap();
    let stderr = fails(&mut patrol(&[
        "serve",
        "--config",
        &config.display().to_string(),
    ]));
    assert!(
        stderr.contains("log_format") || stderr.contains("xml"),
        "{stderr}"
    );
}
