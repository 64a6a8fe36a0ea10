//! [`TestApp`]: the real server on a random port over a fresh database, started, restarted and
//! stopped by a test; and [`TestDatabase`], the database it serves, chosen from a URL.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use patrol_domain::Clock;
use patrol_server::Config;
use patrol_store::Store;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The admin key of every test server.
pub const ADMIN_KEY: &str = "test-admin-key";

/// The environment variable naming the database the tests run against.
///
/// Unset or empty: every test gets a fresh SQLite file in its own temporary directory.
/// A SQLite URL (`sqlite://PATH`, `sqlite:PATH` or a plain path): every test gets a fresh file in
/// its own temporary directory beside `PATH`, so tests still run in parallel.
/// A PostgreSQL URL (`postgres://…/DB`, whose user may create databases): every test gets a fresh,
/// uniquely named database on that server (dropped after the test) and a media directory of its
/// own.
pub const DATABASE_URL_VAR: &str = "PATROL_TEST_DATABASE_URL";

/// The database of one test: its URL, and the SQLite file behind it when there is one.
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL the server opens.
    pub url: String,
    /// The SQLite file, for tests that read the file itself; `None` for other backends.
    pub path: Option<PathBuf>,
    /// Where the media of a database without a file live (PostgreSQL): the config's `media_dir`.
    pub media_dir: Option<PathBuf>,
    dir: Option<TempDir>,
    /// The PostgreSQL database made for the test: (the server's URL, the database's name).
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A fresh database for one test, from [`DATABASE_URL_VAR`] (see there).
    pub fn fresh() -> TestDatabase {
        match std::env::var(DATABASE_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => TestDatabase::from_url(url.trim()),
            _ => TestDatabase::in_dir(tempfile::tempdir().expect("a temporary directory")),
        }
    }

    /// A fresh database for one test, derived from `url` (see [`DATABASE_URL_VAR`]).
    pub fn from_url(url: &str) -> TestDatabase {
        if patrol_postgres::is_postgres_url(url) {
            return TestDatabase::postgres(url);
        }
        match patrol_sqlite::sqlite_path(url) {
            Some(path) => {
                let parent = path
                    .parent()
                    .filter(|parent| !parent.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), PathBuf::from);
                std::fs::create_dir_all(&parent).expect("the directory of the test database");
                let dir = tempfile::Builder::new()
                    .prefix("patrol-test-")
                    .tempdir_in(&parent)
                    .expect("a temporary directory beside the test database");
                TestDatabase::in_dir(dir)
            }
            None => TestDatabase {
                url: url.to_owned(),
                path: None,
                media_dir: None,
                dir: None,
                postgres: None,
            },
        }
    }

    /// A database the test made itself (on a cluster of its own, say), served as it is and left
    /// to the test, with a media directory of its own.
    pub fn given(url: &str) -> TestDatabase {
        let dir = tempfile::tempdir().expect("a temporary directory");
        TestDatabase {
            url: url.to_owned(),
            path: None,
            media_dir: Some(dir.path().join("media")),
            dir: Some(dir),
            postgres: None,
        }
    }

    fn in_dir(dir: TempDir) -> TestDatabase {
        let path = dir.path().join("patrol.db");
        TestDatabase {
            url: format!("sqlite://{}", path.display()),
            path: Some(path),
            media_dir: None,
            dir: Some(dir),
            postgres: None,
        }
    }

    /// A fresh database on the PostgreSQL server of `server` (a URL of one of its databases).
    fn postgres(server: &str) -> TestDatabase {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let name = format!(
            "patrol_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        postgres_admin(
            server,
            &[
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                format!("CREATE DATABASE {name}"),
            ],
        );
        let dir = tempfile::tempdir().expect("a temporary directory");
        TestDatabase {
            url: url_with_database(server, &name),
            path: None,
            media_dir: Some(dir.path().join("media")),
            dir: Some(dir),
            postgres: Some((server.to_owned(), name)),
        }
    }
}

/// Runs statements one by one on the server of `server`, on a thread of its own (so that it
/// works inside and outside a runtime, and while one shuts down).
fn postgres_admin(server: &str, statements: &[String]) {
    let (server, statements) = (server.to_owned(), statements.to_vec());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let (client, connection) = tokio_postgres::connect(&server, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("cannot connect to {DATABASE_URL_VAR} ({server}): {e}"));
            tokio::spawn(connection);
            for statement in statements {
                client
                    .batch_execute(&statement)
                    .await
                    .unwrap_or_else(|e| panic!("{statement}: {e}"));
            }
        });
    })
    .join()
    .expect("the statements ran");
}

/// `server` (a PostgreSQL URL) with its database replaced by `name`.
fn url_with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server, None),
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

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = self.postgres.take()
            && std::env::var_os("PATROL_TEST_KEEP").is_none()
        {
            postgres_admin(
                &server,
                &[format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")],
            );
        }
        if std::env::var_os("PATROL_TEST_KEEP").is_some()
            && let Some(dir) = self.dir.take()
        {
            eprintln!(
                "kept test database {}",
                dir.keep().join("patrol.db").display()
            );
        }
    }
}

