//! The PostgreSQL backend's integration tests, one binary: the store story every backend must
//! pass, each test on a database of its own.
//!
//! They need a PostgreSQL server: `PATROL_TEST_POSTGRES` is the URL of a database of it whose
//! user may create databases (`.ci/run` starts one and sets it). Without it they fail, saying so.

mod story;
mod support;
