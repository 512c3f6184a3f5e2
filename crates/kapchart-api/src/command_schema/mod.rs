//! The command body as the API parses it: wire types whose schemas the
//! OpenAPI document is generated from.
//!
//! The domain crate defines every command and parses every value (its
//! checked types and the bounds of `kapchart_domain::input`), and carries
//! no HTTP or schema crate. Here, at the edge, each command has a wire
//! struct (`#[derive(Deserialize, ToSchema)]`, `deny_unknown_fields`)
//! whose fields are the domain's own checked types, parsed by the domain's
//! own deserializers, each annotated with the schema of what that parser
//! accepts ([`values`]). `POST /api/v1/clients/{id}/commands` parses the
//! request into these types ([`CommandRequest`]) and converts it into the
//! domain's `Command` parts, so the document describes exactly what the
//! server parses: a field added, renamed or made optional here changes
//! both. A refusal names the same field path as the domain's own parser
//! (`body.RecordPayment.amount`), with the same message.
//!
//! The commands are split by protocol phase: [`intake`] (registration to
//! preparation), [`sessions`] (explorations, integrations, doses,
//! authorizations), [`record`] (outcomes to discharge); [`practice`] holds
//! the practice's own commands (`POST /api/v1/practice/commands`).
//! [`examples`] holds one example request per command, in an order a
//! record accepts them; [`markdown`] writes docs/commands.md from the
//! document and the examples. `tests/command_schema.rs` parses every
//! example, and every mutation of it, with these types and with the
//! domain's own parser, and requires the same answer.

pub mod examples;
pub mod intake;
pub mod markdown;
pub mod practice;
pub mod record;
pub mod sessions;
pub mod values;

use kapchart_domain::{
    AuthorizationId, BloodPressure as DomainBloodPressure, CommandId, DateRange as DomainDateRange,
    Dosing as DomainDosing, Milligrams, ParseError, Rule, Text, TimeSpan as DomainTimeSpan, input,
    parse_json,
};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

use crate::error::ApiError;

/// Deserializes the wire form `W` of a checked value and builds the value
/// with the domain's constructor, refusing as the domain's own parser does
/// (the constructor's message, at the field's path).
pub(crate) fn checked<'de, D, W, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    W: Deserialize<'de> + TryInto<T, Error = ParseError>,
{
    W::deserialize(d)?.try_into().map_err(D::Error::custom)
}

/// Defines a wire struct of a command whose fields are those of the
/// domain's struct of the same shape, and its conversion (field by field).
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        $name:ident => $domain:path {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl From<$name> for $domain {
            fn from(wire: $name) -> Self {
                Self { $( $field: wire.$field, )* }
            }
        }
    };
}
pub(crate) use wire_struct;

/// When a session was held or is booked: its end after its start, at most
/// 24 hours long.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeSpan {
    /// When it starts.
    #[serde(deserialize_with = "input::instant")]
    #[schema(value_type = values::DateTime)]
    pub start: chrono::DateTime<chrono::Utc>,
    /// When it ends: after the start, at most 24 hours later.
    #[serde(deserialize_with = "input::instant")]
    #[schema(value_type = values::DateTime)]
    pub end: chrono::DateTime<chrono::Utc>,
}

impl TryFrom<TimeSpan> for DomainTimeSpan {
    type Error = ParseError;
    fn try_from(w: TimeSpan) -> Result<Self, ParseError> {
        DomainTimeSpan::new(w.start, w.end)
    }
}

/// The days a prescription covers, both included: `until` not before
/// `from`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DateRange {
    /// The first day covered.
    #[serde(deserialize_with = "input::date")]
    #[schema(value_type = values::Date)]
    pub from: chrono::NaiveDate,
    /// The last day covered: not before `from`.
    #[serde(deserialize_with = "input::date")]
    #[schema(value_type = values::Date)]
    pub until: chrono::NaiveDate,
}

impl TryFrom<DateRange> for DomainDateRange {
    type Error = ParseError;
    fn try_from(w: DateRange) -> Result<Self, ParseError> {
        DomainDateRange::new(w.from, w.until)
    }
}

