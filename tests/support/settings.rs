//! The practice's own record under test: [`Book`] drives a
//! [`PracticeRecord`] as cqrs-es does (decide on the current state, keep
//! the event only when the command succeeds), with sample command bodies.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use kapchart_domain::*;

/// An instant given as the practice's local time in `zone` (an IANA name):
/// `local(LA, 2026, 3, 7, 18, 0)`. Panics on a time the zone skips or
/// repeats (test data).
pub fn local(zone: &str, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    TimeZoneName::parse(zone)
        .expect("valid zone")
        .tz()
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("an unambiguous local time")
        .with_timezone(&Utc)
}

/// The practice's time zone in the tests across daylight-saving changes.
pub const LA: &str = "America/Los_Angeles";

/// A calendar date (test data).
pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// The practice's record under test.
#[derive(Debug)]
pub struct Book {
    /// The aggregate's current state.
    pub record: PracticeRecord,
    /// Every event committed, in order.
    pub events: Vec<PracticeEvent>,
    /// "Now": the issued_at of the next command.
    pub now: DateTime<Utc>,
    next_command: u64,
}

impl Book {
    /// An empty record; "now" is `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        Self {
            record: PracticeRecord::default(),
            events: Vec::new(),
            now,
            next_command: 0,
        }
    }

    /// A command by `actor` issued now, with a fresh id.
    pub fn command(&mut self, actor: Actor, body: PracticeCommandBody) -> PracticeCommand {
        self.next_command += 1;
        let id = CommandId::parse(&format!("set-{}", self.next_command)).expect("valid id");
        PracticeCommand::new(id, actor, self.now, body)
    }

    /// Runs a command as cqrs-es does; returns the new events.
    pub async fn run(
        &mut self,
        command: PracticeCommand,
    ) -> Result<Vec<PracticeEvent>, PracticeError> {
        let mut next = self.record.clone();
        let sink = EventSink::<PracticeRecord>::default();
        next.handle(command, &(), &sink).await?;
        let new = sink.collect().await;
        self.events.extend(new.iter().cloned());
        self.record = next;
        Ok(new)
    }

    /// Issues `body` as `actor`, now, with a fresh id.
    pub async fn exec(
        &mut self,
        actor: Actor,
        body: PracticeCommandBody,
    ) -> Result<Vec<PracticeEvent>, PracticeError> {
        let command = self.command(actor, body);
        self.run(command).await
    }

    /// Issues `body` as the admin; it must append one event, returned.
    pub async fn ok(&mut self, body: PracticeCommandBody) -> PracticeEvent {
        let name = body.name();
        match self.exec(crate::admin(), body).await {
            Ok(mut events) if events.len() == 1 => events.remove(0),
            other => panic!("{name}: expected one event, got {other:?}"),
        }
    }

    /// Rebuilds the record from its events, as a store would.
    pub fn replay(&self) -> PracticeRecord {
        let mut record = PracticeRecord::default();
        for event in &self.events {
            record.apply(event.clone());
        }
        record
    }

    /// The settings client records are decided with.
    pub fn settings(&self) -> PracticeSettings {
        self.record.settings()
    }
}

/// Asserts a practice command was refused by `rule` and returns the message.
#[track_caller]
pub fn assert_settings_refused<T: std::fmt::Debug>(
    result: Result<T, PracticeError>,
    rule: Rule,
) -> String {
    match result {
        Err(PracticeError::Refused(r)) => {
            assert_eq!(
                r.rule, rule,
                "refused by {} ({}), expected {rule}",
                r.rule, r.message
            );
            assert!(!r.message.is_empty(), "refusal without a message");
            r.message
        }
        other => panic!("expected refusal by {rule}, got {other:?}"),
    }
}

/// The sample practice's identity, in `zone`, NPI 1234567893.
pub fn identity_in(zone: &str) -> PracticeCommandBody {
    PracticeCommandBody::SetPracticeIdentity(
        serde_json::from_value(serde_json::json!({
            "name": "Harbor KAP Clinic",
            "address": {
                "line1": "100 Harbor Way", "line2": "Suite 2",
                "city": "San Francisco", "state": "CA", "zip": "94110",
            },
            "phone": "(415) 555-0123",
            "npi": "1234567893",
            "tax_id": "12-3456789",
            "place_of_service": "11",
            "time_zone": zone,
        }))
        .expect("valid identity"),
    )
}

/// A provider: `user` in `role` with `npi`.
pub fn provider(user: &Actor, role: &str, npi: &str) -> PracticeCommandBody {
    PracticeCommandBody::SetProvider(
        serde_json::from_value(serde_json::json!({
            "user": user.id, "role": role, "name": "Sam Rivera",
            "credentials": "LMFT", "npi": npi,
            "licence": { "number": "LMFT-12345", "state": "CA" },
            "active": true,
        }))
        .expect("valid provider"),
    )
}

/// A policy in force from `from`: 130/85, 7 days, 7 days, 8, idle 15.
pub fn policy_from(from: DateTime<Utc>) -> AdoptPolicy {
    AdoptPolicy {
        effective_from: from,
        bp_threshold: BloodPressure::new(130, 85).expect("valid reading"),
        min_days_between_explorations: 7,
        integration_window_days: 7,
        max_explorations: 8,
        idle_sign_out_minutes: 15,
    }
}

/// AdoptPolicy of [`policy_from`].
pub fn adopt_policy(from: DateTime<Utc>) -> PracticeCommandBody {
    PracticeCommandBody::AdoptPolicy(policy_from(from))
}

/// A fee schedule from `from`: every session $200, explorations
/// `exploration_dollars`, with the standard codes.
pub fn adopt_fees(from: NaiveDate, exploration_dollars: u32) -> PracticeCommandBody {
    let codes = ServiceCodes::standard();
    let fee = |dollars, codes: &CptCodes| ServiceFee {
        fee: Cents::dollars(dollars),
        codes: codes.clone(),
    };
    PracticeCommandBody::AdoptFeeSchedule(AdoptFeeSchedule {
        effective_from: from,
        intake: fee(200, &codes.intake),
        preparation: fee(200, &codes.preparation),
        exploration: fee(exploration_dollars, &codes.exploration),
        integration: fee(200, &codes.integration),
        ongoing_care: fee(200, &codes.ongoing_care),
    })
}
