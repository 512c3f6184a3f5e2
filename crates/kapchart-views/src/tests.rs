//! Unit tests: periods, parsing, idempotent folds, double-bookings, the
//! state format, and float-free output. The whole protocol through every
//! view is tested end to end in the workspace's tests/views_scenario.rs.

use chrono::{DateTime, NaiveDate, Utc};
use kapchart_domain::ClientEvent;
use serde_json::{Value, json};

use super::*;

mod local_days;
mod report_days;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("test date")
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().expect("test time")
}

/// An event from its JSON body, with a decision by `actor` at `at`.
fn event(
    kind: &str,
    actor: (&str, &str),
    at: &str,
    mut body: Value,
    overrides: Value,
) -> ClientEvent {
    body["decision"] = json!({
        "command_id": format!("cmd-{kind}-{}", at.replace(|c: char| !c.is_ascii_alphanumeric(), "")),
        "command_fingerprint": "00",
        "actor": {"id": actor.0, "role": actor.1},
        "decided_at": at,
        "policy_version": 1,
        "overrides": overrides,
    });
    serde_json::from_value(json!({ kind: body })).expect("test event parses")
}

const TH: (&str, &str) = ("t-rivera", "therapist");
const RX: (&str, &str) = ("rx-chen", "prescriber");
const FD: (&str, &str) = ("fd-jones", "front_desk");

fn span(day: &str, from: u32, to: u32) -> Value {
    json!({"start": format!("{day}T{from:02}:00:00Z"), "end": format!("{day}T{to:02}:00:00Z")})
}

fn charge(service: &str, cents: i64, day: &str) -> Value {
    json!({"service": service, "amount": cents, "fee_schedule_version": 1, "service_date": day})
}

fn exploration(session: &str, day: &str, dose: Option<u32>, overrides: Value) -> ClientEvent {
    let administration = dose.map(|mg| {
        json!({"drug": "ketamine", "route": "sublingual", "dose": mg,
               "lot_number": "L-1", "given_at": format!("{day}T10:15:00Z")})
    });
    event(
        "ExplorationRecorded",
        TH,
        &format!("{day}T20:00:00Z"),
        json!({
            "session": session, "span": span(day, 10, 13), "therapist": "t-rivera",
            "prescription": dose.map(|_| "rx-1"), "administration": administration,
            "not_dosed_reason": if dose.is_none() { json!("declined") } else { Value::Null },
            "bp_before": {"systolic": 122, "diastolic": 78},
            "bp_after": {"systolic": 125, "diastolic": 82},
            "observations": "calm", "adverse_events": [],
            "discharged_at": format!("{day}T12:45:00Z"), "departure": "companion",
            "charge": charge("exploration", 55_000, day),
        }),
        overrides,
    )
}

fn integration(session: &str, day: &str, of: &str, overrides: Value) -> ClientEvent {
    event(
        "IntegrationRecorded",
        TH,
        &format!("{day}T20:00:00Z"),
        json!({"session": session, "span": span(day, 10, 11), "therapist": "t-rivera",
               "exploration": of, "notes": "integrating", "charge": charge("integration", 17_500, day)}),
        overrides,
    )
}

fn scheduled(
    session: &str,
    kind: &str,
    day: &str,
    from: u32,
    to: u32,
    therapist: &str,
) -> ClientEvent {
    event(
        "SessionScheduled",
        FD,
        "2026-01-01T09:00:00Z",
        json!({"session": session, "kind": kind, "span": span(day, from, to),
               "therapist": therapist, "exploration": null}),
        json!([]),
    )
}

