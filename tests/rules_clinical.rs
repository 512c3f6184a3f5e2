//! The clinical rules of the record, one test per rule code.
//!
//! Each test shows the boundary: the closest legitimate command is allowed,
//! and the command just past it is refused with the rule's stable code,
//! leaving the history and the aggregate exactly as they were.

use chrono::Duration;
use kapchart_domain::*;
use kapchart_e2e::*;

// ---- local helpers ----

/// The state a refused command must leave untouched.
struct Snapshot {
    events: usize,
    record: ClientRecord,
}

impl Snapshot {
    fn of(chart: &Chart) -> Self {
        Self {
            events: chart.events.len(),
            record: chart.record.clone(),
        }
    }

    #[track_caller]
    fn assert_unchanged(&self, chart: &Chart) {
        assert_eq!(
            chart.events.len(),
            self.events,
            "a refused command wrote events"
        );
        assert_eq!(
            chart.record, self.record,
            "a refused command changed the record"
        );
        assert_eq!(
            chart.replay(),
            chart.record,
            "the record differs from a replay of its events"
        );
    }
}

/// Asserts `$result` (evaluated after a snapshot of `$chart`) is a refusal
/// by `$rule` that wrote nothing; yields the refusal message.
macro_rules! refused {
    ($chart:ident, $result:expr, $rule:expr) => {{
        let before = Snapshot::of(&$chart);
        let message = assert_refused($result, $rule);
        before.assert_unchanged(&$chart);
        message
    }};
}

/// Registered, intake suitable, cleared, prescribed with `rx`, consented and
/// one preparation held ("prep-1", 10:00–11:00), all on day 0.
async fn ready_with(settings: PracticeSettings, rx: CommandBody) -> Chart {
    let mut chart = Chart::with_settings(settings);
    chart.on(0);
    chart.register().await;
    chart.intake_suitable().await;
    chart.medically_cleared().await;
    chart.ok(prescriber(), rx).await;
    chart.consented().await;
    chart.prepared("prep-1").await;
    chart
}

/// Which of the exploration preconditions to set up (intake, clearance are
/// always there).
struct Setup {
    prescription: bool,
    consent: bool,
    preparation: bool,
}

async fn chart_with(setup: Setup) -> Chart {
    let mut chart = Chart::new();
    chart.on(0);
    chart.register().await;
    chart.intake_suitable().await;
    chart.medically_cleared().await;
    if setup.prescription {
        chart.prescribed().await;
    }
    if setup.consent {
        chart.consented().await;
    }
    if setup.preparation {
        chart.prepared("prep-1").await;
    }
    chart
}

/// A dosed exploration held and recorded on day `d` (10:00–13:00, BP 120/80).
async fn dosed(chart: &mut Chart, d: i64, session: &str, dose: i64) -> ClientEvent {
    chart.on(d);
    chart
        .ok(
            therapist(),
            exploration(session, d, Some(dose), bp(120, 80)),
        )
        .await
}

/// An integration of `of` held and recorded on day `d` (10:00–11:00).
async fn integrated(chart: &mut Chart, d: i64, session: &str, of: &str) -> ClientEvent {
    chart.on(d);
    chart
        .ok(therapist(), integration(session, span(d, 10, 11), of))
        .await
}

/// A RecordExploration command by the therapist, now, overriding the BP
/// rule with a reason and referencing the given authorization.
fn bp_override_command(
    chart: &mut Chart,
    body: CommandBody,
    authorization: Option<&str>,
) -> Command {
    let mut command = chart.command(therapist(), body);
    command.overrides.push(Override {
        rule: Rule::ExplorationBloodPressureAboveThreshold,
        reason: text("prescriber reviewed by phone; recheck at 15 min"),
        authorization: authorization.map(|a| AuthorizationId::parse(a).expect("valid id")),
    });
    command
}

/// The single override an event's decision carries.
#[track_caller]
fn sole_override(event: &ClientEvent) -> &AppliedOverride {
    let overrides = &event.decision().overrides;
    assert_eq!(overrides.len(), 1, "expected one override: {overrides:?}");
    &overrides[0]
}

fn session_of(event: &ClientEvent) -> &SessionId {
    match event {
        ClientEvent::SessionScheduled(e) => &e.session,
        ClientEvent::ExplorationRecorded(e) => &e.session,
        ClientEvent::IntegrationRecorded(e) => &e.session,
        other => panic!("no session on {}", other.type_name()),
    }
}

fn charge_of(event: &ClientEvent) -> &Charge {
    event.charge().expect("event carries a charge")
}

fn external(route: Route, d: i64) -> CommandBody {
    CommandBody::RecordExternalTreatment(RecordExternalTreatment {
        treated_on: date(d),
        provider: text("Affiliate Infusion Center"),
        route,
        dose: Some(mg(35)),
        notes: text("series at affiliate"),
    })
}

// ---- preparation and prescription ----

#[tokio::test]
async fn preparation_intake_not_suitable() {
    for finding in [Suitability::NotSuitable, Suitability::Suitable] {
        let mut chart = Chart::new();
        chart.on(0);
        chart.register().await;
        chart
            .ok(therapist(), intake("intake-1", span(0, 9, 10), finding))
            .await;
        chart.on(1);
        let schedule = schedule_preparation("prep-2", span(2, 10, 11));
        let record = preparation("prep-1", span(1, 10, 11));
        if finding == Suitability::Suitable {
            assert_allowed(chart.exec(therapist(), schedule).await);
            assert_allowed(chart.exec(therapist(), record).await);
            assert_eq!(chart.record.preparations_held(), 1);
        } else {
            refused!(
                chart,
                chart.exec(front_desk(), schedule).await,
                Rule::PreparationIntakeNotSuitable
            );
            refused!(
                chart,
                chart.exec(therapist(), record).await,
                Rule::PreparationIntakeNotSuitable
            );
        }
    }

    // The latest intake decides: a re-assessment finding the client not
    // suitable stops further preparation.
    let mut chart = Chart::ready_for_exploration().await;
    chart.on(1);
    chart
        .ok(
            therapist(),
            intake("intake-2", span(1, 9, 10), Suitability::NotSuitable),
        )
        .await;
    refused!(
        chart,
        chart
            .exec(therapist(), preparation("prep-2", span(1, 10, 11)))
            .await,
        Rule::PreparationIntakeNotSuitable
    );
}

