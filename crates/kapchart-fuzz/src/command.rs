//! The command parser: a body as the API receives it, through the checked
//! parsers of `kapchart_domain::wire`.

use kapchart_domain::{
    CommandBody, CommandId, InputError, Override, PracticeCommandBody, parse_command, parse_json,
    parse_practice_command,
};
use serde::Deserialize;

/// The shape of `kapchart_api::CommandRequest` (`POST
/// /api/v1/clients/{id}/commands`): the API parses it with
/// [`parse_json`] as here. (The API crate itself is not linked into the
/// fuzz binaries, which would then build its database drivers;
/// `tests/corpus.rs` checks on the corpus that the API's own
/// `CommandRequest::parse` gives the same answers.)
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    /// The caller's command id.
    pub id: CommandId,
    /// Reasons for going past soft stops.
    #[serde(default)]
    pub overrides: Vec<Override>,
    /// The command.
    pub body: CommandBody,
}

/// The shape of `kapchart_api::PracticeCommandRequest` (`POST
/// /api/v1/practice/commands`), parsed the same way.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PracticeCommandRequest {
    /// The caller's command id.
    pub id: CommandId,
    /// The change.
    pub body: PracticeCommandBody,
}

/// The command target. The API refuses a body that is not UTF-8 before
/// parsing (400), so only UTF-8 reaches the parsers. Every parser must
/// answer without panicking; a refusal must name a field and say why;
/// a command that parses must parse again, equal, from its own JSON (what
/// the API and the command line write is readable by the same parser).
pub fn command(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_json::<CommandRequest>(text) {
        Ok(request) => {
            let again = serde_json::json!({
                "id": request.id,
                "overrides": request.overrides,
                "body": request.body,
            });
            let again = parse_json::<CommandRequest>(&again.to_string())
                .unwrap_or_else(|e| panic!("a parsed request does not parse again: {e}"));
            assert_eq!(again.id, request.id);
            assert_eq!(again.overrides, request.overrides);
            assert_eq!(again.body, request.body);
        }
        Err(e) => check_refusal(&e),
    }
    match parse_command(text) {
        Ok(command) => round_trip(&command, parse_command),
        Err(e) => check_refusal(&e),
    }
    match parse_json::<PracticeCommandRequest>(text) {
        Ok(request) => {
            let again = serde_json::json!({ "id": request.id, "body": request.body });
            let again = parse_json::<PracticeCommandRequest>(&again.to_string())
                .unwrap_or_else(|e| panic!("a parsed practice request does not parse again: {e}"));
            assert_eq!(again.id, request.id);
            assert_eq!(again.body, request.body);
        }
        Err(e) => check_refusal(&e),
    }
    match parse_practice_command(text) {
        Ok(command) => round_trip(&command, parse_practice_command),
        Err(e) => check_refusal(&e),
    }
}

/// `value` written as JSON parses back to itself.
fn round_trip<T>(value: &T, parse: fn(&str) -> Result<T, InputError>)
where
    T: serde::Serialize + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_string(value)
        .unwrap_or_else(|e| panic!("a parsed command does not serialize: {e}"));
    match parse(&json) {
        Ok(again) => assert_eq!(&again, value, "a command changed through its JSON"),
        Err(e) => panic!("a parsed command does not parse again from its JSON: {e}"),
    }
}

/// A refusal names the failing field and says why.
fn check_refusal(e: &InputError) {
    assert!(!e.field.is_empty(), "a refusal names no field: {e:?}");
    assert!(!e.message.is_empty(), "a refusal says nothing: {e:?}");
}
