//! The sample practice on real databases: every stage of the protocol is
//! present, every rule held (each command went through the real command
//! path), every chain verifies, and the same seed gives the same rows.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use kapchart_audit::ChainVerifier;
use kapchart_demo::{DemoError, DemoOptions, DemoSummary, generate, phase_name, staff};
use kapchart_domain::{ClientEvent, ClientRecord, DischargeReason, Phase, Role, Rule, SessionKind};
use kapchart_store::{CLIENT_RECORD, Clock, Cursor, Database, FeedEvent};

fn options(clients: u32, seed: u64) -> DemoOptions {
    DemoOptions {
        clients,
        seed,
        start: NaiveDate::from_ymd_opt(2025, 1, 6).expect("valid date"),
        accounts_by: None,
    }
}

fn read_clock() -> Clock {
    Arc::new(|| DateTime::<Utc>::UNIX_EPOCH)
}

/// Every stored row, in feed order.
async fn feed(db: &Database) -> Vec<FeedEvent> {
    let mut all = Vec::new();
    let mut cursor = Cursor::START;
    loop {
        let (page, next) = db.read_feed(&cursor, 500).await.expect("feed reads");
        if page.is_empty() {
            return all;
        }
        all.extend(page);
        cursor = next;
    }
}

/// Generates into a fresh database, recording the progress calls.
async fn run(url: &str, options: &DemoOptions) -> (Database, DemoSummary) {
    let db = Database::open(url).await.expect("database opens");
    let calls = RefCell::new(Vec::new());
    let summary = generate(&db, options, &|n| calls.borrow_mut().push(n))
        .await
        .unwrap_or_else(|e| panic!("demo failed: {e}"));
    let calls = calls.into_inner();
    assert!(calls.windows(2).all(|w| w[1] == w[0] + 1), "{calls:?}");
    assert_eq!(calls.last().copied(), Some(options.clients));
    (db, summary)
}

struct Client {
    events: Vec<ClientEvent>,
    record: ClientRecord,
}

impl Client {
    fn has(&self, name: &str) -> bool {
        self.events.iter().any(|e| e.type_name() == name)
    }
    fn discharged_for(&self, reason: DischargeReason) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, ClientEvent::ClientDischarged(d) if d.reason == reason))
    }
    fn dosed(&self) -> usize {
        self.record.dosed_explorations()
    }
}