/// A short record: registration, intake, evaluation, prescription,
/// consent, preparation, two explorations with integrations (the second
/// exploration too soon and its integration late, both overridden), an
/// outcome, a payment.
fn record(client: &str) -> Vec<ClientEvent> {
    let too_soon = json!([{"rule": "exploration.too_soon", "reason": "travel",
        "authorized_by": "t-rivera", "finding": "explorations are to be at least 7 days apart"}]);
    let late = json!([{"rule": "integration.late", "reason": "illness",
        "authorized_by": "t-rivera", "finding": "the integration is more than 7 days after its exploration"}]);
    vec![
        event(
            "ClientRegistered",
            FD,
            "2026-01-05T20:00:00Z",
            json!({"client_id": client, "name": "Alex Example", "date_of_birth": "1985-03-14",
                   "therapist": "t-rivera", "prescriber": null}),
            json!([]),
        ),
        event(
            "IntakeRecorded",
            TH,
            "2026-01-05T20:00:00Z",
            json!({"session": "intake", "span": span("2026-01-05", 9, 10), "therapist": "t-rivera",
                   "finding": "suitable", "diagnoses": ["F33.1"], "notes": "history",
                   "charge": charge("intake", 17_500, "2026-01-05")}),
            json!([]),
        ),
        event(
            "MedicalEvaluationRecorded",
            RX,
            "2026-01-06T20:00:00Z",
            json!({"prescriber": "rx-chen", "evaluated_on": "2026-01-06", "finding": "cleared", "notes": "ok"}),
            json!([]),
        ),
        event(
            "PrescriptionIssued",
            RX,
            "2026-01-06T20:00:00Z",
            json!({"prescription": "rx-1", "prescriber": "rx-chen", "drug": "ketamine",
                   "valid": {"from": "2026-01-01", "until": "2026-06-30"},
                   "dosing": {"min": 100, "max": 250, "starting": 100, "max_step": 50},
                   "authorized_sessions": 2, "instructions": "lozenge", "supersedes": null}),
            json!([]),
        ),
        event(
            "ConsentRecorded",
            TH,
            "2026-01-07T20:00:00Z",
            json!({"signed_on": "2026-01-07", "form": "KAP consent v3"}),
            json!([]),
        ),
        event(
            "PreparationRecorded",
            TH,
            "2026-01-08T20:00:00Z",
            json!({"session": "prep-1", "span": span("2026-01-08", 10, 11), "therapist": "t-rivera",
                   "intentions": "x", "aftercare_plan": "y", "notes": "z",
                   "charge": charge("preparation", 17_500, "2026-01-08")}),
            json!([]),
        ),
        exploration("x1", "2026-01-12", Some(100), json!([])),
        integration("i1", "2026-01-14", "x1", json!([])),
        exploration("x2", "2026-01-16", Some(150), too_soon),
        integration("i2", "2026-01-26", "x2", late),
        event(
            "OutcomeMeasureRecorded",
            TH,
            "2026-01-26T20:00:00Z",
            json!({"measure": {"instrument": "phq9", "score": 12}, "administered_on": "2026-01-26"}),
            json!([]),
        ),
        event(
            "PaymentRecorded",
            FD,
            "2026-01-26T20:00:00Z",
            json!({"payment": "pay-1", "amount": 50_000, "method": "card", "payer": "client",
                   "received_on": "2026-01-26", "session": null}),
            json!([]),
        ),
    ]
}

fn meta(client: &str, sequence: u64, event: &ClientEvent) -> EventMeta {
    EventMeta::new(
        client,
        sequence,
        sequence as i64,
        event.decision().decided_at,
    )
}

fn fold(view: ViewName, client: &str, events: &[ClientEvent]) -> ViewState {
    let mut state = view.new_state(client);
    for (i, e) in events.iter().enumerate() {
        state.apply(e, &meta(client, i as u64 + 1, e));
    }
    state
}

fn with_client(client: &str, rows: Vec<Row>) -> Vec<(String, Row)> {
    rows.into_iter().map(|r| (client.to_owned(), r)).collect()
}

fn no_floats(v: &Value) -> bool {
    match v {
        Value::Number(n) => !n.is_f64(),
        Value::Array(a) => a.iter().all(no_floats),
        Value::Object(o) => o.values().all(no_floats),
        _ => true,
    }
}

// ---- periods ----

#[test]
fn periods_are_inclusive_and_may_be_open() {
    let p = Period::new(Some(d("2026-01-05")), Some(d("2026-01-31"))).unwrap();
    assert!(p.contains(d("2026-01-05")));
    assert!(p.contains(d("2026-01-31")));
    assert!(!p.contains(d("2026-01-04")));
    assert!(!p.contains(d("2026-02-01")));
    let open_start = Period::new(None, Some(d("2026-01-31"))).unwrap();
    assert!(open_start.contains(d("1900-01-01")));
    assert!(!open_start.contains(d("2026-02-01")));
    let open_end = Period::new(Some(d("2026-01-05")), None).unwrap();
    assert!(open_end.contains(d("2999-12-31")));
    assert!(Period::all().contains(d("2026-01-01")));
    assert_eq!(Period::default(), Period::all());
    let one_day = Period::new(Some(d("2026-01-05")), Some(d("2026-01-05"))).unwrap();
    assert!(one_day.contains(d("2026-01-05")));
    assert_eq!(one_day.from(), one_day.to());
}

#[test]
fn a_period_from_after_to_is_refused_naming_both() {
    let err = Period::new(Some(d("2026-02-01")), Some(d("2026-01-01"))).unwrap_err();
    assert_eq!(
        err,
        PeriodError::FromAfterTo {
            from: d("2026-02-01"),
            to: d("2026-01-01")
        }
    );
    let message = err.to_string();
    assert_eq!(message, "from (2026-02-01) is after to (2026-01-01)");
    assert!(!message.contains('\n'));
}

// ---- parsing ----

