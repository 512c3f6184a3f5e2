//! Parsing commands from JSON at the edges, naming the offending field.
//!
//! Every value type parses itself (see [`crate::types`]); this module adds
//! the path to the field that failed, so "PHQ-9 score: must be 0–27, got 31"
//! becomes an error for `body.RecordOutcomeMeasure.measure.score`.
//!
//! Messages never echo rejected values: serde's messages quote what they
//! refused (`invalid type: string "…"`, ``unknown variant `…` ``), and that
//! text may be a name or a note, so it is cut out here. Numbers the checked
//! types report ("got 31") are kept, and so is the name of an unknown field:
//! keys are the schema's words, and naming the field is the point.

use serde::de::DeserializeOwned;

use crate::command::Command;
use crate::practice::PracticeCommand;

/// A command body that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InputError {
    /// Dotted path to the field (`.` for the whole document).
    pub field: String,
    /// Why it was refused.
    pub message: String,
}

/// Parses any checked type from JSON, naming the field that failed. The
/// whole input must be one JSON value (whitespace around it is fine).
pub fn parse_json<T: DeserializeOwned>(json: &str) -> Result<T, InputError> {
    let mut de = serde_json::Deserializer::from_str(json);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        // A member named "" at the top level prints as an empty path:
        // name the whole document instead, so a field is always named.
        let field = match err.path().to_string() {
            path if path.is_empty() => ".".to_owned(),
            path => path,
        };
        let message = redact(&strip_position(&err.into_inner()));
        InputError { field, message }
    })?;
    de.end().map_err(|err| InputError {
        field: ".".to_owned(),
        message: format!(
            "unexpected content after the JSON value ({})",
            strip_position(&err)
        ),
    })?;
    Ok(value)
}

/// Parses a [`Command`] from JSON.
pub fn parse_command(json: &str) -> Result<Command, InputError> {
    parse_json(json)
}

/// Parses a [`PracticeCommand`] from JSON (a bad NPI check digit names
/// `body.SetPracticeIdentity.npi`, ...).
pub fn parse_practice_command(json: &str) -> Result<PracticeCommand, InputError> {
    parse_json(json)
}

/// serde_json appends " at line L column C": position, not content.
fn strip_position(err: &serde_json::Error) -> String {
    let message = err.to_string();
    match message.rfind(" at line ") {
        Some(i) if err.line() > 0 => message[..i].to_owned(),
        _ => message,
    }
}

/// Cuts the rejected text out of serde's messages:
/// `invalid type: string "x", expected i64` → `invalid type: string, expected i64`;
/// ``unknown variant `x`, expected one of `a`, `b` `` → ``unknown variant, expected one of `a`, `b` ``.
/// Unknown field names are kept.
fn redact(message: &str) -> String {
    let mut out = message.to_owned();
    // A quoted string value: `string "…"`, with serde_json's escapes.
    if let Some(start) = out.find("string \"") {
        let open = start + "string ".len();
        if let Some(len) = closing_quote(&out[open + 1..]) {
            out.replace_range(open - 1..open + 1 + len + 1, "");
        }
    }
    // The refused value of an enum: the first backticked token. (An
    // unknown *field* is named: keys are the schema's words, and naming the
    // field is the point of the error.)
    let lead = "unknown variant `";
    if out.starts_with(lead)
        && let Some(end) = out[lead.len()..].find('`')
    {
        // Drop the space, the backticks and the token between them.
        out.replace_range(lead.len() - 2..lead.len() + end + 1, "");
    }
    out
}

/// Length up to the closing unescaped `"` of a string body.
fn closing_quote(body: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_quoted_and_backticked_text() {
        assert_eq!(
            redact(r#"invalid type: string "Alex \"A\" Example", expected i64"#),
            "invalid type: string, expected i64"
        );
        assert_eq!(
            redact("unknown variant `Alex Example`, expected one of `a`, `b`"),
            "unknown variant, expected one of `a`, `b`"
        );
        assert_eq!(
            redact("unknown field `mood`, expected `x` or `y`"),
            "unknown field `mood`, expected `x` or `y`"
        );
        assert_eq!(
            redact("invalid value: integer `-5`, expected u32"),
            "invalid value: integer `-5`, expected u32"
        );
    }

    #[test]
    fn a_member_with_an_empty_name_is_refused_naming_the_document() {
        // Found by the command fuzz target (crates/kapchart-fuzz).
        let err = parse_command(r#"{"": 1}"#).unwrap_err();
        assert_eq!(err.field, ".");
        assert!(err.message.contains("unknown field ``"), "{err}");
    }

    #[test]
    fn trailing_content_is_refused() {
        assert_eq!(parse_json::<u32>(" 5 \n"), Ok(5));
        let err = parse_json::<u32>("5 6").unwrap_err();
        assert_eq!(err.field, ".");
    }
}
