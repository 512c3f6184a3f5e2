//! Who may act on a client, decided by the record itself on the state the
//! command is decided on: a therapist's assignment, a prescriber's
//! referral (an explicit act, `ReferClient`), the prescriber's own
//! authorization behind a prescriber-override rule (`AuthorizeOverride`),
//! the staff a command names, and what a refusal may tell a role that may
//! not read clinical records. One test per rule code, each with the allowed
//! case beside the refused one; a refused command writes nothing.

use kapchart_domain::*;
use kapchart_e2e::*;

/// Runs `command`; asserts it is refused by `rule` and wrote nothing.
/// Returns the refusal message.
async fn refused(chart: &mut Chart, command: Command, rule: Rule) -> String {
    let events = chart.events.clone();
    let record = chart.record.clone();
    let message = assert_refused(chart.run(command).await, rule);
    assert_eq!(chart.events, events, "a refused command wrote events");
    assert_eq!(chart.record, record, "a refused command changed the record");
    message
}

/// Issues `body` as `actor`; asserts the refusal by `rule` and that nothing
/// was written.
async fn refuse(chart: &mut Chart, actor: Actor, body: CommandBody, rule: Rule) -> String {
    let command = chart.command(actor, body);
    refused(chart, command, rule).await
}

/// A registration of the client to the therapist, referred to nobody yet.
fn register_unreferred() -> CommandBody {
    let CommandBody::RegisterClient(mut c) = register_client() else {
        unreachable!("register_client builds RegisterClient")
    };
    c.prescriber = None;
    CommandBody::RegisterClient(c)
}

fn refer(to: &Actor) -> CommandBody {
    CommandBody::ReferClient(ReferClient {
        prescriber: to.id.clone(),
        note: Some(text("medical evaluation before KAP, please")),
    })
}

fn user(id: &str) -> UserId {
    UserId::parse(id).expect("valid user id")
}

fn auth_id(id: &str) -> AuthorizationId {
    AuthorizationId::parse(id).expect("valid authorization id")
}

/// RecordExploration of `session` on day `d` with 150 mg and the BP given,
/// overriding the BP rule with authorization `id`.
fn explore_with(
    chart: &mut Chart,
    session: &str,
    d: i64,
    reading: BloodPressure,
    id: &str,
) -> Command {
    let mut command = chart.command(therapist(), exploration(session, d, Some(150), reading));
    command.overrides.push(bp_override(id));
    command
}

// ---- assignment ----

#[tokio::test]
async fn client_not_assigned() {
    // Not registered yet: another therapist's intake is refused exactly as
    // it is once the client is registered to someone else, so a refusal
    // tells nothing about which records exist.
    let mut chart = Chart::new();
    let body = intake("intake-1", span(0, 9, 10), Suitability::Suitable);
    let unknown = refuse(
        &mut chart,
        other_therapist(),
        body.clone(),
        Rule::ClientNotAssigned,
    )
    .await;

    // A therapist registers clients to themselves only.
    let CommandBody::RegisterClient(mut to_other) = register_client() else {
        unreachable!()
    };
    to_other.therapist = other_therapist().id;
    refuse(
        &mut chart,
        therapist(),
        CommandBody::RegisterClient(to_other),
        Rule::ClientNotAssigned,
    )
    .await;
    assert_allowed(chart.exec(therapist(), register_client()).await);

    let assigned_elsewhere = refuse(
        &mut chart,
        other_therapist(),
        body.clone(),
        Rule::ClientNotAssigned,
    )
    .await;
    assert_eq!(unknown, assigned_elsewhere);
    assert_eq!(unknown, Rule::ClientNotAssigned.summary());

    // Every therapist command, scheduling included, is refused to the
    // therapist the client is not assigned to, and allowed to their own.
    for body in [
        consent(date(0)),
        schedule_preparation("prep-1", span(3, 10, 11)),
        outcome(
            OutcomeMeasure::Phq9(Phq9Score::new(12).expect("valid")),
            date(0),
        ),
        discharge(date(0)),
    ] {
        refuse(&mut chart, other_therapist(), body, Rule::ClientNotAssigned).await;
    }
    assert_allowed(chart.exec(therapist(), body).await);
    // The front desk acts on every client.
    assert_allowed(
        chart
            .exec(
                front_desk(),
                schedule_preparation("prep-1", span(3, 10, 11)),
            )
            .await,
    );
}