#[test]
fn view_names_parse_back_and_unknown_names_list_the_allowed() {
    let names: Vec<&str> = ViewName::ALL.iter().map(|v| v.as_str()).collect();
    assert_eq!(names, ["schedule", "chart", "billing", "compliance"]);
    for v in ViewName::ALL {
        assert_eq!(v.as_str().parse::<ViewName>(), Ok(v));
        assert_eq!(v.to_string(), v.as_str());
        assert_eq!(serde_json::to_value(v).unwrap(), json!(v.as_str()));
        assert_eq!(v.new_state("c").view(), v);
    }
    for bad in ["", "Schedule", "charts", " chart", "billing\n"] {
        let err = bad.parse::<ViewName>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown view: expected one of schedule, chart, billing, compliance"
        );
    }
}

#[test]
fn report_names_parse_back_and_unknown_names_list_the_allowed() {
    let names: Vec<&str> = ReportKind::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(
        names,
        [
            "schedule",
            "billing",
            "superbill",
            "controlled-substances",
            "protocol",
            "outcomes"
        ]
    );
    for r in ReportKind::ALL {
        assert_eq!(r.as_str().parse::<ReportKind>(), Ok(r));
        assert!(!r.sources().is_empty());
        for (view, kind) in r.sources() {
            assert!(
                view.kinds().contains(kind),
                "{r}: {kind} is not a {view} kind"
            );
        }
    }
    let err = "controlled_substances".parse::<ReportKind>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown report: expected one of schedule, billing, superbill, controlled-substances, protocol, outcomes"
    );
}

#[test]
fn every_kind_belongs_to_one_view() {
    let mut seen = std::collections::BTreeSet::new();
    for v in ViewName::ALL {
        for k in v.kinds() {
            assert!(seen.insert(*k), "{k} in two views");
        }
    }
    assert_eq!(seen.len(), 11);
}

#[test]
fn the_summary_is_the_chart_without_the_history_lists_do_not_show() {
    let mut events = record("c-1");
    events.push(scheduled(
        "x9",
        "exploration",
        "2026-02-20",
        10,
        13,
        "t-rivera",
    ));
    events.push(event(
        "OutcomeMeasureRecorded",
        TH,
        "2026-02-09T20:00:00Z",
        json!({"measure": {"instrument": "phq9", "score": 8}, "administered_on": "2026-02-09"}),
        json!([]),
    ));
    let rows = fold(ViewName::Chart, "c-1", &events).rows();
    let chart: ChartRow = rows.iter().find_map(Row::parse).expect("chart row");
    let summary: ChartSummary = rows.iter().find_map(Row::parse).expect("summary row");
    let summary = summary.into_chart();
    // Everything the lists show, as the chart has it.
    assert_eq!(summary.phase, chart.phase);
    assert_eq!(summary.prescription, chart.prescription);
    assert_eq!(summary.doses, chart.doses);
    assert_eq!(summary.blood_pressure, chart.blood_pressure);
    assert_eq!(summary.adverse_events, chart.adverse_events);
    assert_eq!(summary.entries, chart.entries);
    // Only the sessions still to come, and the latest of each measure.
    assert!(chart.sessions.len() > 1);
    let upcoming: Vec<&str> = summary
        .sessions
        .iter()
        .map(|s| s.session.as_str())
        .collect();
    assert_eq!(upcoming, ["x9"]);
    assert_eq!(chart.outcome_measures.len(), 2);
    let latest: Vec<(&str, u8)> = summary
        .outcome_measures
        .iter()
        .map(|o| (o.instrument.as_str(), o.score))
        .collect();
    assert_eq!(latest, [("phq9", 8)]);
}

// ---- idempotent, deterministic folds ----

#[test]
fn applying_an_event_again_or_an_older_one_changes_nothing() {
    let events = record("client-1");
    for view in ViewName::ALL {
        let once = fold(view, "client-1", &events);
        assert_eq!(once.last_sequence(), events.len() as u64);
        // Replaying the whole history (a batch retried after a crash).
        let mut again = once.clone();
        for (i, e) in events.iter().enumerate() {
            again.apply(e, &meta("client-1", i as u64 + 1, e));
        }
        assert_eq!(again, once, "{view}: replay changed the state");
        assert_eq!(again.rows(), once.rows());
        // A retried batch from the middle.
        let mut twice = view.new_state("client-1");
        for (i, e) in events.iter().enumerate().take(6) {
            twice.apply(e, &meta("client-1", i as u64 + 1, e));
        }
        for (i, e) in events.iter().enumerate().skip(3) {
            twice.apply(e, &meta("client-1", i as u64 + 1, e));
        }
        assert_eq!(twice, once, "{view}: overlapping batches");
        // Another client's event is not this state's.
        let mut other = once.clone();
        let e = &events[1];
        other.apply(e, &meta("client-2", 99, e));
        assert_eq!(other, once);
    }
}

