//! The commands of the dosing sessions: explorations, integrations, dose
//! adjustments, and the prescriber's authorizations to go past a rule.

use chrono::{DateTime, NaiveDate, Utc};
use kapchart_domain::{
    AdverseSeverity, AuthorizationId, BloodPressure, Departure, Drug, LotNumber, Milligrams,
    ParseError, RawRecordExploration, Route, Rule, SessionId, Text, TimeSpan, UserId, input,
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{checked, values, wire_struct};

/// One in-practice dose.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Administration {
    /// The drug.
    #[schema(value_type = values::Drug)]
    pub drug: Drug,
    /// The route: in practice, `sublingual` (`dose.route_not_in_practice`
    /// otherwise).
    #[schema(value_type = values::Route)]
    pub route: Route,
    /// The dose: within the prescription's bounds and step.
    #[serde(deserialize_with = "input::dose")]
    #[schema(value_type = values::Milligrams)]
    pub dose: Milligrams,
    /// Lot number of the medication.
    #[schema(value_type = values::LotNumber)]
    pub lot_number: LotNumber,
    /// When it was given: within the session's span.
    #[serde(deserialize_with = "input::instant")]
    #[schema(value_type = values::DateTime)]
    pub given_at: DateTime<Utc>,
}

impl From<Administration> for kapchart_domain::Administration {
    fn from(w: Administration) -> Self {
        Self {
            drug: w.drug,
            route: w.route,
            dose: w.dose,
            lot_number: w.lot_number,
            given_at: w.given_at,
        }
    }
}

/// An adverse event during a session.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdverseEvent {
    /// What happened.
    #[serde(deserialize_with = "input::text")]
    #[schema(value_type = values::Text)]
    pub description: Text,
    /// How severe.
    #[schema(value_type = values::AdverseSeverity)]
    pub severity: AdverseSeverity,
}

impl From<AdverseEvent> for kapchart_domain::AdverseEvent {
    fn from(w: AdverseEvent) -> Self {
        Self {
            description: w.description,
            severity: w.severity,
        }
    }
}

/// An exploration session held, recorded by the therapist (the actor):
/// either an `administration` or a `not_dosed_reason`, never both; the
/// dose given within the span, discharge after the dose and within the
/// span.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordExploration {
    /// The session: one booked before, or a new id.
    #[schema(value_type = values::Id)]
    pub session: SessionId,
    /// When it was held, arrival to discharge: it has ended.
    #[serde(deserialize_with = "checked::<_, super::TimeSpan, _>")]
    #[schema(value_type = super::TimeSpan)]
    pub span: TimeSpan,
    /// The dose given, if any.
    #[serde(default)]
    pub administration: Option<Administration>,
    /// Why no dose was given: required without an `administration`,
    /// absent with one.
    #[serde(default, deserialize_with = "input::opt_text")]
    #[schema(value_type = Option<values::Text>)]
    pub not_dosed_reason: Option<Text>,
    /// Blood pressure before dosing (above the practice's threshold, the
    /// prescriber's authorization is needed: `exploration.bp_above_threshold`).
    #[serde(deserialize_with = "checked::<_, super::BloodPressure, _>")]
    #[schema(value_type = super::BloodPressure)]
    pub bp_before: BloodPressure,
    /// Blood pressure after.
    #[serde(deserialize_with = "checked::<_, super::BloodPressure, _>")]
    #[schema(value_type = super::BloodPressure)]
    pub bp_after: BloodPressure,
    /// Observations.
    #[serde(deserialize_with = "input::text")]
    #[schema(value_type = values::Text)]
    pub observations: Text,
    /// Adverse events, if any.
    #[serde(default)]
    pub adverse_events: Vec<AdverseEvent>,
    /// When the client was discharged: after the dose, within the span.
    #[serde(deserialize_with = "input::instant")]
    #[schema(value_type = values::DateTime)]
    pub discharged_at: DateTime<Utc>,
    /// How the client went home.
    #[schema(value_type = values::Departure)]
    pub departure: Departure,
}

