//! The practice's own record: its settings as a history.
//!
//! [`PracticeRecord`] is a cqrs-es aggregate, one per practice (type
//! `PracticeRecord`). Admins issue [`PracticeCommand`]s that set the
//! practice's identity (name, address, NPI, tax id, place of service, time
//! zone) and its providers, and adopt policy and fee schedule versions,
//! each in force from a date that is never before the change is made. The
//! record's state yields the [`PracticeSettings`] every client record is
//! decided with ([`PracticeRecord::settings`]); a record with no events
//! yields [`PracticeSettings::standard`], so a practice keeps the standard
//! policy and fees, in UTC, until it configures itself.

use std::collections::BTreeMap;

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use crate::policy::{FeeSchedule, Policy, PracticeSettings};
use crate::rules::{Refusal, Rule};
use crate::types::{CommandId, UserId};

mod codes;
mod command;
mod decide;
mod event;
mod identity;

pub use codes::{CptCode, CptCodes, ServiceCodes};
pub use command::{
    AdoptFeeSchedule, AdoptPolicy, PracticeCommand, PracticeCommandBody, ServiceFee,
};
pub use event::{
    FeeScheduleAdopted, PRACTICE_EVENT_VERSION, PolicyAdopted, PracticeEvent, PracticeIdentitySet,
    ProviderSet, SettingsDecision,
};
pub use identity::{
    Address, AddressLine, City, Credentials, EIN_PREFIXES, Ein, Licence, LicenceNumber, Npi,
    PhoneNumber, PlaceOfService, PracticeIdentity, PracticeName, Provider, ProviderRole,
    TimeZoneName, US_STATES, UsState, ZipCode,
};

/// Why a practice command was not applied. A command that fails leaves no
/// event. Messages carry field names, rule codes, versions, dates and user
/// ids: safe to show and to log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PracticeError {
    /// Refused by a rule of the settings (user error).
    #[error(transparent)]
    Refused(#[from] Refusal),
}

impl PracticeError {
    /// True for errors the requester caused and can fix (all, so far).
    pub fn is_user_error(&self) -> bool {
        matches!(self, PracticeError::Refused(_))
    }

    /// The rule that refused the command.
    pub fn rule(&self) -> Option<Rule> {
        match self {
            PracticeError::Refused(r) => Some(r.rule),
        }
    }

    pub(crate) fn refuse(rule: Rule, message: impl Into<String>) -> Self {
        PracticeError::Refused(Refusal::new(rule, message))
    }
}

/// The state of the practice's record, rebuilt from its events: the
/// identity and providers as they are now, every policy and fee schedule
/// version adopted, and the command ids applied.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PracticeRecord {
    /// Sequence number of the last event applied (1, 2, ...).
    last_sequence: u64,
    /// Command ids applied, with the fingerprint of the command.
    commands: BTreeMap<CommandId, String>,
    identity: Option<PracticeIdentity>,
    providers: BTreeMap<UserId, Provider>,
    /// Policy versions adopted (after the standard version 1), oldest first.
    policies: Vec<Policy>,
    /// Fee schedule versions adopted (after the standard version 1),
    /// oldest first.
    fee_schedules: Vec<FeeSchedule>,
}

impl PracticeRecord {
    /// The settings client records are decided with: the standard policy
    /// and fee schedule (version 1, in force from 2000-01-01) followed by
    /// every version adopted, the practice's time zone (UTC until its
    /// identity is set), its identity and its providers.
    pub fn settings(&self) -> PracticeSettings {
        let mut policies = vec![Policy::standard()];
        policies.extend(self.policies.iter().cloned());
        let mut fees = vec![FeeSchedule::standard()];
        fees.extend(self.fee_schedules.iter().cloned());
        // The record adopts only versions that keep both lists increasing
        // and in range (its rules), so they need no second check here.
        let settings = PracticeSettings::from_versions(policies, fees);
        let settings = settings.with_providers(self.providers.values().cloned());
        match &self.identity {
            Some(identity) => settings.with_identity(identity.clone()),
            None => settings,
        }
    }

    /// The sequence number of the last event.
    pub fn last_sequence(&self) -> u64 {
        self.last_sequence
    }

    /// The practice's identity, once set.
    pub fn identity(&self) -> Option<&PracticeIdentity> {
        self.identity.as_ref()
    }

    /// The time zone the practice's days are counted in (UTC until its
    /// identity is set).
    pub fn time_zone(&self) -> TimeZoneName {
        self.identity
            .as_ref()
            .map_or(TimeZoneName::UTC, |i| i.time_zone)
    }

    /// A provider by user id.
    pub fn provider(&self, user: &UserId) -> Option<&Provider> {
        self.providers.get(user)
    }

    /// The latest policy version (the standard one until one is adopted).
    pub fn latest_policy(&self) -> Policy {
        self.policies
            .last()
            .cloned()
            .unwrap_or_else(Policy::standard)
    }

    /// The latest fee schedule version (the standard one until one is
    /// adopted).
    pub fn latest_fee_schedule(&self) -> FeeSchedule {
        self.fee_schedules
            .last()
            .cloned()
            .unwrap_or_else(FeeSchedule::standard)
    }

    /// Whether a command id has been applied.
    pub fn has_applied(&self, id: &CommandId) -> bool {
        self.commands.contains_key(id)
    }
}

impl Aggregate for PracticeRecord {
    const TYPE: &'static str = "PracticeRecord";
    type Command = PracticeCommand;
    type Event = PracticeEvent;
    type Error = PracticeError;
    type Services = ();

    async fn handle(
        &mut self,
        command: PracticeCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), PracticeError> {
        let fingerprint = command.fingerprint();
        if let Some(seen) = self.commands.get(&command.id) {
            if *seen == fingerprint {
                // A retry of an applied command: same result, no new event.
                return Ok(());
            }
            return Err(PracticeError::refuse(
                Rule::CommandIdReused,
                format!(
                    "command id {} was already used for a different command",
                    command.id
                ),
            ));
        }
        let event = self.decide(command, fingerprint)?;
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: PracticeEvent) {
        self.last_sequence += 1;
        let decision = event.decision();
        self.commands.insert(
            decision.command_id.clone(),
            decision.command_fingerprint.clone(),
        );
        match event {
            PracticeEvent::PracticeIdentitySet(e) => self.identity = Some(e.identity),
            PracticeEvent::ProviderSet(e) => {
                self.providers.insert(e.provider.user.clone(), e.provider);
            }
            PracticeEvent::PolicyAdopted(e) => self.policies.push(e.policy),
            PracticeEvent::FeeScheduleAdopted(e) => self.fee_schedules.push(e.fee_schedule),
        }
    }
}