// ---- referral ----

#[tokio::test]
async fn client_not_referred() {
    let mut chart = Chart::new();
    // Unknown client: refused like any client not referred to the prescriber.
    let evaluation = medical(date(0), Clearance::Cleared);
    let unknown = refuse(
        &mut chart,
        prescriber(),
        evaluation.clone(),
        Rule::ClientNotReferred,
    )
    .await;
    chart.ok(front_desk(), register_unreferred()).await;
    chart.intake_suitable().await;

    // No prescriber refers a client to themselves by evaluating it.
    let unreferred = refuse(
        &mut chart,
        prescriber(),
        evaluation.clone(),
        Rule::ClientNotReferred,
    )
    .await;
    assert_eq!(unknown, unreferred);
    assert_eq!(chart.record.prescriber(), None);

    // The therapist refers the client; then only that prescriber acts.
    let event = chart.ok(therapist(), refer(&prescriber())).await;
    let ClientEvent::ClientReferred(referred) = &event else {
        panic!("expected ClientReferred, got {event:?}")
    };
    assert_eq!(referred.prescriber, prescriber().id);
    assert_eq!(referred.previous, None);
    assert_eq!(referred.decision.actor, therapist());
    assert_eq!(chart.record.prescriber(), Some(&prescriber().id));
    for body in [
        evaluation.clone(),
        standard_prescription("rx-1"),
        adjust_dose(150),
        authorize_bp("auth-1", "x1", 0, None),
        consent(date(0)),
    ] {
        refuse(
            &mut chart,
            other_prescriber(),
            body,
            Rule::ClientNotReferred,
        )
        .await;
    }
    chart.ok(prescriber(), evaluation).await;
    chart.ok(prescriber(), standard_prescription("rx-1")).await;
    assert_eq!(chart.replay(), chart.record);
}

#[tokio::test]
async fn referral_unchanged() {
    let mut chart = Chart::ready_for_exploration().await;
    // Registered with a referral to prescriber(): referring again is refused.
    refuse(
        &mut chart,
        front_desk(),
        refer(&prescriber()),
        Rule::ReferralUnchanged,
    )
    .await;

    // The client's prescriber authorizes x1, then the client is referred
    // to another prescriber: the first loses the record, the second gains
    // it, and the first one's unused authorization lapses.
    chart.on(1);
    chart
        .ok(prescriber(), authorize_bp("auth-1", "x1", 1, None))
        .await;
    let event = chart.ok(front_desk(), refer(&other_prescriber())).await;
    let ClientEvent::ClientReferred(e) = &event else {
        panic!("expected ClientReferred, got {event:?}")
    };
    assert_eq!(e.previous, Some(prescriber().id));
    refuse(
        &mut chart,
        prescriber(),
        adjust_dose(200),
        Rule::ClientNotReferred,
    )
    .await;
    let command = explore_with(&mut chart, "x1", 1, bp(150, 95), "auth-1");
    let message = refused(&mut chart, command, Rule::OverrideNotAuthorized).await;
    assert!(message.contains("no longer referred"), "{message}");

    chart
        .ok(other_prescriber(), authorize_bp("auth-2", "x1", 1, None))
        .await;
    let command = explore_with(&mut chart, "x1", 1, bp(150, 95), "auth-2");
    let event = assert_allowed(chart.run(command).await);
    let applied = &event.decision().overrides[0];
    assert_eq!(applied.authorized_by, other_prescriber().id);
    assert_eq!(applied.authorization, Some(auth_id("auth-2")));
    assert_eq!(chart.replay(), chart.record);
}

// ---- the staff a command names ----

