//! The one configuration layer, across subcommands: flags beat `PATROL_*` variables, which beat
//! the config file, which beats the defaults.

use std::path::{Path, PathBuf};

use crate::support::{Served, fails, patrol, succeeds};

/// Writes a config file into `dir`.
fn config(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The banner's database line of `patrol serve --config CONFIG ARGS…` with `envs`.
fn served_database(config: &Path, args: &[&str], envs: &[(&str, &str)]) -> String {
    let config = config.to_str().unwrap();
    let mut all = vec![
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        "{dir}",
        "--config",
        config,
    ];
    all.extend_from_slice(args);
    let mut served = Served::start(&all, envs);
    served.banner_through("database").pop().unwrap()
}

#[test]
fn demo_false_by_flag_or_environment_switches_off_the_files_demo() {
    let dir = tempfile::tempdir().unwrap();
    let demo = config(dir.path(), "demo.toml", "demo = true\n");

    assert!(served_database(&demo, &[], &[]).ends_with("demo.db"));
    let off = served_database(&demo, &["--demo=false"], &[]);
    assert!(off.ends_with("patrol.db"), "{off}");
    let off = served_database(&demo, &[], &[("PATROL_DEMO", "false")]);
    assert!(off.ends_with("patrol.db"), "{off}");
    // The flag beats the environment, either way.
    let on = served_database(&demo, &["--demo"], &[("PATROL_DEMO", "false")]);
    assert!(on.ends_with("demo.db"), "{on}");
    let off = served_database(&demo, &["--demo=false"], &[("PATROL_DEMO", "true")]);
    assert!(off.ends_with("patrol.db"), "{off}");
}

#[test]
fn seed_takes_the_database_from_the_flag_then_the_environment_then_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
    let file = config(
        dir.path(),
        "patrol.toml",
        &format!("database = \"{}\"\n", url("file.db")),
    );
    let seed = |args: &[&str], envs: &[(&str, &str)]| {
        let mut command = patrol(&["seed", "--orders", "1", "--anchor", "1800000000", "--quiet"]);
        command
            .arg("--config")
            .arg(&file)
            .args(args)
            .envs(envs.iter().copied());
        succeeds(&mut command)
    };
    let (env_db, flag_db) = (url("env.db"), url("flag.db"));

    let out = seed(&[], &[]);
    assert!(out.trim_end().ends_with("file.db"), "{out}");
    let out = seed(&[], &[("PATROL_DATABASE", &env_db)]);
    assert!(out.trim_end().ends_with("env.db"), "{out}");
    let out = seed(&["--database", &flag_db], &[("PATROL_DATABASE", &env_db)]);
    assert!(out.trim_end().ends_with("flag.db"), "{out}");
}

#[test]
fn the_admin_key_comes_from_the_flag_then_the_environment_then_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let stale = config(dir.path(), "stale.toml", "admin_key = \"file-key\"\n");
    let good = config(dir.path(), "good.toml", "admin_key = \"env-key\"\n");

    // patrol serve: the environment's key beats the file's.
    let served = Served::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--database",
            "sqlite://{dir}/p.db",
            "--config",
            stale.to_str().unwrap(),
        ],
        &[("PATROL_ADMIN_KEY", "env-key")],
    );
    let admin = |config: &Path, args: &[&str], envs: &[(&str, &str)]| {
        let mut command = patrol(&["admin", "--server", &served.url, "--config"]);
        command
            .arg(config)
            .args(args)
            .args(["corp", "list"])
            .envs(envs.iter().copied());
        command
    };

    // patrol admin: the file alone, then the environment over it, then a flag over both.
    let stderr = fails(&mut admin(&stale, &[], &[]));
    assert!(stderr.contains("401"), "{stderr}");
    succeeds(&mut admin(&good, &[], &[]));
    let stderr = fails(&mut admin(&good, &[], &[("PATROL_ADMIN_KEY", "wrong")]));
    assert!(stderr.contains("401"), "{stderr}");
    succeeds(&mut admin(
        &stale,
        &["--admin-key", "env-key"],
        &[("PATROL_ADMIN_KEY", "wrong")],
    ));
}

