//! The one place a backend is chosen: from the scheme of the database URL. The server, `patrol
//! seed` and the tests all open their store here.

use std::sync::Arc;

use patrol_media::{BlobStore, FsBlobStore};
use patrol_postgres::PostgresStore;
use patrol_sqlite::SqliteStore;
use patrol_store::{OpenOptions, Store, StoreError};

/// The URL schemes patrol accepts, for messages.
pub const ACCEPTED: &str = "sqlite://PATH, sqlite:PATH or a file path (SQLite), postgres://… or postgresql://… (PostgreSQL)";

/// Opens the store a database URL names, with the default options: see [`open_store_with`].
pub async fn open_store(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_store_with(url, &OpenOptions::default()).await
}

/// Opens the store a database URL names: `postgres://…` or `postgresql://…` (PostgreSQL), or
/// `sqlite://PATH`, `sqlite:PATH` or a plain file path (SQLite). Any other scheme is refused,
/// naming the accepted ones, and so are read replicas (`options.replicas`) of a SQLite database.
pub async fn open_store_with(
    url: &str,
    options: &OpenOptions,
) -> Result<Arc<dyn Store>, StoreError> {
    if patrol_postgres::is_postgres_url(url) {
        return Ok(Arc::new(PostgresStore::open_with(url, options).await?));
    }
    if !options.replicas.is_empty() {
        return Err(StoreError::open(format!(
            "read replicas (--database-replica, PATROL_DATABASE_REPLICAS, database_replicas) \
             need a PostgreSQL database (postgres://…), not {:?}",
            patrol_store::redacted_url(url)
        )));
    }
    match patrol_sqlite::sqlite_path(url) {
        Some(path) => Ok(Arc::new(SqliteStore::open_with(path, options)?)),
        None => Err(StoreError::open(format!(
            "unsupported database URL {:?}: accepted are {ACCEPTED}",
            patrol_store::redacted_url(url)
        ))),
    }
}

/// Whether a database URL names PostgreSQL.
pub fn is_postgres_url(url: &str) -> bool {
    patrol_postgres::is_postgres_url(url)
}

/// The file a SQLite database URL names; `None` for any other URL.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    if is_postgres_url(url) {
        return None;
    }
    patrol_sqlite::sqlite_path(url)
}

/// The media directory of a database URL by default: beside a SQLite database,
/// `<database file>-media/`.
pub fn default_media_dir(url: &str) -> Option<std::path::PathBuf> {
    patrol_sqlite::sqlite_path(url).map(|path| {
        let mut name = path.into_os_string();
        name.push("-media");
        name.into()
    })
}

/// Opens the blob store of media: the directory `media_dir`, or by default the one beside the
/// SQLite database a URL names ([`default_media_dir`]).
pub fn open_blobs(
    url: &str,
    media_dir: Option<&std::path::Path>,
) -> Result<Arc<dyn BlobStore>, StoreError> {
    let dir = match media_dir.map(std::path::Path::to_owned) {
        Some(dir) => dir,
        None => default_media_dir(url).ok_or_else(|| {
            StoreError::open(format!("no media directory for {url:?}: set media_dir"))
        })?,
    };
    let store = FsBlobStore::open(&dir).map_err(|e| StoreError::Open {
        message: format!("media directory {}", dir.display()),
        source: Some(e.into()),
    })?;
    Ok(Arc::new(store))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unknown_scheme_is_refused_naming_the_accepted_ones() {
        let error = open_store("mysql://localhost/patrol").await.unwrap_err();
        assert!(error.to_string().contains(ACCEPTED), "{error}");
    }

    #[tokio::test]
    async fn read_replicas_of_a_sqlite_database_are_refused_naming_the_flag() {
        // Refused before anything is opened: the directory need not exist.
        let url = "sqlite:///nonexistent-patrol-dir/x.db";
        let options = OpenOptions {
            replicas: vec!["postgres://postgres@127.0.0.1:5432/patrol".into()],
            ..OpenOptions::default()
        };
        let error = open_store_with(url, &options).await.unwrap_err();
        assert!(error.to_string().contains("--database-replica"), "{error}");
    }
}
