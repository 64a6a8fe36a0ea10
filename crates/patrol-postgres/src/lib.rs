//! patrol's PostgreSQL backend: [`PostgresStore`] implements the store traits of `patrol_store`
//! over a pool of connections (deadpool-postgres over tokio-postgres), with migrations embedded
//! in the binary (`migrations/`).
//!
//! The schema is corp-first (every table keyed by the corp, every foreign key including it), and
//! every write takes the lock of its corp's row first: writes of one corp are serialized, as
//! SQLite's single writer serializes them, whichever server sends them, and the modification
//! sequence is taken under that lock, so its values commit in the order they are taken.
//!
//! This crate only stores and loads: the rules are `patrol_domain`'s, called inside the write's
//! transaction. Each store trait is implemented in its own module (`directory`, `orders`,
//! `tokens`, `media`).

mod directory;
mod error;
mod media;
mod orders;
mod replicas;
mod seeds;
mod stats;
mod tokens;
mod transfer;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use patrol_store::{Durability, OpenOptions, StoreError, TokenCache};
use tokio_postgres::Transaction;

use error::{Error, Result};

/// Embedded migrations, applied in order; the table `schema_version` counts the applied ones.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_corp_counters.sql"),
    include_str!("../migrations/0003_moved_tokens.sql"),
    include_str!("../migrations/0004_admin_order_list.sql"),
];

/// Connections in the pool at most.
pub const POOL_SIZE: usize = 16;

/// The key under which every migration holds PostgreSQL's advisory lock: servers starting
/// together on one database migrate it once.
const MIGRATION_LOCK: i64 = 0x7061_7472_6f6c; // "patrol"

/// patrol's store in a PostgreSQL database. Clones share the pool.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// The URL without its password, for messages.
    display: String,
    pool: Pool,
    /// The read replicas (`OpenOptions::replicas`): see [`replicas`].
    replicas: replicas::Replicas,
    tokens: TokenCache,
    /// The key of the stored token hashes.
    token_key: [u8; 32],
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("database", &self.inner.display)
            .finish_non_exhaustive()
    }
}

/// Whether a database URL names PostgreSQL: `postgres://…` or `postgresql://…`.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A URL without the password it may carry, for messages and logs.
fn displayed(url: &str) -> String {
    patrol_store::redacted_url(url)
}

fn open_error(display: &str, error: impl Into<patrol_store::BoxError>) -> StoreError {
    let error = error.into();
    // The pool's "error occurred while creating a new object" says nothing the connection's
    // own error does not, and repeats it: the connection's error alone.
    let error = match error.downcast::<deadpool_postgres::PoolError>() {
        Ok(pool_error) => match *pool_error {
            deadpool_postgres::PoolError::Backend(error) => error.into(),
            other => other.into(),
        },
        Err(error) => error,
    };
    StoreError::Open {
        message: display.to_owned(),
        source: Some(error),
    }
}