impl TryFrom<RecordExploration> for kapchart_domain::RecordExploration {
    type Error = ParseError;
    fn try_from(w: RecordExploration) -> Result<Self, ParseError> {
        RawRecordExploration {
            session: w.session,
            span: w.span,
            administration: w.administration.map(Into::into),
            not_dosed_reason: w.not_dosed_reason,
            bp_before: w.bp_before,
            bp_after: w.bp_after,
            observations: w.observations,
            adverse_events: w.adverse_events.into_iter().map(Into::into).collect(),
            discharged_at: w.discharged_at,
            departure: w.departure,
        }
        .try_into()
    }
}

wire_struct! {
    /// Books an integration session for an exploration.
    ScheduleIntegration => kapchart_domain::ScheduleIntegration {
        /// A new session id.
        #[schema(value_type = values::Id)]
        session: SessionId,
        /// When: not overlapping the therapist's other bookings.
        #[serde(deserialize_with = "checked::<_, super::TimeSpan, _>")]
        #[schema(value_type = super::TimeSpan)]
        span: TimeSpan,
        /// With whom: an active therapist account.
        #[schema(value_type = values::Id)]
        therapist: UserId,
        /// The exploration it integrates.
        #[schema(value_type = values::Id)]
        exploration: SessionId,
    }
}

wire_struct! {
    /// An integration session held by the therapist (the actor).
    RecordIntegration => kapchart_domain::RecordIntegration {
        /// The session: one booked before, or a new id.
        #[schema(value_type = values::Id)]
        session: SessionId,
        /// When it was held: it has ended.
        #[serde(deserialize_with = "checked::<_, super::TimeSpan, _>")]
        #[schema(value_type = super::TimeSpan)]
        span: TimeSpan,
        /// The exploration it integrates: one of this client's.
        #[schema(value_type = values::Id)]
        exploration: SessionId,
        /// Notes.
        #[serde(deserialize_with = "input::text")]
        #[schema(value_type = values::Text)]
        notes: Text,
    }
}

wire_struct! {
    /// A new ordered dose, by the client's prescriber (the actor), for the
    /// next exploration: within the prescription's bounds and step.
    AdjustDose => kapchart_domain::AdjustDose {
        /// The dose ordered for the next exploration.
        #[serde(deserialize_with = "input::dose")]
        #[schema(value_type = values::Milligrams)]
        dose: Milligrams,
        /// Why.
        #[serde(deserialize_with = "input::text")]
        #[schema(value_type = values::Text)]
        reason: Text,
    }
}

wire_struct! {
    /// The client's prescriber (the actor) authorizes one session to go
    /// past a prescriber-override rule (e.g. `exploration.bp_above_threshold`);
    /// the exploration then references it by id in its override, once.
    AuthorizeOverride => kapchart_domain::AuthorizeOverride {
        /// A new authorization id, unique in the client's record.
        #[schema(value_type = values::Id)]
        authorization: AuthorizationId,
        /// The rule: one whose severity is `prescriber_override`.
        #[schema(value_type = values::RuleCode)]
        rule: Rule,
        /// The exploration session it covers: a booked exploration, or the
        /// id the exploration will be recorded under.
        #[schema(value_type = values::Id)]
        session: SessionId,
        /// The last day it may be used: not in the past (the session's day
        /// must not be later).
        #[serde(deserialize_with = "input::date")]
        #[schema(value_type = values::Date)]
        valid_until: NaiveDate,
        /// For the blood-pressure rule: the highest pre-dose reading
        /// authorized (both figures); none means any reading.
        #[serde(default, deserialize_with = "checked_opt_bp")]
        #[schema(value_type = Option<super::BloodPressure>)]
        ceiling: Option<BloodPressure>,
        /// The prescriber's clinical reason.
        #[serde(deserialize_with = "input::text")]
        #[schema(value_type = values::Text)]
        reason: Text,
    }
}

/// An optional blood pressure, checked as [`BloodPressure`]'s own parser
/// does.
fn checked_opt_bp<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<BloodPressure>, D::Error> {
    use serde::de::Error as _;
    Option::<super::BloodPressure>::deserialize(d)?
        .map(|w| BloodPressure::try_from(w).map_err(D::Error::custom))
        .transpose()
}