#[tokio::test]
async fn prescription_medical_not_cleared() {
    // No evaluation, an evaluation that did not clear, one that cleared.
    for finding in [None, Some(Clearance::NotCleared), Some(Clearance::Cleared)] {
        let mut chart = Chart::new();
        chart.on(0);
        chart.register().await;
        chart.intake_suitable().await;
        if let Some(finding) = finding {
            chart.ok(prescriber(), medical(date(0), finding)).await;
        }
        let body = standard_prescription("rx-1");
        if finding == Some(Clearance::Cleared) {
            let event = assert_allowed(chart.exec(prescriber(), body).await);
            assert!(matches!(event, ClientEvent::PrescriptionIssued(_)));
            assert!(chart.record.prescription().is_some());
        } else {
            refused!(
                chart,
                chart.exec(prescriber(), body).await,
                Rule::PrescriptionMedicalNotCleared
            );
            assert!(chart.record.prescription().is_none());
        }
    }

    // A later evaluation that does not clear stops new prescriptions.
    let mut chart = Chart::ready_for_exploration().await;
    chart.on(1);
    chart
        .ok(prescriber(), medical(date(1), Clearance::NotCleared))
        .await;
    refused!(
        chart,
        chart
            .exec(prescriber(), standard_prescription("rx-2"))
            .await,
        Rule::PrescriptionMedicalNotCleared
    );
}

#[tokio::test]
async fn prescription_none_active() {
    // No prescription at all: exploration, scheduling and AdjustDose refused.
    let mut chart = chart_with(Setup {
        prescription: false,
        consent: true,
        preparation: true,
    })
    .await;
    chart.on(1);
    refused!(
        chart,
        chart
            .exec(therapist(), exploration("x1", 1, Some(150), bp(120, 80)))
            .await,
        Rule::PrescriptionNoneActive
    );
    refused!(
        chart,
        chart
            .exec(therapist(), schedule_exploration("x1", span(8, 10, 13)))
            .await,
        Rule::PrescriptionNoneActive
    );
    refused!(
        chart,
        chart.exec(prescriber(), adjust_dose(150)).await,
        Rule::PrescriptionNoneActive
    );
    // Once prescribed, the same commands are allowed.
    chart.prescribed().await;
    assert_allowed(chart.exec(prescriber(), adjust_dose(150)).await);
    assert_allowed(
        chart
            .exec(therapist(), exploration("x1", 1, Some(150), bp(120, 80)))
            .await,
    );

    // Outside the prescription's dates (valid days 3 to 20, inclusive).
    let rx = prescription("rx-1", 3, 20, 100, 300, 150, 50, 8);
    let mut chart = ready_with(PracticeSettings::standard(), rx).await;
    chart.on(3);
    refused!(
        chart,
        chart
            .exec(therapist(), exploration("x1", 2, Some(150), bp(120, 80)))
            .await,
        Rule::PrescriptionNoneActive
    );
    assert_allowed(
        chart
            .exec(therapist(), exploration("x1", 3, Some(150), bp(120, 80)))
            .await,
    );
    integrated(&mut chart, 5, "int-1", "x1").await;
    chart.on(21);
    refused!(
        chart,
        chart
            .exec(therapist(), exploration("x2", 21, Some(150), bp(120, 80)))
            .await,
        Rule::PrescriptionNoneActive
    );
    refused!(
        chart,
        chart
            .exec(therapist(), schedule_exploration("x3", span(28, 10, 13)))
            .await,
        Rule::PrescriptionNoneActive
    );
    // Held on its last valid day, recorded the day after: covered.
    assert_allowed(
        chart
            .exec(therapist(), exploration("x2", 20, Some(150), bp(120, 80)))
            .await,
    );

    // AdjustDose on the prescription's last day, and the day after.
    let rx = prescription("rx-1", -10, 20, 100, 300, 150, 50, 8);
    let mut chart = ready_with(PracticeSettings::standard(), rx).await;
    chart.on(20);
    assert_allowed(chart.exec(prescriber(), adjust_dose(200)).await);
    chart.on(21);
    // 250 is a legal step from 200: only the expiry refuses it.
    refused!(
        chart,
        chart.exec(prescriber(), adjust_dose(250)).await,
        Rule::PrescriptionNoneActive
    );
}

// ---- exploration preconditions ----

#[tokio::test]
async fn exploration_intake_not_suitable() {
    for finding in [Suitability::NotSuitable, Suitability::Suitable] {
        let mut chart = Chart::ready_for_exploration().await;
        chart.on(1);
        // A re-assessment on day 1; the latest finding decides.
        chart
            .ok(therapist(), intake("intake-2", span(1, 8, 9), finding))
            .await;
        let schedule = schedule_exploration("x2", span(8, 10, 13));
        let record = exploration("x1", 1, Some(150), bp(120, 80));
        if finding == Suitability::Suitable {
            assert_allowed(chart.exec(therapist(), record).await);
            assert_allowed(chart.exec(therapist(), schedule).await);
        } else {
            refused!(
                chart,
                chart.exec(therapist(), record).await,
                Rule::ExplorationIntakeNotSuitable
            );
            refused!(
                chart,
                chart.exec(therapist(), schedule).await,
                Rule::ExplorationIntakeNotSuitable
            );
        }
    }
}

