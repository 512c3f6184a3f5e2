//! The whole KAP protocol for one client, end to end through the cqrs-es
//! framework in event-store mode (every command reloads the record from its
//! stored events): registration, intake, medical evaluation, prescription,
//! consent, preparation, eight explorations each with its integration and
//! gradual dose adjustments, outcome measures, ongoing care, an amendment
//! that leaves the original visible, payments and discharge.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use cqrs_es::mem_store::MemStore;
use cqrs_es::{AggregateError, CqrsFramework, EventStore};
use kapchart_domain::*;
use kapchart_e2e::*;

type Framework = CqrsFramework<ClientRecord, MemStore<ClientRecord>>;

struct Practice {
    cqrs: Framework,
    store: MemStore<ClientRecord>,
    next: u64,
    now: chrono::DateTime<chrono::Utc>,
}

impl Practice {
    fn new() -> Self {
        let store = MemStore::<ClientRecord>::default();
        let services: Services =
            Arc::new(kapchart_e2e::practice_with(PracticeSettings::standard()));
        let cqrs = CqrsFramework::new(store.clone(), vec![], services);
        Self {
            cqrs,
            store,
            next: 0,
            now: day(0),
        }
    }

    fn on(&mut self, d: i64) {
        self.now = day(d) + chrono::Duration::hours(20);
    }

    async fn exec(
        &mut self,
        actor: Actor,
        body: CommandBody,
    ) -> Result<(), AggregateError<ClientError>> {
        self.next += 1;
        let id = CommandId::parse(&format!("scenario-{}", self.next)).expect("valid id");
        let metadata = HashMap::from([
            ("actor_id".to_owned(), actor.id.to_string()),
            ("actor_role".to_owned(), actor.role.as_str().to_owned()),
            ("command_id".to_owned(), id.to_string()),
        ]);
        let command = Command::new(id, actor, self.now, body);
        self.cqrs
            .execute_with_metadata(CLIENT, command, metadata)
            .await
    }

    async fn ok(&mut self, actor: Actor, body: CommandBody) {
        let name = body.name();
        if let Err(err) = self.exec(actor, body).await {
            panic!("{name} refused: {err}");
        }
    }

    async fn events(&self) -> Vec<ClientEvent> {
        self.store
            .load_events(CLIENT)
            .await
            .expect("events load")
            .into_iter()
            .map(|e| e.payload)
            .collect()
    }

    async fn record(&self) -> ClientRecord {
        let mut record = ClientRecord::default();
        for event in self.events().await {
            cqrs_es::Aggregate::apply(&mut record, event);
        }
        record
    }
}

fn phq9(n: i64) -> OutcomeMeasure {
    OutcomeMeasure::Phq9(Phq9Score::new(n).expect("valid score"))
}

/// One line per event: sequence, type, actor role and the facts that matter.
fn summary(events: &[ClientEvent]) -> String {
    let mut out = String::new();
    for (i, event) in events.iter().enumerate() {
        let d = event.decision();
        let detail = match event {
            ClientEvent::SessionScheduled(e) => {
                format!("{} {} {}", e.kind.as_str(), e.session, e.span.start())
            }
            ClientEvent::ExplorationRecorded(e) => format!(
                "{} dose={} bp={} charge={}",
                e.session,
                e.administration
                    .as_ref()
                    .map_or("none".to_owned(), |a| a.dose.to_string()),
                e.bp_before,
                e.charge.amount
            ),
            ClientEvent::IntegrationRecorded(e) => {
                format!(
                    "{} for {} charge={}",
                    e.session, e.exploration, e.charge.amount
                )
            }
            ClientEvent::DoseAdjusted(e) => format!("{} -> {}", e.from, e.to),
            ClientEvent::OutcomeMeasureRecorded(e) => {
                serde_json::to_string(&e.measure).expect("serializes")
            }
            ClientEvent::EntryAmended(e) => format!("amends #{} {}", e.entry, e.entry_type),
            ClientEvent::PaymentRecorded(e) => format!("{} {}", e.payment, e.amount),
            other => other
                .charge()
                .map_or(String::new(), |c| format!("charge={}", c.amount)),
        };
        out.push_str(&format!(
            "{:>3} {:<26} {:<10} {} {}\n",
            i + 1,
            event.type_name(),
            d.actor.role.as_str(),
            d.decided_at.format("%Y-%m-%d"),
            detail
        ));
    }
    out
}

