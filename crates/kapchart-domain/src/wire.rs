//! Parsing commands from JSON at the edges, naming the offending field.
//!
//! Every value type parses itself (see [`crate::types`]); this module adds
//! the path to the field that failed, so "PHQ-9 score: must be 0–27, got 31"
//! becomes an error for `body.RecordOutcomeMeasure.measure.score`. The
//! message never echoes the rejected value's text.

use serde::de::DeserializeOwned;

use crate::command::Command;

/// A command body that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InputError {
    /// Dotted path to the field (`.` for the whole document).
    pub field: String,
    /// Why it was refused.
    pub message: String,
}

/// Parses any checked type from JSON, naming the field that failed.
pub fn parse_json<T: DeserializeOwned>(json: &str) -> Result<T, InputError> {
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let field = err.path().to_string();
        let inner = err.into_inner();
        // serde_json appends " at line L column C": position, not content.
        let message = inner.to_string();
        let message = match message.rfind(" at line ") {
            Some(i) if inner.line() > 0 => message[..i].to_owned(),
            _ => message,
        };
        InputError { field, message }
    })
}

/// Parses a [`Command`] from JSON.
pub fn parse_command(json: &str) -> Result<Command, InputError> {
    parse_json(json)
}
