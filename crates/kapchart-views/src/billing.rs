//! The billing view: a charge per held session (kind `charge`), payments
//! (kind `payment`) and the client's account with its balance (kind
//! `account`).
//!
//! A charge is exactly the one priced into the event when the session was
//! recorded (amount and fee schedule version): the view never prices
//! anything, so a fee schedule change affects only sessions recorded under
//! it. CPT codes and the insurance-billable flag come from the one table in
//! [`crate::cpt`].

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use kapchart_domain::{BillableService, Charge, ClientEvent, Payer, PaymentMethod, TimeSpan};
use serde::{Deserialize, Serialize};

use crate::cpt::billing_code;
use crate::kinds;
use crate::money::Total;
use crate::view::{EventMeta, MakeRow};

/// A charge for a held session (row kind `charge`, key = session id, day =
/// date of service).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeRow {
    /// The client.
    pub client_id: String,
    /// The session charged.
    pub session: String,
    /// `intake`, `preparation`, `exploration`, `integration`, `ongoing_care`.
    pub service: BillableService,
    /// Date of service: the practice's local date the session started on,
    /// as the record priced it.
    pub service_date: NaiveDate,
    /// Session start.
    pub start: DateTime<Utc>,
    /// Session length, whole minutes.
    pub minutes: i64,
    /// Rendering provider (the therapist who held it).
    pub therapist: String,
    /// The fee charged, integer US cents, as priced in the event.
    pub amount_cents: i64,
    /// The fee schedule version that priced it.
    pub fee_schedule_version: u32,
    /// CPT code ([`crate::cpt`]), if any.
    pub cpt_code: Option<String>,
    /// Units of the code.
    pub units: u32,
    /// Whether the service is usually billable to insurance.
    pub insurance_billable: bool,
    /// The entry that recorded the session.
    pub sequence: u64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// A payment received (row kind `payment`, key = payment id, day = day
/// received).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRow {
    /// The client.
    pub client_id: String,
    /// Payment id.
    pub payment: String,
    /// Amount, integer US cents.
    pub amount_cents: i64,
    /// `card`, `cash`, `check`, `bank_transfer`.
    pub method: PaymentMethod,
    /// `client` or `insurer`.
    pub payer: Payer,
    /// Day received.
    pub received_on: NaiveDate,
    /// The session it pays for, if named.
    pub session: Option<String>,
    /// The entry that recorded it.
    pub sequence: u64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// The client's account (row kind `account`, key `account`, no day): what a
/// superbill's header needs, and the balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    /// The client.
    pub client_id: String,
    /// Legal name.
    pub name: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// The client's therapist.
    pub therapist: Option<String>,
    /// ICD-10 diagnoses of the latest intake.
    pub diagnoses: Vec<String>,
    /// Charges recorded.
    pub charges: u32,
    /// Their total, cents; `None` (`null`) when the sum is beyond what
    /// kapchart represents ([`crate::MoneyOverflow`]): never a wrapped or
    /// saturated number.
    pub charges_cents: Option<i64>,
    /// Payments recorded.
    pub payments: u32,
    /// Their total, cents; `None` as for `charges_cents`.
    pub payments_cents: Option<i64>,
    /// Charges minus payments, cents (negative: in credit); `None` when
    /// either total is.
    pub balance_cents: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChargeFold {
    charge: Charge,
    start: DateTime<Utc>,
    minutes: i64,
    therapist: String,
    sequence: u64,
    recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentFold {
    amount_cents: i64,
    method: PaymentMethod,
    payer: Payer,
    received_on: NaiveDate,
    session: Option<String>,
    sequence: u64,
    recorded_at: DateTime<Utc>,
}

/// The billing view's fold state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BillingFold {
    registered: bool,
    name: Option<String>,
    date_of_birth: Option<NaiveDate>,
    therapist: Option<String>,
    diagnoses: Vec<String>,
    charges: BTreeMap<String, ChargeFold>,
    payments: BTreeMap<String, PaymentFold>,
}