#[tokio::test]
async fn staff_unknown() {
    let mut chart = Chart::new();
    // Registration names an active therapist, and a prescriber if any.
    for (therapist_id, prescriber_id) in [
        ("t-ghost", Some(prescriber().id)),
        (therapist().id.as_str(), Some(user("rx-ghost"))),
        (therapist().id.as_str(), Some(other_therapist().id)),
    ] {
        let CommandBody::RegisterClient(mut c) = register_client() else {
            unreachable!()
        };
        c.therapist = user(therapist_id);
        c.prescriber = prescriber_id;
        let message = refuse(
            &mut chart,
            front_desk(),
            CommandBody::RegisterClient(c),
            Rule::StaffUnknown,
        )
        .await;
        assert!(message.contains("is not an active"), "{message}");
    }
    chart.register().await;
    chart.intake_suitable().await;

    // A booking names an active therapist: not a stranger, not a
    // prescriber, not a disabled account.
    chart.on(1);
    for who in ["t-ghost", "rx-chen"] {
        refuse(
            &mut chart,
            front_desk(),
            CommandBody::SchedulePreparation(ScheduleSession {
                session: sid("prep-1"),
                span: span(3, 10, 11),
                therapist: user(who),
            }),
            Rule::StaffUnknown,
        )
        .await;
    }
    chart.practice.disable(&other_therapist().id);
    refuse(
        &mut chart,
        front_desk(),
        CommandBody::SchedulePreparation(ScheduleSession {
            session: sid("prep-1"),
            span: span(3, 10, 11),
            therapist: other_therapist().id,
        }),
        Rule::StaffUnknown,
    )
    .await;
    assert_allowed(
        chart
            .exec(
                front_desk(),
                schedule_preparation("prep-1", span(3, 10, 11)),
            )
            .await,
    );
    // A referral names an active prescriber.
    refuse(
        &mut chart,
        front_desk(),
        refer(&therapist()),
        Rule::StaffUnknown,
    )
    .await;
    chart.practice.disable(&other_prescriber().id);
    refuse(
        &mut chart,
        front_desk(),
        refer(&other_prescriber()),
        Rule::StaffUnknown,
    )
    .await;
}

// ---- the prescriber's authorization ----

#[tokio::test]
async fn an_authorization_is_the_prescribers_own_act_for_one_session() {
    let mut chart = Chart::ready_for_exploration().await;
    chart
        .ok(front_desk(), schedule_exploration("x1", span(1, 10, 13)))
        .await;
    chart.on(1);

    // Only the client's prescriber authorizes, only prescriber-override
    // rules, for an exploration still to be held, valid from today.
    refuse(
        &mut chart,
        therapist(),
        authorize_bp("auth-1", "x1", 1, None),
        Rule::RoleNotPermitted,
    )
    .await;
    let CommandBody::AuthorizeOverride(mut soft) = authorize_bp("auth-1", "x1", 1, None) else {
        unreachable!()
    };
    soft.rule = Rule::ExplorationTooSoon;
    let result = chart
        .exec(prescriber(), CommandBody::AuthorizeOverride(soft))
        .await;
    assert!(
        matches!(&result, Err(ClientError::Invalid { field, .. }) if *field == "rule"),
        "{result:?}"
    );
    let result = chart
        .exec(prescriber(), authorize_bp("auth-1", "x1", 0, None))
        .await;
    assert!(
        matches!(&result, Err(ClientError::Invalid { field, .. }) if *field == "valid_until"),
        "{result:?}"
    );
    refuse(
        &mut chart,
        prescriber(),
        authorize_bp("auth-1", "prep-1", 1, None),
        Rule::SessionKindMismatch,
    )
    .await;
    chart
        .ok(
            prescriber(),
            authorize_bp("auth-1", "x1", 1, Some(bp(160, 100))),
        )
        .await;
    refuse(
        &mut chart,
        prescriber(),
        authorize_bp("auth-1", "x1", 2, None),
        Rule::IdInUse,
    )
    .await;

    // Above the ceiling the prescriber set: refused.
    let command = explore_with(&mut chart, "x1", 1, bp(165, 95), "auth-1");
    let message = refused(&mut chart, command, Rule::OverrideNotAuthorized).await;
    assert!(message.contains("ceiling"), "{message}");
    // Within it: allowed, and the event names the authorization and the
    // prescriber who gave it.
    let command = explore_with(&mut chart, "x1", 1, bp(150, 95), "auth-1");
    let event = assert_allowed(chart.run(command).await);
    let applied = &event.decision().overrides[0];
    assert_eq!(applied.authorized_by, prescriber().id);
    assert_eq!(applied.authorization, Some(auth_id("auth-1")));
    assert!(
        chart
            .record
            .authorization(&auth_id("auth-1"))
            .expect("kept")
            .used
    );
    // A held session takes no new authorization.
    refuse(
        &mut chart,
        prescriber(),
        authorize_bp("auth-2", "x1", 1, None),
        Rule::SessionNotOpen,
    )
    .await;

    // Used once: the next exploration needs its own.
    chart.on(3);
    assert_allowed(chart.integrate("int-1", "x1").await);
    chart.on(8);
    chart
        .ok(prescriber(), authorize_bp("auth-late", "x2", 8, None))
        .await;
    let command = explore_with(&mut chart, "x2", 8, bp(150, 95), "auth-1");
    let message = refused(&mut chart, command, Rule::OverrideNotAuthorized).await;
    assert!(message.contains("covers session x1"), "{message}");
    // Expired: valid until day 8, the session on day 9.
    chart.on(9);
    let command = explore_with(&mut chart, "x2", 9, bp(150, 95), "auth-late");
    let message = refused(&mut chart, command, Rule::OverrideNotAuthorized).await;
    assert!(message.contains("valid until"), "{message}");
    assert_eq!(chart.replay(), chart.record);
}

