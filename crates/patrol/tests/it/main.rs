//! The integration tests of `patrol`, one test binary (it links once and its tests run in
//! parallel): each module runs the built binary as a user runs it.

mod admin;
mod browser;
mod cli;
mod cli_output;
mod clock;
mod config;
mod cross_server;
mod demo_install;
mod docs;
mod docs_run;
mod durability;
mod faults;
mod front_page;
mod layout;
mod logging;
mod media;
mod migrate;
mod orders;
mod record;
mod snapshot;
mod startup;
mod stats;
mod support;
