//! What this build of patrol is: its version and the git commit it was built from (`build.rs`;
//! `unknown` when built without git), served at `/version`, in `patrol --version` and in the
//! `patrol_build_info` metric.

use axum::response::Response;
use serde::Serialize;

/// The workspace's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit built (12 hex digits), or `unknown`.
pub const GIT_COMMIT: &str = env!("PATROL_GIT_COMMIT");

/// `0.1.0 (commit 0123456789ab)`, as `patrol --version` prints it after the name.
pub const LONG: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("PATROL_GIT_COMMIT"),
    ")"
);

/// The body of `/version`.
#[derive(Debug, Serialize)]
struct VersionBody {
    name: &'static str,
    version: &'static str,
    git_commit: &'static str,
}

/// `GET /version` (and `HEAD`): `{"name":"patrol","version":"0.1.0","git_commit":"…"}`.
pub async fn serve() -> Response {
    crate::probes::json(&VersionBody {
        name: "patrol",
        version: VERSION,
        git_commit: GIT_COMMIT,
    })
}
