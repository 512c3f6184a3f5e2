//! The record's structural rules (registration, discharge, roles, ids,
//! sessions, the cross-client schedule, amendments), one test per rule
//! code. Each test has an allowed case (the closest legitimate command
//! succeeds) and a refused case that differs from it minimally, and checks
//! that a refused command writes nothing: no event, no change of state.

use chrono::{DateTime, Duration, Utc};
use kapchart_domain::*;
use kapchart_e2e::*;

// ---- local helpers ----

/// Runs `command` and asserts it is refused by `rule` and that nothing was
/// written: the event list and the record are exactly as before.
async fn refuse_command(chart: &mut Chart, command: Command, rule: Rule) -> String {
    let name = command.body.name();
    let events_before = chart.events.len();
    let history_before = chart.events.clone();
    let record_before = chart.record.clone();
    let result = chart.run(command).await;
    let message = match result {
        Err(ClientError::Refused(r)) => {
            assert_eq!(
                r.rule, rule,
                "{name}: refused by {} ({}), expected {rule}",
                r.rule, r.message
            );
            assert!(!r.message.is_empty(), "{name}: refusal without a message");
            r.message
        }
        other => panic!("{name}: expected refusal by {rule}, got {other:?}"),
    };
    assert_eq!(
        chart.events.len(),
        events_before,
        "{name}: a refused command wrote events"
    );
    assert_eq!(
        chart.events, history_before,
        "{name}: a refused command changed the history"
    );
    assert_eq!(
        chart.record, record_before,
        "{name}: a refused command changed the record"
    );
    message
}

/// Issues `body` as `actor` now with a fresh id; asserts it is refused by
/// `rule` and writes nothing. Returns the refusal message.
async fn refuse(chart: &mut Chart, actor: Actor, body: CommandBody, rule: Rule) -> String {
    let command = chart.command(actor, body);
    refuse_command(chart, command, rule).await
}

/// Issues `body` as `actor`; asserts exactly one event is written and
/// returns it.
async fn allow(chart: &mut Chart, actor: Actor, body: CommandBody) -> ClientEvent {
    let name = body.name();
    let before = chart.events.len();
    let event = assert_allowed(chart.exec(actor, body).await);
    assert_eq!(chart.events.len(), before + 1, "{name}: one event expected");
    assert_eq!(chart.events.last(), Some(&event), "{name}: event not kept");
    assert_eq!(chart.record.last_sequence(), chart.events.len() as u64);
    event
}

/// An instant on day `d` at `h:m` UTC.
fn at(d: i64, h: i64, m: i64) -> DateTime<Utc> {
    day(d) + Duration::hours(h) + Duration::minutes(m)
}

/// A span on day `d` from `h1:m1` to `h2:m2`.
fn span_m(d: i64, (h1, m1): (i64, i64), (h2, m2): (i64, i64)) -> TimeSpan {
    TimeSpan::new(at(d, h1, m1), at(d, h2, m2)).expect("test span is valid")
}

fn client(id: &str) -> ClientId {
    ClientId::parse(id).expect("valid client id")
}

/// A ScheduleSession body of `kind` with an explicit therapist.
fn schedule_with(
    kind: fn(ScheduleSession) -> CommandBody,
    session: &str,
    span: TimeSpan,
    with: &Actor,
) -> CommandBody {
    kind(ScheduleSession {
        session: sid(session),
        span,
        therapist: with.id.clone(),
    })
}

/// RecordPayment for a session.
fn payment_for(id: &str, cents: i64, on: chrono::NaiveDate, session: &str) -> CommandBody {
    let json = serde_json::json!({
        "payment": id, "amount": cents, "method": "card", "payer": "client",
        "received_on": on, "session": session,
    });
    CommandBody::RecordPayment(serde_json::from_value(json).expect("valid payment"))
}

fn phq9(score: i64) -> OutcomeMeasure {
    OutcomeMeasure::Phq9(Phq9Score::new(score).expect("valid score"))
}

/// The actor used for a role.
fn actor_for(role: Role) -> Actor {
    match role {
        Role::Therapist => therapist(),
        Role::Prescriber => prescriber(),
        Role::FrontDesk => front_desk(),
        Role::Auditor => auditor(),
        Role::Admin => admin(),
    }
}

const ALL_ROLES: [Role; 5] = [
    Role::Therapist,
    Role::Prescriber,
    Role::FrontDesk,
    Role::Auditor,
    Role::Admin,
];

/// The sequence number of the first event of `type_name`.
fn sequence_of(chart: &Chart, type_name: &str) -> u64 {
    let index = chart
        .events
        .iter()
        .position(|e| e.type_name() == type_name)
        .unwrap_or_else(|| panic!("no {type_name} event"));
    index as u64 + 1
}

