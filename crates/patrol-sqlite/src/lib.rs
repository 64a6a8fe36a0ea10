//! patrol's SQLite backend: [`SqliteStore`] implements the store traits of `patrol_store` over one
//! file in WAL mode, with one writer thread and a bounded pool of readers made when it opens
//! (`access`), and migrations embedded in the binary (`migrations/sqlite/`).
//!
//! This crate only stores and loads: the rules are `patrol_domain`'s, called inside the writer's
//! transaction.

mod access;
mod directory;
mod error;
mod files;
mod lock;
mod media;
mod orders;
mod seeds;
mod stats;
mod tokens;
mod transfer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use patrol_domain::media::MediaFile;
use patrol_domain::stats::{CategoryRow, CorpStatus, Day, UserStatus};
use patrol_domain::{
    Action, App, AppPatch, Category, CategoryPatch, Corp, CorpOrdersQuery, CorpPatch, Family, Grid,
    GridPatch, ListQuery, ListedPage, NewApp, NewCategory, NewCorp, NewGrid, NewOrder, NewUser,
    TokenGrant, TokenStatus, User,
};
use patrol_store::{
    CorpSetup, DirectoryStore, Durability, MediaStore, OpenOptions, OrderStore, Result, SeedRun,
    StoreError, TokenCache, TokenStore,
};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tracing::instrument;

use access::Access;
pub use access::{READERS, SCAN_THREADS};
use error::Error;

/// The statistics of existing orders, computed from their steps (the second half of migration
/// 6); public for the test that holds it equal to what the write path keeps.
#[doc(hidden)]
pub const STATISTICS_BACKFILL: &str = include_str!("../migrations/sqlite/statistics_backfill.sql");

/// Embedded migrations, applied in order; `PRAGMA user_version` counts the applied ones.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_init.sql"),
    include_str!("../migrations/sqlite/0002_hashed_tokens_seed_runs.sql"),
    include_str!("../migrations/sqlite/0003_media.sql"),
    include_str!("../migrations/sqlite/0004_served_offsets.sql"),
    include_str!("../migrations/sqlite/0005_app_lists.sql"),
    concat!(
        include_str!("../migrations/sqlite/0006_families_statistics.sql"),
        include_str!("../migrations/sqlite/statistics_backfill.sql")
    ),
    include_str!("../migrations/sqlite/0007_admin_order_list.sql"),
];

/// Page cache of the writer connection, in KiB (SQLite's negative `cache_size`).
const WRITER_CACHE_KIB: i64 = -256 * 1024;

/// Reader connections map the file into memory: a page then costs no system call and no copy,
/// and the pages count as the file's, not as the server's own (anonymous) memory.
const READER_MMAP_BYTES: i64 = 1 << 40;

/// patrol's store in one SQLite file. Clones share the file's writer thread and readers; the
/// threads stop when the last clone is dropped.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    access: Access,
    tokens: TokenCache,
    /// The key of the stored token hashes.
    token_key: [u8; 32],
    /// Dropped last: the database stays this process's until every connection is closed.
    _lock: Arc<lock::DatabaseLock>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

fn open_connection(path: &Path, durability: Durability) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // In WAL mode FULL syncs the WAL at every commit: an acknowledged write survives a power
    // cut. NORMAL syncs only at checkpoints: it survives a crash of patrol, not of the machine.
    let synchronous = match durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", synchronous)?;
    // Sorts and statement journals in memory: no temporary file is opened per call.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(64);
    // Query-planner stability: without it SQLite plans with the bound LIMIT and re-prepares the
    // statement every time a value is bound again (13% of a list page).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(conn)
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    // Readers never commit: their durability setting is moot.
    let conn = open_connection(path, Durability::Normal)?;
    conn.pragma_update(None, "mmap_size", READER_MMAP_BYTES)?;
    Ok(conn)
}

pub(crate) fn open_error(path: &Path, error: impl Into<patrol_store::BoxError>) -> StoreError {
    let error = error.into();
    let (message, source) = match error.downcast_ref::<rusqlite::Error>() {
        Some(sqlite) if sqlite.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) => {
            (format!("{} is not a SQLite database", path.display()), None)
        }
        // SQLite's message alone: its code's description (the error's source) repeats it.
        Some(rusqlite::Error::SqliteFailure(_, Some(text))) => {
            (path.display().to_string(), Some(text.clone().into()))
        }
        _ => (path.display().to_string(), Some(error)),
    };
    StoreError::Open { message, source }
}

