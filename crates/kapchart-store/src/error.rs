//! Store errors. Messages name what failed, never the connection URL (it may
//! hold a password) nor any event content.

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL is not one kapchart can use.
    #[error("the database URL is not a valid sqlite: or postgres:// URL")]
    BadUrl,
    /// The database could not be reached or opened.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// Applying the schema failed.
    #[error("cannot apply the database schema: {0}")]
    Migrate(String),
    /// The database did not answer: it is down, restarting or
    /// unreachable, or no connection came free within the pool's acquire
    /// timeout. Trying again later may succeed. A write that fails so
    /// may have committed before the connection broke.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A query failed.
    #[error("database error: {0}")]
    Query(String),
    /// A stored row could not be read back.
    #[error("stored event at position {position} is unreadable: {reason}")]
    Corrupt {
        /// Its position.
        position: i64,
        /// Why.
        reason: String,
    },
    /// A stored row of the accounts or the access log could not be read
    /// back. The message names the table, the row's key and the column,
    /// never a stored value.
    #[error("stored {table} row {key} is unreadable: {reason}")]
    Unreadable {
        /// `users`, `tokens` or `access_log`.
        table: &'static str,
        /// The row's key (a user id or an access log sequence).
        key: String,
        /// Which column, and why.
        reason: String,
    },
    /// A value given to the store breaks a rule of its field. Names the
    /// field and the rule, never the value.
    #[error("{field}: {rule}")]
    Invalid {
        /// The field, e.g. `purpose`.
        field: &'static str,
        /// The rule it breaks.
        rule: &'static str,
    },
}

impl StoreError {
    pub(crate) fn connect(e: sqlx::Error) -> Self {
        StoreError::Connect(describe(&e))
    }

    /// A failed query: [`StoreError::Unavailable`] when the database did
    /// not answer (see [`unavailable`]), [`StoreError::Query`] otherwise.
    pub fn query(e: sqlx::Error) -> Self {
        if unavailable(&e) {
            StoreError::Unavailable(describe(&e))
        } else {
            StoreError::Query(describe(&e))
        }
    }

    /// True when the database did not answer ([`StoreError::Unavailable`]):
    /// the caller may try again later.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// The one place that tells "the database is unavailable" from other
/// failures of a query: no connection came free in time
/// (`PoolTimedOut`), the pool is closed (shutting down), the connection
/// broke (I/O, TLS, a protocol error, the worker gone), or PostgreSQL said
/// it is shutting down, starting up, out of connections or that the
/// connection failed (SQLSTATE classes 08 and 57P, and 53300).
pub fn unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || code.starts_with("57P") || code == "53300"
        }),
        _ => false,
    }
}

/// sqlx errors without the URL: the database's own message, or the kind.
pub(crate) fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::PoolTimedOut => "timed out waiting for a connection".to_owned(),
        sqlx::Error::Configuration(_) => "invalid connection settings".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_that_does_not_answer_is_unavailable() {
        for e in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::WorkerCrashed,
            sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
        ] {
            assert!(unavailable(&e), "{e}");
            assert!(StoreError::query(e).is_unavailable());
        }
        for e in [
            sqlx::Error::RowNotFound,
            sqlx::Error::ColumnNotFound("x".into()),
        ] {
            assert!(!unavailable(&e), "{e}");
            assert!(matches!(StoreError::query(e), StoreError::Query(_)));
        }
    }
}
