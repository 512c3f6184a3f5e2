//! The practice's events are a storage boundary like the client's: these
//! tests pin the stored shape of every practice event type (a change shows
//! up as a snapshot diff and needs a new event version with an upcaster),
//! check that none holds a floating-point number, and that every stored
//! shape parses back to the same event.

use std::collections::BTreeMap;

use chrono::Duration;
use kapchart_domain::*;
use kapchart_e2e::settings::*;
use kapchart_e2e::*;

/// A practice record holding one event of every type.
async fn every_event_type() -> Book {
    let mut b = Book::at(local(LA, 2026, 3, 1, 9, 0));
    b.ok(identity_in(LA)).await;
    b.ok(provider(&therapist(), "therapist", "1245319599"))
        .await;
    let from = b.now + Duration::days(1);
    b.ok(adopt_policy(from)).await;
    b.ok(adopt_fees(ymd(2026, 4, 1), 600)).await;
    b
}

fn numbers_are_integers(path: &str, value: &serde_json::Value) {
    match value {
        serde_json::Value::Number(n) => {
            assert!(n.is_i64() || n.is_u64(), "float at {path}: {n}");
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                numbers_are_integers(&format!("{path}[{i}]"), v);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                numbers_are_integers(&format!("{path}.{k}"), v);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn every_practice_event_type_has_a_pinned_json_shape() {
    let book = every_event_type().await;
    let shapes: BTreeMap<&str, serde_json::Value> = book
        .events
        .iter()
        .map(|e| (e.type_name(), serde_json::to_value(e).expect("serializes")))
        .collect();
    assert_eq!(shapes.len(), 4, "types seen: {:?}", shapes.keys());
    for (name, json) in &shapes {
        insta::assert_json_snapshot!(*name, json);
    }
}

#[tokio::test]
async fn practice_events_hold_no_floats_and_parse_back_unchanged() {
    let book = every_event_type().await;
    for event in &book.events {
        let json = serde_json::to_value(event).expect("serializes");
        numbers_are_integers(event.type_name(), &json);
        let text = serde_json::to_string(&json).expect("serializes");
        let back: PracticeEvent = parse_json(&text).expect("stored shape parses");
        assert_eq!(&back, event);
        assert_eq!(
            cqrs_es::DomainEvent::event_version(event),
            PRACTICE_EVENT_VERSION
        );
        assert_eq!(cqrs_es::DomainEvent::event_type(event), event.type_name());
    }
    assert_eq!(book.replay(), book.record);
}

#[test]
fn versions_written_before_idle_sign_out_and_codes_read_with_the_defaults() {
    let policy: Policy = parse_json(
        r#"{"version": 1, "effective_from": "2000-01-01T00:00:00Z",
            "bp_threshold": {"systolic": 140, "diastolic": 90},
            "min_days_between_explorations": 7, "integration_window_days": 7,
            "max_explorations": 8}"#,
    )
    .expect("an older policy reads");
    assert_eq!(policy, Policy::standard());
    let fees: FeeSchedule = parse_json(
        r#"{"version": 1, "effective_from": "2000-01-01", "intake": 17500,
            "preparation": 17500, "exploration": 55000, "integration": 17500,
            "ongoing_care": 17500}"#,
    )
    .expect("an older fee schedule reads");
    assert_eq!(fees, FeeSchedule::standard());
}
