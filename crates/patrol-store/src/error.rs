//! [`StoreError`]: why a store call failed, in terms every backend can give and every caller can
//! act on. No driver type appears here; a driver's error travels as the `source` of
//! [`StoreError::Backend`] or [`StoreError::Constraint`], so the whole chain reaches the log.

use std::fmt;

use patrol_domain::Rejection;

/// A backend's own error, kept as the source of a [`StoreError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Something named in the call does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// Something to create exists already, or something to delete is still in use.
    #[error("{0}")]
    Conflict(String),
    /// A grid or category write that what the corp holds refuses, for a reason callers tell
    /// apart (WeCom's API answers each its own way); a conflict like [`StoreError::Conflict`].
    #[error("{message}")]
    Clash { clash: Clash, message: String },
    /// The call breaks a rule of the domain.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// A constraint of the database refused a write that the domain's checks let through (two
    /// writers racing, or a rule the checks miss). Not the same as [`StoreError::Conflict`]:
    /// only a unique constraint means "already exists".
    #[error("the database refused the write: a {kind} constraint failed")]
    Constraint {
        kind: ConstraintKind,
        #[source]
        source: BoxError,
    },
    /// What the database holds breaks the domain's rules (edited by hand, or by another
    /// program).
    #[error("the stored data is invalid: {0}")]
    Corrupt(String),
    /// The database could not be opened or prepared.
    #[error("cannot open the database: {message}")]
    Open {
        message: String,
        #[source]
        source: Option<BoxError>,
    },
    /// The database failed (I/O, a lock held too long, the store shut down).
    #[error("the database failed")]
    Backend {
        #[source]
        source: BoxError,
    },
}

impl StoreError {
    /// A [`StoreError::Backend`] of any error.
    pub fn backend(source: impl Into<BoxError>) -> StoreError {
        StoreError::Backend {
            source: source.into(),
        }
    }

    /// A [`StoreError::Open`] with a message and no source.
    pub fn open(message: impl Into<String>) -> StoreError {
        StoreError::Open {
            message: message.into(),
            source: None,
        }
    }

    /// The error and its sources, `: `-separated, for a log line.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}

/// Why a grid or category write clashes with what is stored ([`StoreError::Clash`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Clash {
    /// A sibling (a grid or category under the same parent, or at the top level) has the name.
    SiblingName,
    /// The grid to delete has members.
    HasMembers,
    /// The grid or category to delete has children, or the category to move under a parent
    /// does (it stays at level 1).
    HasChildren,
    /// Orders were reported in the grid or category to delete.
    HasOrders,
}

/// The kind of a database constraint that failed, as every SQL database reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConstraintKind {
    Unique,
    ForeignKey,
    Check,
    NotNull,
    Other,
}

impl fmt::Display for ConstraintKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConstraintKind::Unique => "unique",
            ConstraintKind::ForeignKey => "foreign-key",
            ConstraintKind::Check => "check",
            ConstraintKind::NotNull => "not-null",
            ConstraintKind::Other => "database",
        })
    }
}

/// A `Result` with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
