//! Commands: what staff ask the record to do.
//!
//! A [`Command`] is an envelope (caller-chosen id, actor, time, overrides)
//! around a [`CommandBody`]. Commands are an API boundary: their JSON form is
//! externally tagged (`{"RecordExploration": {...}}`) and every field is a
//! checked type, so a command that parses is well-formed; whether it is
//! *allowed* is decided by the aggregate.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::rules::Rule;
use crate::types::{
    AuthorizationId, BloodPressure, Cents, ClientId, CommandId, DateRange, Icd10Code, LotNumber,
    Milligrams, OutcomeMeasure, ParseError, PaymentId, PersonName, PrescriptionId, SessionId, Text,
    TimeSpan, UserId,
};

/// Staff roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// KAP therapist: intake, preparation, exploration, integration, ongoing care.
    Therapist,
    /// Affiliated prescriber: medical evaluation, prescription, dose adjustments, overrides.
    Prescriber,
    /// Front desk and billing: registration, scheduling, payments.
    FrontDesk,
    /// Auditor or compliance officer: read-only.
    Auditor,
    /// Administrator: users and configuration; no clinical commands.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Therapist,
        Role::Prescriber,
        Role::FrontDesk,
        Role::Auditor,
        Role::Admin,
    ];

    /// Every role's name, as serialized.
    pub const NAMES: [&'static str; 5] =
        ["therapist", "prescriber", "front_desk", "auditor", "admin"];

    /// Whether the role may read clinical records (of the clients it may
    /// read at all). Refusals to the others carry only the rule's neutral
    /// summary.
    pub fn reads_clinical_records(self) -> bool {
        matches!(self, Role::Therapist | Role::Prescriber | Role::Auditor)
    }

    /// The role's name as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Therapist => "therapist",
            Role::Prescriber => "prescriber",
            Role::FrontDesk => "front_desk",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                ParseError::new(
                    "role",
                    format!("expected one of {}", Role::NAMES.join(", ")),
                )
            })
    }
}

/// Who issues a command. Authenticated at the edge; trusted here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// The user.
    pub id: UserId,
    /// The role they act in.
    pub role: Role,
}

/// A reason to go past a soft stop, or, for a prescriber-override rule, the
/// prescriber's authorization on the record that allows going past it.
///
/// Nobody's authority is taken from the request: a prescriber-override rule
/// is passed only by referencing an `AuthorizeOverride` entry that the
/// client's prescriber recorded with their own credential.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// The rule being overridden.
    pub rule: Rule,
    /// Why.
    #[serde(deserialize_with = "crate::input::text")]
    pub reason: Text,
    /// For prescriber-override rules: the authorization the client's
    /// prescriber recorded on this record for this rule and session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<AuthorizationId>,
}

/// A command to one client's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Command {
    /// Caller-chosen id: a command retried with the same id is applied once.
    pub id: CommandId,
    /// Who issues it.
    pub actor: Actor,
    /// When it was issued. The domain has no clock: this is "now".
    #[serde(deserialize_with = "crate::input::instant")]
    pub issued_at: DateTime<Utc>,
    /// Reasons given for going past soft stops.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Override>,
    /// What to do.
    pub body: CommandBody,
}

impl Command {
    /// A command without overrides.
    pub fn new(id: CommandId, actor: Actor, issued_at: DateTime<Utc>, body: CommandBody) -> Self {
        Self {
            id,
            actor,
            issued_at,
            overrides: Vec::new(),
            body,
        }
    }

    /// Adds an override reason for a soft stop.
    pub fn with_override(mut self, rule: Rule, reason: Text) -> Self {
        self.overrides.push(Override {
            rule,
            reason,
            authorization: None,
        });
        self
    }

    /// Adds an override that references a prescriber's authorization.
    pub fn with_authorized_override(
        mut self,
        rule: Rule,
        reason: Text,
        authorization: AuthorizationId,
    ) -> Self {
        self.overrides.push(Override {
            rule,
            reason,
            authorization: Some(authorization),
        });
        self
    }

    /// The fingerprint that tells a retry (same id, same content) from a
    /// reused id: lowercase hex SHA-256 of the JSON of actor, overrides and
    /// body. `issued_at` is left out, so a retry stamped later still matches.
    pub fn fingerprint(&self) -> String {
        #[derive(Serialize)]
        struct Fingerprinted<'a> {
            actor: &'a Actor,
            overrides: &'a [Override],
            body: &'a CommandBody,
        }
        // Serializing plain structs, enums and vectors of checked types
        // cannot fail and is deterministic (no maps, no floats).
        let bytes = serde_json::to_vec(&Fingerprinted {
            actor: &self.actor,
            overrides: &self.overrides,
            body: &self.body,
        })
        .unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }
}