/// A client in the middle of the protocol, "now" 20:00 on day 3:
/// day 0 ready for exploration (intake-1, prep-1 held) and exploration
/// x-2 scheduled for day 9; day 1 exploration x-1 dosed 150 mg; day 2
/// integration int-1 of x-1 and preparation prep-2 scheduled for day 3
/// 08:00–09:00 (so it has started by now).
async fn active_chart() -> Chart {
    let mut chart = Chart::ready_for_exploration().await;
    chart
        .ok(therapist(), schedule_exploration("x-2", span(9, 10, 13)))
        .await;
    chart.on(1);
    assert_allowed(chart.explore("x-1", 150).await);
    chart.on(2);
    assert_allowed(chart.integrate("int-1", "x-1").await);
    chart
        .ok(front_desk(), schedule_preparation("prep-2", span(3, 8, 9)))
        .await;
    chart.on(3);
    chart
}

/// One command for [`active_chart`], with the roles that may issue it.
struct Case {
    body: CommandBody,
    roles: &'static [Role],
}

/// Every command but RegisterClient, each legitimate on [`active_chart`]
/// when issued by one of its roles. The roles follow the brief's table:
/// therapists hold the clinical sessions, prescribers the medical side,
/// front desk registration, scheduling and payments; auditors and admins
/// issue nothing.
fn active_cases() -> Vec<Case> {
    use Role::*;
    vec![
        Case {
            body: intake("intake-2", span(3, 15, 16), Suitability::Suitable),
            roles: &[Therapist],
        },
        Case {
            body: medical(date(3), Clearance::Cleared),
            roles: &[Prescriber],
        },
        Case {
            body: standard_prescription("rx-2"),
            roles: &[Prescriber],
        },
        Case {
            body: consent(date(3)),
            roles: &[Therapist, Prescriber],
        },
        Case {
            body: schedule_preparation("prep-3", span(5, 10, 11)),
            roles: &[Therapist, FrontDesk],
        },
        Case {
            body: preparation("prep-4", span(3, 12, 13)),
            roles: &[Therapist],
        },
        Case {
            body: schedule_exploration("x-3", span(17, 10, 13)),
            roles: &[Therapist, FrontDesk],
        },
        Case {
            body: exploration("x-4", 3, None, bp(120, 80)),
            roles: &[Therapist],
        },
        Case {
            body: schedule_integration("int-2", span(4, 10, 11), "x-1"),
            roles: &[Therapist, FrontDesk],
        },
        Case {
            body: integration("int-3", span(3, 14, 15), "x-1"),
            roles: &[Therapist],
        },
        Case {
            body: adjust_dose(200),
            roles: &[Prescriber],
        },
        Case {
            body: outcome(phq9(12), date(3)),
            roles: &[Therapist, Prescriber],
        },
        Case {
            body: ongoing_care("oc-1", span(3, 16, 17)),
            roles: &[Therapist],
        },
        Case {
            body: external_treatment(date(3)),
            roles: &[Therapist, Prescriber],
        },
        Case {
            body: cancel("x-2"),
            roles: &[Therapist, FrontDesk],
        },
        Case {
            body: no_show("prep-2"),
            roles: &[Therapist, FrontDesk],
        },
        Case {
            body: payment("pay-1", 17_500, date(3)),
            roles: &[FrontDesk],
        },
        Case {
            // Entry 5 is the ConsentRecorded entry: therapist or prescriber.
            body: amend(5),
            roles: &[Therapist, Prescriber],
        },
        Case {
            body: discharge(date(3)),
            roles: &[Therapist, Prescriber],
        },
    ]
}

// ---- one test per rule ----

#[tokio::test]
async fn client_not_registered() {
    let mut chart = Chart::new();
    // Refused: anything but RegisterClient before registration. Therapists
    // and prescribers are answered as for a client not theirs
    // (rules_authority.rs), so no refusal tells them which ids exist.
    for (actor, body, rule) in [
        (therapist(), consent(date(0)), Rule::ClientNotAssigned),
        (
            front_desk(),
            schedule_preparation("prep-1", span(1, 10, 11)),
            Rule::ClientNotRegistered,
        ),
        (
            front_desk(),
            payment("pay-1", 17_500, date(0)),
            Rule::ClientNotRegistered,
        ),
        (front_desk(), amend(1), Rule::ClientNotRegistered),
        (therapist(), amend(1), Rule::ClientNotAssigned),
        (
            prescriber(),
            medical(date(0), Clearance::Cleared),
            Rule::ClientNotReferred,
        ),
    ] {
        refuse(&mut chart, actor, body, rule).await;
    }
    assert!(!chart.record.is_registered());
    assert!(chart.events.is_empty());

    // Allowed: registration, then the same consent as above.
    allow(&mut chart, front_desk(), register_client()).await;
    assert!(chart.record.is_registered());
    assert_eq!(chart.record.client_id(), Some(&client(CLIENT)));
    allow(&mut chart, therapist(), consent(date(0))).await;
}

