//! The Bundle's own guarantees, on a demo practice's records: every
//! reference resolves inside the Bundle, ids are unique and stable, every
//! resource made from the record has a Provenance naming its entries by
//! chain hash, AuditEvents mirror the access log, and a record that is
//! not a registered client's entries in order is refused without naming
//! its content. One client's Bundle is kept as a snapshot.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use kapchart_domain::{ClientId, PracticeSettings};
use kapchart_fhir::{FhirError, RecordEntry, client_bundle};
use serde_json::Value;
use support::{access_entries, demo, practice_with_providers, record_entries};

/// Every `reference` string anywhere in `value`.
fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "reference"
                    && let Some(s) = v.as_str()
                {
                    out.push(s.to_owned());
                }
                references(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

fn entries(bundle: &Value) -> &Vec<Value> {
    bundle["entry"].as_array().expect("a Bundle has entries")
}

fn check_bundle(client: &str, records: &[RecordEntry], bundle: &Value) {
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    let mut urls = BTreeSet::new();
    for e in entries(bundle) {
        let url = e["fullUrl"].as_str().expect("fullUrl");
        let id = e["resource"]["id"].as_str().expect("id");
        assert_eq!(url, format!("urn:uuid:{id}"));
        assert!(
            urls.insert(url.to_owned()),
            "{url} twice in {client}'s Bundle"
        );
    }
    for e in entries(bundle) {
        let mut refs = Vec::new();
        references(&e["resource"], &mut refs);
        for r in refs {
            if let Some(local) = r.strip_prefix('#') {
                let contained = e["resource"]["contained"].as_array().expect("contained");
                assert!(contained.iter().any(|c| c["id"] == local), "{r}");
            } else {
                assert!(
                    urls.contains(&r),
                    "{r} does not resolve in {client}'s Bundle"
                );
            }
        }
    }

    // Every resource made from the record is a Provenance's target, and
    // each Provenance names its entry by aggregate, sequence and hash.
    let by_sequence: BTreeMap<u64, &RecordEntry> =
        records.iter().map(|r| (r.sequence, r)).collect();
    let mut targeted = BTreeSet::new();
    for e in entries(bundle) {
        let r = &e["resource"];
        if r["resourceType"] != "Provenance" {
            continue;
        }
        for t in r["target"].as_array().expect("targets") {
            targeted.insert(t["reference"].as_str().expect("reference").to_owned());
        }
        let source = &r["entity"][0];
        assert_eq!(source["role"], "source");
        assert_eq!(
            source["what"]["identifier"]["system"],
            "urn:kapchart:chain-entry"
        );
        let value = source["what"]["identifier"]["value"]
            .as_str()
            .expect("value");
        let parts: Vec<&str> = value.split('/').collect();
        assert_eq!(parts[0], "ClientRecord");
        assert_eq!(parts[1], client);
        let sequence: u64 = parts[2].parse().expect("a sequence");
        let entry = by_sequence[&sequence];
        assert_eq!(parts[3], entry.hash.to_hex());
        assert_eq!(
            r["recorded"],
            entry
                .recorded_at
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        );
    }
    for e in entries(bundle) {
        let kind = e["resource"]["resourceType"].as_str().expect("type");
        if matches!(
            kind,
            "Provenance" | "AuditEvent" | "Practitioner" | "Organization"
        ) {
            continue;
        }
        let url = e["fullUrl"].as_str().expect("fullUrl");
        assert!(targeted.contains(url), "{kind} {url} has no Provenance");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundles_of_a_demo_practice_hold_together() {
    let demo = demo(12).await;
    let settings = practice_with_providers(&kapchart_demo::staff(12));
    let mut npis = 0;
    for id in &demo.clients {
        let client = ClientId::parse(id).expect("a client id");
        let records = record_entries(&demo.db, id).await;
        let access = access_entries(&demo.db, &client).await;
        let bundle = client_bundle(&client, &records, &settings, &access).expect("a bundle");
        check_bundle(id, &records, &bundle);

        // The same input gives the same Bundle.
        let again = client_bundle(&client, &records, &settings, &access).expect("a bundle");
        assert_eq!(bundle, again);

        // One AuditEvent per access-log entry about the client.
        let audits: Vec<&Value> = entries(&bundle)
            .iter()
            .map(|e| &e["resource"])
            .filter(|r| r["resourceType"] == "AuditEvent")
            .collect();
        assert_eq!(audits.len(), access.len());
        for (audit, logged) in audits.iter().zip(&access) {
            assert_eq!(
                audit["entity"][1]["what"]["identifier"]["value"],
                format!("{}/{}", logged.sequence, logged.hash.to_hex())
            );
            assert_eq!(audit["purposeOfEvent"][0]["text"], logged.purpose.as_str());
        }

        // Practitioners carry their NPI.
        for e in entries(&bundle) {
            let r = &e["resource"];
            if r["resourceType"] == "Practitioner" {
                assert_eq!(
                    r["identifier"][0]["system"],
                    "http://hl7.org/fhir/sid/us-npi"
                );
                npis += 1;
            }
        }
    }
    assert!(npis > 0);
    demo.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_out_of_order_or_not_the_clients_is_refused_without_its_content() {
    let demo = demo(3).await;
    let id = &demo.clients[0];
    let client = ClientId::parse(id).expect("a client id");
    let records = record_entries(&demo.db, id).await;
    let settings = PracticeSettings::standard();
    let bundle = |r: &[RecordEntry], c: &ClientId| client_bundle(c, r, &settings, &[]);

    assert_eq!(bundle(&[], &client), Err(FhirError::EmptyRecord));
    let mut gap = records.clone();
    gap.remove(2);
    assert_eq!(
        bundle(&gap, &client),
        Err(FhirError::OutOfSequence {
            expected: 3,
            found: 4
        })
    );
    let mut headless = records.clone();
    headless[0] = records[1].clone();
    headless[0].sequence = 1;
    assert_eq!(
        bundle(&headless, &client),
        Err(FhirError::NotRegisteredFirst)
    );
    let other = ClientId::parse(&demo.clients[1]).expect("a client id");
    assert_eq!(bundle(&records, &other), Err(FhirError::WrongClient));
    for e in [
        FhirError::EmptyRecord,
        FhirError::NotRegisteredFirst,
        FhirError::WrongClient,
        FhirError::OutOfSequence {
            expected: 3,
            found: 4,
        },
    ] {
        let text = e.to_string();
        assert!(!text.contains(id.as_str()), "{text}");
    }
    demo.db.close().await;
}

/// One client's record up to its first dose (a prefix of a record is a
/// record), as the export writes it: a change to the mapping shows up
/// here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_clients_bundle_snapshot() {
    let demo = demo(3).await;
    let settings = practice_with_providers(&kapchart_demo::staff(3));
    let mut chosen = None;
    for id in &demo.clients {
        let client = ClientId::parse(id).expect("a client id");
        let records = record_entries(&demo.db, id).await;
        let first_dose = records.iter().position(|r| {
            matches!(&r.event, kapchart_domain::ClientEvent::ExplorationRecorded(x)
                if x.administration.is_some())
        });
        if let Some(at) = first_dose {
            let access = access_entries(&demo.db, &client).await;
            let bundle =
                client_bundle(&client, &records[..=at], &settings, &access).expect("a bundle");
            check_bundle(id, &records[..=at], &bundle);
            chosen = Some(bundle);
            break;
        }
    }
    demo.db.close().await;
    let bundle = chosen.expect("a demo client with a dose");
    insta::assert_json_snapshot!("demo_client_to_first_dose", bundle);
}
