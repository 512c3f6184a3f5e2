//! The rules the record enforces, each with a stable code.
//!
//! Codes are part of the API: clients match on them, compliance reports
//! group by them, and docs/domain.md lists every one. Never rename a code;
//! add a new one instead.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Whether a rule can be overridden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The command is refused; no override exists.
    Hard,
    /// The command is refused unless it carries an override reason for this
    /// rule; the override is recorded on the event and flagged in compliance
    /// reports.
    Soft,
    /// The command is refused unless it carries an override given by the
    /// client's prescriber (or is issued by a prescriber) with a reason.
    PrescriberOverride,
}

macro_rules! rules {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $severity:ident; )*) => {
        /// A rule of the record, identified by a stable code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Rule {
            $( $(#[$doc])* #[serde(rename = $code)] $variant, )*
        }

        impl Rule {
            /// Every rule, in declaration order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The stable code, e.g. `dose.step_too_large`.
            pub fn code(self) -> &'static str {
                match self { $(Rule::$variant => $code,)* }
            }

            /// Whether and how the rule can be overridden.
            pub fn severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$severity,)* }
            }

            /// The rule with this code.
            pub fn from_code(code: &str) -> Option<Rule> {
                match code { $($code => Some(Rule::$variant),)* _ => None }
            }
        }
    };
}

rules! {
    /// Every command but RegisterClient needs a registered client.
    ClientNotRegistered = "client.not_registered", Hard;
    /// A client is registered once.
    ClientAlreadyRegistered = "client.already_registered", Hard;
    /// Nothing but amendments and payments is recorded for a discharged client.
    ClientDischarged = "client.discharged", Hard;
    /// The actor's role may not issue this command.
    RoleNotPermitted = "role.not_permitted", Hard;
    /// A command id already used for a different command.
    CommandIdReused = "command.id_reused", Hard;
    /// A session, prescription or payment id already used for this client.
    IdInUse = "id.in_use", Hard;
    /// A session id that does not exist for this client.
    SessionUnknown = "session.unknown", Hard;
    /// The session was already held, cancelled or marked no-show.
    SessionNotOpen = "session.not_open", Hard;
    /// The session was scheduled as another kind of session.
    SessionKindMismatch = "session.kind_mismatch", Hard;
    /// The client already has a session at an overlapping time.
    SessionOverlap = "session.overlap", Hard;
    /// A no-show is recorded only once the session has started.
    SessionNotStarted = "session.not_started", Hard;
    /// The therapist has another client's session at an overlapping time.
    TherapistDoubleBooked = "schedule.therapist_double_booked", Hard;
    /// Preparation needs an intake that found the client suitable.
    PreparationIntakeNotSuitable = "preparation.intake_not_suitable", Hard;
    /// A prescription needs a medical evaluation that cleared the client.
    PrescriptionMedicalNotCleared = "prescription.medical_not_cleared", Hard;
    /// No prescription is active for the date (none, or outside its dates).
    PrescriptionNoneActive = "prescription.none_active", Hard;
    /// Exploration needs an intake that found the client suitable.
    ExplorationIntakeNotSuitable = "exploration.intake_not_suitable", Hard;
    /// Exploration needs a medical evaluation that cleared the client.
    ExplorationMedicalNotCleared = "exploration.medical_not_cleared", Hard;
    /// Exploration needs signed consent on file.
    ExplorationNoConsent = "exploration.no_consent", Hard;
    /// Exploration needs at least one completed preparation session.
    ExplorationNoPreparation = "exploration.no_preparation", Hard;
    /// The active prescription has no authorized sessions left.
    ExplorationNoSessionsLeft = "exploration.no_sessions_left", Hard;
    /// A dosed exploration needs the previous dosed exploration integrated.
    ExplorationPreviousNotIntegrated = "exploration.previous_not_integrated", Hard;
    /// Pre-dose blood pressure above the policy threshold.
    ExplorationBloodPressureAboveThreshold = "exploration.bp_above_threshold", PrescriberOverride;
    /// Explorations closer together than the policy minimum.
    ExplorationTooSoon = "exploration.too_soon", Soft;
    /// More dosed explorations than the policy's protocol maximum.
    ExplorationBeyondProtocolMaximum = "exploration.beyond_protocol_maximum", Soft;
    /// In-practice doses are sublingual; IV and IM are recorded as external.
    DoseRouteNotInPractice = "dose.route_not_in_practice", Hard;
    /// A dose outside the prescription's range.
    DoseOutsideRange = "dose.outside_range", Hard;
    /// A change from the last dose larger than the prescription's maximum step.
    DoseStepTooLarge = "dose.step_too_large", Hard;
    /// An integration must name an exploration the client has had.
    IntegrationUnknownExploration = "integration.unknown_exploration", Hard;
    /// An integration later than the policy window after its exploration.
    IntegrationLate = "integration.late", Soft;
    /// Ongoing care follows an integrated exploration.
    OngoingCareProtocolNotStarted = "ongoing_care.protocol_not_started", Hard;
    /// An amendment must reference an existing entry of this client.
    AmendmentUnknownEntry = "amendment.unknown_entry", Hard;
    /// An override of a prescriber-override rule not given by the prescriber.
    OverrideNotAuthorized = "override.not_authorized", Hard;
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A command refused by a rule. The message names the reason; it carries no
/// free text from the record, so it is safe to show and to log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{rule}: {message}")]
pub struct Refusal {
    /// The rule that refused the command.
    pub rule: Rule,
    /// Why, in words.
    pub message: String,
}

impl Refusal {
    /// A refusal by `rule`.
    pub fn new(rule: Rule, message: impl Into<String>) -> Self {
        Self {
            rule,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for rule in Rule::ALL {
            assert!(seen.insert(rule.code()), "duplicate {}", rule.code());
            assert_eq!(Rule::from_code(rule.code()), Some(*rule));
            let json = serde_json::to_string(rule).unwrap();
            assert_eq!(json, format!("\"{}\"", rule.code()));
        }
        assert_eq!(Rule::from_code("nope"), None);
    }
}
