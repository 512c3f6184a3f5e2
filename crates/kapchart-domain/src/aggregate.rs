//! The `ClientRecord` aggregate: one per client, deciding every command
//! against the client's history and the practice's policy.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use crate::command::{
    Actor, Clearance, Command, CommandBody, Dosing, Role, Route, ScheduleSession, Suitability,
};
use crate::error::ClientError;
use crate::event::*;
use crate::policy::{BillableService, Policy, PracticeSettings};
use crate::rules::{Rule, Severity};
use crate::services::Services;
use crate::types::{
    AuthorizationId, BloodPressure, ClientId, CommandId, DateRange, Milligrams, PaymentId,
    PrescriptionId, SessionId, TimeSpan, UserId,
};

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

/// Roles that may issue a command.
fn permitted_roles(body: &CommandBody) -> &'static [Role] {
    use Role::*;
    match body {
        CommandBody::RegisterClient(_) | CommandBody::ReferClient(_) => &[FrontDesk, Therapist],
        CommandBody::RecordIntake(_)
        | CommandBody::RecordPreparation(_)
        | CommandBody::RecordExploration(_)
        | CommandBody::RecordIntegration(_)
        | CommandBody::RecordOngoingCare(_) => &[Therapist],
        CommandBody::RecordMedicalEvaluation(_)
        | CommandBody::IssuePrescription(_)
        | CommandBody::AdjustDose(_)
        | CommandBody::AuthorizeOverride(_) => &[Prescriber],
        CommandBody::RecordConsent(_)
        | CommandBody::RecordOutcomeMeasure(_)
        | CommandBody::RecordExternalTreatment(_)
        | CommandBody::DischargeClient(_) => &[Therapist, Prescriber],
        CommandBody::SchedulePreparation(_)
        | CommandBody::ScheduleExploration(_)
        | CommandBody::ScheduleIntegration(_)
        | CommandBody::CancelSession(_)
        | CommandBody::RecordNoShow(_) => &[Therapist, FrontDesk],
        CommandBody::RecordPayment(_) => &[FrontDesk],
        CommandBody::AmendEntry(_) => &[Therapist, Prescriber, FrontDesk],
    }
}

/// Roles that may amend an entry of a given event type: those that may
/// record it.
fn amending_roles(event_type: &str) -> &'static [Role] {
    use Role::*;
    match event_type {
        "ClientRegistered" | "ClientReferred" => &[FrontDesk, Therapist],
        "IntakeRecorded"
        | "PreparationRecorded"
        | "ExplorationRecorded"
        | "IntegrationRecorded"
        | "OngoingCareRecorded" => &[Therapist],
        "MedicalEvaluationRecorded"
        | "PrescriptionIssued"
        | "DoseAdjusted"
        | "OverrideAuthorized" => &[Prescriber],
        "ConsentRecorded"
        | "OutcomeMeasureRecorded"
        | "ExternalTreatmentRecorded"
        | "ClientDischarged" => &[Therapist, Prescriber],
        "SessionScheduled" | "SessionCancelled" | "NoShowRecorded" => &[Therapist, FrontDesk],
        "PaymentRecorded" => &[FrontDesk],
        _ => &[],
    }
}

fn role_list(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// What one command is being decided with.
struct Ctx<'a> {
    command: &'a Command,
    policy: &'a Policy,
    settings: &'a PracticeSettings,
    overrides: Vec<AppliedOverride>,
}

impl Ctx<'_> {
    fn actor(&self) -> &Actor {
        &self.command.actor
    }

    fn today(&self) -> NaiveDate {
        self.command.issued_at.date_naive()
    }

    /// A soft stop was hit: pass it when the command carries an override
    /// reason for it, else refuse. (Prescriber-override rules are passed
    /// only through an authorization on the record:
    /// `ClientRecord::authorized_override`.)
    fn stop(&mut self, rule: Rule, finding: String) -> Result<(), ClientError> {
        debug_assert_eq!(rule.severity(), Severity::Soft);
        let Some(ov) = self.command.overrides.iter().find(|o| o.rule == rule) else {
            return Err(ClientError::refuse(
                rule,
                format!("{finding}; resend with an override reason to proceed"),
            ));
        };
        if ov.authorization.is_some() {
            return Err(ClientError::invalid(
                "overrides.authorization",
                format!(
                    "{rule} is passed with a reason alone; authorizations are for prescriber-override rules"
                ),
            ));
        }
        self.overrides.push(AppliedOverride {
            rule,
            reason: ov.reason.clone(),
            authorized_by: self.actor().id.clone(),
            authorization: None,
            finding,
        });
        Ok(())
    }

    fn decision(&self) -> Decision {
        Decision {
            command_id: self.command.id.clone(),
            command_fingerprint: String::new(),
            actor: self.command.actor.clone(),
            decided_at: self.command.issued_at,
            policy_version: self.policy.version,
            overrides: self.overrides.clone(),
        }
    }

    fn charge(&self, service: BillableService, span: &TimeSpan) -> Result<Charge, ClientError> {
        let day = span.date();
        let fees = self
            .settings
            .fees_on(day)
            .ok_or(ClientError::NoFeeSchedule)?;
        Ok(Charge {
            service,
            amount: fees.fee(service),
            fee_schedule_version: fees.version,
            service_date: day,
        })
    }

    /// A session is recorded only once it has ended.
    fn held_in_past(&self, span: &TimeSpan) -> Result<(), ClientError> {
        if span.end() > self.command.issued_at {
            return Err(ClientError::invalid(
                "span.end",
                "a session is recorded only after it has ended",
            ));
        }
        Ok(())
    }

    fn not_in_future(&self, field: &'static str, day: NaiveDate) -> Result<(), ClientError> {
        if day > self.today() {
            return Err(ClientError::invalid(field, "must not be in the future"));
        }
        Ok(())
    }
}