impl SqliteStore {
    /// Opens the database file with the default options: see [`SqliteStore::open_with`].
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        SqliteStore::open_with(path, &OpenOptions::default())
    }

    /// Opens (creating it, private to this user, and its directory if missing) the database
    /// file, brings its schema up to date, and starts the writer thread and the readers.
    ///
    /// The database is this process's while the store lives: another patrol process opening it
    /// is refused with a message naming this one (`lock`). With `fresh`, the file is removed
    /// first, once the lock is held.
    pub fn open_with(path: impl AsRef<Path>, options: &OpenOptions) -> Result<SqliteStore> {
        let path = absolute_path(path.as_ref())?;
        let lock = lock::acquire(&path, options.fresh)?;
        if options.fresh {
            files::remove_database(&path).map_err(|e| open_error(&path, e))?;
        }
        files::prepare_database(&path).map_err(|e| open_error(&path, e))?;
        let mut writer =
            open_connection(&path, options.durability).map_err(|e| open_error(&path, e))?;
        prepare_writer(&path, &mut writer)?;
        let token_key = tokens::token_key(&writer).map_err(StoreError::from)?;
        let access = Access::start(&path, writer, open_reader).map_err(StoreError::from)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                access,
                tokens: TokenCache::default(),
                token_key,
                _lock: lock,
            }),
        })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }
}

/// The database's path made absolute through its (created if missing) directory, so one file
/// has one name in this process's lock table whatever path or symlink it was reached by.
fn absolute_path(path: &Path) -> Result<PathBuf> {
    let absolute = std::path::absolute(path).map_err(|e| open_error(path, e))?;
    let (Some(dir), Some(name)) = (absolute.parent(), absolute.file_name()) else {
        return Err(StoreError::open(format!(
            "{}: not a file name",
            path.display()
        )));
    };
    files::create_private_dir(dir).map_err(|e| open_error(dir, e))?;
    let dir = dir.canonicalize().map_err(|e| open_error(dir, e))?;
    Ok(dir.join(name))
}

/// The writer's settings, the schema and the cursor secret of a new file.
fn prepare_writer(path: &Path, writer: &mut Connection) -> Result<()> {
    let prepare = |writer: &mut Connection| -> Result<(), Error> {
        // Rows of orders are a few KiB: larger pages hold several (applies to new files only).
        writer.pragma_update(None, "page_size", 16384)?;
        // The writer touches the order-id index at random places: keep it in memory.
        writer.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
        // Checkpoint less often: a page changed by many commits is copied to the file once.
        writer.pragma_update(None, "wal_autocheckpoint", 4096)?;
        let mode: String =
            writer.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::open(format!(
                "{}: cannot switch to WAL mode (got {mode})",
                path.display()
            ))
            .into());
        }
        migrate(writer)?;
        writer.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('cursor_secret', randomblob(32))",
            [],
        )?;
        Ok(())
    };
    prepare(writer).map_err(|error| match error {
        Error::Sqlite(error) => open_error(path, error),
        Error::Store(error) => error,
    })
}

/// The path in a SQLite database URL: `sqlite://PATH`, `sqlite:PATH` or a plain path.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    if let Some(rest) = url.strip_prefix("sqlite://") {
        return Some(PathBuf::from(rest));
    }
    if let Some(rest) = url.strip_prefix("sqlite:") {
        return Some(PathBuf::from(rest));
    }
    if url.contains("://") {
        return None;
    }
    Some(PathBuf::from(url))
}

fn migrate(conn: &mut Connection) -> Result<(), Error> {
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::open(format!(
            "the database has schema version {version}, newer than this patrol knows ({})",
            MIGRATIONS.len()
        ))
        .into());
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "applied migration");
    }
    Ok(())
}

#[async_trait::async_trait]
impl TokenStore for SqliteStore {
    async fn cursor_secret(&self) -> Result<[u8; 32]> {
        self.inner.access.read(tokens::cursor_secret).await
    }

