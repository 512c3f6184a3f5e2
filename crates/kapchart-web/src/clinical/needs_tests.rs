//! Tests of [`super`]: flags and decisions from chart and progress rows.

use kapchart_domain::{ClientId, Policy};
use serde_json::{Value, json};

use super::*;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).expect("day")
}

fn stamp(seq: u64) -> Value {
    json!({"sequence": seq, "recorded_at": "2026-03-01T10:00:00Z", "amendments": []})
}

fn merged(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

fn dose(session: &str, d: u32) -> Value {
    merged(
        json!({
            "session": session, "date": day(d), "given_at": format!("2026-03-{d:02}T10:00:00Z"),
            "drug": "ketamine", "route": "sublingual", "dose_mg": 100, "lot_number": "L-1",
            "prescription": "rx-1", "therapist": "t-1",
            "discharged_at": format!("2026-03-{d:02}T12:00:00Z"), "departure": "companion",
        }),
        stamp(10),
    )
}

fn bp(session: &str, d: u32, before: (u16, u16)) -> Value {
    merged(
        json!({
            "session": session, "date": day(d),
            "before": {"systolic": before.0, "diastolic": before.1},
            "after": {"systolic": 130, "diastolic": 80},
        }),
        stamp(10),
    )
}

fn client(phase: &str, chart: Value, progress: Value) -> ClientSummary {
    let base = json!({
        "client_id": "c-1", "phase": phase, "therapist": "t-1", "prescriber": "rx-1",
        "registration": null, "intake": null, "medical_evaluation": null,
        "prescription": merged(json!({
            "prescription": "rx-1", "prescriber": "rx-1", "drug": "ketamine",
            "valid_from": day(1), "valid_until": day(31), "min_mg": 50, "max_mg": 300,
            "starting_mg": 100, "max_step_mg": 50, "authorized_sessions": 6,
            "used_sessions": 1, "ordered_mg": 100, "supersedes": null,
        }), stamp(3)),
        "consent": null, "doses": [], "dose_adjustments": [], "authorizations": [],
        "blood_pressure": [], "outcome_measures": [], "sessions": [],
        "adverse_events": [], "external_treatments": [], "discharge": null,
        "entries": 5, "amendments": 0,
    });
    let progress_base = json!({
        "client_id": "c-1", "therapist": "t-1", "prescriber": "rx-1", "phase": phase,
        "preparations_held": 1, "explorations_held": 1, "explorations_dosed": 1,
        "prescription": "rx-1", "prescription_valid_until": day(31),
        "explorations_authorized": 6, "explorations_used": 1, "sessions_left": 5,
        "current_dose_mg": 100, "last_dose_mg": 100, "integration_pending": false,
        "integration_pending_for": null, "integration_due_by": null,
        "next_due_step": "exploration", "next_exploration_from": null,
        "upcoming_sessions": 0, "discharged": false, "discharged_on": null,
    });
    ClientSummary {
        client_id: ClientId::parse("c-1").expect("id"),
        chart: serde_json::from_value(merged(base, chart)).expect("chart row"),
        progress: serde_json::from_value(merged(progress_base, progress)).expect("progress row"),
    }
}

fn texts(flags: &[Flag]) -> Vec<(Level, String)> {
    flags.iter().map(|f| (f.level, f.text.clone())).collect()
}

#[test]
fn an_integration_is_due_then_overdue() {
    let policy = Policy::standard();
    let c = client(
        "protocol",
        json!({"doses": [dose("expl-1", 2)], "outcome_measures": [merged(json!({"instrument": "phq9", "score": 10, "administered_on": day(2)}), stamp(4))]}),
        json!({"integration_pending": true, "integration_pending_for": "expl-1", "integration_due_by": day(9), "next_due_step": "integration"}),
    );
    let due = client_flags(&Subject::of(&c), &policy, day(5));
    assert_eq!(
        texts(&due),
        [(
            Level::Due,
            "Integration of expl-1 due by 9 Mar 2026".to_owned()
        )]
    );
    assert_eq!(
        due[0].action.as_ref().map(|a| a.href.as_str()),
        Some("/act/schedule-integration?client=c-1&exploration=expl-1")
    );
    let late = client_flags(&Subject::of(&c), &policy, day(10));
    assert_eq!(late[0].level, Level::Soft);
    assert!(
        late[0].text.contains("overdue since 9 Mar 2026"),
        "{late:?}"
    );
    // A booked integration after the window is a soft stop.
    assert_eq!(
        integration_flags(&Subject::of(&c), &policy, day(8))[0].level,
        Level::Due
    );
    assert_eq!(
        integration_flags(&Subject::of(&c), &policy, day(12))[0].level,
        Level::Soft
    );
    // And the next dose is a hard stop until it is recorded.
    let next = exploration_flags(&Subject::of(&c), &policy, "expl-2", day(12));
    assert_eq!(next[0].level, Level::Stop);
}

#[test]
fn an_exploration_flags_spacing_bp_and_the_prescription() {
    let policy = Policy::standard();
    let c = client(
        "protocol",
        json!({"doses": [dose("expl-1", 2)], "blood_pressure": [bp("expl-1", 2, (136, 80))]}),
        json!({}),
    );
    let flags = exploration_flags(&Subject::of(&c), &policy, "expl-2", day(6));
    assert_eq!(
        texts(&flags),
        [
            (Level::Soft, "4 days after the last dose on 2 Mar 2026 (minimum 7): dosing needs an override reason".to_owned()),
            (Level::Note, "BP near the threshold: last pre-dose 136/80 (on 2 Mar 2026), threshold 140/90".to_owned()),
        ]
    );
    // Seven days on, and a pressure above the threshold.
    let high = client(
        "protocol",
        json!({"doses": [dose("expl-1", 2)], "blood_pressure": [bp("expl-1", 2, (150, 85))]}),
        json!({}),
    );
    let flags = exploration_flags(&Subject::of(&high), &policy, "expl-2", day(9));
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert_eq!(flags[0].level, Level::Stop);
    assert!(flags[0].text.contains("150/85"));
    assert_eq!(
        flags[0].action.as_ref().map(|a| a.href.as_str()),
        Some("/act/authorize-override?client=c-1&session=expl-2")
    );
    // Outside the prescription's dates.
    let flags = exploration_flags(
        &Subject::of(&high),
        &policy,
        "expl-2",
        NaiveDate::from_ymd_opt(2026, 4, 2).expect("day"),
    );
    assert!(
        flags
            .iter()
            .any(|f| f.level == Level::Stop && f.text.contains("does not cover"))
    );
}

#[test]
fn an_authorization_on_file_answers_the_bp_flag() {
    let policy = Policy::standard();
    let c = client(
        "protocol",
        json!({
            "doses": [dose("expl-1", 2)],
            "blood_pressure": [bp("expl-1", 2, (150, 85))],
            "authorizations": [merged(json!({
                "authorization": "bp-2", "rule": "exploration.bp_above_threshold",
                "session": "expl-2", "valid_until": day(9), "ceiling": {"systolic": 160, "diastolic": 100},
                "prescriber": "rx-1", "reason": "ok", "used_by": null,
            }), stamp(11))],
            "sessions": [merged(json!({
                "session": "expl-2", "kind": "exploration", "date": "2026-03-09",
                "start": "2026-03-09T10:00:00Z",
                "end": "2026-03-09T12:00:00Z", "status": "scheduled", "therapist": "t-1",
            }), stamp(12))],
        }),
        json!({}),
    );
    let flags = exploration_flags(&Subject::of(&c), &policy, "expl-2", day(9));
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].level, Level::Note);
    assert!(flags[0].text.contains("bp-2"));
    // The prescriber has nothing to decide about it.
    assert!(
        !prescriber_decisions(&Subject::of(&c), &policy, day(5))
            .iter()
            .any(|f| f.text.contains("BP authorization"))
    );
}