/// Everything a practice asks of a client's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CommandBody {
    /// Opens the record (front desk or therapist).
    RegisterClient(RegisterClient),
    /// Mental health intake with the KAP therapist.
    RecordIntake(RecordIntake),
    /// Refers the client to a named prescriber (therapist or front desk).
    ReferClient(ReferClient),
    /// Medical evaluation with the affiliated prescriber.
    RecordMedicalEvaluation(RecordMedicalEvaluation),
    /// A ketamine prescription.
    IssuePrescription(IssuePrescription),
    /// Signed informed consent.
    RecordConsent(RecordConsent),
    /// Books a preparation session.
    SchedulePreparation(ScheduleSession),
    /// A preparation session held.
    RecordPreparation(RecordPreparation),
    /// Books an exploration session.
    ScheduleExploration(ScheduleSession),
    /// An exploration session held, with its dose.
    RecordExploration(RecordExploration),
    /// Books an integration session.
    ScheduleIntegration(ScheduleIntegration),
    /// An integration session held.
    RecordIntegration(RecordIntegration),
    /// Changes the ordered dose.
    AdjustDose(AdjustDose),
    /// The client's prescriber authorizes going past a prescriber-override
    /// rule for one session.
    AuthorizeOverride(AuthorizeOverride),
    /// A PHQ-9, GAD-7, PCL-5 or BDI-II score.
    RecordOutcomeMeasure(RecordOutcomeMeasure),
    /// An ongoing care session held.
    RecordOngoingCare(RecordOngoingCare),
    /// A treatment at an affiliate (IV, IM): never an in-practice dose.
    RecordExternalTreatment(RecordExternalTreatment),
    /// Cancels a scheduled session.
    CancelSession(CancelSession),
    /// The client did not attend a scheduled session.
    RecordNoShow(RecordNoShow),
    /// A payment received.
    RecordPayment(RecordPayment),
    /// Corrects an entry by appending; the original stays visible.
    AmendEntry(AmendEntry),
    /// Ends care.
    DischargeClient(DischargeClient),
}

impl CommandBody {
    /// The command's name, e.g. `RecordExploration`.
    pub fn name(&self) -> &'static str {
        match self {
            CommandBody::RegisterClient(_) => "RegisterClient",
            CommandBody::RecordIntake(_) => "RecordIntake",
            CommandBody::ReferClient(_) => "ReferClient",
            CommandBody::RecordMedicalEvaluation(_) => "RecordMedicalEvaluation",
            CommandBody::IssuePrescription(_) => "IssuePrescription",
            CommandBody::RecordConsent(_) => "RecordConsent",
            CommandBody::SchedulePreparation(_) => "SchedulePreparation",
            CommandBody::RecordPreparation(_) => "RecordPreparation",
            CommandBody::ScheduleExploration(_) => "ScheduleExploration",
            CommandBody::RecordExploration(_) => "RecordExploration",
            CommandBody::ScheduleIntegration(_) => "ScheduleIntegration",
            CommandBody::RecordIntegration(_) => "RecordIntegration",
            CommandBody::AdjustDose(_) => "AdjustDose",
            CommandBody::AuthorizeOverride(_) => "AuthorizeOverride",
            CommandBody::RecordOutcomeMeasure(_) => "RecordOutcomeMeasure",
            CommandBody::RecordOngoingCare(_) => "RecordOngoingCare",
            CommandBody::RecordExternalTreatment(_) => "RecordExternalTreatment",
            CommandBody::CancelSession(_) => "CancelSession",
            CommandBody::RecordNoShow(_) => "RecordNoShow",
            CommandBody::RecordPayment(_) => "RecordPayment",
            CommandBody::AmendEntry(_) => "AmendEntry",
            CommandBody::DischargeClient(_) => "DischargeClient",
        }
    }
}

/// Opens a client's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterClient {
    /// Must equal the id of the record it is sent to (checked at the edge).
    pub client_id: ClientId,
    /// Legal name.
    #[serde(deserialize_with = "crate::input::name")]
    pub name: PersonName,
    /// Date of birth; not after the day of registration.
    #[serde(deserialize_with = "crate::input::date")]
    pub date_of_birth: NaiveDate,
    /// The client's KAP therapist.
    pub therapist: UserId,
    /// The referred prescriber, if known yet.
    #[serde(default)]
    pub prescriber: Option<UserId>,
}