#[test]
fn folds_are_deterministic_and_survive_storage() {
    let events = record("client-1");
    for view in ViewName::ALL {
        let a = fold(view, "client-1", &events);
        let b = fold(view, "client-1", &events);
        assert_eq!(a.rows(), b.rows());
        // Stored after half the events, read back, then continued.
        let mut half = view.new_state("client-1");
        for (i, e) in events.iter().enumerate().take(7) {
            half.apply(e, &meta("client-1", i as u64 + 1, e));
        }
        let text = serde_json::to_string(&half.to_json()).unwrap();
        let mut back = ViewState::from_json(&serde_json::from_str(&text).unwrap()).unwrap();
        assert_eq!(back, half);
        for (i, e) in events.iter().enumerate().skip(7) {
            back.apply(e, &meta("client-1", i as u64 + 1, e));
        }
        assert_eq!(back, a, "{view}: stored and continued differs");
        assert_eq!(back.format(), STATE_FORMAT);
    }
}

#[test]
fn a_state_of_another_format_is_refused() {
    let state = fold(ViewName::Billing, "client-1", &record("client-1"));
    let mut json = state.to_json();
    json["format"] = json!(STATE_FORMAT + 1);
    assert_eq!(
        ViewState::from_json(&json),
        Err(StateError::Format {
            found: u64::from(STATE_FORMAT) + 1,
            expected: STATE_FORMAT
        })
    );
    assert_eq!(
        ViewState::from_json(&json!({"format": STATE_FORMAT})),
        Err(StateError::Shape)
    );
    assert_eq!(ViewState::from_json(&json!([])), Err(StateError::Shape));
}

#[test]
fn rows_keys_are_unique_and_sorted() {
    let events = record("client-1");
    for view in ViewName::ALL {
        let rows = fold(view, "client-1", &events).rows();
        let keys: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.kind.as_str(), r.key.as_str()))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(keys, sorted, "{view}: keys not unique and ordered");
        for r in &rows {
            assert!(
                view.kinds().contains(&r.kind.as_str()),
                "{view} made a {} row",
                r.kind
            );
        }
    }
}

// ---- what the folds hold ----

#[test]
fn progress_follows_the_protocol() {
    let events = record("client-1");
    let progress = |n: usize| {
        let rows = fold(ViewName::Schedule, "client-1", &events[..n]).rows();
        rows.into_iter()
            .find(|r| r.kind == kinds::PROGRESS)
            .and_then(|r| r.parse::<ProgressRow>())
            .expect("progress row")
    };
    assert_eq!(progress(1).next_due_step, NextStep::Intake);
    assert_eq!(progress(2).next_due_step, NextStep::MedicalEvaluation);
    assert_eq!(progress(3).next_due_step, NextStep::Prescription);
    assert_eq!(progress(4).next_due_step, NextStep::Consent);
    assert_eq!(progress(5).next_due_step, NextStep::Preparation);
    assert_eq!(progress(6).next_due_step, NextStep::Exploration);
    let after_x1 = progress(7);
    assert_eq!(after_x1.next_due_step, NextStep::Integration);
    assert!(after_x1.integration_pending);
    assert_eq!(after_x1.integration_pending_for.as_deref(), Some("x1"));
    assert_eq!(after_x1.integration_due_by, Some(d("2026-01-19")));
    assert_eq!(after_x1.current_dose_mg, Some(100));
    let after_i1 = progress(8);
    assert_eq!(after_i1.next_due_step, NextStep::Exploration);
    assert_eq!(after_i1.next_exploration_from, Some(d("2026-01-19")));
    assert_eq!(after_i1.sessions_left, Some(1));
    let done = progress(events.len());
    assert_eq!(done.explorations_dosed, 2);
    assert_eq!(done.sessions_left, Some(0));
    assert_eq!(done.last_dose_mg, Some(150));
    assert_eq!(done.next_due_step, NextStep::OngoingCare);
    assert!(!done.integration_pending);
}

