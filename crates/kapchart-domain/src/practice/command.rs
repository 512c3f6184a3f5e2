//! Commands to the practice's record: what an admin asks of the settings.
//!
//! Like a client's [`crate::Command`], a [`PracticeCommand`] is an envelope
//! (caller-chosen id, actor, time) around a [`PracticeCommandBody`]; its
//! JSON is externally tagged (`{"AdoptPolicy": {...}}`) and every field is a
//! checked type, so a command that parses is well-formed and a value that
//! is not (an NPI whose check digit fails, an EIN with a prefix the IRS
//! does not assign) is refused by `parse_json` naming the field. Whether a
//! command is *allowed* is decided by [`crate::PracticeRecord`].

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::codes::{CptCodes, ServiceCodes};
use super::identity::{PracticeIdentity, Provider};
use crate::command::Actor;
use crate::policy::BillableService;
use crate::types::{BloodPressure, Cents, CommandId};

/// A command to the practice's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PracticeCommand {
    /// Caller-chosen id: a command retried with the same id is applied once.
    pub id: CommandId,
    /// Who issues it.
    pub actor: Actor,
    /// When it was issued. The domain has no clock: this is "now".
    #[serde(deserialize_with = "crate::input::instant")]
    pub issued_at: DateTime<Utc>,
    /// What to do.
    pub body: PracticeCommandBody,
}

impl PracticeCommand {
    /// A command.
    pub fn new(
        id: CommandId,
        actor: Actor,
        issued_at: DateTime<Utc>,
        body: PracticeCommandBody,
    ) -> Self {
        Self {
            id,
            actor,
            issued_at,
            body,
        }
    }

    /// The fingerprint that tells a retry (same id, same content) from a
    /// reused id: lowercase hex SHA-256 of the JSON of actor and body
    /// (`issued_at` left out, as for client commands).
    pub fn fingerprint(&self) -> String {
        #[derive(Serialize)]
        struct Fingerprinted<'a> {
            actor: &'a Actor,
            body: &'a PracticeCommandBody,
        }
        // Plain structs, enums and vectors of checked types: serializing
        // cannot fail and is deterministic (no maps, no floats).
        let bytes = serde_json::to_vec(&Fingerprinted {
            actor: &self.actor,
            body: &self.body,
        })
        .unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }
}

/// Everything an admin asks of the practice's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PracticeCommandBody {
    /// Sets (or replaces) the practice's identity and time zone.
    SetPracticeIdentity(PracticeIdentity),
    /// Sets (or replaces) one provider, by staff user id.
    SetProvider(Provider),
    /// Adopts a new policy version, in force from its `effective_from`.
    AdoptPolicy(AdoptPolicy),
    /// Adopts a new fee schedule version, in force from its `effective_from`.
    AdoptFeeSchedule(AdoptFeeSchedule),
}

impl PracticeCommandBody {
    /// The command's name, e.g. `AdoptPolicy`.
    pub fn name(&self) -> &'static str {
        match self {
            PracticeCommandBody::SetPracticeIdentity(_) => "SetPracticeIdentity",
            PracticeCommandBody::SetProvider(_) => "SetProvider",
            PracticeCommandBody::AdoptPolicy(_) => "AdoptPolicy",
            PracticeCommandBody::AdoptFeeSchedule(_) => "AdoptFeeSchedule",
        }
    }
}

/// A new policy version. Its version number is the record's to give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdoptPolicy {
    /// In force for commands issued at or after this instant: not before
    /// the command is issued, and after the latest version's.
    #[serde(deserialize_with = "crate::input::instant")]
    pub effective_from: DateTime<Utc>,
    /// Pre-dose blood pressure above this needs the prescriber's
    /// authorization.
    pub bp_threshold: BloodPressure,
    /// Explorations closer together than this many days are a soft stop
    /// (0–365).
    pub min_days_between_explorations: u16,
    /// An integration later than this many days after its exploration is a
    /// soft stop (1–365).
    pub integration_window_days: u16,
    /// Dosed explorations beyond this many are a soft stop (1–100).
    pub max_explorations: u16,
    /// Minutes of inactivity before a page session is signed out (1–60);
    /// 15 when left out.
    #[serde(default = "default_idle_sign_out_minutes")]
    pub idle_sign_out_minutes: u16,
}

fn default_idle_sign_out_minutes() -> u16 {
    crate::policy::Policy::standard().idle_sign_out_minutes
}

/// A service's fee and the codes it is billed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFee {
    /// The fee, in cents: 0 to $100,000.00.
    #[serde(deserialize_with = "crate::input::fee")]
    pub fee: Cents,
    /// The CPT codes it is billed with (at most 8, none twice).
    pub codes: CptCodes,
}

/// A new fee schedule version. Its version number is the record's to give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdoptFeeSchedule {
    /// In force for sessions held on or after this date (the practice's
    /// local date): after the day the command is issued on, and after the
    /// latest version's.
    #[serde(deserialize_with = "crate::input::date")]
    pub effective_from: NaiveDate,
    /// Intake.
    pub intake: ServiceFee,
    /// Preparation.
    pub preparation: ServiceFee,
    /// Exploration.
    pub exploration: ServiceFee,
    /// Integration.
    pub integration: ServiceFee,
    /// Ongoing care.
    pub ongoing_care: ServiceFee,
}

impl AdoptFeeSchedule {
    /// The fee and codes of a service.
    pub fn service(&self, service: BillableService) -> &ServiceFee {
        match service {
            BillableService::Intake => &self.intake,
            BillableService::Preparation => &self.preparation,
            BillableService::Exploration => &self.exploration,
            BillableService::Integration => &self.integration,
            BillableService::OngoingCare => &self.ongoing_care,
        }
    }

    /// The codes of every service.
    pub fn codes(&self) -> ServiceCodes {
        ServiceCodes {
            intake: self.intake.codes.clone(),
            preparation: self.preparation.codes.clone(),
            exploration: self.exploration.codes.clone(),
            integration: self.integration.codes.clone(),
            ongoing_care: self.ongoing_care.codes.clone(),
        }
    }
}