/// Refers the client to a prescriber: only the prescriber the client is
/// referred to may evaluate, prescribe, adjust doses, authorize overrides
/// or read the chart. A new referral replaces the previous one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferClient {
    /// The prescriber: an active prescriber account.
    pub prescriber: UserId,
    /// Why, or what the prescriber is asked for.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::input::opt_text"
    )]
    pub note: Option<Text>,
}

/// Outcome of the mental health intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Suitability {
    /// KAP is a fit.
    Suitable,
    /// KAP is not a fit (it is not a first-line treatment).
    NotSuitable,
}

/// Mental health intake with the therapist (the actor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordIntake {
    /// Session id for the intake.
    pub session: SessionId,
    /// When it was held.
    #[serde(deserialize_with = "crate::input::span")]
    pub span: TimeSpan,
    /// Whether KAP suits the client.
    pub finding: Suitability,
    /// ICD-10 diagnoses, for superbills.
    #[serde(default)]
    pub diagnoses: Vec<Icd10Code>,
    /// Clinical notes.
    #[serde(deserialize_with = "crate::input::text")]
    pub notes: Text,
}

/// Outcome of the medical evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clearance {
    /// Medically cleared for ketamine.
    Cleared,
    /// Not cleared.
    NotCleared,
}

/// Medical evaluation by the prescriber (the actor), who must be the
/// prescriber the client is referred to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordMedicalEvaluation {
    /// Day of the evaluation.
    #[serde(deserialize_with = "crate::input::date")]
    pub evaluated_on: NaiveDate,
    /// Whether the client is cleared.
    pub finding: Clearance,
    /// Clinical notes.
    #[serde(deserialize_with = "crate::input::text")]
    pub notes: Text,
}

/// The drug. Ketamine is the only one the practice doses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Drug {
    /// Ketamine (DEA Schedule III).
    Ketamine,
}

/// Route of administration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Lozenge under the tongue: the practice's route.
    Sublingual,
    /// Intravenous: affiliates only.
    Intravenous,
    /// Intramuscular: affiliates only.
    Intramuscular,
}

/// The dose bounds of a prescription: `min <= starting <= max`, `max_step >= 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawDosing")]
pub struct Dosing {
    min: Milligrams,
    max: Milligrams,
    starting: Milligrams,
    max_step: Milligrams,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDosing {
    min: Milligrams,
    max: Milligrams,
    starting: Milligrams,
    max_step: Milligrams,
}

impl TryFrom<RawDosing> for Dosing {
    type Error = ParseError;
    fn try_from(r: RawDosing) -> Result<Self, ParseError> {
        Self::new(r.min, r.max, r.starting, r.max_step)
    }
}

impl Dosing {
    /// Checked dose bounds.
    pub fn new(
        min: Milligrams,
        max: Milligrams,
        starting: Milligrams,
        max_step: Milligrams,
    ) -> Result<Self, ParseError> {
        if max < min {
            return Err(ParseError::new("dosing", "max must not be below min"));
        }
        if starting < min || starting > max {
            return Err(ParseError::new(
                "dosing",
                "starting must lie between min and max",
            ));
        }
        Ok(Self {
            min,
            max,
            starting,
            max_step,
        })
    }