impl BillingFold {
    pub(crate) fn apply(&mut self, event: &ClientEvent, meta: &EventMeta) {
        match event {
            ClientEvent::ClientRegistered(e) => {
                self.registered = true;
                self.name = Some(e.name.as_str().to_owned());
                self.date_of_birth = Some(e.date_of_birth);
                self.therapist = Some(e.therapist.to_string());
            }
            ClientEvent::IntakeRecorded(e) => {
                self.diagnoses = e.diagnoses.iter().map(|c| c.as_str().to_owned()).collect();
                self.charge(
                    e.session.as_str(),
                    &e.charge,
                    &e.span,
                    e.therapist.as_str(),
                    meta,
                );
            }
            ClientEvent::PreparationRecorded(e) => self.charge(
                e.session.as_str(),
                &e.charge,
                &e.span,
                e.therapist.as_str(),
                meta,
            ),
            ClientEvent::ExplorationRecorded(e) => self.charge(
                e.session.as_str(),
                &e.charge,
                &e.span,
                e.therapist.as_str(),
                meta,
            ),
            ClientEvent::IntegrationRecorded(e) => self.charge(
                e.session.as_str(),
                &e.charge,
                &e.span,
                e.therapist.as_str(),
                meta,
            ),
            ClientEvent::OngoingCareRecorded(e) => self.charge(
                e.session.as_str(),
                &e.charge,
                &e.span,
                e.therapist.as_str(),
                meta,
            ),
            ClientEvent::PaymentRecorded(e) => {
                self.payments.insert(
                    e.payment.to_string(),
                    PaymentFold {
                        amount_cents: e.amount.get(),
                        method: e.method,
                        payer: e.payer,
                        received_on: e.received_on,
                        session: e.session.as_ref().map(ToString::to_string),
                        sequence: meta.sequence,
                        recorded_at: meta.recorded_at,
                    },
                );
            }
            _ => {}
        }
    }

    fn charge(
        &mut self,
        session: &str,
        charge: &Charge,
        span: &TimeSpan,
        therapist: &str,
        meta: &EventMeta,
    ) {
        self.charges.insert(
            session.to_owned(),
            ChargeFold {
                charge: charge.clone(),
                start: span.start(),
                minutes: span.minutes(),
                therapist: therapist.to_owned(),
                sequence: meta.sequence,
                recorded_at: meta.recorded_at,
            },
        );
    }

    pub(crate) fn rows<R: MakeRow>(&self, client_id: &str) -> Vec<R> {
        let mut rows = Vec::with_capacity(self.charges.len() + self.payments.len() + 1);
        let mut charged = Ok(Total::default());
        let mut paid = Ok(Total::default());
        for (session, c) in &self.charges {
            let code = billing_code(c.charge.service, c.minutes);
            let data = ChargeRow {
                client_id: client_id.to_owned(),
                session: session.clone(),
                service: c.charge.service,
                service_date: c.charge.service_date,
                start: c.start,
                minutes: c.minutes,
                therapist: c.therapist.clone(),
                amount_cents: c.charge.amount.get(),
                fee_schedule_version: c.charge.fee_schedule_version,
                cpt_code: code.cpt_code.map(str::to_owned),
                units: code.units,
                insurance_billable: code.insurance_billable,
                sequence: c.sequence,
                recorded_at: c.recorded_at,
            };
            charged = charged.and_then(|t: Total| t.plus(data.amount_cents));
            rows.push(R::make(
                kinds::CHARGE,
                session.clone(),
                Some(c.charge.service_date),
                &data,
            ));
        }
        for (payment, p) in &self.payments {
            let data = PaymentRow {
                client_id: client_id.to_owned(),
                payment: payment.clone(),
                amount_cents: p.amount_cents,
                method: p.method,
                payer: p.payer,
                received_on: p.received_on,
                session: p.session.clone(),
                sequence: p.sequence,
                recorded_at: p.recorded_at,
            };
            paid = paid.and_then(|t: Total| t.plus(p.amount_cents));
            rows.push(R::make(
                kinds::PAYMENT,
                payment.clone(),
                Some(p.received_on),
                &data,
            ));
        }
        if self.registered || !rows.is_empty() {
            let balance = charged.and_then(|c| paid.and_then(|p| c.minus(p.cents())));
            let data = AccountRow {
                client_id: client_id.to_owned(),
                name: self.name.clone(),
                date_of_birth: self.date_of_birth,
                therapist: self.therapist.clone(),
                diagnoses: self.diagnoses.clone(),
                charges: self.charges.len() as u32,
                charges_cents: charged.ok().map(Total::cents),
                payments: self.payments.len() as u32,
                payments_cents: paid.ok().map(Total::cents),
                balance_cents: balance.ok().map(Total::cents),
            };
            rows.push(R::make(kinds::ACCOUNT, "account", None, &data));
        }
        rows
    }
}
