//! "Bad input: an out-of-range score, a negative dose, an unknown enum
//! value, an end before a start are refused at parsing with the field
//! named; nothing panics."
//!
//! Each case starts from a valid command built with the harness, turns it
//! into JSON, breaks one thing, and checks that `parse_command` refuses it
//! naming the field (the dotted serde path) and saying why.

use kapchart_domain::*;
use kapchart_e2e::*;
use proptest::prelude::*;
use serde_json::{Value, json};

#[path = "parsing_common/mod.rs"]
mod common;
use common::*;

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