    /// Lowest dose allowed.
    pub fn min(&self) -> Milligrams {
        self.min
    }
    /// Highest dose allowed.
    pub fn max(&self) -> Milligrams {
        self.max
    }
    /// First ordered dose.
    pub fn starting(&self) -> Milligrams {
        self.starting
    }
    /// Largest change between consecutive doses.
    pub fn max_step(&self) -> Milligrams {
        self.max_step
    }
    /// True when `dose` lies within `min..=max`.
    pub fn allows(&self, dose: Milligrams) -> bool {
        self.min <= dose && dose <= self.max
    }
}

/// A count of authorized exploration sessions: 1 to 52.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u16")]
pub struct SessionCount(u16);

impl SessionCount {
    /// A checked count.
    pub fn new(n: i64) -> Result<Self, ParseError> {
        if !(1..=52).contains(&n) {
            return Err(ParseError::new(
                "authorized sessions",
                format!("must be 1–52, got {n}"),
            ));
        }
        Ok(Self(n as u16))
    }
    /// The count.
    pub fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<i64> for SessionCount {
    type Error = ParseError;
    fn try_from(n: i64) -> Result<Self, ParseError> {
        Self::new(n)
    }
}

impl From<SessionCount> for u16 {
    fn from(n: SessionCount) -> u16 {
        n.0
    }
}

/// A ketamine prescription by the prescriber (the actor). A new
/// prescription supersedes the previous one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuePrescription {
    /// Prescription id.
    pub prescription: PrescriptionId,
    /// Drug.
    pub drug: Drug,
    /// Days it covers.
    #[serde(deserialize_with = "crate::input::date_range")]
    pub valid: DateRange,
    /// Dose bounds.
    #[serde(deserialize_with = "crate::input::dosing")]
    pub dosing: Dosing,
    /// Exploration sessions it authorizes.
    pub authorized_sessions: SessionCount,
    /// Instructions.
    #[serde(deserialize_with = "crate::input::text")]
    pub instructions: Text,
}

/// Signed informed consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordConsent {
    /// Day signed.
    #[serde(deserialize_with = "crate::input::date")]
    pub signed_on: NaiveDate,
    /// Which consent form (version or title).
    #[serde(deserialize_with = "crate::input::label")]
    pub form: Text,
}

/// Books a session (preparation or exploration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSession {
    /// New session id.
    pub session: SessionId,
    /// When.
    #[serde(deserialize_with = "crate::input::span")]
    pub span: TimeSpan,
    /// With whom.
    pub therapist: UserId,
}

/// A preparation session held by the therapist (the actor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordPreparation {
    /// The session (scheduled before, or new).
    pub session: SessionId,
    /// When it was held.
    #[serde(deserialize_with = "crate::input::span")]
    pub span: TimeSpan,
    /// Intentions set.
    #[serde(deserialize_with = "crate::input::text")]
    pub intentions: Text,
    /// Aftercare plan.
    #[serde(deserialize_with = "crate::input::text")]
    pub aftercare_plan: Text,
    /// Notes.
    #[serde(deserialize_with = "crate::input::text")]
    pub notes: Text,
}

/// One in-practice dose.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Administration {
    /// Drug.
    pub drug: Drug,
    /// Route (must be sublingual in practice).
    pub route: Route,
    /// Dose.
    pub dose: Milligrams,
    /// Lot number of the medication.
    pub lot_number: LotNumber,
    /// Time given.
    pub given_at: DateTime<Utc>,
}

/// Severity of an adverse event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdverseSeverity {
    /// Mild.
    Mild,
    /// Moderate.
    Moderate,
    /// Severe.
    Severe,
}

/// An adverse event during a session.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdverseEvent {
    /// What happened.
    pub description: Text,
    /// How severe.
    pub severity: AdverseSeverity,
}

/// How the client went home. Driving is not an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Departure {
    /// Driven by a companion.
    Companion,
    /// Taxi or rideshare.
    TaxiOrRideshare,
    /// Public transport.
    PublicTransport,
    /// On foot.
    Walked,
}

/// An exploration session held by the therapist (the actor). Times are
/// consistent: the dose is given within the session, discharge comes after
/// the dose and no later than the session's end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawRecordExploration")]
pub struct RecordExploration {
    session: SessionId,
    span: TimeSpan,
    administration: Option<Administration>,
    not_dosed_reason: Option<Text>,
    bp_before: BloodPressure,
    bp_after: BloodPressure,
    observations: Text,
    adverse_events: Vec<AdverseEvent>,
    discharged_at: DateTime<Utc>,
    departure: Departure,
}

/// The unchecked form of [`RecordExploration`], for building one in code.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecordExploration {
    /// The session (scheduled before, or new).
    pub session: SessionId,
    /// When it was held (arrival to discharge).
    #[serde(deserialize_with = "crate::input::span")]
    pub span: TimeSpan,
    /// The dose given, if any.
    #[serde(default, deserialize_with = "crate::input::administration")]
    pub administration: Option<Administration>,
    /// Why no dose was given (required without an administration).
    #[serde(default, deserialize_with = "crate::input::opt_text")]
    pub not_dosed_reason: Option<Text>,
    /// Blood pressure before dosing.
    pub bp_before: BloodPressure,
    /// Blood pressure after.
    pub bp_after: BloodPressure,
    /// Observations.
    #[serde(deserialize_with = "crate::input::text")]
    pub observations: Text,
    /// Adverse events, if any.
    #[serde(default, deserialize_with = "crate::input::adverse_events")]
    pub adverse_events: Vec<AdverseEvent>,
    /// Discharge time.
    #[serde(deserialize_with = "crate::input::instant")]
    pub discharged_at: DateTime<Utc>,
    /// How the client went home.
    pub departure: Departure,
}