#[tokio::test]
async fn client_already_registered() {
    let mut chart = Chart::new();
    // Allowed: the first registration.
    let event = allow(&mut chart, front_desk(), register_client()).await;
    assert_eq!(event.type_name(), "ClientRegistered");

    // Refused: the same registration again under a new command id (not a
    // retry), by either permitted role, and with different details.
    refuse(
        &mut chart,
        front_desk(),
        register_client(),
        Rule::ClientAlreadyRegistered,
    )
    .await;
    refuse(
        &mut chart,
        therapist(),
        register_client(),
        Rule::ClientAlreadyRegistered,
    )
    .await;
    let CommandBody::RegisterClient(mut other) = register_client() else {
        unreachable!("register_client builds RegisterClient")
    };
    other.name = PersonName::new("Sam Other").expect("valid name");
    other.therapist = other_therapist().id;
    refuse(
        &mut chart,
        front_desk(),
        CommandBody::RegisterClient(other),
        Rule::ClientAlreadyRegistered,
    )
    .await;
    assert_eq!(chart.events.len(), 1);
}

#[tokio::test]
async fn client_discharged() {
    for case in active_cases() {
        let actor = actor_for(case.roles[0]);
        let name = case.body.name();
        let after_discharge_ok = matches!(
            case.body,
            CommandBody::AmendEntry(_) | CommandBody::RecordPayment(_)
        );

        // Allowed: the command on the same record before discharge.
        let mut open = active_chart().await;
        allow(&mut open, actor.clone(), case.body.clone()).await;

        // After discharge: only amendments and payments.
        let mut closed = active_chart().await;
        allow(&mut closed, therapist(), discharge(date(3))).await;
        assert!(closed.record.is_discharged());
        if after_discharge_ok {
            allow(&mut closed, actor, case.body).await;
        } else {
            let message = refuse(&mut closed, actor, case.body, Rule::ClientDischarged).await;
            assert!(message.contains("discharged"), "{name}: {message}");
        }
    }

    // Amending the discharge itself, and a payment for a held session,
    // are allowed after discharge.
    let mut chart = active_chart().await;
    allow(&mut chart, therapist(), discharge(date(3))).await;
    let discharge_entry = chart.record.last_sequence();
    allow(&mut chart, prescriber(), amend(discharge_entry)).await;
    allow(
        &mut chart,
        front_desk(),
        payment_for("pay-9", 55_000, date(3), "x-1"),
    )
    .await;
    chart.on(4);
    // Later days too, and every clinical kind is still refused.
    refuse(
        &mut chart,
        therapist(),
        preparation("prep-9", span(4, 10, 11)),
        Rule::ClientDischarged,
    )
    .await;
    // Re-registering a discharged client is not a way back in.
    refuse(
        &mut chart,
        front_desk(),
        register_client(),
        Rule::ClientAlreadyRegistered,
    )
    .await;
}

#[tokio::test]
async fn discharge_cancels_open_scheduled_sessions() {
    let mut chart = active_chart().await;
    // Besides x-2 (day 9) and prep-2 (day 3, started), book two more and
    // cancel one of them: only sessions still scheduled are cancelled.
    chart
        .ok(
            front_desk(),
            schedule_preparation("prep-5", span(5, 10, 11)),
        )
        .await;
    chart
        .ok(
            front_desk(),
            schedule_integration("int-5", span(6, 10, 11), "x-1"),
        )
        .await;
    chart.ok(front_desk(), cancel("prep-5")).await;

    let event = allow(&mut chart, therapist(), discharge(date(3))).await;
    let ClientEvent::ClientDischarged(e) = &event else {
        panic!("expected ClientDischarged, got {}", event.type_name());
    };
    let mut cancelled: Vec<&str> = e.cancelled_sessions.iter().map(|s| s.as_str()).collect();
    cancelled.sort_unstable();
    assert_eq!(cancelled, ["int-5", "prep-2", "x-2"]);

    for id in ["int-5", "prep-2", "x-2", "prep-5"] {
        let s = chart.record.session(&sid(id)).expect("session kept");
        assert_eq!(s.status, SessionStatus::Cancelled, "{id}");
    }
    for id in ["intake-1", "prep-1", "x-1", "int-1"] {
        let s = chart.record.session(&sid(id)).expect("session kept");
        assert_eq!(s.status, SessionStatus::Held, "{id}");
    }
    // The replayed record agrees.
    assert_eq!(chart.replay(), chart.record);

    // A discharge with nothing scheduled cancels nothing.
    let mut quiet = Chart::ready_for_exploration().await;
    let event = allow(&mut quiet, therapist(), discharge(date(0))).await;
    let ClientEvent::ClientDischarged(e) = &event else {
        panic!("expected ClientDischarged");
    };
    assert!(e.cancelled_sessions.is_empty());
}

