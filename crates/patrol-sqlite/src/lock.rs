//! One patrol process per database file: an exclusive lock on `<database>-lock`, held while any
//! store of this process has the database open, and released by the operating system when the
//! process ends however it ends (`kill -9` included), so a stale file never blocks a start.
//!
//! Stores of one process share the lock (the tests open the server's database beside it). The
//! lock file holds the holder's pid and command line, so a refused start names who has it.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, Weak};

use patrol_store::StoreError;

use crate::files;
use crate::open_error;

/// The lock of one database, held by this process.
#[derive(Debug)]
pub(crate) struct DatabaseLock {
    /// Held open: closing it releases the lock.
    _file: File,
}

/// The locks this process holds, by database path.
static HELD: LazyLock<Mutex<HashMap<PathBuf, Weak<DatabaseLock>>>> = LazyLock::new(Mutex::default);

/// Takes the lock of `database` (an absolute path) for this process, or shares the one a store
/// of this process holds. With `fresh`, the caller will remove the database: refused while
/// another store of this process has it open.
pub(crate) fn acquire(database: &Path, fresh: bool) -> Result<Arc<DatabaseLock>, StoreError> {
    let mut held = HELD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    held.retain(|_, lock| lock.strong_count() > 0);
    if let Some(lock) = held.get(database).and_then(Weak::upgrade) {
        if fresh {
            return Err(StoreError::open(format!(
                "cannot start {} afresh: this process has it open",
                database.display()
            )));
        }
        return Ok(lock);
    }
    let path = files::beside(database, "-lock");
    let mut file = files::open_private(
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false),
        &path,
    )
    .map_err(|e| open_error(&path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let holder = if holder.is_empty() {
                "a patrol process".to_owned()
            } else {
                one_line(holder)
            };
            return Err(StoreError::open(format!(
                "the database {} is in use by another patrol process ({holder}); stop it first or \
                 choose another database",
                database.display()
            )));
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(open_error(&path, e)),
    }
    // Who holds it, for the message of whoever is refused next.
    let holder = format!(
        "pid {}: {}",
        std::process::id(),
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    let written = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(holder.as_bytes()));
    if let Err(e) = written {
        tracing::debug!(error = %e, path = %path.display(), "cannot write the lock's holder");
    }
    let lock = Arc::new(DatabaseLock { _file: file });
    held.insert(database.to_owned(), Arc::downgrade(&lock));
    Ok(lock)
}

/// The holder's description as read from the lock file, bounded and on one line.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect()
}
