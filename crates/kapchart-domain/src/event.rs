//! Events: the immutable facts of a client's record.
//!
//! Events are a storage boundary. Their JSON is externally tagged by event
//! type (`{"ExplorationRecorded": {...}}`) and every event type carries a
//! version ([`EVENT_VERSION`]). A change to an event's shape gets a new
//! version and an upcaster at the store; stored rows are never rewritten.
//! Events hold no floating-point numbers (the audit chain hashes their
//! canonical JSON).

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::command::{
    Actor, Administration, AdverseEvent, CancelReason, Clearance, Departure, DischargeReason,
    Dosing, Drug, Payer, PaymentMethod, Route, SessionCount, Suitability,
};
use crate::policy::BillableService;
use crate::rules::Rule;
use crate::types::{
    AuthorizationId, BloodPressure, Cents, ClientId, CommandId, DateRange, Icd10Code, Milligrams,
    OutcomeMeasure, PaymentId, PersonName, PrescriptionId, SessionId, Text, TimeSpan, UserId,
};

/// The current version of every event type. Bump per type when its shape
/// changes, and teach the store to upcast the old one.
pub const EVENT_VERSION: &str = "1";

/// How an event came to be: the command, who issued it, when, and under
/// which policy version, with any overrides that let it through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// The command's caller-chosen id.
    pub command_id: CommandId,
    /// Fingerprint of the command (see `Command::fingerprint`).
    pub command_fingerprint: String,
    /// Who issued it.
    pub actor: Actor,
    /// When it was issued.
    pub decided_at: DateTime<Utc>,
    /// The policy version in force at `decided_at`.
    pub policy_version: u32,
    /// Soft stops (and prescriber overrides) passed, with reasons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<AppliedOverride>,
}

/// A soft stop passed with a reason; flagged in compliance reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppliedOverride {
    /// The rule passed.
    pub rule: Rule,
    /// Why.
    pub reason: Text,
    /// Who authorized it: the actor for a soft stop; for a
    /// prescriber-override rule, the prescriber whose `OverrideAuthorized`
    /// entry is referenced by `authorization`. (Events written before
    /// authorizations existed carry no `authorization`; their
    /// `authorized_by` was named by the request: see docs/domain.md.)
    pub authorized_by: UserId,
    /// The prescriber's authorization this override used, if the rule
    /// needs one. An optional field added within version 1: rows without
    /// it read as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<AuthorizationId>,
    /// What the rule found, e.g. "pre-dose blood pressure 150/95 is above 140/90".
    pub finding: String,
}

/// A charge for a session held, priced by the fee schedule in force on the
/// session's date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Charge {
    /// What is charged.
    pub service: BillableService,
    /// How much.
    pub amount: Cents,
    /// Fee schedule version that priced it.
    pub fee_schedule_version: u32,
    /// Date of service.
    pub service_date: NaiveDate,
}

/// Kinds of scheduled session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// Intake.
    Intake,
    /// Preparation.
    Preparation,
    /// Exploration.
    Exploration,
    /// Integration.
    Integration,
    /// Ongoing care.
    OngoingCare,
}

impl SessionKind {
    /// The kind's name as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Intake => "intake",
            SessionKind::Preparation => "preparation",
            SessionKind::Exploration => "exploration",
            SessionKind::Integration => "integration",
            SessionKind::OngoingCare => "ongoing_care",
        }
    }
}

/// Every event of a client's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClientEvent {
    /// The record was opened.
    ClientRegistered(ClientRegistered),
    /// Mental health intake held.
    IntakeRecorded(IntakeRecorded),
    /// Referred to a prescriber.
    ClientReferred(ClientReferred),
    /// Medical evaluation done.
    MedicalEvaluationRecorded(MedicalEvaluationRecorded),
    /// Prescription issued.
    PrescriptionIssued(PrescriptionIssued),
    /// Consent on file.
    ConsentRecorded(ConsentRecorded),
    /// A session booked.
    SessionScheduled(SessionScheduled),
    /// Preparation session held.
    PreparationRecorded(PreparationRecorded),
    /// Exploration session held.
    ExplorationRecorded(ExplorationRecorded),
    /// Integration session held.
    IntegrationRecorded(IntegrationRecorded),
    /// Ordered dose changed.
    DoseAdjusted(DoseAdjusted),
    /// The prescriber authorized one session past a prescriber-override rule.
    OverrideAuthorized(OverrideAuthorized),
    /// Outcome measure scored.
    OutcomeMeasureRecorded(OutcomeMeasureRecorded),
    /// Ongoing care session held.
    OngoingCareRecorded(OngoingCareRecorded),
    /// Treatment at an affiliate.
    ExternalTreatmentRecorded(ExternalTreatmentRecorded),
    /// Session cancelled.
    SessionCancelled(SessionCancelled),
    /// Client did not attend.
    NoShowRecorded(NoShowRecorded),
    /// Payment received.
    PaymentRecorded(PaymentRecorded),
    /// An entry corrected by appending.
    EntryAmended(EntryAmended),
    /// Care ended.
    ClientDischarged(ClientDischarged),
}

