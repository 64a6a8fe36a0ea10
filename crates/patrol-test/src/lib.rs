//! patrol's integration-test harness, shared by the `tests/it` binaries of patrol-server and
//! patrol-client (a dev-dependency only; never published).
//!
//! [`TestApp`] runs the real server (`patrol_server::serve`) on `127.0.0.1:0` over a fresh
//! database and calls it over HTTP with raw bodies, so the wire is pinned independently of our
//! own serde types. Its database comes from a URL: `PATROL_TEST_DATABASE_URL` when set,
//! otherwise a fresh SQLite file in a temporary directory (see [`TestDatabase`]).
//!
//! - [`app`]: starting, restarting and stopping the server; its config and [`Clock`].
//! - [`wecom`]: `gettoken` and the patrol API, walks, and assertions on WeCom's error answers.
//! - [`admin`]: the administration API and assertions on its error answers.
//! - [`cluster`]: throwaway PostgreSQL clusters of a test's own (several servers, replicas).
//! - [`autofailover`]: a pg_auto_failover formation of a test's own (a monitor, two nodes).
//! - [`fixtures`]: corps, users, grids, categories, apps and orders written through the store.
//!
//! Set `PATROL_TEST_KEEP=1` to keep a test's SQLite file for debugging.
//!
//! [`Clock`]: patrol_domain::Clock

pub mod admin;
pub mod app;
pub mod autofailover;
pub mod cluster;
pub mod fixtures;
pub mod wecom;

pub use admin::{Raw, assert_admin_error, assert_admin_error_text, parse};
pub use app::{ADMIN_KEY, DATABASE_URL_VAR, TestApp, TestDatabase};
pub use autofailover::AutoFailover;
pub use cluster::PgCluster;
pub use fixtures::{
    Lists, MODERN_CORP, PAST, SYSTEM_APP_CUTOFF, TestCorp, USERS, id, new_order, numbered_orders,
    order_ids,
};
/// The quota limits a test server may enforce (`Config::quotas`), for test binaries that do not
/// depend on patrol-server.
pub use patrol_server::quota::QuotaLimits;
pub use wecom::{
    ErrMsg, INFO_PREFIX, assert_invalid, assert_wecom_error, errcode, errmsg, split_errmsg,
    wecom_error_text, without_request_id,
};
