//! `patrol migrate`: the demo database moved SQLite → PostgreSQL → SQLite answers every WeCom
//! call byte for byte as before (a cursor and a token taken before the move included); an
//! interrupted migrate resumes; a target holding other corps is refused; bad URLs are named.
//! PostgreSQL runs in a cluster of the test's own (`patrol_test::PgCluster`).

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use patrol_demo::{DEMO_CORPID, DEMO_PATROL_SECRET};
use patrol_test::PgCluster;
use serde_json::json;

use crate::support::{
    all_bodies, createdb, demo_before, demo_database, fails, patrol, same_answers, seed, serve_on,
    succeeds_with, transcript,
};

/// `patrol migrate ARGS…`, which must succeed; its stdout and stderr.
#[track_caller]
fn migrate(args: &[&str]) -> (String, String) {
    let output = succeeds_with(patrol(&["migrate"]).args(args));
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_moved_to_postgres_and_back_answers_every_call_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = demo_database(dir.path(), "demo.db");
    let port = patrol_test::cluster::free_port();
    // A token and a cursor taken before any move.
    let (before, token, cursor) = demo_before(&sqlite, port).await;

    let cluster = PgCluster::start(&[]);
    let postgres = createdb(&cluster, "moved");
    let pg_media = dir.path().join("pg-media").display().to_string();
    let (stdout, _) = migrate(&[
        "--from",
        &sqlite,
        "--to",
        &postgres,
        "--to-media",
        &pg_media,
    ]);
    assert!(
        stdout.contains("migrated 1 corp(s), 300 orders") && stdout.contains("identical"),
        "{stdout}"
    );
    {
        let served = serve_on(&postgres, Some(&pg_media), port);
        let after = transcript(&served.url, &token, &cursor).await;
        same_answers(&before, &after, "SQLite → PostgreSQL");
    }

    let back = dir.path().join("back.db").display().to_string();
    let (stdout, _) = migrate(&[
        "--from",
        &postgres,
        "--from-media",
        &pg_media,
        "--to",
        &back,
    ]);
    assert!(stdout.contains("identical"), "{stdout}");
    let served = serve_on(&back, None, port);
    let after = transcript(&served.url, &token, &cursor).await;
    same_answers(&before, &after, "SQLite → PostgreSQL → SQLite");
    // A token issued on PostgreSQL (corp-prefixed) works after the move back too.
    drop(served);
    let served = serve_on(&postgres, Some(&pg_media), port);
    let pg_token = served.wecom().token(DEMO_CORPID, DEMO_PATROL_SECRET).await;
    assert_ne!(pg_token, token, "PostgreSQL hands out a token of its own");
    drop(served);
    let again = dir.path().join("again.db").display().to_string();
    migrate(&[
        "--from",
        &postgres,
        "--from-media",
        &pg_media,
        "--to",
        &again,
    ]);
    let served = serve_on(&again, None, port);
    let answer = served
        .wecom()
        .call("report/patrol/get_corp_status", &pg_token, json!({}))
        .await;
    assert_eq!(answer["errcode"], 0, "{answer}");
}

#[test]
fn an_interrupted_migrate_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = demo_database(dir.path(), "demo.db");
    let cluster = PgCluster::start(&[]);
    let postgres = cluster.url();
    let pg_media = dir.path().join("pg-media").display().to_string();
    let args = [
        "--from",
        sqlite.as_str(),
        "--to",
        postgres.as_str(),
        "--to-media",
        pg_media.as_str(),
        "--chunk",
        "40",
    ];
    // Stopped after 3 chunks of 40 orders, as a kill would stop it: 120 orders committed.
    let stderr = fails(
        patrol(&["migrate"])
            .args(args)
            .args(["--stop-after-chunks", "3"]),
    );
    assert!(stderr.contains("stopped after 3 chunks"), "{stderr}");
    // Stopped again after 2 more, then run to the end: it goes on where it stopped each time.
    let stderr = fails(
        patrol(&["migrate"])
            .args(args)
            .args(["--stop-after-chunks", "2"]),
    );
    assert!(
        stderr.contains("resuming after order sequence 120"),
        "{stderr}"
    );
    let (stdout, stderr) = migrate(&args);
    assert!(
        stderr.contains("resuming after order sequence 200"),
        "{stderr}"
    );
    assert!(
        stdout.contains("migrated 1 corp(s), 300 orders") && stdout.contains("identical"),
        "{stdout}"
    );
    // Once done, running it again copies nothing and verifies.
    let (stdout, stderr) = migrate(&args);
    assert!(stderr.contains("copied before"), "{stderr}");
    assert!(stdout.contains("identical"), "{stdout}");
    let (stdout, _) = migrate(&[&args[..6], &["--verify-only"]].concat());
    assert!(
        stdout.starts_with("verified 1 corp(s), 300 orders"),
        "{stdout}"
    );
}