async fn the_practice_has_every_stage_and_every_chain_verifies(url: &str) -> Vec<Row> {
    let options = options(12, 7);
    let (db, summary) = run(url, &options).await;
    assert_eq!(summary.clients, 12);
    assert!(summary.refused > 0, "{summary:?}");
    assert_eq!(summary.events, summary.commands - summary.refused);

    let rows = feed(&db).await;
    assert_eq!(rows.len() as u64, summary.events);
    let mut result: Vec<Row> = rows.iter().map(row).collect();
    result.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let staff = staff(12);
    let mut by_client: BTreeMap<String, Vec<FeedEvent>> = BTreeMap::new();
    let mut last_recorded: Option<DateTime<Utc>> = None;
    for row in rows {
        let entry = &row.stored.entry;
        assert_eq!(entry.aggregate_type, CLIENT_RECORD);
        // Simulated time: recorded when issued, and the feed is in time order.
        let recorded: DateTime<Utc> = entry.metadata["recorded_at"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .expect("recorded_at is RFC 3339")
            .to_utc();
        let event: ClientEvent =
            serde_json::from_value(entry.payload.clone()).expect("payload is an event");
        assert_eq!(recorded, event.decision().decided_at);
        assert!(last_recorded.is_none_or(|l| l <= recorded));
        last_recorded = Some(recorded);
        assert_eq!(
            entry.metadata["command_id"],
            event.decision().command_id.as_str()
        );
        assert!(
            staff.contains(&event.decision().actor),
            "{:?}",
            event.decision().actor
        );
        by_client
            .entry(entry.aggregate_id.clone())
            .or_default()
            .push(row);
    }
    assert_eq!(by_client.len(), 12);

    // Every chain verifies, and rebuilds a record.
    let repository = db.repository(read_clock());
    let mut clients = Vec::new();
    for id in by_client.keys() {
        let stored = repository
            .events_of(CLIENT_RECORD, id, 0)
            .await
            .expect("events load");
        let mut verifier = ChainVerifier::new(CLIENT_RECORD, id);
        let mut events = Vec::new();
        let mut record = ClientRecord::default();
        for row in &stored {
            let findings = verifier.push(&row.stored);
            assert!(findings.is_empty(), "{id}: {findings:?}");
            let event: ClientEvent =
                serde_json::from_value(row.stored.entry.payload.clone()).expect("event");
            cqrs_es_apply(&mut record, event.clone());
            events.push(event);
        }
        let report = verifier.finish();
        assert!(report.findings.is_empty(), "{id}: {:?}", report.findings);
        assert_eq!(report.rows, stored.len() as u64);
        clients.push(Client { events, record });
    }

    // The summary's phases are the records'.
    let mut phases: BTreeMap<String, u32> = BTreeMap::new();
    for c in &clients {
        *phases.entry(phase_name(c.record.phase())).or_default() += 1;
    }
    assert_eq!(phases, summary.by_phase);

    let count = |f: &dyn Fn(&Client) -> bool| clients.iter().filter(|c| f(c)).count();
    let phase = |c: &Client| c.record.phase();
    assert!(
        count(&|c| phase(c) == Phase::Assessment
            && !c.has("IntakeRecorded")
            && !c.has("MedicalEvaluationRecorded"))
            >= 1,
        "registered only"
    );
    assert!(
        count(&|c| phase(c) == Phase::Assessment
            && (c.has("IntakeRecorded") || c.has("MedicalEvaluationRecorded")))
            >= 1,
        "in assessment"
    );
    assert!(
        count(&|c| phase(c) == Phase::NotSuitable) >= 1,
        "not suitable"
    );
    assert!(
        count(&|c| phase(c) == Phase::Discharged && c.discharged_for(DischargeReason::NotSuitable))
            >= 1,
        "discharged as not suitable"
    );
    assert!(
        count(&|c| phase(c) == Phase::Preparation) >= 1,
        "preparation"
    );
    let mid: BTreeSet<usize> = clients
        .iter()
        .filter(|c| phase(c) == Phase::Protocol)
        .map(Client::dosed)
        .collect();
    assert!(mid.len() >= 2, "mid-protocol counts {mid:?}");
    assert!(
        count(&|c| phase(c) == Phase::OngoingCare) >= 1,
        "ongoing care"
    );
    assert!(
        count(&|c| phase(c) == Phase::Discharged && c.discharged_for(DischargeReason::CareComplete))
            >= 1,
        "discharged after care"
    );

    // Overrides: a high blood pressure passed by the client's prescriber,
    // and a soft stop passed with a reason.
    let overrides: Vec<(Rule, String, Role)> = clients
        .iter()
        .flat_map(|c| &c.events)
        .flat_map(|e| {
            let d = e.decision();
            d.overrides
                .iter()
                .map(move |o| (o.rule, o.authorized_by.to_string(), d.actor.role))
        })
        .collect();
    assert!(
        overrides.iter().any(|(rule, by, role)| *rule
            == Rule::ExplorationBloodPressureAboveThreshold
            && by.starts_with("rx-")
            && *role == Role::Therapist),
        "{overrides:?}"
    );
    assert!(
        overrides
            .iter()
            .any(|(rule, _, _)| matches!(rule, Rule::ExplorationTooSoon | Rule::IntegrationLate)),
        "{overrides:?}"
    );
    // Each BP override stands on an authorization the prescriber recorded
    // on the client's record for that session, and names that prescriber;
    // every client evaluated was referred first.
    for c in &clients {
        let authorizations: BTreeMap<String, (String, String)> = c
            .events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::OverrideAuthorized(a) => Some((
                    a.authorization.to_string(),
                    (a.session.to_string(), a.decision.actor.id.to_string()),
                )),
                _ => None,
            })
            .collect();
        for e in &c.events {
            if let ClientEvent::ExplorationRecorded(x) = e {
                for o in &x.decision.overrides {
                    if o.rule == Rule::ExplorationBloodPressureAboveThreshold {
                        let id = o.authorization.as_ref().expect("an authorization");
                        let (session, by) = &authorizations[id.as_str()];
                        assert_eq!(session, x.session.as_str());
                        assert_eq!(by, o.authorized_by.as_str());
                    }
                }
            }
        }
        let referred = c.events.iter().position(|e| match e {
            ClientEvent::ClientRegistered(r) => r.prescriber.is_some(),
            ClientEvent::ClientReferred(_) => true,
            _ => false,
        });
        let evaluated = c
            .events
            .iter()
            .position(|e| matches!(e, ClientEvent::MedicalEvaluationRecorded(_)));
        if let Some(evaluated) = evaluated {
            assert!(
                referred.is_some_and(|r| r < evaluated),
                "evaluated before referral"
            );
        }
    }
    // The staff the record names are the practice's accounts.
    let accounts: BTreeSet<String> = kapchart_store::accounts::list_users(&db)
        .await
        .expect("accounts")
        .into_iter()
        .map(|a| a.user_id.to_string())
        .collect();
    for actor in kapchart_demo::staff(options.clients) {
        assert!(
            accounts.contains(actor.id.as_str()),
            "{} has no account",
            actor.id
        );
    }
    // Each BP override names the prescriber of the client's prescription.
    for c in &clients {
        let prescribers: BTreeSet<String> = c
            .events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::PrescriptionIssued(p) => Some(p.prescriber.to_string()),
                _ => None,
            })
            .collect();
        for e in &c.events {
            for o in &e.decision().overrides {
                if o.rule == Rule::ExplorationBloodPressureAboveThreshold {
                    assert!(prescribers.contains(o.authorized_by.as_str()));
                }
            }
        }
    }

    // Amendments link to an earlier entry of the type they name.
    let mut amendments = 0;
    for c in &clients {
        for (i, e) in c.events.iter().enumerate() {
            if let ClientEvent::EntryAmended(a) = e {
                amendments += 1;
                assert!(a.entry >= 1 && (a.entry as usize) <= i);
                assert_eq!(c.events[a.entry as usize - 1].type_name(), a.entry_type);
            }
        }
    }
    assert!(amendments >= 1);

    // Doses stay within each prescription and step; integrations mostly
    // within a week; every exploration in practice is sublingual.
    let mut explorations = 0;
    for c in &clients {
        for e in &c.events {
            if let ClientEvent::ExplorationRecorded(x) = e
                && let Some(a) = &x.administration
            {
                explorations += 1;
                assert_eq!(a.route, kapchart_domain::Route::Sublingual);
                assert!((50..=300).contains(&a.dose.get()));
            }
        }
        let scheduled_kinds: BTreeSet<&str> = c
            .events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::SessionScheduled(s) => Some(s.kind.as_str()),
                _ => None,
            })
            .collect();
        assert!(!scheduled_kinds.contains(SessionKind::Intake.as_str()));
    }
    assert!(explorations >= 10, "{explorations}");

    // The demo writes only into an empty database.
    let again = generate(&db, &options, &|_| {}).await;
    assert!(matches!(again, Err(DemoError::NotEmpty)), "{again:?}");
    db.close().await;
    result
}