impl ClientEvent {
    /// The event's type name, e.g. `ExplorationRecorded`.
    pub fn type_name(&self) -> &'static str {
        match self {
            ClientEvent::ClientRegistered(_) => "ClientRegistered",
            ClientEvent::IntakeRecorded(_) => "IntakeRecorded",
            ClientEvent::ClientReferred(_) => "ClientReferred",
            ClientEvent::MedicalEvaluationRecorded(_) => "MedicalEvaluationRecorded",
            ClientEvent::PrescriptionIssued(_) => "PrescriptionIssued",
            ClientEvent::ConsentRecorded(_) => "ConsentRecorded",
            ClientEvent::SessionScheduled(_) => "SessionScheduled",
            ClientEvent::PreparationRecorded(_) => "PreparationRecorded",
            ClientEvent::ExplorationRecorded(_) => "ExplorationRecorded",
            ClientEvent::IntegrationRecorded(_) => "IntegrationRecorded",
            ClientEvent::DoseAdjusted(_) => "DoseAdjusted",
            ClientEvent::OverrideAuthorized(_) => "OverrideAuthorized",
            ClientEvent::OutcomeMeasureRecorded(_) => "OutcomeMeasureRecorded",
            ClientEvent::OngoingCareRecorded(_) => "OngoingCareRecorded",
            ClientEvent::ExternalTreatmentRecorded(_) => "ExternalTreatmentRecorded",
            ClientEvent::SessionCancelled(_) => "SessionCancelled",
            ClientEvent::NoShowRecorded(_) => "NoShowRecorded",
            ClientEvent::PaymentRecorded(_) => "PaymentRecorded",
            ClientEvent::EntryAmended(_) => "EntryAmended",
            ClientEvent::ClientDischarged(_) => "ClientDischarged",
        }
    }

    /// The decision every event carries.
    pub fn decision(&self) -> &Decision {
        match self {
            ClientEvent::ClientRegistered(e) => &e.decision,
            ClientEvent::IntakeRecorded(e) => &e.decision,
            ClientEvent::ClientReferred(e) => &e.decision,
            ClientEvent::MedicalEvaluationRecorded(e) => &e.decision,
            ClientEvent::PrescriptionIssued(e) => &e.decision,
            ClientEvent::ConsentRecorded(e) => &e.decision,
            ClientEvent::SessionScheduled(e) => &e.decision,
            ClientEvent::PreparationRecorded(e) => &e.decision,
            ClientEvent::ExplorationRecorded(e) => &e.decision,
            ClientEvent::IntegrationRecorded(e) => &e.decision,
            ClientEvent::DoseAdjusted(e) => &e.decision,
            ClientEvent::OverrideAuthorized(e) => &e.decision,
            ClientEvent::OutcomeMeasureRecorded(e) => &e.decision,
            ClientEvent::OngoingCareRecorded(e) => &e.decision,
            ClientEvent::ExternalTreatmentRecorded(e) => &e.decision,
            ClientEvent::SessionCancelled(e) => &e.decision,
            ClientEvent::NoShowRecorded(e) => &e.decision,
            ClientEvent::PaymentRecorded(e) => &e.decision,
            ClientEvent::EntryAmended(e) => &e.decision,
            ClientEvent::ClientDischarged(e) => &e.decision,
        }
    }

    /// The charge this event raises, if any.
    pub fn charge(&self) -> Option<&Charge> {
        match self {
            ClientEvent::IntakeRecorded(e) => Some(&e.charge),
            ClientEvent::PreparationRecorded(e) => Some(&e.charge),
            ClientEvent::ExplorationRecorded(e) => Some(&e.charge),
            ClientEvent::IntegrationRecorded(e) => Some(&e.charge),
            ClientEvent::OngoingCareRecorded(e) => Some(&e.charge),
            _ => None,
        }
    }
}