/// A running patrol server and the database it serves.
#[derive(Debug)]
pub struct TestApp {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base_url: String,
    /// A plain HTTP client for raw requests.
    pub http: reqwest::Client,
    /// The server's database, opened by the test too, to set up data and read it back.
    pub store: Arc<dyn Store>,
    /// The server's media blobs, opened by the test too.
    pub blobs: Arc<dyn patrol_media::BlobStore>,
    /// The server's config; a change takes effect at the next [`TestApp::restart`].
    pub config: Config,
    /// The database; dropped (and deleted) with the app.
    pub database: TestDatabase,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl TestApp {
    /// Starts a server on a fresh database with default settings (and [`ADMIN_KEY`]).
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// Starts a server on a fresh database, with settings changed by `tweak`, e.g.
    /// `TestApp::spawn_with(|config| config.clock = Clock::manual(T))`.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::spawn_on(TestDatabase::fresh(), tweak).await
    }

    /// Starts a server on `database`, with settings changed by `tweak`.
    pub async fn spawn_on(database: TestDatabase, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = Config::new(database.url.clone());
        config.admin_key = Some(ADMIN_KEY.into());
        config.media_dir = database.media_dir.clone();
        tweak(&mut config);
        let store = patrol_server::open_store(&config.database)
            .await
            .expect("the test database opens");
        let blobs =
            patrol_server::backend::open_blobs(&config.database, config.media_dir.as_deref())
                .expect("the test media directory opens");
        let mut app = TestApp {
            base_url: String::new(),
            http: reqwest::Client::new(),
            store,
            blobs,
            config,
            database,
            shutdown: None,
            handle: None,
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        app.serve_on(listener);
        app
    }

    /// The server's clock; clones share it, so a manual clock set here moves the server's too.
    pub fn clock(&self) -> &Clock {
        &self.config.clock
    }

    /// An order's stored JSON as the server answers it now: its served image URLs made absolute
    /// under the server's public URL (`patrol_domain::media::resolved`).
    pub fn answered(&self, stored: &[u8]) -> Vec<u8> {
        let public_url = match &self.config.public_url {
            Some(url) => url.trim_end_matches('/'),
            None => self.base_url.as_str(),
        };
        patrol_domain::media::resolved(stored.to_vec(), public_url)
    }

    /// The time on the server's clock, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.config.clock.now()
    }

    /// The address the server listens on, for raw TCP clients.
    pub fn address(&self) -> SocketAddr {
        self.base_url
            .trim_start_matches("http://")
            .parse()
            .expect("the base URL holds a socket address")
    }

    /// The SQLite file of the database; panics for another backend.
    #[track_caller]
    pub fn db_path(&self) -> &PathBuf {
        self.database
            .path
            .as_ref()
            .expect("this test reads the SQLite file and needs a SQLite database")
    }

    /// The directory of the server's media blobs.
    pub fn media_dir(&self) -> PathBuf {
        self.config
            .media_dir
            .clone()
            .or_else(|| patrol_server::backend::default_media_dir(&self.config.database))
            .expect("a media directory")
    }

    /// Everything the database holds, as bytes a test can search for what must not be stored:
    /// the SQLite file and its WAL, or every row of every table of the PostgreSQL database as
    /// text.
    pub async fn stored_bytes(&self) -> Vec<u8> {
        if let Some(path) = &self.database.path {
            let mut bytes = std::fs::read(path).expect("the database file");
            let wal = path.with_extension("db-wal");
            if wal.exists() {
                bytes.extend(std::fs::read(&wal).expect("the WAL"));
            }
            return bytes;
        }
        let (client, connection) =
            tokio_postgres::connect(&self.database.url, tokio_postgres::NoTls)
                .await
                .expect("the test database");
        tokio::spawn(connection);
        let tables = client
            .query(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
                &[],
            )
            .await
            .unwrap();
        let mut bytes = Vec::new();
        for table in tables {
            let table: String = table.get(0);
            for row in client
                .query(&format!("SELECT t::text FROM \"{table}\" t"), &[])
                .await
                .unwrap()
            {
                bytes.extend(row.get::<_, String>(0).into_bytes());
            }
        }
        bytes
    }

    /// Serves on a bound listener: bound before spawning, so no request needs to wait.
    fn serve_on(&mut self, listener: TcpListener) {
        self.base_url = format!("http://{}", listener.local_addr().expect("a bound address"));
        let (sender, receiver) = oneshot::channel::<()>();
        let config = self.config.clone();
        self.handle = Some(tokio::spawn(async move {
            patrol_server::serve(config, listener, async {
                let _ = receiver.await;
            })
            .await
            .expect("the server runs");
        }));
        self.shutdown = Some(sender);
    }

    /// Stops the server and starts a new one on the same database, on a new port.
    pub async fn restart(&mut self) {
        self.stop().await;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        self.serve_on(listener);
    }

    /// Stops the server and starts a new one on the same database and the same port, so that
    /// a client keeps its base URL across the restart.
    pub async fn restart_same_port(&mut self) {
        let address = self.address();
        self.stop().await;
        let mut attempts = 0;
        let listener = loop {
            match TcpListener::bind(address).await {
                Ok(listener) => break listener,
                Err(error) if attempts < 100 => {
                    attempts += 1;
                    eprintln!("rebinding {address}: {error}; trying again");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(error) => panic!("cannot bind {address} again: {error}"),
            }
        };
        self.serve_on(listener);
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.expect("the server stops cleanly");
        }
    }

    /// `GET` a path (with its query) and return the status and body text.
    pub async fn get(&self, path_and_query: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path_and_query}", self.base_url))
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        (status, response.text().await.expect("a text answer"))
    }

    /// `POST` a raw body to a path (with its query) and return the status and body text.
    pub async fn post(
        &self,
        path_and_query: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, String) {
        let response = self
            .http
            .post(format!("{}{path_and_query}", self.base_url))
            .body(body)
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        (status, response.text().await.expect("a text answer"))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