/// A prescription's dose bounds: `min <= starting <= max`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dosing {
    /// The lowest dose allowed.
    #[serde(deserialize_with = "input::dose")]
    #[schema(value_type = values::Milligrams)]
    pub min: Milligrams,
    /// The highest dose allowed: not below `min`.
    #[serde(deserialize_with = "input::dose")]
    #[schema(value_type = values::Milligrams)]
    pub max: Milligrams,
    /// The first ordered dose: between `min` and `max`.
    #[serde(deserialize_with = "input::dose")]
    #[schema(value_type = values::Milligrams)]
    pub starting: Milligrams,
    /// The largest change between consecutive doses.
    #[serde(deserialize_with = "input::dose")]
    #[schema(value_type = values::Milligrams)]
    pub max_step: Milligrams,
}

impl TryFrom<Dosing> for DomainDosing {
    type Error = ParseError;
    fn try_from(w: Dosing) -> Result<Self, ParseError> {
        DomainDosing::new(w.min, w.max, w.starting, w.max_step)
    }
}

/// A blood pressure reading in mmHg: systolic above diastolic.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BloodPressure {
    /// Systolic pressure: 40 to 300 mmHg, above the diastolic.
    #[schema(minimum = 40, maximum = 300)]
    pub systolic: i64,
    /// Diastolic pressure: 20 to 200 mmHg.
    #[schema(minimum = 20, maximum = 200)]
    pub diastolic: i64,
}

impl TryFrom<BloodPressure> for DomainBloodPressure {
    type Error = ParseError;
    fn try_from(w: BloodPressure) -> Result<Self, ParseError> {
        DomainBloodPressure::new(w.systolic, w.diastolic)
    }
}

/// A reason to go past a soft stop, or, for a prescriber-override rule,
/// the prescriber's authorization on the record that allows going past it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// The rule being overridden: a rule whose severity is `soft` or
    /// `prescriber_override`.
    #[schema(value_type = values::RuleCode)]
    pub rule: Rule,
    /// Why.
    #[serde(deserialize_with = "input::text")]
    #[schema(value_type = values::Text)]
    pub reason: Text,
    /// For a prescriber-override rule: the id of the `AuthorizeOverride`
    /// entry the client's prescriber recorded on this record for this rule
    /// and session.
    #[serde(default)]
    #[schema(value_type = Option<values::Id>)]
    pub authorization: Option<AuthorizationId>,
}

impl From<Override> for kapchart_domain::Override {
    fn from(w: Override) -> Self {
        Self {
            rule: w.rule,
            reason: w.reason,
            authorization: w.authorization,
        }
    }
}

/// What to do: exactly one command, tagged by its name, e.g.
/// `{"RecordPayment": {...}}` (docs/commands.md gives each command's
/// fields and an example).
#[derive(Debug, Deserialize, ToSchema)]
pub enum CommandBody {
    /// Opens the record (front desk or therapist).
    RegisterClient(intake::RegisterClient),
    /// Mental health intake with the KAP therapist.
    RecordIntake(intake::RecordIntake),
    /// Refers the client to a named prescriber (therapist or front desk).
    ReferClient(intake::ReferClient),
    /// Medical evaluation with the affiliated prescriber.
    RecordMedicalEvaluation(intake::RecordMedicalEvaluation),
    /// A ketamine prescription.
    IssuePrescription(intake::IssuePrescription),
    /// Signed informed consent.
    RecordConsent(intake::RecordConsent),
    /// Books a preparation session.
    SchedulePreparation(intake::ScheduleSession),
    /// A preparation session held.
    RecordPreparation(intake::RecordPreparation),
    /// Books an exploration session.
    ScheduleExploration(intake::ScheduleSession),
    /// An exploration session held, with its dose.
    #[serde(deserialize_with = "checked::<_, sessions::RecordExploration, _>")]
    #[schema(value_type = sessions::RecordExploration)]
    RecordExploration(kapchart_domain::RecordExploration),
    /// Books an integration session.
    ScheduleIntegration(sessions::ScheduleIntegration),
    /// An integration session held.
    RecordIntegration(sessions::RecordIntegration),
    /// Changes the ordered dose.
    AdjustDose(sessions::AdjustDose),
    /// The client's prescriber authorizes going past a prescriber-override
    /// rule for one session.
    AuthorizeOverride(sessions::AuthorizeOverride),
    /// A PHQ-9, GAD-7, PCL-5 or BDI-II score.
    RecordOutcomeMeasure(record::RecordOutcomeMeasure),
    /// An ongoing care session held.
    RecordOngoingCare(record::RecordOngoingCare),
    /// A treatment at an affiliate (IV, IM): never an in-practice dose.
    RecordExternalTreatment(record::RecordExternalTreatment),
    /// Cancels a scheduled session.
    CancelSession(record::CancelSession),
    /// The client did not attend a scheduled session.
    RecordNoShow(record::RecordNoShow),
    /// A payment received.
    RecordPayment(record::RecordPayment),
    /// Corrects an entry by appending; the original stays visible.
    AmendEntry(record::AmendEntry),
    /// Ends care.
    DischargeClient(record::DischargeClient),
}