impl DomainEvent for ClientEvent {
    fn event_type(&self) -> String {
        self.type_name().to_owned()
    }

    fn event_version(&self) -> String {
        EVENT_VERSION.to_owned()
    }
}

/// The record was opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientRegistered {
    /// Decision.
    pub decision: Decision,
    /// The client.
    pub client_id: ClientId,
    /// Legal name.
    pub name: PersonName,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// KAP therapist.
    pub therapist: UserId,
    /// Referred prescriber.
    pub prescriber: Option<UserId>,
}

/// Mental health intake held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeRecorded {
    /// Decision.
    pub decision: Decision,
    /// Session id.
    pub session: SessionId,
    /// When.
    pub span: TimeSpan,
    /// Therapist who held it.
    pub therapist: UserId,
    /// Finding.
    pub finding: Suitability,
    /// Diagnoses.
    pub diagnoses: Vec<Icd10Code>,
    /// Notes.
    pub notes: Text,
    /// Charge.
    pub charge: Charge,
}

/// The client was referred to a prescriber (replacing any earlier referral).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientReferred {
    /// Decision (the actor made the referral).
    pub decision: Decision,
    /// The prescriber referred to.
    pub prescriber: UserId,
    /// The prescriber referred to before, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<UserId>,
    /// Why, or what the prescriber is asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

/// The client's prescriber (the decision's actor) authorized one session
/// past a prescriber-override rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideAuthorized {
    /// Decision (the actor is the prescriber).
    pub decision: Decision,
    /// The authorization's id in this record.
    pub authorization: AuthorizationId,
    /// The rule it lets a session past.
    pub rule: Rule,
    /// The exploration session it covers.
    pub session: SessionId,
    /// The last day it may be used.
    pub valid_until: NaiveDate,
    /// The highest pre-dose blood pressure authorized, if limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling: Option<BloodPressure>,
    /// The prescriber's reason.
    pub reason: Text,
}

/// Medical evaluation done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MedicalEvaluationRecorded {
    /// Decision.
    pub decision: Decision,
    /// Prescriber who evaluated.
    pub prescriber: UserId,
    /// Day.
    pub evaluated_on: NaiveDate,
    /// Finding.
    pub finding: Clearance,
    /// Notes.
    pub notes: Text,
}

/// Prescription issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrescriptionIssued {
    /// Decision.
    pub decision: Decision,
    /// Prescription id.
    pub prescription: PrescriptionId,
    /// Prescriber.
    pub prescriber: UserId,
    /// Drug.
    pub drug: Drug,
    /// Days covered.
    pub valid: DateRange,
    /// Dose bounds.
    pub dosing: Dosing,
    /// Exploration sessions authorized.
    pub authorized_sessions: SessionCount,
    /// Instructions.
    pub instructions: Text,
    /// The prescription it replaces, if any.
    pub supersedes: Option<PrescriptionId>,
}

/// Consent on file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRecorded {
    /// Decision.
    pub decision: Decision,
    /// Day signed.
    pub signed_on: NaiveDate,
    /// Form.
    pub form: Text,
}

/// A session booked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionScheduled {
    /// Decision.
    pub decision: Decision,
    /// Session id.
    pub session: SessionId,
    /// Kind.
    pub kind: SessionKind,
    /// When.
    pub span: TimeSpan,
    /// Therapist.
    pub therapist: UserId,
    /// For an integration: the exploration it integrates.
    pub exploration: Option<SessionId>,
}

/// Preparation session held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreparationRecorded {
    /// Decision.
    pub decision: Decision,
    /// Session id.
    pub session: SessionId,
    /// When.
    pub span: TimeSpan,
    /// Therapist.
    pub therapist: UserId,
    /// Intentions.
    pub intentions: Text,
    /// Aftercare plan.
    pub aftercare_plan: Text,
    /// Notes.
    pub notes: Text,
    /// Charge.
    pub charge: Charge,
}