impl TryFrom<RawRecordExploration> for RecordExploration {
    type Error = ParseError;
    fn try_from(r: RawRecordExploration) -> Result<Self, ParseError> {
        let what = "exploration";
        match (&r.administration, &r.not_dosed_reason) {
            (None, None) => {
                return Err(ParseError::new(
                    what,
                    "not_dosed_reason is required when no administration is recorded",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(ParseError::new(
                    what,
                    "not_dosed_reason must be absent when a dose was given",
                ));
            }
            _ => {}
        }
        if let Some(a) = &r.administration {
            if !r.span.contains(a.given_at) {
                return Err(ParseError::new(
                    what,
                    "administration.given_at must lie within span",
                ));
            }
            if r.discharged_at <= a.given_at {
                return Err(ParseError::new(
                    what,
                    "discharged_at must be after administration.given_at",
                ));
            }
        }
        if !r.span.contains(r.discharged_at) {
            return Err(ParseError::new(what, "discharged_at must lie within span"));
        }
        Ok(Self {
            session: r.session,
            span: r.span,
            administration: r.administration,
            not_dosed_reason: r.not_dosed_reason,
            bp_before: r.bp_before,
            bp_after: r.bp_after,
            observations: r.observations,
            adverse_events: r.adverse_events,
            discharged_at: r.discharged_at,
            departure: r.departure,
        })
    }
}

impl RecordExploration {
    /// The session.
    pub fn session(&self) -> &SessionId {
        &self.session
    }
    /// When it was held.
    pub fn span(&self) -> &TimeSpan {
        &self.span
    }
    /// The dose given, if any.
    pub fn administration(&self) -> Option<&Administration> {
        self.administration.as_ref()
    }
    /// Why no dose was given.
    pub fn not_dosed_reason(&self) -> Option<&Text> {
        self.not_dosed_reason.as_ref()
    }
    /// Pre-dose blood pressure.
    pub fn bp_before(&self) -> BloodPressure {
        self.bp_before
    }
    /// Post-dose blood pressure.
    pub fn bp_after(&self) -> BloodPressure {
        self.bp_after
    }
    /// Observations.
    pub fn observations(&self) -> &Text {
        &self.observations
    }
    /// Adverse events.
    pub fn adverse_events(&self) -> &[AdverseEvent] {
        &self.adverse_events
    }
    /// Discharge time.
    pub fn discharged_at(&self) -> DateTime<Utc> {
        self.discharged_at
    }
    /// How the client went home.
    pub fn departure(&self) -> Departure {
        self.departure
    }
}

/// Books an integration session for an exploration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleIntegration {
    /// New session id.
    pub session: SessionId,
    /// When.
    #[serde(deserialize_with = "crate::input::span")]
    pub span: TimeSpan,
    /// With whom.
    pub therapist: UserId,
    /// The exploration it integrates.
    pub exploration: SessionId,
}

/// An integration session held by the therapist (the actor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordIntegration {
    /// The session (scheduled before, or new).
    pub session: SessionId,
    /// When it was held.
    #[serde(deserialize_with = "crate::input::span")]
    pub span: TimeSpan,
    /// The exploration it integrates.
    pub exploration: SessionId,
    /// Notes.
    #[serde(deserialize_with = "crate::input::text")]
    pub notes: Text,
}

/// A new ordered dose, by the prescriber (the actor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustDose {
    /// The dose ordered for the next exploration.
    #[serde(deserialize_with = "crate::input::dose")]
    pub dose: Milligrams,
    /// Why.
    #[serde(deserialize_with = "crate::input::text")]
    pub reason: Text,
}

/// The client's prescriber (the actor) authorizes one session to go past a
/// prescriber-override rule, e.g. a dose with pre-dose blood pressure above
/// the practice threshold. The therapist's `RecordExploration` then
/// references it by id in its override; it is used once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeOverride {
    /// Chosen by the prescriber; unique in the client's record.
    pub authorization: AuthorizationId,
    /// The rule: one whose severity is `prescriber_override`.
    pub rule: Rule,
    /// The exploration session it covers: a scheduled exploration of the
    /// client, or the id the exploration will be recorded under.
    pub session: SessionId,
    /// The last day it may be used (the session's date must not be later).
    #[serde(deserialize_with = "crate::input::date")]
    pub valid_until: NaiveDate,
    /// For the blood-pressure rule: the highest pre-dose reading the
    /// prescriber authorizes (both figures); none means any reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling: Option<BloodPressure>,
    /// The prescriber's clinical reason.
    #[serde(deserialize_with = "crate::input::text")]
    pub reason: Text,
}

