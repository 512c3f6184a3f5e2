//! `kapchart demo`: a realistic sample practice written through the real
//! command path.
//!
//! [`generate`] plans a practice (three or more therapists, two
//! prescribers, two front desk staff, and `clients` clients whose
//! registrations are staggered over a year so that, at the end of it,
//! clients stand at every stage of the protocol) and issues every command
//! through `CqrsFramework` on the given database, exactly as the API will:
//! each command is decided by `ClientRecord` against the client's stored
//! history and the practice's policy, and its event is appended to the
//! client's hash chain. Nothing is written around the rules.
//!
//! Time is simulated: each command is issued at its planned instant, and the
//! store's clock returns that instant, so `recorded_at` equals the
//! command's `issued_at` and the whole output (payloads, metadata, hashes)
//! is a function of the seed and the start date alone. Commands run in
//! global time order, so the feed's order is the practice's chronology.
//!
//! Some commands are meant to be refused (a dose step too large, an
//! exploration booked too soon, a pre-dose blood pressure above the
//! threshold sent without the prescriber's override, a slot another client
//! holds): they are counted in [`DemoSummary::refused`], leave no event, and
//! are followed by the corrected command. Any other refusal is a bug in the
//! generator and ends [`generate`] with [`DemoError::Refused`].
//!
//! The crate does no I/O besides the database and prints nothing.

mod calendar;
mod plan;
mod rng;
mod words;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::{Aggregate, AggregateError};
use kapchart_domain::{
    Actor, ClientError, ClientEvent, ClientRecord, Command, CommandId, InMemoryPractice, Phase,
    PracticeSettings, Role, Rule,
};
use kapchart_store::{CLIENT_RECORD, Clock, Cursor, Database, command_metadata};

/// The number of clients `kapchart demo` makes unless told otherwise.
pub const DEFAULT_CLIENTS: u32 = 40;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// How many clients.
    pub clients: u32,
    /// The seed: the same seed (and start) gives the same practice.
    pub seed: u64,
    /// The first day of the year of history (UTC). Commands are issued from
    /// this day to the end of the 365th day; some sessions are booked after.
    pub start: NaiveDate,
    /// Who creates the practice's staff accounts, as the access log names
    /// them (the CLI: the operating-system user); `None` for
    /// `local-admin`, as tools that act for no person do.
    pub accounts_by: Option<kapchart_store::access::AccessActor>,
}

/// What was generated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoSummary {
    /// Clients.
    pub clients: u32,
    /// Commands issued, refused ones included.
    pub commands: u64,
    /// Events stored (one per command that was not refused).
    pub events: u64,
    /// Commands the rules refused, by design.
    pub refused: u64,
    /// Clients per phase at the end (phase names as serialized:
    /// `assessment`, `not_suitable`, `preparation`, `protocol`,
    /// `ongoing_care`, `discharged`).
    pub by_phase: BTreeMap<String, u32>,
}

/// Why the sample practice could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The database already holds events. The demo writes only into an
    /// empty database: its therapists' calendars know nothing of other
    /// bookings, and its client ids would collide with an earlier demo's.
    #[error("the database already holds events: the demo writes only into an empty database")]
    NotEmpty,
    /// A command the generator expected to succeed was refused (a bug in
    /// the generator).
    #[error("demo client {client} ({client_id}): {command} was refused by {rule}: {message}")]
    Refused {
        /// The client's index (0-based, in registration order).
        client: u32,
        /// The client's id.
        client_id: String,
        /// The command's name.
        command: &'static str,
        /// The rule that refused it.
        rule: Rule,
        /// The refusal's message (rule codes, ids and numbers only).
        message: String,
    },
    /// A command meant to be refused by `expected` was not (a bug in the
    /// generator).
    #[error(
        "demo client {client} ({client_id}): {command} was meant to be refused by {expected} but {outcome}"
    )]
    NotRefused {
        /// The client's index.
        client: u32,
        /// The client's id.
        client_id: String,
        /// The command's name.
        command: &'static str,
        /// The rule meant to refuse it.
        expected: Rule,
        /// What happened instead.
        outcome: String,
    },
    /// A command was rejected as invalid, or the record could not decide it
    /// (a bug in the generator, or a misconfiguration).
    #[error("demo client {client} ({client_id}): {command} was rejected: {message}")]
    Rejected {
        /// The client's index.
        client: u32,
        /// The client's id.
        client_id: String,
        /// The command's name.
        command: &'static str,
        /// Why.
        message: String,
    },
    /// The practice could not be planned.
    #[error("cannot plan the sample practice: {0}")]
    Plan(String),
    /// The database failed.
    #[error("database: {0}")]
    Store(String),
}