#[test]
fn the_admin_key_may_come_from_a_file_kept_out_of_ps() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("admin.key");
    std::fs::write(&key_file, "key-from-a-file\n").unwrap();
    let key_file = key_file.to_str().unwrap();
    let empty = config(dir.path(), "empty.toml", "");

    let served = Served::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--database",
            "sqlite://{dir}/p.db",
            "--admin-key-file",
            key_file,
        ],
        &[],
    );
    let mut admin = patrol(&["admin", "--server", &served.url, "--config"]);
    admin
        .arg(&empty)
        .args(["--admin-key", "key-from-a-file", "corp", "list"]);
    succeeds(&mut admin);

    // A key and a key file at once, or an empty file: refused before anything starts.
    let stderr = fails(
        patrol(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-key-file",
            key_file,
        ])
        .args(["--database", "sqlite://x.db"])
        .env("PATROL_ADMIN_KEY", "another")
        .current_dir(dir.path()),
    );
    assert!(stderr.contains("keep one"), "{stderr}");
    let blank = config(dir.path(), "blank.key", "\n");
    let stderr = fails(
        patrol(&["serve", "--listen", "127.0.0.1:0", "--admin-key-file"])
            .arg(&blank)
            .current_dir(dir.path()),
    );
    assert!(stderr.contains("is empty"), "{stderr}");
}

