//! The backend's internal error and its translation into [`StoreError`] at the boundary:
//! SQLite's constraint codes become [`StoreError::Constraint`] with a portable kind, everything
//! else [`StoreError::Backend`], with the driver's error kept as the source.

use patrol_domain::Rejection;
use patrol_store::{ConstraintKind, StoreError};

/// An error inside the backend: SQLite's, or one of the store's already.
#[derive(Debug)]
pub(crate) enum Error {
    Sqlite(rusqlite::Error),
    Store(StoreError),
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Error {
        Error::Sqlite(error)
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
            Error::Sqlite(error) => match constraint_kind(&error) {
                Some(kind) => StoreError::Constraint {
                    kind,
                    source: Box::new(error),
                },
                None => StoreError::backend(error),
            },
        }
    }
}

/// The kind of constraint a SQLite error reports, if it is a constraint failure.
pub(crate) fn constraint_kind(error: &rusqlite::Error) -> Option<ConstraintKind> {
    let rusqlite::Error::SqliteFailure(failure, _) = error else {
        return None;
    };
    if failure.code != rusqlite::ErrorCode::ConstraintViolation {
        return None;
    }
    use rusqlite::ffi;
    Some(match failure.extended_code {
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => ConstraintKind::Unique,
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ConstraintKind::ForeignKey,
        ffi::SQLITE_CONSTRAINT_CHECK => ConstraintKind::Check,
        ffi::SQLITE_CONSTRAINT_NOTNULL => ConstraintKind::NotNull,
        _ => ConstraintKind::Other,
    })
}

/// Turns a unique-constraint failure into [`StoreError::Conflict`]: "`what` already exists".
/// Any other failure stays what it is (a foreign-key or check failure is not "already exists").
pub(crate) fn conflict(what: impl FnOnce() -> String) -> impl FnOnce(rusqlite::Error) -> Error {
    move |error| match constraint_kind(&error) {
        Some(ConstraintKind::Unique) => {
            Error::Store(StoreError::Conflict(format!("{} already exists", what())))
        }
        _ => Error::Sqlite(error),
    }
}

/// Shorthand for a [`StoreError::NotFound`].
pub(crate) fn not_found(what: String) -> Error {
    Error::Store(StoreError::NotFound(what))
}
