//! The views people work from, as pure folds over one client's events, and
//! the reports built from their rows.
//!
//! This crate does no I/O: no database, file, network or clock. The store's
//! projector feeds each client's events, in sequence order and with their
//! [`EventMeta`], into one [`ViewState`] per view and client
//! ([`ViewName::new_state`], [`ViewState::apply`]), stores the state between
//! batches (it is serializable, with a format version) and writes the
//! state's [`ViewState::rows`]. Reports ([`build_report`]) are built from
//! every row of their sources, across clients.
//!
//! | view | row kinds |
//! | --- | --- |
//! | `schedule` | `session` ([`SessionRow`]), `progress` ([`ProgressRow`]) |
//! | `chart` | `entry` ([`EntryRow`]), `chart` ([`ChartRow`]) |
//! | `billing` | `charge` ([`ChargeRow`]), `payment` ([`PaymentRow`]), `account` ([`AccountRow`]) |
//! | `compliance` | `administration` ([`AdministrationRow`]), `adherence` ([`AdherenceRow`]), `outcome` ([`OutcomeRow`]) |
//!
//! Row data holds no floating-point numbers: money is integer cents, doses
//! integer milligrams, means exact decimal strings ([`Mean`]).
//!
//! The chart "as of" a past time: replay the client's events whose
//! `recorded_at` is at or before that time through a fresh chart state and
//! take its rows ([`chart_as_of`] does exactly that).

mod billing;
mod chart;
mod compliance;
pub mod cpt;
mod mean;
mod money;
mod report;
mod schedule;
pub mod spreadsheet;
mod summary;
pub mod superbill;
mod view;

pub use billing::{AccountRow, ChargeRow, PaymentRow};
pub use chart::{
    AdverseEventItem, AmendmentView, BloodPressureItem, ChartRow, ConsentItem, DischargeItem,
    DoseAdjustmentItem, DoseItem, EntryRow, ExternalTreatmentItem, IntakeItem, MedicalItem,
    OutcomeItem, OverrideView, PrescriptionItem, RegistrationItem, SessionItem, Stamp,
};
pub use compliance::{
    AdherenceRow, AdministrationRow, Finding, INSTRUMENTS, OutcomeRow, Setting, instrument_score,
};
pub use mean::{Mean, format_fixed};
pub use money::MoneyOverflow;
pub use report::{
    DaySpan, PLACE_OF_SERVICE_OFFICE, Period, PeriodError, ReportError, ReportKind, Table,
    UnknownReport, build_report, double_bookings,
};
pub use schedule::{NextStep, ProgressRow, SessionRow};
pub use summary::ChartSummary;
pub use view::{
    EventMeta, Row, RowData, RowText, STATE_FORMAT, StateError, UnknownView, ViewName, ViewPolicy,
    ViewState, chart_as_of, event_day,
};

/// The row kinds, each produced by exactly one view.
pub mod kinds {
    /// Schedule: one per session.
    pub const SESSION: &str = "session";
    /// Schedule: the client's protocol progress.
    pub const PROGRESS: &str = "progress";
    /// Chart: one per entry of the record.
    pub const ENTRY: &str = "entry";
    /// Chart: the current clinical state.
    pub const CHART: &str = "chart";
    /// Chart: the current clinical state as lists need it
    /// ([`crate::ChartSummary`]).
    pub const SUMMARY: &str = "summary";
    /// Billing: one per held session.
    pub const CHARGE: &str = "charge";
    /// Billing: one per payment.
    pub const PAYMENT: &str = "payment";
    /// Billing: the client's account.
    pub const ACCOUNT: &str = "account";
    /// Compliance: one per controlled-substance administration.
    pub const ADMINISTRATION: &str = "administration";
    /// Compliance: one per adherence finding.
    pub const ADHERENCE: &str = "adherence";
    /// Compliance: one per outcome measure.
    pub const OUTCOME: &str = "outcome";
}

#[cfg(test)]
mod tests;