#[tokio::test]
async fn role_not_permitted() {
    // Registration: front desk or therapist.
    for role in ALL_ROLES {
        let mut chart = Chart::new();
        let permitted = matches!(role, Role::FrontDesk | Role::Therapist);
        if permitted {
            allow(&mut chart, actor_for(role), register_client()).await;
        } else {
            let message = refuse(
                &mut chart,
                actor_for(role),
                register_client(),
                Rule::RoleNotPermitted,
            )
            .await;
            assert!(message.contains(role.as_str()), "{message}");
        }
    }

    // Every other command, for every role, on the same record.
    for case in active_cases() {
        let name = case.body.name();
        for role in ALL_ROLES {
            let mut chart = active_chart().await;
            if case.roles.contains(&role) {
                allow(&mut chart, actor_for(role), case.body.clone()).await;
            } else {
                let message = refuse(
                    &mut chart,
                    actor_for(role),
                    case.body.clone(),
                    Rule::RoleNotPermitted,
                )
                .await;
                assert!(
                    message.contains(role.as_str()),
                    "{name} by {}: {message}",
                    role.as_str()
                );
            }
        }
    }

    // Spot checks named in the brief, stated directly.
    let mut chart = active_chart().await;
    for (actor, body) in [
        (front_desk(), exploration("x-4", 3, None, bp(120, 80))),
        (
            front_desk(),
            intake("intake-2", span(3, 15, 16), Suitability::Suitable),
        ),
        (therapist(), standard_prescription("rx-2")),
        (therapist(), adjust_dose(200)),
        (prescriber(), payment("pay-1", 17_500, date(3))),
        (auditor(), outcome(phq9(12), date(3))),
        (admin(), cancel("x-2")),
        (auditor(), amend(1)),
        (admin(), amend(1)),
    ] {
        refuse(&mut chart, actor, body, Rule::RoleNotPermitted).await;
    }

    // Amendments: only the roles that may record an entry may amend it.
    let expected: [(&str, &[Role]); 9] = [
        ("ClientRegistered", &[Role::FrontDesk, Role::Therapist]),
        ("IntakeRecorded", &[Role::Therapist]),
        ("MedicalEvaluationRecorded", &[Role::Prescriber]),
        ("PrescriptionIssued", &[Role::Prescriber]),
        ("ConsentRecorded", &[Role::Therapist, Role::Prescriber]),
        ("PreparationRecorded", &[Role::Therapist]),
        ("SessionScheduled", &[Role::Therapist, Role::FrontDesk]),
        ("ExplorationRecorded", &[Role::Therapist]),
        ("IntegrationRecorded", &[Role::Therapist]),
    ];
    for (entry_type, roles) in expected {
        for role in ALL_ROLES {
            let mut chart = active_chart().await;
            let entry = sequence_of(&chart, entry_type);
            if roles.contains(&role) {
                let event = allow(&mut chart, actor_for(role), amend(entry)).await;
                let ClientEvent::EntryAmended(e) = &event else {
                    panic!("expected EntryAmended");
                };
                assert_eq!(e.entry_type, entry_type);
            } else {
                refuse(
                    &mut chart,
                    actor_for(role),
                    amend(entry),
                    Rule::RoleNotPermitted,
                )
                .await;
            }
        }
    }

    // The brief's example: a PrescriptionIssued entry is amended by the
    // prescriber, not the therapist; and an amendment of it inherits that:
    // amending the amendment follows the same roles.
    let mut chart = active_chart().await;
    let rx_entry = sequence_of(&chart, "PrescriptionIssued");
    let message = refuse(
        &mut chart,
        therapist(),
        amend(rx_entry),
        Rule::RoleNotPermitted,
    )
    .await;
    assert!(message.contains("PrescriptionIssued"), "{message}");
    allow(&mut chart, prescriber(), amend(rx_entry)).await;
    let amendment = chart.record.last_sequence();
    refuse(
        &mut chart,
        therapist(),
        amend(amendment),
        Rule::RoleNotPermitted,
    )
    .await;
    let event = allow(&mut chart, prescriber(), amend(amendment)).await;
    let ClientEvent::EntryAmended(e) = &event else {
        panic!("expected EntryAmended");
    };
    assert_eq!(e.entry, amendment);
    // The replayed record keeps the inherited type too.
    chart.record = chart.replay();
    refuse(
        &mut chart,
        therapist(),
        amend(amendment),
        Rule::RoleNotPermitted,
    )
    .await;
}