    async fn grant_token(
        &self,
        corpid: &str,
        secret: &str,
        now: i64,
        ttl: i64,
        nonce: [u8; 32],
    ) -> Result<TokenGrant> {
        let (corpid, secret) = (corpid.to_owned(), secret.to_owned());
        let token_key = self.inner.token_key;
        self.inner
            .access
            .write(move |tx| {
                tokens::grant_token_tx(tx, &token_key, &corpid, &secret, now, ttl, nonce)
            })
            .await
    }

    async fn authenticate(&self, token: &str, now: i64) -> Result<TokenStatus> {
        if let Some(status) = self.inner.tokens.get(token, now) {
            return Ok(status);
        }
        let (status, expires_at) = self
            .inner
            .access
            .read(|conn| tokens::authenticate_query(conn, &self.inner.token_key, token, now))
            .await?;
        if let TokenStatus::Valid(caller) = &status {
            self.inner.tokens.put(token, caller, expires_at, now);
        }
        Ok(status)
    }
}

#[async_trait::async_trait]
impl DirectoryStore for SqliteStore {
    #[instrument(skip_all, fields(corpid = %corp.corpid))]
    async fn create_corp(&self, corp: NewCorp) -> Result<Corp> {
        self.inner
            .access
            .write(move |tx| directory::create_corp(tx, corp))
            .await
    }

    #[instrument(skip_all, fields(corpid = %setup.corp.corpid))]
    async fn create_corp_with(&self, setup: CorpSetup) -> Result<Corp> {
        self.inner
            .access
            .write(move |tx| {
                let corp = directory::create_corp(tx, setup.corp)?;
                for app in setup.apps {
                    directory::create_app(tx, corp.key, app)?;
                }
                for user in setup.users {
                    directory::create_user(tx, corp.key, user)?;
                }
                for grid in setup.grids {
                    directory::create_grid(tx, corp.key, grid)?;
                }
                for category in setup.categories {
                    directory::create_category(tx, corp.key, category)?;
                }
                if !setup.orders.is_empty() {
                    orders::insert_orders_tx(tx, corp.key, setup.orders)?;
                }
                Ok(corp)
            })
            .await
    }

    async fn corp(&self, corpid: &str) -> Result<Option<Corp>> {
        self.inner
            .access
            .read(|conn| directory::corp(conn, corpid))
            .await
    }

    async fn list_corps(&self) -> Result<Vec<Corp>> {
        self.inner.access.scan(directory::list_corps).await
    }

    #[instrument(skip_all, fields(corp_key, agentid = ?app.agentid))]
    async fn create_app(&self, corp_key: i64, app: NewApp) -> Result<App> {
        self.inner
            .access
            .write(move |tx| directory::create_app(tx, corp_key, app))
            .await
    }

    async fn list_apps(&self, corp_key: i64) -> Result<Vec<App>> {
        self.inner
            .access
            .scan(move |conn| directory::list_apps(conn, corp_key))
            .await
    }

    async fn update_corp(&self, corp_key: i64, patch: CorpPatch) -> Result<Corp> {
        let corp = self
            .inner
            .access
            .write(move |tx| directory::update_corp(tx, corp_key, patch))
            .await;
        self.inner.tokens.clear();
        corp
    }

    async fn update_app(&self, corp_key: i64, agentid: i64, patch: AppPatch) -> Result<App> {
        let app = self
            .inner
            .access
            .write(move |tx| directory::update_app(tx, corp_key, agentid, patch))
            .await;
        self.inner.tokens.clear();
        app
    }

    async fn set_app_secret(&self, corp_key: i64, agentid: i64, secret: &str) -> Result<App> {
        let hash = tokens::secret_hash(secret);
        let app = self
            .inner
            .access
            .write(move |tx| directory::set_app_secret(tx, corp_key, agentid, hash))
            .await;
        self.inner.tokens.clear();
        app
    }

    async fn delete_app(&self, corp_key: i64, agentid: i64) -> Result<()> {
        let deleted = self
            .inner
            .access
            .write(move |tx| directory::delete_app(tx, corp_key, agentid))
            .await;
        self.inner.tokens.clear();
        deleted
    }

