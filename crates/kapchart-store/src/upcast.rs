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
    known_version(&entry.event_type, &entry.event_version)?;
    let event: ClientEvent = serde_json::from_value(entry.payload.clone())
        .map_err(|_| UpcastError::BadPayload(entry.event_type.clone()))?;
    checked_type(event, &entry.event_type)
}

/// As [`client_event`], from the stored columns, the payload as text
/// (what a reader of many events uses: no intermediate JSON value).
///
/// # Errors
/// [`UpcastError`] when the columns are not a readable client event.
pub fn client_event_from_text(
    aggregate_type: &str,
    event_type: &str,
    event_version: &str,
    payload: &str,
) -> Result<ClientEvent, UpcastError> {
    if aggregate_type != CLIENT_RECORD {
        return Err(UpcastError::NotClientRecord);
    }
    known_version(event_type, event_version)?;
    let event: ClientEvent = serde_json::from_str(payload)
        .map_err(|_| UpcastError::BadPayload(event_type.to_owned()))?;
    checked_type(event, event_type)
}

fn known_version(event_type: &str, event_version: &str) -> Result<(), UpcastError> {
    if event_version == kapchart_domain::EVENT_VERSION {
        Ok(())
    } else {
        Err(UpcastError::UnknownVersion(
            event_version.to_owned(),
            event_type.to_owned(),
        ))
    }
}

fn checked_type(event: ClientEvent, event_type: &str) -> Result<ClientEvent, UpcastError> {
    if event.type_name() == event_type {
        Ok(event)
    } else {
        Err(UpcastError::BadPayload(event_type.to_owned()))
    }
}

/// A stored `recorded_at` (RFC 3339).
///
/// # Errors
/// [`UpcastError::BadRecordedAt`].
pub fn parse_recorded_at(text: Option<&str>) -> Result<DateTime<Utc>, UpcastError> {
    text.and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or(UpcastError::BadRecordedAt)
}

/// When the store recorded the entry (`metadata.recorded_at`).
///
/// # Errors
/// [`UpcastError::BadRecordedAt`].
pub fn recorded_at(entry: &Entry) -> Result<DateTime<Utc>, UpcastError> {
    parse_recorded_at(entry.metadata["recorded_at"].as_str())
}