#[tokio::test]
async fn command_id_reused() {
    let mut chart = Chart::ready_for_exploration().await;
    let first = chart.command(therapist(), outcome(phq9(19), date(0)));
    assert_allowed(chart.run(first.clone()).await);

    // Refused: the same id with a different body.
    let mut other_body = first.clone();
    other_body.body = outcome(phq9(18), date(0));
    let message = refuse_command(&mut chart, other_body.clone(), Rule::CommandIdReused).await;
    assert!(message.contains(first.id.as_str()), "{message}");

    // Refused: the same id and body from another actor, or with an
    // override added.
    let mut other_actor = first.clone();
    other_actor.actor = prescriber();
    refuse_command(&mut chart, other_actor, Rule::CommandIdReused).await;
    let with_override = first
        .clone()
        .with_override(Rule::IntegrationLate, text("late by agreement"));
    refuse_command(&mut chart, with_override, Rule::CommandIdReused).await;

    // Refused even when the different body would be refused for its own
    // reason: the id check comes first.
    let mut refused_body = first.clone();
    refused_body.body = adjust_dose(999);
    refuse_command(&mut chart, refused_body, Rule::CommandIdReused).await;

    // Allowed: the different body under a fresh id.
    let mut fresh = other_body;
    fresh.id = chart.command_id();
    assert_allowed(chart.run(fresh).await);

    // The same id with the same body is a retry, not a reuse.
    assert_eq!(chart.run(first).await, Ok(vec![]));
}

#[tokio::test]
async fn id_in_use() {
    let mut chart = Chart::ready_for_exploration().await;

    // Sessions: a scheduled id, a held id.
    allow(
        &mut chart,
        front_desk(),
        schedule_preparation("prep-2", span(1, 10, 11)),
    )
    .await;
    let message = refuse(
        &mut chart,
        front_desk(),
        schedule_preparation("prep-2", span(2, 10, 11)),
        Rule::IdInUse,
    )
    .await;
    assert!(message.contains("prep-2"), "{message}");
    allow(
        &mut chart,
        front_desk(),
        schedule_preparation("prep-3", span(2, 10, 11)),
    )
    .await;
    refuse(
        &mut chart,
        therapist(),
        schedule_exploration("prep-1", span(3, 10, 13)),
        Rule::IdInUse,
    )
    .await;
    allow(
        &mut chart,
        therapist(),
        schedule_exploration("x-1", span(3, 10, 13)),
    )
    .await;
    refuse(
        &mut chart,
        therapist(),
        schedule_integration("intake-1", span(4, 10, 11), "x-1"),
        Rule::IdInUse,
    )
    .await;
    allow(
        &mut chart,
        therapist(),
        schedule_integration("int-1", span(4, 10, 11), "x-1"),
    )
    .await;

    // Prescriptions.
    refuse(
        &mut chart,
        prescriber(),
        standard_prescription("rx-1"),
        Rule::IdInUse,
    )
    .await;
    allow(&mut chart, prescriber(), standard_prescription("rx-2")).await;
    // rx-1 is superseded but its id stays used.
    refuse(
        &mut chart,
        prescriber(),
        standard_prescription("rx-1"),
        Rule::IdInUse,
    )
    .await;

    // Payments.
    allow(&mut chart, front_desk(), payment("pay-1", 17_500, date(0))).await;
    refuse(
        &mut chart,
        front_desk(),
        payment("pay-1", 5_000, date(0)),
        Rule::IdInUse,
    )
    .await;
    allow(&mut chart, front_desk(), payment("pay-2", 5_000, date(0))).await;
}

#[tokio::test]
async fn session_unknown() {
    let mut chart = Chart::ready_for_exploration().await;
    // Another client's session, known to the practice's schedule, is still
    // unknown to this client's record.
    chart.practice.book(
        therapist().id,
        Booking {
            client: client("client-2"),
            session: sid("c2-s1"),
            span: span(1, 14, 15),
        },
    );
    allow(
        &mut chart,
        front_desk(),
        schedule_preparation("prep-2", span(1, 10, 11)),
    )
    .await;
    chart.on(1);

    for id in ["prep-9", "c2-s1"] {
        let message = refuse(&mut chart, front_desk(), cancel(id), Rule::SessionUnknown).await;
        assert!(message.contains(id), "{message}");
        refuse(&mut chart, front_desk(), no_show(id), Rule::SessionUnknown).await;
        refuse(
            &mut chart,
            front_desk(),
            payment_for("pay-1", 17_500, date(1), id),
            Rule::SessionUnknown,
        )
        .await;
    }

    // Allowed: the same commands naming sessions of this client.
    allow(
        &mut chart,
        front_desk(),
        payment_for("pay-1", 17_500, date(1), "prep-1"),
    )
    .await;
    allow(
        &mut chart,
        front_desk(),
        payment_for("pay-2", 17_500, date(1), "prep-2"),
    )
    .await;
    allow(&mut chart, front_desk(), no_show("prep-2")).await;
}