#[test]
fn the_prescriber_sees_decisions_due() {
    let policy = Policy::standard();
    let assessing = client("assessment", json!({"prescription": null}), json!({}));
    assert_eq!(
        texts(&prescriber_decisions(
            &Subject::of(&assessing),
            &policy,
            day(5)
        ))[0]
            .1,
        "Medical evaluation pending"
    );
    let preparing = client("preparation", json!({"prescription": null}), json!({}));
    assert_eq!(
        texts(&prescriber_decisions(
            &Subject::of(&preparing),
            &policy,
            day(5)
        ))[0]
            .1,
        "Prescription to issue"
    );
    let running_out = client(
        "protocol",
        json!({
            "doses": [dose("expl-1", 2)],
            "blood_pressure": [bp("expl-1", 2, (150, 85)), bp("expl-2", 4, (152, 95))],
            "sessions": [merged(json!({
                "session": "expl-3", "kind": "exploration", "date": "2026-03-12",
                "start": "2026-03-12T10:00:00Z",
                "end": "2026-03-12T12:00:00Z", "status": "scheduled", "therapist": "t-1",
            }), stamp(12))],
        }),
        json!({}),
    );
    let mut c = running_out;
    if let Some(rx) = c.chart.prescription.as_mut() {
        rx.used_sessions = 5;
    }
    let decisions = prescriber_decisions(&Subject::of(&c), &policy, day(5));
    let t = texts(&decisions);
    assert!(
        t.iter()
            .any(|(_, s)| s == "Sessions running out: 1 of 6 left on prescription rx-1"),
        "{t:?}"
    );
    assert!(
        t.iter()
            .any(|(_, s)| s.starts_with("BP authorization for expl-3 on 12 Mar 2026")),
        "{t:?}"
    );
    assert!(
        t.iter().any(|(_, s)| s
            .starts_with("Exploration expl-2 on 4 Mar 2026 was not dosed, pre-dose BP 152/95")),
        "{t:?}"
    );
    // Discharged: nothing to decide.
    let done = client("discharged", json!({}), json!({}));
    assert!(prescriber_decisions(&Subject::of(&done), &policy, day(5)).is_empty());
}

