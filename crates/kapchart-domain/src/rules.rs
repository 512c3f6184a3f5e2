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
    /// The command is refused unless its override references an
    /// authorization that the client's prescriber recorded on the client's
    /// record (`AuthorizeOverride`) for this rule and session, still valid
    /// and not used.
    PrescriberOverride,
}

macro_rules! rules {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $severity:ident, $summary:literal; )*) => {
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

            /// A neutral description of the rule: no fact of any record,
            /// safe to show to a role that may not read the client's
            /// clinical record.
            pub fn summary(self) -> &'static str {
                match self { $(Rule::$variant => $summary,)* }
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
    ClientNotRegistered = "client.not_registered", Hard, "the client is not registered";
    /// A client is registered once.
    ClientAlreadyRegistered = "client.already_registered", Hard, "the client is already registered";
    /// Nothing but amendments and payments is recorded for a discharged client.
    ClientDischarged = "client.discharged", Hard, "the client is discharged: only amendments and payments can be recorded";
    /// The actor's role may not issue this command.
    RoleNotPermitted = "role.not_permitted", Hard, "your role may not issue this command";
    /// A command id already used for a different command.
    CommandIdReused = "command.id_reused", Hard, "this command id was already used for a different command";
    /// A session, prescription or payment id already used for this client.
    IdInUse = "id.in_use", Hard, "this id is already used in the client's record";
    /// A session id that does not exist for this client.
    SessionUnknown = "session.unknown", Hard, "the session does not exist for this client";
    /// The session was already held, cancelled or marked no-show.
    SessionNotOpen = "session.not_open", Hard, "the session was already held, cancelled or marked no-show";
    /// The session was scheduled as another kind of session.
    SessionKindMismatch = "session.kind_mismatch", Hard, "the session was scheduled as another kind of session";
    /// The client already has a session at an overlapping time.
    SessionOverlap = "session.overlap", Hard, "the client already has a session at an overlapping time";
    /// A no-show is recorded only once the session has started.
    SessionNotStarted = "session.not_started", Hard, "a no-show is recorded only once the session has started";
    /// The therapist has another client's session at an overlapping time.
    TherapistDoubleBooked = "schedule.therapist_double_booked", Hard, "the therapist has another client's session at an overlapping time";
    /// Preparation needs an intake that found the client suitable.
    PreparationIntakeNotSuitable = "preparation.intake_not_suitable", Hard, "the record does not allow a preparation session yet";
    /// A prescription needs a medical evaluation that cleared the client.
    PrescriptionMedicalNotCleared = "prescription.medical_not_cleared", Hard, "the record does not allow a prescription yet";
    /// No prescription is active for the date (none, or outside its dates).
    PrescriptionNoneActive = "prescription.none_active", Hard, "the record has no prescription in force for this";
    /// Exploration needs an intake that found the client suitable.
    ExplorationIntakeNotSuitable = "exploration.intake_not_suitable", Hard, "the record does not allow an exploration yet";
    /// Exploration needs a medical evaluation that cleared the client.
    ExplorationMedicalNotCleared = "exploration.medical_not_cleared", Hard, "the record does not allow an exploration yet";
    /// Exploration needs signed consent on file.
    ExplorationNoConsent = "exploration.no_consent", Hard, "the record does not allow an exploration yet";
    /// Exploration needs at least one completed preparation session.
    ExplorationNoPreparation = "exploration.no_preparation", Hard, "the record does not allow an exploration yet";
    /// The active prescription has no authorized sessions left.
    ExplorationNoSessionsLeft = "exploration.no_sessions_left", Hard, "the record does not allow another exploration";
    /// A dosed exploration needs the previous dosed exploration integrated.
    ExplorationPreviousNotIntegrated = "exploration.previous_not_integrated", Hard, "the record does not allow another exploration yet";
    /// Pre-dose blood pressure above the policy threshold.
    ExplorationBloodPressureAboveThreshold = "exploration.bp_above_threshold", PrescriberOverride, "a clinical safety rule needs the prescriber's authorization";
    /// Explorations closer together than the policy minimum.
    ExplorationTooSoon = "exploration.too_soon", Soft, "explorations are closer together than the practice's policy allows";
    /// More dosed explorations than the policy's protocol maximum.
    ExplorationBeyondProtocolMaximum = "exploration.beyond_protocol_maximum", Soft, "the protocol's maximum number of explorations is reached";
    /// In-practice doses are sublingual; IV and IM are recorded as external.
    DoseRouteNotInPractice = "dose.route_not_in_practice", Hard, "in-practice doses are sublingual";
    /// A dose outside the prescription's range.
    DoseOutsideRange = "dose.outside_range", Hard, "the dose is outside what the prescription allows";
    /// A change from the last dose larger than the prescription's maximum step.
    DoseStepTooLarge = "dose.step_too_large", Hard, "the dose change is larger than the prescription allows";
    /// An integration must name an exploration the client has had.
    IntegrationUnknownExploration = "integration.unknown_exploration", Hard, "the integration must name an exploration of this client";
    /// An integration later than the policy window after its exploration.
    IntegrationLate = "integration.late", Soft, "the integration is later than the practice's policy window";
    /// Ongoing care follows an integrated exploration.
    OngoingCareProtocolNotStarted = "ongoing_care.protocol_not_started", Hard, "the record does not allow ongoing care yet";
    /// An amendment must reference an existing entry of this client.
    AmendmentUnknownEntry = "amendment.unknown_entry", Hard, "the entry to amend is not one you may amend in this record";
    /// An override of a prescriber-override rule that does not reference a
    /// valid, unused authorization of the client's prescriber for this rule
    /// and session.
    OverrideNotAuthorized = "override.not_authorized", Hard, "the override is not backed by a valid authorization of the client's prescriber";
    /// A therapist acts only on clients assigned to them, and registers
    /// clients to themselves.
    ClientNotAssigned = "client.not_assigned", Hard, "this client's record is not assigned to you";
    /// A prescriber acts only on clients referred to them.
    ClientNotReferred = "client.not_referred", Hard, "this client's record is not referred to you";
    /// A referral to the prescriber the client is already referred to.
    ReferralUnchanged = "referral.unchanged", Hard, "the client is already referred to this prescriber";
    /// A therapist or prescriber named by a command must be an active
    /// account of that role.
    StaffUnknown = "staff.unknown", Hard, "the named staff member is not an active account of the role needed";
    /// Only admins change the practice's settings (its record).
    SettingsAdminOnly = "settings.admin_only", Hard, "only an admin may change the practice's settings";
    /// A settings change never applies before it is made: a policy from
    /// the command's time or later, a fee schedule from a day after the
    /// practice's date of the command.
    SettingsRetroactive = "settings.retroactive", Hard, "a settings change may not apply before it is made";
    /// A new policy or fee schedule version is in force only after the
    /// latest version's effective date.
    SettingsNotIncreasing = "settings.not_increasing", Hard, "a new version must take effect after the latest version";
    /// A policy value outside its allowed range.
    SettingsOutOfRange = "settings.out_of_range", Hard, "a policy value is outside its allowed range";
    /// An NPI is one provider's or the practice's, never two.
    SettingsNpiInUse = "settings.npi_in_use", Hard, "the NPI is already another provider's or the practice's";
}

impl Rule {
    /// Whether the rule's full message speaks only of what the front desk
    /// sees anyway (registration, bookings, payments, ids, staff): shown in
    /// full to every role. Other refusals to a role that may not read
    /// clinical records carry only [`Rule::summary`].
    pub fn is_about_records_front_desk_sees(self) -> bool {
        matches!(
            self,
            Rule::ClientNotRegistered
                | Rule::ClientAlreadyRegistered
                | Rule::ClientDischarged
                | Rule::RoleNotPermitted
                | Rule::CommandIdReused
                | Rule::IdInUse
                | Rule::SessionUnknown
                | Rule::SessionNotOpen
                | Rule::SessionKindMismatch
                | Rule::SessionOverlap
                | Rule::SessionNotStarted
                | Rule::TherapistDoubleBooked
                | Rule::ReferralUnchanged
                | Rule::StaffUnknown
                | Rule::SettingsAdminOnly
                | Rule::SettingsRetroactive
                | Rule::SettingsNotIncreasing
                | Rule::SettingsOutOfRange
                | Rule::SettingsNpiInUse
        )
    }
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
