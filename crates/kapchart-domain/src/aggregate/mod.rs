//! The `ClientRecord` aggregate: one per client, deciding every command
//! against the client's history and the practice's policy.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use crate::command::*;
use crate::error::ClientError;
use crate::event::*;
use crate::policy::{BillableService, Policy, PracticeSettings};
use crate::rules::{Rule, Severity};
use crate::services::Services;
use crate::types::{
    AuthorizationId, BloodPressure, ClientId, CommandId, DateRange, Milligrams, PaymentId,
    PrescriptionId, SessionId, TimeSpan, UserId,
};

mod access;
mod decide;
mod exploration;
mod intake;
mod record;
mod sessions;

pub use access::roles_issuing;
use access::*;
use decide::*;
use sessions::*;

/// The state of one client's record, rebuilt from its events.
///
/// It holds what the rules need, not the whole chart: the chart and other
/// views are projections.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientRecord {
    client_id: Option<ClientId>,
    therapist: Option<UserId>,
    prescriber: Option<UserId>,
    /// Sequence number of the last event applied (events are numbered 1, 2, ...).
    last_sequence: u64,
    /// For each entry (index = sequence - 1): its event type, and the event
    /// type whose roles may amend it (an amendment inherits that of the entry
    /// it amends).
    entries: Vec<EntryInfo>,
    /// Command ids applied, with the fingerprint of the command.
    commands: BTreeMap<CommandId, String>,
    intake: Option<Suitability>,
    medical: Option<Clearance>,
    consent: bool,
    preparations_held: u32,
    prescription: Option<ActivePrescription>,
    prescription_ids: BTreeSet<PrescriptionId>,
    sessions: BTreeMap<SessionId, SessionState>,
    /// Recorded explorations, in the order recorded.
    explorations: Vec<ExplorationState>,
    payment_ids: BTreeSet<PaymentId>,
    /// Prescribers' authorizations to go past prescriber-override rules.
    authorizations: BTreeMap<AuthorizationId, Authorization>,
    discharged: bool,
}

/// A prescriber's authorization recorded on the record (`OverrideAuthorized`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorization {
    /// The rule it lets one session past.
    pub rule: Rule,
    /// The exploration session it covers.
    pub session: SessionId,
    /// The last day it may be used.
    pub valid_until: NaiveDate,
    /// The highest pre-dose blood pressure authorized, if limited.
    pub ceiling: Option<BloodPressure>,
    /// The prescriber who gave it.
    pub prescriber: UserId,
    /// Whether an override has used it.
    pub used: bool,
}

/// What the record keeps of each entry, for amendments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct EntryInfo {
    event_type: String,
    amendable_as: String,
}

/// The prescription currently in force (the latest issued).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivePrescription {
    /// Prescription id.
    pub id: PrescriptionId,
    /// Prescriber.
    pub prescriber: UserId,
    /// Days covered.
    pub valid: DateRange,
    /// Dose bounds.
    pub dosing: Dosing,
    /// Dosed explorations authorized.
    pub authorized: u16,
    /// Dosed explorations recorded under it.
    pub used: u16,
    /// Dose currently ordered.
    pub ordered: Milligrams,
    /// Last dose given under it.
    pub last_given: Option<Milligrams>,
}

impl ActivePrescription {
    /// The dose a new dose is a step from: the last given, else the ordered.
    pub fn reference_dose(&self) -> Milligrams {
        self.last_given.unwrap_or(self.ordered)
    }
}

/// Status of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Booked, not yet held.
    Scheduled,
    /// Held and recorded.
    Held,
    /// Cancelled.
    Cancelled,
    /// The client did not attend.
    NoShow,
}

/// A session of the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    /// Kind.
    pub kind: SessionKind,
    /// When.
    pub span: TimeSpan,
    /// Therapist.
    pub therapist: UserId,
    /// Status.
    pub status: SessionStatus,
}

/// A recorded exploration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplorationState {
    /// Session.
    pub session: SessionId,
    /// When it started.
    pub start: DateTime<Utc>,
    /// Dose given, if any.
    pub dose: Option<Milligrams>,
    /// Whether an integration has been recorded for it.
    pub integrated: bool,
}

/// Where a client stands in the protocol, derived from the record's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// No record yet.
    Unregistered,
    /// Registered; intake or medical evaluation still to come.
    Assessment,
    /// The latest intake or medical evaluation found KAP not suitable.
    NotSuitable,
    /// Both assessments passed; consent, preparation and prescription before
    /// the first exploration.
    Preparation,
    /// At least one exploration recorded: explorations and integrations.
    Protocol,
    /// Ongoing care after the protocol.
    OngoingCare,
    /// Care ended. Only amendments and payments are recorded.
    Discharged,
}