#[test]
fn overrides_and_date_findings_are_adherence_rows() {
    let mut events = record("client-1");
    // A third dosed exploration, beyond the two authorized, three days
    // after the second, and with no override recorded at all: the record
    // would refuse it, so the view flags all of it as unexplained.
    events.push(exploration("x3", "2026-01-19", Some(150), json!([])));
    let rows = fold(ViewName::Compliance, "client-1", &events).rows();
    let findings: Vec<AdherenceRow> = rows
        .iter()
        .filter(|r| r.kind == kinds::ADHERENCE)
        .map(|r| r.parse().expect("adherence row"))
        .collect();
    type Summary<'a> = (&'a str, &'a str, bool, Option<i64>, Option<u32>);
    let summary: Vec<Summary> = findings
        .iter()
        .map(|f| {
            (
                f.finding.as_str(),
                f.rule.code(),
                f.overridden,
                f.days,
                f.count,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("short_spacing", "exploration.too_soon", true, Some(4), None),
            ("late_integration", "integration.late", true, Some(10), None),
            (
                "beyond_authorization",
                "exploration.no_sessions_left",
                false,
                None,
                Some(3)
            ),
            (
                "short_spacing",
                "exploration.too_soon",
                false,
                Some(3),
                None
            ),
        ]
    );
    assert_eq!(findings[0].reason.as_deref(), Some("travel"));
    assert_eq!(findings[0].authorized_by.as_deref(), Some("t-rivera"));
    assert_eq!(findings[0].related_session.as_deref(), Some("x1"));
    assert_eq!(findings[1].related_session.as_deref(), Some("x2"));
    assert_eq!(findings[3].reason, None);
    assert_eq!(findings[3].related_session.as_deref(), Some("x2"));
    assert_eq!(
        findings[3].detail,
        "3 days after dosed exploration x2; minimum 7 days"
    );
    assert_eq!(
        findings[2].detail,
        "dosed exploration 3 under prescription rx-1, which authorizes 2"
    );
}

#[test]
fn amendments_sit_beside_the_entry_they_amend() {
    let mut events = record("client-1");
    events.push(event(
        "EntryAmended",
        TH,
        "2026-01-27T20:00:00Z",
        json!({"entry": 7, "entry_type": "ExplorationRecorded", "reason": "typo",
               "corrected_content": "observations: calm; mild nausea"}),
        json!([]),
    ));
    let rows = fold(ViewName::Chart, "client-1", &events).rows();
    let entry = |seq: u64| -> EntryRow {
        rows.iter()
            .find(|r| r.kind == kinds::ENTRY && r.key == format!("{seq:010}"))
            .and_then(Row::parse)
            .expect("entry row")
    };
    let amended = entry(7);
    assert_eq!(amended.event_type, "ExplorationRecorded");
    assert_eq!(amended.content["observations"], json!("calm"));
    assert!(amended.content.get("decision").is_none());
    assert_eq!(amended.amendments.len(), 1);
    assert_eq!(amended.amendments[0].sequence, 13);
    assert_eq!(amended.amendments[0].reason, "typo");
    assert_eq!(entry(13).amends, Some(7));
    assert!(entry(8).amendments.is_empty());
    let chart: ChartRow = rows
        .iter()
        .find(|r| r.kind == kinds::CHART)
        .and_then(Row::parse)
        .expect("chart row");
    assert_eq!(chart.doses[0].stamp.sequence, 7);
    assert_eq!(chart.doses[0].stamp.amendments, amended.amendments);
    assert_eq!(chart.amendments, 1);
}

// ---- double-bookings ----

fn session(
    client: &str,
    id: &str,
    therapist: &str,
    from: &str,
    to: &str,
    status: &str,
) -> SessionRow {
    serde_json::from_value(json!({
        "session": id, "client_id": client, "kind": "preparation", "therapist": therapist,
        "date": &from[..10], "start": from, "end": to, "minutes": 60, "status": status, "integrates": null,
        "scheduled_sequence": 1, "recorded_sequence": null, "closed_sequence": null,
        "cancel_reason": null,
    }))
    .expect("session row")
}

#[test]
fn double_bookings_are_overlaps_of_one_therapists_open_sessions() {
    let at = |h: u32| format!("2026-01-05T{h:02}:00:00Z");
    let sessions = [
        session("a", "s1", "t-1", &at(9), &at(11), "scheduled"),
        session("b", "s2", "t-1", &at(10), &at(12), "held"),
        // Touches s2's end: not an overlap.
        session("c", "s3", "t-1", &at(12), &at(13), "scheduled"),
        // Inside s1 and s2, but cancelled: frees the time.
        session("d", "s4", "t-1", &at(10), &at(11), "cancelled"),
        // Same time, other therapist.
        session("e", "s5", "t-2", &at(9), &at(13), "scheduled"),
        // A long session spanning three others of t-1.
        session("f", "s6", "t-1", &at(8), &at(14), "scheduled"),
    ];
    let found = double_bookings(&sessions);
    let pair = |c: &str, s: &str| (c.to_owned(), s.to_owned());
    let with = |c: &str, s: &str| -> Vec<(String, String)> {
        found
            .get(&pair(c, s))
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default()
    };
    assert_eq!(with("a", "s1"), [pair("b", "s2"), pair("f", "s6")]);
    assert_eq!(with("b", "s2"), [pair("a", "s1"), pair("f", "s6")]);
    assert_eq!(with("c", "s3"), [pair("f", "s6")]);
    assert!(with("d", "s4").is_empty());
    assert!(with("e", "s5").is_empty());
    assert_eq!(
        with("f", "s6"),
        [pair("a", "s1"), pair("b", "s2"), pair("c", "s3")]
    );
}

#[test]
fn the_schedule_report_flags_double_bookings_across_clients() {
    let one = vec![scheduled(
        "p1",
        "preparation",
        "2026-02-02",
        10,
        11,
        "t-rivera",
    )];
    let two = vec![
        scheduled("p1", "preparation", "2026-02-02", 10, 12, "t-rivera"),
        scheduled("p2", "preparation", "2026-02-03", 10, 11, "t-rivera"),
    ];
    let mut rows = with_client("c-1", fold(ViewName::Schedule, "c-1", &one).rows());
    rows.extend(with_client(
        "c-2",
        fold(ViewName::Schedule, "c-2", &two).rows(),
    ));
    let table = build_report(ReportKind::Schedule, Period::all(), None, &rows).unwrap();
    assert_eq!(table.columns, ReportKind::Schedule.columns());
    assert_eq!(
        table.column("double_booked"),
        [&json!(true), &json!(true), &json!(false)]
    );
    assert_eq!(
        table.column("conflicts"),
        [&json!("c-2/p1"), &json!("c-1/p1"), &Value::Null]
    );
    // One client's report still sees the conflict with the other client.
    let only = build_report(ReportKind::Schedule, Period::all(), Some("c-1"), &rows).unwrap();
    assert_eq!(only.rows.len(), 1);
    assert_eq!(only.column("conflicts"), [&json!("c-2/p1")]);
}

// ---- reports ----

#[test]
fn reports_over_an_empty_period_are_empty_tables_with_their_columns() {
    let events = record("client-1");
    let mut rows = Vec::new();
    for view in ViewName::ALL {
        rows.extend(with_client(
            "client-1",
            fold(view, "client-1", &events).rows(),
        ));
    }
    let empty = Period::new(Some(d("2025-01-01")), Some(d("2025-12-31"))).unwrap();
    for kind in ReportKind::ALL {
        let table = build_report(kind, empty, None, &rows).unwrap();
        assert_eq!(table.columns, kind.columns(), "{kind}");
        assert!(table.rows.is_empty(), "{kind}: {:?}", table.rows);
        let all = build_report(kind, Period::all(), None, &rows).unwrap();
        assert!(!all.rows.is_empty(), "{kind} has rows over all time");
        assert!(all.rows.iter().all(|r| r.len() == all.columns.len()));
        // Cells are strings, integers, bools or null; never floats.
        for cell in all.rows.iter().flatten() {
            assert!(
                matches!(cell, Value::String(_) | Value::Bool(_) | Value::Null)
                    || cell.as_i64().is_some()
                    || cell.as_u64().is_some(),
                "{kind}: cell {cell}"
            );
        }
        // No rows at all: empty too.
        let none = build_report(kind, Period::all(), None, &[]).unwrap();
        assert!(none.rows.is_empty());
    }
}

#[test]
fn views_and_reports_hold_no_floats() {
    let events = record("client-1");
    for view in ViewName::ALL {
        let state = fold(view, "client-1", &events);
        assert!(no_floats(&state.to_json()), "{view} state");
        for row in state.rows() {
            assert!(no_floats(&row.data), "{view} {} {}", row.kind, row.key);
        }
    }
}

#[test]
fn outcome_means_are_exact_strings() {
    let score = |client: &str, seq: u64, instrument: &str, score: u8, day: &str| {
        (
            client.to_owned(),
            Row::new(
                kinds::OUTCOME,
                format!("{seq:010}"),
                Some(d(day)),
                &OutcomeRow {
                    client_id: client.to_owned(),
                    instrument: instrument.to_owned(),
                    score,
                    administered_on: d(day),
                    sequence: seq,
                    recorded_at: t(&format!("{day}T20:00:00Z")),
                },
            ),
        )
    };
    let rows = vec![
        score("a", 1, "phq9", 19, "2026-01-05"),
        score("a", 2, "phq9", 12, "2026-02-05"),
        score("a", 3, "phq9", 6, "2026-03-05"),
        score("b", 1, "phq9", 20, "2026-01-06"),
        score("b", 2, "phq9", 14, "2026-03-06"),
        score("c", 1, "phq9", 15, "2026-01-07"),
        score("c", 2, "gad7", 9, "2026-01-07"),
        score("c", 3, "gad7", 4, "2026-02-07"),
    ];
    let table = build_report(ReportKind::Outcomes, Period::all(), None, &rows).unwrap();
    let pick = |r: &Vec<Value>| -> Vec<Value> {
        [
            "scope",
            "client_id",
            "instrument",
            "n",
            "baseline",
            "latest",
            "change",
            "mean_baseline",
            "mean_latest",
            "mean_change",
        ]
        .iter()
        .map(|c| r[table.columns.iter().position(|x| x == c).unwrap()].clone())
        .collect()
    };
    let got: Vec<Vec<Value>> = table.rows.iter().map(pick).collect();
    let n = Value::Null;
    assert_eq!(
        got,
        vec![
            vec![
                json!("client"),
                json!("a"),
                json!("phq9"),
                n.clone(),
                json!(19),
                json!(6),
                json!(-13),
                n.clone(),
                n.clone(),
                n.clone()
            ],
            vec![
                json!("client"),
                json!("b"),
                json!("phq9"),
                n.clone(),
                json!(20),
                json!(14),
                json!(-6),
                n.clone(),
                n.clone(),
                n.clone()
            ],
            // Only a baseline: no change, not counted in the means.
            vec![
                json!("client"),
                json!("c"),
                json!("phq9"),
                n.clone(),
                json!(15),
                json!(15),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone()
            ],
            vec![
                json!("client"),
                json!("c"),
                json!("gad7"),
                n.clone(),
                json!(9),
                json!(4),
                json!(-5),
                n.clone(),
                n.clone(),
                n.clone()
            ],
            vec![
                json!("practice"),
                n.clone(),
                json!("phq9"),
                json!(2),
                n.clone(),
                n.clone(),
                n.clone(),
                json!("19.50"),
                json!("10.00"),
                json!("-9.50")
            ],
            vec![
                json!("practice"),
                n.clone(),
                json!("gad7"),
                json!(1),
                n.clone(),
                n.clone(),
                n.clone(),
                json!("9.00"),
                json!("4.00"),
                json!("-5.00")
            ],
        ]
    );
    // Latest is the last score in the period; the baseline stays the first.
    let feb = Period::new(Some(d("2026-02-01")), Some(d("2026-02-28"))).unwrap();
    let table = build_report(ReportKind::Outcomes, feb, Some("a"), &rows).unwrap();
    assert_eq!(table.column("baseline"), [&json!(19), &Value::Null]);
    assert_eq!(table.column("latest"), [&json!(12), &Value::Null]);
    assert_eq!(table.column("mean_change"), [&Value::Null, &json!("-7.00")]);
}

#[test]
fn a_row_of_the_wrong_shape_is_an_error_without_its_content() {
    let rows = vec![(
        "client-1".to_owned(),
        Row {
            kind: kinds::CHARGE.to_owned(),
            key: "x1".to_owned(),
            day: Some(d("2026-01-05")),
            data: json!({"client_id": "client-1", "note": "Alex Example said something"}),
        },
    )];
    let err = build_report(ReportKind::Billing, Period::all(), None, &rows).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("charge row x1 of client client-1"),
        "{message}"
    );
    assert!(!message.contains("Alex"), "{message}");
    // Other reports do not read charge rows.
    assert!(build_report(ReportKind::Protocol, Period::all(), None, &rows).is_ok());
}