fn refuse<T>(rule: Rule, message: impl Into<String>) -> Result<T, ClientError> {
    Err(ClientError::refuse(rule, message))
}

/// Whole calendar days (UTC) between two instants, whatever the hour:
/// Monday 10:00 to next Monday 09:00 is 7 days.
fn calendar_days_between(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    (a.date_naive() - b.date_naive()).num_days().abs()
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

    async fn decide(
        &self,
        command: Command,
        fingerprint: String,
        settings: &PracticeSettings,
        services: &Services,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        let roles = permitted_roles(&command.body);
        if !roles.contains(&command.actor.role) {
            return refuse(
                Rule::RoleNotPermitted,
                format!(
                    "{} may be issued by {}, not {}",
                    command.body.name(),
                    role_list(roles),
                    command.actor.role.as_str()
                ),
            );
        }
        // Who may act on this client is decided here, on the same state
        // the command is decided on: no race with a registration or a
        // referral can slip between a check and the decision.
        self.check_access(&command)?;
        match (&command.body, self.is_registered()) {
            (CommandBody::RegisterClient(_), true) => {
                return refuse(
                    Rule::ClientAlreadyRegistered,
                    "the client is already registered",
                );
            }
            (CommandBody::RegisterClient(_), false) | (_, true) => {}
            (_, false) => {
                return refuse(Rule::ClientNotRegistered, "the client is not registered");
            }
        }
        let allowed_after_discharge = matches!(
            command.body,
            CommandBody::AmendEntry(_) | CommandBody::RecordPayment(_)
        );
        if self.discharged && !allowed_after_discharge {
            return refuse(
                Rule::ClientDischarged,
                "the client is discharged: only amendments and payments can be recorded",
            );
        }
        let policy = settings
            .policy_at(command.issued_at)
            .ok_or(ClientError::NoPolicy)?;
        let mut ctx = Ctx {
            command: &command,
            policy,
            settings,
            overrides: Vec::new(),
        };
        let mut event = self.decide_body(&mut ctx, services).await?;
        // Overrides are collected while deciding; stamp them and the
        // fingerprint on the one event the command produces.
        let decision = match &mut event {
            ClientEvent::ClientRegistered(e) => &mut e.decision,
            ClientEvent::IntakeRecorded(e) => &mut e.decision,
            ClientEvent::ClientReferred(e) => &mut e.decision,
            ClientEvent::MedicalEvaluationRecorded(e) => &mut e.decision,
            ClientEvent::PrescriptionIssued(e) => &mut e.decision,
            ClientEvent::ConsentRecorded(e) => &mut e.decision,
            ClientEvent::SessionScheduled(e) => &mut e.decision,
            ClientEvent::PreparationRecorded(e) => &mut e.decision,
            ClientEvent::ExplorationRecorded(e) => &mut e.decision,
            ClientEvent::IntegrationRecorded(e) => &mut e.decision,
            ClientEvent::DoseAdjusted(e) => &mut e.decision,
            ClientEvent::OverrideAuthorized(e) => &mut e.decision,
            ClientEvent::OutcomeMeasureRecorded(e) => &mut e.decision,
            ClientEvent::OngoingCareRecorded(e) => &mut e.decision,
            ClientEvent::ExternalTreatmentRecorded(e) => &mut e.decision,
            ClientEvent::SessionCancelled(e) => &mut e.decision,
            ClientEvent::NoShowRecorded(e) => &mut e.decision,
            ClientEvent::PaymentRecorded(e) => &mut e.decision,
            ClientEvent::EntryAmended(e) => &mut e.decision,
            ClientEvent::ClientDischarged(e) => &mut e.decision,
        };
        *decision = ctx.decision();
        decision.command_fingerprint = fingerprint;
        Ok(vec![event])
    }

    async fn decide_body(
        &self,
        ctx: &mut Ctx<'_>,
        services: &Services,
    ) -> Result<ClientEvent, ClientError> {
        let command = ctx.command;
        let actor = command.actor.id.clone();
        // Every event's decision is stamped after deciding; this placeholder
        // is replaced in `decide`.
        let d = ctx.decision();
        Ok(match &command.body {
            CommandBody::RegisterClient(c) => {
                ctx.not_in_future("date_of_birth", c.date_of_birth)?;
                Self::check_staff(services, &c.therapist, Role::Therapist).await?;
                if let Some(p) = &c.prescriber {
                    Self::check_staff(services, p, Role::Prescriber).await?;
                }
                ClientEvent::ClientRegistered(ClientRegistered {
                    decision: d,
                    client_id: c.client_id.clone(),
                    name: c.name.clone(),
                    date_of_birth: c.date_of_birth,
                    therapist: c.therapist.clone(),
                    prescriber: c.prescriber.clone(),
                })
            }
            CommandBody::RecordIntake(c) => {
                ctx.held_in_past(&c.span)?;
                self.check_hold(&c.session, SessionKind::Intake, &c.span)?;
                ClientEvent::IntakeRecorded(IntakeRecorded {
                    decision: d,
                    session: c.session.clone(),
                    span: c.span,
                    therapist: actor,
                    finding: c.finding,
                    diagnoses: c.diagnoses.clone(),
                    notes: c.notes.clone(),
                    charge: ctx.charge(BillableService::Intake, &c.span)?,
                })
            }
            CommandBody::ReferClient(c) => {
                if self.prescriber.as_ref() == Some(&c.prescriber) {
                    return refuse(
                        Rule::ReferralUnchanged,
                        format!("the client is already referred to {}", c.prescriber),
                    );
                }
                Self::check_staff(services, &c.prescriber, Role::Prescriber).await?;
                ClientEvent::ClientReferred(ClientReferred {
                    decision: d,
                    prescriber: c.prescriber.clone(),
                    previous: self.prescriber.clone(),
                    note: c.note.clone(),
                })
            }
            CommandBody::RecordMedicalEvaluation(c) => {
                ctx.not_in_future("evaluated_on", c.evaluated_on)?;
                ClientEvent::MedicalEvaluationRecorded(MedicalEvaluationRecorded {
                    decision: d,
                    prescriber: actor,
                    evaluated_on: c.evaluated_on,
                    finding: c.finding,
                    notes: c.notes.clone(),
                })
            }
            CommandBody::IssuePrescription(c) => {
                if self.medical != Some(Clearance::Cleared) {
                    return refuse(
                        Rule::PrescriptionMedicalNotCleared,
                        "a prescription needs a medical evaluation that cleared the client",
                    );
                }
                if self.prescription_ids.contains(&c.prescription) {
                    return refuse(
                        Rule::IdInUse,
                        format!("prescription id {} is already used", c.prescription),
                    );
                }
                ClientEvent::PrescriptionIssued(PrescriptionIssued {
                    decision: d,
                    prescription: c.prescription.clone(),
                    prescriber: actor,
                    drug: c.drug,
                    valid: c.valid,
                    dosing: c.dosing,
                    authorized_sessions: c.authorized_sessions,
                    instructions: c.instructions.clone(),
                    supersedes: self.prescription.as_ref().map(|p| p.id.clone()),
                })
            }
            CommandBody::RecordConsent(c) => {
                ctx.not_in_future("signed_on", c.signed_on)?;
                ClientEvent::ConsentRecorded(ConsentRecorded {
                    decision: d,
                    signed_on: c.signed_on,
                    form: c.form.clone(),
                })
            }
            CommandBody::SchedulePreparation(c) => {
                self.check_intake_for_preparation()?;
                self.check_new_session(&c.session, &c.span)?;
                self.check_therapist_free(services, c).await?;
                ClientEvent::SessionScheduled(self.scheduled(d, c, SessionKind::Preparation, None))
            }
            CommandBody::RecordPreparation(c) => {
                ctx.held_in_past(&c.span)?;
                self.check_intake_for_preparation()?;
                self.check_hold(&c.session, SessionKind::Preparation, &c.span)?;
                ClientEvent::PreparationRecorded(PreparationRecorded {
                    decision: d,
                    session: c.session.clone(),
                    span: c.span,
                    therapist: actor,
                    intentions: c.intentions.clone(),
                    aftercare_plan: c.aftercare_plan.clone(),
                    notes: c.notes.clone(),
                    charge: ctx.charge(BillableService::Preparation, &c.span)?,
                })
            }
            CommandBody::ScheduleExploration(c) => {
                let rx = self.check_exploration_preconditions(c.span.date())?;
                let pending = self.open_explorations(None);
                if u32::from(rx.used) + pending.len() as u32 >= u32::from(rx.authorized) {
                    return refuse(
                        Rule::ExplorationNoSessionsLeft,
                        format!(
                            "prescription {} authorizes {} dosed explorations: {} recorded, {} scheduled",
                            rx.id,
                            rx.authorized,
                            rx.used,
                            pending.len()
                        ),
                    );
                }
                self.check_new_session(&c.session, &c.span)?;
                let others: Vec<DateTime<Utc>> = self
                    .explorations
                    .iter()
                    .filter(|x| x.dose.is_some())
                    .map(|x| x.start)
                    .chain(pending.iter().map(|s| s.span.start()))
                    .collect();
                self.check_spacing(ctx, c.span.start(), &others)?;
                self.check_protocol_maximum(ctx, self.dosed_explorations() + pending.len())?;
                self.check_therapist_free(services, c).await?;
                ClientEvent::SessionScheduled(self.scheduled(
                    ctx.decision(),
                    c,
                    SessionKind::Exploration,
                    None,
                ))
            }
            CommandBody::RecordExploration(c) => {
                ctx.held_in_past(c.span())?;
                let rx = self.check_exploration_preconditions(c.span().date())?;
                self.check_hold(c.session(), SessionKind::Exploration, c.span())?;
                if let Some(a) = c.administration() {
                    if rx.used >= rx.authorized {
                        return refuse(
                            Rule::ExplorationNoSessionsLeft,
                            format!(
                                "prescription {} authorizes {} dosed explorations and all are used",
                                rx.id, rx.authorized
                            ),
                        );
                    }
                    if a.route != Route::Sublingual {
                        return refuse(
                            Rule::DoseRouteNotInPractice,
                            "in-practice doses are sublingual; record IV or IM treatment at an affiliate as external",
                        );
                    }
                    check_dose(rx, a.dose)?;
                    if let Some(prev) = self.explorations.iter().rev().find(|x| x.dose.is_some())
                        && !prev.integrated
                    {
                        return refuse(
                            Rule::ExplorationPreviousNotIntegrated,
                            format!(
                                "the previous exploration ({}) has no integration recorded",
                                prev.session
                            ),
                        );
                    }
                    let threshold = ctx.policy.bp_threshold;
                    if c.bp_before().is_above(threshold) {
                        self.authorized_override(
                            ctx,
                            Rule::ExplorationBloodPressureAboveThreshold,
                            format!(
                                "pre-dose blood pressure {} is above the threshold {threshold}",
                                c.bp_before()
                            ),
                            c.session(),
                            c.span().date(),
                            c.bp_before(),
                        )?;
                    }
                    let previous: Vec<DateTime<Utc>> = self
                        .explorations
                        .iter()
                        .filter(|x| x.dose.is_some())
                        .map(|x| x.start)
                        .collect();
                    self.check_spacing(ctx, c.span().start(), &previous)?;
                    self.check_protocol_maximum(ctx, self.dosed_explorations())?;
                }
                ClientEvent::ExplorationRecorded(ExplorationRecorded {
                    decision: d,
                    session: c.session().clone(),
                    span: *c.span(),
                    therapist: actor,
                    prescription: c.administration().map(|_| rx.id.clone()),
                    administration: c.administration().cloned(),
                    not_dosed_reason: c.not_dosed_reason().cloned(),
                    bp_before: c.bp_before(),
                    bp_after: c.bp_after(),
                    observations: c.observations().clone(),
                    adverse_events: c.adverse_events().to_vec(),
                    discharged_at: c.discharged_at(),
                    departure: c.departure(),
                    charge: ctx.charge(BillableService::Exploration, c.span())?,
                })
            }
            CommandBody::ScheduleIntegration(c) => {
                let known = self
                    .sessions
                    .get(&c.exploration)
                    .is_some_and(|s| s.kind == SessionKind::Exploration);
                if !known {
                    return refuse(
                        Rule::IntegrationUnknownExploration,
                        format!("{} is not an exploration of this client", c.exploration),
                    );
                }
                let s = ScheduleSession {
                    session: c.session.clone(),
                    span: c.span,
                    therapist: c.therapist.clone(),
                };
                self.check_new_session(&s.session, &s.span)?;
                self.check_therapist_free(services, &s).await?;
                ClientEvent::SessionScheduled(self.scheduled(
                    d,
                    &s,
                    SessionKind::Integration,
                    Some(c.exploration.clone()),
                ))
            }
            CommandBody::RecordIntegration(c) => {
                ctx.held_in_past(&c.span)?;
                let Some(x) = self
                    .explorations
                    .iter()
                    .find(|x| x.session == c.exploration)
                else {
                    return refuse(
                        Rule::IntegrationUnknownExploration,
                        format!(
                            "{} is not a recorded exploration of this client",
                            c.exploration
                        ),
                    );
                };
                if c.span.start() < x.start {
                    return Err(ClientError::invalid(
                        "span.start",
                        "an integration comes after its exploration",
                    ));
                }
                self.check_hold(&c.session, SessionKind::Integration, &c.span)?;
                let window = i64::from(ctx.policy.integration_window_days);
                if calendar_days_between(c.span.start(), x.start) > window {
                    ctx.stop(
                        Rule::IntegrationLate,
                        format!(
                            "the integration is more than {} days after its exploration",
                            ctx.policy.integration_window_days
                        ),
                    )?;
                }
                ClientEvent::IntegrationRecorded(IntegrationRecorded {
                    decision: ctx.decision(),
                    session: c.session.clone(),
                    span: c.span,
                    therapist: actor,
                    exploration: c.exploration.clone(),
                    notes: c.notes.clone(),
                    charge: ctx.charge(BillableService::Integration, &c.span)?,
                })
            }
            CommandBody::AdjustDose(c) => {
                let Some(rx) = self
                    .prescription
                    .as_ref()
                    .filter(|rx| rx.valid.until() >= ctx.today())
                else {
                    return refuse(
                        Rule::PrescriptionNoneActive,
                        "there is no current prescription to adjust",
                    );
                };
                check_dose(rx, c.dose)?;
                ClientEvent::DoseAdjusted(DoseAdjusted {
                    decision: d,
                    prescription: rx.id.clone(),
                    from: rx.ordered,
                    to: c.dose,
                    reason: c.reason.clone(),
                })
            }
            CommandBody::AuthorizeOverride(c) => {
                if c.rule.severity() != Severity::PrescriberOverride {
                    return Err(ClientError::invalid(
                        "rule",
                        format!(
                            "{} is not a prescriber-override rule (soft stops are passed with an override reason)",
                            c.rule
                        ),
                    ));
                }
                if self.authorizations.contains_key(&c.authorization) {
                    return refuse(
                        Rule::IdInUse,
                        format!("authorization id {} is already used", c.authorization),
                    );
                }
                if c.valid_until < ctx.today() {
                    return Err(ClientError::invalid(
                        "valid_until",
                        "must not be in the past",
                    ));
                }
                if let Some(s) = self.sessions.get(&c.session) {
                    if s.kind != SessionKind::Exploration {
                        return refuse(
                            Rule::SessionKindMismatch,
                            format!(
                                "session {} is a {} session, not exploration",
                                c.session,
                                s.kind.as_str()
                            ),
                        );
                    }
                    if s.status != SessionStatus::Scheduled {
                        return refuse(
                            Rule::SessionNotOpen,
                            format!("session {} is already {}", c.session, status_word(s.status)),
                        );
                    }
                }
                ClientEvent::OverrideAuthorized(OverrideAuthorized {
                    decision: d,
                    authorization: c.authorization.clone(),
                    rule: c.rule,
                    session: c.session.clone(),
                    valid_until: c.valid_until,
                    ceiling: c.ceiling,
                    reason: c.reason.clone(),
                })
            }
            CommandBody::RecordOutcomeMeasure(c) => {
                ctx.not_in_future("administered_on", c.administered_on)?;
                ClientEvent::OutcomeMeasureRecorded(OutcomeMeasureRecorded {
                    decision: d,
                    measure: c.measure,
                    administered_on: c.administered_on,
                })
            }
            CommandBody::RecordOngoingCare(c) => {
                ctx.held_in_past(&c.span)?;
                if !self.explorations.iter().any(|x| x.integrated) {
                    return refuse(
                        Rule::OngoingCareProtocolNotStarted,
                        "ongoing care follows at least one integrated exploration",
                    );
                }
                self.check_hold(&c.session, SessionKind::OngoingCare, &c.span)?;
                ClientEvent::OngoingCareRecorded(OngoingCareRecorded {
                    decision: d,
                    session: c.session.clone(),
                    span: c.span,
                    therapist: actor,
                    notes: c.notes.clone(),
                    charge: ctx.charge(BillableService::OngoingCare, &c.span)?,
                })
            }
            CommandBody::RecordExternalTreatment(c) => {
                ctx.not_in_future("treated_on", c.treated_on)?;
                ClientEvent::ExternalTreatmentRecorded(ExternalTreatmentRecorded {
                    decision: d,
                    treated_on: c.treated_on,
                    provider: c.provider.clone(),
                    route: c.route,
                    dose: c.dose,
                    notes: c.notes.clone(),
                })
            }
            CommandBody::CancelSession(c) => {
                self.open_session(&c.session)?;
                ClientEvent::SessionCancelled(SessionCancelled {
                    decision: d,
                    session: c.session.clone(),
                    reason: c.reason,
                    note: c.note.clone(),
                })
            }
            CommandBody::RecordNoShow(c) => {
                let s = self.open_session(&c.session)?;
                if command.issued_at < s.span.start() {
                    return refuse(
                        Rule::SessionNotStarted,
                        format!("session {} has not started yet", c.session),
                    );
                }
                ClientEvent::NoShowRecorded(NoShowRecorded {
                    decision: d,
                    session: c.session.clone(),
                })
            }
            CommandBody::RecordPayment(c) => {
                ctx.not_in_future("received_on", c.received_on)?;
                if self.payment_ids.contains(&c.payment) {
                    return refuse(
                        Rule::IdInUse,
                        format!("payment id {} is already used", c.payment),
                    );
                }
                if let Some(s) = &c.session
                    && !self.sessions.contains_key(s)
                {
                    return refuse(
                        Rule::SessionUnknown,
                        format!("session {s} does not exist for this client"),
                    );
                }
                ClientEvent::PaymentRecorded(PaymentRecorded {
                    decision: d,
                    payment: c.payment.clone(),
                    amount: c.amount,
                    method: c.method,
                    payer: c.payer,
                    received_on: c.received_on,
                    session: c.session.clone(),
                })
            }
            CommandBody::AmendEntry(c) => {
                let Some(target) = self.entry(c.entry) else {
                    return refuse(
                        Rule::AmendmentUnknownEntry,
                        format!(
                            "entry {} does not exist (this record has {} entries)",
                            c.entry, self.last_sequence
                        ),
                    );
                };
                let roles = amending_roles(&target.amendable_as);
                if !roles.contains(&command.actor.role)
                    && !command.actor.role.reads_clinical_records()
                {
                    // Not even which kind of entry it is.
                    return refuse(
                        Rule::RoleNotPermitted,
                        format!(
                            "entry {} is not one that {} may amend",
                            c.entry,
                            command.actor.role.as_str()
                        ),
                    );
                }
                if !roles.contains(&command.actor.role) {
                    return refuse(
                        Rule::RoleNotPermitted,
                        format!(
                            "a {} entry may be amended by {}, not {}",
                            target.event_type,
                            role_list(roles),
                            command.actor.role.as_str()
                        ),
                    );
                }
                ClientEvent::EntryAmended(EntryAmended {
                    decision: d,
                    entry: c.entry,
                    entry_type: target.event_type.clone(),
                    reason: c.reason.clone(),
                    corrected_content: c.corrected_content.clone(),
                })
            }
            CommandBody::DischargeClient(c) => {
                ctx.not_in_future("discharged_on", c.discharged_on)?;
                let cancelled = self
                    .sessions
                    .iter()
                    .filter(|(_, s)| s.status == SessionStatus::Scheduled)
                    .map(|(id, _)| id.clone())
                    .collect();
                ClientEvent::ClientDischarged(ClientDischarged {
                    decision: d,
                    discharged_on: c.discharged_on,
                    reason: c.reason,
                    summary: c.summary.clone(),
                    cancelled_sessions: cancelled,
                })
            }
        })
    }

    /// Therapists act on the clients assigned to them (and register
    /// clients to themselves); prescribers on the clients referred to them.
    /// An unknown client answers like another's, so the refusal tells
    /// nothing about which records exist.
    fn check_access(&self, command: &Command) -> Result<(), ClientError> {
        let actor = &command.actor;
        match actor.role {
            Role::Therapist => {
                if let CommandBody::RegisterClient(c) = &command.body {
                    if c.therapist != actor.id {
                        return refuse(
                            Rule::ClientNotAssigned,
                            "a therapist registers clients to themselves",
                        );
                    }
                    return Ok(());
                }
                if self.therapist.as_ref() != Some(&actor.id) {
                    return refuse(Rule::ClientNotAssigned, Rule::ClientNotAssigned.summary());
                }
            }
            Role::Prescriber => {
                if self.prescriber.as_ref() != Some(&actor.id) {
                    return refuse(Rule::ClientNotReferred, Rule::ClientNotReferred.summary());
                }
            }
            Role::FrontDesk | Role::Auditor | Role::Admin => {}
        }
        Ok(())
    }

    /// A user named by a command as therapist or prescriber must be an
    /// active account of that role.
    async fn check_staff(
        services: &Services,
        user: &UserId,
        role: Role,
    ) -> Result<(), ClientError> {
        if services.staff_role(user).await? == Some(role) {
            Ok(())
        } else {
            refuse(
                Rule::StaffUnknown,
                format!("{user} is not an active {} account", role.as_str()),
            )
        }
    }

    /// A prescriber-override rule was hit: pass it only when the command's
    /// override for it references an authorization that the client's
    /// current prescriber recorded on this record, for this rule and
    /// session, unused, still valid on the session's date, and whose
    /// ceiling (if any) the reading does not exceed.
    fn authorized_override(
        &self,
        ctx: &mut Ctx<'_>,
        rule: Rule,
        finding: String,
        session: &SessionId,
        day: NaiveDate,
        reading: BloodPressure,
    ) -> Result<(), ClientError> {
        let Some(ov) = ctx.command.overrides.iter().find(|o| o.rule == rule) else {
            return refuse(
                rule,
                format!(
                    "{finding}; needs the client's prescriber's authorization for this session (AuthorizeOverride), referenced by an override"
                ),
            );
        };
        let not_authorized = |message: String| refuse(Rule::OverrideNotAuthorized, message);
        let Some(id) = &ov.authorization else {
            return not_authorized(format!(
                "an override of {rule} must reference the authorization the client's prescriber recorded on this record"
            ));
        };
        let Some(a) = self.authorizations.get(id) else {
            return not_authorized(format!("authorization {id} does not exist in this record"));
        };
        if a.rule != rule {
            return not_authorized(format!("authorization {id} is for {}, not {rule}", a.rule));
        }
        if &a.session != session {
            return not_authorized(format!(
                "authorization {id} covers session {}, not {session}",
                a.session
            ));
        }
        if a.used {
            return not_authorized(format!("authorization {id} was already used"));
        }
        if day > a.valid_until {
            return not_authorized(format!(
                "authorization {id} was valid until {}",
                a.valid_until
            ));
        }
        if self.prescriber.as_ref() != Some(&a.prescriber) {
            return not_authorized(format!(
                "authorization {id} was given by a prescriber the client is no longer referred to"
            ));
        }
        if let Some(ceiling) = a.ceiling
            && reading.is_above(ceiling)
        {
            return not_authorized(format!(
                "pre-dose blood pressure {reading} is above the ceiling {ceiling} that authorization {id} allows"
            ));
        }
        ctx.overrides.push(AppliedOverride {
            rule,
            reason: ov.reason.clone(),
            authorized_by: a.prescriber.clone(),
            authorization: Some(id.clone()),
            finding,
        });
        Ok(())
    }

    fn scheduled(
        &self,
        decision: Decision,
        c: &ScheduleSession,
        kind: SessionKind,
        exploration: Option<SessionId>,
    ) -> SessionScheduled {
        SessionScheduled {
            decision,
            session: c.session.clone(),
            kind,
            span: c.span,
            therapist: c.therapist.clone(),
            exploration,
        }
    }

    fn check_intake_for_preparation(&self) -> Result<(), ClientError> {
        if self.intake != Some(Suitability::Suitable) {
            return refuse(
                Rule::PreparationIntakeNotSuitable,
                "preparation needs an intake that found the client suitable",
            );
        }
        Ok(())
    }

    /// The hard stops before any exploration, scheduled or recorded.
    fn check_exploration_preconditions(
        &self,
        day: NaiveDate,
    ) -> Result<&ActivePrescription, ClientError> {
        if self.intake != Some(Suitability::Suitable) {
            return refuse(
                Rule::ExplorationIntakeNotSuitable,
                "exploration needs an intake that found the client suitable",
            );
        }
        if self.medical != Some(Clearance::Cleared) {
            return refuse(
                Rule::ExplorationMedicalNotCleared,
                "exploration needs a medical evaluation that cleared the client",
            );
        }
        if !self.consent {
            return refuse(
                Rule::ExplorationNoConsent,
                "exploration needs signed informed consent on file",
            );
        }
        if self.preparations_held == 0 {
            return refuse(
                Rule::ExplorationNoPreparation,
                "exploration needs at least one completed preparation session",
            );
        }
        match &self.prescription {
            Some(rx) if rx.valid.contains(day) => Ok(rx),
            Some(rx) => refuse(
                Rule::PrescriptionNoneActive,
                format!(
                    "prescription {} does not cover the session's date (valid {} to {})",
                    rx.id,
                    rx.valid.from(),
                    rx.valid.until()
                ),
            ),
            None => refuse(
                Rule::PrescriptionNoneActive,
                "exploration needs an active prescription",
            ),
        }
    }

    fn check_spacing(
        &self,
        ctx: &mut Ctx<'_>,
        start: DateTime<Utc>,
        others: &[DateTime<Utc>],
    ) -> Result<(), ClientError> {
        let min_days = ctx.policy.min_days_between_explorations;
        let min = i64::from(min_days);
        if others
            .iter()
            .any(|&o| calendar_days_between(start, o) < min)
        {
            ctx.stop(
                Rule::ExplorationTooSoon,
                format!("explorations are to be at least {min_days} days apart"),
            )?;
        }
        Ok(())
    }

    fn check_protocol_maximum(&self, ctx: &mut Ctx<'_>, count: usize) -> Result<(), ClientError> {
        let max = ctx.policy.max_explorations;
        if count >= usize::from(max) {
            ctx.stop(
                Rule::ExplorationBeyondProtocolMaximum,
                format!("the protocol maximum of {max} dosed explorations is reached"),
            )?;
        }
        Ok(())
    }

    /// Open (scheduled, not yet held) explorations, except one session.
    fn open_explorations(&self, except: Option<&SessionId>) -> Vec<&SessionState> {
        self.sessions
            .iter()
            .filter(|(id, s)| {
                s.kind == SessionKind::Exploration
                    && s.status == SessionStatus::Scheduled
                    && Some(*id) != except
            })
            .map(|(_, s)| s)
            .collect()
    }

    /// A new session id, at a time free of the client's other sessions.
    fn check_new_session(&self, id: &SessionId, span: &TimeSpan) -> Result<(), ClientError> {
        if self.sessions.contains_key(id) {
            return refuse(Rule::IdInUse, format!("session id {id} is already used"));
        }
        self.check_overlap(id, span)
    }

    /// Recording a held session: either a scheduled session of the same kind
    /// still open, or a new id; at a time free of the client's other sessions.
    fn check_hold(
        &self,
        id: &SessionId,
        kind: SessionKind,
        span: &TimeSpan,
    ) -> Result<(), ClientError> {
        if let Some(s) = self.sessions.get(id) {
            if s.kind != kind {
                return refuse(
                    Rule::SessionKindMismatch,
                    format!(
                        "session {id} is a {} session, not {}",
                        s.kind.as_str(),
                        kind.as_str()
                    ),
                );
            }
            if s.status != SessionStatus::Scheduled {
                return refuse(
                    Rule::SessionNotOpen,
                    format!("session {id} is already {}", status_word(s.status)),
                );
            }
        }
        self.check_overlap(id, span)
    }

    fn check_overlap(&self, id: &SessionId, span: &TimeSpan) -> Result<(), ClientError> {
        let clash = self.sessions.iter().find(|(other, s)| {
            *other != id
                && matches!(s.status, SessionStatus::Scheduled | SessionStatus::Held)
                && s.span.overlaps(span)
        });
        if let Some((other, _)) = clash {
            return refuse(
                Rule::SessionOverlap,
                format!("the client's session {other} overlaps this time"),
            );
        }
        Ok(())
    }

    fn open_session(&self, id: &SessionId) -> Result<&SessionState, ClientError> {
        let Some(s) = self.sessions.get(id) else {
            return refuse(
                Rule::SessionUnknown,
                format!("session {id} does not exist for this client"),
            );
        };
        if s.status != SessionStatus::Scheduled {
            return refuse(
                Rule::SessionNotOpen,
                format!("session {id} is already {}", status_word(s.status)),
            );
        }
        Ok(s)
    }

    async fn check_therapist_free(
        &self,
        services: &Services,
        c: &ScheduleSession,
    ) -> Result<(), ClientError> {
        Self::check_staff(services, &c.therapist, Role::Therapist).await?;
        let bookings = services.therapist_bookings(&c.therapist, &c.span).await?;
        let clash = bookings
            .iter()
            .any(|b| Some(&b.client) != self.client_id.as_ref() && b.span.overlaps(&c.span));
        if clash {
            return refuse(
                Rule::TherapistDoubleBooked,
                format!(
                    "therapist {} has another client's session at an overlapping time",
                    c.therapist
                ),
            );
        }
        Ok(())
    }
}

fn status_word(status: SessionStatus) -> &'static str {
    match status {
        SessionStatus::Scheduled => "scheduled",
        SessionStatus::Held => "held",
        SessionStatus::Cancelled => "cancelled",
        SessionStatus::NoShow => "marked no-show",
    }
}

/// Range and step checks for a dose, against the prescription.
fn check_dose(rx: &ActivePrescription, dose: Milligrams) -> Result<(), ClientError> {
    let dosing = &rx.dosing;
    if !dosing.allows(dose) {
        return refuse(
            Rule::DoseOutsideRange,
            format!(
                "{dose} is outside prescription {}'s range {}–{}",
                rx.id,
                dosing.min().get(),
                dosing.max()
            ),
        );
    }
    let reference = rx.reference_dose();
    if dose.distance(reference) > dosing.max_step().get() {
        return refuse(
            Rule::DoseStepTooLarge,
            format!(
                "{dose} is more than {} from the last dose {reference}",
                dosing.max_step()
            ),
        );
    }
    Ok(())
}
