//! The commands of the rest of the record: outcome measures, ongoing care,
//! external treatment, cancellations, no-shows, payments, amendments and
//! discharge.

use chrono::NaiveDate;
use kapchart_domain::{
    CancelReason, Cents, DischargeReason, Milligrams, OutcomeMeasure, Payer, PaymentId,
    PaymentMethod, Route, SessionId, Text, TimeSpan, input,
};

use super::{checked, values, wire_struct};

wire_struct! {
    /// An outcome measure's total score.
    RecordOutcomeMeasure => kapchart_domain::RecordOutcomeMeasure {
        /// The instrument and its score.
        #[schema(value_type = values::OutcomeMeasure)]
        measure: OutcomeMeasure,
        /// Day administered: not in the future.
        #[serde(deserialize_with = "input::date")]
        #[schema(value_type = values::Date)]
        administered_on: NaiveDate,
    }
}

wire_struct! {
    /// An ongoing care session held by the therapist (the actor), once the
    /// protocol has started.
    RecordOngoingCare => kapchart_domain::RecordOngoingCare {
        /// A new session id.
        #[schema(value_type = values::Id)]
        session: SessionId,
        /// When it was held: it has ended.
        #[serde(deserialize_with = "checked::<_, super::TimeSpan, _>")]
        #[schema(value_type = super::TimeSpan)]
        span: TimeSpan,
        /// Notes.
        #[serde(deserialize_with = "input::text")]
        #[schema(value_type = values::Text)]
        notes: Text,
    }
}

wire_struct! {
    /// A treatment at an affiliate provider (IV, IM): never an
    /// in-practice dose.
    RecordExternalTreatment => kapchart_domain::RecordExternalTreatment {
        /// Day of treatment: not in the future.
        #[serde(deserialize_with = "input::date")]
        #[schema(value_type = values::Date)]
        treated_on: NaiveDate,
        /// The affiliate provider.
        #[serde(deserialize_with = "input::label")]
        #[schema(value_type = values::Label)]
        provider: Text,
        /// The route.
        #[schema(value_type = values::Route)]
        route: Route,
        /// The dose, if reported.
        #[serde(default, deserialize_with = "input::opt_dose")]
        #[schema(value_type = Option<values::Milligrams>)]
        dose: Option<Milligrams>,
        /// Notes.
        #[serde(deserialize_with = "input::text")]
        #[schema(value_type = values::Text)]
        notes: Text,
    }
}

wire_struct! {
    /// Cancels a booked session.
    CancelSession => kapchart_domain::CancelSession {
        /// The session: booked, not yet held, cancelled or missed.
        #[schema(value_type = values::Id)]
        session: SessionId,
        /// Why.
        #[schema(value_type = values::CancelReason)]
        reason: CancelReason,
        /// Details, if any.
        #[serde(default, deserialize_with = "input::opt_text")]
        #[schema(value_type = Option<values::Text>)]
        note: Option<Text>,
    }
}

wire_struct! {
    /// A booked session the client did not attend (once it has started).
    RecordNoShow => kapchart_domain::RecordNoShow {
        /// The session.
        #[schema(value_type = values::Id)]
        session: SessionId,
    }
}

wire_struct! {
    /// A payment received (front desk).
    RecordPayment => kapchart_domain::RecordPayment {
        /// A new payment id.
        #[schema(value_type = values::Id)]
        payment: PaymentId,
        /// The amount in cents: more than zero, at most $100,000.00.
        #[serde(deserialize_with = "input::payment")]
        #[schema(value_type = values::PaymentCents)]
        amount: Cents,
        /// How it was paid.
        #[schema(value_type = values::PaymentMethod)]
        method: PaymentMethod,
        /// Who paid.
        #[schema(value_type = values::Payer)]
        payer: Payer,
        /// Day received: not in the future.
        #[serde(deserialize_with = "input::date")]
        #[schema(value_type = values::Date)]
        received_on: NaiveDate,
        /// A session it pays for, if any.
        #[serde(default)]
        #[schema(value_type = Option<values::Id>)]
        session: Option<SessionId>,
    }
}

wire_struct! {
    /// Corrects an entry by appending (HIPAA 164.526): the original stays
    /// visible, linked from the amendment.
    AmendEntry => kapchart_domain::AmendEntry {
        /// The sequence number of the entry amended (1-based, as the
        /// history shows it).
        #[serde(deserialize_with = "input::entry")]
        #[schema(value_type = values::EntryNumber)]
        entry: u64,
        /// Why it is amended.
        #[serde(deserialize_with = "input::text")]
        #[schema(value_type = values::Text)]
        reason: Text,
        /// The corrected content.
        #[serde(deserialize_with = "input::text")]
        #[schema(value_type = values::Text)]
        corrected_content: Text,
    }
}

wire_struct! {
    /// Ends care. Open booked sessions are cancelled with it.
    DischargeClient => kapchart_domain::DischargeClient {
        /// Day of discharge: not in the future.
        #[serde(deserialize_with = "input::date")]
        #[schema(value_type = values::Date)]
        discharged_on: NaiveDate,
        /// Why.
        #[schema(value_type = values::DischargeReason)]
        reason: DischargeReason,
        /// Discharge summary.
        #[serde(deserialize_with = "input::text")]
        #[schema(value_type = values::Text)]
        summary: Text,
    }
}
