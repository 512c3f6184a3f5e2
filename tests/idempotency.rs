//! "Every command carries a caller-chosen command id; a repeated command id
//! is applied once: the same result, and no new event."

use chrono::Duration;
use kapchart_domain::*;
use kapchart_e2e::*;

/// Runs `command` and asserts it is applied: exactly one new event, kept
/// in the history, and its id recorded as applied.
async fn apply_once(chart: &mut Chart, command: &Command) -> ClientEvent {
    let name = command.body.name();
    let before = chart.events.len();
    let events = chart
        .run(command.clone())
        .await
        .unwrap_or_else(|err| panic!("{name} refused: {err}"));
    assert_eq!(events.len(), 1, "{name}: one event on first run");
    assert_eq!(chart.events.len(), before + 1, "{name}");
    assert_eq!(events[0].decision().command_id, command.id);
    assert!(chart.record.has_applied(&command.id), "{name}");
    events[0].clone()
}

/// Runs `command` again and asserts it is a no-op: Ok, no event, history
/// and record unchanged.
async fn assert_retry_is_noop(chart: &mut Chart, command: &Command) {
    let name = command.body.name();
    let history = chart.events.clone();
    let record = chart.record.clone();
    let result = chart.run(command.clone()).await;
    assert_eq!(result, Ok(vec![]), "{name}: a retry is Ok with no event");
    assert_eq!(chart.events, history, "{name}: a retry wrote events");
    assert_eq!(chart.record, record, "{name}: a retry changed the record");
}

/// Runs `command` and asserts it is refused by `rule` with nothing written.
async fn assert_refused_unwritten(chart: &mut Chart, command: &Command, rule: Rule) {
    let history = chart.events.clone();
    let record = chart.record.clone();
    assert_refused(chart.run(command.clone()).await, rule);
    assert_eq!(chart.events, history);
    assert_eq!(chart.record, record);
}

fn count(chart: &Chart, type_name: &str) -> usize {
    chart
        .events
        .iter()
        .filter(|e| e.type_name() == type_name)
        .count()
}

fn phq9(score: i64) -> OutcomeMeasure {
    OutcomeMeasure::Phq9(Phq9Score::new(score).expect("valid score"))
}

#[tokio::test]
async fn a_retried_registration_is_applied_once() {
    let mut chart = Chart::new();
    let command = chart.command(front_desk(), register_client());

    apply_once(&mut chart, &command).await;
    assert_retry_is_noop(&mut chart, &command).await;
    assert_retry_is_noop(&mut chart, &command).await;

    // A retry stamped later (same id, same body) is still a retry.
    let mut later = command.clone();
    later.issued_at = command.issued_at + Duration::hours(3);
    assert_retry_is_noop(&mut chart, &later).await;
    let mut next_day = command.clone();
    next_day.issued_at = command.issued_at + Duration::days(1);
    assert_retry_is_noop(&mut chart, &next_day).await;

    // Not a ClientAlreadyRegistered refusal: the retry has the same result.
    assert_eq!(chart.events.len(), 1);
    assert!(chart.record.is_registered());
}

