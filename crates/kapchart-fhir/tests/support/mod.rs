//! A demo practice's clients, read back from the store as the export's
//! input: each client's entries through the store's upcaster, and the
//! access log's entries about the client.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::str::FromStr as _;

use chrono::{NaiveDate, TimeZone as _, Utc};
use kapchart_domain::{ClientId, PracticeIdentity, PracticeSettings, Provider, Role, UserId};
use kapchart_fhir::{AccessAction, AccessLogEntry, RecordEntry, client_bundle};
use kapchart_store::access::{self, AccessActor, AccessEntry, AccessQuery, DataCategory};
use kapchart_store::{CLIENT_RECORD, Cursor, Database, upcast};
use serde_json::{Value, json};

/// The client's entries as the export takes them.
pub async fn record_entries(db: &Database, client: &str) -> Vec<RecordEntry> {
    let clock = std::sync::Arc::new(|| chrono::DateTime::<Utc>::UNIX_EPOCH);
    let events = db
        .repository(clock)
        .events_of(CLIENT_RECORD, client, 0)
        .await
        .expect("the client's events read");
    events
        .into_iter()
        .map(|row| {
            let entry = &row.stored.entry;
            let metadata = &entry.metadata;
            RecordEntry {
                sequence: entry.sequence,
                hash: row.stored.hash,
                recorded_at: upcast::recorded_at(entry).expect("recorded_at"),
                actor: kapchart_domain::Actor {
                    id: UserId::parse(metadata["actor_id"].as_str().expect("actor_id"))
                        .expect("actor id"),
                    role: Role::from_str(metadata["actor_role"].as_str().expect("actor_role"))
                        .expect("actor role"),
                },
                event: upcast::client_event(entry).expect("a readable event"),
            }
        })
        .collect()
}

/// The access log's entries about the client, as the export takes them.
pub async fn access_entries(db: &Database, client: &ClientId) -> Vec<AccessLogEntry> {
    let query = AccessQuery {
        client: Some(client.clone()),
        ..AccessQuery::default()
    };
    access::list(db, &query)
        .await
        .expect("the access log reads")
        .into_iter()
        .map(|r| AccessLogEntry {
            sequence: r.sequence,
            hash: r.hash.parse().expect("a stored hash"),
            at: r.entry.at,
            user: r.entry.actor.user_id.clone(),
            role: r.entry.actor.role,
            action: match r.entry.action {
                access::AccessAction::Add => AccessAction::Add,
                access::AccessAction::Change => AccessAction::Change,
                access::AccessAction::Query => AccessAction::Query,
                access::AccessAction::Print => AccessAction::Print,
                access::AccessAction::Copy => AccessAction::Copy,
                access::AccessAction::Export => AccessAction::Export,
                other => panic!("a {other} entry names a client"),
            },
            categories: r.entry.categories.iter().map(|c| c.to_string()).collect(),
            source: r.entry.source.clone(),
            purpose: r.entry.purpose.clone(),
        })
        .collect()
}

/// Every client id of the database's feed, in order of registration.
pub async fn clients(db: &Database) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut order = Vec::new();
    let mut cursor = Cursor::START;
    loop {
        let (page, next) = db.read_feed(&cursor, 500).await.expect("feed reads");
        if page.is_empty() {
            return order;
        }
        for row in page {
            let e = &row.stored.entry;
            if e.aggregate_type == CLIENT_RECORD && seen.insert(e.aggregate_id.clone()) {
                order.push(e.aggregate_id.clone());
            }
        }
        cursor = next;
    }
}

/// A valid NPI (the Luhn check with the prefix 80840) from nine digits.
pub fn npi(first_nine: u32) -> String {
    let nine = format!("{:09}", first_nine % 1_000_000_000);
    (0..10)
        .map(|d| format!("{nine}{d}"))
        .find(|n| kapchart_domain::Npi::parse(n).is_ok())
        .expect("one check digit fits")
}

