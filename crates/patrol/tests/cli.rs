//! The `patrol` binary, run as a user runs it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use patrol_domain::ListQuery;

const PATROL: &str = env!("CARGO_BIN_EXE_patrol");

/// A `patrol serve` child process, killed on drop.
struct Served {
    child: Child,
    banner: Vec<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `patrol serve` with `args` and reads its banner (up to the curl line when `--demo`).
fn serve(args: &[&str], envs: &[(&str, &str)], demo: bool) -> Served {
    let mut command = Command::new(PATROL);
    command
        .arg("serve")
        .args(args)
        .env_remove("PATROL_LISTEN")
        .env_remove("PATROL_DATABASE")
        .env_remove("PATROL_CONFIG")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (key, value) in envs {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("patrol starts");
    let stdout = child.stdout.take().unwrap();
    let mut banner = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let done = if demo {
            line.trim_start().starts_with("TOKEN=")
        } else {
            line.trim_start().starts_with("database")
        };
        banner.push(line);
        if done {
            break;
        }
    }
    Served { child, banner }
}

fn base_url(banner: &[String]) -> String {
    let first = &banner[0];
    first
        .split_whitespace()
        .last()
        .expect("the banner names the URL")
        .to_owned()
}

#[test]
fn the_demo_banner_curl_line_works_when_pasted() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let served = serve(
        &["--demo", "--listen", "127.0.0.1:0", "--data-dir", data_dir],
        &[],
        true,
    );
    let text = served.banner.join("\n");
    assert!(text.contains("wwpatroldemo000001"), "{text}");
    assert!(text.contains(patrol_demo::DEMO_PATROL_SECRET), "{text}");
    let curl_line = served.banner.last().unwrap().trim();
    let output = Command::new("bash")
        .arg("-c")
        .arg(curl_line)
        .output()
        .expect("bash runs the line");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let answer: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(answer["errcode"], 0, "{answer}");
    assert_eq!(answer["order_list"].as_array().unwrap().len(), 2);
    assert_ne!(answer["next_cursor"], "");
}

#[test]
fn demo_starts_fresh_each_time_on_its_own_file() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let mut firsts = Vec::new();
    for _ in 0..2 {
        let served = serve(
            &["--demo", "--listen", "127.0.0.1:0", "--data-dir", data_dir],
            &[],
            true,
        );
        let url = base_url(&served.banner);
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let first = runtime.block_on(async {
            let client = reqwest::Client::new();
            let token: serde_json::Value = client
                .get(format!(
                    "{url}/cgi-bin/gettoken?corpid=wwpatroldemo000001&corpsecret={}",
                    patrol_demo::DEMO_PATROL_SECRET
                ))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let token = token["access_token"].as_str().unwrap().to_owned();
            let page: serde_json::Value = client
                .post(format!(
                    "{url}/cgi-bin/report/patrol/get_order_list?access_token={token}"
                ))
                .body(r#"{"limit":50}"#)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            // Times follow the clock (the demo's 30 days end at the current hour) and image URLs
            // name the server's own address: compare what neither changes.
            page["order_list"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| {
                    (
                        o["order_id"].to_string(),
                        o["desc"].to_string(),
                        o["process_list"].as_array().unwrap().len(),
                    )
                })
                .collect::<Vec<_>>()
        });
        firsts.push(first);
    }
    assert_eq!(firsts[0], firsts[1], "the demo is the same on every start");
    assert!(dir.path().join("demo.db").exists());
}

#[test]
fn flags_override_the_environment_which_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("patrol.toml");
    let database = format!("sqlite://{}", dir.path().join("file.db").display());
    std::fs::write(
        &config,
        format!("listen = \"256.0.0.1:1\"\ndatabase = \"{database}\"\n"),
    )
    .unwrap();
    let config = config.to_str().unwrap();

    // The file's database is used; the environment's listen address beats the file's.
    let served = serve(
        &["--config", config],
        &[("PATROL_LISTEN", "127.0.0.1:0")],
        false,
    );
    let text = served.banner.join("\n");
    assert!(text.contains("file.db"), "{text}");
    drop(served);

    // A flag beats both.
    let flag_db = format!("sqlite://{}", dir.path().join("flag.db").display());
    let served = serve(
        &[
            "--config",
            config,
            "--listen",
            "127.0.0.1:0",
            "--database",
            &flag_db,
        ],
        &[("PATROL_LISTEN", "256.0.0.1:1")],
        false,
    );
    let text = served.banner.join("\n");
    assert!(text.contains("flag.db"), "{text}");
}

#[test]
fn a_bad_config_stops_start_up_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("patrol.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\nlisten_port = 8080\n").unwrap();
    let output = Command::new(PATROL)
        .args(["serve", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("listen_port"), "{stderr}");

    let output = Command::new(PATROL)
        .args(["serve", "--listen", "nowhere", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid listen address"));

    let output = Command::new(PATROL)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            "mysql://x/y",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("sqlite://"));
}

fn seed(database: &str, orders: &str, seed: &str) -> std::process::Output {
    Command::new(PATROL)
        .args([
            "seed",
            "--orders",
            orders,
            "--seed",
            seed,
            "--anchor",
            "1800000000",
        ])
        .args(["--database", database, "--quiet"])
        .output()
        .expect("patrol seed runs")
}

async fn all_bodies(path: &std::path::Path) -> Vec<String> {
    let store = patrol_server::open_store(path.to_str().unwrap()).unwrap();
    let corp = store.corp("wwpatroldemo000001").await.unwrap().unwrap();
    let mut bodies = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_orders(
                corp.key,
                ListQuery {
                    begin_create_time: 0,
                    begin_modify_time: 0,
                    after,
                    limit: 500,
                },
            )
            .await
            .unwrap();
        let Some(last) = page.last_position() else {
            return bodies;
        };
        after = Some(last);
        bodies.extend(
            page.bodies()
                .map(|b| String::from_utf8(b.to_vec()).unwrap()),
        );
    }
}

#[tokio::test]
async fn seeding_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let b = dir.path().join("b.db");
    for path in [&a, &b] {
        let output = seed(path.to_str().unwrap(), "3000", "42");
        assert!(output.status.success(), "{output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("seeded 3000 orders"), "{stdout}");
    }
    let (a_bodies, b_bodies) = (all_bodies(&a).await, all_bodies(&b).await);
    assert_eq!(a_bodies.len(), 3000);
    assert_eq!(a_bodies, b_bodies);

    // Another seed adds other orders; the same seed again is refused, leaving the data whole.
    assert!(seed(a.to_str().unwrap(), "100", "43").status.success());
    let again = seed(a.to_str().unwrap(), "100", "42");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(all_bodies(&a).await.len(), 3100);
}