#[test]
fn outcome_measures_fall_due() {
    let policy = Policy::standard();
    let none = client("preparation", json!({}), json!({}));
    assert_eq!(
        texts(&client_flags(&Subject::of(&none), &policy, day(5)))[0].1,
        "No outcome measure on record"
    );
    let measured = client(
        "preparation",
        json!({"outcome_measures": [merged(json!({"instrument": "gad7", "score": 8, "administered_on": day(1)}), stamp(4))]}),
        json!({}),
    );
    assert!(client_flags(&Subject::of(&measured), &policy, day(29)).is_empty());
    let later = NaiveDate::from_ymd_opt(2026, 3, 30).expect("day");
    assert!(
        client_flags(&Subject::of(&measured), &policy, later)[0]
            .text
            .starts_with("Outcome measure overdue")
    );
    // Not before the client is in care.
    let assessing = client("assessment", json!({"prescription": null}), json!({}));
    assert!(client_flags(&Subject::of(&assessing), &policy, day(5)).is_empty());
}

#[test]
fn near_the_threshold_is_within_the_margins() {
    let t = BloodPressure::new(140, 90).expect("bp");
    let b = |s, d| BloodPressure::new(s, d).expect("bp");
    assert!(bp_near(b(131, 70), t));
    assert!(!bp_near(b(130, 85), t));
    assert!(bp_near(b(120, 86), t));
    assert!(!bp_near(b(141, 70), t), "above is not near");
    assert!(bp_near(b(140, 90), t), "at the threshold is not above it");
}