#[test]
fn connection_and_durability_settings_are_checked_at_start() {
    let dir = tempfile::tempdir().unwrap();
    for (args, message) in [
        (&["--durability", "sometimes"][..], "invalid durability"),
        (&["--idle-timeout", "0"][..], "idle_timeout must be between"),
        (
            &["--header-read-timeout", "100000"][..],
            "header_read_timeout",
        ),
        (&["--max-connections", "0"][..], "max_connections must be"),
        (
            &["--max-connections-per-ip", "0"][..],
            "max_connections_per_ip",
        ),
        (
            &["--token-ttl", "99999999999"][..],
            "token_ttl must be between",
        ),
    ] {
        let stderr = fails(
            patrol(&["serve", "--listen", "127.0.0.1:0", "--data-dir"])
                .arg(dir.path())
                .args(args),
        );
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    // And from the file, with the same words.
    let file = config(dir.path(), "bad.toml", "durability = \"fast\"\n");
    let stderr = fails(
        patrol(&["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .arg("--config")
            .arg(&file),
    );
    assert!(stderr.contains("invalid durability \"fast\""), "{stderr}");
    // Nothing was created by a refused start.
    assert!(!dir.path().join("patrol.db").exists());
}

#[test]
fn read_replicas_of_a_sqlite_database_are_refused_at_start_from_flag_environment_or_file() {
    let dir = tempfile::tempdir().unwrap();
    let replica = "postgres://postgres@127.0.0.1:1/patrol";
    let file = config(
        dir.path(),
        "replicas.toml",
        &format!("database_replicas = [\"{replica}\"]\n"),
    );
    let serve = || {
        let mut command = patrol(&["serve", "--listen", "127.0.0.1:0", "--data-dir"]);
        command.arg(dir.path());
        command
    };
    for (name, mut command) in [
        ("flag", {
            let mut command = serve();
            command.args(["--database-replica", replica]);
            command
        }),
        ("environment", {
            let mut command = serve();
            command.env("PATROL_DATABASE_REPLICAS", replica);
            command
        }),
        ("file", {
            let mut command = serve();
            command.arg("--config").arg(&file);
            command
        }),
    ] {
        let stderr = fails(&mut command);
        assert!(
            stderr.contains("--database-replica") && stderr.contains("PostgreSQL"),
            "{name}: {stderr}"
        );
    }
    // Nothing was created by a refused start.
    assert!(!dir.path().join("patrol.db").exists());
}

#[test]
fn a_database_password_is_never_shown() {
    // Banners and errors land in logs: the URL is shown, its password is not, from every
    // command that names a database.
    let dir = tempfile::tempdir().unwrap();
    let secret = "pw-d0-not-show";
    let unreachable = format!("postgres://patrol:{secret}@127.0.0.1:1/patrol?password={secret}");
    let unsupported = format!("mysql://patrol:{secret}@127.0.0.1/patrol");
    let media = dir.path().join("media");
    for (name, mut command) in [
        ("serve", {
            let mut command = patrol(&["serve", "--listen", "127.0.0.1:0", "--database"]);
            command.arg(&unreachable).arg("--media-dir").arg(&media);
            command
        }),
        ("serve, unsupported scheme", {
            let mut command = patrol(&["serve", "--listen", "127.0.0.1:0", "--database"]);
            command.arg(&unsupported);
            command
        }),
        ("seed", {
            let mut command = patrol(&["seed", "--orders", "1", "--quiet", "--database"]);
            command.arg(&unreachable).arg("--media-dir").arg(&media);
            command
        }),
        ("snapshot", {
            let mut command = patrol(&["snapshot", "save"]);
            command
                .arg(dir.path().join("s.snapshot"))
                .arg("--database")
                .arg(&unreachable)
                .arg("--media-dir")
                .arg(&media);
            command
        }),
        ("migrate", {
            let mut command = patrol(&["migrate", "--quiet", "--from"]);
            command
                .arg(&unreachable)
                .arg("--from-media")
                .arg(&media)
                .arg("--to")
                .arg(dir.path().join("to.db"));
            command
        }),
    ] {
        let stderr = fails(&mut command);
        assert!(!stderr.contains(secret), "{name}: {stderr}");
        assert!(stderr.contains("patrol:***@127.0.0.1"), "{name}: {stderr}");
    }
}

#[tokio::test]
async fn quotas_are_set_from_flag_environment_or_file_and_bad_ones_are_named() {
    // `--quota NAME=N` turns quotas on with that limit; the environment and the file do the
    // same; `--quotas=false` switches them off whatever the limits.
    let dir = tempfile::tempdir().unwrap();
    let file = config(dir.path(), "quota.toml", "quota = [\"ip_per_minute=2\"]\n");
    let file = file.to_str().unwrap();
    for (name, args, envs) in [
        ("flag", vec!["--quota", "ip_per_minute=2"], vec![]),
        (
            "environment",
            vec![],
            vec![("PATROL_QUOTA", "ip_per_minute=2")],
        ),
        ("file", vec!["--config", file], vec![]),
    ] {
        let mut all = vec!["--listen", "127.0.0.1:0", "--data-dir", "{dir}", "--demo"];
        all.extend(args);
        let served = Served::start(&all, &envs);
        let wecom = served.wecom();
        for _ in 0..2 {
            let answer = wecom
                .gettoken(patrol_demo::DEMO_CORPID, patrol_demo::DEMO_PATROL_SECRET)
                .await;
            assert_eq!(answer["errcode"], 0, "{name}: {answer}");
        }
        let refused = wecom
            .gettoken(patrol_demo::DEMO_CORPID, patrol_demo::DEMO_PATROL_SECRET)
            .await;
        assert_eq!(refused["errcode"], 45009, "{name}: {refused}");
    }
    let served = Served::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            "{dir}",
            "--demo",
            "--quotas=false",
            "--config",
            file,
        ],
        &[],
    );
    let wecom = served.wecom();
    for _ in 0..3 {
        let answer = wecom
            .gettoken(patrol_demo::DEMO_CORPID, patrol_demo::DEMO_PATROL_SECRET)
            .await;
        assert_eq!(answer["errcode"], 0, "switched off: {answer}");
    }
    for bad in ["ip_per_minute", "ip_per_minute=0", "per_day=1"] {
        let stderr = fails(&mut patrol(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--quota",
            bad,
        ]));
        assert!(stderr.contains("--quota"), "{bad}: {stderr}");
    }
}