#[test]
fn billing_balances_run_over_the_whole_history() {
    let events = record("client-1");
    let rows = with_client(
        "client-1",
        fold(ViewName::Billing, "client-1", &events).rows(),
    );
    // Charges: intake 175 + preparation 175 + 2 x 550 + 2 x 175 = 1800.00;
    // paid 500.00.
    let all = build_report(ReportKind::Billing, Period::all(), None, &rows).unwrap();
    let total = all.rows.last().unwrap();
    assert_eq!(total[2], json!("total"));
    assert_eq!(
        &total[11..],
        [json!(180_000), json!(50_000), json!(130_000)]
    );
    // From 2026-01-14: the balance carried in is intake + preparation + x1.
    let late = Period::new(Some(d("2026-01-14")), None).unwrap();
    let part = build_report(ReportKind::Billing, late, None, &rows).unwrap();
    let lines: Vec<(Value, Value)> = part
        .rows
        .iter()
        .map(|r| (r[3].clone(), r[13].clone()))
        .collect();
    assert_eq!(
        lines,
        [
            (json!("i1"), json!(90_000 + 17_500)),
            (json!("x2"), json!(107_500 + 55_000)),
            (json!("i2"), json!(162_500 + 17_500)),
            (json!("pay-1"), json!(130_000)),
            (Value::Null, json!(130_000)),
        ]
    );
    assert_eq!(&part.rows[4][11..13], [json!(90_000), json!(50_000)]);
}

