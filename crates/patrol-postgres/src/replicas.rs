//! Where a read goes: the reads that may lag (the order list, order bodies, the statistics) to a
//! read replica, every other read and every write to the primary; and what happens when a
//! connection breaks (a replica that is down, a primary that failed over).
//!
//! - A replica is chosen round robin. When it cannot answer (it cannot be reached, its connection
//!   broke, or it cancelled the read to replay WAL), the read runs on the primary instead and a
//!   warning is logged, at most once per [`WARN_EVERY`] and replica with the count of reads that
//!   fell back: a dead replica never fails a client's call. A replica that could not be reached is
//!   passed over for [`RETRY_AFTER`], so that a replica that does not answer at all costs one
//!   read a connect timeout, not every read.
//! - A read on the primary whose connection turns out broken runs once more on a fresh one: after
//!   a failover the pool's connections to the old primary break, and the new connection finds
//!   the new primary (a multi-host URL with `target_session_attrs=read-write`).
//! - Writes are retried only before they start (`PostgresStore::write`), never once they may
//!   have committed.

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use deadpool_postgres::{Object, Pool};
use patrol_store::StoreError;

use crate::PostgresStore;
use crate::error::{Error, Result};

/// A failing replica is logged at most this often.
pub(crate) const WARN_EVERY: Duration = Duration::from_secs(10);

/// A replica that could not be reached gets no read for this long.
pub(crate) const RETRY_AFTER: Duration = Duration::from_secs(5);

/// How long connecting to a replica may take when its URL sets no `connect_timeout`: a replica
/// that does not answer costs a read this much once, then it runs on the primary.
pub(crate) const REPLICA_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The read replicas of a store, chosen round robin.
pub(crate) struct Replicas {
    list: Vec<Replica>,
    next: AtomicUsize,
}

#[derive(Default)]
struct ReplicaState {
    warned: Option<Instant>,
    down_until: Option<Instant>,
}

struct Replica {
    /// The URL without its password, for logs.
    display: String,
    pool: Pool,
    /// When the last warning was logged, and until when the replica is passed over.
    state: Mutex<ReplicaState>,
    /// Reads that fell back to the primary since the last warning.
    fallbacks: AtomicU64,
}

impl Replicas {
    /// Opens a pool per replica URL. A URL that does not parse is an error; a replica that
    /// cannot be reached now is logged (reads go to the primary until it answers), and one that
    /// answers with another database's secrets is an error: it is not a replica of this
    /// database.
    pub(crate) async fn open(
        urls: &[String],
        primary: &str,
        token_key: &[u8; 32],
    ) -> patrol_store::Result<Replicas> {
        let mut list = Vec::with_capacity(urls.len());
        for url in urls {
            let shown = crate::displayed(url);
            let mut config: tokio_postgres::Config = url
                .parse()
                .map_err(|e| crate::open_error(&format!("read replica {shown}"), e))?;
            if config.get_connect_timeout().is_none() {
                config.connect_timeout(REPLICA_CONNECT_TIMEOUT);
            }
            let pool = crate::pool(config, &shown)?;
            match pool.get().await {
                Ok(client) => match crate::secret(&client, "token_key").await {
                    Ok(key) if key != *token_key => {
                        return Err(StoreError::open(format!(
                            "read replica {shown} is not a replica of {primary}: it holds \
                             another database"
                        )));
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(
                        replica = %shown,
                        error = %describe(&error),
                        "the read replica cannot be read yet; reads go to the primary until it can"
                    ),
                },
                Err(error) => tracing::warn!(
                    replica = %shown,
                    error = %describe(&Error::from(error)),
                    "the read replica cannot be reached; reads go to the primary until it can"
                ),
            }
            list.push(Replica {
                display: shown,
                pool,
                state: Mutex::default(),
                fallbacks: AtomicU64::new(0),
            });
        }
        Ok(Replicas {
            list,
            next: AtomicUsize::new(0),
        })
    }

    /// The replica of the next lagging read, round robin over those not passed over; `None`
    /// without replicas or when every one could not be reached lately.
    fn pick(&self) -> Option<&Replica> {
        let count = self.list.len();
        if count == 0 {
            return None;
        }
        let first = self.next.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        (0..count)
            .filter_map(|offset| self.list.get(first.wrapping_add(offset) % count))
            .find(|replica| replica.state().down_until.is_none_or(|until| now >= until))
    }
}

impl Replica {
    fn state(&self) -> std::sync::MutexGuard<'_, ReplicaState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a read that fell back to the primary, passes the replica over for
    /// [`RETRY_AFTER`] when it could not be reached, and logs unless it logged within
    /// [`WARN_EVERY`].
    fn fell_back(&self, error: &Error) {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let mut state = self.state();
        if matches!(error, Error::Pool(_)) {
            state.down_until = Some(now + RETRY_AFTER);
        }
        if state
            .warned
            .is_some_and(|at| now.duration_since(at) < WARN_EVERY)
        {
            return;
        }
        state.warned = Some(now);
        let fallbacks = self.fallbacks.swap(0, Ordering::Relaxed);
        tracing::warn!(
            replica = %self.display,
            fallbacks,
            error = %describe(error),
            "a read replica failed; its reads ran on the primary"
        );
    }
}

/// An error as one line for the logs, with the server's message when there is one.
fn describe(error: &Error) -> String {
    match error {
        Error::Postgres(error) => match error.as_db_error() {
            Some(db) => format!("{}: {}", db.code().code(), db.message()),
            None => error.to_string(),
        },
        Error::Pool(error) => match error {
            deadpool_postgres::PoolError::Backend(error) => error.to_string(),
            other => other.to_string(),
        },
        Error::Store(error) => error.to_string(),
    }
}

impl PostgresStore {
    /// Runs a read that may lag behind the latest writes (see the README, "Read replicas"): on a
    /// replica when there are some, else, or when the replica fails, on the primary.
    ///
    /// `read` gets a connection and may be called twice (on the replica, then on the primary).
    pub(crate) async fn lagging_read<T, F, Fut>(&self, read: F) -> Result<T>
    where
        F: Fn(Object) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        if let Some(replica) = self.inner.replicas.pick() {
            let outcome = match replica.pool.get().await {
                Ok(client) => read(client).await,
                Err(error) => Err(Error::from(error)),
            };
            match outcome {
                Err(error) if error.is_replica_failure() => replica.fell_back(&error),
                outcome => return outcome,
            }
        }
        self.primary_read(read).await
    }

    /// Runs a read on the primary; once more on a fresh connection when the connection broke
    /// (a read writes nothing, so running it again is safe).
    pub(crate) async fn primary_read<T, F, Fut>(&self, read: F) -> Result<T>
    where
        F: Fn(Object) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let first = match self.client().await {
            Ok(client) => read(client).await,
            Err(error) => Err(error),
        };
        match first {
            Err(error) if error.is_disconnect() => {
                tracing::info!(
                    database = %self.inner.display,
                    error = %describe(&error),
                    "the connection to the database broke; reading again on a new one"
                );
                read(self.client().await?).await
            }
            outcome => outcome,
        }
    }
}