#[tokio::test]
async fn full_protocol_from_registration_to_discharge() {
    let mut p = Practice::new();

    // Registration and the two assessments.
    p.on(0);
    assert_eq!(p.record().await.phase(), Phase::Unregistered);
    p.ok(front_desk(), register_client()).await;
    assert_eq!(p.record().await.phase(), Phase::Assessment);
    p.ok(
        therapist(),
        intake("intake", span(0, 9, 10), Suitability::Suitable),
    )
    .await;
    p.ok(therapist(), outcome(phq9(19), date(0))).await;
    p.ok(
        therapist(),
        outcome(
            OutcomeMeasure::Gad7(Gad7Score::new(15).expect("valid")),
            date(0),
        ),
    )
    .await;
    p.on(2);
    p.ok(prescriber(), medical(date(2), Clearance::Cleared))
        .await;
    // 100–250 mg, start 100, step 50, eight sessions, valid for six months.
    p.ok(
        prescriber(),
        prescription("rx-1", 0, 180, 100, 250, 100, 50, 8),
    )
    .await;
    assert_eq!(p.record().await.phase(), Phase::Preparation);
    p.on(3);
    p.ok(therapist(), consent(date(3))).await;

    // Preparation, booked by the front desk and then held.
    p.on(4);
    p.ok(
        front_desk(),
        schedule_preparation("prep-1", span(7, 10, 11)),
    )
    .await;
    // An exploration cannot be booked before preparation is complete.
    let early = p
        .exec(
            front_desk(),
            schedule_exploration("x-early", span(14, 10, 13)),
        )
        .await;
    match early {
        Err(AggregateError::UserError(e)) => {
            assert_eq!(e.rule(), Some(Rule::ExplorationNoPreparation));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    p.on(7);
    p.ok(therapist(), preparation("prep-1", span(7, 10, 11)))
        .await;

    // Eight explorations, ten days apart, each integrated two days later,
    // with the dose raised gradually (never more than the 50 mg step).
    let doses = [100, 150, 150, 200, 200, 250, 250, 250];
    let mut last = 100;
    for (k, dose) in doses.into_iter().enumerate() {
        let e = 14 + 10 * k as i64;
        let x = format!("x{}", k + 1);
        let i = format!("i{}", k + 1);
        p.on(e - 5);
        if dose != last {
            p.ok(prescriber(), adjust_dose(dose)).await;
            last = dose;
        }
        p.ok(front_desk(), schedule_exploration(&x, span(e, 10, 13)))
            .await;
        p.on(e);
        p.ok(therapist(), exploration(&x, e, Some(dose), bp(122, 78)))
            .await;
        p.ok(
            front_desk(),
            schedule_integration(&i, span(e + 2, 10, 11), &x),
        )
        .await;
        p.on(e + 2);
        p.ok(therapist(), integration(&i, span(e + 2, 10, 11), &x))
            .await;
        p.ok(
            front_desk(),
            payment(&format!("pay-{}", k + 1), 72_500, date(e + 2)),
        )
        .await;
        assert_eq!(p.record().await.phase(), Phase::Protocol);
        if k == 3 {
            p.ok(therapist(), outcome(phq9(12), date(e + 2))).await;
        }
    }

    // The prescription's eight sessions are used: a ninth is refused.
    p.on(100);
    let ninth = p
        .exec(therapist(), exploration("x9", 100, Some(250), bp(120, 80)))
        .await;
    match ninth {
        Err(AggregateError::UserError(e)) => {
            assert_eq!(e.rule(), Some(Rule::ExplorationNoSessionsLeft));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    // Outcome measures after the protocol, then ongoing care.
    p.ok(therapist(), outcome(phq9(6), date(100))).await;
    p.ok(
        therapist(),
        outcome(
            OutcomeMeasure::Pcl5(Pcl5Score::new(10).expect("valid")),
            date(100),
        ),
    )
    .await;
    p.ok(
        therapist(),
        outcome(
            OutcomeMeasure::BdiIi(BdiIiScore::new(8).expect("valid")),
            date(100),
        ),
    )
    .await;
    p.ok(therapist(), ongoing_care("care-1", span(100, 10, 11)))
        .await;
    assert_eq!(p.record().await.phase(), Phase::OngoingCare);
    p.on(114);
    p.ok(therapist(), ongoing_care("care-2", span(114, 10, 11)))
        .await;

    // An amendment of the third exploration's entry.
    let events = p.events().await;
    let third = events
        .iter()
        .position(
            |e| matches!(e, ClientEvent::ExplorationRecorded(x) if x.session.as_str() == "x3"),
        )
        .expect("x3 recorded");
    let original = events[third].clone();
    let amended_seq = third as u64 + 1;
    p.ok(therapist(), amend(amended_seq)).await;

    // Discharge; afterwards only payments and amendments are accepted.
    p.on(130);
    p.ok(therapist(), discharge(date(130))).await;
    let after = p
        .exec(therapist(), ongoing_care("care-3", span(130, 10, 11)))
        .await;
    match after {
        Err(AggregateError::UserError(e)) => assert_eq!(e.rule(), Some(Rule::ClientDischarged)),
        other => panic!("expected a refusal, got {other:?}"),
    }
    p.ok(front_desk(), payment("pay-final", 70_000, date(130)))
        .await;

    let events = p.events().await;

    // The original entry is still there, unchanged, and the amendment links to it.
    assert_eq!(events[third], original);
    let amendment = events
        .iter()
        .find_map(|e| match e {
            ClientEvent::EntryAmended(a) => Some(a),
            _ => None,
        })
        .expect("amendment recorded");
    assert_eq!(amendment.entry, amended_seq);
    assert_eq!(amendment.entry_type, "ExplorationRecorded");

    // Counts by event type.
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &events {
        *counts.entry(e.type_name()).or_default() += 1;
    }
    let expected: BTreeMap<&str, usize> = [
        ("ClientRegistered", 1),
        ("IntakeRecorded", 1),
        ("MedicalEvaluationRecorded", 1),
        ("PrescriptionIssued", 1),
        ("ConsentRecorded", 1),
        ("SessionScheduled", 17),
        ("PreparationRecorded", 1),
        ("ExplorationRecorded", 8),
        ("IntegrationRecorded", 8),
        ("DoseAdjusted", 3),
        ("OutcomeMeasureRecorded", 6),
        ("OngoingCareRecorded", 2),
        ("PaymentRecorded", 9),
        ("EntryAmended", 1),
        ("ClientDischarged", 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(counts, expected);

    // Doses given match the plan and never step more than 50 mg.
    let given: Vec<i64> = events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::ExplorationRecorded(x) => {
                x.administration.as_ref().map(|a| i64::from(a.dose.get()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(given, doses);

    // Charges: intake 175 + preparation 175 + 8 × 550 + 8 × 175 + 2 × 175.
    let charged: i64 = events
        .iter()
        .filter_map(|e| e.charge())
        .map(|c| c.amount.get())
        .sum();
    assert_eq!(charged, 650_000);
    let paid: i64 = events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::PaymentRecorded(p) => Some(p.amount.get()),
            _ => None,
        })
        .sum();
    assert_eq!(paid, charged);

    // Every event names the command and policy that decided it, and every
    // command id appears once.
    let mut ids = std::collections::BTreeSet::new();
    for e in &events {
        assert_eq!(e.decision().policy_version, 1);
        assert!(ids.insert(e.decision().command_id.clone()));
    }

    // The record rebuilt from the stored events is the final state.
    let record = p.record().await;
    assert!(record.is_discharged());
    assert_eq!(record.phase(), Phase::Discharged);
    assert_eq!(record.explorations().len(), 8);
    assert!(record.explorations().iter().all(|x| x.integrated));
    assert_eq!(record.last_sequence(), events.len() as u64);

    insta::assert_snapshot!(summary(&events));
}
