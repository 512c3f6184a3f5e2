//! Events of the practice's record: the history of its settings.
//!
//! A storage boundary, like the client events: externally tagged JSON
//! (`{"PolicyAdopted": {...}}`), every event type versioned
//! ([`PRACTICE_EVENT_VERSION`]), no floating-point numbers. A change of
//! shape gets a new version and an upcaster at the store; stored rows are
//! never rewritten.

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::identity::{PracticeIdentity, Provider};
use crate::command::Actor;
use crate::policy::{FeeSchedule, Policy};
use crate::types::CommandId;

/// The current version of every practice event type. Bump per type when
/// its shape changes, and teach the store to upcast the old one.
pub const PRACTICE_EVENT_VERSION: &str = "1";

/// How a settings change came to be: the command, who issued it, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsDecision {
    /// The command's caller-chosen id.
    pub command_id: CommandId,
    /// Fingerprint of the command (see `PracticeCommand::fingerprint`).
    pub command_fingerprint: String,
    /// Who issued it (an admin).
    pub actor: Actor,
    /// When it was issued.
    pub decided_at: DateTime<Utc>,
}

/// Every event of the practice's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PracticeEvent {
    /// The practice's identity was set (or replaced).
    PracticeIdentitySet(PracticeIdentitySet),
    /// A provider was set (or replaced).
    ProviderSet(ProviderSet),
    /// A policy version was adopted.
    PolicyAdopted(PolicyAdopted),
    /// A fee schedule version was adopted.
    FeeScheduleAdopted(FeeScheduleAdopted),
}

impl PracticeEvent {
    /// The event's type name, e.g. `PolicyAdopted`.
    pub fn type_name(&self) -> &'static str {
        match self {
            PracticeEvent::PracticeIdentitySet(_) => "PracticeIdentitySet",
            PracticeEvent::ProviderSet(_) => "ProviderSet",
            PracticeEvent::PolicyAdopted(_) => "PolicyAdopted",
            PracticeEvent::FeeScheduleAdopted(_) => "FeeScheduleAdopted",
        }
    }

    /// The decision every event carries.
    pub fn decision(&self) -> &SettingsDecision {
        match self {
            PracticeEvent::PracticeIdentitySet(e) => &e.decision,
            PracticeEvent::ProviderSet(e) => &e.decision,
            PracticeEvent::PolicyAdopted(e) => &e.decision,
            PracticeEvent::FeeScheduleAdopted(e) => &e.decision,
        }
    }
}

impl DomainEvent for PracticeEvent {
    fn event_type(&self) -> String {
        self.type_name().to_owned()
    }

    fn event_version(&self) -> String {
        PRACTICE_EVENT_VERSION.to_owned()
    }
}

/// The practice's identity was set (or replaced).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PracticeIdentitySet {
    /// Decision.
    pub decision: SettingsDecision,
    /// The identity, whole.
    pub identity: PracticeIdentity,
}

/// A provider was set (or replaced).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSet {
    /// Decision.
    pub decision: SettingsDecision,
    /// The provider, whole.
    pub provider: Provider,
}

/// A policy version was adopted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyAdopted {
    /// Decision.
    pub decision: SettingsDecision,
    /// The version, numbered by the record.
    pub policy: Policy,
}

/// A fee schedule version was adopted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeScheduleAdopted {
    /// Decision.
    pub decision: SettingsDecision,
    /// The version, numbered by the record.
    pub fee_schedule: FeeSchedule,
}
