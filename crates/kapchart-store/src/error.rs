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

    pub(crate) fn query(e: sqlx::Error) -> Self {
        StoreError::Query(describe(&e))
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
