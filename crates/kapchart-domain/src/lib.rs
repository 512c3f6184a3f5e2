//! The KAP protocol as a pure domain core.
//!
//! [`ClientRecord`] is the cqrs-es aggregate, one per client. Commands
//! ([`Command`]) carry a caller-chosen id, the actor, the time ("now" comes
//! in with the command: this crate has no clock) and override reasons for
//! soft stops. The aggregate decides each command against the client's
//! history and the practice's versioned [`Policy`]; it emits one
//! [`ClientEvent`] or refuses with a [`Refusal`] naming a stable [`Rule`].
//!
//! [`PracticeRecord`] is the practice's own aggregate, one per practice:
//! its identity, providers and every policy and fee schedule version,
//! changed by admins' [`PracticeCommand`]s. Its state yields the
//! [`PracticeSettings`] client records are decided with.
//!
//! This crate does no I/O: no database, file, network or clock. Practice
//! settings and the cross-client schedule come in through
//! [`PracticeServices`].

mod aggregate;
mod command;
mod error;
mod event;
pub mod input;
mod policy;
mod practice;
mod rules;
mod services;
mod types;
mod wire;

pub use aggregate::{
    ActivePrescription, Authorization, ClientRecord, ExplorationState, Phase, SessionState,
    SessionStatus, roles_issuing,
};
pub use command::*;
pub use error::ClientError;
pub use event::*;
pub use policy::{BillableService, FeeSchedule, Policy, PracticeSettings, SettingsError};
pub use practice::*;
pub use rules::{Refusal, Rule, Severity};
pub use services::{Booking, InMemoryPractice, PracticeServices, ServiceError, Services};
pub use types::*;
pub use wire::{InputError, parse_command, parse_json, parse_practice_command};