#[tokio::test]
async fn session_not_open() {
    let mut chart = Chart::ready_for_exploration().await;
    allow(
        &mut chart,
        front_desk(),
        schedule_preparation("prep-2", span(1, 10, 11)),
    )
    .await;
    allow(
        &mut chart,
        front_desk(),
        schedule_preparation("prep-3", span(1, 12, 13)),
    )
    .await;
    allow(
        &mut chart,
        front_desk(),
        schedule_preparation("prep-4", span(1, 14, 15)),
    )
    .await;

    // Cancelling: a scheduled session is allowed; a held one, or one
    // already cancelled, is refused.
    let message = refuse(
        &mut chart,
        front_desk(),
        cancel("prep-1"),
        Rule::SessionNotOpen,
    )
    .await;
    assert!(message.contains("held"), "{message}");
    allow(&mut chart, front_desk(), cancel("prep-2")).await;
    let message = refuse(
        &mut chart,
        front_desk(),
        cancel("prep-2"),
        Rule::SessionNotOpen,
    )
    .await;
    assert!(message.contains("cancelled"), "{message}");

    chart.on(1);
    // Recording: a scheduled session is allowed; a cancelled one refused.
    refuse(
        &mut chart,
        therapist(),
        preparation("prep-2", span(1, 10, 11)),
        Rule::SessionNotOpen,
    )
    .await;
    refuse(
        &mut chart,
        front_desk(),
        no_show("prep-2"),
        Rule::SessionNotOpen,
    )
    .await;
    allow(
        &mut chart,
        therapist(),
        preparation("prep-3", span(1, 12, 13)),
    )
    .await;
    // Now held: neither recorded again, cancelled nor marked no-show.
    refuse(
        &mut chart,
        therapist(),
        preparation("prep-3", span(1, 12, 13)),
        Rule::SessionNotOpen,
    )
    .await;
    refuse(
        &mut chart,
        front_desk(),
        cancel("prep-3"),
        Rule::SessionNotOpen,
    )
    .await;
    refuse(
        &mut chart,
        front_desk(),
        no_show("prep-3"),
        Rule::SessionNotOpen,
    )
    .await;

    // A no-show closes the session too.
    allow(&mut chart, front_desk(), no_show("prep-4")).await;
    let message = refuse(
        &mut chart,
        therapist(),
        preparation("prep-4", span(1, 14, 15)),
        Rule::SessionNotOpen,
    )
    .await;
    assert!(message.contains("no-show"), "{message}");
    refuse(
        &mut chart,
        front_desk(),
        no_show("prep-4"),
        Rule::SessionNotOpen,
    )
    .await;
    refuse(
        &mut chart,
        front_desk(),
        cancel("prep-4"),
        Rule::SessionNotOpen,
    )
    .await;

    // The held intake cannot be recorded over either.
    refuse(
        &mut chart,
        therapist(),
        intake("intake-1", span(0, 9, 10), Suitability::NotSuitable),
        Rule::SessionNotOpen,
    )
    .await;
}

#[tokio::test]
async fn session_kind_mismatch() {
    let mut chart = Chart::ready_for_exploration().await;
    allow(
        &mut chart,
        therapist(),
        schedule_exploration("x-1", span(1, 10, 13)),
    )
    .await;
    allow(
        &mut chart,
        front_desk(),
        schedule_preparation("prep-2", span(2, 10, 11)),
    )
    .await;
    chart.on(2);

    // A preparation recorded on the session scheduled as exploration.
    let message = refuse(
        &mut chart,
        therapist(),
        preparation("x-1", span(1, 10, 13)),
        Rule::SessionKindMismatch,
    )
    .await;
    assert!(
        message.contains("exploration") && message.contains("preparation"),
        "{message}"
    );
    // An exploration recorded on the session scheduled as preparation.
    refuse(
        &mut chart,
        therapist(),
        exploration("prep-2", 2, None, bp(120, 80)),
        Rule::SessionKindMismatch,
    )
    .await;
    // An intake recorded on a held preparation: the kind is checked first.
    refuse(
        &mut chart,
        therapist(),
        intake("prep-1", span(0, 10, 11), Suitability::Suitable),
        Rule::SessionKindMismatch,
    )
    .await;

    // Allowed: each session recorded as the kind it was scheduled as.
    allow(
        &mut chart,
        therapist(),
        exploration("x-1", 1, Some(150), bp(120, 80)),
    )
    .await;
    allow(
        &mut chart,
        therapist(),
        preparation("prep-2", span(2, 10, 11)),
    )
    .await;
}

