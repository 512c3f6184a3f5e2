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
