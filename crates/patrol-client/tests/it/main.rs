//! patrol-client's integration tests, one binary: against the real server (through the harness in
//! `patrol-test`) and against scripted fault servers. Its dependency edges are checked with the
//! others in `crates/patrol/tests/it/layout.rs`.

mod against_server;
mod faults;
mod grid;
mod injected;
mod media;
mod quotas;
mod report;
