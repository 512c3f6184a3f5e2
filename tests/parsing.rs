//! "Bad input: an out-of-range score, a negative dose, an unknown enum
//! value, an end before a start are refused at parsing with the field
//! named; nothing panics."
//!
//! Each case starts from a valid command built with the harness, turns it
//! into JSON, breaks one thing, and checks that `parse_command` refuses it
//! naming the field (the dotted serde path) and saying why.

use chrono::Duration;
use kapchart_domain::*;
use kapchart_e2e::*;
use proptest::prelude::*;
use serde_json::{Value, json};

// ---- local helpers ----

/// A valid command's JSON.
fn valid(actor: Actor, body: CommandBody) -> Value {
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
fn with(value: &Value, pointer: &str, new: Value) -> Value {
    let mut value = value.clone();
    *value
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in the command")) = new;
    value
}

/// `value` with `key: new` added to (or replaced in) the object at `pointer`.
fn with_key(value: &Value, pointer: &str, key: &str, new: Value) -> Value {
    let mut value = value.clone();
    value
        .pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {pointer}"))
        .insert(key.to_owned(), new);
    value
}

/// `value` without the key at `pointer`.
fn without(value: &Value, pointer: &str) -> Value {
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
fn object(key: &str, value: Value) -> Value {
    Value::Object(serde_json::Map::from_iter([(key.to_owned(), value)]))
}

/// Parses JSON text that must be refused, and returns the error.
#[track_caller]
fn refused_text(json: &str) -> InputError {
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
fn assert_field(value: &Value, field: &str, why: &[&str]) -> InputError {
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

fn phq9(score: i64) -> OutcomeMeasure {
    OutcomeMeasure::Phq9(Phq9Score::new(score).expect("valid score"))
}

fn outcome_json() -> Value {
    valid(therapist(), outcome(phq9(14), date(0)))
}

fn exploration_json() -> Value {
    valid(therapist(), exploration("x-1", 1, Some(150), bp(120, 80)))
}

fn prescription_json() -> Value {
    valid(prescriber(), standard_prescription("rx-1"))
}

fn payment_json() -> Value {
    valid(front_desk(), payment("pay-1", 17_500, date(0)))
}

fn preparation_json() -> Value {
    valid(therapist(), preparation("prep-1", span(0, 10, 11)))
}

fn register_json() -> Value {
    valid(front_desk(), register_client())
}

const SCORE: &str = "/body/RecordOutcomeMeasure/measure";
const ADMIN: &str = "/body/RecordExploration/administration";
const EXPLORATION: &str = "/body/RecordExploration";

/// Every command body the harness builds, each valid.
fn harness_commands() -> Vec<Command> {
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

// ---- out-of-range scores ----

#[test]
fn scores_outside_their_published_range_are_refused_naming_the_score() {
    let base = outcome_json();
    let field = "body.RecordOutcomeMeasure.measure.score";
    for (instrument, name, max) in [
        ("phq9", "PHQ-9", 27),
        ("gad7", "GAD-7", 21),
        ("pcl5", "PCL-5", 80),
        ("bdi_ii", "BDI-II", 63),
    ] {
        let range = format!("must be 0–{max}");
        // The published bounds parse...
        for ok in [0, max] {
            let v = with(&base, SCORE, json!({"instrument": instrument, "score": ok}));
            assert!(parse_command(&v.to_string()).is_ok(), "{name} {ok}");
        }
        // ... one past either end does not.
        for bad in [max + 1, -1, 1_000, i64::MIN] {
            let v = with(
                &base,
                SCORE,
                json!({"instrument": instrument, "score": bad}),
            );
            let err = assert_field(&v, field, &[name, &range]);
            assert!(err.message.contains(&bad.to_string()), "{err}");
        }
        // Not a whole number.
        let v = with(
            &base,
            SCORE,
            json!({"instrument": instrument, "score": 14.5}),
        );
        assert_field(&v, field, &["invalid type"]);
    }
    // The brief's examples, spelled out.
    for (instrument, score, name) in [
        ("phq9", 28, "PHQ-9"),
        ("gad7", 22, "GAD-7"),
        ("pcl5", 81, "PCL-5"),
        ("bdi_ii", 64, "BDI-II"),
        ("bdi_ii", -1, "BDI-II"),
    ] {
        let v = with(
            &base,
            SCORE,
            json!({"instrument": instrument, "score": score}),
        );
        assert_field(&v, field, &[name, "must be 0–"]);
    }
    // A missing score.
    let v = with(&base, SCORE, json!({"instrument": "phq9"}));
    let err = refused_text(&v.to_string());
    assert!(
        err.field.starts_with("body.RecordOutcomeMeasure.measure"),
        "{err}"
    );
    assert!(err.message.contains("score"), "{err}");
}

// ---- doses ----

#[test]
fn bad_doses_are_refused_naming_the_dose() {
    let x = exploration_json();
    let field = "body.RecordExploration.administration.dose";
    let dose = &format!("{ADMIN}/dose");
    assert_field(&with(&x, dose, json!(-5)), field, &["positive", "-5"]);
    assert_field(&with(&x, dose, json!(-1)), field, &["positive"]);
    assert_field(&with(&x, dose, json!(0)), field, &["at least 1 mg"]);
    assert_field(&with(&x, dose, json!(1.5)), field, &["invalid type"]);
    assert_field(&with(&x, dose, json!(150.0)), field, &["invalid type"]);
    assert_field(
        &with(&x, dose, json!(10_000_000_000_i64)),
        field,
        &["not a dose"],
    );
    assert_field(&with(&x, dose, json!(u64::MAX)), field, &["i64"]);
    assert_field(&with(&x, dose, json!("150")), field, &["invalid type"]);
    assert_field(&with(&x, dose, Value::Null), field, &["invalid type"]);
    // The same checked type everywhere a dose appears.
    let adjust = valid(prescriber(), adjust_dose(200));
    assert_field(
        &with(&adjust, "/body/AdjustDose/dose", json!(-50)),
        "body.AdjustDose.dose",
        &["positive"],
    );
    let external = valid(therapist(), external_treatment(date(0)));
    assert_field(
        &with(&external, "/body/RecordExternalTreatment/dose", json!(0)),
        "body.RecordExternalTreatment.dose",
        &["at least 1 mg"],
    );
    let rx = prescription_json();
    for key in ["min", "max", "starting", "max_step"] {
        let v = with(
            &rx,
            &format!("/body/IssuePrescription/dosing/{key}"),
            json!(-10),
        );
        assert_field(
            &v,
            &format!("body.IssuePrescription.dosing.{key}"),
            &["positive"],
        );
    }
    let v = with(&rx, "/body/IssuePrescription/dosing/max_step", json!(0));
    assert_field(
        &v,
        "body.IssuePrescription.dosing.max_step",
        &["at least 1"],
    );
}

// ---- unknown enum values ----

#[test]
fn unknown_enum_values_are_refused_naming_the_field() {
    let x = exploration_json();
    assert_field(
        &with(&x, &format!("{ADMIN}/route"), json!("intranasal")),
        "body.RecordExploration.administration.route",
        &["unknown variant", "sublingual"],
    );
    assert_field(
        &with(&x, &format!("{ADMIN}/drug"), json!("esketamine")),
        "body.RecordExploration.administration.drug",
        &["unknown variant", "ketamine"],
    );
    assert_field(
        &with(&x, "/body/RecordExploration/departure", json!("drove_self")),
        "body.RecordExploration.departure",
        &["unknown variant", "companion"],
    );
    assert_field(
        &with(&x, "/actor/role", json!("janitor")),
        "actor.role",
        &["unknown variant", "therapist"],
    );
    // Enum values are exact: no case folding.
    assert_field(
        &with(&x, "/actor/role", json!("Therapist")),
        "actor.role",
        &["unknown variant"],
    );
    assert_field(
        &with(
            &outcome_json(),
            &format!("{SCORE}/instrument"),
            json!("madrs"),
        ),
        "body.RecordOutcomeMeasure.measure.instrument",
        &["unknown variant", "phq9"],
    );
    let external = valid(therapist(), external_treatment(date(0)));
    assert_field(
        &with(
            &external,
            "/body/RecordExternalTreatment/route",
            json!("intranasal"),
        ),
        "body.RecordExternalTreatment.route",
        &["unknown variant"],
    );
    assert_field(
        &with(
            &payment_json(),
            "/body/RecordPayment/method",
            json!("bitcoin"),
        ),
        "body.RecordPayment.method",
        &["unknown variant", "card"],
    );
    let intake_json = valid(
        therapist(),
        intake("intake-1", span(0, 9, 10), Suitability::Suitable),
    );
    assert_field(
        &with(&intake_json, "/body/RecordIntake/finding", json!("maybe")),
        "body.RecordIntake.finding",
        &["unknown variant", "suitable"],
    );
    let cancel_json = valid(front_desk(), cancel("prep-2"));
    assert_field(
        &with(&cancel_json, "/body/CancelSession/reason", json!("whim")),
        "body.CancelSession.reason",
        &["unknown variant"],
    );
    let override_json = serde_json::to_value(
        harness_commands()
            .pop()
            .expect("harness builds commands with overrides"),
    )
    .expect("serializes");
    assert_field(
        &with(
            &override_json,
            "/overrides/0/rule",
            json!("exploration.whenever"),
        ),
        "overrides[0].rule",
        &["unknown variant", "exploration.too_soon"],
    );

    // An unknown command name.
    let consent_json = valid(therapist(), consent(date(0)));
    let body = consent_json["body"]["RecordConsent"].clone();
    for name in ["RecordConsnet", "recordConsent", "DeleteEntry", ""] {
        let v = with(&consent_json, "/body", object(name, body.clone()));
        assert_field(&v, "body", &["unknown variant", "RecordConsent"]);
    }
    // A body with two commands, or none.
    let two = with_key(
        &consent_json,
        "/body",
        "RecordNoShow",
        json!({"session": "x"}),
    );
    assert!(parse_command(&two.to_string()).is_err());
    let none = with(&consent_json, "/body", json!({}));
    assert!(parse_command(&none.to_string()).is_err());
}

// ---- times ----

#[test]
fn spans_ending_before_or_at_their_start_are_refused_naming_the_span() {
    let prep = preparation_json();
    let start = "2026-01-05T10:00:00Z";
    for end in ["2026-01-05T09:59:59Z", start, "2026-01-04T10:00:00Z"] {
        let v = with(
            &prep,
            "/body/RecordPreparation/span",
            json!({"start": start, "end": end}),
        );
        assert_field(
            &v,
            "body.RecordPreparation.span",
            &["end must be after start"],
        );
    }
    let v = with(
        &prep,
        "/body/RecordPreparation/span",
        json!({"start": start, "end": "2026-01-06T10:00:01Z"}),
    );
    assert_field(&v, "body.RecordPreparation.span", &["24 hours"]);

    let x = exploration_json();
    let s = x["body"]["RecordExploration"]["span"]["start"].clone();
    let v = with(&x, "/body/RecordExploration/span/end", s);
    assert_field(
        &v,
        "body.RecordExploration.span",
        &["end must be after start"],
    );

    let schedule = valid(
        front_desk(),
        schedule_preparation("prep-2", span(1, 10, 11)),
    );
    let v = with(
        &schedule,
        "/body/SchedulePreparation/span",
        json!({"start": "2026-01-06T11:00:00Z", "end": "2026-01-06T10:00:00Z"}),
    );
    assert_field(
        &v,
        "body.SchedulePreparation.span",
        &["end must be after start"],
    );

    // Not a time at all, or a time without a zone.
    let v = with(&prep, "/body/RecordPreparation/span/start", json!("10am"));
    assert_field(&v, "body.RecordPreparation.span.start", &[]);
    let v = with(
        &prep,
        "/body/RecordPreparation/span/start",
        json!("2026-01-05T10:00:00"),
    );
    assert_field(&v, "body.RecordPreparation.span.start", &[]);
    let v = with(&prep, "/issued_at", json!("yesterday"));
    assert_field(&v, "issued_at", &[]);
}

#[test]
fn exploration_times_must_be_consistent() {
    let x = exploration_json();
    // Discharge before the dose.
    let v = with(
        &x,
        "/body/RecordExploration/discharged_at",
        json!("2026-01-06T10:10:00Z"),
    );
    assert_field(&v, "body.RecordExploration", &["discharged_at"]);
    // Dose given outside the session.
    let v = with(
        &x,
        &format!("{ADMIN}/given_at"),
        json!("2026-01-06T09:00:00Z"),
    );
    assert_field(&v, "body.RecordExploration", &["given_at", "span"]);
    // Neither a dose nor a reason; or both.
    let v = with(&x, ADMIN, Value::Null);
    assert_field(&v, "body.RecordExploration", &["not_dosed_reason"]);
    let v = with(
        &x,
        "/body/RecordExploration/not_dosed_reason",
        json!("declined"),
    );
    assert_field(&v, "body.RecordExploration", &["not_dosed_reason"]);
}

#[test]
fn prescription_bounds_and_dates_are_checked() {
    let rx = prescription_json();
    let dosing = "/body/IssuePrescription/dosing";
    let v = with(
        &rx,
        dosing,
        json!({"min": 300, "max": 100, "starting": 150, "max_step": 50}),
    );
    assert_field(
        &v,
        "body.IssuePrescription.dosing",
        &["max must not be below min"],
    );
    let v = with(
        &rx,
        dosing,
        json!({"min": 100, "max": 300, "starting": 350, "max_step": 50}),
    );
    assert_field(&v, "body.IssuePrescription.dosing", &["starting"]);
    let v = with(
        &rx,
        dosing,
        json!({"min": 100, "max": 300, "starting": 50, "max_step": 50}),
    );
    assert_field(&v, "body.IssuePrescription.dosing", &["starting"]);
    // min == max is a fixed dose, which is fine.
    let v = with(
        &rx,
        dosing,
        json!({"min": 150, "max": 150, "starting": 150, "max_step": 1}),
    );
    assert!(parse_command(&v.to_string()).is_ok());

    let valid_range = "/body/IssuePrescription/valid";
    let v = with(
        &rx,
        valid_range,
        json!({"from": "2026-02-01", "until": "2026-01-31"}),
    );
    assert_field(
        &v,
        "body.IssuePrescription.valid",
        &["until must not be before from"],
    );
    let v = with(
        &rx,
        valid_range,
        json!({"from": "2026-02-01", "until": "2026-02-01"}),
    );
    assert!(
        parse_command(&v.to_string()).is_ok(),
        "a one-day range is valid"
    );
    let v = with(
        &rx,
        "/body/IssuePrescription/valid/from",
        json!("2026-02-30"),
    );
    assert_field(&v, "body.IssuePrescription.valid.from", &[]);

    for bad in [0, 53, -1] {
        let v = with(
            &rx,
            "/body/IssuePrescription/authorized_sessions",
            json!(bad),
        );
        assert_field(&v, "body.IssuePrescription.authorized_sessions", &["1–52"]);
    }
}

#[test]
fn blood_pressure_is_checked() {
    let x = exploration_json();
    let field = "body.RecordExploration.bp_before";
    let bp_before = "/body/RecordExploration/bp_before";
    let v = with(&x, bp_before, json!({"systolic": 80, "diastolic": 120}));
    assert_field(&v, field, &["systolic", "above diastolic"]);
    let v = with(&x, bp_before, json!({"systolic": 120, "diastolic": 120}));
    assert_field(&v, field, &["above diastolic"]);
    let v = with(&x, bp_before, json!({"systolic": 400, "diastolic": 80}));
    assert_field(&v, field, &["systolic must be 40–300"]);
    let v = with(&x, bp_before, json!({"systolic": 120, "diastolic": 10}));
    assert_field(&v, field, &["diastolic must be 20–200"]);
    let v = with(&x, bp_before, json!({"systolic": 120}));
    assert_field(&v, field, &["missing field `diastolic`"]);
    let v = with(&x, bp_before, json!("120/80"));
    assert_field(&v, field, &["invalid type"]);
    let v = with(
        &x,
        "/body/RecordExploration/bp_after",
        json!({"systolic": 80, "diastolic": 120}),
    );
    assert_field(&v, "body.RecordExploration.bp_after", &["above diastolic"]);
}

// ---- shape: unknown and missing fields ----

#[test]
fn unknown_fields_are_refused() {
    let prep = preparation_json();
    assert_field(
        &with_key(&prep, "", "extra", json!(1)),
        "extra",
        &["unknown field `extra`"],
    );
    assert_field(
        &with_key(&prep, "/body/RecordPreparation", "mood", json!("good")),
        "body.RecordPreparation.mood",
        &["unknown field `mood`"],
    );
    assert_field(
        &with_key(&prep, "/actor", "department", json!("north")),
        "actor.department",
        &["unknown field `department`"],
    );
    assert_field(
        &with_key(
            &prep,
            "/body/RecordPreparation/span",
            "timezone",
            json!("UTC"),
        ),
        "body.RecordPreparation.span.timezone",
        &["unknown field"],
    );
    let x = exploration_json();
    assert_field(
        &with_key(&x, "/body/RecordExploration/bp_before", "pulse", json!(70)),
        "body.RecordExploration.bp_before.pulse",
        &["unknown field"],
    );
    assert_field(
        &with_key(&x, ADMIN, "site", json!("left cheek")),
        "body.RecordExploration.administration.site",
        &["unknown field"],
    );
    assert_field(
        &with_key(&x, EXPLORATION, "pulse", json!(70)),
        "body.RecordExploration.pulse",
        &["unknown field"],
    );
    let pay = payment_json();
    assert_field(
        &with_key(&pay, "/body/RecordPayment", "tip", json!(100)),
        "body.RecordPayment.tip",
        &["unknown field"],
    );
    let rx = prescription_json();
    assert_field(
        &with_key(&rx, "/body/IssuePrescription/dosing", "per_kg", json!(1)),
        "body.IssuePrescription.dosing.per_kg",
        &["unknown field"],
    );
}

#[test]
fn missing_required_fields_are_refused() {
    let prep = preparation_json();
    for key in ["id", "actor", "issued_at", "body"] {
        let err = assert_field(&without(&prep, &format!("/{key}")), ".", &[key]);
        assert!(err.message.contains("missing field"), "{err}");
    }
    for key in ["session", "span", "intentions", "aftercare_plan", "notes"] {
        let v = without(&prep, &format!("/body/RecordPreparation/{key}"));
        assert_field(
            &v,
            "body.RecordPreparation",
            &["missing field", &format!("`{key}`")],
        );
    }
    let x = exploration_json();
    for key in ["departure", "bp_before", "discharged_at"] {
        let v = without(&x, &format!("{EXPLORATION}/{key}"));
        assert_field(&v, "body.RecordExploration", &["missing field", key]);
    }
    let v = without(&x, &format!("{ADMIN}/lot_number"));
    assert_field(
        &v,
        "body.RecordExploration.administration",
        &["missing field `lot_number`"],
    );
    let v = without(&payment_json(), "/body/RecordPayment/amount");
    assert_field(&v, "body.RecordPayment", &["missing field `amount`"]);
    // Empty free text counts as missing.
    let v = with(&prep, "/body/RecordPreparation/notes", json!("   "));
    assert_field(&v, "body.RecordPreparation.notes", &["must not be empty"]);
}

// ---- ids ----

#[test]
fn bad_ids_are_refused_naming_the_id() {
    let prep = preparation_json();
    for (bad, why) in [
        ("", "1 to 64"),
        ("cmd 1", "may hold only"),
        (" cmd-1", "may hold only"),
        ("cmd-1\n", "may hold only"),
        ("-cmd", "starting with a letter or digit"),
        ("cmd/1", "may hold only"),
        ("çmd", "may hold only"),
    ] {
        let err = assert_field(&with(&prep, "/id", json!(bad)), "id", &[why]);
        assert!(err.message.starts_with("command id"), "{err}");
    }
    assert_field(
        &with(&prep, "/id", json!("a".repeat(65))),
        "id",
        &["1 to 64"],
    );
    assert!(parse_command(&with(&prep, "/id", json!("a".repeat(64))).to_string()).is_ok());
    assert_field(&with(&prep, "/id", json!(42)), "id", &["invalid type"]);

    assert_field(
        &with(&prep, "/actor/id", json!("t rivera")),
        "actor.id",
        &["user id"],
    );
    assert_field(
        &with(&prep, "/body/RecordPreparation/session", json!("prep 1")),
        "body.RecordPreparation.session",
        &["session id"],
    );
    assert_field(
        &with(&payment_json(), "/body/RecordPayment/payment", json!("")),
        "body.RecordPayment.payment",
        &["payment id", "1 to 64"],
    );
    assert_field(
        &with(
            &prescription_json(),
            "/body/IssuePrescription/prescription",
            json!("rx 1"),
        ),
        "body.IssuePrescription.prescription",
        &["prescription id"],
    );
    assert_field(
        &with(
            &register_json(),
            "/body/RegisterClient/client_id",
            json!("client 1"),
        ),
        "body.RegisterClient.client_id",
        &["client id"],
    );
    let no_show_json = valid(front_desk(), no_show("prep-2"));
    assert_field(
        &with(&no_show_json, "/body/RecordNoShow/session", json!("")),
        "body.RecordNoShow.session",
        &["session id"],
    );
}

// ---- money ----

#[test]
fn payment_amounts_must_be_positive_cents() {
    let pay = payment_json();
    let amount = "/body/RecordPayment/amount";
    assert_field(
        &with(&pay, amount, json!(-100)),
        "body.RecordPayment.amount",
        &["must not be negative"],
    );
    assert_field(
        &with(&pay, amount, json!(-1)),
        "body.RecordPayment.amount",
        &["must not be negative"],
    );
    // Zero is refused naming the amount.
    assert_field(
        &with(&pay, amount, json!(0)),
        "body.RecordPayment.amount",
        &["more than zero"],
    );
    // Money is whole cents.
    assert_field(
        &with(&pay, amount, json!(175.5)),
        "body.RecordPayment.amount",
        &["invalid type"],
    );
    assert!(parse_command(&with(&pay, amount, json!(1)).to_string()).is_ok());
}

// ---- field bounds (docs/domain.md, "Field bounds") ----

/// 2^53: the first integer a JSON reader (and the audit chain's canonical
/// JSON) cannot hold exactly.
const TWO_53: u64 = 1 << 53;

#[test]
fn payments_are_at_most_100_000_dollars_naming_the_amount() {
    let pay = payment_json();
    let amount = "/body/RecordPayment/amount";
    let field = "body.RecordPayment.amount";
    assert!(parse_command(&with(&pay, amount, json!(10_000_000)).to_string()).is_ok());
    for bad in [10_000_001, TWO_53 - 1, TWO_53, TWO_53 + 1, i64::MAX as u64] {
        let err = assert_field(
            &with(&pay, amount, json!(bad)),
            field,
            &["at most $100000.00", "per payment"],
        );
        assert!(err.message.contains(&bad.to_string()), "{err}");
    }
    assert_field(&with(&pay, amount, json!(u64::MAX)), field, &["i64"]);
    assert_field(&with(&pay, amount, json!(1e20)), field, &["invalid type"]);
}

#[test]
fn doses_are_at_most_10_000_mg_wherever_a_dose_is_sent() {
    let x = exploration_json();
    let adjust = valid(prescriber(), adjust_dose(200));
    let external = valid(therapist(), external_treatment(date(0)));
    let rx = prescription_json();
    let mut cases: Vec<(Value, String)> = vec![
        (x, format!("{ADMIN}/dose")),
        (adjust, "/body/AdjustDose/dose".into()),
        (external, "/body/RecordExternalTreatment/dose".into()),
    ];
    for key in ["min", "max", "starting", "max_step"] {
        cases.push((
            // Fixed bounds, so that only the one dose is out of range.
            with(
                &rx,
                "/body/IssuePrescription/dosing",
                json!({"min": 100, "max": 100, "starting": 100, "max_step": 50}),
            ),
            format!("/body/IssuePrescription/dosing/{key}"),
        ));
    }
    for (base, pointer) in &cases {
        let field = pointer[1..].replace('/', ".");
        for bad in [10_001, 1_000_000, i64::from(u32::MAX)] {
            let err = assert_field(
                &with(base, pointer, json!(bad)),
                &field,
                &["at most 10000 mg"],
            );
            assert!(err.message.contains(&bad.to_string()), "{err}");
        }
    }
    // The bound itself parses (clinical bounds come from the prescription).
    let rx_max = with(
        &prescription_json(),
        "/body/IssuePrescription/dosing",
        json!({"min": 10_000, "max": 10_000, "starting": 10_000, "max_step": 10_000}),
    );
    assert!(parse_command(&rx_max.to_string()).is_ok());
    let adjust = valid(prescriber(), adjust_dose(200));
    assert!(
        parse_command(&with(&adjust, "/body/AdjustDose/dose", json!(10_000)).to_string()).is_ok()
    );
}

#[test]
fn amended_entry_numbers_are_sequence_numbers_below_2_to_the_53() {
    let amend_json = valid(therapist(), amend(3));
    let entry = "/body/AmendEntry/entry";
    let field = "body.AmendEntry.entry";
    assert!(parse_command(&with(&amend_json, entry, json!(TWO_53 - 1)).to_string()).is_ok());
    for bad in [0, TWO_53, u64::MAX] {
        let err = assert_field(
            &with(&amend_json, entry, json!(bad)),
            field,
            &["sequence number"],
        );
        assert!(err.message.contains(&bad.to_string()), "{err}");
    }
    assert_field(
        &with(&amend_json, entry, json!(-1)),
        field,
        &["invalid value"],
    );
}

/// Every date field of every command, as (command JSON, pointer).
fn date_fields() -> Vec<(Value, &'static str)> {
    vec![
        (register_json(), "/body/RegisterClient/date_of_birth"),
        (
            valid(prescriber(), medical(date(0), Clearance::Cleared)),
            "/body/RecordMedicalEvaluation/evaluated_on",
        ),
        (prescription_json(), "/body/IssuePrescription/valid/from"),
        (prescription_json(), "/body/IssuePrescription/valid/until"),
        (
            valid(therapist(), consent(date(0))),
            "/body/RecordConsent/signed_on",
        ),
        (outcome_json(), "/body/RecordOutcomeMeasure/administered_on"),
        (
            valid(therapist(), external_treatment(date(0))),
            "/body/RecordExternalTreatment/treated_on",
        ),
        (payment_json(), "/body/RecordPayment/received_on"),
        (
            valid(therapist(), discharge(date(9))),
            "/body/DischargeClient/discharged_on",
        ),
    ]
}

/// Every timestamp field of every command, as (command JSON, pointer).
fn time_fields() -> Vec<(Value, String)> {
    let mut out: Vec<(Value, String)> = Vec::new();
    out.push((preparation_json(), "/issued_at".into()));
    let spans: Vec<(Actor, CommandBody)> = vec![
        (
            therapist(),
            intake("intake-1", span(0, 9, 10), Suitability::Suitable),
        ),
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
        (therapist(), integration("int-1", span(3, 10, 11), "x-1")),
        (therapist(), ongoing_care("oc-1", span(5, 10, 11))),
    ];
    for (actor, body) in spans {
        let name = body.name();
        let json = valid(actor, body);
        for end in ["start", "end"] {
            out.push((json.clone(), format!("/body/{name}/span/{end}")));
        }
    }
    out.push((exploration_json(), format!("{ADMIN}/given_at")));
    out.push((exploration_json(), format!("{EXPLORATION}/discharged_at")));
    out
}

#[test]
fn dates_outside_1900_to_2199_are_refused_naming_the_field() {
    let cases = date_fields();
    assert_eq!(cases.len(), 9);
    for (base, pointer) in &cases {
        let field = pointer[1..].replace('/', ".");
        // The review's dates, and one day either side of the range.
        for bad in [
            "0000-01-01",
            "-262143-01-01",
            "1899-12-31",
            "2200-01-01",
            "+262142-12-31",
        ] {
            let err = refused_text(&with(base, pointer, json!(bad)).to_string());
            assert_eq!(err.field, field, "{bad}: {err}");
            // Out-of-range dates chrono reads are refused by the bound;
            // the message never repeats the date (a date of birth is PHI).
            if err.message.starts_with("date:") {
                assert!(
                    err.message.contains("between 1900-01-01 and 2199-12-31"),
                    "{err}"
                );
            }
            assert!(
                !err.message.contains(bad.trim_start_matches(['+', '-'])),
                "{err}"
            );
        }
        // Year 0000 and 1899 parse as dates: the bound refuses them.
        let err = refused_text(&with(base, pointer, json!("0000-01-01")).to_string());
        assert!(
            err.message.contains("between 1900-01-01 and 2199-12-31"),
            "{err}"
        );
        // The ends of the range parse (a date of birth in 1900, a
        // prescription valid until 2199), whatever the record then says.
        let mut edge = base.clone();
        if pointer.ends_with("/from") {
            edge = with(
                &edge,
                "/body/IssuePrescription/valid/until",
                json!("2199-12-31"),
            );
        }
        if pointer.ends_with("/until") {
            edge = with(
                &edge,
                "/body/IssuePrescription/valid/from",
                json!("1900-01-01"),
            );
        }
        for ok in ["1900-01-01", "2199-12-31"] {
            let v = with(&edge, pointer, json!(ok));
            assert!(parse_command(&v.to_string()).is_ok(), "{field} {ok}");
        }
    }
}

#[test]
fn times_outside_1900_to_2199_are_refused_naming_the_field() {
    let cases = time_fields();
    assert_eq!(cases.len(), 19);
    for (base, pointer) in &cases {
        let field = pointer[1..].replace('/', ".");
        for bad in [
            "0000-01-01T10:00:00Z",
            "1899-12-31T23:59:59Z",
            "1900-01-01T00:30:00+01:00",
            "2200-01-01T00:00:00Z",
        ] {
            let err = assert_field(
                &with(base, pointer, json!(bad)),
                &field,
                &["time: must be between 1900-01-01T00:00:00Z and 2199-12-31T23:59:59Z"],
            );
            assert!(!err.message.contains(bad), "{err}");
        }
        // Not a time chrono reads at all: refused too.
        refused_text(&with(base, pointer, json!("-262143-01-01T00:00:00Z")).to_string());
    }
}

/// The characters the brief names, and others of category Cf.
const INVISIBLE: &[char] = &[
    '\u{061C}',
    '\u{200B}',
    '\u{200C}',
    '\u{200D}',
    '\u{200E}',
    '\u{200F}',
    '\u{202A}',
    '\u{202B}',
    '\u{202C}',
    '\u{202D}',
    '\u{202E}',
    '\u{2060}',
    '\u{2066}',
    '\u{2067}',
    '\u{2068}',
    '\u{2069}',
    '\u{FEFF}',
    '\u{00AD}',
    '\u{180E}',
    '\u{2061}',
    '\u{206A}',
    '\u{FFF9}',
    '\u{E0001}',
    '\u{E0041}',
    '\u{2028}',
    '\u{2029}',
];

/// The "Trojan Source" controls: embeddings, overrides, isolates (and the
/// deprecated format controls after them).
fn reordering() -> impl Iterator<Item = char> {
    ('\u{202A}'..='\u{202E}').chain('\u{2066}'..='\u{206F}')
}

#[test]
fn names_with_invisible_or_direction_changing_characters_are_refused() {
    let reg = register_json();
    let name = "/body/RegisterClient/name";
    for &c in INVISIBLE {
        let mut raws = vec![format!("Alex{c} Example")];
        // (The line and paragraph separators are white space: at either
        // end they are trimmed away, as spaces are.)
        if !c.is_whitespace() {
            raws.extend([format!("{c}Alex Example"), format!("Alex Example{c}")]);
        }
        for raw in raws {
            let err = assert_field(
                &with(&reg, name, json!(raw)),
                "body.RegisterClient.name",
                &[
                    "invisible or direction-changing",
                    &format!("U+{:04X}", u32::from(c)),
                ],
            );
            assert!(!err.message.contains("Alex"), "{err}");
        }
    }
    // Names in any script, with their punctuation, still parse.
    for ok in [
        "Alex Example",
        "José Núñez-O'Brien",
        "Zoë Ångström",
        "שרה כהן",
        "ليلى الأحمد",
        "محمدرضا حسینی",
        "李小龍",
        "Nguyễn Thị Minh Khai",
        "Dr. A. Example Jr.",
    ] {
        let v = with(&reg, name, json!(ok));
        assert!(parse_command(&v.to_string()).is_ok(), "{ok}");
    }
}

#[test]
fn short_labels_refuse_invisible_characters_too() {
    let external = valid(therapist(), external_treatment(date(0)));
    let consent_json = valid(therapist(), consent(date(0)));
    for (base, pointer) in [
        (&external, "/body/RecordExternalTreatment/provider"),
        (&consent_json, "/body/RecordConsent/form"),
    ] {
        let field = pointer[1..].replace('/', ".");
        for &c in INVISIBLE {
            assert_field(
                &with(base, pointer, json!(format!("Affiliate{c} Center"))),
                &field,
                &["label", "invisible"],
            );
        }
        let v = with(base, pointer, json!("מרכז עירוי — Infusion Center v3"));
        assert!(parse_command(&v.to_string()).is_ok(), "{field}");
    }
}

#[test]
fn ids_lot_numbers_and_codes_refuse_invisible_characters() {
    let x = exploration_json();
    let intake_json = valid(
        therapist(),
        intake("intake-1", span(0, 9, 10), Suitability::Suitable),
    );
    let cases = [
        (&x, "/id"),
        (&x, "/actor/id"),
        (&x, "/body/RecordExploration/session"),
        (&x, "/body/RecordExploration/administration/lot_number"),
        (&intake_json, "/body/RecordIntake/diagnoses/0"),
    ];
    for (base, pointer) in cases {
        let field = pointer[1..].replace('/', ".").replace(".0", "[0]");
        let good = base
            .pointer(pointer)
            .and_then(Value::as_str)
            .expect("a string");
        for &c in INVISIBLE {
            let (head, tail) = good.split_at(1);
            let err =
                refused_text(&with(base, pointer, json!(format!("{head}{c}{tail}"))).to_string());
            assert_eq!(err.field, field, "U+{:04X}: {err}", u32::from(c));
        }
    }
}

/// Every free-text field of every command, as (command JSON, pointer).
fn text_fields() -> Vec<(Value, String)> {
    let x = with(
        &exploration_json(),
        "/body/RecordExploration/adverse_events",
        json!([{"description": "nausea", "severity": "mild"}]),
    );
    let not_dosed = valid(therapist(), exploration("x-2", 2, None, bp(120, 80)));
    let cancelled = with(
        &valid(front_desk(), cancel("prep-2")),
        "/body/CancelSession/note",
        json!("client unwell"),
    );
    let amend_json = valid(therapist(), amend(3));
    let mut out: Vec<(Value, String)> = vec![
        (x.clone(), "/body/RecordExploration/observations".into()),
        (
            x,
            "/body/RecordExploration/adverse_events/0/description".into(),
        ),
        (not_dosed, "/body/RecordExploration/not_dosed_reason".into()),
        (cancelled, "/body/CancelSession/note".into()),
        (amend_json.clone(), "/body/AmendEntry/reason".into()),
        (amend_json, "/body/AmendEntry/corrected_content".into()),
        (
            valid(prescriber(), adjust_dose(200)),
            "/body/AdjustDose/reason".into(),
        ),
        (
            prescription_json(),
            "/body/IssuePrescription/instructions".into(),
        ),
        (
            valid(therapist(), discharge(date(9))),
            "/body/DischargeClient/summary".into(),
        ),
    ];
    for key in ["intentions", "aftercare_plan", "notes"] {
        out.push((preparation_json(), format!("/body/RecordPreparation/{key}")));
    }
    let with_notes: Vec<(Actor, CommandBody)> = vec![
        (
            therapist(),
            intake("intake-1", span(0, 9, 10), Suitability::Suitable),
        ),
        (prescriber(), medical(date(0), Clearance::Cleared)),
        (therapist(), integration("int-1", span(3, 10, 11), "x-1")),
        (therapist(), ongoing_care("oc-1", span(5, 10, 11))),
        (therapist(), external_treatment(date(0))),
    ];
    for (actor, body) in with_notes {
        let name = body.name();
        out.push((valid(actor, body), format!("/body/{name}/notes")));
    }
    out
}

#[test]
fn free_text_refuses_trojan_source_controls_and_keeps_right_to_left_text() {
    let cases = text_fields();
    assert_eq!(cases.len(), 17);
    for (base, pointer) in &cases {
        let field = pointer[1..].replace('/', ".").replace(".0.", "[0].");
        for c in reordering() {
            // What a reviewer sees differs from what the record holds.
            let trojan = format!("dose checked{c} \u{2066}// not{c} given\u{2069}");
            assert_field(
                &with(base, pointer, json!(trojan)),
                &field,
                &["text", "bidirectional", &format!("U+{:04X}", u32::from(c))],
            );
        }
        // Right-to-left notes with the marks that order mixed text, and
        // zero-width joiners that Persian and Indic spelling need.
        for ok in [
            "המטופלת קיבלה 150 mg\u{200F} ללא תופעות",
            "تم إعطاء 150\u{061C} ملغ",
            "Patient said \u{200E}\"שלום\"\u{200E} twice",
            "می\u{200C}خواهم",
            "क्\u{200D}ष",
        ] {
            let v = with(base, pointer, json!(ok));
            assert!(parse_command(&v.to_string()).is_ok(), "{field}: {ok}");
        }
    }
}

/// The string and number leaves of a JSON value, as pointers.
fn leaves(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                leaves(v, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                leaves(v, format!("{at}/{i}"), out);
            }
        }
        Value::String(_) | Value::Number(_) => out.push(at),
        Value::Null | Value::Bool(_) => {}
    }
}

/// A net under the tests above, over every command the harness builds:
/// every string a client sends refuses a right-to-left override inside it,
/// every date or time refuses the years 0000 and 2200, and every integer
/// refuses 2^53. A field added without its bound fails here.
#[test]
fn no_field_of_any_command_accepts_an_unbounded_value() {
    let mut accepted = Vec::new();
    for command in harness_commands() {
        let name = command.body.name();
        let value = serde_json::to_value(&command).expect("serializes");
        let mut all = Vec::new();
        leaves(&value, String::new(), &mut all);
        for pointer in &all {
            let leaf = value.pointer(pointer).expect("a leaf");
            let mut bad: Vec<Value> = Vec::new();
            if let Some(s) = leaf.as_str() {
                let (head, tail) = s.split_at(s.chars().next().map_or(0, char::len_utf8));
                bad.push(json!(format!("{head}\u{202E}{tail}")));
                if s.parse::<chrono::NaiveDate>().is_ok() {
                    bad.extend([json!("0000-01-01"), json!("2200-01-01")]);
                }
                if s.parse::<chrono::DateTime<chrono::Utc>>().is_ok() {
                    bad.extend([json!("0000-01-01T10:00:00Z"), json!("2200-01-01T10:00:00Z")]);
                }
            } else {
                bad.push(json!(TWO_53));
            }
            for b in bad {
                let v = with(&value, pointer, b.clone());
                if parse_command(&v.to_string()).is_ok() {
                    accepted.push(format!("{name} {pointer} = {b}"));
                }
            }
        }
    }
    assert!(
        accepted.is_empty(),
        "unbounded fields:\n{}",
        accepted.join("\n")
    );
}

/// Events are the past: the bounds apply to what a client sends now, and
/// every event stored before them still reads (a year-0000 birthday, a
/// name with a zero-width joiner, text with an override, a payment of
/// 2^53 - 1 cents, a 20 g dose).
#[test]
fn events_stored_before_the_bounds_still_read() {
    let decision = json!({
        "command_id": "cmd-1", "command_fingerprint": "00",
        "actor": {"id": "fd-jones", "role": "front_desk"},
        "decided_at": "0000-01-01T00:00:00Z", "policy_version": 1,
    });
    let events = [
        json!({"ClientRegistered": {"decision": decision, "client_id": "client-1",
            "name": "Alex\u{200D}\u{202E} Example", "date_of_birth": "0000-01-01",
            "therapist": "t-rivera", "prescriber": null}}),
        json!({"PaymentRecorded": {"decision": decision, "payment": "pay-1",
            "amount": TWO_53 - 1, "method": "card", "payer": "client",
            "received_on": "-0001-12-31", "session": null}}),
        json!({"DoseAdjusted": {"decision": decision, "prescription": "rx-1",
            "from": 20_000, "to": 30_000, "reason": "\u{202E}reversed\u{2066}"}}),
        json!({"EntryAmended": {"decision": decision, "entry": u64::MAX,
            "entry_type": "ClientRegistered", "reason": "typo",
            "corrected_content": "\u{2067}x\u{2069}"}}),
        json!({"MedicalEvaluationRecorded": {"decision": decision, "prescriber": "rx-chen",
            "evaluated_on": "2999-01-01", "finding": "cleared", "notes": "ok"}}),
    ];
    for event in events {
        let parsed: Result<ClientEvent, _> = serde_json::from_value(event.clone());
        let parsed = parsed.unwrap_or_else(|e| panic!("{e}: {event}"));
        assert_eq!(serde_json::to_value(&parsed).expect("serializes"), event);
    }
    // Cents::MAX is the most any amount ever was (the chain refuses more).
    let beyond = json!({"PaymentRecorded": {"decision": decision, "payment": "pay-1",
        "amount": TWO_53, "method": "card", "payer": "client",
        "received_on": "2026-01-05", "session": null}});
    assert!(serde_json::from_value::<ClientEvent>(beyond).is_err());
}

// ---- not JSON, or not a command ----

#[test]
fn malformed_json_is_refused_without_panicking() {
    let prep = preparation_json().to_string();
    let truncated = &prep[..prep.len() / 2];
    let cases: Vec<String> = vec![
        String::new(),
        " ".into(),
        "{".into(),
        "}".into(),
        "{not json".into(),
        r#"{"id":"#.into(),
        r#"{"id":"cmd-1",}"#.into(),
        "null".into(),
        "42".into(),
        "-0".into(),
        "1e999".into(),
        "NaN".into(),
        r#""RecordConsent""#.into(),
        "[]".into(),
        "{}".into(),
        r#""\uD800""#.into(),
        "\u{0}".into(),
        "\u{feff}{}".into(),
        truncated.into(),
        format!("[{prep}]"),
    ];
    for json in &cases {
        let err = refused_text(json);
        // Displaying the error does not panic either.
        assert!(!err.to_string().is_empty());
    }
    // A duplicated key is ambiguous and refused.
    let dup = prep.replacen("{", r#"{"id":"cmd-0","#, 1);
    let err = refused_text(&dup);
    assert!(err.message.contains("duplicate field"), "{err}");
}

/// A document is one command: anything after it is refused, as
/// `serde_json::from_str` does. Otherwise `{command} {other command}` is
/// read as the first, and the rest silently dropped.
#[test]
fn content_after_the_command_is_refused() {
    let prep = preparation_json().to_string();
    // Whitespace after the command is fine.
    assert!(parse_command(&format!("{prep}\n  ")).is_ok());
    let mut accepted = Vec::new();
    for tail in [" trailing", "}", "]", ",", " null", " {}", &prep] {
        let json = format!("{prep}{tail}");
        if parse_command(&json).is_ok() {
            accepted.push(format!("{{command}}{tail:.20}"));
        }
    }
    assert!(
        accepted.is_empty(),
        "accepted with trailing content: {}",
        accepted.join(", ")
    );
}

#[test]
fn deeply_nested_garbage_is_refused_without_panicking() {
    for depth in [1_000, 100_000] {
        let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        refused_text(&arrays);
        refused_text(&"[".repeat(depth));
        let objects = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        refused_text(&objects);
        // Inside a command, where the deserializer has to buffer the value:
        // the score comes before the instrument that says how to read it.
        let command = format!(
            concat!(
                r#"{{"id":"cmd-1","actor":{{"id":"t-rivera","role":"therapist"}},"#,
                r#""issued_at":"2026-01-05T20:00:00Z","body":{{"RecordOutcomeMeasure":"#,
                r#"{{"measure":{{"score":{},"instrument":"phq9"}},"#,
                r#""administered_on":"2026-01-05"}}}}}}"#
            ),
            arrays
        );
        let err = refused_text(&command);
        assert!(err.message.contains("recursion limit"), "{err}");
        // Nested where a session id is expected.
        let v = with(
            &valid(front_desk(), no_show("prep-2")),
            "/body/RecordNoShow/session",
            json!("PLACEHOLDER"),
        );
        let command = v.to_string().replace(r#""PLACEHOLDER""#, &arrays);
        refused_text(&command);
    }
}

// ---- round trip ----

#[test]
fn every_valid_command_round_trips() {
    for command in harness_commands() {
        let name = command.body.name();
        let json = serde_json::to_string(&command).expect("serializes");
        assert_eq!(
            parse_command(&json).as_ref(),
            Ok(&command),
            "{name} did not round-trip: {json}"
        );
        // Pretty-printed JSON, or re-serialized JSON, parses the same.
        let pretty = serde_json::to_string_pretty(&command).expect("serializes");
        assert_eq!(parse_command(&pretty).as_ref(), Ok(&command), "{name}");
        // Optional fields may be left out.
        let mut value = serde_json::to_value(&command).expect("serializes");
        if let Some(body) = value["body"]
            .as_object_mut()
            .and_then(|b| b.values_mut().next())
        {
            let body = body.as_object_mut().expect("a body is an object");
            body.retain(|_, v| !v.is_null());
        }
        assert_eq!(
            parse_command(&value.to_string()).as_ref(),
            Ok(&command),
            "{name} without nulls"
        );
    }
}

// ---- no echo of rejected free text ----

const NAME: &str = "Alex Example";

/// Asserts neither the field nor the message repeats the free text.
#[track_caller]
fn assert_not_echoed(value: &Value) {
    let err = refused_text(&value.to_string());
    assert!(
        !err.message.contains("Alex") && !err.field.contains("Alex"),
        "the error echoes the rejected text: {err}"
    );
}

#[test]
fn checked_values_never_echo_rejected_text() {
    let reg = register_json();
    let name = "/body/RegisterClient/name";
    assert_not_echoed(&with(&reg, name, json!(format!("{NAME}\u{7}"))));
    assert_not_echoed(&with(&reg, name, json!(format!("{NAME}\n{NAME}"))));
    assert_not_echoed(&with(&reg, name, json!(format!("{NAME} ").repeat(20))));
    assert_not_echoed(&with(
        &reg,
        "/body/RegisterClient/date_of_birth",
        json!(NAME),
    ));
    assert_not_echoed(&with(&reg, "/body/RegisterClient/client_id", json!(NAME)));
    assert_not_echoed(&with(&reg, "/body/RegisterClient/therapist", json!(NAME)));
    assert_not_echoed(&with(&reg, "/id", json!(NAME)));
    assert_not_echoed(&with(&reg, "/issued_at", json!(NAME)));

    let x = exploration_json();
    assert_not_echoed(&with(&x, &format!("{ADMIN}/lot_number"), json!(NAME)));
    assert_not_echoed(&with(&x, &format!("{ADMIN}/given_at"), json!(NAME)));
    assert_not_echoed(&with(&x, "/body/RecordExploration/span/start", json!(NAME)));
    assert_not_echoed(&with(
        &x,
        "/body/RecordExploration/observations",
        json!(format!("{NAME} ").repeat(2_000)),
    ));
    // A cross-field error on a record full of free text.
    let v = with(
        &x,
        "/body/RecordExploration/observations",
        json!(format!("{NAME} was calm")),
    );
    assert_not_echoed(&with(
        &v,
        "/body/RecordExploration/discharged_at",
        json!("2026-01-06T10:10:00Z"),
    ));

    let intake_json = valid(
        therapist(),
        intake("intake-1", span(0, 9, 10), Suitability::Suitable),
    );
    assert_not_echoed(&with(
        &intake_json,
        "/body/RecordIntake/diagnoses/0",
        json!(NAME),
    ));
}

/// Text in a field of the wrong type, an unknown enum value or an unknown
/// key is rejected by serde's own messages. The wire contract ("the
/// message never echoes the rejected value's text") covers these too: a
/// client that maps fields wrongly can put a name anywhere.
#[test]
fn type_and_shape_errors_never_echo_rejected_text() {
    let x = exploration_json();
    let outcome = outcome_json();
    let pay = payment_json();
    let cases: Vec<(&str, Value)> = vec![
        (
            "a name where a dose is expected",
            with(&x, &format!("{ADMIN}/dose"), json!(NAME)),
        ),
        (
            "a name where a score is expected",
            with(&outcome, &format!("{SCORE}/score"), json!(NAME)),
        ),
        (
            "a name where an amount is expected",
            with(&pay, "/body/RecordPayment/amount", json!(NAME)),
        ),
        (
            "a name where a departure is expected",
            with(&x, "/body/RecordExploration/departure", json!(NAME)),
        ),
        (
            "a name where a role is expected",
            with(&x, "/actor/role", json!(NAME)),
        ),
        (
            "a name where the actor is expected",
            with(&x, "/actor", json!(NAME)),
        ),
        (
            "a name as the command",
            with(&x, "/body", object(NAME, json!({}))),
        ),
    ];
    // An unknown *key* is named on purpose (keys are the schema's words and
    // naming the field is the point of the error): see unknown_fields_are_refused.
    let mut leaks = Vec::new();
    for (what, value) in &cases {
        let err = refused_text(&value.to_string());
        if err.message.contains("Alex") || err.field.contains("Alex") {
            leaks.push(format!(
                "{what}: field {:?}, message {:?}",
                err.field, err.message
            ));
        }
    }
    assert!(
        leaks.is_empty(),
        "{} of {} errors echo the rejected text:\n{}",
        leaks.len(),
        cases.len(),
        leaks.join("\n")
    );
}

// ---- properties: nothing panics ----

/// Keys and values that steer generated JSON towards real commands.
const WORDS: &[&str] = &[
    "id",
    "actor",
    "role",
    "therapist",
    "issued_at",
    "overrides",
    "rule",
    "reason",
    "body",
    "RecordExploration",
    "RecordOutcomeMeasure",
    "RecordPayment",
    "IssuePrescription",
    "session",
    "span",
    "start",
    "end",
    "measure",
    "instrument",
    "phq9",
    "bdi_ii",
    "score",
    "administration",
    "dose",
    "route",
    "sublingual",
    "dosing",
    "min",
    "max",
    "bp_before",
    "systolic",
    "diastolic",
    "amount",
    "2026-01-05T20:00:00Z",
    "2026-01-05",
];

fn json_value() -> impl Strategy<Value = Value> {
    let word = prop::sample::select(WORDS).prop_map(str::to_owned);
    let key = prop_oneof![word.clone(), ".*"];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".*".prop_map(Value::from),
        word.prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 96, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer into `value`.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                pointers(v, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// Parses `json`; if accepted, the command must round-trip; if refused,
/// the error must name a field and a reason.
fn check_parse(json: &str) -> Result<(), TestCaseError> {
    match parse_command(json) {
        Ok(command) => {
            let again = serde_json::to_string(&command).expect("serializes");
            prop_assert_eq!(parse_command(&again), Ok(command));
        }
        Err(err) => {
            // (The field may be empty: an unknown key "" is named as "".)
            prop_assert!(!err.message.is_empty());
            let _ = err.to_string();
        }
    }
    Ok(())
}

proptest! {
    // No regression files are written into tests/.
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_strings_never_panic(s in ".*") {
        check_parse(&s)?;
    }

    #[test]
    fn arbitrary_bytes_as_text_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        check_parse(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        check_parse(&value.to_string())?;
    }

    #[test]
    fn valid_commands_with_one_part_replaced_never_panic(
        which in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        new in json_value(),
    ) {
        let commands = harness_commands();
        let command = &commands[which.index(commands.len())];
        let mut value = serde_json::to_value(command).expect("serializes");
        let mut all = Vec::new();
        pointers(&value, String::new(), &mut all);
        let pointer = &all[at.index(all.len())];
        if let Some(slot) = value.pointer_mut(pointer) {
            *slot = new;
        }
        check_parse(&value.to_string())?;
    }

    #[test]
    fn valid_commands_truncated_never_panic(
        which in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let commands = harness_commands();
        let json = serde_json::to_string(&commands[which.index(commands.len())])
            .expect("serializes");
        let mut end = cut.index(json.len());
        while !json.is_char_boundary(end) {
            end -= 1;
        }
        prop_assert!(parse_command(&json[..end]).is_err());
    }

    #[test]
    fn a_score_parses_exactly_when_in_range(instrument in 0usize..4, score in -200i64..200) {
        let (name, max) = [("phq9", 27), ("gad7", 21), ("pcl5", 80), ("bdi_ii", 63)][instrument];
        let value = with(&outcome_json(), SCORE, json!({"instrument": name, "score": score}));
        match parse_command(&value.to_string()) {
            Ok(_) => prop_assert!((0..=max).contains(&score)),
            Err(err) => {
                prop_assert!(!(0..=max).contains(&score));
                prop_assert_eq!(err.field, "body.RecordOutcomeMeasure.measure.score");
            }
        }
    }
}
