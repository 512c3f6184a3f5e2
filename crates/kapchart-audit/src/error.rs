//! [`AuditError`]: why a document cannot be canonicalized or hashed, or a
//! stream of rows cannot be verified as given.
//!
//! Messages carry JSON Pointers, ids and numbers, never stored values.

/// Why canonicalizing, hashing or streaming failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// A number whose value is not an integer (canonical JSON here holds
    /// integers only).
    #[error(
        "the number at JSON pointer \"{pointer}\" is not an integer; canonical JSON here holds integers only"
    )]
    NonIntegerNumber {
        /// RFC 6901 pointer to the number (`""` is the whole document).
        pointer: String,
    },
    /// An integer beyond ±(2^53 − 1), which an IEEE-754 double (the number
    /// model of RFC 8785) cannot hold exactly.
    #[error(
        "the integer at JSON pointer \"{pointer}\" is beyond ±(2^53 - 1) and cannot be canonicalized exactly"
    )]
    UnsafeInteger {
        /// RFC 6901 pointer to the number (`""` is the whole document).
        pointer: String,
    },
    /// The canonical JSON serializer failed.
    #[error("canonical JSON serialization failed: {0}")]
    Serialization(String),
    /// Stored payload or metadata text is not JSON
    /// ([`EntryText`](crate::EntryText)).
    #[error("{field} is not JSON")]
    NotJson {
        /// `payload` or `metadata` (never the text).
        field: &'static str,
    },
    /// An entry's `metadata` is not a JSON object.
    #[error("an entry's metadata must be a JSON object")]
    MetadataNotObject,
    /// A [`LogVerifier`](crate::LogVerifier) was given rows of one aggregate
    /// in two separate runs: rows must come grouped by aggregate.
    #[error(
        "rows of aggregate {aggregate_type}/{aggregate_id} came in two separate runs; group rows by aggregate"
    )]
    AggregateNotGrouped {
        /// The aggregate type.
        aggregate_type: String,
        /// The aggregate id.
        aggregate_id: String,
    },
    /// Two head leaves name the same aggregate.
    #[error("two head leaves name aggregate {aggregate_type}/{aggregate_id}")]
    DuplicateHead {
        /// The aggregate type.
        aggregate_type: String,
        /// The aggregate id.
        aggregate_id: String,
    },
}

impl AuditError {
    /// True for the refusals of the number policy
    /// ([`NonIntegerNumber`](Self::NonIntegerNumber) and
    /// [`UnsafeInteger`](Self::UnsafeInteger)).
    #[must_use]
    pub fn is_number_refusal(&self) -> bool {
        matches!(
            self,
            AuditError::NonIntegerNumber { .. } | AuditError::UnsafeInteger { .. }
        )
    }
}
