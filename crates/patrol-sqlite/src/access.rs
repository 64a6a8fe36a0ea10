//! How the store reaches SQLite with bounded resources, all of it made when the store opens:
//!
//! - **one writer**: a dedicated thread owning the one writer connection, fed by a bounded
//!   channel, so writes wait as async tasks in the channel rather than as parked threads. Writes
//!   are committed in groups: the writes waiting when the writer turns to the channel (at most
//!   [`MAX_GROUP`]) run one after another in one `IMMEDIATE` transaction, each in a savepoint of
//!   its own (a write that fails is rolled back alone), and are answered once that transaction
//!   has committed. Under load one commit, and with `synchronous=FULL` one sync of the WAL,
//!   serves many writes; alone, a write is committed at once as before;
//! - **inline readers**: [`READERS`] connections for short reads bounded by a key (a token, an
//!   order, a keyset page), run on the calling async thread; a semaphore hands them out, so a
//!   burst waits for a free connection instead of opening one;
//! - **scan readers**: [`SCAN_THREADS`] dedicated threads, each owning a connection, fed by a
//!   bounded channel, for reads that may scan far (directory listings, a modify-ordered page with
//!   a selective filter), which must not hold an async thread.
//!
//! Threads: 1 + [`SCAN_THREADS`]. Connections: 1 + [`READERS`] + [`SCAN_THREADS`], each with
//! the database file, its WAL and its shared-memory index open. None is created per request.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, Mutex};

use patrol_store::StoreError;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::error::{Error, Result};

/// Connections for inline reads.
pub const READERS: usize = 4;
/// Threads (each with a connection) for reads that may scan far.
pub const SCAN_THREADS: usize = 2;
/// Jobs waiting for the writer or the scan threads before senders wait.
const QUEUE: usize = 1024;
/// The most writes committed in one transaction.
pub(crate) const MAX_GROUP: usize = 128;

/// A write: runs in the group's transaction and says whether it succeeded (its savepoint is
/// then released, otherwise rolled back), with how to answer once the commit is known.
type WriteJob = Box<dyn FnOnce(&Transaction<'_>) -> (bool, Answer) + Send>;
/// Sends a write's outcome to its caller: its own result, or the commit's error.
type Answer = Box<dyn FnOnce(Option<&rusqlite::Error>) + Send>;
type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

/// The writer thread, the inline readers and the scan threads of one database.
pub(crate) struct Access {
    /// `None` once closed (dropping the senders stops the threads).
    writer: Option<mpsc::Sender<WriteJob>>,
    scans: Option<mpsc::Sender<ReadJob>>,
    readers: Mutex<Vec<Connection>>,
    free_readers: Semaphore,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// Closing: every connection is closed before the store lets go of the database (its lock), so
/// that SQLite's last close (which checkpoints and removes the WAL and shared-memory files by
/// name) can never touch the files of the next process or store to open the database.
impl Drop for Access {
    fn drop(&mut self) {
        self.writer.take();
        self.scans.take();
        self.readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        let current = std::thread::current().id();
        for thread in self.threads.drain(..) {
            // Never wait for the thread dropping the store (a job holding the last clone).
            if thread.thread().id() != current {
                let _ = thread.join();
            }
        }
    }
}

impl Access {
    /// Starts the writer thread on `writer` and opens the readers with `open_reader`.
    pub(crate) fn start(
        path: &Path,
        writer: Connection,
        open_reader: impl Fn(&Path) -> rusqlite::Result<Connection>,
    ) -> Result<Access> {
        // A first read opens each reader's WAL and shared-memory files now rather than on the
        // first call, so the open descriptors do not grow under load.
        let open_warm = |path: &Path| -> rusqlite::Result<Connection> {
            let conn = open_reader(path)?;
            conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
            Ok(conn)
        };
        let readers = (0..READERS)
            .map(|_| open_warm(path))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let scan_connections = (0..SCAN_THREADS)
            .map(|_| open_warm(path))
            .collect::<rusqlite::Result<Vec<_>>>()?;

        let mut threads = Vec::with_capacity(1 + SCAN_THREADS);
        let (write_sender, mut write_receiver) = mpsc::channel::<WriteJob>(QUEUE);
        let mut writer = writer;
        threads.push(spawn("patrol-sqlite-writer", move || {
            let mut pending = std::collections::VecDeque::with_capacity(MAX_GROUP);
            while let Some(job) = write_receiver.blocking_recv() {
                pending.push_back(job);
                while pending.len() < MAX_GROUP {
                    match write_receiver.try_recv() {
                        Ok(job) => pending.push_back(job),
                        Err(_) => break,
                    }
                }
                while !pending.is_empty() {
                    commit_group(&mut writer, &mut pending);
                }
            }
        })?);

        let (scan_sender, scan_receiver) = mpsc::channel::<ReadJob>(QUEUE);
        let scan_receiver = Arc::new(Mutex::new(scan_receiver));
        for (index, conn) in scan_connections.into_iter().enumerate() {
            let receiver = scan_receiver.clone();
            threads.push(spawn(&format!("patrol-sqlite-scan-{index}"), move || {
                loop {
                    let job = receiver
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .blocking_recv();
                    let Some(job) = job else { break };
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&conn)));
                }
            })?);
        }

        Ok(Access {
            writer: Some(write_sender),
            scans: Some(scan_sender),
            readers: Mutex::new(readers),
            free_readers: Semaphore::new(READERS),
            threads,
        })
    }

    /// Runs `f` on the writer thread in an `IMMEDIATE` transaction (shared with the writes
    /// waiting beside it, in a savepoint of its own); answers once its changes are committed,
    /// or rolled back when `f` fails.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T>>();
        let job: WriteJob = Box::new(move |tx| {
            let result = f(tx);
            let ok = result.is_ok();
            let answer: Answer = Box::new(move |commit_error| {
                let result = match commit_error {
                    Some(error) if ok => Err(Error::Store(StoreError::backend(format!(
                        "the transaction did not commit: {error}"
                    )))),
                    _ => result,
                };
                let _ = answer.send(result);
            });
            (ok, answer)
        });
        let writer = self.writer.as_ref().ok_or_else(|| stopped("writer"))?;
        writer.send(job).await.map_err(|_| stopped("writer"))?;
        answered
            .await
            .map_err(|_| failed("writer"))?
            .map_err(StoreError::from)
    }

    /// Inline readers free now.
    pub(crate) fn idle_readers(&self) -> usize {
        self.free_readers.available_permits()
    }

    /// Runs a read that may scan far on a scan thread.
    pub(crate) async fn scan<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let _ = answer.send(f(conn));
        });
        let scans = self.scans.as_ref().ok_or_else(|| stopped("reader"))?;
        scans.send(job).await.map_err(|_| stopped("reader"))?;
        answered
            .await
            .map_err(|_| failed("reader"))?
            .map_err(StoreError::from)
    }

    /// Runs a short read bounded by a key on the calling thread, on a free inline reader: it
    /// takes microseconds, less than a hand-over to another thread and back would.
    pub(crate) async fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T>,
    ) -> Result<T, StoreError> {
        let _permit = self
            .free_readers
            .acquire()
            .await
            .map_err(|_| stopped("reader"))?;
        let conn = self
            .readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
            .ok_or_else(|| failed("reader pool"))?;
        let out = std::panic::catch_unwind(AssertUnwindSafe(|| f(&conn)));
        self.readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(conn);
        match out {
            Ok(out) => out.map_err(StoreError::from),
            Err(_) => Err(failed("reader")),
        }
    }
}