#[tokio::test]
async fn session_overlap() {
    // Ready: intake-1 held day 0 09:00–10:00, prep-1 held 10:00–11:00.
    let mut chart = Chart::ready_for_exploration().await;
    allow(
        &mut chart,
        front_desk(),
        schedule_preparation("prep-2", span(1, 10, 11)),
    )
    .await;

    // Refused: any overlap with the client's own scheduled session.
    for s in [
        span_m(1, (10, 30), (11, 30)),
        span_m(1, (9, 30), (10, 30)),
        span_m(1, (10, 15), (10, 45)),
        span_m(1, (9, 0), (12, 0)),
        span(1, 10, 11),
    ] {
        let message = refuse(
            &mut chart,
            front_desk(),
            schedule_preparation("prep-3", s),
            Rule::SessionOverlap,
        )
        .await;
        assert!(message.contains("prep-2"), "{message}");
    }
    // ... whatever kind the new session is.
    refuse(
        &mut chart,
        therapist(),
        schedule_exploration("x-1", span(1, 10, 13)),
        Rule::SessionOverlap,
    )
    .await;
    // ... and with a held session, when recording.
    refuse(
        &mut chart,
        therapist(),
        preparation("prep-9", span_m(0, (10, 30), (11, 30))),
        Rule::SessionOverlap,
    )
    .await;

    // Allowed: touching end-to-start, either side.
    allow(
        &mut chart,
        front_desk(),
        schedule_preparation("prep-3", span(1, 11, 12)),
    )
    .await;
    allow(
        &mut chart,
        front_desk(),
        schedule_preparation("prep-4", span(1, 9, 10)),
    )
    .await;
    allow(
        &mut chart,
        therapist(),
        preparation("prep-9", span(0, 11, 12)),
    )
    .await;

    // A cancelled session frees its time.
    allow(&mut chart, front_desk(), cancel("prep-2")).await;
    allow(
        &mut chart,
        front_desk(),
        schedule_preparation("prep-5", span(1, 10, 11)),
    )
    .await;
}

#[tokio::test]
async fn session_not_started() {
    let mut chart = Chart::ready_for_exploration().await;
    allow(
        &mut chart,
        front_desk(),
        schedule_preparation("prep-2", span(1, 10, 11)),
    )
    .await;
    allow(
        &mut chart,
        front_desk(),
        schedule_preparation("prep-3", span(1, 12, 13)),
    )
    .await;

    // Refused: the day before, and one second before the start.
    let message = refuse(
        &mut chart,
        front_desk(),
        no_show("prep-2"),
        Rule::SessionNotStarted,
    )
    .await;
    assert!(message.contains("prep-2"), "{message}");
    chart.now = at(1, 10, 0) - Duration::seconds(1);
    refuse(
        &mut chart,
        front_desk(),
        no_show("prep-2"),
        Rule::SessionNotStarted,
    )
    .await;

    // Allowed: exactly at the start.
    chart.now = at(1, 10, 0);
    allow(&mut chart, front_desk(), no_show("prep-2")).await;
    assert_eq!(
        chart.record.session(&sid("prep-2")).map(|s| s.status),
        Some(SessionStatus::NoShow)
    );
    // Allowed: during and after the session.
    chart.now = at(1, 12, 30);
    allow(&mut chart, therapist(), no_show("prep-3")).await;
}