#[test]
fn a_target_holding_other_corps_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let one = demo_database(dir.path(), "one.db");
    let other = demo_database(dir.path(), "other.db");
    let stderr = fails(&mut patrol(&["migrate", "--from", &one, "--to", &other]));
    assert!(
        stderr.contains(&format!(
            "--to {other} already holds 1 corp(s) ({DEMO_CORPID})"
        )) && stderr.contains("migrate only into an empty database"),
        "{stderr}"
    );
    // And --verify-only names what differs: the secrets, at least.
    let stderr = fails(&mut patrol(&[
        "migrate",
        "--verify-only",
        "--from",
        &one,
        "--to",
        &other,
    ]));
    assert!(stderr.contains("difference: the secrets"), "{stderr}");
}

#[test]
fn bad_urls_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db").display().to_string();
    let target = dir.path().join("target.db").display().to_string();
    let stderr = fails(&mut patrol(&[
        "migrate", "--from", &missing, "--to", &target,
    ]));
    assert!(
        stderr.contains(&format!("--from {missing}: there is no database file")),
        "{stderr}"
    );
    let stderr = fails(&mut patrol(&[
        "migrate",
        "--from",
        "mysql://db/patrol",
        "--to",
        &target,
    ]));
    assert!(
        stderr.contains("cannot open --from mysql://db/patrol")
            && stderr.contains("unsupported database URL"),
        "{stderr}"
    );
    let source = demo_database(dir.path(), "source.db");
    let stderr = fails(&mut patrol(&[
        "migrate",
        "--from",
        &source,
        "--to",
        "postgres://postgres@127.0.0.1:1/patrol",
    ]));
    assert!(
        stderr.contains("is a PostgreSQL database: name its media directory with --to-media"),
        "{stderr}"
    );
    let stderr = fails(&mut patrol(&[
        "migrate",
        "--from",
        &source,
        "--to",
        "postgres://postgres@127.0.0.1:1/patrol",
        "--to-media",
        &dir.path().join("m").display().to_string(),
    ]));
    assert!(
        stderr.contains("cannot open --to postgres://postgres@127.0.0.1:1/patrol"),
        "{stderr}"
    );
    let stderr = fails(&mut patrol(&[
        "migrate", "--from", &source, "--to", &source,
    ]));
    assert!(stderr.contains("name the same database"), "{stderr}");
}

/// When a test kills a migrate.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// On its first line of progress.
    FirstLine,
    /// On its first line saying orders were committed.
    Committed,
    /// This long after it started.
    After(Duration),
}

/// Runs `patrol migrate ARGS…` and kills it (SIGKILL: no chance to clean up) at `moment`; true
/// when it was still running then.
fn kill_migrate(args: &[&str], moment: Moment) -> bool {
    let mut child = patrol(&["migrate"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, said) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    match moment {
        Moment::After(delay) => std::thread::sleep(delay),
        // Until the line comes, or it ends (its stderr closes).
        Moment::FirstLine => drop(said.recv()),
        Moment::Committed => while said.recv().is_ok_and(|line| !line.contains("copied")) {},
    }
    let killed = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    killed
}

/// Seeded orders migrated with `patrol migrate`, killed with SIGKILL at a few moments (on its
/// first line, on a line about committed orders, after a delay), each run going on where the last
/// stopped, then run to the end: SQLite → PostgreSQL, and that copy back to SQLite. Each ends
/// verified (and again with `--verify-only`), and a walk of the orders through the store finds
/// the source's orders on the target.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migrate_killed_at_any_moment_is_finished_by_running_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.db").display().to_string();
    succeeds_with(&mut seed(&source, "20000", "5"));
    let expected = all_bodies(&source).await;
    assert_eq!(expected.len(), 20_000);
    let cluster = PgCluster::start(&[]);
    let postgres = createdb(&cluster, "killed");
    let pg_media = dir.path().join("pg-media").display().to_string();
    let back = dir.path().join("back.db").display().to_string();

    for (from, to, media_flag, media) in [
        (&source, &postgres, "--to-media", &pg_media),
        (&postgres, &back, "--from-media", &pg_media),
    ] {
        let args = [
            "--from", from, "--to", to, media_flag, media, "--chunk", "500",
        ];
        let moments = [
            Moment::FirstLine,
            Moment::Committed,
            Moment::After(Duration::from_millis(700)),
        ];
        let killed: Vec<_> = moments
            .into_iter()
            .filter(|&moment| kill_migrate(&args, moment))
            .collect();
        eprintln!("{from} → {to}: killed at {killed:?}");
        assert!(
            !killed.is_empty(),
            "{from} → {to}: no run was killed before it ended"
        );
        let (stdout, stderr) = migrate(&args);
        // A run killed once orders were committed leaves them to the next.
        assert!(
            stderr.contains("resuming after order sequence") || stderr.contains("copied before"),
            "{from} → {to}:\n{stderr}"
        );
        assert!(
            stdout.contains("migrated 1 corp(s), 20000 orders") && stdout.contains("identical"),
            "{from} → {to}:\n{stdout}\n{stderr}"
        );
        let (stdout, _) = migrate(&[&args[..6], &["--verify-only"]].concat());
        assert!(
            stdout.starts_with("verified 1 corp(s), 20000 orders"),
            "{stdout}"
        );
        assert_eq!(all_bodies(to).await, expected, "{from} → {to}");
    }
}
