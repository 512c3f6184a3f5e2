//! Query strings: a parameter that is missing, unknown or not valid is a
//! 400 naming that parameter (`purpose`, `from`, ...), never the whole
//! query, and never repeating the value it was given.

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;

use crate::error::ApiError;

/// The query's parameters, or a 400 naming the parameter at fault;
/// `expected` says what the route takes.
pub(crate) fn parse<T>(q: Result<Query<T>, QueryRejection>, expected: &str) -> Result<T, ApiError> {
    q.map(|Query(t)| t).map_err(|rejection| {
        let (field, what) = fault(&rejection.body_text());
        ApiError::bad(field, format!("{what}; expected {expected}"))
    })
}

/// The parameter named by a rejection's text, and what is wrong with it.
/// serde_urlencoded (through serde_path_to_error) says `missing field
/// `p``, `unknown field `p`, expected ...` or `p: <why>`.
fn fault(text: &str) -> (String, &'static str) {
    let text = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(text);
    let quoted = |lead: &str| {
        let rest = text.strip_prefix(lead)?;
        let end = rest.find('`')?;
        Some(rest[..end].to_owned())
    };
    if let Some(field) = quoted("missing field `") {
        return (field, "missing");
    }
    if let Some(field) = quoted("unknown field `") {
        return (field, "not a parameter of this route");
    }
    match text.split_once(": ") {
        Some((field, _)) if is_parameter(field) => (field.to_owned(), "not valid"),
        _ => ("query".to_owned(), "not a valid query string"),
    }
}

/// A parameter's name as the routes spell them: lowercase letters and `_`.
fn is_parameter(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::fault;

    #[test]
    fn the_parameter_at_fault_is_named_and_its_value_is_not() {
        for (text, field, what) in [
            (
                "Failed to deserialize query string: missing field `purpose`",
                "purpose",
                "missing",
            ),
            (
                "Failed to deserialize query string: unknown field `colour`, expected one of `from`, `to`",
                "colour",
                "not a parameter of this route",
            ),
            (
                "Failed to deserialize query string: purpose: unknown variant `gossip`, expected `treatment`",
                "purpose",
                "not valid",
            ),
            (
                "Failed to deserialize query string: as_of: premature end of input",
                "as_of",
                "not valid",
            ),
            (
                "Failed to deserialize query string: invalid percent-encoding",
                "query",
                "not a valid query string",
            ),
        ] {
            assert_eq!(fault(text), (field.to_owned(), what), "{text}");
        }
    }
}
