//! The commands from registration to preparation: registration, referral,
//! intake, medical evaluation, prescription, consent, booking a session,
//! preparation.

use chrono::NaiveDate;
use kapchart_domain::{
    Clearance, ClientId, DateRange, Dosing, Drug, Icd10Code, PersonName, PrescriptionId,
    SessionCount, SessionId, Suitability, Text, TimeSpan, UserId, input,
};

use super::{checked, values, wire_struct};

wire_struct! {
    /// Opens a client's record (front desk or therapist).
    RegisterClient => kapchart_domain::RegisterClient {
        /// The client's id: must equal the `{id}` of the path the command
        /// is posted to.
        #[schema(value_type = values::Id)]
        client_id: ClientId,
        /// Legal name.
        #[serde(deserialize_with = "input::name")]
        #[schema(value_type = values::PersonName)]
        name: PersonName,
        /// Date of birth: not in the future.
        #[serde(deserialize_with = "input::date")]
        #[schema(value_type = values::Date)]
        date_of_birth: NaiveDate,
        /// The client's KAP therapist: an active therapist account.
        #[schema(value_type = values::Id)]
        therapist: UserId,
        /// The referred prescriber, if known yet: an active prescriber
        /// account.
        #[serde(default)]
        #[schema(value_type = Option<values::Id>)]
        prescriber: Option<UserId>,
    }
}

wire_struct! {
    /// Refers the client to a prescriber (therapist or front desk): only
    /// that prescriber may evaluate, prescribe, adjust doses, authorize
    /// overrides or read the chart. A new referral replaces the previous
    /// one.
    ReferClient => kapchart_domain::ReferClient {
        /// The prescriber: an active prescriber account.
        #[schema(value_type = values::Id)]
        prescriber: UserId,
        /// Why, or what the prescriber is asked for.
        #[serde(default, deserialize_with = "input::opt_text")]
        #[schema(value_type = Option<values::Text>)]
        note: Option<Text>,
    }
}

wire_struct! {
    /// The mental health intake, held by the client's therapist (the
    /// actor).
    RecordIntake => kapchart_domain::RecordIntake {
        /// A new session id for the intake.
        #[schema(value_type = values::Id)]
        session: SessionId,
        /// When it was held: it has ended.
        #[serde(deserialize_with = "checked::<_, super::TimeSpan, _>")]
        #[schema(value_type = super::TimeSpan)]
        span: TimeSpan,
        /// Whether KAP suits the client.
        #[schema(value_type = values::Suitability)]
        finding: Suitability,
        /// ICD-10 diagnoses, for superbills.
        #[serde(default)]
        #[schema(value_type = Vec<values::Icd10Code>)]
        diagnoses: Vec<Icd10Code>,
        /// Clinical notes.
        #[serde(deserialize_with = "input::text")]
        #[schema(value_type = values::Text)]
        notes: Text,
    }
}

wire_struct! {
    /// The medical evaluation, by the prescriber the client is referred to
    /// (the actor).
    RecordMedicalEvaluation => kapchart_domain::RecordMedicalEvaluation {
        /// Day of the evaluation: not in the future.
        #[serde(deserialize_with = "input::date")]
        #[schema(value_type = values::Date)]
        evaluated_on: NaiveDate,
        /// Whether the client is cleared.
        #[schema(value_type = values::Clearance)]
        finding: Clearance,
        /// Clinical notes.
        #[serde(deserialize_with = "input::text")]
        #[schema(value_type = values::Text)]
        notes: Text,
    }
}

wire_struct! {
    /// A ketamine prescription, by the prescriber the client is referred
    /// to (the actor), after medical clearance. A new prescription
    /// supersedes the previous one.
    IssuePrescription => kapchart_domain::IssuePrescription {
        /// A new prescription id.
        #[schema(value_type = values::Id)]
        prescription: PrescriptionId,
        /// The drug.
        #[schema(value_type = values::Drug)]
        drug: Drug,
        /// The days it covers.
        #[serde(deserialize_with = "checked::<_, super::DateRange, _>")]
        #[schema(value_type = super::DateRange)]
        valid: DateRange,
        /// The dose bounds.
        #[serde(deserialize_with = "checked::<_, super::Dosing, _>")]
        #[schema(value_type = super::Dosing)]
        dosing: Dosing,
        /// How many exploration sessions it authorizes.
        #[schema(value_type = values::SessionCount)]
        authorized_sessions: SessionCount,
        /// Instructions.
        #[serde(deserialize_with = "input::text")]
        #[schema(value_type = values::Text)]
        instructions: Text,
    }
}

wire_struct! {
    /// Signed informed consent.
    RecordConsent => kapchart_domain::RecordConsent {
        /// Day signed: not in the future.
        #[serde(deserialize_with = "input::date")]
        #[schema(value_type = values::Date)]
        signed_on: NaiveDate,
        /// Which consent form (its version or title).
        #[serde(deserialize_with = "input::label")]
        #[schema(value_type = values::Label)]
        form: Text,
    }
}

wire_struct! {
    /// Books a preparation or exploration session with a therapist.
    ScheduleSession => kapchart_domain::ScheduleSession {
        /// A new session id.
        #[schema(value_type = values::Id)]
        session: SessionId,
        /// When: not overlapping the therapist's other
        /// bookings.
        #[serde(deserialize_with = "checked::<_, super::TimeSpan, _>")]
        #[schema(value_type = super::TimeSpan)]
        span: TimeSpan,
        /// With whom: an active therapist account.
        #[schema(value_type = values::Id)]
        therapist: UserId,
    }
}

wire_struct! {
    /// A preparation session held by the therapist (the actor).
    RecordPreparation => kapchart_domain::RecordPreparation {
        /// The session: one booked before, or a new id.
        #[schema(value_type = values::Id)]
        session: SessionId,
        /// When it was held: it has ended.
        #[serde(deserialize_with = "checked::<_, super::TimeSpan, _>")]
        #[schema(value_type = super::TimeSpan)]
        span: TimeSpan,
        /// Intentions set.
        #[serde(deserialize_with = "input::text")]
        #[schema(value_type = values::Text)]
        intentions: Text,
        /// Aftercare plan.
        #[serde(deserialize_with = "input::text")]
        #[schema(value_type = values::Text)]
        aftercare_plan: Text,
        /// Notes.
        #[serde(deserialize_with = "input::text")]
        #[schema(value_type = values::Text)]
        notes: Text,
    }
}