// ---- what a refusal tells a role that may not read clinical records ----

#[tokio::test]
async fn refusals_to_the_front_desk_name_the_rule_and_nothing_of_the_record() {
    let mut chart = Chart::ready_for_exploration().await;
    chart.on(400);
    // The prescription (rx-1, days -10 to 360) no longer covers the date.
    let body = schedule_exploration("x1", span(401, 10, 13));
    let to_therapist = assert_refused(
        chart.exec(therapist(), body.clone()).await,
        Rule::PrescriptionNoneActive,
    );
    assert!(to_therapist.contains("rx-1"), "{to_therapist}");
    let to_front_desk = refuse(&mut chart, front_desk(), body, Rule::PrescriptionNoneActive).await;
    assert_eq!(to_front_desk, Rule::PrescriptionNoneActive.summary());
    assert!(!to_front_desk.contains("rx-1"), "{to_front_desk}");
    assert!(
        !to_front_desk.contains("20"),
        "a date leaked: {to_front_desk}"
    );

    // Amending the intake (a clinical entry, sequence 2): refused without
    // naming what the entry is.
    let amend_intake = amend(2);
    let message = refuse(
        &mut chart,
        front_desk(),
        amend_intake,
        Rule::RoleNotPermitted,
    )
    .await;
    assert!(!message.contains("Intake"), "{message}");
    assert!(!message.contains("therapist"), "{message}");
    // Bookings are the front desk's own: their refusals stay explicit.
    let message = refuse(
        &mut chart,
        front_desk(),
        cancel("prep-9"),
        Rule::SessionUnknown,
    )
    .await;
    assert!(message.contains("prep-9"), "{message}");
    // Nor how long the record is.
    let message = refuse(
        &mut chart,
        front_desk(),
        amend(999),
        Rule::AmendmentUnknownEntry,
    )
    .await;
    assert!(!message.contains(|c: char| c.is_ascii_digit()), "{message}");
    // What the front desk writes, it may amend: the registration.
    assert_allowed(chart.exec(front_desk(), amend(1)).await);

    // Every summary is free of any record's facts: no digits, no ids.
    for rule in Rule::ALL {
        let summary = rule.summary();
        assert!(!summary.is_empty());
        assert!(
            !summary.contains(|c: char| c.is_ascii_digit()),
            "{rule}: {summary}"
        );
    }
}
