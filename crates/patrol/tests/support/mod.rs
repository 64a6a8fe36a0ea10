//! A `patrol serve` child process for the CLI tests, with a clean environment.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub const PATROL: &str = env!("CARGO_BIN_EXE_patrol");

/// A `patrol serve` child process on its own temporary directory, killed on drop.
pub struct Served {
    child: Child,
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    /// Runs `patrol serve --listen 127.0.0.1:0` with `args(dir)` added, no `PATROL_*` variable
    /// set, and learns its address from the first line of the banner.
    pub fn start(args: impl FnOnce(&std::path::Path) -> Vec<String>) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(PATROL);
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args(dir.path()))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (key, _) in std::env::vars() {
            if key.starts_with("PATROL_") {
                command.env_remove(key);
            }
        }
        let mut child = command.spawn().expect("patrol starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines
            .next()
            .expect("patrol prints a banner")
            .expect("the banner is text");
        let url = first
            .strip_prefix("patrol is listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .trim()
            .to_owned();
        // Keep reading, so that the rest of the banner never meets a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Served { child, url, dir }
    }
}