#[tokio::test]
async fn exploration_medical_not_cleared() {
    for finding in [Clearance::NotCleared, Clearance::Cleared] {
        let mut chart = Chart::ready_for_exploration().await;
        chart.on(1);
        // A re-evaluation on day 1; the latest finding decides, even with
        // a prescription still on file.
        chart.ok(prescriber(), medical(date(1), finding)).await;
        assert!(chart.record.prescription().is_some());
        let schedule = schedule_exploration("x2", span(8, 10, 13));
        let record = exploration("x1", 1, Some(150), bp(120, 80));
        if finding == Clearance::Cleared {
            assert_allowed(chart.exec(therapist(), record).await);
            assert_allowed(chart.exec(front_desk(), schedule).await);
        } else {
            refused!(
                chart,
                chart.exec(therapist(), record).await,
                Rule::ExplorationMedicalNotCleared
            );
            refused!(
                chart,
                chart.exec(front_desk(), schedule).await,
                Rule::ExplorationMedicalNotCleared
            );
        }
    }
}

#[tokio::test]
async fn exploration_no_consent() {
    let mut chart = chart_with(Setup {
        prescription: true,
        consent: false,
        preparation: true,
    })
    .await;
    chart.on(1);
    refused!(
        chart,
        chart
            .exec(therapist(), exploration("x1", 1, Some(150), bp(120, 80)))
            .await,
        Rule::ExplorationNoConsent
    );
    refused!(
        chart,
        chart
            .exec(therapist(), schedule_exploration("x2", span(8, 10, 13)))
            .await,
        Rule::ExplorationNoConsent
    );
    chart.consented().await;
    assert_allowed(
        chart
            .exec(therapist(), exploration("x1", 1, Some(150), bp(120, 80)))
            .await,
    );
    assert_allowed(
        chart
            .exec(therapist(), schedule_exploration("x2", span(8, 10, 13)))
            .await,
    );
}

#[tokio::test]
async fn exploration_no_preparation() {
    let mut chart = chart_with(Setup {
        prescription: true,
        consent: true,
        preparation: false,
    })
    .await;
    // A preparation scheduled but not yet held does not count.
    assert_allowed(
        chart
            .exec(therapist(), schedule_preparation("prep-1", span(1, 8, 9)))
            .await,
    );
    chart.on(1);
    refused!(
        chart,
        chart
            .exec(therapist(), exploration("x1", 1, Some(150), bp(120, 80)))
            .await,
        Rule::ExplorationNoPreparation
    );
    refused!(
        chart,
        chart
            .exec(therapist(), schedule_exploration("x2", span(8, 10, 13)))
            .await,
        Rule::ExplorationNoPreparation
    );
    // Once it is held, the same commands are allowed.
    assert_allowed(
        chart
            .exec(therapist(), preparation("prep-1", span(1, 8, 9)))
            .await,
    );
    assert_allowed(
        chart
            .exec(therapist(), exploration("x1", 1, Some(150), bp(120, 80)))
            .await,
    );
    assert_allowed(
        chart
            .exec(therapist(), schedule_exploration("x2", span(8, 10, 13)))
            .await,
    );
}

#[tokio::test]
async fn exploration_no_sessions_left() {
    // Scheduling counts explorations already scheduled: 2 authorized.
    let rx = prescription("rx-1", -10, 360, 100, 300, 150, 50, 2);
    let mut chart = ready_with(PracticeSettings::standard(), rx).await;
    assert_allowed(
        chart
            .exec(therapist(), schedule_exploration("x1", span(7, 10, 13)))
            .await,
    );
    assert_allowed(
        chart
            .exec(therapist(), schedule_exploration("x2", span(14, 10, 13)))
            .await,
    );
    refused!(
        chart,
        chart
            .exec(therapist(), schedule_exploration("x3", span(21, 10, 13)))
            .await,
        Rule::ExplorationNoSessionsLeft
    );
    // A cancellation frees the slot.
    assert_allowed(chart.exec(therapist(), cancel("x2")).await);
    assert_allowed(
        chart
            .exec(therapist(), schedule_exploration("x3", span(21, 10, 13)))
            .await,
    );

    // Recording: 1 authorized, used by the first dosed exploration.
    let rx = prescription("rx-1", -10, 360, 100, 300, 150, 50, 1);
    let mut chart = ready_with(PracticeSettings::standard(), rx).await;
    dosed(&mut chart, 1, "x1", 150).await;
    integrated(&mut chart, 3, "int-1", "x1").await;
    assert_eq!(chart.record.prescription().unwrap().used, 1);
    chart.on(8);
    refused!(
        chart,
        chart
            .exec(therapist(), exploration("x2", 8, Some(150), bp(120, 80)))
            .await,
        Rule::ExplorationNoSessionsLeft
    );
    refused!(
        chart,
        chart
            .exec(therapist(), schedule_exploration("x3", span(15, 10, 13)))
            .await,
        Rule::ExplorationNoSessionsLeft
    );
    // A new prescription authorizes more.
    chart.ok(prescriber(), standard_prescription("rx-2")).await;
    let event = assert_allowed(
        chart
            .exec(therapist(), exploration("x2", 8, Some(150), bp(120, 80)))
            .await,
    );
    let ClientEvent::ExplorationRecorded(e) = &event else {
        panic!("expected ExplorationRecorded, got {}", event.type_name());
    };
    assert_eq!(e.prescription.as_ref().map(|p| p.as_str()), Some("rx-2"));
}

#[tokio::test]
async fn exploration_previous_not_integrated() {
    let mut chart = Chart::ready_for_exploration().await;
    dosed(&mut chart, 1, "x1", 150).await;
    chart.on(8);
    let next = exploration("x2", 8, Some(150), bp(120, 80));
    refused!(
        chart,
        chart.exec(therapist(), next.clone()).await,
        Rule::ExplorationPreviousNotIntegrated
    );
    // The integration, held on day 3 and recorded late on day 8, is the only
    // difference: the same exploration is then allowed.
    assert_allowed(
        chart
            .exec(therapist(), integration("int-1", span(3, 10, 11), "x1"))
            .await,
    );
    assert_allowed(chart.exec(therapist(), next).await);
    assert_eq!(chart.record.dosed_explorations(), 2);
}

