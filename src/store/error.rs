//! What can go wrong in the store, in the terms the rest of the service acts on.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A unique key already holds this value (duplicate domain, client, user...).
    #[error("already exists")]
    Conflict,
    /// The row the operation needs is not there.
    #[error("not found")]
    NotFound,
    /// The database cannot be reached, timed out, or is busy: retry later (503).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// PostgreSQL chose this transaction as a deadlock victim or could not serialize
    /// it: nothing of it remains, and running it again may well succeed (503 when it
    /// cannot be run again).
    #[error("store contention: {0}")]
    Contention(String),
    /// The database answered with something this code did not expect.
    #[error("store error: {0}")]
    Internal(String),
}

impl StoreError {
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        Self::Unavailable(cause.to_string())
    }
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => Self::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => Self::Conflict,
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => Self::Unavailable(info.message().to_owned()),
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
                Self::Contention(info.message().to_owned())
            }
            // 40P01 has no kind of its own in diesel.
            DieselError::DatabaseError(_, info) if info.message().contains("deadlock detected") => {
                Self::Contention(info.message().to_owned())
            }
            DieselError::DatabaseError(_, info) if is_transient(info.message()) => {
                Self::Unavailable(info.message().to_owned())
            }
            DieselError::BrokenTransactionManager => {
                Self::Unavailable("connection left in a broken transaction".into())
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

/// SQLite reports lock contention and I/O trouble, and PostgreSQL reports shutdowns
/// and serialization conflicts, as plain database errors; all of them pass.
fn is_transient(message: &str) -> bool {
    const TRANSIENT: &[&str] = &[
        "database is locked",
        "database is busy",
        "disk I/O error",
        "database or disk is full",
        "terminating connection",
        "the database system is",
        "could not serialize access",
        "deadlock detected",
        "connection closed",
    ];
    TRANSIENT.iter().any(|needle| message.contains(needle))
}

impl From<diesel::ConnectionError> for StoreError {
    fn from(error: diesel::ConnectionError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for StoreError {
    fn from(error: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        Self::Unavailable(error.to_string())
    }
}