#[tokio::test]
async fn retried_commands_of_several_kinds_are_applied_once() {
    let mut chart = Chart::ready_for_exploration().await;

    // ScheduleExploration.
    let schedule = chart.command(therapist(), schedule_exploration("x-1", span(1, 10, 13)));
    apply_once(&mut chart, &schedule).await;
    assert_retry_is_noop(&mut chart, &schedule).await;
    assert_eq!(count(&chart, "SessionScheduled"), 1);

    // RecordExploration: a second application would use a second
    // authorized session and charge twice.
    chart.on(1);
    let explore = chart.command(therapist(), exploration("x-1", 1, Some(150), bp(120, 80)));
    apply_once(&mut chart, &explore).await;
    assert_retry_is_noop(&mut chart, &explore).await;
    let mut retry_later = explore.clone();
    retry_later.issued_at = explore.issued_at + Duration::days(4);
    assert_retry_is_noop(&mut chart, &retry_later).await;
    assert_eq!(count(&chart, "ExplorationRecorded"), 1);
    assert_eq!(chart.record.prescription().map(|rx| rx.used), Some(1));
    assert_eq!(chart.events.iter().filter_map(|e| e.charge()).count(), 3);

    // RecordPayment.
    let pay = chart.command(front_desk(), payment("pay-1", 55_000, date(1)));
    apply_once(&mut chart, &pay).await;
    assert_retry_is_noop(&mut chart, &pay).await;
    assert_eq!(count(&chart, "PaymentRecorded"), 1);

    // RecordIntegration, RecordOutcomeMeasure and AmendEntry too.
    chart.on(2);
    let integrate = chart.command(therapist(), integration("int-1", span(2, 10, 11), "x-1"));
    apply_once(&mut chart, &integrate).await;
    assert_retry_is_noop(&mut chart, &integrate).await;
    let score = chart.command(therapist(), outcome(phq9(14), date(2)));
    apply_once(&mut chart, &score).await;
    assert_retry_is_noop(&mut chart, &score).await;
    let correction = chart.command(therapist(), amend(8));
    apply_once(&mut chart, &correction).await;
    assert_retry_is_noop(&mut chart, &correction).await;

    // Retries interleaved with other commands, in any order, stay no-ops.
    for command in [&schedule, &pay, &explore, &correction, &integrate, &score] {
        assert_retry_is_noop(&mut chart, command).await;
    }
    assert_eq!(chart.events.len(), 12);
}

#[tokio::test]
async fn a_retry_has_the_same_result_after_the_state_has_changed() {
    let mut chart = Chart::ready_for_exploration().await;
    let schedule = chart.command(
        front_desk(),
        schedule_preparation("prep-2", span(1, 10, 11)),
    );
    apply_once(&mut chart, &schedule).await;

    // The therapist is now booked with another client at that time: a new
    // command would be refused, the retry is still the applied command.
    chart.practice.book(
        therapist().id,
        Booking {
            client: ClientId::parse("client-2").expect("valid id"),
            session: sid("c2-s1"),
            span: span(1, 10, 11),
        },
    );
    assert_retry_is_noop(&mut chart, &schedule).await;

    // A consent recorded before discharge, retried after it: Ok, no event;
    // the same body under a new id is refused.
    let consent_again = chart.command(therapist(), consent(date(0)));
    apply_once(&mut chart, &consent_again).await;
    let pay = chart.command(front_desk(), payment("pay-1", 17_500, date(0)));
    apply_once(&mut chart, &pay).await;
    chart.on(1);
    let discharged = chart.command(therapist(), discharge(date(1)));
    let event = apply_once(&mut chart, &discharged).await;
    let ClientEvent::ClientDischarged(e) = &event else {
        panic!("expected ClientDischarged");
    };
    assert_eq!(e.cancelled_sessions, vec![sid("prep-2")]);

    assert_retry_is_noop(&mut chart, &consent_again).await;
    assert_retry_is_noop(&mut chart, &schedule).await;
    assert_retry_is_noop(&mut chart, &pay).await;
    assert_retry_is_noop(&mut chart, &discharged).await;
    let fresh = chart.command(therapist(), consent(date(0)));
    assert_refused_unwritten(&mut chart, &fresh, Rule::ClientDischarged).await;
}

#[tokio::test]
async fn the_same_id_with_different_content_is_refused() {
    let mut chart = Chart::ready_for_exploration().await;
    let command = chart.command(therapist(), outcome(phq9(19), date(0)));
    apply_once(&mut chart, &command).await;

    let mut other_body = command.clone();
    other_body.body = outcome(phq9(9), date(0));
    assert_refused_unwritten(&mut chart, &other_body, Rule::CommandIdReused).await;

    let mut other_kind = command.clone();
    other_kind.body = consent(date(0));
    assert_refused_unwritten(&mut chart, &other_kind, Rule::CommandIdReused).await;

    let mut other_actor = command.clone();
    other_actor.actor = prescriber();
    assert_refused_unwritten(&mut chart, &other_actor, Rule::CommandIdReused).await;

    let with_override = command
        .clone()
        .with_override(Rule::ExplorationTooSoon, text("client travelling"));
    assert_refused_unwritten(&mut chart, &with_override, Rule::CommandIdReused).await;

    // Still refused when also stamped later; the original still retries.
    let mut later = other_body.clone();
    later.issued_at = command.issued_at + Duration::days(1);
    assert_refused_unwritten(&mut chart, &later, Rule::CommandIdReused).await;
    assert_retry_is_noop(&mut chart, &command).await;
}