/// Writes the sample practice into `db` (migrated, with no events yet)
/// through the real command path. `progress` is called with the number of
/// clients whose last command has been issued, each time it grows; commands
/// run in time order, so clients still in care at the end of the year all
/// finish near the end.
pub async fn generate(
    db: &Database,
    options: &DemoOptions,
    progress: &dyn Fn(u32),
) -> Result<DemoSummary, DemoError> {
    let (existing, _) = db
        .read_feed(&Cursor::START, 1)
        .await
        .map_err(|e| DemoError::Store(e.to_string()))?;
    if !existing.is_empty() {
        return Err(DemoError::NotEmpty);
    }
    let scripts = plan::plan(options.clients, options.seed, options.start)
        .map_err(|e| DemoError::Plan(e.0))?;

    let practice = Arc::new(InMemoryPractice::new(PracticeSettings::standard()));
    let start = options.start.and_time(chrono::NaiveTime::MIN).and_utc();
    // The sample practice's staff are accounts of the database (no usable
    // token: `kapchart user token` issues one), so a served demo practice
    // books and refers to the same people the record names.
    let local_admin = match &options.accounts_by {
        Some(by) => by.clone(),
        None => kapchart_store::access::AccessActor {
            user_id: kapchart_domain::UserId::parse(kapchart_store::accounts::LOCAL_ADMIN)
                .map_err(|e| DemoError::Plan(format!("the local admin's id: {e}")))?,
            role: Role::Admin,
        },
    };
    for actor in staff(options.clients) {
        match kapchart_store::accounts::add_user_from(
            db,
            &actor.id,
            actor.role,
            None,
            &local_admin,
            "cli demo",
            start,
        )
        .await
        {
            Ok(_) | Err(kapchart_store::accounts::AccountError::AlreadyExists(_)) => {}
            Err(e) => return Err(DemoError::Store(e.to_string())),
        }
        practice.enrol(actor.id, actor.role);
    }
    let now = Arc::new(Mutex::new(start));
    let clock: Clock = {
        let now = Arc::clone(&now);
        Arc::new(move || *now.lock().unwrap_or_else(|p| p.into_inner()))
    };
    let cqrs = db.client_cqrs(Arc::clone(&clock), practice.clone());

    // Every command of every client, in time order (a client's own order
    // is kept: its steps are sorted and ties go by position).
    let mut order: Vec<(DateTime<Utc>, usize, usize)> = scripts
        .iter()
        .enumerate()
        .flat_map(|(c, s)| s.steps.iter().enumerate().map(move |(k, st)| (st.at, c, k)))
        .collect();
    order.sort_unstable();
    let mut remaining: Vec<usize> = scripts.iter().map(|s| s.steps.len()).collect();
    let mut done = 0_u32;
    let mut summary = DemoSummary {
        clients: options.clients,
        ..DemoSummary::default()
    };

    for (at, c, k) in order {
        let script = &scripts[c];
        let step = &script.steps[k];
        let client = c as u32;
        let client_id = script.client_id.as_str();
        let command_name = step.body.name();
        let id = CommandId::parse(&format!("{client_id}-{:04}", k + 1))
            .map_err(|e| DemoError::Plan(format!("command id: {e}")))?;
        let command = Command {
            id,
            actor: step.actor.clone(),
            issued_at: at,
            overrides: step.overrides.clone(),
            body: step.body.clone(),
        };
        let metadata = command_metadata(&command);
        *now.lock().unwrap_or_else(|p| p.into_inner()) = at;
        let result = cqrs
            .execute_with_metadata(client_id, command, metadata)
            .await;
        summary.commands += 1;
        match (result, step.expect) {
            (Ok(()), None) => {
                if let Some((therapist, booking)) = &step.booking {
                    practice.book(therapist.clone(), booking.clone());
                }
            }
            (Ok(()), Some(expected)) => {
                return Err(DemoError::NotRefused {
                    client,
                    client_id: client_id.to_owned(),
                    command: command_name,
                    expected,
                    outcome: "it was accepted".to_owned(),
                });
            }
            (Err(AggregateError::UserError(ClientError::Refused(r))), Some(expected))
                if r.rule == expected =>
            {
                summary.refused += 1;
            }
            (Err(AggregateError::UserError(ClientError::Refused(r))), None) => {
                return Err(DemoError::Refused {
                    client,
                    client_id: client_id.to_owned(),
                    command: command_name,
                    rule: r.rule,
                    message: r.message,
                });
            }
            (Err(AggregateError::UserError(e)), Some(expected)) => {
                return Err(DemoError::NotRefused {
                    client,
                    client_id: client_id.to_owned(),
                    command: command_name,
                    expected,
                    outcome: format!("it failed with: {e}"),
                });
            }
            (Err(AggregateError::UserError(e)), None) => {
                return Err(DemoError::Rejected {
                    client,
                    client_id: client_id.to_owned(),
                    command: command_name,
                    message: e.to_string(),
                });
            }
            (Err(e), _) => return Err(DemoError::Store(e.to_string())),
        }
        remaining[c] -= 1;
        if remaining[c] == 0 {
            done += 1;
            progress(done);
        }
    }

    // The clients' phases and the events, read back from the store.
    let repository = db.repository(clock);
    for script in &scripts {
        let stored = repository
            .events_of(CLIENT_RECORD, script.client_id.as_str(), 0)
            .await
            .map_err(|e| DemoError::Store(e.to_string()))?;
        let mut record = ClientRecord::default();
        for row in stored {
            let event: ClientEvent = serde_json::from_value(row.stored.entry.payload)
                .map_err(|e| DemoError::Store(format!("stored event unreadable: {e}")))?;
            record.apply(event);
            summary.events += 1;
        }
        *summary
            .by_phase
            .entry(phase_name(record.phase()))
            .or_default() += 1;
    }
    Ok(summary)
}

/// The staff of the sample practice for `clients` clients, as they act in
/// the record: therapists (`t-…`), prescribers (`rx-…`) and front desk
/// (`fd-…`). [`generate`] creates no user accounts; these are the ids its
/// events name.
pub fn staff(clients: u32) -> Vec<Actor> {
    let Ok(staff) = plan::Staff::new(clients) else {
        return Vec::new();
    };
    let with = |ids: Vec<kapchart_domain::UserId>, role: Role| {
        ids.into_iter().map(move |id| Actor { id, role })
    };
    with(staff.therapists, Role::Therapist)
        .chain(with(staff.prescribers, Role::Prescriber))
        .chain(with(staff.front_desk, Role::FrontDesk))
        .collect()
}

/// A phase's name as serialized, e.g. `ongoing_care`.
pub fn phase_name(phase: Phase) -> String {
    match serde_json::to_value(phase) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{phase:?}"),
    }
}