// ---- blood pressure: a prescriber-override rule ----

#[tokio::test]
async fn exploration_bp_above_threshold() {
    let mut chart = Chart::ready_for_exploration().await;
    chart.on(1);
    // Exactly at the threshold 140/90 is allowed; one above either number is not.
    for (s, d) in [(141, 90), (140, 91)] {
        let message = refused!(
            chart,
            chart
                .exec(therapist(), exploration("x1", 1, Some(150), bp(s, d)))
                .await,
            Rule::ExplorationBloodPressureAboveThreshold
        );
        assert!(message.contains(&format!("{s}/{d}")), "{message}");
    }
    let event = assert_allowed(
        chart
            .exec(therapist(), exploration("x1", 1, Some(150), bp(140, 90)))
            .await,
    );
    assert!(event.decision().overrides.is_empty());
    integrated(&mut chart, 3, "int-1", "x1").await;

    // The client's prescriber authorizes session x2 with their own
    // credential; the therapist's override references that entry.
    chart.on(8);
    assert_allowed(
        chart
            .exec(prescriber(), authorize_bp("auth-1", "x2", 8, None))
            .await,
    );
    let body = exploration("x2", 8, Some(150), bp(141, 90));
    let command = bp_override_command(&mut chart, body.clone(), Some("auth-1"));
    let event = assert_allowed(chart.run(command).await);
    let applied = sole_override(&event);
    assert_eq!(applied.rule, Rule::ExplorationBloodPressureAboveThreshold);
    assert_eq!(
        applied.reason.as_str(),
        "prescriber reviewed by phone; recheck at 15 min"
    );
    assert_eq!(applied.authorized_by, prescriber().id);
    assert_eq!(
        applied.authorization.as_ref().map(|a| a.as_str()),
        Some("auth-1")
    );
    assert!(applied.finding.contains("141/90"), "{}", applied.finding);
    assert_eq!(event.decision().actor, therapist());
    assert!(
        chart
            .record
            .authorization(&AuthorizationId::parse("auth-1").unwrap())
            .unwrap()
            .used
    );
    assert_eq!(chart.replay(), chart.record);

    // Only the therapist records explorations: a prescriber cannot issue
    // RecordExploration at all (role table in the brief).
    integrated(&mut chart, 10, "int-2", "x2").await;
    chart.on(15);
    let command = chart.command(prescriber(), exploration("x3", 15, Some(150), bp(141, 90)));
    refused!(chart, chart.run(command).await, Rule::RoleNotPermitted);
}

#[tokio::test]
async fn override_not_authorized() {
    let mut chart = Chart::ready_for_exploration().await;
    chart.on(1);
    let body = exploration("x1", 1, Some(150), bp(141, 90));
    // No authorization referenced, or one that does not exist: refused,
    // whoever the request says authorized it.
    for authorization in [None, Some("auth-nope")] {
        let command = bp_override_command(&mut chart, body.clone(), authorization);
        refused!(chart, chart.run(command).await, Rule::OverrideNotAuthorized);
    }
    // A plain soft-stop style override carries no authorization either.
    refused!(
        chart,
        chart
            .exec_overriding(
                therapist(),
                body.clone(),
                &[Rule::ExplorationBloodPressureAboveThreshold]
            )
            .await,
        Rule::OverrideNotAuthorized
    );
    // Another session's authorization does not cover this one.
    assert_allowed(
        chart
            .exec(prescriber(), authorize_bp("auth-other", "x9", 1, None))
            .await,
    );
    let command = bp_override_command(&mut chart, body.clone(), Some("auth-other"));
    refused!(chart, chart.run(command).await, Rule::OverrideNotAuthorized);
    // Authorized for x1 by the client's prescriber: allowed.
    assert_allowed(
        chart
            .exec(prescriber(), authorize_bp("auth-1", "x1", 1, None))
            .await,
    );
    let command = bp_override_command(&mut chart, body, Some("auth-1"));
    let event = assert_allowed(chart.run(command).await);
    assert_eq!(sole_override(&event).authorized_by, prescriber().id);
}

// ---- spacing and protocol maximum: soft stops ----

#[tokio::test]
async fn exploration_too_soon() {
    // ScheduleExploration, against recorded and scheduled explorations.
    let mut chart = Chart::ready_for_exploration().await;
    dosed(&mut chart, 1, "x1", 150).await;
    integrated(&mut chart, 3, "int-1", "x1").await;
    refused!(
        chart,
        chart
            .exec(therapist(), schedule_exploration("x2", span(7, 10, 13)))
            .await,
        Rule::ExplorationTooSoon
    );
    let event = assert_allowed(
        chart
            .exec(therapist(), schedule_exploration("x2", span(8, 10, 13)))
            .await,
    );
    assert!(event.decision().overrides.is_empty());
    // Six days after the scheduled x2: refused, then allowed with a reason.
    let early = schedule_exploration("x3", span(14, 10, 13));
    refused!(
        chart,
        chart.exec(therapist(), early.clone()).await,
        Rule::ExplorationTooSoon
    );
    let event = assert_allowed(
        chart
            .exec_overriding(therapist(), early, &[Rule::ExplorationTooSoon])
            .await,
    );
    let applied = sole_override(&event);
    assert_eq!(applied.rule, Rule::ExplorationTooSoon);
    assert_eq!(applied.reason.as_str(), "clinical judgement, see note");
    assert_eq!(applied.authorized_by, therapist().id);
    assert!(!applied.finding.is_empty());

    // RecordExploration: 7 days after the previous dose allowed, 6 refused.
    let mut chart = Chart::ready_for_exploration().await;
    dosed(&mut chart, 1, "x1", 150).await;
    integrated(&mut chart, 3, "int-1", "x1").await;
    chart.on(8);
    refused!(
        chart,
        chart
            .exec(therapist(), exploration("x2", 7, Some(150), bp(120, 80)))
            .await,
        Rule::ExplorationTooSoon
    );
    let event = assert_allowed(
        chart
            .exec(therapist(), exploration("x2", 8, Some(150), bp(120, 80)))
            .await,
    );
    assert!(event.decision().overrides.is_empty());
    integrated(&mut chart, 10, "int-2", "x2").await;
    chart.on(14);
    let early = exploration("x3", 14, Some(150), bp(120, 80));
    refused!(
        chart,
        chart.exec(therapist(), early.clone()).await,
        Rule::ExplorationTooSoon
    );
    let event = assert_allowed(
        chart
            .exec_overriding(therapist(), early, &[Rule::ExplorationTooSoon])
            .await,
    );
    let applied = sole_override(&event);
    assert_eq!(applied.rule, Rule::ExplorationTooSoon);
    assert_eq!(applied.reason.as_str(), "clinical judgement, see note");
    assert_eq!(applied.authorized_by, therapist().id);
    assert_eq!(chart.replay(), chart.record);
}

