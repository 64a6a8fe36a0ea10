//! How `patrol serve` starts: the listen address forms, the banner only once the database is
//! open and the listener bound, every start-up error naming what failed and the setting that
//! fixes it, and the banner's note on the database not served (demo or not).

use std::process::Output;

use crate::support::{Served, fails_with, patrol, succeeds};

/// A start that failed: its stderr, after checking it printed no banner.
#[track_caller]
fn failed_start(output: Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !stdout.contains("listening"),
        "a failed start said so: {stdout}"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `text` holds each of `needles`.
#[track_caller]
fn says_all(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} missing in {text}");
    }
}

#[test]
fn a_port_alone_or_a_host_name_is_a_listen_address() {
    // A port alone and `:PORT` listen on 127.0.0.1, never on the network.
    for listen in ["0", ":0"] {
        let served = Served::start(&["--listen", listen, "--data-dir", "{dir}"], &[]);
        assert!(
            served.url.starts_with("http://127.0.0.1:") && !served.url.ends_with(":0"),
            "{listen}: {}",
            served.url
        );
    }
    // A host name is resolved (the environment variable takes the same forms).
    let served = Served::start(
        &["--data-dir", "{dir}"],
        &[("PATROL_LISTEN", "localhost:0")],
    );
    let host = served
        .url
        .strip_prefix("http://")
        .and_then(|rest| rest.rsplit_once(':'))
        .map(|(host, _)| host.to_owned())
        .unwrap();
    assert!(host == "127.0.0.1" || host == "[::1]", "{}", served.url);
}

#[test]
fn a_bad_listen_address_names_the_forms_and_the_settings() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = failed_start(fails_with(
        patrol(&["serve", "--listen", "localhost:99999", "--data-dir"]).arg(dir.path()),
    ));
    says_all(
        &stderr,
        &[
            "localhost:99999",
            "HOST:PORT, :PORT or PORT",
            "--listen",
            "PATROL_LISTEN",
        ],
    );

    // `patrol record` and `patrol replay` take the same forms.
    let out = dir.path().join("session.recording");
    let stderr = crate::support::fails(
        patrol(&[
            "record",
            "--upstream",
            "http://127.0.0.1:1",
            "--listen",
            ":99999",
            "--out",
        ])
        .arg(&out),
    );
    says_all(&stderr, &[":99999", "HOST:PORT, :PORT or PORT", "--listen"]);
    assert!(!out.exists());
}

#[test]
fn an_address_in_use_names_the_address_and_the_flag_and_touches_no_file() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let stderr = failed_start(fails_with(
        patrol(&["serve", "--listen", &address, "--data-dir"]).arg(dir.path()),
    ));
    says_all(
        &stderr,
        &[&address, "in use", "--listen", "PATROL_LISTEN", "`listen`"],
    );
    assert_eq!(stderr.matches("in use").count(), 1, "{stderr}");
    assert!(!dir.path().join("patrol.db").exists());
}

#[test]
fn a_file_that_is_not_a_database_is_named_once_with_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.db");
    std::fs::write(&file, "these are notes, not a database\n".repeat(200)).unwrap();
    let url = format!("sqlite://{}", file.display());
    let stderr = failed_start(fails_with(&mut patrol(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        &url,
    ])));
    says_all(
        &stderr,
        &[
            &format!("{} is not a SQLite database", file.display()),
            "--database",
            "PATROL_DATABASE",
        ],
    );
    // The driver's own words, once at most; the file, once.
    assert!(!stderr.contains("Error code"), "{stderr}");
    assert_eq!(stderr.matches("not a").count(), 1, "{stderr}");
    assert_eq!(stderr.matches("notes.db").count(), 1, "{stderr}");
    // `patrol seed` (as every command that opens a database) says the same.
    let stderr = crate::support::fails(&mut patrol(&[
        "seed",
        "--orders",
        "1",
        "--quiet",
        "--database",
        &url,
    ]));
    says_all(
        &stderr,
        &["is not a SQLite database", "--database", "PATROL_DATABASE"],
    );
    assert_eq!(stderr.matches("notes.db").count(), 1, "{stderr}");
    // The file is left as it was.
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .starts_with("these are notes")
    );
}

#[test]
fn a_data_directory_that_cannot_be_written_is_named_with_its_flag() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the data directory should be: no user, root included, can create it.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let blocked = file.join("patrol");
    let stderr = failed_start(fails_with(
        patrol(&["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(&blocked),
    ));
    says_all(
        &stderr,
        &[
            &blocked.display().to_string(),
            "--data-dir",
            "PATROL_DATA_DIR",
        ],
    );

    // A read-only directory: refused to every user but root, whom permissions do not stop
    // (checked by trying to write there).
    use std::os::unix::fs::PermissionsExt;
    let read_only = dir.path().join("read-only");
    std::fs::create_dir(&read_only).unwrap();
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(read_only.join("probe"), "").is_err() {
        let stderr = failed_start(fails_with(
            patrol(&["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(&read_only),
        ));
        says_all(
            &stderr,
            &[
                &read_only.display().to_string(),
                "--data-dir",
                "PATROL_DATA_DIR",
            ],
        );
    }
}

#[test]
fn an_unreachable_postgres_is_named_without_its_password() {
    // Port 1 on the loopback: nothing listens, the connection is refused at once.
    let url = "postgres://patrol:s3cret-pw@127.0.0.1:1/patrol";
    let stderr = failed_start(fails_with(&mut patrol(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        url,
    ])));
    says_all(
        &stderr,
        &[
            "postgres://patrol:***@127.0.0.1:1/patrol",
            "--database",
            "PATROL_DATABASE",
        ],
    );
    assert!(!stderr.contains("s3cret-pw"), "{stderr}");
    assert_eq!(stderr.matches("error connecting").count(), 1, "{stderr}");
    assert!(!stderr.contains("new object"), "{stderr}");
}

#[test]
fn the_banner_says_which_database_a_demo_start_serves_and_which_it_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    // A user seeds the data directory's patrol.db...
    succeeds(&mut patrol(&[
        "seed",
        "--orders",
        "5",
        "--quiet",
        "--data-dir",
        data,
    ]));
    // ...then starts the demo, which serves demo.db: the banner says where their data is.
    let mut served = Served::start(
        &["--listen", "127.0.0.1:0", "--demo", "--data-dir", data],
        &[],
    );
    let banner = served.banner_through("note").join("\n");
    says_all(
        &banner,
        &["demo.db", &format!("{data}/patrol.db"), "without --demo"],
    );
    drop(served);

    // Serving patrol.db, which holds the demo corp, says so and how to serve the demo.
    let mut served = Served::start(&["--listen", "127.0.0.1:0", "--data-dir", data], &[]);
    let banner = served.banner_through("note").join("\n");
    says_all(
        &banner,
        &["patrol.db", "wwpatroldemo000001", "corpsecret", "--demo"],
    );
}

#[test]
fn a_database_without_the_demo_corp_gets_no_note() {
    let mut served = Served::start(&["--listen", "127.0.0.1:0", "--data-dir", "{dir}"], &[]);
    // The banner's last line without --demo is the admin key's.
    let banner = served.banner_through("admin key").join("\n");
    assert!(!banner.contains("note"), "{banner}");
}