impl ClientRecord {
    /// The client's phase of the protocol.
    pub fn phase(&self) -> Phase {
        if !self.is_registered() {
            Phase::Unregistered
        } else if self.discharged {
            Phase::Discharged
        } else if self.intake == Some(Suitability::NotSuitable)
            || self.medical == Some(Clearance::NotCleared)
        {
            Phase::NotSuitable
        } else if self.intake.is_none() || self.medical.is_none() {
            Phase::Assessment
        } else if self
            .sessions
            .values()
            .any(|s| s.kind == SessionKind::OngoingCare && s.status == SessionStatus::Held)
        {
            Phase::OngoingCare
        } else if self.explorations.is_empty() {
            Phase::Preparation
        } else {
            Phase::Protocol
        }
    }

    /// The client's id, once registered.
    pub fn client_id(&self) -> Option<&ClientId> {
        self.client_id.as_ref()
    }
    /// The client's KAP therapist, once registered.
    pub fn therapist(&self) -> Option<&UserId> {
        self.therapist.as_ref()
    }
    /// The prescriber the client is referred to, if any yet.
    pub fn prescriber(&self) -> Option<&UserId> {
        self.prescriber.as_ref()
    }
    /// The sequence number of the last event.
    pub fn last_sequence(&self) -> u64 {
        self.last_sequence
    }
    /// Whether the client is registered.
    pub fn is_registered(&self) -> bool {
        self.client_id.is_some()
    }
    /// Whether the client is discharged.
    pub fn is_discharged(&self) -> bool {
        self.discharged
    }
    /// Latest intake finding.
    pub fn intake(&self) -> Option<Suitability> {
        self.intake
    }
    /// Latest medical evaluation finding.
    pub fn medical(&self) -> Option<Clearance> {
        self.medical
    }
    /// Whether consent is on file.
    pub fn has_consent(&self) -> bool {
        self.consent
    }
    /// Preparation sessions held.
    pub fn preparations_held(&self) -> u32 {
        self.preparations_held
    }
    /// The prescription in force, if any.
    pub fn prescription(&self) -> Option<&ActivePrescription> {
        self.prescription.as_ref()
    }
    /// Recorded explorations, oldest first.
    pub fn explorations(&self) -> &[ExplorationState] {
        &self.explorations
    }
    /// A session by id.
    pub fn session(&self, id: &SessionId) -> Option<&SessionState> {
        self.sessions.get(id)
    }
    /// A prescriber's authorization by id.
    pub fn authorization(&self, id: &AuthorizationId) -> Option<&Authorization> {
        self.authorizations.get(id)
    }
    /// Whether a command id has been applied.
    pub fn has_applied(&self, id: &CommandId) -> bool {
        self.commands.contains_key(id)
    }
    /// Dosed explorations recorded, under any prescription.
    pub fn dosed_explorations(&self) -> usize {
        self.explorations
            .iter()
            .filter(|e| e.dose.is_some())
            .count()
    }
}

impl Aggregate for ClientRecord {
    const TYPE: &'static str = "ClientRecord";
    type Command = Command;
    type Event = ClientEvent;
    type Error = ClientError;
    type Services = Services;

    async fn handle(
        &mut self,
        command: Command,
        services: &Services,
        sink: &EventSink<Self>,
    ) -> Result<(), ClientError> {
        let role = command.actor.role;
        self.handle_command(command, services, sink)
            .await
            .map_err(|e| match e {
                // A role that may not read clinical records learns the
                // rule's code and a neutral summary, never a clinical fact
                // of the record (a prescription's dates, what an entry
                // is, ...). Rules about what it may see anyway (bookings,
                // payments, ids, staff) keep their message.
                ClientError::Refused(r)
                    if !role.reads_clinical_records()
                        && !r.rule.is_about_records_front_desk_sees() =>
                {
                    ClientError::refuse(r.rule, r.rule.summary())
                }
                other => other,
            })
    }

    fn apply(&mut self, event: ClientEvent) {
        self.apply_event(event);
    }
}

