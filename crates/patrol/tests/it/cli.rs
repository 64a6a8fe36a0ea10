//! The `patrol` binary, run as a user runs it.

use std::process::Command;

use patrol_demo::{DEMO_CORPID, DEMO_PATROL_SECRET};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::support::{Served, all_bodies, fails, patrol, seed, succeeds_with};

#[test]
fn the_demo_banner_curl_line_works_when_pasted() {
    let mut served = Served::on_any_port(&["--demo", "--data-dir", "{dir}"]);
    let banner = served.banner_through("TOKEN=");
    let text = banner.join("\n");
    assert!(text.contains("wwpatroldemo000001"), "{text}");
    assert!(text.contains(DEMO_PATROL_SECRET), "{text}");
    let curl_line = banner.last().unwrap().trim();
    let output = Command::new("bash")
        .arg("-c")
        .arg(curl_line)
        .output()
        .expect("bash runs the line");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let answer: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
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
        let served = Served::on_any_port(&["--demo", "--data-dir", data_dir]);
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let first = runtime.block_on(async {
            let wecom = served.wecom();
            let token = wecom.token(DEMO_CORPID, DEMO_PATROL_SECRET).await;
            let page = wecom.order_list(&token, json!({"limit": 50})).await;
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

#[tokio::test]
async fn a_second_demo_never_touches_the_running_demos_database() {
    let mut first = Served::start(
        &["--demo", "--listen", "127.0.0.1:0", "--data-dir", "{dir}"],
        &[("PATROL_ADMIN_KEY", "first-demo-admin-key")],
    );
    first.banner_through("TOKEN=");
    let data_dir = first.dir.path().to_str().unwrap().to_owned();
    let database = first.dir.path().join("demo.db");
    // Something of the user's own, created through the administration API.
    let created = reqwest::Client::new()
        .post(format!("{}/admin/v1/corps", first.url))
        .bearer_auth("first-demo-admin-key")
        .json(&json!({"corpid": "wwmine", "name": "我的企业"}))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{created:?}");
    let inode = |path: &std::path::Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).unwrap().ino()
    };
    let before = inode(&database);

    // On the same address: it cannot listen, and it touched nothing.
    let address = first.url.trim_start_matches("http://").to_owned();
    let stderr = fails(&mut patrol(&[
        "serve",
        "--demo",
        "--listen",
        &address,
        "--data-dir",
        &data_dir,
    ]));
    assert!(stderr.contains("cannot listen"), "{stderr}");
    // On another port: the database is in use, and named with its holder.
    let stderr = fails(&mut patrol(&[
        "serve",
        "--demo",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        &data_dir,
    ]));
    assert!(
        stderr.contains("is in use by another patrol process")
            && stderr.contains("demo.db")
            && stderr.contains("serve --demo"),
        "{stderr}"
    );
    assert_eq!(
        inode(&database),
        before,
        "the running demo's file was replaced"
    );
    let wecom = first.wecom();
    let token = wecom.token(DEMO_CORPID, DEMO_PATROL_SECRET).await;
    let page = wecom.order_list(&token, json!({"limit": 1})).await;
    assert_eq!(page["errcode"], 0, "{page}");

    // Once the first demo is gone (however it ended), its data is all on disk.
    first.kill();
    let store = patrol_server::open_store(database.to_str().unwrap())
        .await
        .unwrap();
    assert!(store.corp("wwmine").await.unwrap().is_some());
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
    let mut served = Served::start(&["--config", config], &[("PATROL_LISTEN", "127.0.0.1:0")]);
    let text = served.banner_through("database").join("\n");
    assert!(text.contains("file.db"), "{text}");
    drop(served);

    // A flag beats both.
    let flag_db = format!("sqlite://{}", dir.path().join("flag.db").display());
    let mut served = Served::start(
        &[
            "--config",
            config,
            "--listen",
            "127.0.0.1:0",
            "--database",
            &flag_db,
        ],
        &[("PATROL_LISTEN", "256.0.0.1:1")],
    );
    let text = served.banner_through("database").join("\n");
    assert!(text.contains("flag.db"), "{text}");
}

#[test]
fn a_bad_config_stops_start_up_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("patrol.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\nlisten_port = 8080\n").unwrap();
    let stderr = fails(&mut patrol(&[
        "serve",
        "--config",
        config.to_str().unwrap(),
    ]));
    assert!(stderr.contains("listen_port"), "{stderr}");

    let stderr = fails(patrol(&["serve", "--listen", "nowhere", "--data-dir"]).arg(dir.path()));
    assert!(stderr.contains("invalid listen address"), "{stderr}");

    let stderr = fails(&mut patrol(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        "mysql://x/y",
    ]));
    assert!(stderr.contains("sqlite://"), "{stderr}");
}

#[tokio::test]
async fn seeding_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let b = dir.path().join("b.db");
    for path in [&a, &b] {
        let output = succeeds_with(&mut seed(path.to_str().unwrap(), "3000", "42"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("seeded 3000 orders"), "{stdout}");
    }
    let (a_bodies, b_bodies) = (
        all_bodies(a.to_str().unwrap()).await,
        all_bodies(b.to_str().unwrap()).await,
    );
    assert_eq!(a_bodies.len(), 3000);
    assert_eq!(a_bodies, b_bodies);

    // Another seed adds other orders; the same seed again has nothing to do, and with another
    // count it is refused, naming what it was run with; the data stays whole.
    succeeds_with(&mut seed(a.to_str().unwrap(), "100", "43"));
    let output = succeeds_with(&mut seed(a.to_str().unwrap(), "3000", "42"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("nothing to do"), "{stdout}");
    let stderr = fails(&mut seed(a.to_str().unwrap(), "100", "42"));
    assert!(
        stderr.contains("--orders 3000 --anchor 1800000000"),
        "{stderr}"
    );
    assert_eq!(all_bodies(a.to_str().unwrap()).await.len(), 3100);
}

#[tokio::test]
async fn a_seed_killed_at_any_moment_is_finished_by_running_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.db");
    let whole = whole.to_str().unwrap();
    succeeds_with(&mut seed(whole, "12000", "7"));
    let expected = all_bodies(whole).await;

    // Killed (SIGKILL: no chance to clean up) at random moments, a few times over, in the
    // middle of writing; each run again takes up where the last one's batches ended.
    let seed_value = rand::random::<u64>();
    eprintln!("kill delays from seed {seed_value}");
    let mut delays = rand_chacha::ChaCha8Rng::seed_from_u64(seed_value);
    let cut = dir.path().join("cut.db");
    let cut = cut.to_str().unwrap();
    let mut kills = 0;
    for _ in 0..3 {
        let mut child = seed(cut, "12000", "7")
            .args(["--batch", "300"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let delay = delays.random_range(100..600);
        std::thread::sleep(std::time::Duration::from_millis(delay));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
    }
    eprintln!("killed {kills} runs");
    assert!(kills > 0, "no run was killed before it ended");
    succeeds_with(seed(cut, "12000", "7").args(["--batch", "300"]));
    assert_eq!(all_bodies(cut).await, expected);
}
