//! Field bounds (docs/domain.md, "Field bounds"): money, doses, entry
//! numbers, dates and times, names, labels and free text are bounded at
//! parsing, each refusal naming the field; a net over every command the
//! harness builds; and events stored before the bounds still read.

#[path = "parsing_common/mod.rs"]
mod common;
use common::*;

use kapchart_domain::*;
use kapchart_e2e::*;
use serde_json::{Value, json};

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