    async fn create_user(&self, corp_key: i64, user: NewUser) -> Result<()> {
        self.inner
            .access
            .write(move |tx| directory::create_user(tx, corp_key, user))
            .await
    }

    async fn list_users(&self, corp_key: i64) -> Result<Vec<User>> {
        self.inner
            .access
            .scan(move |conn| directory::list_users(conn, corp_key))
            .await
    }

    async fn update_user(&self, corp_key: i64, userid: &str, name: &str) -> Result<User> {
        let (userid, name) = (userid.to_owned(), name.to_owned());
        self.inner
            .access
            .write(move |tx| directory::update_user(tx, corp_key, &userid, &name))
            .await
    }

    async fn delete_user(&self, corp_key: i64, userid: &str) -> Result<()> {
        let userid = userid.to_owned();
        self.inner
            .access
            .write(move |tx| directory::delete_user(tx, corp_key, &userid))
            .await
    }

    async fn create_grid(&self, corp_key: i64, grid: NewGrid) -> Result<()> {
        self.inner
            .access
            .write(move |tx| directory::create_grid(tx, corp_key, grid))
            .await
    }

    async fn grid(&self, corp_key: i64, grid_id: &str) -> Result<Option<Grid>> {
        let grid_id = grid_id.to_owned();
        self.inner
            .access
            .scan(move |conn| directory::grid(conn, corp_key, &grid_id))
            .await
    }

    async fn list_grids(&self, corp_key: i64) -> Result<Vec<Grid>> {
        self.inner
            .access
            .scan(move |conn| directory::list_grids(conn, corp_key))
            .await
    }

    async fn update_grid(&self, corp_key: i64, grid_id: &str, patch: GridPatch) -> Result<Grid> {
        let grid_id = grid_id.to_owned();
        self.inner
            .access
            .write(move |tx| directory::update_grid(tx, corp_key, &grid_id, patch))
            .await
    }

    async fn delete_grid(&self, corp_key: i64, grid_id: &str) -> Result<()> {
        let grid_id = grid_id.to_owned();
        self.inner
            .access
            .write(move |tx| directory::delete_grid(tx, corp_key, &grid_id))
            .await
    }

    async fn create_category(&self, corp_key: i64, category: NewCategory) -> Result<()> {
        self.inner
            .access
            .write(move |tx| directory::create_category(tx, corp_key, category))
            .await
    }

    async fn list_categories(&self, corp_key: i64) -> Result<Vec<Category>> {
        self.inner
            .access
            .scan(move |conn| directory::list_categories(conn, corp_key))
            .await
    }

    async fn rename_category(&self, corp_key: i64, category_id: &str, name: &str) -> Result<()> {
        let (category_id, name) = (category_id.to_owned(), name.to_owned());
        self.inner
            .access
            .write(move |tx| directory::rename_category(tx, corp_key, &category_id, &name))
            .await
    }

    async fn delete_category(&self, corp_key: i64, category_id: &str) -> Result<()> {
        let category_id = category_id.to_owned();
        self.inner
            .access
            .write(move |tx| directory::delete_category(tx, corp_key, &category_id))
            .await
    }

    async fn missing_users(&self, corp_key: i64, userids: Vec<String>) -> Result<Vec<String>> {
        self.inner
            .access
            .read(move |conn| directory::missing_users(conn, corp_key, userids))
            .await
    }

    async fn update_category(
        &self,
        corp_key: i64,
        category_id: &str,
        patch: CategoryPatch,
    ) -> Result<Category> {
        let category_id = category_id.to_owned();
        self.inner
            .access
            .write(move |tx| directory::update_category(tx, corp_key, &category_id, patch))
            .await
    }
}

#[async_trait::async_trait]
impl OrderStore for SqliteStore {
    #[instrument(skip_all, fields(corp_key, order_id = %order.order_id))]
    async fn report_order(&self, corp_key: i64, order: NewOrder) -> Result<String> {
        self.inner
            .access
            .write(move |tx| {
                let order_id = order.order_id.clone().into_string();
                orders::insert_orders_tx(tx, corp_key, vec![order])?;
                Ok(tx.query_row(
                    "SELECT body FROM orders WHERE corp_id = ?1 AND order_id = ?2",
                    params![corp_key, order_id],
                    |r| r.get(0),
                )?)
            })
            .await
    }