impl From<CommandBody> for kapchart_domain::CommandBody {
    fn from(wire: CommandBody) -> Self {
        use kapchart_domain::CommandBody as D;
        match wire {
            CommandBody::RegisterClient(c) => D::RegisterClient(c.into()),
            CommandBody::RecordIntake(c) => D::RecordIntake(c.into()),
            CommandBody::ReferClient(c) => D::ReferClient(c.into()),
            CommandBody::RecordMedicalEvaluation(c) => D::RecordMedicalEvaluation(c.into()),
            CommandBody::IssuePrescription(c) => D::IssuePrescription(c.into()),
            CommandBody::RecordConsent(c) => D::RecordConsent(c.into()),
            CommandBody::SchedulePreparation(c) => D::SchedulePreparation(c.into()),
            CommandBody::RecordPreparation(c) => D::RecordPreparation(c.into()),
            CommandBody::ScheduleExploration(c) => D::ScheduleExploration(c.into()),
            CommandBody::RecordExploration(c) => D::RecordExploration(c),
            CommandBody::ScheduleIntegration(c) => D::ScheduleIntegration(c.into()),
            CommandBody::RecordIntegration(c) => D::RecordIntegration(c.into()),
            CommandBody::AdjustDose(c) => D::AdjustDose(c.into()),
            CommandBody::AuthorizeOverride(c) => D::AuthorizeOverride(c.into()),
            CommandBody::RecordOutcomeMeasure(c) => D::RecordOutcomeMeasure(c.into()),
            CommandBody::RecordOngoingCare(c) => D::RecordOngoingCare(c.into()),
            CommandBody::RecordExternalTreatment(c) => D::RecordExternalTreatment(c.into()),
            CommandBody::CancelSession(c) => D::CancelSession(c.into()),
            CommandBody::RecordNoShow(c) => D::RecordNoShow(c.into()),
            CommandBody::RecordPayment(c) => D::RecordPayment(c.into()),
            CommandBody::AmendEntry(c) => D::AmendEntry(c.into()),
            CommandBody::DischargeClient(c) => D::DischargeClient(c.into()),
        }
    }
}

/// A command to one client's record. The actor and the time come from the
/// token and the server's clock.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    /// Chosen by the caller: the same id with the same body is applied
    /// once and answered with the first result; with a different body it
    /// is refused (409). 1 to 64 ASCII letters, digits, `-` and `_`.
    #[schema(value_type = values::Id)]
    pub id: CommandId,
    /// Reasons given for going past soft stops; for a prescriber-override
    /// rule, the prescriber's authorization.
    #[serde(default)]
    pub overrides: Vec<Override>,
    /// The command.
    pub body: CommandBody,
}

impl CommandRequest {
    /// Parses a request from its JSON text: every field checked, the first
    /// bad one named (`body.RecordPayment.amount`).
    ///
    /// # Errors
    /// 400 naming the field.
    pub fn parse(text: &str) -> Result<crate::CommandRequest, ApiError> {
        let wire: CommandRequest = parse_json(text).map_err(|e| ApiError::BadRequest {
            field: e.field,
            message: e.message,
        })?;
        Ok(crate::CommandRequest {
            id: wire.id,
            overrides: wire.overrides.into_iter().map(Into::into).collect(),
            body: wire.body.into(),
        })
    }
}

/// Marks each branch of `CommandBody`'s and `PracticeCommandBody`'s
/// `oneOf` as holding its command's name alone (`additionalProperties:
/// false`), as the parser takes it: a body naming two commands is refused.
#[derive(Debug)]
pub struct OneCommand;

impl utoipa::Modify for OneCommand {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::{AdditionalProperties, Schema};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for name in ["CommandBody", "PracticeCommandBody"] {
            let Some(RefOr::T(Schema::OneOf(body))) = components.schemas.get_mut(name) else {
                continue;
            };
            for item in &mut body.items {
                if let RefOr::T(Schema::Object(branch)) = item {
                    branch.additional_properties =
                        Some(Box::new(AdditionalProperties::FreeForm(false)));
                }
            }
        }
    }
}
