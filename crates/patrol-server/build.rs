//! Tells the crate the git commit it is built from (`PATROL_GIT_COMMIT`, read by `version.rs`):
//! `git rev-parse HEAD` in the source tree, `PATROL_BUILD_COMMIT` when set (a packager who knows
//! the commit of a tarball), or `unknown` (a tarball without `.git`, or no `git`). The script runs
//! again when HEAD moves (a commit, a checkout), not at every build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PATROL_BUILD_COMMIT");
    let commit = match std::env::var("PATROL_BUILD_COMMIT") {
        Ok(commit) if !commit.trim().is_empty() => commit.trim().to_owned(),
        _ => git_commit().unwrap_or_else(|| "unknown".to_owned()),
    };
    println!("cargo:rustc-env=PATROL_GIT_COMMIT={commit}");
}

/// The commit of HEAD, and the files whose change moves it marked for a rerun.
fn git_commit() -> Option<String> {
    let git_dir = git(&["rev-parse", "--absolute-git-dir"]).map(PathBuf::from)?;
    let common_dir = git(&["rev-parse", "--path-format=absolute", "--git-common-dir"])
        .map_or_else(|| git_dir.clone(), PathBuf::from);
    // HEAD names a branch (or a commit); the branch's ref is loose or packed, in the common
    // directory of a worktree's repository.
    rerun_if_changed(&git_dir.join("HEAD"));
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        rerun_if_changed(&common_dir.join(branch));
    }
    rerun_if_changed(&common_dir.join("packed-refs"));
    // A tarball unpacked inside another repository is not that repository's commit.
    git(&["ls-files", "--error-unmatch", "Cargo.toml"])?;
    let commit = git(&["rev-parse", "--short=12", "HEAD"])?;
    commit
        .bytes()
        .all(|byte| byte.is_ascii_hexdigit())
        .then_some(commit)
}

fn rerun_if_changed(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// A git command's output in the crate's directory, trimmed; `None` when it fails.
fn git(args: &[&str]) -> Option<String> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")?;
    let output = Command::new("git")
        .args(args)
        .current_dir(&dir)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    if text.is_empty() {
        return None;
    }
    Some(text)
}