#[tokio::test]
async fn exploration_beyond_protocol_maximum() {
    let policy = Policy {
        version: 4,
        max_explorations: 2,
        ..Policy::standard()
    };
    let settings =
        PracticeSettings::new(vec![policy], vec![FeeSchedule::standard()]).expect("valid settings");
    let mut chart = ready_with(settings, standard_prescription("rx-1")).await;
    dosed(&mut chart, 1, "x1", 150).await;
    integrated(&mut chart, 3, "int-1", "x1").await;

    // Scheduling counts recorded and scheduled: 1 + 0 < 2, 1 + 1 = 2.
    assert_allowed(
        chart
            .exec(therapist(), schedule_exploration("x2", span(8, 10, 13)))
            .await,
    );
    let third = schedule_exploration("x3", span(15, 10, 13));
    refused!(
        chart,
        chart.exec(therapist(), third.clone()).await,
        Rule::ExplorationBeyondProtocolMaximum
    );
    let event = assert_allowed(
        chart
            .exec_overriding(
                therapist(),
                third,
                &[Rule::ExplorationBeyondProtocolMaximum],
            )
            .await,
    );
    assert_eq!(
        sole_override(&event).rule,
        Rule::ExplorationBeyondProtocolMaximum
    );
    assert_eq!(event.decision().policy_version, 4);

    // Recording: the second dosed exploration is within the maximum, the
    // third is beyond it.
    let event = dosed(&mut chart, 8, "x2", 150).await;
    assert!(event.decision().overrides.is_empty());
    integrated(&mut chart, 10, "int-2", "x2").await;
    chart.on(15);
    let third = exploration("x3", 15, Some(150), bp(120, 80));
    refused!(
        chart,
        chart.exec(therapist(), third.clone()).await,
        Rule::ExplorationBeyondProtocolMaximum
    );
    let event = assert_allowed(
        chart
            .exec_overriding(
                therapist(),
                third,
                &[Rule::ExplorationBeyondProtocolMaximum],
            )
            .await,
    );
    let applied = sole_override(&event);
    assert_eq!(applied.rule, Rule::ExplorationBeyondProtocolMaximum);
    assert_eq!(applied.reason.as_str(), "clinical judgement, see note");
    assert_eq!(applied.authorized_by, therapist().id);
    assert_eq!(event.decision().policy_version, 4);
    assert_eq!(chart.record.dosed_explorations(), 3);
    // Every decision of this practice names its only policy version.
    assert!(
        chart
            .events
            .iter()
            .all(|e| e.decision().policy_version == 4)
    );
}

// ---- doses ----

#[tokio::test]
async fn dose_route_not_in_practice() {
    let mut chart = Chart::ready_for_exploration().await;
    chart.on(1);
    for route in [Route::Intravenous, Route::Intramuscular] {
        refused!(
            chart,
            chart
                .exec(
                    therapist(),
                    exploration_with("x1", 1, Some((150, route)), bp(120, 80))
                )
                .await,
            Rule::DoseRouteNotInPractice
        );
    }
    assert_allowed(
        chart
            .exec(
                therapist(),
                exploration_with("x1", 1, Some((150, Route::Sublingual)), bp(120, 80)),
            )
            .await,
    );
    // IV and IM at an affiliate are recorded as external treatment, which
    // is not an in-practice dose: the prescription is untouched.
    let rx_before = chart.record.prescription().cloned();
    for route in [Route::Intravenous, Route::Intramuscular] {
        let event = assert_allowed(chart.exec(therapist(), external(route, 1)).await);
        assert!(matches!(event, ClientEvent::ExternalTreatmentRecorded(_)));
    }
    assert_allowed(chart.exec(prescriber(), external_treatment(date(1))).await);
    assert_eq!(chart.record.prescription().cloned(), rx_before);
    assert_eq!(chart.record.dosed_explorations(), 1);
}

#[tokio::test]
async fn dose_outside_range() {
    // Range 100–300 with a wide step, so only the range is in play.
    let wide = || prescription("rx-1", -10, 360, 100, 300, 150, 250, 8);

    // AdjustDose.
    let mut chart = ready_with(PracticeSettings::standard(), wide()).await;
    for dose in [301, 99] {
        refused!(
            chart,
            chart.exec(prescriber(), adjust_dose(dose)).await,
            Rule::DoseOutsideRange
        );
    }
    assert_allowed(chart.exec(prescriber(), adjust_dose(300)).await);
    assert_allowed(chart.exec(prescriber(), adjust_dose(100)).await);

    // RecordExploration.
    let mut chart = ready_with(PracticeSettings::standard(), wide()).await;
    chart.on(1);
    for dose in [301, 99] {
        refused!(
            chart,
            chart
                .exec(therapist(), exploration("x1", 1, Some(dose), bp(120, 80)))
                .await,
            Rule::DoseOutsideRange
        );
    }
    assert_allowed(
        chart
            .exec(therapist(), exploration("x1", 1, Some(300), bp(120, 80)))
            .await,
    );
    integrated(&mut chart, 3, "int-1", "x1").await;
    chart.on(8);
    refused!(
        chart,
        chart
            .exec(therapist(), exploration("x2", 8, Some(99), bp(120, 80)))
            .await,
        Rule::DoseOutsideRange
    );
    assert_allowed(
        chart
            .exec(therapist(), exploration("x2", 8, Some(100), bp(120, 80)))
            .await,
    );
}