fn payment(id: &str, cents: i64, day: &str, session: Option<&str>) -> ClientEvent {
    event(
        "PaymentRecorded",
        FD,
        &format!("{day}T20:00:00Z"),
        json!({"payment": id, "amount": cents, "method": "card", "payer": "client",
               "received_on": day, "session": session}),
        json!([]),
    )
}

/// The account row of a billing fold over `events`.
fn account(events: &[ClientEvent]) -> AccountRow {
    fold(ViewName::Billing, "client-1", events)
        .rows()
        .iter()
        .find_map(Row::parse::<AccountRow>)
        .expect("an account row")
}

/// Payments of $100,000.00, the most a client may send per entry: 1,025 of
/// them (the count that overflowed i64 at 2^53 - 1 each) give the exact
/// total, balance and report lines.
#[test]
fn many_payments_of_the_maximum_sum_exactly() {
    let mut events = record("client-1");
    for i in 0..1_025 {
        events.push(payment(&format!("max-{i}"), 10_000_000, "2026-01-27", None));
    }
    let a = account(&events);
    let paid = 50_000 + 1_025 * 10_000_000;
    assert_eq!(a.payments, 1_026);
    assert_eq!(a.payments_cents, Some(paid));
    assert_eq!(a.balance_cents, Some(180_000 - paid));
    let rows = with_client(
        "client-1",
        fold(ViewName::Billing, "client-1", &events).rows(),
    );
    let report = build_report(ReportKind::Billing, Period::all(), None, &rows).unwrap();
    let total = report.rows.last().unwrap();
    assert_eq!(
        &total[11..],
        [json!(180_000), json!(paid), json!(180_000 - paid)]
    );
    let superbill = build_report(ReportKind::Superbill, Period::all(), None, &rows).unwrap();
    let total = superbill.rows.last().unwrap();
    assert_eq!(total[4], json!("total"));
    assert!(total.contains(&json!(paid)), "{total:?}");
}