fn cqrs_es_apply(record: &mut ClientRecord, event: ClientEvent) {
    <ClientRecord as cqrs_es::Aggregate>::apply(record, event);
}

#[tokio::test]
async fn every_stage_on_sqlite() {
    let db = kapchart_testkit::sqlite();
    the_practice_has_every_stage_and_every_chain_verifies(&db.url).await;
    db.cleanup().await;
}

#[tokio::test]
async fn every_stage_on_postgres() {
    let db = kapchart_testkit::postgres().await;
    let on_postgres = the_practice_has_every_stage_and_every_chain_verifies(&db.url).await;
    db.cleanup().await;
    // The same rows, hashes included, as on SQLite.
    let sqlite = kapchart_testkit::sqlite();
    let (_, mut on_sqlite) = rows(&sqlite.url, &options(12, 7)).await;
    on_sqlite.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    assert_eq!(on_postgres, on_sqlite);
    sqlite.cleanup().await;
}

/// (aggregate_id, sequence, payload, metadata, hash) of a stored row.
type Row = (String, u64, serde_json::Value, serde_json::Value, String);

fn row(r: &FeedEvent) -> Row {
    let e = &r.stored.entry;
    (
        e.aggregate_id.clone(),
        e.sequence,
        e.payload.clone(),
        e.metadata.clone(),
        r.stored.hash.to_hex(),
    )
}

async fn rows(url: &str, options: &DemoOptions) -> (DemoSummary, Vec<Row>) {
    let (db, summary) = run(url, options).await;
    let rows = feed(&db).await.iter().map(row).collect();
    db.close().await;
    (summary, rows)
}

#[tokio::test]
async fn the_same_seed_gives_the_same_rows() {
    let (a, b, c) = (
        kapchart_testkit::sqlite(),
        kapchart_testkit::sqlite(),
        kapchart_testkit::sqlite(),
    );
    let (summary_a, rows_a) = rows(&a.url, &options(12, 11)).await;
    let (summary_b, rows_b) = rows(&b.url, &options(12, 11)).await;
    assert_eq!(summary_a, summary_b);
    assert_eq!(rows_a.len(), rows_b.len());
    for (x, y) in rows_a.iter().zip(&rows_b) {
        assert_eq!(x, y);
    }
    let (_, rows_c) = rows(&c.url, &options(12, 12)).await;
    assert_ne!(rows_a, rows_c);
    for db in [a, b, c] {
        db.cleanup().await;
    }
}

/// The practice `kapchart demo` makes by default.
#[tokio::test]
async fn the_default_practice_has_every_phase() {
    let db = kapchart_testkit::sqlite();
    let options = options(kapchart_demo::DEFAULT_CLIENTS, 1);
    let (database, summary) = run(&db.url, &options).await;
    database.close().await;
    assert_eq!(summary.by_phase.values().sum::<u32>(), 40);
    let phases: Vec<&str> = summary.by_phase.keys().map(String::as_str).collect();
    assert_eq!(
        phases,
        [
            "assessment",
            "discharged",
            "not_suitable",
            "ongoing_care",
            "preparation",
            "protocol"
        ]
    );
    assert!(summary.refused >= 5, "{summary:?}");
    assert!(summary.events > 1000, "{summary:?}");
    db.cleanup().await;
}
