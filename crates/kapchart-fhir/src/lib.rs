//! A client's record as a FHIR R4 Bundle: pure code over the events.
//!
//! [`client_bundle`] takes one client's stored entries in sequence order
//! ([`RecordEntry`]: the decoded event with its sequence, chain hash,
//! `recorded_at` and actor), the practice's settings (its identity and its
//! providers with their NPIs) and the access log's entries about the client
//! ([`AccessLogEntry`]), and returns a Bundle of type `collection` as JSON:
//! Organization (the practice, when its identity is set), Patient,
//! Practitioner per provider involved, Encounter per session held,
//! Condition per intake diagnosis, MedicationRequest per prescription, MedicationAdministration per dose,
//! Observation per blood pressure and per outcome measure, Consent,
//! Provenance per event that a resource came from (naming the event by
//! aggregate, sequence and chain hash) and AuditEvent per access-log entry.
//! docs/fhir.md is the mapping, field by field.
//!
//! The crate does no I/O and reads no clock: the same input gives the same
//! Bundle, byte for byte. Resource ids are UUIDs derived from the client id
//! and the entry's sequence ([`ids`]); each entry's `fullUrl` is
//! `urn:uuid:<id>` and references inside the Bundle use that form.
//! Errors name sequences and kinds, never the record's content.

mod codes;
pub mod ids;
mod map;

use chrono::{DateTime, Utc};
use kapchart_audit::Hash;
use kapchart_domain::{Actor, ClientEvent, ClientId, PracticeSettings, Role, UserId};
use serde_json::Value;

pub use codes::{
    LOINC_BDI_II_TOTAL, LOINC_BP_PANEL, LOINC_DIASTOLIC, LOINC_GAD7_TOTAL, LOINC_PCL5_TOTAL,
    LOINC_PHQ9_TOTAL, LOINC_SYSTOLIC, RXNORM_KETAMINE, SNOMED_SUBLINGUAL,
};

/// One stored entry of the client's record, decoded: what the store's
/// reader gives (the event in its current shape through the store's
/// upcaster, and the entry's chain fields).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordEntry {
    /// Position in the client's history, from 1, without gaps.
    pub sequence: u64,
    /// The entry's chain hash as stored.
    pub hash: Hash,
    /// When the store recorded it (`metadata.recorded_at`).
    pub recorded_at: DateTime<Utc>,
    /// Who issued the command, in which role (the metadata's actor).
    pub actor: Actor,
    /// The event.
    pub event: ClientEvent,
}

/// What an access-log entry says was done with the record (ASTM E2147-18
/// 7.1.8). The access log's sign-in actions name no client and never
/// reach an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessAction {
    /// Something was added to the record.
    Add,
    /// Something was changed.
    Change,
    /// The record was read.
    Query,
    /// The record was printed.
    Print,
    /// The record was copied.
    Copy,
    /// The record was exported.
    Export,
}

impl AccessAction {
    /// The action's name as the access log stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessAction::Add => "add",
            AccessAction::Change => "change",
            AccessAction::Query => "query",
            AccessAction::Print => "print",
            AccessAction::Copy => "copy",
            AccessAction::Export => "export",
        }
    }
}

/// One entry of the access log about the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogEntry {
    /// The entry's sequence in the access log.
    pub sequence: u64,
    /// The entry's hash in the access log's chain.
    pub hash: Hash,
    /// When (7.1.1).
    pub at: DateTime<Utc>,
    /// Who (7.1.7).
    pub user: UserId,
    /// In which role.
    pub role: Role,
    /// What was done (7.1.8).
    pub action: AccessAction,
    /// The categories of data touched (7.1.9), by their stored names.
    pub categories: Vec<String>,
    /// Where from (7.1.6), as logged.
    pub source: String,
    /// Why, as the caller gave it.
    pub purpose: String,
}

/// Why a Bundle could not be made. Names sequences and kinds only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FhirError {
    /// No entries: the client is not registered.
    #[error("the record has no entries")]
    EmptyRecord,
    /// The first entry does not register the client.
    #[error("entry 1 of the record is not ClientRegistered")]
    NotRegisteredFirst,
    /// The registration names another client than the one exported.
    #[error("the record's registration names another client")]
    WrongClient,
    /// The entries are not 1, 2, 3, ... in order.
    #[error("entry {found} where entry {expected} was expected")]
    OutOfSequence {
        /// The sequence expected.
        expected: u64,
        /// The sequence found.
        found: u64,
    },
}

/// The client's record as a FHIR R4 Bundle of type `collection` (JSON).
///
/// `entries` are the client's stored entries in sequence order, from 1;
/// `access` the access log's entries about the client, in log order.
///
/// # Errors
/// [`FhirError`] when the entries are not a registered client's record in
/// sequence order.
pub fn client_bundle(
    client: &ClientId,
    entries: &[RecordEntry],
    settings: &PracticeSettings,
    access: &[AccessLogEntry],
) -> Result<Value, FhirError> {
    check_record(client, entries)?;
    Ok(map::Mapper::new(client, entries, settings).bundle(access))
}

fn check_record(client: &ClientId, entries: &[RecordEntry]) -> Result<(), FhirError> {
    let first = entries.first().ok_or(FhirError::EmptyRecord)?;
    for (i, entry) in entries.iter().enumerate() {
        let expected = i as u64 + 1;
        if entry.sequence != expected {
            return Err(FhirError::OutOfSequence {
                expected,
                found: entry.sequence,
            });
        }
    }
    match &first.event {
        ClientEvent::ClientRegistered(r) if &r.client_id == client => Ok(()),
        ClientEvent::ClientRegistered(_) => Err(FhirError::WrongClient),
        _ => Err(FhirError::NotRegisteredFirst),
    }
}
