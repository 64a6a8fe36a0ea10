//! The client builds without the server: its normal dependencies name no server crate.

use std::process::Command;

#[test]
fn the_client_pulls_no_server_dependency() {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "patrol-client",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.iter().any(|l| l.starts_with("patrol-client ")),
        "the tree is the client's: {stdout}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("patrol-wire ")),
        "the tree lists the client's dependencies: {stdout}"
    );
    for forbidden in ["axum", "rusqlite", "patrol-server", "patrol-store"] {
        let offending: Vec<&&str> = lines.iter().filter(|l| l.contains(forbidden)).collect();
        assert!(
            offending.is_empty(),
            "patrol-client depends on {forbidden}: {offending:?}"
        );
    }
}