impl ClientRecord {
    async fn handle_command(
        &mut self,
        command: Command,
        services: &Services,
        sink: &EventSink<Self>,
    ) -> Result<(), ClientError> {
        let fingerprint = command.fingerprint();
        if let Some(seen) = self.commands.get(&command.id) {
            if *seen == fingerprint {
                // A retry of an applied command: same result, no new event.
                return Ok(());
            }
            return Err(ClientError::refuse(
                Rule::CommandIdReused,
                format!(
                    "command id {} was already used for a different command",
                    command.id
                ),
            ));
        }
        let settings = services.settings().await?;
        let events = self
            .decide(command, fingerprint, &settings, services)
            .await?;
        for event in events {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply_event(&mut self, event: ClientEvent) {
        self.last_sequence += 1;
        let decision = event.decision();
        self.commands.insert(
            decision.command_id.clone(),
            decision.command_fingerprint.clone(),
        );
        for used in decision
            .overrides
            .iter()
            .filter_map(|o| o.authorization.as_ref())
        {
            if let Some(a) = self.authorizations.get_mut(used) {
                a.used = true;
            }
        }
        let amendable_as = match &event {
            ClientEvent::EntryAmended(e) => self
                .entry(e.entry)
                .map_or_else(|| e.entry_type.clone(), |t| t.amendable_as.clone()),
            other => other.type_name().to_owned(),
        };
        self.entries.push(EntryInfo {
            event_type: event.type_name().to_owned(),
            amendable_as,
        });

        match event {
            ClientEvent::ClientRegistered(e) => {
                self.client_id = Some(e.client_id);
                self.therapist = Some(e.therapist);
                self.prescriber = e.prescriber;
            }
            ClientEvent::IntakeRecorded(e) => {
                self.intake = Some(e.finding);
                self.hold(e.session, SessionKind::Intake, e.span, e.therapist);
            }
            ClientEvent::ClientReferred(e) => self.prescriber = Some(e.prescriber),
            ClientEvent::MedicalEvaluationRecorded(e) => {
                self.medical = Some(e.finding);
                // Records written before referral was an act of its own
                // took the evaluating prescriber as the referral; since
                // then only the referred prescriber may evaluate, so this
                // changes nothing.
                if self.prescriber.is_none() {
                    self.prescriber = Some(e.prescriber);
                }
            }
            ClientEvent::PrescriptionIssued(e) => {
                self.prescription_ids.insert(e.prescription.clone());
                self.prescription = Some(ActivePrescription {
                    id: e.prescription,
                    prescriber: e.prescriber,
                    valid: e.valid,
                    dosing: e.dosing,
                    authorized: e.authorized_sessions.get(),
                    used: 0,
                    ordered: e.dosing.starting(),
                    last_given: None,
                });
            }
            ClientEvent::ConsentRecorded(_) => self.consent = true,
            ClientEvent::SessionScheduled(e) => {
                self.sessions.insert(
                    e.session,
                    SessionState {
                        kind: e.kind,
                        span: e.span,
                        therapist: e.therapist,
                        status: SessionStatus::Scheduled,
                    },
                );
            }
            ClientEvent::PreparationRecorded(e) => {
                self.preparations_held += 1;
                self.hold(e.session, SessionKind::Preparation, e.span, e.therapist);
            }
            ClientEvent::ExplorationRecorded(e) => {
                let dose = e.administration.as_ref().map(|a| a.dose);
                if let (Some(dose), Some(rx)) = (dose, self.prescription.as_mut()) {
                    rx.used = rx.used.saturating_add(1);
                    rx.last_given = Some(dose);
                    rx.ordered = dose;
                }
                self.explorations.push(ExplorationState {
                    session: e.session.clone(),
                    start: e.span.start(),
                    dose,
                    integrated: false,
                });
                self.hold(e.session, SessionKind::Exploration, e.span, e.therapist);
            }
            ClientEvent::IntegrationRecorded(e) => {
                if let Some(x) = self
                    .explorations
                    .iter_mut()
                    .find(|x| x.session == e.exploration)
                {
                    x.integrated = true;
                }
                self.hold(e.session, SessionKind::Integration, e.span, e.therapist);
            }
            ClientEvent::DoseAdjusted(e) => {
                if let Some(rx) = self.prescription.as_mut() {
                    rx.ordered = e.to;
                }
            }
            ClientEvent::OverrideAuthorized(e) => {
                self.authorizations.insert(
                    e.authorization,
                    Authorization {
                        rule: e.rule,
                        session: e.session,
                        valid_until: e.valid_until,
                        ceiling: e.ceiling,
                        prescriber: e.decision.actor.id,
                        used: false,
                    },
                );
            }
            ClientEvent::OngoingCareRecorded(e) => {
                self.hold(e.session, SessionKind::OngoingCare, e.span, e.therapist);
            }
            ClientEvent::SessionCancelled(e) => {
                self.set_status(&e.session, SessionStatus::Cancelled)
            }
            ClientEvent::NoShowRecorded(e) => self.set_status(&e.session, SessionStatus::NoShow),
            ClientEvent::PaymentRecorded(e) => {
                self.payment_ids.insert(e.payment);
            }
            ClientEvent::ClientDischarged(e) => {
                for s in &e.cancelled_sessions {
                    self.set_status(s, SessionStatus::Cancelled);
                }
                self.discharged = true;
            }
            ClientEvent::OutcomeMeasureRecorded(_)
            | ClientEvent::ExternalTreatmentRecorded(_)
            | ClientEvent::EntryAmended(_) => {}
        }
    }
}

impl ClientRecord {
    /// The entry with a 1-based sequence number.
    fn entry(&self, sequence: u64) -> Option<&EntryInfo> {
        let index = usize::try_from(sequence).ok()?.checked_sub(1)?;
        self.entries.get(index)
    }

    fn hold(&mut self, id: SessionId, kind: SessionKind, span: TimeSpan, therapist: UserId) {
        self.sessions.insert(
            id,
            SessionState {
                kind,
                span,
                therapist,
                status: SessionStatus::Held,
            },
        );
    }

    fn set_status(&mut self, id: &SessionId, status: SessionStatus) {
        if let Some(s) = self.sessions.get_mut(id) {
            s.status = status;
        }
    }
}
