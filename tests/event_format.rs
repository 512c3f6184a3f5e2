//! Events are a storage boundary: their JSON is what the store keeps and the
//! audit chain hashes. These tests pin the stored shape of every event type
//! (a change shows up as a snapshot diff and needs a new event version with
//! an upcaster), check that no event holds a floating-point number, and that
//! every stored shape parses back to the same event.

use std::collections::BTreeMap;

use kapchart_domain::*;
use kapchart_e2e::*;

/// A record holding at least one event of every type.
async fn every_event_type() -> Chart {
    let mut c = Chart::ready_for_exploration().await;
    c.ok(front_desk(), schedule_exploration("x1", span(7, 10, 13)))
        .await;
    c.on(7);
    c.ok(
        prescriber(),
        CommandBody::AuthorizeOverride(AuthorizeOverride {
            authorization: AuthorizationId::parse("auth-x1").expect("valid"),
            rule: Rule::ExplorationBloodPressureAboveThreshold,
            session: sid("x1"),
            valid_until: date(7),
            ceiling: Some(bp(160, 100)),
            reason: text("asymptomatic; proceed if at or below 160/100"),
        }),
    )
    .await;
    let mut high_bp = c.command(therapist(), exploration("x1", 7, Some(150), bp(150, 92)));
    high_bp.overrides.push(Override {
        rule: Rule::ExplorationBloodPressureAboveThreshold,
        reason: text("prescriber reviewed; anxious on arrival, rechecked 138/88"),
        authorization: Some(AuthorizationId::parse("auth-x1").expect("valid")),
    });
    c.run(high_bp).await.expect("override accepted");
    c.ok(
        front_desk(),
        schedule_integration("i1", span(9, 10, 11), "x1"),
    )
    .await;
    c.on(9);
    assert_allowed(c.integrate("i1", "x1").await);
    c.ok(prescriber(), adjust_dose(200)).await;
    c.ok(
        therapist(),
        outcome(
            OutcomeMeasure::Phq9(Phq9Score::new(11).expect("valid")),
            date(9),
        ),
    )
    .await;
    c.ok(prescriber(), external_treatment(date(8))).await;
    c.ok(
        front_desk(),
        schedule_preparation("prep-2", span(12, 10, 11)),
    )
    .await;
    c.ok(front_desk(), cancel("prep-2")).await;
    c.ok(
        front_desk(),
        schedule_preparation("prep-3", span(9, 15, 16)),
    )
    .await;
    c.ok(front_desk(), no_show("prep-3")).await;
    c.ok(therapist(), ongoing_care("care-1", span(9, 12, 13)))
        .await;
    c.ok(front_desk(), payment("pay-1", 72_500, date(9))).await;
    c.ok(therapist(), amend(9)).await;
    c.ok(
        front_desk(),
        CommandBody::ReferClient(ReferClient {
            prescriber: other_prescriber().id,
            note: Some(text("second opinion on dosing")),
        }),
    )
    .await;
    c.ok(therapist(), discharge(date(9))).await;
    c
}

#[tokio::test]
async fn every_event_type_has_a_pinned_json_shape() {
    let chart = every_event_type().await;
    let mut first: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
    for event in &chart.events {
        first
            .entry(event.type_name())
            .or_insert_with(|| serde_json::to_value(event).expect("serializes"));
    }
    assert_eq!(first.len(), 20, "types seen: {:?}", first.keys());
    for (name, json) in &first {
        insta::assert_json_snapshot!(*name, json);
    }
}

fn assert_no_floats(path: &str, value: &serde_json::Value) {
    match value {
        serde_json::Value::Number(n) => {
            assert!(n.is_i64() || n.is_u64(), "float at {path}: {n}");
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                assert_no_floats(&format!("{path}[{i}]"), v);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                assert_no_floats(&format!("{path}.{k}"), v);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn events_hold_no_floats_and_parse_back_unchanged() {
    let chart = every_event_type().await;
    for event in &chart.events {
        let json = serde_json::to_value(event).expect("serializes");
        assert_no_floats(event.type_name(), &json);
        let text = serde_json::to_string(&json).expect("serializes");
        let back: ClientEvent = parse_json(&text).expect("stored shape parses");
        assert_eq!(&back, event);
        assert_eq!(cqrs_es::DomainEvent::event_version(event), EVENT_VERSION);
        assert_eq!(cqrs_es::DomainEvent::event_type(event), event.type_name());
    }
    // The state rebuilt from the parsed-back history is the same.
    assert_eq!(chart.replay(), chart.record);
}