#[tokio::test]
async fn a_refused_command_does_not_consume_its_id() {
    // Before registration (the therapist is told the client is not theirs):
    // refused; after it, the same command applies.
    let mut chart = Chart::new();
    let early = chart.command(therapist(), consent(date(0)));
    assert_refused_unwritten(&mut chart, &early, Rule::ClientNotAssigned).await;
    assert!(!chart.record.has_applied(&early.id));
    assert_refused_unwritten(&mut chart, &early, Rule::ClientNotAssigned).await;
    chart.register().await;
    apply_once(&mut chart, &early).await;
    assert_retry_is_noop(&mut chart, &early).await;

    // A payment for a session not yet scheduled: refused, then applied
    // once the session exists.
    let mut chart = Chart::ready_for_exploration().await;
    let pay = chart.command(
        front_desk(),
        CommandBody::RecordPayment(
            serde_json::from_value(serde_json::json!({
                "payment": "pay-1", "amount": 17_500, "method": "card",
                "payer": "client", "received_on": date(0), "session": "prep-2",
            }))
            .expect("valid payment"),
        ),
    );
    assert_refused_unwritten(&mut chart, &pay, Rule::SessionUnknown).await;
    assert!(!chart.record.has_applied(&pay.id));
    chart
        .ok(
            front_desk(),
            schedule_preparation("prep-2", span(1, 10, 11)),
        )
        .await;
    apply_once(&mut chart, &pay).await;
    assert_retry_is_noop(&mut chart, &pay).await;

    // A refused id can also be used for a different command afterwards.
    let refused = chart.command(prescriber(), adjust_dose(999));
    assert_refused_unwritten(&mut chart, &refused, Rule::DoseOutsideRange).await;
    let mut reused = refused.clone();
    reused.body = adjust_dose(200);
    apply_once(&mut chart, &reused).await;
}

#[tokio::test]
async fn replay_rebuilds_the_record_and_its_applied_ids() {
    let mut chart = Chart::ready_for_exploration().await;
    let schedule = chart.command(therapist(), schedule_exploration("x-1", span(1, 10, 13)));
    apply_once(&mut chart, &schedule).await;
    assert_retry_is_noop(&mut chart, &schedule).await;
    chart.on(1);
    let explore = chart.command(therapist(), exploration("x-1", 1, Some(150), bp(120, 80)));
    apply_once(&mut chart, &explore).await;
    assert_retry_is_noop(&mut chart, &explore).await;
    let refused = chart.command(prescriber(), adjust_dose(999));
    assert_refused(chart.run(refused.clone()).await, Rule::DoseOutsideRange);

    let replayed = chart.replay();
    assert_eq!(replayed, chart.record);
    for event in &chart.events {
        assert!(replayed.has_applied(&event.decision().command_id));
    }
    let ids: std::collections::BTreeSet<_> = chart
        .events
        .iter()
        .map(|e| e.decision().command_id.clone())
        .collect();
    assert_eq!(ids.len(), chart.events.len(), "one event per command id");
    assert!(!replayed.has_applied(&refused.id));
    assert!(!replayed.has_applied(&CommandId::parse("never-sent").expect("valid id")));

    // A record rebuilt from the store treats retries and reuses the same.
    chart.record = replayed;
    assert_retry_is_noop(&mut chart, &schedule).await;
    assert_retry_is_noop(&mut chart, &explore).await;
    let mut reused = explore.clone();
    reused.body = exploration("x-1", 1, Some(200), bp(120, 80));
    assert_refused_unwritten(&mut chart, &reused, Rule::CommandIdReused).await;
    assert_eq!(chart.replay(), chart.record);
}