#[tokio::test]
async fn schedule_therapist_double_booked() {
    let mut chart = Chart::ready_for_exploration().await;
    let book = |chart: &Chart, who: &Actor, client_id: &str, session: &str, span: TimeSpan| {
        chart.practice.book(
            who.id.clone(),
            Booking {
                client: client(client_id),
                session: sid(session),
                span,
            },
        );
    };
    // Another client's sessions with t-rivera.
    book(&chart, &therapist(), "client-2", "c2-s1", span(1, 10, 11));
    book(&chart, &therapist(), "client-2", "c2-s2", span(3, 10, 13));
    book(&chart, &therapist(), "client-3", "c3-s1", span(5, 10, 11));

    // Preparation: an overlapping time with the same therapist is refused.
    for s in [
        span(1, 10, 11),
        span_m(1, (10, 30), (11, 30)),
        span(1, 9, 12),
    ] {
        let message = refuse(
            &mut chart,
            front_desk(),
            schedule_preparation("prep-2", s),
            Rule::TherapistDoubleBooked,
        )
        .await;
        // The refusal does not disclose the other client.
        assert!(
            !message.contains("client-2") && !message.contains("c2-s1"),
            "{message}"
        );
    }
    // Allowed: touching times with the same therapist, or the same time
    // with another therapist.
    allow(
        &mut chart,
        front_desk(),
        schedule_preparation("prep-2", span(1, 11, 12)),
    )
    .await;
    allow(
        &mut chart,
        front_desk(),
        schedule_with(
            CommandBody::SchedulePreparation,
            "prep-3",
            span(1, 10, 11),
            &other_therapist(),
        ),
    )
    .await;

    // Exploration.
    refuse(
        &mut chart,
        therapist(),
        schedule_exploration("x-1", span(3, 10, 13)),
        Rule::TherapistDoubleBooked,
    )
    .await;
    allow(
        &mut chart,
        therapist(),
        schedule_with(
            CommandBody::ScheduleExploration,
            "x-1",
            span(3, 10, 13),
            &other_therapist(),
        ),
    )
    .await;

    // Integration.
    refuse(
        &mut chart,
        therapist(),
        schedule_integration("int-1", span(5, 10, 11), "x-1"),
        Rule::TherapistDoubleBooked,
    )
    .await;
    allow(
        &mut chart,
        therapist(),
        schedule_integration("int-1", span(5, 11, 12), "x-1"),
    )
    .await;

    // This client's own bookings, as the schedule returns them, do not
    // count: here the schedule still shows prep-6, which the record has
    // cancelled, and a new session takes its time.
    allow(
        &mut chart,
        front_desk(),
        schedule_preparation("prep-6", span(6, 10, 11)),
    )
    .await;
    book(&chart, &therapist(), CLIENT, "prep-6", span(6, 10, 11));
    allow(&mut chart, front_desk(), cancel("prep-6")).await;
    allow(
        &mut chart,
        front_desk(),
        schedule_preparation("prep-7", span(6, 10, 11)),
    )
    .await;
    // An own booking overlapping is the client's own overlap, not a double
    // booking.
    book(&chart, &therapist(), CLIENT, "prep-7", span(6, 10, 11));
    refuse(
        &mut chart,
        front_desk(),
        schedule_preparation("prep-8", span_m(6, (10, 30), (11, 30))),
        Rule::SessionOverlap,
    )
    .await;
}

#[tokio::test]
async fn amendment_unknown_entry() {
    // Ready: 6 entries, the last a PreparationRecorded.
    let mut chart = Chart::ready_for_exploration().await;
    assert_eq!(chart.record.last_sequence(), 6);

    for entry in [0, 7, 8, 1_000, u64::MAX] {
        let message = refuse(
            &mut chart,
            therapist(),
            amend(entry),
            Rule::AmendmentUnknownEntry,
        )
        .await;
        assert!(message.contains(&entry.to_string()), "{message}");
    }

    // Allowed: the last existing entry. The original stays as it was.
    let original = chart.events[5].clone();
    assert_eq!(original.type_name(), "PreparationRecorded");
    let before = chart.events.clone();
    let event = allow(&mut chart, therapist(), amend(6)).await;
    let ClientEvent::EntryAmended(e) = &event else {
        panic!("expected EntryAmended, got {}", event.type_name());
    };
    assert_eq!(e.entry, 6);
    assert_eq!(e.entry_type, "PreparationRecorded");
    assert_eq!(e.reason.as_str(), "transcription error");
    assert!(e.corrected_content.as_str().contains("mild nausea"));
    assert_eq!(chart.events[5], original, "the amended entry is unchanged");
    assert_eq!(
        &chart.events[..6],
        &before[..],
        "history is only appended to"
    );
    assert_eq!(chart.events.len(), 7);

    // The amendment is entry 7 now; 8 still does not exist.
    refuse(
        &mut chart,
        therapist(),
        amend(8),
        Rule::AmendmentUnknownEntry,
    )
    .await;
    allow(&mut chart, therapist(), amend(7)).await;
    // The first entry is amendable too.
    let event = allow(&mut chart, front_desk(), amend(1)).await;
    let ClientEvent::EntryAmended(e) = &event else {
        panic!("expected EntryAmended");
    };
    assert_eq!((e.entry, e.entry_type.as_str()), (1, "ClientRegistered"));
    assert_eq!(chart.events[0].type_name(), "ClientRegistered");
    assert_eq!(chart.replay(), chart.record);
}