/// Runs waiting writes in one transaction and answers them once it has committed. Stops early,
/// leaving the rest in `pending` for the next transaction, when SQLite rolled the whole
/// transaction back under a write (an I/O error, a full disk): the writes run so far are
/// answered with that error.
fn commit_group(conn: &mut Connection, pending: &mut std::collections::VecDeque<WriteJob>) {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(error) => {
            // Every waiting write gets the error; none ran.
            for job in pending.drain(..) {
                fail_unrun(job, &error);
            }
            return;
        }
    };
    let mut answers: Vec<Answer> = Vec::with_capacity(pending.len());
    while let Some(job) = pending.pop_front() {
        if let Err(error) = tx.execute_batch("SAVEPOINT write") {
            fail_unrun(job, &error);
            continue;
        }
        // A panicking write is rolled back like a failing one; its caller, whose answer was
        // dropped in the unwinding, gets an error; the writer goes on.
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| job(&tx)));
        if tx.is_autocommit() {
            // SQLite rolled the transaction back: nothing of this group is stored.
            let error = rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                Some("the transaction was rolled back under a write".to_owned()),
            );
            if let Ok((_, answer)) = outcome {
                answers.push(answer);
            }
            for answer in answers {
                answer(Some(&error));
            }
            return;
        }
        let ended = match &outcome {
            Ok((true, _)) => tx.execute_batch("RELEASE write"),
            _ => tx.execute_batch("ROLLBACK TO write; RELEASE write"),
        };
        if let Ok((_, answer)) = outcome {
            answers.push(answer);
        }
        if let Err(error) = ended {
            // A failed write's changes might stay: store nothing of the group (the transaction
            // rolls back as it drops).
            for answer in answers {
                answer(Some(&error));
            }
            return;
        }
    }
    let committed = tx.commit();
    for answer in answers {
        answer(committed.as_ref().err());
    }
}

/// Drops a write that cannot run: its caller gets "the writer failed"; the cause is logged.
fn fail_unrun(job: WriteJob, error: &rusqlite::Error) {
    tracing::error!(%error, "the SQLite writer cannot start a write");
    drop(job);
}

fn spawn(name: &str, body: impl FnOnce() + Send + 'static) -> Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(body)
        .map_err(|e| {
            Error::Store(StoreError::open(format!(
                "cannot start the {name} thread: {e}"
            )))
        })
}

fn stopped(what: &str) -> StoreError {
    StoreError::backend(format!("the SQLite {what} has stopped"))
}

fn failed(what: &str) -> StoreError {
    StoreError::backend(format!("the SQLite {what} failed while serving the call"))
}