#[tokio::test]
async fn dose_step_too_large() {
    // Standard prescription: step 50, ordered 150.

    // AdjustDose, from the ordered dose while nothing has been given.
    let mut chart = Chart::ready_for_exploration().await;
    refused!(
        chart,
        chart.exec(prescriber(), adjust_dose(201)).await,
        Rule::DoseStepTooLarge
    );
    assert_allowed(chart.exec(prescriber(), adjust_dose(200)).await);
    refused!(
        chart,
        chart.exec(prescriber(), adjust_dose(149)).await,
        Rule::DoseStepTooLarge
    );
    assert_allowed(chart.exec(prescriber(), adjust_dose(150)).await);

    // RecordExploration, from the ordered dose, then from the last given.
    let mut chart = Chart::ready_for_exploration().await;
    chart.on(1);
    refused!(
        chart,
        chart
            .exec(therapist(), exploration("x1", 1, Some(201), bp(120, 80)))
            .await,
        Rule::DoseStepTooLarge
    );
    assert_allowed(
        chart
            .exec(therapist(), exploration("x1", 1, Some(200), bp(120, 80)))
            .await,
    );
    integrated(&mut chart, 3, "int-1", "x1").await;
    // The step is from the last dose given (200), not from a later order.
    assert_allowed(chart.exec(prescriber(), adjust_dose(250)).await);
    refused!(
        chart,
        chart.exec(prescriber(), adjust_dose(251)).await,
        Rule::DoseStepTooLarge
    );
    chart.on(8);
    for dose in [251, 149] {
        refused!(
            chart,
            chart
                .exec(therapist(), exploration("x2", 8, Some(dose), bp(120, 80)))
                .await,
            Rule::DoseStepTooLarge
        );
    }
    // A hard stop has no override: the reason is ignored.
    refused!(
        chart,
        chart
            .exec_overriding(
                therapist(),
                exploration("x2", 8, Some(251), bp(120, 80)),
                &[Rule::DoseStepTooLarge]
            )
            .await,
        Rule::DoseStepTooLarge
    );
    assert_allowed(
        chart
            .exec(therapist(), exploration("x2", 8, Some(250), bp(120, 80)))
            .await,
    );
}

// ---- integration and ongoing care ----

#[tokio::test]
async fn integration_unknown_exploration() {
    let mut chart = Chart::ready_for_exploration().await;
    dosed(&mut chart, 1, "x1", 150).await;
    // x2 is scheduled but not yet held.
    assert_allowed(
        chart
            .exec(therapist(), schedule_exploration("x2", span(8, 10, 13)))
            .await,
    );
    chart.on(3);
    for of in ["x-none", "prep-1", "x2"] {
        refused!(
            chart,
            chart
                .exec(therapist(), integration("int-1", span(3, 10, 11), of))
                .await,
            Rule::IntegrationUnknownExploration
        );
    }
    for of in ["x-none", "prep-1"] {
        refused!(
            chart,
            chart
                .exec(
                    therapist(),
                    schedule_integration("int-2", span(9, 10, 11), of)
                )
                .await,
            Rule::IntegrationUnknownExploration
        );
    }
    // A scheduled exploration can have its integration booked ahead.
    assert_allowed(
        chart
            .exec(
                therapist(),
                schedule_integration("int-2", span(9, 10, 11), "x2"),
            )
            .await,
    );
    let event = assert_allowed(
        chart
            .exec(therapist(), integration("int-1", span(3, 10, 11), "x1"))
            .await,
    );
    assert_eq!(session_of(&event).as_str(), "int-1");
    assert!(chart.record.explorations()[0].integrated);
}

#[tokio::test]
async fn integration_late() {
    let mut chart = Chart::ready_for_exploration().await;
    dosed(&mut chart, 1, "x1", 150).await;
    chart.on(9);
    // Exactly the window (7 days after the exploration began) is on time;
    // a day later is late.
    refused!(
        chart,
        chart
            .exec(therapist(), integration("int-1", span(9, 10, 11), "x1"))
            .await,
        Rule::IntegrationLate
    );
    let event = assert_allowed(
        chart
            .exec(therapist(), integration("int-1", span(8, 10, 11), "x1"))
            .await,
    );
    assert!(event.decision().overrides.is_empty());

    // Late, with a reason: allowed and flagged.
    dosed(&mut chart, 15, "x2", 150).await;
    chart.on(23);
    let late = integration("int-2", span(23, 10, 11), "x2");
    refused!(
        chart,
        chart.exec(therapist(), late.clone()).await,
        Rule::IntegrationLate
    );
    let event = assert_allowed(
        chart
            .exec_overriding(therapist(), late, &[Rule::IntegrationLate])
            .await,
    );
    let applied = sole_override(&event);
    assert_eq!(applied.rule, Rule::IntegrationLate);
    assert_eq!(applied.reason.as_str(), "clinical judgement, see note");
    assert_eq!(applied.authorized_by, therapist().id);
    assert!(!applied.finding.is_empty());
    assert!(chart.record.explorations().iter().all(|x| x.integrated));
}

