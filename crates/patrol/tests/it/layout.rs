//! The layout proves itself: the dependency rules of ARCHITECTURE.md hold in `cargo tree`, and
//! ARCHITECTURE.md's code map names exactly the crates in `crates/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The names of the crates `package` depends on, directly or not, in normal builds.
fn normal_tree(package: &str) -> BTreeSet<String> {
    let output = Command::new(env!("CARGO"))
        .args(["tree", "-p", package, "-e", "normal", "--prefix", "none"])
        .args(["--format", "{p}"])
        .current_dir(root())
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree -p {package} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != package)
        .map(str::to_owned)
        .collect()
}

/// Asserts that `package` pulls none of `forbidden`.
#[track_caller]
fn pulls_none_of(package: &str, forbidden: &[&str]) {
    let tree = normal_tree(package);
    assert!(!tree.is_empty(), "cargo tree listed nothing for {package}");
    let offending: Vec<&&str> = forbidden.iter().filter(|f| tree.contains(**f)).collect();
    assert!(
        offending.is_empty(),
        "{package} depends on {offending:?}; its tree: {tree:?}"
    );
}

/// Crates that do I/O or serve HTTP: what the pure layers must never pull.
const IO: &[&str] = &[
    "tokio",
    "axum",
    "hyper",
    "reqwest",
    "rusqlite",
    "libsqlite3-sys",
    "tokio-postgres",
    "sqlx",
];
const SERVER: &[&str] = &[
    "patrol-server",
    "patrol-sqlite",
    "patrol-postgres",
    "patrol-demo",
    "patrol",
];

#[test]
fn the_wire_types_depend_on_serde_only() {
    let tree = normal_tree("patrol-wire");
    let patrol: Vec<&String> = tree.iter().filter(|c| c.starts_with("patrol")).collect();
    assert!(patrol.is_empty(), "patrol-wire depends on {patrol:?}");
    pulls_none_of("patrol-wire", IO);
    assert!(tree.contains("serde"), "{tree:?}");
}

#[test]
fn the_domain_does_no_io_and_knows_no_store() {
    pulls_none_of("patrol-domain", IO);
    pulls_none_of("patrol-domain", SERVER);
    pulls_none_of("patrol-domain", &["patrol-store", "patrol-client"]);
}

#[test]
fn the_media_blobs_know_nothing_of_patrol() {
    let tree = normal_tree("patrol-media");
    let patrol: Vec<&String> = tree
        .iter()
        .filter(|c| c.starts_with("patrol") && *c != "patrol-media")
        .collect();
    assert!(patrol.is_empty(), "patrol-media depends on {patrol:?}");
}

#[test]
fn the_store_boundary_names_no_driver() {
    pulls_none_of("patrol-store", IO);
    pulls_none_of("patrol-store", SERVER);
}

#[test]
fn the_client_pulls_no_server_no_store_and_no_driver() {
    pulls_none_of("patrol-client", SERVER);
    pulls_none_of(
        "patrol-client",
        &[
            "patrol-store",
            "patrol-domain",
            "axum",
            "rusqlite",
            "libsqlite3-sys",
            "tokio-postgres",
            // The wire types' schemas (`openapi` feature) are the server's.
            "utoipa",
        ],
    );
    assert!(normal_tree("patrol-client").contains("patrol-wire"));
}

#[test]
fn only_the_server_names_a_backend() {
    pulls_none_of(
        "patrol-demo",
        &[
            "patrol-sqlite",
            "rusqlite",
            "patrol-postgres",
            "tokio-postgres",
            "patrol-server",
        ],
    );
    // The server reaches the backend through `backend.rs` only.
    let server = root().join("crates/patrol-server/src");
    let mut files = Vec::new();
    collect(&server, &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        if text.contains("patrol_sqlite") || text.contains("patrol_postgres") {
            assert!(
                file.ends_with("backend.rs"),
                "{} names a backend; only backend.rs may",
                file.display()
            );
        }
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_architecture_map_names_every_crate() {
    let architecture = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let mapped: BTreeSet<String> = architecture
        .lines()
        .filter_map(|line| line.strip_prefix("crates/"))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    let present: BTreeSet<String> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        mapped, present,
        "ARCHITECTURE.md's code map against `ls crates`"
    );
}