/// Stored amounts may be as large as `Cents::MAX` (events written before
/// the $100,000 bound still read). Sums beyond `Cents::MAX` are an error:
/// the account row shows no total (null, never a wrapped or saturated
/// number) and the billing and superbill reports are refused naming the
/// client.
#[test]
fn sums_of_money_beyond_the_largest_amount_are_errors_not_wrapped() {
    let max = kapchart_domain::Cents::MAX.get();
    // The record without its payment, then one payment of the largest
    // amount: the total and the balance are exact.
    let mut one = record("client-1");
    one.pop();
    one.push(payment("huge-1", max, "2026-01-27", None));
    let a = account(&one);
    assert_eq!(a.payments_cents, Some(max));
    assert_eq!(a.balance_cents, Some(180_000 - max));

    // One cent past the largest amount, or twice it: no total, no
    // balance; the charges still sum.
    for extra in [1, max] {
        let mut over = one.clone();
        over.push(payment("huge-2", extra, "2026-01-28", Some("x1")));
        let a = account(&over);
        assert_eq!(a.payments, 2);
        assert_eq!(a.charges_cents, Some(180_000));
        assert_eq!((a.payments_cents, a.balance_cents), (None, None));
        let rows = with_client(
            "client-1",
            fold(ViewName::Billing, "client-1", &over).rows(),
        );
        for (kind, name) in [
            (ReportKind::Billing, "billing"),
            (ReportKind::Superbill, "superbill"),
        ] {
            let err = build_report(kind, Period::all(), None, &rows).unwrap_err();
            assert!(
                matches!(&err, ReportError::MoneyOverflow { client_id, .. } if client_id == "client-1"),
                "{err:?}"
            );
            let message = err.to_string();
            assert!(message.starts_with(name), "{message}");
            assert!(message.contains("beyond"), "{message}");
        }
    }
    // The 1,025 payments of 2^53 - 1 of the finding: an error, not a
    // negative balance.
    let mut finding = record("client-1");
    for i in 0..1_025 {
        finding.push(payment(&format!("p-{i}"), max, "2026-01-27", None));
    }
    let a = account(&finding);
    assert_eq!((a.payments_cents, a.balance_cents), (None, None));
}

#[test]
fn chart_as_of_shows_only_what_was_recorded_by_then() {
    let events = record("client-1");
    let metas: Vec<EventMeta> = events
        .iter()
        .enumerate()
        .map(|(i, e)| meta("client-1", i as u64 + 1, e))
        .collect();
    let pairs: Vec<(&EventMeta, &ClientEvent)> = metas.iter().zip(&events).collect();
    let before = chart_as_of("client-1", pairs.iter().copied(), t("2026-01-12T19:59:59Z"));
    let entries = before.iter().filter(|r| r.kind == kinds::ENTRY).count();
    assert_eq!(entries, 6);
    let at = chart_as_of(
        "client-1",
        pairs.iter().rev().copied(),
        t("2026-01-12T20:00:00Z"),
    );
    assert_eq!(at.iter().filter(|r| r.kind == kinds::ENTRY).count(), 7);
    let full = chart_as_of("client-1", pairs.iter().copied(), t("2030-01-01T00:00:00Z"));
    let mut expected = fold(ViewName::Chart, "client-1", &events).rows();
    expected.retain(|r| r.kind != kinds::SUMMARY);
    assert_eq!(full, expected);
    assert!(full.iter().all(|r| r.kind != kinds::SUMMARY));
    assert!(chart_as_of("client-1", pairs.iter().copied(), t("2020-01-01T00:00:00Z")).is_empty());
}

/// The text rows a store writes hold the same data, row for row, as the
/// rows of JSON values.
#[test]
fn text_rows_hold_the_same_data_as_value_rows() {
    let events = record("client-1");
    for view in ViewName::ALL {
        let state = fold(view, "client-1", &events);
        let rows = state.rows();
        let text = state.rows_text();
        assert!(!rows.is_empty(), "{view}");
        assert_eq!(rows.len(), text.len(), "{view}");
        for (row, text) in rows.iter().zip(&text) {
            assert_eq!(
                (&row.kind, &row.key, row.day),
                (&text.kind, &text.key, text.day)
            );
            let data: serde_json::Value = serde_json::from_str(&text.data).expect("JSON");
            assert_eq!(data, row.data, "{view} {} {}", row.kind, row.key);
        }
    }
}