#[tokio::test]
async fn ongoing_care_protocol_not_started() {
    let mut chart = Chart::ready_for_exploration().await;
    refused!(
        chart,
        chart
            .exec(therapist(), ongoing_care("oc-1", span(0, 15, 16)))
            .await,
        Rule::OngoingCareProtocolNotStarted
    );
    dosed(&mut chart, 1, "x1", 150).await;
    chart.on(3);
    let care = ongoing_care("oc-1", span(3, 15, 16));
    // An exploration without its integration is not enough.
    refused!(
        chart,
        chart.exec(therapist(), care.clone()).await,
        Rule::OngoingCareProtocolNotStarted
    );
    assert_allowed(
        chart
            .exec(therapist(), integration("int-1", span(3, 10, 11), "x1"))
            .await,
    );
    let event = assert_allowed(chart.exec(therapist(), care).await);
    assert!(matches!(event, ClientEvent::OngoingCareRecorded(_)));
}

// ---- refusal messages carry no PHI ----

#[tokio::test]
async fn refusal_messages_carry_no_phi() {
    // Free text the record holds about the client.
    let phi = [
        "Alex Example",
        "1985-03-14",
        "treatment-resistant depression",
        "no contraindications found",
        "reconnect with family",
        "partner drives home",
        "discussed what to expect",
        "calm, reflective",
        "integrating insights about grief",
        "tolerated well",
        "clinical judgement, see note",
        "KAP informed consent v3",
    ];
    let mut messages: Vec<(Rule, String)> = Vec::new();

    let mut chart = Chart::ready_for_exploration().await;
    chart.on(1);
    for (body, rule) in [
        (
            exploration("x1", 1, Some(150), bp(150, 95)),
            Rule::ExplorationBloodPressureAboveThreshold,
        ),
        (
            exploration("x1", 1, Some(400), bp(120, 80)),
            Rule::DoseOutsideRange,
        ),
        (
            exploration("x1", 1, Some(250), bp(120, 80)),
            Rule::DoseStepTooLarge,
        ),
        (
            exploration_with("x1", 1, Some((150, Route::Intravenous)), bp(120, 80)),
            Rule::DoseRouteNotInPractice,
        ),
        (
            ongoing_care("oc-1", span(1, 15, 16)),
            Rule::OngoingCareProtocolNotStarted,
        ),
        (
            integration("int-1", span(1, 15, 16), "x-none"),
            Rule::IntegrationUnknownExploration,
        ),
    ] {
        let message = refused!(chart, chart.exec(therapist(), body).await, rule);
        messages.push((rule, message));
    }
    let command = bp_override_command(
        &mut chart,
        exploration("x1", 1, Some(150), bp(150, 95)),
        Some("auth-forged"),
    );
    let message = refused!(chart, chart.run(command).await, Rule::OverrideNotAuthorized);
    messages.push((Rule::OverrideNotAuthorized, message));

    dosed(&mut chart, 1, "x1", 150).await;
    chart.on(8);
    let message = refused!(
        chart,
        chart
            .exec(therapist(), exploration("x2", 8, Some(150), bp(120, 80)))
            .await,
        Rule::ExplorationPreviousNotIntegrated
    );
    messages.push((Rule::ExplorationPreviousNotIntegrated, message));
    chart.on(9);
    let message = refused!(
        chart,
        chart
            .exec(therapist(), integration("int-1", span(9, 10, 11), "x1"))
            .await,
        Rule::IntegrationLate
    );
    messages.push((Rule::IntegrationLate, message));
    // Held on day 3, recorded on day 9.
    chart
        .ok(therapist(), integration("int-1", span(3, 10, 11), "x1"))
        .await;
    let message = refused!(
        chart,
        chart
            .exec(therapist(), exploration("x2", 7, Some(150), bp(120, 80)))
            .await,
        Rule::ExplorationTooSoon
    );
    messages.push((Rule::ExplorationTooSoon, message));

    let mut chart = chart_with(Setup {
        prescription: false,
        consent: false,
        preparation: true,
    })
    .await;
    chart.on(1);
    let message = refused!(
        chart,
        chart
            .exec(therapist(), exploration("x1", 1, Some(150), bp(120, 80)))
            .await,
        Rule::ExplorationNoConsent
    );
    messages.push((Rule::ExplorationNoConsent, message));
    chart.consented().await;
    let message = refused!(
        chart,
        chart.exec(prescriber(), adjust_dose(150)).await,
        Rule::PrescriptionNoneActive
    );
    messages.push((Rule::PrescriptionNoneActive, message));

    assert!(messages.len() >= 10);
    for (rule, message) in &messages {
        assert!(!message.trim().is_empty(), "{rule}: empty message");
        let shown = ClientError::Refused(Refusal::new(*rule, message.clone())).to_string();
        assert!(shown.starts_with(rule.code()), "{shown}");
        for text in phi {
            assert!(
                !message.contains(text),
                "{rule}: message {message:?} contains PHI {text:?}"
            );
        }
    }
}

// ---- versioned practice settings ----