/// Exploration session held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplorationRecorded {
    /// Decision.
    pub decision: Decision,
    /// Session id.
    pub session: SessionId,
    /// When (arrival to discharge).
    pub span: TimeSpan,
    /// Therapist present.
    pub therapist: UserId,
    /// The prescription the dose was given under (when dosed).
    pub prescription: Option<PrescriptionId>,
    /// The dose given, if any.
    pub administration: Option<Administration>,
    /// Why no dose was given.
    pub not_dosed_reason: Option<Text>,
    /// Blood pressure before.
    pub bp_before: BloodPressure,
    /// Blood pressure after.
    pub bp_after: BloodPressure,
    /// Observations.
    pub observations: Text,
    /// Adverse events.
    pub adverse_events: Vec<AdverseEvent>,
    /// Discharge time.
    pub discharged_at: DateTime<Utc>,
    /// How the client went home.
    pub departure: Departure,
    /// Charge.
    pub charge: Charge,
}

/// Integration session held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationRecorded {
    /// Decision.
    pub decision: Decision,
    /// Session id.
    pub session: SessionId,
    /// When.
    pub span: TimeSpan,
    /// Therapist.
    pub therapist: UserId,
    /// The exploration integrated.
    pub exploration: SessionId,
    /// Notes.
    pub notes: Text,
    /// Charge.
    pub charge: Charge,
}

/// Ordered dose changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoseAdjusted {
    /// Decision.
    pub decision: Decision,
    /// The prescription.
    pub prescription: PrescriptionId,
    /// Previously ordered dose.
    pub from: Milligrams,
    /// Newly ordered dose.
    pub to: Milligrams,
    /// Why.
    pub reason: Text,
}

/// Outcome measure scored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeMeasureRecorded {
    /// Decision.
    pub decision: Decision,
    /// Instrument and score.
    pub measure: OutcomeMeasure,
    /// Day administered.
    pub administered_on: NaiveDate,
}

/// Ongoing care session held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OngoingCareRecorded {
    /// Decision.
    pub decision: Decision,
    /// Session id.
    pub session: SessionId,
    /// When.
    pub span: TimeSpan,
    /// Therapist.
    pub therapist: UserId,
    /// Notes.
    pub notes: Text,
    /// Charge.
    pub charge: Charge,
}

/// Treatment at an affiliate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalTreatmentRecorded {
    /// Decision.
    pub decision: Decision,
    /// Day.
    pub treated_on: NaiveDate,
    /// Affiliate.
    pub provider: Text,
    /// Route.
    pub route: Route,
    /// Dose, if reported.
    pub dose: Option<Milligrams>,
    /// Notes.
    pub notes: Text,
}

/// Session cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionCancelled {
    /// Decision.
    pub decision: Decision,
    /// Session.
    pub session: SessionId,
    /// Why.
    pub reason: CancelReason,
    /// Details.
    pub note: Option<Text>,
}

/// Client did not attend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoShowRecorded {
    /// Decision.
    pub decision: Decision,
    /// Session.
    pub session: SessionId,
}

/// Payment received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRecorded {
    /// Decision.
    pub decision: Decision,
    /// Payment id.
    pub payment: PaymentId,
    /// Amount.
    pub amount: Cents,
    /// Method.
    pub method: PaymentMethod,
    /// Payer.
    pub payer: Payer,
    /// Day received.
    pub received_on: NaiveDate,
    /// Session paid for, if any.
    pub session: Option<SessionId>,
}

/// An entry corrected by appending. The amended entry is left as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryAmended {
    /// Decision.
    pub decision: Decision,
    /// Sequence number of the amended entry.
    pub entry: u64,
    /// Its event type.
    pub entry_type: String,
    /// Why.
    pub reason: Text,
    /// The corrected content.
    pub corrected_content: Text,
}

/// Care ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientDischarged {
    /// Decision.
    pub decision: Decision,
    /// Day.
    pub discharged_on: NaiveDate,
    /// Why.
    pub reason: DischargeReason,
    /// Summary.
    pub summary: Text,
    /// Scheduled sessions cancelled by the discharge.
    pub cancelled_sessions: Vec<SessionId>,
}
