//! The SQLite backend's integration tests, one binary: the store story every backend must pass,
//! and the bounds of its threads and connections.

mod bounds;
mod files;
mod migrations;
mod story;

/// Held by every test of this binary: the bounds test counts the whole process's threads and
/// file descriptors, which another test running at the same time would change.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