/// A pool of at most [`POOL_SIZE`] connections made from `config` (named `patrol` unless it
/// names itself); none is made yet.
fn pool(mut config: tokio_postgres::Config, display: &str) -> patrol_store::Result<Pool> {
    if config.get_application_name().is_none() {
        config.application_name("patrol");
    }
    let manager = Manager::from_config(
        config,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .build()
        .map_err(|e| open_error(display, e))
}

/// A write: an async function of the transaction, boxed so that it may borrow it.
pub(crate) type Write<'t, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 't>>;

impl PostgresStore {
    /// Connects to the database a `postgres://` URL names, brings its schema up to date (under
    /// an advisory lock, so that servers starting together migrate it once) and makes sure it
    /// has its secrets; then opens a pool per read replica (`options.replicas`: the order list,
    /// order bodies and statistics read from them, see the `replicas` module).
    ///
    /// `Durability::Normal` sets `synchronous_commit = off` on every connection: a commit is
    /// acknowledged before its WAL is flushed (a crash of PostgreSQL may lose the last ones, a
    /// crash of patrol none), and before a synchronous standby has it, so a failover could lose
    /// them too: with a URL of several hosts (a failover set-up) it is refused. `fresh` is
    /// refused: it means removing a SQLite file.
    pub async fn open_with(
        url: &str,
        options: &OpenOptions,
    ) -> patrol_store::Result<PostgresStore> {
        let display = displayed(url);
        if options.fresh {
            return Err(StoreError::open(format!(
                "{display}: a fresh start removes a SQLite file; drop and create a PostgreSQL \
                 database yourself"
            )));
        }
        let mut config: tokio_postgres::Config =
            url.parse().map_err(|e| open_error(&display, e))?;
        if options.durability == Durability::Normal {
            if config.get_hosts().len() > 1 {
                return Err(StoreError::open(format!(
                    "{display}: durability normal (synchronous_commit = off) acknowledges a \
                     write before a standby has it, so a failover may lose it; a URL of several \
                     hosts needs durability full"
                )));
            }
            config.options("-c synchronous_commit=off");
        }
        let pool = pool(config, &display)?;
        let mut client = pool.get().await.map_err(|e| open_error(&display, e))?;
        migrate(&mut client).await.map_err(|e| match e {
            Error::Store(error) => error,
            Error::Postgres(error) => open_error(&display, error),
            Error::Pool(error) => open_error(&display, error),
        })?;
        let token_key = secret(&client, "token_key")
            .await
            .map_err(StoreError::from)?;
        drop(client);
        let replicas = replicas::Replicas::open(&options.replicas, &display, &token_key).await?;
        Ok(PostgresStore {
            inner: Arc::new(Inner {
                display,
                pool,
                replicas,
                tokens: TokenCache::default(),
                token_key,
            }),
        })
    }

    /// The primary's schema version: one trivial query on a pooled connection.
    async fn applied_schema_version(&self) -> Result<u64> {
        let client = self.client().await?;
        let version: i32 = client
            .query_one("SELECT version FROM schema_version", &[])
            .await?
            .get(0);
        Ok(u64::try_from(version).unwrap_or(0))
    }

    /// Opens with the default options: see [`PostgresStore::open_with`].
    pub async fn open(url: &str) -> patrol_store::Result<PostgresStore> {
        PostgresStore::open_with(url, &OpenOptions::default()).await
    }

    /// A connection to the primary, for a read that must not lag (tokens, the directory); the
    /// reads that may lag go through [`PostgresStore::lagging_read`].
    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object> {
        Ok(self.inner.pool.get().await?)
    }

    /// Runs `write` in one transaction, after locking the row of corp `corp_key` (none for
    /// `None`): writes of one corp run one at a time, in every server. Commits when `write`
    /// succeeds, rolls back otherwise.
    ///
    /// When the connection turns out broken before `write` runs (a pooled connection to a
    /// primary that failed over), the transaction starts once more on a new connection: nothing
    /// was written yet. Once `write` runs, an error is returned as it is, never retried: a
    /// `COMMIT` whose answer was lost may have committed.
    pub(crate) async fn write<T: Send>(
        &self,
        corp_key: Option<i64>,
        write: impl for<'t> FnOnce(&'t Transaction<'t>) -> Write<'t, T> + Send,
    ) -> patrol_store::Result<T> {
        let mut retried = false;
        loop {
            let mut client = match self.client().await {
                Ok(client) => client,
                Err(error) if !retried && error.is_disconnect() => {
                    retried = true;
                    continue;
                }
                Err(error) => return Err(error.into()),
            };
            let tx = match client.transaction().await {
                Ok(tx) => tx,
                Err(error) if !retried && error::is_disconnect(&error) => {
                    retried = true;
                    continue;
                }
                Err(error) => return Err(Error::from(error).into()),
            };
            if let Some(corp_key) = corp_key {
                match tx
                    .query_opt(
                        "SELECT 1 FROM corp_counters WHERE corp_id = $1 FOR UPDATE",
                        &[&corp_key],
                    )
                    .await
                {
                    Ok(Some(_)) => {}
                    Ok(None) => return Err(StoreError::NotFound(format!("corp {corp_key}"))),
                    Err(error) if !retried && error::is_disconnect(&error) => {
                        retried = true;
                        continue;
                    }
                    Err(error) => return Err(Error::from(error).into()),
                }
            }
            let value = write(&tx).await?;
            tx.commit().await.map_err(Error::from)?;
            return Ok(value);
        }
    }
}

/// A counter of a corp (a column of `corp_counters`): each write takes the next value under the
/// lock of the corp's row, so no sequence is shared by corps.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Counter {
    /// The modification sequence of orders.
    Modification,
    /// The creation sequence of orders (`orders.seq`).
    Order,
    /// The internal ids of users, grids and categories.
    User,
    Grid,
    Category,
}

