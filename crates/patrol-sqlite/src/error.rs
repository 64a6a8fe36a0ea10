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

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(conn: &rusqlite::Connection, sql: &str) -> rusqlite::Error {
        conn.execute(sql, []).unwrap_err()
    }

    #[test]
    fn only_a_unique_failure_is_already_exists() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
             CREATE TABLE child (parent INTEGER NOT NULL REFERENCES parent (id),
                                 n INTEGER NOT NULL CHECK (n > 0));
             INSERT INTO parent (id, name) VALUES (1, 'a');",
        )
        .unwrap();
        let unique = failure(&conn, "INSERT INTO parent (name) VALUES ('a')");
        assert_eq!(constraint_kind(&unique), Some(ConstraintKind::Unique));
        let error = StoreError::from(conflict(|| "parent a".into())(unique));
        assert_eq!(error.to_string(), "parent a already exists");

        for (sql, kind) in [
            (
                "INSERT INTO child (parent, n) VALUES (2, 1)",
                ConstraintKind::ForeignKey,
            ),
            (
                "INSERT INTO child (parent, n) VALUES (1, 0)",
                ConstraintKind::Check,
            ),
            (
                "INSERT INTO child (parent, n) VALUES (1, NULL)",
                ConstraintKind::NotNull,
            ),
        ] {
            let raw = failure(&conn, sql);
            assert_eq!(constraint_kind(&raw), Some(kind), "{sql}");
            let error = StoreError::from(conflict(|| "child".into())(raw));
            match &error {
                StoreError::Constraint { kind: got, .. } => assert_eq!(*got, kind),
                other => panic!("{sql}: {other:?} is not a constraint failure"),
            }
            assert!(
                !error.chain().contains("already exists"),
                "{}",
                error.chain()
            );
            assert!(
                error.chain().contains("constraint failed"),
                "{}",
                error.chain()
            );
        }

        let other = failure(&conn, "INSERT INTO nowhere VALUES (1)");
        assert_eq!(constraint_kind(&other), None);
        assert!(matches!(
            StoreError::from(Error::from(other)),
            StoreError::Backend { .. }
        ));
    }
}