#[tokio::test]
async fn policy_version_recorded() {
    let v2 = Policy {
        version: 2,
        effective_from: day(10),
        bp_threshold: bp(130, 85),
        ..Policy::standard()
    };
    let settings =
        PracticeSettings::new(vec![Policy::standard(), v2], vec![FeeSchedule::standard()])
            .expect("valid settings");
    let mut chart = ready_with(settings, standard_prescription("rx-1")).await;
    assert!(
        chart
            .events
            .iter()
            .all(|e| e.decision().policy_version == 1)
    );

    // Under v1 (140/90), a pre-dose 135/85 needs no override.
    chart.on(1);
    let event = assert_allowed(
        chart
            .exec(therapist(), exploration("x1", 1, Some(150), bp(135, 85)))
            .await,
    );
    assert_eq!(event.decision().policy_version, 1);
    assert!(event.decision().overrides.is_empty());
    let event = integrated(&mut chart, 3, "int-1", "x1").await;
    assert_eq!(event.decision().policy_version, 1);

    // The switch is at v2's effective instant, by issued_at.
    chart.now = day(10) - Duration::seconds(1);
    let event = chart.ok(therapist(), consent(date(9))).await;
    assert_eq!(event.decision().policy_version, 1);
    assert_eq!(event.decision().decided_at, day(10) - Duration::seconds(1));
    chart.now = day(10);
    let event = chart.ok(therapist(), consent(date(10))).await;
    assert_eq!(event.decision().policy_version, 2);

    // A session held on day 9 (under v1) but recorded on day 10 is decided
    // by v2, in force when the command is issued: 135/85 is now above the
    // 130/85 threshold; 130/85 is not.
    chart.on(10);
    refused!(
        chart,
        chart
            .exec(therapist(), exploration("x2", 9, Some(150), bp(135, 85)))
            .await,
        Rule::ExplorationBloodPressureAboveThreshold
    );
    let event = assert_allowed(
        chart
            .exec(therapist(), exploration("x2", 9, Some(150), bp(130, 85)))
            .await,
    );
    assert_eq!(event.decision().policy_version, 2);
    assert_eq!(event.decision().decided_at, chart.now);
    assert_eq!(chart.replay(), chart.record);
}

#[tokio::test]
async fn fees_priced_on_session_date() {
    let v2 = FeeSchedule {
        version: 2,
        effective_from: date(10),
        preparation: Cents::dollars(190),
        exploration: Cents::dollars(600),
        integration: Cents::dollars(200),
        ..FeeSchedule::standard()
    };
    let settings =
        PracticeSettings::new(vec![Policy::standard()], vec![FeeSchedule::standard(), v2])
            .expect("valid settings");
    let mut chart = ready_with(settings, standard_prescription("rx-1")).await;
    let prep = chart.events.last().expect("preparation recorded");
    assert_eq!(charge_of(prep).fee_schedule_version, 1);
    assert_eq!(charge_of(prep).amount, Cents::dollars(175));

    // Recorded on day 12, after the change: the exploration held on day 8
    // and the preparation held on day 9 are priced by v1; the integration
    // held on day 10 (v2's first day) by v2.
    chart.on(12);
    let event = assert_allowed(
        chart
            .exec(therapist(), exploration("x1", 8, Some(150), bp(120, 80)))
            .await,
    );
    let charge = charge_of(&event);
    assert_eq!(charge.service, BillableService::Exploration);
    assert_eq!(charge.amount, Cents::dollars(550));
    assert_eq!(charge.fee_schedule_version, 1);
    assert_eq!(charge.service_date, date(8));

    let event = assert_allowed(
        chart
            .exec(therapist(), preparation("prep-2", span(9, 10, 11)))
            .await,
    );
    let charge = charge_of(&event);
    assert_eq!(charge.service, BillableService::Preparation);
    assert_eq!(charge.amount, Cents::dollars(175));
    assert_eq!(charge.fee_schedule_version, 1);
    assert_eq!(charge.service_date, date(9));

    let event = assert_allowed(
        chart
            .exec(therapist(), integration("int-1", span(10, 10, 11), "x1"))
            .await,
    );
    let charge = charge_of(&event);
    assert_eq!(charge.service, BillableService::Integration);
    assert_eq!(charge.amount, Cents::dollars(200));
    assert_eq!(charge.fee_schedule_version, 2);
    assert_eq!(charge.service_date, date(10));

    // Held and recorded after the change: v2.
    let event = dosed(&mut chart, 15, "x2", 150).await;
    let charge = charge_of(&event);
    assert_eq!(charge.amount, Cents::dollars(600));
    assert_eq!(charge.fee_schedule_version, 2);
    assert_eq!(charge.service_date, date(15));

    // Past charges were not repriced.
    let first = chart
        .events
        .iter()
        .find(|e| matches!(e, ClientEvent::ExplorationRecorded(x) if x.session.as_str() == "x1"))
        .expect("x1 recorded");
    assert_eq!(charge_of(first).amount, Cents::dollars(550));
    assert_eq!(charge_of(first).fee_schedule_version, 1);
}

/// Spacing and the integration window count calendar days, not hours: a
/// Monday 10:00 dose and the next Monday 09:00 dose are 7 days apart, and an
/// integration in the afternoon of the 7th day is within the window.
#[tokio::test]
async fn spacing_and_window_count_calendar_days() {
    let mut chart = Chart::ready_for_exploration().await;
    dosed(&mut chart, 1, "x1", 150).await;
    // Integration on day 8 (7 calendar days later), 14:00–15:00.
    chart.on(8);
    assert_allowed(
        chart
            .exec(therapist(), integration("int-1", span(8, 14, 15), "x1"))
            .await,
    );
    // Next dose on day 8 at 09:00 would be 7 calendar days after day 1 10:00.
    let early_hour = exploration_with_hours("x2", 8, 9);
    assert_allowed(chart.exec(therapist(), early_hour).await);
}

/// An exploration on day `d` from `from_h` to `from_h + 3`, 150 mg.
fn exploration_with_hours(session: &str, d: i64, from_h: i64) -> CommandBody {
    let s = span(d, from_h, from_h + 3);
    let raw = RawRecordExploration {
        session: sid(session),
        span: s,
        administration: Some(Administration {
            drug: Drug::Ketamine,
            route: Route::Sublingual,
            dose: mg(150),
            lot_number: LotNumber::new("L-2026-01").expect("valid lot"),
            given_at: s.start() + chrono::Duration::minutes(15),
        }),
        not_dosed_reason: None,
        bp_before: bp(120, 80),
        bp_after: bp(122, 80),
        observations: text("settled quickly"),
        adverse_events: vec![],
        discharged_at: s.end(),
        departure: Departure::TaxiOrRideshare,
    };
    CommandBody::RecordExploration(RecordExploration::try_from(raw).expect("valid"))
}
