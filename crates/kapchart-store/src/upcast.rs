//! Stored events back to domain events: the one place that knows which
//! event versions exist. Version 1 is the only one so far; when an event's
//! shape changes, its old version is converted here, on read, and the
//! stored row stays as it was written.

use chrono::{DateTime, Utc};
use kapchart_audit::Entry;
use kapchart_domain::ClientEvent;

use crate::CLIENT_RECORD;

/// Why a stored entry is not a client event this version of kapchart can
/// read. Names the column, never its content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpcastError {
    /// Not a client record's event.
    #[error("aggregate type is not {CLIENT_RECORD}")]
    NotClientRecord,
    /// An event version this kapchart does not know.
    #[error("event version {0:?} of {1} is unknown to this version of kapchart")]
    UnknownVersion(String, String),
    /// The payload does not parse as the event type.
    #[error("payload is not a valid {0} event")]
    BadPayload(String),
    /// `metadata.recorded_at` is missing or not RFC 3339.
    #[error("metadata.recorded_at is missing or not an RFC 3339 time")]
    BadRecordedAt,
}

/// The domain event of a stored client-record entry, in the current shape.
///
/// # Errors
/// [`UpcastError`] when the entry is not a readable client event.
pub fn client_event(entry: &Entry) -> Result<ClientEvent, UpcastError> {
    if entry.aggregate_type != CLIENT_RECORD {
        return Err(UpcastError::NotClientRecord);
    }
    if entry.event_version != kapchart_domain::EVENT_VERSION {
        return Err(UpcastError::UnknownVersion(
            entry.event_version.clone(),
            entry.event_type.clone(),
        ));
    }
    let event: ClientEvent = serde_json::from_value(entry.payload.clone())
        .map_err(|_| UpcastError::BadPayload(entry.event_type.clone()))?;
    if event.type_name() != entry.event_type {
        return Err(UpcastError::BadPayload(entry.event_type.clone()));
    }
    Ok(event)
}

/// When the store recorded the entry (`metadata.recorded_at`).
///
/// # Errors
/// [`UpcastError::BadRecordedAt`].
pub fn recorded_at(entry: &Entry) -> Result<DateTime<Utc>, UpcastError> {
    entry.metadata["recorded_at"]
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or(UpcastError::BadRecordedAt)
}
