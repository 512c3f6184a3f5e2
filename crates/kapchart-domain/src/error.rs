//! The aggregate's error type, separating the user's errors from internal
//! ones. Neither kind carries protected health information.

use crate::rules::{Refusal, Rule};
use crate::services::ServiceError;

/// Why a command was not applied. A command that fails leaves no event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// Refused by a rule of the record (user error).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A field is inconsistent with the command's own time (user error),
    /// e.g. a date of birth after the day of registration.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, as a dotted path in the command body.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// No policy is in force at the command's time (internal: practice
    /// settings misconfigured).
    #[error("no practice policy is in force at the command's time")]
    NoPolicy,
    /// No fee schedule is in force on a session's date (internal: practice
    /// settings misconfigured).
    #[error("no fee schedule is in force on the session's date")]
    NoFeeSchedule,
    /// A service the aggregate consults failed (internal).
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl ClientError {
    /// True for errors the requester caused and can fix.
    pub fn is_user_error(&self) -> bool {
        matches!(self, ClientError::Refused(_) | ClientError::Invalid { .. })
    }

    /// The rule that refused the command, if a rule did.
    pub fn rule(&self) -> Option<Rule> {
        match self {
            ClientError::Refused(r) => Some(r.rule),
            _ => None,
        }
    }

    pub(crate) fn refuse(rule: Rule, message: impl Into<String>) -> Self {
        ClientError::Refused(Refusal::new(rule, message))
    }

    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        ClientError::Invalid {
            field,
            message: message.into(),
        }
    }
}
