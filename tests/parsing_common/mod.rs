//! Helpers shared by the parsing tests (`parsing.rs`, `parsing_bounds.rs`):
//! valid commands as JSON, ways to break one field, and the assertion that
//! `parse_command` refuses naming the field. Each test file uses part of
//! them.
#![allow(dead_code)]

use chrono::Duration;
use kapchart_domain::*;
use kapchart_e2e::*;
use serde_json::Value;

/// A valid command's JSON.
pub fn valid(actor: Actor, body: CommandBody) -> Value {
    let command = Command::new(
        CommandId::parse("cmd-1").expect("valid id"),
        actor,
        day(3) + Duration::hours(20),
        body,
    );
    let value = serde_json::to_value(&command).expect("a command serializes");
    // The starting point is valid: only the mutation makes it fail.
    assert_eq!(parse_command(&value.to_string()), Ok(command));
    value
}

/// `value` with the JSON at `pointer` replaced by `new`.
pub fn with(value: &Value, pointer: &str, new: Value) -> Value {
    let mut value = value.clone();
    *value
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in the command")) = new;
    value
}

/// `value` with `key: new` added to (or replaced in) the object at `pointer`.
pub fn with_key(value: &Value, pointer: &str, key: &str, new: Value) -> Value {
    let mut value = value.clone();
    value
        .pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {pointer}"))
        .insert(key.to_owned(), new);
    value
}

/// `value` without the key at `pointer`.
pub fn without(value: &Value, pointer: &str) -> Value {
    let mut value = value.clone();
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer to a key");
    let removed = value
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .and_then(|o| o.remove(key));
    assert!(removed.is_some(), "no {pointer}");
    value
}

/// A JSON object with one key.
pub fn object(key: &str, value: Value) -> Value {
    Value::Object(serde_json::Map::from_iter([(key.to_owned(), value)]))
}

/// Parses JSON text that must be refused, and returns the error.
#[track_caller]
pub fn refused_text(json: &str) -> InputError {
    match parse_command(json) {
        Ok(command) => panic!("accepted {json}: {command:?}"),
        Err(err) => {
            assert!(!err.field.is_empty(), "no field for {json}");
            assert!(!err.message.is_empty(), "no message for {json}");
            err
        }
    }
}

/// Asserts `value` is refused naming exactly `field`, with a message that
/// contains each of `why`.
#[track_caller]
pub fn assert_field(value: &Value, field: &str, why: &[&str]) -> InputError {
    let err = refused_text(&value.to_string());
    assert_eq!(err.field, field, "wrong field: {err}");
    for part in why {
        assert!(
            err.message.contains(part),
            "message for {field} lacks {part:?}: {err}"
        );
    }
    err
}

pub fn phq9(score: i64) -> OutcomeMeasure {
    OutcomeMeasure::Phq9(Phq9Score::new(score).expect("valid score"))
}

pub fn outcome_json() -> Value {
    valid(therapist(), outcome(phq9(14), date(0)))
}

pub fn exploration_json() -> Value {
    valid(therapist(), exploration("x-1", 1, Some(150), bp(120, 80)))
}

pub fn prescription_json() -> Value {
    valid(prescriber(), standard_prescription("rx-1"))
}

pub fn payment_json() -> Value {
    valid(front_desk(), payment("pay-1", 17_500, date(0)))
}

pub fn preparation_json() -> Value {
    valid(therapist(), preparation("prep-1", span(0, 10, 11)))
}

pub fn register_json() -> Value {
    valid(front_desk(), register_client())
}

pub const SCORE: &str = "/body/RecordOutcomeMeasure/measure";
pub const ADMIN: &str = "/body/RecordExploration/administration";
pub const EXPLORATION: &str = "/body/RecordExploration";

/// Every command body the harness builds, each valid.
pub fn harness_commands() -> Vec<Command> {
    let bodies: Vec<(Actor, CommandBody)> = vec![
        (front_desk(), register_client()),
        (
            therapist(),
            intake("intake-1", span(0, 9, 10), Suitability::Suitable),
        ),
        (
            therapist(),
            intake("intake-2", span(0, 9, 10), Suitability::NotSuitable),
        ),
        (prescriber(), medical(date(0), Clearance::Cleared)),
        (prescriber(), medical(date(0), Clearance::NotCleared)),
        (prescriber(), standard_prescription("rx-1")),
        (prescriber(), prescription("rx-2", 0, 0, 50, 50, 50, 1, 1)),
        (therapist(), consent(date(0))),
        (
            front_desk(),
            schedule_preparation("prep-2", span(1, 10, 11)),
        ),
        (therapist(), schedule_exploration("x-1", span(2, 10, 13))),
        (
            front_desk(),
            schedule_integration("int-1", span(3, 10, 11), "x-1"),
        ),
        (therapist(), preparation("prep-1", span(0, 10, 11))),
        (therapist(), exploration("x-1", 2, Some(150), bp(120, 80))),
        (therapist(), exploration("x-2", 2, None, bp(150, 95))),
        (
            therapist(),
            exploration_with("x-3", 2, Some((35, Route::Intravenous)), bp(120, 80)),
        ),
        (therapist(), integration("int-1", span(3, 10, 11), "x-1")),
        (prescriber(), adjust_dose(200)),
        (therapist(), outcome(phq9(0), date(0))),
        (
            therapist(),
            outcome(
                OutcomeMeasure::Gad7(Gad7Score::new(21).expect("valid")),
                date(0),
            ),
        ),
        (
            prescriber(),
            outcome(
                OutcomeMeasure::Pcl5(Pcl5Score::new(80).expect("valid")),
                date(0),
            ),
        ),
        (
            therapist(),
            outcome(
                OutcomeMeasure::BdiIi(BdiIiScore::new(63).expect("valid")),
                date(0),
            ),
        ),
        (therapist(), ongoing_care("oc-1", span(5, 10, 11))),
        (therapist(), external_treatment(date(0))),
        (front_desk(), cancel("prep-2")),
        (front_desk(), no_show("prep-2")),
        (front_desk(), payment("pay-1", 17_500, date(0))),
        (therapist(), amend(3)),
        (therapist(), discharge(date(9))),
        (
            front_desk(),
            CommandBody::ReferClient(ReferClient {
                prescriber: prescriber().id,
                note: Some(text("medical evaluation, please")),
            }),
        ),
        (
            prescriber(),
            authorize_bp("auth-1", "x-1", 2, Some(bp(160, 100))),
        ),
        // Roles that may issue nothing still parse: the aggregate refuses.
        (auditor(), consent(date(0))),
        (admin(), amend(1)),
    ];
    let mut chart = Chart::new();
    let mut commands: Vec<Command> = bodies
        .into_iter()
        .map(|(actor, body)| chart.command(actor, body))
        .collect();
    // Overrides, with and without an authorizing prescriber.
    let soft = chart
        .command(therapist(), exploration("x-4", 4, Some(150), bp(120, 80)))
        .with_override(
            Rule::ExplorationTooSoon,
            text("client travelling next week"),
        );
    let mut authorized = chart
        .command(therapist(), exploration("x-5", 5, Some(150), bp(150, 95)))
        .with_override(
            Rule::ExplorationBloodPressureAboveThreshold,
            text("white-coat hypertension, rechecked"),
        );
    authorized.overrides[0].authorization =
        Some(AuthorizationId::parse("auth-x-5").expect("valid authorization id"));
    commands.push(soft);
    commands.push(authorized);
    commands
}
