//! The backend's internal error and its translation into [`StoreError`] at the boundary:
//! PostgreSQL's constraint violations become [`StoreError::Constraint`] with a portable kind,
//! everything else [`StoreError::Backend`], with the driver's error kept as the source.

use patrol_domain::Rejection;
use patrol_store::{ConstraintKind, StoreError};
use tokio_postgres::error::SqlState;

/// An error inside the backend: the driver's, the pool's, or one of the store's already.
#[derive(Debug)]
pub(crate) enum Error {
    Postgres(tokio_postgres::Error),
    Pool(deadpool_postgres::PoolError),
    Store(StoreError),
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether the connection failed rather than the statement: it could not be made, it broke,
    /// or the server is shutting down or starting. Whatever ran on it did not commit unless its
    /// `COMMIT` was sent; a read may run again on a new connection.
    pub(crate) fn is_disconnect(&self) -> bool {
        match self {
            Error::Pool(
                deadpool_postgres::PoolError::Backend(_) | deadpool_postgres::PoolError::Timeout(_),
            ) => true,
            Error::Postgres(error) => is_disconnect(error),
            Error::Pool(_) | Error::Store(_) => false,
        }
    }

    /// Whether a read replica failed to answer a read the primary may answer: it is
    /// unreachable or its connection broke ([`Error::is_disconnect`]), it cancelled the read to
    /// replay WAL (a conflict with recovery), or it has not replayed the schema yet.
    pub(crate) fn is_replica_failure(&self) -> bool {
        self.is_disconnect()
            || matches!(self, Error::Postgres(error) if error.code().is_some_and(|code| {
                *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::UNDEFINED_TABLE
            }))
    }
}

/// Whether a driver error is the connection's rather than the statement's: see
/// [`Error::is_disconnect`].
pub(crate) fn is_disconnect(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    match error.code() {
        Some(code) => {
            *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
                || code.code().starts_with("08")
        }
        // No SQLSTATE: an I/O error of the socket, or a connection that could not be made.
        None => std::error::Error::source(error)
            .is_some_and(<dyn std::error::Error + 'static>::is::<std::io::Error>),
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(error: tokio_postgres::Error) -> Error {
        Error::Postgres(error)
    }
}

impl From<deadpool_postgres::PoolError> for Error {
    fn from(error: deadpool_postgres::PoolError) -> Error {
        Error::Pool(error)
    }
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Error {
        Error::Store(error)
    }
}

impl From<Rejection> for Error {
    fn from(rejection: Rejection) -> Error {
        Error::Store(StoreError::Rejected(rejection))
    }
}

impl From<Error> for StoreError {
    fn from(error: Error) -> StoreError {
        match error {
            Error::Store(error) => error,
            Error::Pool(error) => StoreError::backend(error),
            Error::Postgres(error) => match constraint_kind(&error) {
                Some(kind) => StoreError::Constraint {
                    kind,
                    source: Box::new(error),
                },
                None => StoreError::backend(error),
            },
        }
    }
}

/// The kind of constraint a PostgreSQL error reports, if it is a constraint violation.
pub(crate) fn constraint_kind(error: &tokio_postgres::Error) -> Option<ConstraintKind> {
    let code = error.code()?;
    Some(if *code == SqlState::UNIQUE_VIOLATION {
        ConstraintKind::Unique
    } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
        ConstraintKind::ForeignKey
    } else if *code == SqlState::CHECK_VIOLATION {
        ConstraintKind::Check
    } else if *code == SqlState::NOT_NULL_VIOLATION {
        ConstraintKind::NotNull
    } else if *code == SqlState::INTEGRITY_CONSTRAINT_VIOLATION
        || *code == SqlState::EXCLUSION_VIOLATION
    {
        ConstraintKind::Other
    } else {
        return None;
    })
}

/// A unique violation as [`StoreError::Conflict`] (`what` exists already), any other error as it
/// is: for inserts whose only unique key is the thing's id.
pub(crate) fn conflict(
    what: impl FnOnce() -> String,
) -> impl FnOnce(tokio_postgres::Error) -> Error {
    move |error| match constraint_kind(&error) {
        Some(ConstraintKind::Unique) => {
            Error::Store(StoreError::Conflict(format!("{} already exists", what())))
        }
        _ => Error::Postgres(error),
    }
}

pub(crate) fn not_found(what: impl Into<String>) -> Error {
    Error::Store(StoreError::NotFound(what.into()))
}
