//! patrol-server's integration tests, one binary (matklad's "delete cargo integration tests"):
//! the real server over HTTP through the shared harness in `patrol-test`.

mod admin_bounds;
mod admin_corps;
mod admin_directory;
mod admin_orders;
mod clock;
mod connections;
mod failover;
mod faults;
mod front_page;
mod grid_api;
mod journal;
mod logs;
mod media;
mod nul_bytes;
mod observability;
mod openapi;
mod order_list;
mod patrol_family;
mod quotas;
mod replicas;
mod report_families;
mod sdk_quirks;
mod smoke;
mod snapshots;
mod store_story;
mod tokens_permissions;
mod wire_errors;