/// An outcome measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordOutcomeMeasure {
    /// Instrument and score.
    pub measure: OutcomeMeasure,
    /// Day administered.
    #[serde(deserialize_with = "crate::input::date")]
    pub administered_on: NaiveDate,
}

/// An ongoing care session held by the therapist (the actor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordOngoingCare {
    /// Session id.
    pub session: SessionId,
    /// When it was held.
    #[serde(deserialize_with = "crate::input::span")]
    pub span: TimeSpan,
    /// Notes.
    #[serde(deserialize_with = "crate::input::text")]
    pub notes: Text,
}

/// A treatment at an affiliate provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordExternalTreatment {
    /// Day of treatment.
    #[serde(deserialize_with = "crate::input::date")]
    pub treated_on: NaiveDate,
    /// The affiliate provider.
    #[serde(deserialize_with = "crate::input::label")]
    pub provider: Text,
    /// Route.
    pub route: Route,
    /// Dose, if reported.
    #[serde(default, deserialize_with = "crate::input::opt_dose")]
    pub dose: Option<Milligrams>,
    /// Notes.
    #[serde(deserialize_with = "crate::input::text")]
    pub notes: Text,
}

/// Why a session was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// The client asked.
    ClientRequest,
    /// The practice (therapist unavailable, ...).
    Practice,
    /// A clinical reason (illness, contraindication).
    Clinical,
}

/// Cancels a scheduled session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelSession {
    /// The session.
    pub session: SessionId,
    /// Why.
    pub reason: CancelReason,
    /// Details, if any.
    #[serde(default, deserialize_with = "crate::input::opt_text")]
    pub note: Option<Text>,
}

/// A scheduled session the client did not attend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordNoShow {
    /// The session.
    pub session: SessionId,
}

/// How a payment was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// Card.
    Card,
    /// Cash.
    Cash,
    /// Check.
    Check,
    /// Bank transfer.
    BankTransfer,
}

/// Who paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payer {
    /// The client.
    Client,
    /// An insurer.
    Insurer,
}

/// A payment received (front desk).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordPayment {
    /// Payment id.
    pub payment: PaymentId,
    /// Amount: more than zero, at most $100,000.00.
    #[serde(deserialize_with = "crate::input::payment")]
    pub amount: Cents,
    /// Method.
    pub method: PaymentMethod,
    /// Who paid.
    pub payer: Payer,
    /// Day received.
    #[serde(deserialize_with = "crate::input::date")]
    pub received_on: NaiveDate,
    /// A session it pays for, if any.
    #[serde(default)]
    pub session: Option<SessionId>,
}

/// Corrects an entry by appending (HIPAA 164.526): the original stays
/// visible, linked from the amendment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmendEntry {
    /// Sequence number of the entry amended (1-based, as stored).
    #[serde(deserialize_with = "crate::input::entry")]
    pub entry: u64,
    /// Why it is amended.
    #[serde(deserialize_with = "crate::input::text")]
    pub reason: Text,
    /// The corrected content.
    #[serde(deserialize_with = "crate::input::text")]
    pub corrected_content: Text,
}

/// Why care ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DischargeReason {
    /// Protocol and ongoing care complete.
    CareComplete,
    /// The client chose to stop.
    ClientChoice,
    /// An assessment found KAP not suitable.
    NotSuitable,
    /// Referred to another provider.
    ReferredOut,
}

/// Ends care. Open scheduled sessions are cancelled with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DischargeClient {
    /// Day of discharge.
    #[serde(deserialize_with = "crate::input::date")]
    pub discharged_on: NaiveDate,
    /// Why.
    pub reason: DischargeReason,
    /// Discharge summary.
    #[serde(deserialize_with = "crate::input::text")]
    pub summary: Text,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_match_serde_and_parse_back() {
        for (role, name) in Role::ALL.into_iter().zip(Role::NAMES) {
            assert_eq!(role.as_str(), name);
            assert_eq!(serde_json::to_string(&role).unwrap(), format!("\"{name}\""));
            assert_eq!(name.parse::<Role>(), Ok(role));
        }
        assert!("janitor".parse::<Role>().is_err());
    }
}