impl Counter {
    /// The statement that takes the next `n` values, returning the last one.
    fn statement(self) -> &'static str {
        match self {
            Counter::Modification => {
                "UPDATE corp_counters SET mod_seq = mod_seq + $2 WHERE corp_id = $1 RETURNING mod_seq"
            }
            Counter::Order => {
                "UPDATE corp_counters SET order_seq = order_seq + $2 WHERE corp_id = $1
                 RETURNING order_seq"
            }
            Counter::User => {
                "UPDATE corp_counters SET user_seq = user_seq + $2 WHERE corp_id = $1
                 RETURNING user_seq"
            }
            Counter::Grid => {
                "UPDATE corp_counters SET grid_seq = grid_seq + $2 WHERE corp_id = $1
                 RETURNING grid_seq"
            }
            Counter::Category => {
                "UPDATE corp_counters SET category_seq = category_seq + $2 WHERE corp_id = $1
                 RETURNING category_seq"
            }
        }
    }
}

/// Takes the next `n` values of a counter of corp `corp_key` (inside a write, which holds the
/// corp's lock) and returns the first of them.
pub(crate) async fn take(
    tx: &Transaction<'_>,
    corp_key: i64,
    counter: Counter,
    n: i64,
) -> Result<i64> {
    let last: i64 = tx
        .query_opt(counter.statement(), &[&corp_key, &n])
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("corp {corp_key}")))?
        .get(0);
    Ok(last - n + 1)
}

/// A secret of the database (32 random bytes in `meta`), made once.
async fn secret(client: &tokio_postgres::Client, key: &str) -> Result<[u8; 32]> {
    let row = client
        .query_one("SELECT value FROM meta WHERE key = $1", &[&key])
        .await?;
    let value: Vec<u8> = row.get(0);
    value
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("meta.{key} is not 32 bytes")).into())
}

/// Applies the migrations this database lacks, each in its transaction, under the advisory
/// lock; then makes the secrets a new database lacks.
async fn migrate(client: &mut tokio_postgres::Client) -> Result<()> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             one     boolean PRIMARY KEY DEFAULT true CHECK (one),
             version integer NOT NULL
         );
         INSERT INTO schema_version (version) VALUES (0) ON CONFLICT DO NOTHING;",
    )
    .await?;
    let version: i32 = tx
        .query_one("SELECT version FROM schema_version", &[])
        .await?
        .get(0);
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(StoreError::open(format!(
            "the database has schema version {version}, newer than this patrol knows ({})",
            MIGRATIONS.len()
        ))
        .into());
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.batch_execute(sql).await?;
        let applied = i32::try_from(index + 1).unwrap_or(i32::MAX);
        tx.execute("UPDATE schema_version SET version = $1", &[&applied])
            .await?;
    }
    for key in ["cursor_secret", "token_key"] {
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            &[&key, &random_bytes().to_vec()],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// 32 random bytes (PostgreSQL's `gen_random_bytes` needs the pgcrypto extension, so patrol
/// makes them).
fn random_bytes() -> [u8; 32] {
    rand::random()
}

/// The health of the primary: its schema version, its pool (read replicas have pools of their
/// own, not reported here).
#[async_trait::async_trait]
impl patrol_store::HealthStore for PostgresStore {
    async fn schema_version(&self) -> patrol_store::Result<patrol_store::SchemaVersion> {
        Ok(patrol_store::SchemaVersion {
            applied: self.applied_schema_version().await?,
            latest: MIGRATIONS.len() as u64,
        })
    }

    fn pool_status(&self) -> patrol_store::PoolStatus {
        let status = self.inner.pool.status();
        patrol_store::PoolStatus {
            max: status.max_size,
            open: status.size,
            idle: status.available,
        }
    }
}