    #[instrument(skip_all, fields(corp_key, count = orders.len()))]
    async fn insert_orders(&self, corp_key: i64, orders: Vec<NewOrder>) -> Result<()> {
        self.inner
            .access
            .write(move |tx| orders::insert_orders_tx(tx, corp_key, orders))
            .await
    }

    #[instrument(skip_all, fields(corp_key, order_id))]
    async fn act_on_order(&self, corp_key: i64, order_id: &str, action: Action) -> Result<String> {
        let order_id = order_id.to_owned();
        self.inner
            .access
            .write(move |tx| orders::act_on_order_tx(tx, corp_key, &order_id, action))
            .await
    }

    async fn list_orders(&self, corp_key: i64, query: ListQuery) -> Result<ListedPage> {
        if query.modify_ordered() {
            // A selective modify_time filter may scan far: keep it off the async threads.
            self.inner
                .access
                .scan(move |conn| orders::list_orders_query(conn, corp_key, query))
                .await
        } else {
            self.inner
                .access
                .read(|conn| orders::list_orders_query(conn, corp_key, query))
                .await
        }
    }

    async fn list_corp_orders(&self, corp_key: i64, query: CorpOrdersQuery) -> Result<ListedPage> {
        // Selective filters may read far: keep it off the async threads.
        self.inner
            .access
            .scan(move |conn| orders::list_corp_orders_query(conn, corp_key, query))
            .await
    }

    async fn order_body(
        &self,
        corp_key: i64,
        family: Option<Family>,
        order_id: &str,
    ) -> Result<Option<Vec<u8>>> {
        self.inner
            .access
            .read(|conn| {
                Ok(conn
                    .prepare_cached(
                        "SELECT body FROM orders
                         WHERE corp_id = ?1 AND order_id = ?2 AND (?3 IS NULL OR family = ?3)",
                    )?
                    .query_row(params![corp_key, order_id, family.map(Family::code)], |r| {
                        Ok(r.get_ref(0)?.as_bytes()?.to_vec())
                    })
                    .optional()?)
            })
            .await
    }

    async fn corp_status(
        &self,
        corp_key: i64,
        family: Family,
        grid_id: Option<&str>,
        today: Day,
    ) -> Result<Option<CorpStatus>> {
        self.inner
            .access
            .read(|conn| stats::corp_status(conn, corp_key, family, grid_id, today))
            .await
    }

    async fn user_status(
        &self,
        corp_key: i64,
        family: Family,
        userid: &str,
        today: Day,
    ) -> Result<Option<UserStatus>> {
        self.inner
            .access
            .read(|conn| stats::user_status(conn, corp_key, family, userid, today))
            .await
    }

    async fn category_statistic(
        &self,
        corp_key: i64,
        family: Family,
        category_id: Option<&str>,
    ) -> Result<Option<Vec<CategoryRow>>> {
        self.inner
            .access
            .read(|conn| stats::category_statistic(conn, corp_key, family, category_id))
            .await
    }

    async fn begin_seed_run(&self, corp_key: i64, run: SeedRun) -> Result<SeedRun> {
        self.inner
            .access
            .write(move |tx| seeds::begin_seed_run(tx, corp_key, run))
            .await
    }

    #[instrument(skip_all, fields(corp_key, seed, from, count = orders.len()))]
    async fn insert_seed_batch(
        &self,
        corp_key: i64,
        seed: u64,
        from: u64,
        orders: Vec<NewOrder>,
    ) -> Result<()> {
        self.inner
            .access
            .write(move |tx| seeds::insert_seed_batch(tx, corp_key, seed, from, orders))
            .await
    }
}

#[async_trait::async_trait]
impl MediaStore for SqliteStore {
    async fn create_media(&self, corp_key: i64, media: MediaFile) -> Result<()> {
        self.inner
            .access
            .write(move |tx| media::create_media(tx, corp_key, media))
            .await
    }

    async fn media(&self, corp_key: i64, media_id: &str) -> Result<Option<MediaFile>> {
        self.inner
            .access
            .read(|conn| media::media(conn, corp_key, media_id))
            .await
    }
}

