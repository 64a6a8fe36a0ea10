//! patrol-postgres' integration tests, each on a PostgreSQL cluster of its own
//! (`patrol_test::PgCluster`). The store story and the HTTP suite run on PostgreSQL from
//! patrol-server's suite (`PATROL_TEST_DATABASE_URL`).

mod schema;
