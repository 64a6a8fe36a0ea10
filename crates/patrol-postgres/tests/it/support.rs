//! A database of its own for each test: created on the server `PATROL_TEST_POSTGRES` names,
//! dropped when the test's [`TestDb`] is.

use std::sync::atomic::{AtomicU64, Ordering};

/// The variable naming the test server.
pub const SERVER_VAR: &str = "PATROL_TEST_POSTGRES";

/// A fresh database, dropped with this value.
pub struct TestDb {
    pub url: String,
    admin: String,
    name: String,
}

fn server() -> String {
    std::env::var(SERVER_VAR).unwrap_or_else(|_| {
        panic!(
            "{SERVER_VAR} is not set: these tests need a PostgreSQL server, e.g. \
             {SERVER_VAR}=postgres://postgres@127.0.0.1:5432/postgres (.ci/run starts one)"
        )
    })
}

impl TestDb {
    pub async fn create() -> TestDb {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let admin = server();
        let name = format!(
            "patrol_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {SERVER_VAR} ({admin}): {e}"));
        tokio::spawn(connection);
        // One statement each: a multi-statement string runs as one transaction.
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .unwrap();
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let url = url_with_database(&admin, &name);
        TestDb { url, admin, name }
    }
}

/// `admin` with its database replaced by `name`.
fn url_with_database(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Dropped from a thread of its own: the test's runtime may be shutting down.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                if let Ok((client, connection)) =
                    tokio_postgres::connect(&admin, tokio_postgres::NoTls).await
                {
                    tokio::spawn(connection);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}