/// The standard settings with the practice's identity and every therapist
/// and prescriber of the demo as a provider with an NPI.
pub fn practice_with_providers(staff: &[kapchart_domain::Actor]) -> PracticeSettings {
    let identity: PracticeIdentity = serde_json::from_value(json!({
        "name": "Harbor KAP Clinic",
        "address": {"line1": "100 Harbor Way", "line2": "Suite 4", "city": "San Francisco", "state": "CA", "zip": "94110"},
        "phone": "(415) 555-0123", "npi": "1234567893", "tax_id": "12-3456789",
        "place_of_service": "11", "time_zone": "America/Los_Angeles",
    }))
    .expect("identity");
    let providers: Vec<Provider> = staff
        .iter()
        .enumerate()
        .filter(|(_, a)| matches!(a.role, Role::Therapist | Role::Prescriber))
        .map(|(i, a)| {
            let (role, credentials) = match a.role {
                Role::Prescriber => ("prescriber", "MD"),
                _ => ("therapist", "LMFT"),
            };
            serde_json::from_value(json!({
                "user": a.id.as_str(), "role": role,
                "name": format!("Provider {}", i + 1),
                "credentials": credentials, "npi": npi(124_531_900 + i as u32),
                "licence": {"number": format!("LIC-{}", 1000 + i), "state": "CA"},
                "active": i % 5 != 4,
            }))
            .expect("provider")
        })
        .collect();
    PracticeSettings::standard()
        .with_identity(identity)
        .with_providers(providers)
}

/// The demo practice's clients and the access log's entries about them.
pub struct Demo {
    /// The database (SQLite, in a temp folder kept by `_db`).
    pub db: Database,
    /// Every client id.
    pub clients: Vec<String>,
    _db: kapchart_testkit::TestDb,
}

/// A demo practice on SQLite, each client's record read once (a `query`)
/// and exported once (an `export`) in the access log.
pub async fn demo(clients: u32) -> Demo {
    let test_db = kapchart_testkit::sqlite();
    let db = Database::open(&test_db.url).await.expect("database opens");
    let options = kapchart_demo::DemoOptions {
        clients,
        seed: 7,
        start: NaiveDate::from_ymd_opt(2025, 1, 6).expect("a date"),
        accounts_by: None,
    };
    kapchart_demo::generate(&db, &options, &|_| {})
        .await
        .unwrap_or_else(|e| panic!("demo failed: {e}"));
    let ids = self::clients(&db).await;
    let at = Utc
        .with_ymd_and_hms(2026, 1, 10, 9, 30, 0)
        .single()
        .expect("a time");
    let therapist = kapchart_demo::staff(clients)
        .into_iter()
        .find(|a| a.role == Role::Therapist)
        .expect("the demo has therapists")
        .id;
    let mut log = Vec::new();
    for id in &ids {
        let client = ClientId::parse(id).expect("a client id");
        for (user, role, action, categories, purpose) in [
            (
                therapist.as_str(),
                Role::Therapist,
                access::AccessAction::Query,
                vec![DataCategory::Notes, DataCategory::Dosing],
                "treatment",
            ),
            (
                "auditor-1",
                Role::Auditor,
                access::AccessAction::Export,
                vec![
                    DataCategory::Demographics,
                    DataCategory::Notes,
                    DataCategory::Dosing,
                    DataCategory::Billing,
                ],
                "audit",
            ),
        ] {
            log.push(AccessEntry {
                at,
                actor: AccessActor {
                    user_id: UserId::parse(user).expect("a user id"),
                    role,
                },
                action,
                client_id: Some(client.clone()),
                categories,
                source: format!("api GET /api/v1/clients/{id}/chart from 127.0.0.1"),
                purpose: purpose.to_owned(),
            });
        }
    }
    access::append_all(&db, &log)
        .await
        .expect("the access log takes the entries");
    Demo {
        db,
        clients: ids,
        _db: test_db,
    }
}

/// Every client's Bundle of a demo practice: with the standard settings
/// (no identity, no providers), and with the settings `with` makes from
/// the demo's staff.
pub async fn demo_bundles(
    with: fn(&[kapchart_domain::Actor]) -> PracticeSettings,
) -> (Vec<Value>, Vec<Value>) {
    let clients = kapchart_demo::DEFAULT_CLIENTS;
    let demo = demo(clients).await;
    let bare = PracticeSettings::standard();
    let full = with(&kapchart_demo::staff(clients));
    let mut plain = Vec::new();
    let mut rich = Vec::new();
    for id in &demo.clients {
        let client = ClientId::parse(id).expect("a client id");
        let entries = record_entries(&demo.db, id).await;
        let access = access_entries(&demo.db, &client).await;
        plain.push(client_bundle(&client, &entries, &bare, &access).expect("a bundle"));
        rich.push(client_bundle(&client, &entries, &full, &access).expect("a bundle"));
    }
    demo.db.close().await;
    (plain, rich)
}