/// The health probe reads the schema version on a scan thread, not inline: a read that hangs
/// (a lock held elsewhere) then blocks that thread, not the caller's, so the caller's timeout
/// can fire. The pool reported is the inline readers'.
#[async_trait::async_trait]
impl patrol_store::HealthStore for SqliteStore {
    async fn schema_version(&self) -> Result<patrol_store::SchemaVersion> {
        let applied: u64 = self
            .inner
            .access
            .scan(|conn| Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?))
            .await?;
        Ok(patrol_store::SchemaVersion {
            applied,
            latest: MIGRATIONS.len() as u64,
        })
    }

    fn pool_status(&self) -> patrol_store::PoolStatus {
        patrol_store::PoolStatus {
            max: READERS,
            open: READERS,
            idle: self.inner.access.idle_readers(),
        }
    }
}

#[async_trait::async_trait]
impl patrol_store::TransferStore for SqliteStore {
    async fn secrets(&self) -> Result<patrol_store::transfer::Secrets> {
        self.inner.access.read(transfer::secrets).await
    }

    async fn export_corp(
        &self,
        corpid: &str,
    ) -> Result<Option<patrol_store::transfer::CorpRecord>> {
        let corpid = corpid.to_owned();
        self.inner
            .access
            .scan(move |conn| transfer::export_corp(conn, &corpid))
            .await
    }

    async fn export_orders(
        &self,
        corp_key: i64,
        after: i64,
        limit: usize,
    ) -> Result<Vec<patrol_store::transfer::OrderRecord>> {
        self.inner
            .access
            .scan(move |conn| transfer::export_orders(conn, corp_key, after, limit))
            .await
    }

    async fn import_marks(&self) -> Result<patrol_store::transfer::ImportMarks> {
        self.inner.access.scan(transfer::import_marks).await
    }

    async fn import_secrets(&self, secrets: patrol_store::transfer::Secrets) -> Result<()> {
        self.inner
            .access
            .write(move |tx| transfer::import_secrets(tx, secrets))
            .await
    }

    async fn import_corp(
        &self,
        corp: patrol_store::transfer::CorpRecord,
    ) -> Result<patrol_store::transfer::CorpImport> {
        self.inner
            .access
            .write(move |tx| transfer::import_corp(tx, corp))
            .await
    }

    async fn replace_corp(
        &self,
        corp: patrol_store::transfer::CorpRecord,
    ) -> Result<patrol_store::transfer::CorpImport> {
        let replaced = self
            .inner
            .access
            .write(move |tx| {
                transfer::delete_corp(tx, &corp.corpid)?;
                transfer::import_corp(tx, corp)
            })
            .await;
        self.inner.tokens.clear();
        replaced
    }

    async fn delete_corp(
        &self,
        corpid: &str,
        force: bool,
    ) -> Result<patrol_store::transfer::DeletedCorp> {
        let corpid = corpid.to_owned();
        let deleted = self
            .inner
            .access
            .write(move |tx| transfer::delete_corp_whole(tx, &corpid, force))
            .await;
        self.inner.tokens.clear();
        deleted
    }

    async fn import_orders(
        &self,
        corpid: &str,
        orders: Vec<patrol_store::transfer::OrderRecord>,
        done: bool,
    ) -> Result<patrol_store::transfer::CorpImport> {
        let corpid = corpid.to_owned();
        self.inner
            .access
            .write(move |tx| transfer::import_orders(tx, &corpid, orders, done))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_name_files() {
        assert_eq!(
            sqlite_path("sqlite:///tmp/a.db"),
            Some(PathBuf::from("/tmp/a.db"))
        );
        assert_eq!(
            sqlite_path("sqlite://rel.db"),
            Some(PathBuf::from("rel.db"))
        );
        assert_eq!(sqlite_path("sqlite:rel.db"), Some(PathBuf::from("rel.db")));
        assert_eq!(
            sqlite_path("/var/lib/patrol.db"),
            Some(PathBuf::from("/var/lib/patrol.db"))
        );
        assert_eq!(sqlite_path("postgres://localhost/patrol"), None);
    }
}
